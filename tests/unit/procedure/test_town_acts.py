"""The town's acts in the procedure file (spec/procedure.md RP-3.9, RP-6.4, RP-6.5, RP-7, RP-10):
each refusal first, each leaving the file as it was, then what the acts record."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bilingual import BilingualError
from tally.casework_store import CaseworkStore, sign_casework
from tally.cli_procedure_town import toml_text
from tally.core.casework import Channel, Effect, Finding, assign, conclude, lodge_objection
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import MemberId, PostKind
from tally.core.procedure.ranking import Basis
from tally.core.procedure.town import approval_document, binding_problems
from tally.manifest_io import sign_manifest
from tally.procedure_store import ProcedureStore
from tally.procedure_town import (
    BindingError,
    appoint,
    approve,
    bind,
    election_definition,
    last_vetted,
    sign_act,
)
from tests.helpers import casework as cw
from tests.helpers.procedure import (
    OTHER_TOWN,
    SCRUTINEERS,
    TOWN,
    WORK_GROUP,
    build,
    example_input,
    pubkey,
)
from tests.helpers.procedure_town import COMMITTEE, SECRETARY, VettedBranch

REFERENCE = "红组〔2026〕12号"
ELECTION_ID = "e1" * 32
ROOT = "a0" * 32
PUBLICITY_END = "2026-12-22"


def casework_document() -> dict[str, Any]:
    doc = cw.document()
    doc["branches"].append({"branch_code": "qingshan", "name": "青山村", "groups": []})
    return doc


def procedure_with_casework() -> Any:
    _, casework = sign_casework(casework_document(), TOWN)
    data = example_input()
    data["casework_id"] = casework.id.hex()
    return build(data)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vetted") / "qingshan.procedure.sqlite"
    VettedBranch(path, procedure_with_casework()).through_vetting().store.close()
    return path


class Branch:
    """A copy of the vetted template, appended to with the example's keys."""

    def __init__(self, path: Path) -> None:
        self.store = ProcedureStore.open(path)
        self.minutes = 10_000
        self.n = 0

    def random(self, n: int) -> bytes:
        self.n += 1
        return bytes([self.n % 256]) * n

    def now(self) -> dt.datetime:
        self.minutes += 1
        return dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))) + (
            dt.timedelta(minutes=self.minutes)
        )

    def append(self, type_: str, body: dict[str, Any]) -> None:
        self.store.append(
            type_, body, at=self.now(), actor="组长", work_group=WORK_GROUP, random=self.random
        )

    def refused(self, code: str, type_: str, body: dict[str, Any]) -> BilingualError:
        rows, cps, ledger = self.store.log_rows(), self.store.checkpoint_texts(), self.store.ledger
        with pytest.raises(BilingualError) as info:
            self.append(type_, body)
        assert info.value.code == code, info.value.en
        again = ProcedureStore.open(self.store.path)
        try:
            assert (again.log_rows(), again.checkpoint_texts()) == (rows, cps)
        finally:
            again.close()
        assert self.store.ledger is ledger
        return info.value

    def approved(self) -> dict[str, Any]:
        body = approve(self.store, reference=REFERENCE, town=TOWN)
        self.append("candidates.approved", body)
        return body

    def concluded(self, elected: dict[str, list[str]] | None = None) -> None:
        self.append("election.bound", {"election_id": ELECTION_ID, "manifest_sha256": "5a" * 32})
        self.append(
            "election.concluded",
            {
                "election_id": ELECTION_ID,
                "size": 40,
                "root": ROOT,
                "elected": elected or {"committee": COMMITTEE[:5], "secretary": ["M002"]},
                "publicity_start": "2026-12-16",
                "publicity_end": PUBLICITY_END,
            },
        )


@pytest.fixture
def b(template: Path, tmp_path: Path) -> Iterator[Branch]:
    path = tmp_path / "qingshan.procedure.sqlite"
    shutil.copy(template, path)
    branch = Branch(path)
    yield branch
    branch.store.close()


# -- RP-6.4 the approval: refusals --------------------------------------------------------------------
def test_approval_signed_by_another_key_than_the_towns_is_refused(b: Branch) -> None:
    body = approve(b.store, reference=REFERENCE, town=OTHER_TOWN)
    b.refused("approval.not_signed", "candidates.approved", body)


def test_approval_of_a_list_that_is_not_the_vetted_one_is_refused(b: Branch) -> None:
    doc = approve(b.store, reference=REFERENCE, town=TOWN)["approval"]
    changes: list[Callable[[dict[str, Any]], object]] = [
        lambda d: d["posts"][0]["candidates"].pop(),
        lambda d: d["posts"][0]["candidates"].reverse(),
        lambda d: d["posts"][1]["candidates"].append("M005"),
        lambda d: d["posts"][0].update(seats=4),
    ]
    for change in changes:
        forged = copy.deepcopy(doc)
        change(forged)
        b.refused("approval.lists_differ", "candidates.approved", sign_act(forged, TOWN))


def test_approval_signed_over_an_earlier_vetting_is_stale(b: Branch) -> None:
    old = approve(b.store, reference=REFERENCE, town=TOWN)
    b.append("vetting.recorded", dict(b.store.ledger.vettings[-1].to_json()))
    b.refused("approval.stale", "candidates.approved", old)
    # The town signs again over the last vetted checkpoint: recorded.
    b.append("candidates.approved", approve(b.store, reference=REFERENCE, town=TOWN))


def test_replayed_approval_is_refused_naming_it(b: Branch) -> None:
    body = b.approved()
    b.refused("approval.replayed", "candidates.approved", body)


def test_approval_of_another_procedure_is_refused(b: Branch) -> None:
    doc = approve(b.store, reference=REFERENCE, town=TOWN)["approval"]
    b.refused(
        "approval.other_procedure",
        "candidates.approved",
        sign_act({**doc, "procedure_id": "0f" * 32}, TOWN),
    )


def test_nothing_but_the_town_acts_follows_the_approval(b: Branch) -> None:
    b.approved()
    body = b.store.ledger.vettings[-1].to_json()
    b.refused("procedure.order", "vetting.recorded", dict(body))


def test_approval_before_any_vetting_is_refused(tmp_path: Path) -> None:
    v = VettedBranch(tmp_path / "p.sqlite")
    with pytest.raises(BilingualError) as info:
        approve(v.store, reference=REFERENCE, town=TOWN)
    assert info.value.code == "procedure.order"


def test_approval_lists_are_the_vetted_formal_lists_in_their_orders(b: Branch) -> None:
    body = b.approved()
    posts = body["approval"]["posts"]
    assert [p["candidates"] for p in posts] == [COMMITTEE, SECRETARY]
    assert (body["approval"]["vetted_size"], body["approval"]["vetted_root"]) == last_vetted(
        b.store.checkpoint_texts(), b.store.ledger.size
    )
    assert b.store.checkpoint_texts()[-1][1].split("\n")[3] == "approved"


def test_the_town_sets_the_secretarys_order(b: Branch) -> None:
    doc = approval_document(
        b.store.ledger,
        vetted_size=1,
        vetted_root=ROOT,
        reference=REFERENCE,
        orders={PostKind.SECRETARY: [MemberId("M004"), MemberId("M002")]},
    )
    assert doc["posts"][1]["candidates"] == ["M004", "M002"]


# -- RP-3.9 the higher level -------------------------------------------------------------------------
def hl(members: list[str], post: str = "committee") -> dict[str, Any]:
    return {
        "format": "higher-level-recommendation/1",
        "procedure_id": "",
        "post": post,
        "members": members,
        "reference": "红组〔2026〕9号",
    }


def test_higher_level_recommendation_refusals(tmp_path: Path) -> None:
    v = VettedBranch(tmp_path / "p.sqlite")
    pid = v.store.procedure_id.hex()
    b = Branch(v.store.path)
    b.refused(
        "preliminary.higher_level",
        "higher_level.recommended",
        sign_act({**hl(["M005"]), "procedure_id": pid}, OTHER_TOWN),
    )
    for members in (["M015"], [], ["M005", "M005"]):
        code = "log.malformed" if len(set(members)) != len(members) else "preliminary.higher_level"
        b.refused(
            code,
            "higher_level.recommended",
            sign_act({**hl(members), "procedure_id": pid}, TOWN),
        )
    b.append("higher_level.recommended", sign_act({**hl(["M005"]), "procedure_id": pid}, TOWN))
    b.refused(
        "preliminary.higher_level",
        "higher_level.recommended",
        sign_act({**hl(["M006"]), "procedure_id": pid}, TOWN),
    )


def test_higher_level_name_enters_the_preliminary_list_with_its_basis(tmp_path: Path) -> None:
    v = VettedBranch(tmp_path / "p.sqlite")
    pid = v.store.procedure_id.hex()
    v.append("higher_level.recommended", sign_act({**hl(["M006"]), "procedure_id": pid}, TOWN))
    from tally.core.procedure.entries import Form  # noqa: PLC0415

    v.recommend(Form.MEMBER, 20)
    v.recommend(Form.PUBLIC, 40)
    v.propose()
    names = {n.member: n.basis for n in v.store.ledger.proposals[0].posts[0].names}
    assert names[MemberId("M006")] is Basis.HIGHER_LEVEL


# -- RP-7 the binding ------------------------------------------------------------------------------------
def test_election_is_bound_only_after_the_approval_and_concluded_only_after_binding(
    b: Branch,
) -> None:
    bound = {"election_id": ELECTION_ID, "manifest_sha256": "5a" * 32}
    b.refused("procedure.order", "election.bound", bound)
    b.approved()
    concluded = {
        "election_id": ELECTION_ID,
        "size": 40,
        "root": ROOT,
        "elected": {"committee": COMMITTEE[:5], "secretary": ["M002"]},
        "publicity_start": "2026-12-16",
        "publicity_end": PUBLICITY_END,
    }
    b.refused("procedure.order", "election.concluded", concluded)
    b.append("election.bound", bound)
    b.refused(
        "binding.concluded_differs",
        "election.concluded",
        {**concluded, "election_id": "e2" * 32},
    )
    b.refused(
        "binding.concluded_differs",
        "election.concluded",
        {**concluded, "elected": {"committee": ["M001", "M009"]}},
    )
    b.append("election.concluded", concluded)
    assert b.store.checkpoint_texts()[-1][1].split("\n")[3] == "concluded"


def test_binding_problems_name_each_difference(b: Branch) -> None:
    from tests.helpers.cli_election import QINGSHAN  # noqa: PLC0415

    approval = b.approved()["approval"]
    election = parse_definition(QINGSHAN.read_text(encoding="utf-8"))
    p = b.store.signed.procedure
    problems = binding_problems(
        approval,
        roster={m.id: m.name for m in p.members},
        publicity_working_days=p.publicity_working_days,
        election=election,
    )
    codes = {(x.code, x.path) for x in problems}
    assert ("binding.candidates_differ", "posts.committee.candidates") in codes
    assert ("binding.candidates_differ", "posts.secretary.candidates") in codes


# -- RP-10 the appointment -------------------------------------------------------------------------
def appointment(b: Branch, **change: Any) -> dict[str, Any]:
    doc = {
        "format": "appointment/1",
        "procedure_id": b.store.procedure_id.hex(),
        "election_id": ELECTION_ID,
        "election_root": ROOT,
        "publicity_end": PUBLICITY_END,
        "date": "2026-12-23",
        "decision": "approved",
        "persons": [
            *(
                {"post": "committee", "member": m, "status": "appointed", "objections": []}
                for m in COMMITTEE[:5]
            ),
            {"post": "secretary", "member": "M002", "status": "appointed", "objections": []},
        ],
        "objections": [],
        "casework": {
            "casework_id": b.store.signed.procedure.casework_id,
            "size": 3,
            "root": ROOT,
        },
        "reference": "红组〔2026〕31号",
    }
    doc.update(change)
    return doc


def test_appointment_before_the_election_is_concluded_is_refused(b: Branch) -> None:
    b.approved()
    b.refused("appointment.other_election", "appointment.recorded", sign_act(appointment(b), TOWN))


def test_appointment_refusals_each_name_their_rule(b: Branch) -> None:
    b.approved()
    b.concluded()
    doc = appointment(b)
    b.refused("appointment.not_signed", "appointment.recorded", sign_act(doc, OTHER_TOWN))
    cases = [
        ("appointment.during_publicity", {"date": PUBLICITY_END}),
        ("appointment.other_election", {"election_root": "b0" * 32}),
        ("appointment.persons", {"persons": doc["persons"][:-1]}),
        ("appointment.status_unfounded", {"decision": "refused"}),
        (
            "appointment.status_unfounded",
            {
                "persons": [
                    {**doc["persons"][0], "status": "not_appointed"},
                    *doc["persons"][1:],
                ]
            },
        ),
    ]
    for code, change in cases:
        b.refused(code, "appointment.recorded", sign_act({**doc, **change}, TOWN))
    objection = {
        "reference": "YY-2026-00001",
        "received": "2026-12-17",
        "channel": "form",
        "timing": "during",
        "about": "M002",
        "finding": "unsubstantiated",
        "effect": "none",
        "concluded": "2026-12-18",
    }
    b.refused(
        "appointment.objection_open",
        "appointment.recorded",
        sign_act({**doc, "objections": [{**objection, "finding": "", "concluded": ""}]}, TOWN),
    )
    # (RP-12.2) an objection's text never reaches the procedure log, whatever the signature.
    b.refused(
        "log.malformed",
        "appointment.recorded",
        sign_act({**doc, "objections": [{**objection, "what": "拉票"}]}, TOWN),
    )
    b.append("appointment.recorded", sign_act({**doc, "objections": [objection]}, TOWN))
    b.refused("procedure.order", "appointment.recorded", sign_act(doc, TOWN))


def test_appoint_with_an_open_objection_is_refused_naming_it(b: Branch, tmp_path: Path) -> None:
    b.approved()
    b.concluded()
    signed, _ = sign_casework(casework_document(), TOWN)
    draw = cw.counter_random()
    cases = CaseworkStore.create(
        tmp_path / "town.casework.sqlite",
        signed_casework=signed,
        casework_signer=cw.SERVICE,
        at=cw.at("2026-12-16 09:00"),
        random=draw,
    )
    step = lodge_objection(
        cases.ledger,
        at=cw.at("2026-12-17 10:00"),
        calendar=cw.CALENDAR,
        branch="qingshan",
        channel=Channel.FORM,
        about="M002",
        what="当选人存在拉票行为",
        publicity_end=dt.date.fromisoformat(PUBLICITY_END),
        elected=frozenset(COMMITTEE[:5]),
    )
    reference = str(step.body["reference"])
    cases.lodge(step, at=cw.at("2026-12-17 10:00"), actor="public", random=draw)
    checkpoints = cases.checkpoint_texts()

    def attempt() -> BilingualError:
        with pytest.raises(BilingualError) as info:
            appoint(
                b.store,
                cases,
                casework_signer=cw.SERVICE,
                town=TOWN,
                date=dt.date(2026, 12, 23),
                reference="红组〔2026〕31号",
                work_group=WORK_GROUP,
                at=b.now(),
                actor="镇党委",
                random=b.random,
            )
        return info.value

    size = b.store.ledger.size
    error = attempt()
    assert error.code == "appointment.objection_open"
    assert reference in error.zh
    assert reference in error.en
    assert (b.store.ledger.size, cases.checkpoint_texts()) == (size, checkpoints)
    # Concluded (not substantiated): the appointment names it and is recorded.
    step = assign(
        cases.ledger, at=cw.at("2026-12-18 09:00"), reference=reference, assignee="查核员"
    )
    cases.perform(step, at=cw.at("2026-12-18 09:00"), actor="组长", random=draw)
    step = conclude(
        cases.ledger,
        at=cw.at("2026-12-19 09:00"),
        reference=reference,
        actor="查核员",
        finding=Finding.PARTLY_SUBSTANTIATED,
        effect=Effect.NOT_APPOINTED,
        summary="部分属实",
    )
    cases.perform(step, at=cw.at("2026-12-19 09:00"), actor="查核员", random=draw)
    entry = appoint(
        b.store,
        cases,
        casework_signer=cw.SERVICE,
        town=TOWN,
        date=dt.date(2026, 12, 23),
        reference="红组〔2026〕31号",
        work_group=WORK_GROUP,
        at=b.now(),
        actor="镇党委",
        random=b.random,
    )
    doc = entry.body["appointment"]
    assert [o["reference"] for o in doc["objections"]] == [reference]
    statuses = {(p["post"], p["member"]): (p["status"], p["objections"]) for p in doc["persons"]}
    assert statuses["secretary", "M002"] == ("not_appointed", [reference])
    assert statuses["committee", "M001"] == ("appointed", [])
    assert cases.checkpoint_texts()[-1][1].split("\n")[3] == "appointment qingshan"
    assert doc["casework"]["size"] == cases.checkpoint_texts()[-1][0]
    cases.close()


# -- RP-6.5, RP-7.1 the manifest -------------------------------------------------------------------
DRAFT = {
    "format": "election-definition/1",
    "election": {"date": dt.date(2026, 12, 15), "objections_to": "红旗镇党委组织办"},
    "officials": {"scrutineers": ["M009", "M010"], "tellers": ["M011", "M012"]},
}


def signed_manifest(text: str, town: Any) -> bytes:
    manifest = build_manifest(
        parse_definition(text),
        work_group_key=pubkey(WORK_GROUP),
        scrutineer_keys=tuple(pubkey(s) for s in SCRUTINEERS),
    )
    return sign_manifest(manifest, town)


def test_bind_refuses_another_towns_manifest_and_one_that_differs_from_the_approval(
    b: Branch,
) -> None:
    b.approved()
    text = toml_text(election_definition(b.store, DRAFT))
    assert [p.candidates for p in parse_definition(text).posts] == [
        tuple(COMMITTEE),
        tuple(SECRETARY),
    ]
    kw: dict[str, Any] = {"work_group": WORK_GROUP, "actor": "组长", "random": b.random}
    size = b.store.ledger.size
    with pytest.raises(BilingualError) as info:
        bind(b.store, signed_manifest(text, OTHER_TOWN), at=b.now(), **kw)
    assert info.value.code == "binding.town_key"
    swapped = text.replace('"M002", "M004"]', '"M004", "M002"]')
    with pytest.raises(BindingError) as differs:
        bind(b.store, signed_manifest(swapped, TOWN), at=b.now(), **kw)
    assert [(p.code, p.path) for p in differs.value.problems] == [
        ("binding.candidates_differ", "posts.secretary.candidates")
    ]
    renamed = text.replace('name = "马秀英"', 'name = "马秀兰"')
    with pytest.raises(BindingError) as named:
        bind(b.store, signed_manifest(renamed, TOWN), at=b.now(), **kw)
    assert [p.code for p in named.value.problems] == ["binding.name_differs"]
    assert b.store.ledger.size == size
    raw = signed_manifest(text, TOWN)
    entry = bind(b.store, raw, at=b.now(), **kw)
    assert entry.body["manifest_sha256"] == hashlib.sha256(raw).hexdigest()
