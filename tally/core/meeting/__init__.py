"""Polling day as a pure state machine over log entries (spec/log.md, spec/rounds.md).

Every change to an election is a log entry. ``apply_entry`` checks that an entry is allowed in the
current state and returns the next state; the shells build entries with the helpers below, apply
them (so a refused command changes nothing), and only then store them. Opening an election file
replays every stored entry through the same function, so a stored log that breaks the rules cannot
be continued.

The meeting of one round goes: opened (quorum held) -> ballots issued (= electors present) ->
ballots returned (more than issued: VOID, a re-vote follows) -> ballots entered one by one (the
teller may withdraw their last entry) -> counted (outcome recorded; runoff, further round or next
post follows).

The package reads like spec/log.md §2 (docs/adr/0030-typed-entries.md): ``entries`` (an entry's
bytes and parse), ``bodies`` (one frozen dataclass per entry type, ``Entry.value``), ``state``
(``Meeting`` and ``begin``), ``apply`` (``apply_entry`` and its table of appliers), and the
appliers by group: ``attendance`` (election, stock, attendance), ``sitting`` (rounds, ballots,
count), ``decisions`` (decisions and the result), ``remote`` (remote voting).
"""

from tally.core.log_entry import SALT_BYTES, leaf_hash
from tally.core.remote import assembly_posts

from .apply import HANDLERS, apply_entry
from .attendance import check_supplement
from .bodies import EntryBody
from .decisions import AMENDED_LIST_DOMAIN, AMENDED_LIST_FORMAT, amended_list_document
from .entries import (
    BODY_FIELDS,
    ENTRY_FORMAT,
    Entry,
    make_entry,
    parse_body,
    parse_entry,
)
from .remote import (
    remote_counts_here,
    remote_list_changed,
    remote_totals_for,
)
from .sitting import (
    INVALID_DECISION_DOMAIN,
    ballot_from_body,
    count_current,
    counted_body,
    invalid_decision_message,
    opened_body,
)
from .state import EnteredBallot, Meeting, OpenRound, RemoteState, TownSignatureCheck, begin

__all__ = [
    "AMENDED_LIST_DOMAIN",
    "AMENDED_LIST_FORMAT",
    "BODY_FIELDS",
    "ENTRY_FORMAT",
    "HANDLERS",
    "INVALID_DECISION_DOMAIN",
    "SALT_BYTES",
    "EnteredBallot",
    "Entry",
    "EntryBody",
    "Meeting",
    "OpenRound",
    "RemoteState",
    "TownSignatureCheck",
    "amended_list_document",
    "apply_entry",
    "assembly_posts",
    "ballot_from_body",
    "begin",
    "check_supplement",
    "count_current",
    "counted_body",
    "invalid_decision_message",
    "leaf_hash",
    "make_entry",
    "opened_body",
    "parse_body",
    "parse_entry",
    "remote_counts_here",
    "remote_list_changed",
    "remote_totals_for",
]
