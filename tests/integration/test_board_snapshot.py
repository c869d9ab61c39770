"""Issue 14.6: the public board cannot slow the station.

Board routes answer from a snapshot the session thread publishes after each commit: a board read
completes while a writer holds the election lock (with the state before that write), the next read
after the commit shows it, and the snapshot renders exactly what the session renders.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.log import MerkleTree
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, bulletin, create_app
from tally.service.app import ServiceState
from tally.service.board_snapshot import take
from tally.session_errors import SessionError
from tests.helpers.round_history import build_every_round_election

ROOT = Path(__file__).resolve().parents[2]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]
BOARD_ROUTES = ("/api/board", "/board/", "/api/board/checkpoints", "/api/board/proof?seq=0")


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass
class Served:
    client: TestClient
    state: ServiceState
    path: Path
    wg: keys.InMemorySigner
    scrutineer: keys.InMemorySigner

    def run(self, fn: Callable[[ElectionSession], Any]) -> Any:
        """``fn`` through ``ServiceState.run`` on the app's event loop, as a request does."""
        return self.client.portal.call(self.state.run, fn)  # type: ignore[union-attr]

    def present(self) -> int:
        r = self.client.get("/api/board")
        assert r.status_code == 200, r.text
        n: int = r.json()["present"]
        return n


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Qingshan before the meeting: the opening checkpoint only, nobody checked in."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    path = tmp_path / "e.db"
    ElectionSession.init(path, sign_manifest(manifest, town), wg).store.close()
    app = create_app(ServiceConfig(election_path=path, data_dir=tmp_path / "svc"))
    with TestClient(app) as client:
        yield Served(client, app.state.service, path, wg, sc)


@pytest.mark.parametrize("route", BOARD_ROUTES)
def test_a_board_read_completes_while_a_writer_holds_the_election_lock(
    served: Served, route: str
) -> None:
    """A writer commits a check-in and then holds the lock (a slow command); every board route
    answers at once, the JSON with the board as it was before that write."""
    committed, release = threading.Event(), threading.Event()

    def slow_writer(s: ElectionSession) -> None:
        s.check_in(["M003"])
        committed.set()
        release.wait(30)

    writer = served.client.portal.start_task_soon(served.state.run, slow_writer)  # type: ignore[union-attr]
    readers = ThreadPoolExecutor(max_workers=1)
    try:
        assert committed.wait(10)
        assert served.state.lock.locked()
        read = readers.submit(served.client.get, route)
        r = read.result(timeout=5)  # today's code queued here until the writer let go
        if route.startswith("/api/board/proof"):
            # Entry 0 is not a remote ballot's: refused at once, from the snapshot (spec/log.md §1.1)
            assert (r.status_code, r.json()["code"]) == (404, "proof.not_public"), r.text
        else:
            assert r.status_code == 200, r.text
        if route == "/api/board":
            assert r.json()["present"] == 0  # the last snapshot: the write has not returned yet
    finally:
        release.set()
        writer.result(timeout=10)
        readers.shutdown(wait=True)
    assert served.present() == 1  # the writer returned: its snapshot is published


# The other public routes (no sign-in): each answers from the snapshot too.
PUBLIC_ROUTES = {
    "/api/health": (200, None),
    "/api/remote/info": (200, None),
    "/api/remote/pin": (409, "remote.not_open"),
    "/api/remote/receipt?receipt=" + "0" * 64: (404, "receipt.not_found"),
}


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
def test_public_health_and_remote_reads_complete_while_a_writer_holds_the_election_lock(
    served: Served, route: str
) -> None:
    """A health probe or a voter's phone asking for the page's data, the pin or a receipt does not
    queue behind a slow station command: it answers from the last snapshot."""
    committed, release = threading.Event(), threading.Event()

    def slow_writer(s: ElectionSession) -> None:
        s.check_in(["M003"])
        committed.set()
        release.wait(30)

    writer = served.client.portal.start_task_soon(served.state.run, slow_writer)  # type: ignore[union-attr]
    readers = ThreadPoolExecutor(max_workers=1)
    try:
        assert committed.wait(10)
        assert served.state.lock.locked()
        r = readers.submit(served.client.get, route).result(timeout=5)
        status, code = PUBLIC_ROUTES[route]
        assert r.status_code == status, r.text
        if code is not None:
            assert r.json()["code"] == code
        if route == "/api/health":
            assert r.json()["log_entries"] == served.state.board.size
    finally:
        release.set()
        writer.result(timeout=10)
        readers.shutdown(wait=True)


def test_the_board_shows_every_commit_checkpoint_and_cosignature(served: Served) -> None:
    """A cosignature changes no meeting and appends no entry: the snapshot is still retaken."""
    wg = served.wg
    served.run(lambda s: s.check_in(PRESENT))
    assert served.present() == 23
    stock = ballot_printer.make_stock(
        election_id=served.run(lambda s: s.manifest.election_id),
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    before = len(served.client.get("/api/board/checkpoints").json()["checkpoints"])
    served.run(lambda s: s.commit_stock(stock, signer=wg))
    served.run(lambda s: s.issue(count=None, signer=wg))
    served.run(lambda s: s.return_ballots(23, signer=wg))
    items = [
        EntryInput(qr=ballot_printer.encode_qr_text(p), marks="ooooox") for p in stock.payloads
    ]
    served.run(lambda s: s.enter(items))
    served.run(lambda s: s.close(signer=wg))
    board = served.client.get("/api/board").json()
    cps = served.client.get("/api/board/checkpoints").json()["checkpoints"]
    assert len(cps) > before  # the stock printed, ..., the round closed
    assert cps[-1]["reason"].startswith("round-closed")
    assert board["entries"] == cps[-1]["size"] and board["rounds"][0]["valid"] == 23
    assert "scrutineer:" not in cps[-1]["text"]
    assert served.run(lambda s: s.cosign(served.scrutineer)) == 1
    cps = served.client.get("/api/board/checkpoints").json()["checkpoints"]
    assert "scrutineer:" in cps[-1]["text"]
    assert "scrutineer:" in served.client.get("/api/board").json()["checkpoint"]["text"]
    _both_ways(served.state)


def test_a_quorum_failure_logged_while_serving_reaches_the_board(served: Served) -> None:
    """The refused issue logs ``round.quorum_failed`` (an entry the board reads from the log, not
    from the meeting): the next snapshot, taken from the one before, finds it."""
    wg = served.wg
    served.run(lambda s: s.check_in(PRESENT[:20]))  # 20 of 25: 5P = 4E, no quorum (R5)
    stock = ballot_printer.make_stock(
        election_id=served.run(lambda s: s.manifest.election_id),
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=20,
        signer=wg,
    )
    served.run(lambda s: s.commit_stock(stock, signer=wg))
    with pytest.raises(SessionError, match="NOT valid"):
        served.run(lambda s: s.issue(count=None, signer=wg))
    (failed,) = served.client.get("/api/board").json()["rounds"]
    assert failed["status"] == "quorum_failed" and failed["present"] == 20
    _both_ways(served.state)


def test_a_write_by_another_program_reaches_the_board_without_a_station_request(
    served: Served,
) -> None:
    """The CLI beside the service writes to the file: a board read schedules a look at it (the
    read itself does not wait), and the board soon shows the write."""
    other = ElectionSession.open(served.path)
    other.check_in(["M001", "M002"])
    other.store.close()
    deadline = time.monotonic() + 10
    while served.present() != 2:
        assert time.monotonic() < deadline, "the board never showed the other program's write"
        time.sleep(0.05)


def test_a_request_that_writes_nothing_keeps_the_snapshot(served: Served) -> None:
    """Reads through the session (station pages, health) take no new snapshot: its cost is paid
    only by commits."""
    before = served.state.board
    assert served.client.get("/api/health").status_code == 200
    served.run(lambda s: s.meeting.size)
    assert served.state.board is before
    served.run(lambda s: s.check_in(["M004"]))
    assert served.state.board is not before


def test_a_flood_of_board_reads_renders_once_per_commit(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = bulletin._board

    def counting(session: ElectionSession, lang: str) -> dict[str, Any]:
        calls.append(lang)
        return real(session, lang)

    monkeypatch.setattr(bulletin, "_board", counting)
    bodies = {served.client.get("/api/board").content for _ in range(20)}
    pages = {served.client.get("/board/").content for _ in range(20)}
    assert len(bodies) == 1 and len(pages) == 1
    assert calls == ["zh"]  # the page reuses the JSON's rendering of the same snapshot
    served.run(lambda s: s.check_in(["M005"]))
    assert served.present() == 1
    served.client.get("/api/board", params={"lang": "en"})
    assert calls == ["zh", "zh", "en"]


# -- the snapshot renders what the session renders ----------------------------------------------
def _both_ways(state: ServiceState) -> None:
    """On the session thread: the session's own board beside the snapshot's, and every proof."""

    def check(s: ElectionSession) -> None:
        snap = take(s)
        published = state.board  # taken step by step, each from the one before
        assert snap.size == published.size == s.meeting.size == len(s.tree)
        for lang in ("zh", "en"):
            direct = bulletin._board(s, lang)
            assert bulletin._board(snap.session, lang) == direct
            assert bulletin._board(published.session, lang) == direct
        assert published.checkpoints == snap.checkpoints
        assert list(snap.checkpoints) == s.store.checkpoints()
        size = s.store.checkpoints()[-1].size
        fresh = MerkleTree(s.tree.leaf_hashes[:size])
        for seq in range(size):
            assert snap.proofs.leaf_hash(seq) == s.tree.leaf_hash(seq)
            assert snap.proofs.inclusion_proof(seq) == fresh.inclusion_proof(seq)
        with pytest.raises(IndexError):
            snap.proofs.inclusion_proof(size)

    state.thread.submit(check, state.session).result()


def test_the_snapshot_renders_the_same_board_as_the_session_on_a_whole_election(
    tmp_path: Path,
) -> None:
    """Every kind of round (quorum failure, void round and re-vote, further round, runoff), the
    result and the scrutineers' cosignatures."""
    build_every_round_election(tmp_path / "e.db")
    app = create_app(ServiceConfig(election_path=tmp_path / "e.db", data_dir=tmp_path / "svc"))
    with TestClient(app):
        _both_ways(app.state.service)


def test_the_snapshot_renders_the_same_board_as_the_session_mid_round(served: Served) -> None:
    served.run(lambda s: s.check_in(PRESENT))
    _both_ways(served.state)


def test_a_snapshots_proofs_stay_valid_while_the_tree_grows_and_a_failed_commit_is_undone(
    served: Served,
) -> None:
    """Proofs are read from the live tree without the lock: only its committed prefix, which no
    later append and no undo of a failed transaction changes."""
    snap = served.state.board
    size = snap.proofs.size
    expected = [snap.proofs.inclusion_proof(seq) for seq in range(size)]
    leaf, proof = snap.proofs.leaf_hash(0), snap.proofs.inclusion_proof(0)
    root = base64.b64decode(snap.checkpoints[-1].text.split("\n")[2])
    served.run(lambda s: s.check_in(PRESENT))

    def failed_commit(s: ElectionSession) -> None:
        s.tree.extend([b"\x00" * 32] * 9)  # appended, then undone as _store does on failure
        s.tree.truncate(s.meeting.size)

    served.run(failed_commit)
    assert [snap.proofs.inclusion_proof(seq) for seq in range(size)] == expected
    latest = served.state.board
    assert latest.proofs.size == size  # no checkpoint since: the same proof from the new snapshot
    assert latest.proofs.leaf_hash(0) == leaf and latest.proofs.inclusion_proof(0) == proof
    from verifier.merkle import verify_inclusion  # noqa: PLC0415

    verify_inclusion(leaf, 0, size, list(proof), root)
