"""Fuzz the procedure log's entry parser and ledger (spec/procedure.md RP-11.1) with damaged
entries of a real log: each may refuse only with a ``TallyError`` (``ProcedureLogError``,
``ProcedureCountError``); anything else is a crash. Budgets: tests/fuzz/budget.py."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.core.errors import TallyError
from tally.core.manifest import canonical
from tally.core.procedure.entries import Form, parse_entry
from tally.core.procedure.ledger import Ledger, apply_entry, open_ledger
from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import json_values, mutated_bytes, mutated_tree
from tests.helpers.procedure_log import recommended_branch

pytestmark = pytest.mark.fuzz


def _samples() -> list[tuple[Ledger, bytes]]:
    """Each entry of a log through the proposal, with the ledger before it."""
    b = recommended_branch()
    b.propose()
    ledger = open_ledger(b.procedure, b.procedure_id)
    out: list[tuple[Ledger, bytes]] = []
    for e in b.entries:
        out.append((ledger, e.raw))
        ids = None
        if e.type == "stock.committed":
            ids = frozenset(b.stock_ids[Form(e.body["form"]), e.body["post"], e.body["round"]])
        ledger = apply_entry(ledger, e, stock_ids=ids)
    return out


_SAMPLES = _samples()


def _bytes(tree: Any) -> bytes:
    try:
        return canonical(tree)
    except (ValueError, TypeError):
        return b"[]"


@fuzz_settings(150)
@given(i=st.integers(0, len(_SAMPLES) - 1), data=st.data())
def test_damaged_entry_is_refused_with_a_log_error(i: int, data: st.DataObject) -> None:
    ledger, raw = _SAMPLES[i]
    damaged = data.draw(
        st.one_of(
            mutated_bytes([raw]),
            mutated_tree([json.loads(raw)], json_values(floats=False)).map(_bytes),
        )
    )
    with contextlib.suppress(TallyError):
        apply_entry(ledger, parse_entry(damaged))
