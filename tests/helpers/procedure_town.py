"""A branch procedure file driven through the store from the recommendation to the vetting, for the
town's acts (spec/procedure.md §6.4, §7, §10): real stocks and QRs, fixed salts and times, any keys,
by the one driver of procedure files (tally.procedure_driver) the demo and the vectors use.

``VettedBranch(path)`` uses the fixed keys of tests.helpers.procedure; the integration test passes
key files' signers and a procedure built with their public keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keys
from tally.core.procedure import Procedure
from tally.core.procedure.entries import Form, ProcedureEntry
from tally.procedure_driver import (
    Evaluate,
    Keys,
    Paper,
    ProcedureDriver,
    Propose,
    Recommend,
    Sources,
    Vet,
)
from tally.procedure_store import Randomness
from tests.helpers.procedure import TOWN, WORK_GROUP, build, example_input
from tests.helpers.procedure_log import ELECTION_DATE, START

# Committee: M001 M022 M023 M002 M003 by 14 ballots, M023 M002 M003 M014 M005 by 6 (a tie of
# M014 and M005 at the cut); secretary: M002 by 12, M004 by 8 (M004 joins the committee's list).
COMMITTEE_BALLOTS = [["M001", "M022", "M023", "M002", "M003"]] * 14 + [
    ["M023", "M002", "M003", "M014", "M005"]
] * 6
SECRETARY_BALLOTS = [["M002"]] * 12 + [["M004"]] * 8
COMMITTEE = ["M001", "M022", "M023", "M002", "M003", "M004", "M014", "M005"]
SECRETARY = ["M002", "M004"]


def _salts() -> Randomness:
    """The entries' fixed salts: SHA-256 of ``salt 1``, ``salt 2``, ..."""
    count = 0

    def draw(n: int) -> bytes:
        nonlocal count
        count += 1
        return hashlib.sha256(f"salt {count}".encode()).digest()[:n]

    return draw


class VettedBranch:
    """A procedure file: ``recommend``, ``propose``, ``evaluate`` and ``vet`` append the entries
    the work group's commands would, each a step of :class:`tally.procedure_driver.ProcedureDriver`
    (its clock from :data:`START`, its salts :func:`_salts`, the printer's ballot ids)."""

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
        self.driver = ProcedureDriver.create(
            path, self.procedure, Keys(town, work_group), Sources(START, random=_salts())
        )
        self.store = self.driver.store

    def random(self, n: int) -> bytes:
        return self.driver.random(n)

    def now(self) -> dt.datetime:
        return self.driver.now()

    def append(self, type_: str, body: Mapping[str, Any], **kw: Any) -> ProcedureEntry:
        return self.driver.append(type_, body, **kw)

    def recommend(
        self, form: Form, present: int, ballots: Mapping[str, list[list[str]]] | None = None
    ) -> None:
        """A session of ``form``: every ballot of ``ballots`` per post (default
        :data:`COMMITTEE_BALLOTS` and :data:`SECRETARY_BALLOTS`), twice over for the public,
        entered and counted; the first ``present`` expected electors present at a members' one."""
        times = 1 if form is Form.MEMBER else 2
        given = ballots or {"committee": COMMITTEE_BALLOTS, "secretary": SECRETARY_BALLOTS}
        papers = {
            post: [Paper(tuple(names)) for names in rows] * times for post, rows in given.items()
        }
        members = tuple(self.procedure.expected_electors[:present]) if form is Form.MEMBER else ()
        self.driver.step(Recommend(form, present, papers, present_members=members))

    def propose(self) -> ProcedureEntry:
        self.driver.step(Propose(election_date=ELECTION_DATE))
        assert self.driver.last is not None
        return self.driver.last

    def evaluate(self, papers: Sequence[str] | None = None) -> None:
        """An evaluation round of ``papers`` (default: 40 papers satisfied with everyone)."""
        if papers is None:
            self.driver.step(Evaluate(lambda persons: ["s" * len(persons)] * 40))
        else:
            self.driver.step(Evaluate(list(papers)))

    def vet(self) -> ProcedureEntry:
        self.driver.step(Vet())
        assert self.driver.last is not None
        return self.driver.last

    def through_vetting(self) -> VettedBranch:
        """Both groups' recommendation, the proposal, the evaluation, the vetting."""
        self.recommend(Form.MEMBER, 20)
        self.recommend(Form.PUBLIC, 40)
        self.propose()
        self.evaluate()
        self.vet()
        return self


def vetted_for_casework(folder: Path) -> Path:
    """Branch B01's procedure file through its vetting, for the test casework
    (tests.helpers.casework): its path in ``folder``."""
    from tally.casework_store import sign_casework  # noqa: PLC0415 - only the casework tests
    from tests.helpers import casework as cw  # noqa: PLC0415 - only the casework tests

    _, casework = sign_casework(cw.document(), cw.TOWN)
    data = example_input()
    data["casework_id"] = casework.id.hex()
    data["election"]["branch_code"] = "B01"
    path = folder / "B01.procedure"
    VettedBranch(path, build(data)).through_vetting().store.close()
    return path
