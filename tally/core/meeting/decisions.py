"""Appliers of the logged decisions and the result (spec/log.md §2): ``seats.reduced``,
``officials.changed``, ``double_entry.set``, ``candidates.amended`` (§2.1) and
``election.result``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tally.core.manifest import canonical
from tally.core.model import MemberId, Officials, PostKind, zh_label
from tally.core.rounds import (
    ElectingBody,
    Finished,
    RoundSpec,
    amend_candidates,
    amendable_round,
    reduce_seats,
    round_officials,
)

from .bodies import (
    CandidatesAmended,
    DoubleEntrySet,
    ElectionResult,
    OfficialsChanged,
    SeatsReduced,
)
from .common import bad
from .state import Meeting, Step, name, no_round_open

AMENDED_LIST_FORMAT = "amended-list/1"
AMENDED_LIST_DOMAIN = b"branch-election/amended-list/1"

_ROLES = (("scrutineers", "监票人", "scrutineer"), ("tellers", "计票人", "teller"))


def seats_reduced(m: Meeting, v: SeatsReduced, step: Step) -> Meeting:  # noqa: ARG001
    no_round_open(m)
    return replace(
        m,
        rounds=reduce_seats(
            m.rounds,
            v.post,
            new_seats=v.seats,
            assembly_consent=v.assembly_consent,
            town_agreement=v.town_agreement,
        ),
    )


def officials_changed(m: Meeting, v: OfficialsChanged, step: Step) -> Meeting:  # noqa: ARG001
    """(R25.1) The scrutineers and tellers of the rounds opened from now on (a logged decision)."""
    no_round_open(m)
    roster = {x.id for x in m.election.members}
    for (_key, zh, en), ids in zip(_ROLES, (v.scrutineers, v.tellers), strict=True):
        for x in ids:
            if x not in roster:
                raise bad(
                    "member.unknown", f"名册中没有编号 {x}", f"no member {x} on the roster", "R25"
                )
            if ids.count(x) > 1:
                raise bad(
                    "official.duplicate",
                    f"{name(m.election, MemberId(x))} 在{zh}名单中重复",
                    f"{x} is listed twice as {en}",
                    "R25",
                )
    scrutineers = tuple(MemberId(x) for x in v.scrutineers)
    tellers = tuple(MemberId(x) for x in v.tellers)
    for x in sorted(set(scrutineers) & set(tellers)):
        raise bad(
            "official.both_roles",
            f"{name(m.election, x)} 不能同时担任监票人和计票人",
            f"{x} cannot be both scrutineer and teller",
            "R25",
        )
    officials = Officials(scrutineers=scrutineers, tellers=tellers)
    return replace(m, rounds=replace(m.rounds, officials=officials))


def check_officials(m: Meeting, due: RoundSpec) -> None:
    """(R25.2) The officials in force may serve in the round that opens."""
    off = round_officials(m.rounds)
    where = f"{zh_label(due.post)}第{due.number}轮"
    for key, zh, en in _ROLES:
        for x in getattr(off, key):
            if x in due.candidates:
                raise bad(
                    "official.is_candidate",
                    f"{name(m.election, x)} 是{where}的候选人，不能担任本轮{zh}；"
                    "请先用 tally officials 记录本轮的监票人和计票人",
                    f"{x} is a candidate of {due.post.value} round {due.number} and cannot be its "
                    f"{en}; record this round's officials first (tally officials)",
                    "R25",
                )
    for x in off.scrutineers:
        if due.body is ElectingBody.PLENARY and x not in m.rounds.elected(PostKind.COMMITTEE):
            raise bad(
                "official.not_committee_member",
                f"{name(m.election, x)} 不是新一届委员，不能担任委员会全体会议的监票人；"
                "请先用 tally officials 记录本轮的监票人（不是本职位候选人的委员）",
                f"{x} is not a member of the new committee and cannot scrutinise its plenary; "
                "record the plenary's scrutineers first (tally officials)",
                "R25",
            )
        if due.body is ElectingBody.ASSEMBLY and x not in m.present:
            raise bad(
                "official.not_present",
                f"监票人 {name(m.election, x)} 未签到：党员大会的监票人须是到会的有选举权党员",
                f"scrutineer {x} is not checked in: an assembly round's scrutineers are "
                "eligible electors present",
                "R25",
            )


def double_entry_set(m: Meeting, v: DoubleEntrySet, step: Step) -> Meeting:  # noqa: ARG001
    if v.on == m.double_entry:
        raise bad(
            "double_entry.unchanged",
            "双人录入已经是" + ("开启" if m.double_entry else "关闭") + "状态",
            f"double entry is already {'on' if v.on else 'off'}",
        )
    return replace(m, double_entry=v.on)


def amended_list_document(
    election_id: bytes,
    post: PostKind,
    round_number: int,
    candidates: Sequence[str],
    town_approval: str,
) -> dict[str, Any]:
    """The ``amended-list/1`` object the town committee signs (spec/log.md §2.1)."""
    return {
        "format": AMENDED_LIST_FORMAT,
        "election_id": election_id.hex(),
        "post": post.value,
        "round": round_number,
        "candidates": list(candidates),
        "town_approval": town_approval,
    }


def candidates_amended(m: Meeting, v: CandidatesAmended, step: Step) -> Meeting:  # noqa: ARG001
    """(RS7) A candidate list signed by the town committee, checked like the definition's."""
    no_round_open(m)
    number = amendable_round(m.rounds, v.post)
    if v.round != number:
        raise bad(
            "amend.wrong_round",
            f"镇党委签署的名单是为{zh_label(v.post)}第{v.round}轮，现在调整的是第{number}轮",
            f"the signed list is for {v.post.value} round {v.round}; the round now is {number}",
            "RS7",
        )
    if len(v.signature) != 64 or m.town_check is None:
        raise bad(
            "amend.not_signed",
            "调整后的候选人名单没有镇党委的有效签名",
            "the amended list carries no valid town committee signature",
            "RS7",
        )
    doc = amended_list_document(m.election_id, v.post, number, v.candidates, v.town_approval)
    try:
        m.town_check(AMENDED_LIST_DOMAIN, canonical(doc), v.signature)
    except ValueError as e:
        raise bad(
            "amend.not_signed",
            "调整后的候选人名单的签名不是本次选举清单中镇党委的签名，或名单在签名后被改动",
            "the amended list's signature is not the manifest's town committee key, or the "
            "list was changed after signing",
            "RS7",
        ) from e
    return replace(
        m, rounds=amend_candidates(m.rounds, v.post, tuple(MemberId(x) for x in v.candidates))
    )


def election_result(m: Meeting, v: ElectionResult, step: Step) -> Meeting:
    no_round_open(m)
    due = m.due()
    if not isinstance(due, Finished):
        raise bad("result.not_finished", "还有职位未选出，不能宣布结果", "posts are still open")
    expected = {k.value: list(ids) for k, ids in due.elected}
    if v.elected != expected:
        raise bad("result.mismatch", "结果与各轮计票不符", "result differs from the rounds")
    return replace(m, result=dict(step.entry.body))
