"""check_ballot of a `remote-ballot/2` document (keys/remote_ballot.py, spec/remote-v2.md RV-3.5)
per second, against a bare loop of the same libsodium group operations.

    .venv/bin/python bench/bench_remote_ballot.py                  # 100 ballots, 3 rounds
    .venv/bin/python bench/bench_remote_ballot.py --ballots 20 --rounds 1 --disapprovals

The ballot: a committee post of 9 listed candidates and a write-in list of 10 (19 choices, 7
seats) and a secretary post of 2 listed candidates and a write-in list of 10 (12 choices, 1 seat);
with ``--disapprovals`` both posts carry RV-3.4's disapprovals. The libsodium calls one check
makes are counted once (bench_elgamal.count_calls wraps pysodium's functions); the baseline calls
exactly those functions, as many times each, on fixed valid inputs (bench_elgamal.baseline_loop).
Baseline and measured run alternate ``--rounds`` times; the round with the median ratio is
printed. Target (issue 16): within 1.3x of the baseline.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/ is on sys.path from here
from bench_elgamal import baseline_loop, count_calls  # noqa: E402

from keys import elgamal as eg  # noqa: E402
from keys import remote_ballot as rb  # noqa: E402

ELECTION = b"\x5e" * 32
WRITE_IN_LIST = 10


def _context(disapprovals: bool) -> rb.BallotContext:
    key, _ = eg.generate_threshold_key(k=2, n=3)
    return rb.BallotContext(
        election_id=ELECTION,
        key=key,
        posts=(
            rb.PostShape(
                "committee",
                listed=9,
                choices=9 + WRITE_IN_LIST,
                seats=7,
                disapprovals=disapprovals,
            ),
            rb.PostShape(
                "secretary",
                listed=2,
                choices=2 + WRITE_IN_LIST,
                seats=1,
                disapprovals=disapprovals,
            ),
        ),
    )


def _vote(rng: secrets.SystemRandom, shape: rb.PostShape) -> rb.PostChoice:
    """Random valid marks: listed approvals, then × marks, then at most that many write-ins."""
    approvals = [0] * shape.choices
    listed_ones = rng.sample(range(shape.listed), rng.randint(0, min(shape.seats, shape.listed)))
    for i in listed_ones:
        approvals[i] = 1
    room = shape.seats - len(listed_ones)
    marks = rng.randint(0, shape.listed - len(listed_ones)) if shape.disapprovals else 0
    cap = min(room, marks) if shape.disapprovals else room
    for j in rng.sample(range(shape.listed, shape.choices), rng.randint(0, cap)):
        approvals[j] = 1
    return rb.PostChoice(tuple(approvals), marks)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--disapprovals", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here (bench/run_all.py)")
    args = parser.parse_args()

    rng = secrets.SystemRandom()
    ctx = _context(args.disapprovals)
    tokens = [secrets.token_bytes(32) for _ in range(args.ballots)]
    docs = [
        json.loads(json.dumps(rb.encrypt_ballot(ctx, t, [_vote(rng, s) for s in ctx.posts])))
        for t in tokens
    ]
    ops = count_calls(lambda: rb.check_ballot(ctx, docs[0], token=tokens[0]))
    n = args.ballots
    rounds = []
    for r in range(args.rounds):
        base = baseline_loop(ops, n)
        t0 = time.perf_counter()
        for t, d in zip(tokens, docs, strict=True):
            rb.check_ballot(ctx, d, token=t)
        elapsed = time.perf_counter() - t0
        rounds.append({"check_ms": 1000 * elapsed / n, "base_ms": 1000 * base / n})
        x = rounds[-1]
        print(
            f"round {r + 1}: check_ballot {x['check_ms']:.2f} ms (bare {x['base_ms']:.2f}) "
            "per ballot",
            flush=True,
        )
    ratios = [x["check_ms"] / x["base_ms"] for x in rounds]
    median = rounds[ratios.index(statistics.median_low(ratios))]
    out: dict[str, Any] = {
        "ballots": n,
        "rounds": args.rounds,
        "disapprovals": args.disapprovals,
        "posts": [[s.post, s.listed, s.choices, s.seats] for s in ctx.posts],
        "check_ops": sum(ops.values()),
        "check_ops_by_function": dict(sorted(ops.items())),
        "ballot_jcs_bytes": len(rb._jcs(docs[0])),
        "ratios": ratios,
        "ballots_per_second": 1000 / median["check_ms"],
        "base_ballots_per_second": 1000 / median["base_ms"],
        **median,
    }
    print(
        f"\n{n} ballots: committee 9 listed + {WRITE_IN_LIST} write-in (7 seats), secretary 2 "
        f"listed + {WRITE_IN_LIST} write-in (1 seat), disapprovals {args.disapprovals}; "
        f"{out['ballot_jcs_bytes']} JCS bytes each"
    )
    print(f"libsodium calls per check: {out['check_ops']}")
    for name, c in out["check_ops_by_function"].items():
        print(f"  {name} x{c}")
    print(
        f"check_ballot: {median['check_ms']:.2f} ms/ballot = {out['ballots_per_second']:.0f}/s; "
        f"bare loop of its calls {median['base_ms']:.2f} ms = "
        f"{out['base_ballots_per_second']:.0f}/s ({median['check_ms'] / median['base_ms']:.2f}x, "
        f"target 1.3x); ratios of the rounds {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    figures.write(args.json, out)


if __name__ == "__main__":
    main()
