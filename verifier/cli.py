"""``verifier verify BUNDLE --town-key KEY``: the town committee's independent check (thin shell).

Exit status: 0 every clause holds; 1 a clause failed; 2 the bundle (or the key) cannot be read.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from verifier.checks import TownKey, verify_bundle
from verifier.checks.held import read_held
from verifier.crypto import parse_fingerprint, parse_pubkey_document
from verifier.errors import BundleOpenError, VerificationError
from verifier.reader import KEY_FILE_LIMIT, InputFileError, read_regular
from verifier.report import render_json, render_text

__all__ = ["app", "main", "parse_town_key"]

app = typer.Typer(add_completion=False, help="独立核验选举结果包 / independent bundle verifier")


@app.callback()
def _root(
    ctx: typer.Context,
    lang: Annotated[str | None, typer.Option("--lang", help="zh 或 en")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / JSON output")] = False,
) -> None:
    """Independent verifier of branch election result bundles (spec/bundle.md)."""
    given: dict[str, object] = {}
    if lang is not None:
        given["--lang"] = lang
    if as_json:
        given["--json"] = True
    if given:  # before the subcommand means the same as after it
        ctx.default_map = _defaults_for(ctx.command, given)


def _defaults_for(group: object, given: dict[str, object]) -> dict[str, object]:
    """A click default map giving every (sub)command that has ``--lang``/``--json`` the value."""
    out: dict[str, object] = {}
    commands = getattr(group, "commands", None)
    for name, cmd in (commands or {}).items():
        if isinstance(getattr(cmd, "commands", None), dict):
            out[name] = _defaults_for(cmd, given)
            continue
        values = {
            p.name: given[o]
            for p in getattr(cmd, "params", ())
            for o in getattr(p, "opts", ())
            if o in given
        }
        if values:
            out[name] = values
    return out


def parse_town_key(text: str) -> TownKey:
    """A ``pubkey/1`` file path, or the 25-digit fingerprint with or without spaces.

    Raises:
        VerificationError: neither a readable town-committee key file nor a fingerprint.
    """
    if re.fullmatch(r"[0-9 ]+", text.strip()) and len(text.replace(" ", "").strip()) == 25:
        return TownKey(fingerprint=parse_fingerprint(text))
    try:
        data = read_regular(text, KEY_FILE_LIMIT, clause="V2")
    except InputFileError as e:
        raise VerificationError(
            clause="V2",
            code="town_key.unreadable",
            zh=f"无法读取镇党委公钥：{e.zh}",
            en=f"cannot read the town key: {e.en}",
        ) from e
    key = parse_pubkey_document(data, path=text)
    if key.role != "town_committee":
        raise VerificationError(
            clause="V2",
            code="keys.wrong_role",
            zh="给定的公钥不是镇党委的公钥",
            en=f"the key given has role {key.role}, not town_committee",
        )
    return TownKey(fingerprint=key.fingerprint, key=key)


@app.command()
def verify(  # noqa: PLR0917 - typer maps each parameter to an option
    bundle: Annotated[Path, typer.Argument(help="结果包文件夹或 .zip / bundle folder or .zip")],
    town_key: Annotated[
        str,
        typer.Option("--town-key", help="镇党委公钥文件或25位指纹 / pubkey file or fingerprint"),
    ],
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / JSON output")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", min=0, help="签名核验进程数（默认 CPU 数）/ processes (default: CPU count)"
        ),
    ] = 0,
    progress: Annotated[bool, typer.Option("--progress", help="显示进度条 / progress bar")] = False,
    audit_head: Annotated[
        str,
        typer.Option(
            "--audit-head",
            help="镇党委签署的审计链头文件或64位十六进制 / town-signed audit head file or hex",
        ),
    ] = "",
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="选举期间保存的检查点（公告板列表、回执或检查点文本），可重复 / "
            "a checkpoint kept during the election (board list, receipt or note); repeatable",
        ),
    ] = None,
) -> None:
    """核验结果包的全部条款 V1-V19 / verify every clause V1-V19 of a result bundle."""
    en = lang == "en"
    # The replay makes a few short-lived objects per ballot and almost no reference cycles:
    # collecting the young generation every 50,000 allocations rather than 700 saves about 6 %
    # of the run at 10^5 ballots (docs/PERFORMANCE.md); the young generation stays a few MB.
    gc.set_threshold(50_000, 20, 100)
    try:
        town = parse_town_key(town_key)
    except VerificationError as e:
        typer.echo(e.en if en else e.zh, err=True)
        raise typer.Exit(2) from e
    try:
        held = tuple(h for path in checkpoint or () for h in read_held(path))
    except VerificationError as e:
        typer.echo(e.en if en else e.zh, err=True)
        raise typer.Exit(2) from e
    show = progress or sys.stderr.isatty()
    try:
        if show:
            log = bundle / "log.jsonl" if bundle.is_dir() else None
            total = log.stat().st_size if log is not None and log.exists() else None
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=None,
                transient=True,
                redirect_stdout=False,
            ) as bar:
                task = bar.add_task("核验日志" if not en else "log", total=total)
                report = verify_bundle(
                    bundle,
                    town,
                    jobs=jobs or os.cpu_count(),
                    progress=lambda n: bar.advance(task, n),
                    held=held,
                )
        else:
            report = verify_bundle(bundle, town, jobs=jobs or os.cpu_count(), held=held)
    except BundleOpenError as e:
        if as_json:
            typer.echo(f'{{"ok": false, "code": "{e.code}", "clause": "{e.clause}"}}')
        typer.echo(e.en if en else e.zh, err=True)
        raise typer.Exit(2) from e
    audit_ok, audit_lines, audit_doc = True, list[str](), None
    if report.ok:
        # Paper-audit records beside the bundle (spec/audit.md §2, A9-A16) on every run.
        from verifier.audit.cli import verify_audit  # noqa: PLC0415

        audit_lines, audit_doc, audit_ok = verify_audit(bundle, audit_head, lang=lang)
    if as_json:
        doc = json.loads(render_json(report))
        doc["audit"] = audit_doc
        doc["ok"] = report.ok and audit_ok  # the exit status's meaning (audit.md §2)
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(report, lang), nl=False)
        for line in audit_lines:
            typer.echo(line)
    for f in [] if as_json else (audit_doc or {}).get("findings", []):  # JSON carries them
        where = " ".join(x for x in (f["file"], f["path"]) if x)
        typer.echo(
            f"{f['clause']}: {f['en'] if lang == 'en' else f['zh']} {where}".rstrip(), err=True
        )
    raise typer.Exit(0 if report.ok and audit_ok else 1)


@app.command("casework")
def casework_cmd(
    bundle: Annotated[
        Path, typer.Argument(help="事项登记簿包文件夹或 .zip / casework bundle folder or .zip")
    ],
    town_key: Annotated[
        str,
        typer.Option("--town-key", help="镇党委公钥文件或25位指纹 / pubkey file or fingerprint"),
    ],
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / JSON output")] = False,
) -> None:
    """核验事项登记簿包 V31 / verify a town's casework bundle (clause V31)."""
    from verifier.casework import verify_casework  # noqa: PLC0415
    from verifier.casework_render import (  # noqa: PLC0415
        render_casework_json,
        render_casework_text,
    )

    en = lang == "en"
    try:
        town = parse_town_key(town_key)
        report = verify_casework(bundle, town)
    except VerificationError as e:  # the key or the bundle cannot be read at all
        if as_json:
            typer.echo(f'{{"ok": false, "code": "{e.code}", "clause": "V31"}}')
        typer.echo(e.en if en else e.zh, err=True)
        raise typer.Exit(2) from e
    typer.echo(render_casework_json(report) if as_json else render_casework_text(report, lang))
    raise typer.Exit(0 if report.ok else 1)


@app.command("procedure")
def procedure_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
    bundle: Annotated[
        Path, typer.Argument(help="换届程序结果包文件夹或 .zip / procedure bundle folder or .zip")
    ],
    town_key: Annotated[
        str,
        typer.Option("--town-key", help="镇党委公钥文件或25位指纹 / pubkey file or fingerprint"),
    ],
    casework: Annotated[
        Path | None,
        typer.Option(
            "--casework", help="镇事项登记簿包（核对任命所列异议）/ the town's casework bundle"
        ),
    ] = None,
    election: Annotated[
        Path | None,
        typer.Option(
            "--election",
            help="本支部的选举结果包（核对选举绑定 V29）/ the branch's election bundle (V29)",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh 或 en")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / JSON output")] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            help="选举结果包签名核验进程数（默认 CPU 数）/ processes (default: CPUs)",
        ),
    ] = 0,
) -> None:
    """核验换届程序结果包 V20-V31 / verify a branch's procedure bundle (clauses V20-V31)."""
    from verifier.casework import verify_casework  # noqa: PLC0415
    from verifier.procedure.binding import read_election  # noqa: PLC0415
    from verifier.procedure.bundle import verify_procedure  # noqa: PLC0415
    from verifier.procedure.render import (  # noqa: PLC0415
        render_procedure_json,
        render_procedure_text,
    )

    en = lang == "en"
    try:
        town = parse_town_key(town_key)
        cases = None if casework is None else verify_casework(casework, town)
        procs = max(jobs, 0) or None
        bound = None if election is None else read_election(election, town, jobs=procs)
        report = verify_procedure(bundle, town, cases, bound)
    except VerificationError as e:  # the key or a bundle cannot be read at all
        if as_json:
            typer.echo(json.dumps({"ok": False, "code": e.code, "clause": e.clause}))
        typer.echo(e.en if en else e.zh, err=True)
        raise typer.Exit(2) from e
    typer.echo(render_procedure_json(report) if as_json else render_procedure_text(report, lang))
    raise typer.Exit(0 if report.ok else 1)


def _mount_audit() -> None:
    from verifier.audit.cli import audit_app  # noqa: PLC0415

    app.add_typer(audit_app, name="audit", help="纸质选票核对 / paper audit")


_mount_audit()


def main() -> None:
    """Console-script entry point."""
    app()
