"""Transport for ``tally serve`` (issue 14 point 5): TLS and separate station/public bindings.

* ``load_tls`` checks a certificate and its key before anything listens: each file exists and
  can be read, the key file is not readable by anyone but its owner (``0600`` or narrower, else
  refused), the key is not encrypted (there is nobody to type a passphrase for it) and belongs
  to the certificate, and the certificate is valid at the moment of starting (the caller passes
  ``now``). Each failure is a ``TransportError`` with its own code and a one-line message in both
  languages. The certificate whose dates count is the leaf: the first certificate in the file, the
  one OpenSSL serves and the key belongs to; the rest of a chain file is not date-checked.
  ``expiry_warning`` names a certificate that is still valid but expires within
  ``EXPIRY_WARNING_DAYS`` or before the election day ends (``tally serve`` prints and logs it).
* ``build_servers`` makes the uvicorn server(s) ``tally serve`` runs, every one with the limits
  of ``tally.service.limits`` and the same TLS files. With a public binding there are two
  servers over one app (one election session, one lock) on one event loop; the public one tags
  each request's scope with ``"tally.binding": "public"`` and the app (``TransportGate``)
  answers 404 to every path outside ``PUBLIC_PATHS`` on it (docs/adr/0013-separate-station-and-
  public-bindings.md).
* ``TransportGate`` (outermost ASGI middleware of the app) also adds ``Strict-Transport-Security``
  to every response when the service is served over TLS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import ssl
import stat
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from tally.core.errors import TallyError
from tally.service.limits import (
    ConnectionSources,
    RequestLimits,
    service_lang,
    uvicorn_config,
)
from tally.service.proxy import app_trusted

__all__ = [
    "BINDING_KEY",
    "EXPIRY_WARNING_DAYS",
    "HSTS",
    "PUBLIC_PATHS",
    "Binding",
    "CheckedTls",
    "TlsFiles",
    "TlsWarning",
    "TransportError",
    "TransportGate",
    "build_servers",
    "expiry_warning",
    "is_public_path",
    "load_tls",
    "run_servers",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# One year; no includeSubDomains: the service is reached by an IP address or a local name.
HSTS = "max-age=31536000"
BINDING_KEY = "tally.binding"
# What the phones' network may reach: the bulletin board, the vote page, the remote-voting API,
# their static files and the health check. Everything else (the station's pages and API, the
# API documentation) only on the station binding.
PUBLIC_PATHS = (
    "/board",
    "/api/board",
    "/vote",
    "/api/remote",
    "/api/health",
    "/report",  # the community reporter's phone page (spec/procedure.md RP-9.2)
    "/objection",  # the public objection form (RP-8.2)
)
# A certificate that expires this soon after the start, or before the election day ends, is
# named at start-up (a warning: the service still starts).
EXPIRY_WARNING_DAYS = 14
# The election day is a day in Asia/Shanghai: UTC+08:00 all year (no daylight saving since 1991),
# as the rest of the project counts town time (tally.core.casework.deadlines.TOWN_TIME).
_ELECTION_TIME = dt.timezone(dt.timedelta(hours=8))
# The election day ends at 23:59 town time, as remote voting closes (tally.remote_voting).
_ELECTION_DAY_END = dt.time(23, 59)


class TransportError(TallyError):
    """A certificate, key or binding ``tally serve`` cannot use (one line, zh and en)."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class CheckedTls:
    """TLS files that passed ``load_tls`` at ``checked_at``, with the leaf certificate's
    validity period (RFC 5280 §4.1.2.5: both ends included), in UTC."""

    files: TlsFiles
    context: ssl.SSLContext
    not_before: dt.datetime
    not_after: dt.datetime
    checked_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TlsWarning:
    """A certificate ``tally serve`` still starts with, but that expires soon (zh and en)."""

    code: str
    zh: str
    en: str

    def message(self, lang: str) -> str:
        """The warning in ``lang``: English for "en", Simplified Chinese otherwise."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Binding:
    host: str
    port: int
    public_only: bool = False


def is_public_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS)


def _readable(path: Path, what_zh: str, what_en: str) -> os.stat_result:
    def unreadable(e: OSError) -> TransportError:
        return TransportError(
            "serve.tls_unreadable",
            zh=f"无法读取{what_zh} {path}：{e.strerror}",
            en=f"cannot read the {what_en} {path}: {e.strerror}",
        )

    try:
        st = path.stat()
    except FileNotFoundError:
        raise TransportError(
            "serve.tls_missing",
            zh=f"{what_zh} {path} 不存在",
            en=f"the {what_en} {path} does not exist",
        ) from None
    except OSError as e:
        raise unreadable(e) from None
    if not stat.S_ISREG(st.st_mode):
        raise TransportError(
            "serve.tls_unreadable",
            zh=f"{what_zh} {path} 不是普通文件",
            en=f"the {what_en} {path} is not a regular file",
        )
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as e:
        raise unreadable(e) from None
    return st


class _Encrypted(Exception):
    pass


def _no_passphrase() -> str:
    raise _Encrypted


def load_tls(files: TlsFiles, *, now: dt.datetime) -> CheckedTls:
    """The checked files and the server context for them, after the checks above.

    Args:
        files: the certificate (PEM, the leaf first, then any chain) and its key.
        now: the moment of starting, timezone-aware.

    Raises:
        TransportError: ``serve.tls_missing``, ``serve.tls_unreadable``, ``serve.tls_key_mode``,
            ``serve.tls_key_encrypted``, ``serve.tls_mismatch``, ``serve.tls_invalid``,
            ``serve.tls_cert_not_yet_valid`` or ``serve.tls_cert_expired``.
        ValueError: ``now`` is naive (a programming error).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _readable(files.cert, "证书文件", "certificate file")
    key_stat = _readable(files.key, "私钥文件", "key file")
    mode = stat.S_IMODE(key_stat.st_mode)
    if mode & 0o077:
        raise TransportError(
            "serve.tls_key_mode",
            zh=f"TLS 私钥文件 {files.key} 的权限 {mode:04o} 过宽（其他人可读），"
            f"请先执行 chmod 600 {files.key}",
            en=f"the TLS key file {files.key} has mode {mode:04o}, readable by others; "
            f"run chmod 600 {files.key} first",
        )
    context = _context(files)
    leaf = _leaf(files)
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    _check_dates(files.cert, not_before, not_after, now)
    return CheckedTls(files, context, not_before, not_after, now)


def _context(files: TlsFiles) -> ssl.SSLContext:
    """OpenSSL's own reading of the pair: PEM, not encrypted, the key the leaf's."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert, files.key, password=_no_passphrase)
    except _Encrypted:
        raise TransportError(
            "serve.tls_key_encrypted",
            zh=f"TLS 私钥文件 {files.key} 有口令保护：请给出不加密的私钥（权限 0600）",
            en=f"the TLS key file {files.key} is encrypted: give an unencrypted key (mode 0600)",
        ) from None
    except ssl.SSLError as e:
        if e.reason == "KEY_VALUES_MISMATCH":
            raise TransportError(
                "serve.tls_mismatch",
                zh=f"TLS 私钥 {files.key} 与证书 {files.cert} 不匹配",
                en=f"the TLS key {files.key} does not belong to the certificate {files.cert}",
            ) from None
        why = f": {e.reason}" if e.reason else ""  # None for an empty or DER file
        raise TransportError(
            "serve.tls_invalid",
            zh=f"无法使用证书 {files.cert} 和私钥 {files.key}（须为 PEM 格式）{why}",
            en=f"cannot use the certificate {files.cert} and key {files.key} (PEM expected){why}",
        ) from None
    return context


def _leaf(files: TlsFiles) -> x509.Certificate:
    """The leaf certificate, read again with ``cryptography`` for its dates: the first certificate
    in the file. It must be the one OpenSSL took as the leaf (``_context``): its public key is the
    key file's. (The two readers differ at the edges: OpenSSL takes a ``TRUSTED CERTIFICATE``
    block as the leaf, ``cryptography`` skips it and would date the next certificate instead.)"""
    try:
        leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, OSError):
        raise TransportError(
            "serve.tls_invalid",
            zh=f"无法读取证书 {files.cert} 的有效期（须为 PEM 格式的 X.509 证书，"
            "以 BEGIN CERTIFICATE 开头）",
            en=f"cannot read the validity dates of the certificate {files.cert} (a PEM X.509 "
            "certificate expected, BEGIN CERTIFICATE)",
        ) from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise TransportError(
            "serve.tls_mismatch",
            zh=f"TLS 私钥 {files.key} 与证书文件 {files.cert} 中的第一张证书不匹配",
            en=f"the TLS key {files.key} does not belong to the first certificate in {files.cert}",
        )
    return leaf


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _check_dates(
    cert: Path, not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime
) -> None:
    """Refuse a leaf certificate that is not valid at ``now`` (both ends of its period valid)."""
    if now < not_before:
        raise TransportError(
            "serve.tls_cert_not_yet_valid",
            zh=f"TLS 证书 {cert} 自 {_utc(not_before)} 起才有效（现在是 {_utc(now)}）："
            "请检查本机时钟，或换用已生效的证书",
            en=f"the TLS certificate {cert} is not valid before {_utc(not_before)} (now "
            f"{_utc(now)}): check this computer's clock or use a certificate valid now",
        )
    if now > not_after:
        raise TransportError(
            "serve.tls_cert_expired",
            zh=f"TLS 证书 {cert} 已于 {_utc(not_after)} 过期（有效期 {_utc(not_before)} 至 "
            f"{_utc(not_after)}，现在是 {_utc(now)}）：请换用新证书",
            en=f"the TLS certificate {cert} expired at {_utc(not_after)} (valid "
            f"{_utc(not_before)} to {_utc(not_after)}, now {_utc(now)}): use a new certificate",
        )


def expiry_warning(tls: CheckedTls, election_date: dt.date) -> TlsWarning | None:
    """A warning when the certificate, valid at ``tls.checked_at``, expires before the election
    day ends (23:59 town time) or within ``EXPIRY_WARNING_DAYS`` of it; else ``None``."""
    day_end = dt.datetime.combine(election_date, _ELECTION_DAY_END, tzinfo=_ELECTION_TIME)
    after, cert = _utc(tls.not_after), tls.files.cert
    if tls.not_after < day_end:
        return TlsWarning(
            "serve.tls_cert_expires_before_election",
            zh=f"TLS 证书 {cert} 将于 {after} 过期，早于选举日 {election_date.isoformat()} "
            "结束（北京时间 23:59）：请在选举前换用新证书",
            en=f"the TLS certificate {cert} expires at {after}, before the election day "
            f"{election_date.isoformat()} ends (23:59 Beijing time): replace it before then",
        )
    if tls.not_after - tls.checked_at <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        return TlsWarning(
            "serve.tls_cert_expires_soon",
            zh=f"TLS 证书 {cert} 将于 {after} 过期（{EXPIRY_WARNING_DAYS} 天之内）："
            "请及时换用新证书",
            en=f"the TLS certificate {cert} expires at {after}, within {EXPIRY_WARNING_DAYS} "
            "days: replace it soon",
        )
    return None


def _not_found(scope: Scope) -> Any:
    from tally.service.limits import _json_response  # noqa: PLC0415  (limits imports app)

    lang = "en" if b"lang=en" in scope.get("query_string", b"") else "zh"
    message = "此地址不提供该页面" if lang == "zh" else "not served at this address"
    return _json_response(404, {"ok": False, "code": "not_found", "message": message})


class TransportGate:
    """Outermost middleware: the public binding serves public paths only; HSTS under TLS."""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        inner_send = send
        if self.tls:

            async def hsts_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    headers.append((b"strict-transport-security", HSTS.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            inner_send = hsts_send
        if scope.get(BINDING_KEY) == "public" and not is_public_path(scope["path"]):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _not_found(scope)(scope, receive, inner_send)
            return
        await self.app(scope, receive, inner_send)


class _PublicBinding:
    """The public server's app: the same app, each request tagged with its binding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, BINDING_KEY: "public"}
        await self.app(scope, receive, send)


def build_servers(
    app: Any,
    bindings: Sequence[Binding],
    *,
    tls: TlsFiles | None = None,
    limits: Any = None,
) -> list[uvicorn.Server]:
    """One uvicorn server per binding, each with the request limits (issue 14 point 1); one
    per-source connection count for them all, exempting the trusted proxies of ``app``."""
    resolved: RequestLimits = limits or RequestLimits()
    sources = ConnectionSources(resolved.max_connections_per_source, app_trusted(app))
    servers = []
    for b in bindings:
        config = uvicorn_config(
            _PublicBinding(app) if b.public_only else app,
            host=b.host,
            port=b.port,
            limits=resolved,
            tls=tls,
            sources=sources,
            default_lang=service_lang(app),
        )
        if b.public_only:
            config.lifespan = "off"  # the app's lifespan runs once, with the station's server
        servers.append(uvicorn.Server(config))
    return servers


def run_servers(servers: Sequence[uvicorn.Server]) -> None:
    """Serve until stopped; one server alone is run as uvicorn runs it."""
    if len(servers) == 1:
        servers[0].run()
        return
    asyncio.run(serve_together(servers))


async def serve_together(servers: Sequence[uvicorn.Server]) -> None:
    """Run the servers on this event loop; when one stops (a signal, a failure), all stop."""

    failures: list[int | str | None] = []

    async def one(server: uvicorn.Server) -> None:
        try:
            await server.serve()
        except SystemExit as e:  # uvicorn's start-up failure (a port in use): stop the others
            failures.append(e.code)
        finally:
            for other in servers:
                other.should_exit = True

    await asyncio.gather(*(one(s) for s in servers))
    if failures:
        raise SystemExit(failures[0])


def describe(
    bindings: Sequence[Binding], tls: bool, *, casework: bool = False
) -> list[tuple[str, str]]:
    """(zh, en) lines naming where each part is served, for ``tally serve``'s start-up text
    (the casework pages' too when the service has a casework file)."""
    scheme = "https" if tls else "http"
    station = next(b for b in bindings if not b.public_only)
    public = next((b for b in bindings if b.public_only), station)
    s = f"{scheme}://{_host(station.host)}:{station.port}"
    p = f"{scheme}://{_host(public.host)}:{public.port}"
    lines = [
        (f"投票站页面（选举工作组）：{s}/station/", f"station pages (work group): {s}/station/"),
        (f"远程投票页面：{p}/vote/", f"remote voting page: {p}/vote/"),
        (f"公告板：{p}/board/", f"bulletin board: {p}/board/"),
        (f"接口文档（OpenAPI）：{s}/api/docs", f"API documentation (OpenAPI): {s}/api/docs"),
    ]
    if casework:
        lines += [
            (f"民情直报页面：{p}/report/", f"community reporters' page: {p}/report/"),
            (f"异议页面：{p}/objection/", f"objection page: {p}/objection/"),
            (
                f"查核组、镇党委页面：{s}/casework/",
                f"verification group and town committee pages: {s}/casework/",
            ),
        ]
    return lines


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
