"""A branch's procedure log from the recommendation to the appointment, for the tests of the public
view (spec/procedure.md RP-12.4): the sessions, a written non-member, an evaluation failure, a
declination found at the vetting, then the town's acts (approval, binding, conclusion,
appointment) appended as entries (their rules are piece 5's; the public view only reads them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import Form, ProcedureEntry, make_entry
from tally.core.procedure.ledger import vetting_body
from tally.core.procedure.ranking import Omission, OmissionReason
from tests.helpers.procedure_log import START, LogBuilder, marks

#: What the public must never see: a written name that is nobody on the roster, the
#: reference of a declination, of an objection, and an objection's text.
WRITTEN_SECRET = "钱多多"
DECLINED_REFERENCE = "放弃书2026-3号"
OBJECTION_REFERENCE = "YY-2026-00003"


def _recommend(b: LogBuilder, form: Form, present: int, copies: int) -> None:
    order = b.procedure.ballot_order
    committee = [list(order[:5])] * 14 + [list(order[2:7])] * 5
    secretary = [[order[2]]] * 12 + [[order[3]]] * 8
    round_no = b.ledger.next_round(form)
    n_committee = (len(committee) + 1) * copies
    b.stock(form, "committee", round_no, present)
    b.stock(form, "secretary", round_no, present)
    if form is Form.MEMBER:
        b.open_members(present, round_no)
    else:
        b.open_public(present, round_no)
    b.issue_return(form, "committee", round_no, present, n_committee)
    for i, chosen in enumerate(committee * copies):
        b.enter(form, "committee", round_no, i, marks(b.procedure, chosen))
    for j in range(copies):
        b.enter(
            form,
            "committee",
            round_no,
            len(committee) * copies + j,
            marks(b.procedure, order[:4]),
            [{"name": WRITTEN_SECRET, "member": ""}],
        )
    b.count(form, PostKind.COMMITTEE)
    b.issue_return(form, "secretary", round_no, present, len(secretary) * copies)
    for i, chosen in enumerate(secretary * copies):
        b.enter(form, "secretary", round_no, i, marks(b.procedure, chosen))
    b.count(form, PostKind.SECRETARY)


def vetted_branch() -> LogBuilder:
    """Both recommendations, the proposal, an evaluation in which the last person evaluated does
    not proceed, and a vetting with one declination."""
    b = LogBuilder()
    _recommend(b, Form.MEMBER, 20, 1)
    _recommend(b, Form.PUBLIC, 40, 2)
    b.propose()
    n = len(b.ledger.proposals[0].posts[0].names)
    b.evaluate(40, ["s" * n] * 19 + ["s" * (n - 1) + "d"] * 11)
    first = b.ledger.proposals[0].posts[0].names[0].member
    found = [Omission(first, OmissionReason.DECLINED, "", DECLINED_REFERENCE)]
    b.append("vetting.recorded", vetting_body(b.ledger, found).to_json())
    return b


def append_raw(b: LogBuilder, type_: str, body: Mapping[str, Any]) -> ProcedureEntry:
    """An entry chained after the builder's last, not applied to the ledger (the town's acts)."""
    last = b.entries[-1]
    e = make_entry(
        last.seq + 1,
        last.leaf_hash.hex(),
        type_,
        body,
        at=START + dt.timedelta(days=30, minutes=last.seq),
        actor="组长",
        salt=bytes([(last.seq + 1) % 256]) * 32,
    )
    b.entries.append(e)
    return e


def approved_lists(b: LogBuilder) -> dict[PostKind, list[MemberId]]:
    record = b.ledger.vettings[-1]
    return {p.post: list(p.proceeding) for p in record.posts}


def appointed_branch() -> LogBuilder:
    """:func:`vetted_branch` through the approval, the vote and the appointment, with one
    objection concluded as unsubstantiated and the first elected committee member not
    appointed after a substantiated one."""
    b = vetted_branch()
    lists = approved_lists(b)
    approval = {
        "format": "candidate-approval/1",
        "procedure_id": b.procedure_id.hex(),
        "vetted_size": len(b.entries),
        "vetted_root": "00" * 32,
        "secretary": {"elected_by": "assembly"},
        "posts": [
            {
                "post": p.value,
                "seats": 5 if p is PostKind.COMMITTEE else 1,
                "margin": "20pct",
                "candidates": ids,
            }
            for p, ids in lists.items()
        ],
        "reference": "红组〔2026〕40号",
    }
    append_raw(b, "candidates.approved", {"approval": approval, "town_signature": "AA=="})
    append_raw(b, "election.bound", {"election_id": "11" * 32, "manifest_sha256": "22" * 32})
    committee = lists[PostKind.COMMITTEE][:5]
    secretary = lists[PostKind.SECRETARY][:1]
    elected = {"committee": committee, "secretary": secretary}
    append_raw(
        b,
        "election.concluded",
        {
            "election_id": "11" * 32,
            "size": 120,
            "root": "33" * 32,
            "elected": elected,
            "publicity_start": "2026-12-02",
            "publicity_end": "2026-12-08",
        },
    )
    objections = [
        {
            "reference": OBJECTION_REFERENCE,
            "received": "2026-12-03",
            "channel": "form",
            "timing": "during",
            "about": committee[0],
            "finding": "substantiated",
            "effect": "not_appointed",
            "concluded": "2026-12-07",
        },
        {
            "reference": "YY-2026-00004",
            "received": "2026-12-04",
            "channel": "in_person",
            "timing": "during",
            "about": "",
            "finding": "unsubstantiated",
            "effect": "none",
            "concluded": "2026-12-07",
        },
    ]
    persons = [
        {
            "post": post,
            "member": m,
            "status": "not_appointed" if m == committee[0] else "appointed",
            "objections": [OBJECTION_REFERENCE] if m == committee[0] else [],
        }
        for post, ids in elected.items()
        for m in ids
    ]
    appointment = {
        "format": "appointment/1",
        "procedure_id": b.procedure_id.hex(),
        "election_id": "11" * 32,
        "election_root": "33" * 32,
        "publicity_end": "2026-12-08",
        "date": "2026-12-10",
        "decision": "approved",
        "persons": persons,
        "objections": objections,
        "casework": {"casework_id": "00" * 31 + "01", "size": 9, "root": "44" * 32},
        "reference": "红组〔2026〕51号",
    }
    append_raw(b, "appointment.recorded", {"appointment": appointment, "town_signature": "AA=="})
    return b
