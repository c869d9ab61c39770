"""The demo town's branch procedure (spec/procedure.md, issue 18): for every branch, before its
election, the procedure definition signed by the town, the members' and the public
recommendation with ballots drawn from the seed, the proposal, the evaluation, the vetting and
the town's approval; the election definition is then made from the approval as ``tally
procedure manifest`` makes it (RP-6.5), or, for a branch whose planned scenario needs the demo's
own candidate lists, the demo's definition is kept; either manifest is bound to the procedure,
the result concluded after the election, and the town's appointment made once the casework's
objections allow it (ADR 0054, amended). The town report's
figures of the procedure are :mod:`tally.town_report`'s.

Everything goes through the store and the town's acts (tally.procedure_store,
tally.procedure_town), not through subprocesses.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ballot_printer
import keys
from ballot_printer.procedure_notice import render_procedure_notice_pdf
from tally.casework_store import CaseworkStore
from tally.core.errors import TallyError
from tally.core.model import PostKind
from tally.core.procedure import build_procedure
from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import (
    count_body,
    evaluation_opening,
    proposal_body,
    vetting_body,
)
from tally.core.procedure.public import public_view
from tally.procedure_file import sign_procedure
from tally.procedure_store import ProcedureStore
from tally.procedure_town import (
    appoint,
    approve,
    bind,
    conclude,
    election_definition,
    record_signed,
)

__all__ = [
    "APPOINTMENT_DATE",
    "AppointmentOutcome",
    "ApprovedProcedure",
    "appoint_branch",
    "conclude_branch",
    "publish_procedure",
    "run_procedure",
]

TOWN_TIME: Final = dt.timezone(dt.timedelta(hours=8))
#: The day the town appoints (after publicity and after the casework's day of concluding).
APPOINTMENT_DATE: Final = dt.date(2026, 12, 28)
_PUBLIC: Final = 30  # the public representatives the town fixed for every demo branch


@dataclass(frozen=True, slots=True)
class AppointmentOutcome:
    """The appointment step's outcome: recorded, or left pending with the refusal's code."""

    recorded: bool
    code: str = ""


class _Clock:
    """The procedure's times: one minute per entry from the branch's start day."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(minutes=1)
        return self.at

    def day(self, day: dt.date, hour: int = 9) -> None:
        self.at = max(self.at, dt.datetime.combine(day, dt.time(hour), TOWN_TIME))


def procedure_input(definition: Mapping[str, Any], index: int, casework_id: str) -> dict[str, Any]:
    """The ``procedure/1`` input of a demo branch, from its election definition: the same
    members, posts and officials (two scrutineers: the procedure's keys are the election's)."""
    e = definition["election"]
    full = [m["id"] for m in definition["members"] if m["status"] == "full"]
    return {
        "format": "procedure/1",
        "casework_id": casework_id,
        "ballot_order": full,
        "election": {
            "title": e["title"],
            "branch": e["branch"],
            "branch_code": f"B{index + 1:02d}",
            "town": e["town"],
            "term": e["term"],
        },
        "secretary": dict(definition["secretary"]),
        # The committee's preliminary list one longer than the formal one (RP-2.2: L <= 2S),
        # so that the evaluation has a name to stop.
        "posts": [
            {"post": p["post"], "seats": p["seats"]}
            | ({"preliminary_size": p["seats"] + 2} if p["post"] == "committee" else {})
            for p in definition["posts"]
        ],
        "recommendation": {"public_representatives": _PUBLIC},
        "officials": {"scrutineers": [full[-1], full[-3]], "tellers": [full[-2]]},
        "members": definition["members"],
        # the election's R27 parameters, where the demo's definition sets any (RP-6.5 binds them)
        **(
            {"qualifications": _r27(definition["parameters"])} if "parameters" in definition else {}
        ),
    }


_R27: Final = (
    "qualification_policy",
    "secretary_new_max_age",
    "secretary_new_min_education",
    "secretary_continuing_max_age",
    "secretary_continuing_min_education",
)


def _r27(parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in parameters.items() if k in _R27}


class _Branch:
    """One branch's procedure file, appended to as the work group's commands would."""

    def __init__(self, store: ProcedureStore, wg: keys.Signer, clock: _Clock) -> None:
        self.store, self.wg, self.clock = store, wg, clock
        self.qrs: dict[tuple[Form, str, int], list[str]] = {}

    def append(self, type_: str, body: Mapping[str, Any], **kw: Any) -> None:
        self.store.append(
            type_,
            body,
            at=self.clock(),
            actor="计票人",
            work_group=self.wg,
            random=secrets.token_bytes,
            **kw,
        )

    def stock(self, form: Form, post: str, round_no: int, count: int) -> None:
        paper = {"committee": ballot_printer.PaperKind.COMMITTEE,
                 "secretary": ballot_printer.PaperKind.SECRETARY}.get(post)  # fmt: skip
        stock = ballot_printer.make_procedure_stock(
            procedure_id=self.store.procedure_id,
            form=ballot_printer.ProcedureForm[form.name],
            post=paper,
            round_number=round_no,
            count=count,
            signer=self.wg,
        )
        sealed = ballot_printer.procedure_stock_list_json(stock)
        self.qrs[form, post, round_no] = [
            ballot_printer.encode_procedure_qr_text(p) for p in stock.payloads
        ]
        doc = json.loads(sealed)
        body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        self.append("stock.committed", body, stock_list=sealed)

    def ballot(self, form: Form, post: str, round_no: int, i: int) -> dict[str, str]:
        qr = self.qrs[form, post, round_no][i]
        parsed = ballot_printer.parse_procedure_qr_text(qr)
        return {"ballot_id": parsed.ballot_id.hex(), "qr": qr}

    def issue_return(self, form: Form, post: str, round_no: int, n: int, back: int) -> None:
        for type_, count in (("ballots.issued", n), ("ballots.returned", back)):
            self.append(
                type_, {"form": form.value, "post": post, "round": round_no, "count": count}
            )


def _papers(
    rng: random.Random, posts: Sequence[Mapping[str, Any]], n: int, extra: str = ""
) -> dict[str, list[list[str]]]:
    """``n`` recommendation ballots per post: each names the post's seats among the demo's
    candidates (one left out at random), a few name fewer; the secretary's first candidate is
    named most; with ``extra``, one ballot in six names that member for the committee instead
    (a preliminary name the evaluation then stops)."""
    out: dict[str, list[list[str]]] = {}
    for p in posts:
        cands = list(p["candidates"])
        papers = []
        for _ in range(n):
            if p["post"] == "secretary":
                papers.append([cands[0] if rng.random() < 0.7 else cands[-1]])
                continue
            left_out = rng.choice(cands)
            chosen = [c for c in cands if c != left_out][: p["seats"]]
            if extra and rng.random() < 1 / 6:
                chosen = [*chosen[:-1], extra]
            papers.append(chosen[: p["seats"] - 1] if rng.random() < 0.1 else chosen)
        out[p["post"]] = papers
    return out


def _recommend(
    b: _Branch, form: Form, present: int, papers: Mapping[str, Sequence[Sequence[str]]]
) -> None:
    """One recommendation session of ``form``: stocks, opening, every ballot entered, counts."""
    ledger = b.store.ledger
    order = b.store.signed.procedure.ballot_order
    round_no = ledger.next_round(form)
    posts = [p.value for p in ledger.pending_posts(form)]
    for post in posts:
        b.stock(form, post, round_no, present)
    procedure = b.store.signed.procedure
    # (RP-3.2) a members' session's scrutineers are among the members present
    first = [m for m in procedure.expected_electors if m in procedure.officials.scrutineers]
    rest = [m for m in procedure.expected_electors if m not in first]
    members = [*first, *rest][:present]
    b.append(
        "recommendation.opened",
        {
            "group": form.value,
            "round": round_no,
            "posts": posts,
            "present": present,
            "present_members": members if form is Form.MEMBER else [],
        },
    )
    for post in posts:
        chosen = papers[post][:present]
        b.issue_return(form, post, round_no, present, len(chosen))
        for i, names in enumerate(chosen):
            b.append(
                "recommendation.entered",
                {
                    "group": form.value,
                    "post": post,
                    "round": round_no,
                    **b.ballot(form, post, round_no, i),
                    "marks": "".join("o" if m in names else "-" for m in order),
                    "written": [],
                },
            )
        b.append("recommendation.counted", count_body(b.store.ledger, form, PostKind(post)))


def _evaluate(b: _Branch, present: int, rng: random.Random, doubted: str = "") -> None:
    """The democratic evaluation: most papers satisfied, some fairly; ``doubted`` is marked not
    satisfied on two papers in three, the others fairly, so it never proceeds (the approval is
    then the demo's planned lists, which a planned scenario's own manifest must equal: drawn at
    random, the seed 2026 gave it 8 of 26 and its approval a seventh committee candidate)."""
    opening = evaluation_opening(b.store.ledger)
    if opening is None:
        raise ValueError("no evaluation is due")
    round_no, version, persons = opening
    b.stock(Form.EVALUATION, "", round_no, present)
    b.append(
        "evaluation.opened",
        {
            "round": round_no,
            "version": version,
            "candidates": list(persons),
            "present_members": [],
            "public_present": present,
            "present": present,
        },
    )
    b.issue_return(Form.EVALUATION, "", round_no, present, present)
    for i in range(present):
        paper = "".join(
            ("b" if i % 3 == 0 else "d") if m == doubted else rng.choice("sssssb") for m in persons
        )
        b.append(
            "evaluation.entered",
            {
                "round": round_no,
                **b.ballot(Form.EVALUATION, "", round_no, i),
                "marks": paper,
                "added_rows": 0,
            },
        )
    b.append("evaluation.counted", count_body(b.store.ledger, Form.EVALUATION, None))


@dataclass(frozen=True, slots=True)
class ApprovedProcedure:
    """A branch's procedure file, open after the town's approval, until the election is bound."""

    store: ProcedureStore
    wg: keys.Signer
    clock: _Clock

    def election_definition(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """(RP-6.5) The election definition made from the approval by the function ``tally
        procedure manifest`` uses (:func:`tally.procedure_town.election_definition`), from the
        work group's draft: the demo definition's meeting date, objections address, officials,
        preset and remote voting; the posts, candidates, secretary body, publicity length,
        roster, exclusions and R27 parameters come from the approval and the procedure."""
        e = definition["election"]
        draft = {k: definition[k] for k in ("format", "preset", "officials", "remote_voting")
                 if k in definition}  # fmt: skip
        draft["election"] = {"date": e["date"], "objections_to": e["objections_to"]}
        return election_definition(self.store, draft)

    def bind(self, signed_manifest: bytes) -> None:
        """(RP-7.1) Bind the town-signed manifest, a minute after the approval (``bind``
        refuses a manifest that differs from the approval, RP-6.5)."""
        bind(self.store, signed_manifest, work_group=self.wg, at=self.clock(), actor="组长",
             random=secrets.token_bytes)  # fmt: skip


@contextmanager
def run_procedure(
    folder: Path,
    definition: Mapping[str, Any],
    signers: Mapping[str, keys.InMemorySigner],
    *,
    index: int,
    casework_id: str,
    seed: int,
) -> Iterator[ApprovedProcedure]:
    """The branch's procedure up to the town's approval, in ``folder/procedure.sqlite``: the
    definition signed by the town, both groups' recommendation, the proposal, the evaluation,
    the vetting and the approval (the secretary's list in the demo's candidate order, as the
    town sets it); yields the open file for the election's definition and binding."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data
    pub = [json.loads(keys.export_public_key(signers[k].public_key)) for k in ("wg", "s1", "s2")]
    procedure = build_procedure(
        procedure_input(definition, index, casework_id),
        work_group_key=pub[0],
        scrutineer_keys=pub[1:],
    )
    town, wg = signers["town"], signers["wg"]
    election_date = dt.date.fromisoformat(str(definition["election"]["date"]))
    start = election_date - dt.timedelta(days=43)  # six weeks before the meeting
    clock = _Clock(dt.datetime.combine(start, dt.time(9), TOWN_TIME))
    store = ProcedureStore.create(
        folder / "procedure.sqlite",
        signed_procedure=sign_procedure(procedure, town),
        trust_root=town.public_key,
        work_group=wg,
        at=clock(),
        actor="组长",
        random=secrets.token_bytes,
    )
    try:
        b = _Branch(store, wg, clock)
        members = len(procedure.expected_electors)
        present = max(1, members - rng.randint(0, max(0, members // 6)))
        posts = definition["posts"]
        committee = [p for p in posts if p["post"] == "committee"]
        extra = procedure.ballot_order[committee[0]["seats"] + 1] if committee else ""
        _recommend(b, Form.MEMBER, present, _papers(rng, posts, present, extra))
        clock.day(start + dt.timedelta(days=2))
        _recommend(b, Form.PUBLIC, _PUBLIC - 2, _papers(rng, posts, _PUBLIC, extra))
        clock.day(start + dt.timedelta(days=7))
        b.append(
            "preliminary.proposed",
            proposal_body(store.ledger, election_date=election_date).to_json(),
        )
        clock.day(start + dt.timedelta(days=14))
        _evaluate(b, _PUBLIC - 4, rng, extra)
        clock.day(start + dt.timedelta(days=21))
        b.append("vetting.recorded", vetting_body(store.ledger).to_json())
        orders = {PostKind(p["post"]): list(p["candidates"]) for p in definition["posts"]}
        act = approve(store, reference=f"红组〔2026〕{40 + index}号", town=town, orders=orders)
        clock.day(start + dt.timedelta(days=28))
        record_signed(
            store,
            json.dumps(act, ensure_ascii=False).encode(),
            work_group=wg,
            at=clock(),
            actor="组长",
            random=secrets.token_bytes,
        )
        yield ApprovedProcedure(store, wg, clock)
    finally:
        store.close()


def conclude_branch(folder: Path, wg: keys.Signer, day: dt.date) -> None:
    """(RP-7.2) Record the branch's election result in its procedure file, in the evening of the
    meeting's ``day``."""
    store = ProcedureStore.open(folder / "procedure.sqlite")
    try:
        at = dt.datetime.combine(day, dt.time(18), TOWN_TIME)
        conclude(store, folder / "election.db", work_group=wg, at=at, actor="组长",
                 random=secrets.token_bytes)  # fmt: skip
    finally:
        store.close()


def appoint_branch(
    folder: Path,
    casework: CaseworkStore,
    *,
    casework_signer: keys.Signer,
    signers: Mapping[str, keys.InMemorySigner],
    index: int,
) -> AppointmentOutcome:
    """(RP-10) The town's appointment on :data:`APPOINTMENT_DATE`; a refusal (an objection
    still open) leaves it pending, and its code is returned."""
    store = ProcedureStore.open(folder / "procedure.sqlite")
    try:
        appoint(
            store,
            casework,
            casework_signer=casework_signer,
            town=signers["town"],
            date=APPOINTMENT_DATE,
            reference=f"红组〔2026〕{80 + index}号",
            work_group=signers["wg"],
            at=dt.datetime.combine(APPOINTMENT_DATE, dt.time(10), TOWN_TIME),
            actor="组长",
            random=secrets.token_bytes,
        )
    except TallyError as e:
        return AppointmentOutcome(recorded=False, code=e.code)
    finally:
        store.close()
    return AppointmentOutcome(recorded=True)


def publish_procedure(folder: Path, lang: str = "zh") -> None:
    """The procedure bundle beside the election bundle (``published/procedure``) and its
    public notice (``published/procedure-notice.pdf``)."""
    store = ProcedureStore.open(folder / "procedure.sqlite")
    try:
        files = store.bundle_files()
        doc = public_view(store.signed.procedure, store.entries()).to_json()
    finally:
        store.close()
    out = folder / "published" / "procedure"
    for f in files:
        (out / f.path).parent.mkdir(parents=True, exist_ok=True)
        (out / f.path).write_bytes(f.data)
    render_procedure_notice_pdf(doc, folder / "published" / "procedure-notice.pdf", lang=lang)
