"""An election file in use: the meeting's commands, joining the store, the keys, the printer and
the core.

The log's mechanism (opening and replaying the file, appending entries with their checkpoints) is
``tally.election_log``; remote voting is ``tally.remote_voting``, bound to the same log as
``ElectionSession.remote``; the town committee's signed documents are ``tally.manifest_io``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ballot_printer
import keys
from tally import amendment
from tally.calendar import CalendarError, WorkingDayCalendar
from tally.core.ballots import INVALID_REASONS
from tally.core.double_entry import EnteredBallot, read_entry, read_marks, split_write_in
from tally.core.errors import TallyError
from tally.core.explain import describe_next, describe_quorum, round_wording
from tally.core.manifest import (
    Manifest,
    canonical,
)
from tally.core.marks_file import resolve_write_in
from tally.core.meeting import (
    INVALID_DECISION_DOMAIN,
    SALT_BYTES,
    Entry,
    Meeting,
    apply_entry,
    check_supplement,
    count_current,
    counted_body,
    invalid_decision_message,
    make_entry,
    opened_body,
    remote_counts_here,
    remote_list_changed,
)
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rounds import (
    ElectingBody,
    Finished,
    RoundPurpose,
    RoundSpec,
    joint_rounds,
)
from tally.core.rules import plenary_quorum, publicity_day_zero, quorum
from tally.election_log import ElectionLog, check_work_group
from tally.election_log import now as _now
from tally.log.checkpoint import signer_name
from tally.log.merkle import MerkleTree
from tally.remote_voting import RemoteVoting
from tally.session_config import SessionConfig
from tally.session_errors import SessionError
from tally.store import ElectionStore

__all__ = ["PAPER_KIND", "ElectionSession", "EntryInput", "check_invalid_reason"]

PAPER_KIND = {
    PostKind.COMMITTEE: ballot_printer.PaperKind.COMMITTEE,
    PostKind.SECRETARY: ballot_printer.PaperKind.SECRETARY,
    PostKind.DEPUTY_SECRETARY: ballot_printer.PaperKind.DEPUTY,
}
# The salt of a trial entry that is only applied, never stored (a check-in's pre-check).
_TRIAL_SALT = bytes(SALT_BYTES)


@dataclass(frozen=True, slots=True)
class EntryInput:
    """One ballot as the teller entered it: scanner text, marks, write-in names."""

    qr: str
    marks: str
    write_ins: tuple[str, ...] = ()

    def entered(self) -> EnteredBallot:
        """This entry as the double-entry rule compares it (``tally.core.double_entry``).

        Raises:
            ballot_printer.BallotPrinterError: the QR text is not a ballot QR.
        """
        ballot_id = ballot_printer.parse_qr_text(self.qr).ballot_id.hex()
        return read_entry(ballot_id=ballot_id, marks=self.marks, write_ins=self.write_ins)


def check_invalid_reason(reason: str) -> None:
    """A reason for entering a ballot as invalid by decision is one of R8.5's.

    Raises:
        SessionError: any other reason (the refusal lists the known ones).
    """
    if reason not in INVALID_REASONS:
        raise SessionError(
            "invalid.reason",
            zh=f"无效票理由 {reason!r} 不在可选范围内："
            + "、".join(f"{c}（{zh}）" for c, (zh, _) in INVALID_REASONS.items()),
            en=f"unknown reason {reason!r}; one of: " + ", ".join(INVALID_REASONS),
            clause="R8.5",
        )


class ElectionSession:
    """An open election file with its replayed state: the meeting's commands, and remote voting
    (``remote``), both appending through one ``ElectionLog``."""

    def __init__(self, log: ElectionLog, config: SessionConfig) -> None:
        self.log = log
        self.remote = RemoteVoting(log, config)

    @classmethod
    def init(
        cls,
        where: Path | SessionConfig,
        signed_manifest: bytes,
        signer: keys.Signer,
        *,
        now: dt.datetime | None = None,
        actor: str = "",
        trust_root: keys.PublicKey | str | None = None,
    ) -> ElectionSession:
        """Create the election file from a signed manifest (``ElectionLog.create``); ``where`` is
        the file, or the file with the passphrase (a bare path: no passphrase).

        Raises:
            SessionError: bad manifest or wrong key; StoreError: the file exists.
        """
        config = where if isinstance(where, SessionConfig) else SessionConfig(where)
        log = ElectionLog.create(
            config.path, signed_manifest, signer, now=now, actor=actor, trust_root=trust_root
        )
        return cls(log, config)

    @classmethod
    def open(cls, where: Path | SessionConfig) -> ElectionSession:
        """Open an election file and replay its log (``ElectionLog.open``); ``where`` is the file,
        or the file with the passphrase (a bare path: no passphrase).

        Raises:
            StoreError: the file is missing or damaged, or the log fails its integrity checks.
        """
        config = where if isinstance(where, SessionConfig) else SessionConfig(where)
        return cls(ElectionLog.open(config.path), config)

    @property
    def store(self) -> ElectionStore:
        """The election file."""
        return self.log.store

    @property
    def manifest(self) -> Manifest:
        """The signed manifest."""
        return self.log.manifest

    @property
    def town_key(self) -> keys.PublicKey:
        """The town committee's key that signed the manifest."""
        return self.log.town_key

    @property
    def meeting(self) -> Meeting:
        """The state replayed from the log, as of the last command."""
        return self.log.meeting

    @property
    def tree(self) -> MerkleTree:
        """The log's Merkle tree."""
        return self.log.tree

    @property
    def work_group_raw(self) -> bytes:
        """The work group's raw public key, from the manifest."""
        return self.log.work_group_raw

    def resolve_member(self, ref: str) -> MemberId:
        """A member id from an id or a unique name (``ElectionLog.resolve_member``).

        Raises:
            SessionError: nobody matches, or several members share the name.
        """
        return self.log.resolve_member(ref)

    def cosign(self, signer: keys.Signer) -> int:
        """A scrutineer adds their signature to every round-closed and result checkpoint
        (``ElectionLog.cosign``)."""
        return self.log.cosign(signer)

    def missing_cosignatures(self) -> list[str]:
        """Checkpoints that still lack a scrutineer's signature (reason and signer)."""
        return self.log.missing_cosignatures()

    # -- commands -----------------------------------------------------------------------------
    def check_in(self, refs: Sequence[str], *, actor: str = "") -> list[MemberId]:
        """Check members in, all or none: one refused name refuses the whole command.

        Raises:
            SessionError: ``checkin.refused`` naming every refused name with its reason, the
                names that would have been accepted, and that nobody was checked in.
        """
        ids: list[MemberId] = []
        refused: list[tuple[str, TallyError]] = []
        accepted: list[str] = []
        meeting = self.meeting
        for ref in refs:
            try:
                member = self.resolve_member(ref)
                if member in ids:
                    raise SessionError(
                        "checkin.repeated",
                        zh="在本次命令中重复",
                        en="given twice in this command",
                    )
                entry = make_entry(  # a trial only: the clock is read when it is committed
                    meeting,
                    "member.checked_in",
                    {"member": member},
                    at=meeting.last_at,
                    actor=actor,
                    salt=_TRIAL_SALT,
                )
                meeting = apply_entry(meeting, entry)
            except TallyError as e:
                refused.append((ref, e))
                continue
            ids.append(member)
            accepted.append(f"{self.manifest.election.member(member).name}（{member}）")
        if len(refs) == 1 and refused:
            err = refused[0][1]
            raise SessionError(err.code, zh=err.zh, en=err.en, clause=err.clause)
        if refused:
            zh = "；".join(f"{r}：{e.zh}" for r, e in refused)
            en = "; ".join(f"{r}: {e.en}" for r, e in refused)
            ok_zh = f"（{'、'.join(accepted)} 无误，也未签到）" if accepted else ""
            ok_en = (
                f" ({', '.join(accepted)} were fine and are not checked in either)"
                if accepted
                else ""
            )
            raise SessionError(
                "checkin.refused",
                zh=f"{len(refused)} 人不能签到，本次全部未签到{ok_zh}：{zh}",
                en=f"{len(refused)} of {len(refs)} cannot check in, so nobody was checked in"
                f"{ok_en}: {en}",
            )
        self.log.commit([("member.checked_in", {"member": i}) for i in ids], actor=actor)
        return ids

    def leave(self, refs: Sequence[str], *, actor: str = "") -> list[MemberId]:
        ids = [self.resolve_member(r) for r in refs]
        self.log.commit([("member.left", {"member": i}) for i in ids], actor=actor)
        return ids

    def due_round(self) -> RoundSpec:
        if self.meeting.current is not None:
            return self.meeting.current.spec
        due = self.meeting.due()
        if not isinstance(due, RoundSpec):
            raise SessionError(
                "round.none_due",
                zh=describe_next(due, self.manifest.election, "zh"),
                en=describe_next(due, self.manifest.election, "en"),
            )
        return due

    def print_stock(
        self,
        *,
        post: PostKind,
        round_number: int,
        count: int,
        out_pdf: Path,
        stock_list_out: Path | None,
        signer: keys.Signer,
        page_size: ballot_printer.PageSize = ballot_printer.PageSize.A4,
        font_path: Path | None = None,
        actor: str = "",
        supplement: bool = False,
    ) -> ballot_printer.BallotStock:
        """Make, print and commit a ballot stock for a round (the PDF only exists if committed).

        With ``supplement``, a supplementary print: more ballots for a round whose stock is
        committed and whose ballots are not yet issued, committed as the round's next part with
        its own checkpoint (spec/ballot-qr.md §4.4).
        """
        check_work_group(self.manifest, signer)
        if supplement:
            try:
                check_supplement(self.meeting, post, round_number)
            except TallyError as e:
                raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        elif (post, round_number) in self.meeting.stocks:
            raise SessionError(
                "stock.twice",
                zh=f"{zh_label(post)}选举第 {round_number} 轮的选票已经打印登记过；"
                "选票不够时用 --supplement 补印",
                en=f"a stock for {post.value} round {round_number} is already committed; "
                "print more with --supplement",
            )
        paper = self.paper(post, round_number)
        try:
            stock = ballot_printer.make_stock(
                election_id=self.manifest.election_id,
                kind=PAPER_KIND[post],
                round_number=round_number,
                count=count,
                signer=signer,
            )
            kwargs: dict[str, Any] = {"page_size": page_size}
            if font_path is not None:
                kwargs["font_path"] = font_path
            ballot_printer.render_stock_pdf(paper, stock, out_pdf, **kwargs)
        except ballot_printer.BallotPrinterError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        try:
            list_json = self.commit_stock(stock, signer=signer, actor=actor, supplement=supplement)
        except BaseException:
            out_pdf.unlink(missing_ok=True)  # never leave ballots that are not in the stock
            raise
        if stock_list_out is not None:
            keys.write_new_file(stock_list_out, list_json, mode=keys.PRIVATE_FILE_MODE)
        return stock

    def commit_stock(
        self,
        stock: ballot_printer.BallotStock,
        *,
        signer: keys.Signer,
        actor: str = "",
        supplement: bool = False,
    ) -> bytes:
        """Commit a made stock (its commitment in the log, the sealed list in the store); with
        ``supplement``, as the round's next part (``stock.supplemented``).

        Returns:
            The sealed ``ballot-stock/1`` list.
        """
        post = next(p for p, k in PAPER_KIND.items() if k is stock.kind)
        list_json = ballot_printer.stock_list_json(stock)
        ids = frozenset(b.hex() for b in stock.ballot_ids)
        body: dict[str, Any] = {
            "post": post.value,
            "round": stock.round_number,
            "count": len(stock.payloads),
            "commitment": ballot_printer.stock_commitment(stock).hex(),
        }
        if supplement:
            part = self.meeting.stock_parts.get((post, stock.round_number), 1) + 1
            body = {**body, "part": part}
        self.log.commit(
            [("stock.supplemented" if supplement else "stock.committed", body)],
            signer=signer,
            actor=actor,
            stock=(post.value, stock.round_number, list_json, ids),
        )
        return list_json

    def paper(self, post: PostKind, round_number: int) -> ballot_printer.BallotPaper:
        """The ballot paper of a round: the due round's candidates, or the post's first round."""
        election = self.manifest.election
        spec: RoundSpec | None = None
        cur = self.meeting.current
        if cur is not None and cur.spec.post is post and cur.spec.number == round_number:
            spec = cur.spec
        else:
            due = self.meeting.due()
            if isinstance(due, RoundSpec) and due.post is post and due.number == round_number:
                spec = due
        if spec is not None:
            candidates, seats, wording = spec.candidates, spec.seats, _wording(spec)
        else:
            p = election.post(post)
            if p is None or round_number != 1:
                raise SessionError(
                    "stock.round_unknown",
                    zh="只能为第 1 轮或当前应进行的轮次打印选票",
                    en="ballots can be printed for round 1 or for the round due",
                )
            candidates, seats, wording = p.candidates, p.seats, ""
        return ballot_printer.BallotPaper(
            title=election.title,
            branch=election.branch,
            term=election.term,
            kind=PAPER_KIND[post],
            round_number=round_number,
            seats=seats,
            candidates=tuple(election.member(c).name for c in candidates),
            round_wording=wording,
        )

    def issue(
        self,
        *,
        count: int | None,
        signer: keys.Signer,
        present_members: Sequence[str] = (),
        actor: str = "",
    ) -> tuple[RoundSpec, int]:
        """Open the round due (quorum checked) and record the ballots issued.

        Raises:
            SessionError: no quorum (recorded as ``round.quorum_failed``), a count that is not the
                number present, no stock committed for the round.
        """
        cur = self.meeting.current
        if cur is not None:
            if cur.issued is not None:
                raise SessionError(
                    "issue.twice", zh="本轮已发出选票", en="ballots were already issued"
                )
            spec, present = cur.spec, cur.present
            specs: list[tuple[str, dict[str, Any]]] = []
            joint: tuple[RoundSpec, ...] = ()
        else:
            spec = self.due_round()
            members = tuple(self.resolve_member(r) for r in present_members)
            present = self._quorate(spec, members, actor=actor)
            specs = [("round.opened", opened_body(spec, present, members))]
            # (R22.2) a direct election's first committee round opens the secretary's and
            # deputy's first rounds with it: one present count, one quorum, ballots of each kind.
            joint = joint_rounds(self.meeting.rounds) if spec.post is PostKind.COMMITTEE else ()
            specs += [("round.opened", opened_body(j, present, ())) for j in joint]
            if remote_counts_here(self.meeting, spec) and remote_list_changed(self.meeting, spec):
                specs.append(
                    (
                        "remote.not_counted",
                        {
                            "post": spec.post.value,
                            "round": spec.number,
                            "reason": "remote.list_changed",
                        },
                    )
                )
        paper = present
        if (
            spec.body is not ElectingBody.PLENARY
            and self.meeting.remote is not None
            and self.manifest.election.remote_voting.counts_toward_quorum
        ):
            paper = len(self.meeting.present)
        n = paper if count is None else count
        for r in (spec, *joint):
            specs.append(("ballots.issued", {"post": r.post.value, "round": r.number, "count": n}))
        self.log.commit(specs, signer=signer, actor=actor)
        return spec, n

    def _quorate(self, spec: RoundSpec, members: tuple[MemberId, ...], *, actor: str) -> int:
        """The number present for opening ``spec`` once its quorum holds (R5, RM-9.3).

        Raises:
            SessionError: ``quorum.failed``, after logging ``round.quorum_failed``.
        """
        if spec.body is ElectingBody.PLENARY:
            present = len(members)
            q = plenary_quorum(present, spec.expected)
        else:
            present = len(self.meeting.present)
            remote = self.meeting.remote
            if remote is not None and self.manifest.election.remote_voting.counts_toward_quorum:
                present += len(remote.casts)  # (RM-9.3) how many cast, never who
            q = quorum(present, spec.expected, self.manifest.election.parameters.quorum_comparison)
        if not q.valid:
            self.log.commit(
                [
                    (
                        "round.quorum_failed",
                        {
                            "post": spec.post.value,
                            "round": spec.number,
                            "present": present,
                            "present_members": list(members),
                        },
                    )
                ],
                actor=actor,
            )
            raise SessionError(
                "quorum.failed",
                zh=describe_quorum(q, "zh"),
                en=describe_quorum(q, "en"),
                clause=q.clause,
            )
        return present

    def sitting(self) -> tuple[RoundSpec, ...]:
        """(R22.2) The other rounds of a direct election's joint opening, waiting for their count
        (their ballots were issued with the open round's)."""
        return tuple(h.spec for h in self.meeting.held)

    def return_ballots(
        self,
        count: int,
        *,
        signer: keys.Signer | None,
        actor: str = "",
        post: PostKind | None = None,
    ) -> bool:
        """Record the ballots returned; returns False when the round is void (R11).

        ``post`` names a round of the joint opening (R22.2) other than the open one.
        """
        cur = self.meeting.current
        if post is not None and (cur is None or cur.spec.post is not post):
            cur = next((h for h in self.meeting.held if h.spec.post is post), None)
            if cur is None:
                raise SessionError(
                    "return.no_round",
                    zh=f"{zh_label(post)}没有已发出选票、尚未清点的轮次",
                    en=f"no {post.value} round has ballots issued and not yet returned",
                )
        if cur is None or cur.issued is None:
            raise SessionError("return.order", zh="请先发出选票", en="issue the ballots first")
        spec = cur.spec
        specs: list[tuple[str, dict[str, Any]]] = [
            ("ballots.returned", {"post": spec.post.value, "round": spec.number, "count": count})
        ]
        void = count > cur.issued
        if void:
            specs.append(
                (
                    "round.void",
                    {
                        "post": spec.post.value,
                        "round": spec.number,
                        "issued": cur.issued,
                        "returned": count,
                    },
                )
            )
        self.log.commit(specs, signer=signer if void else None, actor=actor)
        return not void

    def ballot_body(self, item: EntryInput) -> dict[str, Any]:
        """Check a ballot's QR against this election and round and build its entry body.

        Raises:
            SessionError: bad QR (another election, kind or round, bad signature, unreadable),
                bad marks or write-ins.
        """
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        try:
            payload = ballot_printer.parse_qr_text(item.qr)
            ballot_printer.verify_payload(
                payload,
                self.work_group_raw,
                election_id=self.manifest.election_id,
                kind=PAPER_KIND[cur.spec.post],
                round_number=cur.spec.number,
            )
        except ballot_printer.BallotPrinterError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        marks = read_marks(item.marks)
        write_ins = []
        for w in item.write_ins:
            name, marked = split_write_in(w)
            member, problem = resolve_write_in(name, self.manifest.election)
            if problem is not None:
                raise SessionError(
                    problem,
                    zh=f"名册中有多人名为 {name}，请写党员编号",
                    en=f"several members are named {name}; give the member id",
                )
            write_ins.append({"name": name, "member": member or "", "mark": "o" if marked else "-"})
        return {
            "post": cur.spec.post.value,
            "round": cur.spec.number,
            "ballot_id": payload.ballot_id.hex(),
            "qr": ballot_printer.encode_qr_text(payload),
            "marks": marks,
            "write_ins": write_ins,
        }

    def enter(self, items: Sequence[EntryInput], *, actor: str = "") -> list[Entry]:
        """Enter ballots, all or nothing (a batch with one bad ballot stores none)."""
        bodies: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(items, start=1):
            try:
                bodies.append(("ballot.entered", self.ballot_body(item)))
            except SessionError as e:
                raise SessionError(
                    e.code, zh=f"第 {i} 张：{e.zh}", en=f"ballot {i}: {e.en}", clause=e.clause
                ) from e
        return self.log.commit(bodies, actor=actor)

    def declare_invalid(
        self,
        reason: str,
        *,
        confirmer: keys.Signer,
        qr: str | None = None,
        actor: str = "",
    ) -> Entry:
        """(R8.5) Enter a returned ballot as invalid by decision, confirmed by a scrutineer whose
        key the manifest lists: the scrutineer signs the decision, bound to this entry's seq.
        ``qr`` is the ballot's scanner text, or None for a paper without a readable QR (and always
        for ``not_official_stock``).

        Raises:
            SessionError: unknown reason, a key that is not a scrutineer's of the manifest, no
                open round (or its ballots not returned), a bad or already entered QR.
        """
        check_invalid_reason(reason)
        raw_keys = [keys.parse_public_key(canonical(k)).key for k in self.manifest.scrutineer_keys]
        if confirmer.role is not keys.Role.SCRUTINEER or not any(
            hmac.compare_digest(confirmer.public_key.key, k) for k in raw_keys
        ):
            raise SessionError(
                "invalid.not_scrutineer",
                zh="确认无效票的密钥不是本次选举清单中的监票人密钥",
                en="the confirming key is not a scrutineer key of the manifest",
                clause="R8.5",
            )
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        ballot_id = qr_text = ""
        if qr is not None:
            if reason == "not_official_stock":
                raise SessionError(
                    "invalid.official_qr",
                    zh="以“非正式选票”为由录入时不扫描二维码（正式选票的二维码不能以此为由作废）",
                    en="a ballot entered as not the official stock has no QR to give",
                    clause="R8.5",
                )
            body = self.ballot_body(EntryInput(qr=qr, marks=""))
            ballot_id, qr_text = body["ballot_id"], body["qr"]
        decision: dict[str, Any] = {
            "post": cur.spec.post.value,
            "round": cur.spec.number,
            "ballot_id": ballot_id,
            "qr": qr_text,
            "reason": reason,
        }
        message = invalid_decision_message(self.manifest.election_id, self.meeting.size, decision)
        signature = confirmer.sign(INVALID_DECISION_DOMAIN, message)
        decision["scrutineer"] = signer_name(confirmer.public_key)
        decision["signature"] = base64.b64encode(signature).decode()
        return self.log.commit([("ballot.declared_invalid", decision)], actor=actor)[0]

    def withdraw(self, ballot_id: str, *, actor: str = "") -> None:
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        self.log.commit(
            [
                (
                    "ballot.withdrawn",
                    {"post": cur.spec.post.value, "round": cur.spec.number, "ballot_id": ballot_id},
                )
            ],
            actor=actor,
        )

    def close(self, *, signer: keys.Signer, actor: str = "") -> Entry:
        """Count the open round and record its outcome (``round.counted``)."""
        try:
            outcome = count_current(self.meeting)
        except TallyError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        body = counted_body(outcome, remote=self.meeting.remote is not None)
        return self.log.commit([("round.counted", body)], signer=signer, actor=actor)[0]

    def reduce_seats(
        self, post: PostKind, *, seats: int, consent: int, agreement: str, actor: str = ""
    ) -> None:
        self.log.commit(
            [
                (
                    "seats.reduced",
                    {
                        "post": post.value,
                        "seats": seats,
                        "assembly_consent": consent,
                        "town_agreement": agreement,
                    },
                )
            ],
            actor=actor,
        )

    def change_officials(
        self, scrutineers: Sequence[str], tellers: Sequence[str], *, actor: str = ""
    ) -> None:
        """(R25.1) Record the scrutineers and tellers of the rounds opened from now on."""
        self.log.commit(
            [
                (
                    "officials.changed",
                    {
                        "scrutineers": [self.resolve_member(r) for r in scrutineers],
                        "tellers": [self.resolve_member(r) for r in tellers],
                    },
                )
            ],
            actor=actor,
        )

    def set_double_entry(self, on: bool, *, actor: str = "") -> None:
        """Log the station's entry mode (spec/log.md §2.3): with double entry on, a ballot counts
        only once two tellers have entered it alike. Refused when it is already so."""
        self.log.commit([("double_entry.set", {"mode": "on" if on else "off"})], actor=actor)

    def amend_request(
        self, post: PostKind, refs: Sequence[str], *, approval: str
    ) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
        """(RS7) The ``amended-list/1`` request for the town committee to sign, with the warnings
        (zh, en): ``tally.amendment.amend_request``.

        Raises:
            SessionError: not a moment RS7 allows, or the list breaks a rule.
        """
        return amendment.amend_request(self.log, post, refs, approval=approval)

    def amend_candidates(
        self, signed: bytes, *, actor: str = ""
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(RS7) Record a ``signed-amended-list/1``; the warnings (zh, en):
        ``tally.amendment.record_amended_list``.

        Raises:
            SessionError: the file, the election, the signature, the moment or a rule refuses it.
        """
        return amendment.record_amended_list(self.log, signed, actor=actor)

    def record_result(
        self, *, signer: keys.Signer, calendar: WorkingDayCalendar, actor: str = ""
    ) -> Entry:
        """Record the announced result and its publicity period (R26).

        Day 1 of the publicity is the first working day after the day of announcement: the local
        date of this entry, never earlier than the election date.

        Raises:
            SessionError: rounds are still open, or the calendar does not know a year touched.
        """
        due = self.meeting.due()
        if self.meeting.current is not None or not isinstance(due, Finished):
            raise SessionError(
                "result.not_finished",
                zh="还有轮次未完成，不能宣布结果",
                en="rounds are still open; no result yet",
            )
        now = _now()
        election = self.manifest.election
        day_zero = publicity_day_zero(election.election_date, now.date())
        try:
            publicity = calendar.publicity_period(
                day_zero, election.parameters.publicity_working_days
            )
        except CalendarError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause="R26") from e
        body = {
            "elected": {k.value: list(v) for k, v in due.elected},
            "publicity_start": publicity[0].isoformat(),
            "publicity_end": publicity[1].isoformat(),
        }
        return self.log.commit([("election.result", body)], signer=signer, now=now, actor=actor)[0]


def _wording(spec: RoundSpec) -> str:
    """The round wording printed after the paper kind; nothing for a post's first round."""
    if spec.purpose is RoundPurpose.FIRST and spec.revote_of is None:
        return ""
    return round_wording(spec, "zh")
