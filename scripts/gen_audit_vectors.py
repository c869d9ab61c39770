"""Generate the audit-binding vectors of spec/audit.md (A11, A14-A16) into spec/vectors/audit/.

The bundle is a copy of spec/vectors/bundle/valid/small-branch/bundle (run gen_bundle_vectors.py
first when that changes). Each case is a folder holding what lies beside a bundle: ``audit/``
(the town's ``appointment.json`` and the records ``<n>.json``), optionally ``head.json`` (the
town's ``audit-head/1``) and ``expected.json`` (the head to give, ``null`` for none, and the
exact set of [clause, code] findings). Records are full reconciliations written by the
verifier's own record writer from the bundle's ballot records (all papers: clean; the first
paper left out: discrepancies); the appointment and the head are signed by the producer
(``tally.cli_audit``) with the bundle vectors' fixed town key. Ed25519 is deterministic, so
every run writes the same bytes.

    python scripts/gen_audit_vectors.py          # (re)write the files
    python scripts/gen_audit_vectors.py --check  # exit 1 if the committed files differ
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keys
from tally.cli_audit import appointment_document, head_document
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.reconcile import Paper, reconcile
from verifier.audit.record import AuditorKey, reconciliation_record, write_record

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "spec" / "vectors" / "bundle" / "valid" / "small-branch" / "bundle"
OUT_DIR = ROOT / "spec" / "vectors" / "audit"


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"bundle vector seed: {name}".encode()).digest()


# the bundle vectors' town keys (scripts/gen_bundle_vectors.py)
TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "示例镇党委", _seed("town"))
OTHER_TOWN = keys.InMemorySigner.from_seed(
    keys.Role.TOWN_COMMITTEE, "别的镇党委", _seed("other town")
)
ALICE = AuditorKey("审计员甲", hashlib.sha256(b"audit vector seed: alice").digest())
BOB = AuditorKey("审计员乙", hashlib.sha256(b"audit vector seed: bob").digest())
MALLORY = AuditorKey("审计员甲", hashlib.sha256(b"audit vector seed: mallory").digest())
DATE = "2026-10-08"


def _appoint(folder: Path, eid: str, town: keys.Signer = TOWN) -> None:
    names = [f"{k.label}:{base64.b64encode(k.public_key).decode()}" for k in (ALICE, BOB)]
    if town is OTHER_TOWN:
        names = [f"{MALLORY.label}:{base64.b64encode(MALLORY.public_key).decode()}"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "appointment.json").write_bytes(appointment_document(eid, names, town))


def _record(
    folder: Path, e: AuditedElection, *, drop: int = 0, key: AuditorKey = ALICE, root: str = ""
) -> Path:
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in e.records][drop:]
    signed = reconciliation_record(e, papers, reconcile(e, papers), date=DATE)
    if root:
        signed["bundle_root"] = root
    path, _ = write_record(folder, signed, [key])
    return path


def _head(case: Path, e: AuditedElection) -> None:
    data, _, _ = head_document(e.election_id.hex(), case / "audit", TOWN)
    (case / "head.json").write_bytes(data)


def _swap(folder: Path) -> None:
    a, b = (folder / "1.json").read_bytes(), (folder / "2.json").read_bytes()
    (folder / "1.json").write_bytes(b)
    (folder / "2.json").write_bytes(a)


Build = Callable[[Path, AuditedElection], None]


def _cases() -> list[tuple[str, bool, list[list[str]], Build]]:
    """(name, head given, expected [clause, code] findings, builder)."""

    def chain(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e)
        _record(c / "audit", e)
        _head(c, e)

    def settled(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e, drop=1)
        _record(c / "audit", e)
        _head(c, e)

    def forged_record(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e, key=MALLORY)
        _head(c, e)

    def forged_appointment(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex(), OTHER_TOWN)
        _record(c / "audit", e, key=MALLORY)

    def deleted_newest(c: Path, e: AuditedElection) -> None:
        chain(c, e)
        (c / "audit" / "2.json").unlink()

    def deleted_folder(c: Path, e: AuditedElection) -> None:
        chain(c, e)
        shutil.rmtree(c / "audit")

    def reordered(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e)
        _record(c / "audit", e, drop=1)
        _record(c / "audit", e)
        _swap(c / "audit")

    def other_root(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e, root="ab" * 32)

    def discrepancy(c: Path, e: AuditedElection) -> None:
        _appoint(c / "audit", e.election_id.hex())
        _record(c / "audit", e, drop=1)
        _head(c, e)

    return [
        ("valid-chain", True, [], chain),
        ("valid-chain-no-head", False, [], chain),
        ("valid-discrepancy-settled", True, [], settled),
        ("forged-record", True, [["A14", "audit.unappointed_auditor"]], forged_record),
        ("forged-appointment", False, [["A14", "audit.appointment_invalid"]], forged_appointment),
        ("deleted-newest", True, [["A15", "audit.head_mismatch"]], deleted_newest),
        ("deleted-folder", True, [["A15", "audit.head_mismatch"]], deleted_folder),
        (
            "reordered",
            False,
            [["A15", "audit.chain_broken"], ["A9", "audit.record_number"]],
            reordered,
        ),
        ("other-root", False, [["A11", "audit.other_root"]], other_root),
        ("discrepancy", True, [["A16", "audit.discrepancy_unsettled"]], discrepancy),
    ]


def build_vectors() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for p in sorted(SOURCE.rglob("*")):
        if p.is_file():
            out[f"bundle/{p.relative_to(SOURCE)}"] = p.read_bytes()
    election = load_election(SOURCE, None, verify=False)
    with tempfile.TemporaryDirectory() as tmp:
        for name, head, findings, build in _cases():
            case = Path(tmp) / name
            case.mkdir()
            build(case, election)
            if not head:
                (case / "head.json").unlink(missing_ok=True)
            for p in sorted(case.rglob("*")):
                if p.is_file():
                    out[f"{name}/{p.relative_to(case)}"] = p.read_bytes()
            doc: dict[str, Any] = {
                "format": "audit-vector/1",
                "head": "head.json" if head else None,
                "findings": sorted(findings),
            }
            out[f"{name}/expected.json"] = (
                json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            ).encode()
    return dict(sorted(out.items()))


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import run  # noqa: PLC0415

    return run(OUT_DIR, build_vectors, argv, description=__doc__ or "")


if __name__ == "__main__":
    sys.exit(main())
