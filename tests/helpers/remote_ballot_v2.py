"""The Python side of a remote ballot v2 (spec/remote-v2.md §3) for the page's tests.

``check_ballot_v2`` checks a ``remote-ballot/2`` made in the page as the service will (RV-3.5) and
returns its receipt (RV-3.6). It uses ``keys.remote_ballot.check_ballot`` when that module exists
(written on the branch wt/rkeys); until then it checks the document's shape, each post with
``keys.elgamal.verify_post`` and the disapproval proofs of RV-3.4 with keys.elgamal's range-proof
verifier, so the tests run on either side of that merge.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from keys import elgamal as eg

DISAPPROVALS_DOMAIN = b"branch-election/elgamal-disapprovals/1"
RECEIPT_DOMAIN = b"branch-election/remote-receipt/2"


@dataclass(frozen=True)
class Shape:
    post: str
    listed: int
    choices: int
    seats: int
    disapprovals: bool

    def js(self) -> dict[str, Any]:
        return {
            "post": self.post,
            "listed": self.listed,
            "choices": self.choices,
            "seats": self.seats,
            "disapprovals": self.disapprovals,
        }


class BallotRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def receipt_of(ballot: Mapping[str, Any]) -> str:
    """RV-3.6, computed independently of the page (hashlib and rfc8785)."""
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + rfc8785.dumps(ballot)).hexdigest()


def js_context(election_id: bytes, key: eg.ThresholdKey, shapes: Sequence[Shape]) -> dict[str, Any]:
    return {
        "electionId": election_id.hex(),
        "key": key.to_json(),
        "posts": [s.js() for s in shapes],
    }


def _remote_ballot_module() -> Any:
    try:
        return importlib.import_module("keys.remote_ballot")
    except ModuleNotFoundError:
        return None


def check_ballot_v2(
    election_id: bytes,
    key: eg.ThresholdKey,
    shapes: Sequence[Shape],
    doc: Mapping[str, Any],
    *,
    token: bytes,
) -> str:
    """RV-3.5 in Python; raises ``keys.KeysError`` (or ``BallotRefused`` for the shape) on refusal."""
    rb = _remote_ballot_module()
    if rb is not None:
        ctx = rb.BallotContext(
            election_id=election_id,
            key=key,
            posts=tuple(
                rb.PostShape(
                    post=s.post,
                    listed=s.listed,
                    choices=s.choices,
                    seats=s.seats,
                    disapprovals=s.disapprovals,
                )
                for s in shapes
            ),
        )
        checked = rb.check_ballot(ctx, doc, token=token)
        receipt: str = checked.receipt
        return receipt
    if set(doc) != {"format", "election_id", "token", "posts"}:
        raise BallotRefused("remote.ballot_invalid")
    if doc["format"] != "remote-ballot/2" or doc["election_id"] != election_id.hex():
        raise BallotRefused("remote.ballot_invalid")
    if [p.get("post") for p in doc["posts"]] != [s.post for s in shapes]:
        raise BallotRefused("remote.ballot_invalid")
    if doc["token"] != base64.b64encode(token).decode():
        raise BallotRefused("remote.token_mismatch")
    if len(rfc8785.dumps(doc)) > 262_144:
        raise BallotRefused("remote.ballot_too_large")
    for shape, post_doc in zip(shapes, doc["posts"], strict=True):
        body = {k: v for k, v in post_doc.items() if k != "disapprovals"}
        if ("disapprovals" in post_doc) != shape.disapprovals:
            raise BallotRefused("remote.ballot_invalid")
        context = eg.ProofContext(
            election_id=election_id, public_key=key.public_key, token=token, post=shape.post
        )
        post = eg.parse_encrypted_post(body, choices=shape.choices, seats=shape.seats)
        eg.verify_post(context, post, choices=shape.choices, seats=shape.seats)
        if shape.disapprovals:
            _check_disapprovals(context, post_doc["disapprovals"], post, shape.listed)
    return receipt_of(doc)


def _check_disapprovals(
    context: eg.ProofContext, doc: Mapping[str, Any], post: eg.EncryptedPost, listed: int
) -> None:
    if set(doc) != {"count", "count_proof", "room_proof", "write_in_proof"}:
        raise BallotRefused("elgamal.encoding")
    count = eg.parse_ciphertext(base64.b64decode(doc["count"]), field="count")
    a = eg.add_ciphertexts(post.choices[:listed])
    w = eg.add_ciphertexts(post.choices[listed:])
    targets = {
        "count_proof": (b"count", count),
        "room_proof": (b"room", eg.add_ciphertexts([a, count])),
        "write_in_proof": (
            b"write-in",
            eg.Ciphertext(
                alpha=eg._sub(count.alpha, w.alpha),
                beta=eg._sub(count.beta, w.beta),
            ),
        ),
    }
    multiples = eg._multiples_of_g(listed + 1)
    for member, (name, ct) in targets.items():
        proof = eg.parse_range_proof(base64.b64decode(doc[member]), values=listed + 1, field=member)
        statement = [*context.statement(), listed.to_bytes(4, "big"), name]
        if not eg._verify_range(
            DISAPPROVALS_DOMAIN,
            statement,
            public_key=context.public_key,
            ct=ct,
            proof=proof,
            multiples=multiples,
        ):
            raise BallotRefused("elgamal.choice_proof")


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
