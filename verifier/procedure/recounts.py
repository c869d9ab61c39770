"""(V23, V25-V28, V30, V31) The procedure log recounted and its chain followed (spec/procedure.md
§13): the ballot records against the log, each computed body against the verifier's own recount
(``verifier.procedure`` recommendation, ranking, evaluation, vetting), the town's approval
against the last vetting and ``vetted`` checkpoint, and the appointment (with the casework bundle's
report when given).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any, Final

from verifier.canonical import canonical_bytes
from verifier.crypto import PublicKey, b64decode_canonical, verify_signature
from verifier.errors import QrError, VerificationError
from verifier.procedure.bundle import Signed, _Run
from verifier.procedure.definition import ProcedureRecountError
from verifier.procedure.evaluation import recount_evaluation
from verifier.procedure.log import Entry, ProcedureLog
from verifier.procedure.proposals import check_evaluation_opened, check_proposal
from verifier.procedure.qr import check_procedure_qr
from verifier.procedure.recommendation import recount_recommendation
from verifier.procedure.records import check_record_shapes
from verifier.procedure.report_tables import Recounted
from verifier.procedure.sessions import check_sessions
from verifier.procedure.stocks import check_stocks
from verifier.procedure.vetting import formal_list_problems, recount_vetting

__all__ = ["APPOINTMENT_DOMAIN", "APPROVAL_DOMAIN", "check_recounts"]

APPROVAL_DOMAIN: Final = b"branch-election/candidate-approval/1"
APPOINTMENT_DOMAIN: Final = b"branch-election/appointment/1"
INVALID_DOMAIN: Final = b"branch-election/procedure-invalid-ballot/1"
_INVALID_REASONS: Final = ("identifying_marks", "unreadable", "not_official_stock")
HIGHER_LEVEL_DOMAIN: Final = b"branch-election/higher-level-recommendation/1"
_BALLOTS: Final = ("recommendation.entered", "evaluation.entered", "ballot.declared_invalid")
_RECORDED_OMISSIONS: Final = ("declined", "ten_disqualifications")


def check_recounts(
    run: _Run,
    signed: Signed,
    log: ProcedureLog,
    checkpoints: list[tuple[int, str, str]],
    casework: Any,
) -> Recounted:
    """Run V23 and V25-V30 (and V31's appointment part); returns what RP-13.1's tables are made
    from (``verifier.procedure.report_tables``)."""
    records = _ballot_records(run, signed, log)
    check_record_shapes(run, signed.counting, log, records)
    check_sessions(run, signed.value, log, records)
    check_stocks(run, signed.procedure_id, log, records)
    seen: dict[str, list[Entry]] = {}
    opened: dict[object, list[str]] = {}
    recounted: list[dict[str, Any]] = []  # the verifier's own counts, for V26
    own_counts: dict[int, dict[str, Any] | None] = {}  # by seq, for RP-13.1's tables
    for e in log.entries:
        if e.type == "evaluation.opened":
            check_evaluation_opened(run, signed.counting, e, seen)
            opened[e.body.get("round")] = list(e.body.get("candidates") or [])
        elif e.type in ("recommendation.counted", "evaluation.counted"):
            own = own_counts[e.seq] = _counted(run, signed, e, records, opened=opened)
            recounted.append(own if own is not None else e.body)
        elif e.type == "higher_level.recommended":
            what = ("V26", "preliminary.higher_level")
            _signed_act(
                run, e, "recommendation", domain=HIGHER_LEVEL_DOMAIN, town=signed.town, what=what
            )
        elif e.type == "preliminary.proposed":
            check_proposal(run, signed.counting, e, seen, [c for c in recounted if "group" in c])
        elif e.type == "vetting.recorded":
            _vetting(run, signed, e, seen, [c for c in recounted if "group" not in c])
        elif e.type == "candidates.approved":
            _approval(run, signed, e, seen, checkpoints)
        elif e.type == "appointment.recorded":
            _appointment(run, signed, e, seen, casework)
        seen.setdefault(e.type, []).append(e)
    _not_built(run, seen, casework)
    return Recounted(signed.value, signed.counting, tuple(log.entries), own_counts)


def _fail(run: _Run, clause: str, code: str, zh: str, en: str, *, e: Entry, **where: Any) -> None:
    run.f.fail(code, zh, en, clause=clause, file="log.jsonl", seq=e.seq, **where)


# --------------------------------------------------------------------------- V23 ballot records


def _qr(run: _Run, signed: Signed, e: Entry) -> None:
    """(V23, RP-3.5) The record's QR reads PQ1-PQ8 for its form, post and round and names its
    ballot id (``ballot.id_differs``)."""
    form, post, round_ = _round_of(e)
    try:
        ballot_id = check_procedure_qr(
            str(e.body.get("qr")),
            bytes.fromhex(signed.procedure_id),
            str(form),
            str(post),
            _int(round_),
            signed.work_group.key,
        )
    except QrError as x:
        _fail(
            run,
            "V23",
            x.code,
            x.zh,
            x.en,
            e=e,
            rule=x.clause,
            ballot_id=str(e.body.get("ballot_id")),
        )
        return
    if ballot_id.hex() != e.body.get("ballot_id"):
        _fail(
            run,
            "V23",
            "ballot.id_differs",
            "二维码中的选票编号与记录不符",
            "the QR names another ballot id",
            e=e,
            rule="RP-3.7",
        )


def _confirmation(run: _Run, signed: Signed, e: Entry) -> None:
    """(V23, RP-3.8) A ballot declared invalid: a reason of RP-3.8 and the confirmation of a
    procedure scrutineer (``invalid.confirmation``)."""
    b = e.body
    names = {f"scrutineer:{hashlib.sha256(k.key).hexdigest()[:16]}": k for k in signed.scrutineers}
    key = names.get(str(b.get("scrutineer")))
    sig = b64decode_canonical(b.get("signature"), 64)
    fields = ("form", "post", "round", "ballot_id", "qr", "reason")
    message = {"procedure_id": signed.procedure_id, "seq": e.seq} | {k: b.get(k) for k in fields}
    try:
        if key is None or sig is None or b.get("reason") not in _INVALID_REASONS:
            raise VerificationError(clause="V23", code="", zh="", en="")
        verify_signature(key.key, INVALID_DOMAIN, canonical_bytes(message), sig)
    except VerificationError:
        _fail(
            run,
            "V23",
            "invalid.confirmation",
            "无效票的监票人确认签名无效，或签名者不是本程序的监票人",
            "the scrutineer's confirmation of an invalid ballot does not verify",
            e=e,
            rule="RP-3.8",
            ballot_id=str(b.get("ballot_id")),
        )


def _ballot_records(run: _Run, signed: Signed, log: ProcedureLog) -> list[Entry]:
    """(V23, RP-12.1) ``ballots.jsonl`` is exactly the log's ballots not withdrawn, in seq order,
    and no ballot id is kept twice; returns those entries."""
    kept: dict[str, Entry] = {}
    for e in log.entries:
        if e.type in _BALLOTS:
            bid = str(e.body.get("ballot_id"))
            if bid in kept:
                _fail(
                    run,
                    "V23",
                    "ballot.replayed",
                    "同一选票编号出现两次",
                    "a ballot id is entered twice",
                    e=e,
                    ballot_id=bid,
                    rule="RP-3.7",
                )
            kept[bid] = e
        elif e.type == "ballot.withdrawn":
            kept.pop(str(e.body.get("ballot_id")), None)
    records = sorted(kept.values(), key=lambda e: e.seq)
    for e in records:
        _qr(run, signed, e)
        if e.type == "ballot.declared_invalid":
            _confirmation(run, signed, e)
    want = b"".join(
        canonical_bytes(
            {"format": "procedure-ballot-record/1", "seq": e.seq, "type": e.type, "body": e.body}
        )
        + b"\n"
        for e in records
    )
    if "ballots.jsonl" in run.b.names():
        with run.b.open("ballots.jsonl") as fh:
            got = fh.read(len(want) + 1)
        if got != want:
            run.f.fail(
                "pbundle.ballots",
                "ballots.jsonl 与日志中的选票记录不符",
                "ballots.jsonl is not the log's ballot records",
                clause="V23",
                file="ballots.jsonl",
                rule="RP-12.1",
            )
    return records


# --------------------------------------------------------------------------- V25, V27 the counts


def _counted(
    run: _Run,
    signed: Signed,
    e: Entry,
    records: list[Entry],
    *,
    opened: Mapping[object, list[str]],
) -> dict[str, Any] | None:
    """(V25, V27) A count equals the verifier's recount of its round's records; returns the
    recount (None when the records cannot be recounted)."""
    b = e.body
    rec = e.type == "recommendation.counted"
    form, post = (b.get("group"), b.get("post")) if rec else ("evaluation", "")
    mine = [r for r in records if r.seq < e.seq and _round_of(r) == (form, post, b.get("round"))]
    entered = [r.body for r in mine if r.type != "ballot.declared_invalid"]
    invalid = len(mine) - len(entered)
    clause, code = (
        ("V25", "count.recommendation_differs") if rec else ("V27", "count.evaluation_differs")
    )
    try:
        if rec:
            want = recount_recommendation(
                signed.counting,
                group=str(form),
                post=str(post),
                round_=_int(b.get("round")),
                ballots=entered,
                declared_invalid=invalid,
            )
        else:
            want = recount_evaluation(
                signed.counting,
                round_=_int(b.get("round")),
                persons=opened.get(b.get("round"), []),
                ballots=entered,
                declared_invalid=invalid,
            )
    except ProcedureRecountError as x:
        _fail(run, clause, x.code, x.zh, x.en, e=e, rule=x.clause)
        return None
    if want != b:
        _fail(
            run,
            clause,
            code,
            "记录的计票结果与核验程序重新计票的结果不符",
            f"the recorded count differs from the verifier's recount: {_diff(want, b)}",
            e=e,
            rule="RP-3.10" if rec else "RP-5.6",
        )
    return want


def _round_of(r: Entry) -> tuple[object, object, object]:
    b = r.body
    if r.type == "recommendation.entered":
        return b.get("group"), b.get("post"), b.get("round")
    if r.type == "evaluation.entered":
        return "evaluation", "", b.get("round")
    return b.get("form"), b.get("post"), b.get("round")


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _int(v: object) -> int:
    return v if type(v) is int else -1


def _diff(want: Mapping[str, Any], got: Mapping[str, Any]) -> str:
    keys = sorted(k for k in {*want, *got} if want.get(k) != got.get(k))
    return ", ".join(keys)[:200] or "order"


# --------------------------------------------------------------------------- V26, V28


def _omissions(items: list[Any]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for it in items:
        if isinstance(it, dict) and it.get("reason") in _RECORDED_OMISSIONS:
            out.setdefault(str(it.get("member")), it)
    return list(out.values())


def _vetting(
    run: _Run,
    signed: Signed,
    e: Entry,
    seen: dict[str, list[Entry]],
    evaluations: list[dict[str, Any]],
) -> None:
    """(V28) The vetting record equals RP-6.1's from the proposals before it and the verifier's
    own recounts of the evaluations (``evaluations``)."""
    posts = _list(e.body.get("posts"))
    stopped = [s for p in posts if isinstance(p, dict) for s in _list(p.get("stopped"))]
    try:
        want = recount_vetting(
            signed.counting,
            proposals=[p.body for p in seen.get("preliminary.proposed", [])],
            evaluations=evaluations,
            findings=_omissions(stopped),
        )
    except ProcedureRecountError as x:
        _fail(run, "V28", x.code, x.zh, x.en, e=e, rule=x.clause)
        return
    if want != e.body:
        _fail(
            run,
            "V28",
            "vetting.differs",
            "考察审查记录与核验程序按规则得出的结果不符",
            f"the vetting record differs from the verifier's: {_diff(want, e.body)}",
            e=e,
            rule="RP-6.1",
        )


def _signed_act(
    run: _Run, e: Entry, member: str, *, domain: bytes, town: PublicKey, what: tuple[str, str]
) -> dict[str, Any] | None:
    """The town's signature over ``JCS(body[member])``; the object, or None (reported as
    ``what``: clause and code)."""
    clause, code = what
    obj = e.body.get(member)
    sig = b64decode_canonical(e.body.get("town_signature"), 64)
    try:
        if not isinstance(obj, dict) or sig is None:
            raise VerificationError(clause=clause, code=code, zh="", en="")
        verify_signature(town.key, domain, canonical_bytes(obj), sig)
    except VerificationError:
        _fail(
            run, clause, code, "没有有效的镇党委签名", f"{e.type} lacks a valid town signature", e=e
        )
        return None
    return obj


def _approval(
    run: _Run,
    signed: Signed,
    e: Entry,
    seen: dict[str, list[Entry]],
    checkpoints: list[tuple[int, str, str]],
) -> Any:
    """(V28, RP-6.4) Signed by the town; over the last ``vetted`` checkpoint; the last vetting's
    lists with RP-6.2's checks."""
    a = _signed_act(
        run,
        e,
        "approval",
        domain=APPROVAL_DOMAIN,
        town=signed.town,
        what=("V28", "approval.not_signed"),
    )
    if a is None:
        return None
    vetted = [(s, r) for s, r, why in checkpoints if why == "vetted" and s <= e.seq]
    if a.get("procedure_id") != signed.procedure_id:
        _fail(
            run,
            "V28",
            "approval.stale",
            "批复不属于本程序",
            "the approval names another procedure",
            e=e,
        )
    if not vetted or (a.get("vetted_size"), a.get("vetted_root")) != vetted[-1]:
        _fail(
            run,
            "V28",
            "approval.stale",
            "批复不是针对最后一次考察审查检查点",
            "the approval is not over the last vetted checkpoint",
            e=e,
            expected=str(vetted[-1] if vetted else ""),
        )
    if a.get("secretary") != signed.value.get("secretary"):
        _fail(
            run,
            "V28",
            "approval.lists_differ",
            "批复的书记产生方式与程序定义不符",
            "the approval's secretary.elected_by is not the definition's",
            e=e,
        )
    vettings = seen.get("vetting.recorded", [])
    posts = _list(a.get("posts"))
    orders = {str(p.get("post")): _list(p.get("candidates")) for p in posts if isinstance(p, dict)}
    proposals = seen.get("preliminary.proposed", [])
    if not vettings or not proposals:
        return a
    last = vettings[-1].body
    try:  # a proposal without a date fails V26 ("election_date is no date")
        date = dt.date.fromisoformat(str(proposals[-1].body.get("election_date")))
    except ValueError:
        run.skip("V28", "初步人选的选举日期无效，批复名单未核对", "no election date to check by")
        return a
    proceeding = {
        p.get("post"): p.get("proceeding") for p in _list(last.get("posts")) if isinstance(p, dict)
    }
    problems = formal_list_problems(signed.counting, last, election_date=date, orders=orders)
    if set(orders) != set(proceeding) or orders.get("committee") != proceeding.get("committee"):
        problems.append("approval.lists_differ")
    for post in posts:
        rule = next((r for r in signed.counting.posts if r.post == post.get("post")), None)
        if rule is None or (post.get("seats"), post.get("margin")) != (rule.seats, rule.margin):
            problems.append("approval.lists_differ")
    for code in dict.fromkeys(problems):
        _fail(
            run,
            "V28",
            code,
            "批复的正式候选人名单与考察审查结果或规则不符",
            f"the approved lists break {code} (RP-6.2, RP-6.4)",
            e=e,
            rule="RP-6.4",
        )
    return a


# --------------------------------------------------------------------------- V30, V31


def _appointment(
    run: _Run, signed: Signed, e: Entry, seen: dict[str, list[Entry]], casework: Any
) -> list[Any]:
    """(V30) Signed by the town; of the concluded election; after publicity; no objection open
    at its date; with the casework report, V31's appointment part."""
    a = _signed_act(
        run,
        e,
        "appointment",
        domain=APPOINTMENT_DOMAIN,
        town=signed.town,
        what=("V30", "appointment.not_signed"),
    )
    if a is None:
        return []
    concluded = seen.get("election.concluded", [])
    c = concluded[-1].body if concluded else {}
    if a.get("procedure_id") != signed.procedure_id or (
        a.get("election_id"),
        a.get("election_root"),
        a.get("publicity_end"),
    ) != (c.get("election_id"), c.get("root"), c.get("publicity_end")):
        _fail(
            run,
            "V30",
            "appointment.other_election",
            "任命不属于本程序所记录的选举",
            "the appointment is not of the concluded election",
            e=e,
        )
    date = str(a.get("date"))
    if not date > str(c.get("publicity_end", "")):
        _fail(
            run,
            "V30",
            "appointment.during_publicity",
            "任命日期未在公示期结束之后",
            "the appointment is dated within publicity",
            e=e,
        )
    objections = _list(a.get("objections"))
    for o in objections:
        if not isinstance(o, dict) or not o.get("concluded") or str(o["concluded"]) > date:
            _fail(
                run,
                "V30",
                "appointment.objection_open",
                "任命时仍有未办结的异议",
                "an objection is open at the appointment",
                e=e,
                found=str(o.get("reference") if isinstance(o, dict) else o),
            )
    _persons(run, e, a, c, objections)
    if casework is not None:
        _casework(run, signed, e, a=a, casework=casework, seen=seen)
    return objections


_POST_ORDER: Final = ("committee", "secretary", "deputy_secretary")


def _persons(
    run: _Run, e: Entry, a: Mapping[str, Any], concluded: Mapping[str, Any], objections: list[Any]
) -> None:
    """(V30, RP-10.1) ``persons`` are the elected in post order then order elected
    (``appointment.persons``); statuses and the decision follow from the objections' effects
    (``appointment.status_unfounded``)."""
    elected = concluded.get("elected") if isinstance(concluded.get("elected"), dict) else {}
    persons = [p for p in _list(a.get("persons")) if isinstance(p, dict)]
    want = [(post, m) for post in _POST_ORDER for m in _list((elected or {}).get(post))]
    if [(p.get("post"), p.get("member")) for p in persons] != want:
        _fail(
            run,
            "V30",
            "appointment.persons",
            "审批任命人员与当选人员不一致",
            "the appointed persons are not the elected, in post order",
            e=e,
            rule="RP-10.1",
        )
        return
    items = [o for o in objections if isinstance(o, dict)]
    void = [o.get("reference") for o in items if o.get("effect") == "election_void"]
    for p in persons:
        refs = void or [
            o.get("reference")
            for o in items
            if o.get("effect") == "not_appointed" and o.get("about") == p.get("member")
        ]
        status = "not_appointed" if refs else "appointed"
        if (p.get("status"), p.get("objections")) != (status, refs):
            _fail(
                run,
                "V30",
                "appointment.status_unfounded",
                "任命结果与异议办理结论不相符",
                f"{p.get('member')}: the status does not follow from the objections",
                e=e,
                rule="RP-10.1",
            )
    if a.get("decision") != ("refused" if void else "approved"):
        _fail(
            run,
            "V30",
            "appointment.status_unfounded",
            "审批决定与异议办理结论不相符",
            "the decision does not follow from the objections",
            e=e,
            rule="RP-10.1",
        )


def _casework(
    run: _Run,
    signed: Signed,
    e: Entry,
    *,
    a: Mapping[str, Any],
    casework: Any,
    seen: dict[str, list[Entry]],
) -> None:
    """(V31, V30) The appointment's objections against the verified casework; the branch's
    objections open when the town approved the candidates are reported (warnings)."""
    from verifier.casework_appointment import appointment_findings  # noqa: PLC0415

    election = signed.value.get("election")
    branch = str(election.get("branch_code")) if isinstance(election, dict) else ""
    if not casework.ok:
        _fail(
            run,
            "V31",
            "casework.failed",
            "事项登记簿包未通过核验（V31），异议无法核对",
            "the casework bundle failed V31: the objections cannot be checked",
            e=e,
        )
        return
    for x in appointment_findings(casework, a, branch):
        run.f.fail(
            x.code,
            x.zh,
            x.en,
            clause=x.clause,
            file="log.jsonl",
            seq=e.seq,
            path=x.path,
            expected=x.expected,
            found=x.found,
            rule=x.rule,
        )
    approved = seen.get("candidates.approved", [])
    on = approved[-1].at.date().isoformat() if approved else ""
    for case in casework.cases:
        if (
            case.kind == "objection"
            and case.branch == branch
            and case.received <= on
            and (not case.concluded or case.concluded > on)
        ):
            run.f.warn(
                "approval.objection_open",
                f"批复正式候选人时异议 {case.reference} 尚未办结",
                f"objection {case.reference} was open at the approval",
                clause="V30",
                file="log.jsonl",
                seq=e.seq,
            )


def _not_built(run: _Run, seen: dict[str, list[Entry]], casework: Any) -> None:
    run.skip(
        "V29",
        "未给出选举结果包，选举绑定未核验",
        "the election bundle was not given: the binding is not checked",
    )
    if "appointment.recorded" not in seen:
        run.skip("V30", "尚未记录任命", "no appointment is recorded yet")
    elif casework is None:
        run.skip(
            "V31",
            "未给出事项登记簿包，任命所列异议未与登记簿核对",
            "the casework bundle was not given: the appointment's objections are not "
            "checked against it",
        )
