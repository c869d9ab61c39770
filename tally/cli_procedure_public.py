"""``tally procedure notice``: the public notice of a branch's procedure (spec/procedure.md RP-12.4).

Reads the procedure file, derives ``procedure-public/1`` from its log alone
(:func:`tally.core.procedure.public.public_view`) and prints it as an A4 PDF in Chinese
(``--lang en`` for English), as the election's notice is printed; ``--json`` also gives the
document itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import ballot_printer
from ballot_printer.procedure_notice import render_procedure_notice_pdf
from tally.cli_day import _run
from tally.cli_day.common import MAX_KEY_BYTES
from tally.cli_errors import CliError
from tally.cli_input import read_input
from tally.cli_options import JsonOpt, LangOpt, ProcedureDbArg, key_signer
from tally.cli_procedure_log import with_store
from tally.core.procedure.public import public_view

__all__ = ["register"]


def notice_cmd(
    db: ProcedureDbArg,
    out: Annotated[Path, typer.Option("--out", help="输出的公示 PDF 文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """打印换届工作情况公示（只列姓名和票数总数） / Print the procedure's public notice (RP-12.4).

    推荐和测评的发出、收回、有效、无效票数，候选人初步人选，正式候选人，审批任命结果；
    不列任何人的得票、另写的姓名、未列入的人和理由。Names and ballot totals only.
    """

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        doc = with_store(db, lambda s: public_view(s.signed.procedure, s.entries()).to_json())
        try:
            render_procedure_notice_pdf(doc, out, lang=lg)
        except ballot_printer.BallotPrinterError as e:
            raise CliError("notice.print", zh=e.zh, en=e.en) from e
        line = f"已写出公示：{out}" if lg == "zh" else f"public notice written: {out}"
        return [line], {"out": str(out), "public": doc}

    _run(lang, as_json, act)


def serve_cmd(
    db: ProcedureDbArg,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="工作组密钥文件（口令取自 TALLY_PASSPHRASE，未设置时在终端中输入）",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8001,
    data: Annotated[Path, typer.Option("--data", help="服务数据文件夹（投票站账户）")] = Path(
        ".run/service"
    ),
    scrutineer_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--scrutineer-key",
            help="监票人密钥文件（可多次；启动时不解锁，监票人在页面上输入口令确认无效票、签署计票）",
        ),
    ] = None,
    lang: LangOpt = None,
) -> None:
    """启动推荐和测评页面（工作组）及公开页面 / Serve the procedure's pages (issue 18 piece 8).

    工作组页面：/station/procedure/（投票站账户登录）；公开页面：/board/procedure。
    The work group's pages and the public page; without --key the pages only read. With
    --scrutineer-key, a scrutineer confirms a ballot declared invalid and co-signs the counts on
    the pages by typing the passphrase (the key is unlocked for that request only).
    """
    # the service and uvicorn load only for `serve`
    import keys  # noqa: PLC0415 - only for `serve`
    from tally.service.procedure import ProcedureServiceConfig, create_app  # noqa: PLC0415 - only for `serve`
    from tally.service.transport import Binding, build_servers, run_servers  # noqa: PLC0415 - only for `serve`

    def start(lg: str) -> tuple[list[str], dict[str, Any]]:
        signer = None
        if key is not None:
            signer = key_signer(key, keys.Role.WORK_GROUP)
        for path in scrutineer_key or ():  # unlocked per request: only read now, bounded
            read_input(path, limit=MAX_KEY_BYTES)
        data.mkdir(parents=True, exist_ok=True)
        config = ProcedureServiceConfig(
            db, data, signer=signer, scrutineer_keys=tuple(scrutineer_key or ()), lang=lg
        )
        application = create_app(config)
        typer.echo(f"http://{host}:{port}/station/procedure/")
        run_servers(build_servers(application, [Binding(host, port)], tls=None))
        return [], {}

    _run(lang, False, start)


def register(app: typer.Typer) -> None:
    """Register ``notice`` and ``serve`` on the ``tally procedure`` app."""
    app.command("notice")(notice_cmd)
    app.command("serve")(serve_cmd)
