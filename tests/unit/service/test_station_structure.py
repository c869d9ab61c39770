"""The shape of the station package (issue 17 point 3, docs/adr/0028-station-package.md): no
function over 80 lines, no module over 800, no file-wide ``noqa``, every route a module-level
handler. Each rule is also run on a made-up source that breaks it, so the check itself can fail.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tally.service.station as station_package
from tally.service.station.routes import router

PACKAGE = Path(station_package.__file__).parent
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 800
# ruff's and flake8's file-level exemptions (a per-line exemption naming its codes is allowed).
FILE_NOQA = re.compile(r"#\s*(ruff|flake8)\s*:\s*noqa", re.IGNORECASE)


def _modules() -> list[Path]:
    found = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in found} >= {"__init__.py", "auth.py", "views.py", "routes.py"}
    return found


def long_functions(source: str) -> list[tuple[str, int]]:
    """Every function (nested ones too, decorators included) longer than the limit."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            lines = node.end_lineno - first + 1
            if lines > MAX_FUNCTION_LINES:
                out.append((node.name, lines))
    return out


def file_noqa(source: str) -> list[str]:
    return [line for line in source.splitlines() if FILE_NOQA.search(line)]


def test_the_checks_catch_a_long_function_and_a_file_wide_noqa() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"async def f():\n{body}\n") == [("f", MAX_FUNCTION_LINES + 1)]
    nested = f"def outer():\n    def inner():\n{body.replace('    ', '        ')}\n"
    assert [name for name, _ in long_functions(nested)] == ["outer", "inner"]
    assert long_functions(f"def f():\n{body[: body.rindex(chr(10))]}\n") == []
    assert file_noqa("# ruff: noqa: E501\nx = 1\n")
    assert file_noqa("# flake8: noqa\n")
    assert not file_noqa("import x  # noqa: PLC0415\n")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_no_station_function_is_over_80_lines(path: Path) -> None:
    assert long_functions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_no_station_module_is_over_800_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_no_station_module_has_a_file_wide_noqa(path: Path) -> None:
    assert file_noqa(path.read_text(encoding="utf-8")) == []


def test_every_station_route_is_a_module_level_handler() -> None:
    endpoints = [getattr(r, "endpoint", None) for r in router.routes]
    assert len(endpoints) >= 25
    assert None not in endpoints
    assert [e.__qualname__ for e in endpoints if e.__qualname__ != e.__name__] == []
