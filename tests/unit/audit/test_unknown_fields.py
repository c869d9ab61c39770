"""A12.12: every audit file the verifier reads refuses an unknown field (spec/audit.md)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.audit import fixtures as F
from verifier.audit.election import load_election
from verifier.audit.errors import AuditInputError
from verifier.audit.marks import parse_marks_file
from verifier.audit.reconcile import Paper, reconcile
from verifier.audit.record import (
    check_audit_records,
    load_auditor_key,
    new_auditor_key,
    reconciliation_record,
    write_record,
)
from verifier.canonical import canonical_bytes
from verifier.errors import VerificationError


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small bundle with one signed reconciliation record beside it."""
    tmp = tmp_path_factory.mktemp("audit")
    bundle = F.small_bundle(tmp)
    election = load_election(bundle, F.TOWN)
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records]
    key = new_auditor_key("审计员甲", tmp / "a.key")
    signed = reconciliation_record(election, papers, reconcile(election, papers), date="2026-10-08")
    path, _ = write_record(tmp / "audit", signed, [key])
    F.appoint(tmp / "audit", election.election_id, key)
    assert check_audit_records(bundle, audit_dir=tmp / "audit").ok
    return bundle, path


def _add_top(doc: dict[str, Any]) -> None:
    doc["note"] = "x"


def _add_signed(doc: dict[str, Any]) -> None:
    doc["signed"]["note"] = "x"


def _add_signature_member(doc: dict[str, Any]) -> None:
    doc["signatures"][0]["note"] = "x"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (_add_top, "audit.record_format"),
        (_add_signed, "audit.record_format"),
        (_add_signature_member, "audit.signature_format"),
    ],
    ids=["record", "signed-part", "signature-item"],
)
def test_an_audit_record_with_an_unknown_member_is_refused_A12_12(
    recorded: tuple[Path, Path],
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    code: str,
) -> None:
    bundle, path = recorded
    doc = json.loads(path.read_bytes())
    edit(doc)
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "1.json").write_bytes(canonical_bytes(doc))
    shutil.copy(path.parent / "appointment.json", folder / "appointment.json")
    report = check_audit_records(bundle, audit_dir=folder)
    assert code in {f.code for f in report.findings}


def test_an_auditor_key_with_an_unknown_field_is_refused_A12_12(tmp_path: Path) -> None:
    new_auditor_key("审计员甲", tmp_path / "a.key")
    doc = json.loads((tmp_path / "a.key").read_bytes())
    doc["note"] = "x"
    (tmp_path / "b.key").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(VerificationError):
        load_auditor_key(tmp_path / "b.key")


def test_a_marks_line_with_an_unknown_field_is_refused_A12_12(tmp_path: Path) -> None:
    path = tmp_path / "marks.jsonl"
    path.write_text(
        json.dumps({"ballot_id": "0" * 32, "marks": "oo", "colour": "red"}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(AuditInputError, match="colour"):
        parse_marks_file(path)
    path.write_text(
        json.dumps({"ballot_id": "0" * 32, "marks": "oo", "write_ins": [{"name": "x", "y": 1}]})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(AuditInputError):
        parse_marks_file(path)
