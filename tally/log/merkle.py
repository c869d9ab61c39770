"""RFC 9162 Merkle tree, producer side (spec/merkle.md, clauses M1-M13).

Implements RFC 9162 §2.1: the Merkle Tree Hash (§2.1.1), audit paths (§2.1.3.1)
and consistency proofs (§2.1.4.1), plus their verification (§2.1.3.2, §2.1.4.2)
under the strict edge policy of transparency-dev/merkle (spec/merkle.md M8, M10).

Two producers are provided on purpose:

* ``mth``, ``inclusion_proof`` and ``consistency_proof`` follow the RFC's recursive
  definitions literally over a list of leaf hashes; they are the reference.
* ``MerkleTree`` keeps every complete, aligned subtree hash, so an append costs
  amortised O(1) hashes and a root or proof O(log n) (O(log^2 n) for proofs).

The independent verifier (``verifier/merkle.py``) shares no code with this module.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Final

from bilingual import BilingualError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ConsistencyProofError",
    "InclusionProofError",
    "MerkleArgumentError",
    "MerkleError",
    "MerkleProofError",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "mth",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32  # (M1) SHA-256 output size
_LEAF_PREFIX: Final = b"\x00"  # (M2)
_NODE_PREFIX: Final = b"\x01"  # (M3)
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()  # (M4) MTH({})


# --------------------------------------------------------------------------- errors


class MerkleError(BilingualError):
    """Base of every Merkle error; carries a stable ``code``, a spec ``clause`` and zh/en text."""

    code = "merkle.error"


class MerkleArgumentError(MerkleError):
    """A producer operation was asked for something the tree cannot give (bad index or size)."""


class MerkleProofError(MerkleError):
    """A proof did not verify (spec/merkle.md M8-M11)."""


class InclusionProofError(MerkleProofError):
    """An inclusion proof (audit path) did not verify (M8, M9)."""


class ConsistencyProofError(MerkleProofError):
    """A consistency proof did not verify (M10, M11)."""


def _bad_number(cls: type[MerkleError], name: str, value: object) -> MerkleError:
    return cls(
        code="merkle.bad_argument",
        clause="M5",
        zh=f"{name} 必须是非负整数，实际为 {value!r}",
        en=f"{name} must be a non-negative integer, got {value!r}",
    )


def _bad_hash(cls: type[MerkleError], what: str, value: object) -> MerkleError:
    size = len(value) if isinstance(value, bytes) else None
    return cls(
        code="merkle.hash_size",
        clause="M1",
        zh=f"{what} 必须是 {HASH_SIZE} 字节的哈希值，实际长度为 {size}",
        en=f"{what} must be a {HASH_SIZE}-byte hash, got length {size}",
    )


def _bad_proof_size(cls: type[MerkleError], clause: str, got: int, want: int) -> MerkleError:
    return cls(
        code="merkle.proof_size",
        clause=clause,
        zh=f"证明含 {got} 个哈希值，应为 {want} 个",
        en=f"proof has {got} hashes, expected {want}",
    )


def _root_mismatch(cls: type[MerkleError], clause: str, which: str, zh_which: str) -> MerkleError:
    return cls(
        code="merkle.root_mismatch",
        clause=clause,
        zh=f"由证明算出的根哈希与{zh_which}不一致",
        en=f"the root computed from the proof does not match {which}",
    )


def _is_count(value: object) -> bool:
    # bool is an int subclass; True is not a tree size.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _same_bytes(a: object, b: object) -> bool:
    # Typed ``object`` so the runtime guard stays: callers may pass anything.
    return isinstance(a, bytes) and isinstance(b, bytes) and hmac.compare_digest(a, b)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


# --------------------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data) (M2)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    # Hot path of MerkleTree.append: inputs are already known to be 32-byte hashes.
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right) (M3).

    Raises:
        MerkleArgumentError: ``left`` or ``right`` is not a 32-byte hash.
    """
    if not _is_hash(left):
        raise _bad_hash(MerkleArgumentError, "left child", left)
    if not _is_hash(right):
        raise _bad_hash(MerkleArgumentError, "right child", right)
    return _node(left, right)


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2), the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- RFC-literal reference


def _check_leaves(leaf_hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(leaf_hashes):
        if not _is_hash(h):
            raise _bad_hash(MerkleArgumentError, f"leaf hash #{i}", h)


def _mth(d: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return d[lo]
    k = _split(n)
    return _node(_mth(d, lo, lo + k), _mth(d, lo + k, hi))


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of a list of leaf hashes, RFC 9162 §2.1.1 (M4).

    Raises:
        MerkleArgumentError: a leaf hash is not 32 bytes.
    """
    _check_leaves(leaf_hashes)
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _path(m: int, d: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, d, lo, lo + k), _mth(d, lo + k, hi)]
    return [*_path(m - k, d, lo + k, hi), _mth(d, lo, lo + k)]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    """Audit path PATH(index, D[n]) of RFC 9162 §2.1.3.1 (M6), n = len(leaf_hashes).

    Raises:
        MerkleArgumentError: ``index`` is not an integer in [0, n), or a leaf hash is not 32 bytes.
    """
    if not _is_count(index):
        raise _bad_number(MerkleArgumentError, "index", index)
    n = len(leaf_hashes)
    if index >= n:
        raise _index_error(MerkleArgumentError, index, n)
    _check_leaves(leaf_hashes)
    return tuple(_path(index, leaf_hashes, 0, n))


def _subproof(m: int, d: Sequence[bytes], lo: int, hi: int, *, complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [_mth(d, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, d, lo, lo + k, complete=complete), _mth(d, lo + k, hi)]
    return [*_subproof(m - k, d, lo + k, hi, complete=False), _mth(d, lo, lo + k)]


def consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    """Consistency proof PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (M7), n = len(leaf_hashes).

    ``m == n`` gives the empty proof; ``m == 0`` is refused because a proof from the
    empty tree is meaningless under the strict policy (M10).

    Raises:
        MerkleArgumentError: ``m`` is not an integer in [1, n], or a leaf hash is not 32 bytes.
    """
    n = len(leaf_hashes)
    _check_sizes_for_proof(m, n, n)
    _check_leaves(leaf_hashes)
    return tuple(_subproof(m, leaf_hashes, 0, n, complete=True))


def _index_error(cls: type[MerkleError], index: int, size: int) -> MerkleError:
    return cls(
        code="merkle.index_out_of_range",
        clause="M8",
        zh=f"叶子索引 {index} 必须小于树大小 {size}",
        en=f"leaf index {index} must be below tree size {size}",
    )


def _check_sizes_for_proof(m: int, n: int, available: int) -> None:
    if not _is_count(m):
        raise _bad_number(MerkleArgumentError, "size1", m)
    if not _is_count(n):
        raise _bad_number(MerkleArgumentError, "size2", n)
    if n > available:
        raise MerkleArgumentError(
            code="merkle.size_beyond_tree",
            clause="M5",
            zh=f"请求的树大小 {n} 超过当前叶子数 {available}",
            en=f"requested tree size {n} exceeds the {available} leaves held",
        )
    if m > n:
        raise _size_order_error(MerkleArgumentError, m, n)
    if m == 0:
        raise _empty_tree_error(MerkleArgumentError)


def _size_order_error(cls: type[MerkleError], size1: int, size2: int) -> MerkleError:
    return cls(
        code="merkle.size_order",
        clause="M10",
        zh=f"旧树大小 {size1} 大于新树大小 {size2}",
        en=f"old tree size {size1} is larger than new tree size {size2}",
    )


def _empty_tree_error(cls: type[MerkleError]) -> MerkleError:
    return cls(
        code="merkle.empty_tree",
        clause="M10",
        zh="从空树出发的一致性证明没有意义，不予接受",
        en="a consistency proof from the empty tree is meaningless and is refused",
    )


# --------------------------------------------------------------------------- verification


def _inclusion_sides(index: int, size: int) -> list[bool]:
    """Walk RFC 9162 §2.1.3.2 step 4 without hashing: for each proof element, is it the left child?

    The list length is the exact proof length the algorithm accepts (it fails when sn
    reaches 0 early, or is not 0 at the end).
    """
    fn, sn = index, size - 1
    sides: list[bool] = []
    while sn > 0:
        if fn & 1 or fn == sn:
            sides.append(True)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sides.append(False)
        fn >>= 1
        sn >>= 1
    return sides


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof, RFC 9162 §2.1.3.2 with the strict checks of M8, M9.

    Args:
        leaf_hash: the 32-byte leaf hash (M2) of the entry.
        index: 0-based leaf index.
        size: tree size the proof and ``root`` refer to.
        proof: the audit path, lowest level first (M6).
        root: the expected 32-byte tree head for ``size``.

    Raises:
        InclusionProofError: ``code`` says why, checked in this order: ``merkle.bad_argument``,
            ``merkle.index_out_of_range``, ``merkle.hash_size`` (leaf hash, root),
            ``merkle.proof_size``, ``merkle.hash_size`` (proof element), ``merkle.root_mismatch``.
    """
    err = InclusionProofError
    if not _is_count(index):
        raise _bad_number(err, "index", index)
    if not _is_count(size):
        raise _bad_number(err, "size", size)
    # (M8) index must address an existing leaf; this also rejects every size-0 tree.
    if index >= size:
        raise _index_error(err, index, size)
    if not _is_hash(leaf_hash):
        raise _bad_hash(err, "leaf hash", leaf_hash)
    if not _is_hash(root):
        raise _bad_hash(err, "root", root)
    sides = _inclusion_sides(index, size)
    if len(proof) != len(sides):
        raise _bad_proof_size(err, "M8", len(proof), len(sides))
    for i, p in enumerate(proof):
        if not _is_hash(p):
            raise _bad_hash(err, f"proof[{i}]", p)
    # (M9) RFC 9162 §2.1.3.2 step 4.
    r = leaf_hash
    for p, is_left in zip(proof, sides, strict=True):
        r = _node(p, r) if is_left else _node(r, p)
    if not hmac.compare_digest(r, root):
        raise _root_mismatch(err, "M9", "the expected root", "给定的根哈希")


def _consistency_plan(size1: int, size2: int) -> tuple[bool, list[bool]]:
    """Walk RFC 9162 §2.1.4.2 steps 2-6 without hashing (requires 0 < size1 < size2).

    Returns whether the seed hash c[0] comes from the proof (size1 not a power of two)
    and, for each later element, whether it is a left sibling (updates fr and sr) or a
    right sibling (updates sr only).
    """
    seed_in_proof = size1 & (size1 - 1) != 0
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    ops: list[bool] = []
    while sn > 0:
        if fn & 1 or fn == sn:
            ops.append(True)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            ops.append(False)
        fn >>= 1
        sn >>= 1
    return seed_in_proof, ops


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Verify a consistency proof, RFC 9162 §2.1.4.2 with the strict checks of M10, M11.

    Args:
        size1: size of the older tree.
        size2: size of the newer tree.
        root1: tree head for ``size1``.
        root2: tree head for ``size2``.
        proof: PROOF(size1, D[size2]) as produced by ``consistency_proof`` (M7).

    Raises:
        ConsistencyProofError: ``code`` says why, checked in this order: ``merkle.bad_argument``,
            ``merkle.size_order``, ``merkle.empty_tree``; for equal sizes ``merkle.proof_size``
            then ``merkle.root_mismatch``; otherwise ``merkle.hash_size`` (roots),
            ``merkle.proof_size``, ``merkle.hash_size`` (proof element), ``merkle.root_mismatch``
            (root1 first, then root2).
    """
    err = ConsistencyProofError
    if not _is_count(size1):
        raise _bad_number(err, "size1", size1)
    if not _is_count(size2):
        raise _bad_number(err, "size2", size2)
    if size1 > size2:
        raise _size_order_error(err, size1, size2)
    if size1 == 0:
        raise _empty_tree_error(err)
    if size1 == size2:
        # (M10) Same tree: nothing to hash; the heads must simply be identical.
        if proof:
            raise _bad_proof_size(err, "M10", len(proof), 0)
        if not _same_bytes(root1, root2):
            raise _root_mismatch(err, "M10", "root2 (equal sizes)", "同一大小的新树根哈希")
        return
    if not _is_hash(root1):
        raise _bad_hash(err, "root1", root1)
    if not _is_hash(root2):
        raise _bad_hash(err, "root2", root2)
    seed_in_proof, ops = _consistency_plan(size1, size2)
    want = len(ops) + (1 if seed_in_proof else 0)
    if len(proof) != want:
        raise _bad_proof_size(err, "M10", len(proof), want)
    for i, p in enumerate(proof):
        if not _is_hash(p):
            raise _bad_hash(err, f"proof[{i}]", p)
    # (M11) RFC 9162 §2.1.4.2 steps 2-7.
    path = list(proof)
    seed = path.pop(0) if seed_in_proof else root1
    fr = sr = seed
    for c, is_left in zip(path, ops, strict=True):
        if is_left:
            fr = _node(c, fr)
            sr = _node(c, sr)
        else:
            sr = _node(sr, c)
    if not hmac.compare_digest(fr, root1):
        raise _root_mismatch(err, "M11", "root1", "旧树根哈希")
    if not hmac.compare_digest(sr, root2):
        raise _root_mismatch(err, "M11", "root2", "新树根哈希")


# --------------------------------------------------------------------------- incremental tree


class MerkleTree:
    """Append-only RFC 9162 tree that caches every complete, aligned subtree hash.

    ``_levels[k]`` holds, packed 32 bytes apiece, MTH of leaves [j * 2**k, (j + 1) * 2**k)
    at offset 32 * j; level 0 holds the leaf hashes. About 2n hashes are kept in contiguous
    bytearrays, 64 bytes a leaf (1,000,000 leaves take about 64 MB; a list of bytes objects
    took 150 MB, and the garbage collector walked it on every collection).
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self)

    @property
    def leaf_hashes(self) -> tuple[bytes, ...]:
        """The leaf hashes appended so far, in order (a copy: O(n); see ``leaf_hash``)."""
        row = bytes(self._levels[0])
        return tuple(row[i : i + HASH_SIZE] for i in range(0, len(row), HASH_SIZE))

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index`` (0-based). O(1).

        Raises:
            MerkleArgumentError: ``index`` is not in [0, size).
        """
        if not _is_count(index):
            raise _bad_number(MerkleArgumentError, "index", index)
        if index >= len(self):
            raise _index_error(MerkleArgumentError, index, len(self))
        return self._hash(0, index)

    def _hash(self, level: int, j: int) -> bytes:
        return bytes(self._levels[level][j * HASH_SIZE : (j + 1) * HASH_SIZE])

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash (M2) and return its 0-based index. Amortised O(1) hashes.

        Raises:
            MerkleArgumentError: ``leaf_hash`` is not a 32-byte hash.
        """
        if not _is_hash(leaf_hash):
            raise _bad_hash(MerkleArgumentError, "leaf hash", leaf_hash)
        levels = self._levels
        row = levels[0]
        row += leaf_hash
        index = len(row) // HASH_SIZE - 1
        level = 0
        # A row of even length has just completed a pair: lift it one level up.
        while len(row) % (2 * HASH_SIZE) == 0:
            parent = hashlib.sha256(_NODE_PREFIX + row[-2 * HASH_SIZE :]).digest()
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            row = levels[level]
            row += parent
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order.

        Raises:
            MerkleArgumentError: a leaf hash is not 32 bytes (earlier ones stay appended).
        """
        for h in leaf_hashes:
            self.append(h)

    def truncate(self, size: int) -> None:
        """Drop every leaf from ``size`` on, as if only the first ``size`` had been appended.

        Used to undo the appends of a command whose store transaction failed. A cached node
        at level k, index j survives when it covers only kept leaves: (j + 1) * 2**k <= size.

        Raises:
            MerkleArgumentError: ``size`` is negative, not an int, or above the leaf count.
        """
        self._check_size(size)
        for k, row in enumerate(self._levels):
            del row[(size >> k) * HASH_SIZE :]
        while len(self._levels) > 1 and not self._levels[-1]:
            self._levels.pop()

    def _range_hash(self, lo: int, count: int) -> bytes:
        """MTH of leaves [lo, lo + count), count >= 1.

        Only called for ranges the RFC recursion produces, where ``lo`` is a multiple of
        the smallest power of two >= count; the range then splits into aligned complete
        subtrees of decreasing size, one per set bit of ``count``, all found in the cache.
        """
        parts: list[bytes] = []
        pos = lo
        for k in range(count.bit_length() - 1, -1, -1):
            if count >> k & 1:
                parts.append(self._hash(k, pos >> k))
                pos += 1 << k
        h = parts[-1]
        for left in reversed(parts[:-1]):
            h = _node(left, h)
        return h

    def _check_size(self, size: int) -> None:
        if not _is_count(size):
            raise _bad_number(MerkleArgumentError, "size", size)
        if size > len(self):
            raise MerkleArgumentError(
                code="merkle.size_beyond_tree",
                clause="M5",
                zh=f"请求的树大小 {size} 超过当前叶子数 {len(self)}",
                en=f"requested tree size {size} exceeds the {len(self)} leaves held",
            )

    def root(self) -> bytes:
        """Current tree head MTH(D[n]) (M4). O(log n)."""
        return self.root_at(len(self))

    def root_at(self, size: int) -> bytes:
        """Tree head of the first ``size`` leaves (M4). O(log n).

        Raises:
            MerkleArgumentError: ``size`` is negative, not an int, or above the leaf count.
        """
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[bytes, ...]:
        """PATH(index, D[size]) (M6); ``size`` defaults to the current size.

        Raises:
            MerkleArgumentError: ``size`` is above the leaf count or ``index`` is not in [0, size).
        """
        if size is None:
            size = len(self)
        self._check_size(size)
        if not _is_count(index):
            raise _bad_number(MerkleArgumentError, "index", index)
        if index >= size:
            raise _index_error(MerkleArgumentError, index, size)
        # Descend from the root, collecting the sibling at each split; PATH lists them bottom-up.
        siblings: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                siblings.append(self._range_hash(lo + k, hi - lo - k))
                hi = lo + k
            else:
                siblings.append(self._range_hash(lo, k))
                lo += k
        siblings.reverse()
        return tuple(siblings)

    def consistency_proof(self, m: int, n: int | None = None) -> tuple[bytes, ...]:
        """PROOF(m, D[n]) (M7); ``n`` defaults to the current size; ``m == n`` gives ().

        Raises:
            MerkleArgumentError: not 0 < m <= n <= current size.
        """
        if n is None:
            n = len(self)
        _check_sizes_for_proof(m, n, len(self))
        # Iterative SUBPROOF(m, D[lo:hi], complete): siblings are appended after the
        # recursive part, so collect them top-down and reverse.
        siblings: list[bytes] = []
        lo, hi, complete = 0, n, True
        while m != hi:
            k = _split(hi - lo)
            if m - lo <= k:
                siblings.append(self._range_hash(lo + k, hi - lo - k))
                hi = lo + k
            else:
                siblings.append(self._range_hash(lo, k))
                lo += k
                complete = False
        siblings.reverse()
        if not complete:
            siblings.insert(0, self._range_hash(lo, hi - lo))
        return tuple(siblings)
