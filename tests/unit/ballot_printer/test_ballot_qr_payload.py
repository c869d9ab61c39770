"""QR payload: text form, parsing, verification (spec/ballot-qr.md §2, §3, Q1-Q8)."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ballot_printer import (
    QR_DOMAIN,
    BadEncodingError,
    BadSignatureError,
    BallotPrinterError,
    InvalidFieldError,
    InvalidPublicKeyError,
    PaperKind,
    QrPayload,
    Signer,
    SignerError,
    TruncatedPayloadError,
    UnknownVersionError,
    WrongElectionError,
    WrongKindError,
    WrongRoundError,
    ballot_code,
    encode_qr_text,
    parse_qr_text,
    sign_payload,
    verify_payload,
)
from ballot_printer.render import qr_version

BALLOT_ID = bytes(range(16))


def _cut_payload(text: str, n: int) -> str:
    """Re-encode the payload without its last n bytes (a text cut mid-character is Q1 instead)."""
    body = text[4:]
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    return "BQ1:" + base64.b32encode(raw[:-n]).decode().rstrip("=")


@pytest.fixture
def payload(signer: Signer, election_id: bytes) -> QrPayload:
    return sign_payload(
        election_id=election_id,
        kind=PaperKind.SECRETARY,
        round_number=2,
        ballot_id=BALLOT_ID,
        signer=signer,
    )


def test_test_signer_satisfies_the_signer_protocol(signer: Signer) -> None:
    assert isinstance(signer, Signer)


def test_payload_is_99_bytes_in_the_spec_field_order(
    payload: QrPayload, election_id: bytes
) -> None:
    raw = payload.to_bytes()
    assert len(raw) == 99
    assert raw[0] == 1
    assert raw[1:17] == election_id[:16]
    assert raw[17] == 2 and raw[18] == 2
    assert raw[19:35] == BALLOT_ID


def test_signature_is_ed25519_over_domain_nul_signed_bytes(
    payload: QrPayload, public_key: bytes
) -> None:
    key = Ed25519PublicKey.from_public_bytes(public_key)
    key.verify(payload.signature, QR_DOMAIN + b"\x00" + payload.to_bytes()[:35])


def test_text_is_prefix_plus_unpadded_uppercase_base32(payload: QrPayload) -> None:
    text = encode_qr_text(payload)
    assert text.startswith("BQ1:")
    assert re.fullmatch(r"BQ1:[A-Z2-7]+", text)
    assert base64.b32decode(text[4:] + "=" * (-len(text[4:]) % 8)) == payload.to_bytes()
    # Every character in the QR alphanumeric set (0-9 A-Z space $%*+-./:).
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def test_qr_symbol_version_is_at_most_10(payload: QrPayload) -> None:
    assert qr_version(encode_qr_text(payload)) <= 10


def test_parse_then_verify_round_trip(
    payload: QrPayload, public_key: bytes, election_id: bytes
) -> None:
    parsed = parse_qr_text(encode_qr_text(payload))
    assert parsed == payload
    verified = verify_payload(
        parsed,
        public_key,
        election_id=election_id,
        kind=PaperKind.SECRETARY,
        round_number=2,
    )
    assert verified.ballot_id == BALLOT_ID
    assert verified.code == ballot_code(BALLOT_ID)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda t: t + "\r\n",
        lambda t: "  " + t + "\n",
        lambda t: "\t" + t.lower() + "\r",
        lambda t: t.lower(),
    ],
    ids=["crlf", "spaces-lf", "caps-lock-tab-cr", "lowercase"],
)
def test_parse_tolerates_scanner_whitespace_and_lowercase(payload: QrPayload, wrap: object) -> None:
    assert parse_qr_text(wrap(encode_qr_text(payload))) == payload  # type: ignore[operator]


@pytest.mark.parametrize(
    ("mangle", "error"),
    [
        (lambda t: t[:30] + " " + t[30:], BadEncodingError),
        (lambda t: t + "=", BadEncodingError),
        (lambda t: t.replace("BQ1:", "BQ1-"), BadEncodingError),
        (lambda t: "\x00" + t, BadEncodingError),
        (lambda t: t + "\x0b", BadEncodingError),
        (lambda t: "BQ9:" + t[4:], UnknownVersionError),
        (lambda t: _cut_payload(t, 10), TruncatedPayloadError),
        (lambda t: t[:-1], BadEncodingError),  # 158 base32 chars: no valid length
        (lambda t: "BQ1:", TruncatedPayloadError),
    ],
    ids=[
        "inner-space",
        "padding",
        "wrong-separator",
        "leading-nul",
        "trailing-vertical-tab",
        "text-version-9",
        "truncated",
        "cut-mid-character",
        "empty-body",
    ],
)
def test_parse_rejects_malformed_text(
    payload: QrPayload, mangle: object, error: type[BallotPrinterError]
) -> None:
    with pytest.raises(error):
        parse_qr_text(mangle(encode_qr_text(payload)))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("field", "expected_error"),
    [
        ("election", WrongElectionError),
        ("kind", WrongKindError),
        ("round", WrongRoundError),
        ("key", BadSignatureError),
        ("short-key", InvalidPublicKeyError),
    ],
    ids=["wrong-election", "wrong-kind", "wrong-round", "other-key", "short-key"],
)
def test_verify_rejects_a_ballot_of_another_box(
    payload: QrPayload,
    public_key: bytes,
    other_public_key: bytes,
    election_id: bytes,
    field: str,
    expected_error: type[BallotPrinterError],
) -> None:
    key = public_key
    eid, kind, rnd = election_id, PaperKind.SECRETARY, 2
    if field == "election":
        eid = bytes(32)
    elif field == "kind":
        kind = PaperKind.DEPUTY
    elif field == "round":
        rnd = 1
    elif field == "key":
        key = other_public_key
    else:
        key = key[:31]
    with pytest.raises(expected_error) as info:
        verify_payload(payload, key, election_id=eid, kind=kind, round_number=rnd)
    assert info.value.code.startswith("qr.")
    assert info.value.zh and info.value.en == str(info.value)


def test_error_carries_code_clause_and_both_languages() -> None:
    with pytest.raises(TruncatedPayloadError) as info:
        parse_qr_text("BQ1:AE")
    err = info.value
    assert (err.code, err.clause) == ("qr.truncated", "Q3")
    assert "不完整" in err.zh


def test_signer_returning_a_short_signature_is_refused(election_id: bytes) -> None:
    class BrokenSigner:
        def sign(self, domain: bytes, message: bytes) -> bytes:
            return b"\x00" * 63

    with pytest.raises(SignerError):
        sign_payload(
            election_id=election_id,
            kind=PaperKind.COMMITTEE,
            round_number=1,
            ballot_id=BALLOT_ID,
            signer=BrokenSigner(),
        )


@pytest.mark.parametrize(
    ("kwargs"),
    [{"round_number": 0}, {"round_number": 256}, {"ballot_id": b"\x00" * 15}],
    ids=["round-0", "round-256", "short-ballot-id"],
)
def test_sign_payload_rejects_out_of_range_fields(
    signer: Signer, election_id: bytes, kwargs: dict[str, object]
) -> None:
    args: dict[str, object] = {
        "election_id": election_id,
        "kind": PaperKind.COMMITTEE,
        "round_number": 1,
        "ballot_id": BALLOT_ID,
        "signer": signer,
    }
    args.update(kwargs)
    with pytest.raises(InvalidFieldError):
        sign_payload(**args)  # type: ignore[arg-type]


def test_ballot_code_is_two_groups_of_four_crockford_characters() -> None:
    assert ballot_code(b"\x00" * 16) == "0000-0000"
    assert ballot_code(b"\xff" * 16) == "ZZZZ-ZZZZ"
    # 0x0842108421 is 00001 repeated eight times.
    assert ballot_code(bytes.fromhex("0842108421") + bytes(11)) == "1111-1111"
    code = ballot_code(BALLOT_ID)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
