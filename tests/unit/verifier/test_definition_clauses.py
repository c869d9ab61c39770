"""V4/V5 on definitions a dishonest producer signs: each A12 refusal is found by the verifier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]


def codes(report: Report, clause: str) -> list[str]:
    [result] = [c for c in report.clauses if c.clause == clause]
    return [f.code for f in result.findings]


def run_with(run: Runner, edit: Callable[[dict[str, Any]], None]) -> Report:
    d = B.definition()
    edit(d)
    return run(B.build(B.script(), man=B.manifest(d)))


def test_V5_fewer_candidates_than_seats_is_too_few_candidates_A12_13(run: Runner) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["posts"][1].update({"candidates": [], "margin": "none"})

    found = codes(run_with(run, edit), "V5")
    assert "post.too_few_candidates" in found
    assert "post.margin" not in found


def test_V5_a_committee_short_of_its_margin_is_post_margin_R18(run: Runner) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["posts"][0]["candidates"] = ["M01", "M02", "M03"]

    found = codes(run_with(run, edit), "V5")
    assert "post.margin" in found
    assert "post.too_few_candidates" not in found


@pytest.mark.parametrize("category", ["party_probation", "membership_stopped", "detained"])
def test_V4_an_exclusion_of_a_never_elector_category_is_refused_R3_4(
    run: Runner, category: str
) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["exclusions"][0]["category"] = category

    report = run_with(run, edit)
    assert codes(report, "V4") == ["exclusion.category_not_elector"]
