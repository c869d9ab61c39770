"""The casework bundle vectors (spec/procedure.md RP-15.2, RP-15.3; V31), loaded by both sides.

The verifier (``verifier.casework.verify_casework``) passes the valid bundle with exactly the
warnings its ``expected.json`` lists, and fails every invalid one with its code under V31; the
producer's own reader (``tally.casework_store.parse_signed_casework`` and
``tally.core.casework.replay``) accepts the valid bundle's definition and log; an appointment's
``casework`` and ``objections`` as the producer builds them agree with the casework, and each
changed one fails with its code (appointment/). The committed
vectors equal a fresh regeneration by scripts/gen_casework_vectors.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tally.casework_store import parse_signed_casework
from tally.core.casework import replay
from verifier.casework import verify_casework
from verifier.casework_appointment import appointment_findings
from verifier.checks import TownKey
from verifier.cli import app, parse_town_key

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "procedure" / "casework"
VALID = sorted(p for p in (VECTORS / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (VECTORS / "invalid").iterdir() if p.is_dir())
TOWN_PUB = VECTORS / "town.pub"


def _expected(case: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert doc["format"] == "casework-vector/1"
    return doc


@pytest.fixture(scope="module")
def town() -> TownKey:
    return parse_town_key(str(TOWN_PUB))


def test_casework_vectors_match_a_fresh_generation() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_casework_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0, r.stderr


def test_rp_15_invalid_casework_vectors_are_present() -> None:
    names = {p.name for p in INVALID}
    assert {"V31-deadline-wrong", "V31-photo-hash-mismatch"} <= names
    # RP-8.4a: a provisional date miscounted, a malformed due_provisional; R26.3: calendar.json
    assert {
        "V31-provisional-miscounted",
        "V31-provisional-repeated",
        "V31-provisional-empty",
        "V31-provisional-unknown-name",
        "V31-provisional-extension-not-later",
        "V31-calendar-missing",
        "V31-calendar-other-key",
        "V31-calendar-conflict",
    } <= names
    assert [p.name for p in VALID] == [
        "casework-basic",
        "casework-provisional",
        "casework-signed-year",
    ]


def test_rp_8_4a_the_provisional_bundle_names_its_provisional_dates() -> None:
    """The valid RP-8.4a bundle has a case with one and a case with both dates provisional, no
    calendar.json; the signed-year bundle carries the town's year file (RP-12.3)."""
    bundle = VECTORS / "valid" / "casework-provisional" / "bundle"
    named = [
        json.loads(line)["body"].get("due_provisional")
        for line in (bundle / "log.jsonl").read_bytes().splitlines()
        if json.loads(line)["type"].endswith(".received")
    ]
    assert named == [["due_conclude"], ["due_assign", "due_conclude"]]
    assert not (bundle / "calendar.json").exists()
    signed = VECTORS / "valid" / "casework-signed-year" / "bundle" / "calendar.json"
    assert json.loads(signed.read_bytes())["format"] == "signed-calendar/1"


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_v31_valid_casework_bundle_passes_with_only_its_warnings(case: Path, town: TownKey) -> None:
    report = verify_casework(case / "bundle", town)
    assert report.ok, report.findings
    assert sorted({w.code for w in report.warnings}) == _expected(case)["warnings"]
    assert report.not_checked  # what needs the procedure bundle is said, never passed


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_v31_invalid_casework_bundle_fails_with_its_code(case: Path, town: TownKey) -> None:
    expected = _expected(case)
    report = verify_casework(case / "bundle", town)
    assert not report.ok
    assert {f.clause for f in report.findings} == {expected["clause"]}
    assert report.findings[0].code == expected["code"], report.findings


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_the_producer_reads_the_valid_casework_bundle(case: Path) -> None:
    bundle = case / "bundle"
    casework, _town, _service = parse_signed_casework((bundle / "casework.json").read_bytes())
    ledger = replay(casework, (bundle / "log.jsonl").read_bytes().splitlines())
    report = verify_casework(bundle, parse_town_key(str(TOWN_PUB)))
    assert ledger.size == report.entries
    assert {c.reference: c.state.value for c in ledger.cases.values()} == {
        c.reference: c.state for c in report.cases
    }


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(["casework", *args], standalone_mode=False)
    return code or 0, out.getvalue() + err.getvalue()


def test_cli_exit_codes_say_passed_failed_and_unreadable(tmp_path: Path) -> None:
    valid = str(VALID[0] / "bundle")
    assert _cli(valid, "--town-key", str(TOWN_PUB))[0] == 0
    code, text = _cli(str(INVALID[0] / "bundle"), "--town-key", str(TOWN_PUB), "--lang", "en")
    assert code == 1
    assert "FAILED" in text
    assert _cli(str(tmp_path / "nothing"), "--town-key", str(TOWN_PUB))[0] == 2
    (tmp_path / "bad.pub").write_bytes(b"{}")
    assert _cli(valid, "--town-key", str(tmp_path / "bad.pub"))[0] == 2


def test_cli_report_is_chinese_by_default_and_english_by_the_switch() -> None:
    valid = str(VALID[0] / "bundle")
    zh = _cli(valid, "--town-key", str(TOWN_PUB))[1]
    en = _cli(valid, "--town-key", str(TOWN_PUB), "--lang", "en")[1]
    assert "V31 事项登记簿：通过" in zh
    assert "V31 Casework: passed" in en
    doc = json.loads(_cli(valid, "--town-key", str(TOWN_PUB), "--json")[1])
    assert doc["ok"] is True
    assert doc["clause"] == "V31"


def test_the_casework_key_role_is_known_to_the_verifier() -> None:
    from verifier.crypto import ROLES  # noqa: PLC0415

    assert "casework" in ROLES


APPOINTMENTS = sorted((VECTORS / "appointment").glob("*.json"))


@pytest.mark.parametrize("path", APPOINTMENTS, ids=lambda p: p.stem)
def test_v31_appointment_objections_against_the_casework(path: Path, town: TownKey) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "casework-appointment-vector/1"
    report = verify_casework(VECTORS / doc["bundle"], town)
    assert report.ok
    found = appointment_findings(report, doc["appointment"], doc["branch"])
    if doc["valid"]:
        assert found == []
    else:
        assert [f.code for f in found] == [doc["code"]]
        assert {f.clause for f in found} == {"V31"}


def test_v31_an_appointment_of_another_branch_lists_none_of_these_objections(
    town: TownKey,
) -> None:
    doc = json.loads((VECTORS / "appointment" / "valid-B01.json").read_text(encoding="utf-8"))
    report = verify_casework(VECTORS / doc["bundle"], town)
    found = appointment_findings(report, doc["appointment"], "B02")
    assert [f.code for f in found] == ["appointment.objections_differ"]


def test_v31_the_valid_bundle_passes_as_a_zip_too(tmp_path: Path, town: TownKey) -> None:
    root = VALID[0] / "bundle"
    path = tmp_path / "casework.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.writestr(p.relative_to(root).as_posix(), p.read_bytes())
    report = verify_casework(path, town)
    assert report.ok, report.findings
    assert report.entries == verify_casework(root, town).entries


def test_v31_a_bundle_without_its_log_fails_and_says_what_was_not_checked(
    tmp_path: Path, town: TownKey
) -> None:
    root = VALID[0] / "bundle"
    copy = tmp_path / "bundle"
    for p in root.rglob("*"):
        if p.is_file() and p.name != "log.jsonl":
            (copy / p.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
            (copy / p.relative_to(root)).write_bytes(p.read_bytes())
    report = verify_casework(copy, town)
    codes = {f.code for f in report.findings}
    assert "cbundle.missing_file" in codes
    assert report.not_checked
