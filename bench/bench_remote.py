"""Remote casting throughput and latency at 64 concurrent clients, beside the no-op baseline.

The service runs in a uvicorn subprocess on 127.0.0.1 over a real election file (SQLite at the
store's full sync). Credentials and sealed ballots are made beforehand in Python (keys.remote, the
device side), so the timed part is the service: RSASSA-PSS verify, the single-use check and one
committed log entry per cast. The same run measures ``GET /api/remote/noop`` (same app, same
middleware) as the baseline. Target (issue): casts/s >= half the no-op rate, p99 < 100 ms.

    .venv/bin/python bench/bench_remote.py [--casts 640] [--noop 3000] [--clients 64]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import socket
import statistics
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
    begin_token_request,
    finish_token_request,
    load_issuer_public_key,
    seal_ballot,
)
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, sign_manifest

PASSPHRASE = "bench remote passphrase 2026"
TIME_LIMIT_S = 120.0


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def prepare(folder: Path, casts: int) -> tuple[Path, Path, list[dict[str, str]]]:
    """An election with ``casts`` approved members, each holding a credential and a sealed ballot."""
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
    bodies = []
    for i in range(1, casts + 1):
        code, _ = s.issue_invitation(f"B{i:05d}", data_dir=svc)
        req = begin_token_request(issuer, eid)
        cred = finish_token_request(
            req, issuer, s.redeem_invitation(code, req.blinded_msg, data_dir=svc)
        )
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
                for p in info["posts"]
            ],
        }
        sealed = seal_ballot(ballot_key, rfc8785.dumps(ballot))
        bodies.append(
            {
                "token": token,
                "token_prefix": base64.b64encode(cred.prefix).decode(),
                "token_signature": base64.b64encode(cred.signature).decode(),
                "sealed": base64.b64encode(sealed).decode(),
            }
        )
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


async def _load(
    base: str, requests: list[tuple[str, str, dict[str, str] | None]], clients: int
) -> tuple[float, list[float], dict[int, int]]:
    """Run the requests with ``clients`` concurrent connections; (seconds, latencies, statuses)."""
    queue: asyncio.Queue[tuple[str, str, dict[str, str] | None]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + TIME_LIMIT_S
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty() and time.monotonic() < deadline:
                method, path, body = queue.get_nowait()
                t0 = time.perf_counter()
                r = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - t0)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - start, latencies, statuses


def _figures(name: str, seconds: float, lat: list[float], statuses: dict[int, int]) -> float:
    rate = len(lat) / seconds
    q = statistics.quantiles(lat, n=100)
    print(
        f"{name:6s} {len(lat):6d} requests in {seconds:6.2f} s = {rate:8.1f}/s   "
        f"p50 {q[49] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   statuses {statuses}"
    )
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--casts", type=int, default=640)
    ap.add_argument("--noop", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=64)
    args = ap.parse_args()
    os.environ["TALLY_PASSPHRASE"] = PASSPHRASE
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        t0 = time.perf_counter()
        db, svc, bodies = prepare(Path(tmp), args.casts)
        print(
            f"prepared {len(bodies)} credentials and sealed ballots in {time.perf_counter() - t0:.1f} s"
        )
        port = _port()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(db), str(svc), str(port)],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        base = f"http://127.0.0.1:{port}"
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
            warm = [("GET", "/api/remote/noop", None)] * 200
            asyncio.run(_load(base, warm, args.clients))
            noop = [("GET", "/api/remote/noop", None)] * args.noop
            casts = [("POST", "/api/remote/cast", b) for b in bodies]
            print(f"{args.clients} concurrent clients, uvicorn on 127.0.0.1, SQLite full sync")
            noop_rate = _figures("noop", *asyncio.run(_load(base, noop, args.clients)))
            cast_rate = _figures("cast", *asyncio.run(_load(base, casts, args.clients)))
            print(f"casts/noop = {cast_rate / noop_rate:.2f} (target >= 0.5); target p99 < 100 ms")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
