"""Casework log entries ``casework-entry/1`` (spec/procedure.md RP-11.3).

The members and rules are those of spec/log.md §1 (``format``, ``seq``, ``prev``, ``salt``,
``type``, ``at``, ``actor``, ``body``; JCS bytes; a fresh 32-byte salt per entry, drawn by the
shell) with ``format`` ``"casework-entry/1"`` and ``prev`` of entry 0 the casework id. The leaf
hash is RFC 9162's SHA-256(0x00 || bytes); the store keeps the Merkle tree and the checkpoints.

The envelope is written and read by :mod:`tally.core.log_entry`, as for the election and the
procedure logs; only the refusals are the casework log's own: every fault is
``casework.malformed`` (RP-11.3) with its own en text, the members checked before the salt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from tally.core.log_entry import SALT_BYTES, Fault, check_envelope, entry_bytes, leaf_hash

from .actors import check_actor
from .cases import Ledger, Step, open_ledger
from .definition import Casework
from .errors import refuse
from .folding import apply

__all__ = [
    "ENTRY_FORMAT",
    "SALT_BYTES",
    "CaseworkEntry",
    "leaf_hash",
    "opening_step",
    "parse_entry",
    "record",
    "replay",
]

ENTRY_FORMAT: Final = "casework-entry/1"


@dataclass(frozen=True, slots=True)
class CaseworkEntry:
    """One entry and its canonical bytes."""

    seq: int
    prev: str
    type: str
    at: str
    actor: str
    body: Mapping[str, Any]
    salt: str
    raw: bytes

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.raw)


def opening_step(casework: Casework) -> Step:
    """Entry 0, ``casework.opened``."""
    return Step("casework.opened", {"casework_id": casework.id.hex()})


def record(
    ledger: Ledger, step: Step, *, at: datetime, actor: str, salt: bytes
) -> tuple[CaseworkEntry, Ledger]:
    """The entry for a checked step and the ledger after it.

    Raises:
        ValueError: the salt is not 32 bytes, or ``at`` has no time zone.
        CaseworkError: ``casework.malformed`` (a body of other members than its type's),
            ``casework.actor_branch`` (a branch work group's actor on another entry).
    """
    check_actor(step.type, step.body, actor)
    if len(salt) != SALT_BYTES:
        msg = f"an entry's salt is {SALT_BYTES} bytes"
        raise ValueError(msg)
    prev = ledger.casework.id.hex() if ledger.size == 0 else ledger.last_leaf.hex()
    stamp = at.isoformat(timespec="seconds")
    raw = entry_bytes(
        ENTRY_FORMAT,
        ledger.size,
        prev,
        type_=step.type,
        at=stamp,
        actor=actor,
        body=step.body,
        salt=salt.hex(),
    )
    after = apply(ledger, step.type, step.body, at)
    entry = CaseworkEntry(
        seq=ledger.size,
        prev=prev,
        type=step.type,
        at=stamp,
        actor=actor,
        body=dict(step.body),
        salt=salt.hex(),
        raw=raw,
    )
    return entry, replace(after, last_leaf=entry.leaf_hash)


def _malformed(en: str) -> Exception:
    return refuse("casework.malformed", "RP-11.3", "事项记录格式错误", en)


#: The casework log's en text for each fault of the shared envelope.
_FAULT_EN: Final[Mapping[Fault, str]] = {
    Fault.NOT_JSON: "a casework entry is not JSON",
    Fault.SHAPE: "a casework entry has the wrong members",
    Fault.SALT: "a casework entry has no valid salt",
    Fault.NOT_CANONICAL: "a casework entry is not canonical JSON",
}


def _envelope_fault(fault: Fault) -> Exception:
    return _malformed(_FAULT_EN[fault])


def parse_entry(raw: bytes) -> CaseworkEntry:
    """Parse stored entry bytes (they must be canonical).

    Raises:
        CaseworkError: ``casework.malformed``.
    """
    doc = check_envelope(raw, ENTRY_FORMAT, _envelope_fault, members_before_salt=True)
    if not isinstance(doc["body"], dict):  # in the words this refusal has always had
        raise _envelope_fault(Fault.NOT_CANONICAL)
    # bool is an int to Python: a canonical "seq":true would pass replay's seq == size at 1.
    if type(doc["seq"]) is not int or not all(
        isinstance(doc[k], str) for k in ("prev", "type", "at", "actor")
    ):
        raise _malformed("a casework entry's seq, prev, type, at or actor has the wrong type")
    return CaseworkEntry(
        seq=doc["seq"],
        prev=doc["prev"],
        type=doc["type"],
        at=doc["at"],
        actor=doc["actor"],
        body=doc["body"],
        salt=doc["salt"],
        raw=raw,
    )


def replay(casework: Casework, raws: Iterable[bytes]) -> Ledger:
    """The ledger after the stored entries, checking their order and chain.

    Raises:
        CaseworkError: ``casework.malformed`` (bad entry, wrong ``seq``, broken ``prev`` chain),
            ``casework.actor_branch`` (a branch work group's actor on another entry).
    """
    ledger = open_ledger(casework)
    for raw in raws:
        e = parse_entry(raw)
        prev = casework.id.hex() if ledger.size == 0 else ledger.last_leaf.hex()
        if e.seq != ledger.size or e.prev != prev:
            raise _malformed(f"casework entry {ledger.size} is out of its chain")
        try:
            at = datetime.fromisoformat(e.at)
        except ValueError:
            raise _malformed(f"casework entry {ledger.size} has no ISO 8601 time") from None
        check_actor(e.type, e.body, e.actor)
        ledger = replace(apply(ledger, e.type, e.body, at), last_leaf=e.leaf_hash)
    return ledger
