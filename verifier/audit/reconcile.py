"""Full reconciliation: every paper ballot against the ballot records (spec/audit.md A5).

Pure: takes the verified election and the papers as read (QR text, marks, write-ins) and returns
every discrepancy: ballots in the record but not on paper (``missing``), on paper but not in the
record (``extra``), counterfeit (``counterfeit``: a QR that fails Q1-Q4 or Q8, or a signed id not
in the stock), of another election or round (``foreign``: Q5-Q7), the same id twice
(``duplicate``), marks that differ (``marks_differ``) and pages without a readable QR
(``unreadable``). The outcome of each round is recounted from the paper with the verifier's rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verifier import rules
from verifier.audit.election import POST_OF_KIND, AuditedElection, RoundInfo, WriteIn
from verifier.audit.marks import check_marks
from verifier.errors import QrError
from verifier.qr import TEXT_MAX_CHARS, b32decode_canonical, check_qr, normalise_qr_text

__all__ = ["Discrepancy", "Paper", "Reconciliation", "RoundOutcome", "identify", "reconcile"]

KINDS = ("missing", "extra", "counterfeit", "foreign", "duplicate", "marks_differ", "unreadable")


@dataclass(frozen=True, slots=True)
class Paper:
    """One sheet as read: where it came from, its QR text ("" if none), marks and write-ins."""

    source: str
    qr: str
    marks: str
    write_ins: tuple[WriteIn, ...]
    scan_problem: str = ""


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One finding of the reconciliation, with what the record says and what the paper shows."""

    kind: str
    ballot_id: str
    source: str
    code: str
    zh: str
    en: str
    recorded: str = ""
    found: str = ""


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """A round recounted from the paper, and whether it equals the reported outcome."""

    post: str
    number: int
    ballots: int
    paper: rules.RoundCount
    matches: bool  # the same elected, tied and shortfall as reported
    counts_match: bool  # and the same valid, invalid and approval counts


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The whole reconciliation."""

    rounds: tuple[tuple[str, int], ...]
    papers: int
    records: int
    discrepancies: tuple[Discrepancy, ...]
    outcomes: tuple[RoundOutcome, ...]

    @property
    def ok(self) -> bool:
        return not self.discrepancies and all(o.matches and o.counts_match for o in self.outcomes)

    def count(self, kind: str) -> int:
        return sum(1 for d in self.discrepancies if d.kind == kind)


@dataclass(frozen=True, slots=True)
class Identified:
    """The result of reading a QR text against the election: a ballot id or a problem."""

    ballot_id: str
    post: str
    round: int
    kind: str  # "" when accepted
    code: str
    zh: str
    en: str


def identify(election: AuditedElection, qr: str, audited: Iterable[tuple[str, int]]) -> Identified:
    """Q1-Q8 for a scanned QR text, then the stock (spec/audit.md A5)."""
    # (Q1) a text longer than any ballot QR is left as it is: check_qr refuses it unread.
    unread = len(qr) > TEXT_MAX_CHARS
    text = qr if unread else normalise_qr_text(qr)
    raw = b32decode_canonical(text[4:]) if not unread and text.startswith("BQ1:") else None
    kind = raw[17] if raw is not None and len(raw) == 99 else 0
    rnd = raw[18] if raw is not None and len(raw) == 99 else 0
    bid = raw[19:35].hex() if raw is not None and len(raw) == 99 else ""
    try:
        check_qr(
            text,
            public_key=election.work_group_key,
            election_id=election.election_id,
            kind=kind,
            round_number=rnd,
        )
    except QrError as e:
        what = "foreign" if e.clause in ("Q5", "Q6", "Q7") else "counterfeit"
        zh = "另一场选举的选票" if e.clause == "Q5" else f"伪造或损坏的选票（{e.zh}）"
        en = (
            "a ballot of another election"
            if e.clause == "Q5"
            else f"counterfeit or damaged ballot ({e.en})"
        )
        return Identified(bid, "", 0, what, e.code, zh, en)
    post = POST_OF_KIND[kind]
    if (post, rnd) not in set(audited):
        return Identified(
            bid,
            post,
            rnd,
            "foreign",
            "qr.wrong_round",
            f"不是所审计轮次的选票（{post} 第 {rnd} 轮）",
            f"not a ballot of an audited round ({post} round {rnd})",
        )
    if bid not in election.stocks.get((post, rnd), frozenset()):
        return Identified(
            bid,
            post,
            rnd,
            "counterfeit",
            "audit.not_in_stock",
            "签名有效但不在登记的选票批次中（伪造）",
            "signed, but not in the committed stock (counterfeit)",
        )
    return Identified(bid, post, rnd, "", "", "", "")


def _wi_text(wis: Sequence[WriteIn]) -> str:
    return ";".join(f"{w.name}/{w.member}/{w.mark}" for w in wis)


def reconcile(
    election: AuditedElection, papers: Sequence[Paper], rounds: Sequence[tuple[str, int]] = ()
) -> Reconciliation:
    """Compare every paper with the records of the audited rounds (all counted rounds by default).

    Raises:
        AuditInputError: a paper's marks are impossible for its ballot (length, letters, rows).
    """
    audited = tuple(rounds) or tuple(r.key for r in election.rounds)
    infos = {k: r for k in audited if (r := election.round(*k)) is not None}
    records = {
        b.ballot_id: b for b in election.records if (b.post, b.round) in infos and b.ballot_id
    }
    found: list[Discrepancy] = []
    seen: dict[str, str] = {}
    # Ballots declared invalid without a QR (R8.5) match no paper; each is one invalid ballot.
    counted: dict[tuple[str, int], list[rules.BallotVerdict]] = {
        k: [rules.BallotVerdict(False, ())] * election.unidentified_invalid(*k) for k in infos
    }
    for p in papers:
        if not p.qr:
            found.append(
                Discrepancy(
                    "unreadable",
                    "",
                    p.source,
                    p.scan_problem or "scan.no_qr",
                    "该页没有可读的二维码"
                    if p.scan_problem != "scan.unreadable_qr"
                    else "二维码无法识读",
                    "no QR code on this page"
                    if p.scan_problem != "scan.unreadable_qr"
                    else "QR code cannot be decoded",
                )
            )
            continue
        ident = identify(election, p.qr, infos)
        if ident.kind:
            found.append(
                Discrepancy(ident.kind, ident.ballot_id, p.source, ident.code, ident.zh, ident.en)
            )
            continue
        rnd: RoundInfo = infos[(ident.post, ident.round)]
        check_marks(p.marks, len(rnd.candidates), p.source)
        if ident.ballot_id in seen:
            found.append(
                Discrepancy(
                    "duplicate",
                    ident.ballot_id,
                    p.source,
                    "audit.duplicate",
                    f"同一选票出现两次（另见 {seen[ident.ballot_id]}）",
                    f"the same ballot appears twice (also {seen[ident.ballot_id]})",
                )
            )
            continue
        seen[ident.ballot_id] = p.source
        rec = records.get(ident.ballot_id)
        if rec is not None and rec.invalid_reason:
            # Declared invalid by a confirmed decision (R8.5): the paper is that ballot, invalid;
            # its marks are not compared (the record has none).
            counted[rnd.key].append(election.judge_record(rnd, rec))
            continue
        counted[rnd.key].append(election.judge(rnd, p.marks, p.write_ins))
        if rec is None:
            found.append(
                Discrepancy(
                    "extra",
                    ident.ballot_id,
                    p.source,
                    "audit.extra",
                    "纸质选票不在选票记录中",
                    "paper ballot not in the ballot records",
                    found=p.marks,
                )
            )
            continue
        wi_rec, wi_paper = _wi_text(rec.write_ins), _wi_text(p.write_ins)
        if rec.marks != p.marks or [(w.member, w.mark) for w in rec.write_ins] != [
            (w.member, w.mark) for w in p.write_ins
        ]:
            found.append(
                Discrepancy(
                    "marks_differ",
                    ident.ballot_id,
                    p.source,
                    "audit.marks_differ",
                    "纸质选票的标记与记录不符",
                    "the marks on paper differ from the record",
                    recorded=rec.marks + (f" [{wi_rec}]" if wi_rec else ""),
                    found=p.marks + (f" [{wi_paper}]" if wi_paper else ""),
                )
            )
    for bid, rec in sorted(records.items(), key=lambda x: x[1].seq):
        if bid not in seen:
            found.append(
                Discrepancy(
                    "missing",
                    bid,
                    f"seq {rec.seq}",
                    "audit.missing",
                    "记录中的选票没有找到纸质选票",
                    "ballot in the record but not on paper",
                    recorded=rec.marks,
                )
            )
    outcomes = []
    for key, rnd in infos.items():
        paper = rules.count_round(
            verdicts=counted[key],
            candidates=rnd.candidates,
            seats=rnd.seats,
            base=rnd.base,
            runoff=rnd.runoff,
            dropped=rnd.dropped,
        )
        matches = (
            set(paper.elected) == set(rnd.elected)
            and set(paper.tied) == set(rnd.tied)
            and paper.tied_seats == rnd.tied_seats
            and paper.shortfall == rnd.shortfall
        )
        counts = (
            paper.approvals == rnd.approvals
            and paper.valid_ballots == rnd.valid_ballots
            and paper.invalid_ballots == rnd.invalid_ballots
        )
        outcomes.append(
            RoundOutcome(rnd.post, rnd.number, len(counted[key]), paper, matches, counts)
        )
    return Reconciliation(
        rounds=tuple(infos),
        papers=len(papers),
        records=len(records),
        discrepancies=tuple(found),
        outcomes=tuple(outcomes),
    )
