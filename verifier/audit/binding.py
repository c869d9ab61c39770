"""What binds the paper audit to the town committee (spec/audit.md A14-A16).

- A14: the town committee appoints the auditors in ``audit/appointment.json``
  (``audit-appointment/1``, signed with the manifest's town key); a record signed by any other
  key fails.
- A15: the records form a hash chain (each names the SHA-256 of the previous record file, or
  64 zeros for the first) and the head (the SHA-256 of the newest record file) is countersigned
  by the town committee (``audit-head/1``) or published as hex; given the head, deleting the
  newest record or the whole folder is found. Without it the completeness is unchecked.
- A16: a record that found discrepancies fails unless a later full count settles it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from verifier.canonical import canonical_bytes, parse_canonical
from verifier.crypto import b64decode_canonical, fingerprint, verify_signature
from verifier.errors import VerificationError
from verifier.reader import InputFileError, read_regular

__all__ = [
    "APPOINTMENT_DOMAIN",
    "APPOINTMENT_FILE",
    "GENESIS",
    "HEAD_DOMAIN",
    "Appointment",
    "AuditHead",
    "BindingError",
    "parse_appointment",
    "parse_head",
    "record_hash",
    "unsettled",
]

APPOINTMENT_DOMAIN: Final = b"branch-election/audit-appointment/1"
HEAD_DOMAIN: Final = b"branch-election/audit-head/1"
APPOINTMENT_FILE: Final = "appointment.json"
GENESIS: Final = "0" * 64
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_LIMIT: Final = 1024 * 1024


class BindingError(VerificationError):
    """An appointment or head document that is unreadable, malformed or not the town's."""


def record_hash(data: bytes) -> str:
    """The hex SHA-256 of a record file's bytes: what the next record and the head name (A15)."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Appointment:
    """The auditors the town committee appointed: (name, raw key) pairs (A14)."""

    election_id: str
    auditors: tuple[tuple[str, bytes], ...]

    def name_of(self, key: bytes) -> str | None:
        return next((n for n, k in self.auditors if k == key), None)

    def listed(self) -> tuple[tuple[str, str], ...]:
        """(name, 25-digit fingerprint) of each appointed auditor, in the document's order."""
        return tuple((n, fingerprint(k)) for n, k in self.auditors)


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest record's hash as the town committee countersigned or published it (A15).

    ``records`` is None for a bare published hex head (it names no count).
    """

    head: str
    records: int | None
    election_id: str | None


def _bad(clause: str, code: str, zh: str, en: str, path: str) -> BindingError:
    return BindingError(clause=clause, code=code, zh=zh, en=en, path=path)


def _signed_doc(
    data: bytes, fmt: str, *, members: frozenset[str], town_key: bytes, domain: bytes, path: str
) -> Mapping[str, Any]:
    """Parse ``{"format", "signed", "signature"}`` and verify the town's signature on ``signed``."""
    clause = "A14" if fmt == "audit-appointment/1" else "A15"
    code = "audit.appointment_invalid" if clause == "A14" else "audit.head_invalid"
    what_zh = "审计员任命书" if clause == "A14" else "审计链头"
    try:
        doc = parse_canonical(data, clause=clause, path=path)
    except VerificationError as e:
        raise _bad(
            clause,
            code,
            f"{what_zh}不是规范 JSON",
            f"{fmt}: not canonical JSON",
            path,
        ) from e
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "signed", "signature"}
        or doc["format"] != fmt
        or not isinstance(doc["signed"], dict)
        or set(doc["signed"]) != members
        or doc["signed"]["format"] != fmt
        or not isinstance(doc["signed"]["election_id"], str)
    ):
        raise _bad(clause, code, f"{what_zh}格式无效", f"not an {fmt} document", path)
    sig = b64decode_canonical(doc["signature"], 64)
    try:
        if sig is None:
            raise VerificationError(clause=clause, code=code, zh="", en="")
        verify_signature(town_key, domain, canonical_bytes(doc["signed"]), sig)
    except VerificationError as e:
        raise _bad(
            clause,
            code,
            f"{what_zh}没有镇党委的有效签名",
            f"the {fmt} is not validly signed by the manifest's town committee key",
            path,
        ) from e
    signed: Mapping[str, Any] = doc["signed"]
    return signed


def parse_appointment(data: bytes, *, town_key: bytes, path: str) -> Appointment:
    """Check an ``audit-appointment/1`` against the manifest's town key (A14).

    Raises:
        BindingError: malformed, a bad or missing auditor entry, or not signed by the town key.
    """
    signed = _signed_doc(
        data,
        "audit-appointment/1",
        members=frozenset({"format", "election_id", "auditors"}),
        town_key=town_key,
        domain=APPOINTMENT_DOMAIN,
        path=path,
    )
    items = signed["auditors"]
    out: list[tuple[str, bytes]] = []
    if not isinstance(items, list) or not items:
        items = [None]
    for item in items:
        key = b64decode_canonical(item.get("key"), 32) if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if (
            key is None
            or not isinstance(item, dict)
            or set(item) != {"name", "key"}
            or not isinstance(name, str)
            or not 1 <= len(name) <= 64
            or name != name.strip()
            or any(k == key for _, k in out)
        ):
            raise _bad(
                "A14",
                "audit.appointment_invalid",
                "审计员任命书中的审计员条目无效",
                "an auditor entry is malformed, repeated, or the list is empty",
                path,
            )
        out.append((name, key))
    return Appointment(election_id=signed["election_id"], auditors=tuple(out))


def parse_head(text: str, *, town_key: bytes, path: str) -> AuditHead:
    """A head given to the verifier: 64 lowercase hex, or an ``audit-head/1`` file's path (A15).

    Raises:
        BindingError: neither a hex head nor a readable, town-signed ``audit-head/1``.
    """
    if _HEX64.fullmatch(text):
        return AuditHead(head=text, records=None, election_id=None)
    file = Path(text)
    try:
        data = read_regular(file, _LIMIT, clause="A15")
    except InputFileError as e:
        raise _bad(
            "A15",
            "audit.head_invalid",
            f"审计链头既不是64位十六进制，也不是可读的文件：{text}（{e.zh}）",
            f"the audit head is neither 64 hex digits nor a readable file: {text} ({e.en})",
            path or text,
        ) from e
    signed = _signed_doc(
        data,
        "audit-head/1",
        members=frozenset({"format", "election_id", "records", "head"}),
        town_key=town_key,
        domain=HEAD_DOMAIN,
        path=path or text,
    )
    n, head = signed["records"], signed["head"]
    if (
        not isinstance(n, int)
        or isinstance(n, bool)
        or n < 0
        or not isinstance(head, str)
        or not _HEX64.fullmatch(head)
    ):
        raise _bad("A15", "audit.head_invalid", "审计链头格式无效", "malformed audit-head/1", text)
    return AuditHead(head=head, records=n, election_id=signed["election_id"])


def _full_count_of(doc: Mapping[str, Any]) -> set[tuple[str, int]]:
    """The rounds a record settles as a clean full count (A16), empty when it settles none."""
    out = doc["outputs"]
    if doc["kind"] == "reconciliation":
        return {(p, n) for p, n in doc["inputs"]["rounds"]} if out["ok"] is True else set()
    if out["status"] == "full_count_confirmed":
        return {(doc["inputs"]["post"], doc["inputs"]["round"])}
    return set()


def _failed_rounds(doc: Mapping[str, Any]) -> set[tuple[str, int]]:
    """The rounds in which a record found discrepancies (A16), empty when it found none."""
    out = doc["outputs"]
    if doc["kind"] == "reconciliation":
        return {(p, n) for p, n in doc["inputs"]["rounds"]} if out["ok"] is not True else set()
    if out["status"] == "full_count_differs":
        return {(doc["inputs"]["post"], doc["inputs"]["round"])}
    return set()


def unsettled(records: Sequence[Mapping[str, Any]]) -> list[tuple[int, list[tuple[str, int]]]]:
    """(number, rounds left unsettled) of each record that found discrepancies (A16).

    ``records`` are the signed parts in chain order (number 1 first). A round a record found
    discrepancies in is settled when a later record is a clean full count covering it.
    """
    out = []
    for i, doc in enumerate(records):
        failed = _failed_rounds(doc)
        for later in records[i + 1 :]:
            failed -= _full_count_of(later)
        if failed:
            out.append((doc["number"], sorted(failed)))
    return out
