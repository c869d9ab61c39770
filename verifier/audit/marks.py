"""The auditors' marks file (spec/audit.md A3): one JSON object per line, what the paper shows.

A line names its ballot by ``image`` (a scan, with ``page`` for a PDF, default 1), by ``qr`` (the
text a hand scanner typed) or by ``ballot_id`` (32 hex, for a comparison audit), and gives
``marks`` (one of ``o x - ?`` per listed candidate; ``○`` and ``×`` are accepted) and
``write_ins`` (a list of ``{"name", "member", "mark"}``; ``member`` "" when it names nobody on the
roster, ``mark`` ``o`` or ``-``). A ballot sought but not found is ``{"ballot_id": ..., "found":
false}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from verifier.audit.election import WriteIn
from verifier.audit.errors import AuditInputError
from verifier.errors import VerificationError
from verifier.reader import read_regular

__all__ = ["MarksLine", "check_marks", "normalise_marks", "parse_marks_file", "parse_marks_line"]

_KEYS: Final = frozenset({"image", "page", "qr", "ballot_id", "marks", "write_ins", "found"})
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_MAX_LINES: Final = 100_000
_MAX_BYTES: Final = 256 * 1024 * 1024  # 100,000 lines of up to ~2.6 KiB


@dataclass(frozen=True, slots=True)
class MarksLine:
    """One ballot as the auditors read it."""

    line: int
    image: str
    page: int
    qr: str
    ballot_id: str
    found: bool
    marks: str
    write_ins: tuple[WriteIn, ...]


def _bad(line: int, zh: str, en: str, code: str = "audit.marks_file") -> AuditInputError:
    return AuditInputError(
        clause="A3", code=code, zh=f"标记文件第 {line} 行：{zh}", en=f"marks file line {line}: {en}"
    )


def normalise_marks(marks: str) -> str:
    """``○`` to ``o`` and ``×`` to ``x`` (rules.md R7.1)."""
    return marks.replace("○", "o").replace("×", "x")


def check_marks(marks: str, candidates: int, where: str) -> None:
    """R7.2: one valid letter per candidate. Any number of write-ins: more than the paper's rows
    make an invalid ballot (R9.5), recorded as read.

    Raises:
        AuditInputError: ``audit.marks_letters`` or ``audit.marks_length`` naming the ballot.
    """
    bad = sorted({c for c in marks if c not in "ox-?"})
    if bad:
        raise AuditInputError(
            clause="A3",
            code="audit.marks_letters",
            zh=f"{where}：标记中有无效符号 {''.join(bad)!r}（只能用 o x - ?）",
            en=f"{where}: invalid mark letters {''.join(bad)!r} (only o x - ?)",
        )
    if len(marks) != candidates:
        raise AuditInputError(
            clause="A3",
            code="audit.marks_length",
            zh=f"{where}：该轮选票有 {candidates} 名候选人，标记却有 {len(marks)} 个",
            en=f"{where}: {candidates} candidates on the ballot but {len(marks)} marks given",
        )


def parse_marks_line(n: int, value: Any) -> MarksLine:
    """One line of the marks file (shape only; the ballot's round checks the marks later).

    Raises:
        AuditInputError: unknown keys, wrong types, no way to name the ballot.
    """
    if not isinstance(value, dict) or not set(value) <= _KEYS:
        extra = sorted(set(value) - _KEYS) if isinstance(value, dict) else []
        raise _bad(
            n, f"应为 JSON 对象，未知字段 {extra}", f"must be an object; unknown keys {extra}"
        )
    image, qr, bid = value.get("image", ""), value.get("qr", ""), value.get("ballot_id", "")
    page = value.get("page", 1)
    found = value.get("found", True)
    if not all(isinstance(x, str) for x in (image, qr, bid)) or type(page) is not int or page < 1:
        raise _bad(
            n,
            "image/qr/ballot_id 应为字符串，page 为正整数",
            "image/qr/ballot_id strings, page >= 1",
        )
    if not isinstance(found, bool):
        raise _bad(n, "found 应为 true 或 false", "found must be true or false")
    if sum(1 for x in (image, qr, bid) if x) != 1:
        raise _bad(
            n,
            "须且只须给出 image、qr 或 ballot_id 之一",
            "give exactly one of image, qr, ballot_id",
        )
    if bid and _HEX32.fullmatch(bid) is None:
        raise _bad(
            n, "ballot_id 应为 32 位小写十六进制", "ballot_id must be 32 lowercase hex digits"
        )
    marks = value.get("marks", "")
    if not isinstance(marks, str) or (found and "marks" not in value):
        raise _bad(n, "缺少 marks（标记）", "marks missing")
    if not found and ("marks" in value or "write_ins" in value):
        raise _bad(n, "未找到的选票不能有标记", "a ballot not found has no marks")
    wis = []
    raw_wis = value.get("write_ins", [])
    if not isinstance(raw_wis, list):
        raise _bad(n, "write_ins 应为列表", "write_ins must be a list")
    for item in raw_wis:
        w = {"name": item} if isinstance(item, str) else item
        if (
            not isinstance(w, dict)
            or not set(w) <= {"name", "member", "mark"}
            or not isinstance(w.get("name", ""), str)
            or not isinstance(w.get("member", ""), str)
            or w.get("mark", "o") not in ("o", "-", "○")
        ):
            raise _bad(
                n, "另选他人格式应为 {name, member, mark}", "write-in must be {name, member, mark}"
            )
        wis.append(
            WriteIn(
                w.get("name", ""), w.get("member", ""), "o" if w.get("mark", "o") != "-" else "-"
            )
        )
    return MarksLine(
        line=n,
        image=image,
        page=page,
        qr=qr,
        ballot_id=bid,
        found=found,
        marks=normalise_marks(marks),
        write_ins=tuple(wis),
    )


def parse_marks_file(path: Path) -> tuple[MarksLine, ...]:
    """Every line of a marks file; blank lines are skipped.

    Raises:
        AuditInputError: the file cannot be read, or a line is not valid JSON or not a reading.
    """
    try:
        text = read_regular(path, _MAX_BYTES, clause="A3").decode("utf-8")
    except (VerificationError, UnicodeDecodeError) as e:
        raise AuditInputError(
            clause="A3",
            code="audit.marks_unreadable",
            zh=f"无法读取标记文件 {path}",
            en=f"cannot read the marks file {path}: {e}",
        ) from e
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if n > _MAX_LINES:
            raise _bad(n, "行数过多", "too many lines")
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise _bad(n, "不是有效的 JSON", f"not valid JSON ({e.msg})") from e
        except RecursionError as e:  # `[[[[…` nested deeper than Python recurses
            raise _bad(n, "JSON 嵌套过深", "JSON nested too deep") from e
        out.append(parse_marks_line(n, value))
    return tuple(out)
