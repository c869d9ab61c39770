"""Issue 14 point 1: the refusals of tally/service/limits.py are the service's usual refusals.

One mechanism applies the body limit (the configured ``RequestLimits``, nothing hard-coded
beside it), and its 413/408/422 refusals carry a JSON body with ``code`` and a message in the
request's language (Chinese by default, ``?lang=en``), like every other refusal of the service.
These run in process (FastAPI's test client); test_request_limits.py runs a real uvicorn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.app import SECURITY_HEADERS
from tally.service.board_snapshot import BoardGate
from tally.service.limits import LimitRequests, RequestLimits
from tally.service.transport import TransportGate

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 1024 * 1024  # above the old hard-coded 256 KiB, so a second check would show


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("refusals")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    ElectionSession.init(tmp / "e.db", sign_manifest(manifest, town), wg).store.close()
    limits = RequestLimits(max_body_bytes=LIMIT, body_timeout_seconds=1.0)
    app = create_app(
        ServiceConfig(
            election_path=tmp / "e.db", data_dir=tmp / "svc", extra={"request_limits": limits}
        )
    )
    with TestClient(app) as c:
        yield c


def _refusal(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, (r.status_code, r.text[:300])
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, k
    body = r.json()
    assert body["ok"] is False and body["code"] == code, body
    assert "/" not in body["message"], body  # one language, not "中文 / English"
    message: str = body["message"]
    return message


def test_the_configured_body_limit_is_the_only_one(client: TestClient) -> None:
    """A body under the configured limit reaches the route (here a 422 for not being a cast),
    whatever its size: no second, hard-coded limit refuses it with 413."""
    body = b'{"filler": "' + b"a" * (600 * 1024) + b'"}'
    r = client.post("/api/remote/cast", content=body, headers={"content-type": "application/json"})
    _refusal(r, 422, "request.malformed")
    # The board gate (board paths queue for a slot) and the transport gate (public binding, HSTS)
    # act on the path only and never read a body.
    assert [m.cls for m in client.app.user_middleware] == [BoardGate, TransportGate, LimitRequests]  # type: ignore[attr-defined]


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/api/health", "/api/remote/noop", "/no/such/page"):
        r = client.get(path)
        for k, v in SECURITY_HEADERS.items():
            assert r.headers.get(k) == v, (path, k)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "请求过大：请求内容不能超过 1024 KiB。"),
     ("?lang=en", "request too large: the body may not exceed 1024 KiB"),
     ("?lang=zh", "请求过大：请求内容不能超过 1024 KiB。")],
    ids=["default_zh", "en", "zh"],
)  # fmt: skip
def test_too_large_refusal_speaks_the_request_language(
    client: TestClient, query: str, expected: str
) -> None:
    declared = client.post(
        "/api/remote/cast" + query,
        content=b"{}",
        headers={"content-type": "application/json", "content-length": str(LIMIT + 1)},
    )
    assert _refusal(declared, 413, "request.too_large") == expected

    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 65536 + 2):
            yield b"a" * 65536

    streamed = client.post(
        "/api/remote/redeem" + query, content=chunks(), headers={"content-type": "application/json"}
    )
    assert _refusal(streamed, 413, "request.too_large") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "请求格式不正确：请求内容不是本接口要求的格式。"),
     ("?lang=en", "malformed request: the body is not what this endpoint takes")],
    ids=["default_zh", "en"],
)  # fmt: skip
def test_malformed_refusal_speaks_the_request_language(
    client: TestClient, query: str, expected: str
) -> None:
    r = client.post(
        "/api/remote/cast" + query,
        content=b'{"token": "\\ud800"',
        headers={"content-type": "application/json"},
    )
    assert _refusal(r, 422, "request.malformed") == expected


def test_body_timeout_refusal_speaks_the_request_language(client: TestClient) -> None:
    """The body deadline's 408, driven through the ASGI interface: a body that never ends."""
    import asyncio  # noqa: PLC0415

    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await receive()  # never answered: the deadline passes

    async def run(query: bytes) -> dict[str, Any]:
        sent.clear()
        calls = 0

        async def receive() -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"{", "more_body": True}
            await asyncio.sleep(60)
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        middleware = LimitRequests(app, RequestLimits(body_timeout_seconds=0.2))
        scope = {"type": "http", "headers": [], "query_string": query}
        await middleware(scope, receive, send)
        start, body = sent[0], sent[1]
        assert start["status"] == 408
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        assert headers["x-content-type-options"] == "nosniff"
        doc: dict[str, Any] = json.loads(body["body"])
        return doc

    zh = asyncio.run(run(b""))
    en = asyncio.run(run(b"lang=en"))
    assert (zh["code"], zh["message"]) == (
        "request.timeout",
        "请求发送超时：请求内容须在 0.2 秒内发完。",
    )
    assert en["message"] == "the request took too long to send: the body must arrive within 0.2 s"
