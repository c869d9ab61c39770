"""`tally remote open / invite / close / decrypt` as the work group and the scrutineers run them,
with a member's phone played by the Python client (spec/remote.md, spec/remote-v2.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tally.cli import app
from tally.election import ElectionSession
from tally.remote_device import vote_as_device_v2
from tally.session_config import SessionConfig
from tests.helpers.cli_election import ENV, Election

ROOT = Path(__file__).resolve().parents[2]


def test_remote_voting_through_the_cli_counts_the_members_ballot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", ENV["TALLY_PASSPHRASE"])
    e = Election(tmp_path, ROOT / "examples" / "qingshan.toml")  # M020 is approved
    run = CliRunner(env=ENV)
    db, data = str(e.db), str(tmp_path / "svc")
    r = run.invoke(app, ["remote", "open", db, "--key", str(e.wg), "--k", "2", "--data", data])
    assert r.exit_code == 0, r.output
    r = run.invoke(app, ["remote", "invite", db, "M020", "--data", data, "--json"])
    assert r.exit_code == 0, r.output
    invitation = json.loads(r.output)
    code = invitation["code"]
    assert re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}", invitation["pin"])
    assert invitation["url"].endswith(f"#code={code}&pin={invitation['pin']}")
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){5}", code)
    s = ElectionSession.open(
        SessionConfig(e.db, passphrase=ENV["TALLY_PASSPHRASE"])
    )  # the member's phone, through the same session the service uses
    last = {p["post"]: [p["listed"][-1]["id"]] for p in s.remote.info()["posts"]}
    vote_as_device_v2(s, code, last, data_dir=Path(data))
    assert [c.reason for c in s.store.checkpoints()] == ["opened", "remote-opened"]  # RV-4.3
    s.store.close()
    assert (Path(data) / "remote" / "issuer.key").exists()
    close = ["remote", "close", db, "--key", str(e.wg), "--data", data]
    assert run.invoke(app, close).exit_code == 0
    assert not (Path(data) / "remote" / "issuer.key").exists()  # RM-4.7: destroyed at the close
    assert "已领取远程投票凭证" in e.fails("checkin", db, "M020")
    e.checkin([f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)])
    e.ok("remote", "decrypt", db, "--key", str(e.scrutineers[0]), "--data", data)
    r = run.invoke(
        app,
        ["remote", "decrypt", db, "--key", str(e.scrutineers[1]), "--work-group-key", str(e.wg),
         "--data", data, "--json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["totals"] is not None
    outcome = e.vote("committee", 1, ["ooooox"] * 23)
    assert outcome["remote_ballots"] == 1
    assert {a["member"]: a["approvals"] for a in outcome["approvals"]}["M006"] == 1
    secretary = e.vote("secretary", 1, ["ox"] * 23)
    assert {a["member"]: a["approvals"] for a in secretary["approvals"]}["M004"] == 1
    assert secretary["remote_ballots"] == 1
    published = e.finish()  # publishes and runs the independent verifier (folder and zip)
    result = json.loads((published / "bundle" / "result.json").read_text(encoding="utf-8"))
    assert result["remote_ballots"] == 1
    report = e.verify(published / "bundle")
    assert report["remote_ballots"] == 1
