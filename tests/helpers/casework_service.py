"""The casework pages over real files, for the HTTP and the browser tests (tally/service/casework).

``casework_service(folder)`` makes an election file (the service serves one), a town casework file
with two registered reporters (R01 of B01, R02 of B02), the accounts ``head`` (case_head),
``officer`` (case_officer), ``town`` (town_viewer) and ``chair`` (a station role), branch B01 in
publicity with two elected members, and a clock the test moves (``CaseworkService.now``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.pwhash

import keys
from tally.casework_store import CaseworkStore, sign_casework
from tally.core.casework import register_reporter
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tally.service.casework.web import BranchPublicity
from tests.helpers.casework import CALENDAR, SERVICE, TOWN, at, document

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = (
    ("head", Role.CASE_HEAD),
    ("officer", Role.CASE_OFFICER),
    ("town", Role.TOWN_VIEWER),
    ("chair", Role.CHAIR),
)
ELECTED = (("M001", "王建国"), ("M002", "李红梅"))
START = at("2026-09-28 10:00")  # a Monday


@dataclass
class Clock:
    """Town time that moves one second per reading, unless the test sets it."""

    now: datetime = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class Publicity:
    """Branches open to objections, set by the test."""

    open: dict[str, BranchPublicity] = field(default_factory=dict)

    def publicity(self, branch: str) -> BranchPublicity | None:
        return self.open.get(branch)

    def unavailable(self) -> tuple[str, str] | None:
        return None


@dataclass
class CaseworkService:
    app: Any
    folder: Path
    casework: Path
    data: Path
    codes: dict[str, str]
    clock: Clock
    publicity: Publicity

    def store(self) -> CaseworkStore:
        st: CaseworkStore = self.app.state.casework.store
        return st

    def on_thread(self, fn: Any) -> Any:
        cw = self.app.state.casework
        return cw.thread.submit(fn, cw.store).result()

    def log_types(self) -> list[str]:
        rows: list[bytes] = self.on_thread(lambda s: s.log_rows())
        return [str(json.loads(r)["type"]) for r in rows]


def _election(folder: Path) -> Path:
    wg = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", bytes(range(2, 34)))
    sc = [
        keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, name, bytes([i]) * 32)
        for i, name in ((7, "黄德明"), (8, "赵红梅"))
    ]
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(
        election,
        work_group_key=json.loads(keys.export_public_key(wg.public_key)),
        scrutineer_keys=tuple(json.loads(keys.export_public_key(s.public_key)) for s in sc),
    )
    path = folder / "e.db"
    ElectionSession.init(path, sign_manifest(manifest, TOWN), wg).store.close()
    return path


def make_casework(path: Path, **photos: int) -> dict[str, str]:
    """A casework file with reporters R01 (B01/G1) and R02 (B02/G1); their access codes."""
    doc = document(**({"photos": {**document()["photos"], **photos}} if photos else {}))
    signed, _ = sign_casework(doc, TOWN)
    store = CaseworkStore.create(
        path,
        signed_casework=signed,
        casework_signer=SERVICE,
        at=at("2026-09-28 09:00"),
        random=secrets.token_bytes,
    )
    codes = {}
    try:
        for i, (rid, branch) in enumerate((("R01", "B01"), ("R02", "B02"))):
            when = at(f"2026-09-28 09:0{i + 1}")
            step = register_reporter(
                store.ledger,
                at=when,
                reporter=rid,
                branch=branch,
                group="G1",
                name=f"直报员{i + 1}",
                phone="",
            )
            _, codes[rid] = store.register(step, at=when, actor="head", random=secrets.token_bytes)
    finally:
        store.close()
    return codes


def casework_service(
    folder: Path, *, procedures: Path | None = None, **photos: int
) -> CaseworkService:
    """The service with its casework pages over new files in ``folder``; with ``procedures``, the
    branches open to objections are read from the procedure files there (``tally serve
    --procedures``) instead of the test's ``Publicity``."""
    casework = folder / "town.casework"
    codes = make_casework(casework, **photos)
    data = folder / "service"
    accounts = AccountStore(
        accounts_path(data), opslimit=FAST["opslimit"], memlimit=FAST["memlimit"]
    )
    for name, role in ACCOUNTS:
        accounts.add(name, role, f"{name}-password")
    clock = Clock()
    publicity = Publicity({"B01": BranchPublicity(date(2026, 10, 9), ELECTED)})
    app = create_app(
        ServiceConfig(
            election_path=_election(folder),
            data_dir=data,
            casework_path=casework,
            extra={
                "argon2_limits": FAST,
                **(
                    {"procedures": procedures}
                    if procedures is not None
                    else {"casework_publicity": publicity}
                ),
                "casework_calendar": CALENDAR,
                "casework_clock": clock,
                "casework_signer": SERVICE,
            },
        )
    )
    return CaseworkService(app, folder, casework, data, codes, clock, publicity)
