"""The town committee's signed documents as the producer reads and writes them: the signed
manifest (spec/manifest.md §4, §6) and the signed amended candidate list (spec/log.md §2.1)."""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import keys
from tally.core.errors import DefinitionError, TallyError
from tally.core.manifest import (
    MANIFEST_DOMAIN,
    PUBLIC_SUMMARY_DOMAIN,
    SIGNED_MANIFEST_FORMAT,
    Manifest,
    canonical,
    parse_manifest,
    public_summary,
)
from tally.core.meeting import AMENDED_LIST_DOMAIN, AMENDED_LIST_FORMAT, TownSignatureCheck
from tally.session_errors import ManifestDefinitionError, SessionError

__all__ = [
    "MAX_AMENDED_LIST_BYTES",
    "MAX_MANIFEST_BYTES",
    "SIGNED_AMENDED_LIST_FORMAT",
    "amended_list_request",
    "load_signed_manifest",
    "sign_amended_list",
    "sign_manifest",
    "signed_public_summary",
    "strict_json",
    "town_check",
]

MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def strict_json(raw: bytes, what: str) -> Any:
    """``raw`` as JSON with no duplicate keys and no floats.

    Raises:
        SessionError: ``json.malformed``, with ``what`` named.
    """

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys_ = [k for k, _ in pairs]
        if len(keys_) != len(set(keys_)):
            msg = "duplicate key"
            raise ValueError(msg)
        return dict(pairs)

    try:
        return json.loads(raw, object_pairs_hook=no_dupes, parse_float=_no_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise SessionError(
            "json.malformed", zh=f"{what} 不是有效的 JSON：{e}", en=f"{what} is not valid JSON: {e}"
        ) from e


def _no_float(text: str) -> float:
    msg = f"floats are not allowed ({text})"
    raise ValueError(msg)


SIGNED_AMENDED_LIST_FORMAT = "signed-amended-list/1"
MAX_AMENDED_LIST_BYTES = 1024 * 1024


def town_check(town: keys.PublicKey) -> TownSignatureCheck:
    """The core's check of the town committee's signatures (amended lists), with this key."""

    def check(domain: bytes, message: bytes, signature: bytes) -> None:
        try:
            keys.verify(town, domain, message, signature)
        except keys.KeysError as e:
            raise ValueError(e.en) from e

    return check


def sign_amended_list(request: bytes, town: keys.Signer) -> bytes:
    """The town committee signs an ``amended-list/1`` request: ``signed-amended-list/1`` bytes
    (spec/log.md §2.1).

    Raises:
        SessionError: not the town key, or the request is not an ``amended-list/1`` document.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "amend.signer_role",
            zh="调整后的候选人名单须由镇党委密钥签署",
            en="an amended candidate list must be signed with the town committee key",
        )
    doc = amended_list_request(request)
    sig = town.sign(AMENDED_LIST_DOMAIN, canonical(doc))
    return canonical(
        {
            "format": SIGNED_AMENDED_LIST_FORMAT,
            "list": doc,
            "signature": base64.b64encode(sig).decode(),
        }
    )


def amended_list_request(raw: bytes) -> dict[str, Any]:
    """An ``amended-list/1`` request, parsed.

    Raises:
        SessionError: ``amend.bad_file``; ``json.malformed``.
    """
    doc = strict_json(raw[: MAX_AMENDED_LIST_BYTES + 1], "候选人名单文件 / the list file")
    keys_ = {"format", "election_id", "post", "round", "candidates", "town_approval"}
    ok = (
        isinstance(doc, dict)
        and set(doc) == keys_
        and doc["format"] == AMENDED_LIST_FORMAT
        and isinstance(doc["election_id"], str)
        and isinstance(doc["post"], str)
        and isinstance(doc["round"], int)
        and isinstance(doc["candidates"], list)
        and all(isinstance(c, str) for c in doc["candidates"])
        and isinstance(doc["town_approval"], str)
    )
    if not ok:
        raise SessionError(
            "amend.bad_file",
            zh="不是 amended-list/1 候选人名单文件（字段缺少、多余或类型不符）",
            en="not an amended-list/1 document (missing, unknown or mistyped members)",
        )
    result: dict[str, Any] = doc
    return result


def sign_manifest(manifest: Manifest, town: keys.Signer) -> bytes:
    """The ``signed-manifest/1`` bytes (spec/manifest.md §4)."""
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "manifest.signer_role",
            zh="选举清单须由镇党委密钥签署",
            en="the manifest must be signed with the town committee key",
        )
    sig = town.sign(MANIFEST_DOMAIN, manifest.canonical_bytes)
    town_doc = json.loads(keys.export_public_key(town.public_key))
    summary = public_summary(manifest.document, town_doc)
    summary_sig = town.sign(PUBLIC_SUMMARY_DOMAIN, canonical(summary))
    doc = {
        "format": SIGNED_MANIFEST_FORMAT,
        "manifest": dict(manifest.document),
        "town_key": town_doc,
        "signature": base64.b64encode(sig).decode(),
        "summary_signature": base64.b64encode(summary_sig).decode(),
    }
    return canonical(doc)


def load_signed_manifest(
    raw: bytes, *, trust_root: keys.PublicKey | str | None = None
) -> tuple[Manifest, keys.PublicKey]:
    """Parse and check a signed manifest: format, town key role, trust root, signature, definition.

    Args:
        raw: the ``signed-manifest/1`` bytes.
        trust_root: the town committee's public key, or its 25-digit fingerprint, as the user
            supplied it (spec/manifest.md §4). None only where the manifest was checked against the
            trust root before (an election file created by ``init``).

    Raises:
        SessionError: any problem, with the reason.
    """
    if len(raw) > MAX_MANIFEST_BYTES:
        raise SessionError("manifest.too_large", zh="选举清单文件过大", en="manifest too large")
    doc = strict_json(raw, "选举清单")
    if (
        not isinstance(doc, dict)
        or doc.get("format") != SIGNED_MANIFEST_FORMAT
        or set(doc) != {"format", "manifest", "town_key", "signature", "summary_signature"}
    ):
        raise SessionError(
            "manifest.format",
            zh="不是经镇党委签署的选举清单（signed-manifest/1）",
            en="not a signed-manifest/1 document",
        )
    town, sig, summary_sig = _town_key_and_signatures(doc, trust_root)
    try:
        message = canonical(doc["manifest"])
    except ValueError as e:  # rfc8785 refuses it (an integer beyond 2**53): nothing was signed
        raise SessionError(
            "manifest.format",
            zh=f"选举清单含有无法规范化的值：{e}",
            en=f"the manifest holds a value that has no canonical JSON form: {e}",
        ) from e
    try:
        keys.verify(town, MANIFEST_DOMAIN, message, sig)
    except keys.SignatureError as e:
        raise SessionError(
            "manifest.signature",
            zh="选举清单的镇党委签名无效：清单未签署或已被改动，不能使用",
            en="the town committee's signature on the manifest does not verify",
        ) from e
    try:
        manifest = parse_manifest(doc["manifest"])
    except DefinitionError as e:
        raise ManifestDefinitionError(e) from e  # every problem, as `tally check` lists them
    except TallyError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en) from e
    try:
        summary = public_summary(manifest.document, doc["town_key"])
        keys.verify(town, PUBLIC_SUMMARY_DOMAIN, canonical(summary), summary_sig)
    except keys.SignatureError as e:
        raise SessionError(
            "manifest.summary_signature",
            zh="选举公开摘要的镇党委签名无效：摘要未签署或与清单不符，不能使用",
            en="the town committee's signature on the public summary does not verify",
        ) from e
    return manifest, town


def _town_key_and_signatures(
    doc: dict[str, Any], trust_root: keys.PublicKey | str | None
) -> tuple[keys.PublicKey, bytes, bytes]:
    """The town key of a ``signed-manifest/1`` (checked for its role and against ``trust_root``)
    and the two signatures, decoded.

    Raises:
        SessionError: ``manifest.town_key`` (bad key or signature text, or another key than the
            trust root's); ``manifest.town_role``.
    """
    try:
        town = keys.parse_public_key(canonical(doc["town_key"]))
        sig = base64.b64decode(doc["signature"], validate=True)
        summary_sig = base64.b64decode(doc["summary_signature"], validate=True)
    except (keys.KeysError, ValueError, TypeError) as e:  # rfc8785: an integer beyond 2**53
        raise SessionError(
            "manifest.town_key", zh=f"镇党委公钥或签名格式错误：{e}", en=f"bad town key: {e}"
        ) from e
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "manifest.town_role", zh="签署者不是镇党委密钥", en="the signer is not the town key"
        )
    if trust_root is not None:
        want = (
            trust_root.replace(" ", "")
            if isinstance(trust_root, str)
            else keys.fingerprint(trust_root).replace(" ", "")
        )
        if not hmac.compare_digest(keys.fingerprint(town).replace(" ", ""), want):
            raise SessionError(
                "manifest.town_key",
                zh="选举清单不是用本镇党委的公钥签署的（公钥指纹不符），不能使用",
                en="the manifest is not signed by the town committee key given "
                "(fingerprint differs)",
            )
    return town, sig, summary_sig


def signed_public_summary(signed_manifest: bytes) -> tuple[dict[str, Any], str]:
    """The ``public-summary/1`` of an already checked signed manifest and the town's signature on
    it (base64): what the voting page is shown instead of the manifest (spec/manifest.md §6)."""
    doc = json.loads(signed_manifest)
    return public_summary(doc["manifest"], doc["town_key"]), str(doc["summary_signature"])
