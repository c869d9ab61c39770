"""A branch from its vetted procedure to the appointment through the CLI (spec/procedure.md RP-6.4,
RP-6.5, RP-7, RP-10): the town approves, the approval becomes the election definition and the
signed manifest, a real election is run and published, its result is recorded, an objection is
lodged and concluded in the town's casework in between, and the town appoints. Each refusal on the
way leaves both files as they were."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import keys
from tally.casework_store import CaseworkStore, sign_casework
from tally.cli import app
from tally.core.casework import (
    TOWN_TIME,
    Channel,
    Effect,
    Finding,
    assign,
    conclude,
    lodge_objection,
)
from tally.core.manifest import canonical
from tally.core.procedure import build_procedure
from tally.procedure_store import ProcedureStore
from tests.helpers import casework as cw
from tests.helpers import cli_election
from tests.helpers.cli_election import ENV, PASSPHRASE, PRESENT, Election, make_key, marks_for
from tests.helpers.procedure import example_input
from tests.helpers.procedure_bundle import reseal, rows
from tests.helpers.procedure_town import COMMITTEE, SECRETARY, VettedBranch

runner = CliRunner(env=ENV)


def run(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args), catch_exceptions=False)
    return r.exit_code, str(r.output)


def ok(*args: str) -> str:
    code, out = run(*args)
    assert code == 0, (args, out)
    return out


def refused(code: str, *args: str) -> dict[str, Any]:
    exit_code, out = run(*args, "--json")
    assert exit_code == 1, (args, out)
    body: dict[str, Any] = json.loads(out)
    assert body["code"] == code, body
    return body


def pub(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


def signer(path: Path, role: keys.Role) -> keys.InMemorySigner:
    return keys.load_signer(path, PASSPHRASE, expected_role=role)


def snapshot(procedure: Path, casework: Path) -> tuple[Any, ...]:
    p, c = ProcedureStore.open(procedure), CaseworkStore.open(casework)
    try:
        return p.log_rows(), p.checkpoint_texts(), c.log_rows(), c.checkpoint_texts()
    finally:
        p.close()
        c.close()


def verify_procedure_bundle(folder: Path, town_key: Path, *extra: str) -> dict[str, Any]:
    """``verifier procedure FOLDER --town-key K --json`` (the independent verifier)."""
    from verifier.cli import app as verifier_app  # noqa: PLC0415 - only this test runs it

    r = CliRunner().invoke(
        verifier_app, ["procedure", str(folder), "--town-key", str(town_key), "--json", *extra]
    )
    assert r.exit_code in {0, 1}, r.output
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def reuse_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The election helper makes its keys; here the procedure's are used (the same town)."""

    def make(folder: Path, role: keys.Role, label: str, name: str) -> tuple[Path, Path]:
        key, public = folder / f"{name}.key", folder / f"{name}.pub"
        return (key, public) if key.exists() else make_key(folder, role, label, name)

    monkeypatch.setattr(cli_election, "make_key", make)


DRAFT = """\
format = "election-definition/1"

[election]
date = 2026-12-15
objections_to = "红旗镇党委组织办，电话 0000-1234567"

[officials]
scrutineers = ["M009", "M010"]
tellers = ["M011", "M012"]
"""


def test_vetted_branch_to_appointment_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path
    town_key, town_pub = make_key(f, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
    wg_key, wg_pub = make_key(f, keys.Role.WORK_GROUP, "工作组", "wg")
    scrutineer_pubs = [make_key(f, keys.Role.SCRUTINEER, f"监票人{i}", f"s{i}")[1] for i in (1, 2)]
    cw_key, cw_pub = make_key(f, keys.Role.CASEWORK, "红旗镇查核组", "casework")
    town, service = signer(town_key, keys.Role.TOWN_COMMITTEE), signer(cw_key, keys.Role.CASEWORK)

    # The town's casework file, with this branch.
    doc = cw.document()
    doc["keys"] = {"casework": pub(cw_pub)}
    doc["branches"].append({"branch_code": "qingshan", "name": "青山村党支部", "groups": []})
    signed_casework, casework_def = sign_casework(doc, town)
    draw = cw.counter_random()
    cases_path = f / "town.casework.sqlite"
    CaseworkStore.create(
        cases_path,
        signed_casework=signed_casework,
        casework_signer=service,
        at=dt.datetime.now(TOWN_TIME) - dt.timedelta(days=1),
        random=draw,
    ).close()

    # The branch's procedure, through the recommendation, evaluation and vetting.
    data = example_input()
    data["casework_id"] = casework_def.id.hex()
    procedure = build_procedure(
        data,
        work_group_key=pub(wg_pub),
        scrutineer_keys=[pub(p) for p in scrutineer_pubs],
    )
    db = f / "qingshan.procedure.sqlite"
    VettedBranch(
        db, procedure, town=town, work_group=signer(wg_key, keys.Role.WORK_GROUP)
    ).through_vetting().store.close()
    wg = ("--key", str(wg_key))

    # RP-6.4: a key that is not the town's is refused; then the town approves.
    other_town, _ = make_key(f, keys.Role.TOWN_COMMITTEE, "白云镇党委", "other-town")
    refused("keys.wrong_role", "procedure", "approve", str(db), "--reference", "红组〔2026〕12号",
            "--town-key", str(wg_key), *wg)  # fmt: skip
    refused("approval.not_signed", "procedure", "approve", str(db), "--reference", "红组〔2026〕12号",
            "--town-key", str(other_town), *wg)  # fmt: skip
    approval = f / "approval.json"
    out = ok("procedure", "approve", str(db), "--reference", "红组〔2026〕12号",
             "--town-key", str(town_key), *wg, "--out", str(approval))  # fmt: skip
    assert "正式候选人 8 名" in out
    before = snapshot(db, cases_path)
    refused("approval.replayed", "procedure", "record", str(db), str(approval), *wg)
    code, out = run("procedure", "record", str(db), str(approval), *wg, "--lang", "en")
    assert (code, out) == (
        1,
        "error: the candidate approval is recorded already: it is not recorded again\n",
    )
    assert snapshot(db, cases_path) == before

    # RP-6.5: the election definition from the approval; `tally check` holds it to the approval.
    draft = f / "draft.toml"
    draft.write_text(DRAFT, encoding="utf-8")
    definition = f / "election.toml"
    ok("procedure", "manifest", str(db), "--definition", str(draft), "--out", str(definition))
    ok("check", str(definition), "--procedure", str(db))
    text = definition.read_text(encoding="utf-8")
    swapped = f / "swapped.toml"
    swapped.write_text(text.replace('"M002", "M004"]', '"M004", "M002"]'), encoding="utf-8")
    body = refused("binding.candidates_differ", "check", str(swapped), "--procedure", str(db))
    assert body["problems"][0]["path"] == "posts.secretary.candidates"

    # The manifest signed by the same town, bound to the procedure (RP-7.1); the election run.
    reuse_keys(monkeypatch)
    election = Election(f, definition)
    ok("procedure", "bind", str(db), str(f / "manifest.json"), *wg)
    election.checkin(PRESENT)
    committee = election.vote("committee", 1, marks_for([20, 20, 3, 20, 20, 20, 3, 3], 23, 5))
    assert committee["elected"] == ["M001", "M022", "M002", "M003", "M004"]
    election.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 8])
    appoint = ("procedure", "appoint", str(db), "--casework", str(cases_path),
               "--casework-key", str(cw_key), "--town-key", str(town_key), *wg,
               "--reference", "红组〔2026〕31号")  # fmt: skip
    refused("appointment.not_concluded", *appoint, "--date", "2027-01-30")
    election.finish()
    refused("appointment.not_concluded", *appoint, "--date", "2027-01-30")
    ok("procedure", "conclude", str(db), str(election.db), *wg)

    # RP-8: an objection during publicity; the appointment is refused while it is open.
    store = ProcedureStore.open(db)
    concluded = store.ledger.town.concluded
    store.close()
    assert concluded is not None
    assert concluded["elected"] == {"committee": COMMITTEE[:2] + SECRETARY[:1] + ["M003", "M004"],
                                    "secretary": ["M002"]}  # fmt: skip
    end = dt.date.fromisoformat(concluded["publicity_end"])
    after = (end + dt.timedelta(days=1)).isoformat()
    cases = CaseworkStore.open(cases_path)
    when = dt.datetime.now(TOWN_TIME)
    step = lodge_objection(
        cases.ledger,
        at=when,
        calendar=cw.CALENDAR,
        branch="qingshan",
        channel=Channel.FORM,
        about="M004",
        what="该同志在选举前有拉票行为",
        publicity_end=end,
        elected=frozenset(concluded["elected"]["committee"]),
    )
    reference = str(step.body["reference"])
    cases.lodge(step, at=when, actor="public", random=draw)
    cases.close()
    before = snapshot(db, cases_path)
    body = refused("appointment.objection_open", *appoint, "--date", after)
    assert reference in body["message"]
    assert snapshot(db, cases_path) == before

    cases = CaseworkStore.open(cases_path)
    cases.perform(
        assign(cases.ledger, at=when, reference=reference, assignee="查核员"),
        at=when,
        actor="组长",
        random=draw,
    )
    cases.perform(
        conclude(
            cases.ledger,
            at=when,
            reference=reference,
            actor="查核员",
            finding=Finding.SUBSTANTIATED,
            effect=Effect.NOT_APPOINTED,
            summary="经查属实：有拉票行为",
        ),
        at=when,
        actor="查核员",
        random=draw,
    )
    cases.close()

    # RP-10: not before publicity ends; the appointment records how the objection was concluded.
    before = snapshot(db, cases_path)
    refused("appointment.during_publicity", *appoint, "--date", concluded["publicity_end"])
    assert snapshot(db, cases_path) == before
    out = ok(*appoint, "--date", after)
    assert f"不予任命（{reference}）" in out
    store = ProcedureStore.open(db)  # the whole log replays and its checkpoints hold
    try:
        appointed = store.ledger.town.appointment
        assert appointed is not None
        assert [(o["reference"], o["effect"]) for o in appointed["objections"]] == [
            (reference, "not_appointed")
        ]
        assert {p["member"]: p["status"] for p in appointed["persons"]}["M004"] == "not_appointed"
        assert store.checkpoint_texts()[-1][1].split("\n")[3] == "appointed"
    finally:
        store.close()
    cases = CaseworkStore.open(cases_path)
    assert cases.checkpoint_texts()[-1][1].split("\n")[3] == "appointment qingshan"
    cases.close()

    # V20-V31 (issue 18 piece 9): the published bundles verify, the objection checked against
    # the casework; without the casework bundle V31 is reported as not checked.
    ok("procedure", "publish", str(db), "--out", str(f / "pbundle"))
    ok("casework", "export", str(cases_path), "--out", str(f / "cbundle"))
    report = verify_procedure_bundle(f / "pbundle", town_pub, "--casework", str(f / "cbundle"))
    assert report["ok"], report["findings"]
    assert report["clauses"]["V30"] == "passed"
    [objection] = report["procedure"]["objections"]  # RP-13.1: V30's list, no identity
    assert (objection["reference"], objection["about"], objection["effect"]) == (
        reference, {"member": "M004", "name": "刘海燕"}, "not_appointed"
    )  # fmt: skip
    persons = {p["member"]: p["status"] for p in report["procedure"]["appointment"]["persons"]}
    assert persons["M004"] == "not_appointed"
    alone = verify_procedure_bundle(f / "pbundle", town_pub)
    assert alone["ok"] and "V31" in {n["clause"] for n in alone["not_checked"]}

    # V30: the town re-signs an appointment that ignores the objection's effect (M004 appointed).
    files = {str(p.relative_to(f / "pbundle")): p.read_bytes()
             for p in (f / "pbundle").rglob("*") if p.is_file()}  # fmt: skip
    entries = rows(files)
    act = entries[-1]["body"]
    person = next(p for p in act["appointment"]["persons"] if p["member"] == "M004")
    person["status"], person["objections"] = "appointed", []
    act["town_signature"] = base64.b64encode(
        town.sign(b"branch-election/appointment/1", canonical(act["appointment"]))
    ).decode()
    forged = f / "forged"
    for name, blob in reseal(files, entries, signer(wg_key, keys.Role.WORK_GROUP)).items():
        (forged / name).parent.mkdir(parents=True, exist_ok=True)
        (forged / name).write_bytes(blob)
    report = verify_procedure_bundle(forged, town_pub, "--casework", str(f / "cbundle"))
    assert {(x["clause"], x["code"]) for x in report["findings"]} == {
        ("V30", "appointment.status_unfounded")
    }


def test_higher_level_recommendation_through_the_cli(tmp_path: Path) -> None:
    """RP-3.9: the town signs names for a post before the proposal; one per post and version."""
    f = tmp_path
    town_key, _ = make_key(f, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
    wg_key, wg_pub = make_key(f, keys.Role.WORK_GROUP, "工作组", "wg")
    scrutineer_pubs = [make_key(f, keys.Role.SCRUTINEER, f"监票人{i}", f"s{i}")[1] for i in (1, 2)]
    procedure = build_procedure(
        example_input(),
        work_group_key=pub(wg_pub),
        scrutineer_keys=[pub(p) for p in scrutineer_pubs],
    )
    db = f / "qingshan.procedure.sqlite"
    VettedBranch(
        db,
        procedure,
        town=signer(town_key, keys.Role.TOWN_COMMITTEE),
        work_group=signer(wg_key, keys.Role.WORK_GROUP),
    ).store.close()
    act = ("procedure", "higher-level", str(db), "--reference", "红组〔2026〕9号",
           "--town-key", str(town_key), "--key", str(wg_key))  # fmt: skip
    refused("recommendation.post", *act, "--post", "chair", "--member", "M006")
    refused("preliminary.higher_level", *act, "--post", "committee", "--member", "M015")
    out = ok(*act, "--post", "committee", "--member", "M006")
    assert "委员" in out
    assert "张桂兰" in out
    refused("preliminary.higher_level", *act, "--post", "committee", "--member", "M007")
    ok(*act, "--post", "secretary", "--member", "M006", "--lang", "en")
    store = ProcedureStore.open(db)
    try:
        assert [e.type for e in store.entries()][-2:] == ["higher_level.recommended"] * 2
    finally:
        store.close()
