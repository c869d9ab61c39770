"""One branch through the procedure log by the CLI, from ``open`` to ``vet`` and ``publish``
(spec/procedure.md RP-3 to RP-6, RP-11, RP-12.1), with the hostile inputs of issue 18 that
belong here: each a specific refusal that writes nothing, or a recorded decision that is shown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import keys
from ballot_printer import PaperKind, ProcedureForm, encode_procedure_qr_text
from ballot_printer.procedure_qr import sign_procedure_payload
from tally.cli import app
from tests.helpers.cli_election import ENV, PASSPHRASE, make_key
from tests.helpers.procedure import EXAMPLE

_PAPER = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY, "": None}


def run(*args: str | Path) -> Result:
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args])


class Branch:
    """The example branch's procedure file and keys, driven through ``tally procedure``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.town, self.town_pub = make_key(folder, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
        self.wg, self.wg_pub = make_key(folder, keys.Role.WORK_GROUP, "工作组", "wg")
        self.scrutineers = [
            make_key(folder, keys.Role.SCRUTINEER, name, f"s{i}")
            for i, name in enumerate(("黄德明", "赵红梅"))
        ]
        self.procedure = folder / "procedure.json"
        args: list[str | Path] = ["procedure", "new", EXAMPLE, "--work-group-pub", self.wg_pub]
        for _, pub in self.scrutineers:
            args += ["--scrutineer-pub", pub]
        r = run(*args, "--out", self.procedure, "--town-key", self.town, "--json")
        assert r.exit_code == 0, r.output
        self.procedure_id = bytes.fromhex(json.loads(r.stdout)["procedure_id"])
        self.doc = json.loads(self.procedure.read_bytes())["procedure"]
        self.db = folder / "qingshan.procedure.sqlite"
        self.signer = keys.load_signer(self.wg, PASSPHRASE, expected_role=keys.Role.WORK_GROUP)
        self.qrs: dict[tuple[str, str, int], list[str]] = {}

    def ok(self, *args: str | Path) -> dict[str, Any]:
        r = run("procedure", *args, "--json")
        assert r.exit_code == 0, r.output
        data: dict[str, Any] = json.loads(r.stdout)
        return data

    def refused(self, code: str, *args: str | Path) -> None:
        """The command exits 1 with ``code`` and the procedure file is unchanged."""
        before = self.rows()
        r = run("procedure", *args, "--json")
        assert r.exit_code == 1, r.output
        assert json.loads(r.stdout)["code"] == code, r.stdout
        assert self.rows() == before

    def rows(self) -> list[bytes]:
        conn = sqlite3.connect(self.db)
        try:
            return [bytes(r[0]) for r in conn.execute("SELECT raw FROM log ORDER BY seq")]
        finally:
            conn.close()

    def print_stock(self, form: str, post: str, round_no: int, count: int, *extra: str) -> None:
        """Print a stock (tally procedure print), commit its sealed list, and keep each ballot's
        QR text (re-signed from the list's ids: Ed25519 is deterministic, so these are the
        printed texts)."""
        out = self.folder / f"{form}-{post or 'e'}-{round_no}.pdf"
        post_args = ["--post", post] if post else []
        r = run(
            "procedure",
            "print",
            self.procedure,
            "--town-key",
            self.town_pub,
            "--key",
            self.wg,
            "--form",
            form,
            *post_args,
            "--round",
            str(round_no),
            "--count",
            str(count),
            "--out",
            out,
            *extra,
        )
        assert r.exit_code == 0, r.output
        listed = out.with_suffix(".stock.json")
        self.ok("stock", self.db, listed, "--key", self.wg)
        ids = json.loads(listed.read_bytes())["ballot_ids"]
        self.qrs[form, post, round_no] = [
            encode_procedure_qr_text(
                sign_procedure_payload(
                    procedure_id=self.procedure_id,
                    form=ProcedureForm[form.upper()],
                    post=_PAPER[post],
                    round_number=round_no,
                    ballot_id=bytes.fromhex(i),
                    signer=self.signer,
                )
            )
            for i in ids
        ]

    def session(self, group: str, members: list[str] | None = None, public: int = 0) -> None:
        args: list[str | Path] = ["session", self.db, "--group", group, "--key", self.wg]
        args += [a for m in members or [] for a in ("--member", m)]
        if group == "public":
            args += ["--present", str(public)]
        self.ok(*args)

    def round_of(
        self, form: str, post: str, issued: int, ballots: list[list[str]], round_no: int = 1
    ) -> dict[str, Any]:
        """Issue, return and enter ``ballots`` (extra ``enter`` options each), then count."""
        where = ["--form", form, *(["--post", post] if post else [])]
        self.ok("issue", self.db, *where, "--count", str(issued), "--key", self.wg)
        self.ok("return", self.db, *where, "--count", str(len(ballots)), "--key", self.wg)
        for i, extra in enumerate(ballots):
            qr = self.qrs[form, post, round_no][i]
            self.ok("enter", self.db, *where, "--qr", qr, *extra, "--key", self.wg)
        keys_args = [a for k, _ in self.scrutineers for a in ("--scrutineer-key", str(k))]
        return self.ok("count", self.db, *where, *keys_args, "--key", self.wg)


@pytest.fixture(scope="module")
def b(tmp_path_factory: pytest.TempPathFactory) -> Branch:
    return Branch(tmp_path_factory.mktemp("procedure-log"))


def marks(b: Branch, *members: str) -> list[str]:
    return [a for m in members for a in ("--mark", m)]


def _goes_from_open_to_vet_and_publishes_its_bundle(b: Branch) -> None:
    order = b.doc["ballot_order"]
    expected = [m["id"] for m in b.doc["members"] if m["id"] not in ("M015",)][:25]
    data = b.ok("open", b.db, "--procedure", b.procedure, "--town-key", b.town_pub, "--key", b.wg)
    assert data["procedure_id"] == b.procedure_id.hex()
    b.print_stock("member", "committee", 1, 13)
    b.print_stock("member", "secretary", 1, 13)

    # RP-3.2: 12 of 25 expected electors is not more than half: recorded, refused.
    r = run(
        "procedure",
        "session",
        b.db,
        "--group",
        "member",
        "--key",
        b.wg,
        *[a for m in expected[:12] for a in ("--member", m)],
        "--json",
    )
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"] == "recommendation.quorum_failed"
    assert json.loads(b.rows()[-1])["type"] == "recommendation.quorum_failed"
    b.session("member", expected[:13])

    # A ballot of the other post, a forged QR, a mark for a non-nominable member: refused.
    committee = ["--form", "member", "--post", "committee"]
    b.ok("issue", b.db, *committee, "--key", b.wg)
    b.ok("return", b.db, *committee, "--count", "4", "--key", b.wg)
    b.refused(
        "pqr.wrong_form",
        "enter",
        b.db,
        *committee,
        "--qr",
        b.qrs["member", "secretary", 1][0],
        "--key",
        b.wg,
    )
    b.refused("pqr.election_ballot", "enter", b.db, *committee, "--qr", "BQ1:XYZ", "--key", b.wg)
    b.refused("pqr.bad_encoding", "enter", b.db, *committee, "--qr", "hello", "--key", b.wg)
    b.refused(
        "recommendation.marks",
        "enter",
        b.db,
        *committee,
        "--qr",
        b.qrs["member", "committee", 1][0],
        "--mark",
        "M015",
        "--key",
        b.wg,
    )
    first = b.qrs["member", "committee", 1][0]
    b.ok("enter", b.db, *committee, "--qr", first, *marks(b, *order[:5]), "--key", b.wg)
    b.refused("ballot.replayed", "enter", b.db, *committee, "--qr", first, "--key", b.wg)
    # The teller's slip undone, then entered again.
    second = b.qrs["member", "committee", 1][1]
    b.ok("enter", b.db, *committee, "--qr", second, "--key", b.wg)
    b.ok("withdraw", b.db, "--key", b.wg)
    # Written names: a non-member and an excluded member give no recommendation, shown.
    b.ok(
        "enter",
        b.db,
        *committee,
        "--qr",
        second,
        *marks(b, *order[:3]),
        "--written",
        "外村人",
        "--written",
        "王某=M015",
        "--key",
        b.wg,
    )
    for i in (2, 3):
        b.ok(
            "enter",
            b.db,
            *committee,
            "--qr",
            b.qrs["member", "committee", 1][i],
            *marks(b, *order[:5]),
            "--key",
            b.wg,
        )
    b.refused(
        "ballot.over_returned",
        "enter",
        b.db,
        *committee,
        "--qr",
        b.qrs["member", "committee", 1][4],
        "--key",
        b.wg,
    )
    r = run("procedure", "count", b.db, *committee, "--key", b.wg)
    assert r.exit_code == 0, r.output
    assert "另写“外村人”不计推荐票（not_on_roster）" in r.stdout
    assert "另写“王某”不计推荐票（not_nominable）" in r.stdout
    assert "待监票人签名" in r.stdout
    for key, _ in b.scrutineers:
        b.ok("cosign", b.db, "--key", key)

    # RP-3.4: more back than issued voids the secretary's round; a new session holds it only.
    secretary = ["--form", "member", "--post", "secretary"]
    b.ok("issue", b.db, *secretary, "--key", b.wg)
    data = b.ok("return", b.db, *secretary, "--count", "14", "--key", b.wg)
    assert data["void"] is True
    b.print_stock("member", "secretary", 2, 13)
    b.session("member", expected[:13])
    b.refused(
        "pqr.wrong_round",
        "enter",
        b.db,
        *secretary,
        "--qr",
        b.qrs["member", "secretary", 1][0],
        "--key",
        b.wg,
    )
    b.round_of("member", "secretary", 13, [marks(b, "M002")] * 3, round_no=2)

    b.print_stock("public", "committee", 1, 31)
    b.print_stock("public", "secretary", 1, 31)
    b.session("public", public=31)
    b.round_of("public", "committee", 31, [marks(b, *order[:5])] * 3 + [marks(b, *order[2:7])])
    b.round_of("public", "secretary", 31, [marks(b, "M002")] * 4)

    b.refused("cli.date", "propose", b.db, "--election-date", "2026-12-1", "--key", b.wg)
    proposal = b.ok("propose", b.db, "--election-date", "2026-12-01", "--key", b.wg)["proposal"]
    names = [n["member"] for n in proposal["posts"][0]["names"]]
    assert set(order[:5]) <= set(names)
    b.refused(
        "preliminary.after_proposal",
        "session",
        b.db,
        "--group",
        "public",
        "--present",
        "31",
        "--key",
        b.wg,
    )

    persons = sorted({n["member"] for p in proposal["posts"] for n in p["names"]}, key=order.index)
    person_args = [a for m in persons for a in ("--person", m)]
    b.print_stock("evaluation", "", 1, 31, *person_args)
    opened = b.ok("evaluate", b.db, "--public", "31", "--key", b.wg)
    assert opened["candidates"] == persons
    evaluation = ["--form", "evaluation"]
    # RP-5.5: a round with no valid ballot cannot be used: recorded void, refused, held again.
    b.ok("issue", b.db, *evaluation, "--key", b.wg)
    b.ok("return", b.db, *evaluation, "--count", "0", "--key", b.wg)
    r = run("procedure", "count", b.db, *evaluation, "--key", b.wg, "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"] == "evaluation.no_valid_ballots"
    assert json.loads(b.rows()[-1])["type"] == "round.void"
    b.print_stock("evaluation", "", 2, 31, *person_args)
    b.qrs["evaluation", "", 1] = b.qrs["evaluation", "", 2]
    assert b.ok("evaluate", b.db, "--public", "31", "--key", b.wg)["round"] == 2
    b.ok("issue", b.db, *evaluation, "--key", b.wg)
    b.ok("return", b.db, *evaluation, "--count", "3", "--key", b.wg)
    outsider = next(m for m in order if m not in persons)
    b.refused(
        "evaluation.not_listed",
        "enter",
        b.db,
        *evaluation,
        "--qr",
        b.qrs["evaluation", "", 1][0],
        "--mark",
        f"{outsider}=s",
        "--key",
        b.wg,
    )
    b.refused(
        "evaluation.marks_length",
        "enter",
        b.db,
        *evaluation,
        "--qr",
        b.qrs["evaluation", "", 1][0],
        "--marks",
        "s",
        "--key",
        b.wg,
    )
    failing = persons[-1]
    for i in range(3):
        b.ok(
            "enter",
            b.db,
            *evaluation,
            "--qr",
            b.qrs["evaluation", "", 1][i],
            "--mark",
            f"{failing}=d",
            "--key",
            b.wg,
        )
    counted = b.ok("count", b.db, *evaluation, "--key", b.wg)["count"]
    assert counted["results"][-1]["outcome"] == "does_not_proceed"

    vetting = b.ok("vet", b.db, "--key", b.wg)["vetting"]
    stopped = {s["member"]: s["reason"] for p in vetting["posts"] for s in p["stopped"]}
    assert stopped[failing] == "evaluation"

    out = b.folder / "bundle"
    files = b.ok("publish", b.db, "--out", out)["files"]
    assert files[0] == "index.json" and "log.jsonl" in files and "ballots.jsonl" in files
    index = json.loads((out / "index.json").read_bytes())
    assert index["format"] == "procedure-bundle-index/1"
    assert index["entries"] == len(b.rows())
    records = [json.loads(line) for line in (out / "ballots.jsonl").read_bytes().splitlines()]
    assert all(r["format"] == "procedure-ballot-record/1" for r in records)
    # The withdrawn entry is not a record; its ballot is, once, as entered again.
    second_id = records[1]["body"]["ballot_id"]
    assert sum(r["body"]["ballot_id"] == second_id for r in records) == 1
    checkpoints = json.loads((out / "checkpoints.json").read_bytes())["checkpoints"]
    reasons = [c["text"].splitlines()[3] for c in checkpoints]
    assert reasons[0] == "opened" and reasons[-1] == "vetted"
    assert "round-closed member secretary 1" in reasons
    assert "preliminary 1" in reasons


@pytest.fixture(scope="module")
def published(b: Branch) -> Branch:
    """The branch after the whole flow, its assertions included, once per worker: with
    ``--dist worksteal`` the tests that read its bundle may run on another worker than the first,
    where they used to skip."""
    _goes_from_open_to_vet_and_publishes_its_bundle(b)
    return b


def test_a_branch_goes_from_open_to_vet_and_publishes_its_bundle(published: Branch) -> None:
    index = json.loads((published.folder / "bundle" / "index.json").read_bytes())
    assert index["entries"] == len(published.rows())


def test_bundle_holds_nothing_rp_12_2_forbids(published: Branch) -> None:
    """RP-12.2: no objector's or reporter's identity, no case text, reference or count; the
    ballots are keyed by ballot id, never by person (no member id in a ballot record but the
    teller's match of a written name)."""
    out = published.folder / "bundle"
    blob = b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())
    for word in (
        b"objector",
        b"reporter",
        b"objection",
        b"report.",
        b"MQ-",
        b"photo",
        b"casework-entry",
        b'"phone"',
        b'"contact"',
    ):
        assert word not in blob, word
    for p in out.rglob("*.json*"):
        for line in p.read_bytes().splitlines():
            doc = json.loads(line)
            if doc.get("format") == "procedure-ballot-record/1":
                assert (
                    set(doc["body"])
                    - {
                        "group",
                        "post",
                        "round",
                        "ballot_id",
                        "qr",
                        "marks",
                        "written",
                        "added_rows",
                        "form",
                        "reason",
                        "scrutineer",
                        "signature",
                    }
                    == set()
                )


def test_refusal_is_one_line_in_the_language_asked_and_exits_1(published: Branch) -> None:
    b = published
    before = b.rows()
    r = run("procedure", "withdraw", b.db, "--key", b.wg, "--lang", "en")
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [
        "error: the last entry is not a ballot: nothing to withdraw"
    ]
    r = run("procedure", "withdraw", b.db, "--key", b.wg)
    assert r.exit_code == 1
    assert r.output.strip() == "错误：最后一条记录不是录入的票，没有可撤回的"
    assert b.rows() == before
