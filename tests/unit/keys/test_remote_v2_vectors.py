"""The committed remote-ballot v2 vectors (spec/vectors/remote-v2/, spec/remote-v2.md §10).

Every case gives exactly its expected outcome with keys.remote_ballot and keys.remote_key; each valid
ballot decrypts (with its public test shares) to the approvals it says it encrypts; and the
generator writes the committed bytes again (`--check`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import keys
from keys import elgamal as eg
from keys import remote_ballot as rb
from keys import remote_key

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "remote-v2"
CASES = sorted(str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*.json"))


def _context(case: dict[str, Any]) -> rb.BallotContext:
    return rb.BallotContext(
        election_id=bytes.fromhex(case["election_id"]),
        key=eg.parse_threshold_key(case["key"]),
        posts=tuple(rb.PostShape(**p) for p in case["posts"]),
    )


def _decrypt(
    ctx: rb.BallotContext,
    totals: tuple[tuple[eg.Ciphertext, ...], ...],
    shares: list[dict[str, Any]],
    bound: int,
) -> list[list[int]]:
    key_shares = [
        eg.KeyShare.from_bytes(index=s["index"], data=base64.b64decode(s["share"])) for s in shares
    ]
    out = []
    for shape, post in zip(ctx.posts, totals, strict=True):
        row = []
        for i, ct in enumerate(post):
            label = eg.tally_label(shape.post, i)
            partials = [
                eg.partial_decrypt(s, ctx.key, ct, election_id=ctx.election_id, label=label)
                for s in key_shares[: ctx.key.k]
            ]
            row.append(
                eg.combine_partials(
                    ctx.key, ct, partials, election_id=ctx.election_id, label=label, bound=bound
                )
            )
        out.append(row)
    return out


def _run(case: dict[str, Any]) -> dict[str, Any]:
    kind = case["kind"]
    if kind == "share-container":
        data = case["container"].encode("utf-8")
        assert remote_key.share_commitment_v2(data) == case["commitment"]
        signer = keys.InMemorySigner.from_seed(
            keys.Role.SCRUTINEER, case["scrutineer_label"], bytes.fromhex(case["scrutineer_seed"])
        )
        share = remote_key.unwrap_share_v2(
            remote_key.parse_share_container_v2(data), signer, eg.parse_threshold_key(case["key"])
        )
        return {
            "ok": True,
            "index": share.index,
            "share": base64.b64encode(share.secret_bytes()).decode(),
        }
    ctx = _context(case)
    if kind == "ballot":
        checked = rb.check_ballot(ctx, case["ballot"], token=base64.b64decode(case["cast_token"]))
        return {"ok": True, "receipt": checked.receipt}
    assert kind == "totals"
    checked_all = [
        rb.check_ballot(ctx, b["ballot"], token=base64.b64decode(b["cast_token"]))
        for b in case["ballots"]
    ]
    totals = rb.encrypted_totals(ctx, checked_all)
    assert [[base64.b64encode(ct.to_bytes()).decode() for ct in p] for p in totals] == case[
        "encrypted_totals"
    ]
    assert _decrypt(ctx, totals, case["test_shares"], len(checked_all)) == case["totals"]
    return {"ok": True}


def test_the_vectors_cover_every_kind_and_the_task_s_hostile_cases() -> None:
    kinds = {json.loads((VECTORS / c).read_text("utf-8"))["kind"] for c in CASES}
    assert kinds == {"ballot", "totals", "share-container"}
    assert {
        "invalid/RV-3.1-posts-reordered.json",
        "invalid/RV-3.5-token-mismatch.json",
        "invalid/RV-3.4-write-in-beyond-marks.json",
        "invalid/RV-3.4-room.json",
        "invalid/EG-6.2-over-vote.json",
        "invalid/EG-5.3-choice-is-2.json",
        "invalid/EG-7.3-share-mismatch.json",
        "valid/ballot-disapprovals.json",
    } <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_each_remote_v2_vector_gives_its_expected_outcome(name: str) -> None:
    case = json.loads((VECTORS / name).read_text("utf-8"))
    expected = case["expected"]
    if "code" in expected:
        with pytest.raises(keys.KeysError) as e:
            _run(case)
        assert e.value.code == expected["code"], name
    else:
        assert _run(case) == expected, name


@pytest.mark.parametrize("name", [c for c in CASES if c.startswith("valid/ballot-")])
def test_each_valid_ballot_encrypts_the_approvals_it_names(name: str) -> None:
    case = json.loads((VECTORS / name).read_text("utf-8"))
    ctx = _context(case)
    checked = rb.check_ballot(ctx, case["ballot"], token=base64.b64decode(case["cast_token"]))
    assert checked.receipt == case["receipt"] == rb.ballot_receipt(case["ballot"])
    totals = rb.encrypted_totals(ctx, [checked])
    assert _decrypt(ctx, totals, case["test_shares"], 1) == case["approvals"]


def test_the_remote_v2_vectors_are_reproducible() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_remote_v2_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
