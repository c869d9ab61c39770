"""Peak memory of the real server under a flood of oversized requests, beside its idle memory.

``tally serve`` (the command polling day runs, with the limits of ``RequestLimits``) starts in a
subprocess on 127.0.0.1 over an election with remote voting open. The same run measures, from
``/proc/PID/status`` of the server:

1. idle: its resident memory after start-up and one request of each kind (lazy imports done);
2. baseline flood: ``--clients`` connections sending small valid requests (``GET
   /api/remote/noop``) for ``--baseline-seconds``: what concurrency alone costs;
3. oversized flood: ``--clients`` connections (more than the connection cap) for ``--seconds``,
   each looping over the hostile kinds: a chunked body with no length streamed until the server
   answers, a huge Content-Length (1 TB), a Content-Length just under the body limit sent slowly
   (held until the body deadline), and malformed JSON just under the limit (lone surrogates, deep
   nesting, a huge integer), to the JSON endpoints and the station's sign-in form.

VmRSS is sampled every 20 ms and the kernel's high-water mark (VmHWM, reset with ``clear_refs``
before each phase) is read after each phase, so a peak between samples is not missed. The stated
bound (SECURITY.md "Resource limits") is derived from the limits:

    idle + max_connections x (2 x max_body_bytes + read buffer + max_header_bytes)
         + one parsed body

(twice the body: Starlette keeps the chunks it received and then joins them into one bytes
object, so a request whose whole body arrived holds two copies for a moment).

    .venv/bin/python bench/bench_oversized_flood.py [--seconds 20] [--baseline-seconds 5] [--clients 256] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service.limits import RequestLimits
from tally.session_config import SessionConfig

ROOT = Path(__file__).resolve().parents[1]
READ_BUFFER = 64 * 1024  # uvicorn's h11 reads at most this much from a socket at a time
# A parsed JSON body of the limit's size, as Python objects (measured: ~10x its bytes; one at a
# time, the parse runs on the event loop).
PARSED_BODY_FACTOR = 16
PASSPHRASE = "bench flood passphrase 2026"
KINDS = ("chunked", "huge_length", "slow_body", "malformed")


def stated_bound_mib(limits: RequestLimits, idle_mib: float) -> float:
    """The bound SECURITY.md states: every open connection holding a full body twice (chunks,
    then joined), its read buffer and a full header block, plus one parsed body, over the idle
    server."""
    per_connection = 2 * limits.max_body_bytes + READ_BUFFER + limits.max_header_bytes
    held = limits.max_connections * per_connection + PARSED_BODY_FACTOR * limits.max_body_bytes
    return idle_mib + held / 2**20


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])  # kB
    return out


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS


class Sampler(threading.Thread):
    """VmRSS of the server every 20 ms while a phase runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.samples.append(_status(self.pid)["VmRSS"])
            self.stop.wait(0.02)


def _prepare(folder: Path) -> tuple[Path, Path]:
    def pub(s: keys.InMemorySigner) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
        return doc

    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    manifest = build_manifest(
        parse_definition(text), work_group_key=pub(wg), scrutineer_keys=(pub(sc),)
    )
    db, svc = folder / "e.db", folder / "svc"
    s = ElectionSession.init(
        SessionConfig(db, passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.remote.open(signer=wg, k=1, data_dir=svc)
    s.store.close()
    return db, svc


def _malformed(limit: int) -> list[bytes]:
    """Malformed JSON just under the body limit: it reaches the parser."""
    n = limit - 64
    return [
        b'{"token": "' + b"\\ud800" * (n // 6 - 2) + b'"}',
        b"[" * (n // 2) + b"]" * (n // 2),
        b'{"token": ' + b"9" * (n - 12) + b"}",
        b'{"token": "' + b"\xff" * (n - 16) + b'"}',
    ]


# Casts twice: redeem (429 after 5 failures) and the sign-in form (403 without its CSRF cookie)
# refuse a flooding source before reading its body.
PATHS = ("/api/remote/cast", "/api/remote/cast", "/api/remote/redeem", "/station/login")


# The clients come from 16 loopback addresses, 16 of the 256 from each: under the per-source cap
# (32), so the flood fills the service-wide cap as many hosts on the network would.
SOURCES = 16


def _source(i: int) -> str:
    return f"127.0.1.{i % SOURCES + 1}"


async def _exchange(
    host: str, port: int, head: bytes, body: Any, deadline: float, source: str = "127.0.0.1"
) -> int:
    """Send one request (``body``: bytes, or an async generator of chunks) from ``source`` and
    read the status; 0 when the server closed the connection without an answer (the connection
    cap's 503 is a status)."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    status = 0

    async def read_status() -> int:
        line = await reader.readline()
        parts = line.split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    reading = asyncio.create_task(read_status())
    try:
        writer.write(head)
        if isinstance(body, bytes):
            writer.write(body)
            await writer.drain()
        else:
            async for chunk in body:
                if reading.done() or time.monotonic() > deadline + 15:
                    break
                writer.write(chunk)
                await writer.drain()
        status = await asyncio.wait_for(reading, timeout=max(1.0, deadline + 20 - time.monotonic()))
    except (ConnectionError, TimeoutError, OSError):
        status = reading.result() if reading.done() and not reading.exception() else 0
    finally:
        reading.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return status


async def _client(
    i: int, host: str, port: int, limit: int, deadline: float, tally: collections.Counter[str]
) -> None:
    malformed = _malformed(limit)
    chunk = b"[" + b"1," * 32 * 1024  # 64 KiB of a JSON list that never ends
    n = i
    while time.monotonic() < deadline:
        kind = KINDS[n % len(KINDS)]
        path = PATHS[n // len(KINDS) % len(PATHS)] if kind != "malformed" else PATHS[0]
        n += 1
        start = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        if kind == "chunked":

            async def chunks() -> Any:
                while True:
                    yield b"%x\r\n%s\r\n" % (len(chunk), chunk)

            head = (start + "Transfer-Encoding: chunked\r\n\r\n").encode()
            status = await _exchange(host, port, head, chunks(), deadline, _source(i))
        elif kind == "huge_length":
            head = (start + f"Content-Length: {10**12}\r\n\r\n").encode()
            status = await _exchange(host, port, head, chunk * 4, deadline, _source(i))
        elif kind == "slow_body":

            async def slow() -> Any:
                left = limit - 1 - 1024
                while left > 0:
                    yield chunk[: min(16384, left)]
                    left -= 16384
                    await asyncio.sleep(0.2)
                while True:  # the last KiB never comes: held until the body deadline
                    await asyncio.sleep(0.5)
                    yield b" "

            head = (start + f"Content-Length: {limit - 1}\r\n\r\n").encode()
            status = await _exchange(host, port, head, slow(), deadline, _source(i))
        else:
            body = malformed[n % len(malformed)]
            head = (start + f"Content-Length: {len(body)}\r\n\r\n").encode()
            status = await _exchange(host, port, head, body, deadline, _source(i))
        tally[f"{kind} {status or 'closed'}"] += 1


async def _noop_client(
    i: int, host: str, port: int, deadline: float, tally: collections.Counter[str]
) -> None:
    head = f"GET /api/remote/noop HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            status = await _exchange(host, port, head, b"", deadline, _source(i))
        except OSError:
            status = 0
        tally[f"noop {status or 'closed'}"] += 1


def _phase(name: str, pid: int, seconds: float, make: Any) -> dict[str, Any]:
    """Run ``make(deadline, tally)`` (a coroutine) for ``seconds``; the server's memory meanwhile."""
    tally: collections.Counter[str] = collections.Counter()
    _reset_peak(pid)
    sampler = Sampler(pid)
    sampler.start()
    t0 = time.monotonic()
    asyncio.run(make(t0 + seconds, tally))
    elapsed = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    hwm = _status(pid)["VmHWM"]
    samples = sampler.samples or [hwm]
    figures = {
        "seconds": elapsed,
        "peak_mib": max(hwm, *samples) / 1024,
        "sampled_max_mib": max(samples) / 1024,
        "mean_mib": sum(samples) / len(samples) / 1024,
        # a leak would show as a higher peak in the second half than in the first
        "half_peaks_mib": [
            max(samples[: len(samples) // 2] or samples) / 1024,
            max(samples[len(samples) // 2 :]) / 1024,
        ],
        "requests": sum(tally.values()),
        "outcomes": dict(sorted(tally.items())),
    }
    print(
        f"{name:9s} {elapsed:5.1f} s  {figures['requests']:6d} requests  peak "
        f"{figures['peak_mib']:6.1f} MiB  mean {figures['mean_mib']:6.1f} MiB  "
        + ", ".join(f"{k}: {v}" for k, v in figures["outcomes"].items())
    )
    return figures


def _wait_ready(host: str, port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the service exited at start-up")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.2)
    raise SystemExit("the service did not start")


def _warm_up(host: str, port: int, limit: int) -> None:
    """One request of each kind and path, so lazy imports are in the idle figure."""

    async def run() -> None:
        tally: collections.Counter[str] = collections.Counter()
        deadline = time.monotonic() + 5
        small = b'{"token": "x"}'
        for path in (*PATHS, "/api/remote/info", "/station/"):
            method = "GET" if path.endswith(("info", "/")) else "POST"
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(small) if method == 'POST' else 0}\r\n\r\n"
            ).encode()
            await _exchange(host, port, head, small if method == "POST" else b"", deadline)
        for body in _malformed(limit):
            head = (
                f"POST /api/remote/cast HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            await _exchange(host, port, head, body, deadline)
        del tally

    asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 20 s and 5 s since 2026-12-07 (were 30 s and 10 s): the 30 s flood's peak in its first
    # half was within 3 % of its whole peak, and the baseline's peak is the idle server's.
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the oversized flood")
    ap.add_argument("--baseline-seconds", type=float, default=5.0)
    ap.add_argument(
        "--clients", type=int, default=256, help="concurrent connections (cap: 200 open)"
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    limits = RequestLimits()  # what `tally serve` runs
    os.environ.setdefault("TALLY_PASSPHRASE", PASSPHRASE)  # the issuer key file's, at the open
    host = "127.0.0.1"
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        db, svc = _prepare(Path(tmp))
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tally",
                "serve",
                str(db),
                "--data",
                str(svc),
                "--host",
                host,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait_ready(host, port, server)
            _warm_up(host, port, limits.max_body_bytes)
            time.sleep(1.0)
            idle_mib = _status(server.pid)["VmRSS"] / 1024
            bound = stated_bound_mib(limits, idle_mib)
            print(
                f"tally serve (pid {server.pid}) on {host}:{port}: body limit "
                f"{limits.max_body_bytes // 1024} KiB, cap {limits.max_connections} connections, "
                f"body deadline {limits.body_timeout_seconds:.0f} s; idle RSS {idle_mib:.1f} MiB"
            )

            async def baseline(deadline: float, tally: collections.Counter[str]) -> None:
                await asyncio.gather(
                    *(_noop_client(i, host, port, deadline, tally) for i in range(args.clients))
                )

            async def flood(deadline: float, tally: collections.Counter[str]) -> None:
                await asyncio.gather(
                    *(
                        _client(i, host, port, limits.max_body_bytes, deadline, tally)
                        for i in range(args.clients)
                    )
                )

            base = _phase("baseline", server.pid, args.baseline_seconds, baseline)
            over = _phase("oversized", server.pid, args.seconds, flood)
            time.sleep(2.0)
            after_mib = _status(server.pid)["VmRSS"] / 1024
            alive = server.poll() is None
            log.flush()
            lines = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
            capped = sum("Exceeded concurrency limit" in line for line in lines)
            tracebacks = sum(line.startswith("Traceback") for line in lines)
            print(f"server log: {capped} connections over the cap (503), {tracebacks} tracebacks")
            print(
                f"idle {idle_mib:.1f} MiB; peak under {args.clients} small-request clients "
                f"{base['peak_mib']:.1f} MiB; peak under the oversized flood "
                f"{over['peak_mib']:.1f} MiB (+{over['peak_mib'] - idle_mib:.1f}); stated bound "
                f"{bound:.1f} MiB: {'within' if over['peak_mib'] <= bound else 'EXCEEDED'}; "
                f"{after_mib:.1f} MiB 2 s after; server {'alive' if alive else 'DEAD'}"
            )
            if args.json:
                figures = {
                    "clients": args.clients,
                    "max_connections": limits.max_connections,
                    "max_body_kib": limits.max_body_bytes // 1024,
                    "body_timeout_seconds": limits.body_timeout_seconds,
                    "idle_mib": idle_mib,
                    "baseline": base,
                    "flood": over,
                    "bound_mib": bound,
                    "after_mib": after_mib,
                    "alive": alive,
                    "over_cap": capped,
                    "tracebacks": tracebacks,
                }
                args.json.write_text(json.dumps(figures, indent=1))
            if not alive or tracebacks or over["peak_mib"] > bound:
                raise SystemExit("the server left the stated bound")
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
