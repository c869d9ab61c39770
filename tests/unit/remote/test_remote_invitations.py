"""Invitation codes, spec/remote.md §3 (RM-3.1 .. RM-3.5)."""

from __future__ import annotations

import hmac
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally import remote_invitations

from .conftest import ELECTION_ID, OTHER_ELECTION_ID

KEY = bytes(range(32))
NOW = datetime(2026, 12, 14, 9, 0, tzinfo=timezone(timedelta(hours=8)))
CLOSES = NOW + timedelta(days=1)
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def _issue(member: str = "m01") -> tuple[str, remote_invitations.Invitation]:
    return remote_invitations.issue_invitation(KEY, ELECTION_ID, member, now=NOW, closes_at=CLOSES)


def test_rm_3_1_code_has_at_least_100_random_bits_in_six_groups_of_four() -> None:
    assert remote_invitations.INVITATION_RANDOM_BITS == 115 >= 100
    assert (
        math.log2(32) * (remote_invitations.INVITATION_CODE_SYMBOLS - 1)
        == remote_invitations.INVITATION_RANDOM_BITS
    )
    code = remote_invitations.generate_invitation_code()
    groups = code.split("-")
    assert len(groups) == remote_invitations.INVITATION_CODE_GROUPS == 6
    assert all(len(g) == 4 and set(g) <= CROCKFORD for g in groups)
    assert len({remote_invitations.generate_invitation_code() for _ in range(200)}) == 200


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_rm_3_1_typed_variants_normalise_to_the_code(data: st.DataObject) -> None:
    code = remote_invitations.generate_invitation_code()
    typed = code.replace("-", data.draw(st.sampled_from(["", " ", "-", "  "])))
    typed = typed.lower() if data.draw(st.booleans()) else typed
    typed = typed.replace("0", data.draw(st.sampled_from(["0", "o", "O"])))
    typed = typed.replace("1", data.draw(st.sampled_from(["1", "i", "l", "L"])))
    assert remote_invitations.normalize_invitation_code(typed) == code


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, 23), data=st.data())
def test_rm_3_1_check_symbol_catches_most_single_typos(position: int, data: st.DataObject) -> None:
    code = remote_invitations.generate_invitation_code().replace("-", "")
    wrong = data.draw(st.sampled_from(sorted(CROCKFORD - {code[position]})))
    typo = code[:position] + wrong + code[position + 1 :]
    try:
        remote_invitations.normalize_invitation_code(typo)
    except remote_invitations.MalformedInvitationCodeError as e:
        error: remote_invitations.InvitationError = e
    else:  # about 1 in 32 typos share the check symbol; such a code is then simply wrong
        _, record = _issue()
        with pytest.raises(remote_invitations.WrongInvitationCodeError) as caught:
            remote_invitations.check_invitation(
                record, typo, server_key=KEY, election_id=ELECTION_ID, now=NOW
            )
        error = caught.value
    assert error.code in {"invitation.malformed", "invitation.wrong"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ABCD",
        "U" * 24,
        "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2",
        "ABCD-EFGH-JKMN-PQRS-TVWX-YZ0*",
        "候选人",
    ],
)
def test_rm_3_1_non_codes_are_malformed(text: str) -> None:
    with pytest.raises(remote_invitations.MalformedInvitationCodeError):
        remote_invitations.normalize_invitation_code(text)


def test_rm_3_2_stored_record_holds_a_keyed_hash_not_the_code() -> None:
    code, record = _issue()
    assert record.code_hash == remote_invitations.hash_invitation_code(KEY, ELECTION_ID, code)
    assert len(record.code_hash) == 32
    assert code not in repr(record) and code.replace("-", "") not in repr(record)
    assert record.code_hash.hex() not in repr(record)
    assert (
        remote_invitations.hash_invitation_code(KEY, ELECTION_ID, code.lower()) == record.code_hash
    )
    assert remote_invitations.hash_invitation_code(bytes(32), ELECTION_ID, code) != record.code_hash
    assert remote_invitations.hash_invitation_code(KEY, OTHER_ELECTION_ID, code) != record.code_hash
    with pytest.raises(ValueError, match="32"):
        remote_invitations.hash_invitation_code(KEY[:16], ELECTION_ID, code)
    assert (
        len(remote_invitations.generate_invitation_key()) == remote_invitations.INVITATION_KEY_SIZE
    )


def test_rm_3_3_right_code_passes() -> None:
    code, record = _issue()
    remote_invitations.check_invitation(
        record, code, server_key=KEY, election_id=ELECTION_ID, now=NOW
    )


def test_rm_3_3_wrong_code_is_refused() -> None:
    _, record = _issue()
    other = remote_invitations.generate_invitation_code()
    with pytest.raises(remote_invitations.WrongInvitationCodeError) as e:
        remote_invitations.check_invitation(
            record, other, server_key=KEY, election_id=ELECTION_ID, now=NOW
        )
    assert e.value.code == "invitation.wrong"
    assert e.value.zh and e.value.en


def test_rm_3_3_code_of_another_election_is_wrong() -> None:
    code, record = _issue()
    with pytest.raises(remote_invitations.WrongInvitationCodeError):
        remote_invitations.check_invitation(
            record, code, server_key=KEY, election_id=OTHER_ELECTION_ID, now=NOW
        )


def test_rm_3_3_hash_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # remote_invitations calls hmac.compare_digest
    code, record = _issue()
    remote_invitations.check_invitation(
        record, code, server_key=KEY, election_id=ELECTION_ID, now=NOW
    )
    assert calls == [(record.code_hash, record.code_hash)]
    calls.clear()
    with pytest.raises(remote_invitations.WrongInvitationCodeError):
        remote_invitations.check_invitation(
            record,
            remote_invitations.generate_invitation_code(),
            server_key=KEY,
            election_id=ELECTION_ID,
            now=NOW,
        )
    assert len(calls) == 1 and calls[0][1] == record.code_hash


def test_rm_3_3_expired_code_is_refused_at_and_after_expiry() -> None:
    code, record = _issue()
    assert record.expires_at == NOW + timedelta(days=1)  # remote voting closes before 72 h
    for now in (record.expires_at, record.expires_at + timedelta(seconds=1)):
        with pytest.raises(remote_invitations.ExpiredInvitationError) as e:
            remote_invitations.check_invitation(
                record, code, server_key=KEY, election_id=ELECTION_ID, now=now
            )
        assert e.value.code == "invitation.expired"
    just_before = record.expires_at - timedelta(seconds=1)
    remote_invitations.check_invitation(
        record, code, server_key=KEY, election_id=ELECTION_ID, now=just_before
    )


def test_rm_3_4_lifetime_is_the_default_when_voting_closes_later() -> None:
    _, record = remote_invitations.issue_invitation(
        KEY, ELECTION_ID, "m01", now=NOW, closes_at=NOW + timedelta(days=30)
    )
    assert (
        record.expires_at - record.issued_at
        == remote_invitations.INVITATION_LIFETIME
        == timedelta(hours=72)
    )
    with pytest.raises(ValueError, match="closed"):
        remote_invitations.issue_invitation(KEY, ELECTION_ID, "m01", now=NOW, closes_at=NOW)
    with pytest.raises(ValueError, match="timezone"):
        remote_invitations.issue_invitation(
            KEY, ELECTION_ID, "m01", now=NOW.replace(tzinfo=None), closes_at=CLOSES
        )


def test_rm_3_3_redeemed_code_is_refused_but_only_for_the_right_code() -> None:
    code, record = _issue()
    used = remote_invitations.Invitation(
        member=record.member,
        code_hash=record.code_hash,
        issued_at=record.issued_at,
        expires_at=record.expires_at,
        redeemed_at=NOW,
    )
    with pytest.raises(remote_invitations.UsedInvitationError) as e:
        remote_invitations.check_invitation(
            used, code, server_key=KEY, election_id=ELECTION_ID, now=NOW
        )
    assert e.value.code == "invitation.used"
    with pytest.raises(remote_invitations.WrongInvitationCodeError):
        remote_invitations.check_invitation(
            used,
            remote_invitations.generate_invitation_code(),
            server_key=KEY,
            election_id=ELECTION_ID,
            now=NOW,
        )


def test_rm_3_5_fifth_failure_in_the_window_locks_the_source() -> None:
    limit = remote_invitations.RateLimit()
    assert (limit.max_failures, limit.window) == (5, timedelta(minutes=15))
    now = datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    failures = [now - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    limit.check(failures, now)
    failures.append(now - timedelta(minutes=10))
    with pytest.raises(remote_invitations.RateLimitedError) as e:
        limit.check(failures, now)
    assert e.value.code == "invitation.rate_limited"
    assert "01:05" in e.value.en  # the oldest counted failure (00:50) leaves the window
    limit.check(failures, now + timedelta(minutes=5, seconds=1))
    limit.check([now - timedelta(minutes=16)] * 10, now)
    with pytest.raises(ValueError):
        remote_invitations.RateLimit(max_failures=0)
