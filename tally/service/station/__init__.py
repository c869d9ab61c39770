"""The polling-station pages: the work group runs the meeting in a browser (a thin shell).

Every page is rendered on the server (Jinja2, Simplified Chinese by default, ``?lang=en``); every
change goes through one ``ElectionSession`` command under the service lock, with the signed-in
person's account name as the log's ``actor``. A refused command changes nothing and its message is
shown on the page in the user's language.

Who may do what (``ACTIONS``): the clerk (工作人员) checks members in; the teller (计票人) enters
ballots and withdraws their own last entry; the chair (主持人) prints the ballot stock, issues and
returns ballots, closes the count, records decisions, the result and publishes; the scrutineer
(监票人) watches every page and co-signs from the command line (``tally cosign``) with their own
key, which never reaches the service.

Pages: ``/station/`` overview, ``checkin``, ``ballots`` (print, issue, return), ``count``
(scanner + marks), ``tally`` (live chart), ``result`` (outcomes, sign-off, decisions),
``downloads``; ``/station/api/live`` is polled every 2 s by ``static/station/station.js``.

The package (docs/adr/0028-station-package.md): ``auth`` (roles, CSRF, sign-in and the session
cookie), ``views`` (each page's data from the session: pure, tested without HTTP), ``commands``
(one function per command, run on the election thread), ``web`` (the station's state, rendering,
form readers) and ``routes`` (the handlers on one ``APIRouter``, the official as a dependency).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from tally.service.accounts import AccountStore, accounts_path
from tally.service.app import ServiceState
from tally.service.station.auth import ACTIONS
from tally.service.station.routes import SignInNeeded, router, sign_in_needed
from tally.service.station.web import StationState

__all__ = ["ACTIONS", "register"]

STATIC = Path(__file__).parent.parent / "static" / "station"


async def _station_root() -> Response:
    return RedirectResponse("/station/", status_code=307)


def register(app: FastAPI) -> None:
    """Mount the station's pages, static files and the live endpoint on ``app``."""
    state: ServiceState = app.state.service
    config = state.config
    limits = config.extra.get("argon2_limits", {})
    app.state.station = StationState(
        accounts=AccountStore(accounts_path(config.data_dir), **limits),
        scrutineer_keys=config.scrutineer_keys,
    )
    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.mount("/station/static", StaticFiles(directory=STATIC), name="station-static")
    app.include_router(router)
    app.add_api_route("/station", _station_root, methods=["GET"], include_in_schema=False)
