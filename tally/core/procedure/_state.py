"""The procedure ledger's values and the helpers its rules share (spec/procedure.md RP-11.1):
pure. Public through :mod:`tally.core.procedure.ledger`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import (
    DeclaredInvalid,
    EntryBody,
    EvaluationEntered,
    Form,
    OfficialsChanged,
    RecommendationEntered,
)
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.evaluation import EvaluationCount
from tally.core.procedure.model import Procedure
from tally.core.procedure.ranking import Proposal
from tally.core.procedure.recommendation import RecommendationCount
from tally.core.procedure.vetting import VettingRecord

__all__ = [
    "EnteredBallot",
    "Ledger",
    "PostRound",
    "RoundKey",
    "Session",
    "close_round",
    "no_session",
    "open_ledger",
    "open_round",
    "out_of_order",
    "refuse",
]


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


def refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


def out_of_order(zh: str, en: str) -> ProcedureLogError:
    return refuse("procedure.order", "RP-11.1", f"记录顺序不符合推荐程序：{zh}", en)


def no_session(ledger: Ledger, what_zh: str, what_en: str) -> None:
    if ledger.session is not None:
        raise out_of_order(
            f"第 {ledger.session.round} 轮{ledger.session.form.value}会议尚未结束，不能{what_zh}",
            f"the {ledger.session.form.value} session of round {ledger.session.round} is still "
            f"open: no {what_en}",
        )


def open_round(ledger: Ledger, key: RoundKey) -> tuple[Session, PostRound]:
    """The open session's round ``key`` (``procedure.order`` when it is not open)."""
    s = ledger.session
    if s is None or key.form is not s.form or key.round != s.round or key.post not in s.posts:
        raise out_of_order(
            f"{key.text()} 不属于正在进行的会议", f"{key.text()} is not a round of the open session"
        )
    pr = ledger.rounds[key]
    if pr.closed:
        raise out_of_order(f"{key.text()} 已结束", f"{key.text()} is closed")
    return s, pr


def close_round(ledger: Ledger, pr: PostRound) -> Ledger:
    rounds = {**ledger.rounds, pr.key: pr}
    s = ledger.session
    done = s is not None and all(rounds[k].closed for k in s.round_keys())
    return replace(ledger, rounds=rounds, session=None if done else s)
