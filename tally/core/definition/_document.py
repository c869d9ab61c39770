"""The definition as a whole (spec/definition.md; spec/rules.md R1, R26, R27): its format, preset
and parameters, the election's facts, and the entry points, which read every part and raise with
every problem found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tally.core.definition._collector import _NO_DATE, E, _Collector
from tally.core.definition._posts import _parse_posts
from tally.core.definition._roster import (
    _parse_exclusions,
    _parse_members,
    _parse_officials,
    _parse_remote,
)
from tally.core.errors import DefinitionError
from tally.core.model import (
    Body,
    Education,
    Election,
    Parameters,
    Preset,
    QualificationPolicy,
    QuorumComparison,
    ThresholdBase,
    UnreadableMark,
    WriteInUnmarked,
)
from tally.core.rules import (
    qualification_problems,
)
from tally.core.toml_errors import load_toml

FORMAT = "election-definition/1"

# R1: what each preset fills in; every one of these may be overridden in [parameters].
PRESET_DEFAULTS: Mapping[Preset, Mapping[str, Any]] = {
    Preset.R2020: {
        "quorum_comparison": QuorumComparison.GT,
        "threshold_base": ThresholdBase.EXPECTED,
    },
    Preset.R1990: {
        "quorum_comparison": QuorumComparison.GT,
        "threshold_base": ThresholdBase.PRESENT,
    },
}
_COMMON_DEFAULTS: Mapping[str, Any] = {
    "write_in_requires_disapproval": False,
    "write_in_unmarked": WriteInUnmarked.IGNORED,
    "unreadable_mark": UnreadableMark.VOID_MARK,
    "publicity_working_days": 5,
    "qualification_policy": QualificationPolicy.BLOCK,
    "secretary_new_max_age": 45,
    "secretary_new_min_education": Education.SENIOR_HIGH,
    "secretary_continuing_max_age": 50,
    "secretary_continuing_min_education": Education.JUNIOR_HIGH,
}

_TOP_KEYS = {
    "format",
    "preset",
    "election",
    "parameters",
    "members",
    "exclusions",
    "posts",
    "secretary",
    "officials",
    "remote_voting",
}
_ELECTION_KEYS = {"title", "branch", "town", "term", "date", "objections_to"}
# (R26, A12.8) Publicity: at least 5 working days (the town plan), at most 60.
_MIN_PUBLICITY = 5
_MAX_PUBLICITY = 60


def parse_definition(text: str) -> Election:
    """Parse the TOML text of an election definition.

    Args:
        text: the file's content.

    Raises:
        DefinitionError: with every problem found (malformed TOML gives one problem with its line).

    Returns:
        The validated election.
    """
    data = load_toml(text)
    return parse_definition_data(data)


def parse_definition_data(data: Mapping[str, Any]) -> Election:
    """Parse an already-decoded definition (the same checks as :func:`parse_definition`).

    Raises:
        DefinitionError: with every problem found.
    """
    c = _Collector()
    c.unknown_keys(data, _TOP_KEYS, "")
    fmt = data.get("format")
    if fmt != FORMAT:
        c.add(
            "format.version",
            "format",
            f"格式应为 {FORMAT!r}，实际为 {fmt!r}",
            f"format must be {FORMAT!r}, found {fmt!r}",
        )

    preset = c.enum(data, "preset", "", Preset, Preset.R2020) or Preset.R2020
    parameters = _parse_parameters(c, c.table(data, "parameters", "parameters"), preset)

    info = c.table(data, "election", "election")
    c.unknown_keys(info, _ELECTION_KEYS, "election")
    title = c.text(info, "title", "election")
    branch = c.text(info, "branch", "election")
    town = c.text(info, "town", "election")
    term = c.text(info, "term", "election")
    objections_to = c.text(info, "objections_to", "election")
    election_date = c.date(info, "date", "election")

    members = _parse_members(c, c.array_of_tables(data, "members"))
    by_id = {m.id: m for m in members}
    exclusions = _parse_exclusions(c, c.array_of_tables(data, "exclusions"), by_id)

    secretary = c.table(data, "secretary", "secretary")
    c.unknown_keys(secretary, {"elected_by"}, "secretary")
    body = c.enum(secretary, "elected_by", "secretary", Body, Body.ASSEMBLY) or Body.ASSEMBLY

    excluded = {x.member for x in exclusions}
    posts = _parse_posts(c, c.array_of_tables(data, "posts"), by_id, excluded, body)

    officials = _parse_officials(c, c.table(data, "officials", "officials"), by_id, posts)
    remote = _parse_remote(c, c.table(data, "remote_voting", "remote_voting"), by_id, excluded)

    # (R27, A12.13) Qualifications are checked in the same pass as everything else, for every
    # secretary candidate whose birth date (and the election date) parsed.
    if parameters.qualification_policy is QualificationPolicy.BLOCK and election_date != _NO_DATE:
        for post in posts:
            for cid in post.candidates:
                if by_id[cid].birth_date != _NO_DATE:
                    c.problems.extend(
                        qualification_problems(post.kind, by_id[cid], election_date, parameters)
                    )

    if c.problems:
        raise DefinitionError(tuple(c.problems))
    return Election(
        title=title,
        branch=branch,
        town=town,
        term=term,
        election_date=election_date,
        parameters=parameters,
        members=members,
        exclusions=exclusions,
        posts=posts,
        secretary_body=body,
        officials=officials,
        remote_voting=remote,
        objections_to=objections_to,
    )


def _parse_parameters(c: _Collector, table: Mapping[str, Any], preset: Preset) -> Parameters:
    defaults = {**_COMMON_DEFAULTS, **PRESET_DEFAULTS[preset]}
    c.unknown_keys(table, set(defaults), "parameters")
    p = "parameters"
    days = c.integer(table, "publicity_working_days", p, defaults["publicity_working_days"])
    if not _MIN_PUBLICITY <= days <= _MAX_PUBLICITY:
        c.add(
            "parameters.publicity",
            f"{p}.publicity_working_days",
            f"公示期应为 {_MIN_PUBLICITY} 到 {_MAX_PUBLICITY} 个工作日"
            "（镇实施方案：不少于 5 个工作日）",
            f"the publicity period must be {_MIN_PUBLICITY} to {_MAX_PUBLICITY} working days "
            "(the town plan: at least 5)",
            "R26",
        )

    def pick(key: str, kind: type[E]) -> E:
        got = c.enum(table, key, p, kind, defaults[key])
        return got if got is not None else defaults[key]  # type: ignore[no-any-return]

    return Parameters(
        preset=preset,
        quorum_comparison=pick("quorum_comparison", QuorumComparison),
        threshold_base=pick("threshold_base", ThresholdBase),
        write_in_requires_disapproval=c.boolean(
            table, "write_in_requires_disapproval", p, defaults["write_in_requires_disapproval"]
        ),
        write_in_unmarked=pick("write_in_unmarked", WriteInUnmarked),
        unreadable_mark=pick("unreadable_mark", UnreadableMark),
        publicity_working_days=days,
        qualification_policy=pick("qualification_policy", QualificationPolicy),
        secretary_new_max_age=c.integer(
            table, "secretary_new_max_age", p, defaults["secretary_new_max_age"]
        ),
        secretary_new_min_education=pick("secretary_new_min_education", Education),
        secretary_continuing_max_age=c.integer(
            table, "secretary_continuing_max_age", p, defaults["secretary_continuing_max_age"]
        ),
        secretary_continuing_min_education=pick("secretary_continuing_min_education", Education),
    )
