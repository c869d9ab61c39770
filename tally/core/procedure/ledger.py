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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from tally.core.model import MemberId
from tally.core.procedure._state import (
    EnteredBallot,
    Ledger,
    PostRound,
    RoundKey,
    Session,
    close_round,
    no_session,
    open_ledger,
    open_round,
    out_of_order,
    refuse,
)
from tally.core.procedure.computed import (
    apply_count,
    apply_proposal,
    apply_vetting,
    count_body,
    evaluation_opening,
    proposal_body,
    recommendation_opening,
    vetting_body,
)
from tally.core.procedure.entries import (
    BallotNumber,
    BallotWithdrawn,
    ComputedBody,
    DeclaredInvalid,
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
from tally.core.procedure.evaluation import check_evaluation_ballot
from tally.core.procedure.model import Procedure, RecommendationQuorum
from tally.core.procedure.recommendation import check_recommendation_ballot
from tally.core.procedure.town import apply_town_act, refuse_after_approval

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
    "recommendation_opening",
    "replay",
    "vetting_body",
]


def _check_present_members(ledger: Ledger, members: Sequence[MemberId], present: int) -> None:
    """(RP-3.2, RP-5.2) The members checked in are expected electors, each once."""
    expected = set(ledger.procedure.expected_electors)
    if len(set(members)) != len(members) or not set(members) <= expected or present < 0:
        raise refuse(
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
            raise refuse(
                "session.present_members",
                "RP-3.2",
                "群众推荐只计到会人数，不记姓名",
                "a public session counts those present, never names them",
            )
        r = p.recommendation.public_representatives
        if v.present > r:
            raise refuse(
                "recommendation.public_too_many",
                "RP-3.2",
                f"到会群众代表 {v.present} 名，多于确定人数 {r} 名",
                f"{v.present} public representatives present, more than the {r} fixed",
            )
        return 2 * v.present > r
    _check_present_members(ledger, v.present_members, v.present)
    if v.present != len(v.present_members):
        raise refuse(
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
        raise out_of_order(
            f"本次应为第 {ledger.next_round(form)} 轮",
            f"the round must be {ledger.next_round(form)}",
        )


def _before_proposal(ledger: Ledger) -> None:
    """(RP-4.5, RP-11.1) No recommendation entry after the proposal: neither a session nor a
    failed quorum."""
    if ledger.proposals:
        raise refuse(
            "preliminary.after_proposal",
            "RP-4.5",
            "初步人选已提出，不能再进行推荐",
            "the preliminary list is proposed: no further recommendation",
        )


def _rec_opened(ledger: Ledger, v: RecommendationOpened) -> Ledger:
    form = Form(v.group.value)
    no_session(ledger, "开始新的推荐", "new session")
    _before_proposal(ledger)
    _session_round(ledger, form, v.round)
    pending = ledger.pending_posts(form)
    if not pending or v.posts != pending:
        raise out_of_order(
            "推荐会议须包括本组尚未计票的全部职位",
            "a session is for every post the group has not counted yet",
        )
    if not _quorum(ledger, v):
        if form is Form.PUBLIC:
            raise refuse(
                "recommendation.public_quorum",
                "RP-3.2",
                "到会群众代表未超过半数",
                "no more than half of the public representatives are present",
            )
        raise refuse(
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
    no_session(ledger, "记录未达人数", "quorum record")
    _before_proposal(ledger)
    _session_round(ledger, form, v.round)
    if _quorum(ledger, v):
        raise refuse(
            "recommendation.quorum_holds",
            "RP-3.2",
            "到会人数已达到推荐所需人数，不能记为未达人数",
            "the quorum holds: not a failed quorum",
        )
    return ledger


def _eval_opened(ledger: Ledger, v: EvaluationOpened) -> Ledger:
    no_session(ledger, "开始测评", "evaluation session")
    opening = evaluation_opening(ledger)
    if opening is None:
        raise out_of_order("没有待测评的初步人选", "no proposed names wait for an evaluation")
    round_no, version, candidates = opening
    if (v.round, v.version) != (round_no, version):
        raise out_of_order(
            f"应为第 {round_no} 轮测评（第 {version} 版初步人选）",
            f"the evaluation is round {round_no} of version {version}",
        )
    if v.candidates != candidates:
        raise refuse(
            "evaluation.not_listed",
            "RP-5.1",
            "测评名单须为该版本首次提出的初步人选，按推荐票顺序",
            "the persons evaluated are the names first proposed in the version, in ballot order",
        )
    _check_present_members(ledger, v.present_members, v.present)
    q = ledger.procedure.evaluation.public_representatives
    if v.public_present > q or 2 * v.public_present <= q:
        raise refuse(
            "evaluation.public_quorum",
            "RP-5.2",
            f"到会群众代表 {v.public_present} 名，须超过 {q} 名的半数且不多于 {q} 名",
            f"{v.public_present} public representatives present: more than half of {q} and at "
            f"most {q} are needed",
        )
    if v.present != len(v.present_members) + v.public_present:
        raise refuse(
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


# -- issue, return, void, entries ------------------------------------------------------------------
def _number(ledger: Ledger, v: BallotNumber, *, issued: bool) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    s, pr = open_round(ledger, key)
    if issued:
        if pr.issued is not None:
            raise out_of_order("发出票数已记录", "the ballots issued are already recorded")
        if v.count != s.present:
            raise refuse(
                "ballots.issued_count",
                "RP-3.4",
                f"发出票数须等于到会人数 {s.present}",
                f"the ballots issued must equal the {s.present} present",
            )
        pr = replace(pr, issued=v.count)
    else:
        if pr.issued is None or pr.returned is not None:
            raise out_of_order(
                "收回票数须在发出之后记录一次", "ballots are returned once, after issue"
            )
        pr = replace(pr, returned=v.count)
    return replace(ledger, rounds={**ledger.rounds, key: pr})


def _void(ledger: Ledger, v: RoundVoid) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    _, pr = open_round(ledger, key)
    if pr.issued is None or pr.returned is None:
        raise out_of_order("须先记录发出和收回票数", "record the ballots issued and returned first")
    # (RP-5.5) An evaluation round whose every returned ballot is entered and none is valid
    # cannot be used: it is closed as void and held again, as a round with more back than out.
    unusable = (
        v.form is Form.EVALUATION
        and len(pr.ballots) == pr.returned
        and not any(isinstance(b.value, EvaluationEntered) for b in pr.ballots)
    )
    if pr.returned <= pr.issued and not unusable:
        raise out_of_order(
            "只有收回票数多于发出票数（或测评没有有效票）时本轮无效",
            "a round is void only when more come back (or an evaluation has no valid ballot)",
        )
    if (v.issued, v.returned) != (pr.issued, pr.returned):
        raise out_of_order("无效记录的票数与发出、收回票数不符", "the void's numbers differ")
    return close_round(ledger, replace(pr, closed="void"))


def _entering(ledger: Ledger, key: RoundKey, ballot_id: str) -> tuple[Session, PostRound]:
    """(RP-3.4, RP-3.6) A ballot may be entered: returned ≤ issued, fewer entered than returned,
    its id in the round's committed stock and not entered before in the procedure."""
    s, pr = open_round(ledger, key)
    if pr.returned is None or pr.issued is None:
        raise out_of_order("须先记录发出和收回票数", "record the ballots issued and returned first")
    if pr.returned > pr.issued:
        raise out_of_order(
            "收回票数多于发出票数，本轮无效，不能录入",
            "more came back than issued: the round is void",
        )
    if len(pr.ballots) >= pr.returned:
        raise refuse(
            "ballot.over_returned",
            "RP-3.4",
            f"已录入 {len(pr.ballots)} 张，等于收回票数",
            f"{len(pr.ballots)} ballots entered: as many as returned",
        )
    if ballot_id not in ledger.stocks.get(key, frozenset()):
        raise refuse(
            "ballot.not_in_stock",
            "RP-3.6",
            "这张票不在本轮登记的票号清单中",
            "the ballot is not in the round's committed stock",
        )
    if ballot_id in ledger.used_ids:
        raise refuse(
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
        raise out_of_order("只能撤回刚录入的最后一张票", "only the last entry can be withdrawn")
    pr = replace(pr, ballots=pr.ballots[:-1])
    return replace(
        ledger, rounds={**ledger.rounds, key: pr}, used_ids=ledger.used_ids - {v.ballot_id}
    )


def _stock(ledger: Ledger, v: StockCommitted, ids: frozenset[str] | None) -> Ledger:
    key = RoundKey(v.form, v.post, v.round)
    if v.post is not None and ledger.procedure.post(v.post) is None:
        raise refuse(
            "recommendation.post",
            "RP-3.2",
            f"本换届程序没有“{v.post.value}”这一职位",
            f"the procedure has no post {v.post.value}",
        )
    if (key, v.part) in ledger.stock_parts or (v.part > 1 and (key, 1) not in ledger.stock_parts):
        raise refuse(
            "stock.twice",
            "RP-3.6",
            "这批票已登记，或补印前须先登记首批",
            "this stock part is committed already, or its first print is not",
        )
    others = frozenset().union(*ledger.stocks.values()) if ledger.stocks else frozenset()
    if ids is None or len(ids) != v.count or ids & others:
        raise refuse(
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


def _officials(ledger: Ledger, v: OfficialsChanged) -> Ledger:
    no_session(ledger, "更换工作人员", "change of officials")
    roster = {m.id for m in ledger.procedure.members}
    for names in (v.scrutineers, v.tellers):
        if not names or len(set(names)) != len(names) or not set(names) <= roster:
            raise refuse(
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
            return apply_proposal(ledger, v)
        if t == "vetting.recorded":
            return apply_vetting(ledger, v)
        return apply_count(ledger, v)
    if isinstance(v, ProcedureOpened):
        raise out_of_order("程序已开始", "the procedure log is open already")
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
        raise refuse(
            "log.chain", "RP-11.1", "记录不接续上一条", f"entry {entry.seq} is out of its chain"
        )
    at = dt.datetime.fromisoformat(entry.at)
    if ledger.last_at is not None and at < ledger.last_at:
        raise refuse(
            "log.time_backwards",
            "RP-11.1",
            "记录时间早于上一条记录",
            "the time is before the previous entry's",
        )
    if ledger.size == 0:
        v = entry.value
        if not isinstance(v, ProcedureOpened) or v.procedure_id != ledger.procedure_id.hex():
            raise out_of_order("第一条记录须为本程序的开始", "entry 0 opens this procedure")
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
