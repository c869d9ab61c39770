"""The town's acts on the branch procedure file (spec/procedure.md RP-3.9, RP-6.4, RP-6.5, RP-7,
RP-10): the shell over :mod:`tally.core.procedure.town`.

The town committee signs an act with its key (``higher-level-recommendation/1``,
``candidate-approval/1``, ``appointment/1``) and the work group records it in the procedure log;
:func:`check_town_act` is what the procedure store checks of each such entry that the pure core
cannot (the town's signature by the definition's town key; the approval's ``vetted_size`` and
``vetted_root`` equal the last ``vetted`` checkpoint). :func:`bind` checks a signed manifest
against the approval (RP-6.5, RP-7.1); :func:`conclude` reads the election file's result and final
checkpoint (RP-7.2); :func:`appoint` reads the casework through the ``CaseSource`` protocol,
refuses while an objection of the branch is open, and has the casework service sign the
``appointment <branch_code>`` checkpoint the appointment names (RP-11.4).
:func:`election_definition` writes the approval into the election definition (RP-6.5).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keys
from tally.core.casework import CaseSource, appointment_objections
from tally.core.errors import DefinitionError, Problem, TallyError
from tally.core.meeting import parse_entry as parse_election_entry
from tally.core.meeting.bodies import ElectionResult
from tally.core.model import Election, Member, MemberId, PostKind
from tally.core.procedure.entries import ProcedureEntry, make_entry
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.ledger import apply_entry
from tally.core.procedure.town import (
    appointment_document,
    approval_document,
    binding_problems,
    higher_level_document,
    require_concluded,
)
from tally.election import ElectionSession
from tally.log import MerkleTree
from tally.manifest_io import load_signed_manifest
from tally.procedure_signatures import TYPES, check_town_act, last_vetted, sign_act, town_key
from tally.session_errors import SessionError

if TYPE_CHECKING:
    from tally.casework_store import CaseworkStore
    from tally.procedure_store import ProcedureStore, Randomness

__all__ = [
    "BindingError",
    "appoint",
    "approve",
    "bind",
    "check_election",
    "check_town_act",
    "conclude",
    "election_definition",
    "last_vetted",
    "recommend_higher_level",
    "record_signed",
    "sign_act",
]


class BindingError(DefinitionError):
    """(RP-6.5) An election definition or manifest that differs from the town's approval;
    ``problems`` lists every difference (a :class:`DefinitionError`, so the shells list them one
    a line as any definition's problems)."""

    def __init__(self, problems: tuple[Problem, ...], *, clause: str = "RP-6.5") -> None:
        TallyError.__init__(
            self,
            problems[0].code,
            zh=f"选举清单与镇党委批复的正式候选人不一致（{len(problems)} 处）",
            en=f"the election differs from the town's candidate approval ({len(problems)})",
            clause=clause,
        )
        self.problems = problems


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


# -- signing and recording ------------------------------------------------------------------------
def _append(
    store: ProcedureStore,
    type_: str,
    body: Mapping[str, Any],
    *,
    work_group: keys.Signer,
    at: dt.datetime,
    actor: str,
    random: Randomness,
) -> ProcedureEntry:
    entry, _ = store.append(type_, body, at=at, actor=actor, work_group=work_group, random=random)
    return entry


def record_signed(
    store: ProcedureStore,
    raw: bytes,
    *,
    work_group: keys.Signer,
    at: dt.datetime,
    actor: str,
    random: Randomness,
) -> ProcedureEntry:
    """Record a town act signed elsewhere: ``raw`` is the entry body as :func:`sign_act` gives
    it (JSON).

    Raises:
        ProcedureLogError: ``log.malformed`` (not a signed act), and every refusal of the act.
    """
    try:
        body = json.loads(raw)
        obj = next(body[m] for m in ("recommendation", "approval", "appointment") if m in body)
        type_ = TYPES[obj["format"]]
    except (ValueError, TypeError, KeyError, StopIteration) as e:
        raise _refuse(
            "log.malformed",
            "RP-11.1",
            "不是镇党委签署的审批文件",
            "not a town act signed for the procedure",
        ) from e
    return _append(store, type_, body, work_group=work_group, at=at, actor=actor, random=random)


def recommend_higher_level(
    store: ProcedureStore,
    *,
    post: PostKind,
    members: Sequence[MemberId],
    reference: str,
    town: keys.Signer,
) -> dict[str, Any]:
    """(RP-3.9) The town's signed higher-level recommendation (the entry body)."""
    doc = higher_level_document(store.ledger, post=post, members=members, reference=reference)
    return sign_act(doc, town)


def approve(
    store: ProcedureStore,
    *,
    reference: str,
    town: keys.Signer,
    orders: Mapping[PostKind, Sequence[MemberId]] | None = None,
) -> dict[str, Any]:
    """(RP-6.4) The town's signed approval of the last vetting record's formal lists, over the
    last ``vetted`` checkpoint (the entry body).

    Raises:
        ProcedureLogError: ``procedure.order``, ``approval.stale``.
        ApprovalBlockedError: ``approval.blocked``.
    """
    vetted = last_vetted(store.checkpoint_texts(), store.ledger.size)
    if vetted is None:
        raise _refuse(
            "procedure.order",
            "RP-6.4",
            "尚未记录考察审查，不能批复",
            "no vetting record: nothing to approve",
        )
    doc = approval_document(
        store.ledger,
        vetted_size=vetted[0],
        vetted_root=vetted[1],
        reference=reference,
        orders=orders,
    )
    return sign_act(doc, town)


# -- RP-6.5, RP-7: the manifest and the election ---------------------------------------------------
def _approval(store: ProcedureStore) -> Mapping[str, Any]:
    approval = store.ledger.town.approval
    if approval is None:
        raise _refuse(
            "procedure.order",
            "RP-6.5",
            "正式候选人尚未批复（tally procedure approve）",
            "the candidates are not approved yet (tally procedure approve)",
        )
    return approval


def check_election(store: ProcedureStore, election: Election) -> None:
    """(RP-6.5) Refuse an election (definition or manifest) that differs from the approval.

    Raises:
        ProcedureLogError: ``procedure.order`` (nothing approved yet).
        BindingError: every difference (``binding.*``).
    """
    p = store.signed.procedure
    problems = binding_problems(
        _approval(store),
        roster={m.id: m.name for m in p.members},
        publicity_working_days=p.publicity_working_days,
        election=election,
    )
    if problems:
        raise BindingError(tuple(problems))


def bind(
    store: ProcedureStore,
    signed_manifest: bytes,
    *,
    work_group: keys.Signer,
    at: dt.datetime,
    actor: str,
    random: Randomness,
) -> ProcedureEntry:
    """(RP-7.1) Record ``election.bound`` for a town-signed manifest that meets RP-6.5.

    Raises:
        ProcedureLogError: ``binding.town_key`` (signed by another town key), ``procedure.order``.
        BindingError: the manifest differs from the approval.
        SessionError: the manifest is not a valid signed manifest.
    """
    try:
        manifest, _ = load_signed_manifest(signed_manifest, trust_root=town_key(store.signed))
    except SessionError as e:
        if e.code != "manifest.town_key":
            raise
        raise _refuse(
            "binding.town_key",
            "RP-7.1",
            "选举清单与推荐程序不是同一镇党委签署",
            "the manifest and the procedure have different town keys",
        ) from e
    check_election(store, manifest.election)
    body = {
        "election_id": manifest.election_id.hex(),
        "manifest_sha256": hashlib.sha256(signed_manifest).hexdigest(),
    }
    return _append(
        store, "election.bound", body, work_group=work_group, at=at, actor=actor, random=random
    )


def conclude(
    store: ProcedureStore,
    election_file: Path,
    *,
    work_group: keys.Signer,
    at: dt.datetime,
    actor: str,
    random: Randomness,
) -> ProcedureEntry:
    """(RP-7.2) Record ``election.concluded`` from the election file: its result (the last entry,
    ``election.result``) and its final checkpoint (the ``result`` one).

    Raises:
        ProcedureLogError: ``binding.concluded_differs`` (no result yet, another election),
            ``procedure.order``.
        StoreError: the election file cannot be opened.
    """
    session = ElectionSession.open(election_file)
    rows = list(session.store.iter_log_rows())
    result = parse_election_entry(rows[-1][1]).value if rows else None
    final = [c for c in session.store.checkpoints() if c.reason == "result"]
    if not isinstance(result, ElectionResult) or not final:
        raise _refuse(
            "appointment.not_concluded",
            "RP-7.2",
            "选举尚未宣布结果（tally result），不能记录选举结果",
            "the election has no result yet (tally result)",
        )
    cp = final[-1]
    body = {
        "election_id": session.manifest.election_id.hex(),
        "size": cp.size,
        "root": base64.b64decode(cp.body.split("\n")[2]).hex(),
        "elected": result.elected,
        "publicity_start": result.publicity_start,
        "publicity_end": result.publicity_end,
    }
    return _append(
        store, "election.concluded", body, work_group=work_group, at=at, actor=actor, random=random
    )


# -- RP-10: the appointment ------------------------------------------------------------------------
def appoint(
    store: ProcedureStore,
    casework: CaseworkStore,
    *,
    casework_signer: keys.Signer,
    town: keys.Signer,
    date: dt.date,
    reference: str,
    work_group: keys.Signer,
    at: dt.datetime,
    actor: str,
    random: Randomness,
) -> ProcedureEntry:
    """(RP-10) The town's appointment, signed and recorded: refused while an objection of the
    branch is open, before the end of publicity, or before the election is concluded; the
    casework service signs the ``appointment <branch_code>`` checkpoint it names. Nothing is
    stored on a refusal: the entry is checked against the ledger before the checkpoint is made.

    Raises:
        CaseworkError: ``appointment.objection_open`` (each open reference, state, due date),
            ``casework.wrong_key``.
        ProcedureLogError: ``casework.other_town``, ``appointment.*``, ``procedure.order``.
        StoreError: a write failed.
    """
    source: CaseSource = casework
    p = store.signed.procedure
    require_concluded(store.ledger)
    if casework.casework.id.hex() != p.casework_id:
        raise _refuse(
            "casework.other_town",
            "RP-10.1",
            "事项登记簿不是本换届程序所属的（casework_id 不符）",
            "the casework file is not the procedure's (casework_id differs)",
        )
    objections = appointment_objections(source.ledger, p.election.branch_code)
    rows = casework.log_rows()
    tree = MerkleTree(hashlib.sha256(b"\x00" + r).digest() for r in rows)
    doc = appointment_document(
        store.ledger,
        objections=objections,
        casework_size=tree.size,
        casework_root=tree.root().hex(),
        date=date,
        reference=reference,
    )
    body = sign_act(doc, town)
    trial = make_entry(
        store.ledger.size,
        store.ledger.prev,
        "appointment.recorded",
        body,
        at=at,
        actor=actor,
        salt=bytes(32),
    )
    check_town_act(trial, store.signed, store.checkpoint_texts)
    apply_entry(store.ledger, trial)  # the refusal, before anything is written
    casework.checkpoint(f"appointment {p.election.branch_code}", casework_signer)
    return _append(
        store,
        "appointment.recorded",
        body,
        work_group=work_group,
        at=at,
        actor=actor,
        random=random,
    )


# -- RP-6.5: the election definition from the approval --------------------------------------------
def election_definition(store: ProcedureStore, draft: Mapping[str, Any]) -> dict[str, Any]:
    """(RP-6.5) The election definition ``draft`` (decoded TOML) with the approval written in:
    every post's ``seats``, ``margin`` and ``candidates``, ``secretary.elected_by`` and
    ``parameters.publicity_working_days`` replaced; ``election`` title, branch, town and term,
    ``members``, ``exclusions`` and the R27 parameters taken from the procedure where the draft
    leaves them out.

    Raises:
        ProcedureLogError: ``procedure.order`` (nothing approved yet).
    """
    approval = _approval(store)
    p = store.signed.procedure
    doc: dict[str, Any] = dict(draft)
    doc.setdefault("format", "election-definition/1")
    election = dict(doc.get("election", {}))
    for key in ("title", "branch", "town", "term"):
        election.setdefault(key, getattr(p.election, key))
    doc["election"] = election
    parameters = dict(doc.get("parameters", {}))
    parameters["publicity_working_days"] = p.publicity_working_days
    q = p.qualifications
    for key in (
        "qualification_policy",
        "secretary_new_max_age",
        "secretary_new_min_education",
        "secretary_continuing_max_age",
        "secretary_continuing_min_education",
    ):
        value = getattr(q, key)
        parameters.setdefault(key, getattr(value, "value", value))
    doc["parameters"] = parameters
    doc["secretary"] = {**dict(doc.get("secretary", {})), **approval["secretary"]}
    doc["posts"] = [
        {
            "post": a["post"],
            "seats": a["seats"],
            "margin": a["margin"],
            "candidates": a["candidates"],
        }
        for a in approval["posts"]
    ]
    if "members" not in doc:
        doc["members"] = [_member(m) for m in p.members]
    if "exclusions" not in doc:
        doc["exclusions"] = [
            {
                "member": x.member,
                "category": x.category.value,
                "higher_level_approval": x.higher_level_approval,
                "assembly_approval": x.assembly_approval,
            }
            for x in p.exclusions
        ]
    return doc


def _member(m: Member) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "sex": m.sex.value,
        "birth_date": m.birth_date,
        "education": m.education.value,
        "status": m.status.value,
        "registered_here": m.registered_here,
        "incumbent_secretary": m.incumbent_secretary,
    }
