"""A document the town committee signed (`signed-casework/1`, `signed-procedure/1`): its envelope,
its town key against the trust root, and its signature, each failure a finding (spec/procedure.md
RP-2.3, RP-8.1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from verifier.canonical import canonical_bytes
from verifier.checks.common import TownKey
from verifier.checks.findings import ListFindings
from verifier.crypto import PublicKey, b64decode_canonical, parse_pubkey_value, verify_signature
from verifier.errors import VerificationError

__all__ = ["Refusals", "TownSigned", "read_town_signed"]


@dataclass(frozen=True, slots=True)
class Refusals:
    """The codes and messages of one document kind's failures (its spec's own codes)."""

    shape: str  # not the envelope, or another format
    key_role: str | None  # the town key unreadable; None: the key's own error code
    other_town: tuple[str, str, str]  # (code, zh, en)
    signature: tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class TownSigned:
    """The signed member's value, the town key that signed it and the document's id (the hex
    SHA-256 of the domain, a zero byte and the member's canonical bytes)."""

    value: Any
    town: PublicKey
    id: str


def read_town_signed(
    f: ListFindings,
    doc: object,
    *,
    present: bool,
    trust: TownKey,
    member: str,
    fmt: str,
    domain: bytes,
    refusals: Refusals,
    where: dict[str, str],
) -> TownSigned | None:
    """``{format, <member>, town_key, signature}`` signed by the trust root; None, with its
    finding, when it cannot be used (no finding when the file is absent and ``doc`` is None)."""
    if not isinstance(doc, dict) or set(doc) != {"format", member, "town_key", "signature"}:
        if doc is not None or present:
            f.fail(refusals.shape, f"不是 {fmt}", f"not a {fmt}", **where)
        return None
    if doc["format"] != fmt:
        f.fail(refusals.shape, f"格式不是 {fmt}", "wrong format", **where)
        return None
    try:
        town = parse_pubkey_value(doc["town_key"], path="town_key", role="town_committee")
    except VerificationError as e:
        if refusals.key_role is None:
            f.error(e, **where)
        else:
            f.fail(refusals.key_role, e.zh, e.en, path=e.path, **where)
        return None
    if town.fingerprint != trust.fingerprint or (
        trust.key is not None and trust.key.key != town.key
    ):
        code, zh, en = refusals.other_town
        f.fail(code, zh, en, expected=trust.fingerprint, found=town.fingerprint, **where)
        return None
    signature = b64decode_canonical(doc["signature"], 64)
    try:
        body = canonical_bytes(doc[member])
        if signature is None:
            raise VerificationError(clause=f.clause, code="", zh="", en="")
        verify_signature(town.key, domain, body, signature)
    except VerificationError:
        code, zh, en = refusals.signature
        f.fail(code, zh, en, **where)
        return None
    return TownSigned(doc[member], town, hashlib.sha256(domain + b"\x00" + body).hexdigest())
