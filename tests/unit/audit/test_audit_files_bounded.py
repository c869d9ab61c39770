"""Every file the paper audit reads goes through the verifier's bounded reader (issue 15.2).

A FIFO given as a scan, an audit head or the appointment would block a plain ``open`` forever;
``/dev/zero`` would be read forever. Each is refused with its clause, in bounded time, before any
decoder (Pillow, ``pdftoppm``) sees it. The happy paths (a PNG, a PDF through ``pdftoppm``'s
standard input) still decode.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
import qrcode

from tally.cli_audit import appointment_document
from tests.unit.audit import fixtures as F
from tests.unit.verifier import builder as B
from verifier.audit import scan
from verifier.audit.binding import BindingError, parse_head
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.errors import AuditScanError
from verifier.audit.record import AuditorKey, check_audit_records

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditedElection]:
    d = tmp_path_factory.mktemp("bounded")
    bundle = F.small_bundle(d)
    return bundle, load_election(bundle, F.TOWN)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


# ------------------------------------------------------------------ scans (A2)


def test_a2_a_fifo_given_as_a_scan_is_refused_not_waited_on(tmp_path: Path) -> None:
    with pytest.raises(AuditScanError) as e:
        scan.read_scan(_fifo(tmp_path / "scan.png"))
    assert (e.value.clause, e.value.code) == ("A2", "scan.not_a_file")
    assert "FIFO" in e.value.en


def test_a2_a_device_given_as_a_scan_is_refused_not_read_forever() -> None:
    with pytest.raises(AuditScanError) as e:
        scan.read_scan(Path("/dev/zero"))
    assert (e.value.clause, e.value.code) == ("A2", "scan.not_a_file")


def test_a2_a_scan_over_its_size_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = tmp_path / "scan.png"
    qrcode.make("x").save(png)
    monkeypatch.setattr(scan, "SCAN_LIMIT", png.stat().st_size - 1)
    with pytest.raises(AuditScanError) as e:
        scan.read_scan(png)
    assert (e.value.clause, e.value.code) == ("A2", "scan.too_large")


def test_a2_png_and_pdf_scans_still_decode_through_the_open_file(tmp_path: Path) -> None:
    png = tmp_path / "scan.png"
    qrcode.make("HELLO-AUDIT").save(png)
    assert scan.read_scan(png)[0].texts == ("HELLO-AUDIT",)
    pdf = tmp_path / "scan.pdf"
    qrcode.make("HELLO-PDF").save(pdf, format="PDF")
    pages = scan.read_scan(pdf)
    assert [p.texts for p in pages] == [("HELLO-PDF",)]


def test_a2_a_symlink_to_a_fifo_is_refused_too(tmp_path: Path) -> None:
    target = _fifo(tmp_path / "pipe")
    link = tmp_path / "scan.pdf"
    link.symlink_to(target)
    with pytest.raises(AuditScanError) as e:
        scan.read_scan(link)
    assert e.value.code == "scan.not_a_file"


# ------------------------------------------------------------------ head (A15), appointment (A14)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a15_a_head_that_is_a_fifo_or_device_is_refused(
    base: tuple[Path, AuditedElection], tmp_path: Path, kind: str
) -> None:
    head = _fifo(tmp_path / "head.json") if kind == "fifo" else Path("/dev/zero")
    with pytest.raises(BindingError) as e:
        parse_head(str(head), town_key=base[1].town_key, path="")
    assert (e.value.clause, e.value.code) == ("A15", "audit.head_invalid")


def test_a14_an_appointment_that_is_a_fifo_is_no_appointment(
    base: tuple[Path, AuditedElection], tmp_path: Path
) -> None:
    bundle = Path(shutil.copytree(base[0], tmp_path / "bundle"))
    audit = tmp_path / "audit"
    audit.mkdir()
    _fifo(audit / "appointment.json")
    (audit / "1.json").write_bytes(b"{}")  # the appointment is read when there are records
    result = check_audit_records(bundle, election=base[1])
    assert ("A14", "audit.no_appointment") in {(f.clause, f.code) for f in result.findings}


def test_a14_a_regular_appointment_is_still_read(
    base: tuple[Path, AuditedElection], tmp_path: Path
) -> None:
    bundle = Path(shutil.copytree(base[0], tmp_path / "bundle"))
    audit = tmp_path / "audit"
    audit.mkdir()
    eid = base[1].election_id.hex()
    alice = AuditorKey(label="审计员甲", seed=b"\x21" * 32)
    auditor = f"{alice.label}:{base64.b64encode(alice.public_key).decode()}"
    (audit / "appointment.json").write_bytes(appointment_document(eid, [auditor], B.TOWN))
    result = check_audit_records(bundle, election=base[1])
    assert ("A14", "audit.no_appointment") not in {(f.clause, f.code) for f in result.findings}
