"""Write spec/vectors/calendar/: signed year files (`signed-calendar/1`, spec/rules.md R26.3).

    .venv/bin/python scripts/gen_calendar_vectors.py          # rewrite the vectors
    .venv/bin/python scripts/gen_calendar_vectors.py --check  # exit 1 when they are stale

Fixed seed keys; the 2027 dates are made up for the vectors (NOT the State Council's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import keys
from tally.calendar import CalendarYear, sign_calendar

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "spec" / "vectors" / "calendar"


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"calendar vector seed: {name}".encode()).digest()


TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "示例镇党委", _seed("town"))
OTHER_TOWN = keys.InMemorySigner.from_seed(
    keys.Role.TOWN_COMMITTEE, "别的镇党委", _seed("other town")
)
YEAR_2027 = CalendarYear(
    2027,
    frozenset(
        [dt.date(2027, 1, d) for d in (1, 2, 3)]
        + [dt.date(2027, 2, d) for d in range(6, 13)]
        + [dt.date(2027, 10, d) for d in range(1, 8)]
    ),
    frozenset({dt.date(2027, 2, 20), dt.date(2027, 10, 9)}),
    "测试数据：虚构的2027年节假日安排（非国务院办公厅通知）",
)


def files() -> dict[str, bytes]:
    valid = sign_calendar([YEAR_2027], TOWN)
    doc = json.loads(valid)
    unknown = dict(doc, note="x")
    altered = valid.replace(b'"2027-02-20"', b'"2027-02-21"')
    return {
        "town.pub": keys.export_public_key(TOWN.public_key),
        "valid-2027.json": valid,
        "invalid-other-town.json": sign_calendar([YEAR_2027], OTHER_TOWN),
        "invalid-altered.json": altered,
        "invalid-unknown-field.json": json.dumps(unknown, ensure_ascii=False).encode(),
    }


def main() -> int:
    want = files()
    if "--check" in sys.argv:
        stale = [n for n, b in want.items() if (TARGET / n).read_bytes() != b]
        if stale:
            print("stale calendar vectors:", ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, data in want.items():
        (TARGET / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
