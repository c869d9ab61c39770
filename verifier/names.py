"""(V3, spec/definition.md D-5.3) Look-alike roster names, reported as warnings.

Re-implemented here, apart from the producer: a name that is not single-script (Unicode TR39 §5.1)
or whose TR39 skeleton (§4) equals another member's different name. ICU's ``SpoofChecker`` is the
TR39 implementation (a third-party library, like PyNaCl); a warning never fails the bundle.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Final

import icu

__all__ = ["CONFUSABLE", "MIXED_SCRIPT", "look_alike_names"]

MIXED_SCRIPT: Final = "member.name_mixed_script"
CONFUSABLE: Final = "member.name_confusable"


def look_alike_names(members: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """``(code, member id, other member id or "")`` for each flagged name, in roster order:
    mixed scripts first, then each member whose name differs from an earlier member's but has the
    same skeleton (``other`` is that earlier member)."""
    checker = icu.SpoofChecker()
    checker.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL)
    checker.setRestrictionLevel(icu.URestrictionLevel.SINGLE_SCRIPT_RESTRICTIVE)
    mixed: list[tuple[str, str, str]] = []
    alike: list[tuple[str, str, str]] = []
    by_skeleton: dict[str, tuple[str, str]] = {}
    for mid, raw in members:
        name = unicodedata.normalize("NFC", raw)
        if checker.check(name) != 0:
            mixed.append((MIXED_SCRIPT, mid, ""))
        earlier = by_skeleton.setdefault(str(checker.getSkeleton(0, name)), (mid, name))
        if earlier[0] != mid and earlier[1] != name:
            alike.append((CONFUSABLE, mid, earlier[0]))
    return mixed + alike
