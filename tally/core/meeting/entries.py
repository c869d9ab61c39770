"""Log entries (spec/log.md §1, §2): their canonical bytes, the members each type's body has, and
the parse of stored bytes into an ``Entry`` whose body is typed (``Entry.value``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tally.core.errors import RoundStateError
from tally.core.log_entry import SALT_BYTES, entry_bytes, leaf_hash, read_envelope

from .bodies import PARSERS, EntryBody
from .common import bad

if TYPE_CHECKING:
    from .state import Meeting

ENTRY_FORMAT = "log-entry/1"

BODY_FIELDS: Mapping[str, frozenset[str]] = {
    "election.opened": frozenset({"election_id"}),
    "stock.committed": frozenset({"post", "round", "count", "commitment"}),
    "stock.supplemented": frozenset({"post", "round", "part", "count", "commitment"}),
    "member.checked_in": frozenset({"member"}),
    "member.left": frozenset({"member"}),
    "round.quorum_failed": frozenset({"post", "round", "present", "present_members"}),
    "round.opened": frozenset(
        {
            "post",
            "round",
            "purpose",
            "candidates",
            "seats",
            "body",
            "expected",
            "present",
            "present_members",
        }
    ),
    "ballots.issued": frozenset({"post", "round", "count"}),
    "ballots.returned": frozenset({"post", "round", "count"}),
    "round.void": frozenset({"post", "round", "issued", "returned"}),
    "ballot.entered": frozenset({"post", "round", "ballot_id", "qr", "marks", "write_ins"}),
    "ballot.withdrawn": frozenset({"post", "round", "ballot_id"}),
    # (R8.5) a returned ballot entered as invalid by decision, confirmed by a scrutineer.
    "ballot.declared_invalid": frozenset(
        {"post", "round", "ballot_id", "qr", "reason", "scrutineer", "signature"}
    ),
    "round.counted": frozenset(
        {
            "post",
            "round",
            "valid_ballots",
            "invalid_ballots",
            "approvals",
            "base",
            "minimum",
            "elected",
            "tied",
            "tied_seats",
            "shortfall",
        }
    ),
    "seats.reduced": frozenset({"post", "seats", "assembly_consent", "town_agreement"}),
    "officials.changed": frozenset({"scrutineers", "tellers"}),
    # The station's entry mode (spec/log.md §2.3): "on" while two tellers must agree on a ballot.
    "double_entry.set": frozenset({"mode"}),
    "candidates.amended": frozenset(
        {"post", "round", "candidates", "town_approval", "town_signature"}
    ),
    "election.result": frozenset({"elected", "publicity_start", "publicity_end"}),
    # Remote ballots (spec/remote.md RM-8.1, spec/remote-v2.md §5).
    "remote.opened": frozenset({"issuer_key", "election_key", "shares", "write_in_lists"}),
    "remote.credential_issued": frozenset({"member"}),
    "remote.cast": frozenset({"token", "token_prefix", "token_signature", "ballot"}),
    "remote.closed": frozenset({"credentials", "casts"}),
    "remote.not_counted": frozenset({"post", "round", "reason"}),
    "remote.partial_decryption": frozenset({"index", "posts"}),
    "remote.totals": frozenset({"posts"}),
}
# `round.counted` carries `remote_ballots` only in elections that opened remote voting, and
# `dropped` only when a direct election's candidates dropped out at the count (R22.3).
COUNTED_WITH_REMOTE = BODY_FIELDS["round.counted"] | {"remote_ballots"}
COUNTED_SHAPES = frozenset(
    {
        BODY_FIELDS["round.counted"],
        COUNTED_WITH_REMOTE,
        BODY_FIELDS["round.counted"] | {"dropped"},
        COUNTED_WITH_REMOTE | {"dropped"},
    }
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry (spec/log.md §1); ``raw`` is its canonical bytes.

    ``salt`` is the entry's secret 32-byte salt in lowercase hex: it makes the leaf hash of an
    entry with guessable content (a check-in: type, member id, a time to the second) impossible to
    recompute for anyone who has the hash but not the entry (docs/adr/0016-salted-log-leaves.md).

    ``body`` is the body as JSON (a mapping); ``value`` is the same body parsed into its type's
    dataclass (``bodies``), once, when the entry was read or built.
    """

    seq: int
    prev: str
    type: str
    at: str
    actor: str
    body: Mapping[str, Any]
    raw: bytes
    salt: str
    # The typed body, or why the body does not parse. ``parse_entry`` raises the refusal at once;
    # ``make_entry`` keeps it for ``apply_entry``, which refuses the entry as it did before the
    # bodies were typed (a shell builds, applies, then stores).
    parsed: EntryBody | RoundStateError = field(compare=False, repr=False)

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.raw)

    @property
    def value(self) -> EntryBody:
        """The typed body.

        Raises:
            RoundStateError: the body of an entry built by ``make_entry`` is malformed.
        """
        if isinstance(self.parsed, RoundStateError):
            raise self.parsed
        return self.parsed


def _malformed() -> RoundStateError:
    return bad("log.malformed", "日志记录类型或内容错误", "unknown entry type or body")


def parse_body(type_: object, body: object) -> EntryBody:
    """The typed body of an entry of type ``type_`` (spec/log.md §2).

    Raises:
        RoundStateError: ``log.malformed`` (unknown type, or not the members of its type), or the
            code of the first malformed field.
    """
    fields = set(body) if isinstance(body, dict) else set()
    allowed = BODY_FIELDS.get(type_) if isinstance(type_, str) else None
    if (
        allowed is None
        or not isinstance(body, dict)
        or (fields != allowed and not (type_ == "round.counted" and fields in COUNTED_SHAPES))
    ):
        raise _malformed()
    return PARSERS[str(type_)](body)


def make_entry(
    meeting: Meeting | None,
    type_: str,
    body: Mapping[str, Any],
    *,
    at: dt.datetime,
    actor: str,
    salt: bytes,
    election_id: bytes | None = None,
) -> Entry:
    """Build the next entry after ``meeting`` (or entry 0 when ``meeting`` is None).

    ``salt`` is the entry's fresh secret salt (``SALT_BYTES`` bytes): the core reads no random
    source, so the shell draws it (``secrets``) and passes it in (spec/log.md §1). A malformed body
    is refused when the entry is applied (``apply_entry``), with the code ``parse_entry`` gives.
    """
    if len(salt) != SALT_BYTES:
        msg = f"an entry's salt is {SALT_BYTES} bytes"
        raise ValueError(msg)
    if meeting is None:
        if election_id is None:
            msg = "entry 0 needs the election id"
            raise ValueError(msg)
        seq, prev = 0, election_id.hex()
    else:
        seq, prev = meeting.size, meeting.last_leaf.hex()
    stamp = at.isoformat(timespec="seconds")
    hexsalt = salt.hex()
    raw = entry_bytes(
        ENTRY_FORMAT, seq, prev, type_=type_, at=stamp, actor=actor, body=body, salt=hexsalt
    )
    parsed: EntryBody | RoundStateError
    try:
        parsed = parse_body(type_, dict(body))
    except RoundStateError as err:
        parsed = err
    return Entry(
        seq=seq,
        prev=prev,
        type=type_,
        at=stamp,
        actor=actor,
        body=dict(body),
        raw=raw,
        salt=hexsalt,
        parsed=parsed,
    )


def parse_entry(raw: bytes) -> Entry:
    """Parse stored entry bytes (they must be canonical), the body into its type's dataclass.

    Raises:
        RoundStateError: malformed or non-canonical entry, or a malformed body field.
    """
    doc = read_envelope(raw, ENTRY_FORMAT, error=RoundStateError)
    value = parse_body(doc["type"], doc["body"])
    return Entry(
        seq=doc["seq"],
        prev=doc["prev"],
        type=doc["type"],
        at=doc["at"],
        actor=doc["actor"],
        body=doc["body"],
        raw=raw,
        salt=doc["salt"],
        parsed=value,
    )
