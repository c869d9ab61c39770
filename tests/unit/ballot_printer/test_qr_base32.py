"""The QR text decoder (int()-based, for speed) accepts exactly what RFC 4648 base32 with the
canonical-padding rule accepts, and gives the same bytes (spec/ballot-qr.md Q1)."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot_printer.errors import BadEncodingError
from ballot_printer.payload import QR_TEXT_PREFIX, _decode_text


def _reference(data: str) -> bytes | None:
    """The old decoder: base64.b32decode, then re-encoding must give the text back."""
    try:
        raw = base64.b32decode(data + "=" * (-len(data) % 8))
    except binascii.Error:
        return None
    return raw if base64.b32encode(raw).decode().rstrip("=") == data else None


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=160))
def test_every_payload_round_trips(raw: bytes) -> None:
    text = QR_TEXT_PREFIX + base64.b32encode(raw).decode().rstrip("=")
    assert _decode_text(text) == raw


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", max_size=40))
def test_accepts_exactly_the_canonical_texts(data: str) -> None:
    want = _reference(data)
    if want is None:
        with pytest.raises(BadEncodingError):
            _decode_text(QR_TEXT_PREFIX + data)
    else:
        assert _decode_text(QR_TEXT_PREFIX + data) == want


@pytest.mark.parametrize("data", ["A", "ABC", "ABCDEF", "AB", "AD", "ABCE"])
def test_bad_lengths_and_padding_bits_refused(data: str) -> None:
    assert _reference(data) is None
    with pytest.raises(BadEncodingError):
        _decode_text(QR_TEXT_PREFIX + data)
