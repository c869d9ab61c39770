"""`tally serve` and `tally demo`: the service and the whole town's demonstration."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import keys
from tally.cli_day.common import MAX_KEY_BYTES, PASSPHRASE_ENV, LangOpt, _lang, _signer
from tally.cli_errors import CliError, fail, run
from tally.cli_input import read_input
from tally.core.model import PostKind, zh_label

if TYPE_CHECKING:  # the service loads only when `serve` runs
    from tally.service.proxy import TrustedProxies
    from tally.service.transport import Binding, CheckedTls

__all__ = ["demo", "serve"]

log = logging.getLogger(__name__)
# The certificate warning is printed by `serve` itself, in the command's language; the record
# reaches the handlers an operator configures, and is not printed a second time without any.
log.addHandler(logging.NullHandler())

TrustedProxyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--trusted-proxy",
        help="可信反向代理的地址或网段（可多个）：只有来自它的 X-Forwarded-For / "
        "Forwarded 才用来确定客户端地址；默认无",
    ),
]

TlsCertOpt = Annotated[
    Path | None,
    typer.Option(
        "--tls-cert",
        help="TLS 证书（PEM）：给出后以 HTTPS 提供服务，Cookie 带 Secure，并发送 HSTS；"
        "须与 --tls-key 同时给出",
    ),
]

PublicHostOpt = Annotated[
    str | None,
    typer.Option(
        "--public-host",
        help="公开页面（公告板、远程投票）单独监听的地址；给出 --public-host 或 "
        "--public-port 时，投票站页面不在该地址提供（默认同 --host）",
    ),
]

CaseworkOpt = Annotated[
    Path | None,
    typer.Option(
        "--casework",
        help="本镇事项登记簿文件（tally casework new）：给出后提供民情直报页面 /report/、"
        "异议页面 /objection/ 和查核组页面 /casework/",
    ),
]

CaseworkKeyOpt = Annotated[
    Path | None,
    typer.Option(
        "--casework-key",
        help="查核组密钥文件（角色 casework），启动时解锁：口令取自 TALLY_PASSPHRASE， "
        "未设置时在终端中输入，不在终端则拒绝启动； 给出后每天的事项登记簿检查点 由服务签署。 "
        "The casework key, unlocked at start: passphrase from TALLY_PASSPHRASE, else typed on a "
        "terminal (refused without one); the service then signs each day's casework checkpoint",
    ),
]

ProceduresOpt = Annotated[
    Path | None,
    typer.Option(
        "--procedures",
        help="各支部换届程序文件所在文件夹（只读，有变化时重新读取）： "
        "异议页面据此列出可提出异议的支部及当选人员； 须与 --casework 同时给出",
    ),
]

ScrutineerKeyOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--scrutineer-key",
        help="监票人密钥文件（可多个；在投票站确认无效票时由监票人输入口令）",
    ),
]


def serve(
    db: Annotated[Path | None, typer.Argument(help="选举文件（省略时用 --demo）")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="使用示例选举（.run/demo）")] = False,
    key: Annotated[Path | None, typer.Option("--key", help="工作组密钥文件")] = None,
    scrutineer_key: ScrutineerKeyOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data: Annotated[Path, typer.Option("--data", help="服务数据文件夹")] = Path(".run/service"),
    trusted_proxy: TrustedProxyOpt = None,
    tls_cert: TlsCertOpt = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", help="TLS 私钥（PEM，不加密，文件权限须为 0600 或更窄）"),
    ] = None,
    public_host: PublicHostOpt = None,
    public_port: Annotated[
        int | None,
        typer.Option("--public-port", help="公开页面单独监听的端口（默认同 --port）"),
    ] = None,
    casework: CaseworkOpt = None,
    casework_key: CaseworkKeyOpt = None,
    procedures: ProceduresOpt = None,
    lang: LangOpt = None,
) -> None:
    """启动服务：投票站页面、远程投票、公告板 / Start the service."""
    lg = _lang(lang)
    tls = _tls_files(lg, tls_cert, tls_key, dt.datetime.now(dt.UTC))
    bindings = _bindings(lg, host, port, public_host, public_port)
    if demo:
        db, key = _demo_election(data)
    if db is None:
        fail(
            lg,
            False,
            CliError(
                "serve.no_election",
                zh="请给出选举文件或 --demo",
                en="give an election file or --demo",
            ),
        )
    trusted = _trusted_proxies(lg, trusted_proxy)
    _require_casework_file(lg, casework)
    _require_procedures(lg, casework, procedures)
    casework_signer = run(lg, False, lambda: _key_files(key, scrutineer_key, casework_key))
    _run_service(
        lg,
        db,
        data,
        key,
        scrutineer_key,
        trusted,
        tls,
        bindings,
        casework=casework,
        casework_signer=casework_signer,
        procedures=procedures,
    )


def _key_files(
    key: Path | None, scrutineer_key: list[Path] | None, casework_key: Path | None
) -> keys.Signer | None:
    """Every key file given, through the bounded reader before the service starts (a folder, a
    FIFO or a device is refused, never waited on), and the casework key unlocked: its passphrase
    from ``TALLY_PASSPHRASE``, else typed on a terminal, else refused (ADR 0065). The work group
    key is opened by the service itself, with ``TALLY_PASSPHRASE`` (which also unlocks the
    remote-voting issuer key); a scrutineer's when the scrutineer types the passphrase."""
    for path in [*([key] if key is not None else []), *(scrutineer_key or [])]:
        read_input(path, limit=MAX_KEY_BYTES)
    return None if casework_key is None else _signer(casework_key, keys.Role.CASEWORK)


def _require_procedures(lg: str, casework: Path | None, procedures: Path | None) -> None:
    """Refuse a ``--procedures`` without ``--casework`` or that names no folder."""
    if procedures is None:
        return
    if casework is None:
        fail(
            lg,
            False,
            CliError(
                "serve.procedures_without_casework",
                zh="--procedures 须与 --casework 同时给出（异议页面属于事项登记簿）",
                en="--procedures needs --casework (the objection pages belong to the casework)",
            ),
        )
    if not procedures.is_dir():
        fail(
            lg,
            False,
            CliError(
                "serve.procedures_missing",
                zh=f"找不到换届程序文件夹：{procedures}",
                en=f"no procedure folder at {procedures}",
            ),
        )


def _require_casework_file(lg: str, casework: Path | None) -> None:
    """Refuse a ``--casework`` that names no file, before the service starts."""
    if casework is not None and not casework.is_file():
        fail(
            lg,
            False,
            CliError(
                "serve.casework_missing",
                zh=f"找不到事项登记簿文件：{casework}",
                en=f"no casework file at {casework}",
            ),
        )


# FastAPI, uvicorn and the service load only for `serve` (in the helpers below, each importing
# what it needs when it runs): every other command starts faster.


def _tls_files(
    lg: str, tls_cert: Path | None, tls_key: Path | None, now: dt.datetime
) -> CheckedTls | None:
    """`--tls-cert` and `--tls-key`, both or neither, loaded at ``now``: every problem (an
    expired certificate too) before listening."""
    from tally.service.transport import TlsFiles, TransportError, load_tls  # noqa: PLC0415 - serve

    if (tls_cert is None) != (tls_key is None):
        fail(
            lg,
            False,
            CliError(
                "serve.tls_pair",
                zh="--tls-cert 和 --tls-key 须同时给出",
                en="give both --tls-cert and --tls-key",
            ),
        )
    if tls_cert is None or tls_key is None:
        return None
    try:  # every problem now, in one line, before anything listens
        return load_tls(TlsFiles(cert=tls_cert, key=tls_key), now=now)
    except TransportError as e:
        fail(lg, False, e)


def _bindings(
    lg: str, host: str, port: int, public_host: str | None, public_port: int | None
) -> list[Binding]:
    """The station's binding, and the public pages' own one when --public-host/--public-port."""
    from tally.service.transport import Binding  # noqa: PLC0415 - only for `serve`

    bindings = [Binding(host, port)]
    if public_host is not None or public_port is not None:
        public = Binding(public_host or host, public_port or port, public_only=True)
        wildcard = {"0.0.0.0", "::", ""}  # noqa: S104  (a comparison, not a bind)
        if public.port == port and (
            public.host == host or public.host in wildcard or host in wildcard
        ):
            fail(
                lg,
                False,
                CliError(
                    "serve.same_binding",
                    zh=f"公开页面的地址 {public.host}:{public.port} 与投票站页面的 {host}:{port} "
                    "重叠：请给出不同的地址或端口",
                    en=f"the public binding {public.host}:{public.port} overlaps the station's "
                    f"{host}:{port}: give another address or port",
                ),
            )
        bindings.append(public)
    return bindings


def _demo_election(data: Path) -> tuple[Path, Path]:
    """`serve --demo`: the example election (made once under .run/demo) and its work-group key."""
    from tally.service.demo import DEMO_PASSPHRASE, ensure_demo  # noqa: PLC0415 - only for `serve`

    here = Path(__file__).resolve().parents[2]
    os.environ.setdefault(PASSPHRASE_ENV, DEMO_PASSPHRASE)
    d = ensure_demo(Path(".run/demo"), here / "examples" / "qingshan.toml", accounts_dir=data)
    os.environ.setdefault(PASSPHRASE_ENV, DEMO_PASSPHRASE)
    typer.echo(f"示例选举：{d.election}（示例口令：{DEMO_PASSPHRASE}，仅供试用）")
    typer.echo(f"镇党委公钥：{d.town_pub}")
    return d.election, d.work_group_key


def _trusted_proxies(lg: str, trusted_proxy: list[str] | None) -> TrustedProxies:
    """`--trusted-proxy`: the only peers whose forwarded headers name the client."""
    from tally.service.proxy import parse_trusted  # noqa: PLC0415 - only for `serve`

    try:
        return parse_trusted(trusted_proxy or ())
    except ValueError:
        fail(
            lg,
            False,
            CliError(
                "serve.trusted_proxy",
                zh=f"--trusted-proxy 应为 IP 地址或网段：{' '.join(trusted_proxy or ())}",
                en=f"--trusted-proxy must be an IP address or network: {' '.join(trusted_proxy or ())}",
            ),
        )


def _run_service(
    lg: str,
    db: Path,
    data: Path,
    key: Path | None,
    scrutineer_key: list[Path] | None,
    trusted: TrustedProxies,
    tls: CheckedTls | None,
    bindings: list[Binding],
    *,
    casework: Path | None = None,
    casework_signer: keys.Signer | None = None,
    procedures: Path | None = None,
) -> None:
    """Build the app, say where it listens, and serve until Ctrl-C."""
    # the service and uvicorn: only for `serve`
    from tally.service import ServiceConfig, create_app  # noqa: PLC0415
    from tally.service.transport import build_servers, describe, run_servers  # noqa: PLC0415

    config = ServiceConfig(
        election_path=db,
        data_dir=data,
        work_group_key=key,
        scrutineer_keys=tuple(scrutineer_key or ()),
        extra={
            **({"trusted_proxies": trusted} if trusted else {}),
            **({"casework_signer": casework_signer} if casework_signer is not None else {}),
            **({"procedures": procedures} if procedures is not None else {}),
        },
        tls=tls is not None,
        casework_path=casework,
    )
    data.mkdir(parents=True, exist_ok=True)
    application = create_app(config)
    for zh, en in describe(bindings, tls is not None, casework=casework is not None):
        typer.echo(zh if lg == "zh" else en)
    if tls is not None:
        _warn_expiry(lg, tls, application.state.service.session.manifest.election.election_date)
    # Body, header and connection limits (SECURITY.md "Resource limits") on every binding;
    # uvicorn's own forwarded-header handling off (the app reads them from --trusted-proxy
    # peers only).
    servers = build_servers(application, bindings, tls=None if tls is None else tls.files)
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C stops quietly
        run_servers(servers)


def _warn_expiry(lg: str, tls: CheckedTls, election_date: dt.date) -> None:
    """One line on stderr, and a log record, for a certificate that expires before the election
    day ends or within two weeks (the service still starts)."""
    from tally.service.transport import expiry_warning  # noqa: PLC0415 - only for `serve`

    warning = expiry_warning(tls, election_date)
    if warning is None:
        return
    typer.echo(("warning: " if lg == "en" else "提醒：") + warning.message(lg), err=True)
    log.warning("%s: %s", warning.code, warning.en)


def demo(
    out: Annotated[Path, typer.Option("--out", help="输出文件夹")],
    seed: Annotated[int, typer.Option("--seed", help="随机种子（可重现）")] = 2026,
    branches: Annotated[int, typer.Option("--branches", min=1, max=99, help="支部数")] = 20,
    lang: LangOpt = None,
    jobs: Annotated[
        str | None,
        typer.Option(
            "--jobs",
            help="同时运行的核验进程数（默认 CPU 数；1 为逐个核验）/ verifier processes at a time",
        ),
    ] = None,
) -> None:
    """全镇换届演示：生成、选举、发布并核验每个支部，办理异议和民情直报 / The whole town's election, verified, with objections and reports."""
    # rich and the demo generator load only for `demo`
    from tally.cli_progress import progress_bar  # noqa: PLC0415 - only for `demo`
    from tally.cli_town_report import gate_jobs, gate_progress  # noqa: PLC0415 - only for `demo`
    from tally.demo import run_town, town_report  # noqa: PLC0415 - only for `demo`

    lg = _lang(lang)
    zh = lg == "zh"
    try:
        n_jobs = gate_jobs(jobs)
    except CliError as e:
        fail(lg, False, e)
    if out.exists() and any(out.iterdir()):
        fail(
            lg,
            False,
            CliError("demo.exists", zh=f"{out} 不是空文件夹", en=f"{out} is not empty"),
        )
    with progress_bar("全镇换届选举" if zh else "town re-election", branches) as bar:
        summaries = run_town(
            out, seed=seed, branches=branches, progress=lambda _: bar.advance(), jobs=n_jobs
        )
    with gate_progress(lg, len(summaries), quiet=False) as done:
        json_path, pdf = town_report(out, summaries, lang=lg, jobs=n_jobs, done=done)
    _print_town_table(summaries, zh)
    typer.echo(f"{'汇总报告' if zh else 'town report'}：{json_path}，{pdf}")
    cases = out / "casework"
    typer.echo(
        f"事项登记簿导出包（仅供查核组和镇党委）：{cases / 'bundle'}；公开统计：{cases / 'public'}"
        if zh
        else f"casework bundle (verification group and town committee only): {cases / 'bundle'}; "
        f"public totals: {cases / 'public'}"
    )
    if not all(s.verified for s in summaries):
        raise typer.Exit(1)


def _print_town_table(summaries: Sequence[Any], zh: bool) -> None:
    """The demo's town summary on stdout."""
    from rich.cells import cell_len  # noqa: PLC0415 - rich loads only for `demo`
    from rich.console import Console  # noqa: PLC0415 - rich loads only for `demo`
    from rich.table import Table  # noqa: PLC0415 - rich loads only for `demo`

    # The verdict comes before the names, and every name is shown in full, never cut by an
    # ellipsis or split across lines: each post's label stands on its own line, names are
    # separated by an ideographic space (where Chinese text may wrap), and the names column
    # gets exactly the width the other columns leave (rich would crop the table's right edge).
    headers = (
        ("支部", "应到E", "实到", "法定人数", "轮次", "核验", "当选")
        if zh
        else ("branch", "E", "present", "quorum", "rounds", "verifier", "elected")
    )
    rows = [
        (
            s.name,
            str(s.expected),
            str(s.present),
            str(s.quorum_minimum),
            str(s.rounds),
            ("通过" if zh else "pass")
            if s.verified
            else ("未通过 " if zh else "FAIL ") + ",".join(s.verifier_failures),
            "\n".join(
                (f"{zh_label(PostKind(k))}：\n" if zh else f"{k}\n") + "\u3000".join(v)
                for k, v in s.elected.items()
            ),
        )
        for s in summaries
    ]
    console_out = Console()
    fixed = [
        max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(headers[:-1])
    ]
    left = console_out.width - sum(w + 3 for w in fixed) - 4  # padding and rules
    table = Table(title="红旗镇换届选举汇总" if zh else "Town summary")
    for i, h in enumerate(headers):
        table.add_column(h, no_wrap=i < len(headers) - 1, overflow="fold")
    table.columns[-1].max_width = max(8, left)
    for row in rows:
        table.add_row(*row)
    console_out.print(table)
