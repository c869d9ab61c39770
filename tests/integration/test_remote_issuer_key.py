"""The remote issuer's private key lives only as long as it must (spec/remote.md RM-4.1, spec
keyfile.md §6): sealed in an Argon2id key file, written before `remote.opened` is logged (or rolled
back), destroyed at `remote close`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import keys
from keys import remote_tokens
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.session_config import SessionConfig
from tally.session_errors import SessionError

ROOT = Path(__file__).resolve().parents[2]
PASS = "correct horse battery"


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _session(tmp_path: Path) -> tuple[ElectionSession, keys.InMemorySigner]:
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', 'approved = ["M020", "M025"]')
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(s) for s in scs)
    )
    return ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASS), sign_manifest(manifest, town), wg
    ), wg


def _opened(s: ElectionSession) -> int:
    return sum(1 for _, raw in s.store.log_rows() if b'"remote.opened"' in raw)


def test_rm_4_1_issuer_key_is_an_argon2id_key_file_never_pem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    folder = data / "remote"
    assert not list(folder.glob("*.pem"))
    raw = (folder / "issuer.key").read_bytes()
    assert b"BEGIN" not in raw and b"PRIVATE KEY" not in raw
    doc = json.loads(raw)
    assert doc["format"] == "issuer-keyfile/1"
    assert doc["kdf"]["name"] == "argon2id" and doc["cipher"]["name"] == "xchacha20poly1305-ietf"
    assert os.stat(folder / "issuer.key").st_mode & 0o777 == 0o600
    issuer = remote_tokens.TokenIssuer.from_key_file(raw, PASS)
    assert issuer.public_key_der == s.remote._issuer_public_key_der()
    with pytest.raises(keys.WrongPassphraseError):
        remote_tokens.TokenIssuer.from_key_file(raw, "another passphrase")


def test_rm_4_7_close_destroys_the_issuer_key_overwritten_then_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    path = data / "remote" / "issuer.key"
    original = path.read_bytes()
    witness = tmp_path / "witness"  # a second name for the same inode: sees the overwrite
    os.link(path, witness)
    s.remote.close(signer=wg, data_dir=data)
    assert not path.exists()
    left = witness.read_bytes()
    assert len(left) == len(original) and left != original
    assert b"argon2id" not in left  # random bytes, not the sealed key
    with pytest.raises(SessionError) as e:
        s.remote.redeem_invitation("XXXX-XXXX-XXXX", b"\x00" * 256, data_dir=data)
    assert e.value.code in ("remote.closed", "invitation.malformed", "remote.not_open")


def test_rm_4_1_open_writes_keys_before_the_log_and_rolls_back_when_the_log_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    folder = data / "remote"
    seen: list[list[str]] = []
    real_store = s.log._store

    def failing_store(*args: Any, **kwargs: Any) -> None:
        seen.append(sorted(p.name for p in folder.iterdir()))  # files present at log time
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(s.log, "_store", failing_store)
    with pytest.raises(OSError):
        s.remote.open(signer=wg, k=2, data_dir=data)
    assert seen and "issuer.key" in seen[0] and "invitation.key" in seen[0]
    assert _opened(s) == 0 and s.meeting.remote is None
    assert sorted(p.name for p in folder.iterdir()) == []  # rolled back, nothing orphaned
    # A crash between the files and the log (no rollback ran) leaves orphans: a retry clears them.
    (folder / "issuer.key").write_bytes(b"orphan from a crash")
    (folder / "share-1.json").write_bytes(b"orphan")
    monkeypatch.setattr(s.log, "_store", real_store)
    s.remote.open(signer=wg, k=2, data_dir=data)
    assert _opened(s) == 1
    issuer = remote_tokens.TokenIssuer.from_key_file((folder / "issuer.key").read_bytes(), PASS)
    assert issuer.public_key_der == s.remote._issuer_public_key_der()
    assert sorted(p.name for p in folder.iterdir()) == [
        "invitation.key",
        "issuer.key",
        "share-1.json",
        "share-2.json",
    ]
    # Opening twice is refused and leaves the live keys alone.
    before = (folder / "issuer.key").read_bytes()
    with pytest.raises(SessionError) as e:
        s.remote.open(signer=wg, k=2, data_dir=data)
    assert e.value.code == "remote.twice"
    assert (folder / "issuer.key").read_bytes() == before and _opened(s) == 1


def test_rm_4_7_close_destroys_the_invitation_key_overwritten_then_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """K_inv (RM-3.2) confirms invitation codes; after the close nothing may redeem one, so it
    goes with the issuer key, and a code issued before the close is refused as closed."""
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    code, _ = s.remote.issue_invitation("M020", data_dir=data)
    path = data / "remote" / "invitation.key"
    original = path.read_bytes()
    witness = tmp_path / "witness"  # a second name for the same inode: sees the overwrite
    os.link(path, witness)
    s.remote.close(signer=wg, data_dir=data)
    assert not path.exists()
    left = witness.read_bytes()
    assert len(left) == len(original) and left != original
    assert sorted(p.name for p in (data / "remote").iterdir()) == ["share-1.json", "share-2.json"]
    with pytest.raises(SessionError) as e:
        s.remote.redeem_invitation(code, b"\x00" * 256, data_dir=data)
    assert e.value.code == "remote.closed"
    with pytest.raises(SessionError) as e:
        s.remote.issue_invitation("M025", data_dir=data)
    assert e.value.code == "remote.not_open"


def test_rm_4_7_close_run_again_after_a_crash_destroys_the_keys_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after `remote.closed` is logged but before the keys are destroyed: running the
    close again destroys them (and says voting is already closed)."""
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    real_destroy = keys.destroy_file

    def crash(_path: Any) -> bool:
        raise KeyboardInterrupt  # the process dies between the log and the destruction

    monkeypatch.setattr(keys, "destroy_file", crash)
    with pytest.raises(KeyboardInterrupt):
        s.remote.close(signer=wg, data_dir=data)
    monkeypatch.setattr(keys, "destroy_file", real_destroy)
    again = ElectionSession.open(SessionConfig(tmp_path / "e.db", passphrase=PASS))
    assert again.meeting.remote is not None and again.meeting.remote.closed
    assert (data / "remote" / "issuer.key").exists()
    with pytest.raises(SessionError) as e:
        again.remote.close(signer=wg, data_dir=data)
    assert e.value.code == "remote.closed"
    assert not (data / "remote" / "issuer.key").exists()
    assert not (data / "remote" / "invitation.key").exists()


def test_remote_open_without_a_data_folder_is_refused_before_anything_is_logged(
    tmp_path: Path,
) -> None:
    s, wg = _session(tmp_path)  # SessionConfig without data_dir, and no per-call data_dir
    with pytest.raises(SessionError) as e:
        s.remote.open(signer=wg, k=2)
    assert e.value.code == "remote.data_dir"
    assert e.value.zh and e.value.en
    assert _opened(s) == 0


def test_remote_commands_take_the_data_folder_from_the_session_config(tmp_path: Path) -> None:
    s, wg = _session(tmp_path)
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    s.store.close()
    again = ElectionSession.open(SessionConfig(tmp_path / "e.db", passphrase=PASS, data_dir=data))
    code, _ = again.remote.issue_invitation("M020")  # reads data/remote/invitation.key
    assert code
    again.remote.close(signer=wg)
    assert not (data / "remote" / "issuer.key").exists()
    assert not (data / "remote" / "invitation.key").exists()
