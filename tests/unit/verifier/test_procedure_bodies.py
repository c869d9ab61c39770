"""(V22) Every procedure entry body has exactly its members at every level (spec/procedure.md
RP-11.1 with RP-3.7, RP-3.9, RP-3.10, RP-4.5, RP-5.2, RP-5.6, RP-6.1, RP-6.4, RP-7.2, RP-10.1;
RP-12.2's privacy rule): an unknown member inside an approval, appointment or count body is
``entry.body`` with its path, whatever the town's signature over it; every body the producer
writes passes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tally.core.procedure.entries import BODY_FIELDS
from verifier.procedure.bodies import BODIES, SHAPES, body_problem

ROOT = Path(__file__).resolve().parents[3]
BUNDLES = ROOT / "spec" / "vectors" / "procedure" / "bundles"


def _bodies() -> dict[str, list[dict[str, Any]]]:
    """Every body of every valid vector's log, by type (the producer's bodies)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for log in sorted((BUNDLES / "valid").glob("*/bundle/log.jsonl")):
        for line in log.read_bytes().splitlines():
            doc = json.loads(line)
            out.setdefault(doc["type"], []).append(doc["body"])
    return out


PRODUCED = _bodies()


def _first(type_: str) -> dict[str, Any]:
    return copy.deepcopy(PRODUCED[type_][0])


def test_v22_the_top_level_members_are_the_producers() -> None:
    assert {t: set(m) for t, m in BODIES.items()} == {t: set(m) for t, m in BODY_FIELDS.items()}


def test_v22_every_body_the_producer_wrote_in_the_valid_vectors_has_its_shape() -> None:
    assert set(SHAPES) - set(PRODUCED) <= {
        "ballot.declared_invalid",
        "stock.supplemented",
        "ballot.withdrawn",
        "officials.changed",
        "recommendation.quorum_failed",
        "round.void",
    }
    for type_, bodies in PRODUCED.items():
        for body in bodies:
            assert body_problem(type_, body) is None, (type_, body)


def _set(path: list[str | int], value: object) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        target: Any = body
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


# (type, the change, the path reported): one unknown or misplaced member per level and format.
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "appointment.recorded",
        _set(["appointment", "persons", 0, "what"], "异议人张三"),
        "body.appointment.persons[0].what",
    ),
    (
        "appointment.recorded",
        _set(["appointment", "casework", "note"], "x"),
        "body.appointment.casework.note",
    ),
    (
        "appointment.recorded",
        _set(["appointment", "reference"], {"what": "举报人李四"}),
        "body.appointment.reference",
    ),
    ("appointment.recorded", _set(["appointment", "comment"], ""), "body.appointment.comment"),
    (
        "candidates.approved",
        _set(["approval", "posts", 1, "note"], "x"),
        "body.approval.posts[1].note",
    ),
    (
        "candidates.approved",
        _set(["approval", "secretary", "why"], "x"),
        "body.approval.secretary.why",
    ),
    (
        "candidates.approved",
        _set(["approval", "posts", 0, "candidates", 0], {"member": "M01", "note": "x"}),
        "body.approval.posts[0].candidates[0]",
    ),
    (
        "higher_level.recommended",
        _set(["recommendation", "reason"], "x"),
        "body.recommendation.reason",
    ),
    (
        "recommendation.counted",
        _set(["recommendations", 0, "name"], "张三"),
        "body.recommendations[0].name",
    ),
    (
        "preliminary.proposed",
        _set(["posts", 0, "names", 2, "note"], "x"),
        "body.posts[0].names[2].note",
    ),
    ("preliminary.proposed", _set(["posts", 0, "omitted"], {}), "body.posts[0].omitted"),
    (
        "evaluation.counted",
        _set(["results", 0, "counts", 1, "who"], "x"),
        "body.results[0].counts[1].who",
    ),
    ("vetting.recorded", _set(["posts", 0, "extra"], []), "body.posts[0].extra"),
    ("election.concluded", _set(["elected", "note"], ["x"]), "body.elected.note"),
    ("evaluation.opened", _set(["candidates", 0], ["M01"]), "body.candidates[0]"),
]


@pytest.mark.parametrize(("type_", "edit", "path"), CASES, ids=[c[2] for c in CASES])
def test_v22_an_unknown_member_at_any_level_is_out_of_shape_with_its_path(
    type_: str, edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    body = _first(type_)
    assert body_problem(type_, body) is None
    edit(body)
    found = body_problem(type_, body)
    assert found is not None
    assert found[0] == path


def test_v22_a_missing_nested_member_is_out_of_shape() -> None:
    body = _first("recommendation.counted")
    body["recommendations"][0].pop("recommendations")
    assert body_problem("recommendation.counted", body) == (
        "body.recommendations[0].recommendations",
        "a missing member",
    )


def test_v22_a_written_row_with_a_third_member_is_out_of_shape() -> None:
    body = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": "00",
        "qr": "",
        "marks": "",
        "written": [{"name": "张三", "member": "", "note": "x"}],
    }
    assert body_problem("recommendation.entered", body) == (
        "body.written[0].note",
        "a member its format does not have",
    )
