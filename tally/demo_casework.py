"""The demo town's casework (``tally demo``; issue 18 points 3, 4 and 6; spec/procedure.md §8, §9,
§11.3, §11.4, §12.3, §12.4, RP-13.2).

After every branch has voted, the town's verification group runs the casework file through the real
store and core: a community reporter registered for every village group of every branch (RP-9.1);
reports, one with a photo and one about another branch (RP-9.3-RP-9.5), assigned, checked and
concluded with different findings, one left open; objections after the results, one recorded in
person by the branch's clerk and the others through the public form path of the store (a
submission token, a check code), assigned and concluded with different findings and effects
(a duplicate among them), one lodged after publicity and left unassigned; a signed checkpoint at
the end of every day with entries (RP-11.4). Then the casework bundle (RP-12.3) and the town's
public totals (RP-12.4) are exported, and the town report takes its numbers from the bundle once
``verifier casework`` (V31) passed it, or shows the failing findings instead
(:mod:`tally.town_report`). Times are fixed, choices follow the seed; salts, codes and keys are
drawn fresh, as for the elections.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import keys
from tally.calendar import WorkingDayCalendar, load_calendar
from tally.casework_store import CaseworkStore, sign_casework
from tally.core.casework import (
    TOWN_TIME,
    CaseworkEntry,
    Channel,
    Effect,
    Finding,
    Ledger,
    Step,
    assign,
    casework_document,
    check,
    conclude,
    lodge_objection,
    register_reporter,
    submit_report,
)
from tally.election import ElectionSession

__all__ = [
    "CASEWORK_DAY",
    "CaseworkSetup",
    "DemoBranch",
    "casework_setup",
    "demo_branches",
    "run_casework",
]

#: The day the town report reads the casework: overdue cases are counted as of this day.
CASEWORK_DAY: Final = dt.date(2026, 12, 28)
_GROUP_NAMES: Final = "一二三四五六"
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN: Final = "建华秀兰志明桂英国庆春梅德胜玉珍海军丽萍永红"


@dataclass(frozen=True, slots=True)
class DemoBranch:
    """What the casework needs of one demo branch: its code, name, village groups and result."""

    code: str
    name: str
    groups: tuple[tuple[str, str], ...]  # (group code, name)
    elected: tuple[str, ...]  # member ids, secretaries first
    publicity_end: dt.date


def demo_branches(out: Path, count: int) -> list[DemoBranch]:
    """The ``count`` branches under ``out``, read from their election files; 2 to 4 village
    groups each (the demo's definitions have none)."""
    found = []
    for i in range(count):
        session = ElectionSession.open(out / f"branch-{i + 1:02d}" / "election.db")
        try:
            result = session.meeting.result or {}
            elected = result.get("elected", {})
            found.append(
                DemoBranch(
                    code=f"B{i + 1:02d}",
                    name=session.manifest.election.branch,
                    groups=tuple(
                        (f"G{g}", f"{_GROUP_NAMES[g - 1]}组") for g in range(1, 3 + i % 3)
                    ),
                    elected=tuple(
                        dict.fromkeys(
                            [*elected.get("secretary", []), *elected.get("committee", [])]
                        )
                    ),
                    publicity_end=dt.date.fromisoformat(result["publicity_end"]),
                )
            )
        finally:
            session.store.close()
    return found


#: A step to perform: made from the ledger and the time when the desk performs it.
Make = Callable[[Ledger, dt.datetime], Step]


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TOWN_TIME)


class _Desk:
    """The verification group's desk: performs each step at its time, and signs a checkpoint
    for each day with entries once the next day's first step comes (RP-11.4)."""

    def __init__(self, store: CaseworkStore, signer: keys.Signer) -> None:
        self.store, self.signer = store, signer
        self.day: dt.date | None = None

    def _day(self, at: dt.datetime) -> None:
        if self.day is not None and at.date() != self.day:
            self.close_day()
        self.day = at.date()

    def close_day(self) -> None:
        if self.day is not None:
            self.store.checkpoint(f"day {self.day.isoformat()}", self.signer)

    def do(self, when: str, actor: str, make: Make, **kw: Any) -> CaseworkEntry:
        at = _at(when)
        self._day(at)
        step = make(self.store.ledger, at)
        return self.store.perform(step, at=at, actor=actor, random=secrets.token_bytes, **kw)

    def lodge(self, when: str, actor: str, make: Make) -> CaseworkEntry:
        """An objection: a form one carries a fresh submission token, as the public page's."""
        at = _at(when)
        self._day(at)
        step = make(self.store.ledger, at)
        token = secrets.token_urlsafe(16) if actor == "public" else ""
        entry, _check_code = self.store.lodge(
            step, at=at, actor=actor, random=secrets.token_bytes, submission=token
        )
        return entry


def _reference(entry: CaseworkEntry) -> str:
    """The reference a received case was given (a casework entry: no typed body)."""
    return str(entry.body["reference"])


def _photo(width: int = 320, height: int = 240) -> bytes:
    """A small real PNG (a plain colour), as a reporter's phone would send."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes((90, 120, 160)) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _register(desk: _Desk, branches: Sequence[DemoBranch], rng: random.Random) -> None:
    """A reporter for every village group of every branch (RP-9.1)."""
    at = _at("2026-11-02 10:00")
    for b in branches:
        for group, _ in b.groups:
            name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, 2))
            phone = "139" + "".join(rng.choice("0123456789") for _ in range(8))
            step = register_reporter(
                desk.store.ledger,
                at=at,
                reporter=f"R{b.code[1:]}{group[1:]}",
                branch=b.code,
                group=group,
                name=name,
                phone=phone,
            )
            desk.store.register(step, at=at, actor="case-head", random=secrets.token_bytes)
            at += dt.timedelta(minutes=1)
    desk.day = dt.date(2026, 11, 2)


def _reports(desk: _Desk, branches: Sequence[DemoBranch], cal: WorkingDayCalendar) -> None:
    """Four reports before the vote: one with a photo, one about another branch, one not a
    matter of election discipline; three concluded, one left open."""
    b0, b1, b2 = (branches[i % len(branches)] for i in range(3))

    def report(reporter: str, **kw: Any) -> Make:
        return lambda led, at: submit_report(led, at=at, calendar=cal, reporter=reporter, **kw)

    mine = f"R{b0.code[1:]}1"
    r1 = desk.do(
        "2026-12-08 20:15",
        f"reporter:{mine}",
        report(
            mine,
            what="有人在村委会门口向党员发放购物卡，要求投票时“关照”某人",
            where="村委会门口",
            when="2026-12-08T19:30",
            photos=(_photo(),),
        ),
    )
    _handle(desk, [("2026-12-09 09:00", _reference(r1), "officer-li", None)])
    other = f"R{b1.code[1:]}1"
    r2 = desk.do(
        "2026-12-09 10:00",
        f"reporter:{other}",
        report(other, what="听说邻村有人挨家挨户打电话替别人拉票", branch=b0.code),
    )
    third = f"R{b2.code[1:]}2"
    r3 = desk.do(
        "2026-12-10 09:30",
        f"reporter:{third}",
        report(third, what="选举前有人在村文化广场发放写好名字的纸条", where="村文化广场"),
    )
    fourth = f"R{b0.code[1:]}2"
    r4 = desk.do(
        "2026-12-10 11:00",
        f"reporter:{fourth}",
        report(fourth, what="反映宅基地纠纷多年未解决，要求村干部处理"),
    )
    refs = [_reference(e) for e in (r1, r2, r3, r4)]
    _handle(
        desk,
        [
            ("2026-12-10 14:00", refs[1], "officer-wang", None),
            ("2026-12-10 14:05", refs[3], "officer-li", None),
            (
                "2026-12-11 10:00",
                refs[0],
                "officer-li",
                (
                    "走访三名党员，确有发放购物卡的情况",
                    Finding.SUBSTANTIATED,
                    "发放购物卡属实，已责令退回，对当事人批评教育并记入考察材料",
                ),
            ),
            (
                "2026-12-11 15:00",
                refs[3],
                "officer-li",
                ("所反映为宅基地纠纷", Finding.NOT_COMPETENT, "不属于换届纪律问题，已转镇信访办"),
            ),
            (
                "2026-12-14 10:00",
                refs[1],
                "officer-wang",
                ("电话回访五名党员，均未接到拉票电话", Finding.UNSUBSTANTIATED, "未发现拉票行为"),
            ),
            ("2026-12-14 11:00", refs[2], "officer-wang", None),
        ],
    )


def _assign(ref: str, officer: str) -> Make:
    def make(led: Ledger, at: dt.datetime) -> Step:
        return assign(led, at=at, reference=ref, assignee=officer)

    return make


def _check(ref: str, officer: str, note: str) -> Make:
    def make(led: Ledger, at: dt.datetime) -> Step:
        return check(led, at=at, reference=ref, actor=officer, note=note)

    return make


def _conclude(
    ref: str, officer: str, finding: Finding, summary: str, effect: Effect = Effect.NONE
) -> Make:
    def make(led: Ledger, at: dt.datetime) -> Step:
        return conclude(
            led,
            at=at,
            reference=ref,
            actor=officer,
            finding=finding,
            summary=summary,
            effect=effect,
        )

    return make


def _handle(
    desk: _Desk,
    plan: Sequence[tuple[str, str, str, tuple[str, Finding, str] | None]],
) -> None:
    """Assign (no outcome), or check and conclude a report with (note, finding, summary)."""
    for when, ref, officer, outcome in plan:
        if outcome is None:
            desk.do(when, "case-head", _assign(ref, officer))
            continue
        note, finding, summary = outcome
        desk.do(when, officer, _check(ref, officer, note))
        desk.do(when, officer, _conclude(ref, officer, finding, summary))


def _objection(
    b: DemoBranch, cal: WorkingDayCalendar, channel: Channel, about: str, what: str, **kw: Any
) -> Make:
    return lambda led, at: lodge_objection(
        led,
        at=at,
        calendar=cal,
        branch=b.code,
        channel=channel,
        about=about,
        what=what,
        publicity_end=b.publicity_end,
        elected=frozenset(b.elected),
        **kw,
    )


def _objections(desk: _Desk, branches: Sequence[DemoBranch], cal: WorkingDayCalendar) -> None:
    """Five objections after the results: in person and by the public form; concluded as not
    substantiated, partly substantiated, substantiated (not appointed) and a duplicate; the
    last, lodged after publicity, still waiting to be assigned."""
    b0, b1, b2 = (branches[i % len(branches)] for i in range(3))
    form, in_person = Channel.FORM, Channel.IN_PERSON
    y1 = desk.lodge(
        "2026-12-16 10:00",
        f"clerk-{b0.code}",
        _objection(
            b0,
            cal,
            in_person,
            b0.elected[0],
            "反映当选书记在选举前宴请部分党员",
            objector_name="赵德明",
            objector_contact="13912345678",
        ),
    )
    y2 = desk.lodge(
        "2026-12-16 20:30",
        "public",
        _objection(b1, cal, form, "", "选举当天有一名党员替未到会的亲属填写选票"),
    )
    y3 = desk.lodge(
        "2026-12-17 09:15",
        "public",
        _objection(
            b2, cal, form, b2.elected[-1], "反映该同志长期不参加组织生活", objector_name="钱某"
        ),
    )
    y4 = desk.lodge(
        "2026-12-17 21:00",
        "public",
        _objection(b1, cal, form, "", "再次反映选举当天有人代填选票"),
    )
    r1, r2, r3, r4 = (_reference(e) for e in (y1, y2, y3, y4))
    for when, ref, officer in (
        ("2026-12-18 09:00", r1, "officer-li"),
        ("2026-12-18 09:05", r2, "officer-wang"),
        ("2026-12-18 09:10", r3, "officer-li"),
        ("2026-12-18 09:15", r4, "officer-wang"),
    ):
        desk.do(when, "case-head", _assign(ref, officer))
    for when, ref, officer, finding, effect, summary in (
        ("2026-12-18 16:00", r1, "officer-li", Finding.UNSUBSTANTIATED, Effect.NONE,
         "系亲属家宴，当选人未参加，反映不属实"),
        ("2026-12-21 10:00", r2, "officer-wang", Finding.PARTLY_SUBSTANTIATED, Effect.NONE,
         "该党员受亲属委托代填，已批评教育；涉及一张选票，不影响选举结果"),
        ("2026-12-21 11:00", r4, "officer-wang", Finding.DUPLICATE, Effect.NONE,
         f"与 {r2} 反映的是同一事项，已合并办理"),
        ("2026-12-22 10:00", r3, "officer-li", Finding.SUBSTANTIATED, Effect.NOT_APPOINTED,
         "连续六个月无正当理由不参加组织生活，属实"),
    ):  # fmt: skip
        desk.do(when, officer, _conclude(ref, officer, finding, summary, effect))
    desk.lodge(
        "2026-12-23 19:00",
        "public",
        _objection(b0, cal, form, "", "反映唱票时声音太小，监票人没有看清"),
    )


@dataclass(frozen=True, slots=True)
class DemoCasework:
    """Where the demo wrote the town's casework."""

    file: Path
    bundle: Path
    public: Path
    town_key: Path


@dataclass(frozen=True, slots=True)
class CaseworkSetup:
    """The town's casework definition, signed before the branches' procedures name its id."""

    town: keys.InMemorySigner
    service: keys.InMemorySigner
    signed: bytes
    casework_id: str


def casework_setup(names: Sequence[str]) -> CaseworkSetup:
    """The town's signed casework definition for the branches named (``B01``… in order), with
    the same village groups :func:`demo_branches` gives them."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    service = keys.InMemorySigner.generate(keys.Role.CASEWORK, "红旗镇查核组")
    document = casework_document(
        town="中共红旗镇委员会",
        branches=[
            {
                "branch_code": f"B{i + 1:02d}",
                "name": name,
                "groups": [
                    {"group": f"G{g}", "name": f"{_GROUP_NAMES[g - 1]}组"}
                    for g in range(1, 3 + i % 3)
                ],
            }
            for i, name in enumerate(names)
        ],
        casework_key=json.loads(keys.export_public_key(service.public_key)),
    )
    signed, definition = sign_casework(document, town)
    return CaseworkSetup(town, service, signed, definition.id.hex())


#: What the demo does with the casework file once the objections are handled, before the export
#: (the town's appointments, which sign a checkpoint in it).
AfterCases = Callable[[CaseworkStore, keys.Signer], None]


def run_casework(
    out: Path,
    branches: Sequence[DemoBranch],
    *,
    seed: int,
    setup: CaseworkSetup | None = None,
    after: AfterCases | None = None,
) -> DemoCasework:
    """The town's casework file under ``out/casework``, its bundle and its public totals."""
    folder = out / "casework"
    folder.mkdir(parents=True, exist_ok=True)
    setup = setup or casework_setup([b.name for b in branches])
    town, service, signed = setup.town, setup.service, setup.signed
    (folder / "town.pub").write_bytes(keys.export_public_key(town.public_key))
    store = CaseworkStore.create(
        folder / "town.casework",
        signed_casework=signed,
        casework_signer=service,
        at=_at("2026-11-02 09:00"),
        random=secrets.token_bytes,
    )
    try:
        desk = _Desk(store, service)
        calendar = load_calendar(None)
        _register(desk, branches, random.Random(seed))  # noqa: S311 - reproducible synthetic data
        _reports(desk, branches, calendar)
        _objections(desk, branches, calendar)
        desk.close_day()
        if after is not None:
            after(store, service)
        result = DemoCasework(
            file=folder / "town.casework",
            bundle=folder / "bundle",
            public=folder / "public" / "casework-public.json",
            town_key=folder / "town.pub",
        )
        for f in store.bundle_files():
            (result.bundle / f.path).parent.mkdir(parents=True, exist_ok=True)
            (result.bundle / f.path).write_bytes(f.data)
        result.public.parent.mkdir(parents=True, exist_ok=True)
        result.public.write_bytes(store.public_document())
    finally:
        store.close()
    return result
