"""Remote ballots through the tally session (spec/remote.md, spec/remote-v2.md): credentials, casts
into the pending casts, the totals decrypted by the scrutineers, and the remote totals counted in
the first round of each post."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import ballot_printer
import keys
from keys import remote_tokens
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.remote_device import vote_as_device_v2
from tally.remote_voting import ReceivedCast, RemoteCastV2
from tally.session_config import SessionConfig
from tally.session_errors import SessionError
from tests.helpers.remote_session import ballot_for

ROOT = Path(__file__).resolve().parents[2]
PASS = "correct horse battery"
APPROVED = ["M020", "M025"]
PAPER = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _election(tmp_path: Path, *, counts: bool) -> tuple[ElectionSession, dict[str, Any]]:
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    text = text.replace(
        "counts_toward_quorum = false", f"counts_toward_quorum = {str(counts).lower()}"
    )
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2, 3)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(s) for s in scs)
    )
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASS), sign_manifest(manifest, town), wg
    )
    (tmp_path / "town.pub").write_bytes(keys.export_public_key(town.public_key))
    return s, {"wg": wg, "scrutineers": scs, "data": tmp_path / "svc", "folder": tmp_path}


def _listed(s: ElectionSession, post: str) -> list[str]:
    return [c["id"] for p in s.remote.info()["posts"] if p["post"] == post for c in p["listed"]]


def _round(
    s: ElectionSession, wg: keys.InMemorySigner, kind: ballot_printer.PaperKind, marks: str, n: int
) -> dict[str, Any]:
    spec = s.due_round()
    stock = ballot_printer.make_stock(
        election_id=s.manifest.election_id, kind=kind, round_number=spec.number, count=n, signer=wg
    )
    s.commit_stock(stock, signer=wg)
    s.issue(count=None, signer=wg)
    s.return_ballots(n, signer=wg)
    s.enter([EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads])
    return dict(s.close(signer=wg).body)


@pytest.mark.parametrize("counts", [False, True], ids=["not-in-quorum", "counts-in-quorum"])
def test_remote_ballots_are_counted_once_in_each_posts_first_round(
    tmp_path: Path, counts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, k = _election(tmp_path, counts=counts)
    wg, data = k["wg"], k["data"]
    s.remote.open(signer=wg, k=2, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    committee, secretary = _listed(s, "committee"), _listed(s, "secretary")
    first = vote_as_device_v2(
        s, codes["M020"], {"committee": [committee[5]], "secretary": [secretary[1]]}, data_dir=data
    )
    vote_as_device_v2(
        s, codes["M025"], {"committee": committee[:2], "secretary": []}, data_dir=data
    )
    # One credential each; a token is used once; the credentialed member cannot vote on paper.
    with pytest.raises(SessionError, match="already"):
        s.remote.redeem_invitation(codes["M020"], b"\x00" * 256, data_dir=data)
    cred = first.credential
    with pytest.raises(SessionError) as e:
        s.remote.cast(cred.token, cred.prefix, cred.signature, first.ballot)
    assert e.value.code == "remote.token_used"
    with pytest.raises(SessionError) as e:
        s.check_in(["M020"])
    assert e.value.code == "checkin.remote_credential"
    s.remote.close(signer=wg)
    s.check_in(PAPER)
    spec = s.due_round()
    assert spec.expected == 25
    # The count needs the totals: the scrutineers decrypt them first.
    with pytest.raises(SessionError):
        _round(s, wg, ballot_printer.PaperKind.COMMITTEE, "ooooox", len(PAPER))
    s.remote.decrypt(k["scrutineers"][0], signer=None, data_dir=data)
    s.remote.decrypt(k["scrutineers"][1], signer=wg, data_dir=data)
    s.close(signer=wg)
    outcome = s.meeting.rounds.outcomes[-1]
    assert outcome.remote_ballots == 2
    assert (outcome.valid_ballots, outcome.invalid_ballots) == (23 + 2, 0)
    assert dict(outcome.approvals)[committee[5]] == 1  # only the remote voter approved it
    opened = next(o for o in s.meeting.rounds.outcomes if o.spec.post.value == "committee")
    assert opened.quorum.present == (23 + 2 if counts else 23)
    body = _round(s, wg, ballot_printer.PaperKind.SECRETARY, "ox", len(PAPER))
    assert body["remote_ballots"] == 2
    approvals = {a["member"]: a["approvals"] for a in body["approvals"]}
    assert approvals == {secretary[0]: 23, secretary[1]: 1}
    reopened = ElectionSession.open(
        SessionConfig(tmp_path / "e.db", passphrase=PASS)
    )  # the whole log replays
    assert reopened.meeting.remote is not None and len(reopened.meeting.remote.casts) == 2


def test_issuer_stores_nothing_derived_from_the_unblinded_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(RM-4.3) After a credential is issued, the election file, the service's data folder and the
    log hold the member's name but nothing that equals or contains the token, its base64 or hash."""
    import hashlib  # noqa: PLC0415

    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, k = _election(tmp_path, counts=False)
    data = k["data"]
    s.remote.open(signer=k["wg"], k=2, data_dir=data)
    code, _ = s.remote.issue_invitation("M020", data_dir=data)
    info = s.remote.info()
    issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    req = remote_tokens.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    cred = remote_tokens.finish_token_request(
        req, issuer, s.remote.redeem_invitation(code, req.blinded_msg, data_dir=data)
    )
    s.store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    needles = [
        cred.token,
        base64.b64encode(cred.token),
        cred.token.hex().encode(),
        hashlib.sha256(cred.token).digest(),
        hashlib.sha256(cred.token).hexdigest().encode(),
        cred.signature,
        base64.b64encode(cred.signature),
    ]
    assert not [n for n in needles if n in stored]
    assert b"remote.credential_issued" in stored  # the member's credential is on record


def _credential(s: ElectionSession, code: str, data: Path) -> remote_tokens.RemoteCredential:
    info = s.remote.info()
    issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    req = remote_tokens.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    return remote_tokens.finish_token_request(
        req, issuer, s.remote.redeem_invitation(code, req.blinded_msg, data_dir=data)
    )


def _open_with_two_credentials(
    tmp_path: Path,
) -> tuple[ElectionSession, remote_tokens.RemoteCredential, remote_tokens.RemoteCredential]:
    """An election with remote voting open (no quorum effect) and a credential for each of the
    two approved members."""
    s, k = _election(tmp_path, counts=False)
    data = k["data"]
    s.remote.open(signer=k["wg"], k=2, data_dir=data)
    a, b = (_credential(s, s.remote.issue_invitation(m, data_dir=data)[0], data) for m in APPROVED)
    return s, a, b


def _cast(s: ElectionSession, cred: remote_tokens.RemoteCredential) -> RemoteCastV2:
    return RemoteCastV2(cred.token, cred.prefix, cred.signature, ballot_for(s, cred.token))


def test_group_commit_gives_each_cast_its_own_outcome_and_stores_the_accepted_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(RV-4.1) A batch is checked cast by cast against the state the casts before it leave: a
    token repeated inside the batch and a forged signature are refused, the others stored among
    the pending casts in one transaction; nothing is logged before the close."""
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, a, b = _open_with_two_credentials(tmp_path)
    good_a = _cast(s, a)
    forged = RemoteCastV2(a.token[::-1], a.prefix, a.signature, good_a.ballot)
    commits = 0
    transaction = s.store.transaction

    def counted() -> Any:
        nonlocal commits
        commits += 1
        return transaction()

    monkeypatch.setattr(s.store, "transaction", counted)
    before = len(s.tree)
    results = s.remote.cast_many([good_a, _cast(s, a), forged, _cast(s, b)])
    assert commits == 1
    first, again, bad, second = results
    assert isinstance(again, SessionError) and again.code == "remote.token_used"
    assert isinstance(bad, SessionError) and bad.code == "remote.token_invalid"
    assert isinstance(first, ReceivedCast) and isinstance(second, ReceivedCast)
    assert first.answer["format"] == second.answer["format"] == "remote-receipt/2"
    assert first.receipt != second.receipt
    assert len(s.tree) == before  # RV-4.3: no cast is logged before the close
    assert s.store.pending_cast_count() == 2
    reopened = ElectionSession.open(SessionConfig(tmp_path / "e.db", passphrase=PASS))
    assert reopened.store.pending_cast_count() == 2


def test_group_commit_store_failure_refuses_the_whole_batch_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    s, a, b = _open_with_two_credentials(tmp_path)
    casts = [_cast(s, a), _cast(s, b)]
    size, meeting = len(s.tree), s.meeting

    def full_disk() -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as m:
        m.setattr(s.store, "transaction", full_disk)
        with pytest.raises(sqlite3.OperationalError):
            s.remote.cast_many(casts)
    assert (len(s.tree), s.meeting, s.store.pending_cast_count()) == (size, meeting, 0)
    retried = s.remote.cast_many(casts)  # the same casts, retried
    assert all(isinstance(r, ReceivedCast) for r in retried)
