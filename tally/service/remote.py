"""Remote voting (远程投票): the JSON endpoints and the voting page (spec/remote.md).

A thin shell over ``tally.remote_voting.RemoteVoting`` (``ElectionSession.remote``): every call
runs on the session's thread through ``ServiceState.run``. No login and no cookie on any route
here; the page does the blinding, the encryption and the proofs in the browser
(``static/remote/``, ADR 0007), so its responses carry the service's Content-Security-Policy plus
``'wasm-unsafe-eval'`` (WebAssembly compilation only).

Routes:

* ``GET /api/remote/info`` — election id, title, issuer key, election key (EG-7.4), posts with
  their ``listed`` candidates in ballot order, seats and ``write_in_requires_disapproval``,
  ``approved_count`` (RV-6.3), the work-group key for checking checkpoints; nothing personal (the
  write-in lists' names are given at redemption only);
* ``POST /api/remote/redeem`` — ``{code, blinded_msg}`` → ``{blind_sig, write_in_lists,
  election_key}`` (RM-3.3, RM-4.3, RV-2.3, RV-6.1);
* ``POST /api/remote/cast`` — ``{token, token_prefix, token_signature, ballot}`` with the
  ``remote-ballot/2`` object: the cheap checks, then kept among the pending casts as ``received``
  (no log entry, no time), answered ``remote-receipt/2`` with ``status: "received"``, and handed
  to the checker process (spec/remote-v2.md RV-4.1, RV-4.5; remote_checks.py);
* ``GET /api/remote/receipt?receipt=HEX`` — ``received``, ``accepted`` or ``refused`` (``code``,
  ``message``) before the close, the logged ``remote.cast`` entry with its RFC 9162 inclusion
  proof in the latest signed checkpoint after it (RV-4.4); the board's ``GET /api/board/remote``
  lists the accepted receipts (RV-4.2). Refusals carry ``code``, ``zh`` and ``en``;
* ``GET /api/remote/noop`` — does nothing: the baseline of ``bench/bench_remote.py``;
* ``GET /vote/`` (the invitation link: ``/vote/#code=…``, also ``?code=…``), ``GET /vote/receipt``.

Limits (RM-3.5): a source (client address; an IPv6 /64) that failed 5 code checks in 15 minutes is
refused (429, ``invitation.rate_limited``) until the oldest failure leaves the window; an attempt
counts as a failure from the moment it starts (before its body is read), so parallel guesses cannot
overrun the limit, and a request that is not a well-formed redeem request stays counted. A global
throttle (``RemoteLimits.global_per_minute`` redeem attempts a minute, 429 ``remote.busy``) bounds
the CPU an attacker can make the issuer spend; every attempt of any outcome takes one of its
source's ``per_source_per_minute`` places in it, so one source cannot fill it; it lifts within a
minute, so it is a throttle, not the lock-out RM-3.5 forbids. More than 50 failures an hour are
logged as a warning for the work group (counts only). Addresses are kept in memory only, for the
15-minute window, never logged. Behind a reverse proxy, ``tally serve --trusted-proxy ADDR`` takes
the client address from the proxy's forwarded headers (never from anyone else's).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.staticfiles import StaticFiles

import keys
from tally.core.errors import TallyError
from tally.core.manifest import Manifest
from tally.remote_invitations import RateLimit, normalize_invitation_code
from tally.remote_voting import RemoteCastV2
from tally.service import remote_checks
from tally.service.app import SECURITY_HEADERS, ServiceState, state_of
from tally.service.board_snapshot import BoardSnapshot
from tally.service.proxy import request_source
from tally.service.remote_checks import CastChecks

__all__ = ["PAGE_CSP", "STATUS", "RemoteLimits", "counted", "register", "router"]

HERE = Path(__file__).parent
log = logging.getLogger("tally.service.remote")

PAGE_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'"
)
ALERT_FAILURES_PER_HOUR = 50

# Refusal code → HTTP status (anything else a session refuses stays 409).
STATUS: dict[str, int] = {
    "request.malformed": 422,
    "invitation.malformed": 400,
    "invitation.wrong": 403,
    "invitation.used": 409,
    "invitation.expired": 410,
    "invitation.rate_limited": 429,
    "remote.busy": 429,
    "remote.token_invalid": 403,
    "remote.token_signature_length": 422,
    "remote.token_used": 409,
    "remote.token_exhausted": 409,
    "remote.closed": 409,
    "remote.not_open": 409,
    "receipt.not_found": 404,
    # spec/remote-v2.md RV-4.1: a ballot that fails RV-3.5 is 422 (any elgamal.* too).
    "remote.ballot_invalid": 422,
    "remote.token_mismatch": 422,
    "remote.ballot_too_large": 413,
    "remote.too_many": 409,
}


def status_of(code: str) -> int:
    """The HTTP status of a refusal code (anything a session refuses otherwise stays 409)."""
    if code.startswith("elgamal."):
        return 422
    return STATUS.get(code, 409)


# RM-3.5: a malformed request (body or value) counts like a malformed or wrong code.
COUNTED_FAILURES = frozenset({"invitation.malformed", "invitation.wrong", "request.malformed"})


# --------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(BaseModel):
    id: str
    name: str


class InfoPost(BaseModel):
    post: str
    post_zh: str
    seats: int
    candidates: list[Candidate]
    listed: list[Candidate] | None = Field(
        None, description="version 2: the listed candidates, the post's first choices (RV-3.2)"
    )
    write_in_requires_disapproval: bool | None = Field(
        None, description="version 2: write-ins need × marks (RV-3.4)"
    )


class ElectionKey(BaseModel):
    k: int
    n: int
    commitments: list[str] = Field(description="base64 points C_0..C_{k-1} (EG-7.4)")


class WriteInMember(BaseModel):
    member: str
    name: str


class WriteInList(BaseModel):
    post: str
    members: list[WriteInMember]


class RemoteInfo(BaseModel):
    """What the page needs to make a credential and a ballot (no ballot content, no holders)."""

    open: bool
    closed: bool
    election_id: str = Field(description="64 lowercase hex")
    title: str
    issuer_key: str | None = Field(None, description="base64 DER SPKI (RM-4.1); null until open")
    work_group_key: str = Field("", description="base64 Ed25519 key that signs checkpoints")
    posts: list[InfoPost]
    version: int = Field(2, description="the remote ballots' version (spec/remote-v2.md)")
    election_key: ElectionKey | None = Field(None, description="EG-7.4; null until open")
    approved_count: int | None = Field(
        None, description="members approved for remote voting (RV-6.3); null until open"
    )


class RedeemRequest(_Strict):
    code: str = Field(max_length=64, description="the invitation code as typed")
    blinded_msg: str = Field(max_length=2048, description="base64, modulus-length bytes")


class RedeemResponse(BaseModel):
    blind_sig: str = Field(description="base64 RFC 9474 BlindSign result")
    write_in_lists: list[WriteInList] | None = Field(
        None, description="per post, the write-in list with names (RV-2.3, RV-6.1)"
    )
    election_key: ElectionKey | None = Field(None, description="EG-7.4")


class CastRequest(_Strict):
    token: str = Field(max_length=64, description="base64 of the 32-byte token")
    token_prefix: str = Field(max_length=64, description="base64 of the 32-byte msg_prefix")
    token_signature: str = Field(max_length=2048, description="base64 RSASSA-PSS signature")
    ballot: dict[str, Any] = Field(description="the remote-ballot/2 object (RV-3.1)")


class ReceiptV2(BaseModel):
    """``remote-receipt/2`` (RV-4.1): the cast is received; its proofs are checked next."""

    format: Literal["remote-receipt/2"] = "remote-receipt/2"
    election_id: str
    receipt: str = Field(description="64 lowercase hex (RV-3.6)")
    status: Literal["received"] = "received"


class ReceiptStatus(BaseModel):
    """(RV-4.4) ``received``, then ``accepted`` or ``refused`` (with ``code`` and ``message``)
    before the close; ``logged`` with the entry and its inclusion proof in the latest checkpoint
    after it."""

    status: Literal["received", "accepted", "refused", "logged"]
    code: str | None = None
    message: str | None = None
    leaf_index: int | None = None
    entry: str | None = None
    checkpoint: str | None = None
    proof: list[str] | None = None


class Refusal(BaseModel):
    ok: Literal[False] = False
    code: str
    message: str
    zh: str | None = None
    en: str | None = None


class Noop(BaseModel):
    ok: bool = True


class RemotePin(BaseModel):
    """RM-10.3: check code = first 16 hex digits of SHA-256("branch-election/invitation-pin/2" ||
    0x00 || SHA-256("branch-election/public-summary/1" || 0x00 || summary) || leaf hash of entry).
    The summary, not the manifest: the manifest holds the roster (birth dates, education, ...)."""

    summary: str = Field(
        description="the public-summary/1 canonical JSON (RFC 8785) text (spec/manifest.md §6)"
    )
    summary_signature: str = Field(
        description="base64 Ed25519 signature of the summary by the summary's town key"
    )
    seq: int = Field(description="the sequence number of the remote.opened entry")
    entry: str = Field(description="the remote.opened log entry (canonical JSON text)")
    size: int = Field(description="the tree size of the remote-opened checkpoint")
    checkpoint: str = Field(description="the remote-opened checkpoint text, signed")
    proof: list[str] = Field(description="RFC 9162 inclusion proof of the entry, base64 hashes")


REFUSALS: dict[int | str, dict[str, Any]] = {
    s: {"model": Refusal} for s in (400, 403, 404, 409, 410, 413, 422, 429)
}


# --------------------------------------------------------------------------- limits


@dataclass
class RemoteLimits:
    """Failed-attempt memory of the redeem endpoint (in memory, pruned to the window)."""

    per_source: RateLimit = field(default_factory=RateLimit)
    global_per_minute: int = 120
    # Any attempt (malformed, refused, successful) takes one of its source's places in the global
    # minute: one address can fill at most this many of the ``global_per_minute`` places.
    per_source_per_minute: int = 10
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    attempts: dict[str, list[datetime]] = field(default_factory=dict)
    recent: deque[tuple[datetime, str]] = field(default_factory=deque)
    failures_hour: deque[datetime] = field(default_factory=deque)
    alerted_at: datetime | None = None

    def begin(self, source: str) -> datetime:
        """Admit one attempt (counted as a failure until it succeeds), or raise."""
        now = self.now()
        start = now - self.per_source.window
        for key in [k for k, v in self.attempts.items() if all(t <= start for t in v)]:
            del self.attempts[key]
        mine = self.attempts.setdefault(source, [])
        mine[:] = [t for t in mine if t > start]
        self.per_source.check(mine, now)  # RateLimitedError
        while self.recent and self.recent[0][0] <= now - timedelta(minutes=1):
            self.recent.popleft()
        if sum(1 for _, s in self.recent if s == source) >= self.per_source_per_minute:
            raise TallyError(
                "invitation.rate_limited",
                zh="此地址的尝试过于频繁，请一分钟后再试。",
                en="too many attempts from this address; try again in a minute",
            )
        if len(self.recent) >= self.global_per_minute:
            raise TallyError(
                "remote.busy",
                zh="当前请求过多，请一分钟后再试。",
                en="too many requests right now; try again in a minute",
            )
        self.recent.append((now, source))
        mine.append(now)
        return now

    def succeeded(self, source: str, stamp: datetime) -> None:
        mine = self.attempts.get(source, [])
        if stamp in mine:
            mine.remove(stamp)

    def not_counted(self, source: str, stamp: datetime) -> None:
        """The attempt failed for a reason that is not a code failure (RM-3.5)."""
        self.succeeded(source, stamp)

    def failed(self) -> None:
        now = self.now()
        self.failures_hour.append(now)
        while self.failures_hour and self.failures_hour[0] <= now - timedelta(hours=1):
            self.failures_hour.popleft()
        if len(self.failures_hour) > ALERT_FAILURES_PER_HOUR and (
            self.alerted_at is None or now - self.alerted_at >= timedelta(hours=1)
        ):
            self.alerted_at = now
            log.warning(
                "remote voting: %d failed invitation checks in the last hour",
                len(self.failures_hour),
            )

    def retry_after(self, source: str) -> int:
        mine = sorted(self.attempts.get(source, []))
        if len(mine) < self.per_source.max_failures:
            return 60
        until = mine[-self.per_source.max_failures] + self.per_source.window
        return max(1, int((until - self.now()).total_seconds()) + 1)


# --------------------------------------------------------------------------- helpers


def _refuse(
    code: str, zh: str, en: str, lang: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {"ok": False, "code": code, "message": en if lang == "en" else zh, "zh": zh, "en": en},
        status_code=status_of(code),
        headers=headers,
    )


def _refusal(e: Exception, lang: str) -> Response:
    if isinstance(e, TallyError | keys.KeysError):
        code = str(getattr(e, "code", "remote.error"))
        return _refuse(code, str(getattr(e, "zh", e)), str(getattr(e, "en", e)), lang)
    raise e


def _b64(value: str, what: str, *, size: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or base64.b64encode(raw).decode() != value:
        raise TallyError(
            "request.malformed",
            zh=f"{what} 不是规范的 base64。",
            en=f"{what} is not canonical base64",
        )
    if size is not None and len(raw) != size:
        raise TallyError(
            "request.malformed",
            zh=f"{what} 长度应为 {size} 字节。",
            en=f"{what} must be {size} bytes",
        )
    return raw


def _taken(value: Mapping[str, Any] | Exception | None) -> Mapping[str, Any]:
    """A value the board snapshot captured from the session, or the refusal it captured."""
    if isinstance(value, Exception):
        raise value
    if value is None:  # every snapshot captures both; None would be a bug, not a refusal
        raise RuntimeError("the board snapshot holds no remote value")
    return value


def _info(captured: Mapping[str, Any] | Exception | None, manifest: Manifest) -> dict[str, Any]:
    info = dict(_taken(captured))
    info.setdefault("work_group_key", str(manifest.work_group_key.get("key", "")))
    return info


def _receipt_status(snap: BoardSnapshot, receipt: str, lang: str = "zh") -> dict[str, Any]:
    """(RV-4.4) A receipt: received, accepted or refused while its cast waits for the close,
    then its ``remote.cast`` entry with the inclusion proof in the latest checkpoint."""
    refused = snap.remote_refused.get(receipt)
    if refused is not None:
        code, zh, en = refused
        return {"status": "refused", "code": code, "message": en if lang == "en" else zh}
    if receipt in snap.remote_received:
        return {"status": "received"}
    if receipt in snap.remote_pending_set:
        return {"status": "accepted"}
    seq = snap.remote_receipts.get(receipt)
    cps = snap.checkpoints
    if seq is None or not cps or seq >= cps[-1].size:
        raise TallyError(
            "receipt.not_found",
            zh="没有这个回执的远程选票。",
            en="no remote ballot has this receipt",
        )
    raw = snap.remote_rows[seq]
    return {
        "status": "logged",
        "leaf_index": seq,
        "entry": raw.decode("utf-8"),
        "checkpoint": cps[-1].text,
        "proof": [base64.b64encode(h).decode() for h in snap.proofs.inclusion_proof(seq)],
    }


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates" / "remote"),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(template: str, lang: str, **ctx: Any) -> HTMLResponse:
    def L(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    html = _env.get_template(template).render(lang=lang, L=L, **ctx)
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


# --------------------------------------------------------------------------- routes


class _CountedRoute(APIRoute):
    """A route whose every request is admitted by ``RemoteLimits.begin`` before its body is read
    or validated (RM-3.5): a body that is not JSON or not a redeem request is refused with 422 as
    before, and stays counted as a failure of its source."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            limits: RemoteLimits = request.app.state.remote_limits
            source = request_source(request)
            lang = request.query_params.get("lang", "zh")
            try:
                stamp = limits.begin(source)
            except (TallyError, keys.KeysError) as e:
                response = _refusal(e, lang)
                response.headers["Retry-After"] = str(
                    limits.retry_after(source) if getattr(e, "code", "") != "remote.busy" else 60
                )
                return response
            request.state.redeem_attempt = (source, stamp)
            try:
                answer: Response = await inner(request)
            except RequestValidationError:
                limits.failed()
                raise
            return answer

        return handler


class _CastRoute(APIRoute):
    """The cast route: from the moment a request's head is in (before its body is read and
    parsed) until it is answered, the checker holds back (``CastChecks.arriving``,
    remote_checks.py), so a burst of casts has the service's core."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            checks: CastChecks = request.app.state.remote_checks
            with checks.arriving():
                answer: Response = await inner(request)
            return answer

        return handler


router = APIRouter(tags=["remote"])
counted = APIRouter(tags=["remote"], route_class=_CountedRoute)


# The dependencies are coroutines: FastAPI runs a plain function dependency in its thread pool,
# two thread hops per request for what is an attribute read.
async def service_of(request: Request) -> ServiceState:
    return state_of(request)


async def limits_of(request: Request) -> RemoteLimits:
    limits: RemoteLimits = request.app.state.remote_limits
    return limits


async def checks_of(request: Request) -> CastChecks:
    checks: CastChecks = request.app.state.remote_checks
    return checks


Service = Annotated[ServiceState, Depends(service_of)]


Limits = Annotated[RemoteLimits, Depends(limits_of)]
Checks = Annotated[CastChecks, Depends(checks_of)]


@router.get("/api/remote/info", response_model=RemoteInfo, responses=REFUSALS)
async def info(service: Service, lang: str = "zh") -> Any:
    """Election id, keys, posts and candidates in ballot order (no roster: nothing personal).
    Read from the board snapshot, never under the election lock (board_snapshot.py)."""
    snap = service.board_snapshot()
    try:
        return _info(snap.remote_info, snap.session.manifest)
    except (TallyError, keys.KeysError) as e:
        return _refusal(e, lang)


@counted.post("/api/remote/redeem", response_model=RedeemResponse, responses=REFUSALS)
async def redeem(
    body: RedeemRequest, request: Request, service: Service, limits: Limits, lang: str = "zh"
) -> Any:
    """Check an invitation code and blind-sign the device's message, once (RM-3.3, RM-4.3).

    Refusals: 400 ``invitation.malformed``, 403 ``invitation.wrong``, 409 ``invitation.used``,
    410 ``invitation.expired``, 429 ``invitation.rate_limited`` / ``remote.busy``, 409 when
    remote voting is not open or closed. Malformed requests and wrong codes count toward the
    limit; every attempt counts toward its source's share of the global throttle.
    """
    source, stamp = request.state.redeem_attempt  # admitted by _CountedRoute
    try:
        blinded = _b64(body.blinded_msg, "blinded_msg")
        normalize_invitation_code(body.code)
        sig, extra = await service.run(
            lambda s: (
                s.remote.redeem_invitation(body.code, blinded),
                s.remote.redemption_extras(),
            )
        )
    except (TallyError, keys.KeysError) as e:
        if getattr(e, "code", "") in COUNTED_FAILURES:
            limits.failed()
        else:
            limits.not_counted(source, stamp)
        return _refusal(e, lang)
    limits.succeeded(source, stamp)
    return {"blind_sig": base64.b64encode(sig).decode(), **extra}


async def cast(body: CastRequest, service: Service, checks: Checks, lang: str = "zh") -> Any:
    """Receive one ``remote-ballot/2`` with an unused credential: the cheap checks of RV-4.1,
    then kept among the pending casts as ``received`` (unlogged until the close) and handed to
    the checker (RV-4.5); returns ``remote-receipt/2`` with ``status: "received"``.

    Refusals: 403 ``remote.token_invalid``, 409 ``remote.token_used`` / ``remote.token_exhausted``
    / ``remote.closed`` / ``remote.not_open`` / ``remote.too_many``, 413
    ``remote.ballot_too_large`` (RV-3.5), 422 malformed values, ``remote.token_signature_length``
    (not modulus-length), ``remote.ballot_invalid``, ``remote.token_mismatch`` or ``elgamal.*``
    (the shape or an encoding, RV-3.7; a ballot refused before is refused again). Group elements
    and proofs are checked after the answer: see the receipt's status.
    """
    try:
        token = _b64(body.token, "token", size=32)
        prefix = _b64(body.token_prefix, "token_prefix", size=32)
        signature = _b64(body.token_signature, "token_signature")
        received = await service.cast(RemoteCastV2(token, prefix, signature, body.ballot))
    except (TallyError, keys.KeysError) as e:
        return _refusal(e, lang)
    await checks.submit(received.receipt, received.token, received.ballot)
    return received.answer


router.add_api_route(
    "/api/remote/cast",
    cast,
    methods=["POST"],
    response_model=ReceiptV2,
    responses=REFUSALS,
    route_class_override=_CastRoute,  # the checker holds back while the request is on its way
)


@router.get(
    "/api/remote/receipt",
    response_model=ReceiptStatus,
    response_model_exclude_none=True,
    responses=REFUSALS,
)
async def receipt(
    service: Service,
    receipt: str = Query(pattern="^[0-9a-f]{64}$"),
    lang: str = "zh",
) -> Any:
    """(RV-4.4) ``{status: "received"}`` until checked, ``{status: "accepted"}``, or
    ``{status: "refused", code, message}``; after the close ``{status: "logged", leaf_index,
    entry, checkpoint, proof}``. From the board snapshot, never under the election lock."""
    try:
        return _receipt_status(service.board_snapshot(), receipt, lang)
    except (TallyError, keys.KeysError) as e:
        return _refusal(e, lang)


@router.get("/api/remote/pin", response_model=RemotePin, responses=REFUSALS)
async def pin(service: Service, lang: str = "zh") -> Any:
    """The keys' provenance for the invitation's check code (RM-10.3): the town-signed public
    summary (election id, title, posts and candidates, the town and work-group keys; nothing
    personal), the ``remote.opened`` entry, and the entry's inclusion proof in the work group's
    signed ``remote-opened`` checkpoint. From the board snapshot, never under the election
    lock."""
    try:
        return _taken(service.board_snapshot().remote_pin)
    except (TallyError, keys.KeysError) as e:
        return _refusal(e, lang)


@router.get("/api/remote/noop", response_model=Noop)
async def noop() -> Any:
    """Does nothing: the baseline of ``bench/bench_remote.py`` (same app, same middleware)."""
    return {"ok": True}


@router.get("/vote/", response_class=HTMLResponse, include_in_schema=False)
async def vote_page(lang: str = "zh") -> Response:
    # The code (query or fragment) is read by vote.js, never echoed by the server.
    return _page("vote.html", "en" if lang == "en" else "zh", page="vote")


@router.get("/vote/receipt", response_class=HTMLResponse, include_in_schema=False)
async def receipt_page(lang: str = "zh") -> Response:
    return _page("receipt.html", "en" if lang == "en" else "zh", page="receipt")


def register(app: FastAPI) -> None:
    """Mount the remote-voting API, the page and its static files; keep the limits and the
    checker (RV-4.5) on ``app.state``."""
    state: ServiceState = app.state.service
    app.state.remote_limits = state.config.extra.get("remote_limits") or RemoteLimits()
    remote_checks.install(app, state)
    app.mount("/vote/static", StaticFiles(directory=HERE / "static" / "remote"), name="vote-static")
    app.include_router(counted)
    app.include_router(router)
