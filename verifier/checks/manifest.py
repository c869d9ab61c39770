"""(V2) Town signature, (V3) manifest and (V19) public summary of ``manifest.json``.

spec/bundle.md §6 V2, V3, V19; spec/manifest.md §3, §4, §6.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from verifier.canonical import canonical_bytes
from verifier.checks.context import Context
from verifier.crypto import PublicKey, verify_signature
from verifier.errors import VerificationError
from verifier.model import Manifest
from verifier.parse import MANIFEST_DOMAIN, parse_manifest, parse_signed_manifest
from verifier.summary import PUBLIC_SUMMARY_DOMAIN, public_summary

__all__ = ["SignedManifest", "check_manifest", "check_public_summary", "check_town_signature"]


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """A ``signed-manifest/1`` whose town signature verified (V2)."""

    manifest_value: Any  # the ``manifest`` member, as JSON: V3 parses it
    town_key_value: Any  # the ``town_key`` member, as JSON: V19 derives the summary with it
    town_key: PublicKey
    message: bytes  # JCS(manifest): what the town signed, and the election id's preimage
    summary_signature: bytes


def check_town_signature(cx: Context) -> SignedManifest | None:
    """(V2) ``manifest.json`` is a ``signed-manifest/1`` whose ``town_key`` is the trust root given
    and whose signature verifies; the town key is then ``cx.town_raw``.

    Returns:
        The signed manifest, or None when V2 failed.
    """
    f = cx.f
    doc = cx.doc("manifest.json", "V2")
    if doc is None:
        return None
    try:
        raw_manifest, town_key, sig, summary_sig = parse_signed_manifest(doc)
    except VerificationError as e:
        f.error("V2", e, file="manifest.json")
        return None
    # (V2) the town key is the trust root: the key itself, or its fingerprint
    if cx.town.key is not None:
        if town_key.key != cx.town.key.key or cx.town.key.role != "town_committee":
            f.fail(
                "V2",
                "manifest.town_key",
                "清单中的镇党委公钥与给定的信任根不符",
                "the manifest's town key is not the trust root given",
                file="manifest.json",
                path="town_key",
                expected=cx.town.fingerprint,
                found=town_key.fingerprint,
            )
    elif town_key.fingerprint != cx.town.fingerprint:
        f.fail(
            "V2",
            "manifest.town_key",
            "清单中的镇党委公钥指纹与给定的指纹不符",
            "the manifest's town key fingerprint is not the one given",
            file="manifest.json",
            path="town_key",
            expected=cx.town.fingerprint,
            found=town_key.fingerprint,
        )
    if f.failed("V2"):
        return None
    # (V2) the town committee's signature over JCS(manifest) verifies
    try:
        message = canonical_bytes(raw_manifest)
        verify_signature(town_key.key, MANIFEST_DOMAIN, message, sig)
        cx.town_raw = town_key.key
    except VerificationError as e:
        f.fail(
            "V2",
            "manifest.signature",
            "镇党委对清单的签名无效",
            "the town committee's signature does not verify",
            file="manifest.json",
            path="signature",
            found=e.code,
        )
        return None
    return SignedManifest(
        manifest_value=raw_manifest,
        town_key_value=doc["town_key"],
        town_key=town_key,
        message=message,
        summary_signature=summary_sig,
    )


def check_manifest(cx: Context, signed: SignedManifest) -> Manifest | None:
    """(V3) The signed manifest is a ``manifest/1`` with its resolved definition; it becomes
    ``cx.manifest``.

    Returns:
        The manifest, or None when V3 failed.
    """
    try:
        cx.manifest = parse_manifest(signed.manifest_value, signed.message)
    except VerificationError as e:
        cx.f.error("V3", e, file="manifest.json")
        return None
    return cx.manifest


def check_public_summary(cx: Context, signed: SignedManifest, m: Manifest) -> None:
    """(V19) The town signed exactly the public summary derived from this manifest."""
    try:
        summary = public_summary(signed.manifest_value, signed.town_key_value, m.election_id.hex())
        message = canonical_bytes(summary)
        verify_signature(
            signed.town_key.key, PUBLIC_SUMMARY_DOMAIN, message, signed.summary_signature
        )
        # spec/manifest.md §6: the hash the invitations' check code binds (RM-10.3)
        cx.summary_hash = hashlib.sha256(PUBLIC_SUMMARY_DOMAIN + b"\x00" + message).digest()
    except VerificationError as e:
        cx.f.fail(
            "V19",
            "manifest.summary_signature",
            "镇党委对公开摘要的签名无效：摘要不是由本清单推导出的，或未经签署",
            "the town committee's signature on the public summary derived from this "
            "manifest does not verify",
            file="manifest.json",
            path="summary_signature",
            found=e.code,
        )
