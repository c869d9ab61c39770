"""``verifier procedure``: V20-V31 on a branch's procedure bundle (spec/procedure.md RP-12.1, §13).

The bundle (``procedure-bundle/1``) is opened by the bounded readers of ``verifier.bundle`` and
checked from spec/procedure.md alone, every failure reported with its clause (the finer RP clause
as ``rule``), the findings capped as ``verifier.casework`` caps them:

* V20 the layout and index of RP-12.1 (``pbundle.*``), the index's procedure id;
* V21 ``signed-procedure/1`` by the trust root's town key, the procedure id, ``procedure/1``'s
  shape (``verifier.procedure.definition``) and every check of RP-2.4
  (``verifier.procedure.definition_checks``);
* V22 the log (``verifier.procedure.log``) and its checkpoints
  (``verifier.procedure.checkpoints``);
* V23, V25-V28, V30 in ``verifier.procedure.recounts``; V31's appointment part with
  ``--casework``;
* V29 with ``--election`` in ``verifier.procedure.binding``.

What is not built yet is listed in the report as not checked, never as passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from verifier.bundle import Bundle, open_bundle, read_file
from verifier.canonical import DOCUMENT_LIMIT, parse_canonical
from verifier.checks.common import TownKey
from verifier.checks.findings import ListFindings
from verifier.checks.indexed_bundle import IndexedBundle, check_indexed_layout
from verifier.crypto import PublicKey, parse_pubkey_value
from verifier.errors import VerificationError
from verifier.procedure.checkpoints import check_checkpoints, expected_reasons
from verifier.procedure.definition import CountingDefinition, parse_counting
from verifier.procedure.definition_checks import definition_problems
from verifier.procedure.log import ProcedureLog, read_log
from verifier.report import Finding
from verifier.town_signed import Refusals, read_town_signed

__all__ = ["PROCEDURE_DOMAIN", "ProcedureReport", "Signed", "verify_procedure"]

PROCEDURE_DOMAIN: Final = b"branch-election/procedure/1"
_FIXED: Final = ("procedure.json", "log.jsonl", "checkpoints.json", "ballots.jsonl")
_STOCK: Final = re.compile(
    r"stocks/(?:(?:member|public)-(?:committee|secretary|deputy_secretary)|evaluation)"
    r"-[1-9][0-9]{0,3}(?:-[1-9][0-9]{0,3})?\.json"
)


@dataclass(frozen=True, slots=True)
class ProcedureReport:
    """The outcome of V20-V31 on a procedure bundle; ``ok`` only when nothing failed."""

    bundle: str
    findings: tuple[Finding, ...]
    omitted: int
    warnings: tuple[Finding, ...]
    not_checked: tuple[tuple[str, str, str], ...]
    """(clause, zh, en) of each check not made."""
    unchecked: tuple[str, ...] = ()
    """Clauses not checked at all (V29 without ``--election``), never ``partial``."""
    procedure_id: str = ""
    branch: str = ""
    entries: int = 0
    summary: Any = None
    """What RP-13.1's tables are made from (``report_tables.Recounted``), or None when the log
    could not be read."""

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True, slots=True)
class Signed:
    """The signed definition as read: the id, the raw ``procedure/1`` value, its counting parts
    and keys."""

    procedure_id: str
    value: dict[str, Any]
    counting: CountingDefinition
    town: PublicKey
    work_group: PublicKey
    scrutineers: tuple[PublicKey, ...]


class _Run:
    def __init__(self, bundle: Bundle, town: TownKey) -> None:
        self.b = bundle
        self.town = town
        self.f = ListFindings("V22")
        self.not_checked: list[tuple[str, str, str]] = []
        self.unchecked: list[str] = []
        self.digests: dict[str, tuple[str | None, int]] = {}

    def skip(self, clause: str, zh: str, en: str) -> None:
        self.not_checked.append((clause, zh, en))

    def doc(self, name: str, clause: str) -> Any:
        if name not in self.b.names():
            return None
        try:
            return parse_canonical(
                read_file(self.b, name, DOCUMENT_LIMIT), clause=clause, path=name
            )
        except VerificationError as e:
            self.f.fail(e.code, e.zh, e.en, clause=clause, file=name, path=e.path)
            return None


def verify_procedure(
    path: Path, town: TownKey, casework: Any = None, election: Any = None
) -> ProcedureReport:
    """(V20-V31) Verify a procedure bundle (folder or zip) against the town key; ``casework`` is
    a ``verifier.casework.CaseworkReport`` of the town's casework bundle, or None; ``election``
    a ``verifier.procedure.binding.ElectionBundle`` (``read_election``), or None.

    Raises:
        BundleOpenError: the bundle cannot be read at all (exit 2).
    """
    from verifier.procedure.binding import check_binding  # noqa: PLC0415 - a cycle otherwise
    from verifier.procedure.recounts import check_recounts  # noqa: PLC0415 - a cycle otherwise

    bundle, problems = open_bundle(path)
    run = _Run(bundle, town)
    for p in problems:
        run.f.fail("p" + p.code, p.zh, p.en, clause="V20", path=p.path, rule="RP-12.1")
    if any(p.fatal for p in problems):
        run.skip("V20", "结果包无法安全读取，其余未检查", "the bundle cannot be read safely")
        return _report(run, str(path))
    index_id = _layout(run)
    signed = _definition(run)
    if signed is None:
        run.skip("V22", "程序定义无效，日志未检查", "the definition failed: the log not checked")
        return _report(run, str(path))
    if index_id is not None and index_id != signed.procedure_id:
        run.f.fail(
            "pbundle.procedure_id",
            "索引中的程序标识不符",
            "the index names another procedure id",
            clause="V20",
            file="index.json",
            expected=signed.procedure_id,
            found=index_id,
        )
    log = read_log(bundle, signed.procedure_id, run.f.fail)
    _entries(run, log)
    checkpoints = check_checkpoints(
        run.f,
        run.doc("checkpoints.json", "V22"),
        signed.procedure_id,
        work_group=signed.work_group,
        scrutineers=signed.scrutineers,
        leaves=log.leaves,
        expected=expected_reasons(log.entries),
        read_to=len(log.entries) if log.stopped else None,
    )
    if log.stopped:
        run.skip(
            "V22",
            f"日志在序号 {len(log.entries)} 的记录处中止读取，其后的检查点未按应有时刻核对",
            f"reading the log stopped at the entry of seq {len(log.entries)}: the checkpoints "
            "after it are not checked against the moments due",
        )
        run.skip(
            "V23-V30",
            "日志无法完整读取，重新计票未进行",
            "the log could not be read: nothing recounted",
        )
        return _report(run, str(path), signed, log)
    summary = check_recounts(run, signed, log, checkpoints, casework)
    check_binding(run, signed, log.entries, election)
    return _report(run, str(path), signed, log, summary)


def _report(
    run: _Run,
    name: str,
    signed: Signed | None = None,
    log: ProcedureLog | None = None,
    summary: Any = None,
) -> ProcedureReport:
    election = signed.value.get("election") if signed else None
    return ProcedureReport(
        bundle=name,
        findings=tuple(run.f.items),
        omitted=run.f.omitted,
        warnings=tuple(run.f.warnings),
        not_checked=tuple(run.not_checked),
        unchecked=tuple(run.unchecked),
        procedure_id=signed.procedure_id if signed else "",
        branch=str(election.get("branch_code", "")) if isinstance(election, dict) else "",
        entries=len(log.leaves) if log else 0,
        summary=summary,
    )


def _entries(run: _Run, log: ProcedureLog) -> None:
    entries = run.digests.get("#entries", (None, len(log.leaves)))[1]
    if entries != len(log.leaves):
        run.f.fail(
            "pbundle.entries",
            "索引的记录数与日志不符",
            "the index's entry count differs from the log",
            clause="V20",
            file="index.json",
            expected=str(len(log.leaves)),
            found=str(entries),
        )


# --------------------------------------------------------------------------- V20 layout and index


_WHERE: Final = {"clause": "V20", "rule": "RP-12.1"}
_LAYOUT: Final = IndexedBundle(
    prefix="pbundle",
    extra_zh="换届程序结果包中有不应有的文件",
    extra_en="a file that a procedure bundle may not hold (RP-12.1)",
    fixed=_FIXED,
    allowed=lambda name: name == "calendar.json" or _STOCK.fullmatch(name) is not None,
    index_format="procedure-bundle-index/1",
    id_member="procedure_id",
    file_where=_WHERE,
    index_where=_WHERE,
    item_where={"file": "index.json", **_WHERE},
)


def _layout(run: _Run) -> str | None:
    """(V20, RP-12.1) Exactly the bundle's files, each as the index says; the index's id."""
    return check_indexed_layout(
        _LAYOUT, run.f, run.b, run.digests, lambda: run.doc("index.json", "V20")
    )


# --------------------------------------------------------------------------- V21 the definition


_REFUSALS: Final = Refusals(
    shape="procedure.format",
    key_role="procedure.town_role",
    other_town=(
        "procedure.town_key",
        "程序定义不是由给定的镇党委密钥签署",
        "the procedure is signed by another town key than the trust root",
    ),
    signature=(
        "procedure.signature",
        "程序定义没有有效的镇党委签名",
        "the procedure definition lacks a valid town signature",
    ),
)


def _definition(run: _Run) -> Signed | None:
    """(V21, RP-2.3) ``signed-procedure/1`` by the trust root; None when it cannot be used."""
    signed = read_town_signed(
        run.f,
        run.doc("procedure.json", "V21"),
        present="procedure.json" in run.b.names(),
        trust=run.town,
        member="procedure",
        fmt="signed-procedure/1",
        domain=PROCEDURE_DOMAIN,
        refusals=_REFUSALS,
        where={"clause": "V21", "file": "procedure.json", "rule": "RP-2.3"},
    )
    return None if signed is None else _parse(run, signed.value, signed.id, signed.town)


def _parse(run: _Run, value: dict[str, Any], pid: str, town: PublicKey) -> Signed | None:
    """(V21, RP-2.1, RP-2.4) The shape, then every check of RP-2.4, all reported; a definition
    with a problem is refused as a whole (the log is then not checked)."""
    where = {"clause": "V21", "file": "procedure.json", "rule": "RP-2.1"}
    try:
        counting = parse_counting(value)
    except VerificationError as e:
        run.f.fail(e.code, e.zh, e.en, path=e.path, **where)
        return None
    problems = definition_problems(value)
    for p in problems:
        run.f.fail(p.code, p.zh, p.en, path=p.path, **(where | {"rule": p.rule}))
    if problems:
        return None
    try:
        keys = value["keys"]
        work_group = parse_pubkey_value(
            keys["work_group"], path="keys.work_group", role="work_group"
        )
        scrutineers = tuple(
            parse_pubkey_value(k, path=f"keys.scrutineers[{i}]", role="scrutineer")
            for i, k in enumerate(keys["scrutineers"])
        )
    except VerificationError as e:
        run.f.fail(e.code, e.zh, e.en, path=e.path, **where)
        return None
    except (KeyError, TypeError):
        run.f.fail(
            "procedure.keys",
            "程序定义的密钥无效",
            "the definition's keys are not readable",
            path="procedure.keys",
            **where,
        )
        return None
    return Signed(pid, value, counting, town, work_group, scrutineers)
