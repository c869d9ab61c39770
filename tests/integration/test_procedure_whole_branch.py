"""One branch from ``tally procedure new`` to ``tally procedure appoint`` with only the CLI and
the pages (issue 18's Done-when; spec/procedure.md RP-0.1, steps 1 to 12), and its bundle verifies.

The work group makes its key files with passphrases (``tally keys new``), the town signs the
procedure definition, the clerk opens the procedure file and prints and commits every stock; the
tellers enter every recommendation and evaluation ballot on the pages of ``tally procedure
serve`` (the scan check, then the marks), the chair's steps and the scrutineers' signatures are
commands. The town approves, ``tally procedure manifest`` writes the election definition from the
approval, the town signs it (``tally manifest sign``), the election is held through the CLI
(tests/helpers/cli_election, ADR 0039), published and bound and concluded in the procedure; an
objection is lodged on the public objection page of ``tally serve --casework --procedures`` and
handled by ``tally casework``, the town appoints, and ``verifier procedure`` passes the published
bundle with the town's casework bundle. The steps are those of docs/guide/work-group.en.md, "The
procedure", in its order.

The QR text a scanner reads from each printed ballot is made from the stock's sealed list by
signing its ids again with the work group key: Ed25519 signatures are deterministic, so these are
the printed texts (tests/integration/test_procedure_print_cli.py reads printed ones back; reading
the 170 pages printed here back through pdftoppm takes minutes on a loaded machine).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import keys
from ballot_printer import (
    PaperKind,
    ProcedureForm,
    encode_procedure_qr_text,
    encode_qr_text,
    sign_payload,
)
from ballot_printer.procedure_qr import sign_procedure_payload
from tally.cli import app
from tests.helpers.cli_election import ENV, PASSPHRASE, PRESENT, Election, marks_for
from tests.helpers.http_session import free_port
from tests.helpers.procedure import EXAMPLE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STATION = "/station/procedure"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')

# The names the recommendation ballots carry: six for the committee's five seats (each ballot
# leaves one out in turn), two for the secretary (the first named on most ballots).
COMMITTEE = ["M001", "M022", "M023", "M002", "M003", "M004"]  # in the example's ballot order
SECRETARY = ["M002", "M004"]
MEMBERS_PRESENT = 13  # of the 25 expected: more than half (RP-3.2)
PUBLIC_PRESENT = 31  # of the 60 public representatives: more than half (RP-3.2)
PAPER = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY, "": None}

CASEWORK_DEFINITION = """\
town = "红旗镇"

[[branches]]
branch_code = "qingshan"
name = "青山村党支部"
groups = []
"""

DRAFT = """\
format = "election-definition/1"

[election]
date = 2026-12-15
objections_to = "红旗镇党委组织办，电话 0000-1234567"

[officials]
scrutineers = ["M009", "M010"]
tellers = ["M011", "M012"]
"""

runner = CliRunner(env=ENV)


def tally(*args: str | Path) -> dict[str, Any]:
    """``tally ARGS --json`` in process: exit 0 and its JSON."""
    r = runner.invoke(app, [*map(str, args), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, (args, r.output)
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def refused(code: str, *args: str | Path) -> None:
    """``tally ARGS --json`` exits 1 with ``code``."""
    r = runner.invoke(app, [*map(str, args), "--json"], catch_exceptions=False)
    assert r.exit_code == 1, (args, r.output)
    assert json.loads(r.stdout)["code"] == code, r.stdout


def procedure(*args: str | Path) -> dict[str, Any]:
    return tally("procedure", *args)


@contextmanager
def served(args: Sequence[str | Path], probe: str, folder: Path) -> Iterator[httpx.Client]:
    """``python -m tally ARGS --port P`` in its own process, as an official starts it, until the
    block ends; yields an HTTP client on it (cookies kept, as a browser's)."""
    port = free_port()
    env = {**os.environ, "TALLY_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT)}
    log = (folder / f"service-{port}.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "tally", *map(str, args), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get(probe).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (folder / f"service-{port}.log").read_text("utf-8")
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=20)
        log.close()


def csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str) -> str:
    """Sign in on the procedure pages' form; the session's CSRF token."""
    page = client.get(f"{STATION}/login")
    r = client.post(
        f"{STATION}/login",
        data={"csrf": csrf(page), "next": f"{STATION}/", "name": name, "password": password},
    )
    assert r.status_code == 303, r.text
    return csrf(client.get(f"{STATION}/"))


@dataclass
class Branch:
    """The branch's folder, its files and its officials' key files."""

    folder: Path

    def __post_init__(self) -> None:
        f = self.folder
        self.db = f / "procedures" / "qingshan.procedure"
        self.cases = f / "红旗镇.casework"
        self.key = {n: f / f"{n}.key" for n in ("town", "wg", "s1", "s2", "casework")}
        self.pub = {n: f / f"{n}.pub" for n in self.key}
        self.wg = ("--key", str(self.key["wg"]))
        self.scrutineers = [a for s in ("s1", "s2") for a in ("--scrutineer-key", self.key[s])]
        self._signer: keys.InMemorySigner | None = None

    def signer(self) -> keys.InMemorySigner:
        """The work group key, unlocked once, to re-sign printed QR payloads (see below)."""
        if self._signer is None:
            self._signer = keys.load_signer(
                self.key["wg"], PASSPHRASE, expected_role=keys.Role.WORK_GROUP
            )
        return self._signer

    def print_stock(self, form: str, post: str, count: int, *persons: str) -> list[str]:
        """``tally procedure print`` of round 1, its sealed list committed (``stock``); the QR
        texts a scanner reads from the printed ballots."""
        pdf = self.folder / f"{form}-{post or 'evaluation'}.pdf"
        where = ["--post", post] if post else [a for p in persons for a in ("--person", p)]
        procedure("print", self.folder / "procedure.json", "--town-key", self.pub["town"],
                  *self.wg, "--form", form, *where, "--count", str(count), "--out", pdf)  # fmt: skip
        sealed = pdf.with_suffix(".stock.json")
        procedure("stock", self.db, sealed, *self.wg)
        doc = json.loads(sealed.read_bytes())
        return [
            encode_procedure_qr_text(
                sign_procedure_payload(
                    procedure_id=bytes.fromhex(doc["procedure_id"]),
                    form=ProcedureForm[form.upper()],
                    post=PAPER[post],
                    round_number=1,
                    ballot_id=bytes.fromhex(i),
                    signer=self.signer(),
                )
            )
            for i in doc["ballot_ids"]
        ]

    def print_election_stock(self, election: Election, kind: str, count: int) -> None:
        """``tally print`` of the election's round 1 with its sealed list; the QR texts kept for
        ``Election.vote``, as :meth:`print_stock` gives them."""
        sealed = self.folder / f"{kind}-1.ids.json"
        election.ok("print", str(election.db), "--kind", kind, "--count", str(count),
                    "--out", str(self.folder / f"{kind}-1.pdf"), "--stock-list", str(sealed),
                    "--key", str(self.key["wg"]))  # fmt: skip
        doc = json.loads(sealed.read_bytes())
        election.stocks[kind, 1] = [
            encode_qr_text(
                sign_payload(
                    election_id=bytes.fromhex(doc["election_id"]),
                    kind=PaperKind[kind.upper()],
                    round_number=1,
                    ballot_id=bytes.fromhex(i),
                    signer=self.signer(),
                )
            )
            for i in doc["ballot_ids"]
        ]


def enter_on_the_page(
    teller: httpx.Client,
    token: str,
    form: str,
    post: str,
    papers: Sequence[tuple[str, dict[str, str]]],
) -> None:
    """Each paper's QR checked by the scan route, then its marks saved by the entry form."""
    for qr, marks in papers:
        where = {"form": form, "post": post}
        check = teller.get(f"{STATION}/api/scan", params={"qr": qr, **where})
        assert check.json()["ok"] is True, check.text
        r = teller.post(f"{STATION}/enter", data={"csrf": token, "qr": qr, **where, **marks})
        assert r.status_code == 303, r.text


def recommendation_round(
    b: Branch, teller: httpx.Client, token: str, form: str, post: str, qrs: list[str],
    names: list[list[str]],
) -> dict[str, Any]:  # fmt: skip
    """The chair's issue and return, the teller's entry of every paper, the count co-signed."""
    where = ("--form", form, "--post", post)
    procedure("issue", b.db, *where, *b.wg)
    procedure("return", b.db, *where, "--count", str(len(names)), *b.wg)
    papers = [(qr, {f"m_{m}": "o" for m in chosen}) for qr, chosen in zip(qrs, names, strict=False)]
    enter_on_the_page(teller, token, form, post, papers)
    counted: dict[str, Any] = procedure("count", b.db, *where, *b.scrutineers, *b.wg)["count"]
    return counted


def committee_papers(n: int) -> list[list[str]]:
    """``n`` committee papers, each naming five of the six, leaving one out in turn."""
    return [[m for m in COMMITTEE if m != COMMITTEE[i % 6]] for i in range(n)]


def secretary_papers(n: int) -> list[list[str]]:
    return [[SECRETARY[0] if i % 3 else SECRETARY[1]] for i in range(n)]


@dataclass(frozen=True)
class Done:
    """What the whole branch leaves for the town's verification."""

    folder: Path
    town_pub: Path
    procedure_bundle: Path
    casework_bundle: Path
    election_bundle: Path
    reference: str


def keys_and_files(b: Branch) -> None:
    """Steps before the recommendation: key files, the town's casework file, the procedure
    definition signed by the town, the procedure file, the tellers' accounts."""
    for name, role, label in (
        ("town", "town_committee", "红旗镇党委"),
        ("wg", "work_group", "青山村选举工作组"),
        ("s1", "scrutineer", "黄德明"),
        ("s2", "scrutineer", "赵红梅"),
        ("casework", "casework", "红旗镇查核组"),
    ):
        tally("keys", "new", "--role", role, "--label", label, "--out", b.key[name],
              "--pub-out", b.pub[name], "--kdf", "interactive")  # fmt: skip
    definition = b.folder / "casework.toml"
    definition.write_text(CASEWORK_DEFINITION, encoding="utf-8")
    made = tally("casework", "new", definition, "--town-key", b.key["town"],
                 "--casework-key", b.key["casework"], "--out", b.cases)  # fmt: skip
    # The clerk writes the town's casework id into the procedure's input (RP-2.1).
    text = EXAMPLE.read_text(encoding="utf-8")
    given = re.search(r'casework_id = "([0-9a-f]{64})"', text)
    assert given is not None
    source = b.folder / "青山村换届程序.toml"
    source.write_text(text.replace(given.group(1), made["casework_id"]), encoding="utf-8")
    signed = b.folder / "procedure.json"
    procedure("new", source, "--work-group-pub", b.pub["wg"], "--scrutineer-pub", b.pub["s1"],
              "--scrutineer-pub", b.pub["s2"], "--town-key", b.key["town"], "--out", signed)  # fmt: skip
    procedure("check", signed, "--town-key", b.pub["town"])
    b.db.parent.mkdir()
    procedure("open", b.db, "--procedure", signed, "--town-key", b.pub["town"], *b.wg)
    added = runner.invoke(app, ["accounts", "add", str(b.folder / "service"), "--name", "teller",
                                "--role", "teller"],
                          env={"TALLY_ACCOUNT_PASSWORD": "teller-password"})  # fmt: skip
    assert added.exit_code == 0, added.output


def recommendation_to_vetting(b: Branch, teller: httpx.Client, token: str) -> None:
    """RP-3 to RP-6.1: both groups' recommendation, the proposal, the evaluation, the vetting."""
    member_qrs = {
        p: b.print_stock("member", p, MEMBERS_PRESENT) for p in ("committee", "secretary")
    }
    expected = [f"M{i:03d}" for i in range(1, 27) if i != 15]
    members = [a for m in expected[:MEMBERS_PRESENT] for a in ("--member", m)]
    procedure("session", b.db, "--group", "member", *members, *b.wg)
    counted = recommendation_round(b, teller, token, "member", "committee",
                                   member_qrs["committee"], committee_papers(MEMBERS_PRESENT))  # fmt: skip
    assert counted["valid_ballots"] == MEMBERS_PRESENT
    # A paper entered already is refused by the scan check, before any mark is typed.
    replay = teller.get(f"{STATION}/api/scan", params={"qr": member_qrs["committee"][0],
                                                        "form": "member", "post": "committee"})  # fmt: skip
    assert (replay.status_code, replay.json()["code"]) == (409, "ballot.replayed")
    recommendation_round(b, teller, token, "member", "secretary", member_qrs["secretary"],
                         secretary_papers(MEMBERS_PRESENT))  # fmt: skip

    public_qrs = {p: b.print_stock("public", p, PUBLIC_PRESENT) for p in ("committee", "secretary")}
    procedure("session", b.db, "--group", "public", "--present", str(PUBLIC_PRESENT), *b.wg)
    recommendation_round(b, teller, token, "public", "committee", public_qrs["committee"],
                         committee_papers(PUBLIC_PRESENT))  # fmt: skip
    recommendation_round(b, teller, token, "public", "secretary", public_qrs["secretary"],
                         secretary_papers(PUBLIC_PRESENT))  # fmt: skip

    proposal = procedure("propose", b.db, "--election-date", "2026-12-15", *b.wg)["proposal"]
    names = {p["post"]: [n["member"] for n in p["names"]] for p in proposal["posts"]}
    assert sorted(names["committee"], key=COMMITTEE.index) == COMMITTEE
    assert names["secretary"] == SECRETARY  # by score

    opened = procedure("evaluate", b.db, "--public", str(PUBLIC_PRESENT), *b.wg)
    assert opened["candidates"] == COMMITTEE
    qrs = b.print_stock("evaluation", "", PUBLIC_PRESENT, *COMMITTEE)
    where = ("--form", "evaluation")
    procedure("issue", b.db, *where, *b.wg)
    procedure("return", b.db, *where, "--count", str(PUBLIC_PRESENT), *b.wg)
    # Mostly satisfied; every third paper "basically satisfied" with one person, a few not.
    papers = [
        (qr, {f"m_{m}": ("b" if i % 3 == 0 and j == i % 6 else "d" if i == j else "s")
              for j, m in enumerate(COMMITTEE)})
        for i, qr in enumerate(qrs)
    ]  # fmt: skip
    enter_on_the_page(teller, token, "evaluation", "", papers)
    counted = procedure("count", b.db, *where, *b.scrutineers, *b.wg)["count"]
    assert {r["outcome"] for r in counted["results"]} == {"proceeds"}
    vetting = procedure("vet", b.db, *b.wg)["vetting"]
    assert [p["proceeding"] for p in vetting["posts"]] == [COMMITTEE, SECRETARY]


def approval_to_conclusion(b: Branch) -> tuple[Election, dict[str, Any]]:
    """RP-6.4 to RP-7.2: the town's approval, the definition from it, the manifest signed by the
    town and bound, the election held, published and concluded in the procedure."""
    approved = procedure("approve", b.db, "--reference", "红组〔2026〕12号",
                         "--town-key", b.key["town"], *b.wg)["approval"]  # fmt: skip
    assert [p["candidates"] for p in approved["posts"]] == [COMMITTEE, SECRETARY]
    draft, definition = b.folder / "选举定义草稿.toml", b.folder / "选举定义.toml"
    draft.write_text(DRAFT, encoding="utf-8")
    procedure("manifest", b.db, "--definition", draft, "--out", definition)
    tally("check", definition, "--procedure", b.db)
    election = Election(b.folder, definition, existing_keys=True)  # tally manifest sign, init
    procedure("bind", b.db, b.folder / "manifest.json", *b.wg)
    election.checkin(PRESENT)
    for kind in ("committee", "secretary"):
        b.print_election_stock(election, kind, len(PRESENT))
    committee = election.vote("committee", 1, marks_for([20, 20, 3, 20, 20, 20], 23, 5))
    assert committee["elected"] == ["M001", "M022", "M002", "M003", "M004"]
    election.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 8])
    election.finish()  # tally result, cosign, publish; the election bundle verifies
    concluded = procedure("conclude", b.db, election.db, *b.wg)
    assert concluded["elected"] == {"committee": ["M001", "M022", "M002", "M003", "M004"],
                                    "secretary": ["M002"]}  # fmt: skip
    return election, concluded


def objection(b: Branch, election: Election) -> str:
    """RP-8.2: an objection about M004 lodged on the public form of the town's casework pages
    (``tally serve --casework --procedures``, which open the branch from its procedure file)."""
    args = ("serve", election.db, "--data", b.folder / "casework-service",
            "--casework", b.cases, "--procedures", b.db.parent)  # fmt: skip
    with served(args, "/api/health", b.folder) as public:
        page = public.get("/objection/", params={"branch": "qingshan"})
        assert "刘海燕" in page.text  # M004, elected, may be objected to
        submission = _SUBMISSION.search(page.text)
        assert submission is not None
        r = public.post(
            "/objection/",
            data={"csrf": csrf(page), "submission": submission.group(1), "branch": "qingshan",
                  "about": "M004", "what": "该同志在推荐前有拉票行为", "name": "", "contact": ""},
            headers={"accept": "application/json"},
        )  # fmt: skip
    assert r.status_code == 200, r.text
    reference: str = r.json()["reference"]
    return reference


@pytest.fixture(scope="module")
def whole_branch(tmp_path_factory: pytest.TempPathFactory) -> Done:
    """The branch through every step, by the CLI and the pages only."""
    b = Branch(tmp_path_factory.mktemp("whole-branch"))
    keys_and_files(b)
    serve = ("procedure", "serve", b.db, *b.wg, "--data", b.folder / "service")
    with served(serve, f"{STATION}/login", b.folder) as teller:
        token = sign_in(teller, "teller", "teller-password")
        recommendation_to_vetting(b, teller, token)
    election, concluded = approval_to_conclusion(b)
    # The bundle handed to the town at publicity, and the public notice.
    procedure("publish", b.db, "--out", b.folder / "换届程序结果包-公示")
    notice = b.folder / "换届工作情况公示.pdf"
    procedure("notice", b.db, "--out", notice)
    assert notice.stat().st_size > 1_000

    reference = objection(b, election)
    appoint = ("appoint", b.db, "--casework", b.cases, "--casework-key", b.key["casework"],
               "--town-key", b.key["town"], *b.wg, "--reference", "红组〔2026〕31号")  # fmt: skip
    after = (dt.date.fromisoformat(concluded["publicity_end"]) + dt.timedelta(days=1)).isoformat()
    refused("appointment.objection_open", "procedure", *appoint, "--date", after)
    tally("casework", "assign", b.cases, reference, "--to", "查核员", "--actor", "组长")
    tally("casework", "conclude", b.cases, reference, "--finding", "unsubstantiated",
          "--summary", "经查不属实", "--actor", "查核员")  # fmt: skip
    appointed = procedure(*appoint, "--date", after)["appointment"]
    assert [o["reference"] for o in appointed["objections"]] == [reference]
    assert {p["status"] for p in appointed["persons"]} == {"appointed"}

    pbundle, cbundle = b.folder / "换届程序结果包", b.folder / "事项导出包"
    procedure("publish", b.db, "--out", pbundle)
    tally("casework", "export", b.cases, "--out", cbundle)
    return Done(b.folder, b.pub["town"], pbundle, cbundle,
                b.folder / "published" / "bundle", reference)  # fmt: skip


def verify(done: Done, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    """``verifier procedure BUNDLE --town-key K --casework C`` in its own process, as the town
    runs it: the exit code and the JSON report."""
    args = ["procedure", done.procedure_bundle, "--town-key", done.town_pub,
            "--casework", done.casework_bundle, *extra, "--json"]  # fmt: skip
    r = subprocess.run(
        [sys.executable, "-m", "verifier", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(r.stdout)
    except ValueError:
        report = {"stderr": r.stderr}
    return r.returncode, report


def test_a_whole_branch_goes_from_new_to_appoint_and_its_bundle_verifies(
    whole_branch: Done,
) -> None:
    code, report = verify(whole_branch)
    assert code == 0, report
    assert report["ok"] and not report["findings"], report["findings"]
    statuses = dict(report["clauses"])
    assert statuses.pop("V29") == "not_checked"  # never passed without --election
    assert set(statuses.values()) == {"passed"}, statuses  # V30 against the casework bundle
    assert "V31" not in {n["clause"] for n in report["not_checked"]}
    assert [o["reference"] for o in report["procedure"]["objections"]] == [whole_branch.reference]
    log = [
        json.loads(line)["type"]
        for line in (whole_branch.procedure_bundle / "log.jsonl").read_bytes().splitlines()
    ]
    steps = ["procedure.opened", "recommendation.opened", "preliminary.proposed",
             "evaluation.counted", "vetting.recorded", "candidates.approved", "election.bound",
             "election.concluded", "appointment.recorded"]  # fmt: skip
    assert [log.index(s) for s in steps] == sorted(log.index(s) for s in steps)
    assert log[-1] == "appointment.recorded"


def test_the_procedure_bundle_verifies_against_its_election_bundle_v29(
    whole_branch: Done,
) -> None:
    code, report = verify(whole_branch, "--election", whole_branch.election_bundle)
    assert code == 0, report
    assert report["clauses"]["V29"] == "passed", report
