"""Signed checkpoints of the election log (spec/log.md §3).

A checkpoint body is four lines: origin, tree size, base64 root, reason. Each signer adds one line
``— <role>:<16 hex> <base64(key id || signature)>`` with an Ed25519 signature in the domain
``branch-election/checkpoint/1`` over the body.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import keys

__all__ = [
    "CHECKPOINT_DOMAIN",
    "CheckpointBody",
    "body_text",
    "note_body",
    "signature_line",
    "signer_name",
]

CHECKPOINT_DOMAIN = b"branch-election/checkpoint/1"


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    election_id: bytes
    size: int
    root: bytes
    reason: str


def body_text(cp: CheckpointBody) -> str:
    """The signed body: four lines, each ending in a newline."""
    return note_body(f"branch-election/{cp.election_id.hex()}", cp.size, cp.root, cp.reason)


def note_body(origin: str, size: int, root: bytes, reason: str) -> str:
    """A checkpoint body of any log of the project: origin, size, base64 root, reason lines
    (the casework log's origin is ``branch-casework/<id>``, spec/procedure.md RP-11.4)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n{reason}\n"


def signer_name(public_key: keys.PublicKey) -> str:
    """``<role>:<first 16 hex of SHA-256(key)>``."""
    return f"{public_key.role.value}:{hashlib.sha256(public_key.key).hexdigest()[:16]}"


def signature_line(
    signer: keys.Signer, body: str, *, domain: bytes = CHECKPOINT_DOMAIN
) -> tuple[str, str]:
    """(signer name, the signature line with its newline), signed in ``domain``."""
    sig = signer.sign(domain, body.encode())
    key_id = hashlib.sha256(signer.public_key.key).digest()[:4]
    name = signer_name(signer.public_key)
    return name, f"\u2014 {name} {base64.b64encode(key_id + sig).decode()}\n"
