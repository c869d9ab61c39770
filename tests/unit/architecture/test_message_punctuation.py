"""No message an official sees ends a sentence twice (warts point 1).

The catalogue is every message text of the producer packages (``tally``, ``ballot_printer``,
``keys``, ``bilingual``): each ``zh=``/``en=`` argument and each ``zh``/``en`` pair of a refusal
helper, read from the source. A text that sets another message inside it (``{e.zh}``,
``{e.en}``, ``{e.message(lang)}``) is rendered with an inner message that ends in its
own full stop, as most of them do (``二维码内容为空。``); a text that embeds it through
``bilingual.inline`` gets it without that stop. No rendered text may hold "。。" or a doubled
"." (``1..255``, a range, and "..." are not doubled full stops).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import ballot_printer
from bilingual import BilingualError, inline
from tally.service.station.routes import _scan_message
from tally.session_errors import SessionError

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("tally", "ballot_printer", "keys", "bilingual")
# An embedded message, as most of the catalogue's end: with their full stop.
INNER = {"zh": "内层消息。", "en": "inner message."}
# A placeholder that is not a message (a name, a number, a path).
PLAIN = "X"
MESSAGE_ATTRS = {"zh", "en"}
# Objects whose ``zh``/``en`` is a label (计票人, 委员), not a sentence.
LABELS = {"role", "kind", "post", "form", "scale"}
DOUBLED = re.compile(r"[。！][。，；：）]|(?<![.\d])\.[.,;:)](?![.\d])")
SPEC = ROOT / "spec" / "vectors" / "ballot-qr" / "invalid"


def _embedded(expr: ast.expr) -> bool:
    """Whether a placeholder sets another message's text (not a label, a name or a number)."""
    if isinstance(expr, ast.Attribute) and expr.attr in MESSAGE_ATTRS:
        owner = expr.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        return name not in LABELS
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "message"
    )


def _render(node: ast.expr, lang: str) -> str | None:
    """The text of a string or f-string, each placeholder filled; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
        elif isinstance(part, ast.FormattedValue):
            out.append(INNER[lang] if _embedded(part.value) else PLAIN)
    return "".join(out)


def _texts(call: ast.Call) -> Iterator[tuple[str, str]]:
    """(language, rendered text) of a call's ``zh=``/``en=`` arguments."""
    for kw in call.keywords:
        if kw.arg in ("zh", "en"):
            text = _render(kw.value, kw.arg)
            if text is not None:
                yield kw.arg, text


def _wrapper(node: ast.expr) -> tuple[str, str] | None:
    """(language, rendered text) of an f-string that embeds another message, wherever it is
    (a ``zh=`` argument, a positional one of ``msg(lang, zh, en)``, a table)."""
    if not isinstance(node, ast.JoinedStr) or not any(
        isinstance(v, ast.FormattedValue) and _embedded(v.value) for v in node.values
    ):
        return None
    chinese = any(
        isinstance(v, ast.Constant) and re.search(r"[\u4e00-\u9fff]", str(v.value))
        for v in node.values
    )
    lang = "zh" if chinese else "en"
    text = _render(node, lang)
    return None if text is None else (lang, text)


def _catalogue() -> list[tuple[str, int, str, str]]:
    """(file, line, language, rendered text) of every message, each text once per file."""
    found: dict[tuple[str, str, str], int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                texts = list(_texts(node)) if isinstance(node, ast.Call) else []
                if isinstance(node, ast.JoinedStr) and (wrapped := _wrapper(node)):
                    texts.append(wrapped)
                line = getattr(node, "lineno", 0)
                for lang, text in texts:
                    found.setdefault((where, lang, text), line)
    return sorted((w, n, lang, t) for (w, lang, t), n in found.items())


CATALOGUE = _catalogue()


def test_the_catalogue_is_read() -> None:
    """The scan finds the messages (a broken scan would pass every check vacuously)."""
    assert len(CATALOGUE) > 500
    assert any(INNER["zh"] in t for _, _, _, t in CATALOGUE)


def test_no_catalogue_message_ends_a_sentence_twice() -> None:
    doubled = [f"{w}:{n} [{lang}] {t}" for w, n, lang, t in CATALOGUE if DOUBLED.search(t)]
    assert doubled == []


def _scan_errors() -> Iterator[BilingualError]:
    """The election reader's refusal of each invalid QR vector's text (spec/ballot-qr.md Q1-Q4)."""
    for path in sorted(SPEC.glob("*.json")):
        text = json.loads(path.read_text(encoding="utf-8"))["qr_text"]
        try:
            ballot_printer.parse_qr_text(text)
        except ballot_printer.BallotPrinterError as e:
            yield e


SCAN_ERRORS = list(_scan_errors())


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("error", SCAN_ERRORS, ids=lambda e: e.code)
def test_station_scan_message_of_a_qr_refusal_ends_once(lang: str, error: BilingualError) -> None:
    """The polling station's "not a ballot QR of this election" wraps the reader's refusal."""
    shown = _scan_message(lang, SessionError(error.code, zh=error.zh, en=error.en))
    assert not DOUBLED.search(shown), shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二维码内容为空。", "二维码内容为空"),
        ("empty payload.", "empty payload"),
        ("没有句号", "没有句号"),
        ("range 1..255", "range 1..255"),
        ("问题！", "问题"),
        ("结束；", "结束"),
        ("", ""),
    ],
)
def test_inline_drops_only_the_final_stop(text: str, expected: str) -> None:
    assert inline(text) == expected
