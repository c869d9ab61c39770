"""Encrypted key files, spec/keyfile.md §4 (K-4.1 .. K-4.4)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys

PASSPHRASE = "换届选举 unit-test passphrase"
ROLE = keys.Role.SCRUTINEER
LABEL = "张三"


@pytest.fixture(scope="module")
def sealed() -> tuple[bytes, keys.PublicKey]:
    return keys.generate_keypair(ROLE, LABEL, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS)


def _edit(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(data)
    change(doc)
    return json.dumps(doc, ensure_ascii=False).encode()


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 0x80
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_gives_a_signer_with_the_header_key(
    sealed: tuple[bytes, keys.PublicKey],
) -> None:
    data, public_key = sealed
    signer = keys.load_signer(data, PASSPHRASE, expected_role=ROLE)
    assert signer.public_key == public_key
    assert (signer.role, signer.label) == (ROLE, LABEL)
    signature = signer.sign(b"branch-election/test/1", b"m")
    keys.verify(public_key, b"branch-election/test/1", b"m", signature)


def test_load_signer_reads_a_path(sealed: tuple[bytes, keys.PublicKey], tmp_path: Path) -> None:
    path = tmp_path / "s.key"
    path.write_bytes(sealed[0])
    assert keys.load_signer(path, PASSPHRASE, expected_role=None).public_key == sealed[1]


def test_two_new_keys_differ_in_seed_salt_and_nonce() -> None:
    a = keys.parse_key_file(
        keys.generate_keypair(ROLE, LABEL, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS)[0]
    )
    b = keys.parse_key_file(
        keys.generate_keypair(ROLE, LABEL, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS)[0]
    )
    assert a.public_key.key != b.public_key.key
    assert a.salt != b.salt
    assert a.nonce != b.nonce


def test_default_limits_are_libsodium_moderate() -> None:
    assert (keys.MODERATE_LIMITS.opslimit, keys.MODERATE_LIMITS.memlimit) == (3, 256 * 1024 * 1024)


def test_wrong_passphrase_is_reported_as_such(sealed: tuple[bytes, keys.PublicKey]) -> None:
    with pytest.raises(keys.WrongPassphraseError) as info:
        keys.load_signer(sealed[0], PASSPHRASE + "x", expected_role=ROLE)
    assert info.value.code == "keyfile.wrong_passphrase"
    assert "口令" in info.value.zh


def test_passphrase_is_nfc_normalised(sealed: tuple[bytes, keys.PublicKey]) -> None:
    """K-4.1.2: the same phrase typed decomposed opens the file."""
    data, _ = keys.generate_keypair(
        ROLE, LABEL, passphrase="café passphrase", limits=keys.INTERACTIVE_LIMITS
    )
    decomposed = unicodedata.normalize("NFD", "café passphrase")
    assert decomposed != "café passphrase"
    keys.load_signer(data, decomposed, expected_role=ROLE)


def test_wrong_role_is_refused_before_the_passphrase_is_tried(
    sealed: tuple[bytes, keys.PublicKey],
) -> None:
    with pytest.raises(keys.WrongRoleError) as info:
        keys.load_signer(sealed[0], "not even the passphrase", expected_role=keys.Role.WORK_GROUP)
    assert info.value.code == "keys.wrong_role"
    assert "监票人" in info.value.zh
    assert "选举工作组" in info.value.zh


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc[field] = value

    return change


def _flip(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        obj = doc
        for part in path[:-1]:
            obj = obj[part]
        obj[path[-1]] = _flip_b64(obj[path[-1]])

    return change


OTHER_KEY = base64.b64encode(
    keys.InMemorySigner.from_seed(ROLE, LABEL, bytes(32)).public_key.key
).decode()

# (id, edit, role the opener asks for, expected error class): each edit keeps the file well formed.
TAMPERED = [
    ("role-swapped", _set("role", "work_group"), keys.Role.WORK_GROUP, keys.CorruptKeyFileError),
    ("label-swapped", _set("label", "李四"), ROLE, keys.CorruptKeyFileError),
    ("public-key-swapped", _set("public_key", OTHER_KEY), ROLE, keys.CorruptKeyFileError),
    ("ciphertext-bit-flipped", _flip("ciphertext"), ROLE, keys.CorruptKeyFileError),
    ("nonce-bit-flipped", _flip("cipher", "nonce"), ROLE, keys.CorruptKeyFileError),
    # K-4.1 note: KDF inputs and the check value cannot be told from a wrong passphrase.
    ("salt-bit-flipped", _flip("kdf", "salt"), ROLE, keys.WrongPassphraseError),
    ("check-bit-flipped", _flip("passphrase_check"), ROLE, keys.WrongPassphraseError),
]


@pytest.mark.parametrize(
    ("edit", "role", "error"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED]
)
def test_tampered_file_does_not_open(
    sealed: tuple[bytes, keys.PublicKey],
    edit: Callable[[dict[str, Any]], None],
    role: keys.Role,
    error: type[keys.KeysError],
) -> None:
    tampered = _edit(sealed[0], edit)
    keys.parse_key_file(tampered)  # still well formed: only the crypto can catch it
    with pytest.raises(error):
        keys.load_signer(tampered, PASSPHRASE, expected_role=role)


def test_tampered_header_is_corrupt_not_wrong_passphrase(
    sealed: tuple[bytes, keys.PublicKey],
) -> None:
    tampered = _edit(sealed[0], _set("label", "李四"))
    with pytest.raises(keys.CorruptKeyFileError) as info:
        keys.load_signer(tampered, PASSPHRASE, expected_role=ROLE)
    assert info.value.code == "keyfile.corrupt"


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99], ids=lambda f: f"cut-at-{f}")
def test_truncated_file_is_reported_as_truncated(
    sealed: tuple[bytes, keys.PublicKey], fraction: float
) -> None:
    data = sealed[0]
    with pytest.raises(keys.TruncatedKeyFileError) as info:
        keys.parse_key_file(data[: int(len(data) * fraction)])
    assert info.value.code == "keyfile.truncated"


def test_every_cut_of_the_document_is_truncated(sealed: tuple[bytes, keys.PublicKey]) -> None:
    document = sealed[0].rstrip(b"\n")
    for end in range(len(document)):
        with pytest.raises(keys.TruncatedKeyFileError):
            keys.parse_key_file(document[:end])


def test_cut_inside_a_multibyte_character_is_truncated(
    sealed: tuple[bytes, keys.PublicKey],
) -> None:
    data = sealed[0]
    cut = data.index(LABEL.encode()) + 1  # inside the first 3-byte UTF-8 character
    with pytest.raises(keys.TruncatedKeyFileError):
        keys.parse_key_file(data[:cut])


@pytest.mark.parametrize(
    "fmt", ["keyfile/2", "keyfile/0", "keyfile", "pubkey/1", ""], ids=lambda f: f or "empty"
)
def test_unknown_format_version_is_refused(sealed: tuple[bytes, keys.PublicKey], fmt: str) -> None:
    with pytest.raises(keys.UnsupportedFormatError) as info:
        keys.parse_key_file(_edit(sealed[0], _set("format", fmt)))
    assert info.value.code == "keys.unsupported_format"


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        del doc[field]

    return change


def _set_in(obj: str, field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc[obj][field] = value

    return change


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("unknown-field", _set("comment", "x")),
    ("missing-ciphertext", _drop("ciphertext")),
    ("unknown-role", _set("role", "chair")),
    ("unknown-algorithm", _set("algorithm", "x25519")),
    ("label-not-nfc", _set("label", unicodedata.normalize("NFD", "Café"))),
    ("label-empty", _set("label", "")),
    ("public-key-short", _set("public_key", base64.b64encode(bytes(31)).decode())),
    ("public-key-not-base64", _set("public_key", "!!!!")),
    ("salt-noncanonical-b64", _set_in("kdf", "salt", "A" * 21 + "B==")),
    ("ciphertext-with-newline", _set("ciphertext", "A" * 32 + "\n" + "A" * 32)),
    ("kdf-unknown-name", _set_in("kdf", "name", "scrypt")),
    ("kdf-extra-field", _set_in("kdf", "parallelism", 1)),
    ("kdf-memlimit-too-high", _set_in("kdf", "memlimit", 2**40)),
    ("kdf-opslimit-too-low", _set_in("kdf", "opslimit", 1)),
    ("kdf-opslimit-bool", _set_in("kdf", "opslimit", True)),
    ("kdf-opslimit-string", _set_in("kdf", "opslimit", "3")),
    ("cipher-unknown-name", _set_in("cipher", "name", "xsalsa20poly1305")),
    ("cipher-not-object", _set("cipher", "xchacha20poly1305-ietf")),
    ("format-not-string", _set("format", 1)),
]


@pytest.mark.parametrize("edit", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_file_is_corrupt(
    sealed: tuple[bytes, keys.PublicKey], edit: Callable[[dict[str, Any]], None]
) -> None:
    with pytest.raises(keys.CorruptKeyFileError) as info:
        keys.parse_key_file(_edit(sealed[0], edit))
    assert not isinstance(info.value, keys.TruncatedKeyFileError)


@pytest.mark.parametrize(
    "data",
    [
        b'{"format": "keyfile/1", "format": "keyfile/1"}',
        b'{"format": "keyfile/1", "x": 1.5}',
        b'{"format": "keyfile/1", "x": NaN}',
        b"[1, 2]",
        b"\xff\xfe{}",
        b"{} trailing",
    ],
    ids=["duplicate-field", "float", "nan", "not-object", "not-utf8", "trailing-garbage"],
)
def test_non_json_object_is_corrupt(data: bytes) -> None:
    with pytest.raises(keys.CorruptKeyFileError):
        keys.parse_key_file(data)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_mutation_raises_only_keys_errors(data: st.DataObject) -> None:
    """Parsing never fails with anything but a KeysError (no KeyError/TypeError leaks)."""
    valid, _ = _FIXED_FILE
    position = data.draw(st.integers(0, len(valid) - 1))
    replacement = data.draw(st.binary(max_size=4))
    mutated = valid[:position] + replacement + valid[position + 1 :]
    with contextlib.suppress(keys.KeysError):
        keys.parse_key_file(mutated)


_FIXED_FILE = keys.generate_keypair(
    ROLE,
    LABEL,
    passphrase=PASSPHRASE,
    limits=keys.INTERACTIVE_LIMITS,
    unsafe_randomness=keys.UnsafeFixedRandomness(seed=bytes(32), salt=bytes(16), nonce=bytes(24)),
)


@pytest.mark.parametrize(
    "passphrase", ["", "1234567", "口令口令口令口"], ids=["empty", "7-ascii", "7-chinese"]
)
def test_short_passphrase_is_refused_on_creation(passphrase: str) -> None:
    with pytest.raises(keys.WeakPassphraseError):
        keys.generate_keypair(ROLE, LABEL, passphrase=passphrase, limits=keys.INTERACTIVE_LIMITS)


@pytest.mark.parametrize(
    "label",
    ["", " 张三", "张三 ", "a" * 65, "张\u200b三", "张\n三", unicodedata.normalize("NFD", "Café")],
    ids=["empty", "leading-space", "trailing-space", "too-long", "zero-width", "newline", "nfd"],
)
def test_bad_label_is_refused_on_creation(label: str) -> None:
    with pytest.raises(keys.InvalidLabelError):
        keys.generate_keypair(ROLE, label, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS)


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [(1, 2**26), (11, 2**26), (2, 2**25), (2, 2**31), (2, 2**26 + 1)],
    ids=["ops-low", "ops-high", "mem-low", "mem-high", "mem-not-kib"],
)
def test_kdf_limits_out_of_range_are_refused(opslimit: int, memlimit: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        keys.KdfLimits(opslimit=opslimit, memlimit=memlimit)


def test_write_new_file_is_private_and_never_overwrites(tmp_path: Path) -> None:
    """K-4.4."""
    path = tmp_path / "a.key"
    old_umask = os.umask(0o000)
    try:
        keys.write_new_file(path, b"first", mode=keys.PRIVATE_FILE_MODE)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(keys.KeyFileExistsError):
        keys.write_new_file(path, b"second", mode=keys.PRIVATE_FILE_MODE)
    assert path.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.key"]  # no temporary left behind


def test_write_new_file_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "a.key"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(keys.KeyFileExistsError):
        keys.write_new_file(link, b"x", mode=keys.PRIVATE_FILE_MODE)
    assert not (tmp_path / "elsewhere").exists()


def test_key_file_never_contains_the_seed() -> None:
    seed = bytes(range(100, 132))
    data, _ = keys.generate_keypair(
        ROLE,
        LABEL,
        passphrase=PASSPHRASE,
        limits=keys.INTERACTIVE_LIMITS,
        unsafe_randomness=keys.UnsafeFixedRandomness(seed=seed, salt=bytes(16), nonce=bytes(24)),
    )
    for encoding in (seed, seed.hex().encode(), base64.b64encode(seed)):
        assert encoding not in data
