"""Amending a round's candidate list (RS7): the request the town committee signs, and the signed
list recorded in the log (spec/log.md §2.1)."""

from __future__ import annotations

from collections.abc import Sequence

from tally.core.errors import TallyError
from tally.core.manifest import canonical
from tally.core.meeting import amended_list_document
from tally.core.model import MemberId, PostKind
from tally.core.rounds import amend_candidates, amendable_round, amended_list_warnings
from tally.election_log import ElectionLog
from tally.manifest_io import (
    MAX_AMENDED_LIST_BYTES,
    SIGNED_AMENDED_LIST_FORMAT,
    amended_list_request,
    strict_json,
)
from tally.session_errors import SessionError

__all__ = ["amend_request", "record_amended_list"]


def amend_request(
    log: ElectionLog, post: PostKind, refs: Sequence[str], *, approval: str
) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    """(RS7) The ``amended-list/1`` request for the town committee to sign, checked now against
    the rules (a list the rules refuse is not written).

    Returns:
        The request bytes and the warnings (R27 under ``warn``), zh and en.

    Raises:
        SessionError: not a moment RS7 allows, or the list breaks a rule.
    """
    ids = tuple(MemberId(log.resolve_member(r)) for r in refs)
    if not approval.strip():
        raise SessionError(
            "amend.no_approval",
            zh="须写明镇党委批准调整候选人名单的文号",
            en="give the town committee's approval reference",
            clause="RS7",
        )
    try:
        number = amendable_round(log.meeting.rounds, post)
        amend_candidates(log.meeting.rounds, post, ids)
    except TallyError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
    doc = amended_list_document(log.manifest.election_id, post, number, ids, approval)
    warnings = amended_list_warnings(log.meeting.rounds, post, ids)
    return (
        canonical(doc),
        tuple(w.message("zh") for w in warnings),
        tuple(w.message("en") for w in warnings),
    )


def record_amended_list(
    log: ElectionLog, signed: bytes, *, actor: str = ""
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(RS7) Record a ``signed-amended-list/1`` from the town committee.

    Returns:
        The warnings (R27 under ``warn``), zh and en.

    Raises:
        SessionError: malformed file, another election, no valid town signature, not a
            moment RS7 allows, or the list breaks a rule; nothing is stored.
    """
    doc = strict_json(signed[: MAX_AMENDED_LIST_BYTES + 1], "签署的名单 / the signed list")
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "list", "signature"}
        or doc["format"] != SIGNED_AMENDED_LIST_FORMAT
        or not isinstance(doc["signature"], str)
    ):
        raise SessionError(
            "amend.bad_file",
            zh="不是镇党委签署的 signed-amended-list/1 候选人名单文件",
            en="not a signed-amended-list/1 document",
        )
    body = amended_list_request(canonical(doc["list"]))
    if body["election_id"] != log.manifest.election_id.hex():
        raise SessionError(
            "amend.other_election",
            zh="该名单不是为本次选举签署的",
            en="the list was signed for another election",
        )
    try:
        post = PostKind(body["post"])
    except ValueError as e:
        raise SessionError("post.unknown", zh="职位错误", en="unknown post") from e
    log.commit(
        [
            (
                "candidates.amended",
                {
                    "post": post.value,
                    "round": body["round"],
                    "candidates": body["candidates"],
                    "town_approval": body["town_approval"],
                    "town_signature": doc["signature"],
                },
            )
        ],
        actor=actor,
    )
    warnings = amended_list_warnings(
        log.meeting.rounds, post, tuple(MemberId(c) for c in body["candidates"])
    )
    return tuple(w.message("zh") for w in warnings), tuple(w.message("en") for w in warnings)
