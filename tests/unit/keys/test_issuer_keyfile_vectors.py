"""The committed vectors in spec/vectors/issuer-keyfile/ (spec/keyfile.md §10.4)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import keys
from keys.remote_tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "issuer-keyfile"
INDEX: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
CASES = INDEX["cases"]


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_keyfile_vectors.py"
    spec = importlib.util.spec_from_file_location("gen_keyfile_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_regeneration_equals_the_committed_issuer_vectors() -> None:
    files: dict[str, bytes] = _generator().build_issuer_vectors()
    committed = {p.name for p in VECTORS.iterdir() if p.is_file()}
    assert committed == set(files)
    for name, data in files.items():
        assert (VECTORS / name).read_bytes() == data, name


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_issuer_vector_case_has_the_expected_outcome(case: dict[str, Any]) -> None:
    data = (VECTORS / case["file"]).read_bytes()
    if case["expect"].get("ok"):
        issuer = TokenIssuer.from_key_file(data, case["passphrase"])
        assert base64.b64encode(issuer.public_key_der).decode() == INDEX["public_key_b64"]
        return
    with pytest.raises(keys.KeysError) as info:
        TokenIssuer.from_key_file(data, case["passphrase"])
    assert info.value.code == case["expect"]["code"], (case["name"], info.value)


def test_every_refusal_clause_of_the_spec_has_a_vector() -> None:
    """§10: a PEM file, another key in the header, another algorithm, unknown members, an
    unknown version, altered bytes and a wrong passphrase are each refused by a vector."""
    refused = {c["name"] for c in CASES if not c["expect"].get("ok")}
    assert {
        "pem",
        "mismatched-public-key",
        "wrong-algorithm",
        "unknown-field",
        "unknown-version",
        "tampered-ciphertext",
        "tampered-public-key",
        "wrong-passphrase",
        "truncated",
        "weak-kdf",
    } <= refused


def test_issuer_vector_key_signs_the_listed_blind_signature() -> None:
    """The opened key is the vector's key: its BlindSign (deterministic RSA) of the listed
    blinded message is the listed signature, and it verifies under the public key."""
    issuer = TokenIssuer.from_key_file((VECTORS / "valid.key").read_bytes(), INDEX["passphrase"])
    vector = INDEX["blind_signature"]
    blinded = bytes.fromhex(vector["blinded_msg_hex"])
    signature = issuer.sign_blinded(blinded)
    assert signature.hex() == vector["blind_sig_hex"]
    public = issuer.public_key
    assert isinstance(public, rsa.RSAPublicKey)
    n, e = public.public_numbers().n, public.public_numbers().e
    assert pow(int.from_bytes(signature, "big"), e, n) == int.from_bytes(blinded, "big")
    der = base64.b64decode(INDEX["public_key_b64"])
    assert hashlib.sha256(der).hexdigest() == INDEX["public_key_sha256"]
