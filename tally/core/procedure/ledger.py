"""The procedure log's state and order (spec/procedure.md RP-11.1, RP-3.2, RP-3.4, RP-4.5, RP-5,
RP-6.1): pure.

:class:`Ledger` is what the log says so far; :func:`apply_entry` is the one way to move it, and
refuses every entry out of the procedure's order with a specific code (nothing changes). The order:
one session open at a time; a session opens for its posts (``recommendation.opened``, or
``evaluation.opened`` with its one round), and per post ``ballots.issued`` → ``ballots.returned``
→ ``round.void`` (returned > issued) | entries… → the count; it closes when each of its posts is
counted or void. The computed bodies (``recommendation.counted``, ``preliminary.proposed``,
``evaluation.counted``, ``vetting.recorded``) must equal the recount by the counting core
(:mod:`.recommendation`, :mod:`.ranking`, :mod:`.evaluation`, :mod:`.vetting`) of what the log
holds; the ``*_body`` functions give the body a shell records.

Public names: :class:`RoundKey`, :class:`EnteredBallot`, :class:`PostRound`, :class:`Session`,
:class:`Ledger`, :func:`open_ledger`, :func:`apply_entry`, :func:`replay`,
:func:`checkpoint_reason`, :func:`count_body`, :func:`evaluation_opening`,
:func:`proposal_body`, :func:`vetting_body`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import (
    BallotNumber,
    BallotWithdrawn,
    ComputedBody,
    DeclaredInvalid,
    EntryBody,
    EvaluationEntered,
    EvaluationOpened,
    Form,
    OfficialsChanged,
    ProcedureEntry,
    ProcedureOpened,
    RecommendationEntered,
    RecommendationOpened,
    RoundVoid,
    StockCommitted,
    parse_entry,
)
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.evaluation import (
    EvaluationCount,
    check_evaluation_ballot,
    count_evaluation,
)
from tally.core.procedure.model import Procedure, RecommendationQuorum
from tally.core.procedure.ranking import Omission, OmissionReason, Proposal, propose
from tally.core.procedure.recommendation import (
    RecommendationCount,
    check_recommendation_ballot,
    count_recommendation_round,
)
from tally.core.procedure.town import (
    TownState,
    apply_town_act,
    higher_level_for,
    refuse_after_approval,
)
from tally.core.procedure.vetting import VettingRecord, latest_outcomes, supplement, vet

__all__ = [
    "EnteredBallot",
    "Ledger",
    "PostRound",
    "RoundKey",
    "Session",
    "apply_entry",
    "checkpoint_reason",
    "count_body",
    "evaluation_opening",
    "open_ledger",
    "proposal_body",
    "replay",
    "vetting_body",
]

_RECOMMENDATION_FORMS: Final = (Form.MEMBER, Form.PUBLIC)


@dataclass(frozen=True, slots=True)
class RoundKey:
    """A form's round of one post (``post`` None for the evaluation)."""

    form: Form
    post: PostKind | None
    round: int

    def text(self) -> str:
        """``<form> <post> <round>`` as in the checkpoint reasons (``-`` for no post)."""
        return f"{self.form.value} {self.post.value if self.post else '-'} {self.round}"


@dataclass(frozen=True, slots=True)
class EnteredBallot:
    """A ballot entered in a round and not withdrawn."""

    seq: int
    value: RecommendationEntered | EvaluationEntered | DeclaredInvalid


@dataclass(frozen=True, slots=True)
class PostRound:
    """(RP-3.4) One post's round in a session: ``issued``/``returned`` None until recorded;
    ``closed`` is ``""``, ``"counted"`` or ``"void"``."""

    key: RoundKey
    issued: int | None = None
    returned: int | None = None
    ballots: tuple[EnteredBallot, ...] = ()
    closed: str = ""


@dataclass(frozen=True, slots=True)
class Session:
    """The open session: its form, round, posts (``(None,)`` for the evaluation), who is
    present, and for the evaluation the version and the persons evaluated."""

    form: Form
    round: int
    posts: tuple[PostKind | None, ...]
    present: int
    present_members: tuple[MemberId, ...]
    version: int = 0
    candidates: tuple[MemberId, ...] = ()

    def round_keys(self) -> tuple[RoundKey, ...]:
        return tuple(RoundKey(self.form, p, self.round) for p in self.posts)


@dataclass(frozen=True, slots=True)
class Ledger:
    """What the procedure log says after ``size`` entries."""

    procedure: Procedure
    procedure_id: bytes
    size: int = 0
    last_leaf: bytes = b""
    last_at: dt.datetime | None = None
    last: EntryBody | None = None
    session: Session | None = None
    last_round: Mapping[Form, int] = field(default_factory=dict)
    rounds: Mapping[RoundKey, PostRound] = field(default_factory=dict)
    stocks: Mapping[RoundKey, frozenset[str]] = field(default_factory=dict)
    stock_parts: frozenset[tuple[RoundKey, int]] = frozenset()
    used_ids: frozenset[str] = frozenset()
    counts: tuple[RecommendationCount, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    evaluations: tuple[EvaluationCount, ...] = ()
    evaluated_versions: frozenset[int] = frozenset()
    vettings: tuple[VettingRecord, ...] = ()
    officials: OfficialsChanged | None = None
    town: TownState = field(default_factory=TownState)

    @property
    def prev(self) -> str:
        """The ``prev`` of the next entry: the procedure id for entry 0, else the last leaf."""
        return self.procedure_id.hex() if self.size == 0 else self.last_leaf.hex()

    def counted(self, form: Form, post: PostKind) -> bool:
        """Whether ``form`` has a counted round for ``post``."""
        return any(
            r.closed == "counted" and k.form is form and k.post is post
            for k, r in self.rounds.items()
        )

    def pending_posts(self, form: Form) -> tuple[PostKind, ...]:
        """(RP-3.4) The posts ``form`` has not counted yet, in the definition's order: the posts
        of its next session."""
        return tuple(p.kind for p in self.procedure.posts if not self.counted(form, p.kind))

    def next_round(self, form: Form) -> int:
        """The round number of ``form``'s next session."""
        return self.last_round.get(form, 0) + 1


def open_ledger(procedure: Procedure, procedure_id: bytes) -> Ledger:
    """The ledger of an empty log."""
    return Ledger(procedure=procedure, procedure_id=procedure_id)


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


def _order(zh: str, en: str) -> ProcedureLogError:
    return _refuse("procedure.order", "RP-11.1", f"记录顺序不符合推荐程序：{zh}", en)


# -- sessions --------------------------------------------------------------------------------------
def _no_session(ledger: Ledger, what_zh: str, what_en: str) -> None:
    if ledger.session is not None:
        raise _order(
            f"第 {ledger.session.round} 轮{ledger.session.form.value}会议尚未结束，不能{what_zh}",
            f"the {ledger.session.form.value} session of round {ledger.session.round} is still "
            f"open: no {what_en}",
        )


def _check_present_members(ledger: Ledger, members: Sequence[MemberId], present: int) -> None:
    """(RP-3.2, RP-5.2) The members checked in are expected electors, each once."""
    expected = set(ledger.procedure.expected_electors)
    if len(set(members)) != len(members) or not set(members) <= expected or present < 0:
        raise _refuse(
            "session.present_members",
            "RP-3.2",
            "到会党员须为应到会的有选举权的党员，每人一次",
            "the members present must be expected electors, each once",
        )


def _quorum(ledger: Ledger, v: RecommendationOpened) -> bool:
    """(RP-3.2) Whether the session's quorum holds; the public's limits refuse outright."""
    p = ledger.procedure
    if v.group.value == Form.PUBLIC.value:
        if v.present_members:
            raise _refuse(
                "session.present_members",
                "RP-3.2",
                "群众推荐只计到会人数，不记姓名",
                "a public session counts those present, never names them",
            )
        r = p.recommendation.public_representatives
        if v.present > r:
            raise _refuse(
                "recommendation.public_too_many",
                "RP-3.2",
                f"到会群众代表 {v.present} 名，多于确定人数 {r} 名",
                f"{v.present} public representatives present, more than the {r} fixed",
            )
        return 2 * v.present > r
    _check_present_members(ledger, v.present_members, v.present)
    if v.present != len(v.present_members):
        raise _refuse(
            "session.present_members",
            "RP-3.2",
            "到会人数与到会党员名单不符",
            "the number present differs from the members listed",
        )
    e = len(ledger.procedure.expected_electors)
    if p.recommendation.quorum is RecommendationQuorum.FOUR_FIFTHS:
        return 5 * v.present > 4 * e
    return 2 * v.present > e


def _session_round(ledger: Ledger, form: Form, round_no: int) -> None:
    if round_no != ledger.next_round(form):
        raise _order(
            f"本次应为第 {ledger.next_round(form)} 轮",
            f"the round must be {ledger.next_round(form)}",
        )


def _rec_opened(ledger: Ledger, v: RecommendationOpened) -> Ledger:
    form = Form(v.group.value)
    _no_session(ledger, "开始新的推荐", "new session")
    if ledger.proposals:
        raise _refuse(
            "preliminary.after_proposal",
            "RP-4.5",
            "初步人选已提出，不能再进行推荐",
            "the preliminary list is proposed: no further recommendation",
        )
    _session_round(ledger, form, v.round)
    pending = ledger.pending_posts(form)
    if not pending or v.posts != pending:
        raise _order(
            "推荐会议须包括本组尚未计票的全部职位",
            "a session is for every post the group has not counted yet",
        )
    if not _quorum(ledger, v):
        if form is Form.PUBLIC:
            raise _refuse(
                "recommendation.public_quorum",
                "RP-3.2",
                "到会群众代表未超过半数",
                "no more than half of the public representatives are present",
            )
        raise _refuse(
            "recommendation.quorum_failed",
            "RP-3.2",
            f"到会党员 {v.present} 名，未达到推荐所需人数",
            f"{v.present} members present: too few for a recommendation",
        )
    session = Session(form, v.round, v.posts, v.present, v.present_members)
    rounds = dict(ledger.rounds)
    for key in session.round_keys():
        rounds[key] = PostRound(key)
    last_round = {**ledger.last_round, form: v.round}
    return replace(ledger, session=session, rounds=rounds, last_round=last_round)


def _quorum_failed(ledger: Ledger, v: RecommendationOpened) -> Ledger:
    """(RP-3.2) The failed quorum recorded: it consumes no round number, changes nothing."""
    form = Form(v.group.value)
    _no_session(ledger, "记录未达人数", "quorum record")
    _session_round(ledger, form, v.round)
    if _quorum(ledger, v):
        raise _refuse(
            "recommendation.quorum_holds",
            "RP-3.2",
            "到会人数已达到推荐所需人数，不能记为未达人数",
            "the quorum holds: not a failed quorum",
        )
    return ledger


def _eval_opened(ledger: Ledger, v: EvaluationOpened) -> Ledger:
    _no_session(ledger, "开始测评", "evaluation session")
    opening = evaluation_opening(ledger)
    if opening is None:
        raise _order("没有待测评的初步人选", "no proposed names wait for an evaluation")
    round_no, version, candidates = opening
    if (v.round, v.version) != (round_no, version):
        raise _order(
            f"应为第 {round_no} 轮测评（第 {version} 版初步人选）",
            f"the evaluation is round {round_no} of version {version}",
        )
    if v.candidates != candidates:
        raise _refuse(
            "evaluation.not_listed",
            "RP-5.1",
            "测评名单须为该版本首次提出的初步人选，按推荐票顺序",
            "the persons evaluated are the names first proposed in the version, in ballot order",
        )
    _check_present_members(ledger, v.present_members, v.present)
    q = ledger.procedure.evaluation.public_representatives
    if v.public_present > q or 2 * v.public_present <= q:
        raise _refuse(
            "evaluation.public_quorum",
            "RP-5.2",
            f"到会群众代表 {v.public_present} 名，须超过 {q} 名的半数且不多于 {q} 名",
            f"{v.public_present} public representatives present: more than half of {q} and at "
            f"most {q} are needed",
        )
    if v.present != len(v.present_members) + v.public_present:
        raise _refuse(
            "session.present_members",
            "RP-5.2",
            "到会人数须为到会党员人数加到会群众代表人数",
            "present is the members present plus the public representatives present",
        )
    session = Session(
        Form.EVALUATION, v.round, (None,), v.present, v.present_members, version, candidates
    )
    key = RoundKey(Form.EVALUATION, None, v.round)
    return replace(
        ledger,
        session=session,
        rounds={**ledger.rounds, key: PostRound(key)},
        last_round={**ledger.last_round, Form.EVALUATION: v.round},
    )


def _open_round(ledger: Ledger, key: RoundKey) -> tuple[Session, PostRound]:
    """The open session's round ``key`` (``procedure.order`` when it is not open)."""
    s = ledger.session
    if s is None or key.form is not s.form or key.round != s.round or key.post not in s.posts:
        raise _order(
            f"{key.text()} 不属于正在进行的会议", f"{key.text()} is not a round of the open session"
        )
    pr = ledger.rounds[key]
    if pr.closed:
        raise _order(f"{key.text()} 已结束", f"{key.text()} is closed")
    return s, pr


def _close(ledger: Ledger, pr: PostRound) -> Ledger:
    rounds = {**ledger.rounds, pr.key: pr}
    s = ledger.session
    done = s is not None and all(rounds[k].closed for k in s.round_keys())
    return replace(ledger, rounds=rounds, session=None if done else s)


# -- issue, return, void, entries ------------------------------------------------------------------
def _number(ledger: Ledger, v: BallotNumber, *, issued: bool) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    s, pr = _open_round(ledger, key)
    if issued:
        if pr.issued is not None:
            raise _order("发出票数已记录", "the ballots issued are already recorded")
        if v.count != s.present:
            raise _refuse(
                "ballots.issued_count",
                "RP-3.4",
                f"发出票数须等于到会人数 {s.present}",
                f"the ballots issued must equal the {s.present} present",
            )
        pr = replace(pr, issued=v.count)
    else:
        if pr.issued is None or pr.returned is not None:
            raise _order("收回票数须在发出之后记录一次", "ballots are returned once, after issue")
        pr = replace(pr, returned=v.count)
    return replace(ledger, rounds={**ledger.rounds, key: pr})


def _void(ledger: Ledger, v: RoundVoid) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    _, pr = _open_round(ledger, key)
    if pr.issued is None or pr.returned is None or pr.returned <= pr.issued:
        raise _order(
            "只有收回票数多于发出票数时本轮无效", "a round is void only when more come back"
        )
    if (v.issued, v.returned) != (pr.issued, pr.returned):
        raise _order("无效记录的票数与发出、收回票数不符", "the void's numbers differ")
    return _close(ledger, replace(pr, closed="void"))


def _entering(ledger: Ledger, key: RoundKey, ballot_id: str) -> tuple[Session, PostRound]:
    """(RP-3.4, RP-3.6) A ballot may be entered: returned ≤ issued, fewer entered than returned,
    its id in the round's committed stock and not entered before in the procedure."""
    s, pr = _open_round(ledger, key)
    if pr.returned is None or pr.issued is None:
        raise _order("须先记录发出和收回票数", "record the ballots issued and returned first")
    if pr.returned > pr.issued:
        raise _order(
            "收回票数多于发出票数，本轮无效，不能录入",
            "more came back than issued: the round is void",
        )
    if len(pr.ballots) >= pr.returned:
        raise _refuse(
            "ballot.over_returned",
            "RP-3.4",
            f"已录入 {len(pr.ballots)} 张，等于收回票数",
            f"{len(pr.ballots)} ballots entered: as many as returned",
        )
    if ballot_id not in ledger.stocks.get(key, frozenset()):
        raise _refuse(
            "ballot.not_in_stock",
            "RP-3.6",
            "这张票不在本轮登记的票号清单中",
            "the ballot is not in the round's committed stock",
        )
    if ballot_id in ledger.used_ids:
        raise _refuse(
            "ballot.replayed",
            "RP-3.6",
            "这张票已经录入过，不能重复录入",
            "this ballot was entered already: no ballot is entered twice",
        )
    return s, pr


def _entered(ledger: Ledger, seq: int, v: RecommendationEntered | EvaluationEntered) -> Ledger:
    if isinstance(v, RecommendationEntered):
        key = RoundKey(Form(v.group.value), v.post, v.round)
        _entering(ledger, key, v.ballot_id)
        check_recommendation_ballot(ledger.procedure, v.ballot)
    else:
        key = RoundKey(Form.EVALUATION, None, v.round)
        s, _ = _entering(ledger, key, v.ballot_id)
        check_evaluation_ballot(ledger.procedure, s.candidates, v.ballot)
    return _add_ballot(ledger, key, EnteredBallot(seq, v))


def _declared(ledger: Ledger, seq: int, v: DeclaredInvalid) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    _entering(ledger, key, v.ballot_id)
    return _add_ballot(ledger, key, EnteredBallot(seq, v))


def _add_ballot(ledger: Ledger, key: RoundKey, ballot: EnteredBallot) -> Ledger:
    pr = ledger.rounds[key]
    pr = replace(pr, ballots=(*pr.ballots, ballot))
    return replace(
        ledger,
        rounds={**ledger.rounds, key: pr},
        used_ids=ledger.used_ids | {ballot.value.ballot_id},
    )


def _withdrawn(ledger: Ledger, v: BallotWithdrawn) -> Ledger:
    """The teller's last entry undone: the log's last entry must be that ballot's."""
    key = RoundKey(v.form, v.post, v.round)
    last = ledger.last
    pr = ledger.rounds.get(key)
    if (
        not isinstance(last, RecommendationEntered | EvaluationEntered | DeclaredInvalid)
        or last.ballot_id != v.ballot_id
        or pr is None
        or not pr.ballots
        or pr.ballots[-1].value is not last
    ):
        raise _order("只能撤回刚录入的最后一张票", "only the last entry can be withdrawn")
    pr = replace(pr, ballots=pr.ballots[:-1])
    return replace(
        ledger, rounds={**ledger.rounds, key: pr}, used_ids=ledger.used_ids - {v.ballot_id}
    )


def _stock(ledger: Ledger, v: StockCommitted, ids: frozenset[str] | None) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    if v.post is not None and ledger.procedure.post(v.post) is None:
        raise _refuse(
            "recommendation.post",
            "RP-3.2",
            f"本换届程序没有“{v.post.value}”这一职位",
            f"the procedure has no post {v.post.value}",
        )
    if (key, v.part) in ledger.stock_parts or (v.part > 1 and (key, 1) not in ledger.stock_parts):
        raise _refuse(
            "stock.twice",
            "RP-3.6",
            "这批票已登记，或补印前须先登记首批",
            "this stock part is committed already, or its first print is not",
        )
    others = frozenset().union(*ledger.stocks.values()) if ledger.stocks else frozenset()
    if ids is None or len(ids) != v.count or ids & others:
        raise _refuse(
            "stock.ids",
            "RP-3.6",
            "票号清单与登记的张数不符，或与已登记的票号重复",
            "the stock list does not match the count, or repeats committed ids",
        )
    return replace(
        ledger,
        stocks={**ledger.stocks, key: ledger.stocks.get(key, frozenset()) | ids},
        stock_parts=ledger.stock_parts | {(key, v.part)},
    )


# -- computed bodies -------------------------------------------------------------------------------
def _counted_round(ledger: Ledger, key: RoundKey) -> PostRound:
    _, pr = _open_round(ledger, key)
    if pr.returned is None or pr.issued is None or pr.returned > pr.issued:
        raise _order("本轮不能计票", "the round cannot be counted")
    if len(pr.ballots) != pr.returned:
        raise _order(
            f"收回 {pr.returned} 张，已录入 {len(pr.ballots)} 张：须全部录入后计票",
            f"{pr.returned} returned, {len(pr.ballots)} entered: enter every ballot first",
        )
    return pr


def _round_count(
    ledger: Ledger, form: Form, post: PostKind | None
) -> RecommendationCount | EvaluationCount:
    s = ledger.session
    key = RoundKey(form, post, s.round if s is not None else 0)
    pr = _counted_round(ledger, key)
    invalid = sum(isinstance(b.value, DeclaredInvalid) for b in pr.ballots)
    if form is Form.EVALUATION:
        assert s is not None  # _counted_round found the open round
        ev = [b.value.ballot for b in pr.ballots if isinstance(b.value, EvaluationEntered)]
        return count_evaluation(
            ledger.procedure, key.round, s.candidates, ev, declared_invalid=invalid
        )
    assert post is not None
    rec = [b.value.ballot for b in pr.ballots if isinstance(b.value, RecommendationEntered)]
    return count_recommendation_round(
        ledger.procedure, form.group, post, key.round, rec, declared_invalid=invalid
    )


def count_body(ledger: Ledger, form: Form, post: PostKind | None) -> dict[str, Any]:
    """(RP-3.10, RP-5.6) The count of the open session's round of ``post`` (None for the
    evaluation): the ``recommendation.counted`` or ``evaluation.counted`` body.

    Raises:
        ProcedureLogError: ``procedure.order`` (no such open round, or ballots not all entered).
        ProcedureCountError: the counting core's refusal (``evaluation.no_valid_ballots``, ...).
    """
    return _round_count(ledger, form, post).to_json()


def _apply_count(ledger: Ledger, v: ComputedBody) -> Ledger:
    assert v.form is not None
    s = ledger.session
    if s is None or v.round != s.round:
        raise _order(f"第 {v.round} 轮不在进行中", f"round {v.round} is not open")
    count = _round_count(ledger, v.form, v.post)
    if count.to_json() != dict(v.json):
        evaluation = v.form is Form.EVALUATION
        raise _refuse(
            "count.evaluation_differs" if evaluation else "count.recommendation_differs",
            "V27" if evaluation else "V25",
            "计票结果与录入的票复核不一致",
            "the count differs from the recount of the entered ballots",
        )
    if isinstance(count, EvaluationCount):
        ledger = replace(
            ledger,
            evaluations=(*ledger.evaluations, count),
            evaluated_versions=ledger.evaluated_versions | {s.version},
        )
    else:
        ledger = replace(ledger, counts=(*ledger.counts, count))
    key = RoundKey(v.form, v.post, v.round)
    return _close(ledger, replace(ledger.rounds[key], closed="counted"))


def evaluation_opening(ledger: Ledger) -> tuple[int, int, tuple[MemberId, ...]] | None:
    """(RP-5.1) The next evaluation: (round, version, persons in ``ballot_order``), or None when
    every proposed version is evaluated."""
    for proposal in sorted(ledger.proposals, key=lambda p: p.version):
        if proposal.version in ledger.evaluated_versions:
            continue
        earlier = {
            n.member
            for p in ledger.proposals
            if p.version < proposal.version
            for post in p.posts
            for n in post.names
        }
        names = {n.member for post in proposal.posts for n in post.names} - earlier
        persons = tuple(m for m in ledger.procedure.ballot_order if m in names)
        return ledger.next_round(Form.EVALUATION), proposal.version, persons
    return None


def _findings(posts: object, key: str) -> tuple[Omission, ...]:
    """The ``declined`` and ``ten_disqualifications`` items of each post's ``key`` list
    (``omitted``, ``stopped``) in a body, once per member, as omissions (whatever their shape:
    the recount decides whether the body stands)."""
    items = [
        o
        for post in (posts if isinstance(posts, list) else ())
        if isinstance(post, dict) and isinstance(post.get(key), list)
        for o in post[key]
        if isinstance(o, dict)
    ]
    seen: dict[MemberId, Omission] = {}
    for o in items:
        if o.get("reason") in (OmissionReason.DECLINED, OmissionReason.TEN_DISQUALIFICATIONS):
            member = MemberId(str(o.get("member")))
            seen.setdefault(
                member,
                Omission(
                    member,
                    OmissionReason(str(o["reason"])),
                    str(o.get("category")),
                    str(o.get("reference")),
                ),
            )
    return tuple(seen.values())


def proposal_body(
    ledger: Ledger, *, election_date: dt.date, omissions: Sequence[Omission] = ()
) -> Proposal:
    """(RP-4.5, RP-6.3) The next ``preliminary.proposed``: version 1 from the counts, or after a
    vetting record the supplement of the next version.

    Raises:
        ProcedureLogError: ``procedure.order`` (a session open; a supplement before a vetting of
            the latest version).
        ProcedureCountError: the ranking core's refusals (``preliminary.group_missing``, ...).
    """
    _no_session(ledger, "提出初步人选", "proposal")
    if not ledger.proposals:
        return propose(
            ledger.procedure,
            election_date=election_date,
            counts=ledger.counts,
            omissions=omissions,
            higher_level=higher_level_for(ledger),
        )
    latest = max(p.version for p in ledger.proposals)
    if latest not in ledger.evaluated_versions or not ledger.vettings:
        raise _order(
            "补充推荐须在最新一版初步人选测评并考察审查之后",
            "a supplement follows the evaluation and vetting of the latest version",
        )
    proposal = supplement(
        ledger.procedure,
        version=latest + 1,
        election_date=election_date,
        proposals=ledger.proposals,
        record=ledger.vettings[-1],
        counts=ledger.counts,
        omissions=omissions,
        higher_level=higher_level_for(ledger),
    )
    if not any(post.names for post in proposal.posts):
        raise _refuse(
            "preliminary.exhausted",
            "RP-6.3",
            "推荐结果中已没有可补充的人选，须由镇党委重新确定换届程序",
            "the ranking has no further name to add: a new procedure definition is needed",
        )
    return proposal


def _apply_proposal(ledger: Ledger, v: ComputedBody) -> Ledger:
    body = v.json
    expected = max((p.version for p in ledger.proposals), default=0) + 1
    if v.version != expected:
        raise _refuse(
            "preliminary.version",
            "RP-4.5",
            f"初步人选的版本号应为 {expected}",
            f"the proposal's version must be {expected}",
        )
    proposal = proposal_body(
        ledger,
        election_date=dt.date.fromisoformat(body["election_date"]),
        omissions=_findings(body["posts"], "omitted"),
    )
    if proposal.to_json() != dict(body):
        raise _refuse(
            "preliminary.differs",
            "V26",
            "初步人选与推荐结果按规则计算的不一致",
            "the preliminary list differs from the rule applied to the counts",
        )
    return replace(ledger, proposals=(*ledger.proposals, proposal))


def vetting_body(ledger: Ledger, findings: Sequence[Omission] = ()) -> VettingRecord:
    """(RP-6.1) The ``vetting.recorded`` body of the versions proposed so far.

    Raises:
        ProcedureLogError: ``procedure.order`` (a session open, or nothing proposed).
        ProcedureCountError: ``vetting.not_evaluated``, ``vetting.finding``, ...
    """
    _no_session(ledger, "记录考察审查", "vetting record")
    if not ledger.proposals:
        raise _order("尚未提出初步人选", "nothing has been proposed")
    return vet(ledger.procedure, ledger.proposals, latest_outcomes(ledger.evaluations), findings)


def _apply_vetting(ledger: Ledger, v: ComputedBody) -> Ledger:
    record = vetting_body(ledger, _findings(v.json["posts"], "stopped"))
    if record.to_json() != dict(v.json):
        raise _refuse(
            "vetting.differs",
            "V28",
            "考察审查记录与测评结果或规则不一致",
            "the vetting record differs from the evaluation or the rule",
        )
    return replace(ledger, vettings=(*ledger.vettings, record))


def _officials(ledger: Ledger, v: OfficialsChanged) -> Ledger:
    _no_session(ledger, "更换工作人员", "change of officials")
    roster = {m.id for m in ledger.procedure.members}
    for names in (v.scrutineers, v.tellers):
        if not names or len(set(names)) != len(names) or not set(names) <= roster:
            raise _refuse(
                "officials.bad_list",
                "R25.1",
                "监票人、计票人须为名册中的党员，每人一次",
                "scrutineers and tellers are roster members, each once",
            )
    return replace(ledger, officials=v)


# -- the one entry point ---------------------------------------------------------------------------
def _dispatch(ledger: Ledger, entry: ProcedureEntry, stock_ids: frozenset[str] | None) -> Ledger:
    refuse_after_approval(ledger, entry)
    v = entry.value
    t = entry.type
    if isinstance(v, RecommendationOpened):
        return _rec_opened(ledger, v) if t == "recommendation.opened" else _quorum_failed(ledger, v)
    if isinstance(v, EvaluationOpened):
        return _eval_opened(ledger, v)
    if isinstance(v, BallotNumber):
        return _number(ledger, v, issued=t == "ballots.issued")
    if isinstance(v, RoundVoid):
        return _void(ledger, v)
    if isinstance(v, RecommendationEntered | EvaluationEntered):
        return _entered(ledger, entry.seq, v)
    if isinstance(v, DeclaredInvalid):
        return _declared(ledger, entry.seq, v)
    if isinstance(v, BallotWithdrawn):
        return _withdrawn(ledger, v)
    if isinstance(v, StockCommitted):
        return _stock(ledger, v, stock_ids)
    if isinstance(v, OfficialsChanged):
        return _officials(ledger, v)
    if isinstance(v, ComputedBody):
        if t == "preliminary.proposed":
            return _apply_proposal(ledger, v)
        if t == "vetting.recorded":
            return _apply_vetting(ledger, v)
        return _apply_count(ledger, v)
    if isinstance(v, ProcedureOpened):
        raise _order("程序已开始", "the procedure log is open already")
    return replace(ledger, town=apply_town_act(ledger, entry))


def apply_entry(
    ledger: Ledger, entry: ProcedureEntry, *, stock_ids: frozenset[str] | None = None
) -> Ledger:
    """The ledger after ``entry``, or a refusal that changes nothing.

    ``stock_ids`` are the ballot ids of the sealed list a ``stock.committed`` or
    ``stock.supplemented`` entry commits to (the shell reads the list and checks its
    commitment).

    Raises:
        ProcedureLogError: ``log.chain`` (wrong ``seq`` or ``prev``), ``log.time_backwards``,
            ``procedure.order`` and the specific codes of each rule (§14).
        ProcedureCountError: the counting core's refusal of an entry or a count.
    """
    if entry.seq != ledger.size or entry.prev != ledger.prev:
        raise _refuse(
            "log.chain", "RP-11.1", "记录不接续上一条", f"entry {entry.seq} is out of its chain"
        )
    at = dt.datetime.fromisoformat(entry.at)
    if ledger.last_at is not None and at < ledger.last_at:
        raise _refuse(
            "log.time_backwards",
            "RP-11.1",
            "记录时间早于上一条记录",
            "the time is before the previous entry's",
        )
    if ledger.size == 0:
        v = entry.value
        if not isinstance(v, ProcedureOpened) or v.procedure_id != ledger.procedure_id.hex():
            raise _order("第一条记录须为本程序的开始", "entry 0 opens this procedure")
        after = ledger
    else:
        after = _dispatch(ledger, entry, stock_ids)
    return replace(
        after, size=ledger.size + 1, last_leaf=entry.leaf_hash, last_at=at, last=entry.value
    )


def replay(
    procedure: Procedure,
    procedure_id: bytes,
    raws: Iterable[bytes],
    *,
    stock_ids: Callable[[ProcedureEntry], frozenset[str] | None] = lambda _e: None,
) -> Ledger:
    """The ledger after the stored entries, each parsed and applied in turn.

    Raises:
        ProcedureLogError: an entry is malformed or out of order (its refusal).
        ProcedureCountError: an entry the counting core refuses.
    """
    ledger = open_ledger(procedure, procedure_id)
    for raw in raws:
        entry = parse_entry(raw)
        ledger = apply_entry(ledger, entry, stock_ids=stock_ids(entry))
    return ledger


def checkpoint_reason(entry: ProcedureEntry) -> str | None:
    """(RP-11.2) The checkpoint that follows ``entry``, or None.

    ``round-closed …`` reasons need every procedure scrutineer's co-signature.
    """
    v = entry.value
    t = entry.type
    if t == "procedure.opened":
        return "opened"
    if isinstance(v, StockCommitted):
        key = RoundKey(v.form, v.post, v.round)
        return f"stock {key.text()}" if v.part == 1 else f"stock-supplement {key.text()} {v.part}"
    if isinstance(v, RoundVoid):
        return f"round-closed {RoundKey(v.form, v.post, v.round).text()}"
    if isinstance(v, ComputedBody):
        if t in ("recommendation.counted", "evaluation.counted"):
            assert v.form is not None
            return f"round-closed {RoundKey(v.form, v.post, v.round).text()}"
        if t == "preliminary.proposed":
            return f"preliminary {v.version}"
        return "vetted"
    return {
        "candidates.approved": "approved",
        "election.bound": "bound",
        "election.concluded": "concluded",
        "appointment.recorded": "appointed",
    }.get(t)
