"""Remote ballots in the log (spec/remote.md §13, spec/remote-v2.md §8; spec/bundle.md V18).

Remote ballots are version 2's (an ``election_key`` in ``remote.opened``): no remote ballot is
ever decrypted (RV-1.1). The clauses of spec/remote.md §13 that remain (V18.1-V18.6,
V18.9-V18.11) are here; what is version 2's own (its key and write-in lists, V18.20-V18.23) is
``remote_v2.RemoteV2``, called from these handlers. A ``remote.opened`` of version 1 (a
``ballot_key``) fails V18.1 (``remote.unsupported_version``); version 1's key reveal and
per-ballot decryption entries are unknown types (V6).

``RemoteChecks`` owns what the replay knows of remote voting (``RemoteState``) and has one method
per remote entry type, each starting with its clause, plus the points where remote voting
meets the rounds: a round's opening (V18.6, V18.9), its quorum (V18.11), its count (V18.9,
V18.23) and the end of the log. V18.10 is reported under V10 and V18.11 under V11, each finding with
its finer rule; V18.12 (``result.json``) is checked after the replay from ``RemoteState``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from verifier.checks.replay.remote_v2 import RemoteV2
from verifier.checks.replay.state import Cast, Open, RemoteState
from verifier.crypto import b64decode_canonical
from verifier.model import LogEntry
from verifier.parse.entries import parse_remote_cast, parse_shares
from verifier.remote import load_issuer_key, verify_token

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["HANDLERS", "RemoteChecks"]


class RemoteChecks:
    """V18 over the replay: one method per remote entry type (spec/remote.md RM-8.1)."""

    def __init__(self, r: Replay) -> None:
        self.r = r
        self.s: RemoteState = r.rm
        self.v2 = RemoteV2(self)

    def fail(
        self, rule: str, code: str, zh: str, en: str, e: LogEntry | None = None, **kw: Any
    ) -> None:
        """A V18 finding with its clause of spec/remote.md §13."""
        self.r.fail("V18", code, zh, en, e, rule=rule, **kw)

    def in_quorum(self) -> int:
        """(V18.11) RM-9.3: remote casts counted into an assembly round's present."""
        s = self.s
        return len(s.casts) if s.opened_seq is not None and self.r.d.counts_toward_quorum else 0

    # -------------------------------------------------------------- entries

    def not_opened(self, e: LogEntry) -> None:
        """(V18.1) ``remote.opened`` comes before every other remote entry."""
        self.fail(
            "V18.1",
            "remote.not_opened",
            "remote.opened 之前出现了远程投票条目",
            f"{e.type} without an earlier remote.opened",
            e,
        )

    def opened(self, e: LogEntry) -> None:
        """(V18.1) ``remote.opened``: approved remote voters, once, before every other remote
        entry and every round; the issuer key (RM-4.1), version 2's election key and write-in
        lists (spec/remote-v2.md §8) and the shares of the manifest's scrutineers."""
        s, b, m = self.s, e.body, self.r.m
        if not self.r.d.remote_approved:
            self.fail(
                "V18.1",
                "remote.not_approved",
                "清单未批准任何远程投票人员，却开启了远程投票",
                "remote.opened although the manifest approves no remote voter",
                e,
            )
        if s.opened_seq is not None:
            self.fail(
                "V18.1",
                "remote.opened_twice",
                "remote.opened 出现了不止一次",
                "a second remote.opened",
                e,
                expected=f"only seq {s.opened_seq}",
            )
            return
        if s.credential_entries or s.casts or s.round_opened:
            self.fail(
                "V18.1",
                "remote.opened_late",
                "remote.opened 须在其他远程条目和第一轮之前",
                "remote.opened must precede every other remote entry and every round.opened",
                e,
            )
        s.opened_seq = e.seq
        s.opened_leaf = e.leaf_hash
        s.status = {p.post: "pending" for p in s.posts}
        self.r.moment("remote-opened", e)  # (V7)
        der = b64decode_canonical(b["issuer_key"])
        issuer = load_issuer_key(der) if der is not None else "not canonical base64"
        if isinstance(issuer, str):
            self.fail(
                "V18.1",
                "remote.issuer_key",
                "签发公钥无效",
                f"issuer_key invalid: {issuer} (RM-4.1)",
                e,
                path="body.issuer_key",
            )
        else:
            s.issuer = issuer
        want_n = len(m.scrutineers)
        if "election_key" in b:  # (spec/remote-v2.md §8) version 2
            self.v2.opened(e)
        else:
            self.fail(
                "V18.1",
                "remote.unsupported_version",
                "不支持第一版远程投票（remote.opened 含 ballot_key 而无 election_key）",
                "remote ballots version 1 (remote.opened with ballot_key, no election_key) are "
                "not supported: no remote ballot may be decrypted (spec/remote-v2.md RV-1.1)",
                e,
                path="body",
            )
        shares = parse_shares(b["shares"])
        want = [base64.b64encode(x.key).decode("ascii") for x in m.scrutineers]
        ok = (
            shares is not None
            and len(shares) == want_n
            and all(x.index == i + 1 and x.scrutineer == want[i] for i, x in enumerate(shares))
        )
        if not ok:
            self.fail(
                "V18.1",
                "remote.shares",
                "密钥份额列表与清单中的监票人公钥不符",
                "shares must list indices 1..n with the manifest's scrutineer keys in order",
                e,
                path="body.shares",
            )

    def credential_issued(self, e: LogEntry) -> None:
        """(V18.2) ``remote.credential_issued``: for a member of ``approved``, at most once,
        before ``remote.closed``; (V18.10) never for a member who checked in."""
        s, member = self.s, e.body["member"]
        s.credential_entries += 1
        if member not in self.r.d.remote_approved:
            self.fail(
                "V18.2",
                "remote.credential_not_approved",
                "凭证发给了未获批准远程投票的人",
                "credential for a member not approved for remote voting",
                e,
                found=member,
            )
        if member in s.credentials:
            self.fail(
                "V18.2",
                "remote.credential_twice",
                "同一党员领取了两份凭证",
                "a second credential for the same member (RM-4.4)",
                e,
                found=member,
                expected=f"only seq {s.credentials[member]}",
            )
        if s.closed_seq is not None:
            self.fail(
                "V18.2",
                "remote.credential_after_close",
                "远程投票关闭后仍发放凭证",
                "credential issued after remote.closed",
                e,
            )
        if member in self.r.ever_checked_in:
            self.r.fail(
                "V10",
                "attendance.remote_credential",
                "已签到的党员又领取了远程投票凭证（R24.3）",
                "a member who checked in received a remote credential (R24.3)",
                e,
                found=member,
                rule="V18.10",
            )
        s.credentials.setdefault(member, e.seq)

    def cast(self, e: LogEntry) -> None:
        """(V18.3) ``remote.cast``: by the actor ``remote``, a token signed under the issuer key
        (RM-4.5); (V18.4) used once; (V18.5) no more casts than credentials so far; (V18.6)
        before ``remote.closed``."""
        s, b = self.s, e.body
        if e.actor != "remote":
            self.fail(
                "V18.3",
                "remote.cast_actor",
                "remote.cast 的 actor 应为 remote",
                'the actor of remote.cast must be "remote" (RM-8.2)',
                e,
                expected="remote",
                found=e.actor,
            )
        if s.closed_seq is not None:
            self.fail(
                "V18.6",
                "remote.cast_after_close",
                "远程投票关闭后仍有投票",
                "remote.cast after remote.closed",
                e,
                expected=f"before seq {s.closed_seq}",
            )
        parsed = parse_remote_cast(b)
        token, prefix, sig = parsed.token, parsed.token_prefix, parsed.token_signature
        if token is None or prefix is None or sig is None:
            self.fail(
                "V18.3",
                "remote.token_invalid",
                "投票凭证格式无效",
                "token and token_prefix must be base64 of 32 bytes, token_signature base64",
                e,
            )
        elif s.issuer is not None and not verify_token(
            s.issuer, self.r.m.election_id, token, prefix, sig
        ):
            self.fail(
                "V18.3",
                "remote.token_invalid",
                "投票凭证的签名无效",
                "the token signature does not verify under issuer_key (RM-4.5)",
                e,
            )
        if token is not None:  # (V18.4)
            if token in s.tokens:
                self.fail(
                    "V18.4",
                    "remote.token_used",
                    "同一凭证投了两次",
                    "the token was already used",
                    e,
                    expected="a fresh token",
                    found=f"also at seq {s.tokens[token]}",
                )
            else:
                s.tokens[token] = e.seq
        if len(s.casts) + 1 > s.credential_entries:  # (V18.5)
            self.fail(
                "V18.5",
                "remote.casts_exceed_credentials",
                "远程投票数超过已发放的凭证数",
                "more remote casts than credentials issued so far",
                e,
                expected=f"<= {s.credential_entries}",
                found=str(len(s.casts) + 1),
            )
        cast = Cast(e.seq, token)
        s.casts.append(cast)
        if s.version == 2:
            self.v2.cast(e, cast)

    def closed(self, e: LogEntry) -> None:
        """(V18.6) ``remote.closed``: once, before the first round, with the log's counts of
        credentials and casts."""
        s, b = self.s, e.body
        if s.closed_seq is not None:
            self.fail(
                "V18.6",
                "remote.closed_twice",
                "remote.closed 出现了不止一次",
                "a second remote.closed",
                e,
            )
            return
        s.closed_seq = e.seq
        self.r.moment("remote-closed", e)  # (V7)
        if s.round_opened:
            self.fail(
                "V18.6",
                "remote.closed_late",
                "远程投票须在第一轮开始前关闭",
                "remote.closed must come before the first round.opened",
                e,
            )
        for k, have in (("credentials", s.credential_entries), ("casts", len(s.casts))):
            if b[k] != have:
                self.fail(
                    "V18.6",
                    f"remote.closed_{k}",
                    f"remote.closed 的 {k} 与日志不符",
                    f"remote.closed {k} differs from the log",
                    e,
                    expected=str(have),
                    found=str(b[k]),
                )
        if s.version == 2:
            self.v2.closed(e)  # (V18.20)

    def partial_decryption(self, e: LogEntry) -> None:
        """(V18.22) ``remote.partial_decryption`` (not checked under a version V18.1 refused)."""
        if self.s.version == 2:
            self.v2.partial(e)

    def totals(self, e: LogEntry) -> None:
        """(V18.23) ``remote.totals`` (not checked under a version V18.1 refused)."""
        if self.s.version == 2:
            self.v2.totals(e)

    def not_counted(self, e: LogEntry) -> None:
        """(V18.9) ``remote.not_counted`` exactly when RM-9.1 calls for it: right after the
        opening of a first round whose list differs from the manifest's."""
        s, b = self.s, e.body
        want = s.expect_not_counted
        s.expect_not_counted = None
        if (
            want is None
            or (b["post"], b["round"]) != want[:2]
            or b["reason"] != "remote.list_changed"
        ):
            self.fail(
                "V18.9",
                "remote.not_counted_unexpected",
                "remote.not_counted 与 RM-9.1 不符",
                "remote.not_counted where RM-9.1 does not call for it",
                e,
                expected=f"{want[0]} {want[1]} remote.list_changed" if want else "none",
                found=f"{b['post']} {b['round']} {b['reason']}",
            )

    def not_counted_missing(self, e: LogEntry) -> None:
        """(V18.9) RM-9.1: the entry after such an opening is its ``remote.not_counted``."""
        s, t = self.s, e.type
        assert s.expect_not_counted is not None
        post, rnd, seq, required = s.expect_not_counted
        s.expect_not_counted = None
        if required:
            self.fail(
                "V18.9",
                "remote.not_counted_missing",
                "候选人名单与清单不同的首轮开始后，缺少 remote.not_counted",
                "remote.not_counted must follow the opening of a first round whose list "
                "differs from the manifest's (RM-9.1)",
                None,
                file="log.jsonl",
                seq=seq,
                expected=f"remote.not_counted {post} {rnd}",
                found=t,
            )

    # -------------------------------------------------------------- rounds

    def round_opened(self, e: LogEntry, o: Open) -> None:
        """(V18.6) The first round opens after ``remote.closed``; (V18.9) RM-9.1: the remote
        ballots count in a post's first round when its list is the manifest's."""
        s = self.s
        if s.opened_seq is not None and s.closed_seq is None and not s.round_opened:
            self.fail(
                "V18.6",
                "remote.not_closed",
                "第一轮开始时远程投票尚未关闭",
                "the first round.opened comes before remote.closed",
                e,
            )
        s.round_opened = True
        if s.status.get(o.post) != "pending" or o.purpose != "first" or o.body != "assembly":
            return
        manifest = next(p.candidates for p in s.posts if p.post == o.post)
        if o.candidates == manifest:
            o.remote = True
        else:
            s.status[o.post] = "not_counted"
            # Without casts there is nothing left out: the producer may omit the entry.
            s.expect_not_counted = (o.post, o.number, e.seq, bool(s.casts))

    def round_counted(self, e: LogEntry, o: Open) -> None:
        """(V18.23) The totals are logged before the count that includes the remote ballots;
        (V18.9) ``remote_ballots`` is their number there, 0 elsewhere, and absent without remote
        voting (V6)."""
        s, b = self.s, e.body
        if s.opened_seq is None:
            if "remote_ballots" in b:
                self.r.fail(
                    "V6",
                    "field.unknown",
                    "没有远程投票的选举，round.counted 不应含 remote_ballots",
                    "round.counted has remote_ballots in an election without remote voting",
                    e,
                    path="body.remote_ballots",
                )
            return
        want = len(s.casts) if o.remote else 0
        if o.remote:
            s.status[o.post] = "counted"
            if not s.counted_round:
                s.counted_round = True
                if s.version == 2:
                    self.v2.round_counted(e)  # (V18.23)
        if "remote_ballots" not in b:
            self.fail(
                "V18.9",
                "remote.round_member_missing",
                "有远程投票的选举，round.counted 须含 remote_ballots",
                "round.counted lacks remote_ballots in an election with remote voting",
                e,
                expected=str(want),
                found="absent",
            )
        elif b["remote_ballots"] != want:
            self.fail(
                "V18.9",
                "remote.round_count",
                "本轮计入的远程选票数不符（RM-9.1）",
                "remote ballots counted in this round differ from RM-9.1",
                e,
                expected=str(want),
                found=str(b["remote_ballots"]),
            )

    # -------------------------------------------------------------- end

    def finish(self) -> None:
        """(V18.6), (V18.9), (V18.23) At the end of the log: the ``remote.not_counted`` still
        owed, the window closed, the totals logged when there are casts."""
        s = self.s
        end = {"file": "log.jsonl"}
        if s.expect_not_counted is not None and s.expect_not_counted[3]:
            post, rnd, seq, _ = s.expect_not_counted
            self.fail(
                "V18.9",
                "remote.not_counted_missing",
                "缺少 remote.not_counted",
                "remote.not_counted missing (RM-9.1)",
                None,
                seq=seq,
                expected=f"remote.not_counted {post} {rnd}",
                **end,
            )
        if s.opened_seq is None:
            return
        if s.closed_seq is None:
            self.fail(
                "V18.6",
                "remote.never_closed",
                "远程投票从未关闭",
                "remote.opened without remote.closed",
                None,
                **end,
            )
        if s.version == 2:
            self.v2.finish()


def _once_opened(
    method: Callable[[RemoteChecks, LogEntry], None],
) -> Callable[[Replay, LogEntry], None]:
    """The replay's handler for a remote entry other than ``remote.opened``: ``method`` once
    remote voting is opened, else a V18.1 finding."""

    def handler(r: Replay, e: LogEntry) -> None:
        if r.rm.opened_seq is None:
            r.remote.not_opened(e)
        else:
            method(r.remote, e)

    handler.__doc__ = method.__doc__
    return handler


def _opened(r: Replay, e: LogEntry) -> None:
    r.remote.opened(e)


_opened.__doc__ = RemoteChecks.opened.__doc__

# (V18) The remote entry types of spec/remote.md RM-8.1 and spec/remote-v2.md §5 and their
# handlers.
HANDLERS: Final[dict[str, Callable[[Replay, LogEntry], None]]] = {
    "remote.opened": _opened,
    "remote.credential_issued": _once_opened(RemoteChecks.credential_issued),
    "remote.cast": _once_opened(RemoteChecks.cast),
    "remote.closed": _once_opened(RemoteChecks.closed),
    "remote.not_counted": _once_opened(RemoteChecks.not_counted),
    "remote.partial_decryption": _once_opened(RemoteChecks.partial_decryption),
    "remote.totals": _once_opened(RemoteChecks.totals),
}
