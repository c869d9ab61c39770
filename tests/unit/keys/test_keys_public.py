"""Public-key documents and fingerprints, spec/keyfile.md §5 (K-5.2, K-5.3)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

import keys

SEED = bytes(range(32))
KEY = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "红星村党支部选举工作组", SEED).public_key


def test_export_then_parse_gives_the_same_key() -> None:
    assert keys.parse_public_key(keys.export_public_key(KEY)) == KEY


def test_export_layout_is_sorted_and_readable() -> None:
    text = keys.export_public_key(KEY).decode()
    assert text.endswith("}\n")
    assert "红星村" in text  # not \\u-escaped
    assert list(json.loads(text)) == ["algorithm", "format", "key", "label", "role"]


def test_fingerprint_is_stable_on_the_vector_key() -> None:
    """K-5.3 on the spec/vectors/keyfile seed (00..1f): the literal must never change."""
    assert KEY.key.hex() == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    assert keys.fingerprint(KEY) == "03203 96446 59414 42301 38458"


def test_fingerprint_matches_its_definition() -> None:
    digest = hashlib.sha256(b"branch-election/key-fingerprint/1\x00ed25519\x00" + KEY.key).digest()
    expected = f"{int.from_bytes(digest[:10], 'big'):025d}"
    assert keys.fingerprint(KEY).replace(" ", "") == expected


@pytest.mark.parametrize("seed", [bytes([i]) * 32 for i in range(8)], ids=lambda s: s[:1].hex())
def test_fingerprint_is_five_groups_of_five_digits(seed: bytes) -> None:
    key = keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "甲", seed).public_key
    assert re.fullmatch(r"\d{5}( \d{5}){4}", keys.fingerprint(key))


def test_fingerprint_ignores_role_and_label() -> None:
    same = keys.PublicKey(role=keys.Role.WORK_GROUP, label="另一个标签", key=KEY.key)
    assert keys.fingerprint(same) == keys.fingerprint(KEY)


def _doc(**changes: object) -> bytes:
    doc = json.loads(keys.export_public_key(KEY))
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode()


INVALID = [
    ("unknown-field", _doc(comment="x")),
    ("missing-label", json.dumps({k: v for k, v in json.loads(_doc()).items() if k != "label"})),
    ("unknown-role", _doc(role="chair")),
    ("unknown-algorithm", _doc(algorithm="x25519")),
    ("key-short", _doc(key=base64.b64encode(bytes(31)).decode())),
    ("key-long", _doc(key=base64.b64encode(bytes(33)).decode())),
    ("key-urlsafe-b64", _doc(key=base64.urlsafe_b64encode(b"\xff" * 32).decode())),
    ("key-not-string", _doc(key=12)),
    ("label-control-char", _doc(label="工作组\u0007")),
    ("not-json", b"format: pubkey/1"),
    ("not-object", b'"pubkey/1"'),
    ("duplicate-field", b'{"format": "pubkey/1", "format": "pubkey/1"}'),
]


@pytest.mark.parametrize("data", [i[1] for i in INVALID], ids=[i[0] for i in INVALID])
def test_invalid_public_key_document_is_refused(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(keys.InvalidPublicKeyError) as info:
        keys.parse_public_key(raw)
    assert info.value.code == "pubkey.invalid"


@pytest.mark.parametrize("fmt", ["pubkey/2", "keyfile/1"], ids=["future", "key-file"])
def test_unknown_public_key_format_is_refused(fmt: str) -> None:
    with pytest.raises(keys.UnsupportedFormatError):
        keys.parse_public_key(_doc(format=fmt))


def test_public_key_value_checks_its_size() -> None:
    with pytest.raises(keys.InvalidPublicKeyError):
        keys.PublicKey(role=keys.Role.SCRUTINEER, label="甲", key=bytes(31))
