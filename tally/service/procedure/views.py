"""Each procedure page's data, read from the procedure file (no HTTP here; tested on a store).

The work group's pages show what the log says: the sessions and their rounds, the round a teller
enters ballots into, the proposed preliminary list with how each name was reached (RP-4.3) and
the vetting record with the evaluation's counts (RP-6.1, RP-5.6). The public page shows
``procedure-public/1`` only (:func:`tally.core.procedure.public.public_view`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ballot_printer import ballot_code
from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import (
    DeclaredInvalid,
    EvaluationEntered,
    Form,
    RecommendationEntered,
)
from tally.core.procedure.ledger import Ledger, PostRound, RoundKey, evaluation_opening
from tally.core.procedure.public import public_view
from tally.log.checkpoint import signer_name
from tally.procedure_store import ProcedureStore
from tally.service.procedure.web import ScrutineerKeyFile

__all__ = [
    "BASIS",
    "FORM",
    "POST",
    "REASON",
    "cosign_page",
    "enter_page",
    "overview",
    "proposal_page",
    "public_page",
    "round_label",
    "session_page",
    "vetting_page",
]

POST: Final = {
    "committee": ("支部委员会委员", "committee member"),
    "secretary": ("书记", "secretary"),
    "deputy_secretary": ("副书记", "deputy secretary"),
    "": ("", ""),
}
FORM: Final = {
    "member": ("党员推荐", "members' recommendation"),
    "public": ("群众推荐", "public recommendation"),
    "evaluation": ("群众测评", "public evaluation"),
}
BASIS: Final = {
    "rank": ("按推荐得分", "by score"),
    "tie_at_cut": ("截止位置票数相同", "tied at the cut"),
    "secretary_list": ("书记、副书记人选", "on the secretary's list"),
    "higher_level": ("上级党组织推荐", "higher-level recommendation"),
    "supplement": ("补充推荐", "supplement"),
}
REASON: Final = {
    "declined": ("本人书面放弃", "declined in writing"),
    "qualification": ("不符合任职条件", "fails the qualifications"),
    "ten_disqualifications": ("十不推", "ten disqualifications"),
    "evaluation": ("测评未通过", "evaluation"),
    "over_size": ("超出正式候选人人数", "over the formal size"),
}
STATUS: Final = {
    "open": ("进行中", "open"),
    "counted": ("已计票", "counted"),
    "void": ("无效", "void"),
    "": ("进行中", "open"),
}


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def round_label(key: RoundKey, lang: str) -> str:
    """``党员推荐（书记）第 1 轮`` / ``members' recommendation (secretary), round 1``."""
    what = _t(FORM[key.form.value], lang)
    if key.post is not None:
        post = _t(POST[key.post.value], lang)
        what += f"（{post}）" if lang == "zh" else f" ({post})"
    return f"{what}第 {key.round} 轮" if lang == "zh" else f"{what}, round {key.round}"


def _name(store: ProcedureStore, member: str) -> str:
    return store.signed.procedure.member(MemberId(member)).name


def _round_row(key: RoundKey, pr: PostRound, lang: str) -> dict[str, Any]:
    return {
        "label": round_label(key, lang),
        "form": key.form.value,
        "post": key.post.value if key.post else "",
        "issued": pr.issued,
        "returned": pr.returned,
        "entered": len(pr.ballots),
        "status": _t(STATUS[pr.closed], lang),
        "closed": pr.closed,
    }


def overview(store: ProcedureStore, lang: str) -> dict[str, Any]:
    """The procedure at a glance: the branch, the log's size, the open session, every round."""
    ledger = store.ledger
    p = store.signed.procedure
    s = ledger.session
    return {
        "info": p.election,
        "procedure_id": store.procedure_id.hex(),
        "size": ledger.size,
        "session": None if s is None else round_label(RoundKey(s.form, None, s.round), lang),
        "rounds": [_round_row(k, pr, lang) for k, pr in ledger.rounds.items()],
        "proposals": len(ledger.proposals),
        "evaluations": len(ledger.evaluations),
        "vettings": len(ledger.vettings),
        "cosign": [reason for reason, _ in store.missing_cosigners()],
    }


def session_page(store: ProcedureStore, lang: str) -> dict[str, Any]:
    """The open session with what its rounds wait for, or what may open next."""
    ledger = store.ledger
    p = store.signed.procedure
    s = ledger.session
    data: dict[str, Any] = {
        "open": None,
        "rounds": [],
        "electors": [(m, p.member(m).name) for m in p.expected_electors],
        "public_representatives": p.recommendation.public_representatives,
        "evaluation_representatives": p.evaluation.public_representatives,
        "next": [],
        "evaluation": None,
    }
    if s is not None:
        data["open"] = {"form": s.form.value, "round": s.round, "present": s.present}
        data["rounds"] = [_round_row(k, ledger.rounds[k], lang) for k in s.round_keys()]
        return data
    if not ledger.proposals:
        for form in (Form.MEMBER, Form.PUBLIC):
            posts = ledger.pending_posts(form)
            if posts:
                data["next"].append(
                    {
                        "form": form.value,
                        "round": ledger.next_round(form),
                        "posts": "、".join(_t(POST[x.value], lang) for x in posts)
                        if lang == "zh"
                        else ", ".join(_t(POST[x.value], lang) for x in posts),
                    }
                )
    opening = evaluation_opening(ledger)
    if opening is not None:
        round_no, version, persons = opening
        data["evaluation"] = {
            "round": round_no,
            "version": version,
            "names": [p.member(m).name for m in persons],
        }
    return data


def _ready_round(ledger: Ledger, post: str) -> RoundKey | None:
    """The open session's round a teller enters into: the one named by ``post`` if it is open
    for entry, else the first that is (issued and returned, not closed)."""
    s = ledger.session
    if s is None:
        return None
    keys = [k for k in s.round_keys() if not ledger.rounds[k].closed]
    ready = [k for k in keys if ledger.rounds[k].returned is not None]
    named = [k for k in ready if (k.post.value if k.post else "") == post]
    found = named or ready
    return found[0] if found else None


def enter_page(store: ProcedureStore, lang: str, post: str, actor: str) -> dict[str, Any]:
    """The entry form of the open round: the printed names (or the persons evaluated), the
    blank rows, the progress, and the teller's own last entry (which they may withdraw)."""
    ledger = store.ledger
    p = store.signed.procedure
    key = _ready_round(ledger, post)
    s = ledger.session
    data: dict[str, Any] = {"key": None, "choices": []}
    if s is not None:
        data["choices"] = [
            {
                "post": k.post.value if k.post else "",
                "label": round_label(k, lang),
                "on": k == key,
            }
            for k in s.round_keys()
            if not ledger.rounds[k].closed and ledger.rounds[k].returned is not None
        ]
    if key is None or s is None:
        return data
    pr = ledger.rounds[key]
    data.update(
        key={
            "form": key.form.value,
            "post": key.post.value if key.post else "",
            "round": key.round,
        },
        label=round_label(key, lang),
        entered=len(pr.ballots),
        returned=pr.returned,
        complete=len(pr.ballots) == pr.returned,
        mine=_mine(store, actor),
    )
    if key.form is Form.EVALUATION:
        data["persons"] = _told_apart(store, s.candidates)
        data["scale"] = [(i.letter, i.zh, i.en) for i in p.evaluation.scale]
        return data
    post_def = p.post(key.post) if key.post else None
    data["listed"] = p.recommendation.layout.value == "listed"
    data["persons"] = _told_apart(store, p.ballot_order) if data["listed"] else []
    data["rows"] = post_def.max_per_ballot if post_def else 0
    data["roster"] = [(m.id, m.name) for m in p.members]
    return data


def _told_apart(store: ProcedureStore, ids: tuple[MemberId, ...]) -> list[tuple[str, str]]:
    """Each person's name, with the year of birth (else the id) when two printed names are the
    same, as the paper tells them apart (RP-3.3): the teller must see which row is whose."""
    p = store.signed.procedure
    names = [p.member(m).name for m in ids]
    out: list[tuple[str, str]] = []
    for m, plain in zip(ids, names, strict=True):
        name = plain
        if names.count(plain) > 1:
            born = p.member(m).birth_date
            same_year = [
                x
                for x in ids
                if p.member(x).name == plain and p.member(x).birth_date.year == born.year
            ]
            name += f"（{born.year}年生）" if len(same_year) == 1 else f"（{m}）"
        out.append((m, name))
    return out


def _mine(store: ProcedureStore, actor: str) -> dict[str, str] | None:
    """The last entry of the log, when it is a ballot entered by ``actor`` (withdrawable)."""
    if store.ledger.size == 0:
        return None
    last = store.entries()[-1]
    v = last.value
    if last.actor != actor or not isinstance(
        v, RecommendationEntered | EvaluationEntered | DeclaredInvalid
    ):
        return None
    return {"ballot_id": v.ballot_id, "code": ballot_code(bytes.fromhex(v.ballot_id))}


def proposal_page(store: ProcedureStore, lang: str) -> dict[str, Any]:
    """(RP-4.5) Every version of the proposal: each name with its basis, recommendations and
    score, each omission with its reason and reference."""
    versions = []
    for proposal in store.ledger.proposals:
        posts = []
        for post in proposal.posts:
            posts.append(
                {
                    "post": _t(POST[post.post.value], lang),
                    "short": post.short,
                    "names": [
                        {
                            "name": _name(store, n.member),
                            "member": n.member,
                            "basis": _t(BASIS[n.basis.value], lang),
                            "members": n.member_recommendations,
                            "public": n.public_recommendations,
                            "score": n.score,
                        }
                        for n in post.names
                    ],
                    "omitted": [
                        {
                            "name": _name(store, o.member),
                            "reason": _t(REASON[o.reason.value], lang),
                            "category": o.category,
                            "reference": o.reference,
                        }
                        for o in post.omitted
                    ],
                }
            )
        versions.append(
            {
                "version": proposal.version,
                "date": proposal.election_date.isoformat(),
                "posts": posts,
            }
        )
    return {"versions": versions}


def vetting_page(store: ProcedureStore, lang: str) -> dict[str, Any]:
    """(RP-6.1, RP-5.6) Each evaluation round's counts per person with the outcome, and each
    vetting record: who proceeds per post, who is stopped and why."""
    p = store.signed.procedure
    scale = [(i.letter, i.zh if lang == "zh" else i.en) for i in p.evaluation.scale]
    evaluations = [
        {
            "round": e.round,
            "valid": e.valid_ballots,
            "invalid": e.invalid_ballots,
            "results": [
                {
                    "name": _name(store, r["member"]),
                    "counts": [c["count"] for c in r["counts"]],
                    "blank": r["blank"],
                    "unreadable": r["unreadable"],
                    "fail": r["fail_count"],
                    "proceeds": r["outcome"] == "proceeds",
                }
                for r in e.to_json()["results"]
            ],
        }
        for e in store.ledger.evaluations
    ]
    records = [
        [
            {
                "post": _t(POST[post.post.value], lang),
                "proceeding": [_name(store, m) for m in post.proceeding],
                "stopped": [
                    {
                        "name": _name(store, s.member),
                        "reason": _t(REASON[s.reason.value], lang),
                        "reference": s.reference,
                    }
                    for s in post.stopped
                ],
            }
            for post in record.posts
        ]
        for record in store.ledger.vettings
    ]
    return {"scale": scale, "evaluations": evaluations, "records": records}


def _closed_label(reason: str, lang: str) -> str:
    """``round-closed <form> <post> <round>`` as a round label."""
    _, form, post, round_no = reason.split(" ")
    key = RoundKey(Form(form), None if post == "-" else PostKind(post), int(round_no))
    return round_label(key, lang)


def cosign_page(
    store: ProcedureStore, lang: str, key_files: Sequence[ScrutineerKeyFile]
) -> dict[str, Any]:
    """(RP-11.2) Each count's ``round-closed`` checkpoint with every procedure scrutineer and
    whether they have co-signed it; the scrutineers whose key file this service was given."""
    p = store.signed.procedure
    names = [
        (signer_name(k), p.member(m).name)
        for k, m in zip(store.scrutineer_keys, p.officials.scrutineers, strict=False)
    ]
    checkpoints = [
        {
            "label": _closed_label(reason, lang),
            "size": size,
            "signers": [{"name": name, "signed": who in signed} for who, name in names],
            "complete": all(who in signed for who, _ in names),
        }
        for size, reason, signed in store.round_closed_signers()
    ]
    return {
        "checkpoints": checkpoints,
        "scrutineers": [name for _, name in names],
        "pending": sum(not c["complete"] for c in checkpoints),
        "key_files": [k.name for k in key_files],
    }


def public_page(store: ProcedureStore) -> dict[str, Any]:
    """(RP-12.4) ``procedure-public/1`` of the file."""
    return public_view(store.signed.procedure, store.entries()).to_json()


def post_of(value: str) -> PostKind | None:
    try:
        return PostKind(value)
    except ValueError:
        return None
