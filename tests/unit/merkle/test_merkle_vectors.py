"""Both Merkle implementations against the transcribed vectors (spec/merkle.md M14).

Vectors: tests/vectors/merkle/ (transparency-dev/merkle testdata and RFC 6962 known answers).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tally.log import merkle as producer
from verifier import merkle as auditor

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "merkle"


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    kind: str  # "inclusion" | "consistency"
    data: dict[str, Any]

    @property
    def want_err(self) -> bool:
        return bool(self.data["wantErr"])


def _b64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def _proof(data: dict[str, Any]) -> list[bytes]:
    # Upstream writes an empty proof either as [] or as null.
    return [_b64(p) for p in data["proof"] or []]


def _load(kind: str, *, section: str = "cases") -> list[Case]:
    cases = []
    for path in sorted((VECTORS / kind).glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for entry in doc.get(section, []):
            case_id = f"{kind}/{path.stem}/{entry['file']}@{entry['commit'][:8]}"
            cases.append(Case(case_id, kind, entry["data"]))
    return cases


INCLUSION = _load("inclusion")
CONSISTENCY = _load("consistency")
SUPERSEDED = _load("consistency", section="superseded")


def _run_inclusion(verify: Callable[..., None], data: dict[str, Any]) -> None:
    index = data["leafIdx"] if "leafIdx" in data else data["leafIndex"]
    verify(_b64(data["leafHash"]), index, data["treeSize"], _proof(data), _b64(data["root"]))


def _run_consistency(verify: Callable[..., None], data: dict[str, Any]) -> None:
    verify(data["size1"], data["size2"], _b64(data["root1"]), _b64(data["root2"]), _proof(data))


def _outcome(run: Callable[[], None], error: type[Exception]) -> str | None:
    """None on success, else the error code; any other exception propagates (a test failure)."""
    try:
        run()
    except error as e:
        code = getattr(e, "code", None)
        assert isinstance(code, str)
        return code
    return None


IMPLS = [
    pytest.param(
        producer.verify_inclusion,
        producer.verify_consistency,
        producer.MerkleProofError,
        id="producer",
    ),
    pytest.param(
        auditor.verify_inclusion,
        auditor.verify_consistency,
        auditor.MerkleProofError,
        id="verifier",
    ),
]


def test_vector_files_cover_every_upstream_directory_and_outcome() -> None:
    """M14: all 13 upstream directories are present, with both accepting and rejecting cases."""
    dirs = {p.relative_to(VECTORS).as_posix() for p in VECTORS.glob("*/*.json")}
    expected_inclusion = {f"inclusion/{d}.json" for d in ["0", "1", "2", "3", "4"]}
    expected_inclusion |= {"inclusion/additional.json", "inclusion/single-entry.json"}
    expected_consistency = {f"consistency/{d}.json" for d in ["0", "1", "2", "3", "4"]}
    expected_consistency |= {"consistency/additional.json"}
    assert dirs == expected_inclusion | expected_consistency
    assert len(INCLUSION) + len(CONSISTENCY) == 134
    for cases in (INCLUSION, CONSISTENCY):
        assert any(c.want_err for c in cases)
        assert any(not c.want_err for c in cases)
    descs = {c.data["desc"] for c in INCLUSION + CONSISTENCY}
    assert {"happy path", "trailing garbage", "preceding garbage", "wrong leaf"} <= descs
    assert {"swapped roots", "truncated proof", "empty proof", "inserted component"} <= descs


@pytest.mark.parametrize(("verify_inc", "verify_con", "error"), IMPLS)
@pytest.mark.parametrize("case", INCLUSION, ids=[c.id for c in INCLUSION])
def test_inclusion_vector_outcome_matches_want_err(
    case: Case,
    verify_inc: Callable[..., None],
    verify_con: Callable[..., None],
    error: type[Exception],
) -> None:
    """M8, M9: raise exactly for the cases marked wantErr."""
    code = _outcome(lambda: _run_inclusion(verify_inc, case.data), error)
    assert (code is not None) == case.want_err, code


@pytest.mark.parametrize(("verify_inc", "verify_con", "error"), IMPLS)
@pytest.mark.parametrize("case", CONSISTENCY, ids=[c.id for c in CONSISTENCY])
def test_consistency_vector_outcome_matches_want_err(
    case: Case,
    verify_inc: Callable[..., None],
    verify_con: Callable[..., None],
    error: type[Exception],
) -> None:
    """M10, M11: raise exactly for the cases marked wantErr."""
    code = _outcome(lambda: _run_consistency(verify_con, case.data), error)
    assert (code is not None) == case.want_err, code


@pytest.mark.parametrize(
    "case", INCLUSION + CONSISTENCY, ids=[c.id for c in INCLUSION + CONSISTENCY]
)
def test_both_implementations_report_the_same_error_code(case: Case) -> None:
    """M13: the order of checks is normative, so producer and verifier agree on the code."""
    if case.kind == "inclusion":
        got_p = _outcome(
            lambda: _run_inclusion(producer.verify_inclusion, case.data), producer.MerkleProofError
        )
        got_v = _outcome(
            lambda: _run_inclusion(auditor.verify_inclusion, case.data), auditor.MerkleProofError
        )
    else:
        got_p = _outcome(
            lambda: _run_consistency(producer.verify_consistency, case.data),
            producer.MerkleProofError,
        )
        got_v = _outcome(
            lambda: _run_consistency(auditor.verify_consistency, case.data),
            auditor.MerkleProofError,
        )
    assert got_p == got_v


EXPECTED_CODES = [
    ("inclusion/0/leafIdx---1.json", "merkle.index_out_of_range"),
    ("inclusion/0/treeSize-div-2.json", "merkle.index_out_of_range"),
    ("inclusion/single-entry/empty-leaf.json", "merkle.hash_size"),
    ("inclusion/1/trailing-garbage.json", "merkle.proof_size"),
    ("inclusion/1/modified-proof[1]-bit-3.json", "merkle.root_mismatch"),
    ("consistency/additional/size1-is-greater-than-size2.json", "merkle.size_order"),
    ("consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json", "merkle.empty_tree"),
    ("consistency/1/wrong-root1.json", "merkle.hash_size"),
    ("consistency/3/truncated-proof.json", "merkle.proof_size"),
    ("consistency/3/swapped-roots.json", "merkle.root_mismatch"),
]


@pytest.mark.parametrize(("name", "code"), EXPECTED_CODES, ids=[n for n, _ in EXPECTED_CODES])
def test_selected_vectors_fail_with_the_specified_code(name: str, code: str) -> None:
    """M8, M10: the first failing check decides the code."""
    matches = [c for c in INCLUSION + CONSISTENCY if c.id.split("@")[0] == name]
    assert len(matches) == 1
    case = matches[0]
    if case.kind == "inclusion":
        got = _outcome(
            lambda: _run_inclusion(auditor.verify_inclusion, case.data), auditor.MerkleProofError
        )
    else:
        got = _outcome(
            lambda: _run_consistency(auditor.verify_consistency, case.data),
            auditor.MerkleProofError,
        )
    assert got == code


@pytest.mark.parametrize(("verify_inc", "verify_con", "error"), IMPLS)
@pytest.mark.parametrize("case", SUPERSEDED, ids=[c.id for c in SUPERSEDED])
def test_superseded_vectors_follow_the_newest_upstream_policy(
    case: Case,
    verify_inc: Callable[..., None],
    verify_con: Callable[..., None],
    error: type[Exception],
) -> None:
    """M10(3): size-0 proofs are rejected even where an older upstream file accepted them."""
    code = _outcome(lambda: _run_consistency(verify_con, case.data), error)
    if case.data["size1"] == 0:
        assert case.want_err is False  # the recorded disagreement
        assert code == "merkle.empty_tree"
    else:  # renamed duplicate: agrees with upstream
        assert (code is not None) == case.want_err


# --------------------------------------------------------------------------- RFC 6962 known answers

REFERENCE = json.loads((VECTORS / "rfc6962-reference.json").read_text(encoding="utf-8"))
LEAVES = [producer.leaf_hash(bytes.fromhex(x)) for x in REFERENCE["leaf_inputs"]]
ROOTS = [bytes.fromhex(x) for x in REFERENCE["root_hashes"]]


def _hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_leaf_hashes_match_reference_node_level_zero() -> None:
    """M2: both leaf hash functions give constants.go NodeHashes()[0]."""
    assert _hexes(LEAVES) == REFERENCE["node_hashes"][0]
    verifier_leaves = [auditor.hash_leaf(bytes.fromhex(x)) for x in REFERENCE["leaf_inputs"]]
    assert verifier_leaves == LEAVES


@pytest.mark.parametrize("size", range(9))
def test_reference_root_for_each_size(size: int) -> None:
    """M4: MTH of the first `size` RFC 6962 leaves, by every code path we have."""
    want = ROOTS[size]
    assert producer.mth(LEAVES[:size]) == want
    assert producer.MerkleTree(LEAVES).root_at(size) == want
    assert producer.MerkleTree(LEAVES[:size]).root() == want
    assert auditor.stream_root(iter(LEAVES[:size])) == want


def test_empty_root_constant_is_sha256_of_empty_string() -> None:
    """M4: the empty tree's head."""
    assert producer.EMPTY_ROOT == auditor.EMPTY_ROOT == ROOTS[0]


def test_streamed_checkpoints_match_reference_roots_in_one_pass() -> None:
    """M4: one pass over the 8 leaves reports all 9 heads."""
    result = auditor.stream_roots(iter(LEAVES), range(9))
    assert result.size == 8
    assert result.root == ROOTS[8]
    assert [head for _, head in result.checkpoints] == ROOTS


def test_complete_subtree_hashes_match_reference_node_hashes() -> None:
    """M3, M4: the head of every aligned perfect subtree equals constants.go NodeHashes()."""
    for level, row in enumerate(REFERENCE["node_hashes"]):
        width = 1 << level
        for j, want in enumerate(row):
            part = LEAVES[j * width : (j + 1) * width]
            assert producer.mth(part).hex() == want
            assert auditor.stream_root(part).hex() == want


INC_KA = REFERENCE["inclusion_proofs"]
CON_KA = REFERENCE["consistency_proofs"]


@pytest.mark.parametrize(
    "ka", INC_KA, ids=[f"leaf{k['leaf_index']}-of-{k['tree_size']}" for k in INC_KA]
)
def test_inclusion_known_answer_is_produced_and_verified(ka: dict[str, Any]) -> None:
    """M6, M9: proofgen's RFC 6962 audit paths."""
    index, size = ka["leaf_index"], ka["tree_size"]
    want = [bytes.fromhex(x) for x in ka["proof"]]
    assert list(producer.inclusion_proof(index, LEAVES[:size])) == want
    assert list(producer.MerkleTree(LEAVES).inclusion_proof(index, size)) == want
    producer.verify_inclusion(LEAVES[index], index, size, want, ROOTS[size])
    auditor.verify_inclusion(LEAVES[index], index, size, want, ROOTS[size])


@pytest.mark.parametrize("ka", CON_KA, ids=[f"{k['size1']}-to-{k['size2']}" for k in CON_KA])
def test_consistency_known_answer_is_produced_and_verified(ka: dict[str, Any]) -> None:
    """M7, M11: proofgen's RFC 6962 consistency proofs."""
    m, n = ka["size1"], ka["size2"]
    want = [bytes.fromhex(x) for x in ka["proof"]]
    assert list(producer.consistency_proof(m, LEAVES[:n])) == want
    assert list(producer.MerkleTree(LEAVES).consistency_proof(m, n)) == want
    producer.verify_consistency(m, n, ROOTS[m], ROOTS[n], want)
    auditor.verify_consistency(m, n, ROOTS[m], ROOTS[n], want)
