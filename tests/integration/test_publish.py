"""`tally.publish` streams the bundle to disk: same bytes as the committed vectors, a zip that holds
exactly the folder's files, and nothing half-written when a publish fails (spec/bundle.md)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

import pytest

from tally.election import ElectionSession, SessionError
from tally.publish import publish

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "bundle" / "valid"
GENERATOR = ROOT / "scripts" / "gen_bundle_vectors.py"


def _generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_bundle_vectors", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def small_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ElectionSession:
    """The small-branch vector election (a withdrawn entry, two scrutineers), result recorded."""
    gen = _generator(monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    gen.run_scenario(gen.SCENARIOS["small-branch"](), work)
    return ElectionSession.open(work / "election.db")


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


def test_nothing_is_written_before_there_is_a_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = _generator(monkeypatch)
    sc = gen.SCENARIOS["small-branch"]()
    signed = gen.signed_manifest_bytes(sc.definition, sc.scrutineers)
    session = ElectionSession.init(tmp_path / "election.db", signed, gen.WORK_GROUP)
    with pytest.raises(SessionError) as e:
        publish(session, tmp_path / "out", notice=False)
    assert e.value.code == "publish.no_result"
    assert not (tmp_path / "out").exists()
