"""The public view of a branch's procedure, ``procedure-public/1`` (spec/procedure.md RP-12.4):
pure, derived from the procedure log alone.

:func:`public_view` reads the definition (for the names of the roster) and the log's entries in
order and gives :class:`PublicProcedure`: the preliminary list per post (names only, in
``ballot_order``; the union over every version proposed), the formal candidates per post after
``candidates.approved``, the ballots of each session (issued, returned, valid, invalid; never a
count for a person), and, after ``appointment.recorded``, the objections by finding and each
elected person's name and status (from the town-signed appointment).

What it never carries, by construction (each has a test): a member id, a per-person count or
score, a written name, an omission or a stop and its reason or reference, who did not proceed,
the text or identity of any objection (RP-12.2). Every name comes from the roster of the signed
definition; nothing a teller typed is ever copied into it.

Implementation decisions (issue 18, piece 8): a session round's ``issued`` and ``returned`` are
``null`` until recorded and ``valid``/``invalid`` until counted; ``status`` is ``open``,
``counted`` or ``void``; a failed quorum (no round consumed) is not a session; ``by_finding``
lists the findings of RP-8.5 with a non-zero count, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import (
    BallotNumber,
    ComputedBody,
    Form,
    ProcedureEntry,
    RecommendationOpened,
    RoundVoid,
)
from tally.core.procedure.model import Procedure

__all__ = [
    "FINDINGS",
    "PUBLIC_FORMAT",
    "PublicAppointment",
    "PublicList",
    "PublicObjections",
    "PublicPerson",
    "PublicProcedure",
    "PublicSession",
    "public_view",
]

PUBLIC_FORMAT: Final = "procedure-public/1"
#: (RP-8.5) The findings in their order.
FINDINGS: Final = (
    "substantiated",
    "partly_substantiated",
    "unsubstantiated",
    "not_competent",
    "duplicate",
)
_POST_ORDER: Final = {p: i for i, p in enumerate(PostKind)}


@dataclass(frozen=True, slots=True)
class PublicList:
    """A post's names (preliminary or formal), names only."""

    post: PostKind
    names: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"post": self.post.value, "names": list(self.names)}


@dataclass(frozen=True, slots=True)
class PublicSession:
    """(RP-12.4) The ballots of one post's round of a session (``post`` None: the evaluation)."""

    form: Form
    post: PostKind | None
    round: int
    status: str
    issued: int | None = None
    returned: int | None = None
    valid: int | None = None
    invalid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form.value,
            "post": self.post.value if self.post else "",
            "round": self.round,
            "status": self.status,
            "issued": self.issued,
            "returned": self.returned,
            "valid": self.valid,
            "invalid": self.invalid,
        }


@dataclass(frozen=True, slots=True)
class PublicObjections:
    """The number of objections received and their findings (from the signed appointment)."""

    received: int
    by_finding: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "by_finding": [{"finding": f, "count": n} for f, n in self.by_finding],
        }


@dataclass(frozen=True, slots=True)
class PublicPerson:
    post: PostKind
    name: str
    status: str

    def to_json(self) -> dict[str, str]:
        return {"post": self.post.value, "name": self.name, "status": self.status}


@dataclass(frozen=True, slots=True)
class PublicAppointment:
    date: str
    decision: str
    persons: tuple[PublicPerson, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "decision": self.decision,
            "persons": [p.to_json() for p in self.persons],
        }


@dataclass(frozen=True, slots=True)
class PublicProcedure:
    """(RP-12.4) ``procedure-public/1``."""

    procedure_id: str
    branch: str
    town: str
    term: str
    preliminary: tuple[PublicList, ...]
    formal: tuple[PublicList, ...]
    sessions: tuple[PublicSession, ...]
    objections: PublicObjections | None
    appointment: PublicAppointment | None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PUBLIC_FORMAT,
            "procedure_id": self.procedure_id,
            "branch": self.branch,
            "town": self.town,
            "term": self.term,
            "preliminary": [x.to_json() for x in self.preliminary],
            "formal": [x.to_json() for x in self.formal],
            "sessions": [s.to_json() for s in self.sessions],
            "objections": None if self.objections is None else self.objections.to_json(),
            "appointment": None if self.appointment is None else self.appointment.to_json(),
        }


def _names(procedure: Procedure, ids: Iterable[object]) -> tuple[str, ...]:
    """The roster names of ``ids`` (an id not on the roster gives nothing: the ledger refuses
    such a log long before, and no text of the log is ever shown in its place)."""
    roster = {m.id: m.name for m in procedure.members}
    return tuple(roster[MemberId(i)] for i in ids if isinstance(i, str) and i in roster)


def _post(value: object) -> PostKind | None:
    try:
        return PostKind(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _preliminary(procedure: Procedure, bodies: Sequence[Mapping[str, Any]]) -> list[PublicList]:
    """The union over every version of each post's names, in ``ballot_order``."""
    per_post: dict[PostKind, set[str]] = {}
    for body in bodies:
        for item in body.get("posts", ()):
            post = _post(item.get("post")) if isinstance(item, Mapping) else None
            if post is None:
                continue
            names = per_post.setdefault(post, set())
            names.update(
                str(n.get("member")) for n in item.get("names", ()) if isinstance(n, Mapping)
            )
    return [
        PublicList(post, _names(procedure, [m for m in procedure.ballot_order if m in ids]))
        for post, ids in sorted(per_post.items(), key=lambda kv: _POST_ORDER[kv[0]])
    ]


def _formal(procedure: Procedure, body: Mapping[str, Any]) -> list[PublicList]:
    """The approval's lists, in the order the town signed them."""
    approval = body.get("approval")
    out: list[PublicList] = []
    for item in approval.get("posts", ()) if isinstance(approval, Mapping) else ():
        post = _post(item.get("post")) if isinstance(item, Mapping) else None
        if post is not None:
            out.append(PublicList(post, _names(procedure, item.get("candidates", ()))))
    return out


def _appointment(
    procedure: Procedure, body: Mapping[str, Any]
) -> tuple[PublicObjections, PublicAppointment] | None:
    record = body.get("appointment")
    if not isinstance(record, Mapping):
        return None
    findings = [
        str(o.get("finding")) for o in record.get("objections", ()) if isinstance(o, Mapping)
    ]
    objections = PublicObjections(
        received=len(findings),
        by_finding=tuple((f, findings.count(f)) for f in FINDINGS if f in findings),
    )
    persons: list[PublicPerson] = []
    for p in record.get("persons", ()):
        post = _post(p.get("post")) if isinstance(p, Mapping) else None
        names = _names(procedure, [p.get("member")]) if post is not None else ()
        if post is not None and names:
            persons.append(PublicPerson(post, names[0], str(p.get("status"))))
    appointment = PublicAppointment(
        date=str(record.get("date", "")),
        decision=str(record.get("decision", "")),
        persons=tuple(persons),
    )
    return objections, appointment


class _Sessions:
    """The sessions' rounds as the log goes: opened, numbers, void or counted."""

    def __init__(self) -> None:
        self.rounds: dict[tuple[Form, PostKind | None, int], PublicSession] = {}

    def open(self, form: Form, posts: Sequence[PostKind | None], round_no: int) -> None:
        for post in posts:
            self.rounds[form, post, round_no] = PublicSession(form, post, round_no, "open")

    def update(self, key: tuple[Form, PostKind | None, int], **changes: Any) -> None:
        old = self.rounds.get(key)
        if old is None:
            return
        self.rounds[key] = replace(old, **changes)


def public_view(procedure: Procedure, entries: Sequence[ProcedureEntry]) -> PublicProcedure:
    """(RP-12.4) The public view of the procedure after ``entries`` (the log in ``seq`` order,
    each already accepted by the ledger)."""
    sessions = _Sessions()
    proposals: list[Mapping[str, Any]] = []
    formal: list[PublicList] = []
    appointed: tuple[PublicObjections, PublicAppointment] | None = None
    for e in entries:
        v = e.value
        if e.type == "recommendation.opened" and isinstance(v, RecommendationOpened):
            sessions.open(Form(v.group.value), v.posts, v.round)
        elif e.type == "evaluation.opened":
            sessions.open(Form.EVALUATION, [None], int(e.body["round"]))
        elif isinstance(v, BallotNumber):
            field = "issued" if e.type == "ballots.issued" else "returned"
            sessions.update((v.form, v.post, v.round), **{field: v.count})
        elif isinstance(v, RoundVoid):
            sessions.update((v.form, v.post, v.round), status="void")
        elif isinstance(v, ComputedBody) and v.form is not None:
            sessions.update(
                (v.form, v.post, v.round),
                status="counted",
                valid=int(v.json["valid_ballots"]),
                invalid=int(v.json["invalid_ballots"]),
            )
        elif e.type == "preliminary.proposed":
            proposals.append(e.body)
        elif e.type == "candidates.approved":
            formal = _formal(procedure, e.body)
        elif e.type == "appointment.recorded":
            appointed = _appointment(procedure, e.body)
    info = procedure.election
    return PublicProcedure(
        procedure_id=entries[0].body["procedure_id"] if entries else "",
        branch=info.branch,
        town=info.town,
        term=info.term,
        preliminary=tuple(_preliminary(procedure, proposals)),
        formal=tuple(formal),
        sessions=tuple(sessions.rounds.values()),
        objections=None if appointed is None else appointed[0],
        appointment=None if appointed is None else appointed[1],
    )
