"""The objection pages learn which branches are open from the branches' procedure files
(spec/procedure.md RP-7.2, RP-8.6, RP-9.9; ``tally serve --casework FILE --procedures DIR``):
a branch is listed from its ``election.concluded`` until its appointment, with its elected as the
procedure's roster names them; an objection after ``publicity_end`` is recorded ``after``; a file
changed while serving is read again; a damaged file opens nothing and the log says why."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tally.cli import app as cli_app
from tally.procedure_store import ProcedureStore
from tally.procedure_town import approve, sign_act
from tally.service.casework.publicity import NoProcedures, ProcedureFolder
from tests.helpers.casework import at
from tests.helpers.casework_service import CaseworkService, casework_service
from tests.helpers.procedure import TOWN, WORK_GROUP
from tests.helpers.procedure_town import COMMITTEE, vetted_for_casework

ELECTION_ID = "e1" * 32
ROOT = "a0" * 32
JSON = {"Accept": "application/json"}
# B01's procedure (the example's, for the casework of tests.helpers.casework): publicity from
# Tuesday 1 December to Tuesday 8 December 2026 (town time).
PUBLICITY = ("2026-12-01", "2026-12-08")


@pytest.fixture(scope="module")
def vetted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A procedure file of branch B01 through its vetting, for the test casework."""
    return vetted_for_casework(tmp_path_factory.mktemp("vetted"))


class Procedure:
    """The branch's procedure file in the served folder, appended to as the CLI would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = 0

    def random(self, n: int) -> bytes:
        self.n += 1
        return bytes([self.n % 256]) * n

    def append(self, type_: str, body: dict[str, Any]) -> None:
        store = ProcedureStore.open(self.path)
        try:
            self.n += 1
            store.append(
                type_,
                body,
                at=at("2026-12-01 09:00") + timedelta(minutes=self.n),
                actor="组长",
                work_group=WORK_GROUP,
                random=self.random,
            )
        finally:
            store.close()

    def conclude(self) -> None:
        store = ProcedureStore.open(self.path)
        try:
            approval = approve(store, reference="红组〔2026〕12号", town=TOWN)
        finally:
            store.close()
        self.append("candidates.approved", approval)
        self.append("election.bound", {"election_id": ELECTION_ID, "manifest_sha256": "5a" * 32})
        self.append(
            "election.concluded",
            {
                "election_id": ELECTION_ID,
                "size": 40,
                "root": ROOT,
                "elected": {"committee": COMMITTEE[:5], "secretary": ["M002"]},
                "publicity_start": PUBLICITY[0],
                "publicity_end": PUBLICITY[1],
            },
        )

    def appoint(self) -> None:
        store = ProcedureStore.open(self.path)
        try:
            procedure_id = store.procedure_id.hex()
            casework_id = store.signed.procedure.casework_id
        finally:
            store.close()
        persons = [
            {"post": "committee", "member": m, "status": "appointed", "objections": []}
            for m in COMMITTEE[:5]
        ]
        persons.append(
            {"post": "secretary", "member": "M002", "status": "appointed", "objections": []}
        )
        doc = {
            "format": "appointment/1",
            "procedure_id": procedure_id,
            "election_id": ELECTION_ID,
            "election_root": ROOT,
            "publicity_end": PUBLICITY[1],
            "date": "2026-12-09",
            "decision": "approved",
            "persons": persons,
            "objections": [],
            "casework": {"casework_id": casework_id, "size": 3, "root": ROOT},
            "reference": "红组〔2026〕31号",
        }
        self.append("appointment.recorded", sign_act(doc, TOWN))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "procedures"
    out.mkdir()
    return out


@pytest.fixture
def branch(vetted: Path, folder: Path) -> Procedure:
    path = folder / vetted.name
    shutil.copy(vetted, path)
    return Procedure(path)


@pytest.fixture
def svc(tmp_path: Path, folder: Path) -> CaseworkService:
    return casework_service(tmp_path, procedures=folder)


@pytest.fixture
def client(svc: CaseworkService) -> Iterator[TestClient]:
    with TestClient(svc.app) as c:
        yield c


def _listed(c: TestClient) -> bool:
    page = c.get("/objection/")
    assert page.status_code == 200
    return "/objection/?branch=B01" in page.text


def _lodge(c: TestClient) -> dict[str, Any]:
    page = c.get("/objection/?branch=B01").text
    field = {
        k: re.search(rf'name="{k}" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
        for k in ("csrf", "submission")
    }
    r = c.post(
        "/objection/",
        data={**field, "branch": "B01", "about": "M002", "what": "当选人存在拉票行为"},
        headers=JSON,
    )
    assert r.status_code == 200, r.text
    got: dict[str, Any] = r.json()
    return got


def _last_body(svc: CaseworkService) -> dict[str, Any]:
    rows: list[bytes] = svc.on_thread(lambda s: s.log_rows())
    entry = json.loads(rows[-1])
    assert entry["type"] == "objection.received"
    body: dict[str, Any] = entry["body"]
    return body


def test_a_branch_in_publicity_is_listed_with_its_elected_named_by_the_procedure(
    branch: Procedure, svc: CaseworkService, client: TestClient
) -> None:
    branch.conclude()
    svc.clock.now = at("2026-12-03 10:00")
    assert _listed(client)
    form = client.get("/objection/?branch=B01").text
    assert 'value="M002">马秀英<' in form and 'value="M001">丁建国<' in form
    assert PUBLICITY[0] in form and PUBLICITY[1] in form and "公示期已结束" not in form
    _lodge(client)
    assert _last_body(svc)["timing"] == "during"


def test_a_branch_before_its_election_is_concluded_is_not_listed_and_refused(
    branch: Procedure, client: TestClient
) -> None:
    assert not _listed(client)
    pre = client.cookies["casework_pre"]
    data = {"csrf": pre, "submission": "t" * 24, "branch": "B01", "about": "", "what": "拉票"}
    r = client.post("/objection/", data=data, headers=JSON)
    assert (r.status_code, r.json()["code"]) == (409, "objection.not_in_publicity")


def test_a_branch_after_its_appointment_is_not_listed(
    branch: Procedure, svc: CaseworkService, client: TestClient
) -> None:
    branch.conclude()
    branch.appoint()
    svc.clock.now = at("2026-12-10 10:00")
    assert not _listed(client)


def test_an_objection_after_publicity_before_the_appointment_is_recorded_after(
    branch: Procedure, svc: CaseworkService, client: TestClient
) -> None:
    branch.conclude()
    # Wednesday 9 December, town time: the day after publicity_end (RP-8.6: still taken).
    svc.clock.now = at("2026-12-09 00:30")
    assert _listed(client)
    assert "公示期已结束" in client.get("/objection/?branch=B01").text
    _lodge(client)
    assert _last_body(svc)["timing"] == "after"


def test_the_last_day_of_publicity_counts_in_town_time(
    branch: Procedure, svc: CaseworkService, client: TestClient
) -> None:
    branch.conclude()
    svc.clock.now = at("2026-12-08 23:58")  # 15:58 UTC: still 8 December in the town
    _lodge(client)
    assert _last_body(svc)["timing"] == "during"


def test_a_procedure_file_changed_while_serving_is_read_again(
    branch: Procedure, svc: CaseworkService, client: TestClient
) -> None:
    svc.clock.now = at("2026-12-03 10:00")
    assert not _listed(client)
    branch.conclude()  # another program appends while the service runs
    assert _listed(client)
    branch.appoint()
    assert not _listed(client)


def test_a_damaged_procedure_file_opens_nothing_and_the_log_says_why(
    branch: Procedure,
    folder: Path,
    svc: CaseworkService,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    branch.conclude()
    svc.clock.now = at("2026-12-03 10:00")
    junk = folder / "notes.procedure"
    junk.write_bytes(b"not a procedure file")
    with caplog.at_level(logging.WARNING, logger="tally.service.casework"):
        assert _listed(client)  # the good file still opens B01
    assert str(junk) in caplog.text and "store.corrupt" in caplog.text
    caplog.clear()
    data = bytearray(branch.path.read_bytes())
    data[:100] = bytes(100)  # the SQLite header gone
    branch.path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="tally.service.casework"):
        assert not _listed(client)
        assert client.get("/objection/status").status_code == 200
    assert str(branch.path) in caplog.text


def test_two_procedure_files_of_one_branch_open_neither(
    branch: Procedure,
    folder: Path,
    svc: CaseworkService,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    branch.conclude()
    svc.clock.now = at("2026-12-03 10:00")
    shutil.copy(branch.path, folder / "B01-copy.procedure")
    with caplog.at_level(logging.WARNING, logger="tally.service.casework"):
        assert not _listed(client)
    assert "branch B01 has 2 procedure files" in caplog.text


def test_without_procedure_files_the_pages_say_objections_are_not_open_and_why(
    tmp_path: Path,
) -> None:
    svc = casework_service(tmp_path)
    svc.app.state.casework.publicity = NoProcedures()  # what `tally serve` gives (below)
    with TestClient(svc.app) as c:
        page = c.get("/objection/").text
        assert 'id="objections-closed"' in page and "--procedures" in page
        assert "/objection/?branch=" not in page
        assert "started without --procedures" in c.get("/objection/?lang=en").text
        login = c.get("/casework/login").text
        csrf = re.search(r'name="csrf" value="([^"]*)"', login).group(1)  # type: ignore[union-attr]
        r = c.post(
            "/casework/login",
            data={"csrf": csrf, "name": "head", "password": "head-password"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        in_person = c.get("/casework/objection?lang=zh").text
        assert 'id="objections-closed"' in in_person and "--procedures" in in_person


def test_tally_serve_reads_the_procedure_folder_it_is_given(
    svc: CaseworkService, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn  # noqa: PLC0415

    seen: list[Any] = []

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            application: Any = config.app
            seen.append(application.state.casework.publicity)

        def run(self) -> None:
            return None

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    runner = CliRunner()
    base = ["serve", str(svc.folder / "e.db"), "--data", str(svc.data)]
    r = runner.invoke(cli_app, [*base, "--casework", str(svc.casework)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli_app, [*base, "--casework", str(svc.casework), "--procedures", str(folder)]
    )
    assert r.exit_code == 0, r.output
    assert isinstance(seen[0], NoProcedures)
    assert isinstance(seen[1], ProcedureFolder) and seen[1].folder == folder
    r = runner.invoke(cli_app, [*base, "--procedures", str(folder)])
    assert r.exit_code != 0 and "--procedures 须与 --casework 同时给出" in r.output
    missing = folder / "none"
    r = runner.invoke(
        cli_app, [*base, "--casework", str(svc.casework), "--procedures", str(missing)]
    )
    assert r.exit_code != 0 and "找不到换届程序文件夹" in r.output
