"""Remote casting throughput and latency at 64 concurrent connections, beside the no-op baseline.

    .venv/bin/python bench/bench_remote.py [--voters 80] [--clients 64] [--json F]
        [--runs N] [--ablate MODE[@DIR],...]

(``--version 2`` is accepted and is the only version: remote ballots version 1 are withdrawn.)
The service runs in a uvicorn subprocess on 127.0.0.1 over a real election file (SQLite at the
store's full sync), pinned to CPU 0 when the machine has two cores. Remote voting opened
(spec/remote-v2.md), ``--voters`` approved members
each holding a credential and a real ``remote-ballot/2`` made beforehand by the v2 device's code
(bench/remote_v2_election.py: a 9-candidate committee and a 2-candidate secretary, each post with
every other expected elector as its write-in list, RV-2.1). The service answers a cast once its
cheap checks hold (RV-4.1: window, credential, token, size, shape, encodings) and hands it to its
checker process (RV-4.5), which runs RV-3.5's proofs at a lower priority on the service's core,
so the answer no longer waits for the proofs. A remote voter is a choice of every post (at most
256, RV-2.2): the few dozen casts there can be are sent once each by a Python client over
``--clients`` connections in a closed loop (each connection sends its next cast when its last is
answered), timed from the first request to the last answer; wrk, whose runs have a fixed length,
would run out of credentials. Then, honestly, the time until every cast is ``accepted`` (the
board lists the accepted receipts, polled every 20 ms) from the first request: end to end, and
the checker's rate over its run beside a bare loop of one ballot's libsodium calls (one ballot's
``check_ballot`` in this process is printed too). The no-op route is measured by wrk for
``--seconds`` before the casts and after every cast is accepted. The service's CPU during the
no-op and the casts (its event loop, its other threads, the checker) and its disk writes are
printed beside them.

To find what sets the floor, ``--ablate`` takes parts away in the service's process (never for
the recorded figures): the checker, the fsync, everything but reading the body, or everything
but parsing it (``ABLATIONS``). ``MODE@DIR`` serves from another checkout (a ``git archive`` of
main, say), and ``--runs N`` measures each mode in turn N times, each run on a fresh copy of the
same election (docs/PERFORMANCE.md, "The floor, measured by ablation").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keys
from tally.service.remote import CastRequest  # the sink routes' annotations (resolved by name)

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "bench remote passphrase 2026"
LUA = Path(__file__).resolve().parent / "wrk" / "replay.lua"
# Pin the service and the load generator to one core each when the machine has two or more.
_PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


SERVER = """
import sys, uvicorn
from pathlib import Path
from tally.service import ServiceConfig, create_app
app = create_app(ServiceConfig(election_path=Path(sys.argv[1]), data_dir=Path(sys.argv[2])))
if sys.argv[4] != "none":
    sys.path.insert(0, sys.argv[5])
    from bench_remote import ablate
    ablate(app, sys.argv[4])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""

# --ablate (never the default): what is taken away from the service to measure its parts.
ABLATIONS = {
    "none": "the service as it is",
    "no-checker": "(a) the checker never started: casts stay received, their proofs unchecked",
    "no-checker-normal": "(b) (a) and the election file at synchronous=NORMAL (no fsync a commit)",
    "sink": "(c) the cast POSTed to a route that reads the body and answers 200 at once",
    "sink-parse": "(c') a route that parses the body as the cast's model and answers at once",
}
SINK = "/bench/sink"


def ablate(app: FastAPI, mode: str) -> None:
    """In the service's process, before it starts (bench only): take away what ``mode`` says."""
    checks = app.state.remote_checks

    async def nothing(*_: Any) -> None:
        return None

    # Every ablation leaves the checker out: (c) stores nothing for it to check.
    checks.start = checks.requeue = checks.submit = nothing
    if mode == "no-checker-normal":
        state = app.state.service
        conn = state.session.store._db.conn
        state.thread.submit(conn.execute, "PRAGMA synchronous=NORMAL").result()
    elif mode == "sink":

        @app.post(SINK)
        async def sink(request: Request) -> dict[str, bool]:
            await request.body()
            return {"ok": True}

    elif mode == "sink-parse":

        @app.post(SINK)
        async def sink_parse(body: CastRequest) -> dict[str, bool]:  # noqa: ARG001
            return {"ok": True}

    elif mode != "no-checker":
        raise SystemExit(f"unknown ablation {mode!r}")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wrk(
    base: str, method: str, path: str, bodies: Path | None, clients: int, seconds: float, out: Path
) -> dict[str, float]:
    """One wrk run on CPU 1 (the service has CPU 0); the figures the Lua script wrote."""
    cmd = [
        *(["taskset", "-c", "1"] if _PIN else []),
        "wrk",
        "-t1",
        f"-c{clients}",
        f"-d{seconds:.0f}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        base,
        "--",
        method,
        path,
        str(bodies) if bodies else "-",
        str(clients),
    ]
    subprocess.run(cmd, check=True, env={**os.environ, "WRK_OUT": str(out)}, capture_output=True)
    figures: dict[str, float] = json.loads(out.read_text())
    return figures


def _figures(name: str, f: dict[str, float]) -> float:
    seconds = f["duration_us"] / 1e6
    rate = f["requests"] / seconds
    errors = int(f["non2xx"] + f["connect"] + f["read"] + f["write"] + f["timeout"])
    print(
        f"{name:6s} {int(f['requests']):6d} requests in {seconds:6.2f} s = {rate:8.1f}/s   "
        f"p50 {f['p50_us'] / 1000:6.1f} ms   p99 {f['p99_us'] / 1000:6.1f} ms   "
        f"max {f['max_us'] / 1000:6.1f} ms   errors {errors}"
    )
    if errors:
        raise SystemExit(f"{name}: {errors} requests failed")
    return rate


def _start_server(
    db: Path, svc: Path, ablation: str, code: Path = ROOT
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn over the election file (on CPU 0 when pinned), ``ablate``d as ``ablation`` says,
    from the checkout ``code``; waits until it answers."""
    port = _port()
    server = subprocess.Popen(
        [
            *(["taskset", "-c", "0"] if _PIN else []),
            sys.executable,
            "-c",
            SERVER,
            str(db),
            str(svc),
            str(port),
            ablation,
            str(Path(__file__).resolve().parent),
        ],
        env={**os.environ, "PYTHONPATH": str(code)},
        cwd=code,  # `python -c` puts the working folder first on sys.path
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.terminate()
            raise SystemExit("the service did not start")
        time.sleep(0.1)


def _run_ns(path: str) -> int:
    """The first field of a ``schedstat`` file: nanoseconds on a CPU (0 when unreadable)."""
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them (the forkserver and the checker)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def _usage(pid: int) -> dict[str, float]:
    """What the service (``pid``) has used so far, from /proc (Linux; zeros elsewhere): CPU
    seconds of its main thread (the event loop: HTTP, parsing, the routes), of its other threads
    (the election thread, the pools' threads) and of its descendants (the checker), and the bytes
    it had written to the disk."""
    tasks = Path(f"/proc/{pid}/task")
    tids = [int(t.name) for t in tasks.iterdir()] if tasks.exists() else []
    main = _run_ns(f"/proc/{pid}/task/{pid}/schedstat")
    others = sum(_run_ns(f"/proc/{pid}/task/{t}/schedstat") for t in tids if t != pid)
    checker = 0
    for c in _descendants(pid):
        sub = Path(f"/proc/{c}/task")
        if sub.exists():
            checker += sum(_run_ns(f"{sub}/{t.name}/schedstat") for t in sub.iterdir())
    written = 0
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                written = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return {
        "loop_s": main / 1e9,
        "threads_s": others / 1e9,
        "checker_s": checker / 1e9,
        "written_bytes": float(written),
    }


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` (nearest rank), as wrk reports its percentiles."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


async def _cast_all(
    base: str,
    bodies: list[bytes],
    clients: int,
    path: str = "/api/remote/cast",
    *,
    warm: bool = False,
    mark: Any = None,
) -> dict[str, float]:
    """Each body POSTed once to /api/remote/cast over ``clients`` connections, each connection
    sending its next body when the answer to its last one came (a closed loop, as wrk's): the
    time from the first request to the last answer, and each request's latency (a connection's
    first includes its connect, as in wrk).

    HTTP/1.1 on asyncio streams, each request's bytes made before the clock starts: the client
    must not be what is measured. httpx, used before, spent about 2.5 ms of its core per 45 KB
    request and capped the figure at about 400 casts a second whatever the service did (a
    service that reads the body and answers at once: 80 casts in 0.20 s, p99 120 ms; with this
    client 15 ms, p99 12 ms).

    ``warm`` (bench_remote_scaling.py, never the recorded figure): every connection is opened and
    has answered one no-op before the clock starts, and ``mark()`` is called just before it
    starts, so that what is measured is the casts' own work, not the connections' set-up."""
    import asyncio  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
    )
    queue = [head.format(len(b)).encode() + b for b in reversed(bodies)]
    latencies: list[float] = []
    failed = broken = 0

    async def answer(reader: asyncio.StreamReader) -> int:
        status = int((await reader.readline()).split(b" ", 2)[1])
        length = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ConnectionError("an answer without Content-Length")
        await reader.readexactly(length)
        return status

    ready, opened = asyncio.Event(), 0
    workers = min(clients, len(queue))

    async def worker() -> None:
        nonlocal failed, broken, opened
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            broken += 1
            opened += 1
            if opened == workers:
                ready.set()
            return
        if warm:
            writer.write(f"GET /api/remote/noop HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            await answer(reader)
            opened += 1
            if opened == workers:
                ready.set()
            await ready.wait()
            t0 = 0.0
        try:
            while queue:
                request = queue.pop()
                t0 = t0 or time.perf_counter()  # the first request's clock started at connect
                writer.write(request)
                try:
                    status = await answer(reader)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    broken += 1
                    return
                latencies.append(time.perf_counter() - t0)
                t0 = 0.0
                failed += status != 200
        finally:
            writer.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
    if warm:
        await ready.wait()
        if mark is not None:
            mark()
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    us = [x * 1e6 for x in latencies]
    return {
        "requests": len(latencies),
        "duration_us": seconds * 1e6,
        "non2xx": failed,
        "connect": broken,  # any transport failure (wrk splits them by kind)
        "read": 0,
        "write": 0,
        "timeout": 0,
        "p50_us": _percentile(us, 0.50),
        "p90_us": _percentile(us, 0.90),
        "p99_us": _percentile(us, 0.99),
        "max_us": max(us),
        "start": start,  # perf_counter of the first request (not a figure)
    }


def _until_accepted(base: str, n: int, start: float) -> dict[str, float]:
    """Poll the board (it lists the accepted receipts, RV-4.2) until it lists ``n``: seconds from
    ``start`` to the first and to the last acceptance seen."""
    first = last = 0.0
    deadline = time.perf_counter() + 600
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.perf_counter() < deadline:
            count = int(client.get("/api/board/remote").json().get("count", 0))
            now = time.perf_counter() - start
            if count and not first:
                first = now
            if count >= n:
                last = now
                break
            time.sleep(0.02)
    if not last:
        raise SystemExit(f"not every cast was accepted within 600 s ({count} of {n})")
    return {"first_accepted_s": first, "all_accepted_s": last}


def main_v2(args: argparse.Namespace) -> None:
    """Version 2 (spec/remote-v2.md): real ``remote-ballot/2`` casts, received at once and checked
    off the request path (RV-4.1, RV-4.5), beside the no-op route of the same service."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import remote_v2_election as rv  # noqa: PLC0415
    from bench_elgamal import baseline_loop, count_calls  # noqa: PLC0415

    from keys import remote_ballot  # noqa: PLC0415

    os.environ.setdefault("TALLY_PASSPHRASE", rv.PASSPHRASE)
    with tempfile.TemporaryDirectory(prefix="bench-remote-v2-") as tmp:
        t0 = time.perf_counter()
        e = rv.open_election(Path(tmp), args.voters)
        votes = rv.votes(e, args.voters)
        shapes = rv.choices_per_post(e)
        print(
            f"prepared {len(votes)} credentials and remote-ballot/2 ballots ("
            + " + ".join(f"{p} {listed} listed / {c} choices" for p, listed, c in shapes)
            + f") in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        # What one acceptance costs the checker at least: one ballot's check in this process,
        # and a bare loop of the libsodium calls it makes.
        ctx = e.session.remote.ballot_context()
        v0 = votes[0]
        ops = count_calls(
            lambda: remote_ballot.check_ballot(ctx, v0.ballot, token=v0.credential.token)
        )
        c0 = time.perf_counter()
        for v in votes[:4]:
            remote_ballot.check_ballot(ctx, v.ballot, token=v.credential.token)
        check_ms = 1000 * (time.perf_counter() - c0) / len(votes[:4])
        base_ms = 1000 * baseline_loop(ops, 4) / 4
        print(
            f"in process: check_ballot {check_ms:.0f} ms a ballot; its {sum(ops.values()):,d} "
            f"libsodium calls in a bare loop {base_ms:.0f} ms",
            flush=True,
        )
        e.session.store.close()
        bodies = [json.dumps(v.cast_body()).encode() for v in votes]
        common = {
            "version": 2,
            "voters": args.voters,
            "clients": args.clients,
            "seconds": args.seconds,
            "pinned": _PIN,
            "posts": shapes,
            "check_ms": check_ms,
            "check_ops": sum(ops.values()),
            "base_ms": base_ms,
        }
        modes = args.ablate.split(",")
        runs: list[dict[str, Any]] = []
        for i in range(args.runs):  # each run, each mode in turn: the modes see the same load
            for j, mode in enumerate(modes):
                # A fresh copy of the election for each run: every credential is unused again.
                folder = Path(tmp) / f"run-{i}-{j}"
                folder.mkdir()
                shutil.copy2(Path(tmp) / "e.db", folder / "e.db")
                data = shutil.copytree(e.data_dir, folder / e.data_dir.name)
                f = _measure(folder / "e.db", data, bodies, args, mode)
                runs.append({**common, **f})
                print(
                    ("" if mode == "none" else f"[{mode}: {ABLATIONS[mode.partition('@')[0]]}] ")
                    + f"casts/noop = {f['ratio']:.4f} (target >= 0.5); cast p99 "
                    f"{f['cast']['p99_us'] / 1000:.0f} ms (target < 100 ms). End to end: every "
                    f"cast accepted {f['all_accepted_s']:.1f} s after the first request; the "
                    f"checker {f['checker_rate']:.1f} ballots/s beside one ballot's check in "
                    f"process {1000 / check_ms:.1f}/s and its bare libsodium loop "
                    f"{1000 / base_ms:.1f}/s",
                    flush=True,
                )
    if len(runs) > 1:
        print("\nmode                 no-op/s  casts/s  casts/noop    p50    p99  loop  threads")
        for r in runs:
            u, n = r["usage"], r["voters"]
            print(
                f"{r['label']:18s} {r['noop']['rate']:9.0f} {r['cast']['rate']:8.0f} "
                f"{r['ratio']:11.3f} {r['cast']['p50_us'] / 1000:6.0f} "
                f"{r['cast']['p99_us'] / 1000:6.0f} {1000 * u['loop_s'] / n:5.2f} "
                f"{1000 * u['threads_s'] / n:8.2f}"
            )
    if args.json:
        args.json.write_text(json.dumps(runs[0] if len(runs) == 1 else {"runs": runs}, indent=1))


def _measure(
    db: Path, data: Path, bodies: list[bytes], args: argparse.Namespace, mode: str
) -> dict[str, Any]:
    """One run over the election file ``db``: the no-op, the casts, (mode ``none``) the wait until
    every cast is accepted, the no-op again; the figures."""
    import asyncio  # noqa: PLC0415

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    label = mode
    mode, _, code = mode.partition("@")
    server, base = _start_server(db, data, mode, Path(code).resolve() if code else ROOT)
    out = db.parent / "wrk.json"
    try:
        _wrk(base, "GET", "/api/remote/noop", None, args.clients, 1, out)  # warm up
        print(
            f"{args.clients} concurrent connections"
            f"{' on CPU 1; uvicorn on CPU 0' if _PIN else ''}, 127.0.0.1, SQLite full sync; "
            f"load average {load:.1f}"
        )
        before = _usage(server.pid)
        noop = _wrk(base, "GET", "/api/remote/noop", None, args.clients, args.seconds, out)
        noop_used = {k: v - before[k] for k, v in _usage(server.pid).items()}
        noop_rate = _figures("noop", noop)
        per_noop = 1000 * noop_used["loop_s"] / noop["requests"]
        print(f"the service during the no-op: event loop {per_noop:.3f} ms a request")
        if _PIN:  # the client on the load generator's core
            os.sched_setaffinity(0, {1})
        path = SINK if mode.startswith("sink") else "/api/remote/cast"
        used = _usage(server.pid)

        def mark() -> None:  # --warm: the service's use from the clock's start
            used.update(_usage(server.pid))

        warm = bool(getattr(args, "warm", False))
        cast = asyncio.run(_cast_all(base, bodies, args.clients, path, warm=warm, mark=mark))
        used = {k: v - used[k] for k, v in _usage(server.pid).items()}
        start = cast.pop("start")
        cast_rate = _figures("cast", cast)
        n = len(bodies)
        print(
            f"the service during the casts: event loop {1000 * used['loop_s'] / n:.2f} ms "
            f"a cast, its other threads {1000 * used['threads_s'] / n:.2f} ms, the checker "
            f"{1000 * used['checker_s']:.0f} ms in all; {used['written_bytes'] / n / 1024:.1f} "
            "KiB a cast written to the disk"
        )
        accepted = {"first_accepted_s": float("nan"), "all_accepted_s": float("nan")}
        checker_rate = float("nan")
        if mode == "none":
            accepted = _until_accepted(base, n, start)
            span = accepted["all_accepted_s"] - accepted["first_accepted_s"]
            checker_rate = (n - 1) / span if span > 0 else float("nan")
            print(
                f"accepted: the first {accepted['first_accepted_s']:.2f} s, every one "
                f"{accepted['all_accepted_s']:.2f} s after the first request (end to end); "
                f"the checker {checker_rate:.1f} ballots/s"
            )
        after = _wrk(base, "GET", "/api/remote/noop", None, args.clients, args.seconds, out)
        after_rate = _figures("noop", after)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "noop": {**noop, "rate": noop_rate},
        "noop_after": {**after, "rate": after_rate},
        "cast": {**cast, "rate": cast_rate},
        "ratio": cast_rate / noop_rate,
        **accepted,
        "checker_rate": checker_rate,
        "ablate": mode,
        "code": str(code or ROOT),
        "label": label,
        "load": load,
        "usage": used,
        "noop_usage": noop_used,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each no-op wrk run")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument(
        "--version",
        type=int,
        choices=(2,),
        default=2,
        help="remote ballots of version 2 (encrypted choices with proofs), the only version",
    )
    ap.add_argument(
        "--voters",
        type=int,
        default=80,
        help="remote voters, one cast each (every one is a choice of every post)",
    )
    ap.add_argument(
        "--ablate",
        default="none",
        help="measure a part of the cast by taking the rest away (never for the recorded "
        "figures); a comma-separated list runs each in turn, MODE@DIR with the service from "
        "the checkout DIR (e.g. a `git archive` of main): "
        + "; ".join(f"{k}: {v}" for k, v in ABLATIONS.items()),
    )
    ap.add_argument(
        "--runs",
        type=int,
        default=1,
        help="measure this many times (each mode in turn), each on a fresh copy of the election",
    )
    args = ap.parse_args()
    unknown = {m.partition("@")[0] for m in args.ablate.split(",")} - set(ABLATIONS)
    if unknown:
        ap.error(f"unknown --ablate {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs the Debian package)")
    main_v2(args)


if __name__ == "__main__":
    main()
