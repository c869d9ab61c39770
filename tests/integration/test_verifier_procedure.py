"""``verifier procedure`` on procedure bundles the producer wrote (spec/procedure.md RP-12.1, §13
V20-V30): a branch driven through recommendation, proposal, evaluation, vetting and the town's
approval (tests/helpers/procedure_town.py), published by the store as ``tally procedure publish``
does; the valid bundle passes, and each tampering (re-chained, re-checkpointed and re-indexed
with the work group's key where the tamperer could) fails with its clause and code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import keys
from tally.core.manifest import canonical
from tally.log_file import BundleFile, bundle_index
from tests.helpers.procedure import SCRUTINEERS, TOWN, WORK_GROUP, signer
from tests.helpers.procedure_bundle import (
    TOWN_FP,
    Files,
    approved_files,
    codes,
    reseal,
    rows,
    tampered,
    verify,
    write,
)
from tests.helpers.procedure_town import VettedBranch
from verifier.cli import app
from verifier.crypto import fingerprint
from verifier.procedure.stocks import stock_commitment

STALE = ("V28", "approval.stale")
VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors" / "procedure"
runner = CliRunner()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The bundle of a branch through the town's approval, every count co-signed."""
    branch = VettedBranch(tmp_path_factory.mktemp("p") / "b.sqlite").through_vetting()
    return approved_files(branch, "红组〔2026〕12号")


def first(entries: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    return next(e for e in entries if e["type"] == type_)


# --------------------------------------------------------------------------- the valid bundle


def test_the_published_bundle_passes_every_clause_built(tmp_path: Path, published: Files) -> None:
    code, doc = verify(write(tmp_path, published))
    assert code == 0, doc["findings"]
    assert doc["ok"] and doc["findings"] == [] and doc["warnings"] == []
    assert doc["clauses"]["V20"] == doc["clauses"]["V22"] == doc["clauses"]["V25"] == "passed"
    assert doc["clauses"]["V26"] == doc["clauses"]["V27"] == doc["clauses"]["V28"] == "passed"
    assert doc["clauses"]["V29"] == "not_checked"  # never "passed" without the election bundle
    assert doc["procedure"]["approval"][0]["reference"] == "红组〔2026〕12号"


def test_resealing_an_untouched_log_still_passes(tmp_path: Path, published: Files) -> None:
    """The tamper helper itself changes nothing a verifier can see but the co-signatures."""
    code, doc = verify(write(tmp_path, reseal(published, rows(published), WORK_GROUP)))
    assert code == 0, doc["findings"]
    assert {w["code"] for w in doc["warnings"]} == {"checkpoint.cosignature_missing"}


def test_the_report_is_in_chinese_by_default_and_english_by_the_switch(
    tmp_path: Path, published: Files
) -> None:
    folder = write(tmp_path, published)
    zh = runner.invoke(app, ["procedure", str(folder), "--town-key", TOWN_FP])
    en = runner.invoke(app, ["procedure", str(folder), "--town-key", TOWN_FP, "--lang", "en"])
    assert zh.exit_code == en.exit_code == 0
    assert "结论：通过" in zh.stdout and "V29 未核验" in zh.stdout
    assert "  书记（应选 1 名，差额不少于20%）：马秀英（M002）、刘海燕（M004）" in zh.stdout
    assert "result: passed" in en.stdout and "V29 not checked" in en.stdout


# --------------------------------------------------------------------------- tamperings


def test_v25_a_recommendation_count_changed_and_rehashed_fails(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "recommendation.counted")["body"]["recommendations"][0][
            "recommendations"
        ] += 1

    doc = tampered(tmp_path, published, edit)
    # The town signed its approval over the true log's last vetted checkpoint: it is stale now.
    assert codes(doc) == {("V25", "count.recommendation_differs"), STALE}


def test_v27_an_evaluation_count_changed_fails(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "evaluation.counted")["body"]["valid_ballots"] -= 1

    assert ("V27", "count.evaluation_differs") in codes(tampered(tmp_path, published, edit))


def test_v25_a_ballot_entry_removed_makes_its_count_differ(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        entries.remove(first(entries, "recommendation.entered"))

    assert ("V25", "count.recommendation_differs") in codes(tampered(tmp_path, published, edit))


def test_v24_ballots_issued_not_equal_to_those_present_fail(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "ballots.issued")["body"]["count"] += 1

    assert ("V24", "ballots.issued_count") in codes(tampered(tmp_path, published, edit))


def test_v24_a_ballot_removed_leaves_fewer_records_than_returned(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        entries.remove(first(entries, "evaluation.entered"))

    found = codes(tampered(tmp_path, published, edit))
    assert {("V24", "session.records"), ("V27", "count.evaluation_differs")} <= found


def test_v24_a_members_session_naming_someone_twice_fails(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        members = first(entries, "recommendation.opened")["body"]["present_members"]
        members[-1] = members[0]

    assert ("V24", "session.present_members") in codes(tampered(tmp_path, published, edit))


def test_v23_a_secretary_ballot_entered_in_the_committee_count_fails_pq6(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        ballots = [e["body"] for e in entries if e["type"] == "recommendation.entered"]
        committee = next(b for b in ballots if b["post"] == "committee")
        secretary = next(b for b in ballots if b["post"] == "secretary")
        committee["qr"] = secretary["qr"]

    assert ("V23", "pqr.wrong_form") in codes(tampered(tmp_path, published, edit))


def test_v23_a_ballot_id_not_the_qrs_fails(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "evaluation.entered")["body"]["ballot_id"] = "00" * 16

    assert codes(tampered(tmp_path, published, edit)) == {
        ("V23", "ballot.id_differs"),
        ("V23", "ballot.not_in_stock"),
        STALE,
    }


def test_v23_a_ballot_not_in_its_rounds_stock_fails(tmp_path: Path, published: Files) -> None:
    stock = json.loads(published["stocks/evaluation-1.json"])
    stock["ballot_ids"] = sorted([*stock["ballot_ids"][1:], "00" * 16])
    files = {**published, "stocks/evaluation-1.json": canonical(stock)}
    doc = verify(write(tmp_path, reseal(files, rows(published), WORK_GROUP)))[1]
    assert {("V23", "stock.list"), ("V23", "ballot.not_in_stock")} <= codes(doc)


def test_v23_the_stock_commitment_recomputes_as_the_vector() -> None:
    vector = json.loads((VECTORS / "stock" / "commitment.json").read_text(encoding="utf-8"))
    ids = [bytes.fromhex(i) for i in vector["ballot_ids_print_order"]]
    got = stock_commitment(
        bytes.fromhex(vector["procedure_id"]), vector["form"], vector["post"], vector["round"], ids
    )
    assert got == vector["commitment"]


def _declare_invalid(by: keys.Signer) -> Callable[[list[dict[str, Any]]], None]:
    """The first recommendation ballot turned into one declared invalid, confirmed by ``by``."""

    def edit(entries: list[dict[str, Any]]) -> None:
        e = first(entries, "recommendation.entered")
        b = e["body"]
        body = {"form": b["group"], "post": b["post"], "round": b["round"],
                "ballot_id": b["ballot_id"], "qr": b["qr"], "reason": "unreadable"}  # fmt: skip
        pid = entries[0]["body"]["procedure_id"]
        message = canonical({"procedure_id": pid, "seq": entries.index(e)} | body)
        sig = by.sign(b"branch-election/procedure-invalid-ballot/1", message)
        name = f"scrutineer:{hashlib.sha256(by.public_key.key).hexdigest()[:16]}"
        e["type"] = "ballot.declared_invalid"
        e["body"] = body | {"scrutineer": name, "signature": base64.b64encode(sig).decode()}

    return edit


def test_v23_a_ballot_declared_invalid_needs_a_procedure_scrutineers_confirmation(
    tmp_path: Path, published: Files
) -> None:
    confirmed = codes(tampered(tmp_path / "a", published, _declare_invalid(SCRUTINEERS[0])))
    assert ("V23", "invalid.confirmation") not in confirmed
    assert ("V25", "count.recommendation_differs") in confirmed  # one valid ballot fewer
    stranger = signer(keys.Role.SCRUTINEER, "不是本程序的监票人", 80)
    assert ("V23", "invalid.confirmation") in codes(
        tampered(tmp_path / "b", published, _declare_invalid(stranger))
    )


def test_v22_an_entry_removed_without_resealing_breaks_the_chain(
    tmp_path: Path, published: Files
) -> None:
    lines = published["log.jsonl"].splitlines(keepends=True)
    del lines[5]
    files = {**published, "log.jsonl": b"".join(lines)}
    code, doc = verify(write(tmp_path, files))
    assert code == 1
    assert {("V22", "entry.seq"), ("V20", "pbundle.hash")} <= codes(doc)


def test_v26_a_preliminary_list_changed_fails(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        names = first(entries, "preliminary.proposed")["body"]["posts"][0]["names"]
        names[0]["basis"], names[-1]["basis"] = names[-1]["basis"], names[0]["basis"]

    assert codes(tampered(tmp_path, published, edit)) == {("V26", "preliminary.differs"), STALE}


def test_v28_a_vetting_that_stops_nobody_the_evaluation_stopped_fails(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "vetting.recorded")["body"]["posts"][0]["proceeding"].pop()

    assert ("V28", "vetting.differs") in codes(tampered(tmp_path, published, edit))


def test_v22_a_checkpoint_signed_by_another_work_group_key_fails(
    tmp_path: Path, published: Files
) -> None:
    other = signer(keys.Role.WORK_GROUP, "别的工作组", 77)
    code, doc = verify(write(tmp_path, reseal(published, rows(published), work_group=other)))
    assert code == 1
    # The vetted checkpoint the approval names is no sound checkpoint any more: stale.
    assert codes(doc) == {("V22", "checkpoint.signature"), STALE}


def test_v22_a_missing_checkpoint_fails(tmp_path: Path, published: Files) -> None:
    doc = json.loads(published["checkpoints.json"])
    del doc["checkpoints"][-1]  # the "approved" note
    files = reseal({**published, "checkpoints.json": canonical(doc)}, rows(published), WORK_GROUP)
    code, out = verify(write(tmp_path, files))
    assert code == 1
    assert ("V22", "checkpoint.missing") in codes(out)


def test_v28_an_approval_not_equal_to_the_vetted_lists_fails_even_town_signed(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        body = first(entries, "candidates.approved")["body"]
        body["approval"]["posts"][0]["candidates"].pop()
        sig = TOWN.sign(b"branch-election/candidate-approval/1", canonical(body["approval"]))
        body["town_signature"] = base64.b64encode(sig).decode()

    assert ("V28", "approval.lists_differ") in codes(tampered(tmp_path, published, edit))


def test_v28_a_forged_town_signature_on_the_approval_fails(
    tmp_path: Path, published: Files
) -> None:
    forger = signer(keys.Role.TOWN_COMMITTEE, "冒充镇党委", 78)

    def edit(entries: list[dict[str, Any]]) -> None:
        body = first(entries, "candidates.approved")["body"]
        sig = forger.sign(b"branch-election/candidate-approval/1", canonical(body["approval"]))
        body["town_signature"] = base64.b64encode(sig).decode()

    assert codes(tampered(tmp_path, published, edit)) == {("V28", "approval.not_signed")}


def test_v21_another_town_key_is_refused(tmp_path: Path, published: Files) -> None:
    other = fingerprint(signer(keys.Role.TOWN_COMMITTEE, "白云镇党委", 79).public_key.key)
    r = runner.invoke(
        app, ["procedure", str(write(tmp_path, published)), "--town-key", other, "--json"]
    )
    assert r.exit_code == 1
    assert ("V21", "procedure.town_key") in codes(json.loads(r.stdout))


def test_v22_an_appointment_before_the_approval_is_out_of_order(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        approved = first(entries, "candidates.approved")
        entries.remove(approved)
        entries.insert(3, approved)

    assert ("V22", "procedure.order") in codes(tampered(tmp_path, published, edit))


def test_v20_an_extra_file_is_a_failure(tmp_path: Path, published: Files) -> None:
    code, doc = verify(write(tmp_path, {**published, "access-codes.txt": b"1234\n"}))
    assert code == 1
    assert ("V20", "pbundle.extra_file") in codes(doc)


def test_v23_ballot_records_not_the_logs_fail(tmp_path: Path, published: Files) -> None:
    lines = published["ballots.jsonl"].splitlines(keepends=True)
    files = {**published, "ballots.jsonl": b"".join(lines[1:])}
    files["index.json"] = bundle_index(
        "procedure-bundle-index/1",
        "procedure_id",
        json.loads(published["index.json"])["procedure_id"],
        len(rows(published)),
        [BundleFile(k, v) for k, v in files.items() if k != "index.json"],
    ).data
    code, doc = verify(write(tmp_path, files))
    assert code == 1
    assert codes(doc) == {("V23", "pbundle.ballots")}


def test_an_unreadable_bundle_exits_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["procedure", str(tmp_path / "nothing"), "--town-key", TOWN_FP])
    assert r.exit_code == 2


# --------------------------------------------------------------------------- any bytes


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    member=st.sampled_from(
        [
            "index.json",
            "procedure.json",
            "log.jsonl",
            "checkpoints.json",
            "ballots.jsonl",
            "stocks/evaluation-1.json",
        ]
    ),
    data=st.binary(max_size=600),
)
def test_any_bytes_as_a_member_file_give_a_clean_exit(
    tmp_path_factory: pytest.TempPathFactory, published: Files, member: str, data: bytes
) -> None:
    folder = write(tmp_path_factory.mktemp("fuzz"), {**published, member: data})
    r = runner.invoke(app, ["procedure", str(folder), "--town-key", TOWN_FP, "--json"])
    assert r.exit_code in {0, 1, 2}, r.exception
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_v26_a_proposal_without_a_date_fails_and_v28_is_then_not_checked_rather_than_a_crash(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "preliminary.proposed")["body"]["election_date"] = "31 December"

    doc = tampered(tmp_path, published, edit)
    assert ("V26", "preliminary.differs") in codes(doc)
    assert any(n["clause"] == "V28" for n in doc["not_checked"])


def test_v24_a_members_session_without_a_scrutineer_present_fails(
    tmp_path: Path, published: Files
) -> None:
    """(RP-3.2) A members' session's scrutineers are among its members present."""

    def edit(entries: list[dict[str, Any]]) -> None:
        body = first(entries, "recommendation.opened")["body"]
        assert "M009" in body["present_members"]  # examples/qingshan.procedure.toml's scrutineer
        body["present_members"].remove("M009")
        body["present"] -= 1

    assert ("V24", "official.not_present") in codes(tampered(tmp_path, published, edit))


# --------------------------------------------------------------------------- V22 a supplement's order


def _supplement(published: Files, part: int, after: str) -> Files:
    """The bundle with a ``stock.supplemented`` of the first stock's round (its own sealed list
    of two fresh ids) inserted after the first entry of type ``after`` of that round."""
    entries = rows(published)
    stock = first(entries, "stock.committed")
    key = {k: stock["body"][k] for k in ("form", "post", "round")}
    pid = entries[0]["body"]["procedure_id"]
    ids = [hashlib.sha256(f"supplement {i}".encode()).hexdigest()[:32] for i in range(2)]
    commitment = stock_commitment(
        bytes.fromhex(pid), key["form"], key["post"], key["round"], [bytes.fromhex(i) for i in ids]
    )
    body = {**key, "count": 2, "commitment": commitment, "part": part}
    at = next(
        i
        for i, e in enumerate(entries)
        if e["type"] == after and all(e["body"].get(k) == v for k, v in key.items())
    )
    entries.insert(at + 1, {**entries[at], "type": "stock.supplemented", "body": body})
    name = f"stocks/{key['form']}-{key['post']}-{key['round']}-{part}.json"
    sealed = {"format": "procedure-stock/1", "procedure_id": pid, **key, "count": 2}
    sealed |= {"ballot_ids": sorted(ids), "commitment": commitment}
    return reseal({**published, name: canonical(sealed)}, entries, WORK_GROUP)


def test_v22_a_supplementary_stock_after_the_ballots_are_issued_is_late(
    tmp_path: Path, published: Files
) -> None:
    code, doc = verify(write(tmp_path, _supplement(published, 2, "ballots.issued")))
    assert code == 1
    assert ("V22", "stock.supplement_late") in codes(doc)
    assert ("V23", "stock.list") not in codes(doc)  # its sealed list is sound


def test_v22_a_supplementary_stock_not_the_rounds_next_part_fails(
    tmp_path: Path, published: Files
) -> None:
    code, doc = verify(write(tmp_path, _supplement(published, 3, "stock.committed")))
    assert code == 1
    assert ("V22", "stock.supplement_part") in codes(doc)
    assert ("V22", "stock.supplement_late") not in codes(doc)


def test_v22_a_supplementary_stock_as_a_rounds_first_stock_fails(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        stock = first(entries, "stock.committed")
        stock["type"] = "stock.supplemented"
        stock["body"]["part"] = 2

    assert ("V22", "stock.supplement_first") in codes(tampered(tmp_path, published, edit))


# --------------------------------------------------------------------------- V24 evaluation quorum


def test_v24_an_evaluation_with_no_public_representative_present_fails(
    tmp_path: Path, published: Files
) -> None:
    """(RP-5.2) More than half of the evaluation's public representatives must be present."""

    def edit(entries: list[dict[str, Any]]) -> None:
        body = first(entries, "evaluation.opened")["body"]
        assert body["public_present"] > 0
        body["present"] -= body["public_present"]
        body["public_present"] = 0

    assert ("V24", "evaluation.public_quorum") in codes(tampered(tmp_path, published, edit))


# --------------------------------------------------------------------------- V22 a stop in the log


def test_v22_checkpoints_past_where_reading_the_log_stopped_are_not_checked_not_unexpected(
    tmp_path: Path, published: Files
) -> None:
    """An entry out of shape stops the reading: what is due after it is unknown, so the later
    checkpoints are reported as not checked, never as ``checkpoint.unexpected``."""

    def edit(entries: list[dict[str, Any]]) -> None:
        first(entries, "recommendation.opened")["body"]["note"] = "extra member"

    doc = tampered(tmp_path, published, edit)
    assert [(f["clause"], f["code"]) for f in doc["findings"]] == [("V22", "entry.body")]
    assert {n["clause"] for n in doc["not_checked"]} == {"V22", "V23-V30"}
