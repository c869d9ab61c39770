"""Appliers of the election's opening, the ballot stock and the attendance (spec/log.md §2:
``election.opened``, ``stock.committed``, ``stock.supplemented``, ``member.checked_in``,
``member.left``)."""

from __future__ import annotations

from dataclasses import replace

from tally.core.model import PostKind, zh_label

from .bodies import (
    ElectionOpened,
    MemberCheckedIn,
    MemberLeft,
    StockCommitted,
    StockSupplemented,
)
from .common import HEX32, bad
from .state import Meeting, Step, name


def election_opened(m: Meeting, v: ElectionOpened, step: Step) -> Meeting:  # noqa: ARG001
    raise bad("log.reopen", "选举已开始", "the election is already open")


def checked_in(m: Meeting, v: MemberCheckedIn, step: Step) -> Meeting:  # noqa: ARG001
    member = v.member
    if member not in m.expected_ids:
        who = name(m.election, member)
        raise bad(
            "checkin.not_elector",
            f"{who} 不是应到会的有选举权党员，不计入到会人数",
            f"{who} is not an expected elector",
            "R2",
        )
    if m.remote is not None and member in m.remote.credentials:
        raise bad(
            "checkin.remote_credential",
            f"{name(m.election, member)} 已领取远程投票凭证，不能再签到参加现场投票",
            f"{member} received a remote-voting credential and cannot also vote on paper",
            "R24",
        )
    if member in m.present:
        raise bad(
            "checkin.twice",
            f"{name(m.election, member)} 已经签到",
            f"{member} has already checked in",
            "R4",
        )
    return replace(m, present=m.present | {member})


def left(m: Meeting, v: MemberLeft, step: Step) -> Meeting:  # noqa: ARG001
    if v.member not in m.present:
        raise bad("checkin.not_present", f"{v.member} 未签到", f"{v.member} is not checked in")
    return replace(m, present=m.present - {v.member})


def stock_committed(m: Meeting, v: StockCommitted, step: Step) -> Meeting:
    key = (v.post, v.round)
    if key in m.stocks:
        raise bad("stock.twice", "该轮次的选票已经登记", "a stock is already committed")
    ids = step.stock_ids
    if ids is None or len(ids) != v.count:
        raise bad("stock.ids", "选票清单与数量不符", "stock list does not match the count")
    if not all(HEX32.match(i) for i in ids):
        raise bad("stock.ids", "选票编号格式错误", "bad ballot id in the stock")
    return replace(m, stocks={**m.stocks, key: v.count}, stock_ids={**m.stock_ids, key: ids})


def stock_supplemented(m: Meeting, v: StockSupplemented, step: Step) -> Meeting:
    """A supplementary print for a round whose stock is too small (R-stock-supplement): more
    ballots for the same round, before its ballots are issued, with ids new to the round."""
    key = (v.post, v.round)
    check_supplement(m, v.post, v.round)
    expected = m.stock_parts.get(key, 1) + 1
    if v.part != expected:
        raise bad(
            "stock.supplement_part",
            f"补印批次应为第 {expected} 批",
            f"the supplementary print should be part {expected}",
        )
    ids = step.stock_ids
    if ids is None or len(ids) != v.count or v.count < 1:
        raise bad("stock.ids", "选票清单与数量不符", "stock list does not match the count")
    if not all(HEX32.match(i) for i in ids):
        raise bad("stock.ids", "选票编号格式错误", "bad ballot id in the stock")
    if ids & m.stock_ids[key]:
        raise bad(
            "stock.supplement_overlap",
            "补印的选票编号与本轮已登记的选票重复",
            "a supplementary ballot id repeats one already committed for the round",
        )
    return replace(
        m,
        stocks={**m.stocks, key: m.stocks[key] + v.count},
        stock_ids={**m.stock_ids, key: m.stock_ids[key] | ids},
        stock_parts={**m.stock_parts, key: v.part},
    )


def check_supplement(m: Meeting, post: PostKind, rnd: int) -> None:
    """Refuse a supplementary print the rules do not allow: the round has no stock yet, or its
    ballots are already issued (or the round is over).

    Raises:
        RoundStateError: ``stock.supplement_first`` or ``stock.supplement_late``.
    """
    key = (post, rnd)
    label = f"{zh_label(post)}选举第 {rnd} 轮"
    if key not in m.stocks:
        raise bad(
            "stock.supplement_first",
            f"{label}还没有打印登记选票，请先正常打印（不加 --supplement）",
            f"{post.value} round {rnd} has no stock yet: print it first (without --supplement)",
        )
    cur = m.current
    issued = cur is not None and (cur.spec.post, cur.spec.number) == key and cur.issued is not None
    if issued or key not in m.stock_ids:
        raise bad(
            "stock.supplement_late",
            f"{label}的选票已经发出，不能再补印",
            f"{post.value} round {rnd}: ballots are already issued; no supplementary print",
        )
