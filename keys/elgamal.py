"""Exponential ElGamal over ristretto255 for remote ballots (spec/remote-v2-crypto.md, draft).

The producer's side of the encrypted-tally design (DESIGN.md §2 point 2, ADR
0024-remote-ballot-group):

* the group: ristretto255 (RFC 9496) through libsodium (`pysodium`, a ctypes binding of the
  system library); every group and scalar operation is a libsodium call, with the identity
  element handled explicitly (libsodium refuses to *return* it from a scalar multiplication);
* strict parsing of points, scalars, ciphertexts and proofs (canonical encodings only, the
  identity only where the spec allows it);
* encryption of one approval (0 or 1) with a disjunctive Chaum-Pedersen (CDS) proof, and the
  proof that a post's choices add up to at most its seats (the same disjunction over 0..seats);
* homomorphic addition of ballots;
* a k-of-n Shamir-shared key with Feldman commitments, generated and split in memory (the whole
  key is never returned or written), partial decryption with a Chaum-Pedersen proof, Lagrange
  combination and the recovery of the (small) total from total·G.

Nothing here decrypts a single ballot: there is no whole private key to decrypt with. Verification
raises (`ElGamalError` subclasses, each with a spec error code) and returns the verified value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NewType, NoReturn, Protocol

import pysodium

from keys._errors import KeysError

__all__ = [
    "CHOICE_DOMAIN",
    "DECRYPTION_DOMAIN",
    "DISAPPROVALS_DOMAIN",
    "IDENTITY",
    "MAX_SCRUTINEERS",
    "ORDER",
    "POINT_SIZE",
    "SCALAR_SIZE",
    "SUM_DOMAIN",
    "ZERO_CIPHERTEXT",
    "ChoiceProofError",
    "Ciphertext",
    "DecryptionProofError",
    "Disapprovals",
    "DuplicateShareError",
    "ElGamalError",
    "EncodingError",
    "EncryptedPost",
    "IdentityPointError",
    "InvalidParametersError",
    "InvalidPointError",
    "KeyShare",
    "NonCanonicalScalarError",
    "NotEnoughSharesError",
    "PartialDecryption",
    "Point",
    "ProofContext",
    "ProofLengthError",
    "RangeProof",
    "Scalar",
    "ScalarSource",
    "ShareMismatchError",
    "SumProofError",
    "SystemScalars",
    "ThresholdKey",
    "TotalOutOfRangeError",
    "UnsafeDeterministicScalars",
    "WrongShapeError",
    "add_ciphertexts",
    "combine_partials",
    "decode_total",
    "encrypt_post",
    "generate_threshold_key",
    "parse_ciphertext",
    "parse_encrypted_post",
    "parse_partial_decryption",
    "parse_point",
    "parse_range_proof",
    "parse_scalar",
    "parse_threshold_key",
    "partial_decrypt",
    "sub_ciphertexts",
    "tally_label",
    "tally_posts",
    "verify_partial",
    "verify_post",
    "verify_share",
]

_log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- constants

ORDER: Final = 2**252 + 27742317777372353535851937790883648493  # ℓ, the group order (RFC 9496)
POINT_SIZE: Final = 32
SCALAR_SIZE: Final = 32
CIPHERTEXT_SIZE: Final = 2 * POINT_SIZE
IDENTITY: Final = b"\x00" * POINT_SIZE  # the canonical encoding of the identity (RFC 9496 §4.3.2)
_ZERO_SCALAR: Final = b"\x00" * SCALAR_SIZE
MAX_SCRUTINEERS: Final = 32
MAX_RANGE: Final = 64  # the largest `seats` a sum proof covers (a committee has far fewer)
ELECTION_ID_SIZE: Final = 32
TOKEN_SIZE: Final = 32

CHOICE_DOMAIN: Final = b"branch-election/elgamal-choice/1"
SUM_DOMAIN: Final = b"branch-election/elgamal-sum/1"
DECRYPTION_DOMAIN: Final = b"branch-election/elgamal-decryption/1"
DISAPPROVALS_DOMAIN: Final = b"branch-election/elgamal-disapprovals/1"
TEST_SCALARS_DOMAIN: Final = b"branch-election/elgamal-test-scalars/1"


# --------------------------------------------------------------------------- errors


class ElGamalError(KeysError):
    """Base of the errors of this module (spec/remote-v2-crypto.md §10)."""

    code = "elgamal.error"


class EncodingError(ElGamalError):
    """Wrong length, not canonical base64, or a malformed document (§2)."""

    code = "elgamal.encoding"


class InvalidPointError(ElGamalError):
    """32 bytes that are not the canonical encoding of a ristretto255 element (§2.1)."""

    code = "elgamal.invalid_point"


class IdentityPointError(InvalidPointError):
    """The identity element where the spec forbids it (§2.1)."""

    code = "elgamal.identity"


class NonCanonicalScalarError(ElGamalError):
    """A scalar encoding whose value is not below the group order (§2.2)."""

    code = "elgamal.noncanonical_scalar"


class ProofLengthError(EncodingError):
    """A proof of the wrong length for what it proves (§5, §6, §8)."""

    code = "elgamal.proof_length"


class WrongShapeError(ElGamalError):
    """A post ballot for another post, or with another number of choices than the post has (§6)."""

    code = "elgamal.wrong_shape"


class ChoiceProofError(ElGamalError):
    """A choice's proof that it encrypts 0 or 1 does not verify (§5)."""

    code = "elgamal.choice_proof"


class SumProofError(ElGamalError):
    """A post's proof that its choices add up to at most its seats does not verify (§6)."""

    code = "elgamal.sum_proof"


class DecryptionProofError(ElGamalError):
    """A partial decryption's Chaum-Pedersen proof does not verify (§8)."""

    code = "elgamal.decryption_proof"


class InvalidParametersError(ElGamalError):
    """k, n, seats, an index or a plaintext outside what the spec allows (§3, §4, §7)."""

    code = "elgamal.parameters"


class ShareMismatchError(ElGamalError):
    """A key share does not match the published Feldman commitments (§7.3)."""

    code = "elgamal.share_mismatch"


class NotEnoughSharesError(ElGamalError):
    """Fewer than k partial decryptions from distinct scrutineers (§9)."""

    code = "elgamal.not_enough_shares"


class DuplicateShareError(ElGamalError):
    """Two partial decryptions with the same scrutineer index (§9)."""

    code = "elgamal.duplicate_share"


class TotalOutOfRangeError(ElGamalError):
    """The combined plaintext is not t·G for any t in 0..bound (§9.2)."""

    code = "elgamal.total_out_of_range"


def _fail(cls: type[ElGamalError], zh: str, en: str) -> NoReturn:
    raise cls(zh=zh, en=en)


# --------------------------------------------------------------------------- group (libsodium)

Point = NewType("Point", bytes)
"""The canonical 32-byte encoding of a ristretto255 element (made by `parse_point` or libsodium)."""
Scalar = NewType("Scalar", bytes)
"""A 32-byte little-endian integer below ORDER (made by `parse_scalar` or libsodium)."""

_IDENTITY_POINT: Final = Point(IDENTITY)
_ZERO_SCALAR_S: Final = Scalar(_ZERO_SCALAR)


def _is_identity(p: bytes) -> bool:
    return hmac.compare_digest(p, IDENTITY)


def _add(p: Point, q: Point) -> Point:
    return Point(pysodium.crypto_core_ristretto255_add(p, q))


def _sub(p: Point, q: Point) -> Point:
    return Point(pysodium.crypto_core_ristretto255_sub(p, q))


def _mul(s: Scalar, p: Point) -> Point:
    """s·P for a canonical scalar and a parsed point, the identity included.

    libsodium returns -1 exactly when the result is the identity (or P does not decode, which a
    parsed point always does): in a group of prime order that is s = 0 or P = identity.
    """
    if _is_identity(p):
        return _IDENTITY_POINT
    try:
        return Point(pysodium.crypto_scalarmult_ristretto255(s, p))
    except ValueError:
        return _IDENTITY_POINT


def _base(s: Scalar) -> Point:
    """s·G, the identity for s = 0 (which libsodium refuses to return)."""
    try:
        return Point(pysodium.crypto_scalarmult_ristretto255_base(s))
    except ValueError:
        return _IDENTITY_POINT


def _s_add(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_add(a, b))


def _s_sub(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_sub(a, b))


def _s_mul(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_mul(a, b))


def _scalar(value: int) -> Scalar:
    """A public integer (a challenge, an index, a Lagrange coefficient) as a canonical scalar."""
    return Scalar((value % ORDER).to_bytes(SCALAR_SIZE, "little"))


def _int(s: Scalar) -> int:
    """A public scalar as an integer (never used on secret scalars)."""
    return int.from_bytes(s, "little")


def _reduce_wide(data64: bytes) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_reduce(data64))


_G: Final = _base(_scalar(1))


@functools.lru_cache(maxsize=MAX_RANGE + 2)
def _multiples_of_g(count: int) -> tuple[Point, ...]:
    """(0·G, 1·G, ..., (count-1)·G), by additions from the identity (public, cached)."""
    out = [_IDENTITY_POINT]
    for _ in range(count - 1):
        out.append(_add(out[-1], _G))
    return tuple(out)


def _frame(item: bytes) -> bytes:
    return len(item).to_bytes(4, "big") + item


def _challenge(domain: bytes, items: Iterable[bytes]) -> Scalar:
    """Hash-to-scalar of the Fiat-Shamir transcript (§4): SHA-512 of the framed domain and items,
    reduced modulo ORDER (64-byte wide reduction)."""
    h = hashlib.sha512(_frame(domain))
    for item in items:
        h.update(_frame(item))
    return _reduce_wide(h.digest())


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


# --------------------------------------------------------------------------- randomness


class ScalarSource(Protocol):
    """Where secret nonces and coefficients come from: non-zero uniform scalars."""

    def scalar(self) -> Scalar: ...


class SystemScalars:
    """The OS CSPRNG (`secrets`): 64 random bytes reduced modulo ORDER, redrawn if zero."""

    __slots__ = ()

    def scalar(self) -> Scalar:
        while True:
            s = _reduce_wide(secrets.token_bytes(64))
            if not hmac.compare_digest(s, _ZERO_SCALAR):
                return s


class UnsafeDeterministicScalars:
    """Scalars from a fixed seed, so vectors are reproducible (scripts/gen_elgamal_vectors.py).

    Unsafe: anyone who knows the seed knows every nonce, hence every plaintext and key share.
    Never use it for a real election.
    """

    __slots__ = ("_counter", "_seed")

    def __init__(self, seed: bytes) -> None:
        _log.warning("ElGamal scalars from a fixed seed: test vectors only, never a real election")
        self._seed = seed
        self._counter = 0

    def scalar(self) -> Scalar:
        while True:
            self._counter += 1
            digest = hashlib.sha512(
                _frame(TEST_SCALARS_DOMAIN) + _frame(self._seed) + _u32(self._counter)
            ).digest()
            s = _reduce_wide(digest)
            if s != _ZERO_SCALAR:
                return s


_SYSTEM: Final = SystemScalars()


# --------------------------------------------------------------------------- parsing (§2)


def parse_point(data: bytes, *, field: str, allow_identity: bool = False) -> Point:
    """The only way in for a received group element (§2.1).

    Raises:
        EncodingError: not 32 bytes.
        InvalidPointError: not a canonical ristretto255 encoding.
        IdentityPointError: the identity, where `allow_identity` is false.
    """
    if len(data) != POINT_SIZE:
        _fail(
            EncodingError,
            f"{field} 应为 {POINT_SIZE} 字节，实为 {len(data)} 字节。",
            f"{field} must be {POINT_SIZE} bytes, got {len(data)}",
        )
    # Bit 255 is checked here: libsodium 1.0.18 (Debian 12's) ignores it and accepts a second
    # encoding of every element; RFC 9496 §4.3.1 refuses it (spec EG-2.2).
    if data[31] & 0x80 or not pysodium.crypto_core_ristretto255_is_valid_point(data):
        _fail(
            InvalidPointError,
            f"{field} 不是 ristretto255 群元素的规范编码。",
            f"{field} is not the canonical encoding of a ristretto255 element",
        )
    if not allow_identity and _is_identity(data):
        _fail(
            IdentityPointError,
            f"{field} 不能是单位元。",
            f"{field} must not be the identity element",
        )
    return Point(bytes(data))


def parse_scalar(data: bytes, *, field: str) -> Scalar:
    """A received scalar (§2.2): 32 bytes, little-endian, below ORDER.

    Raises:
        EncodingError: not 32 bytes.
        NonCanonicalScalarError: the value is ORDER or more.
    """
    if len(data) != SCALAR_SIZE:
        _fail(
            EncodingError,
            f"{field} 应为 {SCALAR_SIZE} 字节，实为 {len(data)} 字节。",
            f"{field} must be {SCALAR_SIZE} bytes, got {len(data)}",
        )
    if int.from_bytes(data, "little") >= ORDER:
        _fail(
            NonCanonicalScalarError,
            f"{field} 不是规范标量（不小于群的阶）。",
            f"{field} is not a canonical scalar (not below the group order)",
        )
    return Scalar(bytes(data))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, *, field: str) -> bytes:
    """Canonical padded standard base64 (spec/README.md), else EncodingError."""
    if not isinstance(value, str):
        _fail(EncodingError, f"{field} 应为 base64 文本。", f"{field} must be a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        _fail(EncodingError, f"{field} 不是有效的 base64。", f"{field} is not valid base64")
    if _b64(raw) != value:
        _fail(
            EncodingError, f"{field} 的 base64 不是规范形式。", f"{field} is not canonical base64"
        )
    return raw


# --------------------------------------------------------------------------- ciphertexts (§3)


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


# --------------------------------------------------------------------------- ballots (§5, §6)


@dataclass(frozen=True, slots=True)
class ProofContext:
    """What every ballot proof is bound to (§4.2): the election, its key, the credential the
    ballot is cast with and the post. A proof made for another of any of these does not verify."""

    election_id: bytes
    public_key: Point
    token: bytes
    post: str

    def __post_init__(self) -> None:
        if len(self.election_id) != ELECTION_ID_SIZE or len(self.token) != TOKEN_SIZE:
            _fail(
                InvalidParametersError,
                "选举标识与投票凭证都应为 32 字节。",
                "the election id and the token are 32 bytes each",
            )
        if not self.post or not self.post.isascii():
            _fail(InvalidParametersError, "职位代码无效。", "the post code must be non-empty ASCII")

    def statement(self) -> list[bytes]:
        return [self.election_id, self.public_key, self.token, self.post.encode("ascii")]


@dataclass(frozen=True, slots=True)
class Disapprovals:
    """The × marks of a post under `write_in_requires_disapproval` (spec/remote-v2.md RV-3.4):
    `count` encrypts D, the number of listed candidates marked ×, and three proofs over 0..L
    (L listed candidates): D ∈ 0..L, A + D ≤ L (A the listed approvals), W ≤ D (W the write-ins).
    """

    count: Ciphertext
    count_proof: RangeProof
    room_proof: RangeProof
    write_in_proof: RangeProof

    def to_json(self) -> dict[str, Any]:
        return {
            "count": _b64(self.count.to_bytes()),
            "count_proof": _b64(self.count_proof.to_bytes()),
            "room_proof": _b64(self.room_proof.to_bytes()),
            "write_in_proof": _b64(self.write_in_proof.to_bytes()),
        }


@dataclass(frozen=True, slots=True)
class EncryptedPost:
    """One post of an encrypted ballot (§6): a 0/1 ciphertext per choice (the listed candidates,
    then the write-in slots), a proof per choice, the proof on their sum, and, under
    `write_in_requires_disapproval`, the disapprovals (spec/remote-v2.md RV-3.4)."""

    post: str
    choices: tuple[Ciphertext, ...]
    choice_proofs: tuple[RangeProof, ...]
    sum_proof: RangeProof
    disapprovals: Disapprovals | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "post": self.post,
            "choices": [_b64(ct.to_bytes()) for ct in self.choices],
            "choice_proofs": [_b64(p.to_bytes()) for p in self.choice_proofs],
            "sum_proof": _b64(self.sum_proof.to_bytes()),
        }
        if self.disapprovals is not None:
            doc["disapprovals"] = self.disapprovals.to_json()
        return doc


def _check_seats(seats: int, choices: int) -> None:
    if not 1 <= seats <= MAX_RANGE or choices < 1:
        _fail(
            InvalidParametersError,
            f"应选人数须在 1 到 {MAX_RANGE} 之间，选项至少一个。",
            f"seats must be 1..{MAX_RANGE} and there must be at least one choice",
        )


def _check_listed(listed: int, choices: int) -> None:
    if isinstance(listed, bool) or not 0 <= listed <= choices:
        _fail(
            InvalidParametersError,
            f"列名候选人数须在 0 到 {choices} 之间。",
            f"the listed candidates are 0..{choices}, got {listed}",
        )


def _disapproval_targets(
    choices: Sequence[Ciphertext], count: Ciphertext, listed: int
) -> tuple[Ciphertext, Ciphertext, Ciphertext]:
    """The three ciphertexts RV-3.4 proves in 0..L: count, A + count, count − W."""
    listed_sum = add_ciphertexts(choices[:listed])
    write_ins = add_ciphertexts(choices[listed:])
    return count, add_ciphertexts([listed_sum, count]), sub_ciphertexts(count, write_ins)


_DISAPPROVAL_PROOF_NAMES: Final = (b"count", b"room", b"write-in")


def _prove_disapprovals(
    context: ProofContext,
    *,
    listed: int,
    choices: Sequence[Ciphertext],
    randomness: Sequence[Scalar],
    approvals: Sequence[int],
    marks: int,
    rng: ScalarSource,
) -> Disapprovals:
    """Encrypt D = `marks` and prove RV-3.4's three ranges. No check of the plaintexts: the
    caller validates (and the tests' cheating prover does not, so its proofs fail)."""
    r_count = rng.scalar()
    count = _encrypt(context.public_key, marks, r_count)
    r_listed, r_written = _ZERO_SCALAR_S, _ZERO_SCALAR_S
    for i, r in enumerate(randomness):
        if i < listed:
            r_listed = _s_add(r_listed, r)
        else:
            r_written = _s_add(r_written, r)
    listed_ones = sum(approvals[:listed])
    written_ones = sum(approvals[listed:])
    targets = _disapproval_targets(choices, count, listed)
    plain = (marks, listed_ones + marks, marks - written_ones)
    rand = (r_count, _s_add(r_listed, r_count), _s_sub(r_count, r_written))
    prefix = [*context.statement(), _u32(listed)]
    proofs = [
        _prove_range(
            DISAPPROVALS_DOMAIN,
            [*prefix, name],
            public_key=context.public_key,
            ct=ct,
            m=m,
            r=r,
            values=listed + 1,
            rng=rng,
        )
        for name, ct, m, r in zip(_DISAPPROVAL_PROOF_NAMES, targets, plain, rand, strict=True)
    ]
    return Disapprovals(
        count=count, count_proof=proofs[0], room_proof=proofs[1], write_in_proof=proofs[2]
    )


def _verify_disapprovals(context: ProofContext, post: EncryptedPost, *, listed: int) -> None:
    found = post.disapprovals
    if found is None:
        _fail(
            WrongShapeError,
            "该职位的选票缺少反对票数的证明。",
            "the post requires the disapprovals and its proofs",
        )
    proofs = (found.count_proof, found.room_proof, found.write_in_proof)
    if any(len(p.challenges) != listed + 1 for p in proofs):
        _fail(ProofLengthError, "证明的长度不对。", "a proof covers the wrong number of values")
    prefix = [*context.statement(), _u32(listed)]
    multiples = _multiples_of_g(listed + 1)
    targets = _disapproval_targets(post.choices, found.count, listed)
    texts = (
        (f"反对票数在 0 到 {listed} 之间", f"the number of × marks is in 0..{listed}"),
        (
            "赞成与反对合计不超过列名候选人数",
            f"approvals and × marks among the listed add up to at most {listed}",
        ),
        ("另选他人的人数不超过反对票数", "the write-ins are at most the × marks"),
    )
    for name, ct, proof, (zh, en) in zip(
        _DISAPPROVAL_PROOF_NAMES, targets, proofs, texts, strict=True
    ):
        if not _verify_range(
            DISAPPROVALS_DOMAIN,
            [*prefix, name],
            public_key=context.public_key,
            ct=ct,
            proof=proof,
            multiples=multiples,
        ):
            _fail(
                ChoiceProofError,
                f"“{zh}”的证明无效。",
                f"disapprovals: the proof that {en} does not verify",
            )


def encrypt_post(
    context: ProofContext,
    approvals: Sequence[int],
    *,
    seats: int,
    listed: int | None = None,
    disapprovals: int | None = None,
    rng: ScalarSource = _SYSTEM,
) -> EncryptedPost:
    """Encrypt one post's choices (each 0 or 1, at most `seats` ones) with their proofs (§5, §6).

    With `listed` (the post's listed candidates, its first choices) and `disapprovals` (D, the
    × marks among them) the post also carries RV-3.4's disapprovals (spec/remote-v2.md).

    Raises:
        InvalidParametersError: a value other than 0/1, more ones than seats, or bad seats; with
            disapprovals: approvals plus × marks above `listed`, or write-ins above the × marks.
    """
    _check_seats(seats, len(approvals))
    if any(a not in (0, 1) for a in approvals) or sum(approvals) > seats:
        _fail(
            InvalidParametersError,
            "每个选项只能是 0 或 1，且赞成数不能超过应选人数。",
            "each choice is 0 or 1 and the ones are at most the seats",
        )
    if (listed is None) != (disapprovals is None):
        _fail(
            InvalidParametersError,
            "列名候选人数与反对票数须同时给出。",
            "listed and disapprovals go together",
        )
    if listed is not None and disapprovals is not None:
        _check_listed(listed, len(approvals))
        if (
            isinstance(disapprovals, bool)
            or disapprovals < 0
            or sum(approvals[:listed]) + disapprovals > listed
            or sum(approvals[listed:]) > disapprovals
        ):
            _fail(
                InvalidParametersError,
                "反对票数须不小于另选他人的人数，且与赞成票合计不超过列名候选人数。",
                "the × marks must be at least the write-ins, and with the listed approvals at "
                "most the listed candidates",
            )
    return _encrypt_post_unchecked(
        context, approvals, seats=seats, listed=listed, disapprovals=disapprovals, rng=rng
    )


def _encrypt_post_unchecked(
    context: ProofContext,
    approvals: Sequence[int],
    *,
    seats: int,
    listed: int | None,
    disapprovals: int | None,
    rng: ScalarSource,
) -> EncryptedPost:
    """`encrypt_post` without its checks of the plaintexts: also the cheating prover of the tests
    and vectors (a plaintext outside a proof's range gives a proof that does not verify)."""
    statement = context.statement()
    choices: list[Ciphertext] = []
    proofs: list[RangeProof] = []
    randomness: list[Scalar] = []
    r_sum = _ZERO_SCALAR_S
    for index, m in enumerate(approvals):
        r = rng.scalar()
        randomness.append(r)
        ct = _encrypt(context.public_key, m, r)
        proofs.append(
            _prove_range(
                CHOICE_DOMAIN,
                [*statement, _u32(index)],
                public_key=context.public_key,
                ct=ct,
                m=m,
                r=r,
                values=2,
                rng=rng,
            )
        )
        choices.append(ct)
        r_sum = _s_add(r_sum, r)
    total = add_ciphertexts(choices)
    sum_proof = _prove_range(
        SUM_DOMAIN,
        [*statement, _u32(seats), _u32(len(choices))],
        public_key=context.public_key,
        ct=total,
        m=sum(approvals),
        r=r_sum,
        values=seats + 1,
        rng=rng,
    )
    marks = None
    if listed is not None and disapprovals is not None:
        marks = _prove_disapprovals(
            context,
            listed=listed,
            choices=choices,
            randomness=randomness,
            approvals=approvals,
            marks=disapprovals,
            rng=rng,
        )
    return EncryptedPost(
        post=context.post,
        choices=tuple(choices),
        choice_proofs=tuple(proofs),
        sum_proof=sum_proof,
        disapprovals=marks,
    )


_POST_MEMBERS: Final = frozenset({"post", "choices", "choice_proofs", "sum_proof"})
_DISAPPROVALS_MEMBERS: Final = frozenset({"count", "count_proof", "room_proof", "write_in_proof"})


def parse_encrypted_post(
    doc: object, *, choices: int, seats: int, listed: int | None = None
) -> EncryptedPost:
    """Parse the JSON form of one post (§6.3), for a post with `choices` choices and `seats` seats
    (both from the manifest, never from the ballot). With `listed` (the post requires the
    disapprovals of spec/remote-v2.md RV-3.4) the member `disapprovals` is required, else it is
    refused; its proofs are over 0..listed.

    Raises:
        EncodingError, ProofLengthError, InvalidPointError, IdentityPointError,
        NonCanonicalScalarError, WrongShapeError.
    """
    _check_seats(seats, choices)
    if listed is not None:
        _check_listed(listed, choices)
    members = _POST_MEMBERS if listed is None else _POST_MEMBERS | {"disapprovals"}
    if not isinstance(doc, Mapping) or set(doc) != members:
        _fail(
            EncodingError,
            "职位密文的字段不对。",
            f"a post ballot has exactly the members {', '.join(sorted(members))}",
        )
    post, cts, cps = doc["post"], doc["choices"], doc["choice_proofs"]
    if not isinstance(post, str) or not isinstance(cts, list) or not isinstance(cps, list):
        _fail(EncodingError, "职位密文的字段类型不对。", "a post ballot's fields have wrong types")
    if len(cts) != choices or len(cps) != choices:
        _fail(
            WrongShapeError,
            f"该职位应有 {choices} 个选项密文及其证明。",
            f"the post has {choices} choices: {len(cts)} ciphertexts and {len(cps)} proofs given",
        )
    return EncryptedPost(
        post=post,
        choices=tuple(
            parse_ciphertext(_unb64(v, field=f"choices[{i}]"), field=f"choices[{i}]")
            for i, v in enumerate(cts)
        ),
        choice_proofs=tuple(
            parse_range_proof(
                _unb64(v, field=f"choice_proofs[{i}]"), values=2, field=f"choice_proofs[{i}]"
            )
            for i, v in enumerate(cps)
        ),
        sum_proof=parse_range_proof(
            _unb64(doc["sum_proof"], field="sum_proof"), values=seats + 1, field="sum_proof"
        ),
        disapprovals=None
        if listed is None
        else _parse_disapprovals(doc["disapprovals"], listed=listed),
    )


def _parse_disapprovals(doc: object, *, listed: int) -> Disapprovals:
    """RV-3.4's `{count, count_proof, room_proof, write_in_proof}`, proofs over 0..listed."""
    if not isinstance(doc, Mapping) or set(doc) != _DISAPPROVALS_MEMBERS:
        _fail(
            EncodingError,
            "反对票数的字段不对。",
            "disapprovals has exactly count, count_proof, room_proof and write_in_proof",
        )

    def proof(name: str) -> RangeProof:
        field = f"disapprovals.{name}"
        return parse_range_proof(_unb64(doc[name], field=field), values=listed + 1, field=field)

    return Disapprovals(
        count=parse_ciphertext(
            _unb64(doc["count"], field="disapprovals.count"), field="disapprovals.count"
        ),
        count_proof=proof("count_proof"),
        room_proof=proof("room_proof"),
        write_in_proof=proof("write_in_proof"),
    )


def verify_post(
    context: ProofContext,
    post: EncryptedPost,
    *,
    choices: int,
    seats: int,
    listed: int | None = None,
) -> EncryptedPost:
    """Check one post of a ballot (§5.3, §6.2): its shape, every choice proof and the sum proof;
    with `listed`, then the disapprovals' three proofs (spec/remote-v2.md RV-3.4: count, room,
    write-in, in that order). A post carrying disapprovals when `listed` is None is refused.

    Returns the post, verified. Raises on the first failure:
        WrongShapeError: another post, or another number of choices or proofs, or disapprovals
            missing or unexpected.
        ProofLengthError: a proof over another number of alternatives.
        ChoiceProofError: a choice that is not proven 0 or 1 (with its index), or a failed
            disapprovals proof.
        SumProofError: the choices are not proven to add up to at most `seats`.
    """
    _check_seats(seats, choices)
    if listed is not None:
        _check_listed(listed, choices)
    elif post.disapprovals is not None:
        _fail(
            WrongShapeError,
            "该职位的选票不应带有反对票数。",
            "the post does not take disapprovals",
        )
    if post.post != context.post:
        _fail(
            WrongShapeError,
            f"选票的职位 {post.post} 不是 {context.post}。",
            f"the ballot is for post {post.post!r}, not {context.post!r}",
        )
    if len(post.choices) != choices or len(post.choice_proofs) != choices:
        _fail(
            WrongShapeError,
            f"该职位应有 {choices} 个选项密文及其证明。",
            f"the post has {choices} choices",
        )
    if len(post.sum_proof.challenges) != seats + 1 or any(
        len(p.challenges) != 2 for p in post.choice_proofs
    ):
        _fail(ProofLengthError, "证明的长度不对。", "a proof covers the wrong number of values")
    statement = context.statement()
    zero_one = _multiples_of_g(2)
    for index, (ct, proof) in enumerate(zip(post.choices, post.choice_proofs, strict=True)):
        if not _verify_range(
            CHOICE_DOMAIN,
            [*statement, _u32(index)],
            public_key=context.public_key,
            ct=ct,
            proof=proof,
            multiples=zero_one,
        ):
            _fail(
                ChoiceProofError,
                f"第 {index + 1} 个选项的证明无效：不能证明它是 0 或 1。",
                f"choice {index}: the proof that it encrypts 0 or 1 does not verify",
            )
    if not _verify_range(
        SUM_DOMAIN,
        [*statement, _u32(seats), _u32(choices)],
        public_key=context.public_key,
        ct=add_ciphertexts(post.choices),
        proof=post.sum_proof,
        multiples=_multiples_of_g(seats + 1),
    ):
        _fail(
            SumProofError,
            f"赞成总数不超过应选人数 {seats} 的证明无效。",
            f"the proof that the choices add up to at most {seats} does not verify",
        )
    if listed is not None:
        _verify_disapprovals(context, post, listed=listed)
    return post


def tally_posts(posts: Sequence[EncryptedPost], *, choices: int) -> tuple[Ciphertext, ...]:
    """The encrypted totals of one post (§3.3): for each choice, the sum over the verified ballots
    (ZERO_CIPHERTEXT for a choice of no ballot at all)."""
    return tuple(add_ciphertexts(p.choices[i] for p in posts) for i in range(choices))


# --------------------------------------------------------------------------- threshold key (§7)


@dataclass(frozen=True, slots=True)
class ThresholdKey:
    """The election's public key and its Feldman commitments C_0..C_{k−1} (C_0 = H), n shares."""

    n: int
    commitments: tuple[Point, ...]

    @property
    def k(self) -> int:
        return len(self.commitments)

    @property
    def public_key(self) -> Point:
        return self.commitments[0]

    def share_public_key(self, index: int) -> Point:
        """Y_i = x_i·G = Σ_j i^j·C_j (§7.3), computed from the commitments alone."""
        _check_index(index, self.n)
        total = _IDENTITY_POINT
        for j, c in enumerate(self.commitments):
            total = _add(total, _mul(_scalar(index**j), c))
        return total

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "n": self.n, "commitments": [_b64(c) for c in self.commitments]}


def _check_k_n(k: int, n: int) -> None:
    if not (1 <= n <= MAX_SCRUTINEERS and 1 <= k <= n and (k >= 2 or n == 1)):
        _fail(
            InvalidParametersError,
            f"门限须满足 2 ≤ k ≤ n ≤ {MAX_SCRUTINEERS}（只有一名监票人时 k = 1）。",
            f"the threshold must satisfy 2 <= k <= n <= {MAX_SCRUTINEERS} (k = 1 only if n = 1)",
        )


def _check_index(index: int, n: int) -> None:
    if isinstance(index, bool) or not 1 <= index <= n:
        _fail(
            InvalidParametersError,
            f"监票人序号须在 1 到 {n} 之间。",
            f"a scrutineer index is 1..{n}, got {index}",
        )


def parse_threshold_key(doc: object) -> ThresholdKey:
    """The published key (§7.4): {k, n, commitments}; no commitment may be the identity.

    Raises:
        EncodingError, InvalidParametersError, InvalidPointError, IdentityPointError.
    """
    if not isinstance(doc, Mapping) or set(doc) != {"k", "n", "commitments"}:
        _fail(EncodingError, "选举公钥的字段不对。", "the key has exactly k, n and commitments")
    k, n, commitments = doc["k"], doc["n"], doc["commitments"]
    if (
        not isinstance(k, int)
        or isinstance(k, bool)
        or not isinstance(n, int)
        or isinstance(n, bool)
        or not isinstance(commitments, list)
    ):
        _fail(EncodingError, "选举公钥的字段类型不对。", "the key's fields have wrong types")
    _check_k_n(k, n)
    if len(commitments) != k:
        _fail(
            EncodingError,
            f"承诺应有 {k} 个。",
            f"there must be k = {k} commitments, got {len(commitments)}",
        )
    return ThresholdKey(
        n=n,
        commitments=tuple(
            parse_point(_unb64(c, field=f"commitments[{j}]"), field=f"commitments[{j}]")
            for j, c in enumerate(commitments)
        ),
    )


class KeyShare:
    """Scrutineer i's share x_i = f(i) of the election key (secret). `repr` hides the value and
    the object cannot be pickled; `secret_bytes` is for sealing it into the scrutineer's key file.
    """

    __slots__ = ("_value", "index")

    def __init__(self, *, index: int, value: Scalar) -> None:
        self.index = index
        self._value = value

    @classmethod
    def from_bytes(cls, *, index: int, data: bytes) -> KeyShare:
        """A share read back from its key file.

        Raises:
            EncodingError, NonCanonicalScalarError: not a canonical scalar.
        """
        return cls(index=index, value=parse_scalar(data, field="share"))

    def secret_bytes(self) -> bytes:
        """The raw 32-byte scalar, only to seal it under the scrutineer's passphrase."""
        return bytes(self._value)

    def __repr__(self) -> str:
        return f"KeyShare(index={self.index})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeyShare holds a secret key share and cannot be pickled")


def generate_threshold_key(
    *, k: int, n: int, rng: ScalarSource = _SYSTEM
) -> tuple[ThresholdKey, tuple[KeyShare, ...]]:
    """Draw the polynomial f(z) = a_0 + a_1·z + … + a_{k−1}·z^{k−1} in memory, publish
    C_j = a_j·G and hand out x_i = f(i), i = 1..n (§7.2). The coefficients, a_0 (the whole key)
    included, are never returned; they go out of scope when this returns.

    Raises:
        InvalidParametersError: k, n outside the rule of §7.1.
    """
    _check_k_n(k, n)
    coefficients = [rng.scalar() for _ in range(k)]
    commitments = tuple(_base(a) for a in coefficients)
    shares = []
    for i in range(1, n + 1):
        x = _scalar(i)
        value = coefficients[-1]
        for a in reversed(coefficients[:-1]):  # Horner, with libsodium's scalar arithmetic
            value = _s_add(_s_mul(value, x), a)
        shares.append(KeyShare(index=i, value=value))
    del coefficients
    return ThresholdKey(n=n, commitments=commitments), tuple(shares)


def verify_share(key: ThresholdKey, share: KeyShare) -> None:
    """Feldman check (§7.3): x_i·G equals Y_i from the commitments.

    Raises:
        ShareMismatchError: the share does not belong to this key at this index.
    """
    if not hmac.compare_digest(_base(share._value), key.share_public_key(share.index)):
        _fail(
            ShareMismatchError,
            f"第 {share.index} 份密钥份额与公布的承诺不符。",
            f"share {share.index} does not match the published commitments",
        )


# --------------------------------------------------------------------------- decryption (§8, §9)


def tally_label(post: str, choice: int) -> bytes:
    """What a partial decryption is bound to besides the election (§8.1): post and choice."""
    return _frame(post.encode("ascii")) + _u32(choice)


@dataclass(frozen=True, slots=True)
class PartialDecryption:
    """D_i = x_i·alpha with a Chaum-Pedersen proof (c, s) that log_G Y_i = log_alpha D_i (§8)."""

    index: int
    share: Point
    challenge: Scalar
    response: Scalar

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "share": _b64(self.share),
            "proof": _b64(self.challenge + self.response),
        }


def parse_partial_decryption(doc: object, *, n: int) -> PartialDecryption:
    """{index, share, proof} (§8.2); `share` may be the identity (a sum over no ballot).

    Raises:
        EncodingError, ProofLengthError, InvalidPointError, NonCanonicalScalarError,
        InvalidParametersError.
    """
    if not isinstance(doc, Mapping) or set(doc) != {"index", "share", "proof"}:
        _fail(EncodingError, "部分解密的字段不对。", "a partial decryption has index, share, proof")
    index = doc["index"]
    if not isinstance(index, int):
        _fail(EncodingError, "序号应为整数。", "index must be an integer")
    _check_index(index, n)
    proof = _unb64(doc["proof"], field="proof")
    if len(proof) != 2 * SCALAR_SIZE:
        _fail(
            ProofLengthError, "解密证明应为 64 字节。", f"proof must be 64 bytes, got {len(proof)}"
        )
    return PartialDecryption(
        index=index,
        share=parse_point(_unb64(doc["share"], field="share"), field="share", allow_identity=True),
        challenge=parse_scalar(proof[:SCALAR_SIZE], field="proof.c"),
        response=parse_scalar(proof[SCALAR_SIZE:], field="proof.s"),
    )


def _decryption_statement(
    *, election_id: bytes, label: bytes, index: int, y: Point, alpha: Point, d: Point
) -> list[bytes]:
    return [election_id, label, _u32(index), y, alpha, d]


def partial_decrypt(
    share: KeyShare,
    key: ThresholdKey,
    total: Ciphertext,
    *,
    election_id: bytes,
    label: bytes,
    rng: ScalarSource = _SYSTEM,
) -> PartialDecryption:
    """Scrutineer i's partial decryption of an encrypted total, with its proof (§8.1).

    Raises:
        ShareMismatchError: the share does not belong to `key` (checked first: a wrong share would
            otherwise produce a proof that fails later, at the count).
    """
    verify_share(key, share)
    y = key.share_public_key(share.index)
    d = _mul(share._value, total.alpha)
    w = rng.scalar()
    c = _challenge(
        DECRYPTION_DOMAIN,
        [
            *_decryption_statement(
                election_id=election_id,
                label=label,
                index=share.index,
                y=y,
                alpha=total.alpha,
                d=d,
            ),
            _base(w),
            _mul(w, total.alpha),
        ],
    )
    s = _s_add(w, _s_mul(c, share._value))
    return PartialDecryption(index=share.index, share=d, challenge=c, response=s)


def verify_partial(
    key: ThresholdKey,
    total: Ciphertext,
    partial: PartialDecryption,
    *,
    election_id: bytes,
    label: bytes,
) -> PartialDecryption:
    """Check a partial decryption's proof (§8.3): t1 = s·G − c·Y_i, t2 = s·alpha − c·D_i and
    c = H(statement, t1, t2).

    Raises:
        InvalidParametersError: the index is not 1..n.
        DecryptionProofError: the proof does not verify.
    """
    y = key.share_public_key(partial.index)
    c, s = partial.challenge, partial.response
    t1 = _sub(_base(s), _mul(c, y))
    t2 = _sub(_mul(s, total.alpha), _mul(c, partial.share))
    expected = _challenge(
        DECRYPTION_DOMAIN,
        [
            *_decryption_statement(
                election_id=election_id,
                label=label,
                index=partial.index,
                y=y,
                alpha=total.alpha,
                d=partial.share,
            ),
            t1,
            t2,
        ],
    )
    if not hmac.compare_digest(expected, c):
        _fail(
            DecryptionProofError,
            f"监票人 {partial.index} 的部分解密证明无效。",
            f"the proof of scrutineer {partial.index}'s partial decryption does not verify",
        )
    return partial


def _lagrange_at_zero(indices: Sequence[int]) -> dict[int, Scalar]:
    """λ_i = Π_{j≠i} j / (j − i) mod ORDER (public values)."""
    out: dict[int, Scalar] = {}
    for i in indices:
        num, den = 1, 1
        for j in indices:
            if j != i:
                num = num * j % ORDER
                den = den * (j - i) % ORDER
        out[i] = _scalar(num * pow(den, -1, ORDER))
    return out


def decode_total(point: Point, *, bound: int) -> int:
    """The t in 0..bound with t·G = point (§9.2), by successive additions from the identity.

    Raises:
        TotalOutOfRangeError: no such t (wrong partials, or a bound below the true total).
    """
    current = _IDENTITY_POINT
    for t in range(bound + 1):
        if hmac.compare_digest(current, point):
            return t
        current = _add(current, _G)
    _fail(
        TotalOutOfRangeError,
        f"合并后的结果不是 0 到 {bound} 之间的票数。",
        f"the combined plaintext is not a total in 0..{bound}",
    )


def combine_partials(
    key: ThresholdKey,
    total: Ciphertext,
    partials: Sequence[PartialDecryption],
    *,
    election_id: bytes,
    label: bytes,
    bound: int,
) -> int:
    """Verify every partial decryption, combine k of them (the k lowest indices) by Lagrange
    interpolation at 0 and recover the total (§9).

    Raises:
        DecryptionProofError: a partial decryption's proof fails (any of those given).
        DuplicateShareError: two partials with the same index.
        NotEnoughSharesError: fewer than k.
        TotalOutOfRangeError: the result is not a total in 0..bound.
    """
    seen: set[int] = set()
    for p in partials:
        if p.index in seen:
            _fail(
                DuplicateShareError,
                f"监票人 {p.index} 的部分解密出现了两次。",
                f"two partial decryptions from scrutineer {p.index}",
            )
        seen.add(p.index)
        verify_partial(key, total, p, election_id=election_id, label=label)
    if len(seen) < key.k:
        _fail(
            NotEnoughSharesError,
            f"需要至少 {key.k} 名监票人的部分解密，只有 {len(seen)} 份。",
            f"{key.k} partial decryptions are needed, {len(seen)} given",
        )
    chosen = sorted(partials, key=lambda p: p.index)[: key.k]
    lambdas = _lagrange_at_zero([p.index for p in chosen])
    mask = _IDENTITY_POINT
    for p in chosen:
        mask = _add(mask, _mul(lambdas[p.index], p.share))
    return decode_total(_sub(total.beta, mask), bound=bound)
