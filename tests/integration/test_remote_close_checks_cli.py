"""`tally remote close` checks the casts still received before it logs anything (spec/remote-v2.md
RV-4.3): the valid ones are logged, a ballot whose proof fails is not, its refusal kept under its
receipt; with many casts the check shows a progress bar (here at any number, by the threshold)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from keys import remote_ballot, remote_tokens
from tally import cli_remote
from tally.election import ElectionSession
from tally.remote_device import ballot_context, choices_for, vote_as_device_v2
from tally.session_config import SessionConfig
from tests.helpers.polling import ENV, Election

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M018", "M020", "M025"]
VOTE = {"committee": ["M001"], "secretary": ["M005"]}


def _bad_cast(s: ElectionSession, code: str, data: Path) -> str:
    """A member's device whose committee sum proof is off by one bit: received (RV-4.1)."""
    info = s.remote.info()
    issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    request = remote_tokens.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    blind_sig = s.remote.redeem_invitation(code, request.blinded_msg, data_dir=data)
    lists = s.remote.redemption_extras()["write_in_lists"]
    cred = remote_tokens.finish_token_request(request, issuer, blind_sig)
    ballot = remote_ballot.encrypt_ballot(
        ballot_context(info, lists), cred.token, choices_for(info, lists, VOTE)
    )
    proof = bytearray(base64.b64decode(ballot["posts"][0]["sum_proof"]))
    proof[0] ^= 1
    ballot["posts"][0]["sum_proof"] = base64.b64encode(bytes(proof)).decode()
    receipt: str = s.remote.cast(cred.token, cred.prefix, cred.signature, ballot)["receipt"]
    return receipt


def test_close_checks_received_casts_with_a_bar_and_logs_only_the_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", ENV["TALLY_PASSPHRASE"])
    monkeypatch.setattr(cli_remote, "PROGRESS_FROM_CASTS", 1)
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    definition = tmp_path / "definition.toml"
    definition.write_text(
        text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}"), encoding="utf-8"
    )
    e = Election(tmp_path, definition)
    db, data = str(e.db), tmp_path / "svc"
    e.ok("remote", "open", db, "--key", str(e.wg), "--k", "2", "--data", str(data))
    codes = {m: e.json("remote", "invite", db, m, "--data", str(data))["code"] for m in APPROVED}
    s = ElectionSession.open(SessionConfig(e.db, passphrase=ENV["TALLY_PASSPHRASE"]))
    good = [
        vote_as_device_v2(s, codes[m], VOTE, data_dir=data).receipt["receipt"]
        for m in ("M018", "M020")
    ]
    bad = _bad_cast(s, codes["M025"], data)
    assert s.store.received_receipts() == tuple(sorted([*good, bad]))  # nothing checked yet
    s.store.close()
    e.ok("remote", "close", db, "--key", str(e.wg), "--data", str(data))
    s = ElectionSession.open(e.db)
    logged = [
        remote_ballot.ballot_receipt(json.loads(raw)["body"]["ballot"])
        for _, raw in s.store.log_rows_of_types(["remote.cast"])
    ]
    assert logged == sorted(good)
    refused = s.remote.receipt_status(bad)
    assert refused is not None and refused["status"] == "refused"
    assert refused["code"] == "elgamal.sum_proof"
    assert s.store.pending_casts() == []
    s.store.close()
