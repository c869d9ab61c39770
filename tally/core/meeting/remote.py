"""Appliers of the remote-voting entries (spec/remote.md RM-8.1, spec/remote-v2.md §5), and what
the count takes from them (RM-9.1, RV-7.1)."""

from __future__ import annotations

from dataclasses import replace

from tally.core.errors import RoundStateError
from tally.core.model import zh_label
from tally.core.remote import (
    RemoteTotals,
    assembly_posts,
    check_cast_ballot,
    check_partial_decryption,
    check_totals,
    too_many_choices,
    write_in_lists_body,
)
from tally.core.rounds import ElectingBody, RoundPurpose, RoundSpec

from .bodies import (
    RemoteCastV2,
    RemoteClosed,
    RemoteCredentialIssued,
    RemoteNotCounted,
    RemoteOpenedV2,
    RemotePartialDecryption,
    RemoteTotalsBody,
)
from .common import bad
from .entries import Entry
from .state import Meeting, RemoteState, Step, require_round

# -- opening ------------------------------------------------------------------------------------


def remote_opened(m: Meeting, v: RemoteOpenedV2, step: Step) -> Meeting:  # noqa: ARG001
    if m.remote is not None:
        raise bad("remote.twice", "远程投票已开启", "remote voting is already open")
    if not m.election.remote_voting.approved:
        raise bad(
            "remote.not_authorised", "选举清单未批准远程投票", "no remote voting approved", "R24"
        )
    if m.current is not None or m.rounds.outcomes:
        raise bad("remote.too_late", "会议轮次已开始，不能再开启远程投票", "rounds have begun")
    return replace(m, remote=_open(m, v))


def _open(m: Meeting, v: RemoteOpenedV2) -> RemoteState:
    """(spec/remote-v2.md §5) ``remote.opened``: the key and shares are parsed; here, the choices
    per post (RV-2.2) and the write-in lists computed from the manifest (RV-2.1)."""
    big = too_many_choices(m.election)
    if big is not None:
        raise bad(
            "remote.too_many_choices",
            f"{zh_label(big)}的候选人与可另选人合计超过 256 个选项",
            f"{big.value} has more than 256 choices (listed candidates and write-in list)",
            "RV-2.2",
        )
    if v.write_in_lists != write_in_lists_body(m.election):
        raise bad(
            "remote.write_in_lists",
            "另选人名单与选举清单计算结果不符",
            "write_in_lists differ from the lists computed from the manifest",
            "RV-2.1",
        )
    return RemoteState(k=v.k, n=v.n)


def _remote_state(m: Meeting) -> RemoteState:
    """Remote voting is open."""
    r = m.remote
    if r is None:
        raise bad("remote.not_open", "远程投票尚未开启", "remote voting is not open")
    return r


# -- credentials and casts ----------------------------------------------------------------------


def _closed() -> RoundStateError:
    return bad("remote.closed", "远程投票已截止", "remote voting is closed")


def credential_issued(m: Meeting, v: RemoteCredentialIssued, step: Step) -> Meeting:  # noqa: ARG001
    r = _remote_state(m)
    member = v.member
    if r.closed:
        raise _closed()
    if member not in m.election.remote_voting.approved:
        raise bad("remote.not_approved", f"{member} 未经镇党委批准远程投票", "not approved", "R24")
    if member in r.credentials:
        raise bad("remote.credential_twice", "该党员已领取投票凭证", "credential already issued")
    if member in m.present:
        raise bad("remote.checked_in", "该党员已签到，应现场投票", "member is checked in", "R24")
    return replace(m, remote=replace(r, credentials=r.credentials.add(member)))


def _not_batched(why: str) -> RoundStateError:
    return bad(
        "remote.casts_not_batched",
        "远程选票须在截止时按回执升序、以截止时间一并记录",
        f"casts are appended at the close in ascending receipt order: {why}",
        "RV-4.3",
    )


def _batched_cast(r: RemoteState, e: Entry, receipt: str) -> RemoteState:
    """(RV-4.3, V18.20) A cast follows the previous cast directly, with a greater
    receipt and the same time (that of ``remote.closed``, checked at the close)."""
    if r.casts:
        seq, _token = r.casts[-1]
        if seq != e.seq - 1:
            raise _not_batched("another entry between two casts")
        if receipt <= r.receipts[-1]:
            raise _not_batched("receipts not strictly ascending")
        if e.at != r.cast_at:
            raise _not_batched("casts with different times")
    return replace(r, receipts=r.receipts.append(receipt), cast_at=e.at)


def remote_cast(m: Meeting, v: RemoteCastV2, step: Step) -> Meeting:
    e = step.entry
    r = _remote_state(m)
    if r.closed:
        raise _closed()
    receipt = check_cast_ballot(m.election_id, m.election, v.ballot, v.token)
    if v.token in r.tokens:
        raise bad("remote.token_used", "该投票凭证已经使用过", "this token was already used")
    if len(r.casts) >= len(r.credentials):
        raise bad("remote.too_many", "远程选票多于已发凭证", "more casts than credentials")
    r = _batched_cast(r, e, receipt)
    return replace(
        m, remote=replace(r, tokens=r.tokens.add(v.token), casts=r.casts.append((e.seq, v.token)))
    )


def remote_closed(m: Meeting, v: RemoteClosed, step: Step) -> Meeting:
    e = step.entry
    r = _remote_state(m)
    if r.closed:
        raise bad("remote.closed", "远程投票已截止", "remote voting is already closed")
    if m.current is not None or m.rounds.outcomes:
        raise bad("remote.too_late", "须在第一轮开始前截止远程投票", "close before the first round")
    if (v.credentials, v.casts) != (len(r.credentials), len(r.casts)):
        raise bad("remote.closed_counts", "截止记录的数目不符", "counts differ")
    if r.casts and (r.casts[-1][0] != e.seq - 1 or r.cast_at != e.at):
        raise _not_batched("the casts must come right before remote.closed, at its time")
    return replace(m, remote=replace(r, closed=True))


# -- partial decryptions and totals --------------------------------------------------


def partial_decryption(m: Meeting, v: RemotePartialDecryption, step: Step) -> Meeting:  # noqa: ARG001
    r = _remote_state(m)
    if not r.closed:
        raise bad(
            "remote.partial_early",
            "远程投票截止后才能部分解密",
            "partial decryption only after remote.closed",
            "RV-5.3",
        )
    index = check_partial_decryption(m.election, v.fields, r.n)
    if index in r.partials:
        raise bad(
            "remote.partial_twice",
            f"第 {index} 号监票人已提交部分解密",
            f"scrutineer {index} already decrypted",
            "RV-5.3",
        )
    return replace(m, remote=replace(r, partials=r.partials.add(index)))


def remote_totals(m: Meeting, v: RemoteTotalsBody, step: Step) -> Meeting:  # noqa: ARG001
    r = _remote_state(m)
    if r.totals is not None:
        raise bad("remote.totals_twice", "远程计票总数已记录", "remote.totals is already logged")
    if len(r.partials) < r.k:
        raise bad(
            "remote.totals_early",
            f"须有 {r.k} 名监票人部分解密后才能合成总数（现有 {len(r.partials)} 名）",
            f"{r.k} partial decryptions are needed before the totals, {len(r.partials)} logged",
            "RV-5.3",
        )
    return replace(m, remote=replace(r, totals=check_totals(m.election, v.fields, len(r.casts))))


def not_counted(m: Meeting, v: RemoteNotCounted, step: Step) -> Meeting:  # noqa: ARG001
    r = _remote_state(m)
    cur = require_round(m, v.post, v.round)
    if cur.spec.post in r.not_counted or not (
        remote_counts_here(m, cur.spec) and remote_list_changed(m, cur.spec)
    ):
        raise bad("remote.not_counted_bad", "不应记录远程选票不计入", "not_counted does not apply")
    return replace(m, remote=replace(r, not_counted=r.not_counted.add(cur.spec.post)))


# -- what the count takes -----------------------------------------------------------------------


def remote_list_changed(m: Meeting, spec: RoundSpec) -> bool:
    """(RM-9.1) The post's first round does not use the manifest's candidate list."""
    post = m.election.post(spec.post)
    return post is None or tuple(post.candidates) != spec.candidates


def remote_counts_here(m: Meeting, spec: RoundSpec) -> bool:
    r = m.remote
    return (
        r is not None
        and bool(r.casts)
        and spec.purpose is RoundPurpose.FIRST
        and spec.body is ElectingBody.ASSEMBLY
        and spec.post in assembly_posts(m.election)
        and spec.post not in r.not_counted
        and spec.post not in r.counted
    )


def _list_changed_first() -> RoundStateError:
    return bad(
        "remote.not_counted_missing",
        "候选人名单已调整，须先记录远程选票在本轮不计入",
        "the list changed: record remote.not_counted first",
    )


def remote_totals_for(m: Meeting, spec: RoundSpec) -> RemoteTotals | None:
    """(RV-7.1, RM-9.1) The post's remote totals where remote ballots count in
    ``spec``, else None.

    Raises:
        RoundStateError: remote ballots should count here but ``remote.totals`` is not logged yet
            (``count.remote_pending``), or the list changed and ``remote.not_counted`` was not
            recorded.
    """
    r = m.remote
    if r is None or not remote_counts_here(m, spec):
        return None
    if remote_list_changed(m, spec):
        raise _list_changed_first()
    totals = r.totals_of(spec.post)
    if totals is None:
        raise bad(
            "count.remote_pending",
            "远程选票总数尚未解密，须先由监票人部分解密并合成总数",
            "the remote totals are not decrypted yet: the scrutineers must decrypt them first",
            "RV-5.3",
        )
    return totals
