"""The longest ballot QR text (spec/ballot-qr.md §3.4): refused first of all, by the producer's
reader and by the verifier's alike (Q1, ``qr.text_too_long``)."""

from __future__ import annotations

import pytest
import qrcode
from qrcode.util import MODE_ALPHA_NUM, QRData

import ballot_printer
from ballot_printer import QR_TEXT_MAX_CHARS, QrTextTooLongError, parse_qr_text
from verifier.errors import QrError
from verifier.qr import TEXT_MAX_CHARS, check_qr


def _verify(text: str) -> None:
    check_qr(text, public_key=b"\x00" * 32, election_id=b"\x00" * 32, kind=1, round_number=1)


def test_the_limit_is_the_alphanumeric_capacity_of_qr_version_10_m() -> None:
    """311 characters fit a version-10 symbol at M; 312 need version 11 (§3.2 allows <= 10)."""

    def version(n: int) -> int:
        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
        q.add_data(QRData("A" * n, mode=MODE_ALPHA_NUM))
        q.make(fit=True)
        return int(q.version)

    assert QR_TEXT_MAX_CHARS == TEXT_MAX_CHARS == 311
    assert (version(311), version(312)) == (10, 11)


@pytest.mark.parametrize(
    "text",
    ["BQ1:" + "A" * 307, " " * 311, "x" * 311],
    ids=["base32-311", "spaces-311", "garbage-311"],
)
def test_a_text_of_311_characters_is_read_on(text: str) -> None:
    """At the limit the other clauses decide (here Q1's encoding or Q3's length)."""
    with pytest.raises(ballot_printer.QrFormatError) as produced:
        parse_qr_text(text)
    assert produced.value.code != "qr.text_too_long"
    with pytest.raises(QrError) as verified:
        _verify(text)
    assert verified.value.code != "qr.text_too_long"


@pytest.mark.parametrize(
    "text",
    ["BQ1:" + "A" * 308, "BQ1:" + "A" * 5_000_000, "  " + "BQ1:" + "A" * 310],
    ids=["312", "five-million", "spaces-then-text"],
)
def test_a_longer_text_is_refused_before_anything_else(text: str) -> None:
    with pytest.raises(QrTextTooLongError) as produced:
        parse_qr_text(text)
    assert (produced.value.code, produced.value.clause) == ("qr.text_too_long", "Q1")
    with pytest.raises(QrError) as verified:
        _verify(text)
    assert (verified.value.code, verified.value.clause) == ("qr.text_too_long", "Q1")
