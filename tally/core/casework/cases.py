"""The casework's values: case states, findings and effects, cases, reporters and the ledger
(spec/procedure.md RP-8.2-RP-8.6, RP-9.1-RP-9.6, RP-11.3).

A :class:`Ledger` is the town's casework as its log says: the cases, the reporters and the
reference counters. Each operation (``lodge_objection``, ``submit_report`` in :mod:`.receiving`;
``register_reporter``, ``withdraw_reporter`` in :mod:`.reporters`; ``assign``, ``check``,
``extend``, ``conclude`` in :mod:`.handling`) checks its input against the ledger and returns a
:class:`Step` (the entry's type and body, plus any notes) or raises a
:class:`~tally.core.casework.errors.CaseworkError`; :func:`~.folding.apply` folds a step's entry
into a new ledger. Nothing is mutated, so a refused operation leaves the ledger as it was. The
checks those operations share are in :mod:`._checks`. Import from ``tally.core.casework``.

States: an objection goes ``received`` → ``assigned`` (again to another account as often as
needed) → ``concluded``; a report goes ``received`` → ``assigned`` → ``checked`` → ``concluded``.
``concluded`` is final. An extension moves ``due_conclude`` later, in any open state.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from .definition import Casework
from .photos import Photo
from .references import CaseKind, parse_reference, unknown_case

__all__ = [
    "BODY_FIELDS",
    "DUE_FIELDS",
    "OPTIONAL_BODY_FIELDS",
    "Case",
    "CaseState",
    "Channel",
    "Effect",
    "Finding",
    "Ledger",
    "Note",
    "Reporter",
    "Step",
    "allowed_effects",
    "open_ledger",
]

#: (RP-11.3) The members of each casework entry type's body.
BODY_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "casework.opened": frozenset({"casework_id"}),
        "reporter.registered": frozenset({"reporter", "branch", "group", "name", "phone"}),
        "reporter.withdrawn": frozenset({"reporter", "reason"}),
        "objection.received": frozenset(
            {
                "reference",
                "branch",
                "channel",
                "about",
                "what",
                "objector",
                "relates_to",
                "timing",
                "due_assign",
                "due_conclude",
            }
        ),
        "report.received": frozenset(
            {
                "reference",
                "reporter",
                "branch",
                "own_branch",
                "what",
                "where",
                "when",
                "photos",
                "relates_to",
                "due_assign",
                "due_conclude",
            }
        ),
        "objection.assigned": frozenset({"reference", "assignee"}),
        "report.assigned": frozenset({"reference", "assignee"}),
        "report.checked": frozenset({"reference", "note"}),
        "objection.extended": frozenset({"reference", "due_conclude", "reason"}),
        "report.extended": frozenset({"reference", "due_conclude", "reason"}),
        "objection.concluded": frozenset({"reference", "finding", "effect", "summary"}),
        "report.concluded": frozenset({"reference", "finding", "summary"}),
        "reminder.sent": frozenset({"reference", "kind", "to"}),
    }
)


#: (RP-11.3, RP-8.4a) Members a body may have besides those of :data:`BODY_FIELDS`: present only
#: when some due date of the case is provisional, then the names of those due dates.
OPTIONAL_BODY_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "objection.received": frozenset({"due_provisional"}),
        "report.received": frozenset({"due_provisional"}),
    }
)
#: The due dates of a case, by their member names (the values of ``due_provisional``).
DUE_FIELDS: Final = ("due_assign", "due_conclude")


class CaseState(enum.StrEnum):
    """已受理、已交办、已核实、已办结 (RP-8.4, RP-9.6)."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    CHECKED = "checked"
    CONCLUDED = "concluded"


class Channel(enum.StrEnum):
    """How an objection came in (RP-8.2)."""

    IN_PERSON = "in_person"
    FORM = "form"


class Finding(enum.StrEnum):
    """认定 (RP-8.5)."""

    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    NOT_COMPETENT = "not_competent"
    DUPLICATE = "duplicate"


class Effect(enum.StrEnum):
    """处理结果 of an objection (RP-8.5); a report's is always ``none``."""

    NONE = "none"
    NOT_APPOINTED = "not_appointed"
    ELECTION_VOID = "election_void"


def allowed_effects(finding: Finding, about: str) -> frozenset[Effect]:
    """The effects an objection about ``about`` ("" = the election as a whole) may have (RP-8.5)."""
    out = {Effect.NONE}
    if about and finding in (Finding.SUBSTANTIATED, Finding.PARTLY_SUBSTANTIATED):
        out.add(Effect.NOT_APPOINTED)
    if not about and finding is Finding.SUBSTANTIATED:
        out.add(Effect.ELECTION_VOID)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Note:
    """A recorded decision that is not a refusal (e.g. ``report.other_branch``)."""

    code: str
    zh: str
    en: str
    clause: str


@dataclass(frozen=True, slots=True)
class Step:
    """A checked operation: the entry's type and body, and the notes it gives."""

    type: str
    body: Mapping[str, Any]
    notes: tuple[Note, ...] = ()
    photos: tuple[Photo, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """One objection or report as its entries so far say."""

    reference: str
    kind: CaseKind
    branch: str
    about: str
    channel: str  # Channel for an objection, "reporter" for a report
    timing: str  # "during" or "after" for an objection (RP-8.6), "" for a report
    received: date
    state: CaseState
    assignee: str
    due_assign: date
    due_conclude: date
    # (RP-8.4a) the names in DUE_FIELDS of the due dates still provisional (shown with 暂定)
    provisional: frozenset[str] = frozenset()
    finding: Finding | None = None
    effect: Effect | None = None
    concluded: date | None = None
    own_branch: bool = True  # a report's ``own_branch`` (RP-9.5); True for an objection


@dataclass(frozen=True, slots=True)
class Reporter:
    """A registered community reporter (RP-9.1)."""

    id: str
    branch: str
    group: str
    active: bool


@dataclass(frozen=True, slots=True)
class Ledger:
    """The casework as its log says, after ``size`` entries."""

    casework: Casework
    size: int = 0
    last_at: datetime | None = None
    last_leaf: bytes = b""
    cases: Mapping[str, Case] = field(default_factory=lambda: MappingProxyType({}))
    reporters: Mapping[str, Reporter] = field(default_factory=lambda: MappingProxyType({}))
    counters: Mapping[tuple[CaseKind, int], int] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def case(self, reference: str) -> Case:
        """The case with this reference.

        Raises:
            CaseworkError: ``case.unknown``.
        """
        parse_reference(reference)
        found = self.cases.get(reference)
        if found is None:
            raise unknown_case(reference)
        return found


def open_ledger(casework: Casework) -> Ledger:
    """The ledger of a new casework file, before entry 0."""
    return Ledger(casework=casework)
