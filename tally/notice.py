"""Build the publicity notice (公示) from an election's published files and render it.

RULES A13: every round of each post is listed with its own counts and threshold, and each elected
person with the round that elected them and that round's approvals (tally/core/history.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from ballot_printer.notice import (
    Notice,
    NoticeCandidate,
    NoticeElected,
    NoticePost,
    NoticeRound,
    render_notice_pdf,
)
from tally.core.history import PostHistory, RoundLine
from tally.core.model import Election, MemberId, PostKind, ThresholdBase
from tally.core.rounds import ElectingBody, RoundStatus
from tally.election import ElectionSession
from tally.history_view import session_histories

__all__ = ["notice_for", "notice_posts"]

_POST_LABEL = {
    PostKind.COMMITTEE: "支部委员会委员",
    PostKind.SECRETARY: "书记",
    PostKind.DEPUTY_SECRETARY: "副书记",
}


def _name(election: Election, mid: MemberId) -> str:
    try:
        return election.member(mid).name
    except KeyError:
        return str(mid)


def _base_label(election: Election, line: RoundLine) -> str:
    if line.body is ElectingBody.PLENARY:
        return "委员会委员总数"
    if election.parameters.threshold_base is ThresholdBase.EXPECTED:
        return "应到会有选举权人数"
    return "实到会有选举权人数"


def _round(election: Election, line: RoundLine) -> NoticeRound:
    return NoticeRound(
        number=line.number,
        purpose=line.purpose.value,
        revote_of=line.revote_of,
        status=line.status.value,
        seats=line.seats,
        present=line.present,
        expected=line.expected,
        issued=line.issued,
        returned=line.returned,
        valid_ballots=line.valid_ballots,
        invalid_ballots=line.invalid_ballots,
        candidates=tuple(
            NoticeCandidate(
                name=_name(election, mid),
                approvals=v,
                elected=mid in line.elected,
                tied=mid in line.tied,
            )
            for mid, v in line.approvals
        ),
        threshold_minimum=line.threshold or 0,
        base=line.base if line.status is RoundStatus.COUNTED else 0,
        base_label_zh=_base_label(election, line),
        remote_ballots=line.remote_ballots,
        dropped=tuple(_name(election, mid) for mid in line.dropped),
    )


def notice_posts(
    election: Election, histories: tuple[PostHistory, ...], elected: dict[str, list[str]]
) -> tuple[NoticePost, ...]:
    """The notice's posts, in the order of ``elected`` (result.json), each with every round."""
    by_post = {h.post: h for h in histories}
    posts = []
    for kind_text, elected_ids in elected.items():
        kind = PostKind(kind_text)
        history = by_post.get(kind)
        rounds = history.rounds if history else ()
        winners = {e.member: e for e in history.elected} if history else {}
        post = election.post(kind)
        posts.append(
            NoticePost(
                label_zh=_POST_LABEL[kind],
                seats=post.seats if post else len(elected_ids),
                elected=tuple(
                    NoticeElected(
                        name=_name(election, MemberId(mid)),
                        round=winners[MemberId(mid)].round,
                        approvals=winners[MemberId(mid)].approvals,
                        passed_round=winners[MemberId(mid)].passed_round,
                        passed_approvals=winners[MemberId(mid)].passed_approvals,
                    )
                    for mid in elected_ids
                ),
                rounds=tuple(_round(election, r) for r in rounds),
            )
        )
    return tuple(posts)


def notice_for(session: ElectionSession, files: dict[str, bytes], path: Path) -> Path:
    """Render ``path`` from the bundle files: per post every round held, each counted round's
    approvals against its own threshold, and who was elected in which round."""
    election = session.manifest.election
    result = json.loads(files["result.json"])
    posts = notice_posts(election, session_histories(session), result["elected"])
    checkpoint = result["checkpoint"]
    root_hex = base64.b64decode(checkpoint.split("\n")[2]).hex()
    notice = Notice(
        title=election.title,
        branch=election.branch,
        town=election.town,
        term=election.term,
        election_date=election.election_date,
        posts=posts,
        publicity_start=dt.date.fromisoformat(result["publicity_start"]),
        publicity_end=dt.date.fromisoformat(result["publicity_end"]),
        working_days=result["working_days"],
        objections_to=election.objections_to,
        root_hash_hex=root_hex,
        checkpoint_text=checkpoint,
        remote_ballots=result["remote_ballots"],
    )
    render_notice_pdf(notice, path)
    return path
