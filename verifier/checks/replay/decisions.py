"""Decisions recorded between rounds (spec/bundle.md V14; spec/rules.md R17, R25.1, RS7;
spec/log.md §2.1, §2.3).

A seat reduction only after a shortfall, with the assembly's consent (R17); an amended candidate
list only when the rules allow one, signed by the town committee (RS7); new officials only while
no round is open (R25.1); each change of the double-entry mode a change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from verifier import rules
from verifier.canonical import canonical_bytes
from verifier.checks.replay.state import PostState
from verifier.crypto import b64decode_canonical, verify_signature
from verifier.errors import VerificationError
from verifier.model import LogEntry

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["candidates_amended", "double_entry_set", "officials_changed", "seats_reduced"]

AMENDED_LIST_DOMAIN: Final = b"branch-election/amended-list/1"  # spec/log.md §2.1
AMENDABLE_BLOCKS: Final = ("candidates.amended_list_needed", "further.too_few_candidates")


def no_round_open(r: Replay, e: LogEntry) -> None:
    """(V14) A decision is recorded while no round is open."""
    if r.open is not None:
        r.fail(
            "V14",
            "decision.during_round",
            "轮次进行中不得记录决定",
            "decision recorded while a round is open",
            e,
        )


def _post_of_decision(r: Replay, e: LogEntry) -> PostState | None:
    """(V14) A decision on a post: recorded while no round is open, for a post of the election."""
    st = r.posts.get(e.body["post"])
    no_round_open(r, e)
    if st is None:
        r.fail(
            "V14",
            "decision.unknown_post",
            "决定针对未设置的职位",
            "decision for a post the election does not have",
            e,
        )
    return st


def seats_reduced(r: Replay, e: LogEntry) -> None:
    """(V14) R17: ``seats.reduced`` only after a shortfall, with the town's reference, the
    assembly's consent (2 × consent > E, consent <= E) and seats in range."""
    st = _post_of_decision(r, e)
    if st is None:
        return
    b = e.body
    post = b["post"]
    if not b["town_agreement"].strip():
        r.fail(
            "V14",
            "reduction.no_town_reference",
            "减少名额缺少镇党委同意的文号",
            "seat reduction lacks the town reference",
            e,
        )
    open_seats = st.seats - len(st.elected)
    if st.held == 0 or open_seats <= 0 or st.pending is not None:
        r.fail(
            "V14",
            "reduction.not_after_shortfall",
            "减少名额只能在差额不足之后",
            "reduction not after a shortfall (R17)",
            e,
        )
    codes = rules.seat_reduction_problems(
        post,
        elected=len(st.elected),
        seats=st.seats,
        new=b["seats"],
        consent=b["assembly_consent"],
        e=r.E,
    )
    if "reduction.bad_number" in codes:
        low = max(len(st.elected), rules.MIN_COMMITTEE_SEATS if post == "committee" else 1)
        r.fail(
            "V14",
            "reduction.bad_number",
            "减少后的名额无效（委员会不少于 3 名，其他职位不少于 1 名，且不少于已当选人数）",
            "reduced seats out of range (R17: a committee keeps 3, any post 1, and the elected)",
            e,
            expected=f"{low}..{st.seats - 1}",
            found=str(b["seats"]),
        )
    if "reduction.no_majority" in codes:
        r.fail(
            "V14",
            "reduction.no_majority",
            "同意人数未过应到会人数半数，或多于应到会人数",
            "consent is not a majority of E, or exceeds E (R17: 2c > E, c <= E)",
            e,
            expected=f"> {r.E // 2} and <= {r.E}",
            found=str(b["assembly_consent"]),
        )
    st.seats = b["seats"]


def candidates_amended(r: Replay, e: LogEntry) -> None:
    """(V14) RS7: a ``candidates.amended`` recorded when the rules allow it, signed by the
    manifest's town key, naming members who may take the post, enough of them; the post's
    candidates from then on."""
    st = _post_of_decision(r, e)
    if st is None:
        return
    if not e.body["town_approval"].strip():
        r.fail(
            "V14",
            "amend.no_town_reference",
            "候选人名单缺少镇党委批准文号",
            "amended list lacks the town reference",
            e,
        )
    amend_now(r, e, st)
    amend_signed(r, e)
    cands = list(e.body["candidates"])
    amend_names(r, e, st, cands)
    amend_enough(r, e, st, cands)
    st.candidates = tuple(cands)


def amend_now(r: Replay, e: LogEntry, st: PostState) -> None:
    """(V14) RS7: only when the round due is the post's and is blocked for want of candidates or
    is its further round (``amend.not_now``), for the post's next round (``amend.wrong_round``)."""
    b = e.body
    due = r.due()
    allowed = (
        due is not None
        and due.post == b["post"]
        and (
            due.blocked in AMENDABLE_BLOCKS
            or (not due.blocked and due.purpose == "further" and st.pending is None)
        )
    )
    if not allowed:
        r.fail(
            "V14",
            "amend.not_now",
            "此时不得调整该职位的候选人名单（仅在轮次因候选人不足无法进行或另行选举时）",
            "amended list outside the moments RS7 allows (blocked round or further round)",
            e,
        )
    if b["round"] != st.held + 1:
        r.fail(
            "V14",
            "amend.wrong_round",
            "名单所签的轮次不是该职位的下一轮",
            "the list is signed for another round of the post",
            e,
            expected=str(st.held + 1),
            found=str(b["round"]),
        )


def amend_signed(r: Replay, e: LogEntry) -> None:
    """(V14) spec/log.md §2.1: the town key of the manifest signed the ``amended-list/1`` object
    rebuilt from the entry and the election id (``amend.not_signed``)."""
    b = e.body
    signed = {
        "format": "amended-list/1",
        "election_id": r.m.election_id.hex(),
        "post": b["post"],
        "round": b["round"],
        "candidates": list(b["candidates"]),
        "town_approval": b["town_approval"],
    }
    sig = b64decode_canonical(b["town_signature"], 64)
    town = r.v.town_raw
    try:
        ok = sig is not None and town is not None
        if sig is not None and town is not None:
            verify_signature(town, AMENDED_LIST_DOMAIN, canonical_bytes(signed), sig)
    except VerificationError:
        ok = False
    if not ok:
        r.fail(
            "V14",
            "amend.not_signed",
            "调整后的候选人名单没有镇党委的有效签名",
            "the amended list's town committee signature does not verify",
            e,
        )


def amend_names(r: Replay, e: LogEntry, st: PostState, cands: list[str]) -> None:
    """(V14) RS7: a non-empty list without repeats, of members who may take the post (roster,
    R30, not elected, R20/R21: ``amend.not_eligible``), no official (``amend.official``, R25),
    secretary candidates meeting R27 when ``qualification_policy`` is ``block``."""
    post = e.body["post"]
    if len(set(cands)) != len(cands) or not cands:
        r.fail(
            "V14",
            "amend.not_eligible",
            "候选人名单为空或重复",
            "amended list empty or repeated",
            e,
        )
    block = r.d.parameters.qualification_policy == "block"
    for c in cands:
        member = r.roster.get(c)
        if (
            member is None
            or c not in r.eligible
            or c in r.excluded
            or c in st.elected
            or not r.can_take(post, c)
        ):
            r.fail(
                "V14",
                "amend.not_eligible",
                "名单中有不能担任该职务的人",
                "amended list names a member who may not take the post (RS7, R30)",
                e,
                found=c,
            )
            continue
        if c in r.officials:
            r.fail(
                "V14",
                "amend.official",
                "名单中有本轮的监票人或计票人",
                "amended list names an official of the round (R25)",
                e,
                found=c,
            )
        if post == "secretary" and block:  # (R27)
            for code in rules.member_qualification_problems(r.d, member):
                r.fail(
                    "V14",
                    code,
                    "名单中的书记候选人不符合任职条件",
                    "an amended secretary candidate fails the qualifications (R27)",
                    e,
                    found=c,
                )


def amend_enough(r: Replay, e: LogEntry, st: PostState, cands: list[str]) -> None:
    """(V14) RS7: the margin for a first round (``post.margin``, R18, R19), no fewer candidates
    than open seats for a further round (``amend.too_few``, R16)."""
    post = e.body["post"]
    n, open_seats = len(set(cands)), st.seats - len(st.elected)
    if st.held == 0 and not st.elected:
        margin = "20pct" if post == "committee" else st.margin
        if cands and not rules.margin_ok(n, open_seats, margin):
            r.fail(
                "V14",
                "post.margin",
                "调整后的名单差额不足",
                "the amended first-round list breaks the margin (R18, R19)",
                e,
                found=str(n),
            )
    elif cands and n < open_seats:
        r.fail(
            "V14",
            "amend.too_few",
            "另行选举的候选人少于空缺名额",
            "fewer candidates than open seats (R16)",
            e,
            expected=f">= {open_seats}",
            found=str(n),
        )


def officials_changed(r: Replay, e: LogEntry) -> None:
    """(V14) R25.1: ``officials.changed`` only while no round is open, each list non-empty, on
    the roster, nobody twice in a list or in both; the officials of the rounds opened next."""
    b = e.body
    no_round_open(r, e)
    scr, tel = tuple(b["scrutineers"]), tuple(b["tellers"])
    if not scr or not tel:
        r.fail("V14", "officials.missing", "缺少监票人或计票人", "officials missing (R25)", e)
    for x in sorted(set(scr) | set(tel)):
        if x not in r.roster:
            r.fail(
                "V14",
                "member.unknown",
                "监票人或计票人不在名册中",
                "official not on the roster",
                e,
                found=x,
            )
    for role in (scr, tel):
        for x in sorted({y for y in role if role.count(y) > 1}):
            r.fail(
                "V14",
                "official.duplicate",
                "同一人在名单中重复",
                "an official is listed twice (R25)",
                e,
                found=x,
            )
    for x in sorted(set(scr) & set(tel)):
        r.fail(
            "V14",
            "official.both_roles",
            "同一人不得兼任监票人和计票人",
            "member holds both roles (R25)",
            e,
            found=x,
        )
    r.scrutineers, r.tellers = scr, tel
    r.officials = set(scr) | set(tel)


def double_entry_set(r: Replay, e: LogEntry) -> None:
    """(V14) log.md §2.3: each ``double_entry.set`` changes the mode in force."""
    mode = e.body["mode"]
    if mode == r.double_entry:
        r.fail(
            "V14",
            "double_entry.unchanged",
            f"双人录入已经是 {mode}，记录没有改变录入方式",
            f"double_entry.set to {mode}, the mode already in force",
            e,
        )
    r.double_entry = mode
