"""The ballot ``remote-ballot/2``: its check and its receipt (spec/remote-v2.md RV-3).

Written from spec/remote-v2.md alone (the producer's ``keys.remote_ballot`` is not read):

* (RV-3.1) exactly ``{format, election_id, token, posts}``, one post object per assembly-voted
  post in ballot order;
* (RV-3.2) each post by EG-6.4 (``ballot.verify_post``) with the manifest's choices (listed
  candidates, then the write-in list of RV-2.1) and seats, the statement prefix being the
  election id, H = C_0, the cast's token and the post code;
* (RV-3.4) with ``write_in_requires_disapproval``, the member ``disapprovals``
  ``{count, count_proof, room_proof, write_in_proof}``: three CDS proofs over 0..L (EG-5.1) on
  ``count`` (D in 0..L), ``A + count`` (A + D <= L) and ``count − W`` (W <= D), domain
  ``branch-election/elgamal-disapprovals/1``, prefix = statement prefix ‖ ``u32(L)`` ‖ the
  proof's name (each a separate framed item);
* (RV-3.5) the order of the checks, stopping at the first failure; the JCS size limit;
* (RV-3.6) ``receipt = SHA-256("branch-election/remote-receipt/2" ‖ 0x00 ‖ JCS(ballot))``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from verifier.canonical import canonical_bytes
from verifier.crypto import b64decode_canonical
from verifier.errors import VerificationError
from verifier.remote_v2.ballot import (
    DisjunctiveProof,
    PostStatement,
    VerifiedPost,
    disjunction_holds,
    make_statement,
    parse_post,
    parse_proof,
    verify_post,
)
from verifier.remote_v2.errors import (
    ChoiceProofError,
    ElGamalEncodingError,
    ElGamalVerificationError,
)
from verifier.remote_v2.group import (
    Ciphertext,
    add_ciphertexts,
    parse_ciphertext,
    sub,
    sum_ciphertexts,
    u32,
)

__all__ = [
    "BALLOT_FORMAT",
    "DISAPPROVALS_DOMAIN",
    "MAX_BALLOT_BYTES",
    "RECEIPT_DOMAIN",
    "Disapprovals",
    "PostShape",
    "RemoteBallotError",
    "check_ballot",
    "parse_ballot_posts",
    "parse_disapprovals",
    "receipt",
    "verify_disapprovals",
]

BALLOT_FORMAT: Final = "remote-ballot/2"
RECEIPT_DOMAIN: Final = b"branch-election/remote-receipt/2"
DISAPPROVALS_DOMAIN: Final = b"branch-election/elgamal-disapprovals/1"
MAX_BALLOT_BYTES: Final = 262_144
_BALLOT_MEMBERS: Final = frozenset({"format", "election_id", "token", "posts"})
_DISAPPROVAL_MEMBERS: Final = frozenset({"count", "count_proof", "room_proof", "write_in_proof"})
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class PostShape:
    """What the manifest (and RV-2.1) fixes for one assembly-voted post of the ballot."""

    post: str
    listed: int  # listed candidates: the first ``listed`` choices
    choices: int  # listed + the write-in list's length
    seats: int
    disapprovals: bool  # the manifest's write_in_requires_disapproval (RV-3.4)


class RemoteBallotError(VerificationError):
    """RV-3.5's own refusals: ``remote.ballot_invalid``, ``remote.token_mismatch``,
    ``remote.ballot_too_large``."""

    def __init__(self, code: str, zh: str, en: str, *, clause: str = "RV-3.5", path: str = ""):
        super().__init__(clause=clause, code=code, zh=zh, en=en, path=path)


def _invalid(zh: str, en: str, path: str = "", clause: str = "RV-3.1") -> RemoteBallotError:
    return RemoteBallotError("remote.ballot_invalid", zh, en, clause=clause, path=path)


def receipt(ballot: object) -> str:
    """(RV-3.6) The receipt of a ballot: 64 lowercase hex.

    Raises:
        DocumentFormatError: the value has no JCS form (e.g. an integer beyond 2**53).
    """
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + canonical_bytes(ballot)).hexdigest()


def _statement(
    election_id: bytes, public_key: bytes, token: bytes, shape: PostShape
) -> PostStatement:
    return make_statement(
        election_id=election_id,
        public_key=public_key,
        token=token,
        post=shape.post,
        choices=shape.choices,
        seats=shape.seats,
    )


@dataclass(frozen=True, slots=True)
class Disapprovals:
    """(RV-3.4) A post's parsed ``disapprovals``: the ciphertext of D and the three proofs."""

    count: Ciphertext
    proofs: tuple[tuple[str, DisjunctiveProof], ...]  # ("count" | "room" | "write-in", proof)


def parse_disapprovals(doc: object, listed: int) -> Disapprovals:
    """(RV-3.4, EG-6.3) ``{count, count_proof, room_proof, write_in_proof}``: ``count`` a ballot
    ciphertext, each proof 64·(L+1) bytes of canonical scalars.

    Raises:
        ElGamalEncodingError: not exactly the four members, bad base64, a ciphertext not 64 bytes.
        InvalidPointError, IdentityPointError: ``count`` is no ballot ciphertext (EG-3.1).
        ProofLengthError: a proof not 64·(L+1) bytes.
        NonCanonicalScalarError: a proof scalar >= ℓ.

    Returns:
        The parsed disapprovals (their proofs not yet verified).
    """
    if not isinstance(doc, dict) or set(doc) != _DISAPPROVAL_MEMBERS:
        raise ElGamalEncodingError(
            clause="RV-3.4",
            zh="disapprovals 应恰有 count、count_proof、room_proof、write_in_proof 四项",
            en="disapprovals is exactly {count, count_proof, room_proof, write_in_proof}",
            path="disapprovals",
        )
    raws: dict[str, bytes] = {}
    for name in ("count", "count_proof", "room_proof", "write_in_proof"):
        raw = b64decode_canonical(doc[name])
        if raw is None:
            raise ElGamalEncodingError(
                clause="RV-3.4",
                zh=f"disapprovals.{name} 不是规范的 base64",
                en=f"disapprovals.{name} is not canonical base64",
                path=f"disapprovals.{name}",
            )
        raws[name] = raw
    count = parse_ciphertext(raws["count"], in_ballot=True, what="disapprovals.count")
    proofs = tuple(
        (
            name,
            parse_proof(
                raws[f"{name.replace('-', '_')}_proof"],
                alternatives=listed + 1,
                clause="RV-3.4",
                path=f"disapprovals.{name.replace('-', '_')}_proof",
            ),
        )
        for name in ("count", "room", "write-in")
    )
    return Disapprovals(count=count, proofs=proofs)


def verify_disapprovals(
    statement: PostStatement, listed: int, choices: Sequence[Ciphertext], found: Disapprovals
) -> None:
    """(RV-3.4) D in 0..L, A + D <= L, W <= D: the three proofs by EG-5.3, in that order.

    Args:
        statement: the post's statement (its prefix binds the proofs).
        listed: L, the number of listed candidates (the first L choices).
        choices: the post's choice ciphertexts.
        found: the post's parsed disapprovals.

    Raises:
        ChoiceProofError: one of the three proofs does not verify (EG-5.3).
    """
    count = found.count
    approved = sum_ciphertexts(choices[:listed])  # A
    written = sum_ciphertexts(choices[listed:])  # W (the sum over none is (O, O))
    subjects = {
        "count": count,
        "room": add_ciphertexts(approved, count),
        "write-in": Ciphertext(
            alpha=sub(count.alpha, written.alpha), beta=sub(count.beta, written.beta)
        ),
    }
    for name, proof in found.proofs:
        prefix = (*statement.prefix(), u32(listed), name.encode("ascii"))
        if not disjunction_holds(
            DISAPPROVALS_DOMAIN, prefix, statement.public_key, subjects[name], proof
        ):
            raise ChoiceProofError(
                clause="EG-5.3",
                zh=f"不赞成数的 {name} 证明不成立（RV-3.4）",
                en=f"the {name} proof of the disapprovals does not verify (RV-3.4)",
                path=f"disapprovals.{name.replace('-', '_')}_proof",
            )


def parse_ballot_posts(
    doc: object,
    *,
    election_id: bytes,
    shapes: Sequence[PostShape],
) -> tuple[tuple[Mapping[str, object], ...], bytes]:
    """(RV-3.1, RV-3.5) The ballot's members, encodings, election id and post list.

    Raises:
        RemoteBallotError: more than 262,144 bytes of JCS (``remote.ballot_too_large``, checked
            first); a wrong format, member, election id or post list (``remote.ballot_invalid``).

    Returns:
        The post objects, in ballot order, one per shape, and the ballot's token (32 bytes; the
        caller compares it with the cast's, ``remote.token_mismatch``).
    """
    try:
        size = len(canonical_bytes(doc))
    except VerificationError as e:  # e.g. an integer beyond 2**53: no JCS form, no receipt
        raise _invalid("选票没有 JCS 规范形式", f"the ballot has no JCS form: {e.en}") from e
    if size > MAX_BALLOT_BYTES:  # first, before any other check
        raise RemoteBallotError(
            "remote.ballot_too_large",
            f"选票超过 {MAX_BALLOT_BYTES} 字节",
            f"the ballot's JCS is over {MAX_BALLOT_BYTES} bytes",
        )
    if not isinstance(doc, dict) or set(doc) != _BALLOT_MEMBERS:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise _invalid(
            f"选票应恰有 format、election_id、token、posts 四项，实为 {found}",
            f"a ballot is exactly {{format, election_id, token, posts}}, got {found}",
        )
    if doc["format"] != BALLOT_FORMAT:
        raise _invalid(
            "选票格式不是 remote-ballot/2", "the format is not remote-ballot/2", "format"
        )
    eid = doc["election_id"]
    if not isinstance(eid, str) or _HEX64.fullmatch(eid) is None or eid != election_id.hex():
        raise _invalid(
            "选票的选举标识不是本选举的", "election_id is not this election's", "election_id"
        )
    ballot_token = b64decode_canonical(doc["token"], 32)
    if ballot_token is None:
        raise _invalid(
            "token 不是 32 字节的规范 base64", "token is not base64 of 32 bytes", "token"
        )
    posts = doc["posts"]
    if (
        not isinstance(posts, list)
        or len(posts) != len(shapes)
        or not all(isinstance(p, dict) for p in posts)
    ):
        raise _invalid(
            "posts 应为每个党员大会选举职位各一项",
            "posts must hold one object per assembly-voted post",
            "posts",
        )
    for i, (part, shape) in enumerate(zip(posts, shapes, strict=True)):
        if part.get("post") != shape.post:
            raise _invalid(
                f"第 {i + 1} 个职位应为 {shape.post}",
                f"post {i} must be {shape.post} (ballot order)",
                f"posts[{i}].post",
            )
    return tuple(posts), ballot_token


def check_ballot(
    doc: object,
    *,
    election_id: bytes,
    public_key: bytes,
    token: bytes,
    shapes: Sequence[PostShape],
) -> tuple[tuple[tuple[Ciphertext, ...] | None, ...], VerificationError | None]:
    """(RV-3.5) Check one cast's ballot, stopping at the first failure.

    The ciphertexts of every post whose encodings parsed are returned even when a later check
    fails, so that the encrypted totals (EG-3.3: over every cast) can still be recomputed.

    Args:
        doc: the cast's ``ballot``.
        election_id: this election's id (32 bytes).
        public_key: H = C_0 of the election key.
        token: the cast's token T (32 bytes).
        shapes: the assembly-voted posts in ballot order.

    Returns:
        Per post (ballot order) its choice ciphertexts, or None when they did not parse; and the
        first failure (an ``ElGamalVerificationError`` or a ``RemoteBallotError``), or None.
    """
    parsed: list[tuple[Ciphertext, ...] | None] = [None] * len(shapes)
    try:
        parts, ballot_token = parse_ballot_posts(doc, election_id=election_id, shapes=shapes)
    except VerificationError as e:
        return tuple(parsed), e
    failure: VerificationError | None = None
    if ballot_token != token:
        failure = RemoteBallotError(
            "remote.token_mismatch",
            "选票中的凭证与投票所用凭证不同",
            "the ballot's token is not the cast's token",
            path="token",
        )
    for i, (part, shape) in enumerate(zip(parts, shapes, strict=True)):
        body = {k: v for k, v in part.items() if not (shape.disapprovals and k == "disapprovals")}
        try:
            statement = _statement(election_id, public_key, token, shape)
            if shape.disapprovals and "disapprovals" not in part:  # (EG-6.3) a missing member
                raise ElGamalEncodingError(
                    clause="EG-6.3",
                    zh="清单要求另选他人须有不赞成票，该职位却缺少 disapprovals",
                    en="write_in_requires_disapproval is set: the post lacks disapprovals",
                )
            post = parse_post(body, statement)
            parsed[i] = post.choices
            if failure is not None:
                continue  # only the ciphertexts are still wanted
            # (EG-6.3) the encodings of disapprovals after the post's, its proofs after the sum's
            marks = (
                parse_disapprovals(part["disapprovals"], shape.listed)
                if shape.disapprovals
                else None
            )
            verified: VerifiedPost = verify_post(statement, post)
            if marks is not None:
                verify_disapprovals(statement, shape.listed, verified.choices, marks)
        except ElGamalVerificationError as e:
            if failure is None:
                failure = _at(e, f"posts[{i}]")
    return tuple(parsed), failure


def _at(e: ElGamalVerificationError, where: str) -> ElGamalVerificationError:
    e.path = f"{where}.{e.path}" if e.path else where
    return e
