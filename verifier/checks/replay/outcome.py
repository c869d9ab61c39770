"""The log's first and last entries (spec/bundle.md V6, V15; spec/rules.md RS8).

``election.opened`` is entry 0 only; ``election.result`` is the last entry, made when every post
is finished, and names exactly whom the replay elected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from verifier.checks.common import short
from verifier.model import LogEntry

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["election_opened", "election_result", "missing", "not_last"]


def election_opened(r: Replay, e: LogEntry) -> None:
    """(V6) ``election.opened`` only as entry 0 (its election id: ``Replay.check_chain``)."""
    r.moment("opened", e)  # (V7)
    if e.seq != 0:
        r.fail(
            "V6",
            "entry.type",
            "election.opened 只能是第 0 条",
            "election.opened only as entry 0",
            e,
        )


def election_result(r: Replay, e: LogEntry) -> None:
    """(V15) ``election.result``: every post finished (RS8), its ``elected`` the replay's."""
    r.moment("result", e)  # (V7)
    r.result_seen = True
    r.v.result_entry = e
    if r.open is not None or r.due() is not None:
        r.fail(
            "V15",
            "result.unfinished",
            "仍有职位未选完就宣布结果",
            "election.result while a post is unfinished (RS8)",
            e,
        )
    want = {p: list(st.elected) for p, st in r.posts.items()}
    if dict(e.body["elected"]) != want:
        r.fail(
            "V15",
            "result.elected",
            "结果与重放的当选名单不符",
            "election.result elected differs from the replay",
            e,
            expected=short(want),
            found=short(e.body["elected"]),
        )
    r.v.elected = want


def not_last(r: Replay, e: LogEntry) -> None:
    """(V15) ``election.result`` is the last entry: nothing follows it."""
    r.fail(
        "V15",
        "result.not_last",
        "election.result 之后还有日志条目",
        "entries after election.result",
        e,
    )


def missing(r: Replay) -> None:
    """(V15) The log has an ``election.result``."""
    r.fail(
        "V15",
        "result.missing",
        "日志中没有 election.result",
        "no election.result entry",
        None,
        file="log.jsonl",
    )
