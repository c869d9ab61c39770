"""The Python side of a remote ballot v2 (spec/remote-v2.md §3) for the page's tests:
``check_ballot_v2`` checks a ``remote-ballot/2`` made in the page as the service does (RV-3.5,
``keys.remote_ballot.check_ballot``) and returns its receipt (RV-3.6); ``receipt_of`` computes the
receipt independently (hashlib and rfc8785); ``decrypt_count`` threshold-decrypts one ciphertext.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import rfc8785

from keys import elgamal as eg
from keys import remote_ballot

RECEIPT_DOMAIN = b"branch-election/remote-receipt/2"


# The page's tests describe posts with the producer's own value (post, listed, choices, seats,
# disapprovals), not a copy of it.
Shape = remote_ballot.PostShape


def receipt_of(ballot: Mapping[str, Any]) -> str:
    """RV-3.6, computed independently of the page (hashlib and rfc8785)."""
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + rfc8785.dumps(ballot)).hexdigest()


def js_context(election_id: bytes, key: eg.ThresholdKey, shapes: Sequence[Shape]) -> dict[str, Any]:
    return {
        "electionId": election_id.hex(),
        "key": key.to_json(),
        "posts": [dataclasses.asdict(s) for s in shapes],
    }


def context(election_id: bytes, key: eg.ThresholdKey, shapes: Sequence[Shape]) -> Any:
    return remote_ballot.BallotContext(election_id=election_id, key=key, posts=tuple(shapes))


def check_ballot_v2(
    election_id: bytes,
    key: eg.ThresholdKey,
    shapes: Sequence[Shape],
    doc: Mapping[str, Any],
    *,
    token: bytes,
) -> str:
    """RV-3.5 in Python (keys.remote_ballot.check_ballot): the receipt, or a ``keys.KeysError``
    with the refusal's code."""
    checked = remote_ballot.check_ballot(context(election_id, key, shapes), doc, token=token)
    receipt: str = checked.receipt
    return receipt


def decrypt_count(
    key: eg.ThresholdKey,
    shares: Sequence[eg.KeyShare],
    election_id: bytes,
    ct_b64: str,
    *,
    bound: int,
) -> int:
    """Threshold-decrypt one ciphertext (a choice or a disapprovals count) with the first k shares."""
    ct = eg.parse_ciphertext(base64.b64decode(ct_b64), field="ct")
    label = b"test"
    partials = [
        eg.partial_decrypt(s, key, ct, election_id=election_id, label=label)
        for s in shares[: key.k]
    ]
    return eg.combine_partials(key, ct, partials, election_id=election_id, label=label, bound=bound)
