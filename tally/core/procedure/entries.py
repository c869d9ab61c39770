"""Procedure log entries ``procedure-entry/1`` (spec/procedure.md RP-11.1): types, typed bodies,
their parse, and the entry envelope (shared with the election log, :mod:`tally.core.log_entry`).

Each type's body has exactly the members of :data:`BODY_FIELDS`; :func:`parse_body` reads it into
its frozen dataclass. The bodies the log computes itself (``recommendation.counted``,
``preliminary.proposed``, ``evaluation.counted``, ``vetting.recorded``) are read into
:class:`ComputedBody` (the members the order needs plus the JSON): their content is established
only by the recount of :mod:`tally.core.procedure.ledger`, which refuses any difference.
The town's acts (``higher_level.recommended``, ``candidates.approved``, ``election.bound``,
``election.concluded``, ``appointment.recorded``) are read into :class:`TownActBody` by their
members; their rules are piece 5's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from tally.core.log_entry import SALT_BYTES, entry_bytes, leaf_hash, read_envelope
from tally.core.model import MemberId, PostKind
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.evaluation import EvaluationBallot
from tally.core.procedure.recommendation import (
    RecommendationBallot,
    RecommendationGroup,
    WrittenName,
)

__all__ = [
    "BODY_FIELDS",
    "ENTRY_FORMAT",
    "BallotNumber",
    "BallotWithdrawn",
    "ComputedBody",
    "DeclaredInvalid",
    "EntryBody",
    "EvaluationEntered",
    "EvaluationOpened",
    "Form",
    "OfficialsChanged",
    "ProcedureEntry",
    "ProcedureOpened",
    "RecommendationEntered",
    "RecommendationOpened",
    "RoundVoid",
    "StockCommitted",
    "TownActBody",
    "make_entry",
    "parse_body",
    "parse_entry",
]

ENTRY_FORMAT: Final = "procedure-entry/1"
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
INVALID_REASONS: Final = frozenset({"identifying_marks", "unreadable", "not_official_stock"})


class Form(StrEnum):
    """(RP-11.1) A ballot form: a group's recommendation or the evaluation."""

    MEMBER = "member"
    PUBLIC = "public"
    EVALUATION = "evaluation"

    @property
    def group(self) -> RecommendationGroup:
        """The recommending group of a recommendation form (ValueError for ``evaluation``)."""
        return RecommendationGroup(self.value)


_STOCK: Final = frozenset({"form", "post", "round", "count", "commitment"})
_NUMBER: Final = frozenset({"form", "post", "round", "count"})
BODY_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "procedure.opened": frozenset({"procedure_id"}),
    "stock.committed": _STOCK,
    "stock.supplemented": _STOCK | {"part"},
    "recommendation.opened": frozenset({"group", "round", "posts", "present", "present_members"}),
    "recommendation.quorum_failed": frozenset({"group", "round", "present", "present_members"}),
    "ballots.issued": _NUMBER,
    "ballots.returned": _NUMBER,
    "round.void": frozenset({"form", "post", "round", "issued", "returned"}),
    "recommendation.entered": frozenset(
        {"group", "post", "round", "ballot_id", "qr", "marks", "written"}
    ),
    "evaluation.entered": frozenset({"round", "ballot_id", "qr", "marks", "added_rows"}),
    "ballot.declared_invalid": frozenset(
        {"form", "post", "round", "ballot_id", "qr", "reason", "scrutineer", "signature"}
    ),
    "ballot.withdrawn": frozenset({"form", "post", "round", "ballot_id"}),
    "recommendation.counted": frozenset(
        {
            "group",
            "post",
            "round",
            "valid_ballots",
            "invalid_ballots",
            "recommendations",
            "not_counted",
            "written_names",
        }
    ),
    "higher_level.recommended": frozenset({"recommendation", "town_signature"}),
    "preliminary.proposed": frozenset({"version", "election_date", "posts"}),
    "evaluation.opened": frozenset(
        {"round", "version", "candidates", "present_members", "public_present", "present"}
    ),
    "evaluation.counted": frozenset(
        {"round", "valid_ballots", "invalid_ballots", "added_rows", "results"}
    ),
    "vetting.recorded": frozenset({"posts"}),
    "candidates.approved": frozenset({"approval", "town_signature"}),
    "election.bound": frozenset({"election_id", "manifest_sha256"}),
    "election.concluded": frozenset(
        {"election_id", "size", "root", "elected", "publicity_start", "publicity_end"}
    ),
    "officials.changed": frozenset({"scrutineers", "tellers"}),
    "appointment.recorded": frozenset({"appointment", "town_signature"}),
}


# -- typed bodies ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProcedureOpened:
    """Entry 0: the procedure id (64 hex)."""

    procedure_id: str


@dataclass(frozen=True, slots=True)
class StockCommitted:
    """(RP-3.6) ``stock.committed`` (``part`` 1) or ``stock.supplemented`` (``part`` >= 2)."""

    form: Form
    post: PostKind | None
    round: int
    count: int
    commitment: str
    part: int


@dataclass(frozen=True, slots=True)
class RecommendationOpened:
    """(RP-3.2) ``recommendation.opened`` or ``recommendation.quorum_failed`` (``posts`` empty)."""

    group: RecommendationGroup
    round: int
    posts: tuple[PostKind, ...]
    present: int
    present_members: tuple[MemberId, ...]


@dataclass(frozen=True, slots=True)
class BallotNumber:
    """(RP-3.4, RP-5.2) ``ballots.issued`` or ``ballots.returned``."""

    form: Form
    post: PostKind | None
    round: int
    count: int


@dataclass(frozen=True, slots=True)
class RoundVoid:
    """(RP-3.4) A round of one post voided: more ballots came back than were issued."""

    form: Form
    post: PostKind | None
    round: int
    issued: int
    returned: int


@dataclass(frozen=True, slots=True)
class RecommendationEntered:
    """(RP-3.7) One recommendation ballot entered."""

    group: RecommendationGroup
    post: PostKind
    round: int
    ballot_id: str
    qr: str
    ballot: RecommendationBallot


@dataclass(frozen=True, slots=True)
class EvaluationEntered:
    """(RP-5.4) One evaluation ballot entered."""

    round: int
    ballot_id: str
    qr: str
    ballot: EvaluationBallot


@dataclass(frozen=True, slots=True)
class DeclaredInvalid:
    """(RP-3.8) A returned ballot entered as invalid by decision, confirmed by a scrutineer
    (the signature is the shell's check: it holds the keys)."""

    form: Form
    post: PostKind | None
    round: int
    ballot_id: str
    qr: str
    reason: str
    scrutineer: str
    signature: str


@dataclass(frozen=True, slots=True)
class BallotWithdrawn:
    """The teller's last entry undone."""

    form: Form
    post: PostKind | None
    round: int
    ballot_id: str


@dataclass(frozen=True, slots=True)
class EvaluationOpened:
    """(RP-5.2) An evaluation session."""

    round: int
    version: int
    candidates: tuple[MemberId, ...]
    present_members: tuple[MemberId, ...]
    public_present: int
    present: int


@dataclass(frozen=True, slots=True)
class OfficialsChanged:
    """The officials of the sessions that follow (as spec/log.md and R25.1)."""

    scrutineers: tuple[MemberId, ...]
    tellers: tuple[MemberId, ...]


@dataclass(frozen=True, slots=True)
class ComputedBody:
    """A body the log computes (RP-3.10, RP-4.5, RP-5.6, RP-6.1): the members its place in the
    order needs, and the JSON, which must equal the recount (:mod:`.ledger`)."""

    form: Form | None
    post: PostKind | None
    round: int
    version: int
    json: Mapping[str, Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class TownActBody:
    """A town committee's act recorded by the work group, or the election's binding (§6.4, §7,
    §10): its members as given; the rules are piece 5's."""

    json: Mapping[str, Any] = field(compare=False)


EntryBody = (
    ProcedureOpened
    | StockCommitted
    | RecommendationOpened
    | BallotNumber
    | RoundVoid
    | RecommendationEntered
    | EvaluationEntered
    | DeclaredInvalid
    | BallotWithdrawn
    | EvaluationOpened
    | OfficialsChanged
    | ComputedBody
    | TownActBody
)


# -- field readers ---------------------------------------------------------------------------------
def _bad(path: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(
        "log.malformed",
        zh=f"日志记录内容错误：{path}",
        en=f"malformed entry body at {path}: {en}",
        clause="RP-11.1",
    )


def _int(body: Mapping[str, Any], key: str, lo: int = 0, hi: int = 2**53) -> int:
    v = body[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _bad(key, f"an integer {lo}..{hi}")
    return v


def _round(body: Mapping[str, Any], key: str = "round") -> int:
    return _int(body, key, 1, 255)


def _str(body: Mapping[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> str:
    v = body[key]
    if not isinstance(v, str) or (pattern is not None and pattern.fullmatch(v) is None):
        raise _bad(key, "a string of its format")
    return v


def _ids(body: Mapping[str, Any], key: str) -> tuple[MemberId, ...]:
    v = body[key]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _bad(key, "a list of member ids")
    return tuple(MemberId(x) for x in v)


def _form(body: Mapping[str, Any]) -> Form:
    try:
        return Form(body["form"])
    except ValueError as e:
        raise _bad("form", "member, public or evaluation") from e


def _group(body: Mapping[str, Any]) -> RecommendationGroup:
    try:
        return RecommendationGroup(body["group"])
    except ValueError as e:
        raise _bad("group", "member or public") from e


def _post_code(value: object, path: str) -> PostKind:
    try:
        return PostKind(str(value) if isinstance(value, str) else "")
    except ValueError as e:
        raise _bad(path, "a post code") from e


def _form_post(body: Mapping[str, Any]) -> tuple[Form, PostKind | None]:
    """``form`` and ``post``: ``post`` is ``""`` exactly for the evaluation."""
    form = _form(body)
    if form is Form.EVALUATION:
        if body["post"] != "":
            raise _bad("post", '"" for the evaluation')
        return form, None
    return form, _post_code(body["post"], "post")


# -- the parse of each type ------------------------------------------------------------------------
def _stock(body: Mapping[str, Any]) -> StockCommitted:
    form, post = _form_post(body)
    part = _int(body, "part", 2, 255) if "part" in body else 1
    return StockCommitted(
        form,
        post,
        _round(body),
        _int(body, "count", 1, 5000),
        _str(body, "commitment", _HEX64),
        part,
    )


def _opened(body: Mapping[str, Any]) -> RecommendationOpened:
    posts: tuple[PostKind, ...] = ()
    if "posts" in body:
        if not isinstance(body["posts"], list):
            raise _bad("posts", "a list of post codes")
        posts = tuple(_post_code(p, "posts") for p in body["posts"])
    return RecommendationOpened(
        _group(body), _round(body), posts, _int(body, "present"), _ids(body, "present_members")
    )


def _number(body: Mapping[str, Any]) -> BallotNumber:
    form, post = _form_post(body)
    return BallotNumber(form, post, _round(body), _int(body, "count"))


def _void(body: Mapping[str, Any]) -> RoundVoid:
    form, post = _form_post(body)
    return RoundVoid(form, post, _round(body), _int(body, "issued"), _int(body, "returned"))


def _written(value: object) -> tuple[WrittenName, ...]:
    if not isinstance(value, list):
        raise _bad("written", "a list of rows")
    rows: list[WrittenName] = []
    for i, row in enumerate(value):
        if (
            not isinstance(row, dict)
            or set(row) != {"name", "member"}
            or not all(isinstance(row[k], str) for k in row)
        ):
            raise _bad(f"written[{i}]", "{name, member} strings")
        rows.append(WrittenName(name=row["name"], member=row["member"]))
    return tuple(rows)


def _rec_entered(body: Mapping[str, Any]) -> RecommendationEntered:
    return RecommendationEntered(
        group=_group(body),
        post=_post_code(body["post"], "post"),
        round=_round(body),
        ballot_id=_str(body, "ballot_id", _HEX32),
        qr=_str(body, "qr"),
        ballot=RecommendationBallot(marks=_str(body, "marks"), written=_written(body["written"])),
    )


def _eval_entered(body: Mapping[str, Any]) -> EvaluationEntered:
    return EvaluationEntered(
        round=_round(body),
        ballot_id=_str(body, "ballot_id", _HEX32),
        qr=_str(body, "qr"),
        ballot=EvaluationBallot(marks=_str(body, "marks"), added_rows=_int(body, "added_rows")),
    )


def _declared(body: Mapping[str, Any]) -> DeclaredInvalid:
    form, post = _form_post(body)
    reason = _str(body, "reason")
    if reason not in INVALID_REASONS:
        raise _bad("reason", ", ".join(sorted(INVALID_REASONS)))
    return DeclaredInvalid(
        form,
        post,
        _round(body),
        _str(body, "ballot_id", _HEX32),
        _str(body, "qr"),
        reason,
        _str(body, "scrutineer"),
        _str(body, "signature"),
    )


def _withdrawn(body: Mapping[str, Any]) -> BallotWithdrawn:
    form, post = _form_post(body)
    return BallotWithdrawn(form, post, _round(body), _str(body, "ballot_id", _HEX32))


def _eval_opened(body: Mapping[str, Any]) -> EvaluationOpened:
    return EvaluationOpened(
        round=_round(body),
        version=_int(body, "version", 1, 255),
        candidates=_ids(body, "candidates"),
        present_members=_ids(body, "present_members"),
        public_present=_int(body, "public_present"),
        present=_int(body, "present"),
    )


def _computed(type_: str, body: Mapping[str, Any]) -> ComputedBody:
    form: Form | None = None
    post: PostKind | None = None
    round_no = version = 0
    if type_ == "recommendation.counted":
        form = Form(_group(body).value)
        post = _post_code(body["post"], "post")
        round_no = _round(body)
    elif type_ == "evaluation.counted":
        form, round_no = Form.EVALUATION, _round(body)
    elif type_ == "preliminary.proposed":
        version = _int(body, "version", 1, 255)
        try:
            dt.date.fromisoformat(_str(body, "election_date"))
        except ValueError as e:
            raise _bad("election_date", "YYYY-MM-DD") from e
    return ComputedBody(form, post, round_no, version, body)


def _officials(body: Mapping[str, Any]) -> OfficialsChanged:
    return OfficialsChanged(_ids(body, "scrutineers"), _ids(body, "tellers"))


_PARSERS: Final[Mapping[str, Callable[[Mapping[str, Any]], EntryBody]]] = {
    "procedure.opened": lambda b: ProcedureOpened(_str(b, "procedure_id", _HEX64)),
    "stock.committed": _stock,
    "stock.supplemented": _stock,
    "recommendation.opened": _opened,
    "recommendation.quorum_failed": _opened,
    "ballots.issued": _number,
    "ballots.returned": _number,
    "round.void": _void,
    "recommendation.entered": _rec_entered,
    "evaluation.entered": _eval_entered,
    "ballot.declared_invalid": _declared,
    "ballot.withdrawn": _withdrawn,
    "evaluation.opened": _eval_opened,
    "officials.changed": _officials,
}
_COMPUTED: Final = frozenset(
    {"recommendation.counted", "preliminary.proposed", "evaluation.counted", "vetting.recorded"}
)


def parse_body(type_: object, body: object) -> EntryBody:
    """The typed body of an entry of type ``type_`` (RP-11.1).

    Raises:
        ProcedureLogError: ``log.malformed`` (an unknown type, other members than the type's, or
            a member of the wrong kind, with its path).
    """
    allowed = BODY_FIELDS.get(type_) if isinstance(type_, str) else None
    if allowed is None or not isinstance(body, dict) or set(body) != allowed:
        raise ProcedureLogError(
            "log.malformed",
            zh="日志记录类型或内容错误",
            en=f"unknown entry type or body members ({type_!r})",
            clause="RP-11.1",
        )
    name = str(type_)
    if name in _COMPUTED:
        return _computed(name, body)
    parser = _PARSERS.get(name)
    if parser is None:
        return TownActBody(body)
    return parser(body)


@dataclass(frozen=True, slots=True)
class ProcedureEntry:
    """One procedure log entry; ``raw`` its canonical bytes, ``value`` its typed body."""

    seq: int
    prev: str
    type: str
    at: str
    actor: str
    body: Mapping[str, Any]
    salt: str
    raw: bytes
    value: EntryBody = field(compare=False, repr=False)

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.raw)


def make_entry(
    seq: int,
    prev: str,
    type_: str,
    body: Mapping[str, Any],
    *,
    at: dt.datetime,
    actor: str,
    salt: bytes,
) -> ProcedureEntry:
    """The entry at ``seq`` after the leaf ``prev`` (the procedure id for entry 0).

    Raises:
        ValueError: the salt is not 32 bytes (the shell draws it), or ``at`` has no offset.
        ProcedureLogError: ``log.malformed`` (the body does not parse).
    """
    if len(salt) != SALT_BYTES:
        msg = f"an entry's salt is {SALT_BYTES} bytes"
        raise ValueError(msg)
    if at.tzinfo is None:
        msg = "an entry's time has an offset"
        raise ValueError(msg)
    value = parse_body(type_, dict(body))
    stamp = at.isoformat(timespec="seconds")
    raw = entry_bytes(
        ENTRY_FORMAT, seq, prev, type_=type_, at=stamp, actor=actor, body=body, salt=salt.hex()
    )
    return ProcedureEntry(seq, prev, type_, stamp, actor, dict(body), salt.hex(), raw, value)


def parse_entry(raw: bytes) -> ProcedureEntry:
    """Parse stored entry bytes (they must be canonical) and the body into its type.

    Raises:
        ProcedureLogError: ``log.malformed``, ``log.salt``, ``log.not_canonical``, ``log.bad_time``.
    """
    doc = read_envelope(raw, ENTRY_FORMAT, error=ProcedureLogError)
    try:
        at = dt.datetime.fromisoformat(doc["at"]) if isinstance(doc["at"], str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not isinstance(doc["actor"], str):
        raise ProcedureLogError(
            "log.bad_time", zh="时间格式错误", en=f"bad time {doc['at']!r}", clause="RP-11.1"
        )
    if (
        isinstance(doc["seq"], bool)
        or not isinstance(doc["seq"], int)
        or not isinstance(doc["prev"], str)
    ):
        raise _bad("seq", "an integer seq and a hex prev")
    value = parse_body(doc["type"], doc["body"])
    return ProcedureEntry(
        doc["seq"],
        doc["prev"],
        doc["type"],
        doc["at"],
        doc["actor"],
        doc["body"],
        doc["salt"],
        raw,
        value,
    )
