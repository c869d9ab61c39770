"""Remote casting throughput and latency at 64 concurrent connections, beside the no-op baseline.

The service runs in a uvicorn subprocess on 127.0.0.1 over a real election file (SQLite at the
store's full sync), pinned to CPU 0; the load comes from ``wrk`` (one thread, 64 connections) pinned
to CPU 1, so the load generator does not steal the service's core. Credentials and sealed ballots are
made beforehand in Python (keys.remote, the device side); ``bench/wrk/replay.lua`` sends each cast
body once. The timed part is the service: RSASSA-PSS verify, the single-use check and the group
commit of the log entries. The same run measures ``GET /api/remote/noop`` (same app, same middleware)
for the same time as the baseline, alternating: ``--repeats`` pairs of (no-op, casts) runs, each cast
run with its own unused credentials. The pair with the median casts/no-op ratio is reported (the
no-op rate alone moved by 10 % between single runs on a shared 2-core machine). Target (issue):
casts/s >= half the no-op rate, p99 < 100 ms. Runs are 1 s long: on an idle machine the service
casts over 3,000 a second, and a roster holds at most 20,000 members, so longer runs would run
out of credentials (wrk then still reports its whole duration, and the rate would be the
credentials', not the service's: such a run is refused).

    .venv/bin/python bench/bench_remote.py [--casts 19990] [--seconds 1] [--repeats 3] [--json F]
    .venv/bin/python bench/bench_remote.py --version 2 [--voters 80] [--json F]

``--version 2`` (spec/remote-v2.md): remote voting opened in version 2 (with ``open_remote``'s
version switch while version 1 exists, by default once it is gone), ``--voters`` approved members
each holding a credential and a real ``remote-ballot/2`` made beforehand by the v2 device's code
(bench/remote_v2_election.py: a 9-candidate committee and a 2-candidate secretary, each post with
every other expected elector as its write-in list, RV-2.1). The service checks every ballot's
proofs before it accepts the cast (RV-3.5, RV-4.1), so a cast costs hundreds of milliseconds, not
a fraction of one, and a remote voter is a choice of every post (at most 256, RV-2.2): the few
dozen casts there can be are sent once each by a Python client over ``--clients`` connections in
a closed loop (each connection sends its next cast when its last is answered), timed from the
first request to the last answer; wrk, whose runs have a fixed length, would either run out of
credentials or stop before the first group commit answers. The no-op route is measured by wrk for
``--seconds`` before and after the casts. Also printed: one ballot's ``check_ballot`` in this
process and a bare loop of its libsodium calls, which bound the rate (one core: the service
checks on its election thread) and, at 64 connections, the latency (Little's law).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing
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
import rfc8785

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keys
from bench.synthetic import _definition
from keys.remote import (
    TokenRequest,
    begin_token_request,
    finish_token_request,
    load_issuer_public_key,
    seal_ballot,
)
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, sign_manifest

PASSPHRASE = "bench remote passphrase 2026"
LUA = Path(__file__).resolve().parent / "wrk" / "replay.lua"
# Pin the service and the load generator to one core each when the machine has two or more.
_PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


# The devices' side in the forked process: the issuer's key, the election id, the ballot key and
# the posts of ``remote_info`` (set before the fork; an RSA key object is not pickled).
_DEVICE: tuple[Any, bytes, bytes, list[dict[str, Any]]] | None = None


def _begin(_: int) -> TokenRequest:
    assert _DEVICE is not None
    issuer, eid, _, _ = _DEVICE
    return begin_token_request(issuer, eid)


def _finish(req: TokenRequest, blind_sig: bytes) -> dict[str, str]:
    """A device's cast body: its credential from the issuer's answer, and its sealed ballot."""
    assert _DEVICE is not None
    issuer, eid, ballot_key, posts = _DEVICE
    cred = finish_token_request(req, issuer, blind_sig)
    token = base64.b64encode(cred.token).decode()
    ballot = {
        "format": "remote-ballot/1",
        "election_id": eid.hex(),
        "token": token,
        "posts": [
            {
                "post": p["post"],
                "candidates": [c["id"] for c in p["candidates"]],
                "marks": "o" + "-" * (len(p["candidates"]) - 1),
                "write_ins": [],
            }
            for p in posts
        ],
    }
    sealed = seal_ballot(ballot_key, rfc8785.dumps(ballot))
    return {
        "token": token,
        "token_prefix": base64.b64encode(cred.prefix).decode(),
        "token_signature": base64.b64encode(cred.signature).decode(),
        "sealed": base64.b64encode(sealed).decode(),
    }


def prepare(folder: Path, casts: int) -> tuple[Path, Path, list[dict[str, str]]]:
    """An election with ``casts`` approved members, each holding a credential and a sealed ballot
    (version 1)."""
    data = _definition(casts + 10)
    data["remote_voting"] = {
        "approved": [f"B{i:05d}" for i in range(1, casts + 1)],
        "counts_toward_quorum": False,
    }
    data["election"]["date"] = dt.date.today() + dt.timedelta(days=2)  # type: ignore[index]
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    manifest = build_manifest(
        parse_definition_data(data), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    db, svc = folder / "e.db", folder / "svc"
    s = ElectionSession.init(db, sign_manifest(manifest, town), wg)
    s.open_remote(signer=wg, k=1, data_dir=svc)
    info = s.remote_info()
    eid = bytes.fromhex(info["election_id"])
    issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    ballot_key = base64.b64decode(info["ballot_key"])
    global _DEVICE  # noqa: PLW0603 - read by the forked device process
    _DEVICE = (issuer, eid, ballot_key, info["posts"])
    # The devices' side (blind, finalize, seal) in a second process while this one, the service's
    # side, issues and redeems the invitations in order; the same bodies in the same order.
    with multiprocessing.get_context("fork").Pool(1) as device:
        finished = []
        for i, req in enumerate(device.imap(_begin, range(casts), chunksize=64), start=1):
            code, _ = s.issue_invitation(f"B{i:05d}", data_dir=svc)
            blind_sig = s.redeem_invitation(code, req.blinded_msg, data_dir=svc)
            finished.append(device.apply_async(_finish, (req, blind_sig)))
        bodies = [f.get() for f in finished]
    _DEVICE = None
    s.store.close()
    return db, svc, bodies


SERVER = """
import sys, uvicorn
from pathlib import Path
from tally.service import ServiceConfig, create_app
app = create_app(ServiceConfig(election_path=Path(sys.argv[1]), data_dir=Path(sys.argv[2])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


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


def _start_server(db: Path, svc: Path) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn over the election file (on CPU 0 when pinned); waits until it answers."""
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
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
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


def _percentile(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` (nearest rank), as wrk reports its percentiles."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


async def _cast_all(base: str, bodies: list[bytes], clients: int) -> dict[str, float]:
    """Each body POSTed once to /api/remote/cast over ``clients`` connections, each connection
    sending its next body when the answer to its last one came (a closed loop, as wrk's): the
    time from the first request to the last answer, and each request's latency."""
    import asyncio  # noqa: PLC0415

    queue = list(reversed(bodies))
    latencies: list[float] = []
    failed = broken = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=600) as client:

        async def worker() -> None:
            nonlocal failed, broken
            while queue:
                body = queue.pop()
                t0 = time.perf_counter()
                try:
                    r = await client.post(
                        "/api/remote/cast",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError:
                    broken += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                failed += r.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
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
    }


def main_v2(args: argparse.Namespace) -> None:
    """Version 2 (spec/remote-v2.md): real ``remote-ballot/2`` casts, each proof checked before
    the cast is accepted (RV-3.5, RV-4.1), beside the no-op route of the same service."""
    import asyncio  # noqa: PLC0415

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
        # What one acceptance costs at least: the service's own check of one ballot, in this
        # process, and a bare loop of the libsodium calls it makes.
        ctx = e.session.ballot_context()
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
        server, base = _start_server(Path(tmp) / "e.db", e.data_dir)
        out = Path(tmp) / "wrk.json"
        try:
            _wrk(base, "GET", "/api/remote/noop", None, args.clients, 1, out)  # warm up
            print(
                f"{args.clients} concurrent connections"
                f"{' on CPU 1; uvicorn on CPU 0' if _PIN else ''}, 127.0.0.1, SQLite full sync"
            )
            noop = _wrk(base, "GET", "/api/remote/noop", None, args.clients, args.seconds, out)
            noop_rate = _figures("noop", noop)
            if _PIN:  # the client on the load generator's core
                os.sched_setaffinity(0, {1})
            cast = asyncio.run(_cast_all(base, bodies, args.clients))
            cast_rate = _figures("cast", cast)
            after = _wrk(base, "GET", "/api/remote/noop", None, args.clients, args.seconds, out)
            after_rate = _figures("noop", after)
        finally:
            server.terminate()
            server.wait(timeout=10)
    ratio = cast_rate / noop_rate
    print(
        f"casts/noop = {ratio:.4f} (target >= 0.5); cast p99 {cast['p99_us'] / 1000:.0f} ms "
        f"(target < 100 ms). Bound: one core checks {1000 / check_ms:.1f} ballots a second "
        f"(its bare libsodium loop {1000 / base_ms:.1f}); at {args.clients} connections in a "
        f"closed loop a cast waits about {args.clients} x {check_ms:.0f} ms = "
        f"{args.clients * check_ms / 1000:.1f} s"
    )
    figures = {
        "version": 2,
        "voters": args.voters,
        "clients": args.clients,
        "seconds": args.seconds,
        "pinned": _PIN,
        "posts": shapes,
        "noop": {**noop, "rate": noop_rate},
        "noop_after": {**after, "rate": after_rate},
        "cast": {**cast, "rate": cast_rate},
        "ratio": ratio,
        "check_ms": check_ms,
        "check_ops": sum(ops.values()),
        "base_ms": base_ms,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--casts", type=int, default=19990, help="credentials prepared (all runs; roster <= 20,000)"
    )
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each wrk run")
    ap.add_argument("--repeats", type=int, default=3, help="(no-op, casts) pairs; median reported")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument(
        "--version",
        type=int,
        choices=(1, 2),
        default=1,
        help="remote ballots of version 1 (sealed) or 2 (encrypted choices with proofs)",
    )
    ap.add_argument(
        "--voters",
        type=int,
        default=80,
        help="version 2: remote voters, one cast each (every one is a choice of every post)",
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs the Debian package)")
    if args.version == 2:
        main_v2(args)
        return
    os.environ["TALLY_PASSPHRASE"] = PASSPHRASE
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        t0 = time.perf_counter()
        db, svc, bodies = prepare(Path(tmp), args.casts)
        print(
            f"prepared {len(bodies)} credentials and sealed ballots in {time.perf_counter() - t0:.1f} s"
        )
        # One file of unused credentials per cast run (replay.lua sends each body once).
        share = len(bodies) // args.repeats
        bodies_files = []
        for i in range(args.repeats):
            f = Path(tmp) / f"casts-{i}.jsonl"
            f.write_text("".join(json.dumps(b) + "\n" for b in bodies[i * share : (i + 1) * share]))
            bodies_files.append(f)
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
            ],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        base = f"http://127.0.0.1:{port}"
        out = Path(tmp) / "wrk.json"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the service did not start")
                time.sleep(0.1)
            _wrk(base, "GET", "/api/remote/noop", None, args.clients, 1, out)  # warm up
            print(
                f"{args.clients} concurrent connections from wrk"
                f"{' on CPU 1; uvicorn on CPU 0' if _PIN else ''}, 127.0.0.1, SQLite full sync"
            )
            pairs = []
            for bodies_file in bodies_files:
                noop = _wrk(base, "GET", "/api/remote/noop", None, args.clients, args.seconds, out)
                noop_rate = _figures("noop", noop)
                cast = _wrk(
                    base, "POST", "/api/remote/cast", bodies_file, args.clients, args.seconds, out
                )
                if cast["requests"] >= share - args.clients:
                    # replay.lua stopped when they ran out, but wrk still reports its whole -d
                    # duration: the rate would be the credentials', not the service's.
                    raise SystemExit(
                        f"the {share} credentials of a run ran out before {args.seconds:.0f} s: "
                        "raise --casts (the roster holds at most 20,000) or lower --seconds"
                    )
                cast_rate = _figures("cast", cast)
                pairs.append((cast_rate / noop_rate, noop, noop_rate, cast, cast_rate))
            ratio, noop, noop_rate, cast, cast_rate = sorted(pairs, key=lambda p: p[0])[
                len(pairs) // 2
            ]
            print(
                f"casts/noop = {ratio:.2f}, the median of "
                f"{', '.join(f'{p[0]:.2f}' for p in pairs)} (target >= 0.5); "
                f"cast p99 {cast['p99_us'] / 1000:.1f} ms in that pair (target < 100 ms)"
            )
            if args.json:
                figures = {
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "pinned": _PIN,
                    "noop": {**noop, "rate": noop_rate},
                    "cast": {**cast, "rate": cast_rate},
                    "ratio": ratio,
                    "ratios": [p[0] for p in pairs],
                }
                args.json.write_text(json.dumps(figures, indent=1))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
