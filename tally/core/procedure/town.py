"""The town's acts in the procedure log (spec/procedure.md RP-3.9, RP-6.4, RP-6.5, RP-7.1, RP-7.2,
RP-10.1, RP-10.2): pure.

The entries ``higher_level.recommended``, ``candidates.approved``, ``election.bound``,
``election.concluded`` and ``appointment.recorded`` are checked here for their place in the
procedure and for everything their content must follow from the log (:func:`apply_town_act`, which
the ledger calls); the town's signature and the root of the ``vetted`` checkpoint are the shell's
checks (it holds the keys and the tree). :func:`approval_document`, :func:`appointment_document`
and :func:`binding_problems` give what the town signs and what ``tally check`` and
``election.bound`` compare (RP-6.5).

Public names: :class:`TownState`, :data:`TOWN_ACTS`, :data:`APPROVAL_DOMAIN`,
:data:`APPOINTMENT_DOMAIN`, :data:`HIGHER_LEVEL_DOMAIN`, :func:`apply_town_act`,
:func:`higher_level_for`, :func:`refuse_after_approval`, :func:`approval_document`,
:func:`higher_level_document`, :func:`appointment_document`, :func:`binding_problems`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Protocol

from tally.core.errors import Problem
from tally.core.model import Election, MemberId, PostKind
from tally.core.procedure.errors import ApprovalBlockedError, ProcedureLogError
from tally.core.procedure.vetting import formal_lists, preliminary_names

if TYPE_CHECKING:
    from tally.core.procedure.entries import ProcedureEntry
    from tally.core.procedure.model import Procedure
    from tally.core.procedure.ranking import Proposal
    from tally.core.procedure.vetting import VettingRecord

__all__ = [
    "APPOINTMENT_DOMAIN",
    "APPROVAL_DOMAIN",
    "HIGHER_LEVEL_DOMAIN",
    "TOWN_ACTS",
    "LedgerView",
    "TownState",
    "apply_town_act",
    "appointment_document",
    "approval_document",
    "binding_problems",
    "higher_level_document",
    "higher_level_for",
    "refuse_after_approval",
    "require_concluded",
]

HIGHER_LEVEL_DOMAIN: Final = b"branch-election/higher-level-recommendation/1"
APPROVAL_DOMAIN: Final = b"branch-election/candidate-approval/1"
APPOINTMENT_DOMAIN: Final = b"branch-election/appointment/1"
#: The entry types of the town's acts and the binding, with the member of the signed object.
TOWN_ACTS: Final[Mapping[str, str]] = {
    "higher_level.recommended": "recommendation",
    "candidates.approved": "approval",
    "election.bound": "",
    "election.concluded": "",
    "appointment.recorded": "appointment",
}
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_POST_ORDER: Final = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)
_OBJECTION_MEMBERS: Final = frozenset(
    {"reference", "received", "channel", "timing", "about", "finding", "effect", "concluded"}
)
_FINDINGS: Final = frozenset(
    {"substantiated", "partly_substantiated", "unsubstantiated", "not_competent", "duplicate"}
)


@dataclass(frozen=True, slots=True)
class TownState:
    """What the town's acts have recorded so far: the higher-level recommendations by the
    version they precede and their post, the approval, the binding, the concluded election and
    the appointment (each its JSON object as recorded)."""

    higher_level: Mapping[tuple[int, PostKind], tuple[MemberId, ...]] = field(default_factory=dict)
    approval: Mapping[str, Any] | None = None
    bound: Mapping[str, Any] | None = None
    concluded: Mapping[str, Any] | None = None
    appointment: Mapping[str, Any] | None = None


class LedgerView(Protocol):
    """What the town's acts read of the procedure ledger
    (:class:`tally.core.procedure.ledger.Ledger` is one)."""

    @property
    def procedure(self) -> Procedure: ...
    @property
    def procedure_id(self) -> bytes: ...
    @property
    def size(self) -> int: ...
    @property
    def session(self) -> object | None: ...
    @property
    def proposals(self) -> tuple[Proposal, ...]: ...
    @property
    def vettings(self) -> tuple[VettingRecord, ...]: ...
    @property
    def town(self) -> TownState: ...


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


def _order(zh: str, en: str) -> ProcedureLogError:
    return _refuse("procedure.order", "RP-11.1", f"记录顺序不符合推荐程序：{zh}", en)


def _malformed(path: str, en: str) -> ProcedureLogError:
    return _refuse(
        "log.malformed", "RP-11.1", f"日志记录内容错误：{path}", f"malformed body at {path}: {en}"
    )


def _exact(obj: object, members: frozenset[str], path: str) -> Mapping[str, Any]:
    """``obj`` is an object with exactly ``members`` (an unknown member fails whatever the
    signature: the privacy rule of RP-12.2 and V22)."""
    if not isinstance(obj, dict) or set(obj) != members:
        raise _malformed(path, "an object with exactly " + ", ".join(sorted(members)))
    return obj


def _text(obj: Mapping[str, Any], key: str, path: str, pattern: re.Pattern[str] | None) -> str:
    v = obj[key]
    if not isinstance(v, str) or (pattern is not None and pattern.fullmatch(v) is None):
        raise _malformed(f"{path}.{key}", "a string of its format")
    return v


def _reference(obj: Mapping[str, Any], path: str) -> str:
    v = obj["reference"]
    if not isinstance(v, str) or not 1 <= len(v) <= 64 or v != v.strip():
        raise _malformed(f"{path}.reference", "the town's document number, 1..64 characters")
    return v


def _date(obj: Mapping[str, Any], key: str, path: str) -> dt.date:
    v = _text(obj, key, path, _DATE)
    try:
        return dt.date.fromisoformat(v)
    except ValueError as e:
        raise _malformed(f"{path}.{key}", "YYYY-MM-DD") from e


def _ids(value: object, path: str) -> tuple[MemberId, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _malformed(path, "a list of member ids")
    if len(set(value)) != len(value):
        raise _malformed(path, "each member once")
    return tuple(MemberId(x) for x in value)


def _procedure_id(ledger: LedgerView, obj: Mapping[str, Any], code: str, zh: str, en: str) -> None:
    if obj["procedure_id"] != ledger.procedure_id.hex():
        raise _refuse(
            code,
            "RP-11.1",
            f"{zh}不是本换届程序的（程序标识不符）",
            f"the {en} names another procedure",
        )


# -- RP-3.9 the higher level's recommendation ------------------------------------------------------
def _next_version(ledger: LedgerView) -> int:
    return max((p.version for p in ledger.proposals), default=0) + 1


def higher_level_for(ledger: LedgerView) -> dict[PostKind, tuple[MemberId, ...]]:
    """(RP-3.9) The higher-level names recorded before the next version of the proposal, by post:
    what :func:`~tally.core.procedure.ledger.proposal_body` hands the ranking core."""
    version = _next_version(ledger)
    town = ledger.town
    return {post: names for (v, post), names in town.higher_level.items() if v == version}


def higher_level_document(
    ledger: LedgerView, *, post: PostKind, members: Sequence[MemberId], reference: str
) -> dict[str, Any]:
    """The ``higher-level-recommendation/1`` object the town signs (RP-3.9)."""
    return {
        "format": "higher-level-recommendation/1",
        "procedure_id": ledger.procedure_id.hex(),
        "post": post.value,
        "members": list(members),
        "reference": reference,
    }


def _hl_refusal(zh: str, en: str) -> ProcedureLogError:
    return _refuse("preliminary.higher_level", "RP-3.9", f"上级党组织推荐不符合规定：{zh}", en)


def _higher_level(ledger: LedgerView, town: TownState, body: Mapping[str, Any]) -> TownState:
    rec = _exact(
        body["recommendation"],
        frozenset({"format", "procedure_id", "post", "members", "reference"}),
        "recommendation",
    )
    if rec["format"] != "higher-level-recommendation/1":
        raise _malformed("recommendation.format", '"higher-level-recommendation/1"')
    _procedure_id(ledger, rec, "preliminary.higher_level", "上级党组织推荐", "recommendation")
    _reference(rec, "recommendation")
    spec = None
    if isinstance(rec["post"], str) and rec["post"] in {p.value for p in PostKind}:
        spec = ledger.procedure.post(PostKind(rec["post"]))
    if spec is None:
        raise _hl_refusal("本换届程序没有这一职位", f"the procedure has no post {rec['post']!r}")
    members = _ids(rec["members"], "recommendation.members")
    if not 1 <= len(members) <= spec.preliminary_size:
        raise _hl_refusal(
            f"须推荐 1 至 {spec.preliminary_size} 名",
            f"1 to {spec.preliminary_size} names are recommended",
        )
    bad = [m for m in members if m not in ledger.procedure.nominable]
    if bad:
        raise _hl_refusal(
            f"{'、'.join(bad)} 不具备被推荐资格", f"{', '.join(bad)} may not be recommended"
        )
    listed = {n.member for n in preliminary_names(ledger.proposals, spec.kind)}
    if listed & set(members):
        names = "、".join(m for m in members if m in listed)
        raise _hl_refusal(
            f"{names} 已在该职位的初步人选中", f"{names} already on the post's preliminary list"
        )
    key = (_next_version(ledger), spec.kind)
    if key in town.higher_level:
        raise _hl_refusal(
            f"第 {key[0]} 版初步人选之前已有该职位的上级党组织推荐",
            f"the post already has a higher-level recommendation before version {key[0]}",
        )
    return replace(town, higher_level={**town.higher_level, key: members})


# -- RP-6.4 the approval ---------------------------------------------------------------------------
def _vetted_version(ledger: LedgerView) -> None:
    """The last vetting record covers every preliminary name of every version (it is the
    vetting of the latest version); otherwise there is nothing to approve."""
    if not ledger.vettings:
        raise _order("尚未记录考察审查，不能批复", "no vetting record: nothing to approve")
    record = ledger.vettings[-1]
    for spec in ledger.procedure.posts:
        names = {n.member for n in preliminary_names(ledger.proposals, spec.kind)}
        vetted = record.post(spec.kind)
        covered = (
            set() if vetted is None else {*vetted.proceeding, *(s.member for s in vetted.stopped)}
        )
        if names != covered:
            raise _refuse(
                "approval.stale",
                "RP-6.4",
                "最新一版初步人选尚未考察审查：批复须针对最新的考察审查记录",
                "the latest version has not been vetted: the approval is of the last vetting",
            )


def approval_document(
    ledger: LedgerView,
    *,
    vetted_size: int,
    vetted_root: str,
    reference: str,
    orders: Mapping[PostKind, Sequence[MemberId]] | None = None,
) -> dict[str, Any]:
    """(RP-6.4) The ``candidate-approval/1`` object of the last vetting record: the formal lists
    of RP-6.2 (``orders`` the secretary's and deputy's order the town sets; ``ballot_order``
    when not given), for the town to sign over the ``vetted`` checkpoint ``vetted_size`` /
    ``vetted_root``.

    Raises:
        ProcedureLogError: ``procedure.order`` (no vetting), ``approval.stale`` (the latest
            version is not vetted).
        ApprovalBlockedError: ``approval.blocked``, every problem listed.
    """
    _vetted_version(ledger)
    proposal = max(ledger.proposals, key=lambda p: p.version)
    lists = formal_lists(
        ledger.procedure,
        ledger.vettings[-1],
        election_date=proposal.election_date,
        orders=orders,
    )
    return {
        "format": "candidate-approval/1",
        "procedure_id": ledger.procedure_id.hex(),
        "vetted_size": vetted_size,
        "vetted_root": vetted_root,
        "secretary": {"elected_by": ledger.procedure.secretary_body.value},
        "posts": [
            {
                "post": f.post.value,
                "seats": f.seats,
                "margin": f.margin.value,
                "candidates": list(f.candidates),
            }
            for f in lists
        ],
        "reference": reference,
    }


def _approval(ledger: LedgerView, town: TownState, body: Mapping[str, Any]) -> TownState:
    members = frozenset(
        {"format", "procedure_id", "vetted_size", "vetted_root", "secretary", "posts", "reference"}
    )
    doc = _exact(body["approval"], members, "approval")
    if doc["format"] != "candidate-approval/1":
        raise _malformed("approval.format", '"candidate-approval/1"')
    _procedure_id(ledger, doc, "approval.other_procedure", "正式候选人批复", "approval")
    if town.approval is not None:
        raise _refuse(
            "approval.replayed",
            "RP-6.4",
            "正式候选人批复已经记录，不能再次记录",
            "the candidate approval is recorded already: it is not recorded again",
        )
    size = doc["vetted_size"]
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= ledger.size:
        raise _malformed("approval.vetted_size", "a size of this log")
    _text(doc, "vetted_root", "approval", _HEX64)
    _reference(doc, "approval")
    orders: dict[PostKind, tuple[MemberId, ...]] = {}
    posts = doc["posts"]
    if not isinstance(posts, list):
        raise _malformed("approval.posts", "a list of posts")
    for i, p in enumerate(posts):
        item = _exact(
            p, frozenset({"post", "seats", "margin", "candidates"}), f"approval.posts[{i}]"
        )
        if item["post"] in (PostKind.SECRETARY.value, PostKind.DEPUTY_SECRETARY.value):
            orders[PostKind(item["post"])] = _ids(item["candidates"], f"approval.posts[{i}]")
    try:
        expected = approval_document(
            ledger,
            vetted_size=size,
            vetted_root=doc["vetted_root"],
            reference=doc["reference"],
            orders=orders,
        )
    except ApprovalBlockedError as e:
        if not any(p.code == "approval.lists_differ" for p in e.problems):
            raise
        expected = None
    if expected != dict(doc):
        raise _refuse(
            "approval.lists_differ",
            "RP-6.4",
            "批复名单与考察审查后的人选不一致",
            "the approved lists differ from the vetted names",
        )
    return replace(town, approval=doc)


def refuse_after_approval(ledger: LedgerView, entry: ProcedureEntry) -> None:
    """(RP-6.4, RP-11.1) After ``candidates.approved`` only the town's acts and the binding
    follow: no session, proposal, evaluation or vetting changes what was approved."""
    town = ledger.town
    if town.approval is not None and entry.type not in TOWN_ACTS:
        raise _order(
            "正式候选人已批复，不能再记录推荐、测评或考察审查",
            f"the candidates are approved: no {entry.type} after the approval",
        )


# -- RP-6.5 the manifest, RP-7 the binding ---------------------------------------------------------
def binding_problems(
    approval: Mapping[str, Any],
    *,
    roster: Mapping[MemberId, str],
    publicity_working_days: int,
    election: Election,
) -> list[Problem]:
    """(RP-6.5) How an election definition differs from the approval: every post's ``seats``,
    ``margin`` and ``candidates`` (same ids, same order), ``secretary.elected_by``,
    ``publicity_working_days``, and each candidate's name on the procedure's roster ``roster``.
    Empty when it meets RP-6.5."""
    problems: list[Problem] = []
    approved = {p["post"]: p for p in approval["posts"]}
    posts = {p.kind.value: p for p in election.posts}
    for code in sorted(set(approved) | set(posts), key=lambda c: PostKind(c).value):
        a, e = approved.get(code), posts.get(code)
        path = f"posts.{code}"
        if a is None or e is None:
            problems.append(
                _bp(
                    "binding.candidates_differ",
                    path,
                    "职位与批复不一致",
                    "the post differs from the approval",
                )
            )
            continue
        if list(e.candidates) != list(a["candidates"]):
            problems.append(
                _bp(
                    "binding.candidates_differ",
                    f"{path}.candidates",
                    f"候选人或其顺序与镇党委批复不一致（批复：{'、'.join(a['candidates'])}）",
                    f"the candidates or their order differ from the approval "
                    f"({', '.join(a['candidates'])})",
                )
            )
        for key, have in (("seats", e.seats), ("margin", e.margin.value)):
            if have != a[key]:
                problems.append(
                    _bp(
                        "binding.parameter_differs",
                        f"{path}.{key}",
                        f"{key} 与批复不一致（批复 {a[key]}，清单 {have}）",
                        f"{key} differs from the approval ({a[key]} approved, {have} given)",
                    )
                )
    if election.secretary_body.value != approval["secretary"]["elected_by"]:
        problems.append(
            _bp(
                "binding.parameter_differs",
                "secretary.elected_by",
                "书记的选举方式与批复不一致",
                "secretary.elected_by differs from the approval",
            )
        )
    if election.parameters.publicity_working_days != publicity_working_days:
        problems.append(
            _bp(
                "binding.parameter_differs",
                "parameters.publicity_working_days",
                f"公示工作日数与换届程序不一致（程序 {publicity_working_days}）",
                f"publicity_working_days differs from the procedure's ({publicity_working_days})",
            )
        )
    names = {m.id: m.name for m in election.members}
    for cid in dict.fromkeys(c for p in approval["posts"] for c in p["candidates"]):
        if names.get(cid) != roster.get(cid):
            problems.append(
                _bp(
                    "binding.name_differs",
                    f"members.{cid}.name",
                    f"候选人 {cid} 的姓名与推荐程序名册不一致（名册：{roster.get(cid)}）",
                    f"candidate {cid}'s name differs from the procedure roster ({roster.get(cid)})",
                )
            )
    return problems


def _bp(code: str, path: str, zh: str, en: str) -> Problem:
    return Problem(code, path, zh, en, "RP-6.5")


def _bound(town: TownState, body: Mapping[str, Any]) -> TownState:
    if town.approval is None:
        raise _order("正式候选人尚未批复，不能登记选举", "no approval: no election is bound yet")
    if town.bound is not None:
        raise _order("选举已经登记", "an election is bound already")
    _text(body, "election_id", "body", _HEX64)
    _text(body, "manifest_sha256", "body", _HEX64)
    return replace(town, bound=dict(body))


def _concluded(town: TownState, body: Mapping[str, Any]) -> TownState:
    if town.bound is None or town.approval is None:
        raise _order("尚未登记选举，不能记录选举结果", "no election is bound: nothing concluded")
    if town.concluded is not None:
        raise _order("选举结果已经记录", "the election is concluded already")
    if body["election_id"] != town.bound["election_id"]:
        raise _refuse(
            "binding.concluded_differs",
            "RP-7.2",
            "选举结果不是已登记的选举的",
            "the concluded election is not the one bound",
        )
    size = body["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _malformed("size", "a positive integer")
    _text(body, "root", "body", _HEX64)
    start, end = _date(body, "publicity_start", "body"), _date(body, "publicity_end", "body")
    if end < start:
        raise _malformed("publicity_end", "not before publicity_start")
    elected = body["elected"]
    approved = {p["post"]: p for p in town.approval["posts"]}
    if not isinstance(elected, dict) or not set(elected) <= set(approved):
        raise _malformed("elected", "an object from the approved posts to member ids")
    for post, ids in elected.items():
        got = _ids(ids, f"elected.{post}")
        if not set(got) <= set(approved[post]["candidates"]) or len(got) > approved[post]["seats"]:
            raise _refuse(
                "binding.concluded_differs",
                "RP-7.2",
                f"{post} 的当选人不是批复的候选人，或多于应选名额",
                f"the elected of {post} are not approved candidates, or more than the seats",
            )
    return replace(town, concluded=dict(body))


# -- RP-10 the appointment -------------------------------------------------------------------------
def _persons(
    concluded: Mapping[str, Any], objections: Sequence[Mapping[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """(RP-10.1) The decision and the persons that follow from the objections' effects."""
    void = [o["reference"] for o in objections if o["effect"] == "election_void"]
    persons: list[dict[str, Any]] = []
    elected: Mapping[str, list[str]] = concluded["elected"]
    for post in (p.value for p in _POST_ORDER):
        for member in elected.get(post, ()):
            refs = void or [
                o["reference"]
                for o in objections
                if o["effect"] == "not_appointed" and o["about"] == member
            ]
            persons.append(
                {
                    "post": post,
                    "member": member,
                    "status": "not_appointed" if refs else "appointed",
                    "objections": refs,
                }
            )
    return ("refused" if void else "approved"), persons


def require_concluded(ledger: LedgerView) -> Mapping[str, Any]:
    """(RP-10.1) The ``election.concluded`` body the appointment follows.

    Raises:
        ProcedureLogError: ``appointment.not_concluded`` before it is recorded.
    """
    concluded = ledger.town.concluded
    if concluded is None:
        raise _refuse(
            "appointment.not_concluded",
            "RP-10.1",
            "选举结果尚未记录（election.concluded），不能审批任命",
            "the election is not concluded yet: no appointment",
        )
    return concluded


def appointment_document(
    ledger: LedgerView,
    *,
    objections: Sequence[Mapping[str, Any]],
    casework_size: int,
    casework_root: str,
    date: dt.date,
    reference: str,
) -> dict[str, Any]:
    """(RP-10.1) The ``appointment/1`` object the town signs: the concluded election, every
    objection of the branch (as :func:`tally.core.casework.appointment_objections` gives them,
    each concluded), the persons and the decision that follow from their effects.

    Raises:
        ProcedureLogError: ``procedure.order`` (the election is not concluded, or appointed
            already), ``appointment.during_publicity`` (``date`` not after ``publicity_end``).
    """
    town = ledger.town
    concluded = require_concluded(ledger)
    if town.appointment is not None:
        raise _order("已经审批任命", "the appointment is recorded already")
    end = dt.date.fromisoformat(concluded["publicity_end"])
    if date <= end:
        raise _refuse(
            "appointment.during_publicity",
            "RP-10.2",
            f"公示期至 {end.isoformat()} 止，审批任命日期须在其后",
            f"publicity ends on {end.isoformat()}: the appointment is dated after it",
        )
    decision, persons = _persons(concluded, objections)
    return {
        "format": "appointment/1",
        "procedure_id": ledger.procedure_id.hex(),
        "election_id": concluded["election_id"],
        "election_root": concluded["root"],
        "publicity_end": concluded["publicity_end"],
        "date": date.isoformat(),
        "decision": decision,
        "persons": persons,
        "objections": [dict(o) for o in objections],
        "casework": {
            "casework_id": ledger.procedure.casework_id,
            "size": casework_size,
            "root": casework_root,
        },
        "reference": reference,
    }


def _objections(doc: Mapping[str, Any], date: dt.date) -> list[Mapping[str, Any]]:
    """The appointment's ``objections``: exactly RP-10.1's members, each concluded on or before
    the decision (``appointment.objection_open`` otherwise, naming it)."""
    items = doc["objections"]
    if not isinstance(items, list):
        raise _malformed("appointment.objections", "a list")
    out: list[Mapping[str, Any]] = []
    for i, o in enumerate(items):
        item = _exact(o, _OBJECTION_MEMBERS, f"appointment.objections[{i}]")
        concluded = item["concluded"]
        if (
            item["finding"] not in _FINDINGS
            or not isinstance(concluded, str)
            or _DATE.fullmatch(concluded) is None
            or concluded > date.isoformat()
        ):
            raise _refuse(
                "appointment.objection_open",
                "RP-10.2",
                f"仍有异议未办结，不能审批任命：{item['reference']}",
                f"an objection is still open: no appointment: {item['reference']}",
            )
        out.append(item)
    return out


def _appointment(ledger: LedgerView, town: TownState, body: Mapping[str, Any]) -> TownState:
    members = frozenset(
        {
            "format",
            "procedure_id",
            "election_id",
            "election_root",
            "publicity_end",
            "date",
            "decision",
            "persons",
            "objections",
            "casework",
            "reference",
        }
    )
    doc = _exact(body["appointment"], members, "appointment")
    if doc["format"] != "appointment/1":
        raise _malformed("appointment.format", '"appointment/1"')
    casework = _exact(doc["casework"], frozenset({"casework_id", "size", "root"}), "casework")
    _reference(doc, "appointment")
    concluded = town.concluded
    if concluded is None or (
        doc["procedure_id"],
        doc["election_id"],
        doc["election_root"],
        doc["publicity_end"],
    ) != (
        ledger.procedure_id.hex(),
        concluded["election_id"],
        concluded["root"],
        concluded["publicity_end"],
    ):
        raise _refuse(
            "appointment.other_election",
            "V30",
            "审批任命记录不是本次选举的",
            "the appointment is for another election",
        )
    if casework["casework_id"] != ledger.procedure.casework_id:
        raise _refuse(
            "casework.other_town",
            "RP-10.1",
            "审批任命所依据的事项登记簿不是本程序的",
            "the appointment's casework is not the procedure's",
        )
    size = casework["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _malformed("appointment.casework.size", "a positive integer")
    _text(casework, "root", "appointment.casework", _HEX64)
    date = _date(doc, "date", "appointment")
    objections = _objections(doc, date)
    expected = appointment_document(
        ledger,
        objections=objections,
        casework_size=size,
        casework_root=casework["root"],
        date=date,
        reference=doc["reference"],
    )
    if [(p.get("post"), p.get("member")) for p in doc["persons"] if isinstance(p, dict)] != [
        (p["post"], p["member"]) for p in expected["persons"]
    ]:
        raise _refuse(
            "appointment.persons",
            "V30",
            "审批任命人员与当选人员不一致",
            "the appointed persons differ from the elected",
        )
    if expected != dict(doc):
        raise _refuse(
            "appointment.status_unfounded",
            "RP-10.2",
            "任命结果与异议办理结论不相符",
            "the appointment does not follow from the conclusions",
        )
    return replace(town, appointment=doc)


def apply_town_act(ledger: LedgerView, entry: ProcedureEntry) -> TownState:
    """The town's state after a town act or binding entry (RP-3.9, RP-6.4, RP-7, RP-10), or
    its refusal.

    The town's signature on the act, and that ``vetted_size``/``vetted_root`` are the last
    ``vetted`` checkpoint, are checked by the shell before this is called.

    Raises:
        ProcedureLogError: ``procedure.order``, ``log.malformed`` and the codes of §14 for each
            act (``preliminary.higher_level``, ``approval.*``, ``binding.*``, ``appointment.*``).
        ApprovalBlockedError: ``approval.blocked``.
    """
    if ledger.session is not None:
        raise _order("会议进行中，不能记录镇党委的审批", "a session is open: no town act now")
    town = ledger.town
    body = entry.body
    if town.appointment is not None:
        raise _order("审批任命是最后一条记录", "the appointment is the last entry")
    if entry.type == "higher_level.recommended":
        if town.approval is not None:
            raise _order("正式候选人已批复", "the candidates are approved: no recommendation")
        town = _higher_level(ledger, town, body)
    elif entry.type == "candidates.approved":
        town = _approval(ledger, town, body)
    elif entry.type == "election.bound":
        town = _bound(town, body)
    elif entry.type == "election.concluded":
        town = _concluded(town, body)
    else:
        town = _appointment(ledger, town, body)
    return town
