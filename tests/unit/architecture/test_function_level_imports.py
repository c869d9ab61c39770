"""Issue 17 point 7: an import inside a function hides an edge of the import graph from a reader
(import-linter still sees it), so each one says why it is there: a reason after its
``# noqa: PLC0415``, or a comment line right above its group of imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("bilingual", "tally", "keys", "ballot_printer")
REASON_ON_LINE = re.compile(r"#\s*noqa:\s*PLC0415\s*[-—:(]\s*\S")


def _function_level_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: dict[int, ast.Import | ast.ImportFrom] = {}  # nested functions are walked twice
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found[id(node)] = node
    return list(found.values())


def _unexplained(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    bad: list[str] = []
    imports = sorted(_function_level_imports(ast.parse(text)), key=lambda n: n.lineno)
    for node in imports:
        line = lines[node.lineno - 1]
        if REASON_ON_LINE.search(line):
            continue
        # walk up over the imports of the same group to the line above the group
        above = node.lineno - 2
        while above >= 0 and (
            lines[above].strip().startswith(("from ", "import ", ")"))
            or lines[above].startswith(" " * (len(line) - len(line.lstrip()) + 4))
        ):
            above -= 1
        if above >= 0 and lines[above].strip().startswith("#"):
            continue
        bad.append(f"{name}:{node.lineno}: {line.strip()}")
    return bad


def test_the_checker_sees_an_import_without_a_reason() -> None:
    silent = "def f():\n    x = 1\n    import json  # noqa: PLC0415\n    return json, x\n"
    explained = (
        "def f():\n    # json loads only here\n    import json  # noqa: PLC0415\n    return json\n"
    )
    inline = "def f():\n    import json  # noqa: PLC0415 - loads only here\n    return json\n"
    assert len(_unexplained(silent, "silent")) == 1
    assert _unexplained(explained, "explained") == []
    assert _unexplained(inline, "inline") == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_function_level_import_gives_its_reason(package: str) -> None:
    bad = [
        b
        for p in sorted((ROOT / package).rglob("*.py"))
        for b in _unexplained(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))
    ]
    assert bad == [], "function-level imports without a reason:\n" + "\n".join(bad)
