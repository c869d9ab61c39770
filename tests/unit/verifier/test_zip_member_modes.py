"""A zip member must be a plain file by its attributes (spec/bundle.md V1, §8 "Member attributes").

Whatever another unzip tool would make of a member is what a town clerk who unzips the bundle by
hand gets: Info-ZIP's unzip makes a symbolic link of a member whose Unix mode says S_IFLNK, and
libarchive or 7-Zip a FIFO, a device or a set-uid file. So a member whose attributes say anything
but a plain file is a fatal V1 finding, found in the central directory before the member is read;
the same reader refuses it in the procedure bundle (V20, ``pbundle.``) and the casework bundle
(V31, ``cbundle.``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from verifier.casework import verify_casework
from verifier.checks import TownKey, verify_bundle
from verifier.cli import parse_town_key
from verifier.procedure.bundle import verify_procedure
from verifier.report import Report, Status

ROOT = Path(__file__).resolve().parents[3]
TOWN = TownKey(fingerprint=TOWN_FP)
UNIX, DOS, NTFS = 3, 0, 10  # the system a zip says made a member (its create_system)
PROCEDURE = ROOT / "spec" / "vectors" / "procedure" / "bundles"
CASEWORK = ROOT / "spec" / "vectors" / "procedure" / "casework"


def _mode(mode: int) -> int:
    return mode << 16


def _zip(
    path: Path,
    files: dict[str, bytes],
    attrs: dict[str, tuple[int, int]],
    *,
    default: tuple[int, int] = (_mode(0o100644), UNIX),
) -> Path:
    """``files`` stored (uncompressed) in a zip; each member's (external_attr, create_system)
    from ``attrs``, else ``default``; a name in ``attrs`` but not in ``files`` is empty."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name in sorted({*files, *attrs}):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr, info.create_system = attrs.get(name, default)
            z.writestr(info, files.get(name, b""))
    return path


def _election_files() -> dict[str, bytes]:
    files = B.build()
    files["index.json"] = B.index(files)
    return files


def _corrupt(path: Path, name: str) -> None:
    """Flip a byte of a stored member's data: reading it would be a CRC-32 error."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    n_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    x_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    data[info.header_offset + 30 + n_len + x_len] ^= 0x20
    path.write_bytes(bytes(data))


def _v1(report: Report) -> list[tuple[str, str]]:
    return [(f.code, f.file) for c in report.clauses if c.clause == "V1" for f in c.findings]


REFUSED = [
    ("symlink", _mode(0o120777), UNIX, "bundle.link"),
    ("symlink-mode-on-a-dos-member", _mode(0o120777), DOS, "bundle.link"),
    ("fifo", _mode(0o010644), UNIX, "bundle.member_mode"),
    ("character-device", _mode(0o020644), UNIX, "bundle.member_mode"),
    ("block-device", _mode(0o060644), UNIX, "bundle.member_mode"),
    ("socket", _mode(0o140644), UNIX, "bundle.member_mode"),
    ("directory-mode-without-a-slash", _mode(0o040755) | 0x10, UNIX, "bundle.member_mode"),
    ("unknown-file-type", _mode(0o170644), UNIX, "bundle.member_mode"),
    ("set-uid", _mode(0o104755), UNIX, "bundle.member_mode"),
    ("set-gid", _mode(0o102755), UNIX, "bundle.member_mode"),
    ("sticky", _mode(0o101644), UNIX, "bundle.member_mode"),
    ("set-uid-without-file-type-bits", _mode(0o4644), UNIX, "bundle.member_mode"),
    ("fifo-mode-on-a-dos-member", _mode(0o010644), DOS, "bundle.member_mode"),
    ("dos-hidden", 0x22, DOS, "bundle.member_mode"),
    ("dos-system", 0x04, DOS, "bundle.member_mode"),
    ("dos-volume-label", 0x08, DOS, "bundle.member_mode"),
    ("dos-directory", 0x10, DOS, "bundle.member_mode"),
    ("windows-reparse-point", 0x420, NTFS, "bundle.member_mode"),
    ("dos-directory-bit-on-a-unix-file", _mode(0o100644) | 0x10, UNIX, "bundle.member_mode"),
]


@pytest.mark.parametrize(
    ("attr", "system", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_member_whose_attributes_are_not_a_plain_file_is_refused_unread_V1(
    tmp_path: Path, attr: int, system: int, code: str
) -> None:
    path = _zip(tmp_path / "b.zip", _election_files(), {"result.json": (attr, system)})
    _corrupt(path, "result.json")  # were it read, V1 would say bundle.read_error as well
    report = verify_bundle(path, TOWN, jobs=1)
    assert _v1(report) == [(code, "result.json")]
    assert {c.status for c in report.clauses if c.clause != "V1"} == {Status.NOT_CHECKED}


WORDS = [
    ("fifo", _mode(0o010644), "a FIFO", "命名管道"),
    ("character-device", _mode(0o020644), "a character device", "字符设备"),
    ("block-device", _mode(0o060644), "a block device", "块设备"),
    ("socket", _mode(0o140644), "a socket", "套接字"),
    ("directory", _mode(0o040755), "a directory", "目录"),
    ("set-uid", _mode(0o104755), "set-uid", "set-uid"),
    ("dos-hidden", 0x02, "MS-DOS attributes", "MS-DOS 属性"),
]


@pytest.mark.parametrize(("attr", "en", "zh"), [w[1:] for w in WORDS], ids=[w[0] for w in WORDS])
def test_member_mode_finding_says_what_the_attributes_make_it_V1(
    tmp_path: Path, attr: int, en: str, zh: str
) -> None:
    path = _zip(tmp_path / "b.zip", _election_files(), {"log.jsonl": (attr, UNIX)})
    [finding] = [f for c in verify_bundle(path, TOWN, jobs=1).clauses for f in c.findings]
    assert (finding.code, finding.file) == ("bundle.member_mode", "log.jsonl")
    assert en in finding.en
    assert zh in finding.zh


ACCEPTED = [
    ("python-writestr-default-600", _mode(0o600), UNIX),
    ("regular-644", _mode(0o100644), UNIX),
    ("regular-executable-755", _mode(0o100755), UNIX),
    ("no-attributes-at-all", 0, UNIX),
    ("dos-read-only-and-archive", 0x21, DOS),
    ("windows-normal", 0x80, NTFS),
    ("windows-archive-with-a-unix-mode", _mode(0o100644) | 0x20, DOS),
]


@pytest.mark.parametrize(
    ("attr", "system"), [r[1:] for r in ACCEPTED], ids=[r[0] for r in ACCEPTED]
)
def test_members_with_plain_file_attributes_pass_V1(tmp_path: Path, attr: int, system: int) -> None:
    path = _zip(tmp_path / "b.zip", _election_files(), {}, default=(attr, system))
    report = verify_bundle(path, TOWN, jobs=1)
    assert report.ok, _v1(report)


def test_procedure_bundle_member_that_is_a_fifo_is_refused_V20(tmp_path: Path) -> None:
    root = PROCEDURE / "valid" / "procedure-minimal" / "bundle"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    path = _zip(tmp_path / "p.zip", files, {"log.jsonl": (_mode(0o010644), UNIX)})
    town = parse_town_key(str(PROCEDURE / "town.pub"))
    assert verify_procedure(root, town).findings == ()  # the bundle is valid as a folder
    findings = verify_procedure(path, town).findings
    assert [(f.clause, f.code) for f in findings] == [("V20", "pbundle.member_mode")]


def test_casework_bundle_member_that_is_a_link_or_set_uid_is_refused_V31(tmp_path: Path) -> None:
    root = next(p for p in sorted((CASEWORK / "valid").iterdir()) if p.is_dir()) / "bundle"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    attrs = {"log.jsonl": (_mode(0o120777), UNIX), "index.json": (_mode(0o104644), UNIX)}
    path = _zip(tmp_path / "c.zip", files, attrs)
    town = parse_town_key(str(CASEWORK / "town.pub"))
    assert verify_casework(root, town).ok
    found = {f.code for f in verify_casework(path, town).findings}
    assert found == {"cbundle.link", "cbundle.member_mode"}
