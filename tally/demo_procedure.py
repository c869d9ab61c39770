"""The demo town's branch procedure (spec/procedure.md, issue 18): for every branch, before its
election, the procedure definition signed by the town, the members' and the public
recommendation with ballots drawn from the seed, the proposal, the evaluation, the vetting and
the town's approval; the election definition is then made from the approval as ``tally
procedure manifest`` makes it (RP-6.5), or, for a branch whose planned scenario needs the demo's
own candidate lists, the demo's definition is kept; either manifest is bound to the procedure,
the result concluded after the election, and the town's appointment made once the casework's
objections allow it (ADR 0054, amended). The town report's
figures of the procedure are :mod:`tally.town_report`'s.

Everything goes through the one driver of procedure files (tally.procedure_driver, over the
store and the town's acts), not through subprocesses: this module only makes the branch's plan.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import keys
from ballot_printer.procedure_notice import render_procedure_notice_pdf
from tally.casework_store import CaseworkStore
from tally.core.errors import TallyError
from tally.core.model import MemberId, PostKind
from tally.core.procedure import Procedure, build_procedure
from tally.core.procedure.entries import Form
from tally.core.procedure.public import public_view
from tally.procedure_driver import (
    Approve,
    BranchPlan,
    Day,
    Evaluate,
    Keys,
    Paper,
    ProcedureDriver,
    Propose,
    Recommend,
    Sources,
    Step,
    Vet,
    drive,
)
from tally.procedure_store import ProcedureStore
from tally.procedure_town import election_definition

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


def _papers(
    rng: random.Random, posts: Sequence[Mapping[str, Any]], n: int, extra: str = ""
) -> dict[str, list[Paper]]:
    """``n`` recommendation ballots per post: each names the post's seats among the demo's
    candidates (one left out at random), a few name fewer; the secretary's first candidate is
    named most; with ``extra``, one ballot in six names that member for the committee instead
    (a preliminary name the evaluation then stops)."""
    out: dict[str, list[Paper]] = {}
    for p in posts:
        cands = list(p["candidates"])
        papers = []
        for _ in range(n):
            if p["post"] == "secretary":
                papers.append(Paper((cands[0] if rng.random() < 0.7 else cands[-1],)))
                continue
            left_out = rng.choice(cands)
            chosen = [c for c in cands if c != left_out][: p["seats"]]
            if extra and rng.random() < 1 / 6:
                chosen = [*chosen[:-1], extra]
            papers.append(Paper(tuple(chosen[: p["seats"] - 1] if rng.random() < 0.1 else chosen)))
        out[p["post"]] = papers
    return out


def _session(
    procedure: Procedure, form: Form, present: int, papers: Mapping[str, Sequence[Paper]]
) -> Recommend:
    """One recommendation session of ``form``: ``present`` ballots per post, the first
    ``present`` papers entered; (RP-3.2) a members' session's scrutineers among those present."""
    first = [m for m in procedure.expected_electors if m in procedure.officials.scrutineers]
    rest = [m for m in procedure.expected_electors if m not in first]
    members = tuple([*first, *rest][:present]) if form is Form.MEMBER else ()
    chosen = {post: tuple(rows[:present]) for post, rows in papers.items()}
    return Recommend(form, present, chosen, present_members=members)


def _evaluation(present: int, rng: random.Random, doubted: str = "") -> Evaluate:
    """The democratic evaluation: most papers satisfied, some fairly; ``doubted`` is marked not
    satisfied on two papers in three, the others fairly, so it never proceeds (the approval is
    then the demo's planned lists, which a planned scenario's own manifest must equal: drawn at
    random, the seed 2026 gave it 8 of 26 and its approval a seventh committee candidate). The
    papers are drawn when the round opens, from its candidates."""

    def papers(persons: tuple[str, ...]) -> list[str]:
        return [
            "".join(
                ("b" if i % 3 == 0 else "d") if m == doubted else rng.choice("sssssb")
                for m in persons
            )
            for i in range(present)
        ]

    return Evaluate(papers)


@dataclass(frozen=True, slots=True)
class ApprovedProcedure:
    """A branch's procedure file, open after the town's approval, until the election is bound."""

    driver: ProcedureDriver

    @property
    def store(self) -> ProcedureStore:
        return self.driver.store

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
        self.driver.bind(signed_manifest)


def _keys(signers: Mapping[str, keys.Signer]) -> Keys:
    return Keys(town=signers["town"], work_group=signers["wg"])


def _steps(
    procedure: Procedure,
    definition: Mapping[str, Any],
    rng: random.Random,
    index: int,
    start: dt.date,
) -> tuple[Step, ...]:
    """The branch's steps up to the approval: both groups' recommendation, the proposal, the
    evaluation, the vetting and the approval, a week apart, from ``start``."""
    members = len(procedure.expected_electors)
    present = max(1, members - rng.randint(0, max(0, members // 6)))
    posts = definition["posts"]
    committee = [p for p in posts if p["post"] == "committee"]
    extra = procedure.ballot_order[committee[0]["seats"] + 1] if committee else ""
    member_papers = _papers(rng, posts, present, extra)
    public_papers = _papers(rng, posts, _PUBLIC, extra)
    orders = {PostKind(p["post"]): [MemberId(c) for c in p["candidates"]] for p in posts}
    election_date = dt.date.fromisoformat(str(definition["election"]["date"]))

    def on(days: int) -> Day:
        return Day(start + dt.timedelta(days=days))

    return (
        _session(procedure, Form.MEMBER, present, member_papers),
        on(2),
        _session(procedure, Form.PUBLIC, _PUBLIC - 2, public_papers),
        on(7),
        Propose(election_date=election_date),
        on(14),
        _evaluation(_PUBLIC - 4, rng, extra),
        on(21),
        Vet(),
        on(28),
        Approve(reference=f"红组〔2026〕{40 + index}号", orders=orders),
    )


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
    election_date = dt.date.fromisoformat(str(definition["election"]["date"]))
    start = election_date - dt.timedelta(days=43)  # six weeks before the meeting
    sources = Sources(start=dt.datetime.combine(start, dt.time(9), TOWN_TIME))
    plan = BranchPlan(
        procedure, _keys(signers), sources, _steps(procedure, definition, rng, index, start)
    )
    driver = drive(folder / "procedure.sqlite", plan)
    try:
        yield ApprovedProcedure(driver)
    finally:
        driver.close()


def _open(folder: Path, signers: Mapping[str, keys.Signer], at: dt.datetime) -> ProcedureDriver:
    """The branch's procedure file, to append to at ``at``."""
    return ProcedureDriver.open(folder / "procedure.sqlite", _keys(signers), Sources(start=at))


def conclude_branch(folder: Path, signers: Mapping[str, keys.Signer], day: dt.date) -> None:
    """(RP-7.2) Record the branch's election result in its procedure file, in the evening of the
    meeting's ``day``."""
    at = dt.datetime.combine(day, dt.time(18), TOWN_TIME)
    driver = _open(folder, signers, at)
    try:
        driver.conclude(folder / "election.db", at=at)
    finally:
        driver.close()


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
    at = dt.datetime.combine(APPOINTMENT_DATE, dt.time(10), TOWN_TIME)
    driver = _open(folder, signers, at)
    try:
        driver.appoint(
            casework,
            casework_signer=casework_signer,
            date=APPOINTMENT_DATE,
            reference=f"红组〔2026〕{80 + index}号",
            at=at,
        )
    except TallyError as e:
        return AppointmentOutcome(recorded=False, code=e.code)
    finally:
        driver.close()
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
