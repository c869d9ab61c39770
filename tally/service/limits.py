"""Requests cannot exhaust the server (issue 14 point 1): body, time and connection limits.

* ``LimitRequests`` (ASGI middleware, outermost): a body is counted as it streams in, whatever
  the transfer encoding (chunked with no length, or a Content-Length that lies), and refused
  with 413 the moment it passes ``max_body_bytes``; nothing past the limit is read or kept. A
  declared length over the limit is refused before the body is read. The whole body must arrive
  within ``body_timeout_seconds`` of the first read, else 408. Both refusals carry a JSON body and
  the security headers and close the connection.
* ``install`` also renders validation errors (malformed JSON of any kind: lone surrogates,
  ``NaN``, ``1e999999``) as 422 JSON without echoing the input, which could not be encoded and
  made the default handler fail with a 500.
* ``uvicorn_config``: what ``tally serve`` runs: h11 with a header deadline
  (``header_timeout_seconds`` from the connection's first byte to the end of its headers; a
  silent connection is closed after the same time), a bound on the header block
  (``max_header_bytes``), ``keep_alive_seconds`` between requests, and at most
  ``max_connections`` open connections or running requests (past it: 503).
* ``ConnectionSources``: at most ``max_connections_per_source`` open connections per source
  (``proxy.source_key`` of the direct peer: its IPv4 address or IPv6 /64), so one host cannot
  take the ``max_connections`` every clerk shares. A connection past the cap is answered 503
  ``request.too_many_connections`` (JSON, the security headers, ``Retry-After``) to its first
  request and closed; it counts against neither cap meanwhile and is closed after
  ``REFUSAL_GRACE_SECONDS`` if no request comes; past as many again refused connections of one
  source, a new one is closed at accept. A direct peer that is a trusted proxy
  (``tally serve --trusted-proxy``) is not capped: all its clients arrive through it. A slot is
  taken in ``connection_made`` and given back in ``connection_lost``, which asyncio calls
  whatever ends the connection (the client, a timeout, an error, the server).
* A write deadline: a response the peer does not read (what the kernel would not take waits in
  the transport, and the app waits for it) must drain by some bytes every
  ``body_timeout_seconds``, else the connection is aborted, its slot and buffer freed.

SECURITY.md states the values and the memory bound that follows from them.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal

import h11
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from tally.service.proxy import TrustedProxies, app_trusted, is_trusted, source_key

__all__ = [
    "REFUSAL_GRACE_SECONDS",
    "SECURITY_HEADERS",
    "ConnectionSources",
    "LimitRequests",
    "RequestLimits",
    "install",
    "service_lang",
    "uvicorn_config",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class RequestLimits:
    """The stated bounds (SECURITY.md "Resource limits"); tests set smaller ones."""

    max_body_bytes: int = 256 * 1024
    # Routes that take a larger body: a version-2 remote cast carries a ballot of up to 262,144
    # JCS bytes (spec/remote-v2.md RV-3.5) plus the credential and the JSON around it.
    route_body_bytes: tuple[tuple[str, int], ...] = (("/api/remote/cast", 300 * 1024),)

    def body_limit(self, path: str) -> int:
        """The body limit of a request path: ``max_body_bytes``, raised for the routes above."""
        raised = next((n for p, n in self.route_body_bytes if p == path), 0)
        return max(raised, self.max_body_bytes)

    body_timeout_seconds: float = 10.0
    # Routes whose body may take longer: the casework report form's photos from a phone
    # (tally/service/casework: only a signed-in reporter's body is ever read there).
    route_body_seconds: tuple[tuple[str, float], ...] = ()

    def body_seconds(self, path: str) -> float:
        """The body deadline of a request path: ``body_timeout_seconds``, raised as above."""
        raised = next((t for p, t in self.route_body_seconds if p == path), 0.0)
        return max(raised, self.body_timeout_seconds)

    header_timeout_seconds: float = 10.0
    max_header_bytes: int = 16 * 1024
    keep_alive_seconds: int = 5
    max_connections: int = 200
    # Per source (an IPv4 address, an IPv6 /64) of the direct peer; trusted proxies exempt.
    # docs/adr/0064-per-source-connection-cap.md says why 32.
    max_connections_per_source: int = 32


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), microphone=()",
    "Cache-Control": "no-store",
}
_HEADERS = tuple((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items())


def _lang(query_string: bytes, default: str) -> str:
    """The request's language as the other refusals read it: ``?lang=en``, else the default."""
    values = urllib.parse.parse_qs(query_string.decode("latin-1")).get("lang")
    lang = values[-1] if values else default
    return "en" if lang == "en" else "zh"


def _refusal_text(status: int, limits: RequestLimits, path: str = "") -> tuple[str, str, str]:
    if status == 413:
        kib = limits.body_limit(path) // 1024
        return (
            "request.too_large",
            f"请求过大：请求内容不能超过 {kib} KiB。",
            f"request too large: the body may not exceed {kib} KiB",
        )
    seconds = f"{limits.body_seconds(path):g}"
    return (
        "request.timeout",
        f"请求发送超时：请求内容须在 {seconds} 秒内发完。",
        f"the request took too long to send: the body must arrive within {seconds} s",
    )


def _json_response(status: int, body: dict[str, Any], *, close: bool = False) -> Response:
    # ensure_ascii: a lone surrogate or any other text that is not valid UTF-8 still renders.
    content = json.dumps(body, ensure_ascii=True, allow_nan=False, default=str)
    headers = dict(SECURITY_HEADERS)
    if close:
        headers["Connection"] = "close"
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _refusal(status: int, limits: RequestLimits, lang: str, path: str = "") -> Response:
    code, zh, en = _refusal_text(status, limits, path)
    message = en if lang == "en" else zh
    return _json_response(
        status, {"ok": False, "code": code, "message": message, "zh": zh, "en": en}, close=True
    )


class _Refused(Exception):
    """Raised into the app from ``receive`` once the refusal has been sent."""


class LimitRequests:
    """Pure ASGI middleware: the body limit while streaming, the body deadline, and the security
    headers on every response the app sends (the one place both are applied)."""

    def __init__(
        self, app: ASGIApp, limits: RequestLimits | None = None, default_lang: str = "zh"
    ) -> None:
        self.app = app
        self.limits = limits or RequestLimits()
        self.default_lang = default_lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        path = str(scope.get("path", ""))
        max_body = limits.body_limit(path)
        lang = _lang(scope.get("query_string", b""), self.default_lang)
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > max_body):
                await _refusal(413, limits, lang, path)(scope, receive, send)
                return
        received = 0
        body_done = False
        deadline: float | None = None
        refused = False
        started = False

        async def refuse(status: int) -> None:
            nonlocal refused
            refused = True
            if not started:
                await _refusal(status, limits, lang, path)(scope, receive, send)
            raise _Refused

        async def guarded_receive() -> Message:
            nonlocal received, body_done, deadline
            if refused:
                raise _Refused
            if body_done:  # after the body: a wait for the disconnect, no deadline
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + limits.body_seconds(path)
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                await refuse(408)
                raise  # unreachable: refuse raises
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    await refuse(413)
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:  # the app's own answer to the aborted read is dropped
                return
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in _HEADERS if k not in present]
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def install(app: FastAPI, limits: RequestLimits | None = None, default_lang: str = "zh") -> None:
    """Add the middleware (outermost) and the validation-error handler to ``app``; refusals are
    in the request's language (``?lang=en``), else ``default_lang``."""

    async def validation_error(request: Request, exc: Exception) -> Response:
        """422 for a body that is not the model (malformed JSON included), without echoing it."""
        assert isinstance(exc, RequestValidationError)
        detail = [
            {"type": str(e.get("type", "")), "loc": [str(p) for p in e.get("loc", ())]}
            for e in exc.errors()[:20]
        ]
        lang = _lang(request.scope.get("query_string", b""), default_lang)
        zh = "请求格式不正确：请求内容不是本接口要求的格式。"
        en = "malformed request: the body is not what this endpoint takes"
        return _json_response(
            422,
            {
                "ok": False,
                "code": "request.malformed",
                "message": en if lang == "en" else zh,
                "zh": zh,
                "en": en,
                "detail": detail,
            },
        )

    app.add_middleware(LimitRequests, limits=limits or RequestLimits(), default_lang=default_lang)
    app.add_exception_handler(RequestValidationError, validation_error)


# A connection past its source's cap waits at most this long for the request it is refused to.
REFUSAL_GRACE_SECONDS: Final = 1.0

Slot = tuple[Literal["exempt", "open", "refused", "closed"], str]


@dataclass
class ConnectionSources:
    """Open connections per source of one service (all its bindings): ``admit`` when a
    connection is made, ``release`` its slot when it is lost. Only sources with a connection
    open are kept: at most one entry per open connection."""

    cap: int
    trusted: TrustedProxies = ()
    open: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)

    def admit(self, peer: str) -> Slot:
        """The slot of a new connection from ``peer`` (the direct peer's address): ``exempt``
        for a trusted proxy, ``open`` under the cap, ``refused`` past it (answered 503), and
        ``closed`` past as many refused ones again (closed at accept)."""
        if is_trusted(peer, self.trusted):
            return ("exempt", peer)
        source = source_key(peer)
        for kind, counts in (("open", self.open), ("refused", self.refused)):
            if counts.get(source, 0) < self.cap:
                counts[source] = counts.get(source, 0) + 1
                return ("open" if kind == "open" else "refused", source)
        return ("closed", source)

    def release(self, slot: Slot) -> None:
        """Give back the slot ``admit`` returned (once, when its connection is lost)."""
        kind, source = slot
        counts = self.open if kind == "open" else self.refused if kind == "refused" else None
        if counts is None or source not in counts:
            return
        counts[source] -= 1
        if counts[source] <= 0:
            del counts[source]


def _too_many_connections(limits: RequestLimits, default_lang: str) -> ASGIApp:
    """The answer to a connection past its source's cap: 503 with the JSON body, the security
    headers and ``Retry-After`` (a kept-alive connection of the source is closed by then)."""
    n = limits.max_connections_per_source
    zh = f"来自此地址的连接过多（最多 {n} 个）：请关闭其他页面，稍后再试。"
    en = f"too many connections from this address (at most {n}): close other pages and retry"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        lang = _lang(scope.get("query_string", b""), default_lang)
        response = _json_response(
            503,
            {
                "ok": False,
                "code": "request.too_many_connections",
                "message": en if lang == "en" else zh,
                "zh": zh,
                "en": en,
            },
            close=True,
        )
        response.headers["Retry-After"] = str(limits.keep_alive_seconds)
        await response(scope, receive, send)

    return app


class _GuardedH11(H11Protocol):
    """h11 with a header deadline: uvicorn has none (its keep-alive timer runs only between
    requests), so a client sending a header byte a second would hold its socket for ever;
    with a write deadline (a peer that stops reading its response); and with the
    per-source connection cap (``ConnectionSources``)."""

    # Set by ``_guarded_h11`` on the subclass uvicorn runs:
    header_timeout: ClassVar[float]
    write_timeout: ClassVar[float]
    sources: ClassVar[ConnectionSources]
    limits: ClassVar[RequestLimits]
    default_lang: ClassVar[str]

    _header_timer: asyncio.TimerHandle | None = None
    _header_seconds: float = 0.0
    _slot: Slot | None = None
    _write_timer: asyncio.TimerHandle | None = None
    _write_pending: int = 0
    _drained: bool = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_seconds = self.header_timeout
        self._slot = self.sources.admit(self.client[0] if self.client else "unknown")
        if self._slot[0] in ("refused", "closed"):
            # Outside ``max_connections`` (uvicorn's count): a source past its cap cannot
            # fill the service's connections with refused ones either.
            self.connections.discard(self)
            self.app = _too_many_connections(self.limits, self.default_lang)
            self._header_seconds = min(self.header_timeout, REFUSAL_GRACE_SECONDS)
        if self._slot[0] == "closed":
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection: a new deadline
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self._disarm()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        super().connection_lost(exc)

    # A response the peer does not read: the transport holds what the kernel would not
    # take, and the app waits for it to drain. Each ``write_timeout`` the buffer must have
    # shrunk (or drained), else the connection is aborted: it gives back its slot and its
    # buffer however large the response.
    def pause_writing(self) -> None:
        super().pause_writing()
        self._watch_writes()

    def resume_writing(self) -> None:
        self._drained = True
        super().resume_writing()

    def on_response_complete(self) -> None:
        self._watch_writes()  # the end of a response the peer has not taken yet
        super().on_response_complete()

    def _watch_writes(self) -> None:
        pending = self.transport.get_write_buffer_size()
        if self._write_timer is None and pending > 0:
            self._write_pending, self._drained = pending, False
            self._write_timer = self.loop.call_later(self.write_timeout, self._write_check)

    def _write_check(self) -> None:
        self._write_timer = None
        pending = self.transport.get_write_buffer_size()
        if pending == 0:
            return
        if self._drained or pending < self._write_pending:
            self._watch_writes()  # the peer is reading: a new deadline
            return
        self.transport.abort()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        # The transport passes to uvicorn's websocket protocol, whose loss this class never
        # sees: the slot is given back now (the service has no websocket route; the app
        # closes such a connection at once).
        self._release()
        super().handle_websocket_upgrade(event)

    def _release(self) -> None:
        if self._slot is not None:
            self.sources.release(self._slot)
            self._slot = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self._header_seconds, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def _guarded_h11(
    limits: RequestLimits, sources: ConnectionSources, default_lang: str
) -> type[H11Protocol]:
    """The protocol class uvicorn runs, with these limits and this connection count."""
    attributes = {
        "header_timeout": limits.header_timeout_seconds,
        "write_timeout": limits.body_timeout_seconds,
        "sources": sources,
        "limits": limits,
        "default_lang": default_lang,
    }
    return type("GuardedH11Protocol", (_GuardedH11,), attributes)


def service_lang(app: object) -> str:
    """The default language of a service app's configuration; ``zh`` for any other app."""
    service = getattr(getattr(app, "state", None), "service", None)
    return "en" if service is not None and getattr(service.config, "lang", "") == "en" else "zh"


def uvicorn_config(
    app: Any,
    *,
    host: str,
    port: int,
    limits: RequestLimits | None = None,
    tls: Any = None,
    sources: ConnectionSources | None = None,
    default_lang: str | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration ``tally serve`` runs, with the limits above; over TLS when
    ``tls`` (a ``tally.service.transport.TlsFiles``, checked by ``load_tls``) is given.

    ``sources`` is the per-source connection count, shared by the servers of one service (a new
    one, exempting the trusted proxies of ``app``'s service configuration, when not given);
    ``default_lang`` the language of its refusal without ``?lang=`` (else the service's)."""
    limits = limits or RequestLimits()
    if sources is None:
        sources = ConnectionSources(limits.max_connections_per_source, app_trusted(app))
    if default_lang is None:
        default_lang = service_lang(app)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # No access log, at any level: a line per request would time every remote cast
        # (spec/remote.md RM-10.4(b), spec/remote-v2.md RV-1.2).
        access_log=False,
        http=_guarded_h11(limits, sources, default_lang),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=limits.keep_alive_seconds,
        limit_concurrency=limits.max_connections,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; the app reads forwarded headers
        # itself, from `tally serve --trusted-proxy` peers only (tally/service/proxy.py).
        proxy_headers=False,
        ssl_certfile=None if tls is None else str(tls.cert),
        ssl_keyfile=None if tls is None else str(tls.key),
    )
