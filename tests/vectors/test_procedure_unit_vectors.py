"""The counting core's unit vectors (spec/procedure.md RP-15.1: spec/vectors/procedure/ranking/,
recommendation-ballot/, evaluation/): fresh, and each one's output or error reproduced from its
JSON input by the producer's counting core."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tally.core.model import MemberId, PostKind
from tally.core.procedure import Procedure, ProcedureCountError, parse_procedure
from tally.core.procedure.evaluation import EvaluationBallot, count_evaluation
from tally.core.procedure.ranking import Omission, OmissionReason, propose
from tally.core.procedure.recommendation import (
    MemberRecommendations,
    NotCountedReason,
    ReasonCount,
    RecommendationBallot,
    RecommendationCount,
    RecommendationGroup,
    WrittenName,
    WrittenNameNote,
    count_recommendation_round,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "procedure"
UNIT = sorted(
    str(p.relative_to(VECTORS))
    for folder in ("ranking", "recommendation-ballot", "evaluation")
    for p in (VECTORS / folder).glob("*.json")
)


def test_procedure_unit_vectors_match_a_fresh_generation() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_procedure_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0, r.stderr


def test_every_vector_family_of_rp_15_1_is_present() -> None:
    names = {Path(n).stem for n in UNIT}
    for name in (
        "tie-at-cut-worked-example",
        "shares-equal-weights",
        "shares-weighted-2-1",
        "sum",
        "one-group-no-valid-ballots",
        "tie-at-cut-three-way",
        "tie-inside-list",
        "short-post",
        "omission-moves-next-up",
        "secretary-name-added-to-committee",
        "higher-level-name",
        "over-limit-invalid",
        "written-nonmember",
        "written-not-nominable",
        "written-listed-printed-name",
        "written-repeated",
        "unreadable-mark-not-counted",
        "blank-valid",
        "one-third-gt-boundary-10-of-30-proceeds",
        "11-of-30-does-not",
        "ge-boundary",
        "blank-rows-in-base",
        "custom-scale-two-letters",
        "no-valid-ballots",
    ):
        assert name in names


def _count_of(body: dict[str, Any]) -> RecommendationCount:
    return RecommendationCount(
        group=RecommendationGroup(body["group"]),
        post=PostKind(body["post"]),
        round=body["round"],
        valid_ballots=body["valid_ballots"],
        invalid_ballots=body["invalid_ballots"],
        recommendations=tuple(
            MemberRecommendations(MemberId(r["member"]), r["recommendations"])
            for r in body["recommendations"]
        ),
        not_counted=tuple(
            ReasonCount(NotCountedReason(c["reason"]), c["count"]) for c in body["not_counted"]
        ),
        written_names=tuple(
            WrittenNameNote(w["name"], NotCountedReason(w["reason"])) for w in body["written_names"]
        ),
    )


def _run(folder: str, p: Procedure, given: dict[str, Any]) -> dict[str, Any]:
    if folder == "ranking":
        return propose(
            p,
            election_date=dt.date.fromisoformat(given["election_date"]),
            counts=[_count_of(c) for c in given["counts"]],
            omissions=[
                Omission(
                    MemberId(o["member"]),
                    OmissionReason(o["reason"]),
                    o["category"],
                    o["reference"],
                )
                for o in given["omissions"]
            ],
            higher_level={
                PostKind(h["post"]): [MemberId(m) for m in h["members"]]
                for h in given["higher_level"]
            },
        ).to_json()
    if folder == "recommendation-ballot":
        return count_recommendation_round(
            p,
            RecommendationGroup(given["group"]),
            PostKind(given["post"]),
            given["round"],
            [
                RecommendationBallot(
                    b["marks"], tuple(WrittenName(w["name"], w["member"]) for w in b["written"])
                )
                for b in given["ballots"]
            ],
            declared_invalid=given["declared_invalid"],
        ).to_json()
    return count_evaluation(
        p,
        given["round"],
        [MemberId(m) for m in given["persons"]],
        [EvaluationBallot(b["marks"], b["added_rows"]) for b in given["ballots"]],
        declared_invalid=given["declared_invalid"],
    ).to_json()


@pytest.mark.parametrize("name", UNIT)
def test_each_unit_vector_is_reproduced_from_its_input(name: str) -> None:
    doc = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    assert doc["format"] == "procedure-unit-vector/1"
    procedure = parse_procedure(json.loads((VECTORS / doc["procedure"]).read_text("utf-8")))
    folder = name.split("/", maxsplit=1)[0]
    if "error" in doc:
        assert Path(name).stem.startswith("invalid-") or Path(name).stem == "no-valid-ballots"
        with pytest.raises(ProcedureCountError) as e:
            _run(folder, procedure, doc["input"])
        assert (e.value.code, e.value.clause) == (doc["error"]["code"], doc["error"]["clause"])
    else:
        assert _run(folder, procedure, doc["input"]) == doc["output"]


def test_the_worked_example_vector_has_f_and_g_tied_at_the_cut() -> None:
    doc = json.loads((VECTORS / "ranking" / "tie-at-cut-worked-example.json").read_text("utf-8"))
    names = doc["output"]["posts"][0]["names"]
    assert [n["score"] for n in names] == [3060, 2080, 2020, 1480, 1390, 1364, 1364]
    assert [n["basis"] for n in names][-2:] == ["tie_at_cut", "tie_at_cut"]
