"""Write the casework bundle vectors of spec/procedure.md RP-15.2 and RP-15.3 (V31) into
spec/vectors/procedure/casework/.

    PYTHONPATH=. .venv/bin/python scripts/gen_casework_vectors.py          # rewrite the vectors
    PYTHONPATH=. .venv/bin/python scripts/gen_casework_vectors.py --check  # exit 1 when stale

The valid bundle ``casework-basic`` is written by the producer itself (``tally.casework_store``
and the pure ``tally.core.casework`` operations) from fixed seed keys, fixed times and a fixed
"random" source, so every run writes the same bytes. The generator then rebuilds the same bundle
from its parts (definition, entry documents, checkpoint moments, photos) and requires the two to be
byte for byte equal: the invalid bundles are built from those parts with one change each. A change
that models a dishonest producer (a wrong due date, a gap in the numbering, a step out of order)
re-derives everything after it with the same keys (the hash chain, the Merkle roots, the casework
key's checkpoint signatures, the consistency proofs and the index); a change that models tampering
after export (a photo's bytes, an extra file) changes files only, the index rehashed. Each case's
``expected.json`` names the clause (V31), the verifier's finding code and what changed.

The generator owns only spec/vectors/procedure/casework/.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keys
from tally.calendar import CalendarYear, WorkingDayCalendar, build_calendar, sign_calendar
from tally.casework_store import (
    CHECKPOINT_DOMAIN,
    CaseworkStore,
    parse_signed_casework,
    sign_casework,
)
from tally.core.casework import (
    TOWN_TIME,
    Channel,
    Effect,
    Finding,
    Step,
    appointment_objections,
    assign,
    branch_actor,
    casework_document,
    check,
    conclude,
    extend,
    lodge_objection,
    register_reporter,
    replay,
    submit_report,
    withdraw_reporter,
)
from tally.core.manifest import canonical
from tally.log import MerkleTree
from tally.log.checkpoint import note_body, signature_line

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "spec" / "vectors" / "procedure" / "casework"
VECTOR_FORMAT = "casework-vector/1"
#: B01's work group records its in-person objections (RP-11.3: a branch work group's actor).
CLERK_B01 = branch_actor("B01", "clerk-b01")
CALENDAR = build_calendar()


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"casework vector seed: {name}".encode()).digest()


TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "青山镇党委", _seed("town"))
OTHER_TOWN = keys.InMemorySigner.from_seed(
    keys.Role.TOWN_COMMITTEE, "青山镇党委", _seed("other town")
)
SERVICE = keys.InMemorySigner.from_seed(keys.Role.CASEWORK, "青山镇查核组", _seed("casework"))
#: (R26.3) A year chinese_calendar does not know, as the town would sign it (a vector's own data:
#: New Year's Day a Friday off, the Spring Festival week with two make-up Saturdays).
YEAR_2027 = CalendarYear(
    year=2027,
    holidays=frozenset(
        [dt.date(2027, 1, 1)] + [dt.date(2027, 2, 6) + dt.timedelta(days=i) for i in range(8)]
    ),
    workdays=frozenset({dt.date(2027, 2, 20), dt.date(2027, 2, 27)}),
    source="国务院办公厅关于2027年部分节假日安排的通知（规范向量用数据）",
)


def _signed_calendar(signer: keys.Signer) -> WorkingDayCalendar:
    return build_calendar([YEAR_2027], signed_file=sign_calendar([YEAR_2027], signer))


CALENDAR_2027 = _signed_calendar(TOWN)
BRANCHES: list[dict[str, Any]] = [
    {
        "branch_code": "B01",
        "name": "东村党支部",
        "groups": [{"group": "G1", "name": "一组"}, {"group": "G2", "name": "二组"}],
    },
    {
        "branch_code": "B02",
        "name": "西村党支部",
        "groups": [{"group": "G1", "name": "一组"}, {"group": "G2", "name": "二组"}],
    },
]


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TOWN_TIME)


def _random() -> Callable[[int], bytes]:
    counter: Iterator[int] = itertools.count(1)

    def draw(n: int) -> bytes:
        return hashlib.shake_256(b"casework vector random " + str(next(counter)).encode()).digest(n)

    return draw


def _png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


# --------------------------------------------------------------------------- the valid bundle


@dataclasses.dataclass
class Parts:
    """A casework bundle as parts: what a producer (honest or not) would write."""

    signed: bytes
    entries: list[dict[str, Any]]  # every entry document; ``prev`` is re-derived
    checkpoints: list[tuple[int, str]]  # (size, reason), in order of creation
    photos: dict[str, bytes]  # path under the bundle -> bytes
    extra: dict[str, bytes] = dataclasses.field(default_factory=dict)


def _scenario(store: CaseworkStore) -> None:
    """RP-15.2 ``casework-basic``: reporters, an objection of each channel, a report about
    another branch with photos, an extended deadline, a reminder, a withdrawal and an open
    report past its due date (a warning, never a failure)."""
    rnd = _random()

    def do(step: Any, when: str, actor: str) -> None:
        store.perform(step, at=_at(when), actor=actor, random=rnd)

    def reg(reporter: str, branch: str, group: str, name: str, when: str) -> None:
        step = register_reporter(
            store.ledger,
            at=_at(when),
            reporter=reporter,
            branch=branch,
            group=group,
            name=name,
            phone="13800000000",
        )
        store.register(step, at=_at(when), actor="head", random=rnd)

    reg("R001", "B01", "G1", "李明", "2026-09-28 09:10")
    reg("R002", "B01", "G2", "王芳", "2026-09-28 09:12")
    reg("R003", "B02", "G1", "赵强", "2026-09-28 09:14")
    store.checkpoint("day 2026-09-28", SERVICE)
    elected = frozenset({"M003", "M005"})
    end = dt.date(2026, 10, 14)
    for when, channel, about, what, actor in (
        ("2026-09-29 10:00", Channel.IN_PERSON, "", "选举现场有人代填选票。", CLERK_B01),
        ("2026-09-29 15:30", Channel.FORM, "M003", "当选人曾在选举前宴请党员。", "public"),
    ):
        step = lodge_objection(
            store.ledger,
            at=_at(when),
            calendar=CALENDAR,
            branch="B01",
            channel=channel,
            about=about,
            what=what,
            objector_name="张三" if channel is Channel.IN_PERSON else "",
            publicity_end=end,
            elected=elected,
        )
        store.lodge(step, at=_at(when), actor=actor, random=rnd)
    report = submit_report(
        store.ledger,
        at=_at("2026-09-29 18:00"),
        calendar=CALENDAR,
        reporter="R001",
        what="西村有人挨户发放礼品拉票。",
        where="西村二组",
        when="2026-09-29T17:20",
        branch="B02",
        photos=(_png(640, 480), _jpeg(800, 600)),
    )
    do(report, "2026-09-29 18:00", "reporter:R001")
    store.checkpoint("day 2026-09-29", SERVICE)
    do(
        assign(
            store.ledger,
            at=_at("2026-09-30 09:00"),
            reference="YY-2026-00001",
            assignee="officer-liu",
        ),
        "2026-09-30 09:00",
        "head",
    )
    do(
        assign(
            store.ledger,
            at=_at("2026-09-30 09:05"),
            reference="YY-2026-00002",
            assignee="officer-chen",
        ),
        "2026-09-30 09:05",
        "head",
    )
    do(
        assign(
            store.ledger,
            at=_at("2026-09-30 09:10"),
            reference="MQ-2026-00001",
            assignee="officer-liu",
        ),
        "2026-09-30 09:10",
        "head",
    )
    do(
        extend(
            store.ledger,
            at=_at("2026-09-30 11:00"),
            reference="YY-2026-00002",
            due_conclude=dt.date(2026, 10, 16),
            reason="需要向多名党员核实情况",
        ),
        "2026-09-30 11:00",
        "head",
    )
    do(
        conclude(
            store.ledger,
            at=_at("2026-09-30 16:00"),
            reference="YY-2026-00001",
            actor="officer-liu",
            finding=Finding.UNSUBSTANTIATED,
            summary="经调阅监票记录和询问监票人，未发现代填选票。",
        ),
        "2026-09-30 16:00",
        "officer-liu",
    )
    store.checkpoint("day 2026-09-30", SERVICE)
    do(
        check(
            store.ledger,
            at=_at("2026-10-09 10:00"),
            reference="MQ-2026-00001",
            actor="officer-liu",
            note="走访五户，三户证实收到礼品。",
        ),
        "2026-10-09 10:00",
        "officer-liu",
    )
    do(
        conclude(
            store.ledger,
            at=_at("2026-10-09 15:00"),
            reference="MQ-2026-00001",
            actor="officer-liu",
            finding=Finding.SUBSTANTIATED,
            summary="情况属实，已移交镇纪委。",
        ),
        "2026-10-09 15:00",
        "officer-liu",
    )
    do(
        conclude(
            store.ledger,
            at=_at("2026-10-09 16:00"),
            reference="YY-2026-00002",
            actor="officer-chen",
            finding=Finding.SUBSTANTIATED,
            summary="宴请属实，当选人不予任命。",
            effect=Effect.NOT_APPOINTED,
        ),
        "2026-10-09 16:00",
        "officer-chen",
    )
    late = submit_report(
        store.ledger,
        at=_at("2026-10-09 17:00"),
        calendar=CALENDAR,
        reporter="R003",
        what="有人在村委会门口议论选举结果。",
    )
    do(late, "2026-10-09 17:00", "reporter:R003")
    do(
        withdraw_reporter(
            store.ledger, at=_at("2026-10-09 17:30"), reporter="R002", reason="外出务工"
        ),
        "2026-10-09 17:30",
        "head",
    )
    store.checkpoint("day 2026-10-09", SERVICE)
    store.checkpoint("appointment B01", SERVICE)
    store.perform(
        _reminder("MQ-2026-00002", "assign_due", "head"),
        at=_at("2026-10-12 09:00"),
        actor="reminder",
        random=rnd,
    )
    store.checkpoint("day 2026-10-12", SERVICE)


def _reminder(reference: str, kind: str, to: str) -> Step:
    return Step("reminder.sent", {"reference": reference, "kind": kind, "to": to})


def _provisional_scenario(store: CaseworkStore, *, signed_later: bool = False) -> None:
    """RP-8.4a ``casework-provisional``: cases received in late December 2026 whose due dates reach
    2027, a year chinese_calendar does not know: an objection with a provisional ``due_conclude``
    (extended later than it), a report with both dates provisional. With ``signed_later``
    (``casework-signed-year``) the town then signs its 2027 year file and a later objection is
    counted on it exactly: the bundle carries ``calendar.json`` (RP-12.3)."""
    rnd = _random()
    for reporter, group, when in (
        ("R001", "G1", "2026-12-21 09:00"),
        ("R002", "G2", "2026-12-21 09:05"),
    ):
        at = _at(when)
        step = register_reporter(
            store.ledger, at=at, reporter=reporter, branch="B01", group=group, name="李明", phone=""
        )
        store.register(step, at=at, actor="head", random=rnd)
    store.checkpoint("day 2026-12-21", SERVICE)

    def lodge(when: str, calendar: WorkingDayCalendar) -> None:
        step = lodge_objection(
            store.ledger,
            at=_at(when),
            calendar=calendar,
            branch="B01",
            channel=Channel.IN_PERSON,
            about="",
            what="年底公示期间有人反映计票时有选票未展示。",
            publicity_end=dt.date(2026, 12, 31),
            elected=frozenset({"M003"}),
        )
        store.lodge(step, at=_at(when), actor=CLERK_B01, random=rnd)

    def do(step: Any, when: str, actor: str) -> None:
        store.perform(step, at=_at(when), actor=actor, random=rnd)

    lodge("2026-12-28 10:00", CALENDAR)  # due_conclude provisional: 2027-01-04
    do(
        assign(store.ledger, at=_at("2026-12-29 09:00"), reference="YY-2026-00001", assignee="liu"),
        "2026-12-29 09:00",
        "head",
    )
    calendar = CALENDAR_2027 if signed_later else CALENDAR
    if signed_later:
        lodge("2026-12-30 10:00", calendar)  # exact on the signed 2027: 2027-01-07
    do(
        extend(
            store.ledger,
            at=_at("2026-12-30 11:00"),
            reference="YY-2026-00001",
            due_conclude=dt.date(2027, 1, 8),
            reason="需调取计票录像",
        ),
        "2026-12-30 11:00",
        "head",
    )
    store.checkpoint("day 2026-12-30", SERVICE)
    report = submit_report(
        store.ledger,
        at=_at("2026-12-31 18:00"),
        calendar=calendar,
        reporter="R001",
        what="有人在村口议论要求重新计票。",
    )
    # both provisional (2027-01-01, 2027-01-14), or exact on the signed 2027 (2027-01-04, -15)
    do(report, "2026-12-31 18:00", "reporter:R001")
    store.checkpoint("day 2026-12-31", SERVICE)


def produced(
    scenario: Callable[[CaseworkStore], None] = _scenario,
    calendar: WorkingDayCalendar | None = None,
) -> tuple[dict[str, bytes], Parts]:
    """A bundle as the store exports it (``casework-basic`` by default), and as parts."""
    signed, _ = sign_casework(
        casework_document(
            town="青山镇",
            branches=copy.deepcopy(BRANCHES),
            casework_key=json.loads(keys.export_public_key(SERVICE.public_key)),
        ),
        TOWN,
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = CaseworkStore.create(
            Path(tmp) / "town.casework",
            signed_casework=signed,
            casework_signer=SERVICE,
            at=_at("2026-09-28 09:00"),
            random=_random(),
        )
        try:
            scenario(store)
            files = {f.path: f.data for f in store.bundle_files(calendar)}
            rows = store.log_rows()
            texts = store.checkpoint_texts()
        finally:
            store.close()
    parts = Parts(
        signed=signed,
        entries=[json.loads(r) for r in rows],
        checkpoints=[(size, text.split("\n")[3]) for size, text in texts],
        photos={p: b for p, b in files.items() if p.startswith("photos/")},
        extra={p: b for p, b in files.items() if p == "calendar.json"},
    )
    return files, parts


# --------------------------------------------------------------------------- assembling parts


def assemble(parts: Parts) -> dict[str, bytes]:
    """The bundle files of ``parts``: chain, roots, signed checkpoints, proofs and index."""
    casework = json.loads(parts.signed)["casework"]
    cid = hashlib.sha256(b"branch-election/casework/1\x00" + canonical(casework)).hexdigest()
    raws: list[bytes] = []
    tree = MerkleTree([])
    for entry in parts.entries:
        doc = dict(entry)
        doc["prev"] = cid if not raws else hashlib.sha256(b"\x00" + raws[-1]).hexdigest()
        raw = canonical(doc)
        raws.append(raw)
        tree.append(hashlib.sha256(b"\x00" + raw).digest())
    cps: list[dict[str, Any]] = []
    prev = 0
    for size, reason in parts.checkpoints:
        body = note_body(f"branch-casework/{cid}", size, tree.root_at(size), reason)
        _, line = signature_line(SERVICE, body, domain=CHECKPOINT_DOMAIN)
        proof = tree.consistency_proof(prev, size) if 0 < prev < size else ()
        cps.append(
            {
                "text": body + "\n" + line,
                "consistency": [base64.b64encode(h).decode() for h in proof],
            }
        )
        prev = size
    files = {
        "casework.json": parts.signed,
        "log.jsonl": b"".join(r + b"\n" for r in raws),
        "checkpoints.json": canonical({"format": "checkpoints/1", "checkpoints": cps}),
        **parts.photos,
        **parts.extra,
    }
    return {"index.json": _index(cid, len(raws), files), **files}


def _index(cid: str, entries: int, files: dict[str, bytes]) -> bytes:
    return canonical(
        {
            "format": "casework-bundle-index/1",
            "casework_id": cid,
            "entries": entries,
            "files": [
                {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                for p, b in files.items()
            ],
        }
    )


def reindex(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files with ``index.json`` rehashed over them (tampering after export)."""
    doc = json.loads(files["index.json"])
    rest = {p: b for p, b in files.items() if p != "index.json"}
    return {"index.json": _index(doc["casework_id"], doc["entries"], rest), **rest}


# --------------------------------------------------------------------------- the invalid bundles


def _entry(parts: Parts, type_: str, reference: str = "") -> dict[str, Any]:
    for doc in parts.entries:
        if doc["type"] == type_ and (not reference or doc["body"].get("reference") == reference):
            return doc
    raise KeyError((type_, reference))


def _renumber(parts: Parts) -> None:
    """YY-2026-00002 becomes YY-2026-00003 everywhere: a gap in the numbering."""
    for doc in parts.entries:
        if doc["body"].get("reference") == "YY-2026-00002":
            doc["body"]["reference"] = "YY-2026-00003"


def _drop_checked(parts: Parts) -> None:
    """The report is concluded without its check (RP-9.6)."""
    i = parts.entries.index(_entry(parts, "report.checked"))
    del parts.entries[i]
    parts.checkpoints = [(s - 1 if s > i else s, r) for s, r in parts.checkpoints]
    for seq, doc in enumerate(parts.entries):
        doc["seq"] = seq


def _resign_other_town(parts: Parts) -> None:
    doc = json.loads(parts.signed)
    sig = OTHER_TOWN.sign(b"branch-election/casework/1", canonical(doc["casework"]))
    doc["town_key"] = json.loads(keys.export_public_key(OTHER_TOWN.public_key))
    doc["signature"] = base64.b64encode(sig).decode()
    parts.signed = canonical(doc)


def _flip_signature(parts: Parts) -> None:
    doc = json.loads(parts.signed)
    sig = bytearray(base64.b64decode(doc["signature"]))
    sig[5] ^= 0x01
    doc["signature"] = base64.b64encode(bytes(sig)).decode()
    parts.signed = canonical(doc)


Mutation = Callable[[Parts], None]
FileMutation = Callable[[dict[str, bytes]], dict[str, bytes]]


def _set(type_: str, reference: str, member: str, value: Any) -> Mutation:
    def run(parts: Parts) -> None:
        _entry(parts, type_, reference)["body"][member] = value

    return run


def _time_back(parts: Parts) -> None:
    _entry(parts, "objection.assigned", "YY-2026-00002")["at"] = "2026-09-30T08:00:00+08:00"


def _photo_bytes(files: dict[str, bytes]) -> dict[str, bytes]:
    name = next(p for p in sorted(files) if p.endswith(".png"))
    data = bytearray(files[name])
    data[-1] ^= 0x01
    return reindex({**files, name: bytes(data)})


def _photo_extra(files: dict[str, bytes]) -> dict[str, bytes]:
    extra = _png(320, 240)
    return reindex({**files, f"photos/{hashlib.sha256(extra).hexdigest()}.png": extra})


def _codes_file(files: dict[str, bytes]) -> dict[str, bytes]:
    codes = canonical({"check:YY-2026-00002": "7KQ2-M9XD", "access:R001": "4F8R-1TZC-Q0W5"})
    return reindex({**files, "codes.json": codes})


def _checkpoint_flip(files: dict[str, bytes]) -> dict[str, bytes]:
    doc = json.loads(files["checkpoints.json"])
    text = doc["checkpoints"][2]["text"]
    body, _, line = text.partition("\n\n")
    dash, name, blob = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 0x01
    doc["checkpoints"][2]["text"] = f"{body}\n\n{dash} {name} {base64.b64encode(raw).decode()}\n"
    return reindex({**files, "checkpoints.json": canonical(doc)})


def _chain_break(files: dict[str, bytes]) -> dict[str, bytes]:
    lines = files["log.jsonl"].split(b"\n")
    doc = json.loads(lines[5])
    doc["body"]["what"] = "改写后的异议内容。"
    lines[5] = canonical(doc)
    return reindex({**files, "log.jsonl": b"\n".join(lines)})


# (name, code, description, mutation on parts or None, mutation on files or None)
INVALID: tuple[tuple[str, str, str, Mutation | None, FileMutation | None], ...] = (
    (
        "V31-deadline-wrong",
        "casework.deadline",
        "an objection's due_conclude is 2026-10-13, a working day after the recomputed 2026-10-12",
        _set("objection.received", "YY-2026-00001", "due_conclude", "2026-10-13"),
        None,
    ),
    (
        "V31-extension-not-later",
        "casework.deadline",
        "an extension sets the due date it replaces (2026-10-12), not a later one",
        _set("objection.extended", "YY-2026-00002", "due_conclude", "2026-10-12"),
        None,
    ),
    (
        "V31-photo-hash-mismatch",
        "casework.photo",
        "one byte of a photo changed after export (index rehashed)",
        None,
        _photo_bytes,
    ),
    (
        "V31-photo-not-named",
        "casework.photo",
        "a photo the log does not name is in photos/ (index rehashed)",
        None,
        _photo_extra,
    ),
    (
        "V31-codes-in-bundle",
        "cbundle.extra_file",
        "privacy: the check and access codes written into the bundle (index rehashed)",
        None,
        _codes_file,
    ),
    (
        "V31-numbering-gap",
        "casework.numbering",
        "the second objection is numbered 00003: a gap",
        _renumber,
        None,
    ),
    (
        "V31-report-concluded-unchecked",
        "casework.state_order",
        "a report is concluded without being checked (RP-9.6)",
        _drop_checked,
        None,
    ),
    (
        "V31-effect-without-finding",
        "case.effect_invalid",
        "an unsubstantiated objection about the election as a whole voids it",
        _set("objection.concluded", "YY-2026-00001", "effect", "election_void"),
        None,
    ),
    (
        "V31-not-assignee-concludes",
        "case.not_assignee",
        "a case is concluded by an account it was not assigned to",
        lambda p: _entry(p, "objection.concluded", "YY-2026-00001").update(actor="officer-chen"),
        None,
    ),
    (
        "V31-actor-other-branch",
        "casework.actor_branch",
        "B01's in-person objection logged as recorded by B02's work group (RP-11.3)",
        lambda p: _entry(p, "objection.received", "YY-2026-00001").update(
            actor="branch:B02:clerk-b01"
        ),
        None,
    ),
    (
        "V31-time-order",
        "casework.time_order",
        "an entry's time is before the previous entry's",
        _time_back,
        None,
    ),
    (
        "V31-other-own-branch",
        "casework.own_branch",
        "a report about another branch claims own_branch yes",
        _set("report.received", "MQ-2026-00001", "own_branch", "yes"),
        None,
    ),
    (
        "V31-other-town-key",
        "casework.other_town",
        "the casework definition signed by another town's key (the trust root differs)",
        _resign_other_town,
        None,
    ),
    (
        "V31-bad-signature",
        "casework.not_signed",
        "one bit of the town's signature on the casework definition flipped",
        _flip_signature,
        None,
    ),
    (
        "V31-checkpoint-signature",
        "checkpoint.signature",
        "one bit of a casework checkpoint's signature flipped (index rehashed)",
        None,
        _checkpoint_flip,
    ),
    (
        "V31-entry-rewritten",
        "entry.prev",
        "an objection's text rewritten after export: the next entry's prev no longer matches",
        None,
        _chain_break,
    ),
)


def _without_calendar(files: dict[str, bytes]) -> dict[str, bytes]:
    return reindex({p: b for p, b in files.items() if p != "calendar.json"})


def _calendar_other_town(files: dict[str, bytes]) -> dict[str, bytes]:
    return reindex({**files, "calendar.json": _signed_calendar(OTHER_TOWN).signed_file})


def _calendar_conflict(files: dict[str, bytes]) -> dict[str, bytes]:
    """The signed year file also gives 2026, with a holiday chinese_calendar does not have."""
    year_2026 = CalendarYear(
        year=2026,
        holidays=frozenset({dt.date(2026, 1, 1), dt.date(2026, 12, 31)}),
        workdays=frozenset(),
        source="国务院办公厅关于2026年部分节假日安排的通知（改动）",
    )
    return reindex({**files, "calendar.json": sign_calendar([year_2026, YEAR_2027], TOWN)})


# (base bundle, name, code, description, mutation on parts or None, mutation on files or None)
MORE_INVALID: tuple[tuple[str, str, str, str, Mutation | None, FileMutation | None], ...] = (
    (
        "provisional",
        "V31-provisional-miscounted",
        "casework.deadline",
        "RP-8.4a: a provisional due_conclude counted with a guessed 2027 holiday (2027-01-05), "
        "not the 5th Monday-to-Friday (2027-01-04)",
        _set("objection.received", "YY-2026-00001", "due_conclude", "2027-01-05"),
        None,
    ),
    (
        "provisional",
        "V31-provisional-repeated",
        "casework.malformed",
        "RP-8.4a: due_provisional names due_conclude twice",
        _set("objection.received", "YY-2026-00001", "due_provisional", ["due_conclude"] * 2),
        None,
    ),
    (
        "provisional",
        "V31-provisional-empty",
        "casework.malformed",
        "RP-8.4a: due_provisional is empty (the member is absent when both dates are exact)",
        _set("report.received", "MQ-2026-00001", "due_provisional", []),
        None,
    ),
    (
        "provisional",
        "V31-provisional-unknown-name",
        "casework.malformed",
        "RP-8.4a: due_provisional names a member that is not a due date",
        _set("report.received", "MQ-2026-00001", "due_provisional", ["due_assign", "when"]),
        None,
    ),
    (
        "provisional",
        "V31-provisional-extension-not-later",
        "casework.deadline",
        "RP-8.4a: an extension sets the provisional due date it replaces (2027-01-04)",
        _set("objection.extended", "YY-2026-00001", "due_conclude", "2027-01-04"),
        None,
    ),
    (
        "signed-year",
        "V31-calendar-missing",
        "casework.calendar_year",
        "R26.3, RP-12.3: due dates counted on the town's signed 2027, its calendar.json left out "
        "(index rehashed)",
        None,
        _without_calendar,
    ),
    (
        "signed-year",
        "V31-calendar-other-key",
        "casework.calendar_key",
        "R26.3: calendar.json signed by another town's key (index rehashed)",
        None,
        _calendar_other_town,
    ),
    (
        "signed-year",
        "V31-calendar-conflict",
        "casework.calendar_conflict",
        "R26.3: the signed year file also gives 2026, with a holiday chinese_calendar does not "
        "have (index rehashed)",
        None,
        _calendar_conflict,
    ),
)


def _appointment(files: dict[str, bytes], branch: str) -> dict[str, Any]:
    """The ``casework`` and ``objections`` of an appointment of ``branch`` as the producer builds
    them at the casework's ``appointment <branch>`` checkpoint (RP-10.1, RP-11.4)."""
    casework, _, _ = parse_signed_casework(files["casework.json"])
    notes = [c["text"] for c in json.loads(files["checkpoints.json"])["checkpoints"]]
    text = next(t for t in notes if t.split("\n")[3] == f"appointment {branch}")
    size, root = int(text.split("\n")[1]), base64.b64decode(text.split("\n")[2]).hex()
    ledger = replay(casework, files["log.jsonl"].splitlines()[:size])
    return {
        "casework": {"casework_id": casework.id.hex(), "size": size, "root": root},
        "objections": appointment_objections(ledger, branch),
    }


def _appointments(files: dict[str, bytes]) -> dict[str, bytes]:
    """(V31) The appointment vectors: the producer's, and one change each."""
    good = _appointment(files, "B01")
    left_out = copy.deepcopy(good)
    del left_out["objections"][1]
    other_finding = copy.deepcopy(good)
    other_finding["objections"][0]["finding"] = "partly_substantiated"
    stale = copy.deepcopy(good)
    stale["casework"]["size"] -= 1
    cases = (
        (
            "valid-B01",
            None,
            "the producer's appointment items at the appointment B01 checkpoint",
            good,
        ),
        (
            "V31-objection-left-out",
            "appointment.objections_differ",
            "the not_appointed objection left out of the appointment",
            left_out,
        ),
        (
            "V31-finding-differs",
            "appointment.objections_differ",
            "an objection's finding other than the casework's",
            other_finding,
        ),
        (
            "V31-root-not-a-checkpoint",
            "casework.root_differs",
            "the appointment names a casework size that no checkpoint has",
            stale,
        ),
    )
    out: dict[str, bytes] = {}
    for name, code, description, appointment in cases:
        doc: dict[str, Any] = {
            "format": "casework-appointment-vector/1",
            "bundle": "valid/casework-basic/bundle",
            "branch": "B01",
            "appointment": appointment,
            "valid": code is None,
            "description": description,
        }
        if code is not None:
            doc["clause"], doc["code"] = "V31", code
        out[f"appointment/{name}.json"] = _json(doc)
    return out


def _json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def build_files() -> dict[str, bytes]:
    """Every vector file, by its path under spec/vectors/procedure/casework/."""
    bases = {
        "basic": produced(),
        "provisional": produced(_provisional_scenario),
        "signed-year": produced(
            lambda store: _provisional_scenario(store, signed_later=True), CALENDAR_2027
        ),
    }
    for base, (produced_files, produced_parts) in bases.items():
        again = assemble(produced_parts)
        if again != produced_files:
            differ = sorted(
                p
                for p in again.keys() | produced_files.keys()
                if again.get(p) != produced_files.get(p)
            )
            msg = f"the parts do not rebuild the producer's {base} bundle: {differ}"
            raise SystemExit(msg)
    files = bases["basic"][0]
    out: dict[str, bytes] = {
        "town.pub": keys.export_public_key(TOWN.public_key),
        **_appointments(files),
    }
    cases: list[tuple[str, dict[str, bytes], dict[str, Any]]] = [
        (
            "valid/casework-basic",
            files,
            {
                "valid": True,
                "description": "RP-15.2: reporters, an objection of each channel, a report about "
                "another branch with two photos, an extended deadline, a reminder, a withdrawal, "
                "an open report past its assign due date (a make-up working day with no reminder) "
                "and village groups without a reporter (warnings only)",
                "warnings": [
                    "casework.group_without_reporter",
                    "casework.overdue",
                    "casework.reminder_missing",
                ],
            },
        )
    ]
    cases += [
        (
            "valid/casework-provisional",
            bases["provisional"][0],
            {
                "valid": True,
                "description": "RP-8.4a: received in late December 2026 while chinese_calendar "
                "knows no 2027: an objection's due_conclude provisional (2027-01-04, extended to "
                "2027-01-08), a report's two due dates provisional (2027-01-01, 2027-01-14); no "
                "calendar.json",
                "warnings": ["casework.group_without_reporter"],
            },
        ),
        (
            "valid/casework-signed-year",
            bases["signed-year"][0],
            {
                "valid": True,
                "description": "R26.3, RP-12.3: the first objection's due_conclude provisional "
                "(2027-01-04), then the town signs 2027 (New Year's Day off) and a second "
                "objection and a report are counted on it exactly (2027-01-07; 2027-01-04 and "
                "2027-01-15): the bundle carries that calendar.json",
                "warnings": ["casework.group_without_reporter"],
            },
        ),
    ]
    every = [("basic", n, c, d, p, f) for n, c, d, p, f in INVALID] + list(MORE_INVALID)
    for base, name, code, description, on_parts, on_files in every:
        changed = copy.deepcopy(bases[base][1])
        if on_parts is not None:
            on_parts(changed)
        bundle = assemble(changed)
        if on_files is not None:
            bundle = on_files(bundle)
        cases.append(
            (
                f"invalid/{name}",
                bundle,
                {"valid": False, "clause": "V31", "code": code, "description": description},
            )
        )
    for folder, bundle, expected in cases:
        for rel, data in bundle.items():
            out[f"{folder}/bundle/{rel}"] = data
        out[f"{folder}/expected.json"] = _json({"format": VECTOR_FORMAT, **expected})
    return out


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import run  # noqa: PLC0415

    return run(OUT_DIR, build_files, argv, description=__doc__, prune_empty_folders=True)


if __name__ == "__main__":
    sys.exit(main())
