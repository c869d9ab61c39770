"""What the remote-voting primitives of ``keys`` share: their error base, the election id's
size, and small encoding helpers (spec/remote.md, spec/remote-v2.md)."""

from __future__ import annotations

import base64
import hashlib
from typing import Final, NoReturn

from keys._errors import KeysError

__all__ = ["ELECTION_ID_SIZE", "RemoteError"]

ELECTION_ID_SIZE: Final = 32


class RemoteError(KeysError):
    """Base of the errors of the remote-voting primitives (spec/remote.md §11)."""

    code = "remote.error"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_election_id(election_id: bytes) -> bytes:
    if len(election_id) != ELECTION_ID_SIZE:
        raise ValueError(f"an election id is {ELECTION_ID_SIZE} bytes")
    return election_id


def _domain_hash(domain: bytes, message: bytes) -> bytes:
    return hashlib.sha256(domain + b"\x00" + message).digest()


def _no_pickle(obj: object) -> NoReturn:
    raise TypeError(f"{type(obj).__name__} holds private key material and cannot be pickled")
