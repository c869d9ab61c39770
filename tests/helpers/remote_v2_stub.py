"""A stand-in for the service's remote-voting API version 2 (v2contract "Service API v2",
spec/remote-v2.md §4-§6), for the voting page's browser tests while the real routes are written.

It serves the real page (templates/remote/*.html rendered as the service renders them, the static
files of tally/service/static/remote/) under the service's page CSP, and answers the API from
real keys: a town-signed public summary (examples/qingshan.toml), an RFC 9474 issuer key that
blind-signs, a threshold ElGamal key, a ``remote.opened`` v2 entry with the write-in lists in a
Merkle tree under a work-group-signed checkpoint (so the page's check code passes), and a cast
route that checks each ballot with Python (tests/helpers/remote_ballot_v2.py) before keeping it
pending: answered ``received`` (RV-4.1), its status ``accepted`` at once, or ``refused`` with
``elgamal.sum_proof`` for the next ``refuse_next`` casts (as the checker would refuse a bad proof,
RV-4.5). ``close()`` appends the pending casts in ascending receipt order, as RV-4.3 says, under a
signed ``remote-closed`` checkpoint; ``/api/remote/receipt`` then answers ``logged``.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2

import keys
from keys import blind_rsa
from keys import elgamal as eg
from tally.core.definition import parse_definition
from tally.core.manifest import PUBLIC_SUMMARY_DOMAIN, build_manifest, canonical, public_summary
from tally.core.model import PostKind, zh_label
from tally.log import merkle
from tally.log.checkpoint import CheckpointBody, body_text, signature_line
from tally.service.remote import PAGE_CSP
from tests.helpers.remote_ballot_v2 import Shape, check_ballot_v2

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "tally" / "service"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
POST_ORDER = ("committee", "secretary", "deputy_secretary")


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass
class StubV2:
    """The election behind the stub; tests read ``casts`` (receipt -> the cast body received)."""

    approved: tuple[str, ...] = ("M020", "M025", "M026", "M024")
    rule: bool = False  # write_in_requires_disapproval
    casts: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
        text = text.replace('approved = ["M020"]', f"approved = {json.dumps(list(self.approved))}")
        if self.rule:
            text = text.replace(
                "[parameters]\n", "[parameters]\nwrite_in_requires_disapproval = true\n"
            )
        self.town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
        self.wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
        sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "黄德明")
        self.election = parse_definition(text)
        assert self.election.parameters.write_in_requires_disapproval is self.rule
        manifest = build_manifest(
            self.election, work_group_key=_pub(self.wg), scrutineer_keys=(_pub(sc),)
        )
        self.election_id = manifest.election_id
        self.summary = public_summary(manifest.document, _pub(self.town))
        self.summary_text = canonical(self.summary).decode()
        self.summary_sig = base64.b64encode(
            self.town.sign(PUBLIC_SUMMARY_DOMAIN, canonical(self.summary))
        ).decode()
        self.issuer = blind_rsa.generate_issuer_key()
        self.issuer_der = base64.b64encode(
            blind_rsa.public_key_to_der(self.issuer.public_key())
        ).decode()
        self.key, self.shares = eg.generate_threshold_key(k=1, n=1)
        excluded = {x.member for x in self.election.exclusions}
        self.posts = [p for p in self.election.posts if p.kind.value in POST_ORDER]
        self.posts.sort(key=lambda p: POST_ORDER.index(p.kind.value))
        self.lists: dict[str, list[dict[str, str]]] = {}
        for p in self.posts:
            members = sorted(
                (
                    m
                    for m in self.election.members
                    if m.status.value == "full"
                    and m.id not in excluded
                    and m.id not in p.candidates
                ),
                key=lambda m: m.id.encode(),
            )
            self.lists[p.kind.value] = [{"member": m.id, "name": m.name} for m in members]
        self.shapes = tuple(
            Shape(
                p.kind.value,
                len(p.candidates),
                len(p.candidates) + len(self.lists[p.kind.value]),
                p.seats,
                self.rule,
            )
            for p in self.posts
        )
        self.entries: list[bytes] = []
        for i in range(3):
            self._append("meeting.note", {"n": i})
        self.opened_seq = self._append(
            "remote.opened",
            {
                "issuer_key": self.issuer_der,
                "election_key": self.key.to_json(),
                "shares": [],
                "write_in_lists": [
                    {"post": p, "members": [m["member"] for m in ms]}
                    for p, ms in self.lists.items()
                ],
            },
        )
        self.opened_checkpoint = self._checkpoint("remote-opened")
        self.opened_size = len(self.entries)
        self.closed_checkpoint = ""
        self.closed_size = 0
        self.cast_seq: dict[str, int] = {}
        self.refuse_next = 0  # the next casts refused by the "checker" (RV-4.5)
        self.refused: dict[str, str] = {}  # receipt -> refusal code

    # ------------------------------------------------------------------ the log

    def _append(
        self, kind: str, body: dict[str, Any], at: str = "2026-12-15T09:00:00+08:00"
    ) -> int:
        seq = len(self.entries)
        prev = hashlib.sha256(self.entries[-1]).hexdigest() if self.entries else "00" * 32
        entry = {
            "format": "log-entry/1",
            "seq": seq,
            "prev": prev,
            "type": kind,
            "at": at,
            "actor": "remote",
            "body": body,
            "salt": hashlib.sha256(f"salt {seq}".encode()).hexdigest(),
        }
        self.entries.append(canonical(entry))
        return seq

    def _leaves(self, size: int) -> list[bytes]:
        return [merkle.leaf_hash(e) for e in self.entries[:size]]

    def _checkpoint(self, reason: str) -> str:
        size = len(self.entries)
        body = body_text(
            CheckpointBody(self.election_id, size, merkle.mth(self._leaves(size)), reason)
        )
        return body + "\n" + signature_line(self.wg, body)[1]

    def _proof(self, seq: int, size: int) -> list[str]:
        return [
            base64.b64encode(h).decode() for h in merkle.inclusion_proof(seq, self._leaves(size))
        ]

    def close(self) -> None:
        """RV-4.3: the pending casts in ascending receipt order, all with the close's time."""
        at = "2026-12-15T11:00:00+08:00"
        for receipt in sorted(self.casts):
            self.cast_seq[receipt] = self._append("remote.cast", self.casts[receipt], at)
        self._append(
            "remote.closed", {"credentials": len(self.casts), "casts": len(self.casts)}, at
        )
        self.closed_checkpoint = self._checkpoint("remote-closed")
        self.closed_size = len(self.entries)
        self.closed = True

    def pin(self) -> str:
        """The invitation's check code (RM-10.3) of this election."""
        summary_hash = hashlib.sha256(
            PUBLIC_SUMMARY_DOMAIN + b"\x00" + self.summary_text.encode()
        ).digest()
        leaf = merkle.leaf_hash(self.entries[self.opened_seq])
        return (
            hashlib.sha256(b"branch-election/invitation-pin/2\x00" + summary_hash + leaf)
            .hexdigest()[:16]
            .upper()
        )

    # ------------------------------------------------------------------ the API

    def info(self) -> dict[str, Any]:
        return {
            "version": 2,
            "open": not self.closed,
            "closed": self.closed,
            "election_id": self.election_id.hex(),
            "title": self.election.title,
            "issuer_key": self.issuer_der,
            "election_key": self.key.to_json(),
            "work_group_key": self.summary["work_group_key"]["key"],
            "approved_count": len(self.approved),
            "posts": [
                {
                    "post": p.kind.value,
                    "post_zh": zh_label(PostKind(p.kind.value)),
                    "seats": p.seats,
                    "listed": [
                        {"id": c, "name": self.election.member(c).name} for c in p.candidates
                    ],
                    "write_in_requires_disapproval": self.rule,
                }
                for p in self.posts
            ],
        }

    def pin_doc(self) -> dict[str, Any]:
        return {
            "summary": self.summary_text,
            "summary_signature": self.summary_sig,
            "seq": self.opened_seq,
            "entry": self.entries[self.opened_seq].decode(),
            "size": self.opened_size,
            "checkpoint": self.opened_checkpoint,
            "proof": self._proof(self.opened_seq, self.opened_size),
        }

    def redeem(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sig = blind_rsa.blind_sign(self.issuer, base64.b64decode(body["blinded_msg"]))
        return 200, {
            "blind_sig": base64.b64encode(sig).decode(),
            "write_in_lists": [{"post": p, "members": ms} for p, ms in self.lists.items()],
            "election_key": self.key.to_json(),
        }

    def cast(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if set(body) != {"token", "token_prefix", "token_signature", "ballot"}:
            return 422, {"code": "request.malformed", "zh": "请求格式不对。", "en": "malformed"}
        try:
            receipt = check_ballot_v2(
                self.election_id,
                self.key,
                self.shapes,
                body["ballot"],
                token=base64.b64decode(body["token"]),
            )
        except keys.KeysError as e:  # a refusal of RV-3.5, with its code
            code = str(getattr(e, "code", "remote.ballot_invalid"))
            self.refusals.append(code)
            return 422, {"code": code, "zh": "选票无效。", "en": "the ballot is not valid"}
        answer = {
            "format": "remote-receipt/2",
            "election_id": self.election_id.hex(),
            "receipt": receipt,
            "status": "received",
        }
        if self.refuse_next > 0:  # RV-4.5: the checker's refusal, after the answer
            self.refuse_next -= 1
            self.refused[receipt] = "elgamal.sum_proof"
            return 200, answer
        self.casts[receipt] = body
        return 200, answer

    def receipt(self, hex_receipt: str) -> tuple[int, dict[str, Any]]:
        if hex_receipt in self.refused:
            return 200, {
                "status": "refused",
                "code": self.refused[hex_receipt],
                "message": "总和证明不成立。",
            }
        if hex_receipt not in self.casts:
            return 404, {
                "code": "receipt.not_found",
                "zh": "没有这张回执。",
                "en": "no such receipt",
            }
        if not self.closed:
            return 200, {"status": "accepted"}
        seq = self.cast_seq[hex_receipt]
        return 200, {
            "status": "logged",
            "leaf_index": seq,
            "entry": self.entries[seq].decode(),
            "checkpoint": self.closed_checkpoint,
            "proof": self._proof(seq, self.closed_size),
        }


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(SERVICE / "templates" / "remote"),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(template: str, lang: str, page: str) -> bytes:
    def L(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return _env.get_template(template).render(lang=lang, L=L, page=page).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    stub: StubV2

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", PAGE_CSP)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: dict[str, Any]) -> None:
        self._send(status, json.dumps(doc, ensure_ascii=False).encode(), "application/json")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        lang = "en" if q.get("lang") == "en" else "zh"
        if url.path == "/vote/":
            self._send(200, _render("vote.html", lang, "vote"), "text/html; charset=utf-8")
        elif url.path == "/vote/receipt":
            self._send(200, _render("receipt.html", lang, "receipt"), "text/html; charset=utf-8")
        elif url.path.startswith("/vote/static/"):
            f = SERVICE / "static" / "remote" / url.path.removeprefix("/vote/static/")
            if f.suffix not in TYPES or not f.is_file():
                self.send_error(404)
                return
            self._send(200, f.read_bytes(), TYPES[f.suffix])
        elif url.path == "/api/remote/info":
            self._json(200, self.stub.info())
        elif url.path == "/api/remote/pin":
            self._json(200, self.stub.pin_doc())
        elif url.path == "/api/remote/receipt":
            self._json(*self.stub.receipt(q.get("receipt", "")))
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        if url.path == "/api/remote/redeem":
            self._json(*self.stub.redeem(body))
        elif url.path == "/api/remote/cast":
            self._json(*self.stub.cast(body))
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_stub(stub: StubV2) -> Iterator[str]:
    """Serve the page and the stub API on 127.0.0.1; yields the base address (no trailing /)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Handler", (_Handler,), {"stub": stub})
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
