"""(RP-2.3) The envelope of ``signed-procedure/1``: format, the town key's shape, the signature's
encoding and the signed bytes; the signature itself is checked by ``tally.procedure_file``."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tally.core.manifest import canonical
from tally.core.procedure._common import (
    _SIGNED_KEYS,
    PROCEDURE_DOMAIN,
    SIGNED_FORMAT,
    Collector,
    _b64,
    _parse_key,
)
from tally.core.procedure.errors import ProcedureFileError
from tally.core.procedure.model import PublicKeyDocument

__all__ = ["SignedEnvelope", "decode_json", "parse_signed_envelope", "signed_procedure_bytes"]


@dataclass(frozen=True, slots=True)
class SignedEnvelope:
    """The members of a ``signed-procedure/1`` before its signature is checked.

    ``message`` is ``JCS(procedure)``, the bytes the town signed; ``procedure_id`` their hash.
    """

    document: Mapping[str, Any]
    town_key: PublicKeyDocument
    signature: bytes
    message: bytes
    procedure_id: bytes


def signed_procedure_bytes(
    document: Mapping[str, Any], town_key: Mapping[str, Any], signature: bytes
) -> bytes:
    """(RP-2.3) The JCS bytes of ``signed-procedure/1`` with this procedure, key and signature."""
    return canonical(
        {
            "format": SIGNED_FORMAT,
            "procedure": dict(document),
            "town_key": dict(town_key),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


def parse_signed_envelope(raw: bytes) -> SignedEnvelope:
    """(RP-2.3) The first checks of a ``signed-procedure/1``: the format and the town key's shape.

    The signature, the trust root and RP-2.4 follow (``tally.procedure_file``), in that order.

    Raises:
        ProcedureFileError: ``procedure.format`` (not JSON, another format, members missing or
            unknown), ``procedure.town_role`` (``town_key`` is not a ``pubkey/1`` of role
            ``town_committee``), ``procedure.signature`` (not 64 bytes of canonical base64).
    """
    doc = decode_json(raw)
    if not isinstance(doc, dict) or doc.get("format") != SIGNED_FORMAT or set(doc) != _SIGNED_KEYS:
        raise ProcedureFileError(
            "procedure.format",
            zh="不是经镇党委签署的换届程序定义（signed-procedure/1，恰好四项）",
            en="not a signed-procedure/1 document (exactly four members)",
            clause="RP-2.3",
        )
    c = Collector()
    town = _parse_key(c, doc["town_key"], "town_committee", "town_key")
    if town is None:
        raise ProcedureFileError(
            "procedure.town_role",
            zh="签署者不是镇党委的公钥（pubkey/1，角色 town_committee）",
            en="the signer is not a town committee key (pubkey/1, role town_committee)",
            clause="RP-2.3",
        )
    signature = _b64(doc["signature"])
    if signature is None or len(signature) != 64:
        raise ProcedureFileError(
            "procedure.signature",
            zh="镇党委签名格式错误（应为 64 字节的 base64）",
            en="the town signature is malformed (64 bytes of base64 expected)",
            clause="RP-2.3",
        )
    document = doc["procedure"]
    if not isinstance(document, dict):
        raise ProcedureFileError(
            "procedure.format",
            zh="procedure 应为换届程序定义（JSON 对象）",
            en="procedure must be a procedure/1 object",
            clause="RP-2.3",
        )
    try:
        message = canonical(document)
    except ValueError as e:  # an integer beyond 2**53, a lone surrogate: nothing was signed
        raise ProcedureFileError(
            "procedure.format",
            zh=f"换届程序定义含有无法规范化的值：{e}",
            en=f"the procedure holds a value with no canonical JSON form: {e}",
            clause="RP-2.3",
        ) from e
    return SignedEnvelope(
        document=document,
        town_key=town,
        signature=signature,
        message=message,
        procedure_id=hashlib.sha256(PROCEDURE_DOMAIN + b"\x00" + message).digest(),
    )


def decode_json(raw: bytes) -> object:
    """Strict JSON of a procedure file: UTF-8, no duplicate member, no float (spec/README.md).

    Raises:
        ProcedureFileError: ``procedure.format``.
    """
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates, parse_float=_no_float)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise ProcedureFileError(
            "procedure.format",
            zh=f"换届程序定义文件不是有效的 JSON：{e}",
            en=f"the procedure file is not valid JSON: {e}",
            clause="RP-2.3",
        ) from e


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        msg = "duplicate key"
        raise ValueError(msg)
    return dict(pairs)


def _no_float(text: str) -> float:
    msg = f"numbers must be integers ({text})"
    raise ValueError(msg)
