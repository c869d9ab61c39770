"""Builders for the procedure log tests (spec/procedure.md RP-11.1): a ledger moved entry by entry
through the pure core, with fixed salts, times and ballot ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ballot_printer import (
    PaperKind,
    ProcedureForm,
    encode_procedure_qr_text,
    make_procedure_stock,
    parse_procedure_qr_text,
    procedure_stock_list_json,
)
from tally.core.model import MemberId, PostKind
from tally.core.procedure import Procedure, procedure_id_of, render_procedure
from tally.core.procedure.entries import Form, ProcedureEntry, make_entry
from tally.core.procedure.ledger import (
    Ledger,
    apply_entry,
    count_body,
    evaluation_opening,
    open_ledger,
    proposal_body,
    vetting_body,
)
from tally.procedure_file import sign_procedure
from tally.procedure_store import ProcedureStore
from tests.helpers.procedure import TOWN, WORK_GROUP, build

TOWN_TIME = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=TOWN_TIME)
ELECTION_DATE = dt.date(2026, 12, 1)


def marks(procedure: Procedure, chosen: Sequence[str], default: str = "-") -> str:
    """Listed-layout marks: ``o`` for each member of ``chosen``, ``default`` elsewhere."""
    return "".join("o" if m in chosen else default for m in procedure.ballot_order)


class LogBuilder:
    """A procedure log built in memory: ``append`` applies each entry to the ledger."""

    def __init__(self, procedure: Procedure | None = None) -> None:
        self.procedure = procedure or build()
        self.procedure_id = procedure_id_of(render_procedure(self.procedure))
        self.ledger: Ledger = open_ledger(self.procedure, self.procedure_id)
        self.entries: list[ProcedureEntry] = []
        self.stock_ids: dict[tuple[Form, str, int], list[str]] = {}
        self.append("procedure.opened", {"procedure_id": self.procedure_id.hex()})

    def entry(
        self, type_: str, body: Mapping[str, Any], *, minutes: int | None = None
    ) -> ProcedureEntry:
        """The next entry (not applied)."""
        n = self.ledger.size
        at = START + dt.timedelta(minutes=n if minutes is None else minutes)
        return make_entry(
            n, self.ledger.prev, type_, body, at=at, actor="teller", salt=bytes([n % 256]) * 32
        )

    def append(
        self, type_: str, body: Mapping[str, Any], stock_ids: frozenset[str] | None = None
    ) -> ProcedureEntry:
        e = self.entry(type_, body)
        self.ledger = apply_entry(self.ledger, e, stock_ids=stock_ids)
        self.entries.append(e)
        return e

    # -- stocks and sessions -------------------------------------------------------------------
    def stock(self, form: Form, post: str, round_no: int, count: int) -> list[str]:
        ids = [
            hashlib.sha256(f"{form}/{post}/{round_no}/{i}".encode()).hexdigest()[:32]
            for i in range(count)
        ]
        self.append(
            "stock.committed",
            {
                "form": form.value,
                "post": post,
                "round": round_no,
                "count": count,
                "commitment": "ab" * 32,
            },
            stock_ids=frozenset(ids),
        )
        self.stock_ids[form, post, round_no] = ids
        return ids

    def members_present(self, n: int) -> list[MemberId]:
        return list(self.procedure.expected_electors[:n])

    def open_members(self, n: int, round_no: int = 1) -> None:
        present = self.members_present(n)
        self.append(
            "recommendation.opened",
            {
                "group": "member",
                "round": round_no,
                "posts": [p.value for p in self.ledger.pending_posts(Form.MEMBER)],
                "present": n,
                "present_members": present,
            },
        )

    def open_public(self, n: int, round_no: int = 1) -> None:
        self.append(
            "recommendation.opened",
            {
                "group": "public",
                "round": round_no,
                "posts": [p.value for p in self.ledger.pending_posts(Form.PUBLIC)],
                "present": n,
                "present_members": [],
            },
        )

    def issue_return(
        self, form: Form, post: str, round_no: int, issued: int, returned: int
    ) -> None:
        for type_, count in (("ballots.issued", issued), ("ballots.returned", returned)):
            self.append(
                type_, {"form": form.value, "post": post, "round": round_no, "count": count}
            )

    def enter(
        self,
        form: Form,
        post: str,
        round_no: int,
        index: int,
        ballot_marks: str,
        written: Sequence[Mapping[str, str]] = (),
    ) -> ProcedureEntry:
        ballot_id = self.stock_ids[form, post, round_no][index]
        if form is Form.EVALUATION:
            return self.append(
                "evaluation.entered",
                {
                    "round": round_no,
                    "ballot_id": ballot_id,
                    "qr": "BP1:TEST",
                    "marks": ballot_marks,
                    "added_rows": 0,
                },
            )
        return self.append(
            "recommendation.entered",
            {
                "group": form.value,
                "post": post,
                "round": round_no,
                "ballot_id": ballot_id,
                "qr": "BP1:TEST",
                "marks": ballot_marks,
                "written": [dict(w) for w in written],
            },
        )

    def count(self, form: Form, post: PostKind | None) -> ProcedureEntry:
        body = count_body(self.ledger, form, post)
        type_ = "evaluation.counted" if form is Form.EVALUATION else "recommendation.counted"
        return self.append(type_, body)

    # -- whole steps ---------------------------------------------------------------------------
    def recommend(
        self, form: Form, present: int, ballots: Mapping[str, Sequence[Sequence[str]]]
    ) -> None:
        """A session of ``form`` with ``present`` electors; per post, one ballot per list of
        members recommended (as many ballots as present), each entered and counted."""
        round_no = self.ledger.next_round(form)
        for post in ballots:
            self.stock(form, post, round_no, present)
        if form is Form.MEMBER:
            self.open_members(present, round_no)
        else:
            self.open_public(present, round_no)
        for post, papers in ballots.items():
            self.issue_return(form, post, round_no, present, len(papers))
            for i, chosen in enumerate(papers):
                self.enter(form, post, round_no, i, marks(self.procedure, chosen))
            self.count(form, PostKind(post))

    def propose(self) -> ProcedureEntry:
        body = proposal_body(self.ledger, election_date=ELECTION_DATE).to_json()
        return self.append("preliminary.proposed", body)

    def evaluate(self, public_present: int, papers: Sequence[str]) -> None:
        opening = evaluation_opening(self.ledger)
        assert opening is not None
        round_no, version, persons = opening
        self.stock(Form.EVALUATION, "", round_no, len(papers) + 5)
        self.append(
            "evaluation.opened",
            {
                "round": round_no,
                "version": version,
                "candidates": list(persons),
                "present_members": [],
                "public_present": public_present,
                "present": public_present,
            },
        )
        self.issue_return(Form.EVALUATION, "", round_no, public_present, len(papers))
        for i, paper in enumerate(papers):
            self.enter(Form.EVALUATION, "", round_no, i, paper)
        self.count(Form.EVALUATION, None)

    def vet(self) -> ProcedureEntry:
        return self.append("vetting.recorded", vetting_body(self.ledger).to_json())


def recommended_branch() -> LogBuilder:
    """The example branch through both groups' recommendation of both posts: M001..M007 are
    recommended for the committee, M023 and M002 for the secretary."""
    b = LogBuilder()
    order = b.procedure.ballot_order
    committee = [list(order[:5])] * 14 + [list(order[2:7])] * 6
    secretary = [[order[2]]] * 12 + [[order[3]]] * 8
    b.recommend(Form.MEMBER, 20, {"committee": committee, "secretary": secretary})
    b.recommend(Form.PUBLIC, 40, {"committee": committee * 2, "secretary": secretary * 2})
    return b


class StoreDriver:
    """A procedure file driven as the CLI drives it: real stocks (signed ``BP1:`` QRs, sealed
    lists), the work group key of the example, fixed salts and times."""

    def __init__(self, path: Path, procedure: Procedure | None = None) -> None:
        self.procedure = procedure or build()
        self.signed = sign_procedure(self.procedure, TOWN)
        self.minutes = 0
        self._salt = 0
        self.qrs: dict[tuple[Form, str, int], list[str]] = {}
        self.store = ProcedureStore.create(
            path,
            signed_procedure=self.signed,
            trust_root=TOWN.public_key,
            work_group=WORK_GROUP,
            at=self.now(),
            actor="组长",
            random=self.random,
        )

    def random(self, n: int) -> bytes:
        self._salt += 1
        return hashlib.sha256(f"salt {self._salt}".encode()).digest()[:n]

    def now(self) -> dt.datetime:
        self.minutes += 1
        return START + dt.timedelta(minutes=self.minutes)

    def append(
        self, type_: str, body: Mapping[str, Any], stock_list: bytes | None = None
    ) -> tuple[ProcedureEntry, str | None]:
        return self.store.append(
            type_,
            body,
            at=self.now(),
            actor="计票人",
            work_group=WORK_GROUP,
            random=self.random,
            stock_list=stock_list,
        )

    def stock(self, form: Form, post: str, round_no: int, count: int) -> bytes:
        paper = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}.get(post)
        stock = make_procedure_stock(
            procedure_id=self.store.procedure_id,
            form=ProcedureForm[form.name],
            post=paper,
            round_number=round_no,
            count=count,
            signer=WORK_GROUP,
        )
        sealed = procedure_stock_list_json(stock)
        self.qrs[form, post, round_no] = [encode_procedure_qr_text(p) for p in stock.payloads]
        doc = json.loads(sealed)
        body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        self.append("stock.committed", body, stock_list=sealed)
        return sealed

    def ballot(self, form: Form, post: str, round_no: int, index: int) -> tuple[str, str]:
        """(ballot id hex, QR text) of a printed ballot."""
        qr = self.qrs[form, post, round_no][index]
        return parse_procedure_qr_text(qr).ballot_id.hex(), qr
