"""One driver of a branch's procedure file (spec/procedure.md, issue 18) for the demo town, the
tests' town and the procedure bundle vectors: the entries the work group's commands append and
the town's acts they record, each through :class:`tally.procedure_store.ProcedureStore` and
:mod:`tally.procedure_town`, from a plan of frozen values.

What differs between its callers is a parameter: the procedure (members, posts, officials), the
keys (:class:`Keys`), the clock's start and the random sources (:class:`Sources`: entry salts,
and ballot ids drawn by the printer or fixed), and the steps (:class:`Recommend`,
:class:`HigherLevel`, :class:`Propose`, :class:`Evaluate`, :class:`Vet`, :class:`Approve`,
:class:`Cosign`, :class:`Day`). The steps that need what only the caller has (the signed
manifest, the election file, the casework) are the driver's methods :meth:`ProcedureDriver.bind`,
:meth:`ProcedureDriver.conclude` and :meth:`ProcedureDriver.appoint`.

The clock: every entry one minute after the previous one, from :attr:`Sources.start`; a
:class:`Day` moves it to that day's hour when that is later; an explicit ``at`` sets it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import keys
from ballot_printer import (
    PaperKind,
    ProcedureForm,
    ballot_code,
    encode_procedure_qr_text,
    make_procedure_stock,
    parse_procedure_qr_text,
    procedure_stock_list_json,
)
from ballot_printer.procedure_qr import sign_procedure_payload
from ballot_printer.procedure_stock import ProcedureStock
from tally.casework_store import CaseworkStore
from tally.core.model import MemberId, PostKind
from tally.core.procedure import Procedure
from tally.core.procedure.entries import Form, ProcedureEntry
from tally.core.procedure.ledger import (
    count_body,
    evaluation_opening,
    proposal_body,
    vetting_body,
)
from tally.core.procedure.ranking import Omission
from tally.procedure_file import sign_procedure
from tally.procedure_store import ProcedureStore, Randomness
from tally.procedure_town import (
    appoint,
    approve,
    bind,
    conclude,
    recommend_higher_level,
    record_signed,
)

__all__ = [
    "Approve",
    "BallotIds",
    "BranchPlan",
    "Cosign",
    "Day",
    "Evaluate",
    "HigherLevel",
    "Keys",
    "Paper",
    "ProcedureDriver",
    "Propose",
    "Recommend",
    "Sources",
    "Step",
    "Vet",
    "drive",
]

TOWN_TIME: Final = dt.timezone(dt.timedelta(hours=8))
WORK_GROUP_ACTOR: Final = "组长"  # the file's opening, the town's acts recorded, bind, conclude
TELLER_ACTOR: Final = "计票人"  # the sessions' entries, the proposal, the vetting
_PAPER: Final = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}

#: A ballot's fixed id (16 bytes) from its stock's form, post ("" for the evaluation), round
#: and index: the vectors' stand-in for the printer's fresh ids.
BallotIds = Callable[[Form, str, int, int], bytes]


@dataclass(frozen=True, slots=True)
class Keys:
    """The town's key (signs the procedure and its acts), the work group's (signs the entries,
    the stocks and the checkpoints) and the scrutineers' (co-sign them: :class:`Cosign`)."""

    town: keys.Signer
    work_group: keys.Signer
    scrutineers: tuple[keys.Signer, ...] = ()


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the file's times and random bytes come from: the clock's reading before the first
    entry, the entries' salts, and the ballot ids (``None``: the printer draws and shuffles them,
    :func:`ballot_printer.make_procedure_stock`)."""

    start: dt.datetime
    random: Randomness = secrets.token_bytes
    ballot_ids: BallotIds | None = None


@dataclass(frozen=True, slots=True)
class Paper:
    """A recommendation ballot: the members marked, and the written rows as (name, member)."""

    names: tuple[str, ...]
    written: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Recommend:
    """(RP-3) A session of ``form`` for its pending posts: a stock of ``present`` ballots per
    post, ``present`` issued, each of ``papers[post]`` returned and entered, each post counted."""

    form: Form
    present: int
    papers: Mapping[str, Sequence[Paper]]
    present_members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HigherLevel:
    """(RP-4.3) The town's higher-level recommendation, signed by the town and recorded."""

    post: PostKind
    members: tuple[str, ...]
    reference: str


@dataclass(frozen=True, slots=True)
class Propose:
    """(RP-4) The committee's preliminary lists, computed from the ledger."""

    election_date: dt.date
    omissions: tuple[Omission, ...] = ()


#: An evaluation's papers, or how to write them from the round's candidates (in ballot order).
EvaluationPapers = Sequence[str] | Callable[[tuple[str, ...]], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Evaluate:
    """(RP-5) The due evaluation round: one ballot per paper, ``present_members`` present and
    the rest of the papers the public's, every ballot returned, entered and counted."""

    papers: EvaluationPapers
    present_members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vet:
    """(RP-5.5) The vetting of the last proposal's evaluated names."""


@dataclass(frozen=True, slots=True)
class Approve:
    """(RP-6) The town's approval of the vetted lists (in ``orders``, where the town sets the
    candidates' order), signed by the town and recorded by the work group."""

    reference: str
    orders: Mapping[PostKind, Sequence[MemberId]] | None = None


@dataclass(frozen=True, slots=True)
class Cosign:
    """Every scrutineer of :class:`Keys` co-signs the checkpoints so far."""


@dataclass(frozen=True, slots=True)
class Day:
    """The clock moves to ``hour`` o'clock of ``day`` (town time) if that is later."""

    day: dt.date
    hour: int = 9


Step = Recommend | HigherLevel | Propose | Evaluate | Vet | Approve | Cosign | Day


@dataclass(frozen=True, slots=True)
class BranchPlan:
    """A branch's procedure file from its creation: the procedure, keys, sources and steps."""

    procedure: Procedure
    keys: Keys
    sources: Sources
    steps: tuple[Step, ...] = ()


class ProcedureDriver:
    """A branch's procedure file, appended to as the work group's commands would."""

    def __init__(
        self, store: ProcedureStore, keys_: Keys, sources: Sources, at: dt.datetime | None = None
    ) -> None:
        self.store, self.keys, self.sources = store, keys_, sources
        self.at = sources.start if at is None else at
        self.random: Randomness = sources.random
        self.qrs: dict[tuple[Form, str, int], list[str]] = {}
        self.last: ProcedureEntry | None = None  # the entry appended last

    @classmethod
    def create(
        cls, path: Path, procedure: Procedure, keys_: Keys, sources: Sources
    ) -> ProcedureDriver:
        """A new procedure file at ``path`` (``procedure`` signed by the town), opened a minute
        after ``sources.start``."""
        at = sources.start + dt.timedelta(minutes=1)
        store = ProcedureStore.create(
            path,
            signed_procedure=sign_procedure(procedure, keys_.town),
            trust_root=keys_.town.public_key,
            work_group=keys_.work_group,
            at=at,
            actor=WORK_GROUP_ACTOR,
            random=sources.random,
        )
        return cls(store, keys_, sources, at)

    @classmethod
    def open(cls, path: Path, keys_: Keys, sources: Sources) -> ProcedureDriver:
        """The procedure file at ``path``, to append to (its clock from ``sources.start``)."""
        return cls(ProcedureStore.open(path), keys_, sources)

    @property
    def procedure(self) -> Procedure:
        return self.store.signed.procedure

    def close(self) -> None:
        self.store.close()

    def now(self) -> dt.datetime:
        """The next entry's time: one minute after the previous one."""
        self.at += dt.timedelta(minutes=1)
        return self.at

    def day(self, day: dt.date, hour: int = 9) -> None:
        """The clock moved to ``hour`` o'clock of ``day`` (town time), if that is later."""
        self.at = max(self.at, dt.datetime.combine(day, dt.time(hour), TOWN_TIME))

    def append(self, type_: str, body: Mapping[str, Any], **kw: Any) -> ProcedureEntry:
        """An entry the work group's commands append (the teller's)."""
        entry, _ = self.store.append(
            type_,
            body,
            at=self.now(),
            actor=TELLER_ACTOR,
            work_group=self.keys.work_group,
            random=self.random,
            **kw,
        )
        self.last = entry
        return entry

    def run(self, steps: Iterable[Step]) -> ProcedureDriver:
        """Perform ``steps`` in order."""
        for step in steps:
            self.step(step)
        return self

    def step(self, step: Step) -> None:
        """Perform one step of a plan."""
        match step:
            case Recommend():
                self._recommend(step)
            case HigherLevel():
                self._higher_level(step)
            case Propose():
                body = proposal_body(
                    self.store.ledger, election_date=step.election_date, omissions=step.omissions
                )
                self.append("preliminary.proposed", body.to_json())
            case Evaluate():
                self._evaluate(step)
            case Vet():
                self.append("vetting.recorded", vetting_body(self.store.ledger).to_json())
            case Approve():
                self._approve(step)
            case Cosign():
                for s in self.keys.scrutineers:
                    self.store.cosign(s)
            case Day():
                self.day(step.day, step.hour)

    # ------------------------------------------------------------------ the sessions

    def stock(self, form: Form, post: str, round_no: int, count: int) -> None:
        """(RP-3.6) A stock of ``count`` ballots committed: its sealed list and QR texts."""
        stock = self._make_stock(form, post, round_no, count)
        sealed = procedure_stock_list_json(stock)
        self.qrs[form, post, round_no] = [encode_procedure_qr_text(p) for p in stock.payloads]
        doc = json.loads(sealed)
        body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        self.append("stock.committed", body, stock_list=sealed)

    def _make_stock(self, form: Form, post: str, round_no: int, count: int) -> ProcedureStock:
        pid, paper = self.store.procedure_id, _PAPER.get(post)
        ids_of = self.sources.ballot_ids
        if ids_of is None:
            return make_procedure_stock(
                procedure_id=pid, form=ProcedureForm[form.name], post=paper,
                round_number=round_no, count=count, signer=self.keys.work_group,
            )  # fmt: skip
        ids = [ids_of(form, post, round_no, i) for i in range(count)]
        if len({ballot_code(i) for i in ids}) != count:
            raise ValueError(f"fixed ballot ids of {form.value} {post} {round_no}: codes collide")
        payloads = tuple(
            sign_procedure_payload(
                procedure_id=pid,
                form=ProcedureForm[form.name],
                post=paper,
                round_number=round_no,
                ballot_id=i,
                signer=self.keys.work_group,
            )
            for i in ids
        )
        return ProcedureStock(
            procedure_id=pid,
            form=ProcedureForm[form.name],
            post=paper,
            round_number=round_no,
            payloads=payloads,
        )

    def ballot(self, form: Form, post: str, round_no: int, i: int) -> dict[str, str]:
        """The ``i``-th ballot of a committed stock: its id (hex) and QR text."""
        qr = self.qrs[form, post, round_no][i]
        return {"ballot_id": parse_procedure_qr_text(qr).ballot_id.hex(), "qr": qr}

    def _numbers(self, form: Form, post: str, round_no: int, issued: int, returned: int) -> None:
        for type_, count in (("ballots.issued", issued), ("ballots.returned", returned)):
            self.append(
                type_, {"form": form.value, "post": post, "round": round_no, "count": count}
            )

    def _recommend(self, s: Recommend) -> None:
        ledger = self.store.ledger
        form, n = s.form, s.present
        round_no = ledger.next_round(form)
        posts = [p.value for p in ledger.pending_posts(form)]
        for post in posts:
            self.stock(form, post, round_no, n)
        self.append(
            "recommendation.opened",
            {
                "group": form.value,
                "round": round_no,
                "posts": posts,
                "present": n,
                "present_members": list(s.present_members),
            },
        )
        order = self.procedure.ballot_order
        for post in posts:
            papers = s.papers[post]
            self._numbers(form, post, round_no, n, len(papers))
            for i, paper in enumerate(papers):
                self.append(
                    "recommendation.entered",
                    {
                        "group": form.value,
                        "post": post,
                        "round": round_no,
                        **self.ballot(form, post, round_no, i),
                        "marks": "".join("o" if m in paper.names else "-" for m in order),
                        "written": [{"name": w, "member": m} for w, m in paper.written],
                    },
                )
            self.append(
                "recommendation.counted", count_body(self.store.ledger, form, PostKind(post))
            )

    def _higher_level(self, s: HigherLevel) -> None:
        body = recommend_higher_level(
            self.store,
            post=s.post,
            members=[MemberId(m) for m in s.members],
            reference=s.reference,
            town=self.keys.town,
        )
        self.append("higher_level.recommended", body)

    def _evaluate(self, s: Evaluate) -> None:
        opening = evaluation_opening(self.store.ledger)
        if opening is None:
            raise ValueError("no evaluation is due")
        round_no, version, persons = opening
        papers = list(s.papers(tuple(persons)) if callable(s.papers) else s.papers)
        n = len(papers)
        self.stock(Form.EVALUATION, "", round_no, n)
        self.append(
            "evaluation.opened",
            {
                "round": round_no,
                "version": version,
                "candidates": list(persons),
                "present_members": list(s.present_members),
                "public_present": n - len(s.present_members),
                "present": n,
            },
        )
        self._numbers(Form.EVALUATION, "", round_no, n, n)
        for i, paper in enumerate(papers):
            self.append(
                "evaluation.entered",
                {
                    "round": round_no,
                    **self.ballot(Form.EVALUATION, "", round_no, i),
                    "marks": paper,
                    "added_rows": 0,
                },
            )
        self.append("evaluation.counted", count_body(self.store.ledger, Form.EVALUATION, None))

    # ------------------------------------------------------------------ the town's acts

    def _approve(self, s: Approve) -> None:
        act = approve(self.store, reference=s.reference, town=self.keys.town, orders=s.orders)
        self.record(act)

    def record(self, act: Mapping[str, Any]) -> ProcedureEntry:
        """A town-signed act recorded by the work group (RP-6, RP-4.3, RP-10)."""
        self.last = record_signed(
            self.store,
            json.dumps(act, ensure_ascii=False).encode(),
            work_group=self.keys.work_group,
            at=self.now(),
            actor=WORK_GROUP_ACTOR,
            random=self.random,
        )
        return self.last

    def _at(self, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return self.now()
        self.at = at
        return at

    def bind(self, signed_manifest: bytes, at: dt.datetime | None = None) -> None:
        """(RP-7.1) Bind the town-signed manifest (at ``at``, or a minute after the last entry)."""
        bind(self.store, signed_manifest, work_group=self.keys.work_group, at=self._at(at),
             actor=WORK_GROUP_ACTOR, random=self.random)  # fmt: skip

    def conclude(self, election_file: Path, at: dt.datetime | None = None) -> None:
        """(RP-7.2) Record the election's result from its file."""
        conclude(self.store, election_file, work_group=self.keys.work_group, at=self._at(at),
                 actor=WORK_GROUP_ACTOR, random=self.random)  # fmt: skip

    def appoint(
        self,
        casework: CaseworkStore,
        *,
        casework_signer: keys.Signer,
        date: dt.date,
        reference: str,
        at: dt.datetime | None = None,
    ) -> None:
        """(RP-10) The town's appointment on ``date``, after the casework's objections.

        Raises:
            TallyError: every refusal of :func:`tally.procedure_town.appoint`.
        """
        appoint(
            self.store,
            casework,
            casework_signer=casework_signer,
            town=self.keys.town,
            date=date,
            reference=reference,
            work_group=self.keys.work_group,
            at=self._at(at),
            actor=WORK_GROUP_ACTOR,
            random=self.random,
        )


def drive(path: Path, plan: BranchPlan) -> ProcedureDriver:
    """A new procedure file at ``path`` through ``plan``'s steps; the driver, still open."""
    driver = ProcedureDriver.create(path, plan.procedure, plan.keys, plan.sources)
    try:
        return driver.run(plan.steps)
    except BaseException:
        driver.close()
        raise
