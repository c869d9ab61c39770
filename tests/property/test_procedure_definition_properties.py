"""Properties of the procedure definition (spec/procedure.md §2): the resolved ``procedure/1``
round trip, and the RP-2.2 ranges against a direct transcription of the table."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.model import MarginRule
from tally.core.procedure import (
    ProcedureDefinitionError,
    parse_procedure,
    procedure_id_of,
    render_procedure,
)
from tests.helpers.procedure import build, example_document, example_input

_LABEL = st.text(alphabet=string.ascii_letters + "满意基本不", min_size=1, max_size=16).filter(
    lambda s: s == s.strip()
)


@st.composite
def _scale(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[str]]:
    letters = draw(
        st.lists(st.sampled_from(string.ascii_lowercase), min_size=2, max_size=5, unique=True)
    )
    scale = [{"letter": c, "zh": draw(_LABEL), "en": draw(_LABEL)} for c in letters]
    fail = draw(
        st.lists(st.sampled_from(letters), min_size=1, max_size=len(letters) - 1, unique=True)
    )
    return scale, fail


@st.composite
def _post(draw: st.DrawFn, post: str, seats: int, margin: MarginRule) -> dict[str, Any]:
    ceil_fifth = -(-seats // 5)
    size = draw(st.integers(seats + ceil_fifth, max(2 * seats, seats + 2)))
    formal_choices = [0] + [
        f
        for f in range(seats, size + 1)
        if (5 * (f - seats) >= seats and f > seats) or (margin is MarginRule.NONE)
    ]
    return {
        "post": post,
        "seats": seats,
        "margin": margin.value,
        "preliminary_size": size,
        "formal_size": draw(st.sampled_from(formal_choices)),
        "max_per_ballot": draw(st.integers(1, size)),
    }


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid clerk's input: the example roster with every parameter drawn from its range."""
    data = example_input()
    body = draw(st.sampled_from(["assembly", "committee", "direct"]))
    sec_margin = MarginRule.NONE if body == "committee" else MarginRule.TWENTY_PERCENT
    posts = [draw(_post("committee", draw(st.integers(1, 15)), MarginRule.TWENTY_PERCENT))]
    posts.append(draw(_post("secretary", 1, sec_margin)))
    if draw(st.booleans()):
        posts.append(draw(_post("deputy_secretary", 1, sec_margin)))
    scale, fail = draw(_scale())
    den = draw(st.integers(2, 100))
    weights = draw(
        st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda w: w != (0, 0))
    )
    data.update(
        secretary={"elected_by": body},
        posts=posts,
        recommendation={
            "layout": draw(st.sampled_from(["listed", "written"])),
            "quorum": draw(st.sampled_from(["half", "four_fifths"])),
            "public_representatives": draw(st.integers(1, 2000)),
            "ranking": {
                "mode": draw(st.sampled_from(["shares", "sum"])),
                "member_weight": weights[0],
                "public_weight": weights[1],
            },
        },
        evaluation={
            "scale": scale,
            "fail_letters": fail,
            "fail_numerator": draw(st.integers(1, den - 1)),
            "fail_denominator": den,
            "fail_comparison": draw(st.sampled_from(["GT", "GE"])),
            "public_representatives": draw(st.integers(1, 2000)),
        },
        publicity_working_days=draw(st.integers(5, 60)),
    )
    return data


@settings(max_examples=60, deadline=None)
@given(inputs())
def test_parse_of_render_is_the_procedure_and_render_of_parse_the_document(
    data: dict[str, Any],
) -> None:
    """RP-2.2: "Every parameter is written out in the signed definition"; RP-2.3: the id is over
    JCS of that document, so it must read back to the same procedure and the same bytes."""
    procedure = build(data)
    document = render_procedure(procedure)
    assert parse_procedure(document) == procedure
    assert render_procedure(parse_procedure(document)) == document
    # JSON text round trip (what is stored), and the id does not move with it.
    again = json.loads(json.dumps(document, ensure_ascii=False))
    assert procedure_id_of(again) == procedure_id_of(document)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 15), st.integers(0, 40))
def test_preliminary_size_is_accepted_exactly_within_rp_2_2(seats: int, size: int) -> None:
    """RP-2.2 `L`: "integer with `5*(L−S) >= S` and `L <= max(2*S, S+2)`"."""
    doc = example_document()
    doc["posts"][0].update(seats=seats, preliminary_size=size, max_per_ballot=1)
    ok = 5 * (size - seats) >= seats and size <= max(2 * seats, seats + 2)
    if ok:
        assert parse_procedure(doc).posts[0].preliminary_size == size
    else:
        with pytest.raises(ProcedureDefinitionError) as e:
            parse_procedure(doc)
        assert [(p.code, p.path) for p in e.value.problems] == [
            ("procedure.parameter", "posts[0].preliminary_size")
        ]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 12), st.integers(0, 12))
def test_evaluation_share_is_accepted_exactly_within_rp_2_2(num: int, den: int) -> None:
    """RP-2.2 `fail_numerator`, `fail_denominator`: "`1 <= num < den <= 100`"."""
    doc = example_document()
    doc["evaluation"].update(fail_numerator=num, fail_denominator=den)
    if 1 <= num < den <= 100:
        assert parse_procedure(doc).evaluation.fail_denominator == den
    else:
        with pytest.raises(ProcedureDefinitionError):
            parse_procedure(doc)
