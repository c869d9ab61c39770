"""The verifier on a bundle of remote ballots of version 2, against a bare loop of the same number
of libsodium group operations.

    .venv/bin/python bench/bench_verify_remote.py                 # 48 remote ballots
    .venv/bin/python bench/bench_verify_remote.py --voters 24 --jobs 1

The bundle is made by the producer's code (bench/remote_v2_election.py: the v2 device's ballots,
the close, the decryption of the totals, one round per post, ``tally.publish.publish``) and cached
under ``.cache/bench/verify-remote-<voters>-<key>/``, ``<key>`` a hash of everything it depends on
(as bench_verify.py's bundle: the producer's files, the generator, the parameters, the interpreter
and the installed distributions). Its ballot is the 9-candidate committee (7 seats) and 2-candidate
secretary (1 seat); each post's write-in list holds every other expected elector (RV-2.1), so a
post has voters + 2 choices. Issue 16 asks for 10,000 remote ballots; a version-2 election holds
at most 256 (RV-2.2 with R24: every remote voter is a choice of every post), and at that size a
ballot has 512 choices: the figure here is per ballot, at a size that keeps the run short.

Printed, each next to the baseline of the same run:
  * ``verifier verify BUNDLE --town-key PUB --json --jobs 1`` and ``--jobs 2`` in a child process,
    wall and CPU seconds (the whole run: start-up, manifest, the two paper rounds and the remote
    part, which is almost all of it);
  * the baseline: the libsodium group calls (pysodium) of one ``verify_bundle`` of this bundle,
    counted once in this process (``bench_elgamal.count_calls``; the count is kept beside the
    bundle under a hash of the verifier's files), called as many times each on fixed valid inputs
    with nothing else in the loop (``bench_elgamal.baseline_loop``), on one core.
Target (issue 16): the verifier within 1.3x of the bare loop.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/ is on sys.path from here
from bench_elgamal import baseline_loop, count_calls  # noqa: E402
from bench_verify import cache_inputs as _verify_inputs  # noqa: E402

CACHE = ROOT / ".cache" / "bench"


def _files_hash(*folders: str) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def cache_inputs(voters: int) -> dict[str, str]:
    """What the cached bundle depends on: bench_verify.py's inputs (the producer's files,
    bench/synthetic.py, the interpreter, the distributions) with this generator and its
    parameters in place of that one's."""
    import inspect  # noqa: PLC0415

    inputs = _verify_inputs(0)
    del inputs["generate()"], inputs["parameters"]
    gen = ROOT / "bench" / "remote_v2_election.py"
    inputs[str(gen.relative_to(ROOT))] = hashlib.sha256(gen.read_bytes()).hexdigest()
    inputs["generate()"] = hashlib.sha256(inspect.getsource(generate).encode()).hexdigest()
    inputs["parameters"] = f"voters={voters}"
    return inputs


def _key(inputs: dict[str, str]) -> str:
    text = "".join(f"{k} {v}\n" for k, v in sorted(inputs.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generate(voters: int) -> tuple[Path, bool]:
    """The cache folder of the bundle (made now unless cached); whether it was cached."""
    inputs = cache_inputs(voters)
    target = CACHE / f"verify-remote-{voters}-{_key(inputs)}"
    if (target / "DONE").exists():
        print(f"cached bundle: {target}", flush=True)
        return target, True
    import remote_v2_election as rv  # noqa: PLC0415

    import keys  # noqa: PLC0415
    from tally.publish import publish  # noqa: PLC0415

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    os.environ.setdefault("TALLY_PASSPHRASE", rv.PASSPHRASE)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-verify-remote-") as tmp:
        e = rv.open_election(Path(tmp), voters)
        votes = rv.votes(e, voters)
        made = time.perf_counter() - t0
        rv.run_to_result(e, votes)
        publish(e.session, target / "out", notice=False)
        e.session.store.close()
        (target / "town.pub").write_bytes(keys.export_public_key(e.town.public_key))
        shapes = rv.choices_per_post(e)
    (target / "out" / "bundle.zip").unlink(missing_ok=True)  # the folder is verified
    (target / "generation.json").write_text(
        json.dumps(
            {
                "voters": voters,
                "posts": shapes,
                "ballots_s": made,
                "total_s": time.perf_counter() - t0,
            }
        )
    )
    (target / "inputs.json").write_text(json.dumps(inputs, indent=1, sort_keys=True))
    (target / "DONE").write_text(f"{voters}\n")
    for old in CACHE.glob(f"verify-remote-{voters}-*"):  # made by other code: never used again
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    print(f"made the bundle in {time.perf_counter() - t0:.1f} s ({made:.1f} s of it the ballots)")
    return target, False


def verifier_ops(target: Path) -> Counter[str]:
    """The libsodium group calls of one in-process ``verify_bundle`` of the bundle (one job),
    kept beside it under a hash of the verifier's files."""
    kept = target / f"ops-{_files_hash('verifier')[:16]}.json"
    if kept.exists():
        return Counter(json.loads(kept.read_text()))
    from verifier.checks import verify_bundle  # noqa: PLC0415
    from verifier.cli import parse_town_key  # noqa: PLC0415

    town = parse_town_key(str(target / "town.pub"))
    report: list[Any] = []
    ops = count_calls(lambda: report.append(verify_bundle(target / "out" / "bundle", town, jobs=1)))
    if not report[0].ok:
        raise SystemExit("the verifier refused the bundle")
    for old in target.glob("ops-*.json"):
        old.unlink()
    kept.write_text(json.dumps(dict(ops)))
    return ops


def run_verifier(bundle: Path | None, pub: Path, jobs: int) -> tuple[float, float, bool]:
    """``verifier verify`` of this checkout in a child: (wall, CPU of the child tree, ok).
    Without a bundle, ``verifier verify --help``: the interpreter's start and the imports."""
    cmd = [sys.executable, "-m", "verifier", "verify"]
    if bundle is None:
        cmd.append("--help")
    else:
        cmd += [str(bundle), "--town-key", str(pub), "--json", "--jobs", str(jobs)]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        ok = proc.returncode == 0 if bundle is None else bool(json.loads(proc.stdout).get("ok"))
    except ValueError:
        ok = False
    return wall, usage.ru_utime + usage.ru_stime - cpu0, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voters", type=int, default=48, help="remote ballots (at most 254)")
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--json", type=Path, help="write the figures here (bench/run_all.py)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    target, cached = generate(args.voters)
    generate_s = time.perf_counter() - t0
    bundle, pub = target / "out" / "bundle", target / "town.pub"
    gen = json.loads((target / "generation.json").read_text())
    ops = verifier_ops(target)
    total_ops = sum(ops.values())
    print(
        f"bundle: {args.voters} remote ballots of "
        + " + ".join(f"{p} {listed} listed / {c} choices" for p, listed, c in gen["posts"])
        + f"; the verifier makes {total_ops:,d} libsodium group calls "
        f"({total_ops / args.voters:,.0f} a ballot)",
        flush=True,
    )
    c0 = time.process_time()
    base = baseline_loop(ops, 1)
    base_cpu = time.process_time() - c0
    print(f"baseline: bare loop of those calls, 1 core  {base:6.2f} s  cpu {base_cpu:6.2f} s")
    runs = []
    for jobs in args.jobs:
        wall, cpu, ok = run_verifier(bundle, pub, jobs)
        runs.append({"jobs": jobs, "wall": wall, "cpu": cpu, "ok": ok})
        print(
            f"verifier --jobs {jobs}: {wall:6.2f} s ({wall / base:.2f}x the bare loop before, "
            f"{1000 * wall / args.voters:.0f} ms a ballot)  cpu {cpu:6.2f} s  ok={ok}",
            flush=True,
        )
        if not ok:
            raise SystemExit("the verifier refused the bundle")
    start_wall, start_cpu, _ = run_verifier(None, pub, 1)
    print(f"verifier start-up (verify --help): {start_wall:6.2f} s  cpu {start_cpu:6.2f} s")
    c0 = time.process_time()
    base2 = baseline_loop(ops, 1)
    base2_cpu = time.process_time() - c0
    print(f"baseline again, after the runs             {base2:6.2f} s  cpu {base2_cpu:6.2f} s")
    j1 = next((r for r in runs if r["jobs"] == 1), None)
    if j1 is not None:  # against the faster of the two bare loops: load only slows a run down
        r = j1["wall"] / min(base, base2)
        print(
            f"target --jobs 1 <= 1.3x the bare loop: {r:.2f}x  {'MET' if r <= 1.3 else 'MISSED'}; "
            f"by CPU seconds {j1['cpu'] / min(base_cpu, base2_cpu):.2f}x"
        )
    figures.write(
        args.json,
        {
            "voters": args.voters,
            "posts": gen["posts"],
            "ops": total_ops,
            "ops_by_function": dict(sorted(ops.items())),
            "baseline": base,
            "baseline_cpu": base_cpu,
            "baseline_after": base2,
            "baseline_after_cpu": base2_cpu,
            "runs": runs,
            "startup_wall": start_wall,  # the interpreter and the imports, in every run above
            "startup_cpu": start_cpu,
            "bundle_cached": cached,
            "generate_s": generate_s,
            "generation": gen,
        },
    )


if __name__ == "__main__":
    main()
