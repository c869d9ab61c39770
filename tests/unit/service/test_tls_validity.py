"""tally.service.transport: the TLS certificate's validity at ``tally serve``'s start.

``load_tls(files, now=)`` refuses a leaf certificate that is expired or not yet valid at ``now``,
stating the dates; ``expiry_warning`` names one that expires before the election day ends
(23:59 Beijing time) or within 14 days. The time is passed in: no clock in these tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tally.service.transport import (
    EXPIRY_WARNING_DAYS,
    CheckedTls,
    TlsFiles,
    TransportError,
    expiry_warning,
    load_tls,
)
from tests.helpers.tls import certificate, pem, self_signed, write_pair

NOW = dt.datetime(2026, 12, 10, 2, 30, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)
ELECTION = dt.date(2026, 12, 15)  # before NOW + 13 days: only the 14-day rule can warn
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _files(folder: Path, *, not_before: dt.datetime, not_after: dt.datetime) -> TlsFiles:
    cert, key = self_signed(folder, not_before=not_before, not_after=not_after)
    return TlsFiles(cert=cert, key=key)


def _refusal(files: TlsFiles, now: dt.datetime = NOW) -> TransportError:
    with pytest.raises(TransportError) as refused:
        load_tls(files, now=now)
    return refused.value


def _checked(tmp_path: Path, not_after: dt.datetime) -> CheckedTls:
    return load_tls(_files(tmp_path, not_before=NOW - DAY, not_after=not_after), now=NOW)


# -- refused at the start ------------------------------------------------------------------------
def test_a_certificate_expired_by_one_second_is_refused_stating_its_dates(tmp_path: Path) -> None:
    not_after = dt.datetime(2026, 12, 10, 2, 29, 59, tzinfo=dt.UTC)  # NOW - 1 s
    files = _files(tmp_path, not_before=dt.datetime(2026, 9, 1, tzinfo=dt.UTC), not_after=not_after)
    e = _refusal(files)
    assert e.code == "serve.tls_cert_expired"
    assert e.zh == (
        f"TLS 证书 {files.cert} 已于 2026-12-10 02:29 UTC 过期（有效期 2026-09-01 00:00 UTC 至 "
        "2026-12-10 02:29 UTC，现在是 2026-12-10 02:30 UTC）：请换用新证书"
    )
    assert e.en == (
        f"the TLS certificate {files.cert} expired at 2026-12-10 02:29 UTC (valid 2026-09-01 "
        "00:00 UTC to 2026-12-10 02:29 UTC, now 2026-12-10 02:30 UTC): use a new certificate"
    )
    assert "\n" not in e.zh + e.en


def test_a_certificate_valid_from_one_second_in_the_future_is_refused_stating_the_date(
    tmp_path: Path,
) -> None:
    files = _files(tmp_path, not_before=NOW + SECOND, not_after=NOW + 90 * DAY)
    e = _refusal(files)
    assert e.code == "serve.tls_cert_not_yet_valid"
    assert "自 2026-12-10 02:30 UTC 起才有效（现在是 2026-12-10 02:30 UTC）" in e.zh
    assert "本机时钟" in e.zh
    assert "is not valid before 2026-12-10 02:30 UTC (now 2026-12-10 02:30 UTC)" in e.en
    assert "clock" in e.en


def test_both_ends_of_the_validity_period_are_valid(tmp_path: Path) -> None:
    files = _files(tmp_path, not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    for now in (NOW - DAY, NOW + 90 * DAY):  # RFC 5280 §4.1.2.5: notBefore..notAfter inclusive
        checked = load_tls(files, now=now)
        assert (checked.not_before, checked.not_after) == (NOW - DAY, NOW + 90 * DAY)
        assert checked.checked_at == now and checked.files == files


def test_now_must_carry_a_time_zone(tmp_path: Path) -> None:
    files = _files(tmp_path, not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        load_tls(files, now=NOW.replace(tzinfo=None))


# -- which certificate is dated: the leaf ---------------------------------------------------------
def test_in_a_chain_file_the_leaf_is_checked_and_an_expired_certificate_after_it_is_not(
    tmp_path: Path,
) -> None:
    leaf, key = certificate(not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    old, _ = certificate(not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    cert_path, key_path = write_pair(tmp_path, leaf, key)
    cert_path.write_bytes(pem(leaf) + pem(old))
    assert load_tls(TlsFiles(cert_path, key_path), now=NOW).not_after == NOW + 90 * DAY


def test_an_expired_leaf_is_refused_whatever_valid_certificate_follows_it(tmp_path: Path) -> None:
    leaf, key = certificate(not_before=NOW - 90 * DAY, not_after=NOW - SECOND)
    fresh, _ = certificate(not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    cert_path, key_path = write_pair(tmp_path, leaf, key)
    cert_path.write_bytes(pem(leaf) + pem(fresh))
    assert _refusal(TlsFiles(cert_path, key_path)).code == "serve.tls_cert_expired"


def test_an_expired_trusted_certificate_leaf_is_not_dated_by_the_certificate_after_it(
    tmp_path: Path,
) -> None:
    """OpenSSL serves a ``TRUSTED CERTIFICATE`` block as the leaf, which ``cryptography`` skips:
    the expired leaf must not pass on the dates of the valid certificate that follows."""
    leaf, key = certificate(not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    fresh, _ = certificate(not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    trusted = pem(leaf).replace(b"CERTIFICATE-----", b"TRUSTED CERTIFICATE-----")
    cert_path, key_path = write_pair(tmp_path, leaf, key)
    cert_path.write_bytes(trusted + pem(fresh))
    e = _refusal(TlsFiles(cert_path, key_path))
    assert e.code == "serve.tls_mismatch"
    assert "first certificate" in e.en and "第一张证书" in e.zh


def test_text_after_an_expired_certificate_does_not_hide_its_expiry(tmp_path: Path) -> None:
    files = _files(tmp_path, not_before=NOW - 90 * DAY, not_after=NOW - SECOND)
    files.cert.write_bytes(files.cert.read_bytes() + b"garbage \x00\xff\n")
    assert _refusal(files).code == "serve.tls_cert_expired"


def test_a_broken_certificate_block_after_the_certificate_is_refused_as_invalid(
    tmp_path: Path,
) -> None:
    files = _files(tmp_path, not_before=NOW - DAY, not_after=NOW + 90 * DAY)
    broken = b"-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n"
    files.cert.write_bytes(files.cert.read_bytes() + broken)
    e = _refusal(files)
    assert e.code == "serve.tls_invalid"
    assert "PEM expected" in e.en and "None" not in e.en + e.zh


@pytest.mark.parametrize("content", ["der", "empty"])
def test_a_der_or_empty_certificate_file_is_refused_as_not_pem(
    tmp_path: Path, content: str
) -> None:
    files = _files(tmp_path, not_before=NOW - 90 * DAY, not_after=NOW - DAY)  # expired, too
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    files.cert.write_bytes(
        cert.public_bytes(serialization.Encoding.DER) if content == "der" else b""
    )
    e = _refusal(files)
    assert e.code == "serve.tls_invalid"  # the format is refused before any date is read
    assert e.en.endswith("(PEM expected)"), e.en
    assert e.zh.endswith("（须为 PEM 格式）"), e.zh


# -- the start-up warning ---------------------------------------------------------------------------
def test_a_certificate_expiring_in_13_days_gets_a_warning_naming_the_date(tmp_path: Path) -> None:
    warning = expiry_warning(_checked(tmp_path, NOW + 13 * DAY), ELECTION)
    assert warning is not None
    assert warning.code == "serve.tls_cert_expires_soon"
    assert warning.message("zh") == (
        f"TLS 证书 {tmp_path / 'cert.pem'} 将于 2026-12-23 02:30 UTC 过期（14 天之内）："
        "请及时换用新证书"
    )
    assert warning.message("en") == (
        f"the TLS certificate {tmp_path / 'cert.pem'} expires at 2026-12-23 02:30 UTC, "
        "within 14 days: replace it soon"
    )


def test_a_certificate_expiring_in_exactly_14_days_gets_the_warning(tmp_path: Path) -> None:
    checked = _checked(tmp_path, NOW + EXPIRY_WARNING_DAYS * DAY)
    assert expiry_warning(checked, ELECTION) is not None


def test_a_certificate_expiring_in_15_days_after_the_election_gets_no_warning(
    tmp_path: Path,
) -> None:
    assert expiry_warning(_checked(tmp_path, NOW + 15 * DAY), ELECTION) is None


def test_a_certificate_expiring_before_the_election_day_ends_gets_a_warning_however_far(
    tmp_path: Path,
) -> None:
    election = dt.date(2027, 3, 1)
    last_minute = dt.datetime(2027, 3, 1, 23, 58, tzinfo=BEIJING)  # 15:58 UTC
    warning = expiry_warning(_checked(tmp_path, last_minute), election)
    assert warning is not None
    assert warning.code == "serve.tls_cert_expires_before_election"
    assert "将于 2027-03-01 15:58 UTC 过期，早于选举日 2027-03-01 结束（北京时间 23:59）" in (
        warning.zh
    )
    assert "expires at 2027-03-01 15:58 UTC, before the election day 2027-03-01 ends" in (
        warning.en
    )


def test_the_election_day_ends_at_23_59_beijing_time_not_utc(tmp_path: Path) -> None:
    election = dt.date(2027, 3, 1)
    # 23:59 in Beijing is 15:59 UTC: a certificate valid to then lasts the day (no warning),
    # though it expires hours before the day ends in UTC.
    day_end = dt.datetime(2027, 3, 1, 15, 59, tzinfo=dt.UTC)
    assert expiry_warning(_checked(tmp_path / "a", day_end), election) is None
    before = expiry_warning(_checked(tmp_path / "b", day_end - SECOND), election)
    assert before is not None and before.code == "serve.tls_cert_expires_before_election"
