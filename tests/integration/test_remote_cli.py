"""`tally remote open / invite / close / reveal` as the work group runs them, with a member's
phone played by the Python client (spec/remote.md)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import rfc8785
from typer.testing import CliRunner

from keys import remote
from tally.cli import app
from tally.election import ElectionSession
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
    code = json.loads(r.output)["code"]
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){5}", code)
    s = ElectionSession.open(e.db)  # the member's phone, through the same session the service uses
    info = s.remote_info()
    issuer = remote.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    req = remote.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    cred = remote.finish_token_request(
        req, issuer, s.redeem_invitation(code, req.blinded_msg, data_dir=Path(data))
    )
    ballot = {
        "format": "remote-ballot/1",
        "election_id": info["election_id"],
        "token": base64.b64encode(cred.token).decode(),
        "posts": [
            {
                "post": p["post"],
                "candidates": [c["id"] for c in p["candidates"]],
                "marks": "x" * (len(p["candidates"]) - 1) + "o",
                "write_ins": [],
            }
            for p in info["posts"]
        ],
    }
    sealed = remote.seal_ballot(base64.b64decode(info["ballot_key"]), rfc8785.dumps(ballot))
    s.cast_remote(cred.token, cred.prefix, cred.signature, sealed)
    s.store.close()
    assert run.invoke(app, ["remote", "close", db, "--key", str(e.wg)]).exit_code == 0
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
