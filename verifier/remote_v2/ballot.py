"""A post's encrypted ballot: parsing, the 0/1 and sum proofs, encrypted totals
(spec/remote-v2-crypto.md §4.3-§6, §3.3).

* (EG-4.3) every ballot proof is bound to its statement prefix: the election id, the election key
  H, the credential's token T and the post code; (EG-4.4) under its own domain.
* (EG-5.1-5.3) the disjunctive Chaum-Pedersen proof over 0..K, encoded ``c_0‖…‖c_K‖s_0‖…‖s_K``;
  verified by recomputing ``a_j = s_j·G − c_j·alpha``, ``b_j = s_j·H − c_j·(beta − j·G)`` and
  accepting exactly when ``Σ c_j ≡ challenge``. A choice's proof also binds ``u32(position)``.
* (EG-6.2) the sum proof: the same disjunction over 0..seats on the sum of the post's choices,
  bound to ``u32(seats) ‖ u32(number of choices)``.
* (EG-6.3, EG-6.4) the JSON form ``{post, choices, choice_proofs, sum_proof}`` is checked in the
  order of EG-6.4, stopping at the first failure.
* (EG-3.3) the ciphertexts of verified ballots add up, choice by choice, into the post's totals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from verifier.crypto import b64decode_canonical
from verifier.remote_v2.errors import (
    ChoiceProofError,
    ElGamalEncodingError,
    ElGamalParametersError,
    ProofLengthError,
    SumProofError,
    WrongShapeError,
)
from verifier.remote_v2.group import (
    GENERATOR,
    ORDER,
    SCALAR_SIZE,
    Ciphertext,
    add_ciphertexts,
    base_mul,
    challenge,
    mul,
    parse_ciphertext,
    parse_point,
    parse_scalar,
    sub,
    sum_ciphertexts,
    u32,
)

__all__ = [
    "CHOICE_DOMAIN",
    "MAX_SEATS",
    "SUM_DOMAIN",
    "DisjunctiveProof",
    "EncryptedPost",
    "PostStatement",
    "PostTotals",
    "VerifiedPost",
    "disjunction_holds",
    "make_statement",
    "parse_post",
    "parse_proof",
    "tally_post",
    "verify_post",
    "verify_post_json",
]

CHOICE_DOMAIN: Final = b"branch-election/elgamal-choice/1"
SUM_DOMAIN: Final = b"branch-election/elgamal-sum/1"
MAX_SEATS: Final = 64
ID_SIZE: Final = 32
_POST_MEMBERS: Final = frozenset({"post", "choices", "choice_proofs", "sum_proof"})


@dataclass(frozen=True, slots=True)
class PostStatement:
    """What a post's proofs are checked against: from the manifest and the cast, never the ballot.

    Build it with ``make_statement`` (which checks every field).
    """

    election_id: bytes
    public_key: bytes
    token: bytes
    post: str
    choices: int
    seats: int

    def prefix(self) -> tuple[bytes, ...]:
        """(EG-4.3) The statement prefix: election id, H, T, post code (ASCII)."""
        return (self.election_id, self.public_key, self.token, self.post.encode("ascii"))


def make_statement(
    *, election_id: bytes, public_key: bytes, token: bytes, post: str, choices: int, seats: int
) -> PostStatement:
    """Check a post's statement: ids of 32 bytes, H a point other than O, seats 1..64.

    Raises:
        ElGamalParametersError: an id or token not 32 bytes, a non-ASCII or empty post code,
            fewer than one choice, seats outside 1..64 (EG-6.2).
        ElGamalEncodingError, InvalidPointError, IdentityPointError: H is not a valid key
            (EG-2.2).

    Returns:
        The statement.
    """
    for name, value in (("election_id", election_id), ("token", token)):
        if len(value) != ID_SIZE:
            raise ElGamalParametersError(
                clause="EG-4.3",
                zh=f"{name} 应为 32 字节",
                en=f"{name} is 32 bytes",
                path=name,
            )
    if not post or not post.isascii():
        raise ElGamalParametersError(
            clause="EG-4.3", zh="职位代码应为非空 ASCII", en="a post code is non-empty ASCII"
        )
    if choices < 1:
        raise ElGamalParametersError(
            clause="EG-6.2", zh="职位至少有一个选项", en="a post has at least one choice"
        )
    if not 1 <= seats <= MAX_SEATS:
        raise ElGamalParametersError(
            clause="EG-6.2",
            zh=f"名额应在 1 至 {MAX_SEATS} 之间，实为 {seats}",
            en=f"seats are 1..{MAX_SEATS}, not {seats}",
        )
    parse_point(public_key, allow_identity=False, what="public_key")
    return PostStatement(
        election_id=election_id,
        public_key=public_key,
        token=token,
        post=post,
        choices=choices,
        seats=seats,
    )


@dataclass(frozen=True, slots=True)
class DisjunctiveProof:
    """(EG-5.2) A CDS proof over 0..K: the challenges c_j and responses s_j, all canonical."""

    challenges: tuple[int, ...]
    responses: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EncryptedPost:
    """A post's encrypted ballot whose encodings passed EG-6.3, EG-6.4 (shape), EG-2.2, EG-2.3."""

    post: str
    choices: tuple[Ciphertext, ...]
    choice_proofs: tuple[DisjunctiveProof, ...]
    sum_proof: DisjunctiveProof


@dataclass(frozen=True, slots=True)
class VerifiedPost:
    """A post's ciphertexts whose every proof verified (only ``verify_post`` returns one)."""

    post: str
    choices: tuple[Ciphertext, ...]


def _encoding_error(en: str, zh: str, path: str = "") -> ElGamalEncodingError:
    return ElGamalEncodingError(clause="EG-6.3", zh=zh, en=en, path=path)


def _b64(value: object, path: str) -> bytes:
    raw = b64decode_canonical(value)
    if raw is None:
        raise _encoding_error("not canonical base64", "不是规范的 base64", path)
    return raw


def parse_proof(raw: bytes, *, alternatives: int, clause: str, path: str) -> DisjunctiveProof:
    """(EG-5.2) ``c_0‖…‖c_K‖s_0‖…‖s_K`` with K + 1 = ``alternatives``."""
    size = 2 * SCALAR_SIZE * alternatives
    if len(raw) != size:
        raise ProofLengthError(
            clause=clause,
            zh=f"证明应为 {size} 字节，实为 {len(raw)} 字节",
            en=f"the proof is {size} bytes, not {len(raw)}",
            path=path,
        )
    values = tuple(
        parse_scalar(raw[i : i + SCALAR_SIZE], what=f"{path}[{i // SCALAR_SIZE}]")
        for i in range(0, size, SCALAR_SIZE)
    )
    return DisjunctiveProof(challenges=values[:alternatives], responses=values[alternatives:])


def parse_post(doc: object, statement: PostStatement) -> EncryptedPost:
    """(EG-6.3, EG-6.4) Parse a post's JSON form, in the order of EG-6.4 up to the encodings.

    The members (EG-6.3), then the number of choices and of choice proofs (EG-6.4), then every
    encoding: each choice (EG-3.1, EG-2.2), each choice proof (EG-5.2, EG-2.3), the sum proof
    (EG-6.3, EG-2.3).

    Raises:
        ElGamalEncodingError: a missing or unknown member, a wrong JSON type, bad base64, a
            ciphertext not 64 bytes.
        WrongShapeError: as many choices or choice proofs as the post has choices.
        ProofLengthError: a choice proof not 128 bytes, a sum proof not 64·(seats+1) bytes.
        InvalidPointError, IdentityPointError: a ciphertext half (EG-2.2).
        NonCanonicalScalarError: a proof scalar >= ℓ (EG-2.3).

    Returns:
        The parsed post (its proofs not yet verified: ``verify_post``).
    """
    if not isinstance(doc, dict) or set(doc) != _POST_MEMBERS:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise _encoding_error(
            f"a post is exactly {{post, choices, choice_proofs, sum_proof}}, got {found}",
            f"职位密文应恰有 post、choices、choice_proofs、sum_proof 四项，实为 {found}",
        )
    post, choices, proofs, sum_proof = (
        doc["post"],
        doc["choices"],
        doc["choice_proofs"],
        doc["sum_proof"],
    )
    if not isinstance(post, str):
        raise _encoding_error("post is a string", "post 应为字符串", "post")
    for name, value in (("choices", choices), ("choice_proofs", proofs)):
        if not isinstance(value, list):
            raise _encoding_error(f"{name} is a list", f"{name} 应为列表", name)
    if not isinstance(sum_proof, str):
        raise _encoding_error("sum_proof is a string", "sum_proof 应为字符串", "sum_proof")
    # (EG-6.4) the shape, before any decoding.
    if len(choices) != statement.choices or len(proofs) != statement.choices:
        raise WrongShapeError(
            clause="EG-6.4",
            zh=(
                f"该职位有 {statement.choices} 个选项，选票却有 {len(choices)} 个密文、"
                f"{len(proofs)} 个证明"
            ),
            en=(
                f"the post has {statement.choices} choices; the ballot has {len(choices)} "
                f"ciphertexts and {len(proofs)} proofs"
            ),
        )
    cts = tuple(
        parse_ciphertext(_b64(c, f"choices[{i}]"), in_ballot=True, what=f"choices[{i}]")
        for i, c in enumerate(choices)
    )
    parsed_proofs = tuple(
        parse_proof(
            _b64(p, f"choice_proofs[{i}]"),
            alternatives=2,
            clause="EG-5.2",
            path=f"choice_proofs[{i}]",
        )
        for i, p in enumerate(proofs)
    )
    parsed_sum = parse_proof(
        _b64(sum_proof, "sum_proof"),
        alternatives=statement.seats + 1,
        clause="EG-6.3",
        path="sum_proof",
    )
    return EncryptedPost(post=post, choices=cts, choice_proofs=parsed_proofs, sum_proof=parsed_sum)


def disjunction_holds(
    domain: bytes,
    prefix: Sequence[bytes],
    key: bytes,
    ct: Ciphertext,
    proof: DisjunctiveProof,
) -> bool:
    """(EG-5.3) Recompute every ``a_j``, ``b_j`` and compare ``Σ c_j`` with the challenge."""
    items = [*prefix, ct.alpha, ct.beta]
    shifted = ct.beta  # beta − j·G, one subtraction per alternative
    for j, (c_j, s_j) in enumerate(zip(proof.challenges, proof.responses, strict=True)):
        if j:
            shifted = sub(shifted, GENERATOR)
        items.append(sub(base_mul(s_j), mul(c_j, ct.alpha)))
        items.append(sub(mul(s_j, key), mul(c_j, shifted)))
    return challenge(domain, items) == sum(proof.challenges) % ORDER


def verify_post(statement: PostStatement, parsed: EncryptedPost) -> VerifiedPost:
    """(EG-6.4) Verify a parsed post: its post code, each choice proof in order, the sum proof.

    Raises:
        WrongShapeError: the ballot names another post.
        ChoiceProofError: a choice's 0/1 proof fails (EG-5.3): a ciphertext of neither 0 nor 1,
            a moved choice, or a proof for another election, key, credential or post (EG-4.3).
        SumProofError: the sum proof fails: an over-vote, or a proof for another statement.

    Returns:
        The verified post, ready to be added to the totals.
    """
    if parsed.post != statement.post:
        raise WrongShapeError(
            clause="EG-6.4",
            zh=f"选票是职位 {parsed.post!r} 的，不是 {statement.post!r}",
            en=f"the ballot is for post {parsed.post!r}, not {statement.post!r}",
            path="post",
        )
    prefix = statement.prefix()
    key = statement.public_key
    for i, (ct, proof) in enumerate(zip(parsed.choices, parsed.choice_proofs, strict=True)):
        if not disjunction_holds(CHOICE_DOMAIN, (*prefix, u32(i)), key, ct, proof):
            raise ChoiceProofError(
                clause="EG-5.3",
                zh=f"第 {i + 1} 个选项的 0/1 证明不成立",
                en=f"the 0/1 proof of choice {i} (0-based) does not verify",
                path=f"choice_proofs[{i}]",
            )
    total = sum_ciphertexts(parsed.choices)
    sum_prefix = (*prefix, u32(statement.seats), u32(statement.choices))
    if not disjunction_holds(SUM_DOMAIN, sum_prefix, key, total, parsed.sum_proof):
        raise SumProofError(
            clause="EG-6.2",
            zh=f"总和证明不成立（赞成数不能证明在 0 至 {statement.seats} 之间）",
            en=f"the sum proof does not verify (approvals not shown to be 0..{statement.seats})",
            path="sum_proof",
        )
    return VerifiedPost(post=parsed.post, choices=parsed.choices)


def verify_post_json(statement: PostStatement, doc: object) -> VerifiedPost:
    """``parse_post`` then ``verify_post``: the whole of EG-6.4 on a post's JSON form.

    Raises:
        ElGamalVerificationError: the subclass and clause of the first failed check.

    Returns:
        The verified post.
    """
    return verify_post(statement, parse_post(doc, statement))


@dataclass(frozen=True, slots=True)
class PostTotals:
    """(EG-3.3) A post's encrypted totals: one ciphertext per choice, over ``ballots`` ballots."""

    post: str
    ballots: int
    totals: tuple[Ciphertext, ...]


def tally_post(post: str, choices: int, ballots: Iterable[VerifiedPost]) -> PostTotals:
    """(EG-3.3) Add verified ballots of one post choice by choice; over none, every total is (O, O).

    Raises:
        WrongShapeError: a ballot of another post or with another number of choices (EG-6.4).

    Returns:
        The encrypted totals and the number of ballots added (the bound of EG-9.2).
    """
    totals = tuple(sum_ciphertexts(()) for _ in range(choices))
    count = 0
    for ballot in ballots:
        if ballot.post != post or len(ballot.choices) != choices:
            raise WrongShapeError(
                clause="EG-6.4",
                zh=f"第 {count + 1} 张选票不属于职位 {post!r} 或选项数不同",
                en=f"ballot {count} is not for post {post!r} with {choices} choices",
            )
        totals = tuple(add_ciphertexts(t, c) for t, c in zip(totals, ballot.choices, strict=True))
        count += 1
    return PostTotals(post=post, ballots=count, totals=totals)
