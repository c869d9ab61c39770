"""The casework report (V31) in Simplified Chinese (default), English, or JSON. Presentation
only: the checks are in ``verifier.casework``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Final

from verifier.casework import CaseworkReport

__all__ = ["render_casework_json", "render_casework_text"]

_FINDING_ZH: Final = {
    "substantiated": "属实",
    "partly_substantiated": "部分属实",
    "unsubstantiated": "不属实",
    "not_competent": "不属于换届纪律或选举问题",
    "duplicate": "重复反映",
}
_STATE_ZH: Final = {"received": "已受理", "assigned": "已交办", "checked": "已核实"}


def render_casework_text(report: CaseworkReport, lang: str = "zh") -> str:
    """The plain-language report; ``lang`` is ``zh`` (default) or ``en``."""
    zh = lang != "en"
    out = [("事项登记簿核验报告：" if zh else "Casework verification report: ") + report.bundle]
    if report.casework_id:
        out.append(("登记簿标识：" if zh else "Casework id: ") + report.casework_id)
        out.append(
            f"{report.town}：记录 {report.entries} 条，直报员 {report.reporters} 名"
            if zh
            else f"{report.town}: {report.entries} entries, {report.reporters} reporters"
        )
    if zh:
        out.append("V31 事项登记簿：" + ("通过" if report.ok else "未通过"))
    else:
        out.append("V31 Casework: " + ("passed" if report.ok else "FAILED"))
    for f in report.findings:
        where = ", ".join(
            x for x in (f.file, f"seq {f.seq}" if f.seq is not None else "", f.path) if x
        )
        line = f"  - [{f.code}] {f.zh if zh else f.en}"
        if where:
            line += f"（{where}）" if zh else f" ({where})"
        if f.expected:
            line += f" 应为 {f.expected}" if zh else f" expected {f.expected}"
        if f.found:
            line += f" 实为 {f.found}" if zh else f" found {f.found}"
        out.append(line)
    if report.omitted:
        out.append(
            f"  另有 {report.omitted} 项同类问题未列出"
            if zh
            else f"  {report.omitted} further findings of the same codes not listed"
        )
    for zh_text, en_text in report.not_checked:
        out.append(("  未检查：" if zh else "  not checked: ") + (zh_text if zh else en_text))
    if report.warnings:
        out.append("提示（不影响核验结果）：" if zh else "Warnings (not failures):")
        out.extend(f"  - [{w.code}] {w.zh if zh else w.en}" for w in report.warnings)
    out.extend(_cases(report, zh))
    return "\n".join(out) + "\n"


def _cases(report: CaseworkReport, zh: bool) -> list[str]:
    if not report.cases:
        return []
    out = ["各支部事项：" if zh else "Cases per branch:"]
    for branch in sorted({c.branch for c in report.cases}):
        for kind, kind_zh in (("objection", "异议"), ("report", "民情直报")):
            mine = [c for c in report.cases if c.branch == branch and c.kind == kind]
            if not mine:
                continue
            done = Counter(c.finding for c in mine if c.state == "concluded")
            still = Counter(c.state for c in mine if c.state != "concluded")
            if zh:
                parts = [f"{_FINDING_ZH.get(k, k)} {n}" for k, n in sorted(done.items())]
                parts += [f"{_STATE_ZH.get(k, k)} {n}" for k, n in sorted(still.items())]
                out.append(f"  {branch} {kind_zh}：收到 {len(mine)} 件；" + "，".join(parts))
            else:
                parts = [f"{k} {n}" for k, n in sorted({**done, **still}.items())]
                out.append(f"  {branch} {kind}s: {len(mine)} received; " + ", ".join(parts))
    return out


def render_casework_json(report: CaseworkReport) -> str:
    """The report as JSON (``ok``, the clause's findings, warnings, cases)."""
    doc = {
        "format": "casework-verification/1",
        "ok": report.ok,
        "clause": "V31",
        "status": "passed" if report.ok else "failed",
        "bundle": report.bundle,
        "casework_id": report.casework_id,
        "town": report.town,
        "entries": report.entries,
        "reporters": report.reporters,
        "findings": [asdict(f) for f in report.findings],
        "omitted": report.omitted,
        "warnings": [asdict(w) for w in report.warnings],
        "not_checked": [{"zh": z, "en": e} for z, e in report.not_checked],
        "cases": [asdict(c) for c in report.cases],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
