"""Producer against independent verifier: exhaustive small trees and property tests.

spec/merkle.md M4 (heads, streaming), M6/M7 (proof formats), M9/M11 (verification).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.log import merkle as producer
from verifier import merkle as auditor

MAX_N = 40
LEAVES = [producer.leaf_hash(b"leaf-" + i.to_bytes(2, "big")) for i in range(MAX_N)]
TREE = producer.MerkleTree(LEAVES)
ROOTS = [TREE.root_at(n) for n in range(MAX_N + 1)]


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 0x80]) + h[1:]


def test_incremental_roots_equal_rfc_recursion_for_every_size() -> None:
    """M4: MerkleTree.root_at(n) == MTH(D[0:n]) == streamed head, n = 0..40."""
    for n in range(MAX_N + 1):
        assert ROOTS[n] == producer.mth(LEAVES[:n])
        assert producer.MerkleTree(LEAVES[:n]).root() == ROOTS[n]
        assert auditor.stream_root(LEAVES[:n]) == ROOTS[n]


def test_every_inclusion_proof_up_to_40_verifies_in_both_and_tampering_fails() -> None:
    """M6, M9: all (i, n) with n <= 40; the verifier copy accepts and rejects what it should."""
    checked = 0
    for n in range(1, MAX_N + 1):
        for i in range(n):
            proof = TREE.inclusion_proof(i, n)
            assert proof == producer.inclusion_proof(i, LEAVES[:n])
            auditor.verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n])
            producer.verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n])
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                with pytest.raises(auditor.MerkleProofError):
                    auditor.verify_inclusion(LEAVES[i], i, n, bad, ROOTS[n])
            with pytest.raises(auditor.MerkleProofError):
                auditor.verify_inclusion(_flip(LEAVES[i]), i, n, proof, ROOTS[n])
            checked += 1
    assert checked == MAX_N * (MAX_N + 1) // 2


def test_every_consistency_proof_up_to_40_verifies_in_both_and_tampering_fails() -> None:
    """M7, M11: all (m, n) with 1 <= m <= n <= 40."""
    checked = 0
    for n in range(1, MAX_N + 1):
        for m in range(1, n + 1):
            proof = TREE.consistency_proof(m, n)
            assert proof == producer.consistency_proof(m, LEAVES[:n])
            auditor.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)
            producer.verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                with pytest.raises(auditor.MerkleProofError):
                    auditor.verify_consistency(m, n, ROOTS[m], ROOTS[n], bad)
            if m < n:
                with pytest.raises(auditor.MerkleProofError):
                    auditor.verify_consistency(m, n, _flip(ROOTS[m]), ROOTS[n], proof)
                with pytest.raises(auditor.MerkleProofError):
                    auditor.verify_consistency(m, n, ROOTS[m], _flip(ROOTS[n]), proof)
            checked += 1
    assert checked == MAX_N * (MAX_N + 1) // 2


def test_proof_lengths_match_the_closed_formulas() -> None:
    """M12: len(PATH) and len(PROOF) equal the bit formulas."""
    for n in range(1, MAX_N + 1):
        for i in range(n):
            inner = (i ^ (n - 1)).bit_length()
            assert len(TREE.inclusion_proof(i, n)) == inner + bin(i >> inner).count("1")
        for m in range(1, n):
            t = (m & -m).bit_length() - 1
            inner = ((m - 1) ^ (n - 1)).bit_length()
            border = bin((m - 1) >> inner).count("1")
            seed = 0 if m == 1 << t else 1
            assert len(TREE.consistency_proof(m, n)) == inner - t + border + seed


hashes = st.binary(min_size=32, max_size=32)


@settings(max_examples=150, deadline=None)
@given(st.lists(hashes, max_size=300))
def test_roots_agree_across_implementations(leaf_hashes: list[bytes]) -> None:
    """M4: reference recursion, incremental tree and streaming auditor give the same head."""
    want = producer.mth(leaf_hashes)
    assert producer.MerkleTree(leaf_hashes).root() == want
    assert auditor.stream_root(iter(leaf_hashes)) == want


@settings(max_examples=150, deadline=None)
@given(st.lists(hashes, min_size=1, max_size=300), st.data())
def test_random_proofs_from_producer_verify_in_verifier(
    leaf_hashes: list[bytes], data: st.DataObject
) -> None:
    """M6, M7, M9, M11: proofs at random points of random trees."""
    tree = producer.MerkleTree(leaf_hashes)
    n = data.draw(st.integers(1, len(leaf_hashes)), label="n")
    i = data.draw(st.integers(0, n - 1), label="i")
    m = data.draw(st.integers(1, n), label="m")
    auditor.verify_inclusion(leaf_hashes[i], i, n, tree.inclusion_proof(i, n), tree.root_at(n))
    auditor.verify_consistency(m, n, tree.root_at(m), tree.root_at(n), tree.consistency_proof(m, n))


@settings(max_examples=150, deadline=None)
@given(st.lists(hashes, max_size=200), st.data())
def test_truncated_tree_equals_a_tree_built_from_the_kept_leaves(
    leaf_hashes: list[bytes], data: st.DataObject
) -> None:
    """M4-M7: undoing appends (a failed store transaction) leaves the tree of the first k leaves,
    and it keeps growing like one: the oracle is a tree built from scratch."""
    k = data.draw(st.integers(0, len(leaf_hashes)), label="k")
    more = data.draw(st.lists(hashes, max_size=40), label="more")
    tree = producer.MerkleTree(leaf_hashes)
    tree.truncate(k)
    tree.extend(more)
    kept = leaf_hashes[:k] + more
    oracle = producer.MerkleTree(kept)
    assert len(tree) == len(kept)
    assert tree.leaf_hashes == tuple(kept)
    assert tree.root() == producer.mth(kept)
    for n in range(1, len(kept) + 1):
        assert tree.root_at(n) == oracle.root_at(n)
        i = data.draw(st.integers(0, n - 1), label="i")
        assert tree.inclusion_proof(i, n) == producer.inclusion_proof(i, kept[:n])
        assert tree.consistency_proof(i + 1, n) == oracle.consistency_proof(i + 1, n)


def test_leaf_hash_returns_each_appended_hash_and_refuses_an_index_outside_the_tree() -> None:
    """M5: leaf_hash(i) is the i-th appended hash in O(1); no index past the end or negative."""
    assert [TREE.leaf_hash(i) for i in range(MAX_N)] == LEAVES
    for bad in (MAX_N, -1):
        with pytest.raises(producer.MerkleArgumentError):
            TREE.leaf_hash(bad)
    with pytest.raises(producer.MerkleArgumentError):
        TREE.truncate(MAX_N + 1)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(hashes, max_size=200),
    st.lists(st.integers(0, 200), max_size=10),
)
def test_streamed_checkpoints_equal_tree_heads(leaf_hashes: list[bytes], sizes: list[int]) -> None:
    """M4: one pass yields the head at every requested size that exists."""
    tree = producer.MerkleTree(leaf_hashes)
    wanted = [s for s in sizes if s <= len(leaf_hashes)]
    result = auditor.stream_roots(iter(leaf_hashes), wanted)
    assert result.size == len(leaf_hashes)
    assert result.root == tree.root()
    assert [s for s, _ in result.checkpoints] == sorted(set(wanted))
    for s in wanted:
        assert result.root_at(s) == tree.root_at(s)


# --------------------------------------------------------------------------- streaming specifics


def test_stream_consumes_a_one_shot_iterator_once() -> None:
    """M4: a generator is enough; nothing is read twice."""
    pulled: list[int] = []

    def gen() -> Iterator[bytes]:
        for i, h in enumerate(LEAVES):
            pulled.append(i)
            yield h

    result = auditor.stream_roots(gen(), [0, 1, 17, MAX_N])
    assert pulled == list(range(MAX_N))
    assert result.checkpoints == (
        (0, ROOTS[0]),
        (1, ROOTS[1]),
        (17, ROOTS[17]),
        (MAX_N, ROOTS[MAX_N]),
    )


def test_stream_rejects_checkpoint_beyond_the_log() -> None:
    """M4: a checkpoint larger than the log cannot be satisfied."""
    with pytest.raises(auditor.MerkleProofError) as info:
        auditor.stream_roots(iter(LEAVES[:5]), [3, 6])
    assert info.value.code == "merkle.checkpoint_beyond_log"


@pytest.mark.parametrize(
    ("leaves", "checkpoints", "code"),
    [
        ([LEAVES[0], b"short"], [], "merkle.hash_size"),
        ([LEAVES[0], "x" * 32], [], "merkle.hash_size"),
        (LEAVES[:3], [-1], "merkle.bad_argument"),
        (LEAVES[:3], [True], "merkle.bad_argument"),
    ],
    ids=["short-leaf-hash", "str-leaf-hash", "negative-checkpoint", "bool-checkpoint"],
)
def test_stream_rejects_malformed_input(
    leaves: list[object], checkpoints: list[object], code: str
) -> None:
    """M1, M5: bad leaf hashes and bad checkpoint sizes are errors, not silently skipped."""
    with pytest.raises(auditor.MerkleProofError) as info:
        auditor.stream_roots(iter(leaves), checkpoints)  # type: ignore[arg-type]
    assert info.value.code == code


def test_stream_root_at_unknown_checkpoint_is_a_key_error() -> None:
    result = auditor.stream_roots(iter(LEAVES[:4]), [2])
    with pytest.raises(KeyError):
        result.root_at(3)


def test_stream_memory_is_logarithmic() -> None:
    """M4: streaming 20,000 leaves keeps a few dozen hashes alive, not the whole log."""
    n = 20_000

    def gen() -> Iterator[bytes]:
        for i in range(n):
            yield producer.leaf_hash(i.to_bytes(4, "big"))

    tracemalloc.start()
    try:
        result = auditor.stream_roots(gen(), [n // 2])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == n
    # n leaf hashes alone would be ~1.3 MB; a log-depth stack is a few KB.
    assert peak < 64 * 1024
    tree = producer.MerkleTree(gen())
    assert (result.root, result.root_at(n // 2)) == (tree.root(), tree.root_at(n // 2))


# --------------------------------------------------------------------------- independence


VERIFIER_FILE = Path(auditor.__file__)


def test_verifier_merkle_imports_only_the_standard_library() -> None:
    """House rule 7.2.1: the verifier shares the spec, never code."""
    tree = ast.parse(VERIFIER_FILE.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_verifier_merkle_imports_with_project_packages_blocked() -> None:
    """House rule 7.2.1: importing verifier.merkle works with tally, keys, ballot_printer unavailable."""
    code = (
        "import sys\n"
        "for name in ('tally', 'keys', 'ballot_printer'):\n"
        "    sys.modules[name] = None\n"
        "import verifier.merkle as m\n"
        "m.verify_inclusion(m.hash_leaf(b''), 0, 1, [], m.hash_leaf(b''))\n"
    )
    root = VERIFIER_FILE.parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
