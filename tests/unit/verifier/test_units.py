"""Unit tests: canonical JSON limits, QR vectors (Q1-Q8), pubkey/fingerprint vectors, checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.verifier import builder as B
from verifier.canonical import parse_canonical, parse_json
from verifier.crypto import fingerprint, parse_fingerprint, parse_pubkey_document, verify_signature
from verifier.errors import (
    CanonicalFormError,
    CheckpointFormatError,
    DocumentFormatError,
    JsonLimitError,
    PublicKeyError,
    QrError,
    SignatureInvalidError,
)
from verifier.parse import CHECKPOINT_DOMAIN, parse_checkpoint
from verifier.qr import check_qr, stock_commitment

ROOT = Path(__file__).resolve().parents[3]
QR = ROOT / "spec/vectors/ballot-qr"
KF = ROOT / "spec/vectors/keyfile"


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b'{"a":1,"a":2}', DocumentFormatError, "json.invalid"),
        (b'{"a":1.5}', DocumentFormatError, "json.invalid"),
        (b'{"a":1e3}', DocumentFormatError, "json.invalid"),
        (b'{"a":NaN}', DocumentFormatError, "json.invalid"),
        (b'{"a":Infinity}', DocumentFormatError, "json.invalid"),
        (b"[" * 33 + b"]" * 33, JsonLimitError, "json.too_deep"),
        (b"[" * 200000 + b"]" * 200000, JsonLimitError, "json.too_deep"),
        (b"\xff", DocumentFormatError, "json.malformed"),
        (b'{"a":', DocumentFormatError, "json.malformed"),
    ],
    ids=[
        "duplicate",
        "fraction",
        "exponent",
        "nan",
        "infinity",
        "depth-33",
        "deep-bomb",
        "not-utf8",
        "truncated",
    ],
)
def test_parse_json_rejects(data: bytes, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as e:
        parse_json(data, clause="V6", path="x")
    assert e.value.code == code  # type: ignore[attr-defined]
    assert e.value.clause == "V6"  # type: ignore[attr-defined]


def test_depth_32_accepted_and_size_limit() -> None:
    assert parse_json(b"[" * 32 + b"]" * 32, clause="V6", path="x") is not None
    with pytest.raises(JsonLimitError):
        parse_json(b"[" + b"1," * 100 + b"1]", clause="V6", path="x", limit=50)


def test_parse_canonical() -> None:
    assert parse_canonical(b'{"a":1,"b":"\xe4\xb8\xad"}', clause="V1", path="x") == {
        "a": 1,
        "b": "中",
    }
    for bad in (b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":"\\u4e2d"}'):
        with pytest.raises(CanonicalFormError):
            parse_canonical(bad, clause="V1", path="x")


def _qr_cases(kind: str) -> list[Path]:
    return sorted((QR / kind).glob("*.json"))


@pytest.mark.parametrize("path", _qr_cases("valid"), ids=lambda p: p.stem)
def test_qr_valid_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    exp = v["expected"]
    b = check_qr(
        v["qr_text"],
        public_key=bytes.fromhex(v["public_key"]),
        election_id=bytes.fromhex(exp["election_id"]),
        kind=exp["kind"],
        round_number=exp["round"],
    )
    assert b.ballot_id.hex() == v["result"]["ballot_id"]


@pytest.mark.parametrize("path", _qr_cases("invalid"), ids=lambda p: p.stem)
def test_qr_invalid_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    exp = v["expected"]
    with pytest.raises(QrError) as e:
        check_qr(
            v["qr_text"],
            public_key=bytes.fromhex(v["public_key"]),
            election_id=bytes.fromhex(exp["election_id"]),
            kind=exp["kind"],
            round_number=exp["round"],
        )
    assert (e.value.clause, e.value.code) == (v["result"]["clause"], v["result"]["error"])
    assert path.stem.startswith(e.value.clause + "-")


def test_stock_commitment_vector() -> None:
    v = json.loads((QR / "stock/commitment.json").read_text())
    ids = [bytes.fromhex(x) for x in v["ballot_ids_print_order"]]
    got = stock_commitment(bytes.fromhex(v["election_id"]), 1, v["round"], ids)
    assert got.hex() == v["commitment"]


def _pub_cases() -> list[dict[str, object]]:
    doc = json.loads((KF / "vectors.json").read_text())
    return [c for c in doc["cases"] if c["kind"] == "pubkey"]


@pytest.mark.parametrize("case", _pub_cases(), ids=lambda c: str(c["name"]))
def test_pubkey_vectors(case: dict[str, object]) -> None:
    data = (KF / str(case["file"])).read_bytes()
    expect = case["expect"]
    assert isinstance(expect, dict)
    if expect.get("ok"):
        key = parse_pubkey_document(data)
        assert key.role == "work_group"
    else:
        with pytest.raises(PublicKeyError) as e:
            parse_pubkey_document(data)
        assert (e.value.code, e.value.clause) == (expect["code"], expect["clause"])


def test_fingerprint_and_signature_vector() -> None:
    doc = json.loads((KF / "vectors.json").read_text())
    key = parse_pubkey_document((KF / "valid.pub").read_bytes())
    assert fingerprint(key.key) == doc["public_key"]["fingerprint"]
    assert key.fingerprint == parse_fingerprint(doc["public_key"]["fingerprint"].replace(" ", ""))
    sig = doc["signature"]
    verify_signature(
        key.key,
        sig["domain"].encode(),
        bytes.fromhex(sig["message_hex"]),
        bytes.fromhex(sig["signature_hex"]),
    )
    with pytest.raises(SignatureInvalidError):
        verify_signature(
            key.key,
            b"branch-election/other/1",
            bytes.fromhex(sig["message_hex"]),
            bytes.fromhex(sig["signature_hex"]),
        )
    with pytest.raises(PublicKeyError):
        parse_fingerprint("1234")


def test_checkpoint_parse_and_signature() -> None:
    body = f"branch-election/{'ab' * 32}\n5\n{'A' * 43}=\nround-closed committee 1\n"
    text = B.sign_checkpoint(body, [B.WORK_GROUP, B.SCRUTINEER])
    cp = parse_checkpoint(text, "x")
    assert (cp.size, cp.reason, len(cp.signatures)) == (5, "round-closed committee 1", 2)
    verify_signature(
        B.WORK_GROUP.public_key.key, CHECKPOINT_DOMAIN, cp.body, cp.signatures[0].signature
    )
    with pytest.raises(SignatureInvalidError):
        verify_signature(
            B.WORK_GROUP.public_key.key, CHECKPOINT_DOMAIN, cp.body, cp.signatures[1].signature
        )


def test_checkpoint_with_the_withdrawn_remote_key_reason_is_malformed() -> None:
    """``remote-key`` (remote ballots version 1's key reveal) is no reason of spec/log.md §3 any
    more: a well-signed checkpoint with it does not parse; the same with ``remote-closed`` does."""

    def signed(reason: str) -> str:
        body = f"branch-election/{'ab' * 32}\n7\n{'A' * 43}=\n{reason}\n"
        return B.sign_checkpoint(body, [B.WORK_GROUP])

    with pytest.raises(CheckpointFormatError, match="remote-key"):
        parse_checkpoint(signed("remote-key"), "x")
    assert parse_checkpoint(signed("remote-closed"), "x").reason == "remote-closed"


@pytest.mark.parametrize(
    "text",
    [
        "no blank line",
        f"branch-election/x\n05\n{'A' * 43}=\nopened\n\n\u2014 work_group:0123456789abcdef AAAA\n",
        "branch-election/x\n5\nnotbase64\nopened\n\n",
        f"branch-election/x\n5\n{'A' * 43}=\nclosed\n\n",
        f"branch-election/x\n5\n{'A' * 43}=\nstock committee 256\n\n",
        f"branch-election/x\n5\n{'A' * 43}=\nopened\n\n- work_group:0123456789abcdef AAAA\n",
    ],
    ids=["no-separator", "leading-zero", "root", "reason", "round-256", "bad-dash"],
)
def test_checkpoint_malformed(text: str) -> None:
    with pytest.raises(CheckpointFormatError):
        parse_checkpoint(text, "x")
