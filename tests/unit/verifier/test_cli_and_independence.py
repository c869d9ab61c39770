"""CLI exit codes, the trust-root argument, and verifier's independence from producer packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from verifier.cli import app
from verifier.crypto import fingerprint

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _bundle(tmp_path: Path, files: dict[str, bytes] | None = None) -> Path:
    return B.write_folder(files or B.build(), tmp_path / "bundle")


def test_exit_0_with_fingerprint_and_pubkey_file(tmp_path: Path) -> None:
    folder = _bundle(tmp_path)
    r = runner.invoke(
        app, ["verify", str(folder), "--town-key", TOWN_FP.replace(" ", ""), "--jobs", "1"]
    )
    assert r.exit_code == 0, r.output
    assert "通过" in r.output and "远程选票 0 张" in r.output
    pub = tmp_path / "town.pub"
    pub.write_bytes(B.pubkey_file_bytes(B.TOWN))
    r = runner.invoke(
        app, ["verify", str(folder), "--town-key", str(pub), "--lang", "en", "--jobs", "2"]
    )
    assert r.exit_code == 0, r.output
    assert "every clause holds" in r.output


def test_exit_1_on_failure_and_json(tmp_path: Path) -> None:
    folder = _bundle(tmp_path)
    other = B.OTHER_TOWN.public_key.key
    r = runner.invoke(app, ["verify", str(folder), "--town-key", fingerprint(other), "--json"])
    assert r.exit_code == 1
    assert '"ok": false' in r.output and '"V2"' in r.output


def test_exit_2_unreadable(tmp_path: Path) -> None:
    r = runner.invoke(app, ["verify", str(tmp_path / "missing"), "--town-key", TOWN_FP])
    assert r.exit_code == 2
    (tmp_path / "empty").mkdir()
    assert (
        runner.invoke(app, ["verify", str(tmp_path / "empty"), "--town-key", TOWN_FP]).exit_code
        == 2
    )
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert runner.invoke(app, ["verify", str(junk), "--town-key", TOWN_FP]).exit_code == 2
    z = B.write_zip(B.build(), tmp_path / "b.zip")
    data = z.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    assert (
        runner.invoke(app, ["verify", str(tmp_path / "cut.zip"), "--town-key", TOWN_FP]).exit_code
        == 2
    )
    assert runner.invoke(app, ["verify", str(z), "--town-key", "12345"]).exit_code == 2
    wg = tmp_path / "wg.pub"
    wg.write_bytes(B.pubkey_file_bytes(B.WORK_GROUP))
    assert runner.invoke(app, ["verify", str(z), "--town-key", str(wg)]).exit_code == 2


def test_zip_bundle_and_no_index(tmp_path: Path) -> None:
    z = B.write_zip(B.build(), tmp_path / "b.zip")
    assert (
        runner.invoke(app, ["verify", str(z), "--town-key", TOWN_FP, "--jobs", "1"]).exit_code == 0
    )
    with zipfile.ZipFile(tmp_path / "noindex.zip", "w") as out:
        out.writestr("log.jsonl", b"")
    assert (
        runner.invoke(
            app, ["verify", str(tmp_path / "noindex.zip"), "--town-key", TOWN_FP]
        ).exit_code
        == 2
    )


def test_verifier_imports_no_producer_package(tmp_path: Path) -> None:
    """STYLE §7.2 rule 1: verifier runs with tally, keys, ballot_printer and their error base
    (bilingual) made unimportable."""
    folder = _bundle(tmp_path)
    code = f"""
import sys
sys.modules["tally"] = sys.modules["keys"] = sys.modules["ballot_printer"] = None
sys.modules["bilingual"] = None
from pathlib import Path
from verifier.checks import TownKey, verify_bundle
import verifier.cli
r = verify_bundle(Path({str(folder)!r}), TownKey(fingerprint={TOWN_FP!r}), jobs=2)
assert r.ok, r.failed()
bad = [m for m in sys.modules if m.split(".")[0] in ("tally", "keys", "ballot_printer", "bilingual") and sys.modules[m] is not None]
assert not bad, bad
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
