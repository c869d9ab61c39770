"""Ciphertexts (spec/remote-v2-crypto.md §3) and the disjunctive Chaum-Pedersen proof that one
encrypts a value in 0..K (§5, §6), which every ballot proof is made of."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from keys.elgamal._errors import EncodingError, ProofLengthError, _fail
from keys.elgamal._group import (
    _IDENTITY_POINT,
    _ZERO_SCALAR_S,
    CIPHERTEXT_SIZE,
    ORDER,
    POINT_SIZE,
    SCALAR_SIZE,
    Point,
    Scalar,
    ScalarSource,
    _add,
    _base,
    _challenge,
    _int,
    _mul,
    _multiples_of_g,
    _s_add,
    _s_mul,
    _s_sub,
    _scalar,
    _sub,
)
from keys.elgamal._wire import parse_point, parse_scalar


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """(alpha, beta) = (r·G, m·G + r·H) under the election key H (§3)."""

    alpha: Point
    beta: Point

    def to_bytes(self) -> bytes:
        return self.alpha + self.beta


ZERO_CIPHERTEXT: Final = Ciphertext(alpha=_IDENTITY_POINT, beta=_IDENTITY_POINT)
"""The sum over no ballot: an encryption of 0 with r = 0 (§3.3)."""


def parse_ciphertext(data: bytes, *, field: str, allow_identity: bool = False) -> Ciphertext:
    """A ballot's ciphertext (identity forbidden) or a published sum (`allow_identity`) (§3.1).

    Raises:
        EncodingError: not 64 bytes.
        InvalidPointError, IdentityPointError: as parse_point, for either half.
    """
    if len(data) != CIPHERTEXT_SIZE:
        _fail(
            EncodingError,
            f"{field} 应为 {CIPHERTEXT_SIZE} 字节，实为 {len(data)} 字节。",
            f"{field} must be {CIPHERTEXT_SIZE} bytes, got {len(data)}",
        )
    return Ciphertext(
        alpha=parse_point(data[:POINT_SIZE], field=f"{field}.alpha", allow_identity=allow_identity),
        beta=parse_point(data[POINT_SIZE:], field=f"{field}.beta", allow_identity=allow_identity),
    )


def add_ciphertexts(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    """The homomorphic sum (§3.3): componentwise group addition, ZERO_CIPHERTEXT for none."""
    alpha, beta = _IDENTITY_POINT, _IDENTITY_POINT
    for ct in ciphertexts:
        alpha = _add(alpha, ct.alpha)
        beta = _add(beta, ct.beta)
    return Ciphertext(alpha=alpha, beta=beta)


def sub_ciphertexts(a: Ciphertext, b: Ciphertext) -> Ciphertext:
    """The homomorphic difference: componentwise group subtraction, an encryption of m_a − m_b
    with randomness r_a − r_b (spec/remote-v2.md RV-3.4: the write-in proof on count − W)."""
    return Ciphertext(alpha=_sub(a.alpha, b.alpha), beta=_sub(a.beta, b.beta))


def _encrypt(public_key: Point, m: int, r: Scalar) -> Ciphertext:
    # Not constant-time in m at the Python level (m·G is the identity for m = 0); the producer
    # never encrypts a member's choice, the page does (ADR 0024-remote-ballot-group).
    return Ciphertext(alpha=_base(r), beta=_add(_base(_scalar(m)), _mul(r, public_key)))


# --------------------------------------------------------------------------- disjunctive proofs


@dataclass(frozen=True, slots=True)
class RangeProof:
    """A disjunctive Chaum-Pedersen proof (CDS) that a ciphertext encrypts one of 0..K (§5, §6):
    challenges c_0..c_K and responses s_0..s_K; the commitments are recomputed by the verifier."""

    challenges: tuple[Scalar, ...]
    responses: tuple[Scalar, ...]

    def to_bytes(self) -> bytes:
        return b"".join(self.challenges) + b"".join(self.responses)


def parse_range_proof(data: bytes, *, values: int, field: str) -> RangeProof:
    """A proof over `values` = K + 1 alternatives: exactly 64·values bytes of canonical scalars.

    Raises:
        ProofLengthError: another length.
        NonCanonicalScalarError: a scalar not below ORDER.
    """
    if len(data) != 2 * SCALAR_SIZE * values:
        _fail(
            ProofLengthError,
            f"{field} 应为 {2 * SCALAR_SIZE * values} 字节，实为 {len(data)} 字节。",
            f"{field} must be {2 * SCALAR_SIZE * values} bytes, got {len(data)}",
        )
    scalars = tuple(
        parse_scalar(data[i : i + SCALAR_SIZE], field=f"{field}[{i // SCALAR_SIZE}]")
        for i in range(0, len(data), SCALAR_SIZE)
    )
    return RangeProof(challenges=scalars[:values], responses=scalars[values:])


def _commitments(
    public_key: Point, ct: Ciphertext, proof: RangeProof, multiples: Sequence[Point]
) -> list[bytes]:
    """a_j = s_j·G − c_j·alpha and b_j = s_j·H − c_j·(beta − j·G), for every j."""
    out: list[bytes] = []
    for j, (c, s) in enumerate(zip(proof.challenges, proof.responses, strict=True)):
        shifted = _sub(ct.beta, multiples[j]) if j else ct.beta
        out.append(_sub(_base(s), _mul(c, ct.alpha)))
        out.append(_sub(_mul(s, public_key), _mul(c, shifted)))
    return out


def _prove_range(
    domain: bytes,
    statement: Sequence[bytes],
    *,
    public_key: Point,
    ct: Ciphertext,
    m: int,
    r: Scalar,
    values: int,
    rng: ScalarSource,
) -> RangeProof:
    """Prove that `ct` = Enc(m; r) with m in 0..values−1 (m is the real branch, the others are
    simulated). Also the cheating prover of the tests: with m outside the range the real branch's
    equation is simply false and the proof does not verify."""
    multiples = _multiples_of_g(values)
    real = min(max(m, 0), values - 1)
    challenges: list[Scalar] = []
    responses: list[Scalar] = []
    transcript: list[bytes] = []
    w = rng.scalar()
    for j in range(values):
        if j == real:
            challenges.append(_ZERO_SCALAR_S)
            responses.append(_ZERO_SCALAR_S)
            transcript += [_base(w), _mul(w, public_key)]
            continue
        c, s = rng.scalar(), rng.scalar()
        challenges.append(c)
        responses.append(s)
        shifted = _sub(ct.beta, multiples[j]) if j else ct.beta
        transcript += [
            _sub(_base(s), _mul(c, ct.alpha)),
            _sub(_mul(s, public_key), _mul(c, shifted)),
        ]
    total = _challenge(domain, [*statement, ct.alpha, ct.beta, *transcript])
    c_real = total
    for j, c in enumerate(challenges):
        if j != real:
            c_real = _s_sub(c_real, c)
    challenges[real] = c_real
    responses[real] = _s_add(w, _s_mul(c_real, r))
    return RangeProof(challenges=tuple(challenges), responses=tuple(responses))


def _verify_range(
    domain: bytes,
    statement: Sequence[bytes],
    *,
    public_key: Point,
    ct: Ciphertext,
    proof: RangeProof,
    multiples: Sequence[Point],
) -> bool:
    commitments = _commitments(public_key, ct, proof, multiples)
    expected = _challenge(domain, [*statement, ct.alpha, ct.beta, *commitments])
    return sum(_int(c) for c in proof.challenges) % ORDER == _int(expected)
