"""Check-in latency at the station while the public board is flooded, beside the same without flood.

The service runs as ``tally serve`` runs it (uvicorn with the request limits of
tally/service/limits.py) in a subprocess on 127.0.0.1 over a real election file at full sync,
pinned to CPU 0 when the machine has two cores or more. A clerk signs in through the station's
sign-in page and checks late arrivals in one at a time through ``POST /station/checkin`` (the form the
check-in page posts), one every ``--interval`` seconds, timing each request. Phase A: ``--checkins``
check-ins with nothing else running (the baseline). Phase B: as many again while ``wrk`` (pinned to
CPU 1) keeps ``--clients`` connections busy on ``/api/board`` and ``/board/`` for ``--seconds``.
Both phases run in the same process against the same server, one after the other. Issue 14.6:
the board reads a snapshot, so the flood costs the station CPU time, never a wait on the lock.

    .venv/bin/python bench/bench_board_flood.py [--checkins 134] [--interval 0.15] [--seconds 20]
        [--clients 64] [--rounds 4] [--code DIR] [--json F]

``--code DIR`` runs the server from another checkout (e.g. the code before the snapshot, from
``git archive``) with the same client, to measure a before figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nacl.pwhash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ballot_printer
import keys
from bench.synthetic import _definition
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.service.accounts import AccountStore, Role, accounts_path

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().parent / "wrk" / "board.lua"
BOARD_PATHS = ("/api/board", "/board/")
PASSWORD = "bench board flood clerk 2026"  # a throw-away account of the bench
# Sign-in hashing at its minimum cost: the bench times check-ins, not Argon2id.
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
_PIN = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2

SERVER = """
import sys, uvicorn, nacl.pwhash
from pathlib import Path
from tally.service import ServiceConfig, create_app
from tally.service.limits import RequestLimits, uvicorn_config
fast = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}
app = create_app(ServiceConfig(election_path=Path(sys.argv[1]), data_dir=Path(sys.argv[2]),
                               extra={"argon2_limits": fast}))
# wrk floods from one loopback address, which the per-source cap (32) would mostly refuse; on a
# network the flood comes from many hosts, each under it: the cap is lifted to the service's.
limits = RequestLimits(max_connections_per_source=RequestLimits().max_connections)
uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=int(sys.argv[3]), limits=limits)).run()
"""


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def prepare(folder: Path, present: int, late: int, rounds: int) -> tuple[Path, Path, list[str]]:
    """An election whose meeting is under way, and a clerk's account: ``present`` members checked
    in and ``rounds`` committee rounds held (bench/synthetic.py's: A elected in the first, B, C
    and D tied for the last two seats in each, another runoff due), so the board shows what it
    shows late in a meeting; ``late`` members still to arrive, whose ids are returned."""
    members = present + late
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    manifest = build_manifest(
        parse_definition_data(_definition(members)),
        work_group_key=_pub(wg),
        scrutineer_keys=(_pub(sc),),
    )
    db, svc = folder / "e.db", folder / "svc"
    s = ElectionSession.init(db, sign_manifest(manifest, town), wg)
    ids = [f"B{i:05d}" for i in range(1, members + 1)]
    here, late_ids = ids[: present - 2] + ids[-2:], ids[present - 2 : -2]  # the officials are here
    s.check_in(here)
    third = present // 3
    for number in range(1, rounds + 1):
        marks = (
            ["ooo-"] * third + ["oo-o"] * third + ["o-oo"] * third
            if number == 1
            else ["oo-"] * third + ["o-o"] * third + ["-oo"] * third
        )
        stock = ballot_printer.make_stock(
            election_id=manifest.election_id,
            kind=ballot_printer.PaperKind.COMMITTEE,
            round_number=s.due_round().number,
            count=len(marks),
            signer=wg,
        )
        s.commit_stock(stock, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(marks), signer=wg)
        items = [
            EntryInput(qr=ballot_printer.encode_qr_text(p), marks=m)
            for p, m in zip(stock.payloads, marks, strict=True)
        ]
        for i in range(0, len(items), 1000):
            s.enter(items[i : i + 1000])
        s.close(signer=wg)
    s.store.close()
    AccountStore(accounts_path(svc), **FAST).add("clerk", Role.CLERK, PASSWORD)
    return db, svc, late_ids


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _csrf(text: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', text)
    if m is None:
        raise SystemExit("no CSRF token on the page")
    return m.group(1)


def sign_in(client: httpx.Client) -> str:
    """Sign the clerk in as a browser does; the CSRF token of their session."""
    pre = _csrf(client.get("/station/login").text)
    r = client.post("/station/login", data={"csrf": pre, "name": "clerk", "password": PASSWORD})
    if r.status_code != 303:
        raise SystemExit(f"sign-in refused: {r.status_code}")
    return _csrf(client.get("/station/checkin").text)


def check_in(
    client: httpx.Client, csrf: str, ids: list[str], interval: float, until: float | None = None
) -> list[float]:
    """Check ``ids`` in one at a time, one every ``interval`` s; each request's latency (s)."""
    latencies = []
    start = time.perf_counter()
    for i, member in enumerate(ids):
        if until is not None and time.perf_counter() >= until:
            break
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        r = client.post("/station/checkin", data={"csrf": csrf, "member": member})
        latencies.append(time.perf_counter() - t0)
        if r.status_code != 303:
            raise SystemExit(f"check-in of {member} refused: {r.status_code} {r.text[-300:]}")
    return latencies


def _stats(latencies: list[float]) -> dict[str, float]:
    xs = sorted(latencies)
    n = len(xs)

    def pct(p: float) -> float:
        return xs[min(n - 1, max(0, round(p / 100 * n) - 1))] * 1000

    return {"n": n, "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": xs[-1] * 1000}


def _show(name: str, s: dict[str, float]) -> None:
    print(
        f"{name:24s} {int(s['n']):5d} check-ins   p50 {s['p50_ms']:7.1f} ms   "
        f"p99 {s['p99_ms']:7.1f} ms   max {s['max_ms']:7.1f} ms"
    )


def snapshot_cost(db: Path, ids: list[str]) -> dict[str, float]:
    """In process, after the server has stopped: what taking a board snapshot costs beside the
    commit that triggers it (the mean of each over check-ins of ``ids``, one at a time)."""
    from tally.service.board_snapshot import take  # noqa: PLC0415

    s = ElectionSession.open(db)
    commit = snap = 0.0
    try:
        last = take(s)
        for member in ids:
            t0 = time.perf_counter()
            s.check_in([member])
            t1 = time.perf_counter()
            last = take(s, last)  # as the service takes them, each from the one before
            t2 = time.perf_counter()
            commit, snap = commit + (t1 - t0), snap + (t2 - t1)
    finally:
        s.store.close()
    n = max(1, len(ids))
    figures = {"n": len(ids), "commit_ms": commit / n * 1000, "take_ms": snap / n * 1000}
    print(
        f"{'snapshot cost':24s} {figures['take_ms']:.3f} ms to take one after a check-in whose "
        f"commit took {figures['commit_ms']:.3f} ms (in process, mean of {len(ids)})"
    )
    return figures


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the service did not start")
        time.sleep(0.1)


def phases(args: argparse.Namespace, base: str, ids: list[str], out: Path) -> dict[str, Any]:
    """Phase A (no flood) then phase B (board flood), against the running server."""
    with httpx.Client(base_url=base, timeout=60) as client:
        csrf = sign_in(client)
        for p in BOARD_PATHS:  # warm up
            client.get(p).raise_for_status()
        here = client.get("/api/board").json()["present"]
        print(
            f"{len(ids)} late arrivals; one check-in every {args.interval * 1000:.0f} ms; board "
            f"flood: wrk, {args.clients} connections, {args.seconds:.0f} s, "
            f"{' and '.join(BOARD_PATHS)}{' (wrk on CPU 1, uvicorn on CPU 0)' if _PIN else ''}; "
            f"server code {args.code.resolve()}"
        )
        quiet = _stats(check_in(client, csrf, ids[: args.checkins], args.interval))
        _show("A: no flood (baseline)", quiet)
        wrk = subprocess.Popen(
            [
                *(["taskset", "-c", "1"] if _PIN else []),
                *("wrk", "-t1", f"-c{args.clients}", f"-d{args.seconds:.0f}s", "--timeout", "30s"),
                *("-s", str(LUA), base, "--", *BOARD_PATHS),
            ],
            env={**os.environ, "WRK_OUT": str(out)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.0)  # the flood's connections are open and busy
        until = time.perf_counter() + args.seconds - 2.0
        flood = _stats(check_in(client, csrf, ids[args.checkins :], args.interval, until))
        _, err = wrk.communicate(timeout=args.seconds + 60)
        if wrk.returncode != 0:
            raise SystemExit(f"wrk failed: {err.decode(errors='replace')}")
        _show("B: board flood", flood)
        board: dict[str, float] = json.loads(out.read_text())
        seconds = board["duration_us"] / 1e6
        board["errors"] = sum(board[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
        board["rate"] = board["requests"] / seconds
        print(
            f"{'board reads (wrk)':24s} {int(board['requests']):6d} in {seconds:.1f} s = "
            f"{board['rate']:,.0f}/s   p50 {board['p50_us'] / 1000:.1f} ms   "
            f"p99 {board['p99_us'] / 1000:.1f} ms   max {board['max_us'] / 1000:.1f} ms   "
            f"errors {int(board['errors'])}"
        )
        present = client.get("/api/board").json()["present"]
        if present != here + quiet["n"] + flood["n"]:
            raise SystemExit(f"the board shows {present} present, not every check-in")
    print(f"check-in p99 under the flood / without: {flood['p99_ms'] / quiet['p99_ms']:.2f}x")
    return {"quiet": quiet, "flood": flood, "board": board}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # 20 s a phase, for `make bench` under 8 minutes (issue 15); it was 60 s, then 30 s, on
    # 2026-12-07. `--checkins 400 --seconds 60` runs the longest one, on the same election.
    ap.add_argument("--checkins", type=int, default=134, help="check-ins per phase (at most)")
    ap.add_argument("--interval", type=float, default=0.15, help="seconds between check-ins")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the board flood")
    ap.add_argument("--clients", type=int, default=64, help="connections of the flood")
    ap.add_argument("--rounds", type=int, default=4, help="committee rounds held beforehand")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout the server runs from")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs the Debian package)")
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        # The same election whatever the run's length (up to 400 check-ins a phase): the board's
        # size, and so its cost, does not change with --checkins.
        late = 2 * max(400, args.checkins) + 100
        # More than 4/5 of the members present (the quorum, R5), in thirds, in one ballot stock.
        present = (5 * late + 2) // 3 * 3
        if present > 4998:
            raise SystemExit("--checkins too large: one ballot stock holds 4,998 ballots")
        t0 = time.perf_counter()
        db, svc, ids = prepare(Path(tmp), present, late, args.rounds)
        print(
            f"prepared: {present + late} members, {present} checked in, {args.rounds} committee "
            f"rounds held ({time.perf_counter() - t0:.0f} s)"
        )
        port = _port()
        server = subprocess.Popen(
            [
                *(["taskset", "-c", "0"] if _PIN else []),
                *(sys.executable, "-c", SERVER, str(db), str(svc), str(port)),
            ],
            env={**os.environ, "PYTHONPATH": str(args.code.resolve())},
            cwd=args.code.resolve(),  # `python -c` puts the working folder first on sys.path
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base)
            figures = phases(args, base, ids[: 2 * args.checkins], Path(tmp) / "wrk.json")
        finally:
            server.terminate()
            server.wait(timeout=10)
        done = figures["quiet"]["n"] + figures["flood"]["n"]
        if args.code.resolve() == ROOT:
            figures["snapshot"] = snapshot_cost(db, ids[done : done + 100])
    figures |= {
        "checkins": args.checkins,
        "interval": args.interval,
        "clients": args.clients,
        "seconds": args.seconds,
        "pinned": _PIN,
        "rounds": args.rounds,
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
