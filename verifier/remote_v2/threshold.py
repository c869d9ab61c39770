"""The shared key, partial decryptions and the decrypted totals (spec/remote-v2-crypto.md §7-§9).

* (EG-7.1, EG-7.4) the published key ``{k, n, commitments}``: 1 <= n <= 32, 2 <= k <= n (k = 1
  only when n = 1), exactly k Feldman commitments, none the identity; H = C_0.
* (EG-7.3) a share x_i matches when ``x_i·G = Y_i = Σ_j (i^j mod ℓ)·C_j``.
* (EG-8.1-8.3) a partial decryption ``{index, share, proof}`` of an encrypted total (A, B) under a
  label ``frame(post) ‖ u32(position)``: D_i with the Chaum-Pedersen proof ``c ‖ s`` that
  ``log_G Y_i = log_A D_i``, checked by recomputing ``t1 = s·G − c·Y_i``, ``t2 = s·A − c·D_i``.
* (EG-9.1) every given partial verified, distinct indices, at least k; the k lowest indices are
  combined with Lagrange coefficients in the exponent: ``M = B − Σ λ_i·D_i``.
* (EG-9.2) the total is the t in 0..bound with ``t·G = M`` (linear search from O).

The verifier never holds a share: it checks published values only (``check_share`` is the
scrutineer's check of EG-7.3, for the vectors and the key ceremony's record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from verifier.crypto import b64decode_canonical
from verifier.remote_v2.errors import (
    DecryptionProofError,
    DuplicateShareError,
    ElGamalEncodingError,
    ElGamalParametersError,
    NotEnoughSharesError,
    ProofLengthError,
    ShareMismatchError,
    TotalOutOfRangeError,
)
from verifier.remote_v2.group import (
    GENERATOR,
    IDENTITY,
    ORDER,
    SCALAR_SIZE,
    Ciphertext,
    add,
    base_mul,
    challenge,
    frame,
    mul,
    parse_point,
    parse_scalar,
    sub,
    u32,
)

__all__ = [
    "DECRYPTION_DOMAIN",
    "MAX_SCRUTINEERS",
    "DecryptedTotal",
    "PartialDecryption",
    "ThresholdKey",
    "VerifiedPartial",
    "check_share",
    "combine",
    "decrypt_total",
    "decryption_label",
    "parse_partial",
    "parse_threshold_key",
    "recover_total",
    "verify_partial",
]

DECRYPTION_DOMAIN: Final = b"branch-election/elgamal-decryption/1"
MAX_SCRUTINEERS: Final = 32
_KEY_MEMBERS: Final = frozenset({"k", "n", "commitments"})
_PARTIAL_MEMBERS: Final = frozenset({"index", "share", "proof"})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class ThresholdKey:
    """(EG-7.4) The published key: k of n, the commitments C_0..C_{k−1} (checked points, not O)."""

    k: int
    n: int
    commitments: tuple[bytes, ...]

    @property
    def public_key(self) -> bytes:
        """H = C_0."""
        return self.commitments[0]

    def share_commitment(self, index: int) -> bytes:
        """(EG-7.3) ``Y_i = Σ_j (i^j mod ℓ)·C_j`` from the commitments alone."""
        y = IDENTITY
        power = 1
        for c in self.commitments:
            y = add(y, mul(power, c))
            power = power * index % ORDER
        return y


def parse_threshold_key(doc: object) -> ThresholdKey:
    """(EG-7.1, EG-7.4) Parse ``{k, n, commitments}``.

    Raises:
        ElGamalEncodingError: members other than k, n, commitments; a commitment that is not
            canonical base64; not exactly k commitments.
        ElGamalParametersError: k or n not integers within EG-7.1.
        InvalidPointError, IdentityPointError: a commitment is not a group element, or is O.

    Returns:
        The key.
    """
    if not isinstance(doc, dict) or set(doc) != _KEY_MEMBERS:
        raise ElGamalEncodingError(
            clause="EG-7.4",
            zh="公钥应恰有 k、n、commitments 三项",
            en="a key is exactly {k, n, commitments}",
        )
    k, n, commitments = doc["k"], doc["n"], doc["commitments"]
    if not (_is_int(k) and _is_int(n)) or not (
        1 <= n <= MAX_SCRUTINEERS and (2 <= k <= n or k == n == 1)
    ):
        raise ElGamalParametersError(
            clause="EG-7.1",
            zh=f"门限参数无效：k={k!r}，n={n!r}（1 ≤ n ≤ 32，2 ≤ k ≤ n，n = 1 时 k = 1）",
            en=f"invalid threshold k={k!r}, n={n!r} (1 <= n <= 32, 2 <= k <= n, k = 1 iff n = 1)",
        )
    if not isinstance(commitments, list) or len(commitments) != k:
        raise ElGamalEncodingError(
            clause="EG-7.4",
            zh=f"承诺应恰为 k = {k} 个",
            en=f"there are exactly k = {k} commitments",
            path="commitments",
        )
    points = []
    for j, text in enumerate(commitments):
        raw = b64decode_canonical(text)
        if raw is None:
            raise ElGamalEncodingError(
                clause="EG-7.4",
                zh="承诺不是规范的 base64",
                en="a commitment is not canonical base64",
                path=f"commitments[{j}]",
            )
        points.append(parse_point(raw, allow_identity=False, what=f"commitments[{j}]"))
    return ThresholdKey(k=k, n=n, commitments=tuple(points))


def _check_index(key: ThresholdKey, index: object, clause: str) -> int:
    if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= key.n:
        raise ElGamalParametersError(
            clause=clause,
            zh=f"监票人编号 {index!r} 不在 1 至 {key.n} 之间",
            en=f"scrutineer index {index!r} is not in 1..{key.n}",
            path="index",
        )
    return index


def check_share(key: ThresholdKey, index: int, share: bytes) -> bytes:
    """(EG-7.3) Check scrutineer ``index``'s share against the commitments.

    Raises:
        ElGamalParametersError: an index outside 1..n.
        ElGamalEncodingError, NonCanonicalScalarError: the share is not a canonical scalar.
        ShareMismatchError: ``x_i·G ≠ Y_i``.

    Returns:
        Y_i, the share's public commitment.
    """
    i = _check_index(key, index, "EG-7.3")
    x = parse_scalar(share, what="share")
    y = key.share_commitment(i)
    if base_mul(x) != y:
        raise ShareMismatchError(
            clause="EG-7.3",
            zh=f"第 {i} 位监票人的密钥份额与公布的承诺不符",
            en=f"scrutineer {i}'s share does not match the published commitments",
        )
    return y


def decryption_label(post: str, position: int) -> bytes:
    """(EG-8.1) The label naming a choice's total: ``frame(post code) ‖ u32(position)``."""
    return frame(post.encode("ascii")) + u32(position)


@dataclass(frozen=True, slots=True)
class PartialDecryption:
    """(EG-8.2) A parsed partial decryption: index, D_i (O allowed), the proof's c and s."""

    index: int
    share: bytes
    c: int
    s: int


@dataclass(frozen=True, slots=True)
class VerifiedPartial:
    """A partial decryption whose proof verified for this total (only ``verify_partial``)."""

    index: int
    share: bytes


def parse_partial(doc: object, key: ThresholdKey) -> PartialDecryption:
    """(EG-8.2) Parse ``{index, share, proof}``.

    Raises:
        ElGamalEncodingError: other members, bad base64, a share not 32 bytes.
        ElGamalParametersError: an index outside 1..n.
        InvalidPointError: the share is not a group element (O is allowed).
        ProofLengthError: a proof not 64 bytes.
        NonCanonicalScalarError: c or s >= ℓ.

    Returns:
        The parsed partial decryption.
    """
    if not isinstance(doc, dict) or set(doc) != _PARTIAL_MEMBERS:
        raise ElGamalEncodingError(
            clause="EG-8.2",
            zh="部分解密应恰有 index、share、proof 三项",
            en="a partial decryption is exactly {index, share, proof}",
        )
    index = _check_index(key, doc["index"], "EG-8.2")
    share = b64decode_canonical(doc["share"])
    proof = b64decode_canonical(doc["proof"])
    if share is None or proof is None:
        raise ElGamalEncodingError(
            clause="EG-8.2",
            zh="share 或 proof 不是规范的 base64",
            en="share or proof is not canonical base64",
        )
    point = parse_point(share, allow_identity=True, clause="EG-2.2", what="share")
    if len(proof) != 2 * SCALAR_SIZE:
        raise ProofLengthError(
            clause="EG-8.2",
            zh=f"解密证明应为 64 字节，实为 {len(proof)} 字节",
            en=f"a decryption proof is 64 bytes, not {len(proof)}",
            path="proof",
        )
    c = parse_scalar(proof[:SCALAR_SIZE], what="proof.c")
    s = parse_scalar(proof[SCALAR_SIZE:], what="proof.s")
    return PartialDecryption(index=index, share=point, c=c, s=s)


def verify_partial(
    key: ThresholdKey,
    *,
    election_id: bytes,
    label: bytes,
    total: Ciphertext,
    partial: PartialDecryption,
) -> VerifiedPartial:
    """(EG-8.3) Check a partial decryption's Chaum-Pedersen proof against Y_i and the total.

    Raises:
        DecryptionProofError: the proof does not verify (a wrong D_i, another total, label,
            election or scrutineer).

    Returns:
        The verified partial decryption.
    """
    y = key.share_commitment(partial.index)
    a = total.alpha
    t1 = sub(base_mul(partial.s), mul(partial.c, y))
    t2 = sub(mul(partial.s, a), mul(partial.c, partial.share))
    items = (election_id, label, u32(partial.index), y, a, partial.share, t1, t2)
    if challenge(DECRYPTION_DOMAIN, items) != partial.c:
        raise DecryptionProofError(
            clause="EG-8.3",
            zh=f"第 {partial.index} 位监票人的部分解密证明不成立",
            en=f"scrutineer {partial.index}'s partial decryption proof does not verify",
            path=f"partials[index={partial.index}]",
        )
    return VerifiedPartial(index=partial.index, share=partial.share)


def combine(key: ThresholdKey, total: Ciphertext, partials: Sequence[VerifiedPartial]) -> bytes:
    """(EG-9.1) ``M = B − Σ λ_i·D_i`` over the k lowest distinct indices.

    Raises:
        DuplicateShareError: two partials with one index.
        NotEnoughSharesError: fewer than k.

    Returns:
        M (= total·G when the partials are right).
    """
    indices = [p.index for p in partials]
    if len(set(indices)) != len(indices):
        raise DuplicateShareError(
            clause="EG-9.1",
            zh="同一监票人的部分解密出现多次",
            en="two partial decryptions from the same scrutineer",
        )
    if len(partials) < key.k:
        raise NotEnoughSharesError(
            clause="EG-9.1",
            zh=f"需要至少 {key.k} 份部分解密，只有 {len(partials)} 份",
            en=f"at least {key.k} partial decryptions are needed, {len(partials)} given",
        )
    chosen = sorted(partials, key=lambda p: p.index)[: key.k]
    m = total.beta
    for p in chosen:
        lam = 1
        for q in chosen:
            if q.index != p.index:
                lam = lam * q.index * pow(q.index - p.index, -1, ORDER) % ORDER
        m = sub(m, mul(lam, p.share))
    return m


def recover_total(m: bytes, bound: int) -> int:
    """(EG-9.2) The t in 0..bound with ``t·G = M``, by successive additions from O.

    Raises:
        ElGamalParametersError: a negative bound.
        TotalOutOfRangeError: no such t.

    Returns:
        t.
    """
    if bound < 0:
        raise ElGamalParametersError(
            clause="EG-9.2", zh="上限不能为负", en="the bound is not negative"
        )
    acc = IDENTITY
    for t in range(bound + 1):
        if acc == m:
            return t
        acc = add(acc, GENERATOR)
    raise TotalOutOfRangeError(
        clause="EG-9.2",
        zh=f"合并后的结果不是 0 至 {bound} 之间的总数",
        en=f"the combined value is no total in 0..{bound}",
    )


@dataclass(frozen=True, slots=True)
class DecryptedTotal:
    """A choice's total, with the indices of the partial decryptions combined."""

    total: int
    indices: tuple[int, ...]


def decrypt_total(
    key: ThresholdKey,
    *,
    election_id: bytes,
    label: bytes,
    total: Ciphertext,
    partials: Sequence[object],
    bound: int,
) -> DecryptedTotal:
    """(EG-8.2, EG-8.3, EG-9.1, EG-9.2) Parse and verify every partial, combine, find the total.

    Args:
        key: the published key.
        election_id: the election's 32-byte id.
        label: ``decryption_label(post, position)``.
        total: the encrypted total the verifier computed itself (EG-3.3).
        partials: the published partial decryptions (JSON form).
        bound: the number of ballots added into ``total``.

    Raises:
        ElGamalVerificationError: the first failure, in this order: each partial's encoding
            (EG-8.2) and proof (EG-8.3) in the given order, duplicate indices and too few
            (EG-9.1), no total in 0..bound (EG-9.2).

    Returns:
        The decrypted total.
    """
    verified = [
        verify_partial(
            key,
            election_id=election_id,
            label=label,
            total=total,
            partial=parse_partial(doc, key),
        )
        for doc in partials
    ]
    m = combine(key, total, verified)
    indices = tuple(sorted(p.index for p in verified)[: key.k])
    return DecryptedTotal(total=recover_total(m, bound), indices=indices)
