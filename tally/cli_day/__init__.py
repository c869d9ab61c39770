"""The polling-day commands of ``tally`` (a thin shell over ``tally.election``).

``tally manifest sign`` → ``tally init`` → ``tally print`` → ``tally checkin`` → ``tally issue`` →
``tally return`` → ``tally enter`` → ``tally close`` → ``tally cosign`` → (next rounds) →
``tally result`` → ``tally publish``. Each command refuses what the state machine does not allow and
says why; a refused command stores nothing.

Each command is a module-level function in the module of its step (``manifest``, ``stock``,
``meeting``, ``entry``, ``count``, ``result``, ``serve``); ``register`` adds them to the app, in
the order ``tally --help`` lists them. ``common`` holds what they share.
"""

from __future__ import annotations

import typer

from tally.cli_day.common import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _run, _signer
from tally.cli_day.count import (
    amend_candidates,
    amend_request,
    amend_sign,
    close,
    cosign,
    reduce_seats_cmd,
    status,
)
from tally.cli_day.entry import _read_batch, enter, withdraw
from tally.cli_day.manifest import calendar_sign, init, manifest_sign
from tally.cli_day.meeting import checkin, issue, leave, officials, return_cmd
from tally.cli_day.result import publish_cmd, result
from tally.cli_day.serve import demo, serve
from tally.cli_day.stock import ballot_read, print_cmd, sheet

__all__ = [
    "ActorOpt",
    "DbArg",
    "Done",
    "JsonOpt",
    "KeyOpt",
    "LangOpt",
    "_read_batch",
    "_run",
    "_signer",
    "register",
]


class Done(Exception):
    """Result lines (zh, en) and JSON of a successful command."""


def register(app: typer.Typer) -> None:
    """Add the polling-day commands to the ``tally`` app (in the order of ``tally --help``)."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    manifest_app = typer.Typer(help="选举清单 / manifest", no_args_is_help=True)
    ballot_app = typer.Typer(help="选票 / ballots", no_args_is_help=True)
    calendar_app = typer.Typer(help="节假日文件 / holiday year files", no_args_is_help=True)
    app.add_typer(manifest_app, name="manifest")
    app.add_typer(ballot_app, name="ballot")
    app.add_typer(calendar_app, name="calendar")
    calendar_app.command("sign")(calendar_sign)
    manifest_app.command("sign")(manifest_sign)
    app.command("init")(init)
    app.command("print")(print_cmd)
    app.command("sheet")(sheet)
    ballot_app.command("read")(ballot_read)
    app.command("checkin")(checkin)
    app.command("leave")(leave)
    app.command("issue")(issue)
    app.command("return")(return_cmd)
    app.command("enter")(enter)
    app.command("withdraw")(withdraw)
    app.command("close")(close)
    app.command("cosign")(cosign)
    app.command("reduce-seats")(reduce_seats_cmd)
    app.command("officials")(officials)
    app.command("amend-request")(amend_request)
    app.command("amend-sign")(amend_sign)
    app.command("amend-candidates")(amend_candidates)
    app.command("status")(status)
    app.command("result")(result)
    app.command("publish")(publish_cmd)
