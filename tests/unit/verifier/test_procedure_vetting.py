"""The verifier's vetting recount on RP-4.6's worked example (spec/procedure.md RP-4.6, RP-6.1,
RP-6.2): G fails the evaluation and is stopped for ``evaluation``; A-F proceed, six names for five
seats meet the margin; a finding about a member on no list and an unevaluated name are refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from verifier.procedure import (
    ProcedureRecountError,
    formal_list_problems,
    parse_counting,
    recount_vetting,
)

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors" / "procedure"
WORKED = json.loads((VECTORS / "ranking" / "tie-at-cut-worked-example.json").read_text("utf-8"))
D = parse_counting(json.loads((VECTORS / "unit-procedures" / "listed.json").read_text("utf-8")))
PROPOSAL: dict[str, Any] = WORKED["output"]
NAMES = [n["member"] for n in PROPOSAL["posts"][0]["names"]]  # A..G, G last but one by order
A, B, C, D_, E, F = D.ballot_order[:6]
G = D.ballot_order[6]


def _evaluation(failing: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "round": 1,
            "results": [
                {"member": m, "outcome": "does_not_proceed" if m in failing else "proceeds"}
                for m in NAMES
            ],
        }
    ]


def test_rp_4_6_vetting_stops_g_for_the_evaluation_and_a_to_f_proceed() -> None:
    body = recount_vetting(D, proposals=[PROPOSAL], evaluations=_evaluation({G}), findings=[])
    committee = body["posts"][0]
    assert committee["proceeding"] == [A, B, C, D_, E, F]
    assert committee["stopped"] == [
        {"member": G, "reason": "evaluation", "category": "", "reference": ""}
    ]
    problems = formal_list_problems(D, body, election_date=dt.date(2026, 12, 20), orders={})
    assert problems == ["post.too_few_candidates"]  # the secretary post has no name here


def test_rp_6_1_the_evaluation_reason_comes_before_a_finding() -> None:
    finding = {"member": G, "reason": "declined", "category": "", "reference": "书面放弃"}
    body = recount_vetting(
        D, proposals=[PROPOSAL], evaluations=_evaluation({G}), findings=[finding]
    )
    assert body["posts"][0]["stopped"][0]["reason"] == "evaluation"


def test_rp_6_1_a_finding_about_a_member_on_no_list_is_refused() -> None:
    outsider = D.ballot_order[20]
    finding = {"member": outsider, "reason": "declined", "category": "", "reference": "书面放弃"}
    with pytest.raises(ProcedureRecountError) as e:
        recount_vetting(D, proposals=[PROPOSAL], evaluations=_evaluation(set()), findings=[finding])
    assert e.value.code == "vetting.finding"


def test_rp_6_1_a_preliminary_name_without_an_outcome_is_refused() -> None:
    with pytest.raises(ProcedureRecountError) as e:
        recount_vetting(D, proposals=[PROPOSAL], evaluations=[], findings=[])
    assert e.value.code == "vetting.not_evaluated"
