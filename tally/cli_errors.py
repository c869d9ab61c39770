"""How every ``tally`` command refuses: one line on stderr (or one JSON body), exit code 1.

``fail`` prints a refusal (a :class:`~bilingual.BilingualError`) in the command's language;
``run`` runs a command's action and turns every expected failure into one. The commands keep
their own success output; this is the only place that prints a failure. ``run_command`` is the
one way the polling-day, procedure and casework commands run: the language from ``--lang`` or
``TALLY_LANG`` (``command_lang``), the result as lines or JSON, every refusal through ``run``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import typer

from bilingual import BilingualError
from tally.core.casework import CaseworkDefinitionError
from tally.core.errors import DefinitionError
from tally.session_errors import ManifestDefinitionError

__all__ = [
    "CliError",
    "clause_note",
    "command_lang",
    "fail",
    "file_error",
    "run",
    "run_command",
]

R = TypeVar("R")


class CliError(BilingualError):
    """A shell-level failure (bad arguments, unreadable file), reported like any other error."""

    code = "cli.error"


def fail(
    lang: str,
    as_json: bool,
    error: BilingualError,
    *,
    indent: int | None = None,
    details: Sequence[str] = (),
    problems: list[dict[str, str]] | None = None,
) -> NoReturn:
    """Refuse with ``error`` (a :class:`CliError` for what only the shell finds), then exit 1.

    With ``as_json`` the refusal body (:meth:`BilingualError.to_json`, plus ``problems`` when given)
    goes to stdout, indented by ``indent``; otherwise ``details`` (one line each) and then
    "错误：…" / "error: …" go to stderr.
    """
    if as_json:
        body = error.to_json(lang)
        if problems is not None:
            body["problems"] = problems
        typer.echo(json.dumps(body, ensure_ascii=False, indent=indent))
    else:
        for line in details:
            typer.echo(line, err=True)
        typer.echo(("error: " if lang == "en" else "错误：") + error.message(lang), err=True)
    raise typer.Exit(1)


def clause_note(clause: str, lang: str) -> str:
    """A rule clause after a message: "（R8）" in Chinese, " (R8)" in English, "" for none."""
    if not clause:
        return ""
    return f" ({clause})" if lang == "en" else f"（{clause}）"


def file_error(e: OSError) -> CliError:
    """The refusal for a file the command could not read or write (the polling-day commands')."""
    if isinstance(e, FileNotFoundError):
        return CliError(
            "file.missing", zh=f"找不到文件：{e.filename}", en=f"file not found: {e.filename}"
        )
    return CliError(
        "file.io", zh=f"无法读写 {e.filename}：{e.strerror}", en=f"{e.filename}: {e.strerror}"
    )


_NOT_UTF8 = CliError(
    "input.encoding",
    zh="文件不是 UTF-8 编码（请用 UTF-8 保存，如 Excel 的“CSV UTF-8”）",
    en='the file is not UTF-8 (save it as UTF-8, e.g. Excel\'s "CSV UTF-8")',
)


def run(
    lang: str,
    as_json: bool,
    action: Callable[[], R],
    *,
    on_file_error: Callable[[OSError], BilingualError] = file_error,
) -> R:
    """``action()``, or the refusal of what it raised: every :class:`BilingualError` as itself, a
    definition's problems one a line before it, a file that is not UTF-8, and an unreadable file
    as ``on_file_error`` says. Anything else is a bug and keeps its traceback."""
    try:
        return action()
    except (DefinitionError, ManifestDefinitionError, CaseworkDefinitionError) as e:
        fail(
            lang,
            as_json,
            e,
            details=[p.message(lang) + clause_note(p.clause, lang) for p in e.problems],
            problems=[
                {"code": p.code, "path": p.path, "message": p.message(lang)} for p in e.problems
            ],
        )
    except UnicodeDecodeError:
        fail(lang, as_json, _NOT_UTF8)
    except BilingualError as e:
        fail(lang, as_json, e)
    except OSError as e:
        fail(lang, as_json, on_file_error(e))


def command_lang(option: str | None) -> str:
    """The command's language: ``--lang``, else ``TALLY_LANG``; "en" or else "zh"."""
    value = option or os.environ.get("TALLY_LANG", "zh")
    return "en" if value == "en" else "zh"


def run_command(
    lang_opt: str | None, as_json: bool, action: Callable[[str], tuple[list[str], dict[str, Any]]]
) -> None:
    """Run one command: its result as lines or JSON; every expected failure as one refusal."""
    lang = command_lang(lang_opt)
    lines, data = run(lang, as_json, lambda: action(lang))
    if as_json:
        typer.echo(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(lines))
