"""Fuzz the procedure definition's parsers (spec/procedure.md §2) with damaged valid samples: each
may refuse only with its documented error (a ``TallyError``: ``ProcedureDefinitionError`` or
``ProcedureFileError``); anything else is a crash. Budgets: tests/fuzz/budget.py."""

from __future__ import annotations

import contextlib
import json
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.core.errors import TallyError
from tally.core.procedure import build_procedure, parse_procedure
from tally.procedure_file import load_signed_procedure, sign_procedure
from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import json_values, mutated_bytes, mutated_tree, toml_values
from tests.helpers.procedure import (
    EXAMPLE,
    SCRUTINEERS,
    TOWN,
    WORK_GROUP,
    build,
    example_document,
    pubkey,
)

pytestmark = pytest.mark.fuzz

_DOC = example_document()
_SIGNED = sign_procedure(build(), TOWN)
_INPUT = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def _jcs(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


@fuzz_settings(150)
@given(tree=mutated_tree([_DOC], json_values(floats=False)))
def test_procedure_refuses_damage_with_a_definition_error(tree: Any) -> None:
    if not isinstance(tree, dict):
        return
    with contextlib.suppress(TallyError):
        parse_procedure(tree)


@fuzz_settings(100)
@given(tree=mutated_tree([_INPUT], toml_values()))
def test_procedure_input_refuses_damage_with_a_definition_error(tree: Any) -> None:
    if not isinstance(tree, dict):
        return
    with contextlib.suppress(TallyError):
        build_procedure(
            tree,
            work_group_key=pubkey(WORK_GROUP),
            scrutineer_keys=[pubkey(s) for s in SCRUTINEERS],
        )


@fuzz_settings(150)
@given(
    raw=st.one_of(
        mutated_bytes([_SIGNED]),
        mutated_tree([json.loads(_SIGNED)], json_values()).map(_jcs),
    )
)
def test_signed_procedure_refuses_damage_with_a_procedure_error(raw: bytes) -> None:
    with contextlib.suppress(TallyError):
        load_signed_procedure(raw, trust_root=TOWN.public_key)
