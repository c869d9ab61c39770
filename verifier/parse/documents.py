"""Parse the bundle's documents other than the manifest and the log (spec/bundle.md §2, §4).

``index.json`` (``bundle-index/1``, V1), ``checkpoints.json`` (``checkpoints/1``, V7),
``outcomes.json`` (``outcomes/1``, V15), ``result.json`` (``result/1``, V15-V18) with its
``calendar`` (V17), and the town's signed year file ``calendar.json`` (``signed-calendar/1``,
R26.3, V17). Each parser takes the JSON value and returns a frozen value or raises
``DocumentFormatError`` carrying the clause, the code and the message its finding shows.

A document with many items (the index's files, the checkpoints) is parsed item by item: a bad
item is returned in its place as the error to report, so that every bad item is reported, in
order, and the good ones are still checked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from verifier.canonical import canonical_bytes
from verifier.crypto import PublicKey, b64decode_canonical, parse_pubkey_value
from verifier.errors import DocumentFormatError, VerificationError
from verifier.model import Checkpoint
from verifier.parse.log import parse_checkpoint

__all__ = [
    "BundleIndex",
    "CheckpointItem",
    "IndexedFile",
    "ResultCalendar",
    "ResultDocument",
    "SignedCalendar",
    "parse_calendar_years",
    "parse_checkpoints",
    "parse_index",
    "parse_outcomes",
    "parse_publicity_period",
    "parse_result",
    "parse_result_calendar",
    "parse_signed_calendar",
]

_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR: Final = re.compile(r"[0-9]{4}")
_RESULT_MEMBERS: Final = frozenset(
    {
        "format",
        "election_id",
        "elected",
        "publicity_start",
        "publicity_end",
        "working_days",
        "calendar",
        "remote_ballots",
        "checkpoint",
    }
)


# --------------------------------------------------------------------------- index.json (V1)


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """One file of the index: its path, SHA-256 (64 lowercase hex) and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class BundleIndex:
    """A ``bundle-index/1``; ``files`` in the index's order, a malformed item as its error."""

    election_id: str
    entries: int
    files: tuple[IndexedFile | DocumentFormatError, ...]


def parse_index(value: object) -> BundleIndex:
    """(V1) Parse ``index.json`` (spec/bundle.md §2).

    Raises:
        DocumentFormatError: ``index.format``, the document is not a ``bundle-index/1``.

    Returns:
        The index; each malformed file item is its ``index.format`` error at ``files[i]``.
    """
    if (
        not isinstance(value, dict)
        or set(value) != {"format", "election_id", "entries", "files"}
        or value.get("format") != "bundle-index/1"
        or not isinstance(value.get("files"), list)
        or type(value.get("entries")) is not int
        or not isinstance(value.get("election_id"), str)
    ):
        raise DocumentFormatError(
            clause="V1",
            code="index.format",
            zh="index.json 不是 bundle-index/1",
            en="index.json is not bundle-index/1",
        )
    files: list[IndexedFile | DocumentFormatError] = []
    for i, item in enumerate(value["files"]):
        if (
            not isinstance(item, dict)
            or set(item) != {"path", "sha256", "size"}
            or not isinstance(item["path"], str)
            or not isinstance(item["sha256"], str)
            or _SHA256.fullmatch(item["sha256"]) is None
            or type(item["size"]) is not int
        ):
            files.append(
                DocumentFormatError(
                    clause="V1",
                    code="index.format",
                    zh="索引文件条目格式错误",
                    en="malformed index file entry",
                    path=f"files[{i}]",
                )
            )
            continue
        files.append(IndexedFile(path=item["path"], sha256=item["sha256"], size=item["size"]))
    return BundleIndex(
        election_id=value["election_id"], entries=value["entries"], files=tuple(files)
    )


# --------------------------------------------------------------------------- checkpoints.json (V7)


@dataclass(frozen=True, slots=True)
class CheckpointItem:
    """One item of ``checkpoints.json``: the note, and the consistency proof from the one before."""

    checkpoint: Checkpoint
    proof: tuple[bytes, ...]


def parse_checkpoints(value: object) -> tuple[CheckpointItem | VerificationError, ...]:
    """(V7) Parse ``checkpoints.json`` (spec/log.md §3), item by item.

    Raises:
        DocumentFormatError: ``checkpoints.format``, the document is not a ``checkpoints/1``.

    Returns:
        The items in order; a malformed one as its error (``checkpoints.format``,
        ``checkpoints.proof_format``, or the ``CheckpointFormatError`` of its text).
    """
    if (
        not isinstance(value, dict)
        or set(value) != {"format", "checkpoints"}
        or value["format"] != "checkpoints/1"
        or not isinstance(value["checkpoints"], list)
    ):
        raise DocumentFormatError(
            clause="V7",
            code="checkpoints.format",
            zh="不是 checkpoints/1",
            en="not a checkpoints/1 document",
        )
    out: list[CheckpointItem | VerificationError] = []
    for i, item in enumerate(value["checkpoints"]):
        path = f"checkpoints[{i}]"
        if (
            not isinstance(item, dict)
            or set(item) != {"text", "consistency"}
            or not isinstance(item["consistency"], list)
        ):
            out.append(
                DocumentFormatError(
                    clause="V7",
                    code="checkpoints.format",
                    zh="检查点条目格式错误",
                    en="malformed checkpoint item",
                    path=path,
                )
            )
            continue
        proof = [b64decode_canonical(x, 32) for x in item["consistency"]]
        hashes = tuple(x for x in proof if x is not None)
        if len(hashes) != len(proof):
            out.append(
                DocumentFormatError(
                    clause="V7",
                    code="checkpoints.proof_format",
                    zh="一致性证明格式错误",
                    en="consistency proof is not base64 hashes",
                    path=path,
                )
            )
            continue
        try:
            out.append(CheckpointItem(parse_checkpoint(item["text"], path), hashes))
        except VerificationError as e:
            out.append(e)
    return tuple(out)


# --------------------------------------------------------------------------- outcomes.json (V15)


def parse_outcomes(value: object) -> tuple[bytes, ...]:
    """(V15) Parse ``outcomes.json``: the RFC 8785 bytes of each round's outcome, in order.

    Raises:
        DocumentFormatError: ``outcomes.format``, the document is not an ``outcomes/1``.
    """
    if (
        not isinstance(value, dict)
        or set(value) != {"format", "rounds"}
        or value["format"] != "outcomes/1"
        or not isinstance(value["rounds"], list)
    ):
        raise DocumentFormatError(
            clause="V15",
            code="outcomes.format",
            zh="不是 outcomes/1",
            en="not an outcomes/1 document",
        )
    return tuple(canonical_bytes(x) for x in value["rounds"])


# --------------------------------------------------------------------------- result.json (V15-V18)


@dataclass(frozen=True, slots=True)
class ResultDocument:
    """A ``result/1`` (spec/bundle.md §4) with exactly its members.

    The members are kept as the JSON values they are: each is compared with what the replay of
    the log found (V15, V16, V18.12), where a value of another type is simply a different value.
    ``calendar`` and the publicity dates are parsed further by V17 (``parse_result_calendar``,
    ``parse_publicity_period``).
    """

    election_id: object
    elected: object
    publicity_start: object
    publicity_end: object
    working_days: object
    calendar: object
    remote_ballots: object
    checkpoint: object


def parse_result(value: object) -> ResultDocument:
    """(V15) Parse ``result.json``.

    Raises:
        DocumentFormatError: ``result.format``, the document is not a ``result/1``.
    """
    if (
        not isinstance(value, dict)
        or set(value) != _RESULT_MEMBERS
        or value.get("format") != "result/1"
    ):
        raise DocumentFormatError(
            clause="V15", code="result.format", zh="不是 result/1", en="not a result/1 document"
        )
    return ResultDocument(**{k: v for k, v in value.items() if k != "format"})


@dataclass(frozen=True, slots=True)
class ResultCalendar:
    """The ``calendar`` of ``result.json``: sorted unique holidays and adjusted working days."""

    holidays: tuple[dt.date, ...]
    workdays: tuple[dt.date, ...]


def parse_result_calendar(value: object) -> ResultCalendar:
    """(V17) Parse the ``calendar`` member of ``result.json``.

    Raises:
        DocumentFormatError: ``publicity.calendar``, not ``{holidays, workdays}`` of sorted unique
            ``YYYY-MM-DD`` dates.
    """
    if not isinstance(value, dict) or set(value) != {"holidays", "workdays"}:
        raise DocumentFormatError(
            clause="V17", code="publicity.calendar", zh="日历格式错误", en="calendar malformed"
        )
    dates: dict[str, tuple[dt.date, ...]] = {}
    for k in ("holidays", "workdays"):
        items = value[k]
        parsed = []
        if isinstance(items, list):
            for x in items:
                try:
                    if not isinstance(x, str) or _DAY.fullmatch(x) is None:
                        raise ValueError(x)
                    parsed.append(dt.date.fromisoformat(x))
                except ValueError:
                    parsed = []
                    break
        if (
            not isinstance(items, list)
            or len(parsed) != len(items)
            or parsed != sorted(set(parsed))
        ):
            raise DocumentFormatError(
                clause="V17",
                code="publicity.calendar",
                zh=f"日历 {k} 应为升序不重复的日期",
                en=f"calendar {k} must be sorted unique dates",
            )
        dates[k] = tuple(parsed)
    return ResultCalendar(holidays=dates["holidays"], workdays=dates["workdays"])


def parse_publicity_period(start: object, end: object) -> tuple[dt.date, dt.date]:
    """(V17) ``publicity_start`` and ``publicity_end`` of ``result.json`` as dates.

    Raises:
        DocumentFormatError: ``publicity.date``, either is not an ISO date.
    """
    try:
        return dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    except ValueError:
        raise DocumentFormatError(
            clause="V17", code="publicity.date", zh="公示日期无效", en="publicity dates invalid"
        ) from None


# --------------------------------------------------------------------------- calendar.json (V17)


@dataclass(frozen=True, slots=True)
class SignedCalendar:
    """A ``signed-calendar/1`` (R26.3): the town key, the signature (None if not canonical base64
    of 64 bytes), and the signed ``calendar`` value, to be parsed once the signature verifies."""

    town_key: PublicKey
    signature: bytes | None
    calendar: object


def _calendar_file() -> DocumentFormatError:
    return DocumentFormatError(
        clause="V17",
        code="publicity.calendar_file",
        zh="节假日文件格式错误",
        en="the signed year file is malformed",
    )


def parse_signed_calendar(value: object) -> SignedCalendar:
    """(V17, R26.3) Parse the envelope of ``calendar.json``.

    Raises:
        DocumentFormatError: ``publicity.calendar_file``, not a ``signed-calendar/1`` with exactly
            its members and a ``town_committee`` key.
    """
    if not isinstance(value, dict) or set(value) != {"format", "calendar", "town_key", "signature"}:
        raise _calendar_file()
    if value["format"] != "signed-calendar/1":
        raise _calendar_file()
    try:
        key = parse_pubkey_value(value["town_key"], path="town_key", role="town_committee")
    except VerificationError:
        raise _calendar_file() from None
    return SignedCalendar(
        town_key=key,
        signature=b64decode_canonical(value["signature"], 64),
        calendar=value["calendar"],
    )


def parse_calendar_years(value: object) -> dict[int, tuple[set[dt.date], set[dt.date]]]:
    """(V17, R26.3) Parse the signed ``calendar/1``: each year's holidays and adjusted workdays.

    Raises:
        DocumentFormatError: ``publicity.calendar_file``, not a ``calendar/1`` of ``YYYY`` years
            each with ``source``, ``holidays`` and optional ``workdays`` lists of dates (each a
            day of the calendar).
    """
    if (
        not isinstance(value, dict)
        or set(value) != {"format", "years"}
        or value["format"] != "calendar/1"
        or not isinstance(value["years"], dict)
    ):
        raise _calendar_file()
    out: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for year, table in value["years"].items():
        if (
            not _YEAR.fullmatch(year)
            or not isinstance(table, dict)
            or not {"source", "holidays"} <= set(table) <= {"source", "holidays", "workdays"}
        ):
            raise _calendar_file()
        days: list[set[dt.date]] = []
        for k in ("holidays", "workdays"):
            items = table.get(k, [])
            if not isinstance(items, list) or not all(
                isinstance(x, str) and _DAY.fullmatch(x) for x in items
            ):
                raise _calendar_file()
            try:
                days.append({dt.date.fromisoformat(x) for x in items})
            except ValueError:  # of the shape but no day: 2026-02-30, or digits of another script
                raise _calendar_file() from None
        out[int(year)] = (days[0], days[1])
    return out
