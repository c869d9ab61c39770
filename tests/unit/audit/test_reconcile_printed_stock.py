"""A5: full reconciliation of a printed, marked and scanned stock, with planted discrepancies.

The committee round-1 stock of the scripted election is rendered to PDF with ``ballot_printer``,
decoded back by the audit's own scanner (PDF pages and PNG images), and the marks are supplied as
the auditors' marks file. Every kind of discrepancy is planted once and must be found.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from typer.testing import CliRunner

from ballot_printer import BallotPaper, PaperKind, render_stock_pdf
from tests.unit.audit import fixtures as F
from tests.unit.verifier import builder as B
from verifier.audit.cli import audit_app, ballot_code
from verifier.audit.election import load_election
from verifier.audit.marks import parse_marks_file
from verifier.audit.reconcile import Paper, reconcile
from verifier.audit.record import check_audit_records, load_auditor_key, new_auditor_key
from verifier.cli import parse_town_key

# builder.py's committee round 1: entries use stock ids 0..7, id 8 (withdrawn), then id 9.
C1_MARKS = ["ooox", "ooox", "ooxo", "ooxo", "ooox", "ooxo", "oxoo", "x-oo", "oxxx", "oooo"]


def _qr_png(text: str, path: Path) -> Path:
    img = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6)
    img.save(path)
    return path


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("recon")
    bundle = F.small_bundle(d)
    paper = BallotPaper(
        title="中共青山村支部委员会换届选举",
        branch="中共青山村支部",
        term="第十一届",
        kind=PaperKind.COMMITTEE,
        round_number=1,
        seats=3,
        candidates=("党员01", "党员02", "党员03", "党员04"),
    )
    pdf = render_stock_pdf(paper, F.small_stock(), d / "stock.pdf")
    lines = []
    for page in range(1, 11):  # pages 1..10 = ids 0..9
        if page == 2:
            continue  # (missing) id 1 is in the record but its paper is lost
        marks = C1_MARKS[page - 1]
        if page == 3:
            marks = "xxxo"  # (marks_differ) the record says ooxo
        wis = [{"name": "党员05", "member": "M05", "mark": "o"}] if page == 8 else []
        lines.append({"image": "stock.pdf", "page": page, "marks": marks, "write_ins": wis})
    # page 9 is id 8, withdrawn at the table: on paper, not in the record (extra)
    lines.append({"image": "stock.pdf", "page": 1, "marks": "ooox"})  # (duplicate) a photocopy
    _qr_png(F.forged_qr(signer=B.OTHER_WG), d / "forged.png")  # (counterfeit) bad signature
    lines.append({"image": "forged.png", "marks": "oooo"})
    _qr_png(F.forged_qr(), d / "unlisted.png")  # (counterfeit) signed, not in the stock
    lines.append({"image": "unlisted.png", "marks": "oooo"})
    _qr_png(F.forged_qr(signer=B.OTHER_WG, eid=b"\x07" * 32), d / "other.png")  # (foreign)
    lines.append({"image": "other.png", "marks": "oooo"})
    Image.new("L", (600, 800), 255).save(d / "blank.png")  # (unreadable) no QR at all
    lines.append({"image": "blank.png", "marks": "----"})
    marks = d / "marks.jsonl"
    marks.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    assert pdf.exists()
    return bundle, marks


def test_a5_every_planted_discrepancy_is_found(scanned: tuple[Path, Path]) -> None:
    bundle, marks = scanned
    election = load_election(bundle, F.TOWN)
    from verifier.audit.cli import _paper, _Scans  # noqa: PLC0415

    scans = _Scans(marks.parent)
    papers = [_paper(line, scans) for line in parse_marks_file(marks)]
    assert sum(1 for p in papers if p.qr) == 13  # every QR decoded from the PDF and PNGs
    r = reconcile(election, papers, [("committee", 1)])
    kinds = sorted(d.kind for d in r.discrepancies)
    assert kinds == sorted(
        [
            "missing",
            "extra",
            "marks_differ",
            "duplicate",
            "counterfeit",
            "counterfeit",
            "foreign",
            "unreadable",
        ]
    )
    stock = [p.ballot_id.hex() for p in F.small_stock().payloads]
    by_kind = {d.kind: d for d in r.discrepancies}
    assert by_kind["missing"].ballot_id == stock[1]
    assert by_kind["extra"].ballot_id == stock[8]
    assert by_kind["marks_differ"].ballot_id == stock[2]
    assert (by_kind["marks_differ"].recorded, by_kind["marks_differ"].found) == ("ooxo", "xxxo")
    assert by_kind["duplicate"].ballot_id == stock[0]
    assert {d.code for d in r.discrepancies if d.kind == "counterfeit"} == {
        "qr.bad_signature",
        "audit.not_in_stock",
    }
    assert by_kind["foreign"].code == "qr.wrong_election"
    assert not r.ok
    # The paper recount: the extra ballot and the changed marks change the approvals.
    (outcome,) = r.outcomes
    assert not outcome.counts_match


def test_a5_clean_reconciliation_confirms_outcome(tmp_path: Path) -> None:
    bundle = F.small_bundle(tmp_path)
    election = load_election(bundle, F.TOWN)
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records]
    r = reconcile(election, papers)
    assert r.ok
    assert [o.matches for o in r.outcomes] == [True, True, True]


def test_a8_reconcile_cli_writes_signed_record_and_report(
    scanned: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle, marks = scanned
    key = tmp_path / "auditor.key"
    new_auditor_key("审计员甲", key)
    audit_dir = tmp_path / "audit"
    pdf = tmp_path / "report.pdf"
    r = CliRunner().invoke(
        audit_app,
        [
            "reconcile",
            str(bundle),
            "--town-key",
            F.TOWN.fingerprint,
            "--marks",
            str(marks),
            "--auditor-key",
            str(key),
            "--audit-dir",
            str(audit_dir),
            "--report",
            str(pdf),
            "--date",
            "2026-10-08",
        ],
    )
    assert r.exit_code == 1, r.output  # discrepancies found
    assert "伪造选票" in r.output
    assert (audit_dir / "1.json").exists() and pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # no local path, no marks-file line or log sequence number; the paper's code and page instead
    assert str(tmp_path) not in text and str(marks.parent) not in text
    assert "审计记录：1.json" in text
    assert not re.search(r"\bseq \d|\bline \d|#\d", text), text
    assert "扫描件 stock.pdf 第 3 页" in text and "电子选票记录" in text
    stock = [p.ballot_id.hex() for p in F.small_stock().payloads]
    assert ballot_code(stock[2]) in text  # marks_differ, by the code printed on the paper
    assert not [f for f in audit_dir.iterdir() if f.name.startswith(".")]
    F.appoint(audit_dir, B.election_id(B.manifest()), load_auditor_key(key))
    check = check_audit_records(bundle, audit_dir=audit_dir)
    # a valid, signed record by the appointed auditor; its discrepancies stand unsettled (A16)
    assert check.records == 1
    assert [(f.clause, f.code) for f in check.findings] == [("A16", "audit.discrepancy_unsettled")]


def test_a5_direct_election_recount_drops_the_candidate_not_on_the_committee_R22_3() -> None:
    """The direct-election vector bundle: the paper recount of the secretary round gives M02's
    ○ marks to nobody (R22.3), so a clean reconciliation confirms every round."""
    bundle = (
        Path(__file__).resolve().parents[3] / "spec/vectors/bundle/valid/direct-election/bundle"
    )
    key = parse_town_key(str(bundle.parents[2] / "town.pub"))
    election = load_election(bundle, key)
    secretary = election.round("secretary", 1)
    assert secretary is not None and secretary.dropped == ("M02",)
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records]
    r = reconcile(election, papers)
    assert r.ok
    assert [(o.matches, o.counts_match) for o in r.outcomes] == [(True, True), (True, True)]


def test_a5_ballots_declared_invalid_reconcile_as_invalid_R8_5(tmp_path: Path) -> None:
    """A ballot declared invalid with its QR matches its paper whatever marks are read from it; one
    without QR (not official stock) matches no paper and counts as one invalid ballot."""
    ev = B.script()
    i = next(k for k, (t, b) in enumerate(ev) if t == "ballot.entered" and b["marks"] == "oooo")
    ev[i] = [
        "ballot.declared_invalid",
        {"post": "committee", "round": 1, "reason": "identifying_marks", "with_qr": True},
    ]
    i = next(
        k
        for k, (t, b) in enumerate(ev)
        if t == "ballot.entered" and b["post"] == "secretary" and b["marks"] == "oo"
    )
    ev[i] = ["ballot.declared_invalid", {"post": "secretary", "round": 2, "reason": "unreadable"}]
    election = load_election(B.write_folder(B.build(ev), tmp_path / "bundle"), F.TOWN)
    decided = [b for b in election.records if b.invalid_reason]
    assert [(b.invalid_reason, bool(b.ballot_id)) for b in decided] == [
        ("identifying_marks", True),
        ("unreadable", False),
    ]
    papers = [
        Paper(f"seq {b.seq}", b.qr, "oooo" if b.invalid_reason else b.marks, b.write_ins)
        for b in election.records
        if b.ballot_id
    ]
    r = reconcile(election, papers)
    assert r.ok, r.discrepancies
    assert all(o.matches and o.counts_match for o in r.outcomes)
