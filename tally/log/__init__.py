"""Append-only log: RFC 9162 Merkle tree (``merkle``); see spec/merkle.md."""

from tally.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    ConsistencyProofError,
    InclusionProofError,
    MerkleArgumentError,
    MerkleError,
    MerkleProofError,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    mth,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

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
