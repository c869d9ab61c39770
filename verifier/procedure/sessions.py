"""(V24) Sessions (spec/procedure.md RP-3.2, RP-3.4, RP-5.2, §13 V24).

Each ``recommendation.opened`` lists expected electors (``E``: full members registered here, not
excluded, R2/R3), each once, with the group's quorum holding (``half``: ``2*P > E``;
``four_fifths``: ``5*P > 4*E``); a public session names nobody and has ``2*present > R`` and
``present <= R``; an evaluation's ``public_present`` is more than half of ``Q`` and at most ``Q``
(``evaluation.public_quorum``) and its ``present`` its members plus its public representatives; a
members' session's scrutineers (the definition's, or the last ``officials.changed``) are among its
members present (``official.not_present``).
Per post and round: ``ballots.issued`` is the session's ``present``; a ``round.void`` carries the
round's issued and returned numbers and, for a recommendation, exactly when returned > issued; a
round with more returned than issued is never counted and keeps no ballot (nor does any void
recommendation round); otherwise the ballots kept at the count are the returned number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verifier.procedure.log import Entry, ProcedureLog

__all__ = ["check_sessions"]

Key = tuple[object, object, object]


@dataclass(slots=True)
class _Round:
    present: int
    issued: int | None = None
    returned: int | None = None
    void: bool = False


def _electors(value: dict[str, Any]) -> frozenset[str]:
    excluded = {x.get("member") for x in value.get("exclusions", []) if isinstance(x, dict)}
    return frozenset(
        str(m.get("id"))
        for m in value.get("members", [])
        if isinstance(m, dict)
        and m.get("status") == "full"
        and m.get("registered_here") is True
        and m.get("id") not in excluded
    )


def check_sessions(
    run: Any, value: dict[str, Any], log: ProcedureLog, records: Sequence[Entry]
) -> None:
    """(V24) Every session, post and round of the log; failures through ``run.f``."""
    electors = _electors(value)
    raw = value.get("recommendation")
    rec: dict[str, Any] = raw if isinstance(raw, dict) else {}
    quorum, reps = rec.get("quorum"), rec.get("public_representatives")
    raw_ev = value.get("evaluation")
    q = raw_ev.get("public_representatives") if isinstance(raw_ev, dict) else None
    rounds: dict[Key, _Round] = {}
    scrutineers = _scrutineers(value.get("officials"))

    def bad(e: Entry, code: str, zh: str, en: str, rule: str) -> None:
        run.f.fail(code, zh, en, clause="V24", file="log.jsonl", seq=e.seq, rule=rule)

    for e in log.entries:
        b = e.body
        if e.type == "officials.changed":
            scrutineers = _scrutineers(b)
        if e.type == "recommendation.opened" and b.get("group") == "member":
            _scrutineers_present(e, b, scrutineers, bad)
        if e.type in ("recommendation.opened", "evaluation.opened"):
            members = b.get("present_members")
            present = b.get("present")
            named = isinstance(members, list) and len(set(map(str, members))) == len(members)
            if not named or not set(map(str, members or [])) <= electors:
                bad(
                    e,
                    "session.present_members",
                    "到会党员须为应到会的有选举权的党员，每人一次",
                    "the members present must be expected electors, each once",
                    "RP-3.2",
                )
                continue
            if type(present) is not int:
                continue
            if e.type == "evaluation.opened":
                _public_quorum(e, b.get("public_present"), q, bad)
                if present != len(members or []) + _int(b.get("public_present")):
                    bad(
                        e,
                        "session.present_members",
                        "到会人数不等于到会党员与群众代表之和",
                        "present is not the members plus the public representatives present",
                        "RP-5.2",
                    )
                rounds["evaluation", "", b.get("round")] = _Round(present)
                continue
            _quorum(e, b, present, len(electors), quorum, reps, bad)
            for post in b.get("posts") or []:
                rounds[b.get("group"), post, b.get("round")] = _Round(present)
        elif e.type in ("ballots.issued", "ballots.returned", "round.void"):
            _step(e, rounds, bad)
        elif e.type in ("recommendation.counted", "evaluation.counted"):
            key: Key = (b.get("group"), b.get("post"), b.get("round"))
            if e.type == "evaluation.counted":
                key = ("evaluation", "", b.get("round"))
            _counted(e, key, rounds, records, bad)
    _kept_in_void(records, rounds, bad)


def _kept_in_void(records: Sequence[Entry], rounds: dict[Key, _Round], bad: Any) -> None:
    """(RP-3.4, V24) No ballot is kept in a round with more returned than issued (void or not),
    nor in a void recommendation round: reported once per round, at its first ballot kept."""
    reported: set[Key] = set()
    for rec in records:
        key = _key(rec)
        r = rounds.get(key)
        if r is None or key in reported or not (_over(r) or (r.void and key[0] != "evaluation")):
            continue
        reported.add(key)
        kept = sum(1 for x in records if _key(x) == key)
        bad(
            rec,
            "session.void",
            f"作废轮次不应有选票记录（收回 {r.returned} 张，发出 {r.issued} 张，记录 {kept} 张）",
            f"a void round keeps no ballot ({r.returned} returned of {r.issued} issued, "
            f"{kept} kept)",
            "RP-3.4",
        )


def _over(r: _Round) -> bool:
    """(RP-3.4) More ballots returned than issued: the round is void."""
    return r.issued is not None and r.returned is not None and r.returned > r.issued


def _scrutineers(officials: object) -> list[str]:
    raw = officials.get("scrutineers") if isinstance(officials, dict) else None
    return [str(x) for x in raw] if isinstance(raw, list) else []


def _scrutineers_present(e: Entry, b: dict[str, Any], scrutineers: list[str], bad: Any) -> None:
    """(RP-3.2) A members' session's scrutineers (the officials in force) are among the members
    present."""
    members = b.get("present_members")
    present = set(map(str, members)) if isinstance(members, list) else set()
    absent = [x for x in scrutineers if x not in present]
    if absent:
        bad(
            e,
            "official.not_present",
            f"监票人 {'、'.join(absent)} 不在到会党员中",
            f"scrutineer {', '.join(absent)} is not among the members present",
            "RP-3.2",
        )


def _int(v: object) -> int:
    return v if type(v) is int else -1


def _quorum(  # noqa: PLR0917 - one session's parts
    e: Entry, b: dict[str, Any], present: int, n: int, quorum: object, reps: object, bad: Any
) -> None:
    if b.get("group") == "member":
        holds = 2 * present > n if quorum == "half" else 5 * present > 4 * n
        if present != len(b.get("present_members") or []) or not holds:
            bad(
                e,
                "recommendation.quorum_failed",
                "到会党员未达到推荐所需人数",
                "too few members present for a recommendation",
                "RP-3.2",
            )
    elif b.get("present_members") != [] or not (
        type(reps) is int and 2 * present > reps and present <= reps
    ):
        bad(
            e,
            "recommendation.public_quorum",
            "到会群众代表未超过半数或超过应到人数",
            "the public representatives present are not more than half, or too many",
            "RP-3.2",
        )


def _public_quorum(e: Entry, public: object, q: object, bad: Any) -> None:
    """(RP-5.2) More than half of the evaluation's ``Q`` public representatives, at most ``Q``."""
    if type(public) is int and type(q) is int and 2 * public > q and public <= q:
        return
    bad(
        e,
        "evaluation.public_quorum",
        f"到会群众代表 {public} 名，须超过 {q} 名的半数且不多于 {q} 名",
        f"{public} public representatives present: more than half of {q} and at most {q} are "
        "needed",
        "RP-5.2",
    )


def _key(r: Entry) -> Key:
    b = r.body
    if r.type == "recommendation.entered":
        return b.get("group"), b.get("post"), b.get("round")
    if r.type == "evaluation.entered":
        return "evaluation", "", b.get("round")
    post = b.get("post") if b.get("form") != "evaluation" else ""
    return b.get("form"), post, b.get("round")


def _step(e: Entry, rounds: dict[Key, _Round], bad: Any) -> None:
    b = e.body
    key: Key = (
        b.get("form"),
        b.get("post") if b.get("form") != "evaluation" else "",
        b.get("round"),
    )
    r = rounds.get(key)
    if r is None:
        bad(
            e, "procedure.order", "会议之外的记录", "a session entry outside its session", "RP-11.1"
        )
        return
    if e.type == "ballots.issued":
        r.issued = _int(b.get("count"))
        if r.issued != r.present:
            bad(
                e,
                "ballots.issued_count",
                "发出票数须等于到会人数",
                "the ballots issued must equal those present",
                "RP-3.4",
            )
    elif e.type == "ballots.returned":
        r.returned = _int(b.get("count"))
    else:
        r.void = True
        same = (b.get("issued"), b.get("returned")) == (r.issued, r.returned)
        if not same or (key[0] != "evaluation" and not _over(r)):
            bad(
                e,
                "session.void",
                "作废须且仅须在收回票数多于发出票数时记录，并写明两数",
                "a round is void exactly when more ballots are returned than issued, with both "
                "numbers",
                "RP-3.4",
            )


def _counted(
    e: Entry, key: Key, rounds: dict[Key, _Round], records: Sequence[Entry], bad: Any
) -> None:
    r = rounds.get(key)
    if r is not None and not r.void and _over(r):
        bad(
            e,
            "session.void",
            f"收回 {r.returned} 张，多于发出的 {r.issued} 张，本轮无效，不能计票",
            f"{r.returned} ballots returned of {r.issued} issued: the round is void, never counted",
            "RP-3.4",
        )
        return
    kept = sum(1 for x in records if x.seq < e.seq and _key(x) == key)
    if r is None or r.void or r.returned is None or kept != r.returned:
        bad(
            e,
            "session.records",
            "计票时的选票记录数不等于收回票数",
            "the ballots kept at the count are not the ballots returned",
            "RP-3.4",
        )
