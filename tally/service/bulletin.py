"""The public bulletin board (公告板): signed checkpoints, totals, inclusion proofs.

Public, no sign-in: it shows only what the public notice may show (spec/bundle.md §5, SECURITY.md):
the signed checkpoints, the number of log entries, the attendance count, each post's totals and
result, and the inclusion proofs that remote voters' receipts need (of ``remote.cast`` entries only,
hashes only), never a ballot-level record, a name beside a ballot or anything about another entry
(spec/log.md §1.1, docs/adr/0016-salted-log-leaves.md).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from tally.core.explain import describe_next
from tally.core.model import MemberId
from tally.election import ElectionSession
from tally.service.app import state_of
from tally.service.board_snapshot import BoardGate, BoardSnapshot
from tally.service.rounds_view import post_views

__all__ = ["register", "router"]

HERE = Path(__file__).resolve().parent


def _public_result(session: ElectionSession, result: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded result with names, never member ids (A13: the board is public)."""
    e = session.manifest.election
    return {
        "elected": {
            post: [e.member(MemberId(mid)).name for mid in ids]
            for post, ids in result["elected"].items()
        },
        "publicity_start": result["publicity_start"],
        "publicity_end": result["publicity_end"],
    }


def _board(session: ElectionSession, lang: str) -> dict[str, Any]:
    e = session.manifest.election
    m = session.meeting
    checkpoints = session.store.checkpoints()
    latest = checkpoints[-1] if checkpoints else None
    posts = post_views(session, lang, public=True)
    rounds = [
        {"post": p["post"], "post_label": p["label"], "round": r["number"], **r}
        for p in posts
        for r in p["rounds"]
    ]
    root = ""
    if latest is not None:
        root = base64.b64decode(latest.body.split("\n")[2]).hex()
    return {
        "title": e.title,
        "term": e.term,
        "election_id": session.manifest.election_id.hex(),
        "entries": m.size,
        "expected": m.expected,
        "present": len(m.present),
        "posts": posts,
        "rounds": rounds,
        "finished": m.result is not None,
        "result": _public_result(session, m.result) if m.result is not None else None,
        "next": describe_next(m.due(), e, lang) if m.result is None else "",
        "checkpoint": {
            "size": latest.size,
            "reason": latest.reason,
            "text": latest.text,
            "root": root,
        }
        if latest
        else None,
    }


def _not_found(code: str, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "code": code, "message": message}, status_code=404)


async def _board_snapshot(request: Request) -> BoardSnapshot:
    """The latest board snapshot (board_snapshot.py), never ``state.run``: a flood of board readers
    never waits on, or makes anyone wait on, the election's lock. Async on purpose: it runs on the
    event loop, where the snapshot may schedule a look at the file."""
    return state_of(request).board_snapshot()


Snapshot = Annotated[BoardSnapshot, Depends(_board_snapshot)]
router = APIRouter()
_templates = Jinja2Templates(directory=str(HERE / "templates" / "board"))


@router.get("/board/", response_class=HTMLResponse, include_in_schema=False)
async def board_page(request: Request, snap: Snapshot, lang: str = "zh") -> Response:
    lg = "en" if lang == "en" else "zh"

    def render() -> bytes:
        data = snap.memo(("board", lg), lambda: _board(snap.session, lg))
        page = _templates.TemplateResponse(request, "board.html", {"b": data, "lang": lg})
        return bytes(page.body)

    return HTMLResponse(snap.memo(("page", lg), render))


@router.get("/api/board", response_model=dict[str, Any])
async def board_json(snap: Snapshot, lang: str = "zh") -> Response:
    """The board's content: checkpoint, attendance count, totals per round, result."""
    lg = "en" if lang == "en" else "zh"

    def render() -> bytes:
        data = snap.memo(("board", lg), lambda: _board(snap.session, lg))
        return bytes(JSONResponse(data).body)

    return Response(snap.memo(("json", lg), render), media_type="application/json")


@router.get("/api/board/checkpoints", response_model=dict[str, Any])
async def checkpoints(snap: Snapshot) -> Response:
    """Every signed checkpoint so far (spec/log.md §3), oldest first."""

    def render() -> bytes:
        cps = [{"size": c.size, "reason": c.reason, "text": c.text} for c in snap.checkpoints]
        body = {"checkpoints": cps}
        return bytes(JSONResponse(body).body)

    return Response(snap.memo("checkpoints", render), media_type="application/json")


@router.get("/api/board/remote", response_model=dict[str, Any])
async def remote_receipts(snap: Snapshot) -> Response:
    """Remote ballots version 2 (spec/remote-v2.md RV-4.2): while the window is open, the
    pending receipts in ascending order and their number; after the close, the receipts of
    the logged casts, each with its leaf index. Receipts only: no time, no order of arrival.
    Read from the snapshot, never under the lock."""

    def render() -> bytes:
        remote = snap.session.meeting.remote
        if snap.remote_receipts:
            logged = sorted(snap.remote_receipts.items())
            body: dict[str, Any] = {
                "status": "logged",
                "count": len(logged),
                "receipts": [{"receipt": r, "leaf_index": i} for r, i in logged],
            }
        else:
            body = {
                "status": "closed" if remote is not None and remote.closed else "pending",
                "count": len(snap.remote_pending),
                "receipts": list(snap.remote_pending),
            }
        return bytes(JSONResponse(body).body)

    return Response(snap.memo("remote_receipts", render), media_type="application/json")


@router.get(
    "/api/board/proof",
    responses={404: {"description": "not a remote ballot's entry, or not yet covered"}},
)
async def proof(snap: Snapshot, seq: int = Query(ge=0)) -> Any:
    """The RFC 9162 inclusion proof of the ``remote.cast`` entry ``seq`` in the latest
    checkpoint (what a remote voter's receipt needs, spec/remote.md RM-10.2); any other entry
    is ``proof.not_public`` (spec/log.md §1.1). Read from the snapshot, never under the lock."""
    remote = snap.session.meeting.remote
    casts: frozenset[int] = snap.memo(
        "cast_seqs",
        lambda: frozenset(s for s, _ in remote.casts) if remote is not None else frozenset(),
    )
    # The same answer for an entry of another type and for a seq not in the log.
    if seq not in casts:
        return _not_found(
            "proof.not_public",
            "公告板只提供远程投票记录的包含证明 / "
            "the board serves inclusion proofs of remote ballots' entries only",
        )
    cps = snap.checkpoints
    if not cps or seq >= cps[-1].size:
        return _not_found("proof.not_covered", "该记录尚未被已签署的检查点覆盖 / not yet covered")
    size = cps[-1].size
    return {
        "seq": seq,
        "size": size,
        "leaf_hash": snap.proofs.leaf_hash(seq).hex(),
        "proof": [base64.b64encode(h).decode() for h in snap.proofs.inclusion_proof(seq)],
        "checkpoint": cps[-1].text,
    }


def register(app: FastAPI) -> None:
    """Mount the board page and its JSON API.

    Every route reads the latest snapshot (``Snapshot``), never ``state.run``. What a route
    renders from a snapshot is kept with it (``memo``), so it is rendered once per commit.
    """
    app.add_middleware(BoardGate)
    app.mount(
        "/board/static", StaticFiles(directory=HERE / "static" / "board"), name="board-static"
    )
    app.include_router(router)
