"""What the audit needs from a verified bundle: rounds, ballot records, stocks (spec/audit.md A1).

``load_election`` runs the verifier's own ``verify_bundle`` first and refuses a bundle that fails;
the files are then read without re-checking (they just passed V1-V19).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from verifier import rules
from verifier.audit.errors import BundleNotVerifiedError
from verifier.bundle import open_bundle, read_file
from verifier.canonical import parse_canonical
from verifier.checks import TownKey, verify_bundle
from verifier.model import Definition, Manifest, Parameters
from verifier.parse import parse_checkpoint, parse_manifest, parse_signed_manifest

__all__ = [
    "POST_OF_KIND",
    "AuditedElection",
    "BallotRecord",
    "RoundInfo",
    "WriteIn",
    "load_election",
]

POST_OF_KIND: Final = {1: "committee", 2: "secretary", 3: "deputy_secretary"}
_LIMIT: Final = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WriteIn:
    """One write-in row: the written name, the roster id it resolves to (or "") and its mark."""

    name: str
    member: str
    mark: str


@dataclass(frozen=True, slots=True)
class BallotRecord:
    """One ``ballot-record/1`` line."""

    seq: int
    post: str
    round: int
    ballot_id: str
    qr: str
    marks: str
    write_ins: tuple[WriteIn, ...]
    # rules.md R8.5: entered as invalid by a confirmed decision (no marks; ballot_id "" without QR)
    invalid_reason: str = ""


@dataclass(frozen=True, slots=True)
class RoundInfo:
    """A counted round: what was on the ballot, the threshold base and the reported outcome."""

    post: str
    number: int
    purpose: str
    candidates: tuple[str, ...]
    seats: int
    body: str
    base: int
    write_in_eligible: frozenset[str]
    approvals: tuple[tuple[str, int], ...]
    elected: tuple[str, ...]
    tied: tuple[str, ...]
    tied_seats: int
    shortfall: int
    valid_ballots: int
    invalid_ballots: int
    dropped: tuple[str, ...] = ()  # (R22.3) listed, but dropped out at the count

    @property
    def key(self) -> tuple[str, int]:
        return (self.post, self.number)

    @property
    def runoff(self) -> bool:
        return self.purpose == "runoff"


@dataclass(frozen=True, slots=True)
class AuditedElection:
    """The verified bundle, reduced to what the audit reads."""

    bundle: str
    election_id: bytes
    index_sha256: str
    manifest: Manifest
    rounds: tuple[RoundInfo, ...]
    records: tuple[BallotRecord, ...]
    stocks: Mapping[tuple[str, int], frozenset[str]]
    root: str = ""  # hex root of the final checkpoint (audit.md A11, A15)
    town_key: bytes = b""  # the manifest's town committee key (audit.md A14)

    @property
    def params(self) -> Parameters:
        return self.manifest.definition.parameters

    @property
    def work_group_key(self) -> bytes:
        return self.manifest.work_group.key

    def round(self, post: str, number: int) -> RoundInfo | None:
        for r in self.rounds:
            if r.key == (post, number):
                return r
        return None

    def records_of(self, post: str, number: int) -> tuple[BallotRecord, ...]:
        """The round's records that name a paper (a ballot id); see ``unidentified_invalid``."""
        return tuple(b for b in self.records if (b.post, b.round) == (post, number) and b.ballot_id)

    def unidentified_invalid(self, post: str, number: int) -> int:
        """Ballots of the round declared invalid without a QR (R8.5, e.g. not the official
        stock): no paper can be matched to them; each counts as one invalid ballot."""
        return sum(
            1 for b in self.records if (b.post, b.round) == (post, number) and not b.ballot_id
        )

    def judge_record(self, rnd: RoundInfo, rec: BallotRecord) -> rules.BallotVerdict:
        """A record's verdict: invalid when declared so by decision (R8.5), else R7-R10."""
        if rec.invalid_reason:
            return rules.BallotVerdict(valid=False, approvals=())
        return self.judge(rnd, rec.marks, rec.write_ins)

    def judge(
        self, rnd: RoundInfo, marks: str, write_ins: tuple[WriteIn, ...]
    ) -> rules.BallotVerdict:
        """R7-R10 for one ballot of the round (the verifier's rules module)."""
        ok: Callable[[str], bool] = rnd.write_in_eligible.__contains__
        verdict = rules.judge_ballot(
            marks=marks,
            write_ins=[(w.member, w.mark) for w in write_ins],
            candidates=rnd.candidates,
            seats=rnd.seats,
            params=self.params,
            write_in_eligible=ok,
            runoff=rnd.runoff,
        )
        if not rnd.dropped:
            return verdict
        # (R22.3) a dropped candidate's mark counts in the choices but gives no approval
        return rules.BallotVerdict(
            valid=verdict.valid,
            approvals=tuple(m for m in verdict.approvals if m not in rnd.dropped),
        )


def _write_in_eligible(
    d: Definition, post: str, cands: tuple[str, ...], elected: Mapping[str, list[str]]
) -> frozenset[str]:  # R9.3
    excluded = {x.member for x in d.exclusions}
    officials = set(d.scrutineers) | set(d.tellers)
    from_committee = "committee" in elected  # (R20, R21, R22.4) whatever the body
    out = set()
    for m in d.members:
        if not m.eligible or m.id in excluded or m.id in officials or m.id in cands:
            continue
        if m.id in elected.get(post, []):
            continue
        if post == "deputy_secretary" and m.id in elected.get("secretary", []):
            continue
        if post != "committee" and from_committee and m.id not in elected.get("committee", []):
            continue
        out.add(m.id)
    return frozenset(out)


def _doc(bundle: Any, name: str) -> Any:
    return parse_canonical(read_file(bundle, name, _LIMIT), clause="A1", path=name)


def load_election(
    path: Path, town: TownKey | None, *, verify: bool = True, jobs: int = 1
) -> AuditedElection:
    """Verify the bundle (unless ``verify`` is False, for a caller that just did) and read it.

    Raises:
        BundleNotVerifiedError: the bundle fails verification (or cannot be read).
    """
    if verify:
        if town is None:
            raise BundleNotVerifiedError(
                clause="A1", code="audit.no_trust_root", zh="需要镇党委公钥", en="town key needed"
            )
        report = verify_bundle(path, town, jobs=jobs)
        if not report.ok:
            failed = ", ".join(report.failed()) or "V1"
            raise BundleNotVerifiedError(
                clause="A1",
                code="audit.bundle_not_verified",
                zh=f"结果包未通过核验（{failed}），不能据此审计。请先运行 verifier verify。",
                en=f"the bundle fails verification ({failed}); run verifier verify first",
                path=str(path),
            )
    bundle, problems = open_bundle(path)
    if any(p.fatal for p in problems):
        raise BundleNotVerifiedError(
            clause="A1", code="audit.bundle_unreadable", zh="结果包无法读取", en="bundle unreadable"
        )
    index_sha = hashlib.sha256(read_file(bundle, "index.json", _LIMIT)).hexdigest()
    raw_manifest, town_key, _, _ = parse_signed_manifest(_doc(bundle, "manifest.json"))
    checkpoints = _doc(bundle, "checkpoints.json")["checkpoints"]
    root = parse_checkpoint(checkpoints[-1]["text"], "checkpoints.json").root.hex()
    manifest = parse_manifest(raw_manifest)
    d = manifest.definition
    stocks: dict[tuple[str, int], frozenset[str]] = {}
    for name in bundle.names():
        if name.startswith("stocks/"):
            doc = _doc(bundle, name)
            # stocks/<post>-<round>.json, or -<part>.json for a supplementary print (V8)
            post, rnd, *_ = name[len("stocks/") : -len(".json")].split("-")
            key = (post, int(rnd))
            stocks[key] = stocks.get(key, frozenset()) | frozenset(doc["ballot_ids"])
    records = []
    with bundle.open("ballots.jsonl") as fh:
        for line in iter(fh.readline, b""):  # a zip member is read through a capped stream
            r = json.loads(line)
            decided = "reason" in r  # a ballot.declared_invalid record (bundle.md §3)
            records.append(
                BallotRecord(
                    seq=r["seq"],
                    post=r["post"],
                    round=r["round"],
                    ballot_id=r["ballot_id"],
                    qr=r["qr"],
                    marks="" if decided else r["marks"],
                    write_ins=()
                    if decided
                    else tuple(WriteIn(w["name"], w["member"], w["mark"]) for w in r["write_ins"]),
                    invalid_reason=r["reason"] if decided else "",
                )
            )
    e_count = rules.expected_electors(d)
    elected: dict[str, list[str]] = {p.post: [] for p in d.posts}
    opened: dict[tuple[str, int], Mapping[str, Any]] = {}
    rounds = []
    with bundle.open("log.jsonl") as fh:
        for line in iter(fh.readline, b""):  # a zip member is read through a capped stream
            e = json.loads(line)
            t, b = e["type"], e["body"]
            if t == "round.opened":
                opened[(b["post"], b["round"])] = b
            elif t == "round.counted":
                o = opened[(b["post"], b["round"])]
                if o["body"] == "plenary":
                    base = o["expected"]
                elif d.parameters.threshold_base == "P":
                    base = o["present"]
                else:
                    base = e_count
                cands = tuple(o["candidates"])
                approvals = tuple((a["member"], a["approvals"]) for a in b["approvals"])
                rounds.append(
                    RoundInfo(
                        post=b["post"],
                        number=b["round"],
                        purpose=o["purpose"],
                        candidates=cands,
                        seats=o["seats"],
                        body=o["body"],
                        base=base,
                        write_in_eligible=_write_in_eligible(d, b["post"], cands, elected),
                        approvals=approvals,
                        elected=tuple(b["elected"]),
                        tied=tuple(b["tied"]),
                        tied_seats=b["tied_seats"],
                        shortfall=b["shortfall"],
                        valid_ballots=b["valid_ballots"],
                        invalid_ballots=b["invalid_ballots"],
                        dropped=tuple(b.get("dropped", ())),
                    )
                )
                for m in rules.election_order(approvals, b["elected"]):
                    if m not in elected[b["post"]]:
                        elected[b["post"]].append(m)
    return AuditedElection(
        bundle=str(path),
        election_id=manifest.election_id,
        index_sha256=index_sha,
        manifest=manifest,
        rounds=tuple(rounds),
        records=tuple(records),
        stocks=stocks,
        root=root,
        town_key=town_key.key,
    )
