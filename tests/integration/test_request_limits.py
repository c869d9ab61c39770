"""Issue 14 point 1: requests cannot exhaust the server (a real uvicorn on 127.0.0.1).

Bodies are cut off at the limit while streaming whatever the transfer encoding (chunked, a lying
Content-Length), malformed JSON of any kind is a 4xx with a JSON body and the security headers,
and a client that sends its headers one byte a second is disconnected within the stated bound.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally.service import ServiceConfig, create_app
from tally.service.app import SECURITY_HEADERS
from tally.service.limits import RequestLimits, uvicorn_config
from tests.helpers.http_session import free_port, remote_election, running

BODY_LIMIT = 64 * 1024
JSON_ENDPOINTS = ("/api/remote/redeem", "/api/remote/cast")


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@contextlib.contextmanager
def _served(tmp_path: Path, limits: RequestLimits) -> Iterator[tuple[str, int]]:
    import uvicorn  # noqa: PLC0415

    e = remote_election(tmp_path)
    e.session.store.close()
    app = create_app(
        ServiceConfig(election_path=e.path, data_dir=e.data, extra={"request_limits": limits})
    )
    port = free_port()
    with running(uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port, limits=limits))):
        yield f"http://127.0.0.1:{port}", port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    limits = RequestLimits(
        max_body_bytes=BODY_LIMIT,
        body_timeout_seconds=2.0,
        header_timeout_seconds=2.0,
        keep_alive_seconds=2,
        max_connections=32,
        # over the 40 connections the test of the service-wide cap opens from 127.0.0.1 (the
        # per-source cap: tests/integration/test_connection_sources.py)
        max_connections_per_source=64,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TALLY_PASSPHRASE", "correct horse battery staple")
        with _served(tmp_path_factory.mktemp("limits"), limits) as s:
            yield s


def _assert_refusal(r: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text[:300])
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, k
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = json.loads(r.content)
    return body


def _raw_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    out = b""
    with contextlib.suppress(ConnectionError, TimeoutError):
        while chunk := sock.recv(65536):
            out += chunk
    return out


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_chunked_body_without_length_is_cut_off_at_the_limit_while_streaming(
    served: tuple[str, int], path: str
) -> None:
    """200 MB chunked to a 64 KiB limit: 413 early, and the server's memory does not follow."""
    base, _ = served
    sent = 0
    total = 200 * 1024 * 1024
    chunk = b"[" + b"1," * (256 * 1024)

    def body() -> Iterator[bytes]:
        nonlocal sent
        while sent < total:
            sent += len(chunk)
            yield chunk

    before = _rss_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak from here on
    with httpx.Client(timeout=30) as client:
        try:
            r = client.post(
                base + path, content=body(), headers={"content-type": "application/json"}
            )
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as e:
            pytest.fail(f"the server dropped the connection without a 413: {e!r} after {sent}")
    growth_mib = (_rss_kib("VmHWM") - before) / 1024
    print(f"{path}: {sent} bytes sent, peak RSS growth {growth_mib:.1f} MiB, {r.status_code}")
    body_json = _assert_refusal(r, 413)
    assert body_json["code"] == "request.too_large"
    assert sent < 64 * 1024 * 1024, f"the whole body was read: {sent}"
    assert growth_mib < 32, f"peak RSS grew {growth_mib:.1f} MiB"


def test_flood_of_oversized_requests_keeps_peak_memory_bounded(served: tuple[str, int]) -> None:
    """24 clients at once (under the 32-connection cap) each stream 16 MB chunked: every one
    gets 413 and the server's peak RSS grows by less than 48 MiB (measured in SECURITY.md)."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    base, _ = served
    chunk = b"[" + b"1," * (32 * 1024)

    def one(_: int) -> int:
        def body() -> Iterator[bytes]:
            for _ in range(16 * 1024 * 1024 // len(chunk)):
                yield chunk

        with httpx.Client(timeout=30) as client:
            r = client.post(
                base + "/api/remote/cast",
                content=body(),
                headers={"content-type": "application/json"},
            )
            return r.status_code

    before = _rss_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(one, range(24)))
    growth_mib = (_rss_kib("VmHWM") - before) / 1024
    print(
        f"flood: 24 x 16 MB chunked, statuses {set(statuses)}, peak RSS growth {growth_mib:.1f} MiB"
    )
    assert set(statuses) == {413}
    assert growth_mib < 48, f"peak RSS grew {growth_mib:.1f} MiB"


def test_lying_content_length_is_cut_off_at_the_limit(served: tuple[str, int]) -> None:
    """Content-Length says 10 bytes under the limit, the body keeps coming: the server reads only
    what was declared and refuses the rest; a length over the limit is refused before reading."""
    base, port = served
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/remote/redeem HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (BODY_LIMIT + 1)
        )
        sock.sendall(b"x" * 100)
        reply = _raw_response(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/remote/redeem HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
            + b"x" * (4 * BODY_LIMIT)
        )
        reply = _raw_response(sock)
    first = reply.split(b"\r\n", 1)[0]
    assert first.startswith(b"HTTP/1.1 4"), reply[:200]  # the declared 10 bytes: not JSON
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/remote/redeem HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        assert _raw_response(sock).startswith(b"HTTP/1.1 400")
    assert httpx.get(base + "/api/remote/noop").status_code == 200


def test_body_shorter_than_its_content_length_times_out(served: tuple[str, int]) -> None:
    """A body that stops short of its Content-Length is abandoned after the body timeout (2 s
    here) with 408, not held open for ever."""
    _, port = served
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /api/remote/redeem HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        reply = _raw_response(sock)
    assert time.monotonic() - start < 6
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert b"x-content-type-options: nosniff" in head.lower()
    assert json.loads(payload)["code"] == "request.timeout"


MALFORMED: dict[str, bytes] = {
    "lone_surrogate_value": b'{"code": "\\ud800", "blinded_msg": "\\udfff"}',
    "lone_surrogate_key": b'{"code": "a", "blinded_msg": "b", "\\ud800": "\\ud800"}',
    "lone_surrogate_everywhere": (
        b'{"code": "\\ud800", "blinded_msg": "\\ud800", "token": "\\ud800", '
        b'"token_prefix": "\\ud800", "token_signature": "\\ud800", "ballot": "\\ud800"}'
    ),
    "invalid_utf8": b'{"code": "\xff\xfe", "blinded_msg": "\xc3("}',
    "huge_exponent": b'{"code": 1e999999, "blinded_msg": -1e999999}',
    "huge_integer": b'{"code": ' + b"9" * 50_000 + b"}",  # under the limit: reaches the parser
    "deep_nesting": b"[" * 30_000 + b"]" * 30_000,
    "deep_nesting_in_field": b'{"code": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    "nan": b'{"code": NaN, "blinded_msg": Infinity}',
    "not_json": b"\x00\x01\x02",
    "truncated": b'{"code": "',
    "top_level_string": b'"\\ud800"',
    "bom": b'\xef\xbb\xbf{"code": "a"}',
    "utf16": '{"code": "a"}'.encode("utf-16"),
}


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_a_4xx_with_json_and_security_headers(
    served: tuple[str, int], path: str, name: str
) -> None:
    base, _ = served
    assert len(MALFORMED[name]) <= BODY_LIMIT  # the parser sees it, not the body limit
    r = httpx.post(
        base + path, content=MALFORMED[name], headers={"content-type": "application/json"}
    )
    _assert_refusal(r)
    assert r.status_code != 413


def test_slowloris_headers_are_disconnected_within_the_bound(served: tuple[str, int]) -> None:
    """One header byte a second: disconnected after the header timeout (2 s here) plus slack."""
    _, port = served
    request = b"GET /api/remote/noop HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60
    start = time.monotonic()
    closed_after = None
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(1.0)
        for b in request:
            try:
                sock.sendall(bytes([b]))
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - start
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                closed_after = time.monotonic() - start
                break
            if time.monotonic() - start > 10:
                break
    assert closed_after is not None, "still connected after 10 s of one byte a second"
    assert closed_after < 4.5, closed_after


def test_silent_connection_is_closed_within_the_bound(served: tuple[str, int]) -> None:
    _, port = served
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(10)
        with contextlib.suppress(ConnectionError):
            assert sock.recv(1024) == b""
    assert time.monotonic() - start < 4.5


def test_open_connections_are_capped(served: tuple[str, int]) -> None:
    """Past ``max_connections`` open connections a new request gets 503, not a queue."""
    base, port = served
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
    try:
        for s in held:
            s.sendall(b"G")
        time.sleep(0.3)
        r = httpx.get(base + "/api/remote/noop")
        assert r.status_code == 503
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert httpx.get(base + "/api/remote/noop").status_code == 200


def test_tally_serve_runs_uvicorn_with_the_stated_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tally serve`` runs the guarded h11 protocol with the values SECURITY.md states."""
    import uvicorn  # noqa: PLC0415
    from typer.testing import CliRunner  # noqa: PLC0415

    import tally.service  # noqa: PLC0415
    from tally.cli import app as cli  # noqa: PLC0415

    seen: list[uvicorn.Config] = []

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            seen.append(config)

        def run(self) -> None:
            return None

    def plain_run(*_: Any, **__: Any) -> None:
        raise AssertionError("uvicorn.run: no header deadline, no connection cap")

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    monkeypatch.setattr(uvicorn, "run", plain_run)
    monkeypatch.setattr(tally.service, "create_app", lambda config: object())
    (tmp_path / "e.db").write_bytes(b"")
    r = CliRunner().invoke(cli, ["serve", str(tmp_path / "e.db"), "--data", str(tmp_path / "svc")])
    assert r.exit_code == 0, r.output
    (config,) = seen
    stated = RequestLimits()
    assert (stated.max_body_bytes, stated.body_timeout_seconds) == (256 * 1024, 10.0)
    assert stated.header_timeout_seconds == 10.0
    assert config.timeout_keep_alive == 5
    assert config.limit_concurrency == 200
    assert stated.max_connections_per_source == 32
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.proxy_headers is False  # forwarded headers only from trusted proxies
    assert isinstance(config.http, type) and config.http.__name__ == "GuardedH11Protocol"
