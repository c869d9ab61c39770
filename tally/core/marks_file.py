"""Parse a ballot-marks file for ``tally simulate`` (spec/marks-file.md).

The file lists steps in the order they happen at the meeting: rounds (present, issued, returned,
and every returned ballot as marks) and recorded decisions (a seat reduction, an amended candidate
list). A ballot is written as one letter per listed candidate in ballot order (``o`` approve,
``x`` disapprove, ``-`` abstain, ``?`` unreadable), with optional write-ins and a repeat count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tally.core.ballots import Ballot, Mark, WriteIn
from tally.core.errors import DefinitionError, Problem
from tally.core.model import Election, MemberId, PostKind
from tally.core.toml_errors import load_toml

__all__ = [
    "FORMAT",
    "AmendCandidatesStep",
    "ReduceSeatsStep",
    "RoundStep",
    "Step",
    "parse_marks_file",
    "resolve_write_in",
]

FORMAT = "ballot-marks/1"
_MAX_BALLOTS_PER_ROUND = 100_000


@dataclass(frozen=True, slots=True)
class RoundStep:
    post: PostKind
    present: int
    issued: int
    returned: int
    ballots: tuple[Ballot, ...]


@dataclass(frozen=True, slots=True)
class ReduceSeatsStep:
    post: PostKind
    seats: int
    assembly_consent: int
    town_agreement: str


@dataclass(frozen=True, slots=True)
class AmendCandidatesStep:
    post: PostKind
    candidates: tuple[MemberId, ...]


Step = RoundStep | ReduceSeatsStep | AmendCandidatesStep


def resolve_write_in(text: str, election: Election) -> tuple[MemberId | None, str | None]:
    """Resolve a written name (or member id) to a roster id.

    Returns:
        (member id or None, a problem code or None): ``writein.ambiguous`` when several members
        share the name (the tellers must give the id), None when nobody matches (an ineligible
        write-in, R9).
    """
    text = unicodedata.normalize("NFC", text.strip())
    for m in election.members:
        if m.id == text:
            return m.id, None
    same = [m.id for m in election.members if m.name == text]
    if len(same) > 1:
        return None, "writein.ambiguous"
    return (same[0] if same else None), None


def parse_marks_file(text: str, election: Election) -> tuple[Step, ...]:
    """Parse the marks file against ``election`` (for write-in names and posts).

    Raises:
        DefinitionError: every problem found, each with its field path.
    """
    problems: list[Problem] = []

    def bad(code: str, path: str, zh: str, en: str) -> None:
        problems.append(Problem(code=code, path=path, zh=zh, en=en))

    data = load_toml(text)
    if data.get("format") != FORMAT:
        bad(
            "format.version",
            "format",
            f"格式应为 {FORMAT!r}",
            f"format must be {FORMAT!r}",
        )
    for key in sorted(set(data) - {"format", "steps"}):
        bad("field.unknown", key, "未知字段", "unknown field")
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        bad("field.type", "steps", "应为表数组 [[steps]]", "must be an array of tables [[steps]]")
        raw_steps = []
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        path = f"steps[{i}]"
        step = _parse_step(raw, path, election, bad)
        if step is not None:
            steps.append(step)
    if problems:
        raise DefinitionError(tuple(problems))
    return tuple(steps)


def _int(raw: Mapping[str, Any], key: str, path: str, bad: Any) -> int | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        bad("field.type", f"{path}.{key}", "应为非负整数", "must be a whole number >= 0")
        return None
    return value


def _parse_step(raw: Mapping[str, Any], path: str, election: Election, bad: Any) -> Step | None:
    action = raw.get("action", "round")
    post_text = str(raw.get("post"))
    try:
        post = PostKind(post_text)
    except ValueError:
        bad(
            "field.choice", f"{path}.post", f"未知职位 {post_text!r}", f"unknown post {post_text!r}"
        )
        return None
    if election.post(post) is None:
        bad("post.absent", f"{path}.post", "本次选举没有该职位", "the election has no such post")
        return None
    if action == "reduce_seats":
        _unknown(raw, {"action", "post", "seats", "assembly_consent", "town_agreement"}, path, bad)
        seats = _int(raw, "seats", path, bad)
        consent = _int(raw, "assembly_consent", path, bad)
        agreement = raw.get("town_agreement", "")
        if not isinstance(agreement, str):
            bad("field.type", f"{path}.town_agreement", "应为文字", "must be text")
            return None
        if seats is None or consent is None:
            return None
        return ReduceSeatsStep(
            post=post, seats=seats, assembly_consent=consent, town_agreement=agreement
        )
    if action == "amend_candidates":
        _unknown(raw, {"action", "post", "candidates"}, path, bad)
        ids = raw.get("candidates")
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            bad("field.type", f"{path}.candidates", "应为党员编号列表", "must be member ids")
            return None
        return AmendCandidatesStep(post=post, candidates=tuple(MemberId(x) for x in ids))
    if action != "round":
        bad("field.choice", f"{path}.action", f"未知操作 {action!r}", f"unknown action {action!r}")
        return None
    _unknown(raw, {"action", "post", "present", "issued", "returned", "ballots"}, path, bad)
    present = _int(raw, "present", path, bad)
    issued = _int(raw, "issued", path, bad) if "issued" in raw else present
    returned = _int(raw, "returned", path, bad) if "returned" in raw else issued
    ballots = _parse_ballots(raw.get("ballots", []), f"{path}.ballots", election, bad)
    if present is None or issued is None or returned is None or ballots is None:
        return None
    return RoundStep(post=post, present=present, issued=issued, returned=returned, ballots=ballots)


def _unknown(raw: Mapping[str, Any], allowed: set[str], path: str, bad: Any) -> None:
    for key in sorted(set(raw) - allowed):
        bad("field.unknown", f"{path}.{key}", "未知字段", "unknown field")


def _parse_ballots(
    value: object, path: str, election: Election, bad: Any
) -> tuple[Ballot, ...] | None:
    if not isinstance(value, list):
        bad("field.type", path, "应为选票列表", "must be a list of ballots")
        return None
    out: list[Ballot] = []
    ok = True
    for j, item in enumerate(value):
        where = f"{path}[{j}]"
        entry: Mapping[str, Any] = {"marks": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            bad("field.type", where, "应为标记文字或表", "must be a marks string or a table")
            ok = False
            continue
        _unknown(entry, {"marks", "write_ins", "count"}, where, bad)
        marks = _parse_marks(entry.get("marks"), f"{where}.marks", bad)
        write_ins = _parse_write_ins(
            entry.get("write_ins", []), f"{where}.write_ins", election, bad
        )
        count = entry.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            bad("field.type", f"{where}.count", "应为正整数", "must be a whole number >= 1")
            ok = False
            continue
        if marks is None or write_ins is None:
            ok = False
            continue
        if len(out) + count > _MAX_BALLOTS_PER_ROUND:
            bad("ballots.too_many", where, "选票数量过多", "too many ballots")
            return None
        out.extend([Ballot(marks=marks, write_ins=write_ins)] * count)
    return tuple(out) if ok else None


def _parse_marks(value: object, where: str, bad: Any) -> tuple[Mark, ...] | None:
    if not isinstance(value, str):
        bad("field.type", where, '应为标记文字，如 "oox-"', 'must be a marks string like "oox-"')
        return None
    text = value.replace(" ", "").replace("○", "o").replace("×", "x")
    marks: list[Mark] = []
    for k, ch in enumerate(text):
        try:
            marks.append(Mark(ch))
        except ValueError:
            bad(
                "ballot.mark",
                where,
                f"第 {k + 1} 个标记 {ch!r} 无法识别（只能用 o x - ?）",
                f"mark {k + 1} {ch!r} is not one of o x - ?",
            )
            return None
    return tuple(marks)


def _parse_write_ins(
    value: object, where: str, election: Election, bad: Any
) -> tuple[WriteIn, ...] | None:
    if not isinstance(value, list):
        bad("field.type", where, "应为另选人列表", "must be a list of write-ins")
        return None
    out: list[WriteIn] = []
    for k, item in enumerate(value):
        entry: Mapping[str, Any] = {"name": item} if isinstance(item, str) else item
        if isinstance(entry, dict):
            _unknown(entry, {"name", "marked"}, f"{where}[{k}]", bad)
        name = entry.get("name") if isinstance(entry, dict) else None
        marked = entry.get("marked", True) if isinstance(entry, dict) else True
        if not isinstance(name, str) or not name.strip() or not isinstance(marked, bool):
            bad("field.type", f"{where}[{k}]", "另选人应写姓名或编号", "a write-in is a name or id")
            return None
        member, problem = resolve_write_in(name, election)
        if problem is not None:
            bad(
                problem,
                f"{where}[{k}]",
                f"名册中有多人名为 {name}，请写党员编号",
                f"several members are named {name}; give the member id",
            )
            return None
        out.append(
            WriteIn(name=unicodedata.normalize("NFC", name.strip()), member=member, marked=marked)
        )
    return tuple(out)
