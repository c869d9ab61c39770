"""Parsing the election definition: every bad input is a problem naming its field (spec/definition.md)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError
from tally.core.model import MemberStatus, PostKind, Preset, ThresholdBase
from tally.core.rules import full_members_on_roster, publicity_day_zero
from tests.helpers.elections import definition_text

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    return [(p.code, p.path) for p in e.value.problems]


BASE = definition_text(full=20)

BAD_INPUTS = [
    ("malformed-toml", BASE + "\n[[members]\n", ("toml.malformed", "")),
    ("unknown-top-field", 'colour = "red"\n' + BASE, ("field.unknown", "colour")),
    (
        "unknown-member-field",
        BASE.replace('status = "full"', 'status = "full"\nnickname = "x"', 1),
        ("field.unknown", "members[0].nickname"),
    ),
    (
        "duplicate-member-id",
        BASE.replace('id = "M002"', 'id = "M001"'),
        ("members.duplicate_id", "members[1].id"),
    ),
    (
        "candidate-not-on-roster",
        BASE.replace(
            'candidates = ["M001", "M002", "M003"', 'candidates = ["M099", "M002", "M003"'
        ),
        ("candidate.not_on_roster", "posts[0].candidates[0]"),
    ),
    (
        "probationary-candidate",
        definition_text(full=20, probationary=1).replace(
            'candidates = ["M001", "M002"]', 'candidates = ["M021", "M002"]'
        ),
        ("candidate.not_eligible", "posts[1].candidates[0]"),
    ),
    (
        "exclusion-without-higher-approval",
        definition_text(full=20, exclusions=1).replace(
            'higher_level_approval = "测组〔2026〕1号"\n', ""
        ),
        ("exclusion.approval_missing", "exclusions[0].higher_level_approval"),
    ),
    ("seats-zero", BASE.replace("seats = 5", "seats = 0"), ("post.seats", "posts[0].seats")),
    (
        "too-few-candidates-for-margin",
        definition_text(full=20, committee_candidates=5),
        ("post.margin", "posts[0].candidates"),
    ),
    (
        "official-is-candidate",
        BASE.replace('tellers = ["M019"]', 'tellers = ["M002"]'),
        ("official.is_candidate", "officials.tellers[0]"),
    ),
    (
        "unknown-preset",
        BASE.replace('preset = "R2020"', 'preset = "R1949"'),
        ("field.choice", "preset"),
    ),
    (
        "wrong-format-version",
        BASE.replace("election-definition/1", "election-definition/2"),
        ("format.version", "format"),
    ),
    (
        "member-date-not-a-date",
        BASE.replace("birth_date = 1985-01-01", 'birth_date = "1985"', 1),
        ("field.type", "members[0].birth_date"),
    ),
    (
        "secretary-not-committee-candidate",
        BASE.replace('candidates = ["M001", "M002"]', 'candidates = ["M001", "M010"]'),
        ("secretary.not_committee_candidate", "posts.secretary.candidates"),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in BAD_INPUTS], ids=[i for i, _, _ in BAD_INPUTS]
)
def test_bad_definition_names_the_field(text: str, expected: tuple[str, str]) -> None:
    assert expected in problems(text)


def test_every_problem_is_reported_at_once() -> None:
    text = (
        BASE.replace("seats = 5", "seats = 0")
        .replace('preset = "R2020"', 'preset = "R1949"')
        .replace('id = "M002"', 'id = "M001"')
    )
    codes = {code for code, _ in problems(text)}
    assert {"post.seats", "field.choice", "members.duplicate_id"} <= codes


def test_names_are_stored_exactly_as_entered_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "阿依古丽·买买提 Émile")
    text = BASE.replace('name = "于001"', f'name = "{decomposed}"')
    election = parse_definition(text)
    assert election.members[0].name == unicodedata.normalize("NFC", decomposed)


def test_chinese_aliases_are_accepted_for_enumerations() -> None:
    text = BASE.replace('status = "full"', 'status = "正式党员"', 1).replace(
        'post = "committee"', 'post = "委员"'
    )
    election = parse_definition(text)
    assert election.members[0].status is MemberStatus.FULL
    assert election.post(PostKind.COMMITTEE) is not None


def test_preset_R1990_sets_threshold_base_P_and_can_be_overridden_R1() -> None:
    assert (
        parse_definition(definition_text(full=20, preset="R1990")).parameters.threshold_base
        is ThresholdBase.PRESENT
    )
    overridden = parse_definition(
        definition_text(full=20, preset="R1990", parameters='threshold_base = "E"')
    )
    assert overridden.parameters.preset is Preset.R1990
    assert overridden.parameters.threshold_base is ThresholdBase.EXPECTED


def test_secretary_qualification_blocks_by_default_and_warns_when_configured_R27() -> None:
    old = BASE.replace("birth_date = 1985-01-01", "birth_date = 1970-01-01", 1)
    assert ("qualification.age", "candidates.M001") in problems(old)
    warn = old.replace("[parameters]", '[parameters]\nqualification_policy = "warn"')
    assert parse_definition(warn).members[0].birth_date.year == 1970


@pytest.mark.parametrize("name", ["qingshan.toml", "shiqiao.toml"])
def test_examples_parse(name: str) -> None:
    election = parse_definition((EXAMPLES / name).read_text(encoding="utf-8"))
    assert election.members


def test_qualifications_are_reported_in_the_same_pass_as_other_problems_R27_A12_13() -> None:
    text = (
        BASE.replace("birth_date = 1985-01-01", "birth_date = 1970-01-01", 1)
        .replace('id = "M003"', 'id = "M004"')
        .replace("seats = 5", "seats = 0")
    )
    found = problems(text)
    assert ("qualification.age", "candidates.M001") in found
    assert ("members.duplicate_id", "members[3].id") in found
    assert ("post.seats", "posts[0].seats") in found


def test_an_unparsable_birth_date_gives_no_qualification_problem_R27() -> None:
    text = BASE.replace("birth_date = 1985-01-01", 'birth_date = "1985"', 1)
    found = problems(text)
    assert ("field.type", "members[0].birth_date") in found
    assert not [p for p in found if p[0].startswith("qualification.")]


def test_fewer_candidates_than_seats_is_too_few_candidates_not_margin_R18_A12_13() -> None:
    found = problems(definition_text(full=20, committee_candidates=3))
    assert ("post.too_few_candidates", "posts[0].candidates") in found
    assert ("post.margin", "posts[0].candidates") not in found


def test_a_none_margin_post_without_candidates_enough_is_too_few_candidates_R19_A12_13() -> None:
    text = definition_text(full=20, secretary_body="committee", secretary_candidates=(1,))
    text = text.replace('seats = 1\ncandidates = ["M001"]', "seats = 1\ncandidates = []")
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    [problem] = [p for p in e.value.problems if p.path == "posts[1].candidates"]
    assert problem.code == "post.too_few_candidates"
    assert problem.clause == "R19"
    assert "至少需要 1 名" in problem.zh
    assert "20%" not in problem.en


def test_a_committee_waived_margin_with_too_few_candidates_gives_both_problems_R18() -> None:
    text = definition_text(full=20, committee_candidates=4).replace(
        "seats = 5\n", 'seats = 5\nmargin = "none"\n', 1
    )
    found = problems(text)
    assert ("post.margin", "posts[0].margin") in found
    assert ("post.too_few_candidates", "posts[0].candidates") in found


@pytest.mark.parametrize("category", ["party_probation", "membership_stopped", "detained"])
def test_an_exclusion_of_a_never_elector_category_is_refused_R3_4_A12_11(category: str) -> None:
    text = definition_text(full=20, exclusions=1).replace(
        'category = "infirm"', f'category = "{category}"'
    )
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    [problem] = [p for p in e.value.problems if p.code == "exclusion.category_not_elector"]
    assert problem.path == "exclusions[0].category"
    assert problem.clause == "R3"
    assert "本来就不是有选举权的党员" in problem.zh
    assert "simply not an eligible elector" in problem.en


@pytest.mark.parametrize(
    "category",
    ["illness", "abroad", "infirm", "away_unmoved", "migrant_applied"],
)
def test_an_exclusion_of_an_elector_category_is_accepted_R3(category: str) -> None:
    text = definition_text(full=20, exclusions=1).replace(
        'category = "infirm"', f'category = "{category}"'
    )
    assert len(parse_definition(text).exclusions) == 1


def test_the_committee_test_counts_full_members_on_the_roster_before_exclusions_R23() -> None:
    text = definition_text(full=7, probationary=2, committee_seats=None, exclusions=1).replace(
        'id = "M003"', 'id = "M003"\nregistered_here = false'
    )
    election = parse_definition(text)
    assert full_members_on_roster(election.members) == 7


@pytest.mark.parametrize(("days", "ok"), [(4, False), (5, True), (60, True), (61, False)])
def test_publicity_is_five_to_sixty_working_days_R26(days: int, ok: bool) -> None:
    text = definition_text(full=20, parameters=f"publicity_working_days = {days}")
    if ok:
        assert parse_definition(text).parameters.publicity_working_days == days
    else:
        assert ("parameters.publicity", "parameters.publicity_working_days") in problems(text)


def test_publicity_counts_from_the_announcement_never_before_the_election_date_R26_1() -> None:
    election = dt.date(2026, 9, 29)
    assert publicity_day_zero(election, dt.date(2026, 9, 29)) == election
    assert publicity_day_zero(election, dt.date(2026, 9, 30)) == dt.date(2026, 9, 30)
    assert publicity_day_zero(election, dt.date(2026, 9, 1)) == election
