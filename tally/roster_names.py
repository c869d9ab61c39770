"""Look-alike names on the roster (spec/definition.md D-5.3): warnings, never refusals.

A name that mixes scripts (Unicode TR39 §5.1: it is not single-script, e.g. Han with a Cyrillic
letter) or whose TR39 skeleton (§4, confusable detection) equals another member's different name
may make a write-in or a roster line point at the wrong person. Both come from ICU's
``SpoofChecker`` (the reference implementation of TR39; PyICU), not from tables of our own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import icu

__all__ = ["NameWarning", "name_warnings"]


@dataclass(frozen=True, slots=True)
class NameWarning:
    """``code`` is ``member.name_mixed_script`` or ``member.name_confusable`` (then ``other``
    is the member whose name looks the same)."""

    code: str
    member: str
    name: str
    other: str = ""


def _checker() -> icu.SpoofChecker:
    sc = icu.SpoofChecker()
    sc.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL)
    sc.setRestrictionLevel(icu.URestrictionLevel.SINGLE_SCRIPT_RESTRICTIVE)
    return sc


def name_warnings(members: Iterable[tuple[str, str]]) -> list[NameWarning]:
    """Warnings for ``(member id, name)`` pairs in roster order: mixed scripts first (TR39
    single-script restriction), then each later member whose different name has the skeleton of
    an earlier one's."""
    sc = _checker()
    out: list[NameWarning] = []
    first: dict[str, tuple[str, str]] = {}
    confusable: list[NameWarning] = []
    for mid, raw in members:
        name = unicodedata.normalize("NFC", raw)
        if sc.check(name) != 0:
            out.append(NameWarning("member.name_mixed_script", mid, name))
        skeleton = sc.getSkeleton(0, name)
        seen = first.setdefault(skeleton, (mid, name))
        if seen[0] != mid and seen[1] != name:
            confusable.append(NameWarning("member.name_confusable", mid, name, seen[0]))
    return out + confusable
