"""The signed audit record ``audit-record/2`` and its check (spec/audit.md A8-A12, A14-A16).

A record holds the audit's *inputs* (the papers or readings, the seed) and its *outputs* (the
discrepancies, the sample, the measured risk). Auditors sign ``"branch-election/audit-record/2"
|| 0x00 || JCS(signed)`` with Ed25519. It is written beside the bundle as ``audit/<n>.json``
through a temporary file and a hard link, so a record is never half-written and never replaced.
A later check re-derives the outputs from the inputs and the bundle and compares them byte for
byte, so a record cannot claim a risk its own readings do not give.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import nacl.signing

from verifier import ed25519
from verifier.audit.binding import (
    APPOINTMENT_FILE,
    GENESIS,
    Appointment,
    AuditHead,
    BindingError,
    parse_appointment,
    record_hash,
    unsettled,
)
from verifier.audit.comparison import ComparisonAudit, Reading, run_comparison
from verifier.audit.election import AuditedElection, WriteIn, load_election
from verifier.audit.errors import AuditError, AuditRecordError
from verifier.audit.reconcile import Paper, Reconciliation, reconcile
from verifier.canonical import canonical_bytes, parse_canonical
from verifier.crypto import b64decode_canonical, fingerprint
from verifier.errors import VerificationError
from verifier.reader import KEY_FILE_LIMIT, InputFileError, read_regular
from verifier.report import Finding

__all__ = [
    "RECORD_DOMAIN",
    "AuditCheck",
    "AuditorKey",
    "audit_dir_for",
    "check_audit_records",
    "comparison_record",
    "load_auditor_key",
    "new_auditor_key",
    "reconciliation_record",
    "sign_record",
    "write_record",
]

RECORD_DOMAIN: Final = b"branch-election/audit-record/2"
FORMAT: Final = "audit-record/2"
KEY_FORMAT: Final = "audit-key/1"
_NAME: Final = re.compile(r"([1-9][0-9]{0,5})\.json")
_LIMIT: Final = 64 * 1024 * 1024


def risk_text(p: float) -> str:
    """A risk as a fixed six-decimal string (records carry no floats)."""
    return f"{min(1.0, max(0.0, p)):.6f}"


# ------------------------------------------------------------------------- auditor keys


@dataclass(frozen=True, slots=True)
class AuditorKey:
    """An auditor's signing key (``audit-key/1``, spec/audit.md A10)."""

    label: str
    seed: bytes

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).verify_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return nacl.signing.SigningKey(self.seed).sign(RECORD_DOMAIN + b"\x00" + message).signature


def _key_error(path: Path, en: str) -> AuditRecordError:
    return AuditRecordError(
        clause="A10", code="audit.key_invalid", zh=f"审计员密钥文件 {path} 无效", en=f"{path}: {en}"
    )


def new_auditor_key(label: str, out: Path) -> AuditorKey:
    """Create an ``audit-key/1`` file (0600, never replacing a file).

    Raises:
        AuditRecordError: bad label or the file exists or cannot be written.
    """
    if not 1 <= len(label) <= 64 or label != label.strip():
        raise _key_error(out, "label must be 1..64 characters without outer spaces")
    key = AuditorKey(label=label, seed=os.urandom(32))
    doc = {
        "format": KEY_FORMAT,
        "algorithm": "ed25519",
        "label": label,
        "seed": base64.b64encode(key.seed).decode(),
    }
    data = (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise _key_error(out, f"cannot create ({e})") from e
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return key


def load_auditor_key(path: Path) -> AuditorKey:
    """Read an ``audit-key/1`` file.

    Raises:
        AuditRecordError: unreadable or not ``audit-key/1``.
    """
    try:
        doc = json.loads(read_regular(path, KEY_FILE_LIMIT, clause="A9"))
    except (VerificationError, ValueError, RecursionError) as e:  # Recursion: `[[[[…`
        raise _key_error(path, f"unreadable ({e})") from e
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "algorithm", "label", "seed"}
        or doc["format"] != KEY_FORMAT
        or doc["algorithm"] != "ed25519"
        or not isinstance(doc["label"], str)
    ):
        raise _key_error(path, "not an audit-key/1 document")
    seed = b64decode_canonical(doc["seed"], 32)
    if seed is None:
        raise _key_error(path, "seed is not base64 of 32 bytes")
    return AuditorKey(label=doc["label"], seed=seed)


# ------------------------------------------------------------------------- serialising


def _wis(wis: Sequence[WriteIn]) -> list[dict[str, str]]:
    return [{"name": w.name, "member": w.member, "mark": w.mark} for w in wis]


def _wis_of(value: Any) -> tuple[WriteIn, ...]:
    return tuple(
        WriteIn(
            _typed(w["name"], str, "name"),
            _typed(w["member"], str, "member"),
            _typed(w["mark"], str, "mark"),
        )
        for w in value
    )


def reconciliation_outputs(r: Reconciliation) -> dict[str, Any]:
    return {
        "papers": r.papers,
        "records": r.records,
        "ok": r.ok,
        "discrepancies": [
            {
                "kind": d.kind,
                "ballot_id": d.ballot_id,
                "source": d.source,
                "code": d.code,
                "recorded": d.recorded,
                "found": d.found,
            }
            for d in r.discrepancies
        ],
        "outcomes": [
            {
                "post": o.post,
                "round": o.number,
                "ballots": o.ballots,
                "matches": o.matches,
                "counts_match": o.counts_match,
                "approvals": [[m, v] for m, v in o.paper.approvals],
                "elected": list(o.paper.elected),
                "tied": list(o.paper.tied),
                "shortfall": o.paper.shortfall,
            }
            for o in r.outcomes
        ],
    }


def comparison_outputs(a: ComparisonAudit) -> dict[str, Any]:
    return {
        "ballots": a.ballots,
        "status": a.status,
        "risk": risk_text(a.risk),
        "assertions": [
            {"name": x.name, "margin": x.margin, "risk": risk_text(p)}
            for x, (_, p) in zip(a.assertions, a.risks, strict=True)
        ],
        "stages": list(a.stages),
        "draws": list(a.draws),
        "overstatements": [[b, e] for b, e in a.overstatements],
        "trajectory": [risk_text(p) for p in a.trajectory],
        "needed": list(a.needed),
    }


def _base(election: AuditedElection, kind: str, date: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "number": 0,
        "kind": kind,
        "election_id": election.election_id.hex(),
        "bundle_index_sha256": election.index_sha256,
        "bundle_root": election.root,
        "previous": GENESIS,
        "date": date,
    }


def reconciliation_record(
    election: AuditedElection, papers: Sequence[Paper], result: Reconciliation, *, date: str
) -> dict[str, Any]:
    """The signed part of a full-reconciliation record (A8)."""
    doc = _base(election, "reconciliation", date)
    doc["inputs"] = {
        "rounds": [[p, n] for p, n in result.rounds],
        "papers": [
            {
                "source": p.source,
                "qr": p.qr,
                "marks": p.marks,
                "write_ins": _wis(p.write_ins),
                "scan_problem": p.scan_problem,
            }
            for p in papers
        ],
    }
    doc["outputs"] = reconciliation_outputs(result)
    return doc


def comparison_record(
    election: AuditedElection,
    readings: Mapping[str, Reading],
    result: ComparisonAudit,
    *,
    date: str,
) -> dict[str, Any]:
    """The signed part of a ballot-comparison record (A8)."""
    doc = _base(election, "comparison", date)
    doc["inputs"] = {
        "post": result.post,
        "round": result.round,
        "seed": result.seed,
        "risk_limit": result.risk_limit,
        "readings": [
            {
                "ballot_id": r.ballot_id,
                "found": r.found,
                "marks": r.marks,
                "write_ins": _wis(r.write_ins),
            }
            for _, r in sorted(readings.items())
        ],
    }
    doc["outputs"] = comparison_outputs(result)
    return doc


def _typed(value: Any, kind: type[Any], what: str) -> Any:
    """``value`` when it is a ``kind`` (never a bool for an int), else TypeError: a record's
    inputs are replayed only when each has the type the record format gives it (A12)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{what} is not {kind.__name__}")
    return value


def _recompute(election: AuditedElection, doc: Mapping[str, Any]) -> dict[str, Any]:
    inp = doc["inputs"]
    if doc["kind"] == "reconciliation":
        papers = [
            Paper(
                _typed(p["source"], str, "source"),
                _typed(p["qr"], str, "qr"),
                _typed(p["marks"], str, "marks"),
                _wis_of(p["write_ins"]),
                _typed(p["scan_problem"], str, "scan_problem"),
            )
            for p in inp["papers"]
        ]
        rounds = [(_typed(p, str, "post"), _typed(n, int, "round")) for p, n in inp["rounds"]]
        return reconciliation_outputs(reconcile(election, papers, rounds))
    readings = {
        r["ballot_id"]: Reading(
            _typed(r["ballot_id"], str, "ballot_id"),
            _typed(r["found"], bool, "found"),
            _typed(r["marks"], str, "marks"),
            _wis_of(r["write_ins"]),
        )
        for r in inp["readings"]
    }
    result = run_comparison(
        election,
        _typed(inp["post"], str, "post"),
        _typed(inp["round"], int, "round"),
        seed=_typed(inp["seed"], str, "seed"),
        risk_limit=_typed(inp["risk_limit"], int, "risk_limit"),
        readings=readings,
    )
    return comparison_outputs(result)


def sign_record(signed: Mapping[str, Any], auditors: Sequence[AuditorKey]) -> dict[str, Any]:
    """The whole ``audit-record/1`` document, signed by every auditor (A10).

    Raises:
        AuditRecordError: no auditor key given.
    """
    if not auditors:
        raise AuditRecordError(
            clause="A10",
            code="audit.no_auditor",
            zh="审计记录至少需要一名审计员签名",
            en="an audit record needs at least one auditor's signature",
        )
    message = canonical_bytes(signed)
    return {
        "format": FORMAT,
        "signed": dict(signed),
        "signatures": [
            {
                "label": k.label,
                "key": base64.b64encode(k.public_key).decode(),
                "signature": base64.b64encode(k.sign(message)).decode(),
            }
            for k in auditors
        ],
    }


def audit_dir_for(bundle: Path) -> Path:
    """``audit/`` beside the bundle: in the folder that holds the bundle folder or zip (A9)."""
    return bundle.resolve().parent / "audit"


def _existing(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for f in folder.iterdir() if (m := _NAME.fullmatch(f.name)))


def write_record(
    folder: Path, signed: Mapping[str, Any], auditors: Sequence[AuditorKey]
) -> tuple[Path, dict[str, Any]]:
    """Number, sign and store the record as ``<folder>/<n>.json`` atomically (A9).

    The bytes go to a temporary file in the same folder, are flushed, then hard-linked to the
    final name (which fails rather than replace a record) and the temporary file is removed.

    Raises:
        AuditRecordError: the folder or file cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            number = (_existing(folder) or [0])[-1] + 1
            previous = (  # the chain (A15)
                record_hash(read_regular(folder / f"{number - 1}.json", _LIMIT, clause="A9"))
                if number > 1
                else GENESIS
            )
            doc = sign_record({**signed, "number": number, "previous": previous}, auditors)
            data = canonical_bytes(doc)
            fd, tmp = tempfile.mkstemp(prefix=".audit-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                final = folder / f"{number}.json"
                try:
                    os.link(tmp, final)
                except FileExistsError:
                    continue
                return final, doc
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
    except OSError as e:
        raise AuditRecordError(
            clause="A9",
            code="audit.record_write",
            zh=f"无法写入审计记录（{folder}）",
            en=f"cannot write the audit record in {folder}: {e}",
        ) from e
    raise AuditRecordError(
        clause="A9",
        code="audit.record_write",
        zh="无法为审计记录编号",
        en="cannot number the record",
    )


# ------------------------------------------------------------------------- checking


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The outcome of ``check_audit_records``: the records checked and every failure found.

    ``auditors`` are the appointed auditors' (name, fingerprint) pairs (A14); ``head`` is the hash
    of the newest record (GENESIS for none); ``head_checked`` says whether a town-countersigned or
    published head was given and compared (A15): without it the completeness is unchecked.
    """

    folder: str
    records: int
    findings: tuple[Finding, ...]
    auditors: tuple[tuple[str, str], ...] = ()
    head: str = GENESIS
    head_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings


_SIGNED: Final = frozenset(
    {
        "format",
        "number",
        "kind",
        "election_id",
        "bundle_index_sha256",
        "bundle_root",
        "previous",
        "date",
        "inputs",
        "outputs",
    }
)


def _finding(
    clause: str,
    code: str,
    zh: str,
    en: str,
    *,
    file: str = "",
    expected: str = "",
    found: str = "",
    path: str = "",
) -> Finding:
    return Finding(
        clause=clause, code=code, zh=zh, en=en, file=file, expected=expected, found=found, path=path
    )


def _check_one(
    path: Path,
    number: int,
    *,
    election: AuditedElection,
    auditors: frozenset[str] | None,
    appointment: Appointment | None,
    previous: str,
    out: list[Finding],
) -> tuple[dict[str, Any] | None, str]:
    """Check one record file; return its signed part (None when unreadable) and its hash."""
    name = f"audit/{path.name}"

    def fail(
        clause: str,
        code: str,
        zh: str,
        en: str,
        *,
        expected: str = "",
        found: str = "",
        path: str = "",
    ) -> None:
        out.append(
            _finding(clause, code, zh, en, file=name, expected=expected, found=found, path=path)
        )

    try:
        data = read_regular(path, _LIMIT, clause="A9", label=name)
        doc = parse_canonical(data, clause="A9", path=name)
    except VerificationError as e:
        fail("A9", "audit.record_unreadable", "审计记录无法读取或不是规范 JSON", f"unreadable: {e}")
        return None, ""
    this = record_hash(data)
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "signed", "signatures"}
        or doc["format"] != FORMAT
        or not isinstance(doc["signed"], dict)
        or set(doc["signed"]) != _SIGNED
        or doc["signed"]["format"] != FORMAT
        or doc["signed"]["kind"] not in ("reconciliation", "comparison")
        or not isinstance(doc["signatures"], list)
    ):
        fail("A9", "audit.record_format", "不是 audit-record/2 审计记录", "not an audit-record/2")
        return None, this
    signed = doc["signed"]
    if signed["number"] != number:  # (A9)
        fail(
            "A9",
            "audit.record_number",
            "记录编号与文件名不符",
            "number differs from the file name",
            expected=str(number),
            found=str(signed["number"]),
        )
    if signed["previous"] != previous:  # (A15) the chain
        fail(
            "A15",
            "audit.chain_broken",
            "审计记录未指向前一份记录（记录被删除、替换或重新排序）",
            "the record does not name the previous record's hash (deleted, replaced or reordered)",
            expected=previous,
            found=str(signed["previous"]),
        )
    if signed["election_id"] != election.election_id.hex():  # (A11)
        fail(
            "A11",
            "audit.other_election",
            "审计记录属于另一场选举",
            "record of another election",
            expected=election.election_id.hex(),
            found=str(signed["election_id"]),
        )
    if signed["bundle_index_sha256"] != election.index_sha256:
        fail(
            "A11",
            "audit.other_bundle",
            "审计记录针对的结果包不同（index.json 哈希不符）",
            "record of another bundle (index.json hash differs)",
            expected=election.index_sha256,
            found=str(signed["bundle_index_sha256"]),
        )
    if signed["bundle_root"] != election.root:
        fail(
            "A11",
            "audit.other_root",
            "审计记录针对的日志根哈希不同（最后检查点不符）",
            "record of another log (the final checkpoint's root differs)",
            expected=election.root,
            found=str(signed["bundle_root"]),
        )
    message = canonical_bytes(signed)  # (A10)
    if not doc["signatures"]:
        fail("A10", "audit.unsigned", "审计记录没有签名", "the record has no signature")
    for i, s in enumerate(doc["signatures"]):
        # no unknown member (A12.12)
        shaped = isinstance(s, dict) and set(s) == {"label", "key", "signature"}
        key = b64decode_canonical(s.get("key") if shaped else None, 32)
        sig = b64decode_canonical(s.get("signature") if shaped else None, 64)
        if key is None or sig is None:
            fail(
                "A10",
                "audit.signature_format",
                "签名格式无效",
                "malformed signature",
                path=f"signatures[{i}]",
            )
            continue
        try:
            ed25519.verify(ed25519.load_key(key), sig, RECORD_DOMAIN + b"\x00" + message)
        except ed25519.InvalidEd25519Error:
            fail(
                "A10",
                "audit.signature_invalid",
                "审计员签名无效",
                "an auditor's signature is invalid",
                path=f"signatures[{i}]",
            )
            continue
        if appointment is not None and appointment.name_of(key) is None:  # (A14)
            fail(
                "A14",
                "audit.unappointed_auditor",
                "签名的密钥不是镇党委任命的审计员",
                "signed by a key the town committee did not appoint",
                path=f"signatures[{i}]",
                found=fingerprint(key),
            )
        if auditors is not None and fingerprint(key) not in auditors:
            fail(
                "A10",
                "audit.unknown_auditor",
                "签名的审计员不在给定名单中",
                "signed by a key not among the auditors given",
                path=f"signatures[{i}]",
                found=fingerprint(key),
            )
    try:  # (A12)
        again = _recompute(election, signed)
    except (AuditError, KeyError, TypeError, ValueError) as e:
        fail(
            "A12",
            "audit.inputs_invalid",
            "审计记录的输入无法重新计算",
            f"inputs cannot be replayed: {e}",
        )
        return None, this
    if canonical_bytes(again) != canonical_bytes(signed["outputs"]):
        fail(
            "A12",
            "audit.outputs_differ",
            "重新计算的审计结果与记录不符",
            "the recomputed outputs differ from the record",
        )
        return None, this
    return signed, this


def _appointment(folder: Path, election: AuditedElection, out: list[Finding]) -> Appointment | None:
    """Read ``audit/appointment.json`` (A14); a finding and None when missing or invalid."""
    name = f"audit/{APPOINTMENT_FILE}"
    file = folder / APPOINTMENT_FILE
    try:
        data = read_regular(file, _LIMIT, clause="A14", label=name)
    except InputFileError:
        out.append(
            _finding(
                "A14",
                "audit.no_appointment",
                "没有镇党委签署的审计员任命书（audit/appointment.json）",
                "no town-signed auditor appointment (audit/appointment.json)",
                file=name,
            )
        )
        return None
    try:
        appointment = parse_appointment(data, town_key=election.town_key, path=name)
    except BindingError as e:
        out.append(_finding(e.clause, e.code, e.zh, e.en, file=name))
        return None
    if appointment.election_id != election.election_id.hex():
        out.append(
            _finding(
                "A14",
                "audit.appointment_other_election",
                "审计员任命书属于另一场选举",
                "the appointment is for another election",
                file=name,
                expected=election.election_id.hex(),
                found=appointment.election_id,
            )
        )
        return None
    return appointment


def _check_head(
    head: AuditHead, newest: str, records: int, election: AuditedElection, out: list[Finding]
) -> None:
    """Compare the given head with the chain's newest record (A15)."""
    eid = election.election_id.hex()
    if head.election_id is not None and head.election_id != eid:
        out.append(
            _finding(
                "A15",
                "audit.head_other_election",
                "审计链头属于另一场选举",
                "the audit head is for another election",
                expected=eid,
                found=head.election_id,
            )
        )
    if head.head != newest or (head.records is not None and head.records != records):
        out.append(
            _finding(
                "A15",
                "audit.head_mismatch",
                "审计记录与镇党委确认的链头不符：有记录被删除、替换或增加",
                "the audit records do not end at the given head: a record was deleted, "
                "replaced or added",
                file="audit/",
                expected=head.head + ("" if head.records is None else f" ({head.records} records)"),
                found=f"{newest} ({records} records)",
            )
        )


def check_audit_records(
    bundle_path: Path,
    *,
    audit_dir: Path | None = None,
    auditors: Sequence[str] | None = None,
    election: AuditedElection | None = None,
    head: AuditHead | None = None,
) -> AuditCheck:
    """Check every ``audit/<n>.json`` beside a bundle that has just passed verification.

    Clauses A9-A12 for each record, A14 (appointed auditors), A15 (the chain and, when ``head``
    is given, its head), A16 (discrepancies settled).

    Args:
        bundle_path: the bundle folder or zip (already verified by the caller).
        audit_dir: where the records are (default: ``audit/`` beside the bundle).
        auditors: the 25-digit fingerprints of the auditors' keys to accept, in addition to
            the appointment (None: every appointed key).
        election: the loaded election, when the caller has it.
        head: the town-countersigned or published head; None leaves the completeness unchecked.

    Returns:
        The records checked and each failure with its clause; ``ok`` when there is none.
        No folder means no records: ok with 0 records unless a head names records.
    """
    folder = audit_dir or audit_dir_for(bundle_path)
    out: list[Finding] = []
    if not folder.is_dir():
        if head is not None:
            if election is None:
                election = load_election(bundle_path, None, verify=False)
            _check_head(head, GENESIS, 0, election, out)
        return AuditCheck(
            folder=str(folder), records=0, findings=tuple(out), head_checked=head is not None
        )
    if election is None:
        election = load_election(bundle_path, None, verify=False)
    numbers = _existing(folder)
    for f in sorted(folder.iterdir()):
        if _NAME.fullmatch(f.name) is None and f.name != APPOINTMENT_FILE:
            out.append(
                _finding(
                    "A9",
                    "audit.extra_file",
                    "审计文件夹中有其他文件",
                    "unexpected file in the audit folder",
                    file=f"audit/{f.name}",
                )
            )
    if numbers != list(range(1, len(numbers) + 1)):
        out.append(
            _finding(
                "A9",
                "audit.numbering",
                "审计记录编号不连续",
                "records are not numbered 1..n",
                found=str(numbers),
            )
        )
    appointment = _appointment(folder, election, out) if numbers else None
    accepted = None if auditors is None else frozenset(auditors)
    previous = GENESIS
    chain: list[dict[str, Any]] = []
    for n in numbers:
        signed, previous = _check_one(
            folder / f"{n}.json",
            n,
            election=election,
            auditors=accepted,
            appointment=appointment,
            previous=previous,
            out=out,
        )
        if signed is not None:
            chain.append(signed)
    for number, rounds in unsettled(chain):  # (A16)
        out.append(
            _finding(
                "A16",
                "audit.discrepancy_unsettled",
                "审计记录发现了不符之处，且没有后来的全面清点予以解决",
                "the record found discrepancies and no later full count settles them",
                file=f"audit/{number}.json",
                found=", ".join(f"{p} {r}" for p, r in rounds),
            )
        )
    if head is not None:
        _check_head(head, previous, len(numbers), election, out)
    return AuditCheck(
        folder=str(folder),
        records=len(numbers),
        findings=tuple(out),
        auditors=appointment.listed() if appointment is not None else (),
        head=previous,
        head_checked=head is not None,
    )
