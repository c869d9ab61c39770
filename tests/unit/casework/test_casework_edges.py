"""The casework core's remaining edges: reporters withdrawn, related cases, malformed entries and
definitions, time zones and the numbering limit (spec/procedure.md RP-8.1, RP-8.3, RP-9.1, RP-11.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tally.core.casework import (
    CaseKind,
    CaseworkDefinitionError,
    CaseworkError,
    Channel,
    Ledger,
    apply,
    due_date,
    format_reference,
    local_date,
    lodge_objection,
    open_ledger,
    opening_step,
    parse_casework,
    parse_entry,
    parse_reference,
    record,
    register_reporter,
    replay,
    submit_report,
    withdraw_reporter,
)
from tally.core.casework.public import public_summary
from tally.core.manifest import canonical
from tests.helpers.casework import CALENDAR, at, casework, document

SALT = b"\x07" * 32


def _ledger() -> Ledger:
    led = open_ledger(casework())
    _, led = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=SALT
    )
    step = register_reporter(
        led,
        at=at("2026-09-28 09:00"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="",
    )
    _, led = record(led, step, at=at("2026-09-28 09:00"), actor="head", salt=SALT)
    return led


def _code(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(CaseworkError) as e:
        fn(*args, **kw)
    return e.value.code


def test_a_withdrawn_reporter_can_no_longer_report_but_the_reports_stay() -> None:
    led = _ledger()
    step = submit_report(
        led, at=at("2026-09-29 10:00"), calendar=CALENDAR, reporter="R1", what="拉票"
    )
    _, led = record(led, step, at=at("2026-09-29 10:00"), actor="reporter:R1", salt=SALT)
    assert (
        _code(withdraw_reporter, led, at=at("2026-09-29 11:00"), reporter="R1", reason="")
        == "case.reason"
    )
    w = withdraw_reporter(led, at=at("2026-09-29 11:00"), reporter="R1", reason="迁出本村")
    _, led = record(led, w, at=at("2026-09-29 11:00"), actor="head", salt=SALT)
    assert not led.reporters["R1"].active
    assert step.body["reference"] in led.cases
    assert (
        _code(
            submit_report,
            led,
            at=at("2026-09-29 12:00"),
            calendar=CALENDAR,
            reporter="R1",
            what="x",
        )
        == "reporter.unknown"
    )
    assert (
        _code(withdraw_reporter, led, at=at("2026-09-29 12:00"), reporter="R1", reason="再次")
        == "reporter.unknown"
    )


def test_relates_to_must_name_an_existing_case() -> None:
    led = _ledger()
    kw: dict[str, Any] = {
        "at": at("2026-09-29 10:00"),
        "calendar": CALENDAR,
        "reporter": "R1",
        "what": "补充",
    }
    assert _code(submit_report, led, relates_to="MQ-2026-00001", **kw) == "case.unknown"
    first = submit_report(led, **kw)
    _, led = record(led, first, at=at("2026-09-29 10:00"), actor="reporter:R1", salt=SALT)
    assert (
        submit_report(led, relates_to="MQ-2026-00001", **kw).body["relates_to"] == "MQ-2026-00001"
    )


def test_an_objectors_name_or_contact_over_64_characters_is_refused() -> None:
    kw: dict[str, Any] = {
        "at": at("2026-09-29 10:00"),
        "calendar": CALENDAR,
        "branch": "B01",
        "channel": Channel.IN_PERSON,
        "about": "",
        "what": "异议",
        "publicity_end": date(2026, 10, 13),
        "elected": frozenset[str](),
    }
    assert _code(lodge_objection, _ledger(), objector_name="名" * 65, **kw) == "objection.objector"


def test_a_reminder_entry_changes_no_case() -> None:
    led = _ledger()
    after = apply(
        led,
        "reminder.sent",
        {"reference": "MQ-2026-00001", "kind": "overdue", "to": "o1"},
        at("2026-09-29 09:00"),
    )
    assert after.cases == led.cases
    assert after.size == led.size + 1


def test_an_entry_of_an_unknown_type_or_body_is_refused() -> None:
    led = _ledger()
    assert _code(apply, led, "case.deleted", {}, at("2026-09-29 09:00")) == "casework.malformed"
    assert (
        _code(apply, led, "reporter.withdrawn", {"reporter": "R1"}, at("2026-09-29 09:00"))
        == "casework.malformed"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        canonical(
            {
                "format": "log-entry/1",
                "seq": 0,
                "prev": "",
                "salt": "0" * 64,
                "type": "x",
                "at": "",
                "actor": "",
                "body": {},
            }
        ),
        canonical(
            {
                "format": "casework-entry/1",
                "seq": 0,
                "prev": "",
                "salt": "ab",
                "type": "x",
                "at": "",
                "actor": "",
                "body": {},
            }
        ),
        b'{"format":"casework-entry/1", "seq":0,"prev":"","salt":"'
        + b"0" * 64
        + b'","type":"x","at":"","actor":"","body":{}}',
    ],
    ids=["not-json", "not-object", "other-format", "bad-salt", "not-canonical"],
)
def test_a_malformed_stored_entry_is_refused(raw: bytes) -> None:
    assert _code(parse_entry, raw) == "casework.malformed"


def test_replay_refuses_entries_out_of_their_chain() -> None:
    led = open_ledger(casework())
    e0, led = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=SALT
    )
    step = register_reporter(
        led,
        at=at("2026-09-28 09:00"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="",
    )
    e1, _ = record(led, step, at=at("2026-09-28 09:00"), actor="head", salt=SALT)
    assert replay(led.casework, [e0.raw, e1.raw]).reporters["R1"].branch == "B01"
    assert _code(replay, led.casework, [e1.raw]) == "casework.malformed"
    assert _code(replay, led.casework, [e0.raw, e0.raw]) == "casework.malformed"


def test_a_time_without_a_zone_is_refused_and_town_time_is_utc_plus_8() -> None:
    with pytest.raises(ValueError, match="time zone"):
        local_date(datetime(2026, 9, 30, 10, 0))
    assert local_date(datetime.fromisoformat("2026-09-30T17:00:00+00:00")) == date(2026, 10, 1)
    with pytest.raises(ValueError, match="at least one"):
        due_date(date(2026, 9, 30), 0, CALENDAR)


def test_references_stop_at_99999_a_year_and_malformed_ones_are_unknown() -> None:
    assert format_reference(CaseKind.REPORT, 2026, 99_999) == "MQ-2026-99999"
    assert _code(format_reference, CaseKind.REPORT, 2026, 100_000) == "casework.numbering"
    assert parse_reference("YY-2026-00012") == (CaseKind.OBJECTION, 2026, 12)
    for bad in ("YY-2026-00000", "yy-2026-00001", "YY-2026-1", "XX-2026-00001"):
        assert _code(parse_reference, bad) == "case.unknown"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(format="casework/2"), "format"),
        (lambda d: d.update(branches=[]), "branches"),
        (lambda d: d["branches"][0].update(groups="G1"), "branches[0].groups"),
        (
            lambda d: d["branches"][0]["groups"].append({"group": "G1", "name": "重复"}),
            "branches[0].groups[2].group",
        ),
        (
            lambda d: d["deadlines"].update(report_conclude_days=61),
            "deadlines.report_conclude_days",
        ),
        (lambda d: d["photos"].update(max_bytes=1024), "photos.max_bytes"),
        (lambda d: d["keys"].update(casework="PUB"), "keys.casework"),
        (lambda d: d.pop("town"), "town"),
    ],
    ids=[
        "format",
        "no-branches",
        "groups-not-list",
        "duplicate-group",
        "deadline",
        "photo-bytes",
        "key",
        "missing",
    ],
)
def test_a_bad_definition_is_refused_with_the_field_path(change: Any, path: str) -> None:
    doc = document()
    change(doc)
    with pytest.raises(CaseworkDefinitionError) as e:
        parse_casework(doc)
    assert path in {p.path for p in e.value.problems}
    assert e.value.code == "casework.definition"


def test_a_definition_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(CaseworkDefinitionError):
        parse_casework([])


def test_the_public_summary_lists_every_finding_with_zeros() -> None:
    summary = public_summary(_ledger())
    assert summary.received == 0
    assert [n for _, n in summary.by_finding] == [0, 0, 0, 0, 0]


def test_the_log_opens_with_its_own_casework_opened_and_only_once() -> None:
    fresh = open_ledger(casework())
    when = at("2026-09-28 09:00")
    assert _code(apply, fresh, "reporter.withdrawn", {"reporter": "R1", "reason": "x"}, when) == (
        "casework.malformed"
    )
    assert _code(apply, fresh, "casework.opened", {"casework_id": "0" * 64}, when) == (
        "casework.malformed"
    )
    opened = opening_step(fresh.casework).body
    assert _code(apply, _ledger(), "casework.opened", opened, when) == "casework.malformed"


def test_times_count_to_the_second_as_the_log_writes_them() -> None:
    """A ledger built in memory equals the one read back from its entries (RP-11.3)."""
    led = open_ledger(casework())
    fine = at("2026-09-28 09:00:00.750000")
    e0, led = record(led, opening_step(led.casework), at=fine, actor="town", salt=SALT)
    assert e0.at == "2026-09-28T09:00:00+08:00"
    step = register_reporter(
        led,
        at=at("2026-09-28 09:00:00.100000"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="",
    )
    e1, led = record(led, step, at=at("2026-09-28 09:00:00.100000"), actor="head", salt=SALT)
    assert replay(led.casework, [e0.raw, e1.raw]) == led
