"""The casts' load client of bench/bench_remote.py (``_cast_all``) against a local HTTP server
that counts what it receives: every body is sent once, and with ``warm`` every connection answers
one no-op before the clock starts, ``mark`` is called once then, and the no-ops are neither timed
nor counted (bench_remote_scaling.py, ADR 0061)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_remote() -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_remote  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return bench_remote


async def _serve_and_cast(
    bench_remote: ModuleType, bodies: list[bytes], clients: int, *, warm: bool
) -> tuple[dict[str, float], list[str], int]:
    seen: list[str] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while line := await reader.readline():
            method, path, _ = line.decode().split(" ", 2)
            length = 0
            while (h := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = h.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            seen.append(f"{method} {path} {body.decode()}")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    marks: list[int] = []
    async with server:
        figures = await bench_remote._cast_all(
            f"http://127.0.0.1:{port}",
            bodies,
            clients,
            warm=warm,
            mark=lambda: marks.append(len(seen)),
        )
    return figures, seen, marks[0] if marks else -1


@pytest.mark.parametrize("clients", [1, 3, 8])
def test_warm_connections_answer_a_noop_each_before_the_clock_and_every_cast_once(
    bench_remote: ModuleType, clients: int
) -> None:
    bodies = [f'{{"n": {i}}}'.encode() for i in range(5)]
    figures, seen, seen_at_mark = asyncio.run(
        _serve_and_cast(bench_remote, bodies, clients, warm=True)
    )
    workers = min(clients, len(bodies))
    assert seen_at_mark == workers  # every connection's no-op answered before the clock
    assert seen[:workers] == ["GET /api/remote/noop "] * workers
    assert sorted(seen[workers:]) == sorted(f"POST /api/remote/cast {b.decode()}" for b in bodies)
    assert figures["requests"] == len(bodies)  # the no-ops are not counted
    assert figures["non2xx"] == 0 and figures["connect"] == 0


def test_cold_connections_send_only_the_casts(bench_remote: ModuleType) -> None:
    bodies = [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    figures, seen, seen_at_mark = asyncio.run(_serve_and_cast(bench_remote, bodies, 2, warm=False))
    assert seen_at_mark == -1  # mark is only for warm connections
    assert all(s.startswith("POST /api/remote/cast ") for s in seen) and len(seen) == 3
    assert figures["requests"] == 3
