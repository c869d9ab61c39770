"""The town's casework definition ``casework/1`` (spec/procedure.md RP-8.1).

``casework_document`` fills in the defaults of RP-8.1 (as ``tally casework new`` does);
``parse_casework`` is the only way in from untrusted input and reports every problem in one pass;
``casework_id`` is SHA-256 over the domain, a zero byte and ``JCS(casework)``. The ``keys`` member
holds the casework service's ``pubkey/1`` document as given: the core reads no key material, the
shell parses and checks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tally.core.definition import MEMBER_ID_PATTERN
from tally.core.errors import Problem
from tally.core.manifest import canonical

from .errors import definition_error

__all__ = [
    "CASEWORK_DOMAIN",
    "CASEWORK_FORMAT",
    "DEFAULT_DEADLINES",
    "DEFAULT_PHOTOS",
    "DEFAULT_TEXT_MAX_CHARS",
    "SIGNED_CASEWORK_FORMAT",
    "Branch",
    "Casework",
    "Deadlines",
    "PhotoLimits",
    "casework_document",
    "casework_id",
    "parse_casework",
]

CASEWORK_FORMAT: Final = "casework/1"
SIGNED_CASEWORK_FORMAT: Final = "signed-casework/1"
CASEWORK_DOMAIN: Final = b"branch-election/casework/1"

DEFAULT_DEADLINES: Final[Mapping[str, int]] = {
    "objection_assign_days": 1,
    "objection_conclude_days": 5,
    "report_assign_days": 1,
    "report_conclude_days": 10,
}
DEFAULT_PHOTOS: Final[Mapping[str, int]] = {
    "max_count": 4,
    "max_bytes": 5 * 1024 * 1024,
    "max_pixels": 40_000_000,
}
DEFAULT_TEXT_MAX_CHARS: Final = 2000

_TOP: Final = frozenset(
    {"format", "town", "branches", "deadlines", "photos", "text_max_chars", "keys"}
)
_BRANCH: Final = frozenset({"branch_code", "name", "groups"})
_GROUP: Final = frozenset({"group", "name"})
# (RP-8.1) allowed ranges, inclusive.
_PHOTO_RANGES: Final[Mapping[str, tuple[int, int]]] = {
    "max_count": (0, 9),
    "max_bytes": (1024 * 1024, 10 * 1024 * 1024),
    "max_pixels": (1, 100_000_000),
}
_NAME_MAX: Final = 64


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Working days to assign and to conclude each kind of case (RP-8.1, RP-8.4, RP-9.6)."""

    objection_assign_days: int
    objection_conclude_days: int
    report_assign_days: int
    report_conclude_days: int


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """Limits on a report's photos (RP-9.4)."""

    max_count: int
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True, slots=True)
class Branch:
    """A branch of the town and its village groups, in the definition's order."""

    code: str
    name: str
    groups: tuple[tuple[str, str], ...]  # (group code, name)

    def has_group(self, group: str) -> bool:
        return any(g == group for g, _ in self.groups)


@dataclass(frozen=True, slots=True)
class Casework:
    """A parsed ``casework/1`` document with its canonical bytes and id."""

    town: str
    branches: tuple[Branch, ...]
    deadlines: Deadlines
    photos: PhotoLimits
    text_max_chars: int
    casework_key: Mapping[str, Any]
    raw: bytes
    id: bytes

    def branch(self, code: str) -> Branch | None:
        return next((b for b in self.branches if b.code == code), None)


def casework_id(document: Mapping[str, Any]) -> bytes:
    """SHA-256(domain || 0x00 || JCS(casework)) (RP-8.1)."""
    return hashlib.sha256(CASEWORK_DOMAIN + b"\x00" + canonical(dict(document))).digest()


def casework_document(
    *,
    town: str,
    branches: list[dict[str, Any]],
    casework_key: Mapping[str, Any],
    deadlines: Mapping[str, int] | None = None,
    photos: Mapping[str, int] | None = None,
    text_max_chars: int | None = None,
) -> dict[str, Any]:
    """A ``casework/1`` document with every default of RP-8.1 written out (not yet checked)."""
    return {
        "format": CASEWORK_FORMAT,
        "town": town,
        "branches": branches,
        "deadlines": {**DEFAULT_DEADLINES, **(deadlines or {})},
        "photos": {**DEFAULT_PHOTOS, **(photos or {})},
        "text_max_chars": DEFAULT_TEXT_MAX_CHARS if text_max_chars is None else text_max_chars,
        "keys": {"casework": dict(casework_key)},
    }


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, zh: str, en: str, code: str = "casework.definition") -> None:
        self.problems.append(Problem(code=code, path=path, zh=zh, en=en, clause="RP-8.1"))

    def members(self, value: object, path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.add(path, "应为对象", "must be an object")
            return {}
        for k in sorted(set(value) - allowed):
            self.add(f"{path}.{k}" if path else k, "未知字段", "unknown member")
        for k in sorted(allowed - set(value)):
            self.add(f"{path}.{k}" if path else k, "缺少字段", "missing member")
        return value

    def text(self, value: object, path: str, max_chars: int = _NAME_MAX) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
            self.add(path, f"应为 1 至 {max_chars} 个字符", f"must be 1 to {max_chars} characters")
            return ""
        return value

    def code(self, value: object, path: str) -> str:
        if not isinstance(value, str) or MEMBER_ID_PATTERN.fullmatch(value) is None:
            self.add(
                path,
                "代码格式不正确（字母、数字、.、_、-，至多 32 个字符）",
                "malformed code (letters, digits, '.', '_', '-', at most 32 characters)",
            )
            return ""
        return value

    def number(self, value: object, path: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.add(
                path,
                f"应为 {lo} 至 {hi} 的整数",
                f"must be an integer from {lo} to {hi}",
                code="casework.parameter",
            )
            return lo
        return value


def parse_casework(document: object) -> Casework:
    """Parse and check a ``casework/1`` document (a decoded JSON object).

    Raises:
        CaseworkDefinitionError: every problem found, with its field path.
    """
    c = _Collector()
    doc = c.members(document, "", _TOP)
    if doc.get("format", CASEWORK_FORMAT) != CASEWORK_FORMAT:
        c.add("format", f'应为 "{CASEWORK_FORMAT}"', f'must be "{CASEWORK_FORMAT}"')
    town = c.text(doc.get("town", ""), "town")
    branches = _branches(c, doc.get("branches", []))
    dl = c.members(doc.get("deadlines", {}), "deadlines", frozenset(DEFAULT_DEADLINES))
    deadlines = Deadlines(
        **{k: c.number(dl.get(k, 1), f"deadlines.{k}", 1, 60) for k in sorted(DEFAULT_DEADLINES)}
    )
    ph = c.members(doc.get("photos", {}), "photos", frozenset(DEFAULT_PHOTOS))
    photos = PhotoLimits(
        **{
            k: c.number(ph.get(k, lo), f"photos.{k}", lo, hi)
            for k, (lo, hi) in sorted(_PHOTO_RANGES.items())
        }
    )
    text_max = c.number(doc.get("text_max_chars", 200), "text_max_chars", 200, 10_000)
    ks = c.members(doc.get("keys", {}), "keys", frozenset({"casework"}))
    key = ks.get("casework", {})
    if not isinstance(key, dict):
        c.add("keys.casework", "应为公钥文档", "must be a pubkey/1 document")
        key = {}
    if c.problems:
        raise definition_error(tuple(c.problems))
    return Casework(
        town=town,
        branches=branches,
        deadlines=deadlines,
        photos=photos,
        text_max_chars=text_max,
        casework_key=key,
        raw=canonical(doc),
        id=casework_id(doc),
    )


def _branches(c: _Collector, value: object) -> tuple[Branch, ...]:
    if not isinstance(value, list) or not value:
        c.add("branches", "至少须有一个支部", "needs at least one branch")
        return ()
    out: list[Branch] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        path = f"branches[{i}]"
        b = c.members(item, path, _BRANCH)
        code = c.code(b.get("branch_code", ""), f"{path}.branch_code")
        if code and code in seen:
            c.add(f"{path}.branch_code", "支部代码重复", "duplicate branch code")
        seen.add(code)
        name = c.text(b.get("name", ""), f"{path}.name")
        groups = b.get("groups", [])
        parsed: list[tuple[str, str]] = []
        if not isinstance(groups, list):
            c.add(f"{path}.groups", "应为列表", "must be a list")
            groups = []
        for j, g in enumerate(groups):
            gpath = f"{path}.groups[{j}]"
            gm = c.members(g, gpath, _GROUP)
            gcode = c.code(gm.get("group", ""), f"{gpath}.group")
            if gcode and any(gcode == x for x, _ in parsed):
                c.add(f"{gpath}.group", "村（居）民小组代码重复", "duplicate village group code")
            parsed.append((gcode, c.text(gm.get("name", ""), f"{gpath}.name")))
        out.append(Branch(code=code, name=name, groups=tuple(parsed)))
    return tuple(out)
