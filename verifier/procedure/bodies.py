"""(V22) The exact shape of every ``procedure-entry/1`` body, at every level (spec/procedure.md
RP-11.1 with the formats it names: RP-3.7, RP-3.9, RP-3.10, RP-4.5, RP-5.2, RP-5.6, RP-6.1, RP-6.4,
RP-7.2, RP-10.1; RP-12.2's privacy rule).

Every object of a body, however deep (an approval's posts, an appointment's persons, objections
and casework, a count's items), has exactly its format's members: an unknown member fails here
whatever the town's signature over it, so no text or identity can ride inside a signed act. Where a
format has a scalar (a string or an integer, or a list of them), an object or an array there fails
as well. The values themselves are the later clauses' (V23-V30).

:func:`body_problem` names the first member out of shape by its path (``appointment.
objections[0].what``), or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = ["BODIES", "body_problem"]


class _Scalar:
    """A string or an integer (never an object or an array)."""


@dataclass(frozen=True, slots=True)
class _ListOf:
    item: _Shape


@dataclass(frozen=True, slots=True)
class _MapOf:
    """An object whose members are some of ``keys`` (e.g. post codes), each value ``value``."""

    keys: frozenset[str]
    value: _Shape


_Shape: TypeAlias = "_Scalar | _ListOf | _MapOf | Mapping[str, _Shape]"

S: Final = _Scalar()
IDS: Final = _ListOf(S)
_POSTS: Final = frozenset({"committee", "secretary", "deputy_secretary"})


def _obj(*scalars: str, **nested: _Shape) -> Mapping[str, _Shape]:
    return {**dict.fromkeys(scalars, S), **nested}


_SESSION: Final = _obj("form", "post", "round", "count")
_STOCK: Final = _obj("form", "post", "round", "count", "commitment")
_OMISSION: Final = _obj("member", "reason", "category", "reference")

#: (RP-11.1) Each type's body, with the nested formats of the clauses the table names.
SHAPES: Final[Mapping[str, Mapping[str, _Shape]]] = {
    "procedure.opened": _obj("procedure_id"),
    "stock.committed": _STOCK,
    "stock.supplemented": {**_STOCK, "part": S},
    "recommendation.opened": _obj("group", "round", "present", posts=IDS, present_members=IDS),
    "recommendation.quorum_failed": _obj("group", "round", "present", present_members=IDS),
    "ballots.issued": _SESSION,
    "ballots.returned": _SESSION,
    "round.void": _obj("form", "post", "round", "issued", "returned"),
    "recommendation.entered": _obj(  # RP-3.7
        "group",
        "post",
        "round",
        "ballot_id",
        "qr",
        "marks",
        written=_ListOf(_obj("name", "member")),
    ),
    "evaluation.entered": _obj("round", "ballot_id", "qr", "marks", "added_rows"),
    "ballot.declared_invalid": _obj(
        "form", "post", "round", "ballot_id", "qr", "reason", "scrutineer", "signature"
    ),
    "ballot.withdrawn": _obj("form", "post", "round", "ballot_id"),
    "recommendation.counted": _obj(  # RP-3.10
        "group",
        "post",
        "round",
        "valid_ballots",
        "invalid_ballots",
        recommendations=_ListOf(_obj("member", "recommendations")),
        not_counted=_ListOf(_obj("reason", "count")),
        written_names=_ListOf(_obj("name", "reason")),
    ),
    "higher_level.recommended": _obj(  # RP-3.9
        "town_signature",
        recommendation=_obj("format", "procedure_id", "post", "reference", members=IDS),
    ),
    "preliminary.proposed": _obj(  # RP-4.5
        "version",
        "election_date",
        posts=_ListOf(
            _obj(
                "post",
                names=_ListOf(
                    _obj(
                        "member",
                        "basis",
                        "member_recommendations",
                        "public_recommendations",
                        "score",
                    )
                ),
                omitted=_ListOf(_OMISSION),
            )
        ),
    ),
    "evaluation.opened": _obj(  # RP-5.2
        "round", "version", "public_present", "present", candidates=IDS, present_members=IDS
    ),
    "evaluation.counted": _obj(  # RP-5.6
        "round",
        "valid_ballots",
        "invalid_ballots",
        "added_rows",
        results=_ListOf(
            _obj(
                "member",
                "blank",
                "unreadable",
                "fail_count",
                "outcome",
                counts=_ListOf(_obj("letter", "count")),
            )
        ),
    ),
    "vetting.recorded": _obj(  # RP-6.1
        posts=_ListOf(_obj("post", proceeding=IDS, stopped=_ListOf(_OMISSION)))
    ),
    "candidates.approved": _obj(  # RP-6.4
        "town_signature",
        approval=_obj(
            "format",
            "procedure_id",
            "vetted_size",
            "vetted_root",
            "reference",
            secretary=_obj("elected_by"),
            posts=_ListOf(_obj("post", "seats", "margin", candidates=IDS)),
        ),
    ),
    "election.bound": _obj("election_id", "manifest_sha256"),
    "election.concluded": _obj(  # RP-7.2: elected maps post codes to member ids
        "election_id",
        "size",
        "root",
        "publicity_start",
        "publicity_end",
        elected=_MapOf(_POSTS, IDS),
    ),
    "officials.changed": _obj(scrutineers=IDS, tellers=IDS),
    "appointment.recorded": _obj(  # RP-10.1
        "town_signature",
        appointment=_obj(
            "format",
            "procedure_id",
            "election_id",
            "election_root",
            "publicity_end",
            "date",
            "decision",
            "reference",
            persons=_ListOf(_obj("post", "member", "status", objections=IDS)),
            objections=_ListOf(
                _obj(
                    "reference",
                    "received",
                    "channel",
                    "timing",
                    "about",
                    "finding",
                    "effect",
                    "concluded",
                )
            ),
            casework=_obj("casework_id", "size", "root"),
        ),
    ),
}

#: (RP-11.1) Each type's top-level body members.
BODIES: Final[Mapping[str, frozenset[str]]] = {t: frozenset(s) for t, s in SHAPES.items()}


def body_problem(type_: str, body: object) -> tuple[str, str] | None:
    """The first place where ``body`` (of a known ``type_``) is out of RP-11.1's shape, as
    ``(path, what)``: the path of an unknown member, or of the object or value out of shape;
    None when the body has exactly its members at every level."""
    return _check(SHAPES[type_], body, "body")


def _check(shape: _Shape, value: object, path: str) -> tuple[str, str] | None:
    if isinstance(shape, _Scalar):
        if isinstance(value, dict | list):
            return path, "a string or an integer"
        return None
    if isinstance(shape, _ListOf):
        if not isinstance(value, list):
            return path, "an array"
        for i, item in enumerate(value):
            if (found := _check(shape.item, item, f"{path}[{i}]")) is not None:
                return found
        return None
    if not isinstance(value, dict):
        return path, "an object"
    if isinstance(shape, _MapOf):
        members: Mapping[str, _Shape] = {k: shape.value for k in value if k in shape.keys}
    else:
        members = shape
    if unknown := sorted(set(value) - set(members)):
        return f"{path}.{unknown[0]}", "a member its format does not have"
    if missing := sorted(set(members) - set(value)):
        return f"{path}.{missing[0]}", "a missing member"
    for name, inner in members.items():
        if (found := _check(inner, value[name], f"{path}.{name}")) is not None:
            return found
    return None
