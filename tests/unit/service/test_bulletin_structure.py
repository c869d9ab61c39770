"""The bulletin board's shape (issue 17): its routes are module-level handlers on
``bulletin.router``, the snapshot given by a dependency, as the station's are
(docs/adr/0028-station-package.md); ``register`` only mounts."""

from __future__ import annotations

import ast
from pathlib import Path

from tally.service import bulletin

MAX_FUNCTION_LINES = 80


def test_every_board_route_is_a_module_level_handler() -> None:
    endpoints = [getattr(r, "endpoint", None) for r in bulletin.router.routes]
    assert len(endpoints) == 5
    assert None not in endpoints
    assert [e.__qualname__ for e in endpoints if e.__qualname__ != e.__name__] == []


def test_no_bulletin_function_is_over_80_lines() -> None:
    tree = ast.parse(Path(bulletin.__file__).read_text(encoding="utf-8"))
    long = [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
