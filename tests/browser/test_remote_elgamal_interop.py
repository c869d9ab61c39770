"""Remote ballots v2 in the page's bundle (web/remote/src/elgamal.js) against keys.elgamal, in real
chromium (spec/remote-v2-crypto.md).

The built bundle is served from a throwaway http.server on 127.0.0.1 with the service's CSP plus
'wasm-unsafe-eval' (ADR 0007), as in test_remote_crypto_interop.py, and driven through Playwright:

* every case of spec/vectors/elgamal/ gives its expected outcome in JS (valid ones verify, invalid
  ones are refused with their error code);
* a ballot encrypted and proven in JS verifies with keys.elgamal, and its threshold decryption
  gives back the approvals the page encrypted;
* a ballot made by keys.elgamal verifies in JS, and is refused for another credential;
* the page refuses to produce an over-vote (or a choice other than 0/1).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keys import elgamal as eg
from tests.helpers.bundle_server import serve_bundle

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "elgamal"
CASES = sorted(str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*.json"))

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>elgamal interop</title>
<script type="module" src="/boot.js"></script></head><body>远程选票加密互通测试</body></html>
"""
BOOT = """import * as rc from './remote-crypto.js';
window.rc = rc;
await rc.elgamalReady();
document.body.dataset.ready = 'yes';
"""

# One vector case in the page: {ok: true[, total]} or {code} (the ElGamalError's spec code).
RUN_CASE = """
async (c) => {
  const rc = window.rc;
  const run = async () => {
    if (c.kind === 'point') {
      rc.parsePoint(rc.fromHex(c.encoding), 'p', c.allow_identity);
      return { ok: true };
    }
    if (c.kind === 'scalar') {
      rc.parseScalar(rc.fromHex(c.encoding), 's');
      return { ok: true };
    }
    const key = await rc.parseThresholdKey(c.key);
    if (c.kind === 'share') {
      await rc.verifyShare(c.key, c.index, c.share);
      return { ok: true };
    }
    if (c.kind === 'post') {
      const ctx = { electionId: c.election_id, publicKey: key.publicKey, token: c.token, post: c.post };
      await rc.verifyPost(ctx, c.ballot, { choices: c.choices, seats: c.seats });
      return { ok: true };
    }
    const total = await rc.combinePartials(c.key, {
      electionId: c.election_id, label: c.label, total: c.total, partials: c.partials, bound: c.bound,
    });
    return { ok: true, total };
  };
  try {
    return await run();
  } catch (e) {
    return { code: e instanceof rc.ElGamalError ? e.code : `not an ElGamalError: ${e}` };
  }
}
"""

ENCRYPT = """
async ([ctx, approvals, seats]) => {
  try {
    return await window.rc.encryptPost(ctx, approvals, { seats });
  } catch (e) {
    return { code: e.code ?? String(e), zh: e.zh, en: e.en };
  }
}
"""

VERIFY = """
async ([ctx, doc, choices, seats]) => {
  try {
    await window.rc.verifyPost(ctx, doc, { choices, seats });
    return { ok: true };
  } catch (e) {
    return { code: e.code ?? String(e), index: e.index ?? null };
  }
}
"""


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    """One chromium page on http://127.0.0.1 with the bundle loaded as ``window.rc``."""
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def key() -> tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]:
    return eg.generate_threshold_key(k=2, n=3)


def _js_context(election: bytes, public_key: bytes, token: bytes, post: str) -> dict[str, str]:
    return {
        "electionId": election.hex(),
        "publicKey": _b64(public_key),
        "token": _b64(token),
        "post": post,
    }


def _decrypt_choices(
    key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]],
    election: bytes,
    posts: list[eg.EncryptedPost],
    *,
    choices: int,
) -> list[int]:
    """Threshold-decrypt each choice's total over ``posts`` with scrutineers 1 and 3."""
    public, shares = key
    totals = eg.tally_posts(posts, choices=choices)
    out = []
    for i, total in enumerate(totals):
        label = eg.tally_label(posts[0].post, i)
        partials = [
            eg.partial_decrypt(s, public, total, election_id=election, label=label)
            for s in (shares[0], shares[2])
        ]
        out.append(
            eg.combine_partials(
                public, total, partials, election_id=election, label=label, bound=len(posts)
            )
        )
    return out


# ----------------------------------------------------------------------------- the vectors


@pytest.fixture(scope="module")
def js_outcomes(page: Any) -> dict[str, Any]:
    """Every vector case run in the page (one evaluate per case, a few ms each)."""
    return {
        name: page.evaluate(RUN_CASE, json.loads((VECTORS / name).read_text("utf-8")))
        for name in CASES
    }


def test_the_vectors_hold_both_valid_and_invalid_cases_of_every_kind() -> None:
    kinds = {
        (name.split("/")[0], json.loads((VECTORS / name).read_text("utf-8"))["kind"])
        for name in CASES
    }
    assert {k for _, k in kinds} == {"point", "scalar", "share", "post", "decryption"}
    assert {v for v, _ in kinds} == {"valid", "invalid"}


@pytest.mark.parametrize("name", CASES)
def test_each_elgamal_vector_gives_its_expected_outcome_in_the_page(
    js_outcomes: dict[str, Any], name: str
) -> None:
    expected = json.loads((VECTORS / name).read_text("utf-8"))["expected"]
    if "code" in expected:
        assert js_outcomes[name] == {"code": expected["code"]}, name
    else:
        assert js_outcomes[name] == expected, name


# ----------------------------------------------------------------------------- JS -> Python


def test_a_ballot_encrypted_in_the_page_verifies_with_keys_elgamal_and_decrypts_to_its_choices(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    election = secrets.token_bytes(32)
    # Three ballots for a 9-candidate committee with 7 seats: full, partial, empty.
    votes = [[1, 1, 1, 1, 1, 1, 1, 0, 0], [0, 1, 0, 0, 1, 0, 0, 0, 1], [0] * 9]
    posts = []
    for approvals in votes:
        token = secrets.token_bytes(32)
        ctx = _js_context(election, public.public_key, token, "committee")
        doc = page.evaluate(ENCRYPT, [ctx, approvals, 7])
        assert set(doc) == {"post", "choices", "choice_proofs", "sum_proof"}, doc
        assert len(base64.b64decode(doc["sum_proof"])) == 64 * 8
        context = eg.ProofContext(
            election_id=election, public_key=public.public_key, token=token, post="committee"
        )
        post = eg.parse_encrypted_post(json.loads(json.dumps(doc)), choices=9, seats=7)
        posts.append(eg.verify_post(context, post, choices=9, seats=7))
        # Bound to its credential: the same post under another token does not verify.
        other = eg.ProofContext(
            election_id=election,
            public_key=public.public_key,
            token=secrets.token_bytes(32),
            post="committee",
        )
        with pytest.raises(eg.ChoiceProofError):
            eg.verify_post(other, post, choices=9, seats=7)
    assert _decrypt_choices(key, election, posts, choices=9) == [
        sum(c) for c in zip(*votes, strict=True)
    ]


def test_a_secretary_ballot_encrypted_in_the_page_verifies_with_keys_elgamal(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    election = secrets.token_bytes(32)
    posts = []
    for approvals in ([0, 1], [1, 0], [0, 0]):
        token = secrets.token_bytes(32)
        doc = page.evaluate(
            ENCRYPT, [_js_context(election, public.public_key, token, "secretary"), approvals, 1]
        )
        context = eg.ProofContext(
            election_id=election, public_key=public.public_key, token=token, post="secretary"
        )
        post = eg.parse_encrypted_post(doc, choices=2, seats=1)
        posts.append(eg.verify_post(context, post, choices=2, seats=1))
    assert _decrypt_choices(key, election, posts, choices=2) == [1, 1]


# ----------------------------------------------------------------------------- Python -> JS


def test_a_ballot_made_by_keys_elgamal_verifies_in_the_page_and_only_for_its_credential(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    election, token = secrets.token_bytes(32), secrets.token_bytes(32)
    for post, approvals, seats in (
        ("committee", [1, 0, 1, 1, 0, 0, 1, 1, 1], 7),
        ("secretary", [0, 1], 1),
        ("secretary", [0, 0], 1),
    ):
        context = eg.ProofContext(
            election_id=election, public_key=public.public_key, token=token, post=post
        )
        doc = eg.encrypt_post(context, approvals, seats=seats).to_json()
        ctx = _js_context(election, public.public_key, token, post)
        assert page.evaluate(VERIFY, [ctx, doc, len(approvals), seats]) == {"ok": True}
        replayed = _js_context(election, public.public_key, secrets.token_bytes(32), post)
        assert page.evaluate(VERIFY, [replayed, doc, len(approvals), seats]) == {
            "code": "elgamal.choice_proof",
            "index": 0,
        }
        other_election = _js_context(secrets.token_bytes(32), public.public_key, token, post)
        assert page.evaluate(VERIFY, [other_election, doc, len(approvals), seats])["code"] == (
            "elgamal.choice_proof"
        )


# ----------------------------------------------------------------------------- refusals


def test_the_page_refuses_to_encrypt_an_over_vote_or_a_choice_other_than_0_or_1(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    ctx = _js_context(secrets.token_bytes(32), public.public_key, secrets.token_bytes(32), "x")
    over = page.evaluate(ENCRYPT, [{**ctx, "post": "secretary"}, [1, 1], 1])
    assert over["code"] == "elgamal.parameters"
    assert "超过应选人数" in over["zh"] and "over-vote" in over["en"]
    assert page.evaluate(ENCRYPT, [ctx, [1] * 8 + [0], 7])["code"] == "elgamal.parameters"
    assert page.evaluate(ENCRYPT, [ctx, [2, 0], 1])["code"] == "elgamal.parameters"
    assert page.evaluate(ENCRYPT, [ctx, [1, 0], 0])["code"] == "elgamal.parameters"
    # Exactly the seats is not an over-vote.
    assert set(page.evaluate(ENCRYPT, [ctx, [1] * 7 + [0, 0], 7])) == {
        "post",
        "choices",
        "choice_proofs",
        "sum_proof",
    }


TRACE = """
async ([ctx, approvals, seats]) => window.rc.elgamalBench.trace(
  () => window.rc.encryptPost(ctx, approvals, { seats, check: false }),
)
"""


def test_the_page_prover_makes_the_same_libsodium_calls_whatever_the_choices(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    """The real alternative of each disjunctive proof is not picked by a branch (ADR
    0025-page-elgamal): the sequence of libsodium calls is the same for any approvals."""
    public, _ = key
    ctx = _js_context(
        secrets.token_bytes(32), public.public_key, secrets.token_bytes(32), "committee"
    )
    traces = [
        page.evaluate(TRACE, [ctx, approvals, 7])
        for approvals in ([0] * 9, [1] * 7 + [0, 0], [0, 1, 0, 0, 1, 0, 0, 0, 1], [0] * 8 + [1])
    ]
    assert len(traces[0]) > 500
    assert all(t == traces[0] for t in traces[1:])


def test_the_page_refuses_malformed_post_documents_with_the_spec_codes(
    page: Any, key: tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]
) -> None:
    public, _ = key
    election, token = secrets.token_bytes(32), secrets.token_bytes(32)
    context = eg.ProofContext(
        election_id=election, public_key=public.public_key, token=token, post="secretary"
    )
    doc = eg.encrypt_post(context, [1, 0], seats=1).to_json()
    ctx = _js_context(election, public.public_key, token, "secretary")

    def code(d: Any, c: dict[str, Any] = ctx) -> Any:
        return page.evaluate(VERIFY, [c, d, 2, 1])["code"]

    assert code({**doc, "extra": 1}) == "elgamal.encoding"
    assert code({k: v for k, v in doc.items() if k != "sum_proof"}) == "elgamal.encoding"
    assert code({**doc, "choices": doc["choices"][0]}) == "elgamal.encoding"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    first = doc["choices"][0]  # 64 bytes: "...x==", x carrying 2 bits and 4 zero bits
    stray = first[:-3] + alphabet[alphabet.index(first[-3]) | 1] + "=="
    assert base64.b64decode(stray) == base64.b64decode(first)
    assert code({**doc, "choices": [stray, doc["choices"][1]]}) == "elgamal.encoding"
    assert code({**doc, "choice_proofs": doc["choice_proofs"][:1]}) == "elgamal.wrong_shape"
    assert code({**doc, "sum_proof": _b64(b"\x00" * 64 * 3)}) == "elgamal.proof_length"
    assert code(doc, {**ctx, "electionId": election.hex().upper()}) == "elgamal.parameters"
    assert code(doc, {**ctx, "token": _b64(token[:31])}) == "elgamal.parameters"
    assert code(doc, {**ctx, "publicKey": _b64(bytes(32))}) == "elgamal.identity"
