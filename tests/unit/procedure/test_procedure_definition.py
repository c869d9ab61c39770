"""spec/procedure.md §2 (RP-2.1, RP-2.2, RP-2.4): the procedure definition, every problem at once."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from tally.core.manifest import canonical
from tally.core.model import Body, MarginRule, MemberId, PostKind
from tally.core.procedure import (
    DEFAULT_SCALE,
    FailComparison,
    ProcedureDefinitionError,
    RankingMode,
    RecommendationLayout,
    RecommendationQuorum,
    build_procedure,
    parse_procedure,
    procedure_id_of,
    render_procedure,
)
from tests.helpers.procedure import (
    SCRUTINEERS,
    WORK_GROUP,
    build,
    example_document,
    example_input,
    pubkey,
)

Doc = dict[str, Any]


def _codes(e: pytest.ExceptionInfo[ProcedureDefinitionError]) -> set[tuple[str, str]]:
    return {(p.code, p.path) for p in e.value.problems}


# --- RP-2.2: defaults --------------------------------------------------------------------------


def test_new_writes_out_every_default_of_rp_2_2() -> None:
    p = build()
    committee, secretary = p.posts
    assert (committee.kind, committee.seats) == (PostKind.COMMITTEE, 5)
    # L = S + ceil(S/5); K = S; F = 0; the committee's margin is 20%.
    assert (committee.preliminary_size, committee.max_per_ballot, committee.formal_size) == (
        6,
        5,
        0,
    )
    assert committee.margin is MarginRule.TWENTY_PERCENT
    assert (secretary.preliminary_size, secretary.max_per_ballot, secretary.formal_size) == (
        2,
        1,
        0,
    )
    # R19: the assembly elects the secretary, so the 20% margin holds for it too.
    assert secretary.margin is MarginRule.TWENTY_PERCENT
    r = p.recommendation
    assert (r.layout, r.quorum, r.public_representatives) == (
        RecommendationLayout.LISTED,
        RecommendationQuorum.HALF,
        60,
    )
    assert (r.ranking.mode, r.ranking.member_weight, r.ranking.public_weight) == (
        RankingMode.SHARES,
        1,
        1,
    )
    ev = p.evaluation
    assert [(s.letter, s.zh, s.en) for s in ev.scale] == [
        (s["letter"], s["zh"], s["en"]) for s in DEFAULT_SCALE
    ]
    assert (ev.fail_letters, ev.fail_numerator, ev.fail_denominator) == (("d",), 1, 3)
    assert ev.fail_comparison is FailComparison.GT
    # Q defaults to R.
    assert ev.public_representatives == r.public_representatives
    assert p.publicity_working_days == 5
    assert p.qualifications.secretary_new_max_age == 45


def test_secretary_margin_defaults_to_none_when_the_committee_elects_the_secretary() -> None:
    data = example_input()
    data["secretary"] = {"elected_by": "committee"}
    assert build(data).posts[1].margin is MarginRule.NONE


def test_preliminary_size_default_rounds_the_fifth_up() -> None:
    data = example_input()
    data["posts"][0]["seats"] = 7
    assert build(data).posts[0].preliminary_size == 9  # 7 + ceil(7/5)


def test_evaluation_representatives_default_to_the_recommendations_even_when_given_later() -> None:
    data = example_input()
    data["recommendation"]["public_representatives"] = 45
    assert build(data).evaluation.public_representatives == 45
    data["evaluation"] = {"public_representatives": 30}
    assert build(data).evaluation.public_representatives == 30


def test_chinese_enum_spellings_are_accepted_in_the_input_and_written_as_codes() -> None:
    data = example_input()
    data["posts"][0]["post"] = "委员"
    data["secretary"] = {"elected_by": "党员大会"}
    doc = render_procedure(build(data))
    assert doc["posts"][0]["post"] == "committee"
    assert doc["secretary"] == {"elected_by": "assembly"}


def test_input_carrying_keys_is_refused_keys_come_from_the_key_files() -> None:
    data = example_input()
    data["keys"] = {"work_group": pubkey(WORK_GROUP), "scrutineers": []}
    with pytest.raises(ProcedureDefinitionError) as e:
        build(data)
    assert ("field.unknown", "keys") in _codes(e)


# --- RP-2.1, RP-2.3: the resolved document and the procedure id -----------------------------


def test_parse_of_the_rendered_document_gives_the_same_procedure() -> None:
    p = build()
    assert parse_procedure(render_procedure(p)) == p


def test_procedure_id_is_sha256_of_domain_zero_and_jcs() -> None:
    doc = example_document()
    want = hashlib.sha256(b"branch-election/procedure/1\x00" + canonical(doc)).digest()
    assert procedure_id_of(doc) == want
    assert len(want.hex()) == 64


def test_procedure_id_does_not_depend_on_member_order_of_the_json() -> None:
    doc = example_document()
    reversed_doc = dict(reversed(list(doc.items())))
    assert procedure_id_of(reversed_doc) == procedure_id_of(doc)


def test_nominable_members_are_eligible_electors_not_excluded() -> None:
    p = build()
    # M015 is excluded; M027/M028 probationary; M029 on party probation; M030 registered elsewhere.
    for mid in ("M015", "M027", "M028", "M029", "M030"):
        assert MemberId(mid) not in p.nominable
    assert len(p.nominable) == 25
    assert set(p.expected_electors) == p.nominable
    assert p.position(p.ballot_order[3]) == 3
    assert p.member(MemberId("M001")).name == "丁建国"
    with pytest.raises(KeyError):
        p.member(MemberId("X999"))
    assert p.post(PostKind.DEPUTY_SECRETARY) is None
    assert p.post(PostKind.SECRETARY) is p.posts[1]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["posts"][0].__setitem__("post", "委员"), "posts[0].post"),
        (lambda d: d["election"].__setitem__("title", " 中共青山村支部委员会换届选举"), "title"),
        (lambda d: d["members"][0].pop("incumbent_secretary"), "incumbent_secretary"),
    ],
    ids=["chinese-alias", "untrimmed-text", "default-left-out"],
)
def test_a_document_not_in_resolved_form_is_refused(
    change: Callable[[Doc], object], path: str
) -> None:
    doc = example_document()
    change(doc)
    with pytest.raises(ProcedureDefinitionError) as e:
        parse_procedure(doc)
    assert [p.code for p in e.value.problems] == ["procedure.not_resolved"]


# --- RP-2.4: one named negative case per rule ---------------------------------------------------


def _set(path: str, value: object) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *head, last = path.split(".")
        target: Any = doc
        for part in head:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last if not last.isdigit() else int(last)]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


def _other_key(role: str) -> dict[str, Any]:
    doc = pubkey(SCRUTINEERS[0])
    doc["role"] = role
    return doc


CASES: list[tuple[str, Callable[[Doc], object], str, str]] = [
    ("format-version", _set("format", "procedure/2"), "format.version", "format"),
    ("unknown-member", _set("extra", 1), "field.unknown", "extra"),
    ("missing-member", _set("evaluation", _DELETE), "field.missing", "evaluation"),
    (
        "missing-public-representatives",
        _set("recommendation.public_representatives", _DELETE),
        "field.missing",
        "recommendation.public_representatives",
    ),
    (
        "branch-code-pattern",
        _set("election.branch_code", "青山"),
        "procedure.branch_code",
        "election.branch_code",
    ),
    ("casework-id-not-lowercase-hex", _set("casework_id", "AB" * 32), "field.type", "casework_id"),
    (
        "ballot-order-leaves-out-a-nominable-member",
        lambda d: d["ballot_order"].remove("M001"),
        "procedure.ballot_order",
        "ballot_order",
    ),
    (
        "ballot-order-lists-an-excluded-member",
        lambda d: d["ballot_order"].append("M015"),
        "procedure.ballot_order",
        "ballot_order[25]",
    ),
    (
        "ballot-order-lists-a-probationary-member",
        lambda d: d["ballot_order"].append("M027"),
        "procedure.ballot_order",
        "ballot_order[25]",
    ),
    (
        "ballot-order-lists-a-member-registered-elsewhere",
        lambda d: d["ballot_order"].append("M030"),
        "procedure.ballot_order",
        "ballot_order[25]",
    ),
    (
        "ballot-order-repeats-a-member",
        lambda d: d["ballot_order"].append("M001"),
        "procedure.ballot_order",
        "ballot_order[25]",
    ),
    (
        "ballot-order-names-nobody-on-the-roster",
        lambda d: d["ballot_order"].append("X999"),
        "procedure.ballot_order",
        "ballot_order[25]",
    ),
    (
        "preliminary-size-below-the-20pct-margin",
        _set("posts.0.preliminary_size", 5),
        "procedure.parameter",
        "posts[0].preliminary_size",
    ),
    (
        "preliminary-size-above-double",
        _set("posts.0.preliminary_size", 11),
        "procedure.parameter",
        "posts[0].preliminary_size",
    ),
    (
        "one-seat-preliminary-size-above-s-plus-two",
        _set("posts.1.preliminary_size", 4),
        "procedure.parameter",
        "posts[1].preliminary_size",
    ),
    (
        "formal-size-without-the-margin",
        _set("posts.0.formal_size", 5),
        "procedure.parameter",
        "posts[0].formal_size",
    ),
    (
        "formal-size-above-the-preliminary-size",
        _set("posts.0.formal_size", 7),
        "procedure.parameter",
        "posts[0].formal_size",
    ),
    (
        "max-per-ballot-zero",
        _set("posts.0.max_per_ballot", 0),
        "procedure.parameter",
        "posts[0].max_per_ballot",
    ),
    (
        "max-per-ballot-above-the-preliminary-size",
        _set("posts.0.max_per_ballot", 7),
        "procedure.parameter",
        "posts[0].max_per_ballot",
    ),
    ("seats-zero", _set("posts.0.seats", 0), "post.seats", "posts[0].seats"),
    ("secretary-two-seats", _set("posts.1.seats", 2), "post.seats", "posts[1].seats"),
    ("committee-margin-none", _set("posts.0.margin", "none"), "post.margin", "posts[0].margin"),
    (
        "post-twice",
        lambda d: d["posts"].append(copy.deepcopy(d["posts"][1])),
        "post.duplicate",
        "posts[2].post",
    ),
    ("posts-out-of-order", lambda d: d["posts"].reverse(), "procedure.parameter", "posts"),
    ("no-secretary-post", lambda d: d["posts"].pop(), "post.no_secretary", "posts"),
    (
        "no-committee-but-the-committee-elects",
        lambda d: (d["posts"].pop(0), d["secretary"].__setitem__("elected_by", "committee")),
        "secretary.body",
        "secretary.elected_by",
    ),
    (
        "public-representatives-zero",
        _set("recommendation.public_representatives", 0),
        "procedure.parameter",
        "recommendation.public_representatives",
    ),
    (
        "public-representatives-over-2000",
        _set("recommendation.public_representatives", 2001),
        "procedure.parameter",
        "recommendation.public_representatives",
    ),
    (
        "layout-unknown",
        _set("recommendation.layout", "printed"),
        "field.choice",
        "recommendation.layout",
    ),
    (
        "quorum-unknown",
        _set("recommendation.quorum", "two_thirds"),
        "field.choice",
        "recommendation.quorum",
    ),
    (
        "ranking-mode-unknown",
        _set("recommendation.ranking.mode", "borda"),
        "field.choice",
        "recommendation.ranking.mode",
    ),
    (
        "weights-both-zero",
        lambda d: d["recommendation"]["ranking"].update(member_weight=0, public_weight=0),
        "procedure.parameter",
        "recommendation.ranking",
    ),
    (
        "weight-over-100",
        _set("recommendation.ranking.public_weight", 101),
        "procedure.parameter",
        "recommendation.ranking.public_weight",
    ),
    (
        "scale-one-item",
        lambda d: d["evaluation"]["scale"].__delitem__(slice(1, 3)),
        "procedure.parameter",
        "evaluation.scale",
    ),
    (
        "scale-six-items",
        lambda d: d["evaluation"]["scale"].extend({"letter": c, "zh": c, "en": c} for c in "wxy"),
        "procedure.parameter",
        "evaluation.scale",
    ),
    (
        "scale-letter-not-a-to-z",
        _set("evaluation.scale.0.letter", "S"),
        "procedure.parameter",
        "evaluation.scale[0].letter",
    ),
    (
        "scale-letter-repeated",
        _set("evaluation.scale.1.letter", "s"),
        "procedure.parameter",
        "evaluation.scale[1].letter",
    ),
    (
        "scale-zh-label-over-16",
        _set("evaluation.scale.0.zh", "满" * 17),
        "procedure.parameter",
        "evaluation.scale[0].zh",
    ),
    (
        "scale-en-label-over-32",
        _set("evaluation.scale.0.en", "s" * 33),
        "procedure.parameter",
        "evaluation.scale[0].en",
    ),
    (
        "fail-letters-every-letter",
        _set("evaluation.fail_letters", ["s", "b", "d"]),
        "procedure.parameter",
        "evaluation.fail_letters",
    ),
    (
        "fail-letters-empty",
        _set("evaluation.fail_letters", []),
        "procedure.parameter",
        "evaluation.fail_letters",
    ),
    (
        "fail-letter-not-on-the-scale",
        _set("evaluation.fail_letters", ["x"]),
        "procedure.parameter",
        "evaluation.fail_letters",
    ),
    (
        "fail-share-numerator-not-below-denominator",
        _set("evaluation.fail_numerator", 3),
        "procedure.parameter",
        "evaluation.fail_numerator",
    ),
    (
        "fail-share-denominator-over-100",
        lambda d: d["evaluation"].update(fail_numerator=1, fail_denominator=101),
        "procedure.parameter",
        "evaluation.fail_numerator",
    ),
    (
        "fail-comparison-unknown",
        _set("evaluation.fail_comparison", "GTE"),
        "field.choice",
        "evaluation.fail_comparison",
    ),
    (
        "evaluation-representatives-zero",
        _set("evaluation.public_representatives", 0),
        "procedure.parameter",
        "evaluation.public_representatives",
    ),
    (
        "publicity-four-days",
        _set("publicity_working_days", 4),
        "procedure.parameter",
        "publicity_working_days",
    ),
    (
        "publicity-sixty-one-days",
        _set("publicity_working_days", 61),
        "procedure.parameter",
        "publicity_working_days",
    ),
    (
        "one-scrutineer-key-for-two-scrutineers",
        lambda d: d["keys"]["scrutineers"].pop(),
        "procedure.keys",
        "keys.scrutineers",
    ),
    (
        "scrutineer-key-of-another-role",
        _set("keys.scrutineers.0", _other_key("work_group")),
        "procedure.keys",
        "keys.scrutineers[0]",
    ),
    (
        "work-group-key-of-another-role",
        _set("keys.work_group", _other_key("scrutineer")),
        "procedure.keys",
        "keys.work_group",
    ),
    (
        "scrutineer-key-given-twice",
        lambda d: d["keys"]["scrutineers"].__setitem__(1, d["keys"]["scrutineers"][0]),
        "procedure.keys",
        "keys.scrutineers",
    ),
    ("key-not-32-bytes", _set("keys.work_group.key", "AAAA"), "procedure.keys", "keys.work_group"),
    (
        "roster-duplicate-id",
        lambda d: d["members"].append(copy.deepcopy(d["members"][0])),
        "members.duplicate_id",
        "members[30].id",
    ),
    (
        "exclusion-without-assembly-approval",
        _set("exclusions.0.assembly_approval", ""),
        "exclusion.approval_missing",
        "exclusions[0].assembly_approval",
    ),
    (
        "official-in-both-roles",
        _set("officials.tellers", ["M009"]),
        "official.both_roles",
        "officials",
    ),
    (
        "official-not-on-the-roster",
        _set("officials.tellers", ["X999"]),
        "member.unknown",
        "officials.tellers[0]",
    ),
    ("election-missing", _set("election", _DELETE), "field.missing", "election"),
    ("election-title-missing", _set("election.title", _DELETE), "field.missing", "election.title"),
    ("posts-empty", _set("posts", []), "posts.empty", "posts"),
    ("ballot-order-missing", _set("ballot_order", _DELETE), "field.missing", "ballot_order"),
    ("exclusions-missing", _set("exclusions", _DELETE), "field.missing", "exclusions"),
    ("recommendation-missing", _set("recommendation", _DELETE), "field.missing", "recommendation"),
    ("recommendation-not-an-object", _set("recommendation", 5), "field.type", "recommendation"),
    (
        "ranking-missing",
        _set("recommendation.ranking", _DELETE),
        "field.missing",
        "recommendation.ranking",
    ),
    ("scale-missing", _set("evaluation.scale", _DELETE), "field.missing", "evaluation.scale"),
    ("qualifications-missing", _set("qualifications", _DELETE), "field.missing", "qualifications"),
    (
        "qualification-policy-unknown",
        _set("qualifications.qualification_policy", "maybe"),
        "field.choice",
        "qualifications.qualification_policy",
    ),
    ("keys-missing", _set("keys", _DELETE), "field.missing", "keys"),
    (
        "scrutineer-keys-not-a-list",
        _set("keys.scrutineers", {}),
        "procedure.keys",
        "keys.scrutineers",
    ),
    ("secretary-missing", _set("secretary", _DELETE), "field.missing", "secretary"),
    (
        "no-scrutineer",
        lambda d: (
            d["officials"].__setitem__("scrutineers", []),
            d["keys"].__setitem__("scrutineers", []),
        ),
        "officials.missing",
        "officials.scrutineers",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rp_2_4_refuses_with_code_and_path(
    change: Callable[[Doc], object], code: str, path: str
) -> None:
    doc = example_document()
    change(doc)
    with pytest.raises(ProcedureDefinitionError) as e:
        parse_procedure(doc)
    assert (code, path) in _codes(e), _codes(e)
    assert e.value.code == "procedure.invalid"
    assert all(p.zh and p.en for p in e.value.problems)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("posts.0.preliminary_size", 10),  # 2*S
        ("posts.1.preliminary_size", 3),  # S+2 on a one-seat post
        ("posts.0.formal_size", 6),  # meets the 20% margin, = L
        ("posts.0.max_per_ballot", 6),  # = L
        ("posts.0.max_per_ballot", 1),
        ("recommendation.public_representatives", 2000),
        ("recommendation.ranking.member_weight", 0),  # one weight may be 0
        ("evaluation.fail_denominator", 100),
        ("publicity_working_days", 60),
    ],
)
def test_rp_2_2_boundaries_are_accepted(path: str, value: object) -> None:
    doc = example_document()
    _set(path, value)(doc)
    assert render_procedure(parse_procedure(doc)) == doc


def test_every_problem_is_reported_in_one_pass() -> None:
    doc = example_document()
    doc["election"]["branch_code"] = "青山"
    doc["posts"][0]["preliminary_size"] = 5
    doc["evaluation"]["fail_letters"] = ["x"]
    doc["publicity_working_days"] = 4
    doc["ballot_order"].append("M027")
    doc["keys"]["scrutineers"].pop()
    with pytest.raises(ProcedureDefinitionError) as e:
        parse_procedure(doc)
    assert {c for c, _ in _codes(e)} >= {
        "procedure.branch_code",
        "procedure.parameter",
        "procedure.ballot_order",
        "procedure.keys",
    }
    assert len(e.value.problems) == 6


def test_a_table_given_empty_lists_each_missing_member() -> None:
    doc = example_document()
    doc["recommendation"] = {}
    with pytest.raises(ProcedureDefinitionError) as e:
        parse_procedure(doc)
    assert {p for c, p in _codes(e) if c == "field.missing"} >= {
        "recommendation.layout",
        "recommendation.public_representatives",
        "recommendation.ranking",
    }


def test_build_reports_input_problems_with_the_same_codes() -> None:
    data = example_input()
    data["posts"][0]["seats"] = 0
    data["recommendation"].pop("public_representatives")
    with pytest.raises(ProcedureDefinitionError) as e:
        build_procedure(
            data,
            work_group_key=pubkey(WORK_GROUP),
            scrutineer_keys=[pubkey(s) for s in SCRUTINEERS],
        )
    assert ("post.seats", "posts[0].seats") in _codes(e)
    assert ("field.missing", "recommendation.public_representatives") in _codes(e)


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda d: d.__setitem__("posts", [5]), "field.type", "posts"),
        (
            lambda d: d.__setitem__("secretary", {"elected_by": 5}),
            "field.choice",
            "secretary.elected_by",
        ),
        (lambda d: d["posts"][0].__setitem__("post", "bogus"), "field.choice", "posts[0].post"),
    ],
    ids=["post-not-a-table", "body-not-text", "post-kind-unknown"],
)
def test_defaults_leave_a_wrong_value_for_the_parser_to_name(
    change: Callable[[Doc], object], code: str, path: str
) -> None:
    data = example_input()
    change(data)
    with pytest.raises(ProcedureDefinitionError) as e:
        build(data)
    assert (code, path) in _codes(e)


def test_secretary_body_is_kept() -> None:
    data = example_input()
    data["secretary"] = {"elected_by": "direct"}
    assert build(data).secretary_body is Body.DIRECT


def test_the_input_states_its_format_as_every_document_does() -> None:
    data = example_input()
    del data["format"]
    with pytest.raises(ProcedureDefinitionError) as e:
        build(data)
    assert ("format.version", "format") in _codes(e)
