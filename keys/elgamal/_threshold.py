"""The k-of-n election key and threshold decryption (spec/remote-v2-crypto.md §7-§9).

A Shamir-shared key with Feldman commitments, generated and split in memory (the whole key is
never returned or written); partial decryption with a Chaum-Pedersen proof, Lagrange combination
and the recovery of the (small) total from total·G.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from keys.elgamal._ciphertext import Ciphertext
from keys.elgamal._errors import (
    DecryptionProofError,
    DuplicateShareError,
    EncodingError,
    InvalidParametersError,
    NotEnoughSharesError,
    ProofLengthError,
    ShareMismatchError,
    TotalOutOfRangeError,
    _fail,
    _require_in,
)
from keys.elgamal._group import (
    _G,
    _IDENTITY_POINT,
    _SYSTEM,
    DECRYPTION_DOMAIN,
    MAX_SCRUTINEERS,
    ORDER,
    SCALAR_SIZE,
    Point,
    Scalar,
    ScalarSource,
    _add,
    _base,
    _challenge,
    _frame,
    _mul,
    _s_add,
    _s_mul,
    _scalar,
    _sub,
    _u32,
)
from keys.elgamal._wire import _b64, _unb64, parse_point, parse_scalar


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


def _check_index(index: int, n: int) -> None:
    _require_in(index, 1, n, zh="监票人序号", en="a scrutineer index is")


def _check_k_n(k: int, n: int) -> None:
    if not (1 <= n <= MAX_SCRUTINEERS and 1 <= k <= n and (k >= 2 or n == 1)):
        _fail(
            InvalidParametersError,
            f"门限须满足 2 ≤ k ≤ n ≤ {MAX_SCRUTINEERS}（只有一名监票人时 k = 1）。",
            f"the threshold must satisfy 2 <= k <= n <= {MAX_SCRUTINEERS} (k = 1 only if n = 1)",
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
    raise TotalOutOfRangeError(
        zh=f"合并后的结果不是 0 到 {bound} 之间的票数。",
        en=f"the combined plaintext is not a total in 0..{bound}",
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
