"""The verifier on 10,000 remote ballots of version 2 (issue 16), against a bare loop of the same
libsodium group operations in the same run.

    .venv/bin/python bench/bench_verify_remote.py                      # 1,000 elections x 10
    .venv/bin/python bench/bench_verify_remote.py --elections 2 --voters 48
    .venv/bin/python bench/bench_verify_remote.py --generate-only      # only make (and cache)

Why 10,000 ballots are many branch elections: a version-2 election holds at most 256 remote
voters (spec/remote-v2.md RV-2.2 with R24: every remote voter is an expected elector, and every
expected elector who is not a listed candidate is a choice of every post, RV-2.1), and a ballot's
proofs grow with its choices, about twice the roster. So the bundles are ``--elections`` branch
elections of ``--voters`` remote ballots each (a roster of the voters plus the two officials,
bench/remote_v2_election.py: a 9-candidate committee, 7 seats, and a 2-candidate secretary, 1
seat). With 10 voters a ballot has 24 choices; 40 elections of 250 would give each ballot 504
choices and the run about 45 minutes for each pass (the verifier's and each bare loop).

The bundles are made by the producer's code (the v2 device's ballots, the casts, the close, the
decryption of the totals, one round per post with two paper ballots, ``tally.publish.publish``),
all under one town key, in ``--procs`` processes, and cached under
``$BENCH_CACHE/verify-remote-<elections>x<voters>-<key>/`` (default ``.cache/bench``), ``<key>`` a
hash of everything they depend on (as bench_verify.py's bundle: the producer's files, the
generator, the parameters, the interpreter and the installed distributions). A cold build prints
its progress and, interrupted, goes on from the bundles already made.

The verifier verifies one bundle a run (``verifier verify BUNDLE``); neither it nor the spec has a
mode for many bundles. So one child process imports the verifier and calls ``verify_bundle`` (what
``verifier verify`` runs) on every bundle in turn with one job (with fewer than 16 casts a bundle,
``BATCH``, the verifier starts no pool anyway). Printed, each next to the same run's baseline:

  * the child's wall and CPU seconds: the whole run (start-up included), the loop over the
    bundles, and the part of it inside V18.21's ballot check (``check_ballot_batch``);
  * the baseline: the libsodium group calls (pysodium) of one such loop, counted once in this
    process (``bench_elgamal.count_calls``; kept beside the bundles under a hash of the
    verifier's files), called as many times each on fixed valid inputs with nothing else in the
    loop (``bench_elgamal.baseline_loop``), one core, before and after the verifier's run; for
    the ballot check, the same per-function times for the calls made inside it.
Target (issue 16): the verifier checks 10,000 remote ballots within 1.3x of the bare loop.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/ is on sys.path from here
from bench_elgamal import baseline_loop, count_calls  # noqa: E402
from bench_verify import cache_inputs as _verify_inputs  # noqa: E402

CACHE = Path(os.environ.get("BENCH_CACHE") or ROOT / ".cache" / "bench")
TOWN_SEED = bytes(range(32))  # one town signs every branch's manifest; fixed, so a build resumes


def _files_hash(*folders: str) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def cache_inputs(elections: int, voters: int) -> dict[str, str]:
    """What the cached bundles depend on: bench_verify.py's inputs (the producer's files,
    bench/synthetic.py, the interpreter, the distributions) with this generator and its
    parameters in place of that one's."""
    import inspect  # noqa: PLC0415

    inputs = _verify_inputs(0)
    del inputs["generate()"], inputs["parameters"]
    gen = ROOT / "bench" / "remote_v2_election.py"
    inputs[str(gen.relative_to(ROOT))] = hashlib.sha256(gen.read_bytes()).hexdigest()
    source = inspect.getsource(generate) + inspect.getsource(_build)
    inputs["generate()"] = hashlib.sha256(source.encode()).hexdigest()
    inputs["parameters"] = f"elections={elections} voters={voters} town={TOWN_SEED.hex()}"
    return inputs


def _key(inputs: dict[str, str]) -> str:
    text = "".join(f"{k} {v}\n" for k, v in sorted(inputs.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(elections: int, voters: int) -> Path:
    return CACHE / f"verify-remote-{elections}x{voters}-{_key(cache_inputs(elections, voters))}"


def _town() -> Any:
    import keys  # noqa: PLC0415

    return keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "town", TOWN_SEED)


def _build(job: tuple[int, int, str]) -> tuple[int, float, list[Any]]:
    """Worker: branch election ``i`` with ``voters`` remote ballots, published into
    ``folder/bundles/<i>``; (i, seconds, choices per post)."""
    import remote_v2_election as rv  # noqa: PLC0415

    from tally.publish import publish  # noqa: PLC0415

    i, voters, folder = job
    t0 = time.perf_counter()
    done = Path(folder) / "bundles" / f"{i:04d}"
    with tempfile.TemporaryDirectory(prefix="bench-verify-remote-") as tmp:
        e = rv.open_election(Path(tmp), voters, town=_town())
        rv.run_to_result(e, rv.votes(e, voters, seed=16 + i, procs=1))
        publish(e.session, Path(tmp) / "out", notice=False)
        e.session.store.close()
        shapes = rv.choices_per_post(e)
        shutil.move(str(Path(tmp) / "out" / "bundle"), str(done.with_suffix(".partial")))
    done.with_suffix(".partial").rename(done)  # a bundle is there whole or not at all
    return i, time.perf_counter() - t0, [list(s) for s in shapes]


def _bar(done: int, total: int, t0: float, made: int) -> str:
    el = time.perf_counter() - t0
    left = el / made * (total - done) if made else 0.0
    fill = round(30 * done / total)
    return f"  [{'#' * fill}{'.' * (30 - fill)}] {done:,d}/{total:,d} elections  {el:5.0f} s  ~{left:,.0f} s left"


def generate(elections: int, voters: int, procs: int) -> tuple[Path, bool]:
    """The cache folder of the bundles (made now unless cached); whether it was cached."""
    import keys  # noqa: PLC0415

    inputs = cache_inputs(elections, voters)
    target = CACHE / f"verify-remote-{elections}x{voters}-{_key(inputs)}"
    if (target / "DONE").exists():
        print(f"cached bundles: {target}", flush=True)
        return target, True
    bundles = target / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    for partial in bundles.glob("*.partial"):
        shutil.rmtree(partial)
    todo = [i for i in range(elections) if not (bundles / f"{i:04d}").exists()]
    (target / "town.pub").write_bytes(keys.export_public_key(_town().public_key))
    os.environ.setdefault("TALLY_PASSPHRASE", "bench remote v2 passphrase 2026")
    print(
        f"making {len(todo):,d} of {elections:,d} branch elections of {voters} remote ballots "
        f"with the producer's code, {procs} processes, into {target}",
        flush=True,
    )
    t0, seconds, shapes, step = time.perf_counter(), 0.0, None, max(1, elections // 30)
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        jobs = [(i, voters, str(target)) for i in todo]
        for n, (_, s, shape) in enumerate(pool.imap_unordered(_build, jobs), start=1):
            seconds, shapes = seconds + s, shape
            if n % step == 0 or n == len(todo):
                done = elections - len(todo) + n
                print(_bar(done, elections, t0, n), flush=True)
    wall = time.perf_counter() - t0
    (target / "generation.json").write_text(
        json.dumps(
            {
                "elections": elections,
                "voters": voters,
                "posts": shapes,
                "made": len(todo),  # fewer than elections when an interrupted build went on
                "wall_s": wall,
                "election_s": seconds / max(1, len(todo)),  # one election, in its worker
                "procs": procs,
            }
        )
    )
    (target / "inputs.json").write_text(json.dumps(inputs, indent=1, sort_keys=True))
    (target / "DONE").write_text(f"{elections}\n")
    for old in CACHE.glob(f"verify-remote-{elections}x{voters}-*"):  # other code's: never used
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    print(f"made {len(todo):,d} bundles in {wall:.0f} s ({wall / 60:.1f} min)", flush=True)
    return target, False


def _bundles(target: Path) -> list[Path]:
    return sorted(p for p in (target / "bundles").iterdir() if not p.name.endswith(".partial"))


def _verify_all(target: Path, check: Callable[..., Any] | None = None) -> tuple[int, list[str]]:
    """``verify_bundle`` on every bundle, one job; ``check`` replaces V18.21's batch check
    (``check_ballot_batch``, called by name from the replay) when given. (ballots, failed)."""
    import verifier.checks.replay.remote_v2 as replay  # noqa: PLC0415
    from verifier.checks import verify_bundle  # noqa: PLC0415
    from verifier.cli import parse_town_key  # noqa: PLC0415

    town = parse_town_key(str(target / "town.pub"))
    failed = []
    inner = replay.check_ballot_batch
    if check is not None:
        replay.check_ballot_batch = check  # type: ignore[assignment]
    try:
        for bundle in _bundles(target):
            if not verify_bundle(bundle, town, jobs=1).ok:
                failed.append(bundle.name)
    finally:
        replay.check_ballot_batch = inner
    ballots = json.loads((target / "generation.json").read_text())["voters"] * len(_bundles(target))
    return ballots, failed


def verifier_ops(target: Path) -> tuple[Counter[str], Counter[str]]:
    """The libsodium group calls of one ``_verify_all``, and those made inside V18.21's ballot
    check; kept beside the bundles under a hash of the verifier's files."""
    kept = target / f"ops-{_files_hash('verifier')[:16]}.json"
    if kept.exists():
        doc = json.loads(kept.read_text())
        return Counter(doc["all"]), Counter(doc["check"])
    import verifier.checks.replay.remote_v2 as replay  # noqa: PLC0415

    inner, inside = replay.check_ballot_batch, Counter[str]()

    def counted(*args: Any) -> Any:
        out: list[Any] = []
        inside.update(count_calls(lambda: out.append(inner(*args))))
        return out[0]

    print("counting the verifier's libsodium calls (once per verifier version)", flush=True)
    failed: list[str] = []
    ops = count_calls(lambda: failed.extend(_verify_all(target, counted)[1]))
    if failed:
        raise SystemExit(f"the verifier refused {len(failed)} bundles: {failed[:5]}")
    for old in target.glob("ops-*.json"):
        old.unlink()
    kept.write_text(json.dumps({"all": dict(ops), "check": dict(inside)}))
    return ops, inside


def bare_loop(ops: Counter[str]) -> tuple[float, float, dict[str, float]]:
    """The counted calls, each function's in its own loop: (wall, CPU, wall per function)."""
    per: dict[str, float] = {}
    c0 = time.process_time()
    for name, n in sorted(ops.items()):
        per[name] = baseline_loop(Counter({name: n}), 1)
    return sum(per.values()), time.process_time() - c0, per


def run_child(target: Path) -> dict[str, Any]:
    """``_child`` in a fresh interpreter: its figures plus its whole wall and CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--_child", str(target)],
        capture_output=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict[str, Any] = json.loads(proc.stdout)
    return {**out, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime - cpu0}


def _child() -> None:
    """Every bundle verified in this process: the loop's wall and CPU, and the wall inside the
    ballot check."""
    import verifier.checks.replay.remote_v2 as replay  # noqa: PLC0415

    target, inner, spent = Path(sys.argv[2]), replay.check_ballot_batch, [0.0]

    def timed(*args: Any) -> Any:
        t = time.perf_counter()
        try:
            return inner(*args)
        finally:
            spent[0] += time.perf_counter() - t

    t0, c0 = time.perf_counter(), time.process_time()
    ballots, failed = _verify_all(target, timed)
    loop_wall, loop_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "ballots": ballots,
                "failed": failed,
                "loop_wall": loop_wall,
                "loop_cpu": loop_cpu,
                "check_wall": spent[0],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--elections", type=int, default=1000, help="branch elections (bundles)")
    parser.add_argument("--voters", type=int, default=10, help="remote ballots each (<= 254)")
    parser.add_argument("--procs", type=int, default=2, help="processes making the bundles")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here (bench/run_all.py)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    target, cached = generate(args.elections, args.voters, args.procs)
    generate_s = time.perf_counter() - t0
    if args.generate_only:
        return
    gen = json.loads((target / "generation.json").read_text())
    ops, inside = verifier_ops(target)
    n, total_ops = args.elections * args.voters, sum(ops.values())
    shape = " + ".join(f"{p} {listed} listed / {c} choices" for p, listed, c in gen["posts"])
    print(
        f"bundles: {args.elections:,d} elections x {args.voters} remote ballots = {n:,d} ({shape}"
        f"); the verifier makes {total_ops:,d} libsodium group calls ({total_ops / n:,.0f} a "
        f"ballot), {sum(inside.values()):,d} of them in the ballot check",
        flush=True,
    )
    base, base_cpu, per = bare_loop(ops)
    print(f"baseline: bare loop of those calls, 1 core  {base:7.1f} s  cpu {base_cpu:7.1f} s")
    run = run_child(target)
    if run["failed"] or run["ballots"] != n:
        raise SystemExit(f"the verifier refused {run['failed'][:5]} ({run['ballots']} ballots)")
    base2, base2_cpu, per2 = bare_loop(ops)
    print(f"baseline again, after the verifier's run    {base2:7.1f} s  cpu {base2_cpu:7.1f} s")
    best = min(base, base2)  # against the faster bare loop: load only slows a run down
    fastest = {k: min(per[k], per2[k]) for k in per}
    check_base = sum(fastest[k] * inside[k] / ops[k] for k in inside)
    ratio = run["wall"] / best
    print(
        f"verifier, {n:,d} ballots in one process: {run['wall']:7.1f} s ({ratio:.2f}x the "
        f"faster bare loop)  cpu {run['cpu']:7.1f} s ({run['cpu'] / min(base_cpu, base2_cpu):.2f}x)"
        f"\n  the loop over the bundles {run['loop_wall']:7.1f} s ({run['loop_wall'] / best:.2f}x)"
        f"  start-up {run['wall'] - run['loop_wall']:.2f} s"
        f"\n  inside the ballot check   {run['check_wall']:7.1f} s, its calls' bare loop "
        f"{check_base:.1f} s ({run['check_wall'] / check_base:.2f}x)"
    )
    print(f"target <= 1.3x the bare loop: {ratio:.2f}x  {'MET' if ratio <= 1.3 else 'MISSED'}")
    figures.write(
        args.json,
        {
            "elections": args.elections,
            "voters": args.voters,
            "ballots": n,
            "posts": gen["posts"],
            "ops": total_ops,
            "ops_by_function": dict(sorted(ops.items())),
            "check_ops": sum(inside.values()),
            "baseline": base,
            "baseline_cpu": base_cpu,
            "baseline_after": base2,
            "baseline_after_cpu": base2_cpu,
            "check_baseline": check_base,
            "run": run,
            "bundle_cached": cached,
            "generate_s": generate_s,
            "generation": gen,
        },
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        _child()
    else:
        main()
