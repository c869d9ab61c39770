"""Remote ballots v2 made in the page's bundle (web/remote/src/ballot2.js) against Python, in real
chromium (spec/remote-v2.md §3).

* A ballot the page refuses to make — a choice of 2, an over-vote, more write-ins than × marks — is
  crafted with the bundle's cheating prover (``elgamalTesting``) and refused by Python's check;
* a ``remote-ballot/2`` encrypted and proven in the page passes Python's check (RV-3.5), with and
  without the disapproval proofs of RV-3.4, and its receipt is RV-3.6's;
* its choices and its × count decrypt (threshold, keys.elgamal) to what the page encrypted;
* every ballot vector of spec/vectors/remote-v2/ gives its expected outcome in the page's own
  checker (``verifyBallotV2``: the receipt, or the refusal's code).

Python's check is ``keys.remote_ballot.check_ballot`` (tests/helpers/remote_ballot_v2.py).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import keys
from keys import elgamal as eg
from tests.helpers.bundle_server import serve_bundle
from tests.helpers.remote_ballot_v2 import (
    Shape,
    check_ballot_v2,
    decrypt_count,
    js_context,
    receipt_of,
)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>ballot v2 interop</title>
<script type="module" src="/boot.js"></script></head><body>远程选票第 2 版互通测试</body></html>
"""
BOOT = """import * as rc from './remote-crypto.js';
window.rc = rc;
await rc.elgamalReady();
document.body.dataset.ready = 'yes';
"""
ENCRYPT = """
async ([ctx, token, choices, unchecked]) => {
  try {
    const f = unchecked ? window.rc.elgamalTesting.encryptBallotUnchecked : window.rc.encryptBallotV2;
    return await f(ctx, token, choices);
  } catch (e) {
    return { code: e.code ?? String(e), zh: e.zh, en: e.en };
  }
}
"""
VERIFY = """
async ([ctx, ballot, token]) => {
  try {
    return { receipt: await window.rc.verifyBallotV2(ctx, ballot, { token }) };
  } catch (e) {
    return { code: e.code ?? String(e) };
  }
}
"""

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors" / "remote-v2"
BALLOT_CASES = sorted(
    str(p.relative_to(VECTORS))
    for p in VECTORS.rglob("*.json")
    if json.loads(p.read_text("utf-8"))["kind"] in {"ballot", "totals"}
)

# The 9+2 ballot with write-in lists of 10 (the benchmark's shape), and a deputy secretary post.
PLAIN = (
    Shape("committee", 9, 19, 7, False),
    Shape("secretary", 2, 12, 1, False),
)
RULED = (
    Shape("committee", 9, 19, 7, True),
    Shape("secretary", 2, 12, 1, True),
    Shape("deputy_secretary", 0, 3, 1, True),
)


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    with serve_bundle(PAGE, BOOT) as address:
        context = browser.new_context()
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        try:
            pg.goto(address)
            pg.wait_for_selector("body[data-ready]", state="attached", timeout=15_000)
            assert pg.evaluate("document.body.dataset.ready") == "yes", errors
            yield pg
        finally:
            context.close()


@pytest.fixture(scope="module")
def key() -> tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]:
    return eg.generate_threshold_key(k=2, n=3)


def _approvals(choices: int, ones: set[int]) -> list[int]:
    return [1 if i in ones else 0 for i in range(choices)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _make(
    page: Any,
    key: eg.ThresholdKey,
    shapes: tuple[Shape, ...],
    choices: list[dict[str, Any]],
    *,
    unchecked: bool = False,
) -> tuple[bytes, bytes, dict[str, Any]]:
    election, token = secrets.token_bytes(32), secrets.token_bytes(32)
    out = page.evaluate(
        ENCRYPT, [js_context(election, key, shapes), _b64(token), choices, unchecked]
    )
    return election, token, out


# ----------------------------------------------------------------------------- refusals first


@pytest.mark.parametrize(
    ("case", "shapes", "choices", "code"),
    [
        (
            "a choice of 2",
            PLAIN,
            [{"approvals": [2] + [0] * 18}, {"approvals": _approvals(12, {0})}],
            "elgamal.choice_proof",
        ),
        (
            "an over-vote of 8 for 7 seats (write-ins included)",
            PLAIN,
            [{"approvals": _approvals(19, {0, 1, 2, 3, 4, 5, 10, 11})}, {"approvals": [0] * 12}],
            "elgamal.sum_proof",
        ),
        (
            "two approvals for the 1 seat of the secretary",
            PLAIN,
            [{"approvals": [0] * 19}, {"approvals": _approvals(12, {0, 5})}],
            "elgamal.sum_proof",
        ),
        (
            "two write-ins with one × mark under write_in_requires_disapproval",
            RULED,
            [
                {"approvals": _approvals(19, {0, 12, 13}), "disapprovals": 1},
                {"approvals": [0] * 12, "disapprovals": 0},
                {"approvals": [0] * 3, "disapprovals": 0},
            ],
            "elgamal.choice_proof",
        ),
        (
            "approvals plus × marks beyond the listed candidates (RV-3.4 room)",
            RULED,
            [
                {"approvals": _approvals(19, {0, 1, 2}), "disapprovals": 7},
                {"approvals": [0] * 12, "disapprovals": 0},
                {"approvals": [0] * 3, "disapprovals": 0},
            ],
            "elgamal.choice_proof",
        ),
    ],
)
def test_python_refuses_a_ballot_the_page_would_not_make(
    page: Any,
    key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]],
    case: str,
    shapes: tuple[Shape, ...],
    choices: list[dict[str, Any]],
    code: str,
) -> None:
    public, _ = key
    # The page's own encryptor refuses it before computing anything ...
    refused = _make(page, public, shapes, choices)[2]
    assert refused["code"] == "elgamal.parameters", (case, refused)
    # ... and the same plaintexts forced through the cheating prover are refused by Python.
    election, token, crafted = _make(page, public, shapes, choices, unchecked=True)
    assert set(crafted) == {"ballot", "receipt"}, crafted
    with pytest.raises(keys.KeysError) as caught:
        check_ballot_v2(election, public, shapes, crafted["ballot"], token=token)
    assert getattr(caught.value, "code", None) == code, case


def test_a_page_ballot_is_refused_for_another_credential_or_election(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    choices = [{"approvals": _approvals(19, {1, 15})}, {"approvals": _approvals(12, {11})}]
    election, token, made = _make(page, public, PLAIN, choices)
    ballot = made["ballot"]
    with pytest.raises(keys.KeysError) as other_token:
        check_ballot_v2(election, public, PLAIN, ballot, token=secrets.token_bytes(32))
    assert getattr(other_token.value, "code", None) == "remote.token_mismatch"
    with pytest.raises(keys.KeysError):
        check_ballot_v2(secrets.token_bytes(32), public, PLAIN, ballot, token=token)
    # The page's own checker agrees (the service's rules, RV-3.5).
    ctx = js_context(election, public, PLAIN)
    assert page.evaluate(VERIFY, [ctx, ballot, _b64(token)]) == {"receipt": made["receipt"]}
    assert page.evaluate(VERIFY, [ctx, ballot, _b64(secrets.token_bytes(32))]) == {
        "code": "remote.token_mismatch"
    }


# ----------------------------------------------------------------------------- JS -> Python


def test_a_9_plus_2_ballot_with_write_in_lists_made_in_the_page_passes_python_check(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, shares = key
    # Committee: 5 listed approved and 2 write-ins (positions 9.. are the write-in list): 7 seats.
    committee = {0, 2, 3, 5, 8, 9, 18}
    choices = [{"approvals": _approvals(19, committee)}, {"approvals": _approvals(12, {4})}]
    election, token, made = _make(page, public, PLAIN, choices)
    ballot = made["ballot"]
    assert set(ballot) == {"format", "election_id", "token", "posts"}
    assert ballot["format"] == "remote-ballot/2" and ballot["election_id"] == election.hex()
    assert ballot["token"] == _b64(token)
    assert [set(p) for p in ballot["posts"]] == [
        {"post", "choices", "choice_proofs", "sum_proof"}
    ] * 2
    receipt = check_ballot_v2(election, public, PLAIN, ballot, token=token)
    assert receipt == made["receipt"] == receipt_of(ballot)
    decrypted = [
        decrypt_count(public, shares, election, ct, bound=1) for ct in ballot["posts"][0]["choices"]
    ]
    assert decrypted == choices[0]["approvals"]


def test_disapproval_proofs_made_in_the_page_pass_python_check_RV_3_4(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, shares = key
    # Committee: 4 approved, 3 marked × and 3 write-ins (W = D); secretary: one × and no write-in;
    # deputy secretary, no listed candidate: nothing marked, nothing written in.
    choices = [
        {"approvals": _approvals(19, {0, 1, 2, 3, 9, 14, 18}), "disapprovals": 3},
        {"approvals": [0] * 12, "disapprovals": 1},
        {"approvals": [0] * 3, "disapprovals": 0},
    ]
    election, token, made = _make(page, public, RULED, choices)
    ballot = made["ballot"]
    for post, shape in zip(ballot["posts"], RULED, strict=True):
        assert set(post["disapprovals"]) == {"count", "count_proof", "room_proof", "write_in_proof"}
        for proof in ("count_proof", "room_proof", "write_in_proof"):
            assert len(base64.b64decode(post["disapprovals"][proof])) == 64 * (shape.listed + 1)
    assert check_ballot_v2(election, public, RULED, ballot, token=token) == made["receipt"]
    counts = [
        decrypt_count(public, shares, election, p["disapprovals"]["count"], bound=9)
        for p in ballot["posts"]
    ]
    assert counts == [3, 1, 0]
    # Without its disapprovals the ballot is not a ballot of this election.
    stripped = {
        **ballot,
        "posts": [{k: v for k, v in p.items() if k != "disapprovals"} for p in ballot["posts"]],
    }
    with pytest.raises(keys.KeysError):
        check_ballot_v2(election, public, RULED, stripped, token=token)


# ----------------------------------------------------------------------------- the vectors


def _vector_ctx(case: dict[str, Any]) -> dict[str, Any]:
    return {"electionId": case["election_id"], "key": case["key"], "posts": case["posts"]}


def test_the_remote_v2_vectors_hold_valid_and_invalid_ballots() -> None:
    assert any(c.startswith("valid/") for c in BALLOT_CASES)
    assert sum(c.startswith("invalid/") for c in BALLOT_CASES) >= 15


@pytest.mark.parametrize("name", BALLOT_CASES)
def test_each_remote_v2_ballot_vector_gives_its_expected_outcome_in_the_page(
    page: Any, name: str
) -> None:
    case = json.loads((VECTORS / name).read_text("utf-8"))
    ctx = _vector_ctx(case)
    if case["kind"] == "totals":
        for b in case["ballots"]:
            out = page.evaluate(VERIFY, [ctx, b["ballot"], b["cast_token"]])
            assert set(out) == {"receipt"}, out
        return
    out = page.evaluate(VERIFY, [ctx, case["ballot"], case["cast_token"]])
    expected = case["expected"]
    if expected.get("ok"):
        assert out == {"receipt": expected["receipt"]}, name
    else:
        assert out == {"code": expected["code"]}, name
