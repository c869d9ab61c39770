"""The replay reads like the spec (issue 15.5): a table from entry type to handler, every handler
starting with the clause it implements, the remote-ballot checks a unit of their own, and no
module of ``verifier/`` over 800 lines."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import verifier.checks.replay
from verifier.checks.replay.core import HANDLERS
from verifier.checks.replay.remote import RemoteChecks
from verifier.parse import ENTRY_BODIES

PACKAGE = Path(verifier.checks.replay.__file__).parent
CLAUSE = re.compile(r"\(V\d+(\.\d+)?[),]")


def test_every_entry_type_of_the_log_has_exactly_one_handler_V6() -> None:
    assert set(HANDLERS) == set(ENTRY_BODIES)


@pytest.mark.parametrize("entry_type", sorted(HANDLERS))
def test_each_handler_starts_with_the_clause_it_implements(entry_type: str) -> None:
    doc = inspect.getdoc(HANDLERS[entry_type]) or ""
    assert CLAUSE.match(doc), f"{entry_type}: {doc[:60]!r}"


def test_the_remote_unit_has_one_method_per_remote_entry_type_each_with_its_V18_clause() -> None:
    remote_types = sorted(t for t in ENTRY_BODIES if t.startswith("remote."))
    methods = {
        name: fn
        for name, fn in inspect.getmembers(RemoteChecks, inspect.isfunction)
        if not name.startswith("_") and name not in ("fail", "in_quorum")
    }
    for name, fn in methods.items():
        assert re.match(r"\(V18\.\d+\)", inspect.getdoc(fn) or ""), name
    for t in remote_types:  # the replay's handler is the unit's method
        assert (inspect.getdoc(HANDLERS[t]) or "").startswith("(V18."), t


VERIFIER = PACKAGE.parents[1]


@pytest.mark.parametrize(
    "module", sorted(str(p.relative_to(VERIFIER)) for p in VERIFIER.rglob("*.py"))
)
def test_no_module_of_the_verifier_is_over_800_lines(module: str) -> None:
    """Issue 15's house rule for the whole of ``verifier/`` (the replay included)."""
    assert len((VERIFIER / module).read_text(encoding="utf-8").splitlines()) <= 800
