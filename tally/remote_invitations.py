"""Invitations to vote remotely (spec/remote.md §3): one-time codes, their keyed hash for
storage, the constant-time check, expiry, the check code printed with them (RM-10.3), and the
limit on failed attempts. Application policy over ``keys``' primitives, so it lives in ``tally``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from keys.remote_tokens import ELECTION_ID_SIZE
from tally.core.errors import TallyError

__all__ = [
    "CHECK_SYMBOL_DOMAIN",
    "INVITATION_CODE_GROUPS",
    "INVITATION_CODE_SYMBOLS",
    "INVITATION_DOMAIN",
    "INVITATION_KEY_SIZE",
    "INVITATION_LIFETIME",
    "INVITATION_RANDOM_BITS",
    "PIN_DOMAIN",
    "ExpiredInvitationError",
    "Invitation",
    "InvitationError",
    "MalformedInvitationCodeError",
    "RateLimit",
    "RateLimitedError",
    "UsedInvitationError",
    "WrongInvitationCodeError",
    "check_invitation",
    "generate_invitation_code",
    "generate_invitation_key",
    "hash_invitation_code",
    "invitation_pin",
    "issue_invitation",
    "normalize_invitation_code",
]

INVITATION_DOMAIN: Final = b"branch-election/invitation/1"
CHECK_SYMBOL_DOMAIN: Final = b"branch-election/invitation-check/1"
INVITATION_KEY_SIZE: Final = 32
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES: Final = {"O": "0", "I": "1", "L": "1"}
_RANDOM_SYMBOLS: Final = 23
INVITATION_RANDOM_BITS: Final = 5 * _RANDOM_SYMBOLS  # 115
INVITATION_CODE_SYMBOLS: Final = _RANDOM_SYMBOLS + 1  # plus the check symbol
INVITATION_CODE_GROUPS: Final = 6  # of 4 symbols: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX
INVITATION_LIFETIME: Final = timedelta(hours=72)
_SEPARATORS: Final = re.compile(r"[\s\-]+")


class InvitationError(TallyError):
    """Base of the refusals of an invitation (spec/remote.md §3, §11)."""

    code = "invitation.error"


class MalformedInvitationCodeError(InvitationError):
    """The text is not an invitation code: wrong length, a foreign character, a typo (§3.1)."""

    code = "invitation.malformed"


class WrongInvitationCodeError(InvitationError):
    """The code does not match the invitation (§3.3)."""

    code = "invitation.wrong"


class UsedInvitationError(InvitationError):
    """The invitation was already redeemed for a credential (§3.3)."""

    code = "invitation.used"


class ExpiredInvitationError(InvitationError):
    """The invitation expired (§3.3)."""

    code = "invitation.expired"


class RateLimitedError(InvitationError):
    """Too many failed attempts from this source in the window (§3.4)."""

    code = "invitation.rate_limited"


def generate_invitation_key() -> bytes:
    """A fresh 32-byte HMAC key for invitation hashes (§3.2); kept outside the database."""
    return secrets.token_bytes(INVITATION_KEY_SIZE)


def _check_symbol(symbols: str) -> str:
    digest = hashlib.sha256(CHECK_SYMBOL_DOMAIN + b"\x00" + symbols.encode("ascii")).digest()
    return _CROCKFORD[digest[0] >> 3]


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def generate_invitation_code() -> str:
    """A fresh code: 23 random Crockford symbols (115 bits) and a check symbol, grouped (§3.1)."""
    symbols = "".join(secrets.choice(_CROCKFORD) for _ in range(_RANDOM_SYMBOLS))
    return _group(symbols + _check_symbol(symbols))


PIN_DOMAIN: Final = b"branch-election/invitation-pin/2"


def invitation_pin(summary_hash: bytes, opened_leaf_hash: bytes) -> str:
    """The invitation's check code (RM-10.3): 16 hex digits in groups of 4 that bind the hash of
    the town-signed public summary (which holds the election id, the town key and the work-group
    key; spec/manifest.md §6) and the leaf hash of the ``remote.opened`` entry, so the page can
    tell that what it is served is what every member was invited with."""
    if len(summary_hash) != 32 or len(opened_leaf_hash) != 32:
        raise ValueError("summary hash and leaf hash are 32 bytes each")
    digest = hashlib.sha256(PIN_DOMAIN + b"\x00" + summary_hash + opened_leaf_hash).hexdigest()
    return "-".join(digest[i : i + 4].upper() for i in range(0, 16, 4))


def normalize_invitation_code(text: str) -> str:
    """The canonical grouped spelling of a typed code (§3.1).

    Case is ignored, spaces and hyphens anywhere are dropped, O reads as 0 and I, L as 1.

    Raises:
        MalformedInvitationCodeError: a character outside Crockford base32, the wrong number of
            symbols, or a check symbol that does not match (a typo).
    """
    compact = _SEPARATORS.sub("", text).upper()
    compact = "".join(_CROCKFORD_ALIASES.get(c, c) for c in compact)
    if len(compact) != INVITATION_CODE_SYMBOLS or any(c not in _CROCKFORD for c in compact):
        raise MalformedInvitationCodeError(
            zh=f"邀请码格式不对：应为 {INVITATION_CODE_SYMBOLS} 个字母或数字。",
            en=f"not an invitation code: it has {INVITATION_CODE_SYMBOLS} letters and digits",
        )
    if compact[-1] != _check_symbol(compact[:-1]):
        raise MalformedInvitationCodeError(
            zh="邀请码有输入错误，请核对后重新输入。",
            en="the invitation code has a typo; check it and type it again",
        )
    return _group(compact)


def hash_invitation_code(server_key: bytes, election_id: bytes, code: str) -> bytes:
    """The stored form: HMAC-SHA-256(server_key, INVITATION_DOMAIN || 0x00 || id || code) (§3.2).

    Raises:
        MalformedInvitationCodeError: see `normalize_invitation_code`.
        ValueError: a server key shorter than 32 bytes, or a bad election id.
    """
    if len(server_key) < INVITATION_KEY_SIZE:
        raise ValueError(f"the invitation key must have at least {INVITATION_KEY_SIZE} bytes")
    if len(election_id) != ELECTION_ID_SIZE:
        raise ValueError(f"an election id is {ELECTION_ID_SIZE} bytes")
    canonical = normalize_invitation_code(code).replace("-", "")
    message = INVITATION_DOMAIN + b"\x00" + election_id + canonical.encode("ascii")
    return hmac.new(server_key, message, hashlib.sha256).digest()


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the service stores for one invitation: never the code itself (§3.2)."""

    member: str
    code_hash: bytes = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.issued_at, "issued_at")
        _aware(self.expires_at, "expires_at")
        if self.expires_at <= self.issued_at:
            raise ValueError("an invitation must expire after it is issued")


def issue_invitation(
    server_key: bytes,
    election_id: bytes,
    member: str,
    *,
    now: datetime,
    closes_at: datetime,
    lifetime: timedelta = INVITATION_LIFETIME,
) -> tuple[str, Invitation]:
    """A new code for `member` and the record to store (§3.2); show the code once, then drop it.

    The invitation expires after `lifetime` or when remote voting closes, whichever is first.

    Raises:
        ValueError: naive datetimes, or remote voting already closed.
    """
    expires_at = min(_aware(now, "now") + lifetime, _aware(closes_at, "closes_at"))
    if expires_at <= now:
        raise ValueError("remote voting is already closed")
    code = generate_invitation_code()
    record = Invitation(
        member=member,
        code_hash=hash_invitation_code(server_key, election_id, code),
        issued_at=now,
        expires_at=expires_at,
    )
    return code, record


def check_invitation(
    invitation: Invitation, code: str, *, server_key: bytes, election_id: bytes, now: datetime
) -> None:
    """Check a typed code against a stored invitation, in the order of §3.3.

    Raises:
        MalformedInvitationCodeError: not a code, or a typo (check symbol).
        WrongInvitationCodeError: another code (compared in constant time).
        UsedInvitationError: the invitation was already redeemed.
        ExpiredInvitationError: `now` is at or after `expires_at`.
    """
    candidate = hash_invitation_code(server_key, election_id, code)
    if not hmac.compare_digest(candidate, invitation.code_hash):
        raise WrongInvitationCodeError(zh="邀请码不正确。", en="wrong invitation code")
    if invitation.redeemed_at is not None:
        raise UsedInvitationError(
            zh="此邀请码已经使用过，不能再次领取投票凭证。",
            en="this invitation code was already used for a credential",
        )
    if _aware(now, "now") >= invitation.expires_at:
        raise ExpiredInvitationError(
            zh="邀请码已过期，请联系选举工作组。",
            en="the invitation code has expired; contact the election work group",
        )


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `max_failures` failed attempts per source within `window` (§3.4)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0):
            raise ValueError("a rate limit needs max_failures >= 1 and a positive window")

    def check(self, failures: Sequence[datetime], now: datetime) -> None:
        """Refuse a new attempt when the source already failed `max_failures` times in the window.

        Raises:
            RateLimitedError: too many recent failures; `retry_after` tells when to try again.
        """
        start = _aware(now, "now") - self.window
        recent = sorted(t for t in failures if t > start)
        if len(recent) >= self.max_failures:
            retry_after = recent[-self.max_failures] + self.window
            raise RateLimitedError(
                zh=f"尝试次数过多，请于 {retry_after:%H:%M} 之后再试。",
                en=f"too many attempts; try again after {retry_after:%H:%M}",
            )
