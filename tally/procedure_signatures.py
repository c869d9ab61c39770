"""The town's signatures on its acts in the procedure log (spec/procedure.md RP-3.9, RP-6.4,
RP-10.1): what the procedure store checks of such an entry that the pure core cannot (the town's
signature by the definition's town key over the act's domain; the approval's ``vetted_size`` and
``vetted_root`` are the last ``vetted`` checkpoint), and the signing of an act."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import keys
from tally.core.manifest import canonical
from tally.core.procedure import SignedProcedure
from tally.core.procedure.entries import ProcedureEntry, TownActBody
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.town import (
    APPOINTMENT_DOMAIN,
    APPROVAL_DOMAIN,
    HIGHER_LEVEL_DOMAIN,
    TOWN_ACTS,
)

__all__ = ["TYPES", "check_town_act", "last_vetted", "sign_act", "town_key"]

_DOMAINS: Final[Mapping[str, tuple[bytes, str, str, str]]] = {
    "higher_level.recommended": (
        HIGHER_LEVEL_DOMAIN,
        "preliminary.higher_level",
        "上级党组织推荐没有有效的镇党委签名",
        "the higher-level recommendation lacks a valid town signature",
    ),
    "candidates.approved": (
        APPROVAL_DOMAIN,
        "approval.not_signed",
        "正式候选人批复没有有效的镇党委签名",
        "the candidate approval lacks a valid town signature",
    ),
    "appointment.recorded": (
        APPOINTMENT_DOMAIN,
        "appointment.not_signed",
        "审批任命记录没有有效的镇党委签名",
        "the appointment lacks a valid town signature",
    ),
}
TYPES: Final = {
    "higher-level-recommendation/1": "higher_level.recommended",
    "candidate-approval/1": "candidates.approved",
    "appointment/1": "appointment.recorded",
}


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


def town_key(signed: SignedProcedure) -> keys.PublicKey:
    """The procedure definition's town key."""
    return keys.parse_public_key(canonical(signed.town_key.to_json()))


# -- what the store checks ------------------------------------------------------------------------
def last_vetted(checkpoints: Sequence[tuple[int, str]], before: int) -> tuple[int, str] | None:
    """(RP-6.4) (size, root hex) of the last ``vetted`` checkpoint of size at most ``before``."""
    found = None
    for size, text in checkpoints:
        lines = text.split("\n")
        if size <= before and len(lines) > 3 and lines[3] == "vetted":
            found = (size, base64.b64decode(lines[2]).hex())
    return found


def check_town_act(
    entry: ProcedureEntry,
    signed: SignedProcedure,
    checkpoints: Callable[[], list[tuple[int, str]]],
) -> None:
    """What the procedure store checks of a town act before the core sees it: the town's
    signature by the definition's town key over the act's domain, and for the approval that
    ``vetted_size``/``vetted_root`` are the last ``vetted`` checkpoint. Other entries pass.

    Raises:
        ProcedureLogError: ``approval.not_signed``, ``appointment.not_signed``,
            ``preliminary.higher_level`` (no valid signature), ``approval.stale``.
    """
    member = TOWN_ACTS.get(entry.type)
    if not member:
        return
    domain, code, zh, en = _DOMAINS[entry.type]
    try:
        act = entry.value
        if not isinstance(act, TownActBody):
            raise TypeError(entry.type)
        obj = act.json[member]
        signature = base64.b64decode(str(act.json["town_signature"]), validate=True)
        keys.verify(town_key(signed), domain, canonical(obj), signature)
    except (keys.SignatureError, binascii.Error, ValueError, TypeError) as e:
        clause = {"approval": "RP-6.4", "appointment": "RP-10.2"}.get(code.split(".")[0], "RP-3.9")
        raise _refuse(code, clause, zh, en) from e
    if entry.type == "candidates.approved" and isinstance(obj, dict):
        vetted = last_vetted(checkpoints(), entry.seq)
        if vetted is None or (obj.get("vetted_size"), obj.get("vetted_root")) != vetted:
            raise _refuse(
                "approval.stale",
                "RP-6.4",
                "镇党委批复的不是最新的考察审查记录（vetted 检查点不符）",
                "the approval was signed over another state than the last vetted checkpoint",
            )


def sign_act(obj: Mapping[str, Any], town: keys.Signer) -> dict[str, Any]:
    """The entry body ``{<member>: obj, town_signature}`` of a town act signed by ``town``."""
    type_ = TYPES[str(obj["format"])]
    domain = _DOMAINS[type_][0]
    signature = town.sign(domain, canonical(dict(obj)))
    return {TOWN_ACTS[type_]: dict(obj), "town_signature": base64.b64encode(signature).decode()}
