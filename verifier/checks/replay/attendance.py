"""Attendance (spec/bundle.md V10; spec/rules.md R2, R3, R24.3; spec/remote.md V18.10).

Only members in E check in, never twice without leaving; ``member.left`` only for a member
present; a member who received a remote credential never checks in. The set of members present
is the attendance a round's ``present`` is checked against (V11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from verifier.model import LogEntry

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["checked_in", "left"]


def checked_in(r: Replay, e: LogEntry) -> None:
    """(V10) A ``member.checked_in``: a member in E (R2, R3), not present already, without a
    remote credential (R24.3, V18.10)."""
    m = e.body["member"]
    if m not in r.electors:
        r.fail(
            "V10",
            "attendance.not_elector",
            "签到者不是应到会党员",
            "checked-in member is not in E (R2, R3)",
            e,
            found=m,
        )
    elif m in r.present:
        r.fail(
            "V10",
            "attendance.twice",
            "重复签到",
            "member checked in twice without leaving",
            e,
            found=m,
        )
    if m in r.rm.credentials:  # (V18.10)
        r.fail(
            "V10",
            "attendance.remote_credential",
            "已领取远程投票凭证的党员不得签到（R24.3）",
            "a member who received a remote credential checks in (R24.3)",
            e,
            found=m,
            expected=f"no check-in (credential at seq {r.rm.credentials[m]})",
            rule="V18.10",
        )
    r.present.add(m)
    r.ever_checked_in.add(m)


def left(r: Replay, e: LogEntry) -> None:
    """(V10) A ``member.left``: only for a member checked in."""
    m = e.body["member"]
    if m not in r.present:
        r.fail(
            "V10",
            "attendance.not_present",
            "未签到的成员离场",
            "member.left for a member not checked in",
            e,
            found=m,
        )
    r.present.discard(m)
