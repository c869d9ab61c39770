"""Where a benchmark writes its figures for ``bench/run_all.py`` (``--json FILE``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def json_target(argv: list[str] | None = None) -> Path | None:
    """The path after ``--json`` on the command line, if any (scripts with their own argparse
    declare ``--json`` themselves)."""
    args = sys.argv[1:] if argv is None else argv
    if "--json" in args:
        i = args.index("--json")
        if i + 1 < len(args):
            return Path(args[i + 1])
    return None


def write(target: Path | None, figures: dict[str, Any]) -> None:
    if target is not None:
        target.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
