"""The pending remote casts' table (spec/remote-v2.md RV-4.1, RV-4.2): the board's lists of
receipts by state come from an index, never from the rows (each row holds a whole ballot)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tally.store import SCHEMA_VERSION, ElectionStore


def _plan(db: Path, sql: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return " / ".join(str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
    finally:
        conn.close()


def test_the_receipts_of_a_state_are_read_from_the_index_alone(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    ElectionStore.create(db, signed_manifest=b"{}", election_id=bytes(32)).close()
    for state in ("received", "accepted"):
        sql = f"SELECT receipt FROM pending_casts WHERE state = '{state}' ORDER BY receipt"
        assert "COVERING INDEX pending_casts_state" in _plan(db, sql), _plan(db, sql)


def test_a_file_of_schema_6_gets_the_index_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    ElectionStore.create(db, signed_manifest=b"{}", election_id=bytes(32)).close()
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX pending_casts_state")
    conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    store = ElectionStore.open(db)
    store.close()
    conn = sqlite3.connect(db)
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert int(version) == SCHEMA_VERSION == 7
    assert "pending_casts_state" in names
