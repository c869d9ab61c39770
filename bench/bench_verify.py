"""Verifier throughput on a large producer bundle, against a bare Ed25519 baseline.

    .venv/bin/python bench/bench_verify.py                 # ~1,000,000 ballot records
    .venv/bin/python bench/bench_verify.py --records 100000
    .venv/bin/python bench/bench_verify.py --generate-only # only build (and cache) the bundle

The bundle is made by the PRODUCER code (bench/synthetic.py: the real tally session, then
``tally.publish.publish``) and cached under ``.cache/bench/verify-<runoffs>-<key>/``
(git-ignored), ``<key>`` being a hash of everything the bundle depends on (``cache_inputs``: the
producer's files, the generator, the parameters, the interpreter and the installed libraries), so
it is made again exactly when one of them changes. 4,998 ballots a round; ``runoffs`` runoffs give (runoffs + 2) rounds.

Printed, each next to a baseline measured in the same run:
  * ``verifier verify BUNDLE --town-key PUB --json --jobs 1`` in a child process: wall time and
    peak memory (the child's ru_maxrss), against a bare loop of as many Ed25519 verifications with
    PyNaCl (libsodium, the verifier's own library) on one core;
  * the same with ``--jobs 2``, against the same single-core loop.
Targets (issue 15): jobs 1 within 1.25x of the single-core baseline; jobs 2 within 0.7x of it;
peak memory under 100 MB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/ is on sys.path from here

PER_ROUND = 4998
# ``BENCH_CACHE=DIR`` puts the cache elsewhere (e.g. a fresh folder, to time a cold `make bench`
# without deleting the bundle other checkouts share through .cache).
CACHE = Path(os.environ.get("BENCH_CACHE") or ROOT / ".cache" / "bench")
# The bundle is made on two cores (bench/synthetic.py's ``workers``: the ballot stocks in a second
# process while the session enters the round before); the bytes do not depend on it.
WORKERS = min(2, os.cpu_count() or 1)


def runoffs_for(records: int) -> int:
    """Runoffs such that (runoffs + 2) rounds of 4,998 ballots come closest to ``records``."""
    return max(1, round(records / PER_ROUND) - 2)


# The bundle is a function of the producer's code and of the parameters: the cache folder is named
# by a hash of both (``cache_key``), so a cache made by other code is never used and one made by
# this code always is, with nothing to bump by hand. Every file of each package, data included.
PRODUCER_PACKAGES = ("bilingual", "tally", "keys", "ballot_printer")


def cache_inputs(runoffs: int) -> dict[str, str]:
    """What the cached bundle depends on, by name: each producer file's SHA-256, the generator
    (``bench/synthetic.py`` and the source of ``generate``), the parameters, the interpreter and
    the installed distributions (``cryptography``, ``rfc8785``, ``sqlite-utils``, ...)."""
    import hashlib  # noqa: PLC0415
    import importlib.metadata  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    files = [ROOT / "bench" / "synthetic.py"]
    for package in PRODUCER_PACKAGES:
        files += [
            p
            for p in (ROOT / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
    inputs = {
        str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)
    }
    inputs["generate()"] = hashlib.sha256(inspect.getsource(generate).encode()).hexdigest()
    inputs["parameters"] = (
        f"runoffs={runoffs} per_round={PER_ROUND} "
        f"BENCH_MEMBERS={os.environ.get('BENCH_MEMBERS', '')}"
    )
    inputs["python"] = sys.version
    inputs["distributions"] = " ".join(
        sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    )
    return inputs


def cache_key(inputs: dict[str, str]) -> str:
    """16 hex digits of the SHA-256 of ``inputs`` (sorted, one ``name value`` a line)."""
    import hashlib  # noqa: PLC0415

    text = "".join(f"{k} {v}\n" for k, v in sorted(inputs.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def bundle_path(runoffs: int) -> Path:
    return CACHE / f"verify-{runoffs}-{cache_key(cache_inputs(runoffs))}"


def generate(runoffs: int) -> Path:
    """Build the bundle with the producer code unless cached; returns the cache folder."""
    inputs = cache_inputs(runoffs)
    target = CACHE / f"verify-{runoffs}-{cache_key(inputs)}"
    if (target / "DONE").exists():
        print(f"cached bundle: {target}", flush=True)
        return target
    import synthetic  # noqa: PLC0415 - producer code, only needed to generate

    from tally.publish import publish  # noqa: PLC0415

    shutil.rmtree(target, ignore_errors=True)
    work = target / "work"
    work.mkdir(parents=True)
    total = (runoffs + 2) * PER_ROUND
    t0 = time.perf_counter()

    def progress(entered: int) -> None:
        el = time.perf_counter() - t0
        rate = entered / el if el else 0.0
        eta = (total - entered) / rate if rate else 0.0
        print(
            f"  generated {entered:>9,d} / {total:,d} ballots  {el:7.0f} s"
            f"  ({rate:,.0f}/s, ~{eta:,.0f} s left)",
            flush=True,
        )

    print(f"generating {total:,d} ballots ({runoffs} runoffs) into {target}", flush=True)
    session, _, enter_s, entered = synthetic.build(
        work, runoffs=runoffs, progress=progress, workers=WORKERS
    )
    build_s = time.perf_counter() - t0
    print(
        f"  {entered:,d} ballots in {build_s:.0f} s ({enter_s:.0f} s of it entering them, the "
        "rest making ballot stocks and opening and closing rounds); publishing",
        flush=True,
    )
    t1 = time.perf_counter()
    publish(session, target / "out", notice=False)
    publish_s = time.perf_counter() - t1
    session.store.close() if hasattr(session.store, "close") else None
    shutil.move(str(work / "town.pub"), str(target / "town.pub"))
    shutil.rmtree(work, ignore_errors=True)
    zipped = target / "out" / "bundle.zip"
    if zipped.exists():
        zipped.unlink()  # the folder is verified; the zip is the same files
    # How the producer fared at this size (the 10^6 row of the growth table): kept with the cache.
    (target / "generation.json").write_text(
        json.dumps(
            {
                "ballots": entered,
                "enter_s": enter_s,  # entering only, as bench_growth.py measures it
                "build_s": build_s,
                "entry_rate": entered / enter_s,
                "publish_s": publish_s,
                "producer_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "workers": WORKERS,  # the session's process, and the stock makers with it
            }
        )
    )
    (target / "inputs.json").write_text(json.dumps(inputs, indent=1, sort_keys=True))
    (target / "DONE").write_text(f"{entered}\n")
    _prune(runoffs, keep=target)
    print(f"  published in {time.perf_counter() - t1:.0f} s", flush=True)
    return target


def _prune(runoffs: int, keep: Path) -> None:
    """Remove bundles of ``runoffs`` cached under another key (made by other producer code: they
    would never be used again, and each takes about 1 GB at 10^6). Folders named the old way
    (``verify-198-salted``) are left alone for checkouts that still look for them."""
    for old in CACHE.glob(f"verify-{runoffs}-*"):
        key = old.name.rsplit("-", 1)[1]
        if old != keep and len(key) == 16 and all(c in "0123456789abcdef" for c in key):
            shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- baseline


def _count_ballots(bundle: Path) -> int:
    with open(bundle / "ballots.jsonl", "rb") as f:
        return sum(1 for _ in f)


def _nacl_loop(n: int) -> tuple[float, float]:
    """Verify ``n`` distinct signed 200-byte-ish messages with PyNaCl; (wall, CPU) seconds."""
    from nacl.signing import SigningKey  # noqa: PLC0415

    key = SigningKey(b"\x07" * 32)
    vk = key.verify_key
    msgs = []
    for i in range(min(n, 4096)):
        m = b"branch-election/ballot-qr/1\x00" + i.to_bytes(4, "big") * 50
        msgs.append((m, key.sign(m).signature))
    t0, c0 = time.perf_counter(), time.process_time()
    k = len(msgs)
    for i in range(n):
        m, s = msgs[i % k]
        vk.verify(m, s)
    return time.perf_counter() - t0, time.process_time() - c0


def _nacl_child(n: int, q: multiprocessing.Queue[tuple[float, float]]) -> None:
    q.put(_nacl_loop(n))


def baseline(n: int) -> tuple[float, float]:
    """(wall, CPU) seconds for ``n`` PyNaCl verifications in one fresh process. Both targets are
    stated against this one-process loop, so no two-process loop is run (it cost half a minute).

    CPU seconds are the honest figure on a shared machine: other users' load stretches the wall
    time but not the work done."""
    ctx = multiprocessing.get_context("fork")
    q: multiprocessing.Queue[tuple[float, float]] = ctx.Queue()
    p = ctx.Process(target=_nacl_child, args=(n, q))
    p.start()
    secs = q.get()
    p.join()
    return secs


# --------------------------------------------------------------------------- verifier runs


def run_verifier(
    bundle: Path, pub: Path, jobs: int
) -> tuple[float, float, float, dict[str, object]]:
    """Run the verifier CLI in a child; (wall seconds, CPU seconds of the child and its workers,
    peak RSS MB of the child tree, report)."""
    # ``-m verifier`` from this checkout (the installed ``verifier`` script may be another's).
    cmd = [sys.executable, "-m", "verifier", "verify", str(bundle), "--town-key", str(pub)]
    cmd += ["--json", "--jobs", str(jobs)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu0
    if peak < before:  # pragma: no cover - ru_maxrss is a running maximum
        peak = before
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {
            "ok": False,
            "stdout": proc.stdout[:500].decode(),
            "stderr": proc.stderr[-500:].decode(),
        }
    return wall, cpu, peak / 1024, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records",
        type=int,
        default=1_000_000,
        help="about this many ballot records (default 1,000,000)",
    )
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    runoffs = runoffs_for(args.records)
    if runoffs + 1 > 255:
        parser.error("too many records: a post has at most 255 rounds")
    cached = (bundle_path(runoffs) / "DONE").exists()
    t0 = time.perf_counter()
    target = generate(runoffs)
    generate_s = time.perf_counter() - t0
    if args.generate_only:
        return
    bundle, pub = target / "out" / "bundle", target / "town.pub"
    n = _count_ballots(bundle)
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    print(
        f"bundle: {bundle}  {n:,d} ballot records, {size / 1e6:,.0f} MB, cpus {os.cpu_count()}",
        flush=True,
    )
    base1, cpu1 = baseline(n)
    print(
        f"baseline PyNaCl verify x{n:,d}, 1 process    {base1:7.1f} s  ({n / base1:8,.0f}/s)"
        f"  cpu {cpu1:7.1f} s",
        flush=True,
    )
    rows = []
    for jobs in args.jobs:
        # A fresh interpreter per run, so each child's ru_maxrss is its own.
        out = subprocess.run(
            [sys.executable, __file__, "--_child", str(bundle), str(pub), str(jobs)],
            capture_output=True,
            check=True,
            text=True,
        )
        wall, cpu, peak, ok = json.loads(out.stdout)
        rows.append((jobs, wall, cpu, peak, ok))
        print(
            f"verifier --jobs {jobs}: {wall:7.1f} s  ({n / wall:8,.0f} ballots/s)  "
            f"cpu {cpu:7.1f} s  peak RSS {peak:6.0f} MB  report ok={ok}",
            flush=True,
        )
    gen = target / "generation.json"
    figures.write(
        args.json,
        {
            "records": n,
            "bundle_mb": size / 1e6,
            "cpus": os.cpu_count(),
            "baseline_1": base1,
            "baseline_1_cpu": cpu1,
            "runs": [
                {"jobs": j, "wall": w, "cpu": c, "peak_mb": p, "ok": ok} for j, w, c, p, ok in rows
            ],
            "generation": json.loads(gen.read_text()) if gen.exists() else None,
            "bundle_cached": cached,  # False: this run made the bundle (cold cache)
            "generate_s": generate_s,  # seconds to make it, or to find it and hash the inputs
        },
    )
    print()
    for jobs, wall, cpu, peak, _ in rows:
        r = wall / base1
        print(
            f"jobs {jobs}: cpu {cpu:.1f} s = {cpu / cpu1:.2f}x the single-core baseline's cpu; "
            f"on {jobs} idle core(s) at least {cpu / jobs / cpu1:.2f}x its time"
        )
        if jobs == 1:
            print(
                f"target jobs 1 <= 1.25x single-core baseline: {r:.2f}x  "
                f"{'MET' if r <= 1.25 else 'MISSED'}"
            )
        if jobs == 2:
            print(
                f"target jobs 2 <= 0.7x single-core baseline: {r:.2f}x ({wall:.1f} s vs "
                f"{base1:.1f} s)  {'MET' if r <= 0.7 else 'MISSED'}"
            )
        print(
            f"target peak memory < 100 MB (jobs {jobs}): {peak:.0f} MB  "
            f"{'MET' if peak < 100 else 'MISSED'}"
        )


def _child() -> None:
    # Measures one verifier run; a separate process so RUSAGE_CHILDREN covers that run only.
    bundle, pub, jobs = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    wall, cpu, peak, report = run_verifier(bundle, pub, jobs)
    print(json.dumps([wall, cpu, peak, bool(report.get("ok"))]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        _child()
    else:
        main()
