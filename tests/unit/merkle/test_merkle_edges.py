"""Edge cases of Merkle proof verification, table-driven, for both implementations.

spec/merkle.md M5, M8, M10, M13: sizes 0 and 1, powers of two and their neighbours,
off-by-one indices, index == size, wrong sizes, truncated and padded proofs, bad hash sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tally.log import merkle as producer
from verifier import merkle as auditor

H = bytes(range(32))  # some valid-looking 32-byte value


def _leaves(n: int) -> list[bytes]:
    return [producer.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@dataclass(frozen=True, slots=True)
class Impl:
    name: str
    inclusion: Callable[[bytes, int, int, list[bytes], bytes], None]
    consistency: Callable[[int, int, bytes, bytes, list[bytes]], None]
    error: type[Exception]


IMPLS = [
    Impl(
        "producer",
        producer.verify_inclusion,
        producer.verify_consistency,
        producer.MerkleProofError,
    ),
    Impl(
        "verifier", auditor.verify_inclusion, auditor.verify_consistency, auditor.MerkleProofError
    ),
]
IMPL_IDS = [i.name for i in IMPLS]


def _code(impl: Impl, run: Callable[[], None]) -> str:
    with pytest.raises(impl.error) as info:
        run()
    code = getattr(info.value, "code", "")
    assert isinstance(code, str)
    return code


# --------------------------------------------------------------------------- inclusion

N = 13  # not a power of two, so the proof has inner and border parts
TREE = producer.MerkleTree(_leaves(64))
LEAVES = _leaves(64)


@dataclass(frozen=True, slots=True)
class Inc:
    leaf: bytes
    index: int
    size: int
    proof: list[bytes]
    root: bytes


def _good_inclusion(index: int, size: int) -> Inc:
    return Inc(
        LEAVES[index], index, size, list(TREE.inclusion_proof(index, size)), TREE.root_at(size)
    )


def _with(base: Inc, **changes: object) -> Inc:
    fields = {
        "leaf": base.leaf,
        "index": base.index,
        "size": base.size,
        "proof": base.proof,
        "root": base.root,
    }
    fields.update(changes)
    return Inc(**fields)  # type: ignore[arg-type]


G = _good_inclusion(5, N)
INCLUSION_REJECTS: list[tuple[str, Inc, str]] = [
    ("size-zero", _with(G, index=0, size=0, proof=[]), "merkle.index_out_of_range"),
    ("index-equals-size", _with(G, index=N), "merkle.index_out_of_range"),
    ("index-above-size", _with(G, index=N + 1), "merkle.index_out_of_range"),
    ("negative-index", _with(G, index=-1), "merkle.bad_argument"),
    ("negative-size", _with(G, size=-1), "merkle.bad_argument"),
    ("bool-index", _with(G, index=True), "merkle.bad_argument"),
    ("float-size", _with(G, size=13.0), "merkle.bad_argument"),
    ("leaf-31-bytes", _with(G, leaf=G.leaf[:31]), "merkle.hash_size"),
    ("leaf-33-bytes", _with(G, leaf=G.leaf + b"\0"), "merkle.hash_size"),
    ("leaf-empty", _with(G, leaf=b""), "merkle.hash_size"),
    ("root-31-bytes", _with(G, root=G.root[:31]), "merkle.hash_size"),
    ("root-not-bytes", _with(G, root=G.root.hex()), "merkle.hash_size"),
    ("proof-truncated", _with(G, proof=G.proof[:-1]), "merkle.proof_size"),
    ("proof-padded-end", _with(G, proof=[*G.proof, H]), "merkle.proof_size"),
    ("proof-padded-front", _with(G, proof=[H, *G.proof]), "merkle.proof_size"),
    ("proof-empty", _with(G, proof=[]), "merkle.proof_size"),
    ("proof-element-short", _with(G, proof=[G.proof[0][:31], *G.proof[1:]]), "merkle.hash_size"),
    ("proof-element-long", _with(G, proof=[*G.proof[:-1], G.proof[-1] + b"x"]), "merkle.hash_size"),
    (
        "proof-elements-swapped",
        _with(G, proof=[G.proof[1], G.proof[0], *G.proof[2:]]),
        "merkle.root_mismatch",
    ),
    (
        "proof-bit-flipped",
        _with(G, proof=[bytes([G.proof[0][0] ^ 1]) + G.proof[0][1:], *G.proof[1:]]),
        "merkle.root_mismatch",
    ),
    ("index-plus-one", _with(G, index=6), "merkle.root_mismatch"),
    ("index-minus-one", _with(G, index=4), "merkle.root_mismatch"),
    # A wrong size is caught through the head of that size (the checkpoint binds the pair).
    ("size-plus-one", _with(G, size=N + 1, root=TREE.root_at(N + 1)), "merkle.root_mismatch"),
    ("size-minus-one", _with(G, size=N - 1, root=TREE.root_at(N - 1)), "merkle.root_mismatch"),
    ("size-doubled", _with(G, size=2 * N, root=TREE.root_at(2 * N)), "merkle.proof_size"),
    ("wrong-leaf", _with(G, leaf=LEAVES[6]), "merkle.root_mismatch"),
    ("root-of-other-size", _with(G, root=TREE.root_at(N + 1)), "merkle.root_mismatch"),
    ("leaf-data-not-hashed", _with(G, leaf=(5).to_bytes(4, "big") * 8), "merkle.root_mismatch"),
]


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize(
    ("case", "code"),
    [(c, code) for _, c, code in INCLUSION_REJECTS],
    ids=[name for name, _, _ in INCLUSION_REJECTS],
)
def test_inclusion_rejects_with_specified_code(impl: Impl, case: Inc, code: str) -> None:
    """M8, M9: each malformed or wrong input fails with the code of its first failing check."""
    got = _code(
        impl, lambda: impl.inclusion(case.leaf, case.index, case.size, case.proof, case.root)
    )
    assert got == code


SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64]


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("size", SIZES)
def test_inclusion_accepts_first_and_last_leaf_at_boundary_sizes(impl: Impl, size: int) -> None:
    """M6, M9: powers of two and their neighbours, both ends of the tree."""
    for index in {0, size - 1}:
        g = _good_inclusion(index, size)
        impl.inclusion(g.leaf, g.index, g.size, g.proof, g.root)


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_inclusion_accepts_tuple_proof_and_single_leaf_tree(impl: Impl) -> None:
    """M6: the one-leaf tree has an empty proof and its head is the leaf hash."""
    impl.inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    g = _good_inclusion(3, 8)
    impl.inclusion(g.leaf, g.index, g.size, tuple(g.proof), g.root)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- consistency


@dataclass(frozen=True, slots=True)
class Con:
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: list[bytes]


def _good_consistency(m: int, n: int) -> Con:
    return Con(m, n, TREE.root_at(m), TREE.root_at(n), list(TREE.consistency_proof(m, n)))


C = _good_consistency(6, N)  # size1 not a power of two: the proof carries the seed
P = _good_consistency(4, N)  # size1 a power of two: root1 is the seed
R1, R13 = TREE.root_at(1), TREE.root_at(13)

CONSISTENCY_REJECTS: list[tuple[str, Con, str]] = [
    ("size1-above-size2", Con(7, 6, C.root1, C.root2, C.proof), "merkle.size_order"),
    ("size1-zero", Con(0, N, producer.EMPTY_ROOT, C.root2, []), "merkle.empty_tree"),
    (
        "sizes-zero-same-root",
        Con(0, 0, producer.EMPTY_ROOT, producer.EMPTY_ROOT, []),
        "merkle.empty_tree",
    ),
    ("negative-size1", Con(-1, N, C.root1, C.root2, C.proof), "merkle.bad_argument"),
    ("bool-size2", Con(1, True, R1, R1, []), "merkle.bad_argument"),
    ("equal-sizes-nonempty-proof", Con(N, N, R13, R13, [H]), "merkle.proof_size"),
    ("equal-sizes-different-roots", Con(N, N, R13, R1, []), "merkle.root_mismatch"),
    ("root1-short", Con(6, N, C.root1[:31], C.root2, C.proof), "merkle.hash_size"),
    ("root2-long", Con(6, N, C.root1, C.root2 + b"\0", C.proof), "merkle.hash_size"),
    ("proof-empty", Con(6, N, C.root1, C.root2, []), "merkle.proof_size"),
    ("proof-truncated", Con(6, N, C.root1, C.root2, C.proof[:-1]), "merkle.proof_size"),
    ("proof-padded-end", Con(6, N, C.root1, C.root2, [*C.proof, H]), "merkle.proof_size"),
    ("proof-padded-front", Con(6, N, C.root1, C.root2, [H, *C.proof]), "merkle.proof_size"),
    (
        "pow2-with-root1-prepended",
        Con(4, N, P.root1, P.root2, [P.root1, *P.proof]),
        "merkle.proof_size",
    ),
    (
        "proof-element-short",
        Con(6, N, C.root1, C.root2, [C.proof[0][:31], *C.proof[1:]]),
        "merkle.hash_size",
    ),
    (
        "seed-bit-flipped",
        Con(6, N, C.root1, C.root2, [bytes([C.proof[0][0] ^ 1]) + C.proof[0][1:], *C.proof[1:]]),
        "merkle.root_mismatch",
    ),
    (
        "last-bit-flipped",
        Con(6, N, C.root1, C.root2, [*C.proof[:-1], bytes([C.proof[-1][0] ^ 1]) + C.proof[-1][1:]]),
        "merkle.root_mismatch",
    ),
    ("swapped-roots", Con(6, N, C.root2, C.root1, C.proof), "merkle.root_mismatch"),
    ("wrong-root2", Con(6, N, C.root1, TREE.root_at(N + 1), C.proof), "merkle.root_mismatch"),
    # Wrong sizes, each paired with the true head of the size claimed.
    ("size1-plus-one", Con(7, N, TREE.root_at(7), C.root2, C.proof), "merkle.proof_size"),
    ("size1-minus-one", Con(5, N, TREE.root_at(5), C.root2, C.proof), "merkle.proof_size"),
    ("size1-to-pow2", Con(8, N, TREE.root_at(8), C.root2, C.proof), "merkle.proof_size"),
    (
        "size2-plus-one",
        Con(6, N + 1, C.root1, TREE.root_at(N + 1), C.proof),
        "merkle.root_mismatch",
    ),
    (
        "size2-minus-one",
        Con(6, N - 1, C.root1, TREE.root_at(N - 1), C.proof),
        "merkle.root_mismatch",
    ),
    ("size2-doubled", Con(6, 2 * N, C.root1, TREE.root_at(2 * N), C.proof), "merkle.proof_size"),
]


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize(
    ("case", "code"),
    [(c, code) for _, c, code in CONSISTENCY_REJECTS],
    ids=[name for name, _, _ in CONSISTENCY_REJECTS],
)
def test_consistency_rejects_with_specified_code(impl: Impl, case: Con, code: str) -> None:
    """M10, M11: each malformed or wrong input fails with the code of its first failing check."""
    got = _code(
        impl, lambda: impl.consistency(case.size1, case.size2, case.root1, case.root2, case.proof)
    )
    assert got == code


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("size2", SIZES)
def test_consistency_accepts_boundary_sizes(impl: Impl, size2: int) -> None:
    """M7, M11: from 1, from size2 - 1 and from size2 itself (empty proof)."""
    for size1 in {1, max(1, size2 - 1), size2}:
        c = _good_consistency(size1, size2)
        impl.consistency(c.size1, c.size2, c.root1, c.root2, c.proof)


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_equal_sizes_compare_roots_without_hash_length_check(impl: Impl) -> None:
    """M10(4): equal sizes and identical roots pass, as upstream's vector requires."""
    impl.consistency(1, 1, b"don't care 2", b"don't care 2", [])


# --------------------------------------------------------------------------- producer arguments

ARGUMENT_REJECTS: list[tuple[str, Callable[[], object], str]] = [
    (
        "inclusion-index-equals-size",
        lambda: producer.inclusion_proof(3, LEAVES[:3]),
        "merkle.index_out_of_range",
    ),
    ("inclusion-empty-tree", lambda: producer.inclusion_proof(0, []), "merkle.index_out_of_range"),
    (
        "inclusion-negative-index",
        lambda: producer.inclusion_proof(-1, LEAVES[:3]),
        "merkle.bad_argument",
    ),
    ("inclusion-bad-leaf", lambda: producer.inclusion_proof(0, [b"x"]), "merkle.hash_size"),
    (
        "consistency-from-zero",
        lambda: producer.consistency_proof(0, LEAVES[:3]),
        "merkle.empty_tree",
    ),
    (
        "consistency-m-above-n",
        lambda: producer.consistency_proof(4, LEAVES[:3]),
        "merkle.size_order",
    ),
    ("mth-bad-leaf", lambda: producer.mth([H, b"short"]), "merkle.hash_size"),
    ("node-hash-bad-left", lambda: producer.node_hash(b"", H), "merkle.hash_size"),
    ("node-hash-bad-right", lambda: producer.node_hash(H, H + H), "merkle.hash_size"),
    ("tree-append-bad-hash", lambda: producer.MerkleTree().append(b"x" * 31), "merkle.hash_size"),
    ("tree-append-str", lambda: producer.MerkleTree().append("x" * 32), "merkle.hash_size"),  # type: ignore[arg-type]
    ("tree-root-beyond-size", lambda: TREE.root_at(65), "merkle.size_beyond_tree"),
    ("tree-root-negative", lambda: TREE.root_at(-1), "merkle.bad_argument"),
    (
        "tree-inclusion-index-equals-size",
        lambda: TREE.inclusion_proof(8, 8),
        "merkle.index_out_of_range",
    ),
    ("tree-inclusion-size-beyond", lambda: TREE.inclusion_proof(0, 65), "merkle.size_beyond_tree"),
    (
        "tree-inclusion-empty",
        lambda: producer.MerkleTree().inclusion_proof(0),
        "merkle.index_out_of_range",
    ),
    ("tree-consistency-from-zero", lambda: TREE.consistency_proof(0, 8), "merkle.empty_tree"),
    ("tree-consistency-m-above-n", lambda: TREE.consistency_proof(9, 8), "merkle.size_order"),
    ("tree-consistency-n-beyond", lambda: TREE.consistency_proof(8, 65), "merkle.size_beyond_tree"),
]


@pytest.mark.parametrize(
    ("call", "code"),
    [(call, code) for _, call, code in ARGUMENT_REJECTS],
    ids=[name for name, _, _ in ARGUMENT_REJECTS],
)
def test_producer_refuses_impossible_requests(call: Callable[[], object], code: str) -> None:
    """M5, M7: impossible proof requests raise MerkleArgumentError with a stable code."""
    with pytest.raises(producer.MerkleArgumentError) as info:
        call()
    assert info.value.code == code


def test_failed_append_leaves_tree_unchanged() -> None:
    """M1: a rejected leaf hash is not half-appended."""
    tree = producer.MerkleTree(LEAVES[:5])
    with pytest.raises(producer.MerkleArgumentError):
        tree.append(b"")
    assert len(tree) == 5
    assert tree.root() == producer.mth(LEAVES[:5])


def test_consistency_proof_for_equal_sizes_is_empty() -> None:
    """M7: PROOF(n, D[n]) = []."""
    assert producer.consistency_proof(7, LEAVES[:7]) == ()
    assert TREE.consistency_proof(7, 7) == ()


# --------------------------------------------------------------------------- error objects


def test_errors_carry_code_clause_and_both_languages() -> None:
    """M13 and house style: code, clause, zh and en on every error; str() is the English text."""
    errors: list[Exception] = []
    for run in (
        lambda: producer.verify_inclusion(H, 1, 1, [], H),
        lambda: producer.verify_consistency(0, 1, H, H, []),
        lambda: auditor.verify_inclusion(H, 1, 1, [], H),
        lambda: auditor.verify_consistency(0, 1, H, H, []),
        lambda: producer.inclusion_proof(0, []),
    ):
        with pytest.raises(Exception) as info:  # the exact class is asserted below
            run()
        errors.append(info.value)
    assert isinstance(errors[0], producer.InclusionProofError)
    assert isinstance(errors[1], producer.ConsistencyProofError)
    assert isinstance(errors[2], auditor.MerkleProofError)
    assert isinstance(errors[3], auditor.MerkleProofError)
    assert isinstance(errors[4], producer.MerkleArgumentError)
    for e in errors:
        assert type(e).__name__.endswith("Error")
        code, clause, zh, en = (getattr(e, a) for a in ("code", "clause", "zh", "en"))
        assert code.startswith("merkle.")
        assert clause.startswith("M")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
        assert str(e) == en
        assert en


def test_producer_and_verifier_error_families_are_distinct() -> None:
    """The verifier defines its own error; it is not the producer's class."""
    assert not issubclass(auditor.MerkleProofError, producer.MerkleError)
    assert issubclass(producer.InclusionProofError, producer.MerkleProofError)
    assert issubclass(producer.ConsistencyProofError, producer.MerkleProofError)
