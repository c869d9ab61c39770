"""``IncrementalRoot.extend`` (the replay adds its leaf hashes in batches) is ``add`` repeated."""

from __future__ import annotations

import hashlib

import pytest

from verifier.merkle import IncrementalRoot, MerkleProofError, stream_root


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(n)]


def test_extend_refuses_a_short_leaf_after_adding_those_before_it() -> None:
    tree, leaves = IncrementalRoot(), _leaves(5)
    with pytest.raises(MerkleProofError) as e:
        tree.extend([*leaves[:3], b"\x00" * 31, leaves[4]])
    assert e.value.code == "merkle.hash_size"
    assert tree.size == 3
    assert tree.root() == stream_root(leaves[:3])


def test_extend_refuses_a_leaf_that_is_not_bytes() -> None:
    with pytest.raises(MerkleProofError):
        IncrementalRoot().extend([bytearray(32)])  # type: ignore[list-item]


@pytest.mark.parametrize("cut", [0, 1, 2, 7, 8, 9, 33])
def test_extend_in_two_batches_gives_the_roots_of_add(cut: int) -> None:
    leaves = _leaves(40)
    one, batched = IncrementalRoot(), IncrementalRoot()
    for leaf in leaves[:cut]:
        one.add(leaf)
    batched.extend(leaves[:cut])
    assert (batched.size, batched.root()) == (one.size, one.root())
    for leaf in leaves[cut:]:
        one.add(leaf)
    batched.extend(leaves[cut:])
    assert (batched.size, batched.root()) == (one.size, one.root()) == (40, stream_root(leaves))
