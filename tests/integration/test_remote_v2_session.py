"""Remote ballots version 2 through the tally session (spec/remote-v2.md): hostile casts first,
each refused with its own code and nothing stored; then the close, the decryption of the totals
and the rules on who decrypts when."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import keys
from keys import remote_ballot, remote_tokens
from tally import remote_checker
from tally import remote_voting as remote_voting_module
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import PostKind
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_device import ballot_context, choices_for
from tally.session_config import SessionConfig
from tally.session_errors import SessionError

ROOT = Path(__file__).resolve().parents[2]
PASS = "correct horse battery"
APPROVED = ["M018", "M020", "M025"]


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@dataclass
class V2:
    s: ElectionSession
    wg: keys.InMemorySigner
    scrutineers: list[keys.InMemorySigner]
    data: Path
    codes: dict[str, str]
    path: Path

    def credential(
        self, member: str
    ) -> tuple[remote_tokens.RemoteCredential, list[dict[str, Any]]]:
        info = self.s.remote.info()
        issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
        req = remote_tokens.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
        sig = self.s.remote.redeem_invitation(
            self.codes[member], req.blinded_msg, data_dir=self.data
        )
        lists = self.s.remote.redemption_extras()["write_in_lists"]
        return remote_tokens.finish_token_request(req, issuer, sig), lists

    def ballot(
        self,
        cred: remote_tokens.RemoteCredential,
        lists: list[dict[str, Any]],
        approvals: dict[str, list[str]],
    ) -> dict[str, Any]:
        info = self.s.remote.info()
        return remote_ballot.encrypt_ballot(
            ballot_context(info, lists), cred.token, choices_for(info, lists, approvals)
        )

    def cast(self, cred: remote_tokens.RemoteCredential, ballot: Any) -> dict[str, Any]:
        return self.s.remote.cast(cred.token, cred.prefix, cred.signature, ballot)

    def stored(self) -> tuple[object, ...]:
        """Everything a refused command must leave as it was: log, checkpoints, pending casts."""
        st = self.s.store
        return (st.log_rows(), [c.text for c in st.checkpoints()], st.pending_casts())


@pytest.fixture
def v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[V2]:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2, 3)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scs)
    )
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASS), sign_manifest(manifest, town), wg
    )
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    yield V2(s, wg, scs, data, codes, tmp_path / "e.db")
    s.store.close()


def _expect(v2: V2, code: str, cred: remote_tokens.RemoteCredential, ballot: Any) -> None:
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.cast(cred, ballot)
    assert e.value.code == code, (e.value.code, e.value.en)
    assert v2.stored() == before


def _refused_by_the_checker(
    v2: V2, code: str, cred: remote_tokens.RemoteCredential, ballot: Any
) -> None:
    """RV-4.1, RV-4.5: a ballot whose group elements or proofs fail is received (stored,
    ``received``), then refused by the check with ``code``: its row gone, its refusal kept, the
    token free again."""
    before = v2.stored()
    receipt = v2.cast(cred, ballot)
    assert receipt["status"] == "received"
    assert v2.s.remote.receipt_status(receipt["receipt"]) == {"status": "received"}
    assert remote_checker.check_received(v2.s.remote) == 1
    status = v2.s.remote.receipt_status(receipt["receipt"])
    assert status is not None and status["status"] == "refused", status
    assert status["code"] == code, status
    assert status["zh"] and status["en"]
    assert v2.stored() == before


# -- hostile casts ---------------------------------------------------------------------------


def test_a_malformed_ballot_is_refused_and_nothing_stored(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    good = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    _expect(v2, "remote.ballot_invalid", cred, {k: v for k, v in good.items() if k != "posts"})
    _expect(v2, "remote.ballot_invalid", cred, {**good, "format": "remote-ballot/1"})
    _expect(v2, "remote.ballot_invalid", cred, [good])
    _expect(v2, "remote.ballot_invalid", cred, {**good, "extra": 1})


def test_a_point_not_on_the_group_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    ct = bytearray(base64.b64decode(ballot["posts"][0]["choices"][0]))
    ct[:32] = b"\xff" * 31 + b"\x7f"  # a field element >= p: no ristretto255 encoding (EG-2.2)
    ballot["posts"][0]["choices"][0] = _b64(bytes(ct))
    _refused_by_the_checker(v2, "elgamal.invalid_point", cred, ballot)


def test_non_canonical_base64_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    proof = ballot["posts"][1]["sum_proof"]
    assert proof.endswith("=") and not proof.endswith("==")  # 128 bytes: two spare bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    flipped = alphabet[alphabet.index(proof[-2]) ^ 1]  # a spare bit flipped: the same bytes
    ballot["posts"][1]["sum_proof"] = proof[:-2] + flipped + "="
    assert base64.b64decode(ballot["posts"][1]["sum_proof"]) == base64.b64decode(proof)
    _expect(v2, "elgamal.encoding", cred, ballot)


def test_a_proof_of_the_wrong_length_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    proof = base64.b64decode(ballot["posts"][0]["choice_proofs"][0])
    ballot["posts"][0]["choice_proofs"][0] = _b64(proof[:96])
    _expect(v2, "elgamal.proof_length", cred, ballot)


def test_a_ballot_for_another_election_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    info = v2.s.remote.info()
    ctx = ballot_context(info, lists)
    other = remote_ballot.BallotContext(election_id=bytes(32), key=ctx.key, posts=ctx.posts)
    choices = choices_for(info, lists, {"committee": ["M001"], "secretary": ["M005"]})
    ballot = remote_ballot.encrypt_ballot(other, cred.token, choices)
    _expect(v2, "remote.ballot_invalid", cred, ballot)
    # The same proofs under this election's id: they are bound to the other one (EG-4.3).
    _refused_by_the_checker(
        v2, "elgamal.choice_proof", cred, {**ballot, "election_id": info["election_id"]}
    )


def test_a_ballot_with_another_post_order_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    swapped = {**ballot, "posts": list(reversed(ballot["posts"]))}
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.cast(cred, swapped)
    assert e.value.code == "remote.ballot_invalid", e.value.code  # the post list (RV-3.5)
    assert v2.stored() == before


def test_a_ballot_made_for_another_token_is_refused(v2: V2) -> None:
    cred_a, lists = v2.credential("M020")
    cred_b, _ = v2.credential("M025")
    ballot_a = v2.ballot(cred_a, lists, {"committee": ["M001"], "secretary": ["M005"]})
    # Cast with B's credential: the ballot names A's token (RV-3.5).
    _expect(v2, "remote.token_mismatch", cred_b, ballot_a)
    # A's proofs relabelled with B's token: the proofs are bound to A's token (EG-4.3).
    _refused_by_the_checker(
        v2, "elgamal.choice_proof", cred_b, {**ballot_a, "token": _b64(cred_b.token)}
    )


def test_a_replayed_cast_is_refused_and_stores_nothing_more(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    log_before = v2.s.store.log_rows()
    receipt = v2.cast(cred, ballot)
    assert receipt["format"] == "remote-receipt/2"
    assert receipt["receipt"] == remote_ballot.ballot_receipt(ballot)
    assert v2.s.store.log_rows() == log_before  # RV-4.1: nothing appended to the log
    assert [r[0] for r in v2.s.store.pending_casts()] == [receipt["receipt"]]
    _expect(v2, "remote.token_used", cred, ballot)
    # Another ballot with the same credential: still one cast per token.
    other = v2.ballot(cred, lists, {"committee": ["M002"], "secretary": ["M004"]})
    _expect(v2, "remote.token_used", cred, other)


def test_a_forged_credential_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    forged = remote_tokens.RemoteCredential(
        token=cred.token, prefix=cred.prefix, signature=bytes(len(cred.signature))
    )
    _expect(v2, "remote.token_invalid", forged, ballot)


def test_a_cast_after_the_close_is_refused(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    v2.s.remote.close(signer=v2.wg, data_dir=v2.data)
    _expect(v2, "remote.closed", cred, ballot)


def test_decrypt_before_the_close_is_refused(v2: V2) -> None:
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.scrutineers[0], signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "remote.not_closed"
    assert v2.stored() == before


def _cast_two_and_close(v2: V2) -> list[dict[str, Any]]:
    out = []
    for member, approvals in (
        ("M020", {"committee": ["M001", "M002"], "secretary": ["M005"]}),
        ("M025", {"committee": ["M001"], "secretary": ["M004"]}),
    ):
        cred, lists = v2.credential(member)
        out.append(v2.cast(cred, v2.ballot(cred, lists, approvals)))
    v2.s.remote.close(signer=v2.wg, data_dir=v2.data)
    return out


def test_decrypt_twice_by_one_scrutineer_is_refused(v2: V2) -> None:
    _cast_two_and_close(v2)
    first = v2.s.remote.decrypt(v2.scrutineers[0], signer=None, data_dir=v2.data)
    assert (first["index"], first["partials"], first["totals"]) == (1, 1, None)
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.scrutineers[0], signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "remote.partial_twice"
    assert v2.stored() == before


def test_decrypt_with_a_key_that_is_not_the_elections_scrutineer_is_refused(v2: V2) -> None:
    _cast_two_and_close(v2)
    before = v2.stored()
    stranger = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "not ours")
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(stranger, signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "remote.not_scrutineer"
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.wg, signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "key.role"
    assert v2.stored() == before


def test_a_share_container_swapped_on_disk_is_refused(v2: V2) -> None:
    _cast_two_and_close(v2)
    folder = v2.data / "remote"
    one, two = (folder / "share-1.json").read_bytes(), (folder / "share-2.json").read_bytes()
    (folder / "share-1.json").write_bytes(two)
    (folder / "share-2.json").write_bytes(one)
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.scrutineers[0], signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "remote.share_corrupt"
    assert v2.stored() == before


def test_the_kth_decryption_needs_the_work_group_key_for_its_checkpoint(v2: V2) -> None:
    _cast_two_and_close(v2)
    v2.s.remote.decrypt(v2.scrutineers[0], signer=None, data_dir=v2.data)
    before = v2.stored()
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.scrutineers[1], signer=None, data_dir=v2.data)
    assert e.value.code == "key.needed"
    assert v2.stored() == before


def test_too_many_choices_refuses_the_opening_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASS), sign_manifest(manifest, town), wg
    )
    # A roster that would give the committee 257 choices (RV-2.2), without writing 250 members.
    monkeypatch.setattr(
        remote_voting_module,
        "post_shapes",
        lambda election: ((PostKind.COMMITTEE, 6, 257, 5, False),),
    )
    before = s.store.log_rows()
    with pytest.raises(SessionError) as e:
        s.remote.open(signer=wg, k=1, data_dir=tmp_path / "svc")
    assert e.value.code == "remote.too_many_choices"
    assert s.store.log_rows() == before
    assert not (tmp_path / "svc").exists() or not any((tmp_path / "svc").rglob("*.*"))


# -- the close and the totals ----------------------------------------------------------------


def test_close_logs_the_pending_casts_in_receipt_order_with_one_time(v2: V2) -> None:
    receipts = _cast_two_and_close(v2)
    rows = [json.loads(raw) for _, raw in v2.s.store.log_rows()]
    casts = [r for r in rows if r["type"] == "remote.cast"]
    closed = next(r for r in rows if r["type"] == "remote.closed")
    assert [remote_ballot.ballot_receipt(c["body"]["ballot"]) for c in casts] == sorted(
        r["receipt"] for r in receipts
    )
    assert {c["at"] for c in casts} == {closed["at"]}
    assert {c["actor"] for c in casts} == {"remote"}  # RM-8.2
    assert rows.index(closed) == rows.index(casts[-1]) + 1  # the batch is right before the close
    assert closed["body"] == {"credentials": 2, "casts": 2}
    assert v2.s.store.pending_casts() == []
    reasons = [c.reason for c in v2.s.store.checkpoints()]
    assert "remote-casts" not in reasons and reasons[-1] == "remote-closed"
    assert (
        not (v2.path.parent / (v2.path.name + "-wal")).exists()
        or (v2.path.parent / (v2.path.name + "-wal")).stat().st_size == 0
    )
    # VACUUM rebuilt every page: no free page keeps a deleted pending row (RV-4.3).
    conn = v2.s.store._db.conn
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    again = ElectionSession.open(SessionConfig(v2.path, passphrase=PASS))  # the whole log replays
    assert again.meeting.remote is not None and len(again.meeting.remote.casts) == 2
    again.store.close()


def test_the_kth_decryption_logs_the_totals_with_their_checkpoint(v2: V2) -> None:
    _cast_two_and_close(v2)
    v2.s.remote.decrypt(v2.scrutineers[2], signer=None, data_dir=v2.data)
    out = v2.s.remote.decrypt(v2.scrutineers[0], signer=v2.wg, data_dir=v2.data)
    assert out["partials"] == 2 and out["totals"] is not None
    committee, secretary = out["totals"]
    assert committee["post"] == "committee" and committee["ballots"] == 2
    assert committee["totals"][:6] == [2, 1, 0, 0, 0, 0]
    assert sum(committee["totals"][6:]) == 0
    assert secretary == {
        "post": "secretary",
        "ballots": 2,
        "totals": [1, 1, 0] + [0] * (len(secretary["totals"]) - 3),
    }
    assert [c.reason for c in v2.s.store.checkpoints()][-1] == "remote-totals"
    with pytest.raises(SessionError) as e:
        v2.s.remote.decrypt(v2.scrutineers[1], signer=v2.wg, data_dir=v2.data)
    assert e.value.code == "remote.totals_done"


def test_a_cast_while_voting_is_open_adds_no_log_entry_and_no_checkpoint(v2: V2) -> None:
    cred, lists = v2.credential("M020")
    st = v2.s.store
    before = (st.log_rows(), [c.text for c in st.checkpoints()])
    v2.cast(cred, v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]}))
    assert (st.log_rows(), [c.text for c in st.checkpoints()]) == before  # RV-4.3
    assert st.pending_cast_count() == 1


def test_write_ins_under_write_in_requires_disapproval_are_cast_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RV-3.4: with the manifest's write_in_requires_disapproval the ballot carries its × count
    and proofs; a write-in within the × marks is accepted and its total decrypted."""
    monkeypatch.setenv("TALLY_PASSPHRASE", PASS)
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    text = text.replace("[parameters]\n", "[parameters]\nwrite_in_requires_disapproval = true\n")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scs)
    )
    assert manifest.election.parameters.write_in_requires_disapproval
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASS), sign_manifest(manifest, town), wg
    )
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    v = V2(
        s, wg, scs, data, {"M020": s.remote.issue_invitation("M020", data_dir=data)[0]}, tmp_path
    )
    info = s.remote.info()
    assert [p["write_in_requires_disapproval"] for p in info["posts"]] == [True, True]
    cred, lists = v.credential("M020")
    ctx = ballot_context(info, lists)
    choices = choices_for(
        info,
        lists,
        {"committee": ["M001", "M018"], "secretary": ["M005"]},
        {"committee": 1, "secretary": 1},
    )
    ballot = remote_ballot.encrypt_ballot(ctx, cred.token, choices)
    assert all("disapprovals" in p for p in ballot["posts"])
    # Without its disapprovals the post is refused (RV-3.2), and nothing is stored.
    stripped = json.loads(json.dumps(ballot))
    del stripped["posts"][0]["disapprovals"]
    _expect(v, "elgamal.encoding", cred, stripped)
    v.cast(cred, ballot)
    s.remote.close(signer=wg, data_dir=data)
    s.remote.decrypt(scs[0], signer=None, data_dir=data)
    out = s.remote.decrypt(scs[1], signer=wg, data_dir=data)
    committee = out["totals"][0]
    members = ["M001", "M002", "M003", "M004", "M005", "M006"] + [
        m["member"] for m in lists[0]["members"]
    ]
    assert {members[i]: n for i, n in enumerate(committee["totals"]) if n} == {
        "M001": 1,
        "M018": 1,
    }
    s.store.close()


def test_more_casts_than_credentials_is_refused(v2: V2) -> None:
    """Every credential is one cast at most: a pending cast beyond the credentials issued (which
    would leave the close unable to log its batch) is refused."""
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    with v2.s.store.transaction() as conn:  # a row left by a cast whose credential never logged
        conn.execute(
            "INSERT INTO pending_casts VALUES (?, ?, ?, ?, ?, 'accepted')",
            ("0" * 64, _b64(bytes(32)), _b64(bytes(32)), "AA==", b"{}"),
        )
    _expect(v2, "remote.too_many", cred, ballot)


def test_pending_casts_survive_a_restart_and_are_logged_by_the_close(v2: V2) -> None:
    """The pending casts are in the election file, not in memory: a service restarted during the
    window still refuses the token again and logs the cast at the close."""
    cred, lists = v2.credential("M020")
    ballot = v2.ballot(cred, lists, {"committee": ["M001"], "secretary": ["M005"]})
    receipt = v2.cast(cred, ballot)["receipt"]
    v2.s.store.close()
    v2.s = ElectionSession.open(SessionConfig(v2.path, passphrase=PASS))
    assert v2.s.remote.receipt_status(receipt) == {"status": "received"}
    _expect(v2, "remote.token_used", cred, ballot)
    v2.s.remote.close(signer=v2.wg, data_dir=v2.data)
    casts = v2.s.store.log_rows_of_types(["remote.cast"])
    assert [
        remote_ballot.ballot_receipt(json.loads(raw)["body"]["ballot"]) for _, raw in casts
    ] == [receipt]
    assert v2.s.remote.receipt_status(receipt) is None  # checked at the close, then logged
