"""The public bulletin board: no sign-in, totals and checkpoints only, proofs of remote casts only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig

ROOT = Path(__file__).resolve().parents[2]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@pytest.fixture
def board(tmp_path: Path) -> Iterator[TestClient]:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase="correct horse battery"),
        sign_manifest(manifest, town),
        wg,
    )
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    s.check_in(PRESENT)
    s.issue(count=None, signer=wg)
    s.return_ballots(23, signer=wg)
    s.enter(
        [EntryInput(qr=ballot_printer.encode_qr_text(p), marks="ooooox") for p in stock.payloads]
    )
    s.close(signer=wg)
    s.store.close()
    app = create_app(ServiceConfig(election_path=tmp_path / "e.db", data_dir=tmp_path / "svc"))
    with TestClient(app) as client:
        yield client


def test_board_page_is_public_and_shows_totals_not_ballots(board: TestClient) -> None:
    r = board.get("/board/")
    assert r.status_code == 200
    assert "公告板" in r.text and "23" in r.text and "丁建国" in r.text
    assert "BQ1:" not in r.text  # no ballot-level record
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert board.get("/board/?lang=en").status_code == 200


def test_board_json_has_counts_and_the_signed_checkpoint(board: TestClient) -> None:
    data = board.get("/api/board").json()
    assert data["present"] == 23 and data["expected"] == 25
    (round1,) = data["rounds"]
    assert round1["valid"] == 23
    assert data["checkpoint"]["text"].startswith("branch-election/")
    assert "BQ1:" not in json.dumps(data) and "ballot_id" not in json.dumps(data)


def test_board_serves_no_proof_of_an_entry_that_is_not_a_remote_cast(board: TestClient) -> None:
    """Proofs are for receipts (spec/log.md §1.1); proofs of remote casts that verify:
    tests/integration/test_salted_log.py."""
    latest = board.get("/api/board/checkpoints").json()["checkpoints"][-1]
    for seq in (0, 5, latest["size"] - 1, latest["size"] + 5):
        r = board.get("/api/board/proof", params={"seq": seq})
        assert r.status_code == 404
        assert r.json()["code"] == "proof.not_public"
    assert board.get("/api/board/proof", params={"seq": -1}).status_code == 422


@pytest.fixture
def board_with_write_ins(tmp_path: Path) -> Iterator[TestClient]:
    """Round 1 of the committee: 23 ballots, two of them write in 陈国平 (M007), no candidate."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase="correct horse battery"),
        sign_manifest(manifest, town),
        wg,
    )
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    s.check_in(PRESENT)
    s.issue(count=None, signer=wg)
    s.return_ballots(23, signer=wg)
    texts = [ballot_printer.encode_qr_text(p) for p in stock.payloads]
    s.enter(
        [EntryInput(qr=q, marks="oooxxx", write_ins=("M007",)) for q in texts[:2]]
        + [EntryInput(qr=q, marks="ooooox") for q in texts[2:]]
    )
    s.close(signer=wg)
    s.store.close()
    app = create_app(ServiceConfig(election_path=tmp_path / "e.db", data_dir=tmp_path / "svc"))
    with TestClient(app) as client:
        yield client


def test_board_shows_write_ins_for_non_candidates_only_as_a_total_A13(
    board_with_write_ins: TestClient,
) -> None:
    data = board_with_write_ins.get("/api/board").json()
    name = "陈国平"
    (r,) = data["rounds"]
    assert [a["votes"] for a in r["rows"]] == [23, 23, 23, 21, 21, 0]
    assert r["others"]["people"] == 1 and r["others"]["votes"] == 2
    page = board_with_write_ins.get("/board/").text
    assert "另选他人（1 人，未当选）合计 2 票" in page
    assert name not in page and name not in json.dumps(data, ensure_ascii=False)


def test_board_shows_the_remote_ballots_of_a_post_only_as_its_total_A13(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tally.remote_device import vote_as_device_v2  # noqa: PLC0415

    monkeypatch.setenv("TALLY_PASSPHRASE", "correct horse battery")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', 'approved = ["M020", "M025"]')
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2, 3)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scs)
    )
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase="correct horse battery"),
        sign_manifest(manifest, town),
        wg,
    )
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    for member in ("M020", "M025"):
        code = s.remote.issue_invitation(member, data_dir=data)[0]
        first_five = ["M001", "M002", "M003", "M004", "M005"]
        vote_as_device_v2(s, code, {"committee": first_five, "secretary": ["M004"]}, data_dir=data)
    s.remote.close(signer=wg)
    s.remote.decrypt(scs[0], signer=None, data_dir=data)
    s.remote.decrypt(scs[1], signer=wg, data_dir=data)
    s.check_in(PRESENT)
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    s.issue(count=None, signer=wg)
    s.return_ballots(23, signer=wg)
    s.enter(
        [EntryInput(qr=ballot_printer.encode_qr_text(p), marks="ooooox") for p in stock.payloads]
    )
    s.close(signer=wg)
    assert s.meeting.rounds.outcomes[-1].remote_ballots == 2
    s.store.close()
    app = create_app(ServiceConfig(election_path=tmp_path / "e.db", data_dir=data))
    with TestClient(app) as client:
        board = client.get("/api/board").json()
        (committee,) = board["posts"]
        assert committee["remote"] == 2
        assert [r["remote"] for r in committee["rounds"]] == [None]  # no per-round figure
        assert [a["votes"] for a in committee["rounds"][0]["rows"]][:5] == [25] * 5
        assert "本职位各轮共含远程投票 2 张" in client.get("/board/").text
