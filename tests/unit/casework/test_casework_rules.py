"""The casework core's rules (spec/procedure.md §8, §9, §11.3): every hostile case of issue 18
refused with its code, or recorded as a note, and nothing of the ledger changed by a refusal."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import pytest

from tally.core.casework import (
    CaseState,
    CaseworkDefinitionError,
    CaseworkError,
    Channel,
    Effect,
    Finding,
    Ledger,
    access_code,
    apply,
    assign,
    check,
    check_code,
    check_photos,
    conclude,
    due_date,
    extend,
    lodge_objection,
    normalise_code,
    open_ledger,
    opening_step,
    parse_casework,
    record,
    register_reporter,
    submit_report,
)
from tests.helpers.casework import CALENDAR, at, casework, document, jpeg, png

PUBLICITY_END = date(2026, 10, 13)
ELECTED = frozenset({"M001", "M002"})


def _do(ledger: Ledger, step: Any, when: str = "2026-09-30 10:00") -> Ledger:
    return apply(ledger, step.type, step.body, at(when))


@pytest.fixture
def ledger() -> Ledger:
    led = open_ledger(casework())
    led = _do(led, opening_step(led.casework), "2026-09-28 09:00")
    step = register_reporter(
        led,
        at=at("2026-09-28 09:30"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="13800000000",
    )
    return _do(led, step, "2026-09-28 09:30")


def _object(led: Ledger, what: str = "计票时有人代填选票", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "at": at("2026-09-30 10:00"),
        "calendar": CALENDAR,
        "branch": "B01",
        "channel": Channel.FORM,
        "about": "M001",
        "what": what,
        "publicity_end": PUBLICITY_END,
        "elected": ELECTED,
    }
    args.update(kw)
    return lodge_objection(led, **args)


def _report(led: Ledger, what: str = "有人在村口发烟拉票", **kw: Any) -> Any:
    args: dict[str, Any] = {"at": at("2026-09-30 10:00"), "calendar": CALENDAR, "reporter": "R1"}
    args.update(kw)
    return submit_report(led, what=what, **args)


def _refused(code: str, fn: Any, *args: Any, **kw: Any) -> CaseworkError:
    with pytest.raises(CaseworkError) as e:
        fn(*args, **kw)
    assert e.value.code == code, (e.value.code, e.value.en)
    assert e.value.zh
    assert e.value.en
    return e.value


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("what", ["", "   ", "\n\t　"], ids=["empty", "spaces", "whitespace"])
def test_an_objection_with_no_content_is_refused(ledger: Ledger, what: str) -> None:
    _refused("objection.empty", _object, ledger, what)


@pytest.mark.parametrize("what", ["", "  \n "], ids=["empty", "whitespace"])
def test_a_report_with_no_content_is_refused(ledger: Ledger, what: str) -> None:
    _refused("report.empty", _report, ledger, what)


def test_an_objection_longer_than_the_town_allows_is_refused(ledger: Ledger) -> None:
    _refused("objection.too_long", _object, ledger, "字" * 2001)
    assert _object(ledger, "字" * 2000).body["what"] == "字" * 2000


def test_a_report_longer_than_the_town_allows_is_refused(ledger: Ledger) -> None:
    _refused("report.too_long", _report, ledger, "字" * 2001)


def test_content_is_stored_trimmed(ledger: Ledger) -> None:
    assert _object(ledger, "  有问题 \n").body["what"] == "有问题"


def test_an_anonymous_objection_is_accepted(ledger: Ledger) -> None:
    step = _object(ledger)
    assert step.body["objector"] == {"name": "", "contact": ""}


def test_an_objection_about_someone_not_elected_is_refused(ledger: Ledger) -> None:
    _refused("objection.about_unknown", _object, ledger, about="M999")


def test_an_objection_about_the_election_as_a_whole_is_accepted(ledger: Ledger) -> None:
    assert _object(ledger, about="").body["about"] == ""


def test_an_objection_for_a_branch_not_in_publicity_is_refused(ledger: Ledger) -> None:
    _refused("objection.not_in_publicity", _object, ledger, publicity_end=None)


def test_an_objection_for_an_unknown_branch_is_refused(ledger: Ledger) -> None:
    _refused("casework.branch_unknown", _object, ledger, branch="B99")


def test_timing_is_during_until_publicity_end_and_after_from_the_next_day(ledger: Ledger) -> None:
    assert _object(ledger, at=at("2026-10-13 23:59")).body["timing"] == "during"
    late = _object(ledger, at=at("2026-10-14 00:00"))
    assert late.body["timing"] == "after"
    assert _do(ledger, late, "2026-10-14 00:00").cases[late.body["reference"]].timing == "after"


# --------------------------------------------------------------------------- reports


def test_a_report_about_another_branch_is_accepted_marked_and_noted(ledger: Ledger) -> None:
    step = _report(ledger, branch="B02")
    assert step.body["branch"] == "B02"
    assert step.body["own_branch"] == "no"
    assert [n.code for n in step.notes] == ["report.other_branch"]
    after = _do(ledger, step)
    assert after.cases[step.body["reference"]].state is CaseState.RECEIVED


def test_a_report_about_the_reporters_own_branch_has_no_note(ledger: Ledger) -> None:
    step = _report(ledger)
    assert step.body["branch"] == "B01"
    assert step.body["own_branch"] == "yes"
    assert step.notes == ()


def test_a_report_from_an_unregistered_reporter_is_refused(ledger: Ledger) -> None:
    _refused("reporter.unknown", _report, ledger, reporter="R9")


def test_a_report_dated_after_the_day_received_is_refused(ledger: Ledger) -> None:
    _refused("report.when_future", _report, ledger, when="2026-10-01")
    assert _report(ledger, when="2026-09-30T08:15").body["when"] == "2026-09-30T08:15"


@pytest.mark.parametrize("when", ["30/09/2026", "2026-13-01", "2026-09-30T25:00", "昨天"])
def test_a_report_with_a_malformed_time_is_refused(ledger: Ledger, when: str) -> None:
    _refused("report.when_format", _report, ledger, when=when)


# --------------------------------------------------------------------------- photos


def test_an_oversized_photo_is_refused_naming_its_position_size_and_limit() -> None:
    limits = casework().photos
    big = png(100, 100, pad=limits.max_bytes)
    e = _refused("report.photo_too_large", check_photos, [png(10, 10), big], limits)
    assert "第2张" in e.zh
    assert "photo 2" in e.en
    assert "5.0 MiB" in e.en


def test_more_photos_than_allowed_are_refused() -> None:
    limits = casework().photos
    _refused("report.too_many_photos", check_photos, [png(1, 1)] * 5, limits)
    assert len(check_photos([png(1, 1)] * 4, limits)) == 4


def test_a_photo_that_is_neither_jpeg_nor_png_is_refused() -> None:
    _refused("report.photo_type", check_photos, [b"GIF89a" + b"\x00" * 20], casework().photos)


@pytest.mark.parametrize(
    "data",
    [png(1, 1)[:20], png(0, 10), b"\xff\xd8\xff\xd9", jpeg(10, 10)[:25]],
    ids=["png-truncated", "png-zero-width", "jpeg-no-frame", "jpeg-truncated"],
)
def test_an_unreadable_photo_is_refused(data: bytes) -> None:
    _refused("report.photo_unreadable", check_photos, [data], casework().photos)


def test_a_photo_with_too_many_pixels_is_refused() -> None:
    limits = casework().photos
    _refused("report.photo_too_many_pixels", check_photos, [jpeg(8000, 5001)], limits)
    assert check_photos([jpeg(8000, 5000)], limits)[0].type == "jpeg"


def test_a_real_jpeg_and_png_are_read() -> None:
    image = pytest.importorskip("PIL.Image")
    out = []
    for fmt in ("JPEG", "PNG"):
        buf = io.BytesIO()
        image.new("RGB", (37, 21)).save(buf, format=fmt)
        out.append(buf.getvalue())
    photos = check_photos(out, casework().photos)
    assert [(p.type, p.width, p.height) for p in photos] == [("jpeg", 37, 21), ("png", 37, 21)]


def test_the_log_names_a_photo_by_hash_size_and_type_only(ledger: Ledger) -> None:
    step = _report(ledger, photos=[png(4, 3)])
    sha = hashlib.sha256(png(4, 3)).hexdigest()
    assert step.body["photos"] == [{"sha256": sha, "bytes": len(png(4, 3)), "type": "png"}]
    assert step.photos[0].data == png(4, 3)


def test_a_report_with_one_oversized_photo_is_refused_whole(ledger: Ledger) -> None:
    big = png(10, 10, pad=6 * 1024 * 1024)
    _refused("report.photo_too_large", _report, ledger, photos=[png(4, 3), big])


# --------------------------------------------------------------------------- states


def _assigned(ledger: Ledger, kind: str = "objection") -> tuple[Ledger, str]:
    step = _object(ledger) if kind == "objection" else _report(ledger)
    ref = step.body["reference"]
    led = _do(ledger, step)
    led = _do(led, assign(led, at=at("2026-09-30 11:00"), reference=ref, assignee="officer1"))
    return led, ref


def test_an_objection_cannot_be_concluded_before_it_is_assigned(ledger: Ledger) -> None:
    step = _object(ledger)
    led = _do(ledger, step)
    _refused(
        "case.state_order",
        conclude,
        led,
        at=at("2026-09-30 12:00"),
        reference=step.body["reference"],
        actor="officer1",
        finding=Finding.UNSUBSTANTIATED,
        summary="经查不属实",
    )


def test_a_report_cannot_be_concluded_before_it_is_checked(ledger: Ledger) -> None:
    led, ref = _assigned(ledger, "report")
    _refused(
        "case.state_order",
        conclude,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.UNSUBSTANTIATED,
        summary="经查不属实",
    )


def test_an_objection_has_no_checked_step(ledger: Ledger) -> None:
    led, ref = _assigned(ledger)
    _refused(
        "case.state_order",
        check,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        actor="officer1",
        note="已核实",
    )


def test_a_checked_report_cannot_be_assigned_again(ledger: Ledger) -> None:
    led, ref = _assigned(ledger, "report")
    led = _do(
        led,
        check(led, at=at("2026-09-30 12:00"), reference=ref, actor="officer1", note="已到现场核实"),
    )
    _refused(
        "case.state_order", assign, led, at=at("2026-09-30 13:00"), reference=ref, assignee="o2"
    )


def test_an_assigned_case_may_be_assigned_again(ledger: Ledger) -> None:
    led, ref = _assigned(ledger)
    led = _do(led, assign(led, at=at("2026-09-30 12:00"), reference=ref, assignee="officer2"))
    assert led.cases[ref].assignee == "officer2"


def test_only_the_assignee_may_check_or_conclude(ledger: Ledger) -> None:
    led, ref = _assigned(ledger)
    _refused(
        "case.not_assignee",
        conclude,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        actor="someone_else",
        finding=Finding.UNSUBSTANTIATED,
        summary="经查不属实",
    )


def _concluded(ledger: Ledger) -> tuple[Ledger, str]:
    led, ref = _assigned(ledger)
    step = conclude(
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.UNSUBSTANTIATED,
        summary="经查不属实",
    )
    return _do(led, step, "2026-09-30 12:00"), ref


def test_a_concluded_case_cannot_be_concluded_again(ledger: Ledger) -> None:
    led, ref = _concluded(ledger)
    _refused(
        "case.concluded",
        conclude,
        led,
        at=at("2026-09-30 13:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.SUBSTANTIATED,
        summary="改为属实",
    )


def test_a_concluded_case_cannot_be_assigned_or_extended(ledger: Ledger) -> None:
    led, ref = _concluded(ledger)
    _refused("case.concluded", assign, led, at=at("2026-09-30 13:00"), reference=ref, assignee="o2")
    _refused(
        "case.concluded",
        extend,
        led,
        at=at("2026-09-30 13:00"),
        reference=ref,
        due_conclude=date(2026, 10, 30),
        reason="需要补充调查",
    )


def test_an_unknown_reference_is_refused(ledger: Ledger) -> None:
    _refused(
        "case.unknown",
        assign,
        ledger,
        at=at("2026-09-30 13:00"),
        reference="YY-2026-00009",
        assignee="o",
    )
    _refused(
        "case.unknown", assign, ledger, at=at("2026-09-30 13:00"), reference="bogus", assignee="o"
    )


def test_a_conclusion_needs_its_summary(ledger: Ledger) -> None:
    led, ref = _assigned(ledger)
    _refused(
        "objection.no_conclusion",
        conclude,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.UNSUBSTANTIATED,
        summary="  ",
    )


@pytest.mark.parametrize(
    ("about", "finding", "effect", "ok"),
    [
        ("M001", Finding.SUBSTANTIATED, Effect.NOT_APPOINTED, True),
        ("M001", Finding.PARTLY_SUBSTANTIATED, Effect.NOT_APPOINTED, True),
        ("M001", Finding.UNSUBSTANTIATED, Effect.NOT_APPOINTED, False),
        ("M001", Finding.SUBSTANTIATED, Effect.ELECTION_VOID, False),
        ("", Finding.SUBSTANTIATED, Effect.ELECTION_VOID, True),
        ("", Finding.PARTLY_SUBSTANTIATED, Effect.ELECTION_VOID, False),
        ("", Finding.SUBSTANTIATED, Effect.NOT_APPOINTED, False),
    ],
)
def test_the_effect_must_fit_the_finding_and_the_person(
    ledger: Ledger, about: str, finding: Finding, effect: Effect, ok: bool
) -> None:
    step = _object(ledger, about=about)
    ref = step.body["reference"]
    led = _do(ledger, step)
    led = _do(led, assign(led, at=at("2026-09-30 11:00"), reference=ref, assignee="o1"))
    kw: dict[str, Any] = {
        "at": at("2026-09-30 12:00"),
        "reference": ref,
        "actor": "o1",
        "finding": finding,
        "summary": "结论",
        "effect": effect,
    }
    if ok:
        assert conclude(led, **kw).body["effect"] == effect.value
    else:
        _refused("case.effect_invalid", conclude, led, **kw)


def test_a_duplicate_must_name_the_case_it_repeats(ledger: Ledger) -> None:
    first = _object(ledger)
    led = _do(ledger, first)
    led, ref = _assigned(led)
    kw: dict[str, Any] = {
        "at": at("2026-09-30 12:00"),
        "reference": ref,
        "actor": "officer1",
        "finding": Finding.DUPLICATE,
    }
    _refused("case.duplicate_of", conclude, led, summary="重复反映", **kw)
    assert (
        conclude(led, summary=f"与 {first.body['reference']} 重复", **kw).body["finding"]
        == "duplicate"
    )


def test_a_report_conclusion_has_no_effect_member(ledger: Ledger) -> None:
    led, ref = _assigned(ledger, "report")
    led = _do(
        led, check(led, at=at("2026-09-30 12:00"), reference=ref, actor="officer1", note="核实")
    )
    step = conclude(
        led,
        at=at("2026-09-30 13:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.SUBSTANTIATED,
        summary="属实，已移交",
    )
    assert set(step.body) == {"reference", "finding", "summary"}
    _refused(
        "case.effect_invalid",
        conclude,
        led,
        at=at("2026-09-30 13:00"),
        reference=ref,
        actor="officer1",
        finding=Finding.SUBSTANTIATED,
        summary="属实",
        effect=Effect.NOT_APPOINTED,
    )


def test_an_entry_earlier_than_the_last_is_refused(ledger: Ledger) -> None:
    led = _do(ledger, _object(ledger), "2026-09-30 10:00")
    _refused("casework.time_order", _object, led, at=at("2026-09-30 09:59"))


def test_a_ledger_cannot_be_changed_in_place(ledger: Ledger) -> None:
    """Operations return new ledgers; a refused one therefore leaves the old one as it was."""
    step = _object(ledger)
    after = _do(ledger, step)
    assert step.body["reference"] not in ledger.cases
    assert step.body["reference"] in after.cases
    with pytest.raises(TypeError):
        ledger.cases[step.body["reference"]] = after.cases[step.body["reference"]]  # type: ignore[index]


# --------------------------------------------------------------------------- deadlines, references


def test_due_dates_count_working_days_after_the_day_received_across_a_holiday(
    ledger: Ledger,
) -> None:
    # 2026-10-01..07 are National Day holidays, 2026-10-10 (a Saturday) is a make-up working day.
    body = _object(ledger).body
    assert body["due_assign"] == "2026-10-08"
    assert body["due_conclude"] == "2026-10-13"
    report = _report(ledger).body
    assert report["due_conclude"] == due_date(date(2026, 9, 30), 10, CALENDAR).isoformat()
    assert report["due_conclude"] == "2026-10-20"


def test_an_extension_must_be_later_than_the_due_date_it_replaces(ledger: Ledger) -> None:
    led, ref = _assigned(ledger)
    _refused(
        "casework.deadline",
        extend,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        due_conclude=date(2026, 10, 13),
        reason="补充调查",
    )
    _refused(
        "case.reason",
        extend,
        led,
        at=at("2026-09-30 12:00"),
        reference=ref,
        due_conclude=date(2026, 10, 20),
        reason=" ",
    )
    led = _do(
        led,
        extend(
            led,
            at=at("2026-09-30 12:00"),
            reference=ref,
            due_conclude=date(2026, 10, 20),
            reason="补充调查",
        ),
    )
    assert led.cases[ref].due_conclude == date(2026, 10, 20)


def test_references_are_numbered_per_kind_and_year_without_gaps() -> None:
    led = open_ledger(casework())
    led = _do(led, opening_step(led.casework), "2025-12-01 09:00")
    reg = register_reporter(
        led,
        at=at("2025-12-01 09:00"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="",
    )
    led = _do(led, reg, "2025-12-01 09:00")
    refs = []
    for when in ("2025-12-30 10:00", "2025-12-31 10:01", "2026-01-05 09:00"):
        obj = _object(led, at=at(when), publicity_end=date(2026, 1, 30))
        refs.append(obj.body["reference"])
        led = _do(led, obj, when)
        rep = _report(led, at=at(when))
        refs.append(rep.body["reference"])
        led = _do(led, rep, when)
    assert refs == [
        "YY-2025-00001",
        "MQ-2025-00001",
        "YY-2025-00002",
        "MQ-2025-00002",
        "YY-2026-00001",
        "MQ-2026-00001",
    ]


def test_check_and_access_codes_come_from_the_bytes_given() -> None:
    assert check_code(b"\x00\x00\x00\x00\x00") == "0000-0000"
    assert check_code(b"\xff" * 5) == "ZZZZ-ZZZZ"
    assert access_code(b"\xff" * 8) == "ZZZZ-ZZZZ-ZZZZ"
    assert normalise_code("abcd-oil0") == "ABCD0110"
    with pytest.raises(ValueError, match="5 random bytes"):
        check_code(b"\x00")


# --------------------------------------------------------------------------- reporters


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"reporter": "R1"}, "reporter.duplicate"),
        ({"reporter": "甲"}, "reporter.id_format"),
        ({"branch": "B99"}, "casework.branch_unknown"),
        ({"group": "G2", "branch": "B02"}, "reporter.group_unknown"),
        ({"name": " "}, "reporter.name"),
        ({"phone": "12345"}, "reporter.phone"),
    ],
)
def test_a_bad_registration_is_refused(ledger: Ledger, kw: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {
        "at": at("2026-09-29 09:00"),
        "reporter": "R2",
        "branch": "B01",
        "group": "G2",
        "name": "王五",
        "phone": "",
    }
    args.update(kw)
    _refused(code, register_reporter, ledger, **args)


# --------------------------------------------------------------------------- definition, entries


def test_the_definition_reports_every_problem_in_one_pass() -> None:
    doc = document(text_max_chars=5, extra=1)
    doc["photos"]["max_count"] = 10
    doc["branches"].append(dict(doc["branches"][0]))
    with pytest.raises(CaseworkDefinitionError) as e:
        parse_casework(doc)
    paths = {p.path for p in e.value.problems}
    assert {"extra", "text_max_chars", "photos.max_count", "branches[2].branch_code"} <= paths


def test_entries_chain_from_the_casework_id(ledger: Ledger) -> None:
    led = open_ledger(casework())
    e0, led = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=b"\x01" * 32
    )
    assert e0.prev == led.casework.id.hex()
    e1, led = record(
        led, _object(led), at=at("2026-09-30 10:00"), actor="public", salt=b"\x02" * 32
    )
    assert e1.prev == e0.leaf_hash.hex()
    assert e1.seq == 1
