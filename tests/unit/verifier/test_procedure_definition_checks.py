"""(V21, RP-2.4) The verifier's own checks of ``procedure/1`` give the producer's codes and paths.

Every named negative case of the producer's RP-2.4 table (tests/unit/procedure/
test_procedure_definition.py ``CASES``) is run through the verifier's V21 path
(``parse_counting`` for the shape, then ``definition_problems``): the problem the producer names
is one the verifier names too, with the same field path. The verifier reads the resolved
``procedure/1`` only (no TOML input, no defaults), so the shape codes of the few cases its
strict reader reports differently are listed in ``SHAPE``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.procedure import example_document
from tests.unit.procedure.test_procedure_definition import CASES
from verifier.errors import VerificationError
from verifier.procedure.definition import parse_counting
from verifier.procedure.definition_checks import definition_problems

# The producer's (code, path) -> the verifier's strict shape reader's, for the cases where a
# member's type makes the whole document unreadable to the verifier's reader.
SHAPE: dict[tuple[str, str], tuple[str, str]] = {}


def v21(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """The (code, path) of every V21 problem the verifier reports for ``doc``."""
    try:
        parse_counting(doc)
    except VerificationError as e:
        return {(e.code, e.path)}
    return {(p.code, p.path) for p in definition_problems(doc)}


def test_the_example_definition_has_no_problem() -> None:
    assert v21(example_document()) == set()


@pytest.mark.parametrize(
    ("change", "code", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_v21_names_the_producers_code_and_path(
    change: Callable[[dict[str, Any]], object], code: str, path: str
) -> None:
    doc = example_document()
    change(doc)
    assert SHAPE.get((code, path), (code, path)) in v21(doc)


def _set(doc: dict[str, Any], path: str, value: object) -> None:
    *head, last = path.split(".")
    target: Any = doc
    for part in head:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    ("path", "value", "code", "where"),
    [
        ("election.title", " 青山村 ", "procedure.not_resolved", "election.title"),
        ("members.0.name", "e\u0301", "procedure.not_resolved", "members[0].name"),
        ("members.0.sex", "男", "field.choice", "members[0].sex"),
        ("members.0.status", "正式党员", "field.choice", "members[0].status"),
        ("members.0.registered_here", 1, "field.type", "members[0].registered_here"),
        ("members.0.id", "\u041c001", "members.id_format", "members[0].id"),
        (
            "exclusions.0.category",
            "detained",
            "exclusion.category_not_elector",
            "exclusions[0].category",
        ),
        ("exclusions.0.member", "X999", "member.unknown", "exclusions[0].member"),
        ("exclusions.0.member", "M027", "exclusion.not_elector", "exclusions[0].member"),
        ("officials.scrutineers.1", "M009", "official.duplicate", "officials.scrutineers[1]"),
        ("secretary.elected_by", "town", "field.choice", "secretary.elected_by"),
        ("evaluation.scale.0.zh", "满" * 17, "procedure.parameter", "evaluation.scale[0].zh"),
        (
            "evaluation.public_representatives",
            2001,
            "procedure.parameter",
            "evaluation.public_representatives",
        ),
        ("publicity_working_days", "5", "field.type", "publicity_working_days"),
        ("casework_id", "ab", "field.type", "casework_id"),
    ],
)
def test_v21_more_rules_of_rp_2_1_and_definition_md(
    path: str, value: object, code: str, where: str
) -> None:
    doc = example_document()
    _set(doc, path, value)
    assert (code, where) in v21(doc)


def test_v21_a_second_exclusion_of_the_same_member_is_a_duplicate() -> None:
    doc = example_document()
    doc["exclusions"].append(copy.deepcopy(doc["exclusions"][0]))
    assert ("exclusion.duplicate", "exclusions[1].member") in v21(doc)


def test_v21_a_branch_without_a_committee_elected_by_the_assembly_is_fine() -> None:
    doc = example_document()
    doc["posts"].pop(0)
    doc["secretary"]["elected_by"] = "assembly"
    assert not {c for c, _ in v21(doc)} & {"secretary.body", "post.no_secretary"}
