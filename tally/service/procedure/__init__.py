"""The procedure's pages (spec/procedure.md §3-§6, RP-12.4; issue 18 piece 8): a thin shell over
the procedure file (``tally.procedure_store``) and its pure core (``tally.core.procedure``).

The recommendation and the evaluation happen before the vote, when there is no election file
yet, so these pages run as their own service (``tally procedure serve``, :func:`create_app`),
with the station's sign-in, roles, CSRF tokens, request limits and bindings:

* ``/station/procedure/`` — the work group's pages (``routes``): the sessions (open, ballots
  issued and returned, count), the entry of recommendation and evaluation ballots by scanning
  their ``BP1:`` QR, the proposed preliminary list with how each name was reached, the vetting
  record with the evaluation's counts; the chair opens, issues, returns and counts, the tellers
  enter and withdraw their own last entry and declare a ballot invalid with a scrutineer's
  confirmation; the scrutineers co-sign the counts' checkpoints (``/cosign``), each with their
  key file given at start-up and the passphrase typed on the page;
* ``/board/procedure`` and ``/api/board/procedure`` — the public page: ``procedure-public/1``.

Every write goes through :meth:`ProcedureStore.append` with the work group key unlocked at
start-up. Decisions: docs/adr/0051-procedure-pages.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

import keys
from tally.service.accounts import AccountStore, accounts_path
from tally.service.limits import install as install_limits
from tally.service.procedure.routes import SignInNeeded, router, sign_in_needed
from tally.service.procedure.web import PREFIX, ProcedureState
from tally.service.transport import TransportGate

__all__ = ["PREFIX", "ProcedureServiceConfig", "create_app", "register"]

STATIC: Final = Path(__file__).parent.parent / "static"


@dataclass
class ProcedureServiceConfig:
    """What the procedure service serves: the procedure file, the data folder (the station's
    accounts), the work group's signer (unlocked by the shell) and the usual switches."""

    procedure_path: Path
    data_dir: Path
    signer: keys.Signer | None = None
    # Scrutineers' key files, never unlocked at start-up: a scrutineer types the passphrase on
    # the page that needs their signature (RP-3.8, RP-11.2), and the key lives for that request.
    scrutineer_keys: tuple[Path, ...] = ()
    lang: str = "zh"
    tls: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def register(app: FastAPI, config: ProcedureServiceConfig) -> ProcedureState:
    """Mount the procedure's pages on ``app`` (its static files come from the station's and the
    procedure's folders)."""
    state = ProcedureState(
        path=config.procedure_path,
        accounts=AccountStore(
            accounts_path(config.data_dir), **config.extra.get("argon2_limits", {})
        ),
        signer=config.signer,
        scrutineer_keys=config.scrutineer_keys,
        lang=config.lang,
        secure_cookies=config.tls,
    )
    state.open()
    app.state.procedure = state
    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.mount(
        "/board/procedure/static",
        StaticFiles(directory=STATIC / "procedure"),
        name="procedure-static",
    )
    app.include_router(router)
    return state


async def _root() -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def create_app(config: ProcedureServiceConfig) -> FastAPI:
    """The procedure service for one branch's procedure file."""
    app = FastAPI(
        title="党支部换届推荐程序 / Branch procedure",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_limits(app, config.extra.get("request_limits"), default_lang=config.lang)
    app.add_middleware(TransportGate, tls=config.tls)
    app.mount("/station/static", StaticFiles(directory=STATIC / "station"), name="station-static")
    register(app, config)
    for path in ("/", "/station", "/station/"):
        app.add_api_route(path, _root, methods=["GET"], include_in_schema=False)
    return app
