"""A small town's casework for the casework tests: definition, keys, times, photos."""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import keys
from tally.calendar import WorkingDayCalendar, build_calendar
from tally.core.casework import TOWN_TIME, Casework, casework_document, parse_casework

TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "红旗镇党委", bytes(range(32)))
SERVICE = keys.InMemorySigner.from_seed(keys.Role.CASEWORK, "红旗镇查核组", bytes(range(1, 33)))
CALENDAR: WorkingDayCalendar = build_calendar()

BRANCHES: list[dict[str, Any]] = [
    {
        "branch_code": "B01",
        "name": "东村党支部",
        "groups": [{"group": "G1", "name": "一组"}, {"group": "G2", "name": "二组"}],
    },
    {"branch_code": "B02", "name": "西村党支部", "groups": [{"group": "G1", "name": "一组"}]},
]


def document(**overrides: Any) -> dict[str, Any]:
    doc = casework_document(
        town="红旗镇",
        branches=json.loads(json.dumps(BRANCHES)),
        casework_key=json.loads(keys.export_public_key(SERVICE.public_key)),
    )
    doc.update(overrides)
    return doc


def casework(**overrides: Any) -> Casework:
    return parse_casework(document(**overrides))


def at(text: str) -> datetime:
    """A town-time instant: ``"2026-09-28 10:00"``."""
    return datetime.fromisoformat(text).replace(tzinfo=TOWN_TIME)


def counter_random() -> Callable[[int], bytes]:
    """Deterministic 'random' bytes: distinct on every call."""
    counter: Iterator[int] = itertools.count(1)

    def draw(n: int) -> bytes:
        seed = next(counter).to_bytes(8, "big")
        return hashlib.shake_256(seed).digest(n)

    return draw


def png(width: int, height: int, pad: int = 0) -> bytes:
    """A PNG header (signature and IHDR) with ``pad`` filler bytes after it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * pad


def jpeg(width: int, height: int) -> bytes:
    """A JPEG start: SOI, an APP0 segment, then a baseline SOF0 with the size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"
