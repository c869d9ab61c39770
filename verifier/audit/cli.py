"""``verifier audit ...``: the paper-audit commands (thin shell over the audit core).

Wire in with ``app.add_typer(audit_app, name="audit")`` (or ``register(app)``).

Exit status: 0 the paper confirms the outcome (and, for ``reconcile``, no discrepancy); 1
discrepancies found or the outcome differs; 2 bad input, unreadable scan, bundle failing
verification; 3 (``rla``) more ballots must be fetched first (nothing written).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from verifier.audit.binding import parse_head
from verifier.audit.comparison import Reading, run_comparison
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.errors import AuditError, AuditInputError
from verifier.audit.marks import MarksLine, parse_marks_file
from verifier.audit.reconcile import Paper, identify, reconcile
from verifier.audit.record import (
    AuditCheck,
    audit_dir_for,
    check_audit_records,
    comparison_record,
    load_auditor_key,
    new_auditor_key,
    reconciliation_record,
    write_record,
)
from verifier.audit.scan import ScannedPage, read_scan
from verifier.errors import VerificationError
from verifier.report import Finding

__all__ = ["audit_app", "ballot_code", "register", "verify_audit"]

audit_app = typer.Typer(add_completion=False, help="纸质选票审计 / paper-ballot audit")

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_KIND_TEXT: Final = {
    "missing": ("记录中有、纸质选票中没有", "in the record, not on paper"),
    "extra": ("纸质选票中有、记录中没有", "on paper, not in the record"),
    "counterfeit": ("伪造选票", "counterfeit"),
    "foreign": ("其他选举或轮次的选票", "another election or round"),
    "duplicate": ("重复的选票", "duplicate"),
    "marks_differ": ("标记不符", "marks differ"),
    "unreadable": ("无法识读的纸张", "unreadable sheet"),
}

TownOpt = Annotated[str, typer.Option("--town-key", help="镇党委公钥文件或25位指纹 / town key")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh 或 en")]
KeysOpt = Annotated[
    list[Path], typer.Option("--auditor-key", help="审计员密钥文件（可多次）/ auditor key file")
]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="审计报告 PDF / report PDF")]
DirOpt = Annotated[
    Path | None, typer.Option("--audit-dir", help="审计记录文件夹（默认：结果包旁的 audit/）")
]
DateOpt = Annotated[str, typer.Option("--date", help="审计日期 YYYY-MM-DD（默认今天）")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON / JSON output")]


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to the verifier's app."""
    app.add_typer(audit_app, name="audit")


def ballot_code(ballot_id: str) -> str:
    """The printed ballot code (spec/ballot-qr.md §3.3): 40 bits, Crockford base32, XXXX-XXXX."""
    n = int(ballot_id[:10], 16)
    chars = "".join(_CROCKFORD[(n >> (35 - 5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _fail(e: VerificationError, lang: str) -> typer.Exit:
    typer.echo(e.en if lang == "en" else e.zh, err=True)
    return typer.Exit(2)


def _load(bundle: Path, town_key: str) -> AuditedElection:
    from verifier.checks import TownKey  # noqa: PLC0415
    from verifier.cli import parse_town_key  # noqa: PLC0415

    town: TownKey = parse_town_key(town_key)
    return load_election(bundle, town)


def _date(text: str) -> str:
    if not text:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as e:
        raise AuditInputError(
            clause="A8", code="audit.bad_date", zh="日期格式应为 YYYY-MM-DD", en="date: YYYY-MM-DD"
        ) from e


class _Scans:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.cache: dict[Path, tuple[ScannedPage, ...]] = {}

    def page(self, line: MarksLine) -> ScannedPage:
        path = Path(line.image)
        if not path.is_absolute():
            path = self.base / path
        if path not in self.cache:
            self.cache[path] = read_scan(path)
        pages = self.cache[path]
        if line.page > len(pages):
            raise AuditInputError(
                clause="A3",
                code="audit.no_such_page",
                zh=f"标记文件第 {line.line} 行：{line.image} 没有第 {line.page} 页",
                en=f"marks line {line.line}: {line.image} has no page {line.page}",
            )
        return pages[line.page - 1]


def _paper(line: MarksLine, scans: _Scans) -> Paper:
    if line.qr:
        return Paper(f"line {line.line}", line.qr, line.marks, line.write_ins)
    if not line.image:
        raise AuditInputError(
            clause="A3",
            code="audit.needs_paper",
            zh=f"标记文件第 {line.line} 行：全面核对须给出扫描图像或二维码文本",
            en=f"marks line {line.line}: a reconciliation needs an image or the QR text",
        )
    page = scans.page(line)
    source = f"{line.image}#{line.page}"
    if not page.texts:
        problem = "scan.unreadable_qr" if page.unreadable else "scan.no_qr"
        return Paper(source, "", line.marks, line.write_ins, problem)
    if len(page.texts) > 1:
        raise AuditInputError(
            clause="A3",
            code="audit.several_qr",
            zh=f"{source}：一页上有 {len(page.texts)} 个二维码，请每页只扫描一张选票",
            en=f"{source}: {len(page.texts)} QR codes on one page; scan one ballot per page",
        )
    return Paper(source, page.texts[0], line.marks, line.write_ins)


def _auditors(paths: list[Path]) -> list[Any]:
    if not paths:
        raise AuditInputError(
            clause="A10",
            code="audit.no_auditor",
            zh="请用 --auditor-key 给出至少一名审计员的密钥",
            en="give at least one --auditor-key",
        )
    return [load_auditor_key(p) for p in paths]


@audit_app.command()
def keygen(
    label: Annotated[str, typer.Option("--label", help="审计员姓名 / auditor's name")],
    out: Annotated[Path, typer.Option("--out", help="密钥文件 / key file to create")],
    lang: LangOpt = "zh",
) -> None:
    """生成审计员签名密钥 / create an auditor's signing key (audit-key/1)."""
    try:
        key = new_auditor_key(label, out)
    except AuditError as e:
        raise _fail(e, lang) from e
    typer.echo(("指纹：" if lang != "en" else "fingerprint: ") + key.fingerprint)
    # what the town committee names in the appointment (tally audit appoint --auditor NAME:KEY)
    typer.echo(
        ("公钥：" if lang != "en" else "public key: ") + base64.b64encode(key.public_key).decode()
    )


@audit_app.command(name="reconcile")
def reconcile_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
    bundle: Annotated[Path, typer.Argument(help="结果包 / bundle")],
    town_key: TownOpt,
    marks: Annotated[Path, typer.Option("--marks", help="标记文件 JSONL / marks file")],
    auditor_key: KeysOpt,
    report: ReportOpt = None,
    audit_dir: DirOpt = None,
    date: DateOpt = "",
    lang: LangOpt = "zh",
    as_json: JsonOpt = False,
) -> None:
    """全面核对：每张纸质选票与记录比对 / full reconciliation of every paper ballot."""
    en = lang == "en"
    try:
        keys = _auditors(auditor_key)
        day = _date(date)
        election = _load(bundle, town_key)
        lines = parse_marks_file(marks)
        scans = _Scans(marks.parent)
        papers = [_paper(line, scans) for line in lines]
        result = reconcile(election, papers)
        signed = reconciliation_record(election, papers, result, date=day)
        folder = audit_dir or audit_dir_for(bundle)
        path, written = write_record(folder, signed, keys)
        if report is not None:
            # reportlab takes ~0.1 s to import: only when a report is asked for, not on every
            # start of the verifier (``verifier verify`` mounts this app).
            from verifier.audit.pdf import render_reconciliation_pdf  # noqa: PLC0415

            render_reconciliation_pdf(
                result, report, title=election.manifest.definition.title, record=str(path)
            )
    except VerificationError as e:
        raise _fail(e, lang) from e
    if as_json:
        doc = written["signed"]["outputs"]  # the record as written, not read back
        typer.echo(json.dumps({"record": str(path), **doc}, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"{'papers' if en else '纸质选票'}: {result.papers}  "
            f"{'records' if en else '记录'}: {result.records}"
        )
        for d in result.discrepancies:
            zh, en_text = _KIND_TEXT[d.kind]
            typer.echo(
                f"- {en_text if en else zh}: {d.ballot_id or '—'} ({d.source}) "
                f"{d.en if en else d.zh}"
            )
        for o in result.outcomes:
            same = (
                ("same as reported" if en else "与公布结果一致")
                if o.matches
                else ("DIFFERS from the reported outcome" if en else "与公布结果不一致")
            )
            typer.echo(f"{o.post} {o.number}: {', '.join(o.paper.elected) or '—'} — {same}")
        typer.echo(("record: " if en else "审计记录：") + str(path))
    raise typer.Exit(0 if result.ok else 1)


def _readings(
    election: AuditedElection, lines: tuple[MarksLine, ...], base: Path, post: str, number: int
) -> dict[str, Reading]:
    scans = _Scans(base)
    out: dict[str, Reading] = {}
    for line in lines:
        bid = line.ballot_id
        if not bid:
            paper = _paper(line, scans)
            if not paper.qr:
                raise AuditInputError(
                    clause="A2",
                    code=paper.scan_problem or "scan.no_qr",
                    zh=f"{paper.source}：没有可读的二维码",
                    en=f"{paper.source}: no readable QR code",
                )
            ident = identify(election, paper.qr, [(post, number)])
            if ident.kind:
                raise AuditInputError(
                    clause="A2",
                    code=ident.code,
                    zh=f"{paper.source}：{ident.zh}",
                    en=f"{paper.source}: {ident.en}",
                )
            bid = ident.ballot_id
        out[bid] = Reading(bid, line.found, line.marks, line.write_ins)
    return out


@audit_app.command()
def rla(  # noqa: PLR0917 - typer maps each parameter to an option
    bundle: Annotated[Path, typer.Argument(help="结果包 / bundle")],
    town_key: TownOpt,
    post: Annotated[str, typer.Option("--post", help="committee / secretary / deputy_secretary")],
    round_number: Annotated[int, typer.Option("--round", help="轮次 / round")],
    seed: Annotated[str, typer.Option("--seed", help="掷骰得到的数字（至少20位）/ dice digits")],
    marks: Annotated[Path | None, typer.Option("--marks", help="已录入的标记 / readings")] = None,
    auditor_key: KeysOpt = [],  # noqa: B006 - typer needs a literal default
    risk_limit: Annotated[int, typer.Option("--risk-limit", help="风险限度（%）")] = 10,
    report: ReportOpt = None,
    audit_dir: DirOpt = None,
    date: DateOpt = "",
    lang: LangOpt = "zh",
    as_json: JsonOpt = False,
) -> None:
    """风险限制比对审计 / risk-limiting ballot-comparison audit of one round."""
    en = lang == "en"
    try:
        day = _date(date)
        election = _load(bundle, town_key)
        lines = parse_marks_file(marks) if marks is not None else ()
        base = marks.parent if marks is not None else Path()
        readings = _readings(election, lines, base, post, round_number)
        result = run_comparison(
            election, post, round_number, seed=seed, risk_limit=risk_limit, readings=readings
        )
        path = None
        if result.status != "more_ballots":
            keys = _auditors(auditor_key)
            signed = comparison_record(election, readings, result, date=day)
            path, _ = write_record(audit_dir or audit_dir_for(bundle), signed, keys)
            if report is not None:
                from verifier.audit.pdf import render_comparison_pdf  # noqa: PLC0415

                render_comparison_pdf(
                    result, report, title=election.manifest.definition.title, record=str(path)
                )
    except VerificationError as e:
        raise _fail(e, lang) from e
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "status": result.status,
                    "risk": round(result.risk, 6),
                    "draws": len(result.draws),
                    "needed": [{"ballot_id": b, "code": ballot_code(b)} for b in result.needed],
                    "record": str(path) if path else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        typer.echo(
            f"{'status' if en else '状态'}: {result.status}  "
            f"{'risk' if en else '风险'}: {result.risk:.4f}  "
            f"{'draws' if en else '抽取次数'}: {len(result.draws)}"
        )
        if result.needed:
            typer.echo("please fetch these ballots:" if en else "请找出下列选票并录入标记：")
            for b in result.needed:
                typer.echo(f"  {ballot_code(b)}  {b}")
        if path:
            typer.echo(("record: " if en else "审计记录：") + str(path))
    codes = {"confirmed": 0, "full_count_confirmed": 0, "full_count_differs": 1, "more_ballots": 3}
    raise typer.Exit(codes[result.status])


@audit_app.command()
def check(  # noqa: PLR0917 - typer maps each parameter to an option
    bundle: Annotated[Path, typer.Argument(help="结果包 / bundle")],
    town_key: TownOpt,
    audit_dir: DirOpt = None,
    auditor: Annotated[
        list[str], typer.Option("--auditor", help="接受的审计员指纹 / accepted fingerprint")
    ] = [],  # noqa: B006 - typer needs a literal default
    head: Annotated[
        str, typer.Option("--head", help="镇党委签署的审计链头文件或64位十六进制 / audit head")
    ] = "",
    lang: LangOpt = "zh",
) -> None:
    """核验结果包旁的审计记录 / check the audit records beside a bundle (A9-A12, A14-A16)."""
    en = lang == "en"
    try:
        election = _load(bundle, town_key)
        fps = [a.replace(" ", "") for a in auditor]
        fps = [" ".join(f[i : i + 5] for i in range(0, 25, 5)) for f in fps]
        given = parse_head(head, town_key=election.town_key, path="") if head else None
        result = check_audit_records(
            bundle, audit_dir=audit_dir, auditors=fps or None, election=election, head=given
        )
    except VerificationError as e:
        raise _fail(e, lang) from e
    typer.echo(f"{'records' if en else '审计记录'}: {result.records}")
    for f in result.findings:
        typer.echo(f"- [{f.clause} {f.code}] {f.en if en else f.zh} {f.file} {f.path}".rstrip())
    raise typer.Exit(0 if result.ok else 1)


def verify_audit(
    bundle: Path, head_text: str, *, lang: str
) -> tuple[list[str], dict[str, Any], bool]:
    """The paper-audit part of ``verifier verify`` (spec/audit.md §2): text lines, JSON, ok.

    Checks A9-A16 on ``audit/`` beside the bundle; ``head_text`` is the town-countersigned
    ``audit-head/1`` file or the published 64-hex head ("" leaves the completeness unchecked,
    said in a warning line). Lists the appointed auditors' names and fingerprints.
    """
    en = lang == "en"
    folder = audit_dir_for(bundle)
    # nothing to read without records or a head: the election is loaded only when needed
    election = load_election(bundle, None, verify=False) if head_text or folder.is_dir() else None
    lines: list[str] = []
    try:
        head = (
            parse_head(head_text, town_key=election.town_key, path="")
            if head_text and election is not None
            else None
        )
    except VerificationError as e:
        finding = Finding(clause=e.clause, code=e.code, zh=e.zh, en=e.en, file=head_text)
        result = check_audit_records(bundle, election=election)
        findings = (*result.findings, finding)
        result = AuditCheck(
            folder=result.folder,
            records=result.records,
            findings=findings,
            auditors=result.auditors,
            head=result.head,
            head_checked=False,
        )
    else:
        result = check_audit_records(bundle, election=election, head=head)
    state = (
        ("all valid" if en else "全部有效") if result.ok else ("INVALID" if en else "有无效记录")
    )
    lines.append(
        (
            f"Paper audit records: {result.records}, "
            if en
            else f"纸质选票核对记录 {result.records} 份："
        )
        + state
    )
    for name, fp in result.auditors:
        lines.append(f"  {'auditor' if en else '审计员'} {name}  {fp}")
    if not result.head_checked:
        lines.append(
            "WARNING: no audit head given (--audit-head): the audit's completeness is unchecked"
            if en
            else "警告：未给出审计链头（--audit-head），无法确认审计记录是否完整"
        )
    doc = {
        "ok": result.ok,
        "records": result.records,
        "auditors": [{"name": n, "fingerprint": fp} for n, fp in result.auditors],
        "head": result.head,
        "completeness_checked": result.head_checked,
        "findings": [
            {
                "clause": f.clause,
                "code": f.code,
                "zh": f.zh,
                "en": f.en,
                "file": f.file,
                "expected": f.expected,
                "found": f.found,
                "path": f.path,
            }
            for f in result.findings
        ],
    }
    return lines, doc, result.ok
