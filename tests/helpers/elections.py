"""Build election definitions for tests: TOML text parsed by the real parser."""

from __future__ import annotations

from collections.abc import Sequence

from tally.core.ballots import Ballot, Mark
from tally.core.definition import parse_definition
from tally.core.model import Election

SURNAMES = "丁于万马王朱刘孙李杨吴何张陈林罗周赵胡徐高郭黄"


def member_id(i: int) -> str:
    return f"M{i:03d}"


def definition_text(
    *,
    full: int,
    probationary: int = 0,
    party_probation: int = 0,
    exclusions: int = 0,
    committee_seats: int | None = 5,
    committee_candidates: int | None = None,
    secretary_candidates: Sequence[int] = (1, 2),
    secretary_body: str = "assembly",
    secretary_margin: str | None = None,
    preset: str = "R2020",
    parameters: str = "",
    extra: str = "",
) -> str:
    """A definition with ``full`` eligible members M001..; candidates are the first members,
    officials the last two eligible members, exclusions taken just before the officials."""
    lines = [
        'format = "election-definition/1"',
        f'preset = "{preset}"',
        "[election]",
        'title = "测试选举"',
        'branch = "中共测试村支部委员会"',
        'town = "中共测试镇委员会"',
        'term = "第一届"',
        "date = 2026-12-15",
        'objections_to = "镇党委组织办"',
        "[parameters]",
        parameters,
        "[secretary]",
        f'elected_by = "{secretary_body}"',
    ]
    if committee_seats is not None:
        n = committee_candidates or committee_seats + -(-committee_seats // 5)
        ids = ", ".join(f'"{member_id(i)}"' for i in range(1, n + 1))
        lines += [
            "[[posts]]",
            'post = "committee"',
            f"seats = {committee_seats}",
            f"candidates = [{ids}]",
        ]
    if secretary_candidates:
        ids = ", ".join(f'"{member_id(i)}"' for i in secretary_candidates)
        lines += ["[[posts]]", 'post = "secretary"', "seats = 1", f"candidates = [{ids}]"]
        if secretary_margin:
            lines.append(f'margin = "{secretary_margin}"')
    lines += [
        "[officials]",
        f'scrutineers = ["{member_id(full)}"]',
        f'tellers = ["{member_id(full - 1)}"]',
    ]
    for k in range(exclusions):
        lines += [
            "[[exclusions]]",
            f'member = "{member_id(full - 2 - k)}"',
            'category = "infirm"',
            'higher_level_approval = "测组〔2026〕1号"',
            'assembly_approval = "党员大会通过"',
        ]
    statuses = (
        ["full"] * full + ["probationary"] * probationary + ["party_probation"] * party_probation
    )
    for i, status in enumerate(statuses, start=1):
        lines += [
            "[[members]]",
            f'id = "{member_id(i)}"',
            f'name = "{SURNAMES[i % len(SURNAMES)]}{i:03d}"',
            f'sex = "{"female" if i % 3 == 0 else "male"}"',
            "birth_date = 1985-01-01",
            'education = "bachelor"',
            f'status = "{status}"',
        ]
    return "\n".join(lines) + "\n" + extra


def make_election(**kwargs: object) -> Election:
    return parse_definition(definition_text(**kwargs))  # type: ignore[arg-type]


def ballots_for(approvals: Sequence[int], valid: int, seats: int) -> list[Ballot]:
    """``valid`` ballots giving exactly ``approvals[j]`` approvals to candidate j, none over-voted:
    each approval goes to the ballot with the fewest approvals so far (so the per-ballot count
    stays within ``seats`` whenever the total allows)."""
    assert sum(approvals) <= seats * valid
    marks = [[Mark.ABSTAIN] * len(approvals) for _ in range(valid)]
    load = [0] * valid
    for j, v in sorted(enumerate(approvals), key=lambda x: -x[1]):
        for b in sorted(range(valid), key=lambda b: (load[b], b))[:v]:
            marks[b][j] = Mark.APPROVE
            load[b] += 1
    assert max(load, default=0) <= seats
    return [Ballot(marks=tuple(m)) for m in marks]
