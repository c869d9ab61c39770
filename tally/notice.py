"""Build the publicity notice (公示) from an election's published files and render it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from ballot_printer.notice import Notice, NoticeCandidate, NoticePost, render_notice_pdf
from tally.core.model import PostKind, ThresholdBase
from tally.core.rounds import ElectingBody, RoundStatus
from tally.election import ElectionSession

__all__ = ["notice_for"]

_POST_LABEL = {
    PostKind.COMMITTEE: "支部委员会委员",
    PostKind.SECRETARY: "书记",
    PostKind.DEPUTY_SECRETARY: "副书记",
}


def notice_for(session: ElectionSession, files: dict[str, bytes], path: Path) -> Path:
    """Render ``path`` from the bundle files: per post, the first counted round's approvals
    against its threshold, and who was elected (after any runoff or further round)."""
    election = session.manifest.election
    result = json.loads(files["result.json"])
    outcomes = [o for o in session.meeting.rounds.outcomes if o.status is RoundStatus.COUNTED]
    posts = []
    for kind_text, elected_ids in result["elected"].items():
        kind = PostKind(kind_text)
        counted = [o for o in outcomes if o.spec.post is kind]
        # The chart shows the post's first round that applied the threshold (runoffs only rank).
        first = next((o for o in counted if o.spec.apply_threshold), None)
        if first is None or first.spec.body is ElectingBody.PLENARY:
            base_label = "委员会委员总数"
        elif election.parameters.threshold_base is ThresholdBase.EXPECTED:
            base_label = "应到会有选举权人数"
        else:
            base_label = "实到会有选举权人数"
        post = election.post(kind)
        posts.append(
            NoticePost(
                label_zh=_POST_LABEL[kind],
                seats=post.seats if post else len(elected_ids),
                elected=tuple(election.member(i).name for i in elected_ids),
                candidates=tuple(
                    NoticeCandidate(
                        name=election.member(mid).name,
                        approvals=v,
                        elected=mid in elected_ids,
                    )
                    for mid, v in (first.approvals if first else ())
                ),
                threshold_minimum=first.minimum_to_pass if first else 0,
                base=first.base if first else 0,
                base_label_zh=base_label,
            )
        )
    checkpoint = result["checkpoint"]
    root_hex = base64.b64decode(checkpoint.split("\n")[2]).hex()
    notice = Notice(
        title=election.title,
        branch=election.branch,
        town=election.town,
        term=election.term,
        election_date=election.election_date,
        posts=tuple(posts),
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
