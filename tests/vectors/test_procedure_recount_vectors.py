"""The verifier's own recounts (``verifier.procedure``) against the procedure's unit vectors
(spec/procedure.md RP-15.1: spec/vectors/procedure/recommendation-ballot/, ranking/,
evaluation/): every vector's ``output`` is recounted exactly, and every ``error`` is the refusal
the verifier raises, code and clause. The producer's counting core passes the same vectors
(tests/vectors/test_procedure_unit_vectors.py), so the two sides agree on each of them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from verifier.procedure import (
    ProcedureRecountError,
    parse_counting,
    recount_evaluation,
    recount_proposal,
    recount_recommendation,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "procedure"


def _cases(folder: str) -> list[Path]:
    return sorted((VECTORS / folder).glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "procedure-unit-vector/1"
    return doc


def _check(doc: dict[str, Any], run: Any) -> None:
    if "error" in doc:
        with pytest.raises(ProcedureRecountError) as e:
            run()
        assert (e.value.code, e.value.clause) == (doc["error"]["code"], doc["error"]["clause"])
    else:
        assert run() == doc["output"]


def _definition(doc: dict[str, Any]) -> Any:
    return parse_counting(json.loads((VECTORS / doc["procedure"]).read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", _cases("recommendation-ballot"), ids=lambda p: p.stem)
def test_v25_recommendation_recount_equals_the_vector(path: Path) -> None:
    doc = _load(path)
    i = doc["input"]
    _check(
        doc,
        lambda: recount_recommendation(
            _definition(doc),
            group=i["group"],
            post=i["post"],
            round_=i["round"],
            ballots=i["ballots"],
            declared_invalid=i["declared_invalid"],
        ),
    )


@pytest.mark.parametrize("path", _cases("ranking"), ids=lambda p: p.stem)
def test_v26_preliminary_list_recount_equals_the_vector(path: Path) -> None:
    doc = _load(path)
    i = doc["input"]
    _check(
        doc,
        lambda: recount_proposal(
            _definition(doc),
            election_date=dt.date.fromisoformat(i["election_date"]),
            counts=i["counts"],
            omissions=i["omissions"],
            higher_level=i["higher_level"],
        ),
    )


@pytest.mark.parametrize("path", _cases("evaluation"), ids=lambda p: p.stem)
def test_v27_evaluation_recount_equals_the_vector(path: Path) -> None:
    doc = _load(path)
    i = doc["input"]
    _check(
        doc,
        lambda: recount_evaluation(
            _definition(doc),
            round_=i["round"],
            persons=i["persons"],
            ballots=i["ballots"],
            declared_invalid=i["declared_invalid"],
        ),
    )


def test_every_unit_vector_folder_is_recounted() -> None:
    assert len(_cases("recommendation-ballot")) >= 8
    assert len(_cases("ranking")) >= 13
    assert len(_cases("evaluation")) >= 7
