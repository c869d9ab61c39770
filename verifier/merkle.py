"""Independent RFC 9162 Merkle verification (spec/merkle.md, clauses M1-M13).

Re-implements, from the spec alone, what an auditor needs:

* ``stream_root`` / ``stream_roots``: the tree head (RFC 9162 §2.1.1) of a stream of
  leaf hashes, in one pass with O(log n) memory, optionally at several checkpoint sizes;
* ``verify_inclusion`` (RFC 9162 §2.1.3.2) and ``verify_consistency`` (§2.1.4.2) under the
  strict edge policy of spec/merkle.md M8 and M10.

Unlike the producer, which replays the RFC's fn/sn walk, the proofs here are checked by
splitting the path at the level where the leaf's path leaves the tree's right border
(``inner`` hashes below it, ``border`` hashes along it). This module imports nothing from
the rest of the project.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "IncrementalRoot",
    "MerkleProofError",
    "StreamedRoots",
    "hash_leaf",
    "stream_root",
    "stream_roots",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32  # (M1)
_sha256: Final = hashlib.sha256
EMPTY_ROOT: Final = hashlib.sha256().digest()  # (M4) head of the tree with no leaves


class MerkleProofError(Exception):
    """A Merkle check failed. ``code`` and ``clause`` follow spec/merkle.md M13."""

    def __init__(self, code: str, clause: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.clause = clause
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return self.en


# --------------------------------------------------------------------------- primitives


def hash_leaf(data: bytes) -> bytes:
    """SHA-256(0x00 || data), the leaf hash of M2."""
    h = hashlib.sha256(b"\x00")
    h.update(data)
    return h.digest()


def _children(left: bytes, right: bytes) -> bytes:
    # (M3) interior node
    h = hashlib.sha256(b"\x01")
    h.update(left)
    h.update(right)
    return h.digest()


def _need_count(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise MerkleProofError(
            "merkle.bad_argument",
            "M5",
            f"{name} 应为非负整数，收到 {value!r}",
            f"{name} should be a non-negative integer, received {value!r}",
        )
    return value


def _need_hash(name: str, value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, bytes) else "n/a"
        raise MerkleProofError(
            "merkle.hash_size",
            "M1",
            f"{name} 不是 {HASH_SIZE} 字节的 SHA-256 值（长度 {length}）",
            f"{name} is not a {HASH_SIZE}-byte SHA-256 value (length {length})",
        )
    return value


def _wrong_length(clause: str, got: int, expected: int) -> MerkleProofError:
    return MerkleProofError(
        "merkle.proof_size",
        clause,
        f"证明长度错误：收到 {got} 个哈希值，按树的形状应为 {expected} 个",
        f"wrong proof length: received {got} hashes, the tree shape requires {expected}",
    )


def _mismatch(clause: str, name_en: str, name_zh: str) -> MerkleProofError:
    return MerkleProofError(
        "merkle.root_mismatch",
        clause,
        f"重新计算的结果与{name_zh}不符",
        f"recomputed value differs from {name_en}",
    )


def _same(a: object, b: object) -> bool:
    # Constant-time for the hashes; ``object`` keeps the type guard meaningful to mypy.
    return isinstance(a, bytes) and isinstance(b, bytes) and hmac.compare_digest(a, b)


# --------------------------------------------------------------------------- streaming tree heads


@dataclass(frozen=True, slots=True)
class StreamedRoots:
    """Result of ``stream_roots``: the total leaf count, its head, and heads at checkpoints."""

    size: int
    root: bytes
    checkpoints: tuple[tuple[int, bytes], ...]  # (size, head), ascending by size

    def root_at(self, size: int) -> bytes:
        """Head recorded for checkpoint ``size``.

        Raises:
            KeyError: ``size`` was not requested as a checkpoint.
        """
        for s, head in self.checkpoints:
            if s == size:
                return head
        raise KeyError(size)


def _fold(stack: list[tuple[int, bytes]]) -> bytes:
    """Head of the tree whose complete subtrees (largest first) are on ``stack``.

    MTH splits at the largest power of two, so the head is the right-to-left fold of the
    perfect subtrees given by the binary digits of the size.
    """
    if not stack:
        return EMPTY_ROOT
    acc = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        acc = _children(left, acc)
    return acc


def stream_roots(leaf_hashes: Iterable[bytes], checkpoints: Iterable[int] = ()) -> StreamedRoots:
    """Consume ``leaf_hashes`` once; return the final head and the heads at ``checkpoints``.

    Memory is O(log n): only one hash per perfect subtree on the right edge is kept.

    Raises:
        MerkleProofError: ``merkle.bad_argument`` for a negative or non-integer checkpoint,
            ``merkle.hash_size`` for a leaf hash that is not 32 bytes, or
            ``merkle.checkpoint_beyond_log`` if a checkpoint exceeds the number of leaves.
    """
    wanted = sorted({_need_count("checkpoint", c) for c in checkpoints})
    found: list[tuple[int, bytes]] = []
    nxt = 0  # index into ``wanted``
    stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    count = 0
    if wanted and wanted[0] == 0:
        found.append((0, EMPTY_ROOT))
        nxt = 1
    for item in leaf_hashes:
        node = (0, _need_hash(f"leaf hash #{count}", item))
        count += 1
        # Merge equal-height neighbours: that is a carry in binary addition of 1 to count.
        while stack and stack[-1][0] == node[0]:
            height, left = stack.pop()
            node = (height + 1, _children(left, node[1]))
        stack.append(node)
        if nxt < len(wanted) and wanted[nxt] == count:
            found.append((count, _fold(stack)))
            nxt += 1
    if nxt < len(wanted):
        missing = wanted[nxt]
        raise MerkleProofError(
            "merkle.checkpoint_beyond_log",
            "M4",
            f"检查点大小 {missing} 超过日志中的叶子数 {count}",
            f"checkpoint size {missing} exceeds the {count} leaves in the log",
        )
    return StreamedRoots(size=count, root=_fold(stack), checkpoints=tuple(found))


class IncrementalRoot:
    """Push leaf hashes one at a time; ``root()`` is MTH of those pushed so far (M4), O(log n).

    The stack holds one hash per set bit of ``size``, largest perfect subtree first, so the
    heights need not be stored: adding a leaf merges one subtree per trailing one bit of the
    old size (binary addition of 1). This is called once per log entry, hence kept lean.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        """Append one 32-byte leaf hash.

        Raises:
            MerkleProofError: ``merkle.hash_size`` if the leaf hash is not 32 bytes.
        """
        if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
            _need_hash(f"leaf hash #{self.size}", leaf)
        stack, carry = self._stack, self.size
        self.size = carry + 1
        node = leaf
        while carry & 1:
            node = _sha256(b"\x01" + stack.pop() + node).digest()  # (M3)
            carry >>= 1
        stack.append(node)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """``add`` each of ``leaves`` in order, in one call (the replay adds them in batches).

        Raises:
            MerkleProofError: ``merkle.hash_size`` at the first leaf hash that is not 32 bytes
                (those before it are added).
        """
        stack, size, sha256 = self._stack, self.size, _sha256
        for leaf in leaves:
            if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
                self.size = size
                _need_hash(f"leaf hash #{size}", leaf)
            carry, node = size, leaf
            size += 1
            while carry & 1:
                node = sha256(b"\x01" + stack.pop() + node).digest()  # (M3)
                carry >>= 1
            stack.append(node)
        self.size = size

    def root(self) -> bytes:
        """The current tree head."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        acc = stack[-1]
        for left in reversed(stack[:-1]):
            acc = _children(left, acc)
        return acc


def stream_root(leaf_hashes: Iterable[bytes]) -> bytes:
    """Head MTH(D[n]) of a stream of leaf hashes, O(log n) memory (M4).

    Raises:
        MerkleProofError: ``merkle.hash_size`` if a leaf hash is not 32 bytes.
    """
    return stream_roots(leaf_hashes).root


# --------------------------------------------------------------------------- proofs


def _shape(index: int, size: int) -> tuple[int, int]:
    """Split the audit path of leaf ``index`` in a tree of ``size`` (index < size).

    ``inner``: levels below the point where the paths to ``index`` and to the last leaf
    (size - 1) meet; there the sibling may sit on either side. ``border``: the hashes
    above it, which are always left siblings on the tree's right border, one per set bit
    of ``index >> inner``.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with head ``root``.

    Follows spec/merkle.md M8 (pre-checks, in order) and M9 (recomputation).

    Raises:
        MerkleProofError: with code ``merkle.bad_argument``, ``merkle.index_out_of_range``,
            ``merkle.hash_size``, ``merkle.proof_size`` or ``merkle.root_mismatch``.
    """
    index = _need_count("index", index)
    size = _need_count("size", size)
    if not index < size:
        raise MerkleProofError(
            "merkle.index_out_of_range",
            "M8",
            f"索引 {index} 不在大小为 {size} 的树内",
            f"index {index} is outside a tree of size {size}",
        )
    current = _need_hash("leaf hash", leaf_hash)
    expected_root = _need_hash("root", root)
    inner, border = _shape(index, size)
    if len(proof) != inner + border:
        raise _wrong_length("M8", len(proof), inner + border)
    hashes = [_need_hash(f"proof element {i}", p) for i, p in enumerate(proof)]
    for level in range(inner):
        sibling = hashes[level]
        # Bit ``level`` of the index says whether this node is a right child.
        right_child = (index >> level) & 1
        current = _children(sibling, current) if right_child else _children(current, sibling)
    for sibling in hashes[inner:]:
        current = _children(sibling, current)
    if not _same(current, expected_root):
        raise _mismatch("M9", "the given root", "给定的根哈希")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size2`` with head ``root2`` extends the one of ``size1``/``root1``.

    Follows spec/merkle.md M10 (pre-checks, in order) and M11 (recomputation).

    Raises:
        MerkleProofError: with code ``merkle.bad_argument``, ``merkle.size_order``,
            ``merkle.empty_tree``, ``merkle.hash_size``, ``merkle.proof_size`` or
            ``merkle.root_mismatch``.
    """
    size1 = _need_count("size1", size1)
    size2 = _need_count("size2", size2)
    if size1 > size2:
        raise MerkleProofError(
            "merkle.size_order",
            "M10",
            f"旧树（{size1}）不能比新树（{size2}）大",
            f"the old tree ({size1}) cannot be larger than the new tree ({size2})",
        )
    if size1 == 0:
        raise MerkleProofError(
            "merkle.empty_tree",
            "M10",
            "不接受以空树为起点的一致性证明",
            "consistency proofs starting from the empty tree are not accepted",
        )
    if size1 == size2:
        if len(proof) != 0:
            raise _wrong_length("M10", len(proof), 0)
        if not _same(root1, root2):
            raise _mismatch("M10", "the other head of the same size", "同一大小的另一根哈希")
        return
    old_head = _need_hash("root1", root1)
    new_head = _need_hash("root2", root2)

    # The old tree's last leaf is size1 - 1. The lowest ``low`` levels of its path lie inside
    # a perfect subtree that the old tree already contains whole, so the proof starts at
    # that subtree's hash instead of at a leaf; when the subtree is the whole old tree
    # (size1 a power of two) its hash is root1 and is not repeated in the proof.
    low = (size1 & -size1).bit_length() - 1
    inner, border = _shape(size1 - 1, size2)
    inner -= low
    starts_at_root1 = size1 == 1 << low
    expected = inner + border + (0 if starts_at_root1 else 1)
    if len(proof) != expected:
        raise _wrong_length("M10", len(proof), expected)
    hashes = [_need_hash(f"proof element {i}", p) for i, p in enumerate(proof)]
    if starts_at_root1:
        start, rest = old_head, hashes
    else:
        start, rest = hashes[0], hashes[1:]

    position = (size1 - 1) >> low  # index of the starting subtree on its level
    old = new = start
    for level in range(inner):
        sibling = rest[level]
        if (position >> level) & 1:
            # Left sibling: part of both trees.
            old = _children(sibling, old)
            new = _children(sibling, new)
        else:
            # Right sibling: only leaves added after size1 are under it.
            new = _children(new, sibling)
    for sibling in rest[inner:]:
        old = _children(sibling, old)
        new = _children(sibling, new)
    if not _same(old, old_head):
        raise _mismatch("M11", "root1", "旧树根哈希")
    if not _same(new, new_head):
        raise _mismatch("M11", "root2", "新树根哈希")
