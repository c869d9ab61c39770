"""Write the procedure bundle vectors of spec/procedure.md RP-15.2 and RP-15.3 (V20-V31) into
spec/vectors/procedure/bundles/.

    PYTHONPATH=. .venv/bin/python scripts/gen_procedure_bundle_vectors.py          # rewrite them
    PYTHONPATH=. .venv/bin/python scripts/gen_procedure_bundle_vectors.py --check  # exit 1 if stale

One town (青山镇) with three branches, every file written by the producer itself from fixed seed
keys, a fixed clock and a fixed "random" source (entry salts, ballot ids, check codes), so every
run writes the same bytes: ``B01`` (``procedure-minimal``: one round each, everyone proceeds, an
appointment with no objection), ``B02`` (``procedure-objections``: three objections in the town's
casework, one ``not_appointed``) and ``B03`` (``procedure-tie-and-supplement``: a three-way tie at
the cut, a higher-level name, a declined member, an over-limit ballot and a written
non-nominable name, two evaluation failures and a boundary case, a version-2 supplement and its
evaluation, the approval). The procedure files are driven through ``tally.procedure_store`` and
the town's acts (``tally.procedure_town``) as ``tally procedure`` does; B01's and B02's elections
through ``tally.election.ElectionSession`` (clock and salts fixed as scripts/gen_bundle_vectors.py
fixes them); the objections through ``tally.casework_store``.

The generator then rebuilds each procedure bundle from its parts (definition, entry documents,
checkpoint moments and signers, sealed stock lists) and requires the two to be byte for byte
equal: each invalid bundle is built from those parts with one change, everything after it
re-derived with the same keys (the chain, the checkpoints and their co-signatures, the ballot
records, the index; the town's act re-signed by the town key where the change is in one, and the
approval re-signed over its moved ``vetted`` checkpoint where a change precedes it), or
from a prefix of the log (a bundle published after the proposal or the vetting) where a change
would otherwise reach later entries. Each ``expected.json`` names the clause and the verifier's
finding code, and the election and casework bundles to give (``--election``, ``--casework``),
as paths relative to spec/vectors/procedure/bundles/.

The generator owns only spec/vectors/procedure/bundles/.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keys
import tally.election_log
from ballot_printer import (
    BallotStock,
    PaperKind,
    ProcedureForm,
    encode_procedure_qr_text,
    encode_qr_text,
    procedure_stock_list_json,
    sign_payload,
)
from ballot_printer.procedure_qr import sign_procedure_payload
from ballot_printer.procedure_stock import ProcedureStock, procedure_stock_commitment_of
from tally.calendar import build_calendar, load_calendar
from tally.casework_store import CaseworkStore, sign_casework
from tally.core.casework import (
    TOWN_TIME,
    Channel,
    Effect,
    Finding,
    assign,
    casework_document,
    conclude,
    lodge_objection,
)
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest, canonical
from tally.core.model import MemberId, PostKind
from tally.core.procedure import build_procedure
from tally.core.procedure.entries import Form
from tally.core.procedure.ranking import Omission, OmissionReason
from tally.election import ElectionSession, EntryInput
from tally.log import MerkleTree
from tally.log.checkpoint import note_body, signature_line, signer_name
from tally.log_file import BundleFile, bundle_index
from tally.manifest_io import sign_manifest
from tally.procedure_driver import (
    Approve,
    Cosign,
    Day,
    Evaluate,
    HigherLevel,
    Keys,
    Paper,
    ProcedureDriver,
    Propose,
    Recommend,
    Sources,
    Step,
    Vet,
)
from tally.procedure_store import CHECKPOINT_DOMAIN, ProcedureStore
from tally.procedure_town import election_definition
from tally.publish import bundle_files as election_bundle_files

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "spec" / "vectors" / "procedure" / "bundles"
VECTOR_FORMAT = "procedure-vector/1"
CALENDAR = build_calendar()
Files = dict[str, bytes]


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"procedure bundle vector seed: {name}".encode()).digest()


TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "青山镇党委", _seed("town"))
OTHER_TOWN = keys.InMemorySigner.from_seed(
    keys.Role.TOWN_COMMITTEE, "白云镇党委", _seed("other town")
)
WORK_GROUP = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "选举工作组", _seed("wg"))
SCRUTINEERS = (
    keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "李军", _seed("scrutineer 1")),
    keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "张华", _seed("scrutineer 2")),
)
SERVICE = keys.InMemorySigner.from_seed(keys.Role.CASEWORK, "青山镇查核组", _seed("casework"))
SIGNERS = {signer_name(s.public_key): s for s in (WORK_GROUP, *SCRUTINEERS)}
ELECTION_DAY = dt.date(2026, 12, 15)
APPOINTMENT_DAY = dt.date(2026, 12, 28)
BRANCHES = {"B01": "东村", "B02": "西村", "B03": "南村"}

ROSTER = """\
[[members]]
id = "M01"
name = "丁一"
sex = "男"
birth_date = 1984-03-12
education = "college"
status = "full"

[[members]]
id = "M02"
name = "王芳"
sex = "女"
birth_date = 1982-06-05
education = "college"
status = "full"

[[members]]
id = "M03"
name = "白杨"
sex = "男"
birth_date = 1985-09-21
education = "senior_high"
status = "full"

[[members]]
id = "M04"
name = "刘红"
sex = "女"
birth_date = 1986-01-30
education = "bachelor"
status = "full"

[[members]]
id = "M05"
name = "许强"
sex = "男"
birth_date = 1970-11-02
education = "junior_high"
status = "full"

[[members]]
id = "M06"
name = "孙丽"
sex = "女"
birth_date = 1960-04-17
education = "junior_high"
status = "full"

[[members]]
id = "M07"
name = "李军"
sex = "男"
birth_date = 1987-07-08
education = "college"
status = "full"

[[members]]
id = "M08"
name = "张华"
sex = "男"
birth_date = 1973-12-25
education = "senior_high"
status = "full"

[[members]]
id = "M09"
name = "陈静"
sex = "女"
birth_date = 1995-02-14
education = "bachelor"
status = "probationary"
"""


def _pub(signer: keys.Signer) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(signer.public_key))
    return doc


def _counter(label: str) -> Callable[[int], bytes]:
    """A reproducible stand-in for ``secrets.token_bytes`` (vectors only)."""
    counter: Iterator[int] = itertools.count(1)

    def draw(n: int) -> bytes:
        return hashlib.shake_256(f"{label} {next(counter)}".encode()).digest(n)

    return draw


def _procedure_input(code: str, casework_id: str) -> dict[str, Any]:
    village = BRANCHES[code]
    text = f"""\
format = "procedure/1"
casework_id = "{casework_id}"
ballot_order = ["M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08"]

[election]
title = "中共{village}支部委员会换届选举"
branch = "中共{village}支部委员会"
branch_code = "{code}"
town = "中共青山镇委员会"
term = "第十一届"

[secretary]
elected_by = "assembly"

[[posts]]
post = "committee"
seats = 3

[[posts]]
post = "secretary"
seats = 1

[recommendation]
public_representatives = 5

[officials]
scrutineers = ["M07", "M08"]
tellers = ["M06"]

{ROSTER}"""
    return tomllib.loads(text)


# --------------------------------------------------------------------------- one branch


PAPER = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}
START = dt.datetime(2026, 11, 2, 9, tzinfo=TOWN_TIME)
KEYS = Keys(town=TOWN, work_group=WORK_GROUP, scrutineers=SCRUTINEERS)
MEMBERS_PRESENT = ("M01", "M02", "M03", "M04", "M05", "M07", "M08")  # the scrutineers (RP-3.2)


def branch(folder: Path, code: str, casework_id: str) -> ProcedureDriver:
    """A branch's procedure file, opened by the producer's driver: fixed clock (one minute per
    entry from :data:`START`, days set by :class:`Day`), fixed salts and ballot ids."""
    procedure = build_procedure(
        _procedure_input(code, casework_id),
        work_group_key=_pub(WORK_GROUP),
        scrutineer_keys=[_pub(s) for s in SCRUTINEERS],
    )

    def ballot_ids(form: Form, post: str, round_no: int, i: int) -> bytes:
        return hashlib.sha256(f"{code}/{form.value}/{post}/{round_no}/{i}".encode()).digest()[:16]

    sources = Sources(
        START, random=_counter(f"procedure vector {code} salt"), ballot_ids=ballot_ids
    )
    return ProcedureDriver.create(folder / f"{code}.procedure.sqlite", procedure, KEYS, sources)


def _p(*names: str, written: tuple[tuple[str, str], ...] = ()) -> Paper:
    """A recommendation paper: the names marked, and written rows as (name, member)."""
    return Paper(names, written)


def simple_procedure(code: str) -> tuple[Step, ...]:
    """B01 and B02: one members' and one public session, everyone proposed proceeds."""
    return (
        Recommend(
            Form.MEMBER,
            len(MEMBERS_PRESENT),
            {
                "committee": [
                    _p("M01", "M02", "M03"),
                    _p("M01", "M02", "M04"),
                    _p("M01", "M03", "M04"),
                    _p("M02", "M03", "M05"),
                ],
                "secretary": [_p("M01"), _p("M01"), _p("M02"), _p("M03")],
            },
            present_members=MEMBERS_PRESENT,
        ),
        Day(dt.date(2026, 11, 4)),
        Recommend(
            Form.PUBLIC,
            3,
            {
                "committee": [
                    _p("M01", "M02", "M03"),
                    _p("M01", "M02", "M04"),
                    _p("M02", "M03", "M04"),
                ],
                "secretary": [_p("M01"), _p("M02"), _p("M01")],
            },
        ),
        Day(dt.date(2026, 11, 9)),
        Propose(ELECTION_DAY),
        Day(dt.date(2026, 11, 16)),
        Evaluate(["ssss", "sbss", "ssbs"]),
        Day(dt.date(2026, 11, 23)),
        Vet(),
        Day(dt.date(2026, 11, 30)),
        Approve(f"青组〔2026〕{30 + int(code[1:])}号"),
        Cosign(),
    )


def tie_and_supplement() -> tuple[Step, ...]:
    """B03 (RP-15.2): a three-way tie at the committee's cut, a higher-level name for the
    secretary, a declined member, an over-limit ballot and a written non-nominable name; the
    evaluation stops three names and passes one at the boundary (2 of 6 不满意: ``3*2 > 6`` is
    false); the committee is short, so version 2 adds the next name (M06), evaluated in round 2."""
    return (
        Recommend(
            Form.MEMBER,
            len(MEMBERS_PRESENT),
            {
                "committee": [
                    _p("M01", "M02", "M03"),
                    _p("M01", "M02", "M04"),
                    _p("M01", "M02", "M05"),
                    _p("M01", "M02", written=(("陈静", "M09"),)),
                    _p("M01", "M02", "M03", "M06"),
                ],
                "secretary": [_p("M01"), _p("M01"), _p("M02"), _p("M02"), _p("M06")],
            },
            present_members=MEMBERS_PRESENT,
        ),
        Day(dt.date(2026, 11, 4)),
        Recommend(
            Form.PUBLIC,
            3,
            {
                "committee": [
                    _p("M03", "M04", "M05"),
                    _p("M03", "M04", "M05"),
                    _p("M01", "M06"),
                ],
                "secretary": [_p("M01"), _p("M02"), _p("M06")],
            },
        ),
        Day(dt.date(2026, 11, 6)),
        HigherLevel(PostKind.SECRETARY, ("M07",), "青组〔2026〕21号"),
        Day(dt.date(2026, 11, 9)),
        Propose(
            ELECTION_DAY,
            (Omission(MemberId("M08"), OmissionReason.DECLINED, "", "本人书面申请〔2026〕1号"),),
        ),
        Day(dt.date(2026, 11, 16)),
        # persons M01 M02 M03 M04 M05 M07: M03, M05 and M07 3 of 6 不满意, M04 2 of 6 (proceeds)
        Evaluate(
            ["ssdddd", "ssdddd", "ssdsdd", "sbssss", "ss-sss", "sssbss"],
            present_members=("M06", "M07", "M08"),
        ),
        Day(dt.date(2026, 11, 23)),
        Vet(),
        Day(dt.date(2026, 11, 24)),
        Propose(ELECTION_DAY),
        Day(dt.date(2026, 11, 25)),
        Evaluate(["s", "s", "b", "s", "d", "s"], present_members=("M06", "M07", "M08")),
        Day(dt.date(2026, 11, 26)),
        Vet(),
        Day(dt.date(2026, 11, 30)),
        Approve("青组〔2026〕33号"),
        Cosign(),
    )


# --------------------------------------------------------------------------- the elections


@contextlib.contextmanager
def _fixed(start: dt.datetime, label: str) -> Iterator[None]:
    """The election log's clock (one minute per reading) and salts, fixed (vectors only)."""
    ticks = itertools.count()
    salts = _counter(f"election vector {label} salt")
    saved = tally.election_log._now, tally.election_log._salt
    tally.election_log._now = lambda: start + dt.timedelta(minutes=next(ticks))
    tally.election_log._salt = lambda: salts(32)
    try:
        yield
    finally:
        tally.election_log._now, tally.election_log._salt = saved


def run_election(
    b: ProcedureDriver, folder: Path, label: str, *, swap_secretary: bool = False
) -> tuple[bytes, Path, Files]:
    """The branch's election from its approval (RP-6.5): the signed manifest, the election file
    and its bundle. Committee 3 of M01-M04 (M01 8, M02 5, M03 8, M04 3 of 8 ballots), the
    secretary M01 (6 of 8). ``swap_secretary`` writes the secretary's candidates in the other
    order (a manifest that breaks RP-6.5)."""
    draft = {
        "format": "election-definition/1",
        "election": {"date": ELECTION_DAY.isoformat(), "objections_to": "青山镇党委组织办"},
        "officials": {"scrutineers": ["M07", "M08"], "tellers": ["M06"]},
    }
    definition = election_definition(b.store, draft)
    secretary = ["ox"] * 6 + ["xo"] * 2
    if swap_secretary:
        post = next(p for p in definition["posts"] if p["post"] == "secretary")
        post["candidates"] = post["candidates"][::-1]
        secretary = [m[::-1] for m in secretary]
    manifest = build_manifest(
        parse_definition_data(definition),
        work_group_key=_pub(WORK_GROUP),
        scrutineer_keys=tuple(_pub(s) for s in SCRUTINEERS),
    )
    signed = sign_manifest(manifest, TOWN)
    db = folder / f"{label}.election.db"
    start = dt.datetime.combine(ELECTION_DAY, dt.time(9), TOWN_TIME)
    with _fixed(start, label):
        s = ElectionSession.init(db, signed, WORK_GROUP, now=start)
        eid = s.manifest.election_id
        s.check_in([f"M0{i}" for i in range(1, 9)])
        for post, marks in (("committee", ["ooox"] * 5 + ["oxoo"] * 3), ("secretary", secretary)):
            ids = [hashlib.sha256(f"{label}/{post}/{i}".encode()).digest()[:16] for i in range(8)]
            payloads = tuple(
                sign_payload(election_id=eid, kind=PAPER[post], round_number=1, ballot_id=i,
                             signer=WORK_GROUP)
                for i in ids
            )  # fmt: skip
            s.commit_stock(
                BallotStock(election_id=eid, kind=PAPER[post], round_number=1, payloads=payloads),
                signer=WORK_GROUP,
            )
            s.issue(count=None, signer=WORK_GROUP)
            s.return_ballots(len(marks), signer=WORK_GROUP)
            s.enter(
                [
                    EntryInput(qr=encode_qr_text(p), marks=m)
                    for p, m in zip(payloads, marks, strict=True)
                ]
            )
            s.close(signer=WORK_GROUP)
        s.record_result(signer=WORK_GROUP, calendar=load_calendar(None))
        for scrutineer in SCRUTINEERS:
            s.cosign(scrutineer)
        files = election_bundle_files(s, load_calendar(None))
        s.store.close()
    return signed, db, files


# --------------------------------------------------------------------------- the town


@dataclasses.dataclass
class Town:
    """What the producer wrote: each branch's procedure bundle, the elections, the casework."""

    procedures: dict[str, Files]
    elections: dict[str, Files]
    casework: Files


def _objections(cases: CaseworkStore, elected: frozenset[str], end: dt.date) -> None:
    """B02's objections during publicity, each assigned and concluded within its days."""
    draw = _counter("casework vector random")
    lodged = (
        ("2026-12-16 10:00", Channel.FORM, "M02", "当选人王芳在选举前挨户拉票。", ""),
        ("2026-12-16 15:00", Channel.IN_PERSON, "", "计票时有一张选票未向会场展示。", "赵六"),
        ("2026-12-17 09:30", Channel.FORM, "M01", "当选人丁一曾承诺当选后为部分党员办事。", ""),
    )
    for when, channel, about, what, name in lodged:
        at = dt.datetime.fromisoformat(when).replace(tzinfo=TOWN_TIME)
        step = lodge_objection(
            cases.ledger, at=at, calendar=CALENDAR, branch="B02", channel=channel, about=about,
            what=what, objector_name=name, publicity_end=end, elected=elected,
        )  # fmt: skip
        cases.lodge(step, at=at, actor="public" if channel is Channel.FORM else "head", random=draw)
    conclusions = (
        ("YY-2026-00001", Finding.SUBSTANTIATED, Effect.NOT_APPOINTED, "经查属实，不予任命。"),
        ("YY-2026-00002", Finding.UNSUBSTANTIATED, Effect.NONE, "经调阅录像，全部选票均已展示。"),
        ("YY-2026-00003", Finding.PARTLY_SUBSTANTIATED, Effect.NONE, "有口头承诺，已批评教育。"),
    )
    for i, (reference, *_) in enumerate(conclusions):
        at = dt.datetime(2026, 12, 17, 14 + i, tzinfo=TOWN_TIME)
        cases.perform(assign(cases.ledger, at=at, reference=reference, assignee="officer-liu"),
                      at=at, actor="head", random=draw)  # fmt: skip
    for i, (reference, finding, effect, summary) in enumerate(conclusions):
        at = dt.datetime(2026, 12, 21, 10 + i, tzinfo=TOWN_TIME)
        step = conclude(
            cases.ledger, at=at, reference=reference, actor="officer-liu", finding=finding,
            summary=summary, effect=effect,
        )  # fmt: skip
        cases.perform(step, at=at, actor="officer-liu", random=draw)


def produce(folder: Path) -> Town:
    """The whole town through the producer; every bundle as it exports it."""
    doc = casework_document(
        town="青山镇",
        branches=[
            {"branch_code": code, "name": f"{village}党支部", "groups": []}
            for code, village in BRANCHES.items()
        ],
        casework_key=_pub(SERVICE),
    )
    signed_casework, casework = sign_casework(doc, TOWN)
    cases = CaseworkStore.create(
        folder / "town.casework.sqlite",
        signed_casework=signed_casework,
        casework_signer=SERVICE,
        at=dt.datetime(2026, 11, 1, 9, tzinfo=TOWN_TIME),
        random=_counter("casework vector opening"),
    )
    branches = {code: branch(folder, code, casework.id.hex()) for code in BRANCHES}
    elections: dict[str, Files] = {}
    concluded: dict[str, dict[str, Any]] = {}
    for code in ("B01", "B02"):
        b = branches[code].run(simple_procedure(code))
        b.day(dt.date(2026, 12, 1))
        signed, db, elections[code] = run_election(b, folder, code)
        b.bind(signed)
        b.day(ELECTION_DAY, 18)
        b.conclude(db)
        concluded[code] = dict(b.store.ledger.town.concluded or {})
    # The manifest of RP-6.5's counter-example: B01's secretary candidates in the other order.
    _, _, elections["B01-secretary-swapped"] = run_election(
        branches["B01"], folder, "B01-secretary-swapped", swap_secretary=True
    )
    branches["B03"].run(tie_and_supplement())
    c = concluded["B02"]
    _objections(
        cases,
        frozenset(m for ms in c["elected"].values() for m in ms),
        dt.date.fromisoformat(c["publicity_end"]),
    )
    for i, code in enumerate(("B01", "B02")):
        b = branches[code]
        b.day(APPOINTMENT_DAY, 10)
        b.appoint(cases, casework_signer=SERVICE, date=APPOINTMENT_DAY,
                  reference=f"青组〔2026〕{51 + i}号")  # fmt: skip
    procedures = {}
    for code, b in branches.items():
        procedures[code] = {f.path: f.data for f in b.store.bundle_files()}
        b.store.close()
    casework_files = {f.path: f.data for f in cases.bundle_files()}
    cases.close()
    return Town(procedures, elections, casework_files)


# --------------------------------------------------------------------------- parts


@dataclasses.dataclass
class Parts:
    """A procedure bundle as parts: what a producer (honest or not) would write."""

    signed: bytes
    entries: list[dict[str, Any]]  # every entry document; ``seq`` and ``prev`` are re-derived
    checkpoints: list[tuple[int, str, tuple[str, ...]]]  # (size, reason, signer names)
    stocks: dict[str, bytes]  # path under the bundle -> the sealed list

    def entry(self, type_: str, n: int = 0, **match: Any) -> dict[str, Any]:
        found = [
            e
            for e in self.entries
            if e["type"] == type_ and all(e["body"].get(k) == v for k, v in match.items())
        ]
        return found[n]


def parts_of(files: Files) -> Parts:
    checkpoints = []
    for item in json.loads(files["checkpoints.json"])["checkpoints"]:
        lines = item["text"].split("\n")
        names = tuple(line.split(" ")[1] for line in lines[5:] if line)
        checkpoints.append((int(lines[1]), lines[3], names))
    return Parts(
        signed=files["procedure.json"],
        entries=[json.loads(line) for line in files["log.jsonl"].splitlines()],
        checkpoints=checkpoints,
        stocks={p: b for p, b in files.items() if p.startswith("stocks/")},
    )


def assemble(parts: Parts) -> Files:
    """The bundle files of ``parts``: chain, signed checkpoints, proofs, ballot records, index."""
    procedure = json.loads(parts.signed)["procedure"]
    pid = hashlib.sha256(b"branch-election/procedure/1\x00" + canonical(procedure)).hexdigest()
    raws: list[bytes] = []
    tree = MerkleTree([])
    for seq, entry in enumerate(parts.entries):
        prev = pid if not raws else hashlib.sha256(b"\x00" + raws[-1]).hexdigest()
        raw = canonical({**entry, "seq": seq, "prev": prev})
        raws.append(raw)
        tree.append(hashlib.sha256(b"\x00" + raw).digest())
    cps: list[dict[str, Any]] = []
    last = 0
    for size, reason, names in parts.checkpoints:
        body = note_body(f"branch-procedure/{pid}", size, tree.root_at(size), reason)
        lines = [
            signature_line(SIGNERS[n], body, domain=CHECKPOINT_DOMAIN)[1] for n in sorted(names)
        ]
        proof = tree.consistency_proof(last, size) if 0 < last < size else ()
        cps.append(
            {
                "text": body + "\n" + "".join(lines),
                "consistency": [base64.b64encode(h).decode() for h in proof],
            }
        )
        last = size
    members = [
        BundleFile("procedure.json", parts.signed),
        BundleFile("log.jsonl", b"".join(r + b"\n" for r in raws)),
        BundleFile("checkpoints.json", canonical({"format": "checkpoints/1", "checkpoints": cps})),
        *(BundleFile(p, b) for p, b in parts.stocks.items()),
        BundleFile("ballots.jsonl", ProcedureStore._ballot_records(raws)),
    ]
    index = bundle_index("procedure-bundle-index/1", "procedure_id", pid, len(raws), members)
    return {f.path: f.data for f in (index, *members)}


def reapprove(parts: Parts) -> None:
    """The town's approval re-signed over its ``vetted`` checkpoint of the changed log, when a
    change before it moved that checkpoint's root (a dishonest producer holding the town key:
    otherwise every change before the approval is also ``approval.stale``, V28)."""
    approved = [e for e in parts.entries if e["type"] == "candidates.approved"]
    if not approved:
        return
    body = approved[0]["body"]
    size = body["approval"]["vetted_size"]
    files = assemble(dataclasses.replace(parts, entries=parts.entries[:size], checkpoints=[]))
    tree = MerkleTree(hashlib.sha256(b"\x00" + r).digest() for r in files["log.jsonl"].splitlines())
    root = tree.root().hex()
    if body["approval"]["vetted_root"] != root:
        body["approval"]["vetted_root"] = root
        _resign(body, "approval")


def prefix(parts: Parts, last_type: str, n: int = 0) -> Parts:
    """The bundle published right after the ``n``-th ``last_type`` entry and its checkpoint:
    the log's prefix, its checkpoints and the stocks it commits."""
    size = [i for i, e in enumerate(parts.entries) if e["type"] == last_type][n] + 1
    entries = copy.deepcopy(parts.entries[:size])
    committed = {
        "stocks/"
        + "-".join(str(x) for x in (b["form"], b["post"] or None, b["round"]) if x)
        + ".json"
        for e in entries
        if e["type"] == "stock.committed"
        for b in (e["body"],)
    }
    return Parts(
        signed=parts.signed,
        entries=entries,
        checkpoints=[c for c in parts.checkpoints if c[0] <= size],
        stocks={p: b for p, b in parts.stocks.items() if p in committed},
    )


# --------------------------------------------------------------------------- the changes


Mutation = Callable[[Parts], None]


def _resign(body: dict[str, Any], member: str, signer: keys.Signer = TOWN) -> None:
    """A town act re-signed over its changed object (RP-6.4, RP-10.1)."""
    domain = {"approval": b"candidate-approval/1", "appointment": b"appointment/1"}[member]
    sig = signer.sign(b"branch-election/" + domain, canonical(body[member]))
    body["town_signature"] = base64.b64encode(sig).decode()


def _other_town(parts: Parts) -> None:
    doc = json.loads(parts.signed)
    sig = OTHER_TOWN.sign(b"branch-election/procedure/1", canonical(doc["procedure"]))
    doc["town_key"], doc["signature"] = _pub(OTHER_TOWN), base64.b64encode(sig).decode()
    parts.signed = canonical(doc)


def _recommendation_after_proposal(parts: Parts) -> None:
    """A members' session whose quorum failed (2 of 8), recorded after the proposal (RP-4.5)."""
    last = parts.entries[-1]
    parts.entries.append(
        {
            **copy.deepcopy(last),
            "type": "recommendation.quorum_failed",
            "at": last["at"].replace("T09:", "T10:"),
            "salt": hashlib.sha256(b"V22-recommendation-after-proposal").hexdigest(),
            "body": {
                "group": "member",
                "round": 2,
                "present": 2,
                "present_members": ["M01", "M02"],
            },
        }
    )


def _supplement(after: int, part: int, label: str) -> Mutation:
    """A sound supplementary print of two ballots for the members' committee round 1 (its own
    sealed list, RP-3.6), committed as ``stock.supplemented`` part ``part`` right after the
    ``after``-th entry, with its checkpoint; the later checkpoints move with their entries."""

    def run(parts: Parts) -> None:
        pid_hex = parts.entries[0]["body"]["procedure_id"]
        pid = bytes.fromhex(pid_hex)
        ids = [hashlib.sha256(f"{label}/{i}".encode()).digest()[:16] for i in range(2)]
        stock = ProcedureStock(
            procedure_id=pid, form=ProcedureForm.MEMBER, post=PaperKind.COMMITTEE, round_number=1,
            payloads=tuple(
                sign_procedure_payload(
                    procedure_id=pid, form=ProcedureForm.MEMBER, post=PaperKind.COMMITTEE,
                    round_number=1, ballot_id=i, signer=WORK_GROUP,
                )
                for i in ids
            ),
        )  # fmt: skip
        sealed = procedure_stock_list_json(stock)
        doc = json.loads(sealed)
        body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        parts.stocks[f"stocks/member-committee-1-{part}.json"] = sealed
        parts.entries.insert(
            after + 1,
            {
                **copy.deepcopy(parts.entries[after]),
                "type": "stock.supplemented",
                "salt": hashlib.sha256(label.encode()).hexdigest(),
                "body": {**body, "part": part},
            },
        )
        names = next(n for _, r, n in parts.checkpoints if r == "stock member committee 1")
        moved = [(size + (size > after + 1), r, n) for size, r, n in parts.checkpoints]
        reason = f"stock-supplement member committee 1 {part}"
        parts.checkpoints = sorted([*moved, (after + 2, reason, names)])

    return run


def _evaluation_half_public(parts: Parts) -> None:
    """Two of the five public representatives and one member (M08) in place of the third:
    ``present`` and the ballots unchanged, ``2*2 > 5`` fails (RP-5.2)."""
    body = parts.entry("evaluation.opened")["body"]
    assert (body["public_present"], body["present_members"]) == (3, [])
    body["public_present"], body["present_members"] = 2, ["M08"]


def _foreign_qr(form: ProcedureForm, post: PaperKind | None, round_no: int, label: str) -> Mutation:
    """A member's committee ballot replaced by a ballot the work group signed for ``form``,
    ``post``, ``round_no`` with an id in no stock."""

    def run(parts: Parts) -> None:
        pid = json.loads(parts.signed)["procedure"]
        pid_bytes = hashlib.sha256(b"branch-election/procedure/1\x00" + canonical(pid)).digest()
        bid = hashlib.sha256(label.encode()).digest()[:16]
        payload = sign_procedure_payload(
            procedure_id=pid_bytes, form=form, post=post, round_number=round_no, ballot_id=bid,
            signer=WORK_GROUP,
        )  # fmt: skip
        body = parts.entry("recommendation.entered", 1, group="member", post="committee")["body"]
        body["qr"], body["ballot_id"] = encode_procedure_qr_text(payload), bid.hex()

    return run


def _exactly_half(parts: Parts) -> None:
    """The members' session with 4 of the 8 expected electors: ``2*P > E`` fails."""
    opened = parts.entry("recommendation.opened", group="member")["body"]
    opened["present_members"] = [*opened["present_members"][:2], "M07", "M08"]  # RP-3.2
    opened["present"] = 4
    for e in parts.entries:
        if e["type"] == "ballots.issued" and e["body"]["form"] == "member":
            e["body"]["count"] = 4


def _fewer_records(parts: Parts) -> None:
    parts.entry("ballots.returned", form="member", post="committee")["body"]["count"] = 5


def _returned_more_counted(parts: Parts) -> None:
    """One committee ballot more returned than issued (8 of 7), all kept and the round counted,
    not void: the 4 entered and the rest declared invalid (the stock's spare ballots and one
    printed beyond it, its sealed list grown by one), so that the counts and the proposal still
    hold."""
    pid = hashlib.sha256(
        b"branch-election/procedure/1\x00" + canonical(json.loads(parts.signed)["procedure"])
    ).digest()
    path = "stocks/member-committee-1.json"
    doc = json.loads(parts.stocks[path])
    used = {
        e["body"]["ballot_id"]
        for e in parts.entries
        if e["type"] == "recommendation.entered" and e["body"]["group"] == "member"
    }
    spares = [i for i in doc["ballot_ids"] if i not in used]
    extra = hashlib.sha256(b"V24-returned-more-not-void").hexdigest()[:32]
    ids = sorted([*doc["ballot_ids"], extra])
    commitment = procedure_stock_commitment_of(
        pid, ProcedureForm.MEMBER, PaperKind.COMMITTEE, 1, [bytes.fromhex(i) for i in ids]
    ).hex()
    doc.update(count=len(ids), ballot_ids=ids, commitment=commitment)
    parts.stocks[path] = canonical(doc)
    stock = parts.entry("stock.committed", form="member", post="committee", round=1)["body"]
    stock.update(count=len(ids), commitment=commitment)
    parts.entry("ballots.returned", form="member", post="committee")["body"]["count"] = len(ids)
    counted = parts.entry("recommendation.counted", group="member", post="committee")
    counted["body"]["invalid_ballots"] += len(spares) + 1
    at = parts.entries.index(counted)
    added = []
    for k, bid in enumerate((*spares, extra)):
        payload = sign_procedure_payload(
            procedure_id=pid, form=ProcedureForm.MEMBER, post=PaperKind.COMMITTEE,
            round_number=1, ballot_id=bytes.fromhex(bid), signer=WORK_GROUP,
        )  # fmt: skip
        body: dict[str, Any] = {
            "form": "member",
            "post": "committee",
            "round": 1,
            "ballot_id": bid,
            "qr": encode_procedure_qr_text(payload),
            "reason": "identifying_marks",
        }
        message = canonical({"procedure_id": pid.hex(), "seq": at + k} | body)
        signature = SCRUTINEERS[0].sign(b"branch-election/procedure-invalid-ballot/1", message)
        body["scrutineer"] = signer_name(SCRUTINEERS[0].public_key)
        body["signature"] = base64.b64encode(signature).decode()
        salt = hashlib.sha256(f"V24-returned-more-not-void {k}".encode()).hexdigest()
        added.append({**counted, "type": "ballot.declared_invalid", "salt": salt, "body": body})
    parts.entries[at:at] = added
    parts.checkpoints = [
        (n + len(added) if n > at else n, r, who) for n, r, who in parts.checkpoints
    ]
    parts.entry("candidates.approved")["body"]["approval"]["vetted_size"] += len(added)


def _members_count(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def run(parts: Parts) -> None:
        edit(parts.entry("recommendation.counted", group="member", post="committee")["body"])

    return run


def _nonnominable_counted(body: dict[str, Any]) -> None:
    body["not_counted"], body["written_names"] = [], []
    body["recommendations"].append({"member": "M09", "recommendations": 1})


def _over_limit_counted(body: dict[str, Any]) -> None:
    body["valid_ballots"], body["invalid_ballots"] = 5, 0
    tally_ = {r["member"]: r["recommendations"] for r in body["recommendations"]}
    for m in ("M01", "M02", "M03", "M06"):
        tally_[m] = tally_.get(m, 0) + 1
    body["recommendations"] = [{"member": m, "recommendations": tally_[m]} for m in sorted(tally_)]


def _proposal_post(post: str, edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def run(parts: Parts) -> None:
        body = parts.entry("preliminary.proposed", version=1)["body"]
        edit(next(p for p in body["posts"] if p["post"] == post))

    return run


def _drop_tied(post: dict[str, Any]) -> None:
    post["names"] = [n for n in post["names"] if n["member"] != "M05"]


def _higher_level_as_rank(post: dict[str, Any]) -> None:
    next(n for n in post["names"] if n["member"] == "M07")["basis"] = "rank"


def _no_reference(parts: Parts) -> None:
    for post in parts.entry("preliminary.proposed", version=1)["body"]["posts"]:
        for o in post["omitted"]:
            o["reference"] = ""


def _qualification_kept(post: dict[str, Any]) -> None:
    post["omitted"] = [o for o in post["omitted"] if o["reason"] != "qualification"]


def _evaluation_result(member: str, edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def run(parts: Parts) -> None:
        body = parts.entry("evaluation.counted", round=1)["body"]
        edit(next(r for r in body["results"] if r["member"] == member))

    return run


def _fails(result: dict[str, Any]) -> None:
    result["outcome"] = "does_not_proceed"


def _one_more_satisfied(result: dict[str, Any]) -> None:
    result["counts"][0]["count"] += 1


def _failure_proceeds(parts: Parts) -> None:
    body = parts.entry("vetting.recorded")["body"]
    for post in body["posts"]:
        if any(s["member"] == "M03" for s in post["stopped"]):
            post["stopped"] = [s for s in post["stopped"] if s["member"] != "M03"]
            post["proceeding"] = sorted([*post["proceeding"], "M03"])


def _approval(edit: Callable[[dict[str, Any], Parts], None]) -> Mutation:
    def run(parts: Parts) -> None:
        body = parts.entry("candidates.approved")["body"]
        edit(body["approval"], parts)
        _resign(body, "approval")

    return run


def _stale(approval: dict[str, Any], parts: Parts) -> None:
    """Over the first ``vetted`` checkpoint (before the supplement), re-signed."""
    size = next(s for s, reason, _ in parts.checkpoints if reason == "vetted")
    files = assemble(prefix(parts, "vetting.recorded"))
    text = json.loads(files["checkpoints.json"])["checkpoints"][-1]["text"]
    approval["vetted_size"] = size
    approval["vetted_root"] = base64.b64decode(text.split("\n")[2]).hex()


def _other_list(approval: dict[str, Any], _parts: Parts) -> None:
    committee = approval["posts"][0]["candidates"]
    committee[0], committee[1] = committee[1], committee[0]


def _appointment(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def run(parts: Parts) -> None:
        body = parts.entry("appointment.recorded")["body"]
        edit(body["appointment"])
        _resign(body, "appointment")

    return run


def _during_publicity(a: dict[str, Any]) -> None:
    a["date"] = a["publicity_end"]


def _not_appointed_without_finding(a: dict[str, Any]) -> None:
    a["persons"][-1]["status"] = "not_appointed"


def _concluded_late(a: dict[str, Any]) -> None:
    a["objections"][1]["concluded"] = "2026-12-29"


def _objection_text(a: dict[str, Any]) -> None:
    a["objections"][1]["what"] = "计票时有一张选票未向会场展示。"


def _left_out(a: dict[str, Any]) -> None:
    a["objections"] = [o for o in a["objections"] if o["effect"] != "none" or o["about"]]


def _election_of(files: Files) -> Mutation:
    """``election.bound``, ``election.concluded`` and the appointment moved to the election of
    ``files`` (its manifest, final checkpoint and result), the appointment re-signed."""

    def run(parts: Parts) -> None:
        result = json.loads(files["result.json"])
        cps = json.loads(files["checkpoints.json"])["checkpoints"]
        final = next(c["text"] for c in reversed(cps) if c["text"].split("\n")[3] == "result")
        root = base64.b64decode(final.split("\n")[2]).hex()
        bound = parts.entry("election.bound")["body"]
        bound["election_id"] = result["election_id"]
        bound["manifest_sha256"] = hashlib.sha256(files["manifest.json"]).hexdigest()
        concluded = parts.entry("election.concluded")["body"]
        concluded.update(election_id=result["election_id"], size=int(final.split("\n")[1]),
                         root=root)  # fmt: skip
        body = parts.entry("appointment.recorded")["body"]
        body["appointment"].update(election_id=result["election_id"], election_root=root)
        _resign(body, "appointment")

    return run


def _root_differs(files: Files) -> Mutation:
    """``election.concluded`` names the root of the election's checkpoint before its result
    (the appointment follows it, re-signed: only the binding is wrong)."""

    def run(parts: Parts) -> None:
        cps = json.loads(files["checkpoints.json"])["checkpoints"]
        earlier = [c["text"] for c in cps if c["text"].split("\n")[3] != "result"][-1]
        root = base64.b64decode(earlier.split("\n")[2]).hex()
        parts.entry("election.concluded")["body"]["root"] = root
        body = parts.entry("appointment.recorded")["body"]
        body["appointment"]["election_root"] = root
        _resign(body, "appointment")

    return run


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    base: str  # the branch
    code: str
    description: str
    change: Mutation
    upto: tuple[str, int] | None = None  # publish the log's prefix up to this entry
    election: str = ""
    casework: bool = False
    clause: str = ""  # when not the name's


def _cases(town: Town) -> tuple[Case, ...]:
    v = Case
    return (
        v("V21-other-town-key", "B03", "procedure.town_key",
          "the procedure definition signed by another town's key (the trust root differs)",
          _other_town),
        v("V22-recommendation-after-proposal", "B03", "procedure.order",
          "RP-4.5: a public session (its quorum failed) recorded after the proposal",
          _recommendation_after_proposal, upto=("preliminary.proposed", 0)),
        v("V22-supplement-after-issued", "B01", "stock.supplement_late",
          "RP-3.6: a supplementary print (part 2, its sealed list sound) of the members' "
          "committee round 1 committed after the round's ballots were issued",
          _supplement(4, 2, "V22-late"), upto=("preliminary.proposed", 0)),
        v("V22-supplement-part-skipped", "B01", "stock.supplement_part",
          "RP-3.6: the first supplementary print of the members' committee round 1 committed as "
          "part 3 (part 2 is next), before the session", _supplement(2, 3, "V22-part"),
          upto=("preliminary.proposed", 0)),
        v("V23-evaluation-ballot-in-recommendation", "B03", "pqr.wrong_form",
          "PQ6: an evaluation ballot (form 3, signed by the work group) entered as a members' "
          "committee recommendation ballot",
          _foreign_qr(ProcedureForm.EVALUATION, None, 1, "V23-evaluation")),
        v("V23-ballot-outside-stock", "B03", "ballot.not_in_stock",
          "RP-3.6: a members' committee ballot, signed by the work group, whose id is in no "
          "committed stock", _foreign_qr(ProcedureForm.MEMBER, PaperKind.COMMITTEE, 1, "V23-out")),
        v("V24-member-quorum-exactly-half", "B01", "recommendation.quorum_failed",
          "RP-3.2: the members' session with 4 of the 8 expected electors (2*4 > 8 fails), 4 "
          "ballots issued and 4 returned", _exactly_half),
        v("V24-returned-more-not-void", "B01", "session.void",
          "RP-3.4: 8 committee ballots returned of 7 issued, yet the round is counted with all 8 "
          "(4 entered, 4 declared invalid; the stock printed 8), not void", _returned_more_counted),
        v("V24-evaluation-public-half", "B01", "evaluation.public_quorum",
          "RP-5.2: the evaluation with 2 of the 5 public representatives (2*2 > 5 fails) and one "
          "member, 3 present as before", _evaluation_half_public,
          upto=("evaluation.counted", 0)),
        v("V24-records-fewer-than-returned", "B01", "session.records",
          "RP-3.4: 5 committee ballots returned, 4 kept at the count", _fewer_records),
        v("V25-written-nonmember-counted", "B03", "count.recommendation_differs",
          "RP-3.7: the written name of a probationary member (M09, not nominable) counted as a "
          "recommendation", _members_count(_nonnominable_counted)),
        v("V25-over-limit-counted-valid", "B03", "count.recommendation_differs",
          "RP-3.7: a ballot naming 4 for 3 seats counted as valid, its names recommended",
          _members_count(_over_limit_counted)),
        v("V26-tie-broken", "B03", "preliminary.tie_broken",
          "RP-4.2: M03, M04 and M05 tie at the committee's cut; M05 left out",
          _proposal_post("committee", _drop_tied), upto=("preliminary.proposed", 0)),
        v("V26-basis-rank-for-higher-level", "B03", "preliminary.differs",
          "RP-4.3: the secretary's higher-level name (M07) given the basis rank",
          _proposal_post("secretary", _higher_level_as_rank), upto=("preliminary.proposed", 0)),
        v("V26-omission-without-reference", "B03", "preliminary.omission",
          "RP-4.4: the declined member's omission without its reference",
          _no_reference, upto=("preliminary.proposed", 0)),
        v("V26-qualification-not-omitted", "B03", "preliminary.omission",
          "RP-4.4: M06 (born 1960) fails R27 under block, yet the secretary's omitted list "
          "leaves out its qualification omission",
          _proposal_post("secretary", _qualification_kept), upto=("preliminary.proposed", 0)),
        v("V27-boundary-counted-as-fail", "B03", "count.evaluation_differs",
          "RP-5.5: M04 with 2 不满意 of 6 valid (3*2 > 6 is false) recorded as not proceeding",
          _evaluation_result("M04", _fails), upto=("evaluation.counted", 0)),
        v("V27-evaluation-count-differs", "B03", "count.evaluation_differs",
          "RP-5.6: one 满意 more for M01 than the ballots give",
          _evaluation_result("M01", _one_more_satisfied)),
        v("V28-evaluation-failure-proceeds", "B03", "vetting.differs",
          "RP-6.1: M03 (3 不满意 of 6) recorded as proceeding",
          _failure_proceeds, upto=("vetting.recorded", 0)),
        v("V28-approval-stale-checkpoint", "B03", "approval.stale",
          "RP-6.4: the approval signed over the first vetted checkpoint, before the supplement",
          _approval(_stale)),
        v("V28-approval-other-list", "B03", "approval.lists_differ",
          "RP-6.4: the committee's approved list not in the vetting's order (re-signed)",
          _approval(_other_list)),
        v("V29-manifest-candidate-order-differs", "B01", "binding.candidates_differ",
          "RP-6.5: the bound manifest lists the secretary's candidates in the other order",
          _election_of(town.elections["B01-secretary-swapped"]),
          election="elections/B01-secretary-swapped"),
        v("V29-concluded-root-differs", "B01", "binding.concluded_differs",
          "RP-7.2: election.concluded names the root of a checkpoint before the result",
          _root_differs(town.elections["B01"]), election="elections/B01"),
        v("V30-signed-during-publicity", "B01", "appointment.during_publicity",
          "RP-10.1: the appointment dated on the last day of publicity (re-signed)",
          _appointment(_during_publicity)),
        v("V30-not-appointed-without-finding", "B01", "appointment.status_unfounded",
          "RP-10.1: an elected person not appointed with no objection behind it (re-signed)",
          _appointment(_not_appointed_without_finding)),
        v("V30-objection-open-at-approval", "B02", "appointment.objection_open",
          "RP-10.2: an objection concluded after the appointment's date (re-signed)",
          _appointment(_concluded_late)),
        v("V30-objection-text-in-appointment", "B02", "entry.body",
          "RP-12.2: an objection item of the appointment carries its text (what): an unknown "
          "member, whatever the signature", _appointment(_objection_text), clause="V22"),
        v("V31-objection-left-out", "B02", "appointment.objections_differ",
          "RP-10.1: the unsubstantiated objection left out of the appointment (re-signed)",
          _appointment(_left_out), casework=True),
    )  # fmt: skip


def _json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


# (name, branch, election, not checked without --election, description); no valid one warns.
VALID = (
    ("procedure-minimal", "B01", "elections/B01", ["V21", "V29"],
     "RP-15.2: committee 3 seats (4 candidates), secretary by the assembly, one round of each "
     "group, everyone proposed proceeds, the election bound and concluded, an appointment with "
     "no objection"),
    ("procedure-objections", "B02", "elections/B02", ["V21", "V29"],
     "RP-15.2: as procedure-minimal, with three objections during publicity in the town's "
     "casework (one substantiated: M02 not appointed; one unsubstantiated; one partly "
     "substantiated with no effect)"),
    ("procedure-tie-and-supplement", "B03", "", ["V21", "V26", "V29", "V30"],
     "RP-15.2: a three-way tie at the committee's cut, a higher-level name for the secretary, a "
     "declined member, an over-limit ballot and a written non-nominable name; the evaluation "
     "stops three names and passes one at the boundary; version 2 adds M06, evaluated in round "
     "2; the town's approval (no election yet)"),
)  # fmt: skip


def build_files() -> Files:
    """Every vector file, by its path under spec/vectors/procedure/bundles/."""
    with tempfile.TemporaryDirectory() as tmp:
        town = produce(Path(tmp))
    parts = {code: parts_of(files) for code, files in town.procedures.items()}
    for code, files in town.procedures.items():
        again = assemble(parts[code])
        if again != files:
            differ = sorted(p for p in again.keys() | files.keys() if again.get(p) != files.get(p))
            raise SystemExit(f"the parts do not rebuild the producer's {code} bundle: {differ}")
    out: Files = {"town.pub": keys.export_public_key(TOWN.public_key)}
    for label, files in (*((f"elections/{k}", v) for k, v in town.elections.items()),
                         ("casework", town.casework)):  # fmt: skip
        out.update({f"{label}/{p}": b for p, b in files.items()})
    for name, code, election, not_checked, description in VALID:
        doc: dict[str, Any] = {
            "valid": True,
            "description": description,
            "warnings": [],
            "not_checked": not_checked,
        }
        if election:
            doc["election"] = election
        if code != "B03":
            doc["casework"] = "casework"
        out.update({f"valid/{name}/bundle/{p}": b for p, b in town.procedures[code].items()})
        out[f"valid/{name}/expected.json"] = _json({"format": VECTOR_FORMAT, **doc})
    for case in _cases(town):
        changed = copy.deepcopy(parts[case.base])
        if case.upto is not None:
            changed = prefix(changed, *case.upto)
        case.change(changed)
        reapprove(changed)
        doc = {
            "valid": False,
            "clause": case.clause or case.name.split("-")[0],
            "code": case.code,
            "description": case.description,
        }
        if case.election:
            doc["election"] = case.election
        if case.casework:
            doc["casework"] = "casework"
        folder = f"invalid/{case.name}"
        out.update({f"{folder}/bundle/{p}": b for p, b in assemble(changed).items()})
        out[f"{folder}/expected.json"] = _json({"format": VECTOR_FORMAT, **doc})
    return out


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import run  # noqa: PLC0415

    return run(OUT_DIR, build_files, argv, description=__doc__, prune_empty_folders=True)


if __name__ == "__main__":
    sys.exit(main())
