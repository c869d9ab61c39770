"""A whole election with remote ballots version 2 through the CLI (spec/remote-v2.md): `tally
remote open`, three members vote from their phones (the Python device), `tally remote
close`, two scrutineers run `tally remote decrypt`, the meeting's paper rounds count the remote
totals (RV-7.1), the result is published; then nobody's ballot can be read anywhere."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tally.election import ElectionSession
from tally.remote_device import DeviceVoteV2, vote_as_device_v2
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from tests.helpers.cli_election import ENV, Election, remote_definition

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M018", "M020", "M025"]
PAPER = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 18, 20, 25)]
OFFICIALS = {"M009", "M010", "M011", "M012"}


@dataclass
class Done:
    e: Election
    published: Path
    data: Path
    votes: list[DeviceVoteV2]
    committee: dict[str, Any]
    secretary: dict[str, Any]
    write_in: str


def _approvals(outcome: dict[str, Any]) -> dict[str, int]:
    return {a["member"]: a["approvals"] for a in outcome["approvals"]}


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Done]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TALLY_PASSPHRASE", ENV["TALLY_PASSPHRASE"])
        tmp = tmp_path_factory.mktemp("v2cli")
        e = Election(tmp, remote_definition(tmp, APPROVED))
        db, data = str(e.db), tmp / "svc"
        e.ok("remote", "open", db, "--key", str(e.wg), "--k", "2", "--data", str(data))
        codes = {
            m: e.json("remote", "invite", db, m, "--data", str(data))["code"] for m in APPROVED
        }
        s = ElectionSession.open(
            SessionConfig(e.db, passphrase=ENV["TALLY_PASSPHRASE"])
        )  # the members' phones, through the service's session
        lists = s.remote.redemption_extras()["write_in_lists"]
        committee_list = next(w for w in lists if w["post"] == "committee")["members"]
        write_in = next(m["member"] for m in committee_list if m["member"] not in OFFICIALS)
        votes = [
            vote_as_device_v2(
                s, codes["M020"], {"committee": ["M001", "M002", write_in],
                                   "secretary": ["M005"]}, data_dir=data),
            vote_as_device_v2(
                s, codes["M025"], {"committee": ["M001", "M003"], "secretary": ["M004"]},
                data_dir=data),
            vote_as_device_v2(
                s, codes["M018"], {"committee": ["M006"], "secretary": ["M005"]}, data_dir=data),
        ]  # fmt: skip
        s.store.close()
        e.ok("remote", "close", db, "--key", str(e.wg), "--data", str(data))
        e.checkin(PAPER)
        first = e.json("remote", "decrypt", db, "--key", str(e.scrutineers[0]), "--data", str(data))
        assert first["totals"] is None and first["partials"] == 1
        second = e.json("remote", "decrypt", db, "--key", str(e.scrutineers[1]),
                        "--work-group-key", str(e.wg), "--data", str(data))  # fmt: skip
        assert second["totals"] is not None
        committee = e.vote("committee", 1, ["ooooox"] * len(PAPER))
        secretary = e.vote("secretary", 1, ["ox"] * len(PAPER))
        e.ok("result", db, "--key", str(e.wg))
        e.cosign()
        out = e.publish()
        yield Done(e, out, data, votes, committee, secretary, write_in)


def test_v2_cli_election_counts_the_remote_totals_in_each_posts_first_round(done: Done) -> None:
    c, sec = done.committee, done.secretary
    assert c["remote_ballots"] == 3 and sec["remote_ballots"] == 3
    paper = len(PAPER)
    assert c["valid_ballots"] == paper + 3
    got = _approvals(c)
    assert {m: got.get(m, 0) for m in ("M001", "M002", "M003", "M004", "M005", "M006")} == {
        "M001": paper + 2,
        "M002": paper + 1,
        "M003": paper + 1,
        "M004": paper,
        "M005": paper,
        "M006": 1,
    }
    assert got.get(done.write_in) == 1  # the write-in from the list (RV-2.1), write-in-eligible
    assert {m: n for m, n in _approvals(sec).items() if n} == {"M005": paper + 2, "M004": 1}
    result = json.loads((done.published / "bundle" / "result.json").read_text(encoding="utf-8"))
    assert result["remote_ballots"] == 3


def test_v2_log_holds_partials_totals_and_their_checkpoint(done: Done) -> None:
    rows = [json.loads(line) for line in _log_lines(done)]
    types = [r["type"] for r in rows]
    assert types.count("remote.partial_decryption") == 2 and types.count("remote.totals") == 1
    # Nothing else of remote voting is logged: no entry opens a single ballot.
    assert Counter(t for t in types if t.startswith("remote.")) == {
        "remote.opened": 1,
        "remote.credential_issued": len(APPROVED),
        "remote.cast": len(APPROVED),
        "remote.closed": 1,
        "remote.partial_decryption": 2,
        "remote.totals": 1,
    }
    totals = next(r for r in rows if r["type"] == "remote.totals")["body"]["posts"]
    assert [p["post"] for p in totals] == ["committee", "secretary"]
    assert totals[1]["totals"][:2] == [2, 1] and totals[1]["ballots"] == 3
    reasons = [c["reason"] for c in _checkpoints(done)]
    assert "remote-totals" in reasons and "remote-casts" not in reasons


def _log_lines(done: Done) -> list[str]:
    bundle = done.published / "bundle"
    log = next(p for p in bundle.rglob("*.jsonl") if "log" in p.name)
    return [line for line in log.read_text(encoding="utf-8").splitlines() if line]


def _checkpoints(done: Done) -> list[dict[str, Any]]:
    s = ElectionSession.open(SessionConfig(done.e.db, passphrase=ENV["TALLY_PASSPHRASE"]))
    try:
        return [{"reason": c.reason} for c in s.store.checkpoints()]
    finally:
        s.store.close()


def _readable_forms(vector: list[int]) -> list[bytes]:
    """A per-ballot approval vector as anyone might have written it down."""
    forms = [
        json.dumps(vector),
        json.dumps(vector, separators=(",", ":")),
        "".join(map(str, vector)),
        "".join("o" if v else "-" for v in vector),
        "".join("o" if v else "x" for v in vector),
        base64.b64encode(bytes(vector)).decode(),
    ]
    return [f.encode() for f in forms]


def _vectors(done: Done) -> list[list[int]]:
    """Each remote ballot's approvals per post, as the device encrypted them."""
    out = []
    committee_list = [m["member"] for m in done.votes[0].write_in_lists[0]["members"]]
    secretary_list = [m["member"] for m in done.votes[0].write_in_lists[1]["members"]]
    committee = ["M001", "M002", "M003", "M004", "M005", "M006", *committee_list]
    secretary = ["M005", "M004", *secretary_list]
    for c_app, s_app in (
        ({"M001", "M002", done.write_in}, {"M005"}),
        ({"M001", "M003"}, {"M004"}),
        ({"M006"}, {"M005"}),
    ):
        out.append([1 if m in c_app else 0 for m in committee])
        out.append([1 if m in s_app else 0 for m in secretary])
    return out


def test_no_per_ballot_plaintext_is_stored_or_published(done: Done) -> None:
    """RV-1.1: after the election, no remote ballot's approvals appear in any readable form in
    the log, the bundle, the board or the database file (the totals may)."""
    places: dict[str, bytes] = {}
    for p in sorted(done.published.rglob("*")):
        if p.is_file():
            places[str(p)] = p.read_bytes()
    for p in sorted(done.e.db.parent.glob(done.e.db.name + "*")):
        places[str(p)] = p.read_bytes()
    for p in sorted(done.data.rglob("*")):
        if p.is_file():
            places[str(p)] = p.read_bytes()
    app = create_app(ServiceConfig(election_path=done.e.db, data_dir=done.data))
    with TestClient(app) as client:
        for path in ("/api/board", "/api/board?lang=en", "/api/board/remote", "/api/remote/info",
                     "/api/board/checkpoints", "/board/"):  # fmt: skip
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            places[path] = r.content
    vectors = [list(v) for v in sorted({tuple(v) for v in _vectors(done)})]
    assert len(vectors) == 5  # two ballots approve the same secretary candidate
    for vector in vectors:
        for form in _readable_forms(vector):
            for where, content in places.items():
                if where.endswith(".zip"):
                    continue  # compressed: its members are the bundle folder's files, read above
                assert form not in content, (where, form[:80])


def test_v2_election_verifies(done: Done) -> None:
    report = done.e.verify(done.published / "bundle")
    assert report["remote_ballots"] == 3
    done.e.verify(done.published / "bundle.zip")


def test_the_demo_branch_with_remote_voters_votes_with_encrypted_ballots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tally demo`'s branch with remote voters: its members vote with encrypted ballots, two
    scrutineers decrypt the totals, the rounds count them; no ballot is decrypted."""
    from tally import demo  # noqa: PLC0415

    monkeypatch.setenv("TALLY_PASSPHRASE", ENV["TALLY_PASSPHRASE"])
    definition, scenario = demo.town_plan(11, 6)[5]
    assert definition["remote_voting"]["approved"]
    summary = demo.run_branch(tmp_path / "branch", definition, scenario, seed=11)
    assert summary.remote_ballots == len(definition["remote_voting"]["approved"])
    s = ElectionSession.open(
        SessionConfig(tmp_path / "branch" / "election.db", passphrase=ENV["TALLY_PASSPHRASE"])
    )
    try:
        types = [json.loads(raw)["type"] for _, raw in s.store.log_rows()]
        r = s.meeting.remote
        assert r is not None and r.totals is not None
        voters = len(definition["remote_voting"]["approved"])
        # Two scrutineers decrypt the totals and nothing else of remote voting is logged: no
        # entry opens a single ballot.
        assert Counter(t for t in types if t.startswith("remote.")) == {
            "remote.opened": 1,
            "remote.credential_issued": voters,
            "remote.cast": voters,
            "remote.closed": 1,
            "remote.partial_decryption": 2,
            "remote.totals": 1,
        }
        counted = [o for o in s.meeting.rounds.outcomes if o.remote_ballots]
        assert counted and all(o.remote_ballots == summary.remote_ballots for o in counted)
    finally:
        s.store.close()


def test_cli_decrypt_refuses_before_the_close_and_with_another_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", ENV["TALLY_PASSPHRASE"])
    e = Election(tmp_path, ROOT / "examples" / "qingshan.toml")
    db, data = str(e.db), str(tmp_path / "svc")
    e.ok("remote", "open", db, "--key", str(e.wg), "--k", "2", "--data", data)

    def log() -> list[tuple[int, bytes]]:
        s = ElectionSession.open(SessionConfig(e.db, passphrase=ENV["TALLY_PASSPHRASE"]))
        try:
            return s.store.log_rows()
        finally:
            s.store.close()

    before = log()
    out = e.fails("remote", "decrypt", db, "--key", str(e.scrutineers[0]), "--data", data)
    assert "须先截止远程投票" in out
    out = e.fails("remote", "decrypt", db, "--key", str(e.wg), "--data", data)
    assert "监票人" in out  # a work-group key file is not a scrutineer's
    assert log() == before
