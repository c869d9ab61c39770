"""A branch procedure file driven through the store from the recommendation to the vetting, for the
town's acts (spec/procedure.md §6.4, §7, §10): real stocks and QRs, fixed salts and times, any keys.

``VettedBranch(path)`` uses the fixed keys of tests.helpers.procedure; the integration test passes
key files' signers and a procedure built with their public keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keys
from ballot_printer import (
    PaperKind,
    ProcedureForm,
    encode_procedure_qr_text,
    make_procedure_stock,
    parse_procedure_qr_text,
    procedure_stock_list_json,
)
from tally.core.model import PostKind
from tally.core.procedure import Procedure
from tally.core.procedure.entries import Form, ProcedureEntry
from tally.core.procedure.ledger import (
    count_body,
    evaluation_opening,
    proposal_body,
    vetting_body,
)
from tally.procedure_file import sign_procedure
from tally.procedure_store import ProcedureStore
from tests.helpers.procedure import TOWN, WORK_GROUP, build
from tests.helpers.procedure_log import ELECTION_DATE, START, marks

# Committee: M001 M022 M023 M002 M003 by 14 ballots, M023 M002 M003 M014 M005 by 6 (a tie of
# M014 and M005 at the cut); secretary: M002 by 12, M004 by 8 (M004 joins the committee's list).
COMMITTEE_BALLOTS = [["M001", "M022", "M023", "M002", "M003"]] * 14 + [
    ["M023", "M002", "M003", "M014", "M005"]
] * 6
SECRETARY_BALLOTS = [["M002"]] * 12 + [["M004"]] * 8
COMMITTEE = ["M001", "M022", "M023", "M002", "M003", "M004", "M014", "M005"]
SECRETARY = ["M002", "M004"]


class VettedBranch:
    """A procedure file: ``recommend``, ``propose``, ``evaluate`` and ``vet`` append the entries
    the work group's commands would, each through :meth:`ProcedureStore.append`."""

    def __init__(
        self,
        path: Path,
        procedure: Procedure | None = None,
        *,
        town: keys.Signer = TOWN,
        work_group: keys.Signer = WORK_GROUP,
    ) -> None:
        self.procedure = procedure or build()
        self.town = town
        self.work_group = work_group
        self.minutes = 0
        self._salt = 0
        self.qrs: dict[tuple[Form, str, int], list[str]] = {}
        self.store = ProcedureStore.create(
            path,
            signed_procedure=sign_procedure(self.procedure, town),
            trust_root=town.public_key,
            work_group=work_group,
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

    def append(self, type_: str, body: Mapping[str, Any], **kw: Any) -> ProcedureEntry:
        entry, _ = self.store.append(
            type_,
            body,
            at=self.now(),
            actor="计票人",
            work_group=self.work_group,
            random=self.random,
            **kw,
        )
        return entry

    def _stock(self, form: Form, post: str, round_no: int, count: int) -> None:
        paper = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}.get(post)
        stock = make_procedure_stock(
            procedure_id=self.store.procedure_id,
            form=ProcedureForm[form.name],
            post=paper,
            round_number=round_no,
            count=count,
            signer=self.work_group,
        )
        sealed = procedure_stock_list_json(stock)
        self.qrs[form, post, round_no] = [encode_procedure_qr_text(p) for p in stock.payloads]
        doc = json.loads(sealed)
        body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        self.append("stock.committed", body, stock_list=sealed)

    def _ballot(self, form: Form, post: str, round_no: int, i: int) -> dict[str, str]:
        qr = self.qrs[form, post, round_no][i]
        return {"ballot_id": parse_procedure_qr_text(qr).ballot_id.hex(), "qr": qr}

    def _issue_return(self, form: Form, post: str, round_no: int, n: int, back: int) -> None:
        for type_, count in (("ballots.issued", n), ("ballots.returned", back)):
            self.append(
                type_, {"form": form.value, "post": post, "round": round_no, "count": count}
            )

    def recommend(
        self, form: Form, present: int, ballots: Mapping[str, list[list[str]]] | None = None
    ) -> None:
        """A session of ``form``: every ballot of ``ballots`` per post (default
        :data:`COMMITTEE_BALLOTS` and :data:`SECRETARY_BALLOTS`), twice over for the public,
        entered and counted."""
        times = 1 if form is Form.MEMBER else 2
        given = ballots or {"committee": COMMITTEE_BALLOTS, "secretary": SECRETARY_BALLOTS}
        papers = {post: list(rows) * times for post, rows in given.items()}
        round_no = self.store.ledger.next_round(form)
        for post in papers:
            self._stock(form, post, round_no, present)
        members = list(self.procedure.expected_electors[:present]) if form is Form.MEMBER else []
        self.append(
            "recommendation.opened",
            {
                "group": form.value,
                "round": round_no,
                "posts": [p.value for p in self.store.ledger.pending_posts(form)],
                "present": present,
                "present_members": members,
            },
        )
        for post, chosen in papers.items():
            self._issue_return(form, post, round_no, present, len(chosen))
            for i, names in enumerate(chosen):
                self.append(
                    "recommendation.entered",
                    {
                        "group": form.value,
                        "post": post,
                        "round": round_no,
                        **self._ballot(form, post, round_no, i),
                        "marks": marks(self.procedure, names),
                        "written": [],
                    },
                )
            self.append(
                "recommendation.counted", count_body(self.store.ledger, form, PostKind(post))
            )

    def propose(self) -> ProcedureEntry:
        body = proposal_body(self.store.ledger, election_date=ELECTION_DATE).to_json()
        return self.append("preliminary.proposed", body)

    def evaluate(self, papers: Sequence[str] | None = None) -> None:
        opening = evaluation_opening(self.store.ledger)
        assert opening is not None
        round_no, version, persons = opening
        papers = list(papers) if papers is not None else ["s" * len(persons)] * 40
        self._stock(Form.EVALUATION, "", round_no, len(papers))
        self.append(
            "evaluation.opened",
            {
                "round": round_no,
                "version": version,
                "candidates": list(persons),
                "present_members": [],
                "public_present": len(papers),
                "present": len(papers),
            },
        )
        self._issue_return(Form.EVALUATION, "", round_no, len(papers), len(papers))
        for i, paper in enumerate(papers):
            self.append(
                "evaluation.entered",
                {
                    "round": round_no,
                    **self._ballot(Form.EVALUATION, "", round_no, i),
                    "marks": paper,
                    "added_rows": 0,
                },
            )
        self.append("evaluation.counted", count_body(self.store.ledger, Form.EVALUATION, None))

    def vet(self) -> ProcedureEntry:
        return self.append("vetting.recorded", vetting_body(self.store.ledger).to_json())

    def through_vetting(self) -> VettedBranch:
        """Both groups' recommendation, the proposal, the evaluation, the vetting."""
        self.recommend(Form.MEMBER, 20)
        self.recommend(Form.PUBLIC, 40)
        self.propose()
        self.evaluate()
        self.vet()
        return self
