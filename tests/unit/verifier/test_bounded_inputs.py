"""Hostile inputs end cleanly (spec/bundle.md §8): bounded findings, the bounded reader, zip errors.

Each case is what an attacker or a careless copy can hand the town committee: it must give a V1
finding (exit 1) or one line and exit 2, never a traceback, a hang or unbounded memory.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from verifier.checks import FINDINGS_SHOWN, MAX_BAD_LINES, TownKey, verify_bundle
from verifier.cli import app
from verifier.reader import InputFileError, read_regular
from verifier.report import Report, Status, render_json, render_text

ROOT = Path(__file__).resolve().parents[3]
TOWN = TownKey(fingerprint=TOWN_FP)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; any exception but a clean exit fails the test with its traceback."""
    code = app(argv, standalone_mode=False)
    out, err = capsys.readouterr()
    return int(code or 0), out, err


def _v1_codes(report: Report) -> set[str]:
    return {f.code for c in report.clauses if c.clause == "V1" for f in c.findings}


# --------------------------------------------------------------------------- findings cap


def test_two_million_empty_log_lines_end_fast_with_bounded_findings_and_memory(
    tmp_path: Path,
) -> None:
    n = 2_000_000
    files = B.build()
    files["log.jsonl"] = b"\n" * n
    folder = B.write_folder(files, tmp_path / "b")
    tracemalloc.start()
    try:
        report = verify_bundle(folder, TOWN, jobs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    by = {c.clause: c for c in report.clauses}
    v6 = by["V6"]
    assert v6.status is Status.FAILED and len(v6.findings) <= 25
    assert "entry.too_many_bad_lines" in {f.code for f in v6.findings}
    assert len(v6.findings) + v6.omitted == MAX_BAD_LINES + 2  # the lines read, then the stop
    assert by["V1"].status is Status.PASSED  # the rest was still hashed
    assert by["V7"].status is Status.NOT_CHECKED
    # one Finding per line would be ~800 MB here; the block reader alone is ~17 MB
    assert peak < 24 * 1024 * 1024, peak
    en = render_text(report, "en")
    zh = render_text(report, "zh")
    assert f"... and {v6.omitted} more findings not listed" in en
    assert f"……另有 {v6.omitted} 处问题未逐条列出" in zh
    doc = json.loads(render_json(report))
    clause = next(c for c in doc["clauses"] if c["clause"] == "V6")
    assert clause["omitted"] == v6.omitted and len(clause["findings"]) == len(v6.findings)


def test_findings_of_one_clause_are_capped_with_a_count(tmp_path: Path) -> None:
    n = 3000  # well-formed records that match no counted ballot: each one a V9 finding
    files = B.build()
    files["ballots.jsonl"] = b'{"seq":-1}\n' * n + files["ballots.jsonl"]
    tracemalloc.start()
    try:
        report = verify_bundle(B.write_folder(files, tmp_path / "b"), TOWN, jobs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    v9 = next(c for c in report.clauses if c.clause == "V9")
    assert v9.status is Status.FAILED
    assert len(v9.findings) == FINDINGS_SHOWN and v9.omitted == n - FINDINGS_SHOWN
    assert peak < 24 * 1024 * 1024, peak


def test_unparsable_ballot_records_stop_being_read(tmp_path: Path) -> None:
    files = B.build()
    files["ballots.jsonl"] = b"\n" * 1_000_000 + files["ballots.jsonl"]
    report = verify_bundle(B.write_folder(files, tmp_path / "b"), TOWN, jobs=1)
    v9 = next(c for c in report.clauses if c.clause == "V9")
    assert "record.too_many_bad_lines" in {f.code for f in v9.findings}
    assert len(v9.findings) <= 25
    assert next(c for c in report.clauses if c.clause == "V1").status is Status.PASSED


def test_findings_over_the_cap_keep_the_first_of_each_new_code(tmp_path: Path) -> None:
    files = B.build()
    lines = files["log.jsonl"].split(b"\n")
    # 30 empty lines then a line that is not JSON: a later, different failure is still shown
    files["log.jsonl"] = b"\n" * 30 + b"garbage\n" + b"\n".join(lines)
    report = verify_bundle(B.write_folder(files, tmp_path / "b"), TOWN, jobs=1)
    v6 = next(c for c in report.clauses if c.clause == "V6")
    codes = [f.code for f in v6.findings]
    assert codes[:20] == ["entry.line"] * 20
    assert len(codes) < 40 and len(set(codes)) > 1 and v6.omitted >= 10


# --------------------------------------------------------------------------- the bounded reader


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess: a hang is a timeout failure instead of a stuck test run."""
    return subprocess.run(
        [sys.executable, "-m", "verifier", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_town_key_is_refused_without_hanging(tmp_path: Path) -> None:
    folder = B.write_folder(B.build(), tmp_path / "b")
    key = _fifo(tmp_path / "town.pub")
    r = _run_cli(["verify", str(folder), "--town-key", str(key), "--lang", "en", "--jobs", "1"])
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not a regular file (FIFO)" in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_audit_record_is_a_finding_without_hanging(tmp_path: Path) -> None:
    folder = B.write_folder(B.build(), tmp_path / "b")
    (tmp_path / "audit").mkdir()
    _fifo(tmp_path / "audit" / "1.json")
    r = _run_cli(["verify", str(folder), "--town-key", TOWN_FP, "--lang", "en", "--jobs", "1"])
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert "not a regular file (FIFO)" in r.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_as_town_key_bundle_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = B.write_folder(B.build(), tmp_path / "b")
    code, _, err = _cli(["verify", str(folder), "--town-key", "/dev/zero", "--lang", "en"], capsys)
    assert code == 2 and "not a regular file (character device)" in err
    code, _, err = _cli(["verify", "/dev/zero", "--town-key", TOWN_FP, "--lang", "en"], capsys)
    assert code == 2 and err.strip().count("\n") == 0
    with pytest.raises(InputFileError) as e:
        read_regular("/dev/zero", 10)
    assert e.value.code == "input.not_regular"


def test_reader_stops_at_the_limit(tmp_path: Path) -> None:
    p = tmp_path / "big"
    p.write_bytes(b"x" * 101)
    assert read_regular(p, 101) == b"x" * 101
    with pytest.raises(InputFileError) as e:
        read_regular(p, 100)
    assert e.value.code == "input.too_large"


def test_oversized_town_key_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = B.write_folder(B.build(), tmp_path / "b")
    key = tmp_path / "town.pub"
    key.write_bytes(b" " * (64 * 1024 + 1))
    code, _, err = _cli(["verify", str(folder), "--town-key", str(key), "--lang", "en"], capsys)
    assert code == 2 and "limit of 65536 bytes" in err


# --------------------------------------------------------------------------- zip errors


def _zip(tmp_path: Path, method: int = zipfile.ZIP_DEFLATED, **replace: bytes) -> Path:
    files = {**B.build(), **replace}
    files["index.json"] = B.index(files)
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return path


def _patch_headers(
    path: Path, name: str, *, flag: int | None = None, method: int | None = None
) -> None:
    """Set a member's general-purpose flag or method in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    local = info.header_offset
    central = struct.unpack_from("<I", data, data.rindex(b"PK\x05\x06") + 16)[0]
    while True:  # walk the central directory to the entry naming this member
        n_len, x_len, c_len = struct.unpack_from("<HHH", data, central + 28)
        if data[central + 46 : central + 46 + n_len] == name.encode():
            break
        central += 46 + n_len + x_len + c_len
    if flag is not None:
        struct.pack_into("<H", data, local + 6, flag)
        struct.pack_into("<H", data, central + 8, flag)
    if method is not None:
        struct.pack_into("<H", data, local + 8, method)
        struct.pack_into("<H", data, central + 10, method)
    path.write_bytes(bytes(data))


def _data_span(path: Path, name: str) -> tuple[int, int]:
    """Where a member's (compressed) bytes lie in the zip."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    h = info.header_offset
    n_len, x_len = struct.unpack_from("<HH", data, h + 26)
    start = h + 30 + n_len + x_len
    return start, start + info.compress_size


def _verify_cleanly(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, out, err = _cli(
        ["verify", str(path), "--town-key", TOWN_FP, "--lang", "en", "--jobs", "1"], capsys
    )
    assert code in (1, 2) and "Traceback" not in out + err
    return code, out + err


def test_encrypted_member_is_a_v1_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _zip(tmp_path)
    _patch_headers(path, "log.jsonl", flag=0x1)
    assert _v1_codes(verify_bundle(path, TOWN, jobs=1)) == {"bundle.zip_encrypted"}
    assert _verify_cleanly(path, capsys)[0] == 1


def test_unknown_compression_method_is_a_v1_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _zip(tmp_path)
    _patch_headers(path, "manifest.json", method=99)
    assert _v1_codes(verify_bundle(path, TOWN, jobs=1)) == {"bundle.zip_method"}
    assert _verify_cleanly(path, capsys)[0] == 1


def test_corrupt_deflate_stream_is_a_v1_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for member in ("log.jsonl", "manifest.json", "index.json"):
        path = _zip(tmp_path)
        start, end = _data_span(path, member)
        data = bytearray(path.read_bytes())
        data[start + 2 : end - 2] = b"\xff" * (end - start - 4)  # not a deflate stream
        path.write_bytes(bytes(data))
        report = verify_bundle(path, TOWN, jobs=1)
        assert not report.ok
        assert _v1_codes(report) & {"bundle.read_error", "bundle.member_corrupt"}, member
        _verify_cleanly(path, capsys)


def test_crc_mismatch_while_streaming_is_a_v1_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for member in ("log.jsonl", "ballots.jsonl", "checkpoints.json"):
        path = _zip(tmp_path, zipfile.ZIP_STORED)
        start, _ = _data_span(path, member)
        data = bytearray(path.read_bytes())
        data[start + 5] ^= 0x20  # stored bytes: same length, wrong CRC-32 at the end
        path.write_bytes(bytes(data))
        report = verify_bundle(path, TOWN, jobs=1)
        assert "bundle.read_error" in _v1_codes(report), member
        _verify_cleanly(path, capsys)


def test_truncated_central_directory_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _zip(tmp_path)
    data = path.read_bytes()
    cd = data.index(b"PK\x01\x02")
    eocd = data.rindex(b"PK\x05\x06")
    path.write_bytes(data[: cd + 40] + data[eocd:])  # the end record still points at it
    code, text = _verify_cleanly(path, capsys)
    assert code == 2 and text.strip().count("\n") == 0


def test_zip_bomb_is_refused_before_inflating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _zip(tmp_path, **{"log.jsonl": b"\n" * (8 * 1024 * 1024)})
    assert _v1_codes(verify_bundle(path, TOWN, jobs=1)) == {"bundle.zip_ratio"}
    assert _verify_cleanly(path, capsys)[0] == 1


def test_duplicate_names_are_a_v1_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _zip(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("result.json", b"{}")
    assert _v1_codes(verify_bundle(path, TOWN, jobs=1)) == {"bundle.duplicate_name"}
    assert _verify_cleanly(path, capsys)[0] == 1


def test_folder_member_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    folder = B.write_folder(B.build(), tmp_path / "b")
    (folder / "result.json").unlink()
    _fifo(folder / "result.json")
    assert "bundle.special_file" in _v1_codes(verify_bundle(folder, TOWN, jobs=1))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_marks_file_of_the_audit_is_refused_without_hanging(tmp_path: Path) -> None:
    marks = _fifo(tmp_path / "marks.jsonl")
    code = (
        "import sys; from pathlib import Path\n"
        "from verifier.audit.marks import parse_marks_file\n"
        "from verifier.errors import VerificationError\n"
        "try:\n    parse_marks_file(Path(sys.argv[1]))\n"
        "except VerificationError as e:\n    print(e.code, e.en)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(marks)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0 and "audit.marks_unreadable" in r.stdout, (r.stdout, r.stderr)


def test_a_log_line_may_hold_a_whole_v2_remote_cast_but_not_more_than_320_kib(
    tmp_path: Path,
) -> None:
    # spec/bundle.md §8: a log.jsonl line is read up to 320 KiB (a remote.cast of version 2 holds a
    # ballot of up to 256 KiB); the first line below is refused by its JSON, the second by its length.
    for size, refused_by_length in ((300 * 1024, False), (320 * 1024 + 1, True)):
        files = B.build()
        files["log.jsonl"] = b"x" * size + b"\n" + files["log.jsonl"]
        report = verify_bundle(B.write_folder(files, tmp_path / f"b{size}"), TOWN, jobs=1)
        v6 = next(c for c in report.clauses if c.clause == "V6")
        first = v6.findings[0]
        assert (first.code, "too_long" in first.en) == (
            ("entry.line", True) if refused_by_length else ("json.malformed", False)
        ), first
