"""A4, A6, A7: the ballot-comparison audit of a 119-ballot round; A9-A12: its record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.audit import fixtures as F
from verifier.audit.cli import audit_app
from verifier.audit.comparison import Reading, parse_seed, run_comparison
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.errors import AuditInputError, AuditSeedError, BundleNotVerifiedError
from verifier.audit.pdf import render_comparison_pdf
from verifier.audit.record import (
    check_audit_records,
    comparison_record,
    load_auditor_key,
    new_auditor_key,
    write_record,
)

SEED = "31415926535897932384"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditedElection]:
    bundle = F.large_bundle(tmp_path_factory.mktemp("rla"))
    return bundle, load_election(bundle, F.TOWN)


def _honest(e: AuditedElection) -> dict[str, Reading]:
    return {
        b.ballot_id: Reading(b.ballot_id, True, b.marks, b.write_ins)
        for b in e.records_of("committee", 1)
    }


def test_a7_first_stage_asks_for_the_sampled_ballots(big: tuple[Path, AuditedElection]) -> None:
    _, e = big
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings={})
    assert a.status == "more_ballots"
    assert a.stages == (31,)  # smallest margin: pass M03, 80 - 59 = 21 of 119 ballots
    assert set(a.needed) == set(a.draws)


def test_a7_audit_of_correct_outcome_stops(big: tuple[Path, AuditedElection]) -> None:
    _, e = big
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings=_honest(e))
    assert a.status == "confirmed"
    assert a.risk <= 0.1 and len(a.stages) == 1
    assert a.trajectory[0] > a.trajectory[-1]


def test_a7_audit_of_wrong_outcome_escalates_to_full_hand_count(
    big: tuple[Path, AuditedElection],
) -> None:
    _, e = big
    readings = {}
    for i, b in enumerate(e.records_of("committee", 1)):
        marks = b.marks[:2] + b.marks[3] + b.marks[2] if i % 2 == 0 else b.marks  # M03 <-> M04
        readings[b.ballot_id] = Reading(b.ballot_id, True, marks, b.write_ins)
    first = run_comparison(
        e,
        "committee",
        1,
        seed=SEED,
        risk_limit=10,
        readings={
            k: v
            for k, v in readings.items()
            if k
            in set(run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings={}).needed)
        },
    )
    assert first.status == "more_ballots" and first.stages[-1] == 119  # escalated to all
    assert len(first.needed) == 119 - len(set(first.draws))
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings=readings)
    assert a.status == "full_count_differs"
    assert a.paper_count is not None and "M03" not in a.paper_count.elected


def test_a7_ballot_not_found_counts_as_two_vote_overstatement(
    big: tuple[Path, AuditedElection],
) -> None:
    _, e = big
    readings = _honest(e)
    first = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings={}).draws[0]
    readings[first] = Reading(first, False)
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings=readings)
    assert (first, 2) in a.overstatements
    assert a.status != "confirmed" or len(a.stages) > 1


@pytest.mark.parametrize("seed", ["1234567890123456789", "12345 67890", ""])
def test_a4_seed_with_too_few_digits_is_refused(seed: str) -> None:
    with pytest.raises(AuditSeedError) as ei:
        parse_seed(seed)
    assert ei.value.code == "audit.seed_too_short"
    assert "20" in ei.value.zh


def test_a4_seed_with_letters_is_refused() -> None:
    with pytest.raises(AuditSeedError, match="dice digits"):
        parse_seed("1234567890123456789a0")


@pytest.mark.parametrize(
    ("marks", "code"), [("oo", "audit.marks_length"), ("oqox", "audit.marks_letters")]
)
def test_a3_impossible_marks_refused(
    big: tuple[Path, AuditedElection], marks: str, code: str
) -> None:
    _, e = big
    bid = e.records_of("committee", 1)[0].ballot_id
    with pytest.raises(AuditInputError) as ei:
        run_comparison(
            e, "committee", 1, seed=SEED, risk_limit=10, readings={bid: Reading(bid, True, marks)}
        )
    assert ei.value.code == code


def test_a1_bundle_failing_verification_is_refused(tmp_path: Path) -> None:
    bundle = F.small_bundle(tmp_path)
    (bundle / "result.json").write_bytes(b"{}")
    with pytest.raises(BundleNotVerifiedError, match="verification"):
        load_election(bundle, F.TOWN)


def test_a9_record_written_atomically_and_checked(
    big: tuple[Path, AuditedElection], tmp_path: Path
) -> None:
    bundle, e = big
    keys = [
        new_auditor_key("审计员甲", tmp_path / "a.key"),
        new_auditor_key("审计员乙", tmp_path / "b.key"),
    ]
    readings = _honest(e)
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings=readings)
    folder = tmp_path / "audit"
    signed = comparison_record(e, readings, a, date="2026-10-08")
    p1, doc = write_record(folder, signed, keys)
    p2, _ = write_record(folder, signed, keys)
    F.appoint(folder, e.election_id, *keys)
    assert (p1.name, p2.name) == ("1.json", "2.json")
    assert len(doc["signatures"]) == 2
    assert sorted(f.name for f in folder.iterdir()) == ["1.json", "2.json", "appointment.json"]
    ok = check_audit_records(bundle, audit_dir=folder, auditors=[k.fingerprint for k in keys])
    assert ok.ok and ok.records == 2, ok.findings
    # A12: a record claiming a lower risk than its readings give is caught.
    tampered = json.loads(p2.read_bytes())
    tampered["signed"]["outputs"]["risk"] = "0.000001"
    from verifier.canonical import canonical_bytes  # noqa: PLC0415

    p2.write_bytes(canonical_bytes(tampered))
    bad = check_audit_records(bundle, audit_dir=folder)
    assert {f.code for f in bad.findings} == {"audit.signature_invalid", "audit.outputs_differ"}
    # A10: an unknown auditor's key is reported.
    other = check_audit_records(bundle, audit_dir=folder, auditors=[keys[0].fingerprint])
    assert "audit.unknown_auditor" in {f.code for f in other.findings}
    assert load_auditor_key(tmp_path / "a.key").fingerprint == keys[0].fingerprint


def test_a13_report_pdf_has_chart_and_embedded_font(
    big: tuple[Path, AuditedElection], tmp_path: Path
) -> None:
    _, e = big
    a = run_comparison(e, "committee", 1, seed=SEED, risk_limit=10, readings=_honest(e))
    out = render_comparison_pdf(
        a, tmp_path / "r.pdf", title="中共青山村支部委员会换届选举", record="audit/1.json"
    )
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"FontFile2" in data
    from pypdf import PdfReader  # noqa: PLC0415

    text = PdfReader(out).pages[0].extract_text()
    assert "测得的风险" in text and "结果得到确认" in text


def test_a4_rla_cli_more_ballots_then_confirmed(
    big: tuple[Path, AuditedElection], tmp_path: Path
) -> None:
    bundle, e = big
    runner = CliRunner()
    base = [
        "rla",
        str(bundle),
        "--town-key",
        F.TOWN.fingerprint,
        "--post",
        "committee",
        "--round",
        "1",
        "--seed",
        SEED,
        "--audit-dir",
        str(tmp_path / "audit"),
    ]
    r = runner.invoke(audit_app, [*base, "--json"])
    assert r.exit_code == 3, r.output
    needed = [n["ballot_id"] for n in json.loads(r.output)["needed"]]
    recs = {b.ballot_id: b for b in e.records_of("committee", 1)}
    marks = tmp_path / "marks.jsonl"
    marks.write_text(
        "".join(json.dumps({"ballot_id": b, "marks": recs[b].marks}) + "\n" for b in needed)
    )
    key = tmp_path / "k.key"
    new_auditor_key("审计员", key)
    r = runner.invoke(
        audit_app,
        [
            *base,
            "--marks",
            str(marks),
            "--auditor-key",
            str(key),
            "--report",
            str(tmp_path / "r.pdf"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "confirmed" in r.output and (tmp_path / "audit" / "1.json").exists()


def test_a4_rla_cli_short_seed_message_in_english(big: tuple[Path, AuditedElection]) -> None:
    bundle, _ = big
    r = CliRunner().invoke(
        audit_app,
        [
            "rla",
            str(bundle),
            "--town-key",
            F.TOWN.fingerprint,
            "--post",
            "committee",
            "--round",
            "1",
            "--seed",
            "123456",
            "--lang",
            "en",
        ],
    )
    assert r.exit_code == 2
    assert "at least 20 dice digits" in r.output
