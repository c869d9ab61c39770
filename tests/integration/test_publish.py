"""`tally.publish` streams the bundle to disk: same bytes as the committed vectors, a zip that holds
exactly the folder's files, and nothing half-written when a publish fails (spec/bundle.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import BinaryIO

import pytest

from tally.calendar import CalendarYear, load_calendar, sign_calendar
from tally.election import ElectionSession
from tally.publish import bundle_files, publish
from tally.session_errors import SessionError
from tests.helpers import bundles

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "bundle" / "valid"


@pytest.fixture
def small_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ElectionSession:
    """The small-branch vector election (a withdrawn entry, two scrutineers), result recorded."""
    return bundles.scenario_session(monkeypatch, tmp_path)


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_published_folder_and_zip_equal_the_committed_vector(
    small_branch: ElectionSession, tmp_path: Path
) -> None:
    out = publish(small_branch, tmp_path / "out", notice=False)
    files = _folder_files(out.folder)
    assert files == _folder_files(VECTORS / "small-branch" / "bundle")
    with zipfile.ZipFile(out.zip_path) as z:
        infos = z.infolist()
        assert [i.filename for i in infos] == sorted(files)
        assert {i.date_time for i in infos} == {(2020, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        # plain files made on Unix, rw-r--r-- (spec/bundle.md §8 "Member attributes")
        assert {(i.create_system, i.external_attr) for i in infos} == {(3, 0o100644 << 16)}
        assert {i.filename: z.read(i) for i in infos} == files


def test_a_publish_that_fails_while_writing_leaves_nothing(
    small_branch: ElectionSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_fills(src: BinaryIO, dst: BinaryIO, length: int = 0) -> None:
        dst.write(src.read(100))  # the zip is half-written when the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", disk_fills)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space"):
        publish(small_branch, out, notice=False)
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    assert publish(small_branch, out, notice=False).zip_path.exists()  # nothing left in the way


def test_a_publish_removes_the_temporary_folders_a_killed_publish_left(
    small_branch: ElectionSession, tmp_path: Path
) -> None:
    """Only ours by name (``.bundle-`` + mkdtemp's 8 characters), real folders, and last changed
    before this process loaded tally.publish; everything else in the folder is left alone."""
    out = tmp_path / "out"
    out.mkdir()
    long_ago = 946_684_800  # 2000-01-01: before this process started

    def folder(name: str, *, old: bool = True) -> Path:
        path = out / name
        (path / "bundle").mkdir(parents=True)
        (path / "bundle" / "log.jsonl").write_bytes(b"half written")
        if old:
            os.utime(path, (long_ago, long_ago))
        return path

    stale = [folder(".bundle-k3j_x9a0"), folder(".bundle-00000000")]
    running = folder(".bundle-abcdefgh", old=False)  # a publish of this process, still going
    not_ours = [folder(".bundle-notours"), folder("bundle-abcdefgh"), folder(".bundle-ABCDEFGH")]
    (out / ".bundle-zzzzzzzz").write_bytes(b"a file, not a folder")
    elsewhere = folder("../elsewhere")
    (out / ".bundle-linklink").symlink_to(elsewhere, target_is_directory=True)
    os.utime(out / ".bundle-linklink", (long_ago, long_ago), follow_symlinks=False)

    published = publish(small_branch, out, notice=False)

    assert published.zip_path.exists()
    assert not any(p.exists() for p in stale)
    assert running.exists() and all(p.exists() for p in not_ours)
    assert (out / ".bundle-zzzzzzzz").is_file()
    assert (out / ".bundle-linklink").is_symlink() and (elsewhere / "bundle").is_dir()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            ".bundle-ABCDEFGH",
            ".bundle-abcdefgh",
            ".bundle-linklink",
            ".bundle-notours",
            ".bundle-zzzzzzzz",
            "bundle",
            "bundle-abcdefgh",
            "bundle.zip",
        ]
    )


def test_nothing_is_written_before_there_is_a_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = bundles.generator(monkeypatch)
    sc = gen.SCENARIOS["small-branch"]()
    signed = gen.signed_manifest_bytes(sc.definition, sc.scrutineers)
    session = ElectionSession.init(tmp_path / "election.db", signed, gen.WORK_GROUP)
    with pytest.raises(SessionError) as e:
        publish(session, tmp_path / "out", notice=False)
    assert e.value.code == "publish.no_result"
    assert not (tmp_path / "out").exists()


def test_publicity_counts_from_the_day_the_result_is_announced_R26_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Election 2026-09-29, but the whole meeting (and the result) logged on 09-30: day 1 is the
    first working day after 09-30, i.e. 10-08 after the National Day week; 10-10 is a make-up
    Saturday, so 5 working days end on 10-13."""
    gen = bundles.generator(monkeypatch)
    sc = gen.SCENARIOS["small-branch"]()
    late = dataclasses.replace(sc, start=sc.start + dt.timedelta(days=1, hours=10))
    work = tmp_path / "work"
    work.mkdir()
    gen.run_scenario(late, work)
    session = ElectionSession.open(work / "election.db")
    files = bundle_files(session, load_calendar(None, town_key=session.town_key))
    result = json.loads(files["result.json"])
    assert (result["publicity_start"], result["publicity_end"]) == ("2026-10-08", "2026-10-13")
    assert bundles.verify_files(files, tmp_path / "check", gen.TOWN) == []


def test_a_signed_year_file_travels_in_the_bundle_R26_3(
    small_branch: ElectionSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = bundles.generator(monkeypatch)
    y2027 = CalendarYear(
        2027,
        frozenset({dt.date(2027, 1, 1)}),
        frozenset(),
        "测试数据：虚构的2027年节假日安排",
    )
    path = tmp_path / "2027.signed.json"
    path.write_bytes(sign_calendar([y2027], gen.TOWN))
    out = publish(small_branch, tmp_path / "out", calendar_file=path, notice=False)
    files = _folder_files(out.folder)
    assert files["calendar.json"] == path.read_bytes()
    assert bundles.verify_files(files, tmp_path / "check", gen.TOWN) == []
    other = tmp_path / "other.signed.json"
    other.write_bytes(sign_calendar([y2027], gen.OTHER_TOWN))
    with pytest.raises(SessionError) as e:
        publish(small_branch, tmp_path / "out2", calendar_file=other, notice=False)
    assert e.value.code == "calendar.wrong_key"
