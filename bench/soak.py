"""A polling-day soak: a whole meeting through the HTTP API, with random faults (``make soak``).

A 300-member branch (``--members``) with remote voting approved for some absent members; ``tally
serve`` runs as a subprocess over the election file, both on a small tmpfs mounted for the run (the
full-disk fault needs a disk that can fill). For ``--minutes`` (``SOAK_MINUTES``, default 20) the
driver runs concurrently, each actor on its own HTTP connection:

* the clerk checks members in (``POST /station/checkin``), paced over the first fifth of the time;
* remote members redeem their invitations and cast encrypted ballots (``/api/remote/redeem``,
  ``/cast``: the RFC 9474 device side of ``keys.remote_tokens``, ``remote-ballot/2`` from
  ``keys.remote_ballot``), then keep fetching their receipts' status and proofs;
* the chair runs the rounds: ``tally remote close`` and two scrutineers' ``tally remote decrypt``
  beside the service (CLI, as the work group does), print (``POST /station/print``), the stock PDF downloaded and its QR codes decoded
  as the scanner reads them, issue, return, close, the scrutineers' ``tally cosign`` (CLI), result;
* two tellers enter every ballot in double-entry mode (``POST /station/count/enter``), paced so the
  rounds end before the time is up; a few first entries are mistyped on purpose (the mismatch path);
* board readers poll ``GET /api/board`` and ``/api/board/checkpoints``.

Faults at seeded random moments (the seed is printed; ``--seed`` replays the schedule): SIGKILL of the
server and a restart; a full disk (a ballast file fills the tmpfs for a while, then is removed); a
client that sends half a request body and closes the connection. When the meeting ends early the
remaining time keeps the board readers, the receipt checks and the faults going (the service stays on
polling-day duty until the chair publishes).

Every acknowledged operation is recorded: a check-in (303 to the check-in page), a ballot counted
(the second teller's 303 with the first entry seen pending just before it, no restart between), a
credential (200) and a cast (its receipt), the chair's steps. At the end the chair publishes
(``POST /station/publish``), the bundle is downloaded, every acknowledged entry is looked up in the
bundle's log, every counted ballot must carry two tellers, and the independent verifier
(``python -m verifier verify``) must pass. Figures: operations per kind, latency p50/p99/max per
kind, restarts and downtime (from the kill to the first 2xx), refusals during the full disk (all must
be clean: 4xx/503 with a JSON code or the station's error page, never a 500 or a dropped
connection), peak server RSS. Needs root for the tmpfs (else ``--no-tmpfs``: no full-disk fault).

    .venv/bin/python bench/soak.py [--minutes 20] [--members 300] [--seed N] [--json F]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import errno
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nacl.pwhash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ballot_printer
import keys
from bench.synthetic import _definition
from keys import remote_ballot
from keys.remote_tokens import begin_token_request, finish_token_request, load_issuer_public_key
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.core.rounds import RoundSpec
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_device import ballot_context, choices_for
from tally.service.accounts import AccountStore, Role, accounts_path
from tally.session_config import SessionConfig

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "soak passphrase 2026"
# The scanner: the stock PDF rendered at this resolution and its QR codes decoded (zxing-cpp).
QR_DPI = 100
ACCOUNTS = {
    "chair": Role.CHAIR,
    "clerk": Role.CLERK,
    "teller1": Role.TELLER,
    "teller2": Role.TELLER,
}
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- the election ---------------------------------------------------------------------------------
@dataclass
class Setup:
    folder: Path  # on the tmpfs: the election file and the service's data folder
    db: Path
    data: Path
    wg_key: Path
    scrutineer_keys: list[Path]
    town_pub: Path
    present: list[str]
    codes: dict[str, str]  # approved member -> invitation code


def _keyfile(folder: Path, role: keys.Role, name: str) -> tuple[Path, keys.InMemorySigner]:
    data, _ = keys.generate_keypair(
        role, name, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS
    )
    path = folder / f"{name}.key"
    path.write_bytes(data)
    signer = keys.load_signer(path, PASSPHRASE, expected_role=role)
    return path, signer


def prepare(disk: Path, keys_dir: Path, members: int) -> Setup:
    """The election file with remote voting open and one invitation per approved member, the
    accounts of the station. Key files live outside the tmpfs (the work group's USB stick)."""
    remote_n, absent_n = max(3, members // 15), max(1, members // 60)
    approved = [f"B{i:05d}" for i in range(members - 1 - remote_n, members - 1)]
    absent = [f"B{i:05d}" for i in range(members - 1 - remote_n - absent_n, members - 1 - remote_n)]
    data_def = _definition(members)
    data_def["officials"] = {
        "scrutineers": [f"B{members:05d}", f"B{members - 2 - remote_n - absent_n:05d}"],
        "tellers": [f"B{members - 1:05d}"],
    }
    data_def["remote_voting"] = {"approved": approved, "counts_toward_quorum": False}
    data_def["election"]["date"] = dt.date.today() + dt.timedelta(days=2)  # type: ignore[index]
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    town_pub = keys_dir / "town.pub"
    town_pub.write_bytes(keys.export_public_key(town.public_key))
    wg_key, wg = _keyfile(keys_dir, keys.Role.WORK_GROUP, "wg")
    sc = [_keyfile(keys_dir, keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]

    def pub(s: keys.InMemorySigner) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
        return doc

    manifest = build_manifest(
        parse_definition_data(data_def),
        work_group_key=pub(wg),
        scrutineer_keys=tuple(pub(s) for _, s in sc),
    )
    db, data = disk / "election.db", disk / "service"
    s = ElectionSession.init(
        SessionConfig(db, passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.remote.open(signer=wg, k=2, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in approved}
    s.store.close()
    store = AccountStore(accounts_path(data), opslimit=FAST["opslimit"], memlimit=FAST["memlimit"])
    for name, role in ACCOUNTS.items():
        store.add(name, role, f"{name}-soak-password")
    present = [
        f"B{i:05d}"
        for i in range(1, members + 1)
        if f"B{i:05d}" not in approved and f"B{i:05d}" not in absent
    ]
    return Setup(disk, db, data, wg_key, [p for p, _ in sc], town_pub, present, codes)


# -- figures --------------------------------------------------------------------------------------
@dataclass
class Figures:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    during_full: Counter[str] = field(default_factory=Counter)
    unclean: list[str] = field(default_factory=list)
    downtime: list[float] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    peak_rss_kb: int = 0
    sampled_rss_kb: int = 0  # the highest VmRSS seen by the samples (about once a second)
    startup_rss_kb: int = 0  # VmRSS of the service just started, before any load
    full_windows: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, outcome: str, full: bool) -> None:
        with self.lock:
            self.statuses[kind][outcome] += 1
            if outcome.startswith("2") or outcome.startswith("3"):
                self.latency[kind].append(seconds)
            if full:
                self.during_full[f"{kind} {outcome}"] += 1

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)
        log(text)


# -- the server and the faults --------------------------------------------------------------------
class Server:
    """``tally serve`` as a subprocess; kill -9 and start again; the gate the actors wait on."""

    def __init__(self, setup: Setup, port: int, logfile: Path, figures: Figures) -> None:
        self.setup, self.port, self.logfile, self.figures = setup, port, logfile, figures
        self.base = f"http://127.0.0.1:{port}"
        self.up = threading.Event()
        self.epoch = 0
        self.full = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.on_up: list[Callable[[], None]] = []

    def start(self) -> float:
        t0 = time.monotonic()
        cmd = [
            sys.executable,
            "-m",
            "tally",
            "serve",
            str(self.setup.db),
            "--key",
            str(self.setup.wg_key),
            *[a for k in self.setup.scrutineer_keys for a in ("--scrutineer-key", str(k))],
            "--data",
            str(self.setup.data),
            "--port",
            str(self.port),
        ]
        env = {**os.environ, "TALLY_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT)}
        with self.logfile.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"the service exited with {self.proc.returncode}; see {self.logfile}"
                )
            try:
                if httpx.get(f"{self.base}/api/health", timeout=2).status_code == 200:
                    return t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise SystemExit("the service did not start within 120 s")

    def rss_kb(self, field: str = "VmHWM") -> int:
        """The process's peak resident set so far (VmHWM), or another field of its status."""
        if self.proc is None:
            return 0
        try:
            text = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        m = re.search(rf"{field}:\s+(\d+) kB", text)
        return int(m.group(1)) if m else 0

    def sample_rss(self) -> None:
        rss = self.rss_kb()
        now = self.rss_kb("VmRSS")
        with self.figures.lock:
            self.figures.peak_rss_kb = max(self.figures.peak_rss_kb, rss)
            self.figures.sampled_rss_kb = max(self.figures.sampled_rss_kb, now)

    def kill_and_restart(self) -> None:
        assert self.proc is not None
        self.up.clear()
        self.epoch += 1
        self.sample_rss()
        t_kill = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.start()
        downtime = time.monotonic() - t_kill
        self.restarts += 1
        with self.figures.lock:
            self.figures.downtime.append(downtime)
        log(f"restart {self.restarts}: first 2xx {downtime:.2f} s after the SIGKILL")
        for fn in self.on_up:
            fn()
        self.up.set()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.sample_rss()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Stop(Exception):
    pass


@dataclass
class Ctx:
    server: Server
    figures: Figures
    deadline: float  # monotonic: the soak's end
    start: float
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)

    def at(self, fraction: float) -> float:
        return self.start + fraction * (self.deadline - self.start)


class Actor:
    """One person's browser or phone: its own connection and cookie; every request is timed and
    recorded; connection failures wait for the server to come back and are retried by the caller."""

    def __init__(self, ctx: Ctx, name: str, *, final: bool = False, source: str = "") -> None:
        self.ctx, self.name, self.final = ctx, name, final
        # A phone has its own address (the redeem throttle counts per source, RM-3.5).
        transport = httpx.HTTPTransport(local_address=source) if source else None
        self.client = httpx.Client(
            base_url=ctx.server.base, timeout=60, follow_redirects=False, transport=transport
        )
        self.cookie = ""
        self.csrf = ""

    def request(self, kind: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        """One request; None when the connection failed (server killed, request in flight)."""
        if self.ctx.stop.is_set() and not self.final:
            raise Stop
        self.ctx.server.up.wait()
        headers = kw.pop("headers", {})
        if self.cookie:
            headers["cookie"] = f"tally_session={self.cookie}"
        full = self.ctx.server.full.is_set()
        t0 = time.perf_counter()
        try:
            r = self.client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as e:
            self.ctx.figures.record(kind, time.perf_counter() - t0, "conn", full)
            if full and self.ctx.server.up.is_set():
                self.ctx.figures.unclean.append(
                    f"{kind}: connection failed during full disk: {e!r}"
                )
            time.sleep(0.2)
            return None
        seconds = time.perf_counter() - t0
        full = full or self.ctx.server.full.is_set()
        code = ""
        if r.status_code >= 400:
            with contextlib.suppress(ValueError):
                body = r.json()
                code = str(body.get("code", body.get("detail", "")))[:40]
        self.ctx.figures.record(kind, seconds, f"{r.status_code}{' ' + code if code else ''}", full)
        if r.status_code >= 500 and r.status_code != 503:
            self.ctx.figures.unclean.append(f"{kind}: {r.status_code} {r.text[:300]}")
        if (
            full
            and r.status_code == 503
            and "application/json" in r.headers.get("content-type", "")
            and not code
        ):
            self.ctx.figures.unclean.append(f"{kind}: 503 without a code: {r.text[:200]}")
        return r

    def sign_in(self, password: str) -> None:
        while True:
            self.cookie = ""
            page = self.request("sign-in", "GET", "/station/login")
            if page is None or page.status_code != 200:
                continue
            pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert pre is not None
            r = self.request(
                "sign-in",
                "POST",
                "/station/login",
                data={"csrf": pre.group(1), "name": self.name, "password": password},
                headers={"cookie": f"tally_pre={page.cookies.get('tally_pre', '')}"},
            )
            if r is None or r.status_code != 303:
                time.sleep(0.5)
                continue
            self.cookie = r.cookies["tally_session"]
            home = self.request("page", "GET", "/station/")
            if home is None:
                continue
            m = re.search(r'name="csrf" value="([^"]+)"', home.text)
            assert m is not None, home.text[:500]
            self.csrf = m.group(1)
            return

    def post(self, kind: str, path: str, data: dict[str, Any]) -> httpx.Response | None:
        return self.request(kind, "POST", path, data={"csrf": self.csrf, **data})


def _ok_redirect(r: httpx.Response | None, page: str) -> bool:
    return r is not None and r.status_code == 303 and r.headers["location"].startswith(page)


# -- the meeting ----------------------------------------------------------------------------------
@dataclass
class Acks:
    lock: threading.Lock = field(default_factory=threading.Lock)
    checkins: set[str] = field(default_factory=set)
    ballots: set[tuple[str, int, str]] = field(default_factory=set)  # post, round, ballot id
    credentials: set[str] = field(default_factory=set)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    steps: list[tuple[str, str, int]] = field(default_factory=list)  # entry type, post, round


def peek(setup: Setup) -> ElectionSession:
    """What the chair sees on the screen: the election as stored (a read-only replay)."""
    for _ in range(100):
        try:
            return ElectionSession.open(SessionConfig(setup.db, passphrase=PASSPHRASE))
        except Exception:  # a write in progress, a full disk: look again
            time.sleep(0.5)
    raise SystemExit("the election file cannot be read")


def clerk(ctx: Ctx, setup: Setup, acks: Acks, rng: random.Random) -> None:
    actor = Actor(ctx, "clerk")
    actor.sign_in("clerk-soak-password")
    order = list(setup.present)
    rng.shuffle(order)
    end = ctx.at(0.18)
    for i, member in enumerate(order):
        due = ctx.start + (end - ctx.start) * i / len(order)
        time.sleep(max(0.0, due - time.monotonic()))
        while True:
            r = actor.post("checkin", "/station/checkin", {"member": member})
            if _ok_redirect(r, "/station/checkin"):
                with acks.lock:
                    acks.checkins.add(member)
                break
            if r is not None and r.status_code == 409 and "已经签到" in r.text:
                break  # an earlier attempt committed, its answer lost in a restart
            if r is not None and r.status_code == 303:  # signed out? (never expected)
                actor.sign_in("clerk-soak-password")
            time.sleep(0.3)
    log(f"check-in done: {len(acks.checkins)} acknowledged of {len(order)}")


def _marks(rng: random.Random, n: int, seats: int) -> str:
    """Mostly the first ``seats`` candidates (so each post fills in its first round), some spread,
    a few over-votes (invalid ballots)."""
    roll = rng.random()
    if roll < 0.02:
        return "o" * n  # more choices than seats: an invalid ballot (R8)
    if roll < 0.8:
        return "o" * seats + "x" * (n - seats)
    picks = set(rng.sample(range(n), seats))
    return "".join("o" if i in picks else rng.choice("x-") for i in range(n))


def _approvals(rng: random.Random, listed: list[str], seats: int) -> list[str]:
    """Mostly the first ``seats`` candidates (so each post fills in its first round), some spread,
    a few fewer than the seats (a remote ballot is never an over-vote: RV-3.3)."""
    roll = rng.random()
    if roll < 0.02:
        return listed[: max(0, seats - 1)]
    if roll < 0.8:
        return listed[:seats]
    return rng.sample(listed, min(seats, len(listed)))


def remote_member(
    ctx: Ctx, member: str, code: str, acks: Acks, rng: random.Random, source: str
) -> None:
    actor = Actor(ctx, member, source=source)
    info = None
    while info is None:
        r = actor.request("remote-info", "GET", "/api/remote/info")
        info = r.json() if r is not None and r.status_code == 200 else None
    issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    eid = bytes.fromhex(info["election_id"])
    request = begin_token_request(issuer, eid)
    blind = None
    while blind is None:
        r = actor.request(
            "remote-redeem",
            "POST",
            "/api/remote/redeem",
            json={"code": code, "blinded_msg": base64.b64encode(request.blinded_msg).decode()},
        )
        if r is None:
            continue
        if r.status_code == 200:
            blind = base64.b64decode(r.json()["blind_sig"])
            lists = r.json()["write_in_lists"]
            with acks.lock:
                acks.credentials.add(member)
        elif r.status_code == 409 and "used" in r.text:
            ctx.figures.note(f"{member}: invitation used by a redeem whose answer was lost")
            return
        elif r.status_code == 409 and "remote.closed" in r.text:
            ctx.figures.note(f"{member}: remote voting closed before the redeem went through")
            return
        else:
            time.sleep(1)
    cred = finish_token_request(request, issuer, blind)
    approvals = {
        p["post"]: _approvals(rng, [c["id"] for c in p["listed"]], p.get("seats", 1))
        for p in info["posts"]
    }
    ballot = remote_ballot.encrypt_ballot(
        ballot_context(info, lists), cred.token, choices_for(info, lists, approvals)
    )
    body = {
        "token": base64.b64encode(cred.token).decode(),
        "token_prefix": base64.b64encode(cred.prefix).decode(),
        "token_signature": base64.b64encode(cred.signature).decode(),
        "ballot": ballot,
    }
    while True:
        r = actor.request("remote-cast", "POST", "/api/remote/cast", json=body)
        if r is None:
            continue
        if r.status_code == 200:
            with acks.lock:
                acks.receipts.append(r.json())
            return
        if r.status_code == 409 and "token_used" in r.text:
            ctx.figures.note(f"{member}: cast committed, its receipt lost in a restart")
            return
        if r.status_code == 409 and "remote.closed" in r.text:
            ctx.figures.note(f"{member}: remote voting closed before the cast went through")
            return
        time.sleep(1)


def remote_voters(ctx: Ctx, setup: Setup, acks: Acks, rng: random.Random) -> None:
    members = list(setup.codes.items())
    rng.shuffle(members)
    end = ctx.at(0.15)
    for i, (member, code) in enumerate(members):
        due = ctx.start + (end - ctx.start) * i / len(members)
        time.sleep(max(0.0, due - time.monotonic()))
        source = f"127.0.1.{i % 250 + 1}"
        remote_member(ctx, member, code, acks, random.Random(rng.random()), source)
    log(f"remote casts done: {len(acks.receipts)} receipts")
    # Afterwards the members check their receipts now and then (RV-4.4).
    actor = Actor(ctx, "receipts")
    while True:
        for receipt in list(acks.receipts):
            actor.request(
                "remote-receipt", "GET", f"/api/remote/receipt?receipt={receipt['receipt']}"
            )
            time.sleep(2)
        time.sleep(2)


def board_reader(ctx: Ctx, i: int) -> None:
    actor = Actor(ctx, f"reader{i}")
    n = 0
    while True:
        n += 1
        path = "/api/board/checkpoints" if n % 5 == 0 else "/api/board"
        actor.request("board", "GET", path)
        time.sleep(1.0)


class Tellers:
    """Two tellers in double-entry mode: teller1 enters each ballot first, teller2 again; a ballot
    counts when teller2's entry meets teller1's pending one. A restart loses pending first entries
    (they live in the service's memory), so each ballot is driven by what the scanner check
    (``GET /station/api/scan``) says until the service calls it entered."""

    def __init__(self, ctx: Ctx, acks: Acks) -> None:
        self.ctx, self.acks = ctx, acks
        self.t = {n: Actor(ctx, n) for n in ("teller1", "teller2")}
        for name, actor in self.t.items():
            actor.sign_in(f"{name}-soak-password")

    def scan(self, actor: Actor, qr: str) -> tuple[str, str]:
        """('entered' | 'pending' | 'free' | 'retry', the teller whose first entry is pending)."""
        r = actor.request("scan", "GET", "/station/api/scan", params={"qr": qr, "lang": "en"})
        if r is None or r.status_code >= 500:
            return "retry", ""
        body = r.json()
        if r.status_code == 409 and body.get("code") == "enter.duplicate":
            return "entered", ""
        if r.status_code != 200:
            raise SystemExit(f"scan refused: {r.status_code} {r.text[:300]}")
        m = re.search(r"entered once by (\S+?):", body.get("message", ""))
        return ("pending", m.group(1)) if m else ("free", "")

    def enter(self, actor: Actor, qr: str, marks: str) -> httpx.Response | None:
        return actor.post(
            "enter", "/station/count/enter", {"qr": qr} | {f"m{i}": m for i, m in enumerate(marks)}
        )

    def ballot(self, spec: RoundSpec, qr: str, marks: str, rng: random.Random) -> None:
        """Drive one ballot until the service has it entered."""
        key = (spec.post.value, spec.number, ballot_printer.parse_qr_text(qr).ballot_id.hex())
        typo = rng.random() < 0.02
        while True:
            epoch = self.ctx.server.epoch
            state, pending_by = self.scan(self.t["teller2"], qr)
            if state == "entered":
                return
            if state == "retry":
                continue
            if state == "free":
                # teller1's first entry (or again, after a mismatch or a restart lost it)
                r = self.enter(self.t["teller1"], qr, marks)
                if r is not None and r.status_code == 503:
                    time.sleep(0.5)  # the disk is full: the teller waits a moment
                if r is not None and r.status_code == 303 and "/login" in r.headers["location"]:
                    self.t["teller1"].sign_in("teller1-soak-password")
                continue
            second = "teller2" if pending_by == "teller1" else "teller1"
            typed = marks
            if typo and second == "teller2":
                typo = False
                typed = "".join("o" if m != "o" else "x" for m in marks)  # the mismatch path
            r = self.enter(self.t[second], qr, typed)
            if r is None:
                continue
            if (
                _ok_redirect(r, "/station/count")
                and self.ctx.server.epoch == epoch
                and typed == marks
            ):
                with self.acks.lock:
                    self.acks.ballots.add(key)
                return
            if r.status_code == 409 and "不一致" in r.text:
                continue  # both entries dropped: enter again
            if r.status_code == 503:
                time.sleep(0.5)
            if r.status_code == 303 and "/login" in r.headers["location"]:
                self.t[second].sign_in(f"{second}-soak-password")


def round_marks(spec: RoundSpec, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [_marks(rng, len(spec.candidates), spec.seats) for _ in range(n)]


def chair_step(
    actor: Actor,
    kind: str,
    path: str,
    data: dict[str, Any],
    done: Callable[[ElectionSession], bool],
    setup: Setup,
) -> ElectionSession:
    """POST until the stored election shows the step done (an answer lost in a restart is fine:
    the step is looked up, never repeated blindly)."""
    while True:
        s = peek(setup)
        if done(s):
            s.store.close()
            return s
        s.store.close()
        r = actor.post(kind, path, data)
        if r is not None and r.status_code == 303 and "/login" in r.headers["location"]:
            actor.sign_in("chair-soak-password")
        elif r is not None and r.status_code not in (303, 409, 503):
            log(f"{kind}: {r.status_code} (recorded as unclean), trying again")
            time.sleep(1)
        elif r is not None and r.status_code == 503:
            time.sleep(0.5)
        elif r is not None and r.status_code == 409:
            m = re.search(r'class="error"[^>]*>(.*?)<', r.text, re.S)
            log(f"{kind}: 409 {m.group(1).strip() if m else ''}")
            time.sleep(1)


def cli(ctx: Ctx, *args: str) -> None:
    """A `tally` command run beside the service (retried while the disk is full)."""
    env = {
        **os.environ,
        "TALLY_PASSPHRASE": PASSPHRASE,
        "PYTHONPATH": str(ROOT),
        "TALLY_LANG": "en",
    }
    for _ in range(60):
        r = subprocess.run(
            [sys.executable, "-m", "tally", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        ctx.figures.record(
            f"cli {args[0]}{' ' + args[1] if args[0] == 'remote' else ''}",
            0.0,
            str(r.returncode),
            ctx.server.full.is_set(),
        )
        if r.returncode == 0:
            return
        log(
            f"tally {' '.join(args[:2])}: exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}"
        )
        time.sleep(2)
    raise SystemExit(f"tally {' '.join(args)} kept failing")


def chair(ctx: Ctx, setup: Setup, acks: Acks, seed: int, pace: float) -> None:
    actor = Actor(ctx, "chair")
    actor.sign_in("chair-soak-password")
    actor.post("mode", "/station/count/mode", {"double": "1"})
    tellers = Tellers(ctx, acks)
    db, data = str(setup.db), str(setup.data)
    # The remote window closes once the casts are in (and before the first round opens, RM-2).
    time.sleep(max(0.0, ctx.at(0.2) - time.monotonic()))
    s = peek(setup)
    remote = s.meeting.remote
    s.store.close()
    assert remote is not None
    if not remote.closed:
        cli(ctx, "remote", "close", db, "--key", str(setup.wg_key), "--data", data)
    s = peek(setup)
    remote = s.meeting.remote
    s.store.close()
    if remote is not None and remote.casts and remote.totals is None:
        # RV-5.3: two scrutineers decrypt the totals (k = 2); the second one's checkpoint is
        # signed with the work group's key. A decrypt already logged is not run again.
        first, second = setup.scrutineer_keys[:2]
        if not remote.partials:
            cli(ctx, "remote", "decrypt", db, "--key", str(first), "--data", data)
        cli(ctx, "remote", "decrypt", db, "--key", str(second), "--work-group-key",
            str(setup.wg_key), "--data", data)  # fmt: skip
    rounds_end = ctx.at(pace)
    n_round = 0
    while True:
        s = peek(setup)
        due = s.meeting.due() if s.meeting.current is None else s.meeting.current.spec
        s.store.close()
        if not isinstance(due, RoundSpec):
            break
        n_round += 1
        spec = due
        present = len(setup.present)
        key = (spec.post, spec.number)

        def printed(s: ElectionSession, key: tuple[Any, int] = key) -> bool:
            return key in s.meeting.stocks

        chair_step(actor, "print", "/station/print", {"count": present + 5}, printed, setup)
        pdf = setup.town_pub.parent / f"{spec.post.value}-{spec.number}.pdf"
        while True:
            r = actor.request(
                "stock-pdf", "GET", f"/station/files/stock/{spec.post.value}-{spec.number}.pdf"
            )
            if r is not None and r.status_code == 200:
                pdf.write_bytes(r.content)
                break
        t0 = time.monotonic()
        texts = [p.texts[0] for p in ballot_printer.read_qr_pages(pdf, dpi=QR_DPI)]
        log(
            f"{spec.post.value} round {spec.number}: {len(texts)} QR codes read from the stock PDF in {time.monotonic() - t0:.1f} s"
        )
        s = chair_step(
            actor,
            "issue",
            "/station/issue",
            {},
            lambda s: s.meeting.current is not None and s.meeting.current.issued is not None,
            setup,
        )
        issued = s.meeting.current.issued  # type: ignore[union-attr]
        s.store.close()
        chair_step(
            actor,
            "return",
            "/station/return",
            {"count": issued},
            lambda s: s.meeting.current is not None and s.meeting.current.returned is not None,
            setup,
        )
        ballots = texts[:issued]
        marks = round_marks(spec, len(ballots), seed + n_round)
        rng = random.Random(seed * 7 + n_round)
        # Pace: this round's ballots spread until its share of the rounds' time (at most 2 rounds
        # planned; later rounds, if the votes call for them, go as fast as they can).
        start = time.monotonic()
        end = start + max(0.0, (rounds_end - start) / max(1, 2 - (n_round - 1)))
        tellers_go(ctx, tellers, spec, ballots, marks, rng, start, end)
        chair_step(
            actor,
            "close",
            "/station/close",
            {},
            lambda s: s.meeting.current is None,
            setup,
        )
        for k in setup.scrutineer_keys:
            cli(ctx, "cosign", db, "--key", str(k))
        log(f"{spec.post.value} round {spec.number} closed")
    chair_step(
        actor,
        "result",
        "/station/result",
        {},
        lambda s: s.meeting.result is not None,
        setup,
    )
    for k in setup.scrutineer_keys:
        cli(ctx, "cosign", db, "--key", str(k))
    log("result recorded and co-signed: the meeting is over")


def tellers_go(
    ctx: Ctx,
    tellers: Tellers,
    spec: RoundSpec,
    ballots: list[str],
    marks: list[str],
    rng: random.Random,
    start: float,
    end: float,
) -> None:
    """teller1 runs ahead on first entries; a second thread drives each ballot to entered."""
    import queue  # noqa: PLC0415

    q: queue.Queue[int | None] = queue.Queue()

    def first() -> None:
        for i, qr in enumerate(ballots):
            due = start + (end - start) * i / len(ballots)
            time.sleep(max(0.0, due - time.monotonic()))
            r = tellers.enter(tellers.t["teller1"], qr, marks[i])
            if r is not None and r.status_code == 303 and "/login" in r.headers["location"]:
                tellers.t["teller1"].sign_in("teller1-soak-password")
            q.put(i)
        q.put(None)

    th = threading.Thread(target=_guard, args=(ctx, first), daemon=True)
    th.start()
    while (i := q.get()) is not None:
        tellers.ballot(spec, ballots[i], marks[i], rng)
    th.join()


def _guard(ctx: Ctx, fn: Callable[[], None]) -> None:
    try:
        fn()
    except Stop:
        pass
    except BaseException as e:
        ctx.errors.append(f"{fn}: {e!r}\n{traceback.format_exc()}")
        ctx.stop.set()


def dropper(
    ctx: Ctx, tellers_cookie: Callable[[], tuple[str, str]], port: int, rng: random.Random
) -> None:
    """A client that sends half a request body and closes the connection."""
    targets = ["cast", "enter", "checkin", "redeem"]
    while True:
        time.sleep(rng.uniform(5, 15))
        if ctx.stop.is_set():
            raise Stop
        ctx.server.up.wait()
        target = rng.choice(targets)
        cookie, csrf = tellers_cookie()
        if target in ("cast", "redeem"):
            path = f"/api/remote/{target}"
            body = json.dumps(
                {
                    "code": "ABCD-" * 5 + "ABCD",
                    "blinded_msg": "A" * 344,
                    "token": "A" * 44,
                    "token_prefix": "A" * 44,
                    "token_signature": "A" * 344,
                    "ballot": {"format": "A" * 600},
                }
            ).encode()
            ctype = "application/json"
        else:
            path = "/station/count/enter" if target == "enter" else "/station/checkin"
            body = f"csrf={csrf}&qr=&member=B00001&m0=o&m1=o&m2=o&m3=x".encode()
            ctype = "application/x-www-form-urlencoded"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nCookie: tally_session={cookie}\r\n\r\n"
        ).encode()
        try:
            # from its own address: the half redeems count against it, not against the phones
            with socket.create_connection(
                ("127.0.0.1", port), timeout=5, source_address=("127.0.2.1", 0)
            ) as sock:
                sock.sendall(head + body[: len(body) // 2])
                time.sleep(rng.uniform(0, 0.5))
            ctx.figures.drops[target] += 1
        except OSError:
            pass


def faults(
    ctx: Ctx,
    setup: Setup,
    rng: random.Random,
    kills: int,
    fulls: int,
    full_seconds: float,
    tmpfs: bool,
) -> None:
    """The fault schedule: kills and full-disk windows at seeded moments over the soak."""
    span = ctx.deadline - ctx.start
    events = [(ctx.start + rng.uniform(0.05, 0.9) * span, "kill") for _ in range(kills)]
    if tmpfs:
        events += [(ctx.start + rng.uniform(0.1, 0.85) * span, "full") for _ in range(fulls)]
    events.sort()
    log("fault schedule: " + ", ".join(f"{kind} at +{t - ctx.start:.0f} s" for t, kind in events))
    for t, kind in events:
        while time.monotonic() < t:
            if ctx.stop.is_set():
                raise Stop
            time.sleep(0.2)
            ctx.server.sample_rss()
        if kind == "kill":
            ctx.server.kill_and_restart()
        else:
            fill_disk(ctx, setup, full_seconds)


def fill_disk(ctx: Ctx, setup: Setup, seconds: float) -> None:
    ballast = setup.folder / "ballast"
    written = 0
    chunk = b"\0" * (1 << 20)
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    written += os.write(fd, chunk[:size])
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    t0 = time.monotonic()
    ctx.server.full.set()
    log(f"disk full: {written >> 20} MiB of ballast, held {seconds:.0f} s")
    while time.monotonic() - t0 < seconds and not ctx.stop.is_set():
        time.sleep(0.2)
    with contextlib.suppress(OSError):
        ballast.unlink()
    ctx.server.full.clear()
    with ctx.figures.lock:
        ctx.figures.full_windows.append((t0 - ctx.start, time.monotonic() - t0))
    log("disk full: ballast removed")


# -- the end: publish, look up every acknowledged entry, verify -----------------------------------
def finish(ctx: Ctx, setup: Setup, acks: Acks, out: Path) -> dict[str, Any]:
    actor = Actor(ctx, "chair", final=True)
    actor.sign_in("chair-soak-password")
    while True:
        r = actor.request("final", "POST", "/station/publish", data={"csrf": actor.csrf})
        if _ok_redirect(r, "/station/downloads"):
            break
        time.sleep(1)
    r = actor.request("final", "GET", "/station/files/bundle.zip")
    assert r is not None
    assert r.status_code == 200, r
    bundle = out / "bundle.zip"
    bundle.write_bytes(r.content)
    with zipfile.ZipFile(bundle) as z:
        lines = z.read("log.jsonl").decode().splitlines()
    entries = [json.loads(line) for line in lines]
    checked_in = {e["body"]["member"] for e in entries if e["type"] == "member.checked_in"}
    entered = {
        (e["body"]["post"], e["body"]["round"], e["body"]["ballot_id"]): e["actor"]
        for e in entries
        if e["type"] == "ballot.entered"
    }
    credentials = {e["body"]["member"] for e in entries if e["type"] == "remote.credential_issued"}
    lost: list[str] = []
    lost += [f"check-in {m}" for m in sorted(acks.checkins - checked_in)]
    lost += [f"ballot {b}" for b in sorted(acks.ballots - set(entered))]
    lost += [f"credential {m}" for m in sorted(acks.credentials - credentials)]
    logged = {
        remote_ballot.ballot_receipt(e["body"]["ballot"])
        for e in entries
        if e["type"] == "remote.cast"
    }
    lost += [f"remote cast {rc['receipt']}" for rc in acks.receipts if rc["receipt"] not in logged]
    single = [b for b, actor_ in entered.items() if "+" not in actor_]
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "verifier",
            "verify",
            str(bundle),
            "--town-key",
            str(setup.town_pub),
            "--lang",
            "en",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(zipfile.ZipFile(bundle).read("result.json"))
    return {
        "log_entries": len(entries),
        "acknowledged": {
            "checkins": len(acks.checkins),
            "ballots": len(acks.ballots),
            "credentials": len(acks.credentials),
            "casts": len(acks.receipts),
        },
        "entered": len(entered),
        "lost": lost,
        "single_teller_ballots": [str(b) for b in single],
        "verifier_exit": verify.returncode,
        "verifier_tail": (verify.stdout + verify.stderr).strip().splitlines()[-3:],
        "elected": result.get("elected"),
    }


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def report(
    fig: Figures,
    end: dict[str, Any],
    restarts: int,
    args: argparse.Namespace,
    seed: int,
    wall: float,
) -> dict[str, Any]:
    print()
    print(
        f"soak: {args.members} members, {args.minutes:g} min (wall {wall / 60:.1f} min), seed {seed}"
    )
    print(f"{'kind':16s} {'ok':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s}  other outcomes")
    kinds: dict[str, Any] = {}
    for kind in sorted(fig.statuses):
        lat = fig.latency.get(kind, [])
        ok = sum(v for k, v in fig.statuses[kind].items() if k[0] in "23" or k == "0")
        other = {k: v for k, v in fig.statuses[kind].items() if not (k[0] in "23" or k == "0")}
        kinds[kind] = {
            "ok": ok,
            "p50_ms": _pct(lat, 0.5) * 1000,
            "p99_ms": _pct(lat, 0.99) * 1000,
            "max_ms": max(lat, default=float("nan")) * 1000,
            "other": other,
        }
        if lat:
            print(
                f"{kind:16s} {ok:6d} {kinds[kind]['p50_ms']:8.1f} {kinds[kind]['p99_ms']:8.1f} {kinds[kind]['max_ms']:8.1f}  {dict(other) or ''}"
            )
        else:
            print(f"{kind:16s} {ok:6d} {'':>8s} {'':>8s} {'':>8s}  {dict(other) or ''}")
    print(
        f"restarts (SIGKILL): {restarts}; first 2xx after the kill: "
        + ", ".join(f"{d:.2f} s" for d in fig.downtime)
    )
    print(
        "full disk: "
        + (", ".join(f"+{t:.0f} s for {d:.0f} s" for t, d in fig.full_windows) or "none")
    )
    print(f"  answers while full: {dict(fig.during_full)}")
    print(
        f"  unclean answers (5xx other than 503, dropped connections while full): {len(fig.unclean)}"
    )
    for u in fig.unclean[:10]:
        print(f"    {u}")
    print(f"half-body client drops: {dict(fig.drops)}")
    print(
        f"peak server RSS: {fig.peak_rss_kb / 1024:.0f} MiB (VmHWM); highest sampled VmRSS "
        f"{fig.sampled_rss_kb / 1024:.0f} MiB; at start-up, before any load, "
        f"{fig.startup_rss_kb / 1024:.0f} MiB"
    )
    print(
        f"log entries {end['log_entries']}; acknowledged {end['acknowledged']}; ballots entered {end['entered']}"
    )
    print(
        f"acknowledged entries missing from the published log: {len(end['lost'])} {end['lost'][:10]}"
    )
    print(
        f"ballots counted without two tellers: {len(end['single_teller_ballots'])} {end['single_teller_ballots'][:5]}"
    )
    print(f"verifier: exit {end['verifier_exit']}: {' / '.join(end['verifier_tail'])}")
    print(f"elected: {end['elected']}")
    for n in fig.notes:
        print(f"note: {n}")
    return {
        "members": args.members,
        "minutes": args.minutes,
        "seed": seed,
        "wall_seconds": wall,
        "kinds": kinds,
        "restarts": restarts,
        "downtime_s": fig.downtime,
        "full_windows": fig.full_windows,
        "during_full": dict(fig.during_full),
        "unclean": fig.unclean,
        "drops": dict(fig.drops),
        "peak_rss_mib": fig.peak_rss_kb / 1024,
        "sampled_rss_mib": fig.sampled_rss_kb / 1024,
        "startup_rss_mib": fig.startup_rss_kb / 1024,
        "notes": fig.notes,
        **end,
    }


SOAK_HEADING = "## Polling-day soak"  # bench/run_all.py keeps this section when it rewrites


def render_doc(f: dict[str, Any]) -> str:
    """The soak's section of docs/PERFORMANCE.md from the figures of one run (``--json``)."""
    out: list[str] = []
    w = out.append
    w(f"{SOAK_HEADING}\n")
    w("```sh")
    w(
        f"make soak   # = sudo .venv/bin/python bench/soak.py --minutes {f['minutes']:g} --seed {f['seed']}"
    )
    w("```\n")
    w(
        f"Measured on {f['date']} (Python {f['python']}, {f['cpus']} CPUs; the machine was shared with "
        "other work during the run, so the latencies are upper bounds). One `tally serve` process "
        f"over a {f['members']}-member branch ({f['present']} checked in, {f['remote']} approved for "
        "remote voting), election file and data folder on a tmpfs; the driver, the CLI commands and "
        f"the QR decoding ran on the same machine. Seed {f['seed']}, {f['wall_seconds'] / 60:.1f} "
        "min wall. Latencies are those of answered requests (2xx/3xx); the last column counts "
        "every other answer: refusals by status and code, `conn` = connection failed (the server "
        "was being killed)."
    )
    w("")
    w("| operation | answered | p50 | p99 | max | other answers |")
    w("| --- | ---: | ---: | ---: | ---: | --- |")
    for kind, k in f["kinds"].items():
        if kind.startswith("cli ") or kind == "final":
            continue
        other = ", ".join(f"{code}: {n}" for code, n in sorted(k["other"].items())) or ""
        if k["p50_ms"] == k["p50_ms"]:  # not NaN
            w(
                f"| {kind} | {k['ok']:,} | {k['p50_ms']:.1f} ms | {k['p99_ms']:.1f} ms | "
                f"{k['max_ms']:.1f} ms | {other} |"
            )
        else:
            w(f"| {kind} | {k['ok']:,} | | | | {other} |")
    cli = {k: v for k, v in f["kinds"].items() if k.startswith("cli ")}
    w("")
    w(
        "Beside the service (CLI, as the work group runs it): "
        + ", ".join(
            f"`tally {k[4:]}` {v['ok']} ok"
            + (f" + {sum(v['other'].values())} refused" if v["other"] else "")
            for k, v in cli.items()
        )
        + "."
    )
    w("")
    downs = ", ".join(f"{d:.1f} s" for d in f["downtime_s"])
    w(
        f"- **Restarts**: {f['restarts']} SIGKILLs of the server at seeded moments, each followed by a "
        f"restart; time from the kill to the first 2xx: {downs}."
    )
    windows = ", ".join(f"at +{s:.0f} s for {d:.0f} s" for s, d in f["full_windows"])
    during = ", ".join(f"{k}: {v}" for k, v in sorted(f["during_full"].items()))
    w(
        f"- **Full disk**: {len(f['full_windows'])} windows ({windows}) with a ballast file filling "
        f"the tmpfs. Answers while full: {during}. Unclean answers (a 5xx other than 503, a "
        f"503 without a code, a dropped connection): **{len(f['unclean'])}**."
    )
    drops = ", ".join(f"{k} {v}" for k, v in sorted(f["drops"].items()))
    w(f"- **Clients dropping mid-request** (half a body, then close): {drops}.")
    w(
        f"- **Peak server RSS**: {f['peak_rss_mib']:.0f} MiB (VmHWM, the highest of the server "
        f"processes, start-up included; it is reached by the Argon2id unlock of the remote "
        f"issuer key file at the first redeem after a start, about 0.6 s); the highest VmRSS "
        f"sampled about once a second during "
        f"the run: {f['sampled_rss_mib']:.0f} MiB; baseline, the service just started before any "
        f"load: {f.get('startup_rss_mib', 0):.0f} MiB."
    )
    a = f["acknowledged"]
    w(
        f"- **Acknowledged**: {a['checkins']} check-ins, {a['ballots']} ballots counted by two "
        f"tellers, {a['credentials']} remote credentials, {a['casts']} remote casts with receipts; "
        f"missing from the published log: **{len(f['lost'])}**; ballots counted without two "
        f"tellers: **{len(f['single_teller_ballots'])}**. The log holds {f['log_entries']:,} entries."
    )
    w(
        f"- **Bundle**: published through `POST /station/publish`, downloaded, verified by "
        f"`python -m verifier verify`: exit {f['verifier_exit']} "
        f"({f['verifier_tail'][-1] if f['verifier_tail'] else ''}). Elected: "
        + "; ".join(f"{post} {', '.join(ids)}" for post, ids in (f["elected"] or {}).items())
        + "."
    )
    if f.get("meeting_seconds"):
        w(
            f"- The meeting (check-in to the recorded result) took {f['meeting_seconds'] / 60:.1f} "
            "min; the rest of the time board readers, receipt checks and the faults went on."
        )
    for n in f["notes"]:
        w(f"- Note: {n}")
    w("")
    return "\n".join(out)


def write_doc(figures: dict[str, Any], path: Path) -> None:
    """Replace (or add) the soak's section at the end of ``path``."""
    text = path.read_text(encoding="utf-8")
    i = text.find("\n" + SOAK_HEADING)
    head = text if i < 0 else text[: i + 1]
    path.write_text(head.rstrip("\n") + "\n\n" + render_doc(figures), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "20")))
    ap.add_argument("--members", type=int, default=300)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument(
        "--kills", type=int, default=None, help="SIGKILLs (default: one per 4 min, at least 1)"
    )
    ap.add_argument(
        "--fulls",
        type=int,
        default=None,
        help="full-disk windows (default: one per 7 min, at least 1)",
    )
    ap.add_argument(
        "--full-seconds",
        type=float,
        default=None,
        help="length of each (default 2.5 %% of the time, 5-30 s)",
    )
    ap.add_argument("--tmpfs-mb", type=int, default=256)
    ap.add_argument(
        "--no-tmpfs", action="store_true", help="no root: a plain folder, no full-disk fault"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--doc", type=Path, help="write the figures into this PERFORMANCE.md")
    ap.add_argument(
        "--render-doc", type=Path, metavar="FIGURES", help="only write --doc from a --json file"
    )
    ap.add_argument("--keep", type=Path, help="keep the run's files here")
    args = ap.parse_args()
    if args.render_doc:
        write_doc(json.loads(args.render_doc.read_text(encoding="utf-8")), args.doc)
        return
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print(f"seed {seed} (replay the fault schedule and the votes with --seed {seed})", flush=True)
    rng = random.Random(seed)
    os.environ["TALLY_PASSPHRASE"] = PASSPHRASE
    kills = args.kills if args.kills is not None else max(1, round(args.minutes / 4))
    fulls = args.fulls if args.fulls is not None else max(1, round(args.minutes / 7))
    full_seconds = args.full_seconds or min(30.0, max(5.0, args.minutes * 60 * 0.025))
    base = Path(tempfile.mkdtemp(prefix="soak-", dir=args.keep))
    disk = base / "disk"
    disk.mkdir()
    tmpfs = not args.no_tmpfs
    if tmpfs:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={args.tmpfs_mb}m", "tmpfs", str(disk)],
            capture_output=True,
            check=False,
            text=True,
        )
        if r.returncode != 0:
            raise SystemExit(
                f"cannot mount a tmpfs ({r.stderr.strip()}): run as root, or --no-tmpfs (no full-disk fault)"
            )
    server: Server | None = None
    try:
        t0 = time.monotonic()
        (disk / "run").mkdir()
        setup = prepare(disk / "run", base, args.members)
        log(
            f"election of {args.members} members prepared in {time.monotonic() - t0:.1f} s: {len(setup.present)} to check in, {len(setup.codes)} remote"
        )
        fig = Figures()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = Server(setup, port, base / "server.log", fig)
        server.start()
        server.up.set()
        time.sleep(1)
        fig.startup_rss_kb = server.rss_kb("VmRSS")  # the baseline: the idle service
        start = time.monotonic()
        ctx = Ctx(server, fig, start + args.minutes * 60, start)
        acks = Acks()
        tellers_holder: dict[str, Actor] = {}
        chair_done = threading.Event()

        meeting_seconds: list[float] = []

        def run_chair() -> None:
            chair(ctx, setup, acks, seed, 0.85)
            meeting_seconds.append(time.monotonic() - start)
            chair_done.set()

        def cookie() -> tuple[str, str]:
            a = tellers_holder.get("t")
            return (a.cookie, a.csrf) if a else ("", "")

        holder = Actor(ctx, "teller1")
        holder.sign_in("teller1-soak-password")
        tellers_holder["t"] = holder
        threads = [
            threading.Thread(target=_guard, args=(ctx, fn), daemon=True, name=name)
            for name, fn in [
                ("clerk", lambda: clerk(ctx, setup, acks, random.Random(rng.random()))),
                ("remote", lambda: remote_voters(ctx, setup, acks, random.Random(rng.random()))),
                *[(f"reader{i}", (lambda i=i: board_reader(ctx, i))) for i in range(3)],
                ("chair", run_chair),
                ("dropper", lambda: dropper(ctx, cookie, port, random.Random(rng.random()))),
                (
                    "faults",
                    lambda: faults(
                        ctx, setup, random.Random(rng.random()), kills, fulls, full_seconds, tmpfs
                    ),
                ),
            ]
        ]
        for th in threads:
            th.start()
        while time.monotonic() < ctx.deadline and not ctx.stop.is_set():
            time.sleep(1)
            server.sample_rss()
        if not chair_done.is_set() and not ctx.stop.is_set():
            log("time is up but the meeting is not over: the rounds continue without faults")
            while not chair_done.is_set() and not ctx.stop.is_set():
                time.sleep(1)
        ctx.stop.set()
        server.up.set()
        for th in threads:
            th.join(timeout=120)
        server.full.clear()
        if ctx.errors:
            for e in ctx.errors:
                print(e, file=sys.stderr)
            raise SystemExit("the soak stopped on an error")
        end = finish(ctx, setup, acks, base)
        server.stop()
        figures = report(fig, end, server.restarts, args, seed, time.monotonic() - start)
        figures |= {
            "date": dt.date.today().isoformat(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "present": len(setup.present),
            "remote": len(setup.codes),
            "meeting_seconds": meeting_seconds[0] if meeting_seconds else None,
        }
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, default=str))
        if args.doc and args.minutes >= 20:
            write_doc(figures, args.doc)
        elif args.doc:
            print(f"{args.doc} not written: it holds the figures of a soak of 20 minutes or more")
        failed = (
            end["lost"] or end["verifier_exit"] != 0 or end["single_teller_ballots"] or fig.unclean
        )
        if failed:
            raise SystemExit("soak FAILED: see above")
        print("soak passed")
    finally:
        if server is not None:
            server.stop()
        if tmpfs and subprocess.run(["umount", str(disk)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=False)


if __name__ == "__main__":
    main()
