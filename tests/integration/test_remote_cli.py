"""`tally remote open / invite / close / reveal` as the work group runs them, with a member's
phone played by the Python client (spec/remote.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import keys
from tally.cli import app
from tally.election import ElectionSession
from tally.remote_device import vote_as_device
from tests.helpers.polling import ENV, Election

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
    s = ElectionSession.open(e.db)  # the member's phone, through the same session the service uses
    marks = {p["post"]: "x" * (len(p["candidates"]) - 1) + "o" for p in s.remote_info()["posts"]}
    vote_as_device(s, code, marks, data_dir=Path(data))
    # What the service does during the window (RM-8.2): the bundle then holds a remote-casts
    # checkpoint between remote-opened and remote-closed, which the verifier must accept.
    wg = keys.load_signer(e.wg, ENV["TALLY_PASSPHRASE"], expected_role=keys.Role.WORK_GROUP)
    covered = s.checkpoint_remote_casts(signer=wg)
    assert covered == len(s.tree)
    assert s.checkpoint_remote_casts(signer=wg) is None  # nothing new since
    s.store.close()
    assert (Path(data) / "remote" / "issuer.key").exists()
    close = ["remote", "close", db, "--key", str(e.wg), "--data", data]
    assert run.invoke(app, close).exit_code == 0
    assert not (Path(data) / "remote" / "issuer.key").exists()  # RM-4.7: destroyed at the close
    assert "已领取远程投票凭证" in e.fails("checkin", db, "M020")
    e.checkin([f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)])
    r = run.invoke(
        app,
        [
            "remote",
            "reveal",
            db,
            "--key",
            str(e.wg),
            "--data",
            data,
            "--scrutineer-key",
            str(e.scrutineers[0]),
            "--scrutineer-key",
            str(e.scrutineers[1]),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "1" in r.output
    outcome = e.vote("committee", 1, ["ooooox"] * 23)
    assert outcome["remote_ballots"] == 1
    assert {a["member"]: a["approvals"] for a in outcome["approvals"]}["M006"] == 1
    secretary = e.vote("secretary", 1, ["ox"] * 23)
    assert secretary["remote_ballots"] == 1
    published = e.finish()  # publishes and runs the independent verifier (folder and zip)
    result = json.loads((published / "bundle" / "result.json").read_text(encoding="utf-8"))
    assert result["remote_ballots"] == 1
    report = e.verify(published / "bundle")
    assert report["remote_ballots"] == 1
