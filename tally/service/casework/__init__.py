"""The town's casework pages (spec/procedure.md §8, §9; issue 18 point 3 and 4): a thin shell over
the casework store (``tally.casework_store``) and its pure core (``tally.core.casework``).

Mounted when the service is given a casework file (``ServiceConfig.casework_path``):

* ``/report/`` — the community reporter's phone page (``reporters``): sign in with the access
  code, report, see one's own reports' state;
* ``/objection/`` — the public objection form and ``/objection/status`` (``objections``);
* ``/casework/`` — the verification group's list and case pages and the town committee's list
  per branch (``group``), the form for an objection made in person (``in_person``) and the
  reporters' register (``registry``), for the accounts of roles ``case_head``,
  ``case_officer`` and ``town_viewer`` only.

``/report/`` and ``/objection/`` are public pages (``transport.PUBLIC_PATHS``); ``/casework/`` is
served on the station's binding only. ``views`` builds each page's data (pure), ``web`` holds the
state, rendering and refusals. Decisions: docs/adr/0047-casework-pages.md.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

import keys
from tally.calendar import build_calendar
from tally.casework_store import CaseworkStore
from tally.service.accounts import AccountStore, accounts_path
from tally.service.casework import group, in_person, objections, registry, reporters
from tally.service.casework.publicity import NoProcedures, ProcedureFolder
from tally.service.casework.web import CaseworkState, PublicitySource
from tally.service.limits import RequestLimits

__all__ = ["REPORT_BODY_SECONDS", "REPORT_PATH", "register", "request_limits"]

STATIC: Final = Path(__file__).parent.parent / "static" / "casework"
REPORT_PATH: Final = "/report/"
_FORM_ALLOWANCE: Final = 1024 * 1024  # the text fields and the multipart framing around photos
# A phone on a village's mobile network sends a few Mbit/s: 20 MiB of photos take about a minute.
REPORT_BODY_SECONDS: Final = 120.0


def request_limits(limits: RequestLimits, casework_path: Path) -> RequestLimits:
    """``limits`` with the report form's body limit raised to the casework's photo limits
    (``max_count`` × ``max_bytes``, plus the form around them), so the service refuses a photo
    over its limit with the core's code naming it, never with a bare 413 of the body limit; and
    its body deadline raised to ``REPORT_BODY_SECONDS``. Only a signed-in reporter's body is read
    (the session is checked first), and the form parser spools photos past 1 MiB to disk."""
    store = CaseworkStore.open(casework_path)
    try:
        photos = store.casework.photos
    finally:
        store.close()
    limit = photos.max_count * photos.max_bytes + _FORM_ALLOWANCE
    return dataclasses.replace(
        limits,
        route_body_bytes=(*limits.route_body_bytes, (REPORT_PATH, limit)),
        route_body_seconds=(*limits.route_body_seconds, (REPORT_PATH, REPORT_BODY_SECONDS)),
    )


def _signer(extra: dict[str, Any]) -> keys.Signer | None:
    """The casework key that signs the day checkpoints: ``extra["casework_signer"]`` (``tally
    serve --casework-key`` unlocks it before the service starts; tests), or the key file
    ``extra["casework_key"]`` opened with ``TALLY_PASSPHRASE``; without one no day checkpoint is
    made."""
    given: keys.Signer | None = extra.get("casework_signer")
    if given is not None or "casework_key" not in extra:
        return given
    passphrase = os.environ.get("TALLY_PASSPHRASE", "")
    return keys.load_signer(extra["casework_key"], passphrase, expected_role=keys.Role.CASEWORK)


def _publicity(casework_path: Path, extra: dict[str, Any]) -> PublicitySource:
    """Which branches are open to objections: ``extra["casework_publicity"]`` (tests), else the
    procedure files in ``extra["procedures"]`` (``tally serve --procedures``), else none."""
    given: PublicitySource | None = extra.get("casework_publicity")
    if given is not None:
        return given
    folder = extra.get("procedures")
    if folder is None:
        return NoProcedures()
    store = CaseworkStore.open(casework_path)
    try:
        casework_id = store.casework.id.hex()
    finally:
        store.close()
    return ProcedureFolder(Path(folder), casework_id)


def register(app: FastAPI) -> None:
    """Mount the casework pages on ``app`` when the service has a casework file."""
    config = app.state.service.config
    if config.casework_path is None:
        return
    extra = config.extra
    app.state.casework = CaseworkState(
        path=config.casework_path,
        accounts=AccountStore(accounts_path(config.data_dir), **extra.get("argon2_limits", {})),
        publicity=_publicity(config.casework_path, extra),
        calendar=extra.get("casework_calendar") or build_calendar(),
        signer=_signer(extra),
        **({"clock": extra["casework_clock"]} if "casework_clock" in extra else {}),
    )
    app.add_exception_handler(reporters.NoReporter, reporters.no_reporter)
    app.add_exception_handler(group.NoOfficial, group.no_official)
    app.add_exception_handler(group.ClerkNotHere, group.clerk_not_here)
    app.mount("/report/static", StaticFiles(directory=STATIC), name="casework-static")
    for router in (
        reporters.router,
        objections.router,
        group.router,
        in_person.router,
        registry.router,
    ):
        app.include_router(router)
