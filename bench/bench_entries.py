"""Ballot entry at full sync: entries per second into one election, and the time to publish.

    .venv/bin/python bench/bench_entries.py [--runoffs 19]

The election is bench/synthetic.py's (4,998 ballots a round; 19 runoffs give 104,958 entries).
Baseline, in the same run: raw SQLite inserts of the same entry bytes into a table of the same
shape, WAL and synchronous=FULL, committed in batches of the same size.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures
import synthetic

from tally.publish import publish


def raw_sqlite(rows: list[bytes], folder: Path) -> float:
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, raw BLOB NOT NULL)"
    )
    t0 = time.perf_counter()
    for i in range(0, len(rows), synthetic.BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO log (seq, type, raw) VALUES (?, ?, ?)",
            [(i + k, "ballot.entered", r) for k, r in enumerate(rows[i : i + synthetic.BATCH])],
        )
        conn.execute("COMMIT")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runoffs", type=int, default=19)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        session, _, seconds, entered = synthetic.build(folder, runoffs=args.runoffs)
        rows = [raw for _, raw in session.store.log_rows()]
        ballot_rows = [r for r in rows if b'"ballot.entered"' in r]
        baseline = raw_sqlite(ballot_rows, folder)
        t0 = time.perf_counter()
        publish(session, folder / "published", notice=False)
        published = time.perf_counter() - t0
    print(
        f"ballot entries          {entered:>9,d}  in {seconds:6.1f} s  = {entered / seconds:8,.0f} /s"
        "  (QR signature check, rules, hash chain, SQLite FULL sync, batches of 1,000)"
    )
    print(
        f"baseline raw inserts    {len(ballot_rows):>9,d}  in {baseline:6.1f} s  = "
        f"{len(ballot_rows) / baseline:8,.0f} /s  (same rows and batches, no checks)"
    )
    print(f"publish bundle          {len(rows):>9,d} log entries in {published:6.1f} s")
    figures.write(
        args.json,
        {
            "entries": entered,
            "seconds": seconds,
            "rate": entered / seconds,
            "baseline_rows": len(ballot_rows),
            "baseline_seconds": baseline,
            "baseline_rate": len(ballot_rows) / baseline,
            "log_entries": len(rows),
            "publish_seconds": published,
        },
    )


if __name__ == "__main__":
    main()
