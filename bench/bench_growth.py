"""How the figures grow from 10^3 to 10^5 ballots (10^6: bench_verify.py), and the demo town.

    .venv/bin/python bench/bench_growth.py

For each size: the producer's entry rate, the time to publish, and the verifier's wall time and
peak memory on one core, each run in a fresh process so that peak memory is its own. A linear
cost shows as a flat rate; memory should stay flat. Also the demo town (20 branches) end to end.
The 10^5 bundle is bench_verify.py's, cached by the hash of its inputs (made by two processes,
as the 10^6 one: the session and a stock maker); its producer figures are those of the run that
made it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_verify
import figures

ROOT = Path(__file__).resolve().parents[1]
PRODUCE = """
import sys, time, json
sys.path.insert(0, "bench")
from pathlib import Path
from typing import Any
import synthetic
from tally.publish import publish
folder = Path(sys.argv[1])
s, _, seconds, n = synthetic.build(folder, runoffs=int(sys.argv[2]), members=int(sys.argv[3]))
t = time.perf_counter()
publish(s, folder / "pub", notice=False)
print(json.dumps({"entered": n, "enter_s": seconds, "publish_s": time.perf_counter() - t}))
"""


WRAP = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True)
sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.stdout.write(r.stdout)
"""


def child(args: list[str]) -> tuple[float, float, str]:
    """Run ``args`` in a fresh wrapper process: wall time, that command's own peak RSS (MB)."""
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-c", WRAP, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - t, int(r.stderr.strip().splitlines()[-1]) / 1024, r.stdout


def _verify(bundle: Path, town_pub: Path) -> tuple[float, float]:
    """The verifier on one core over ``bundle``, in a fresh process: wall seconds, peak MB."""
    wall, mb, _ = child(
        [
            sys.executable,
            "-m",
            "verifier",
            "verify",
            str(bundle),
            "--town-key",
            str(town_pub),
            "--json",
            "--jobs",
            "1",
        ]
    )
    return wall, mb


def _row(p: dict[str, Any], prod_mb: float, wall: float, ver_mb: float) -> tuple[Any, ...]:
    return (
        p["entered"],
        p["entered"] / p["enter_s"],
        p["publish_s"],
        prod_mb,
        wall,
        p["entered"] / wall,
        ver_mb,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--branches", type=int, default=20, help="branches in the demo town")
    args = parser.parse_args()
    py = sys.executable
    rows = []
    # (members, runoffs): about 10^3 and 10^4 ballots made here; 10^5 (20 rounds of 4,998) is
    # bench_verify.py's bundle, made once and cached under the hash of its inputs like the 10^6
    # one, with the producer's figures of the run that made it (``generation.json``).
    for members, runoffs in ((333, 1), (2499, 2)):
        with tempfile.TemporaryDirectory() as tmp:
            _, prod_mb, out = child([py, "-c", PRODUCE, tmp, str(runoffs), str(members)])
            p = json.loads(out)
            rows.append(
                _row(p, prod_mb, *_verify(Path(tmp) / "pub" / "bundle", Path(tmp) / "town.pub"))
            )
    runoffs = bench_verify.runoffs_for(100_000)
    subprocess.run(
        [py, "bench/bench_verify.py", "--records", "100000", "--generate-only"],
        cwd=ROOT,
        check=True,
    )
    cached = bench_verify.bundle_path(runoffs)
    gen = json.loads((cached / "generation.json").read_text())
    p = {"entered": gen["ballots"], "enter_s": gen["enter_s"], "publish_s": gen["publish_s"]}
    rows.append(
        _row(p, gen["producer_mb"], *_verify(cached / "out" / "bundle", cached / "town.pub"))
    )
    print(
        "| ballots | entry/s | publish s | producer peak MB | verify s (1 core) | verify/s |"
        " verifier peak MB |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, rate, pub, pmb, wall, vrate, mb in rows:
        print(
            f"| {n:,d} | {rate:,.0f} | {pub:.1f} | {pmb:.0f} | {wall:.1f} | {vrate:,.0f} | {mb:.0f} |"
        )
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [py, "-m", "tally", "demo", "--out", f"{tmp}/town", "--branches", str(args.branches)],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        demo_s = time.perf_counter() - t
        print(
            f"demo town, {args.branches} branches end to end (printing, voting, publishing, "
            f"verifying): {demo_s:.1f} s"
        )
    keys = ("ballots", "entry_rate", "publish_s", "producer_mb", "verify_s", "verify_rate")
    figures.write(
        args.json,
        {
            "rows": [dict(zip((*keys, "verifier_mb"), r, strict=True)) for r in rows],
            "demo_branches": args.branches,
            "demo_seconds": demo_s,
        },
    )


if __name__ == "__main__":
    main()
