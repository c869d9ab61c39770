"""The public board's proofs cannot be used to recompute attendance (issue 14.3, spec/log.md §1.1).

The threat: a check-in entry is a type, a roster id, a time to the second and the previous leaf
hash, all guessable. Whoever gets such an entry's leaf hash (from a proof, or as the sibling hash
inside another entry's proof) and its predecessor's could try every member and every second until
the hash matches, learning who came and when; the same for who received a remote credential.
The fix: every entry commits a secret 32-byte salt that only the bundle carries, and the board serves
proofs of ``remote.cast`` entries only (what receipts need).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from fastapi.testclient import TestClient

import ballot_printer
import keys
import tally.election_log
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from verifier.merkle import verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "qingshan.toml"
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]
REMOTE = ("M020", "M025")
GUESSED_TYPES = ("member.checked_in", "member.left", "remote.credential_issued")


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass(frozen=True)
class Board:
    client: TestClient
    roster: tuple[str, ...]
    times: tuple[str, ...]  # every second the election's entries may carry, as the log writes it
    stored: dict[int, bytes]  # the bundle's log (the town committee's copy), by seq


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    """Remote voting for M020 and M025 (two casts), then 23 members check in and a stock is
    committed, so that a signed checkpoint covers every entry."""
    tmp = tmp_path_factory.mktemp("salted")
    mp = pytest.MonkeyPatch()
    mp.setenv("TALLY_PASSPHRASE", "correct horse battery")
    from tally.remote_device import vote_as_device_v2  # noqa: PLC0415

    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', 'approved = ["M020", "M025"]')
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2, 3)]
    election = parse_definition(text)
    manifest = build_manifest(
        election, work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scs)
    )
    start = tally.election_log._now()
    s = ElectionSession.init(
        SessionConfig(tmp / "e.db", passphrase="correct horse battery"),
        sign_manifest(manifest, town),
        wg,
    )
    data = tmp / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    for member in REMOTE:
        code = s.remote.issue_invitation(member, data_dir=data)[0]
        first_five = ["M001", "M002", "M003", "M004", "M005"]
        vote_as_device_v2(s, code, {"committee": first_five, "secretary": ["M004"]}, data_dir=data)
    s.remote.close(signer=wg)
    s.check_in(PRESENT)
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=23,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    end = tally.election_log._now()
    stored = dict(s.store.log_rows())
    s.store.close()
    first = start.replace(microsecond=0) - dt.timedelta(seconds=1)
    seconds = int((end - first).total_seconds()) + 2
    times = tuple(
        (first + dt.timedelta(seconds=i)).isoformat(timespec="seconds") for i in range(seconds)
    )
    app = create_app(ServiceConfig(election_path=tmp / "e.db", data_dir=data))
    with TestClient(app) as client:
        yield Board(client, tuple(m.id for m in election.members), times, stored)
    mp.undo()


def _leaf(raw: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + raw).digest()


def _public_leaves(client: TestClient, size: int) -> dict[int, bytes]:
    """Every leaf hash the board hands out: each proof's leaf and its sibling leaf (the first
    element of an RFC 9162 audit path is the neighbouring leaf's hash)."""
    known: dict[int, bytes] = {}
    for seq in range(size):
        r = client.get("/api/board/proof", params={"seq": seq})
        if r.status_code != 200:
            continue
        p = r.json()
        known[seq] = bytes.fromhex(p["leaf_hash"])
        sibling = seq ^ 1
        if p["proof"] and sibling < p["size"]:
            known[sibling] = base64.b64decode(p["proof"][0])
    return known


def _guess(
    board: Board, known: dict[int, bytes], salts: dict[int, str] | None = None
) -> dict[int, str]:
    """The attacker: for each leaf whose predecessor's leaf is also known, try every entry type
    that names a member, every roster id, every second and both actors. ``salts`` (the bundle's)
    is the control: with them the same search must succeed."""
    found: dict[int, str] = {}
    for seq, target in known.items():
        if seq - 1 not in known:
            continue
        prev = known[seq - 1].hex()
        for type_ in GUESSED_TYPES:
            for member in board.roster:
                for at in board.times:
                    for actor in ("", "remote"):
                        entry = {
                            "format": "log-entry/1",
                            "seq": seq,
                            "prev": prev,
                            "type": type_,
                            "at": at,
                            "actor": actor,
                            "body": {"member": member},
                        }
                        if salts is not None:
                            entry["salt"] = salts[seq]
                        if _leaf(rfc8785.dumps(entry)) == target:
                            found[seq] = member
    return found


def test_board_proofs_and_their_sibling_hashes_do_not_reveal_who_checked_in(board: Board) -> None:
    size = board.client.get("/api/board").json()["entries"]
    known = _public_leaves(board.client, size)
    assert known, "the board serves no proof at all"
    assert _guess(board, known) == {}  # today's log: every member who checked in is found


def test_the_search_finds_members_once_it_has_the_bundles_salts(board: Board) -> None:
    """The control of the test above: the search space is right, only the salt is missing."""
    known = {seq: _leaf(raw) for seq, raw in board.stored.items()}
    salts = {seq: json.loads(raw)["salt"] for seq, raw in board.stored.items()}
    found = _guess(board, known, salts)
    assert set(found.values()) == set(PRESENT) | set(REMOTE)


def test_board_serves_proofs_of_remote_casts_only_and_they_verify(board: Board) -> None:
    types = {seq: json.loads(raw)["type"] for seq, raw in board.stored.items()}
    casts = [seq for seq, t in types.items() if t == "remote.cast"]
    assert len(casts) == len(REMOTE)
    for seq, type_ in types.items():
        r = board.client.get("/api/board/proof", params={"seq": seq})
        if type_ != "remote.cast":
            assert r.status_code == 404, (seq, type_)
            assert r.json()["code"] == "proof.not_public"
            continue
        assert r.status_code == 200
        p = r.json()
        root = base64.b64decode(p["checkpoint"].split("\n")[2])
        verify_inclusion(
            bytes.fromhex(p["leaf_hash"]),
            seq,
            p["size"],
            [base64.b64decode(h) for h in p["proof"]],
            root,
        )
        assert p["leaf_hash"] == _leaf(board.stored[seq]).hex()
    beyond = board.client.get("/api/board/proof", params={"seq": len(types) + 5})
    assert beyond.status_code == 404 and beyond.json()["code"] == "proof.not_public"


def test_board_and_checkpoints_show_no_entry_hash_only_sizes_and_roots(board: Board) -> None:
    leaves = [_leaf(raw) for raw in board.stored.values()]
    shown = json.dumps(board.client.get("/api/board").json()) + json.dumps(
        board.client.get("/api/board/checkpoints").json()
    )
    page = board.client.get("/board/").text
    cps = board.client.get("/api/board/checkpoints").json()["checkpoints"]
    roots = {base64.b64decode(c["text"].split("\n")[2]) for c in cps}
    assert _leaf(board.stored[0]) in roots  # the `opened` checkpoint: size 1, root = leaf 0
    for h in leaves:
        if h in roots:
            continue
        for spelling in (h.hex(), base64.b64encode(h).decode()):
            assert spelling not in shown and spelling not in page
    for raw in board.stored.values():
        salt = json.loads(raw)["salt"]
        assert salt not in shown and salt not in page


def test_two_identical_events_have_different_leaf_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same manifest, same clock, same check-in in two election files: only the salts differ."""
    fixed = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    monkeypatch.setattr(tally.election_log, "_now", lambda: fixed)
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    election = parse_definition(EXAMPLE.read_text(encoding="utf-8"))
    signed = sign_manifest(
        build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)), town
    )
    logs = []
    for name in ("a.db", "b.db"):
        s = ElectionSession.init(
            SessionConfig(tmp_path / name, passphrase="correct horse battery"), signed, wg
        )
        s.check_in(["M001"])
        logs.append([raw for _, raw in s.store.log_rows()])
        s.store.close()
    (a0, a1), (b0, b1) = logs
    unsalted = [{k: v for k, v in json.loads(x).items() if k != "salt"} for x in (a0, b0)]
    assert unsalted[0] == unsalted[1]  # the same event, byte for byte but for the salt
    assert _leaf(a0) != _leaf(b0)
    assert _leaf(a1) != _leaf(b1)
