"""The ``verifier procedure`` report (spec/procedure.md RP-13.1): text in Chinese by default,
English by ``--lang en``, or JSON (``procedure-verification/1``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Final

from verifier.procedure.bundle import ProcedureReport
from verifier.procedure.report_tables import procedure_tables
from verifier.procedure.report_text import render_tables

__all__ = ["render_procedure_json", "render_procedure_text"]

WARNINGS_SHOWN: Final = 5
CLAUSES: Final = ("V20", "V21", "V22", "V23", "V24", "V25", "V26", "V27", "V28", "V29", "V30")


#: Clauses the verifier does not build yet at all (V29 needs ``--election``, not built either).
UNBUILT: Final = ("V29",)


def _status(report: ProcedureReport, clause: str) -> str:
    """``failed``; ``not_checked`` (not built, or the log could not be read); ``partial`` (some
    of its checks are listed as not made); ``passed``."""
    if any(f.clause == clause for f in report.findings):
        return "failed"
    skipped = {n[0] for n in report.not_checked}
    no_appointment = clause == "V30" and not (
        report.summary is not None and report.summary.has("appointment.recorded")
    )
    if clause in UNBUILT or no_appointment or ("V23-V30" in skipped and "V23" <= clause <= "V30"):
        return "not_checked"
    if clause in skipped or (clause >= "V22" and "V22" in skipped):
        return "not_checked" if clause >= "V22" and "V22" in skipped else "partial"
    return "passed"


def _procedure(report: ProcedureReport) -> dict[str, Any] | None:
    """(RP-13.1) The tables, each gated by its clauses' statuses (V31's too)."""
    if report.summary is None:
        return None
    status = {c: _status(report, c) for c in (*CLAUSES, "V31")}
    return procedure_tables(report.summary, status)


def render_procedure_text(report: ProcedureReport, lang: str = "zh") -> str:
    """The report as text, one line per clause, then each finding, warning and what was not
    checked."""
    zh = lang != "en"
    words = {
        "passed": ("通过", "passed"),
        "failed": ("未通过", "FAILED"),
        "not_checked": ("未核验", "not checked"),
        "partial": ("部分核验，通过", "partly checked, passed"),
    }
    lines = [
        ("换届程序结果包核验：" if zh else "procedure bundle verification: ") + report.bundle,
        ("程序标识：" if zh else "procedure id: ") + (report.procedure_id or "-"),
        ("日志记录数：" if zh else "log entries: ") + str(report.entries),
    ]
    for clause in CLAUSES:
        word = words[_status(report, clause)]
        lines.append(f"{clause} {word[0] if zh else word[1]}")
    if "V31" in {f.clause for f in report.findings}:
        lines.append("V31 " + ("未通过" if zh else "FAILED"))
    for f in report.findings:
        where = f.where()
        lines.append(
            f"  {f.clause} {f.code}: {f.zh if zh else f.en}"
            + (f"（{where}）" if zh and where else f" ({where})" if where else "")
        )
    if report.omitted:
        lines.append(
            f"  另有 {report.omitted} 项同类问题未列出"
            if zh
            else f"  {report.omitted} more findings of the same codes"
        )
    for w in report.warnings[:WARNINGS_SHOWN]:
        where = f" ({w.where()})" if w.where() else ""
        lines.append(
            ("  提示 " if zh else "  warning ") + f"{w.code}: {w.zh if zh else w.en}{where}"
        )
    if len(report.warnings) > WARNINGS_SHOWN:
        more = len(report.warnings) - WARNINGS_SHOWN
        lines.append(
            f"  另有 {more} 项提示（见 --json）" if zh else f"  {more} more warnings (--json)"
        )
    for clause, z, e in report.not_checked:
        lines.append(("  未核验 " if zh else "  not checked ") + f"{clause}: {z if zh else e}")
    if report.summary is not None:
        lines.extend(render_tables(_procedure(report), lang))
    lines.append(
        ("结论：通过" if zh else "result: passed")
        if report.ok
        else ("结论：未通过" if zh else "result: FAILED")
    )
    return "\n".join(lines)


def render_procedure_json(report: ProcedureReport) -> str:
    """The report as JSON: ``ok``, each clause's status, findings, warnings, not checked, and
    RP-13.1's ``procedure`` object."""
    doc: dict[str, Any] = {
        "format": "procedure-verification/1",
        "ok": report.ok,
        "bundle": report.bundle,
        "procedure_id": report.procedure_id,
        "branch": report.branch,
        "entries": report.entries,
        "clauses": {c: _status(report, c) for c in CLAUSES},
        "findings": [asdict(f) for f in report.findings],
        "omitted": report.omitted,
        "warnings": [asdict(w) for w in report.warnings],
        "not_checked": [{"clause": c, "zh": z, "en": e} for c, z, e in report.not_checked],
        "procedure": _procedure(report),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
