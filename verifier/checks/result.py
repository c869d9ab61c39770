"""(V15) Result, (V16) final checkpoint and (V18.12) remote ballots of ``result.json``.

spec/bundle.md §6 V15, V16, V18 (spec/remote.md §13 V18.12): ``outcomes.json`` and
``result.json`` agree with the replayed log; the result's checkpoint is the last and covers it all.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifier.checks.common import short
from verifier.checks.context import Context
from verifier.errors import VerificationError
from verifier.model import Manifest
from verifier.parse.documents import ResultDocument, parse_outcomes, parse_result

__all__ = [
    "check_final_checkpoint",
    "check_outcomes",
    "check_remote_ballots",
    "check_result",
    "load_result",
]


def check_outcomes(cx: Context) -> None:
    """(V15) ``outcomes.json`` is an ``outcomes/1`` holding exactly the log's round outcomes."""
    doc = cx.doc("outcomes.json", "V15")
    if doc is None:
        return
    try:
        got = list(parse_outcomes(doc))
    except VerificationError as e:
        cx.f.error("V15", e, file="outcomes.json")
        return
    if got != cx.outcomes:
        cx.f.fail(
            "V15",
            "outcomes.differ",
            "outcomes.json 与日志中的轮次结果不符",
            "outcomes.json differs from the log",
            file="outcomes.json",
            expected=f"{len(cx.outcomes)} rounds as logged",
            found=f"{len(got)} rounds, first difference at index {_first_diff(got, cx.outcomes)}",
        )


def load_result(cx: Context) -> ResultDocument | None:
    """(V15) ``result.json`` is a ``result/1``; else V16-V18 are not checked.

    Returns:
        The result document, or None.
    """
    doc = cx.doc("result.json", "V15")
    if doc is None:
        return None
    try:
        return parse_result(doc)
    except VerificationError as e:
        cx.f.error("V15", e, file="result.json")
        return None


def check_result(cx: Context, m: Manifest, res: ResultDocument) -> None:
    """(V15) ``result.json`` names this election, and its ``elected`` and publicity dates are
    the ``election.result`` entry's."""
    f = cx.f
    e = cx.result_entry
    if res.election_id != m.election_id.hex():
        f.fail(
            "V15",
            "result.election_id",
            "结果的选举标识不符",
            "result election_id differs",
            file="result.json",
            expected=m.election_id.hex(),
            found=str(res.election_id),
        )
    if e is not None:
        for k in ("elected", "publicity_start", "publicity_end"):
            want = dict(e.body[k]) if k == "elected" else e.body[k]
            if getattr(res, k) != want:
                f.fail(
                    "V15",
                    f"result.{k}",
                    f"result.json 的 {k} 与日志不符",
                    f"result.json {k} differs from election.result",
                    file="result.json",
                    path=k,
                    expected=short(want),
                    found=short(getattr(res, k)),
                )


def check_final_checkpoint(cx: Context, res: ResultDocument) -> None:
    """(V16) ``result.json``'s ``checkpoint`` is the last checkpoint and covers all N entries."""
    last = cx.checkpoints[-1].checkpoint if cx.checkpoints else None
    if last is None or res.checkpoint != last.text:
        cx.f.fail(
            "V16",
            "result.checkpoint",
            "result.json 的检查点不是最后一个检查点",
            "result checkpoint is not the last checkpoint",
            file="result.json",
            path="checkpoint",
        )
    elif last.size != cx.entries or last.reason != "result":
        cx.f.fail(
            "V16",
            "result.checkpoint_size",
            "最终检查点未覆盖全部日志条目",
            "final checkpoint does not cover all entries",
            file="result.json",
            expected=f"result @ {cx.entries}",
            found=f"{last.reason} @ {last.size}",
        )


def check_remote_ballots(cx: Context, res: ResultDocument) -> None:
    """(V18.12) ``remote_ballots`` is the number of ``remote.cast`` entries (spec/remote-v2.md
    §8)."""
    want = cx.remote.remote_ballots if cx.remote is not None else 0
    if res.remote_ballots != want:
        cx.f.fail(
            "V18",
            "result.remote_ballots",
            "远程选票数与日志中的 remote.cast 条目数不符",
            "remote_ballots differs from the number of remote.cast entries in the log",
            file="result.json",
            expected=str(want),
            found=str(res.remote_ballots),
            rule="V18.12",
        )


def _first_diff(a: Sequence[bytes], b: Sequence[bytes]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))
