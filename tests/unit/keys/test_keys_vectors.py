"""The committed vectors in spec/vectors/keyfile/ (spec/keyfile.md §9)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import keys

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "keyfile"
INDEX: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_keyfile_vectors.py"
    spec = importlib.util.spec_from_file_location("gen_keyfile_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_regeneration_equals_the_committed_vectors() -> None:
    files: dict[str, bytes] = _generator().build_vectors()
    committed = {p.name for p in VECTORS.iterdir() if p.is_file()}
    assert committed == set(files)
    for name, data in files.items():
        assert (VECTORS / name).read_bytes() == data, name


def _open(case: dict[str, Any]) -> keys.PublicKey:
    data = (VECTORS / case["file"]).read_bytes()
    if case["kind"] == "pubkey":
        return keys.parse_public_key(data)
    role = case["expected_role"]
    return keys.load_signer(
        data, case["passphrase"], expected_role=None if role is None else keys.Role(role)
    ).public_key


CASES = INDEX["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_case_has_the_expected_outcome(case: dict[str, Any]) -> None:
    if case["expect"].get("ok"):
        assert keys.fingerprint(_open(case)) == INDEX["public_key"]["fingerprint"]
        return
    with pytest.raises(keys.KeysError) as info:
        _open(case)
    assert info.value.code == case["expect"]["code"]


def test_vector_signature_verifies_with_cryptography() -> None:
    """Cross-implementation check (K-6.3): signed by libsodium when generated, `keys` (OpenSSL) verifies."""
    vector = INDEX["signature"]
    public = keys.parse_public_key((VECTORS / INDEX["public_key"]["file"]).read_bytes())
    signed = bytes.fromhex(vector["signed_bytes_hex"])
    assert signed == vector["domain"].encode() + b"\x00" + bytes.fromhex(vector["message_hex"])
    Ed25519PublicKey.from_public_bytes(public.key).verify(
        bytes.fromhex(vector["signature_hex"]), signed
    )
    keys.verify(
        public,
        vector["domain"].encode(),
        bytes.fromhex(vector["message_hex"]),
        bytes.fromhex(vector["signature_hex"]),
    )


def test_vector_key_file_opens_to_the_vector_seed() -> None:
    signer = keys.load_signer(
        VECTORS / "valid.key", INDEX["passphrase"], expected_role=keys.Role.WORK_GROUP
    )
    from_seed = keys.InMemorySigner.from_seed(
        signer.role, signer.label, bytes.fromhex(INDEX["seed_hex"])
    )
    assert signer.public_key == from_seed.public_key
