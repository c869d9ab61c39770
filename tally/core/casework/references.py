"""Case references and the random codes (spec/procedure.md RP-8.3, RP-9.2, RP-11.3).

References are ``YY-<year>-<n>`` for objections (异议) and ``MQ-<year>-<n>`` for reports (民情),
``n`` five digits from 00001 per town, kind and calendar year, in log order. Check codes (40 bits,
``XXXX-XXXX``) and reporters' access codes (60 bits, ``XXXX-XXXX-XXXX``) are Crockford base32 of
bytes the shell draws with ``secrets``: the core never reads a random source.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from .errors import CaseworkError, refuse

__all__ = [
    "ACCESS_CODE_BYTES",
    "CHECK_CODE_BYTES",
    "CROCKFORD",
    "CaseKind",
    "access_code",
    "check_code",
    "format_reference",
    "normalise_code",
    "parse_reference",
    "unknown_case",
]

CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_CODE_BYTES: Final = 5  # 40 bits
ACCESS_CODE_BYTES: Final = 8  # the first 60 of 64 bits
_REFERENCE: Final = re.compile(r"(YY|MQ)-([0-9]{4})-([0-9]{5})")
_MAX_N: Final = 99_999


class CaseKind(enum.StrEnum):
    """An objection (RP-8) or a report (RP-9)."""

    OBJECTION = "objection"
    REPORT = "report"

    @property
    def prefix(self) -> str:
        return "YY" if self is CaseKind.OBJECTION else "MQ"


def format_reference(kind: CaseKind, year: int, n: int) -> str:
    """``YY-2026-00003``.

    Raises:
        CaseworkError: ``casework.numbering`` when the year's numbers are used up.
    """
    if not 1 <= n <= _MAX_N:
        raise refuse(
            "casework.numbering",
            "RP-8.3",
            f"{year} 年的编号已用完",
            f"the references of {year} are used up",
        )
    return f"{kind.prefix}-{year:04d}-{n:05d}"


def parse_reference(text: str) -> tuple[CaseKind, int, int]:
    """(kind, year, n) of a reference.

    Raises:
        CaseworkError: ``case.unknown`` when ``text`` is not a reference.
    """
    m = _REFERENCE.fullmatch(text)
    if m is None or int(m[3]) == 0:
        raise unknown_case(text)
    kind = CaseKind.OBJECTION if m[1] == "YY" else CaseKind.REPORT
    return kind, int(m[2]), int(m[3])


def unknown_case(reference: str) -> CaseworkError:
    """The refusal for a reference no case has (``case.unknown``)."""
    return refuse(
        "case.unknown",
        "RP-8.3",
        f"没有这个编号的事项：{reference}",
        f"no case has this reference: {reference}",
    )


def _crockford(data: bytes, bits: int) -> str:
    value = int.from_bytes(data, "big") >> (len(data) * 8 - bits)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(bits - 5, -1, -5))


def check_code(random_bytes: bytes) -> str:
    """An objection's check code ``XXXX-XXXX`` from 5 random bytes (RP-8.3).

    Raises:
        ValueError: not exactly 5 bytes.
    """
    if len(random_bytes) != CHECK_CODE_BYTES:
        msg = f"a check code takes {CHECK_CODE_BYTES} random bytes"
        raise ValueError(msg)
    s = _crockford(random_bytes, 40)
    return f"{s[:4]}-{s[4:]}"


def access_code(random_bytes: bytes) -> str:
    """A reporter's access code ``XXXX-XXXX-XXXX`` from 8 random bytes (60 bits used, RP-9.2).

    Raises:
        ValueError: not exactly 8 bytes.
    """
    if len(random_bytes) != ACCESS_CODE_BYTES:
        msg = f"an access code takes {ACCESS_CODE_BYTES} random bytes"
        raise ValueError(msg)
    s = _crockford(random_bytes, 60)
    return f"{s[:4]}-{s[4:8]}-{s[8:]}"


def normalise_code(text: str) -> str:
    """A typed code as compared: upper case, no separators or spaces, O→0, I and L→1 (Crockford)."""
    t = re.sub(r"[\s-]", "", text).upper()
    return t.translate(str.maketrans("OIL", "011"))
