"""Sign and load the procedure definition: ``signed-procedure/1`` (spec/procedure.md RP-2.3).

The shell half of RP-2.3: the town committee's signature (made and checked with ``keys``), the
trust root, and the check that every public key of the definition is a valid ``pubkey/1``
(spec/keyfile.md §5.2, as ``keys`` reads it: role, algorithm, label, 32-byte key). The
format and every rule of RP-2.4 are the core's (:mod:`tally.core.procedure.definition`).
"""

from __future__ import annotations

import hmac
import json

import keys
from tally.core.errors import Problem
from tally.core.manifest import canonical
from tally.core.procedure import (
    PROCEDURE_DOMAIN,
    Procedure,
    ProcedureDefinitionError,
    ProcedureFileError,
    PublicKeyDocument,
    SignedProcedure,
    parse_procedure,
    parse_signed_envelope,
    procedure_id_of,
    render_procedure,
    signed_procedure_bytes,
)

__all__ = ["MAX_PROCEDURE_BYTES", "check_key_material", "load_signed_procedure", "sign_procedure"]

MAX_PROCEDURE_BYTES = 16 * 1024 * 1024
"""A roster of 20,000 members (the definition's limit) is about 5 MB of JSON."""


def sign_procedure(procedure: Procedure, town: keys.Signer) -> bytes:
    """(RP-2.3) The ``signed-procedure/1`` bytes of ``procedure``, signed by the town committee.

    Raises:
        ProcedureFileError: ``procedure.town_role`` when ``town`` is not a town committee key.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise ProcedureFileError(
            "procedure.town_role",
            zh="换届程序定义须由镇党委密钥签署",
            en="the procedure definition must be signed with the town committee key",
            clause="RP-2.3",
        )
    document = render_procedure(procedure)
    signature = town.sign(PROCEDURE_DOMAIN, canonical(document))
    town_doc = json.loads(keys.export_public_key(town.public_key))
    return signed_procedure_bytes(document, town_doc, signature)


def load_signed_procedure(raw: bytes, *, trust_root: keys.PublicKey | str) -> SignedProcedure:
    """(RP-2.3) Check a ``signed-procedure/1`` in the spec's order and return its procedure.

    The format, the town key's role, the town key against ``trust_root``, the signature, then
    every check of RP-2.4 and the key material.

    Args:
        raw: the stored bytes.
        trust_root: the town committee's public key, or its 25-digit fingerprint, as the user
            supplied it.

    Raises:
        ProcedureFileError: the envelope, the key or the signature fails (one code).
        ProcedureDefinitionError: the signed definition breaks RP-2.1 or RP-2.4 (every problem).
    """
    if len(raw) > MAX_PROCEDURE_BYTES:
        raise ProcedureFileError(
            "procedure.format",
            zh=f"换届程序定义文件超过 {MAX_PROCEDURE_BYTES} 字节",
            en=f"the procedure file is larger than {MAX_PROCEDURE_BYTES} bytes",
            clause="RP-2.3",
        )
    envelope = parse_signed_envelope(raw)
    try:
        town = keys.parse_public_key(canonical(envelope.town_key.to_json()))
    except keys.KeysError as e:
        raise ProcedureFileError(
            "procedure.town_role",
            zh=f"镇党委公钥无效：{e.zh}",
            en=f"the town key is invalid: {e.en}",
            clause="RP-2.3",
        ) from e
    want = (trust_root if isinstance(trust_root, str) else keys.fingerprint(trust_root)).replace(
        " ", ""
    )
    if not hmac.compare_digest(keys.fingerprint(town).replace(" ", ""), want):
        raise ProcedureFileError(
            "procedure.town_key",
            zh="换届程序定义不是用本镇党委的公钥签署的（公钥指纹不符），不能使用",
            en="the procedure is not signed by the town committee key given (fingerprint differs)",
            clause="RP-2.3",
        )
    try:
        keys.verify(town, PROCEDURE_DOMAIN, envelope.message, envelope.signature)
    except keys.SignatureError as e:
        raise ProcedureFileError(
            "procedure.signature",
            zh="换届程序定义的镇党委签名无效：定义未签署或已被改动，不能使用",
            en="the town committee's signature on the procedure does not verify",
            clause="RP-2.3",
        ) from e
    procedure = parse_procedure(envelope.document)
    check_key_material(procedure)
    return SignedProcedure(
        procedure=procedure,
        procedure_id=procedure_id_of(envelope.document),
        town_key=envelope.town_key,
        signature=envelope.signature,
        raw=raw,
    )


def check_key_material(procedure: Procedure) -> None:
    """(RP-2.4, spec/keyfile.md §5.2) Every key of the definition is a ``pubkey/1`` that ``keys``
    reads (its label rules included).

    Raises:
        ProcedureDefinitionError: ``procedure.keys``, one problem per invalid key.
    """
    named: list[tuple[str, PublicKeyDocument]] = [("keys.work_group", procedure.keys.work_group)]
    named += [(f"keys.scrutineers[{i}]", k) for i, k in enumerate(procedure.keys.scrutineers)]
    problems: list[Problem] = []
    for where, doc in named:
        try:
            keys.parse_public_key(canonical(doc.to_json()))
        except keys.KeysError as e:
            problems.append(
                Problem(
                    "procedure.keys",
                    where,
                    f"公钥无效：{e.zh}",
                    f"invalid public key: {e.en}",
                    "RP-2.4",
                )
            )
    if problems:
        raise ProcedureDefinitionError(tuple(problems))
