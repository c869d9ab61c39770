"""Generate the result-bundle vectors of spec/bundle.md (V1-V19) into spec/vectors/bundle/.

The valid bundles are written by the producer itself (`tally.election.ElectionSession` and
`tally.publish.bundle_files`) from fixed seed keys, a fixed clock and fixed entry salts
(`tally.election_log._now` and `tally.election_log._salt` are replaced while a scenario runs) and
ballot stocks with fixed ids (built with `BallotStock`, bypassing `make_stock`'s random ids and
shuffle).
Ed25519 signatures are deterministic, so every run writes the same bytes.

Each invalid bundle is one valid bundle with one mutation. A mutation that models a dishonest
producer (a changed manifest or log) is followed by re-deriving everything that depends on it with
the same fixed keys: the manifest re-signed by the town key, the election id, ballot QR payloads,
stock lists, the hash chain, the checkpoints (work-group and scrutineer signatures, consistency
proofs), ballot records, outcomes, result and index. A mutation that models tampering after
publication changes files only. Either way only the clause under test should fail; the expected
clause set, the verifier's finding code and what the producer's own parsers say are written to
each case's `expected.json`.

    python scripts/gen_bundle_vectors.py          # (re)write the files
    python scripts/gen_bundle_vectors.py --check  # exit 1 if the committed files differ
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import hashlib
import io
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keys
import tally.election_log
from ballot_printer import (
    BallotStock,
    PaperKind,
    ballot_code,
    encode_qr_text,
    sign_payload,
    stock_list_json,
)
from tally.calendar import load_calendar
from tally.core.definition import parse_definition_data
from tally.core.manifest import (
    MANIFEST_DOMAIN,
    PUBLIC_SUMMARY_DOMAIN,
    build_manifest,
    canonical,
    public_summary,
)
from tally.core.meeting import INVALID_DECISION_DOMAIN, invalid_decision_message
from tally.core.model import PostKind
from tally.election import ElectionSession, EntryInput
from tally.log.checkpoint import CheckpointBody, body_text, signature_line, signer_name
from tally.log.merkle import MerkleTree, leaf_hash
from tally.manifest_io import sign_amended_list, sign_manifest
from tally.publish import bundle_files

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "spec" / "vectors" / "bundle"
VECTOR_FORMAT = "bundle-vector/1"
TZ = dt.timezone(dt.timedelta(hours=8))


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"bundle vector seed: {name}".encode()).digest()


TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "示例镇党委", _seed("town"))
WORK_GROUP = keys.InMemorySigner.from_seed(
    keys.Role.WORK_GROUP, "示例村支部选举工作组", _seed("work group")
)
SCRUTINEERS = (
    keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "监票人甲", _seed("scrutineer 1")),
    keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "监票人乙", _seed("scrutineer 2")),
)
OTHER_TOWN = keys.InMemorySigner.from_seed(
    keys.Role.TOWN_COMMITTEE, "别的镇党委", _seed("other town")
)
OTHER_WORK_GROUP = keys.InMemorySigner.from_seed(
    keys.Role.WORK_GROUP, "别的工作组", _seed("other work group")
)
PAPER = {
    "committee": PaperKind.COMMITTEE,
    "secretary": PaperKind.SECRETARY,
    "deputy_secretary": PaperKind.DEPUTY,
}

Files = dict[str, bytes]


def pubdoc(signer: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(signer.public_key))
    return doc


def jcs(value: Any) -> bytes:
    return bytes(canonical(value))


# ------------------------------------------------------------------------------ definitions


def _member(i: int, name: str, **kw: Any) -> dict[str, Any]:
    m = {
        "id": f"M{i:02d}",
        "name": name,
        "sex": "female" if i % 3 == 0 else "male",
        "birth_date": f"198{i % 10}-0{1 + i % 9}-1{i % 10}",
        "education": "bachelor" if i % 2 else "senior_high",
        "status": "full",
        "registered_here": True,
        "incumbent_secretary": False,
    }
    m.update(kw)
    return m


NAMES = ("丁一", "王二", "白三", "刘四", "许五", "孙六", "李七", "张八", "陈九", "周十")


def _definition(
    *,
    members: list[dict[str, Any]],
    date: str,
    posts: list[dict[str, Any]],
    elected_by: str,
    officials: tuple[str, str],
    exclusions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "format": "election-definition/1",
        "preset": "R2020",
        "election": {
            "title": "中共示例村支部委员会换届选举",
            "branch": "中共示例村支部",
            "town": "中共示例镇委员会",
            "term": "第十届",
            "date": date,
            "objections_to": "示例镇党委组织办",
        },
        "parameters": {
            "quorum_comparison": "GT",
            "threshold_base": "E",
            "write_in_requires_disapproval": False,
            "write_in_unmarked": "ignored",
            "unreadable_mark": "void_mark",
            "publicity_working_days": 5,
            "qualification_policy": "block",
            "secretary_new_max_age": 45,
            "secretary_new_min_education": "senior_high",
            "secretary_continuing_max_age": 50,
            "secretary_continuing_min_education": "junior_high",
        },
        "members": members,
        "exclusions": exclusions or [],
        "posts": posts,
        "secretary": {"elected_by": elected_by},
        "officials": {"scrutineers": [officials[0]], "tellers": [officials[1]]},
        "remote_voting": {"approved": [], "counts_toward_quorum": False},
    }


def _post(post: str, seats: int, candidates: list[str], margin: str = "20pct") -> dict[str, Any]:
    return {"post": post, "seats": seats, "candidates": candidates, "margin": margin}


# ------------------------------------------------------------------------------ scenarios
# A step is a tuple: ("checkin", [ids]), ("leave", [ids]), ("stock", post, round, count),
# ("issue", [plenary members]), ("return", n), ("enter", [marks | (marks, [write-ins])]),
# ("withdraw",), ("declare", reason, with_qr) (a ballot entered as invalid by decision, R8.5),
# ("close",), ("result",).


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    definition: dict[str, Any]
    steps: list[tuple[Any, ...]]
    scrutineers: int = 1
    start: dt.datetime = field(default=dt.datetime(2026, 9, 29, 9, 0, tzinfo=TZ))


def small_branch() -> Scenario:
    """10 members: 8 expected electors (M09 probationary, M10 excluded with both approvals)."""
    members = [_member(i, NAMES[i - 1]) for i in range(1, 9)]
    members.append(_member(9, NAMES[8], status="probationary"))
    members.append(_member(10, NAMES[9]))
    defn = _definition(
        members=members,
        date="2026-09-29",
        posts=[
            _post("committee", 3, ["M01", "M02", "M03", "M04"]),
            _post("secretary", 1, ["M01", "M02"]),
        ],
        elected_by="assembly",
        officials=("M07", "M08"),
        exclusions=[
            {
                "member": "M10",
                "category": "infirm",
                "higher_level_approval": "示组〔2026〕7号",
                "assembly_approval": "2026-09-01 支部党员大会决定",
            }
        ],
    )
    committee = [
        "ooox",
        "ooox",
        "oooo",  # over-vote: invalid (R8)
        "ooxo",
        "ooo-",
        ("oxox", ["陈九:o"]),  # a write-in of a probationary member: not eligible
        "oo?o",
        "xooo",
    ]
    steps: list[tuple[Any, ...]] = [
        ("checkin", [f"M{i:02d}" for i in range(1, 9)]),
        ("stock", "committee", 1, 10),
        ("issue", []),
        ("return", 8),
        ("enter", committee[:7]),
        ("enter", ["xxxx"]),
        ("withdraw",),  # the teller undoes a wrong entry
        ("enter", committee[7:]),
        ("close",),
        ("leave", ["M05"]),
        ("stock", "secretary", 1, 8),
        ("issue", []),
        ("return", 7),
        ("enter", ["ox", "ox", "ox", "xo", "ox", "--", "ox"]),
        ("close",),
        ("result",),
    ]
    return Scenario(
        "small-branch",
        "10 members, E = 8 (one probationary, one excluded); committee 3 of 4 in one round with an"
        " over-vote, an unreadable mark, a write-in and a withdrawn entry; a member leaves; the"
        " assembly elects the secretary; two scrutineers co-sign",
        defn,
        steps,
        scrutineers=2,
    )


def _committee_tie_and_runoff(
    secretary_candidates: list[str],
) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """9 members, committee 3 of 4: M03 and M04 tie for the third seat (5 each) and the runoff
    elects M03. The definition (the assembly elects the secretary from ``secretary_candidates``)
    and the steps up to the runoff's close."""
    members = [_member(i, NAMES[i - 1]) for i in range(1, 10)]
    defn = _definition(
        members=members,
        date="2026-12-15",
        posts=[
            _post("committee", 3, ["M01", "M02", "M03", "M04"]),
            _post("secretary", 1, secretary_candidates),
        ],
        elected_by="assembly",
        officials=("M09", "M08"),
    )
    steps: list[tuple[Any, ...]] = [
        ("checkin", [f"M{i:02d}" for i in range(1, 10)]),
        ("stock", "committee", 1, 9),
        ("issue", []),
        ("return", 9),
        ("enter", ["ooox"] * 4 + ["ooxo"] * 4 + ["xxoo"]),
        ("close",),
        ("stock", "committee", 2, 9),
        ("issue", []),
        ("return", 9),
        ("enter", ["ox"] * 5 + ["xo"] * 3 + ["-o"]),
        ("close",),
    ]
    return defn, steps


# The assembly of 9 elects the secretary, the first candidate 6 to 3, and the result is recorded.
_SECRETARY_ROUND_OF_NINE: list[tuple[Any, ...]] = [
    ("stock", "secretary", 1, 9),
    ("issue", []),
    ("return", 9),
    ("enter", ["ox"] * 6 + ["xo"] * 3),
    ("close",),
    ("result",),
]


def tie_runoff() -> Scenario:
    """9 members: a tie for the last committee seat and its runoff (R15), then the secretary."""
    defn, steps = _committee_tie_and_runoff(["M01", "M02"])
    return Scenario(
        "tie-runoff",
        "9 members, committee 3 of 4: M03 and M04 tie for the third seat (5 each) and the runoff"
        " elects M03; the assembly elects the secretary",
        defn,
        steps + _SECRETARY_ROUND_OF_NINE,
        start=dt.datetime(2026, 12, 15, 14, 0, tzinfo=TZ),
    )


def secretary_plenary() -> Scenario:
    """7 members: the committee elects the secretary in its plenary (R21), one candidate."""
    members = [_member(i, NAMES[i - 1]) for i in range(1, 8)]
    defn = _definition(
        members=members,
        date="2026-12-15",
        posts=[
            _post("committee", 3, ["M01", "M02", "M03", "M04"]),
            _post("secretary", 1, ["M01"], margin="none"),
        ],
        elected_by="committee",
        officials=("M07", "M06"),
    )
    steps: list[tuple[Any, ...]] = [
        ("checkin", [f"M{i:02d}" for i in range(1, 8)]),
        ("stock", "committee", 1, 7),
        ("issue", []),
        ("return", 7),
        ("enter", ["ooox", "ooxo", "ooox", "oxoo", "ooox", "ooox", "-oox"]),
        ("close",),
        ("officials", ["M02"], ["M06"]),  # a committee member who is not a candidate (R25.2)
        ("stock", "secretary", 1, 3),
        ("issue", ["M01", "M02", "M03"]),
        ("return", 3),
        ("enter", ["o", "o", "-"]),
        ("close",),
        ("result",),
    ]
    return Scenario(
        "secretary-plenary",
        "7 members, committee 3 of 4; the plenary's officials are recorded (scrutineer M02, a"
        " committee member who is not a candidate; teller M06); then the plenary of the 3 new"
        " committee members elects the secretary (one candidate, margin none)",
        defn,
        steps,
        start=dt.datetime(2026, 12, 15, 9, 30, tzinfo=TZ),
    )


def amended_secretary_list() -> Scenario:
    """9 members: secretary candidates M01, M04; M04 loses the committee runoff, the secretary
    round is blocked (R20) until the town signs M01, M02 (RS7)."""
    defn, steps = _committee_tie_and_runoff(["M01", "M04"])
    amend: tuple[Any, ...] = ("amend", "secretary", ["M01", "M02"], "示组〔2026〕11号")
    return Scenario(
        "amended-secretary-list",
        "9 members, committee 3 of 4 with a runoff that M04 loses; secretary candidate M04 drops"
        " out (R20), the town committee signs the amended list M01, M02 (RS7) and the assembly"
        " elects M01",
        defn,
        [*steps, amend, *_SECRETARY_ROUND_OF_NINE],
        start=dt.datetime(2026, 12, 15, 14, 0, tzinfo=TZ),
    )


def direct_election() -> Scenario:
    """10 members: a direct election (R22): committee and secretary ballots issued together."""
    members = [_member(i, NAMES[i - 1]) for i in range(1, 11)]
    defn = _definition(
        members=members,
        date="2026-12-15",
        posts=[
            _post("committee", 3, ["M01", "M02", "M03", "M04"]),
            _post("secretary", 1, ["M01", "M02"]),
        ],
        elected_by="direct",
        officials=("M09", "M10"),  # the teller M10 arrives late; a teller need not be present
    )
    steps: list[tuple[Any, ...]] = [
        ("checkin", [f"M{i:02d}" for i in range(1, 10)]),
        ("stock", "committee", 1, 10),
        ("stock", "secretary", 1, 10),
        ("issue", []),  # the joint opening: committee and secretary round 1, one present count
        ("return", 9),
        ("return", 9, "secretary"),
        ("checkin", ["M10"]),  # arrives late: no change to the joint opening's present
        ("enter", ["oxoo"] * 8 + ["ooox"]),
        ("close",),
        ("enter", ["ox"] * 6 + ["xo"] * 3),
        ("close",),
        ("result",),
    ]
    return Scenario(
        "direct-election",
        "10 members, E = 10, elected_by direct: one opening issues the committee and secretary"
        " ballots to the same 9 present; the committee (counted first) elects M01, M03, M04; M02,"
        " not elected to it, drops out of the secretary count and M01 is secretary",
        defn,
        steps,
        start=dt.datetime(2026, 12, 15, 10, 0, tzinfo=TZ),
    )


def invalid_by_decision() -> Scenario:
    """The small branch's electors; two committee ballots entered as invalid by decision (R8.5)."""
    members = [_member(i, NAMES[i - 1]) for i in range(1, 9)]
    defn = _definition(
        members=members,
        date="2026-09-29",
        posts=[
            _post("committee", 3, ["M01", "M02", "M03", "M04"]),
            _post("secretary", 1, ["M01", "M02"]),
        ],
        elected_by="assembly",
        officials=("M07", "M08"),
        exclusions=[],
    )
    steps: list[tuple[Any, ...]] = [
        ("checkin", [f"M{i:02d}" for i in range(1, 9)]),
        ("stock", "committee", 1, 10),
        ("issue", []),
        ("return", 8),
        ("enter", ["ooox", "ooox", "ooox"]),
        ("declare", "identifying_marks", True),  # the paper's QR is scanned: its id is used up
        ("enter", ["ooox", "ooox", "oxoo"]),
        ("declare", "not_official_stock", False),  # a paper without the stock's QR
        ("close",),
        ("double", True),  # the station turns double entry on (spec/log.md §2.3)
        ("stock", "secretary", 1, 10),
        ("issue", []),
        ("return", 8),
        # Two names on the secretary ballot's one write-in row: one invalid ballot (R9.5).
        ("enter", ["ox", "ox", "ox", "ox", "ox", "ox", "xo", ("--", ["无名甲", "无名乙"])]),
        ("close",),
        ("double", False),
        ("result",),
    ]
    return Scenario(
        "invalid-by-decision",
        "8 electors; two committee ballots entered as invalid by the tellers' decision, confirmed"
        " by a scrutineer (R8.5): one with identifying marks (its QR scanned), one not of the"
        " official stock (no QR); 6 valid, 2 invalid; a secretary ballot with more write-ins than"
        " rows is one invalid ballot (R9.5), entered with double entry on (double_entry.set on"
        " after the committee count, off after the secretary count)",
        defn,
        steps,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "small-branch": small_branch,
    "tie-runoff": tie_runoff,
    "secretary-plenary": secretary_plenary,
    "amended-secretary-list": amended_secretary_list,
    "direct-election": direct_election,
    "invalid-by-decision": invalid_by_decision,
}


def ballot_id(scenario: str, post: str, rnd: int, i: int) -> bytes:
    return hashlib.sha256(f"bundle-vector/{scenario}/{post}-{rnd}/{i}".encode()).digest()[:16]


@contextlib.contextmanager
def fixed_clock(start: dt.datetime) -> Iterator[Callable[[], dt.datetime]]:
    """Replace ``tally.election_log._now`` by a clock that moves one minute per reading."""
    ticks = iter(range(100_000))

    def now() -> dt.datetime:
        return start + dt.timedelta(minutes=next(ticks))

    saved = tally.election_log._now
    tally.election_log._now = now
    try:
        yield now
    finally:
        tally.election_log._now = saved


@contextlib.contextmanager
def fixed_salts(scenario: str) -> Iterator[None]:
    """Replace ``tally.election_log._salt`` (the entries' secret salts, spec/log.md §1) by salts
    derived from the scenario's name and a counter: the vectors are reproducible; the producer
    itself always draws them from ``secrets``."""
    counter = iter(range(1_000_000))

    def salt() -> bytes:
        return hashlib.sha256(f"bundle-vector/{scenario}/salt/{next(counter)}".encode()).digest()

    saved = tally.election_log._salt
    tally.election_log._salt = salt
    try:
        yield
    finally:
        tally.election_log._salt = saved


def signed_manifest_bytes(definition: dict[str, Any], scrutineers: int) -> bytes:
    manifest = build_manifest(
        parse_definition_data(definition),
        work_group_key=pubdoc(WORK_GROUP),
        scrutineer_keys=tuple(pubdoc(s) for s in SCRUTINEERS[:scrutineers]),
    )
    return sign_manifest(manifest, TOWN)


def run_scenario(sc: Scenario, workdir: Path) -> Files:
    """Drive the producer through the scenario and return its bundle files."""
    signed = signed_manifest_bytes(sc.definition, sc.scrutineers)
    qrs: dict[tuple[str, int], list[str]] = {}
    with fixed_clock(sc.start) as now, fixed_salts(sc.name):
        s = ElectionSession.init(workdir / "election.db", signed, WORK_GROUP, now=now())
        eid = s.manifest.election_id
        for step in sc.steps:
            op = step[0]
            if op == "checkin":
                s.check_in(step[1])
            elif op == "leave":
                s.leave(step[1])
            elif op == "stock":
                post, rnd, count = step[1], step[2], step[3]
                ids = [ballot_id(sc.name, post, rnd, i) for i in range(count)]
                assert len({ballot_code(i) for i in ids}) == count, "ballot codes repeat"
                payloads = tuple(
                    sign_payload(
                        election_id=eid,
                        kind=PAPER[post],
                        round_number=rnd,
                        ballot_id=i,
                        signer=WORK_GROUP,
                    )
                    for i in ids
                )
                stock = BallotStock(
                    election_id=eid, kind=PAPER[post], round_number=rnd, payloads=payloads
                )
                s.commit_stock(stock, signer=WORK_GROUP)
                qrs[(post, rnd)] = [encode_qr_text(p) for p in payloads]
            elif op == "issue":
                s.issue(count=None, signer=WORK_GROUP, present_members=step[1])
            elif op == "return":
                held = PostKind(step[2]) if len(step) > 2 else None  # a held round (R22.2)
                s.return_ballots(step[1], signer=WORK_GROUP, post=held)
            elif op == "enter":
                cur = s.meeting.current
                assert cur is not None
                pool = qrs[(cur.spec.post.value, cur.spec.number)]
                items = []
                for item in step[1]:
                    marks, write_ins = (item, []) if isinstance(item, str) else item
                    items.append(EntryInput(qr=pool.pop(0), marks=marks, write_ins=write_ins))
                s.enter(items)
            elif op == "officials":
                s.change_officials(step[1], step[2])
            elif op == "double":
                s.set_double_entry(step[1], actor="chair")
            elif op == "amend":
                request, _, _ = s.amend_request(PostKind(step[1]), step[2], approval=step[3])
                s.amend_candidates(sign_amended_list(request, TOWN))
            elif op == "withdraw":
                cur = s.meeting.current
                assert cur is not None
                s.withdraw(cur.entered[-1].ballot_id)
            elif op == "declare":
                cur = s.meeting.current
                assert cur is not None
                pool = qrs[(cur.spec.post.value, cur.spec.number)]
                s.declare_invalid(
                    step[1], confirmer=SCRUTINEERS[0], qr=pool.pop(0) if step[2] else None
                )
            elif op == "close":
                s.close(signer=WORK_GROUP)
            elif op == "result":
                s.record_result(signer=WORK_GROUP, calendar=load_calendar(None))
            else:  # pragma: no cover - a typo in a scenario
                raise ValueError(op)
        for scrutineer in SCRUTINEERS[: sc.scrutineers]:
            s.cosign(scrutineer)
        files = bundle_files(s, load_calendar(None))
        s.store.close()
    return files


# ------------------------------------------------------------------------------ re-deriving


def entries_of(files: Files) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["log.jsonl"].splitlines()]


def reindex(files: Files, **override: Any) -> Files:
    """Recompute ``index.json`` over the other files (spec/bundle.md §2)."""
    rest = {p: b for p, b in files.items() if p != "index.json"}
    doc = {
        "format": "bundle-index/1",
        "election_id": json.loads(files["result.json"])["election_id"],
        "entries": files["log.jsonl"].count(b"\n"),
        "files": [
            {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
            for p, b in sorted(rest.items())
        ],
    }
    doc.update(override)
    return {**rest, "index.json": jcs(doc)}


def _reason(entry: dict[str, Any]) -> str | None:
    t, b = entry["type"], entry["body"]
    if t == "election.opened":
        return "opened"
    if t == "stock.committed":
        return f"stock {b['post']} {b['round']}"
    if t == "round.opened":
        return f"round-opened {b['post']} {b['round']}"
    if t in ("round.counted", "round.void"):
        return f"round-closed {b['post']} {b['round']}"
    if t == "election.result":
        return "result"
    return None


def resign_manifest(files: Files, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The signed manifest with ``edit`` applied to its ``manifest``, re-signed by the town key."""
    doc: dict[str, Any] = json.loads(files["manifest.json"])
    edit(doc["manifest"])
    doc["signature"] = base64.b64encode(TOWN.sign(MANIFEST_DOMAIN, jcs(doc["manifest"]))).decode()
    doc["summary_signature"] = _summary_signature(TOWN, doc)
    return doc


def _summary_signature(town: keys.InMemorySigner, doc: dict[str, Any]) -> str:
    """The town's signature on the public summary of a signed manifest (spec/manifest.md §6)."""
    summary = public_summary(doc["manifest"], doc["town_key"])
    return base64.b64encode(town.sign(PUBLIC_SUMMARY_DOMAIN, jcs(summary))).decode()


def rebuild(
    files: Files,
    entries: list[dict[str, Any]] | None = None,
    *,
    signed_manifest: dict[str, Any] | None = None,
    raw: Callable[[dict[str, Any]], bytes] = jcs,
    prev: Callable[[int, str], str] = lambda _seq, p: p,
    qr_signer: Callable[[dict[str, Any]], keys.InMemorySigner] = lambda _body: WORK_GROUP,
    confirmer: Callable[[dict[str, Any]], keys.InMemorySigner] | None = None,
) -> Files:
    """Every file derived from the manifest and the log, recomputed as the producer writes them.

    ``entries`` (default: the bundle's) have their ``seq``, ``prev``, election id and QR payloads
    recomputed; ``raw`` serialises an entry, ``prev`` may replace a computed link, and
    ``qr_signer`` picks the key that signs a ballot's QR payload, ``confirmer`` the key that
    signs a ballot declared invalid (default: the manifest's scrutineer the entry names).
    """
    sm = signed_manifest or json.loads(files["manifest.json"])
    manifest = sm["manifest"]
    eid = hashlib.sha256(MANIFEST_DOMAIN + b"\x00" + jcs(manifest)).digest()
    scrutineers = [
        next(s for s in SCRUTINEERS if pubdoc(s) == k) for k in manifest["keys"]["scrutineers"]
    ]
    out: Files = {"manifest.json": jcs(sm)}
    stocks: dict[tuple[str, int], list[bytes]] = {}
    for path, data in files.items():
        if path.startswith("stocks/"):
            doc = json.loads(data)
            post = path[len("stocks/") : -len(".json")].rsplit("-", 1)[0]
            stocks[(post, doc["round"])] = [bytes.fromhex(h) for h in doc["ballot_ids"]]
    tree = MerkleTree()
    lines: list[bytes] = []
    checkpoints: list[dict[str, Any]] = []
    last_size = 0
    per_round: dict[tuple[str, int], list[dict[str, Any]]] = {}
    outcomes: list[dict[str, Any]] = []
    for seq, original in enumerate(copy.deepcopy(entries or entries_of(files))):
        e = dict(original)
        b = e["body"]
        e["seq"] = seq
        e["prev"] = prev(seq, eid.hex() if seq == 0 else tree.leaf_hash(len(tree) - 1).hex())
        if e["type"] == "election.opened":
            b["election_id"] = eid.hex()
        if e["type"] == "stock.committed":
            key = (b["post"], b["round"])
            payloads = tuple(
                sign_payload(
                    election_id=eid,
                    kind=PAPER[key[0]],
                    round_number=key[1],
                    ballot_id=i,
                    signer=WORK_GROUP,
                )
                for i in stocks[key]
            )
            stock = BallotStock(
                election_id=eid, kind=PAPER[key[0]], round_number=key[1], payloads=payloads
            )
            out[f"stocks/{key[0]}-{key[1]}.json"] = stock_list_json(stock)
            b["commitment"] = json.loads(out[f"stocks/{key[0]}-{key[1]}.json"])["commitment"]
        if e["type"] == "ballot.entered":
            payload = sign_payload(
                election_id=eid,
                kind=PAPER[b["post"]],
                round_number=b["round"],
                ballot_id=bytes.fromhex(b["ballot_id"]),
                signer=qr_signer(b),
            )
            b["qr"] = encode_qr_text(payload)
            per_round.setdefault((b["post"], b["round"]), []).append({"seq": seq, **b})
        if e["type"] == "ballot.declared_invalid":
            if b["ballot_id"]:
                payload = sign_payload(
                    election_id=eid,
                    kind=PAPER[b["post"]],
                    round_number=b["round"],
                    ballot_id=bytes.fromhex(b["ballot_id"]),
                    signer=qr_signer(b),
                )
                b["qr"] = encode_qr_text(payload)
            by_name = {signer_name(x.public_key): x for x in scrutineers}
            key = confirmer(b) if confirmer else by_name.get(b["scrutineer"], SCRUTINEERS[0])
            b["scrutineer"] = signer_name(key.public_key)
            b["signature"] = base64.b64encode(
                key.sign(INVALID_DECISION_DOMAIN, invalid_decision_message(eid, seq, b))
            ).decode()
            per_round.setdefault((b["post"], b["round"]), []).append({"seq": seq, **b})
        if e["type"] == "ballot.withdrawn":
            per_round[(b["post"], b["round"])].pop()
        if e["type"] in ("round.counted", "round.void"):
            outcomes.append({"type": e["type"], **b})
        line = raw(e)
        lines.append(line)
        tree.append(leaf_hash(line))
        reason = _reason(e)
        if reason is None:
            continue
        body = body_text(CheckpointBody(eid, len(tree), tree.root(), reason))
        signers = [WORK_GROUP]
        if reason.startswith("round-closed") or reason == "result":
            signers += scrutineers
        text = body + "\n" + "".join(signature_line(s, body)[1] for s in signers)
        proof = tree.consistency_proof(last_size, len(tree)) if 0 < last_size < len(tree) else ()
        checkpoints.append(
            {"text": text, "consistency": [base64.b64encode(h).decode() for h in proof]}
        )
        last_size = len(tree)
    out["log.jsonl"] = b"".join(x + b"\n" for x in lines)
    out["checkpoints.json"] = jcs({"format": "checkpoints/1", "checkpoints": checkpoints})
    records = sorted((r for rs in per_round.values() for r in rs), key=lambda r: r["seq"])
    out["ballots.jsonl"] = b"".join(
        jcs({"format": "ballot-record/1", **r}) + b"\n" for r in records
    )
    out["outcomes.json"] = jcs({"format": "outcomes/1", "rounds": outcomes})
    result = json.loads(files["result.json"])
    last = json.loads(lines[-1])
    if last["type"] == "election.result":
        result.update({k: last["body"][k] for k in ("elected", "publicity_start", "publicity_end")})
    result["election_id"] = eid.hex()
    result["working_days"] = manifest["definition"]["parameters"]["publicity_working_days"]
    result["checkpoint"] = checkpoints[-1]["text"]
    out["result.json"] = jcs(result)
    return reindex(out)


# ------------------------------------------------------------------------------ mutations


def _find(entries: list[dict[str, Any]], etype: str, n: int = 0, **match: Any) -> int:
    hits = [
        i
        for i, e in enumerate(entries)
        if e["type"] == etype and all(e["body"].get(k) == v for k, v in match.items())
    ]
    return hits[n]


def _edit_json(files: Files, path: str, edit: Callable[[Any], None]) -> Files:
    doc = json.loads(files[path])
    edit(doc)
    return {**files, path: jcs(doc)}


def _log_edit(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[Files], Files]:
    """A dishonest producer: edit the log entries, then re-derive and re-sign everything."""

    def mutate(files: Files) -> Files:
        entries = entries_of(files)
        edit(entries)
        return rebuild(files, entries)

    return mutate


def _manifest_edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[Files], Files]:
    """A manifest signed by the town key with ``edit`` applied; the whole bundle re-derived."""

    def mutate(files: Files) -> Files:
        return rebuild(files, signed_manifest=resign_manifest(files, edit))

    return mutate


def m_index_hash(files: Files) -> Files:
    def edit(d: Any) -> None:
        f = next(x for x in d["files"] if x["path"] == "log.jsonl")
        f["sha256"] = hashlib.sha256(b"not the log").hexdigest()

    return _edit_json(files, "index.json", edit)


def m_extra_file(files: Files) -> Files:
    return reindex({**files, "notes.txt": "计票备忘\n".encode()})


def m_manifest_signature(files: Files) -> Files:
    def edit(d: Any) -> None:
        sig = bytearray(base64.b64decode(d["signature"]))
        sig[10] ^= 0x01
        d["signature"] = base64.b64encode(bytes(sig)).decode()

    return reindex(_edit_json(files, "manifest.json", edit))


def m_other_town(files: Files) -> Files:
    doc = json.loads(files["manifest.json"])
    doc["town_key"] = pubdoc(OTHER_TOWN)
    doc["signature"] = base64.b64encode(
        OTHER_TOWN.sign(MANIFEST_DOMAIN, jcs(doc["manifest"]))
    ).decode()
    doc["summary_signature"] = _summary_signature(OTHER_TOWN, doc)
    return reindex({**files, "manifest.json": jcs(doc)})


def m_summary_other_content(files: Files) -> Files:
    """The town signed a public summary that is not the manifest's: a candidate's name and the
    committee's candidate order differ from the manifest (what a phone would have been shown)."""
    doc = json.loads(files["manifest.json"])
    summary = public_summary(doc["manifest"], doc["town_key"])
    cands = summary["posts"][0]["candidates"]
    cands[0], cands[1] = cands[1], cands[0]
    cands[0]["name"] = "王某某"
    sig = TOWN.sign(PUBLIC_SUMMARY_DOMAIN, jcs(summary))
    doc["summary_signature"] = base64.b64encode(sig).decode()
    return reindex({**files, "manifest.json": jcs(doc)})


def _unknown_field(man: dict[str, Any]) -> None:
    man["definition"]["election"]["venue"] = "村委会会议室"


def _look_alike_id(man: dict[str, Any]) -> None:
    first = man["definition"]["members"][0]
    twin = {**first, "id": "\u041c" + first["id"][1:], "status": "probationary"}
    man["definition"]["members"].append(twin)  # Cyrillic М: looks like the first member's id


def _exclusion_unapproved(man: dict[str, Any]) -> None:
    man["definition"]["exclusions"][0]["assembly_approval"] = ""


def _margin_waived(man: dict[str, Any]) -> None:
    man["definition"]["posts"][0]["margin"] = "none"


def _exclusion_never_elector(man: dict[str, Any]) -> None:
    man["definition"]["exclusions"][0]["category"] = "detained"


def _secretary_without_candidates(man: dict[str, Any]) -> None:
    man["definition"]["posts"][1].update({"candidates": [], "margin": "none"})


def m_broken_chain(files: Files) -> Files:
    target = 5

    def prev(seq: int, p: str) -> str:
        return hashlib.sha256(b"another entry").hexdigest() if seq == target else p

    return rebuild(files, prev=prev)


def m_non_canonical(files: Files) -> Files:
    def raw(e: dict[str, Any]) -> bytes:
        if e["seq"] == 3:
            return json.dumps(e, ensure_ascii=False, sort_keys=True).encode()
        return jcs(e)

    return rebuild(files, raw=raw)


def _salt_edit(seq: int, edit: Callable[[dict[str, Any]], None]) -> Callable[[Files], Files]:
    """Entry ``seq``'s salt (spec/log.md §1) edited by a dishonest producer: chain and
    checkpoints re-derived over the stored bytes, so that only V6's salt check fails."""

    def mutate(files: Files) -> Files:
        def raw(e: dict[str, Any]) -> bytes:
            if e["seq"] == seq:
                e = dict(e)
                edit(e)
            return jcs(e)

        return rebuild(files, raw=raw)

    return mutate


def _no_salt(e: dict[str, Any]) -> None:
    del e["salt"]


def _short_salt(e: dict[str, Any]) -> None:
    e["salt"] = e["salt"][:62]  # 31 bytes


def _uppercase_salt(e: dict[str, Any]) -> None:
    e["salt"] = e["salt"].upper()  # the same 32 bytes, spelled in a second form


def m_missing_scrutineer_line(files: Files) -> Files:
    def edit(d: Any) -> None:
        cp = next(c for c in d["checkpoints"] if "\nround-closed committee 1\n" in c["text"])
        head, _, lines = cp["text"].partition("\n\n")
        kept = [x for x in lines.splitlines(keepends=True) if "scrutineer:" not in x][:1]
        kept += [x for x in lines.splitlines(keepends=True) if "scrutineer:" in x][1:]
        cp["text"] = head + "\n\n" + "".join(kept)

    return reindex(_edit_json(files, "checkpoints.json", edit))


def m_checkpoint_root(files: Files) -> Files:
    def edit(d: Any) -> None:
        cp = next(c for c in d["checkpoints"] if "\nround-opened committee 1\n" in c["text"])
        origin, size, _root, reason = cp["text"].split("\n")[:4]
        wrong = base64.b64encode(hashlib.sha256(b"not the root").digest()).decode()
        body = f"{origin}\n{size}\n{wrong}\n{reason}\n"
        cp["text"] = body + "\n" + signature_line(WORK_GROUP, body)[1]

    return reindex(_edit_json(files, "checkpoints.json", edit))


def m_checkpoint_repeated(files: Files) -> Files:
    def edit(d: Any) -> None:
        cps = d["checkpoints"]
        i = next(k for k, c in enumerate(cps) if "\nround-closed committee 1\n" in c["text"])
        cps.insert(i + 1, {"text": cps[i]["text"], "consistency": []})

    return reindex(_edit_json(files, "checkpoints.json", edit))


def m_calendar_outside_window(files: Files) -> Files:
    def edit(d: Any) -> None:
        d["calendar"]["holidays"].remove(f"{d['publicity_start'][:4]}-01-01")

    return reindex(_edit_json(files, "result.json", edit))


def m_remote_casts_reason(files: Files) -> Files:
    def edit(d: Any) -> None:
        cps = d["checkpoints"]
        i = next(k for k, c in enumerate(cps) if "\nround-opened committee 1\n" in c["text"])
        origin, size, root, _reason = cps[i]["text"].split("\n")[:4]
        body = f"{origin}\n{size}\n{root}\nremote-casts\n"
        text = body + "\n" + signature_line(WORK_GROUP, body)[1]
        cps.insert(i + 1, {"text": text, "consistency": []})

    return reindex(_edit_json(files, "checkpoints.json", edit))


def m_stock_commitment(files: Files) -> Files:
    def edit(d: Any) -> None:
        d["commitment"] = hashlib.sha256(b"another stock").hexdigest()

    return reindex(_edit_json(files, "stocks/secretary-1.json", edit))


def m_forged_ballot(files: Files) -> Files:
    entries = entries_of(files)
    forged = entries[_find(entries, "ballot.entered", 2, post="committee")]["body"]["ballot_id"]

    def signer(body: dict[str, Any]) -> keys.InMemorySigner:
        return OTHER_WORK_GROUP if body["ballot_id"] == forged else WORK_GROUP

    return rebuild(files, qr_signer=signer)


def _duplicate_ballot(entries: list[dict[str, Any]]) -> None:
    first = entries[_find(entries, "ballot.entered", 0, post="secretary")]["body"]
    second = entries[_find(entries, "ballot.entered", 1, post="secretary")]["body"]
    second["ballot_id"] = first["ballot_id"]


def _non_elector_checks_in(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "election.result")
    entries.insert(i, {**entries[i], "type": "member.checked_in", "body": {"member": "M09"}})


def _stock_after_issue(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "stock.committed", 0, post="secretary")
    stock = entries.pop(i)
    j = _find(entries, "ballots.issued", 0, post="secretary")
    entries.insert(j + 1, {**stock, "at": entries[j]["at"]})


def _issued_not_present(entries: list[dict[str, Any]]) -> None:
    entries[_find(entries, "ballots.issued", 0, post="committee")]["body"]["count"] -= 1


def _count_differs(entries: list[dict[str, Any]]) -> None:
    body = entries[_find(entries, "round.counted", 0, post="committee")]["body"]
    body["valid_ballots"] += 1
    body["invalid_ballots"] -= 1


def _reduction_without_shortfall(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "election.result")
    entries.insert(
        i,
        {
            **entries[i],
            "type": "seats.reduced",
            "body": {
                "post": "committee",
                "seats": 2,
                "assembly_consent": 7,
                "town_agreement": "示组〔2026〕9号",
            },
        },
    )


def _amended_by_other_town(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "candidates.amended")
    b = entries[i]["body"]
    doc = {"format": "amended-list/1", "election_id": entries[0]["body"]["election_id"], **b}
    del doc["town_signature"]
    sig = OTHER_TOWN.sign(b"branch-election/amended-list/1", jcs(doc))
    b["town_signature"] = base64.b64encode(sig).decode()


def _result_differs(entries: list[dict[str, Any]]) -> None:
    entries[-1]["body"]["elected"]["secretary"] = ["M02"]


def _publicity_end(entries: list[dict[str, Any]]) -> None:
    entries[-1]["body"]["publicity_end"] = "2026-10-09"  # counts National Day as working days


def m_result_checkpoint(files: Files) -> Files:
    cps = json.loads(files["checkpoints.json"])["checkpoints"]
    return reindex(
        _edit_json(files, "result.json", lambda d: d.__setitem__("checkpoint", cps[-2]["text"]))
    )


def m_remote_ballots(files: Files) -> Files:
    return reindex(_edit_json(files, "result.json", lambda d: d.__setitem__("remote_ballots", 1)))


def _secretary_before_runoff(entries: list[dict[str, Any]]) -> None:
    start = _find(entries, "stock.committed", 0, post="secretary")
    end = _find(entries, "round.counted", 0, post="secretary")
    block = entries[start : end + 1]
    del entries[start : end + 1]
    stamps = sorted(e["at"] for e in entries + block)
    at = _find(entries, "stock.committed", 0, post="committee", round=2)
    entries[at:at] = block
    for e, stamp in zip(entries, stamps, strict=True):  # keep the clock running forwards
        e["at"] = stamp


def _plenary_outsider(entries: list[dict[str, Any]]) -> None:
    body = entries[_find(entries, "round.opened", 0, post="secretary")]["body"]
    body["present_members"] = ["M01", "M02", "M05"]  # M05 was not elected to the committee


def _scrutineer_leaves(entries: list[dict[str, Any]]) -> None:
    entries[_find(entries, "member.left")]["body"]["member"] = "M07"  # the scrutineer, not M05


def _dropped_counted(entries: list[dict[str, Any]]) -> None:
    body = entries[_find(entries, "round.counted", 0, post="secretary")]["body"]
    del body["dropped"]
    body["approvals"].append({"member": "M02", "approvals": 3})


def _joint_opening_split(entries: list[dict[str, Any]]) -> None:
    """The secretary's round 1 opened, issued and returned on its own after the committee count."""
    block = [
        entries.pop(_find(entries, t, 0, post="secretary"))
        for t in ("round.opened", "ballots.issued", "ballots.returned")
    ]
    stamps = sorted(e["at"] for e in entries + block)
    at = _find(entries, "round.counted", 0, post="committee") + 1
    entries[at:at] = block
    for e, stamp in zip(entries, stamps, strict=True):  # keep the clock running forwards
        e["at"] = stamp


# The invalid-by-decision scenario: entry 0, 8 check-ins, stock, opened, issued, returned, 3
# ballots, then the first ballot declared invalid; the committee's round.counted follows 3 ballots
# and the second declaration.
SEQ_DECLARED = 16
SEQ_COUNTED = 21
SEQ_DOUBLE_ON = 22
SEQ_SECRETARY_COUNTED = 35


def _double_entry_unchanged(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "double_entry.set")
    entries.insert(i + 1, {**entries[i], "body": {"mode": "on"}})


def _confirmed_by_outsider(files: Files) -> Files:
    outsider = keys.InMemorySigner.from_seed(
        keys.Role.SCRUTINEER, "不在清单的人", _seed("outside scrutineer")
    )
    return rebuild(files, confirmer=lambda _body: outsider)


def _unknown_invalid_reason(entries: list[dict[str, Any]]) -> None:
    entries[_find(entries, "ballot.declared_invalid")]["body"]["reason"] = "torn"


def _extra_write_ins_counted_valid(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "round.counted", post="secretary")
    entries[i]["body"].update({"valid_ballots": 8, "invalid_ballots": 0})


def _declared_counted_valid(entries: list[dict[str, Any]]) -> None:
    i = _find(entries, "round.counted", post="committee")
    entries[i]["body"].update({"valid_ballots": 8, "invalid_ballots": 0})


def _returned_differs(entries: list[dict[str, Any]]) -> None:
    entries[_find(entries, "ballots.returned", 0, post="secretary")]["body"]["count"] -= 1


@dataclass(frozen=True)
class Case:
    """One invalid vector: a mutation of a valid bundle and what each implementation says.

    ``code`` is a finding code the verifier reports under the clause; ``manifest`` is what
    ``tally.manifest_io.load_signed_manifest`` raises (and the ``parse_manifest`` problem code),
    ``log`` what the producer's replay (``parse_entry``/``apply_entry``) raises and at which seq;
    ``None`` means the producer accepts it, and ``note`` says why that is expected.
    """

    name: str
    base: str
    description: str
    mutate: Callable[[Files], Files]
    failed: tuple[str, ...]
    code: str
    others_pass: bool = True
    manifest: tuple[str, str | None] | None = None
    log: tuple[str, int] | None = None
    note: str = ""


SB, TR, SP, AL, DE, ID = (
    "small-branch",
    "tie-runoff",
    "secretary-plenary",
    "amended-secretary-list",
    "direct-election",
    "invalid-by-decision",
)
NOT_IN_LOG = "the log is unchanged: the producer's replay covers the manifest and the log only"
CASES: tuple[Case, ...] = (
    Case(
        "V11-official-not-present",
        SB,
        "the scrutineer M07 leaves before the secretary round (instead of M05), which opens anyway",
        _log_edit(_scrutineer_leaves),
        ("V11",),
        "official.not_present",
        log=("official.not_present", 26),
    ),
    Case(
        "V14-amended-list-other-town",
        AL,
        "the amended secretary list is signed by another town committee's key, not the manifest's",
        _log_edit(_amended_by_other_town),
        ("V14",),
        "amend.not_signed",
        log=("amend.not_signed", 38),
    ),
    Case(
        "V1-index-hash",
        SB,
        "index.json lists a wrong SHA-256 for log.jsonl (tampering after publication)",
        m_index_hash,
        ("V1",),
        "bundle.hash_mismatch",
        note=NOT_IN_LOG,
    ),
    Case(
        "V1-extra-file",
        SB,
        "a file outside spec/bundle.md §1 (notes.txt), listed in a re-hashed index",
        m_extra_file,
        ("V1",),
        "index.unknown_file",
        note=NOT_IN_LOG,
    ),
    Case(
        "V2-bad-signature",
        SB,
        "one bit of the town committee's manifest signature flipped",
        m_manifest_signature,
        ("V2",),
        "manifest.signature",
        others_pass=False,
        manifest=("manifest.signature", None),
    ),
    Case(
        "V2-other-town-key",
        SB,
        "the manifest signed by another town committee key, not the trust root in town.pub",
        m_other_town,
        ("V2",),
        "manifest.town_key",
        others_pass=False,
        note="load_signed_manifest takes no trust root and accepts any town_committee key;"
        " spec/manifest.md §4 requires comparing it with the trust root the user supplied",
    ),
    Case(
        "V19-summary-other-content",
        SB,
        "the town's summary_signature is over a public summary other than the manifest's"
        " derivation (committee candidates swapped, one renamed): what the phone would show",
        m_summary_other_content,
        ("V19",),
        "manifest.summary_signature",
        manifest=("manifest.summary_signature", None),
    ),
    Case(
        "V3-unknown-field",
        SB,
        "an unknown member election.venue in the definition; manifest re-signed, bundle re-derived",
        _manifest_edit(_unknown_field),
        ("V3",),
        "field.unknown",
        others_pass=False,
        manifest=("definition.invalid", "field.unknown"),
    ),
    Case(
        "V3-member-id-look-alike",
        SB,
        "a probationary member appended whose id is the first member's with a Cyrillic М (U+041C):"
        " ids are ASCII of one pattern (spec/definition.md D-5.3); manifest re-signed, bundle"
        " re-derived",
        _manifest_edit(_look_alike_id),
        ("V3",),
        "members.id_format",
        others_pass=False,
        manifest=("definition.invalid", "members.id_format"),
    ),
    Case(
        "V4-exclusion-without-approval",
        SB,
        "M10's exclusion lacks the assembly approval (R3); manifest re-signed, bundle re-derived",
        _manifest_edit(_exclusion_unapproved),
        ("V4",),
        "exclusion.approval_missing",
        manifest=("definition.invalid", "exclusion.approval_missing"),
    ),
    Case(
        "V4-exclusion-category-not-elector",
        SB,
        "M10's exclusion has category detained: such people are never electors (R3.4); manifest"
        " re-signed, bundle re-derived",
        _manifest_edit(_exclusion_never_elector),
        ("V4",),
        "exclusion.category_not_elector",
        manifest=("definition.invalid", "exclusion.category_not_elector"),
    ),
    Case(
        "V5-too-few-candidates",
        SB,
        "the secretary post with no candidate and margin none: fewer candidates than seats is its"
        " own problem (R19); manifest re-signed, bundle re-derived; the secretary round logged"
        " could never open (V11)",
        _manifest_edit(_secretary_without_candidates),
        ("V5", "V11"),
        "post.too_few_candidates",
        manifest=("definition.invalid", "post.too_few_candidates"),
    ),
    Case(
        "V5-committee-margin-waived",
        SB,
        "the committee post's margin set to none (R18: it cannot be waived); manifest re-signed,"
        " bundle re-derived",
        _manifest_edit(_margin_waived),
        ("V5",),
        "post.margin",
        manifest=("definition.invalid", "post.margin"),
    ),
    Case(
        "V6-broken-chain",
        SB,
        "entry 5's prev is not the leaf hash of entry 4; checkpoints re-signed over the stored"
        " bytes",
        m_broken_chain,
        ("V6",),
        "entry.prev",
        others_pass=False,
        log=("log.chain", 5),
    ),
    Case(
        "V6-non-canonical-entry",
        SB,
        "entry 3 stored as sorted JSON with spaces, not JCS; chain and checkpoints computed over"
        " the stored bytes",
        m_non_canonical,
        ("V6",),
        "json.not_canonical",
        others_pass=False,
        log=("log.not_canonical", 3),
    ),
    Case(
        "V6-salt-missing",
        SB,
        "entry 1 (a check-in) carries no salt (spec/log.md §1: every entry has one); chain and"
        " checkpoints computed over the stored bytes",
        _salt_edit(1, _no_salt),
        ("V6",),
        "entry.salt_missing",
        others_pass=False,
        log=("log.salt", 1),
    ),
    Case(
        "V6-salt-short",
        SB,
        "entry 1's salt is 31 bytes (62 hex digits), not 32; chain and checkpoints computed over"
        " the stored bytes",
        _salt_edit(1, _short_salt),
        ("V6",),
        "entry.salt",
        others_pass=False,
        log=("log.salt", 1),
    ),
    Case(
        "V6-salt-uppercase",
        SB,
        "entry 1's salt written in uppercase hex (the same bytes in a second spelling, not the"
        " one canonical form); chain and checkpoints computed over the stored bytes",
        _salt_edit(1, _uppercase_salt),
        ("V6",),
        "entry.salt",
        others_pass=False,
        log=("log.salt", 1),
    ),
    Case(
        "V7-missing-scrutineer-signature",
        SB,
        "the first scrutineer's line removed from the round-closed committee 1 checkpoint",
        m_missing_scrutineer_line,
        ("V7",),
        "checkpoint.scrutineer",
        note=NOT_IN_LOG,
    ),
    Case(
        "V7-wrong-root",
        SB,
        "the round-opened committee 1 checkpoint carries a wrong root, validly signed by the work"
        " group",
        m_checkpoint_root,
        ("V7",),
        "checkpoint.root",
        note=NOT_IN_LOG,
    ),
    Case(
        "V7-repeated-checkpoint",
        SB,
        "the round-closed committee 1 checkpoint listed twice (same text, empty consistency proof"
        " between equal sizes)",
        m_checkpoint_repeated,
        ("V7",),
        "checkpoint.repeated",
        note=NOT_IN_LOG,
    ),
    Case(
        "V7-remote-casts-reason",
        SB,
        "a checkpoint with the reason remote-casts (remote ballots version 1; version 2 makes no"
        " checkpoint inside the remote window, RV-4.3) over the round-opened committee 1 size,"
        " validly signed by the work group",
        m_remote_casts_reason,
        ("V7",),
        "checkpoint.malformed",
        note=NOT_IN_LOG,
    ),
    Case(
        "V8-stock-commitment",
        SB,
        "stocks/secretary-1.json carries a commitment that does not recompute from its ids",
        m_stock_commitment,
        ("V8",),
        "stock.commitment",
        note=NOT_IN_LOG + " (the shell checks a stock's commitment when it commits it)",
    ),
    Case(
        "V9-forged-ballot-signature",
        SB,
        "the third committee ballot's QR is signed by a key that is not the work group's; its"
        " ballot id is in the stock",
        m_forged_ballot,
        ("V9",),
        "qr.bad_signature",
        note="apply_entry holds no key: the QR signature is checked when a ballot is entered"
        " (ElectionSession.ballot_body), not when a stored log is replayed",
    ),
    Case(
        "V9-duplicate-ballot",
        SB,
        "the second secretary ballot reuses the first one's ballot id",
        _log_edit(_duplicate_ballot),
        ("V9",),
        "ballot.duplicate",
        log=("enter.duplicate", 30),
    ),
    Case(
        "V10-non-elector-checks-in",
        SB,
        "M09 (probationary, not in E) checks in before the result",
        _log_edit(_non_elector_checks_in),
        ("V10",),
        "attendance.not_elector",
        log=("checkin.not_elector", 37),
    ),
    Case(
        "V11-round-out-of-order",
        TR,
        "the secretary round is held while the committee's runoff is due (RS sequence)",
        _log_edit(_secretary_before_runoff),
        ("V11",),
        "round.not_due",
        log=("round.not_due", 25),
    ),
    Case(
        "V11-plenary-outsider",
        SP,
        "the plenary secretary round lists M05, not an elected committee member, as present (R21)",
        _log_edit(_plenary_outsider),
        ("V11",),
        "round.present_members",
        log=("plenary.not_member", 22),
    ),
    Case(
        "V11-stock-after-issue",
        SB,
        "the secretary stock is committed after its ballots were issued",
        _log_edit(_stock_after_issue),
        ("V11",),
        "stock.missing",
        log=("issue.no_stock", 26),
    ),
    Case(
        "V12-issued-not-present",
        SB,
        "7 committee ballots issued with 8 electors present (R12)",
        _log_edit(_issued_not_present),
        ("V12",),
        "round.issued_not_present",
        log=("issue.not_present", 11),
    ),
    Case(
        "V9-invalid-ballot-unconfirmed",
        ID,
        "a ballot declared invalid is confirmed by a scrutineer key that the manifest does not"
        " list (R8.5)",
        _confirmed_by_outsider,
        ("V9",),
        "ballot.invalid_confirmation",
        log=("invalid.confirmation", SEQ_DECLARED),
    ),
    Case(
        "V9-invalid-ballot-unknown-reason",
        ID,
        "a ballot declared invalid for a reason R8.5 does not list ('torn'), properly signed",
        _log_edit(_unknown_invalid_reason),
        ("V9",),
        "ballot.invalid_reason",
        log=("invalid.reason", SEQ_DECLARED),
    ),
    Case(
        "V13-declared-invalid-counted-valid",
        ID,
        "round.counted committee 1 counts the two ballots declared invalid as valid (8 valid, 0"
        " invalid instead of 6 and 2)",
        _log_edit(_declared_counted_valid),
        ("V13",),
        "count.valid_ballots",
        log=("count.mismatch", SEQ_COUNTED),
    ),
    Case(
        "V13-extra-write-ins-counted-valid",
        ID,
        "round.counted secretary 1 counts the ballot with two write-ins on its one row as valid"
        " (8 valid, 0 invalid instead of 7 and 1; R9.5)",
        _log_edit(_extra_write_ins_counted_valid),
        ("V13",),
        "count.valid_ballots",
        log=("count.mismatch", SEQ_SECRETARY_COUNTED),
    ),
    Case(
        "V12-returned-differs",
        SB,
        "6 secretary ballots recorded as returned, 7 ballots entered and counted",
        _log_edit(_returned_differs),
        ("V12",),
        "round.entered_not_returned",
        log=("enter.too_many", 35),
    ),
    Case(
        "V13-count-differs",
        SB,
        "round.counted committee 1 reports 8 valid, 0 invalid ballots instead of 7 and 1",
        _log_edit(_count_differs),
        ("V13",),
        "count.valid_ballots",
        log=("count.mismatch", 23),
    ),
    Case(
        "V13-dropped-candidate-counted",
        DE,
        "round.counted secretary 1 gives M02 (not elected to the committee) 3 approvals and"
        " lists no drop-out (R22.3)",
        _log_edit(_dropped_counted),
        ("V13",),
        "count.dropped",
        log=("count.mismatch", 38),
    ),
    Case(
        "V11-joint-opening-split",
        DE,
        "a direct election's secretary round 1 opened on its own after the committee count, not"
        " with the committee's round 1 (R22.2)",
        _log_edit(_joint_opening_split),
        ("V11",),
        "joint.incomplete",
        log=("joint.incomplete", 13),
    ),
    Case(
        "V14-reduction-without-shortfall",
        SB,
        "a seats.reduced decision recorded although the committee had no shortfall (R17)",
        _log_edit(_reduction_without_shortfall),
        ("V14",),
        "reduction.not_after_shortfall",
        log=("reduction.not_after_shortfall", 37),
    ),
    Case(
        "V14-double-entry-unchanged",
        ID,
        "a second double_entry.set turns double entry on while it is already on (spec/log.md §2.3)",
        _log_edit(_double_entry_unchanged),
        ("V14",),
        "double_entry.unchanged",
        log=("double_entry.unchanged", SEQ_DOUBLE_ON + 1),
    ),
    Case(
        "V15-result-differs",
        SB,
        "election.result names M02 as secretary; the count elected M01",
        _log_edit(_result_differs),
        ("V15",),
        "result.elected",
        log=("result.mismatch", 37),
    ),
    Case(
        "V16-result-checkpoint-not-last",
        SB,
        "result.json's checkpoint is the last-but-one checkpoint",
        m_result_checkpoint,
        ("V16",),
        "result.checkpoint",
        note=NOT_IN_LOG,
    ),
    Case(
        "V17-publicity-end",
        SB,
        "publicity_end 2026-10-09 counts the National Day holidays as working days (should be"
        " 2026-10-12)",
        _log_edit(_publicity_end),
        ("V17",),
        "publicity.end",
        note="S9 checks only the elected members; the shell (tally result) computes the publicity"
        " period, and the replay does not recheck it",
    ),
    Case(
        "V17-calendar-outside-window",
        SB,
        "result.json's calendar drops New Year's Day, a holiday outside the publicity window; index"
        " re-hashed (the verifier checks every day of every year the calendar lists, A12.8)",
        m_calendar_outside_window,
        ("V17",),
        "publicity.calendar_differs",
        note=NOT_IN_LOG,
    ),
    Case(
        "V18-remote-ballots-claimed",
        SB,
        "result.json claims one remote ballot; remote voting does not exist yet",
        m_remote_ballots,
        ("V18",),
        "result.remote_ballots",
        note=NOT_IN_LOG,
    ),
)


# ------------------------------------------------------------------------------ output


# Zip-only cases (spec/bundle.md V1): what a folder in git cannot hold. Each is the small branch's
# valid bundle as a stored (uncompressed, so the bytes do not depend on zlib) zip with a fixed date,
# every member a plain file made on Unix (rw-r--r--) but for the entries the case adds or changes.
_PLAIN = (0o100644 << 16, 3)  # (external attributes, the system the zip says made it): Unix
_DIRECTORY = ((0o40755 << 16) | 0x10, 3)


@dataclass(frozen=True)
class ZipCase:
    """A zip-only V1 case: extra entries (name -> attributes and system, a name ending in ``/``
    is empty) and members whose attributes change; ``code`` is reported once per path in
    ``paths``; a fatal code leaves every other clause not checked."""

    name: str
    description: str
    code: str
    paths: tuple[str, ...]
    add: dict[str, tuple[int, int]] = field(default_factory=dict)
    attrs: dict[str, tuple[int, int]] = field(default_factory=dict)
    others_pass: bool = False


ZIP_CASES: tuple[ZipCase, ...] = (
    ZipCase(
        "V1-zip-directory-entry",
        "the small branch's bundle zipped with a directory entry stocks/ before its stock files",
        "bundle.directory_entry",
        ("stocks/",),
        add={"stocks/": _DIRECTORY},
        others_pass=True,
    ),
    ZipCase(
        "V1-zip-extra-folder",
        "the small branch's bundle zipped with an empty folder notes/ (a directory entry only)",
        "bundle.directory_entry",
        ("notes/",),
        add={"notes/": _DIRECTORY},
        others_pass=True,
    ),
    ZipCase(
        "V1-zip-symlink-member",
        "result.json's attributes say a symbolic link (mode 120777): unzip on Linux would make a "
        "link to the path its bytes spell",
        "bundle.link",
        ("result.json",),
        attrs={"result.json": (0o120777 << 16, 3)},
    ),
    ZipCase(
        "V1-zip-fifo-member",
        "log.jsonl's attributes say a FIFO (mode 10644): unzip on Linux would make a named pipe",
        "bundle.member_mode",
        ("log.jsonl",),
        attrs={"log.jsonl": (0o010644 << 16, 3)},
    ),
    ZipCase(
        "V1-zip-setuid-member",
        "manifest.json is a regular file with the set-uid bit and execute rights (mode 104755)",
        "bundle.member_mode",
        ("manifest.json",),
        attrs={"manifest.json": (0o104755 << 16, 3)},
    ),
    ZipCase(
        "V1-zip-directory-member",
        "an entry notes, without a trailing slash, whose Unix mode says a directory (40755)",
        "bundle.member_mode",
        ("notes",),
        add={"notes": _DIRECTORY},
    ),
    ZipCase(
        "V1-zip-dos-directory-member",
        "an entry notes, without a trailing slash, made on MS-DOS with the directory attribute "
        "(0x10) and no Unix mode",
        "bundle.member_mode",
        ("notes",),
        add={"notes": (0x10, 0)},
    ),
)


def _zip_bytes(files: Files, case: ZipCase) -> bytes:
    names = sorted([*files, *case.add])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr, info.create_system = case.add.get(
                name, case.attrs.get(name, _PLAIN)
            )
            z.writestr(info, files.get(name, b""))
    return buf.getvalue()


def _pretty(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def valid_bundles() -> dict[str, Files]:
    """The producer's bundle of every scenario, checked to re-derive byte for byte."""
    out: dict[str, Files] = {}
    with tempfile.TemporaryDirectory(prefix="bundle-vectors-") as tmp:
        for name, make in SCENARIOS.items():
            work = Path(tmp) / name
            work.mkdir()
            files = run_scenario(make(), work)
            again = rebuild(files)
            differ = sorted(p for p in files.keys() | again.keys() if files.get(p) != again.get(p))
            if differ:  # the re-deriving code must reproduce the producer exactly
                msg = f"{name}: re-derived files differ from the producer's: {differ}"
                raise AssertionError(msg)
            out[name] = files
    return out


def build_vectors() -> dict[str, bytes]:
    """Relative path -> content for every file under spec/vectors/bundle/."""
    out: dict[str, bytes] = {"town.pub": keys.export_public_key(TOWN.public_key)}
    bundles = valid_bundles()
    for name, files in bundles.items():
        sc = SCENARIOS[name]()
        result = json.loads(files["result.json"])
        out[f"valid/{name}/expected.json"] = _pretty(
            {
                "format": VECTOR_FORMAT,
                "description": sc.description,
                "valid": True,
                "failed": [],
                "election_id": result["election_id"],
                "entries": files["log.jsonl"].count(b"\n"),
                "ballots": files["ballots.jsonl"].count(b"\n"),
                "elected": result["elected"],
            }
        )
        for rel, data in files.items():
            out[f"valid/{name}/bundle/{rel}"] = data
    for case in CASES:
        files = case.mutate(copy.deepcopy(bundles[case.base]))
        doc: dict[str, Any] = {
            "format": VECTOR_FORMAT,
            "description": case.description,
            "base": case.base,
            "valid": False,
            "clause": case.name.split("-")[0],
            "code": case.code,
            "failed": list(case.failed),
            "others_pass": case.others_pass,
            "producer": {
                "load_signed_manifest": {"rejects": case.manifest[0], "problem": case.manifest[1]}
                if case.manifest
                else "accepts",
                "replay": "not_run"
                if case.manifest
                else ({"rejects": case.log[0], "seq": case.log[1]} if case.log else "accepts"),
            },
        }
        if case.note:
            doc["producer"]["note"] = case.note
        out[f"invalid/{case.name}/expected.json"] = _pretty(doc)
        for rel, data in files.items():
            out[f"invalid/{case.name}/bundle/{rel}"] = data
    for zc in ZIP_CASES:
        out[f"zip/{zc.name}/bundle.zip"] = _zip_bytes(bundles[SB], zc)
        out[f"zip/{zc.name}/expected.json"] = _pretty(
            {
                "format": VECTOR_FORMAT,
                "description": zc.description,
                "base": SB,
                "valid": False,
                "clause": "V1",
                "code": zc.code,
                "failed": ["V1"],
                "others_pass": zc.others_pass,
                "paths": list(zc.paths),
            }
        )
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import run  # noqa: PLC0415

    return run(
        OUT_DIR,
        build_vectors,
        argv,
        description=__doc__ or "",
        exclude=("README.md",),
        prune_empty_folders=True,
    )


if __name__ == "__main__":
    sys.exit(main())
