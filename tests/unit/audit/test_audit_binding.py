"""A14-A16: the paper audit is bound to the town committee (issue 15.3).

Hostile cases first: a record invented and signed by anyone's key, the newest record or the
whole folder deleted, the chain reordered, a record of another log, a discrepancy left standing.
The appointment and the head are made by the producer (``tally.cli_audit``, signing with
``keys``); the verifier checks them with its own code.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tally.cli_audit import appointment_document, head_document
from tally.session_errors import SessionError
from tests.unit.audit import fixtures as F
from tests.unit.verifier import builder as B
from verifier.audit.binding import GENESIS, BindingError, parse_head, record_hash
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.reconcile import Paper, reconcile
from verifier.audit.record import (
    AuditCheck,
    AuditorKey,
    check_audit_records,
    reconciliation_record,
    write_record,
)
from verifier.cli import app as verifier_app

ALICE = AuditorKey(label="审计员甲", seed=b"\x21" * 32)
BOB = AuditorKey(label="审计员乙", seed=b"\x22" * 32)
MALLORY = AuditorKey(label="审计员甲", seed=b"\x66" * 32)  # same name, a key nobody appointed


def _auditor(k: AuditorKey) -> str:
    return f"{k.label}:{base64.b64encode(k.public_key).decode()}"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditedElection]:
    d = tmp_path_factory.mktemp("binding")
    bundle = F.small_bundle(d)
    return bundle, load_election(bundle, F.TOWN)


@pytest.fixture
def setup(base: tuple[Path, AuditedElection], tmp_path: Path) -> tuple[Path, AuditedElection]:
    """A fresh copy of the bundle with the town's appointment of ALICE and BOB in audit/."""
    bundle = Path(shutil.copytree(base[0], tmp_path / "bundle"))
    election = base[1]
    audit = tmp_path / "audit"
    audit.mkdir()
    eid = election.election_id.hex()
    doc = appointment_document(eid, [_auditor(ALICE), _auditor(BOB)], B.TOWN)
    (audit / "appointment.json").write_bytes(doc)
    return bundle, election


def _papers(election: AuditedElection, drop: int = 0) -> list[Paper]:
    return [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records][drop:]


def _record(
    bundle: Path,
    election: AuditedElection,
    *,
    keys: tuple[AuditorKey, ...] = (ALICE,),
    drop: int = 0,
) -> Path:
    """A full reconciliation record: clean, or with ``drop`` papers missing (discrepancies)."""
    papers = _papers(election, drop)
    signed = reconciliation_record(election, papers, reconcile(election, papers), date="2026-10-08")
    path, _ = write_record(bundle.parent / "audit", signed, list(keys))
    return path


def _head(bundle: Path, election: AuditedElection) -> Path:
    data, _, _ = head_document(election.election_id.hex(), bundle.parent / "audit", B.TOWN)
    out = bundle.parent / "head.json"
    out.write_bytes(data)
    return out


def _check(bundle: Path, election: AuditedElection, head: str = "") -> AuditCheck:
    given = parse_head(head, town_key=election.town_key, path="") if head else None
    return check_audit_records(bundle, election=election, head=given)


def _codes(result: AuditCheck) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for f in result.findings}


def _verify(bundle: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(
        verifier_app,
        ["verify", str(bundle), "--town-key", F.TOWN.fingerprint, "--jobs", "1", *args],
    )
    return r.exit_code, r.stdout


# ------------------------------------------------------------------ A14 appointed auditors


def test_a14_record_signed_by_an_unappointed_key_fails(setup: tuple[Path, AuditedElection]) -> None:
    bundle, election = setup
    _record(bundle, election, keys=(MALLORY,))
    assert _codes(_check(bundle, election)) == {("A14", "audit.unappointed_auditor")}


def test_a14_records_without_a_town_signed_appointment_fail(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    (bundle.parent / "audit" / "appointment.json").unlink()
    assert _codes(_check(bundle, election)) == {("A14", "audit.no_appointment")}


def test_a14_appointment_signed_by_another_town_key_fails(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election, keys=(MALLORY,))
    forged = appointment_document(
        election.election_id.hex(), [_auditor(MALLORY)], B.OTHER_TOWN
    )  # the forger appoints himself with a town key of his own
    (bundle.parent / "audit" / "appointment.json").write_bytes(forged)
    assert _codes(_check(bundle, election)) == {("A14", "audit.appointment_invalid")}


def test_a14_appointed_auditors_sign_and_pass(setup: tuple[Path, AuditedElection]) -> None:
    bundle, election = setup
    _record(bundle, election, keys=(ALICE, BOB))
    result = _check(bundle, election)
    assert result.ok, result.findings
    assert result.auditors == (
        ("审计员甲", ALICE.fingerprint),
        ("审计员乙", BOB.fingerprint),
    )


# ------------------------------------------------------------------ A15 chain and head


def test_a15_deleting_the_newest_record_is_detected_with_the_town_head(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    _record(bundle, election)
    head = _head(bundle, election)
    assert _check(bundle, election, str(head)).ok
    (bundle.parent / "audit" / "2.json").unlink()
    assert _codes(_check(bundle, election, str(head))) == {("A15", "audit.head_mismatch")}


def test_a15_deleting_the_whole_audit_folder_is_detected_with_the_town_head(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    head = _head(bundle, election)
    shutil.rmtree(bundle.parent / "audit")
    assert _codes(_check(bundle, election, str(head))) == {("A15", "audit.head_mismatch")}
    code, out = _verify(bundle, "--audit-head", str(head))
    assert code == 1, out


def test_a15_a_published_hex_head_detects_a_deleted_record(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    newest = _record(bundle, election)
    published = record_hash(newest.read_bytes())
    assert _check(bundle, election, published).ok
    newest.unlink()
    assert _codes(_check(bundle, election, published)) == {("A15", "audit.head_mismatch")}


def test_a15_a_head_not_signed_by_the_town_is_refused(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    data, _, _ = head_document(election.election_id.hex(), bundle.parent / "audit", B.OTHER_TOWN)
    fake = bundle.parent / "fake-head.json"
    fake.write_bytes(data)
    with pytest.raises(BindingError, match="town committee") as e:
        parse_head(str(fake), town_key=election.town_key, path="")
    assert (e.value.clause, e.value.code) == ("A15", "audit.head_invalid")
    code, out = _verify(bundle, "--audit-head", str(fake), "--json")
    assert code == 1, out
    assert json.loads(out)["ok"] is False
    found = json.loads(out)["audit"]
    assert [(f["clause"], f["code"]) for f in found["findings"]] == [("A15", "audit.head_invalid")]


def test_a15_a_reordered_chain_is_detected(setup: tuple[Path, AuditedElection]) -> None:
    bundle, election = setup
    first = _record(bundle, election)
    second = _record(bundle, election)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    codes = _codes(_check(bundle, election))
    assert ("A15", "audit.chain_broken") in codes
    assert codes <= {("A15", "audit.chain_broken"), ("A9", "audit.record_number")}


def test_a15_without_a_head_the_report_says_completeness_is_unchecked(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    code, out = _verify(bundle, "--lang", "en")
    assert code == 0, out
    assert "completeness is unchecked" in out
    code, out = _verify(bundle)
    assert "无法确认审计记录是否完整" in out
    head = _head(bundle, election)
    code, out = _verify(bundle, "--audit-head", str(head))
    assert code == 0 and "无法确认" not in out, out


def test_a11_a_record_naming_another_bundle_root_fails(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    papers = _papers(election)
    signed = reconciliation_record(election, papers, reconcile(election, papers), date="2026-10-08")
    signed["bundle_root"] = "ab" * 32  # a record made over another log
    write_record(bundle.parent / "audit", signed, [ALICE])
    assert _codes(_check(bundle, election)) == {("A11", "audit.other_root")}


def test_a15_the_first_record_names_genesis_and_each_next_the_previous_hash(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    first = _record(bundle, election)
    second = _record(bundle, election)
    s1 = json.loads(first.read_bytes())["signed"]
    s2 = json.loads(second.read_bytes())["signed"]
    assert s1["previous"] == GENESIS and s1["bundle_root"] == election.root
    assert s2["previous"] == record_hash(first.read_bytes())


# ------------------------------------------------------------------ A16 discrepancies


def test_a16_a_record_that_found_discrepancies_exits_1(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election, drop=1)  # one paper missing
    assert _codes(_check(bundle, election)) == {("A16", "audit.discrepancy_unsettled")}
    code, out = _verify(bundle, "--audit-head", str(_head(bundle, election)))
    assert code == 1, out


def test_a16_a_discrepancy_settled_by_a_later_full_count_exits_0(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election, drop=1)
    _record(bundle, election)  # the lost paper found: a clean full count of the same rounds
    assert _check(bundle, election).ok
    code, out = _verify(bundle, "--audit-head", str(_head(bundle, election)))
    assert code == 0, out


def test_a16_a_clean_record_before_the_discrepancy_does_not_settle_it(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    _record(bundle, election, drop=1)
    assert _codes(_check(bundle, election)) == {("A16", "audit.discrepancy_unsettled")}


# ------------------------------------------------------------------ the report


def test_verify_prints_the_appointed_auditors_names_and_fingerprints(
    setup: tuple[Path, AuditedElection],
) -> None:
    bundle, election = setup
    _record(bundle, election)
    code, out = _verify(bundle)
    assert code == 0, out
    assert f"审计员 审计员甲  {ALICE.fingerprint}" in out
    assert f"审计员 审计员乙  {BOB.fingerprint}" in out
    code, out = _verify(bundle, "--lang", "en")
    assert f"auditor 审计员甲  {ALICE.fingerprint}" in out
    code, out = _verify(bundle, "--json")
    doc = json.loads(out)
    assert doc["audit"]["auditors"] == [
        {"name": "审计员甲", "fingerprint": ALICE.fingerprint},
        {"name": "审计员乙", "fingerprint": BOB.fingerprint},
    ]
    assert doc["audit"]["completeness_checked"] is False


# ------------------------------------------------------------------ the producer's side


def test_producer_refuses_to_appoint_or_countersign_with_a_key_not_the_towns(
    tmp_path: Path,
) -> None:
    eid = "ab" * 32
    with pytest.raises(SessionError) as e:
        appointment_document(eid, [_auditor(ALICE)], B.WORK_GROUP)
    assert e.value.code == "key.role"
    with pytest.raises(SessionError) as e:
        head_document(eid, tmp_path, B.WORK_GROUP)
    assert e.value.code == "key.role"


@pytest.mark.parametrize(
    "auditors",
    [
        [],
        ["审计员甲"],  # no key
        ["审计员甲:" + base64.b64encode(b"\x01" * 31).decode()],  # 31 bytes
        [" 审计员甲:" + base64.b64encode(b"\x01" * 32).decode()],  # outer space
        [_auditor(ALICE), _auditor(AuditorKey("审计员丙", ALICE.seed))],  # one key twice
    ],
    ids=["none", "no-key", "short-key", "outer-space", "key-twice"],
)
def test_producer_refuses_a_bad_auditor_list(auditors: list[str]) -> None:
    with pytest.raises(SessionError) as e:
        appointment_document("ab" * 32, auditors, B.TOWN)
    assert e.value.code == "audit.auditor"


def test_producer_head_refuses_records_not_numbered_from_one(tmp_path: Path) -> None:
    (tmp_path / "2.json").write_bytes(b"{}")
    with pytest.raises(SessionError) as e:
        head_document("ab" * 32, tmp_path, B.TOWN)
    assert e.value.code == "audit.numbering"
