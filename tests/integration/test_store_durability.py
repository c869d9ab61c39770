"""The election file keeps every acknowledged entry and nothing half-written (spec/log.md §4).

SIGKILL in the middle of entering ballots; a full disk in the middle of a batch; an entry edited
outside the program; the append-only triggers.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import ballot_printer
import keys
from tally import store as store_module
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import PostKind
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.session_errors import SessionError
from tally.store import StoreError

ROOT = Path(__file__).resolve().parents[2]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]

SETUP = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import ballot_printer, keys
    from tally.core.definition import parse_definition
    from tally.core.manifest import build_manifest
    from tally.core.model import PostKind
    from tally.election import ElectionSession, EntryInput
    from tally.manifest_io import sign_manifest

    def pub(s):
        return json.loads(keys.export_public_key(s.public_key))

    folder = Path(sys.argv[1])
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = (Path(sys.argv[2]) / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    election = parse_definition(text)
    manifest = build_manifest(election, work_group_key=pub(wg), scrutineer_keys=(pub(sc),))
    s = ElectionSession.init(folder / "e.db", sign_manifest(manifest, town), wg)
    stock = ballot_printer.make_stock(election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE, round_number=1, count=23, signer=wg)
    s.commit_stock(stock, signer=wg)
    s.check_in([f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)])
    s.issue(count=None, signer=wg)
    s.return_ballots(23, signer=wg)
    items = [EntryInput(qr=ballot_printer.encode_qr_text(p), marks="ooooox") for p in stock.payloads]
    print("ready", flush=True)
    """
)

ONE_BY_ONE = SETUP + textwrap.dedent(
    """
    for item in items:
        entry = s.enter([item])[0]
        print("ack", entry.seq, flush=True)  # acknowledged only after the commit returned
    print("done", flush=True)
    """
)


def _spawn(script: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(folder), str(ROOT)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.parametrize("kill_after", [1, 7, 15], ids=["after-1", "after-7", "after-15"])
def test_sigkill_mid_entry_keeps_every_acknowledged_entry_and_the_chain(
    tmp_path: Path, kill_after: int
) -> None:
    proc = _spawn(ONE_BY_ONE, tmp_path)
    assert proc.stdout is not None
    acked: list[int] = []
    for line in proc.stdout:
        if line.startswith("ack"):
            acked.append(int(line.split()[1]))
            if len(acked) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    session = ElectionSession.open(tmp_path / "e.db")  # replays and checks the whole chain
    stored = {seq for seq, _ in session.store.log_rows()}
    assert set(acked) <= stored
    cur = session.meeting.current
    assert cur is not None
    # Nothing half-written: every stored ballot entry is a whole, valid entry of the round.
    assert len(cur.entered) == sum(
        1 for _, raw in session.store.log_rows() if b'"ballot.entered"' in raw
    )
    assert len(cur.entered) >= len(acked)


# The batch's connection is wrapped so that the child stops, and says so, at an exact point: after
# the batch's log rows are inserted in the open transaction ("inserted"), or right after its COMMIT
# returned ("committed"). The parent kills it there, so each run hits the window it names instead
# of a moment chosen by a sleep.
BATCH = SETUP + textwrap.dedent(
    """
    import time
    pause_at = sys.argv[3]

    class Pausing:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def _pause(self, what):
            print(what, flush=True)
            time.sleep(600)

        def executemany(self, sql, rows):
            rows = list(rows)
            cursor = self._conn.executemany(sql, rows)
            if sql.startswith("INSERT INTO log") and pause_at == "inserted":
                self._pause(f"inserted {len(rows)} {int(self._conn.in_transaction)}")
            return cursor

        def execute(self, sql, *args):
            cursor = self._conn.execute(sql, *args)
            if sql == "COMMIT" and pause_at == "committed":
                self._pause("committed")
            return cursor

    s.store._db.conn = Pausing(s.store._db.conn)
    s.enter(items)
    print("done", flush=True)
    """
)


def _kill_batch_at(tmp_path: Path, pause_at: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH, str(tmp_path), str(ROOT), pause_at],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    reached = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return reached


def test_sigkill_after_a_batch_is_inserted_but_before_its_commit_stores_none_of_it(
    tmp_path: Path,
) -> None:
    # All 23 rows were in the database connection, inside the open transaction, when it died.
    assert _kill_batch_at(tmp_path, "inserted") == "inserted 23 1"
    session = ElectionSession.open(tmp_path / "e.db")
    cur = session.meeting.current
    assert cur is not None
    assert len(cur.entered) == 0
    assert not any(b'"ballot.entered"' in raw for _, raw in session.store.log_rows())


def test_sigkill_right_after_a_batch_commits_keeps_all_of_it(tmp_path: Path) -> None:
    assert _kill_batch_at(tmp_path, "committed") == "committed"
    session = ElectionSession.open(tmp_path / "e.db")  # replays and checks the whole chain
    cur = session.meeting.current
    assert cur is not None
    assert len(cur.entered) == 23


def _session(tmp_path: Path) -> tuple[ElectionSession, keys.InMemorySigner, list[str]]:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")

    def pub(s: keys.InMemorySigner) -> dict[str, object]:
        return json.loads(keys.export_public_key(s.public_key))  # type: ignore[no-any-return]

    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(election, work_group_key=pub(wg), scrutineer_keys=(pub(sc),))
    s = ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg)
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    s.check_in(PRESENT)
    s.issue(count=None, signer=wg)
    s.return_ballots(23, signer=wg)
    return s, wg, [ballot_printer.encode_qr_text(p) for p in stock.payloads]


def test_disk_full_in_the_middle_of_a_batch_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, _, texts = _session(tmp_path)
    before = s.store.log_size()
    real = sqlite3.Connection.executemany

    class DiskFull:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __getattr__(self, name: str) -> object:
            return getattr(self.conn, name)

        def executemany(self, sql: str, rows: object) -> object:
            rows = list(rows)  # type: ignore[call-overload]
            real(self.conn, sql, rows[: len(rows) // 2])  # half the rows land, then the disk fills
            raise sqlite3.OperationalError("database or disk is full")

    original = store_module.ElectionStore.add_entries
    monkeypatch.setattr(
        store_module.ElectionStore,
        "add_entries",
        staticmethod(lambda conn, entries: original(DiskFull(conn), entries)),  # type: ignore[arg-type]
    )
    with pytest.raises(sqlite3.OperationalError):
        s.enter([EntryInput(qr=t, marks="ooooox") for t in texts[:10]])
    monkeypatch.undo()
    assert s.store.log_size() == before
    assert s.meeting.current is not None and len(s.meeting.current.entered) == 0
    # The session is still consistent: the same batch now goes in whole.
    s.enter([EntryInput(qr=t, marks="ooooox") for t in texts[:10]])
    reopened = ElectionSession.open(tmp_path / "e.db")
    assert reopened.meeting.current is not None
    assert len(reopened.meeting.current.entered) == 10


def test_log_is_append_only_in_the_database(tmp_path: Path) -> None:
    _session(tmp_path)
    conn = sqlite3.connect(tmp_path / "e.db")
    for sql in (
        "UPDATE log SET raw = x'00' WHERE seq = 1",
        "DELETE FROM log WHERE seq = 1",
        "DELETE FROM checkpoints",
        "UPDATE stocks SET list = x'00'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_the_same_checkpoint_cannot_be_stored_twice_V7(tmp_path: Path) -> None:
    _session(tmp_path)
    conn = sqlite3.connect(tmp_path / "e.db")
    size, reason, body = conn.execute(
        "SELECT size, reason, body FROM checkpoints ORDER BY id LIMIT 1"
    ).fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO checkpoints (size, reason, body) VALUES (?, ?, ?)", (size, reason, body)
        )
    conn.close()


def test_entry_edited_outside_the_program_stops_the_election_naming_the_entry(
    tmp_path: Path,
) -> None:
    s, _, _ = _session(tmp_path)
    s.store.close()
    conn = sqlite3.connect(tmp_path / "e.db")
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = 6").fetchone()[0]
    assert b'"member":"M005"' in raw
    conn.execute("UPDATE log SET raw = ? WHERE seq = 6", (raw.replace(b"M005", b"M025"),))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as e:
        ElectionSession.open(tmp_path / "e.db")
    assert e.value.code == "store.tampered"
    assert "第 6 条" in e.value.zh


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda raw: re.sub(rb'"salt":"[0-9a-f]{64}",', b"", raw), "no salt"),
        (lambda raw: re.sub(rb'("salt":"[0-9a-f]{62})[0-9a-f]{2}"', rb'\1"', raw), "31 bytes"),
        (lambda raw: re.sub(rb'"salt":"[0-9a-f]{64}"', lambda m: m[0].upper(), raw), "upper"),
    ],
    ids=["missing", "short", "uppercase"],
)
def test_an_entry_stored_without_a_valid_salt_stops_the_election(
    tmp_path: Path, edit: Callable[[bytes], bytes], what: str
) -> None:
    """spec/log.md §1.1: every stored entry carries its 32-byte salt as 64 lowercase hex."""
    s, _, _ = _session(tmp_path)
    last = s.store.log_size() - 1
    s.store.close()
    conn = sqlite3.connect(tmp_path / "e.db")
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = ?", (last,)).fetchone()[0]
    edited = edit(raw)
    assert edited != raw, what
    conn.execute("UPDATE log SET raw = ? WHERE seq = ?", (edited, last))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as e:
        ElectionSession.open(tmp_path / "e.db")
    assert e.value.code == "store.tampered"
    assert f"第 {last} 条" in e.value.zh and "salt" in e.value.en


def test_refused_command_changes_nothing(tmp_path: Path) -> None:
    s, wg, texts = _session(tmp_path)
    before = s.store.log_size()
    with pytest.raises(SessionError):
        s.enter([EntryInput(qr=texts[0], marks="oooooo"), EntryInput(qr=texts[0], marks="ooooox")])
    assert s.store.log_size() == before
    with pytest.raises(SessionError):
        s.close(signer=wg)
    assert s.store.log_size() == before
    assert ElectionSession.open(tmp_path / "e.db").meeting.size == before
    _ = PostKind


def test_a_session_made_stale_by_another_program_refuses_to_write_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """Two programs on one election file (the service and the CLI beside it): the one that
    replayed the log before the other appended must not land entries built on the old state."""
    stale, _, texts = _session(tmp_path)
    other = ElectionSession.open(tmp_path / "e.db")
    other.enter([EntryInput(qr=texts[0], marks="ooooox")])
    after_other = [bytes(raw) for _, raw in other.store.iter_log_rows()]
    with pytest.raises(StoreError) as e:
        stale.enter([EntryInput(qr=texts[1], marks="ooooox")])
    assert e.value.code == "store.changed_elsewhere"
    assert "另一个程序" in e.value.zh
    assert [bytes(raw) for _, raw in stale.store.iter_log_rows()] == after_other
    # The refusal left the stale session's tree as it was, and a fresh replay goes on normally.
    assert len(stale.tree) == len(after_other) - 1
    fresh = ElectionSession.open(tmp_path / "e.db")
    fresh.enter([EntryInput(qr=texts[1], marks="ooooox")])
    assert ElectionSession.open(tmp_path / "e.db").meeting.size == len(after_other) + 1


def _disk_full(s: ElectionSession, full: bool = True) -> None:
    """A real SQLITE_FULL, as a full disk gives it: the file may not grow by one page."""
    conn = s.store._db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages if full else 1 << 30}")


def test_a_full_disk_is_a_clean_store_error_that_stores_nothing_and_the_next_write_goes_in(
    tmp_path: Path,
) -> None:
    s, _, texts = _session(tmp_path)
    before = [bytes(raw) for _, raw in s.store.iter_log_rows()]
    _disk_full(s)
    with pytest.raises(StoreError) as e:
        s.enter([EntryInput(qr=t, marks="ooooox") for t in texts[:10]])
    assert e.value.code == "store.disk_full"
    assert "磁盘已满" in e.value.zh and "nothing was written" in e.value.en
    assert [bytes(raw) for _, raw in s.store.iter_log_rows()] == before
    assert s.meeting.current is not None and len(s.meeting.current.entered) == 0
    _disk_full(s, full=False)  # space freed: the same session writes again, whole
    s.enter([EntryInput(qr=t, marks="ooooox") for t in texts[:10]])
    reopened = ElectionSession.open(tmp_path / "e.db")
    assert reopened.meeting.current is not None
    assert len(reopened.meeting.current.entered) == 10
