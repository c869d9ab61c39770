"""The linking game of ``test_remote_unlinkability.py`` played with remote ballots version 2
(spec/remote-v2.md RV-1.1, RV-1.2): the same elections, members, schedules and attacker, the
ballots cast as ``remote-ballot/2`` through the HTTP API, kept pending and logged at the close, the
totals decrypted by the scrutineer. The attacker holds the same evidence (every table of the
election file, the bundle, the board, the service's log records, the data folder) and also looks
for each challenge ballot's approvals in any readable form next to a cast's token. It must do no
better than a coin.

When version 2 becomes the default, this replaces the v1 game's xfail test (and the v1 test that
documents the leak is deleted with v1).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
from keys import remote_ballot
from keys.remote import begin_token_request, finish_token_request, load_issuer_public_key
from tally.calendar import load_calendar
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput, sign_manifest
from tally.publish import bundle_files
from tally.remote_device import ballot_context, choices_for
from tally.service import ServiceConfig, create_app
from tests.helpers.elections import definition_text
from tests.integration.test_remote_unlinkability import (
    BALLOTS,
    COUNT_AT,
    GAMES,
    INVITED_AT,
    MEMBERS,
    PAPER,
    PAPER_COMMITTEE,
    PASSPHRASE,
    SECRETARY_MARKS,
    SEED,
    Evidence,
    Game,
    _blobs,
    _Clock,
    _log_entries,
    _play_attacker,
    _Records,
    _schedule,
    _tables,
    _upper_99,
)

SEED_V2 = SEED + 2


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@dataclass(frozen=True, slots=True)
class _Template:
    folder: Path
    codes: Mapping[str, str]
    wg: keys.InMemorySigner
    sc: keys.InMemorySigner


def _template(folder: Path, clock: _Clock) -> _Template:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = definition_text(
        full=12,
        committee_seats=3,
        secretary_candidates=(1, 2),
        extra=f"[remote_voting]\napproved = {json.dumps(list(MEMBERS))}\n"
        "counts_toward_quorum = false\n",
    )
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    clock.t = INVITED_AT - dt.timedelta(hours=1)
    folder.mkdir()
    s = ElectionSession.init(folder / "e.db", sign_manifest(manifest, town), wg)
    s.open_remote(signer=wg, k=1, data_dir=folder / "svc")
    clock.t = INVITED_AT
    codes = {m: s.issue_invitation(m, data_dir=folder / "svc")[0] for m in MEMBERS}
    s.store.close()
    return _Template(folder, codes, wg, sc)


def _approvals(info: Mapping[str, Any], marks: str, post: str) -> list[str]:
    listed = next(p for p in info["posts"] if p["post"] == post)["listed"]
    return [c["id"] for c, m in zip(listed, marks, strict=True) if m == "o"]


def _count(s: ElectionSession, t: _Template, clock: _Clock, data: Path) -> None:
    """The meeting: close (the batch of casts), the totals decrypted, both posts counted."""
    clock.t = COUNT_AT
    s.close_remote(signer=t.wg, data_dir=data)
    s.decrypt_remote(t.sc, signer=t.wg, data_dir=data)
    s.check_in(list(PAPER))
    for kind, marks in (
        (ballot_printer.PaperKind.COMMITTEE, PAPER_COMMITTEE),
        (ballot_printer.PaperKind.SECRETARY, SECRETARY_MARKS),
    ):
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=kind,
            round_number=s.due_round().number,
            count=len(PAPER),
            signer=t.wg,
        )
        s.commit_stock(stock, signer=t.wg)
        s.issue(count=None, signer=t.wg)
        s.return_ballots(len(PAPER), signer=t.wg)
        s.enter(
            [EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads]
        )
        s.close(signer=t.wg)
    s.record_result(signer=t.wg, calendar=load_calendar(None))
    s.cosign(t.sc)


def _play(t: _Template, folder: Path, clock: _Clock, rng: random.Random) -> Game:
    shutil.copytree(t.folder, folder)
    data = folder / "svc"
    x_by = rng.choice(MEMBERS)
    marks = {m: BALLOTS[0] if m == x_by else BALLOTS[1] for m in MEMBERS}
    records = _Records()
    logger = logging.getLogger("tally")
    level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    try:
        app = create_app(ServiceConfig(election_path=folder / "e.db", data_dir=data))
        app.state.service.signer = t.wg
        events: list[tuple[str, str]] = []
        with TestClient(app) as client:
            info = client.get("/api/remote/info").json()
            issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
            creds: dict[str, Any] = {}
            lists: dict[str, Any] = {}
            for at, member, what in _schedule(rng):
                clock.t = at
                events.append((member, what))
                if what == "redeem":
                    req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
                    r = client.post(
                        "/api/remote/redeem",
                        json={"code": t.codes[member], "blinded_msg": _b64(req.blinded_msg)},
                    )
                    assert r.status_code == 200, r.text
                    creds[member] = finish_token_request(
                        req, issuer, base64.b64decode(r.json()["blind_sig"])
                    )
                    lists[member] = r.json()["write_in_lists"]
                    continue
                cred = creds[member]
                approvals = {
                    "committee": _approvals(info, marks[member], "committee"),
                    "secretary": _approvals(info, SECRETARY_MARKS, "secretary"),
                }
                ballot = remote_ballot.encrypt_ballot(
                    ballot_context(info, lists[member]),
                    cred.token,
                    choices_for(info, lists[member], approvals),
                )
                r = client.post(
                    "/api/remote/cast",
                    json={
                        "token": _b64(cred.token),
                        "token_prefix": _b64(cred.prefix),
                        "token_signature": _b64(cred.signature),
                        "ballot": ballot,
                    },
                )
                assert r.status_code == 200, r.text
            run, portal = app.state.service.run, client.portal
            assert portal is not None
            portal.call(run, lambda s: _count(s, t, clock, data))
            bundle = portal.call(run, lambda s: bundle_files(s, load_calendar(None)))
            board = tuple(
                client.get(path, params=params).json()
                for path, params in (
                    ("/api/board", {"lang": "zh"}),
                    ("/api/board", {"lang": "en"}),
                    ("/api/board/checkpoints", {}),
                    ("/api/board/remote", {}),
                )
            )
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    evidence = Evidence(
        members=MEMBERS,
        ballots=BALLOTS,
        tables=_tables(folder / "e.db"),
        bundle=bundle,
        board=board,
        service_log=tuple(records.lines),
        data_files={
            str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()
        },
    )
    return Game(evidence, x_by, tuple(events))


@pytest.fixture(scope="module")
def games(tmp_path_factory: pytest.TempPathFactory) -> list[Game]:
    mp = pytest.MonkeyPatch()
    mp.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    clock = _Clock()
    mp.setattr("tally.election._now", clock)
    unlock = keys.remote.TokenIssuer.from_key_file
    unlocked: dict[tuple[bytes, str], keys.remote.TokenIssuer] = {}

    def from_key_file(data: bytes, passphrase: str) -> keys.remote.TokenIssuer:
        if (data, passphrase) not in unlocked:
            unlocked[data, passphrase] = unlock(data, passphrase)
        return unlocked[data, passphrase]

    mp.setattr(keys.remote.TokenIssuer, "from_key_file", from_key_file)
    try:
        root = tmp_path_factory.mktemp("linking-v2")
        template = _template(root / "template", clock)
        rng = random.Random(SEED_V2)
        return [_play(template, root / f"game-{i}", clock, rng) for i in range(GAMES)]
    finally:
        mp.undo()


def _vector_forms(marks: str) -> list[str]:
    """A committee ballot's approvals as anyone might write them down (the listed candidates are
    the first choices; the write-in list follows, all 0 here)."""
    vector = [1 if m == "o" else 0 for m in marks]
    return [
        json.dumps(vector)[:-1],  # the prefix of the whole list: "[1, 1, 0, 1"
        json.dumps(vector, separators=(",", ":"))[:-1],
    ]


def test_v2_game_is_played_as_designed(games: list[Game]) -> None:
    """Not degenerate: both go first, both cast X, sittings overlap now and then; every game's
    log has its two casts in one batch at the close, no key and no decrypted ballot."""
    assert {g.events[0][0] for g in games} == {g.truth for g in games} == set(MEMBERS)
    assert 0 < sum(g.events[1][1] == "redeem" for g in games) < GAMES
    for g in games:
        entries = _log_entries(g.evidence)
        types = [e["type"] for _, e in sorted(entries.items())]
        assert types.count("remote.cast") == 2 and "remote.totals" in types
        assert "remote.key_revealed" not in types and "remote.decrypted" not in types
        casts = [e for e in entries.values() if e["type"] == "remote.cast"]
        closed = next(e for e in entries.values() if e["type"] == "remote.closed")
        assert {c["at"] for c in casts} == {closed["at"]}


def test_v2_no_challenge_ballot_is_readable_anywhere(games: list[Game]) -> None:
    """Channel 1 closed (RV-1.1): neither challenge ballot, as marks or as approvals, is in any
    log entry, row, record, board document, bundle or data file."""
    for g in games:
        texts = [json.dumps(e, ensure_ascii=False) for e in _log_entries(g.evidence).values()]
        texts += list(_blobs(g.evidence))
        for marks in BALLOTS:
            for form in [f'"{marks}"', *_vector_forms(marks)]:
                assert not any(form in t for t in texts), form


def test_v2_attacker_cannot_link_two_remote_voters_better_than_chance(games: list[Game]) -> None:
    """The property (DESIGN §2.2, RM-1.3.2) with version 2: the v1 attacker, with the bundle,
    the board, the election file, the service's logs and data folder, finds no link and tells who
    cast which ballot no better than a coin."""
    results = _play_attacker(games)
    wins = sum(won for won, _ in results)
    assert {g.channel for _, g in results} == {"chance"}
    assert wins <= _upper_99(GAMES), (wins, GAMES)
