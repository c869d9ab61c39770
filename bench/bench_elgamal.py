"""Remote ballot v2 proofs (keys/elgamal/): creation and verification per ballot, against a bare
loop of the same libsodium group operations.

    .venv/bin/python bench/bench_elgamal.py                 # 100 ballots, 3 rounds
    .venv/bin/python bench/bench_elgamal.py --ballots 50 --rounds 1

A ballot is a 9-candidate committee post with 7 seats plus a 2-candidate secretary post with 1 seat
(spec/remote-v2-crypto.md §5-§6: a 0/1 proof per choice and a sum proof per post). The libsodium
calls that creating and verifying one ballot make are counted once (by wrapping pysodium's
functions); the baseline then calls exactly those functions, as many times each, on fixed valid
inputs, with nothing else in the loop. Baseline and measured run alternate ``--rounds`` times in the
same process; the round with the median ratio is printed. Target (issue 16, for the integration):
verification within 1.3x of its baseline.
"""

from __future__ import annotations

import argparse
import collections
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/ is on sys.path from here
import pysodium  # noqa: E402

from keys import elgamal as eg  # noqa: E402
from verifier import remote_v2 as vr  # noqa: E402

POSTS = (("committee", 9, 7), ("secretary", 2, 1))
ELECTION = b"\x5e" * 32
GROUP_FUNCTIONS = (
    "crypto_core_ristretto255_add",
    "crypto_core_ristretto255_sub",
    "crypto_core_ristretto255_is_valid_point",
    "crypto_core_ristretto255_scalar_add",
    "crypto_core_ristretto255_scalar_sub",
    "crypto_core_ristretto255_scalar_mul",
    "crypto_core_ristretto255_scalar_reduce",
    "crypto_scalarmult_ristretto255",
    "crypto_scalarmult_ristretto255_base",
)


def _approvals(rng: secrets.SystemRandom, choices: int, seats: int) -> list[int]:
    ones = set(rng.sample(range(choices), rng.randint(0, seats)))
    return [1 if i in ones else 0 for i in range(choices)]


def _contexts(key: eg.ThresholdKey, token: bytes) -> list[eg.ProofContext]:
    return [
        eg.ProofContext(election_id=ELECTION, public_key=key.public_key, token=token, post=post)
        for post, _, _ in POSTS
    ]


def make_ballot(key: eg.ThresholdKey, token: bytes, votes: list[list[int]]) -> list[dict[str, Any]]:
    """Encrypt and prove one ballot; the JSON form, as the page will send it."""
    return [
        eg.encrypt_post(ctx, v, seats=seats).to_json()
        for ctx, v, (_, _, seats) in zip(_contexts(key, token), votes, POSTS, strict=True)
    ]


def verify_ballot(key: eg.ThresholdKey, token: bytes, ballot: list[dict[str, Any]]) -> None:
    """Parse and verify one ballot, as the service and the verifier will."""
    for ctx, doc, (_, choices, seats) in zip(_contexts(key, token), ballot, POSTS, strict=True):
        post = eg.parse_encrypted_post(doc, choices=choices, seats=seats)
        eg.verify_post(ctx, post, choices=choices, seats=seats)


def count_calls(fn: Callable[[], object]) -> collections.Counter[str]:
    """How many times ``fn`` calls each libsodium group function (pysodium wrapped meanwhile)."""
    counts: collections.Counter[str] = collections.Counter()
    originals = {name: getattr(pysodium, name) for name in GROUP_FUNCTIONS}

    def wrap(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            counts[name] += 1
            return f(*args)

        return counted

    try:
        for name, f in originals.items():
            setattr(pysodium, name, wrap(name, f))
        fn()
    finally:
        for name, f in originals.items():
            setattr(pysodium, name, f)
    return counts


def baseline_loop(counts: collections.Counter[str], repeat: int) -> float:
    """Seconds for ``repeat`` times the counted calls, on fixed valid inputs, nothing else."""
    s = pysodium.crypto_core_ristretto255_scalar_reduce(secrets.token_bytes(64))
    t = pysodium.crypto_core_ristretto255_scalar_reduce(secrets.token_bytes(64))
    p = pysodium.crypto_scalarmult_ristretto255_base(s)
    q = pysodium.crypto_scalarmult_ristretto255_base(t)
    wide = secrets.token_bytes(64)
    args: dict[str, tuple[bytes, ...]] = {
        "crypto_core_ristretto255_add": (p, q),
        "crypto_core_ristretto255_sub": (p, q),
        "crypto_core_ristretto255_is_valid_point": (p,),
        "crypto_core_ristretto255_scalar_add": (s, t),
        "crypto_core_ristretto255_scalar_sub": (s, t),
        "crypto_core_ristretto255_scalar_mul": (s, t),
        "crypto_core_ristretto255_scalar_reduce": (wide,),
        "crypto_scalarmult_ristretto255": (s, p),
        "crypto_scalarmult_ristretto255_base": (s,),
    }
    plan = [(getattr(pysodium, name), args[name], n * repeat) for name, n in counts.items()]
    start = time.perf_counter()
    for f, a, n in plan:
        for _ in range(n):
            f(*a)
    return time.perf_counter() - start


def verifier_verify_ballot(
    key: vr.ThresholdKey, token: bytes, ballot: list[dict[str, Any]]
) -> None:
    """Parse and verify one ballot with the verifier's own implementation (verifier.remote_v2)."""
    for doc, (post, choices, seats) in zip(ballot, POSTS, strict=True):
        statement = vr.make_statement(
            election_id=ELECTION,
            public_key=key.public_key,
            token=token,
            post=post,
            choices=choices,
            seats=seats,
        )
        vr.verify_post_json(statement, doc)


def bench_verifier(
    key_json: dict[str, Any], tokens: list[bytes], ballots: list[list[dict[str, Any]]], rounds: int
) -> dict[str, Any]:
    """The verifier's per-ballot verification against a bare loop of the libsodium calls it makes
    (counted the same way as the producer's), alternating ``rounds`` times; the median round."""
    key = vr.parse_threshold_key(key_json)
    ops = count_calls(lambda: verifier_verify_ballot(key, tokens[0], ballots[0]))
    n = len(ballots)
    results = []
    for r in range(rounds):
        base = baseline_loop(ops, n)
        t0 = time.perf_counter()
        for tok, b in zip(tokens, ballots, strict=True):
            verifier_verify_ballot(key, tok, b)
        elapsed = time.perf_counter() - t0
        results.append({"verifier_ms": 1000 * elapsed / n, "base_verifier_ms": 1000 * base / n})
        x = results[-1]
        print(
            f"round {r + 1}: verifier {x['verifier_ms']:.2f} ms "
            f"(bare {x['base_verifier_ms']:.2f}) per ballot",
            flush=True,
        )
    ratios = [x["verifier_ms"] / x["base_verifier_ms"] for x in results]
    median = results[ratios.index(statistics.median_low(ratios))]
    return {
        "verifier_ops": sum(ops.values()),
        "verifier_ops_by_function": dict(sorted(ops.items())),
        "verifier_ratios": ratios,
        **median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here (bench/run_all.py)")
    args = parser.parse_args()

    rng = secrets.SystemRandom()
    key, _ = eg.generate_threshold_key(k=2, n=3)
    tokens = [secrets.token_bytes(32) for _ in range(args.ballots)]
    votes = [[_approvals(rng, c, s) for _, c, s in POSTS] for _ in tokens]
    sample = make_ballot(key, tokens[0], votes[0])
    make_ops = count_calls(lambda: make_ballot(key, tokens[0], votes[0]))
    verify_ops = count_calls(lambda: verify_ballot(key, tokens[0], sample))
    n = args.ballots

    rounds = []
    for r in range(args.rounds):
        base_make = baseline_loop(make_ops, n)
        t0 = time.perf_counter()
        ballots = [make_ballot(key, tok, v) for tok, v in zip(tokens, votes, strict=True)]
        make = time.perf_counter() - t0
        base_verify = baseline_loop(verify_ops, n)
        t0 = time.perf_counter()
        for tok, b in zip(tokens, ballots, strict=True):
            verify_ballot(key, tok, b)
        verify = time.perf_counter() - t0
        rounds.append(
            {
                "make_ms": 1000 * make / n,
                "base_make_ms": 1000 * base_make / n,
                "verify_ms": 1000 * verify / n,
                "base_verify_ms": 1000 * base_verify / n,
            }
        )
        x = rounds[-1]
        print(
            f"round {r + 1}: make {x['make_ms']:.2f} ms (bare {x['base_make_ms']:.2f}), "
            f"verify {x['verify_ms']:.2f} ms (bare {x['base_verify_ms']:.2f}) per ballot",
            flush=True,
        )
    ratios = [x["verify_ms"] / x["base_verify_ms"] for x in rounds]
    median = rounds[ratios.index(statistics.median_low(ratios))]
    out = {
        "ballots": n,
        "rounds": args.rounds,
        "posts": [list(p) for p in POSTS],
        "make_ops": sum(make_ops.values()),
        "verify_ops": sum(verify_ops.values()),
        "verify_ops_by_function": dict(sorted(verify_ops.items())),
        "ballot_bytes": sum(len(str(d)) for d in sample),
        "verify_ratios": ratios,
        **median,
    }
    print(f"\n{n} ballots, 9-candidate committee (7 seats) + 2-candidate secretary (1 seat)")
    print(f"libsodium calls per ballot: make {out['make_ops']}, verify {out['verify_ops']}")
    for name, c in out["verify_ops_by_function"].items():
        print(f"  verify: {name} x{c}")
    print(
        f"make:   {median['make_ms']:.2f} ms/ballot; bare loop of its calls "
        f"{median['base_make_ms']:.2f} ms ({median['make_ms'] / median['base_make_ms']:.2f}x)"
    )
    print(
        f"verify: {median['verify_ms']:.2f} ms/ballot; bare loop of its calls "
        f"{median['base_verify_ms']:.2f} ms ({median['verify_ms'] / median['base_verify_ms']:.2f}x)"
        f"; ratios of the rounds {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    ver = bench_verifier(key.to_json(), tokens, ballots, args.rounds)
    out.update(ver)
    print(
        f"verifier (verifier.remote_v2): {ver['verifier_ms']:.2f} ms/ballot, "
        f"{ver['verifier_ops']} libsodium calls; bare loop of its calls "
        f"{ver['base_verifier_ms']:.2f} ms ({ver['verifier_ms'] / ver['base_verifier_ms']:.2f}x)"
        f"; ratios of the rounds {', '.join(f'{r:.2f}' for r in ver['verifier_ratios'])}"
    )
    figures.write(args.json, out)


if __name__ == "__main__":
    main()
