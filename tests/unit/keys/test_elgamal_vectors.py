"""The committed ElGamal vectors (spec/vectors/elgamal/, spec/remote-v2-crypto.md §11).

Every case gives exactly its expected outcome with keys.elgamal, and the generator writes the
committed bytes again (`--check`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keys import elgamal as eg

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "elgamal"
CASES = sorted(str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*.json"))


def _run(case: dict[str, Any]) -> dict[str, Any]:
    kind = case["kind"]
    if kind == "point":
        eg.parse_point(
            bytes.fromhex(case["encoding"]), field="p", allow_identity=case["allow_identity"]
        )
        return {"ok": True}
    if kind == "scalar":
        eg.parse_scalar(bytes.fromhex(case["encoding"]), field="s")
        return {"ok": True}
    key = eg.parse_threshold_key(case["key"])
    if kind == "share":
        share = eg.KeyShare.from_bytes(index=case["index"], data=base64.b64decode(case["share"]))
        eg.verify_share(key, share)
        return {"ok": True}
    election = bytes.fromhex(case["election_id"])
    if kind == "post":
        ctx = eg.ProofContext(
            election_id=election,
            public_key=key.public_key,
            token=base64.b64decode(case["token"]),
            post=case["post"],
        )
        post = eg.parse_encrypted_post(case["ballot"], choices=case["choices"], seats=case["seats"])
        eg.verify_post(ctx, post, choices=case["choices"], seats=case["seats"])
        return {"ok": True}
    assert kind == "decryption"
    total = eg.parse_ciphertext(base64.b64decode(case["total"]), field="total", allow_identity=True)
    partials = [eg.parse_partial_decryption(p, n=key.n) for p in case["partials"]]
    value = eg.combine_partials(
        key,
        total,
        partials,
        election_id=election,
        label=base64.b64decode(case["label"]),
        bound=case["bound"],
    )
    return {"ok": True, "total": value}


def test_the_vectors_cover_every_kind_and_the_issue_s_tamper_cases() -> None:
    kinds = {json.loads((VECTORS / c).read_text("utf-8"))["kind"] for c in CASES}
    assert kinds == {"point", "scalar", "share", "post", "decryption"}
    assert {
        "invalid/EG-5.3-choice-is-2.json",
        "invalid/EG-6.2-over-vote.json",
        "invalid/EG-8.3-wrong-partial.json",
        "invalid/EG-4.3-replayed-other-token.json",
        "invalid/EG-4.3-other-election.json",
    } <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_each_elgamal_vector_gives_its_expected_outcome(name: str) -> None:
    case = json.loads((VECTORS / name).read_text("utf-8"))
    expected = case["expected"]
    if "code" in expected:
        with pytest.raises(eg.ElGamalError) as e:
            _run(case)
        assert e.value.code == expected["code"], name
    else:
        assert _run(case) == expected, name


def test_the_elgamal_vectors_are_reproducible() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_elgamal_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
