"""What every polling-day command shares: the common options, the one way to run, the keys."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.calendar import WorkingDayCalendar, build_calendar, calendar_of_signed_file
from tally.cli_errors import CliError, command_lang, run_command
from tally.cli_input import read_input
from tally.core.model import PostKind
from tally.election import ElectionSession
from tally.session_errors import SessionError

__all__ = [
    "KIND_NAMES",
    "MAX_BATCH_BYTES",
    "MAX_CALENDAR_BYTES",
    "MAX_DEFINITION_BYTES",
    "MAX_KEY_BYTES",
    "PASSPHRASE_ENV",
    "ActorOpt",
    "DbArg",
    "JsonOpt",
    "KeyOpt",
    "LangOpt",
]

MAX_BATCH_BYTES = 32 * 1024 * 1024
#: A key file or a public key file (a few hundred bytes; the verifier's town key limit).
MAX_KEY_BYTES = 64 * 1024
#: A town-signed year file (``signed-calendar/1``: a few kilobytes a year).
MAX_CALENDAR_BYTES = 1024 * 1024
#: An election definition (TOML), as ``tally check`` reads it.
MAX_DEFINITION_BYTES = 8 * 1024 * 1024
_FINGERPRINT = re.compile(r"[0-9]{25}")
PASSPHRASE_ENV = "TALLY_PASSPHRASE"

LangOpt = Annotated[str | None, typer.Option("--lang", help="zh（默认）或 en")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON")]
DbArg = Annotated[Path, typer.Argument(help="选举文件（tally init 创建）")]
KeyOpt = Annotated[Path, typer.Option("--key", help="工作组密钥文件")]
ActorOpt = Annotated[str, typer.Option("--actor", help="操作人（记入日志）")]
KIND_NAMES = {
    "committee": PostKind.COMMITTEE,
    "secretary": PostKind.SECRETARY,
    "deputy": PostKind.DEPUTY_SECRETARY,
    "deputy_secretary": PostKind.DEPUTY_SECRETARY,
}


# The command's language, and the one way to run a command (its result as lines or JSON, every
# expected failure as one refusal): cli_errors' own, shared with the procedure and casework
# commands.
_lang = command_lang
_run = run_command


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _passphrase(path: Path) -> str:
    """``TALLY_PASSPHRASE``; else a prompt with no echo when stdin is a terminal; else refused."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env
    if not _stdin_is_terminal():
        raise CliError(
            "cli.passphrase_missing",
            zh=f"没有 {path} 的口令：请设置环境变量 {PASSPHRASE_ENV}，或在终端中运行以输入口令",
            en=f"no passphrase for {path}: set {PASSPHRASE_ENV}, or run in a terminal to type it",
        )
    value: str = typer.prompt(f"{path} 的口令 / passphrase", hide_input=True, err=True)
    return value


def _signer(path: Path, role: keys.Role) -> keys.InMemorySigner:
    """The key file at ``path`` (read through the bounded reader before any passphrase is asked
    for), unlocked for ``role``."""
    data = read_input(path, limit=MAX_KEY_BYTES)
    return keys.load_signer(data, _passphrase(path), expected_role=role)


def _public(path: Path, role: keys.Role) -> dict[str, Any]:
    pk = keys.parse_public_key(read_input(path, limit=MAX_KEY_BYTES))
    if pk.role is not role:
        raise SessionError(
            "key.role",
            zh=f"{path} 不是{keys.ROLE_NAMES_ZH[role]}的公钥",
            en=f"{path} is not a {role.value} public key",
        )
    doc: dict[str, Any] = json.loads(keys.export_public_key(pk))
    return doc


def _town_public(path: Path) -> keys.PublicKey:
    pk = keys.parse_public_key(read_input(path, limit=MAX_KEY_BYTES))
    if pk.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "key.role", zh=f"{path} 不是镇党委的公钥", en=f"{path} is not a town key"
        )
    return pk


def _town_root(value: str) -> keys.PublicKey | str:
    """``--town-key`` of a check: the town's public key file, or its 25-digit fingerprint.

    Anything on disk by that name (a FIFO, a device and a folder too) is read as the file, so it
    gets the reader's refusal; a value that is neither on disk nor 25 digits (spaces aside) is
    a missing file (``input.missing``), not a fingerprint that differs.
    """
    if os.path.lexists(value) or not _FINGERPRINT.fullmatch(value.replace(" ", "")):
        return _town_public(Path(value))
    return value


def load_calendar_file(path: Path | None, town_key: keys.PublicKey) -> WorkingDayCalendar:
    """The working-day calendar, with the year file at ``path`` (read through the bounded
    reader) signed by ``town_key`` (R26.3); the same calendar ``tally.calendar.load_calendar``
    builds (``tally.calendar.calendar_of_signed_file``).

    Raises:
        CliError: ``input.*`` for a file the reader refuses.
        InvalidCalendarError, CalendarConflictError: as ``calendar_of_signed_file``.
    """
    if path is None:
        return build_calendar()
    raw = read_input(path, limit=MAX_CALENDAR_BYTES)
    return calendar_of_signed_file(raw, town_key=town_key, file=str(path))


def _calendar(path: Path | None, session: ElectionSession) -> WorkingDayCalendar:
    """The working-day calendar, with a year file signed by the manifest's town key (R26.3)."""
    return load_calendar_file(path, session.town_key)


def _post(kind: str) -> PostKind:
    try:
        return KIND_NAMES[kind]
    except KeyError:
        raise SessionError(
            "post.unknown",
            zh=f"未知选票种类 {kind}（committee / secretary / deputy）",
            en=f"unknown ballot kind {kind} (committee / secretary / deputy)",
        ) from None
