"""``tally accounts``: the work group's sign-in accounts for the polling-station pages.

Accounts live in ``accounts.db`` in the service data folder (``tally serve --data``, default
``.run/service``). Passwords are prompted twice, or read from ``TALLY_ACCOUNT_PASSWORD`` for
automation, and stored only as Argon2id hashes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from tally.cli_errors import command_lang, fail, run
from tally.service.accounts import AccountError, AccountStore, Role, accounts_path

__all__ = ["app"]

PASSWORD_ENV = "TALLY_ACCOUNT_PASSWORD"
DEFAULT_DATA = Path(".run/service")

app = typer.Typer(help="投票站页面账户 / polling-station accounts", no_args_is_help=True)

TargetArg = Annotated[
    Path,
    typer.Argument(help="服务数据文件夹（tally serve --data）；给出选举文件时用 --data 的文件夹"),
]
DataOpt = Annotated[Path, typer.Option("--data", help="给出选举文件时的服务数据文件夹")]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh（默认）或 en")]


def _store(target: Path, data: Path) -> AccountStore:
    folder = data if target.is_file() else target
    return AccountStore(accounts_path(folder))


def _password(lang: str) -> str:
    env = os.environ.get(PASSWORD_ENV)
    if env is not None:
        return env
    value: str = typer.prompt(
        "密码" if lang == "zh" else "password", hide_input=True, confirmation_prompt=True, err=True
    )
    return value


@app.command("add")
def add(
    target: TargetArg,
    name: Annotated[str, typer.Option("--name", help="账户名（登录用，记入日志）")],
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            help="投票站：chair / scrutineer / teller / clerk；"
            "事项办理页面：case_head / case_officer / town_viewer / branch_clerk",
        ),
    ],
    branch: Annotated[
        str,
        typer.Option("--branch", help="branch_clerk 账户的本支部代码（只能登记本支部的当面异议）"),
    ] = "",
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
) -> None:
    """新建账户 / Add an account (password prompted or from TALLY_ACCOUNT_PASSWORD)."""
    lg = command_lang(lang)
    store = run(lg, False, lambda: _store(target, data))
    account = run(lg, False, lambda: store.add(name, role, _password(lg), branch=branch))
    typer.echo(
        f"已新建账户 {account.name}（{role.zh}）：{store.path}"
        if lg == "zh"
        else f"account {account.name} ({role.en}) added: {store.path}"
    )


@app.command("list")
def list_cmd(
    target: TargetArg,
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出账户 / List the accounts."""
    lg = command_lang(lang)
    accounts = run(lg, as_json, lambda: _store(target, data).list())
    if as_json:
        rows = [
            {"name": a.name, "role": a.role.value, **({"branch": a.branch} if a.branch else {})}
            for a in accounts
        ]
        typer.echo(json.dumps(rows))
        return
    for a in accounts:
        where = f"\t{a.branch}" if a.branch else ""
        typer.echo(f"{a.name}\t{a.role.zh if lg == 'zh' else a.role.en}{where}")


@app.command("password")
def password(
    target: TargetArg,
    name: Annotated[str, typer.Option("--name")],
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
) -> None:
    """重设密码（并退出该账户的所有登录）/ Reset a password (signs the account out)."""
    lg = command_lang(lang)
    run(lg, False, lambda: _store(target, data).set_password(name, _password(lg)))
    typer.echo(f"已重设 {name} 的密码" if lg == "zh" else f"password of {name} reset")


@app.command("remove")
def remove(
    target: TargetArg,
    name: Annotated[str, typer.Option("--name")],
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
) -> None:
    """删除账户 / Remove an account."""
    lg = command_lang(lang)
    run(lg, False, lambda: _store(target, data).remove(name))
    typer.echo(f"已删除账户 {name}" if lg == "zh" else f"account {name} removed")


@app.command("unlock")
def unlock(
    target: TargetArg,
    name: Annotated[str | None, typer.Option("--name", help="账户名")] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="客户端地址（对多个账户输错密码而被锁定）")
    ] = None,
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
) -> None:
    """解除密码错误锁定（运行中的服务立即生效）/ Lift a wrong-password lock (the running service
    reads it at the next sign-in)."""
    lg = command_lang(lang)
    if name is None and address is None:
        fail(
            lg,
            False,
            AccountError(
                "account.unlock_what",
                zh="请给出 --name（账户）或 --address（地址）",
                en="give --name (an account) or --address (an address)",
            ),
        )
    store = run(lg, False, lambda: _store(target, data))
    if name is not None:
        run(lg, False, lambda: store.unlock(name))
        typer.echo(f"已解除 {name} 的锁定" if lg == "zh" else f"{name} unlocked")
    if address is not None:
        run(lg, False, lambda: store.unlock_address(address))
        typer.echo(f"已解除地址 {address} 的锁定" if lg == "zh" else f"{address} unlocked")
