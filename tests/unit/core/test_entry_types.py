"""The typed entry bodies and the table of appliers (tally/core/meeting, issue 17 point 2,
docs/adr/0030-typed-entries.md): every entry type the spec lists has a dataclass and an applier,
the parse gives each type its own dataclass, and a malformed field is refused once, at the parse,
with the field's code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tally.core.errors import RoundStateError
from tally.core.manifest import canonical
from tally.core.meeting import (
    BODY_FIELDS,
    HANDLERS,
    Entry,
    make_entry,
    parse_body,
    parse_entry,
)
from tally.core.meeting.apply import Route
from tally.core.meeting.bodies import (
    PARSERS,
    BallotEntered,
    BallotWithdrawn,
    EntryBody,
    MemberCheckedIn,
    RoundQuorumFailed,
)
from tally.core.meeting.state import Step
from tally.core.model import MemberId, PostKind

ROOT = Path(__file__).resolve().parents[3]
_ROW = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \|", re.M)


def _section(path: str, start: str, end: str) -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    i = text.index(start)
    return text[i : text.index(end, i + len(start))]


def _spec_types() -> set[str]:
    """The entry types of the tables of spec/log.md §2, spec/remote.md RM-8.1 and
    spec/remote-v2.md §5."""
    tables = (
        _section("spec/log.md", "## 2. Entry types and bodies", "### 2.1"),
        _section("spec/remote.md", "RM-8.1.", "RM-8.2"),
        _section("spec/remote-v2.md", "## 5. Log entries (version 2)", "RV-5.2"),
    )
    return {t for table in tables for t in _ROW.findall(table)}


def test_the_spec_tables_are_read() -> None:
    """The spec reader finds the types it must (else the comparisons below would be vacuous)."""
    found = _spec_types()
    assert {"election.opened", "ballot.entered", "remote.cast", "remote.totals"} <= found
    assert len(found) >= 25


def test_every_entry_type_of_the_spec_has_a_parser_and_an_applier() -> None:
    spec = _spec_types()
    assert spec == set(BODY_FIELDS), "spec/log.md §2 and BODY_FIELDS differ"
    assert set(PARSERS) == set(BODY_FIELDS), "an entry type without a body dataclass parser"
    assert set(HANDLERS) == set(BODY_FIELDS), "an entry type without an applier in HANDLERS"
    assert not {"remote.key_revealed", "remote.decrypted", "remote.rejected"} & set(BODY_FIELDS)


def test_each_entry_type_has_its_own_body_dataclasses() -> None:
    seen: dict[type[EntryBody], str] = {}
    for type_, route in HANDLERS.items():
        assert isinstance(route, Route)
        assert route.bodies, type_
        for cls in route.bodies:
            assert issubclass(cls, EntryBody)
            assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
            assert cls not in seen, f"{cls.__name__} serves {seen.get(cls)} and {type_}"
            seen[cls] = type_


def _vector_entries() -> list[Entry]:
    vectors = ROOT / "spec" / "vectors"
    # The election's logs only: procedure/ holds procedure-entry/1 and casework-entry/1 logs.
    logs = sorted(
        log
        for log in vectors.glob("**/valid/**/log.jsonl")
        if log.relative_to(vectors).parts[0] != "procedure"
    )
    assert logs, "no valid log vectors"
    return [parse_entry(line) for log in logs for line in log.read_bytes().splitlines()]


def test_every_stored_entry_of_the_vectors_parses_to_its_types_dataclass() -> None:
    entries = _vector_entries()
    for e in entries:
        assert isinstance(e.value, HANDLERS[e.type].bodies), (e.seq, e.type)
    assert len({e.type for e in entries}) >= 12  # the vectors exercise many types


def test_an_applier_given_another_types_body_refuses_it() -> None:
    """The table checks that the body is its type's dataclass (a wrong route cannot pass)."""
    e = make_entry(
        None,
        "election.opened",
        {"election_id": "00" * 16},
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        actor="t",
        salt=bytes(32),
        election_id=bytes(16),
    )
    with pytest.raises(TypeError, match="MemberCheckedIn"):
        HANDLERS["ballot.entered"].handle(None, MemberCheckedIn(MemberId("m1")), Step(e))  # type: ignore[arg-type]


def _raw(type_: str, body: dict[str, object]) -> bytes:
    return canonical(
        {
            "format": "log-entry/1",
            "seq": 3,
            "prev": "00" * 32,
            "salt": "11" * 32,
            "type": type_,
            "at": "2026-01-01T09:00:00+08:00",
            "actor": "t",
            "body": body,
        }
    )


ENTERED = {
    "post": "committee",
    "round": 1,
    "ballot_id": "ab" * 16,
    "qr": "x",
    "marks": "ox-",
    "write_ins": [],
}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"post": "mayor"}, "log.bad_post"),
        ({"round": -1}, "log.bad_number"),
        ({"round": True}, "log.bad_number"),
        ({"ballot_id": "AB" * 16}, "enter.bad_id"),
        ({"ballot_id": 7}, "enter.bad_id"),
        ({"marks": "oxz"}, "enter.marks"),
        ({"marks": ["o"]}, "enter.marks"),
        ({"write_ins": [{"name": " ", "member": "", "mark": "o"}]}, "enter.write_ins"),
        ({"write_ins": {}}, "enter.write_ins"),
    ],
)
def test_a_malformed_field_is_refused_at_the_parse_with_its_code(
    change: dict[str, object], code: str
) -> None:
    raw = _raw("ballot.entered", ENTERED | change)
    with pytest.raises(RoundStateError) as err:
        parse_entry(raw)
    assert err.value.code == code


def test_an_unknown_type_or_a_body_of_other_members_is_malformed() -> None:
    for type_, body in (
        ("ballot.stuffed", ENTERED),
        ("ballot.entered", {**ENTERED, "extra": 1}),
        ("ballot.entered", {k: v for k, v in ENTERED.items() if k != "qr"}),
        ("ballot.entered", [1, 2]),
        (7, ENTERED),
    ):
        with pytest.raises(RoundStateError) as err:
            parse_body(type_, body)
        assert err.value.code == "log.malformed"


def test_a_built_entry_with_a_malformed_body_is_refused_when_its_value_is_read() -> None:
    """``make_entry`` keeps the refusal for ``apply_entry`` (the shells build, apply, store)."""
    e = make_entry(
        None,
        "ballot.entered",
        ENTERED | {"ballot_id": "zz"},
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        actor="t",
        salt=bytes(32),
        election_id=bytes(16),
    )
    with pytest.raises(RoundStateError) as err:
        _ = e.value
    assert err.value.code == "enter.bad_id"


def test_a_well_formed_body_is_typed() -> None:
    v = parse_entry(
        _raw(
            "ballot.entered", ENTERED | {"write_ins": [{"name": "王五", "member": "", "mark": "o"}]}
        )
    ).value
    assert isinstance(v, BallotEntered)
    assert v.post is PostKind.COMMITTEE
    assert "".join(m.value for m in v.marks) == "ox-"
    assert v.write_ins[0].name == "王五" and v.write_ins[0].member is None
    assert v.write_ins[0].marked
    w = parse_entry(_raw("ballot.withdrawn", {"post": "committee", "round": 2, "ballot_id": ""}))
    assert w.value == BallotWithdrawn(PostKind.COMMITTEE, 2, "")
    q = parse_entry(
        _raw(
            "round.quorum_failed",
            {"post": "committee", "round": 1, "present": 3, "present_members": 5},
        )
    ).value
    assert isinstance(q, RoundQuorumFailed)
    assert q.present_members is None  # not a list: the applier refuses it by the electing body
