"""V18.1-V18.12 (spec/remote.md §13) and the remote extensions of V10, V11, V13.

Each tampered remote bundle must fail its clause (and the finer rule ``V18.x`` on the finding)
and nothing else; the valid one passes and the report states the remote ballots.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.public
import pytest

from keys import remote
from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote as R
from verifier.report import Report, render_json, render_text

Runner = Callable[..., Report]
Events = list[list[Any]]


@pytest.fixture(scope="module")
def election() -> R.Election:
    return R.Election()


def _rules(report: Report) -> set[str]:
    return {f.rule for c in report.clauses for f in c.findings if f.rule}


def _idx(ev: Events, etype: str, n: int = 0, **match: Any) -> int:
    hits = [
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    ]
    return hits[n]


def _fix_cast_refs(ev: Events) -> Events:
    """Point the decisions at the casts' seqs again, in cast order, after moving entries."""
    casts = [i for i, (t, _) in enumerate(ev) if t == "remote.cast"]
    decisions = [i for i, (t, _) in enumerate(ev) if t in ("remote.decrypted", "remote.rejected")]
    for d, c in zip(decisions, casts, strict=False):
        ev[d][1]["cast"] = c
    return ev


def _check(report: Report, clauses: set[str], rules: set[str]) -> None:
    assert set(report.failed()) == clauses, [
        (f.clause, f.rule, f.code) for c in report.clauses for f in c.findings
    ]
    assert rules <= _rules(report), _rules(report)


# ----------------------------------------------------------------------- valid


def test_valid_remote_bundle_passes(election: R.Election, run: Runner) -> None:
    report = run(election.build())
    assert report.ok, [(f.clause, f.rule, f.code, f.en) for c in report.clauses for f in c.findings]
    assert report.remote_ballots == 2
    assert report.remote_opened
    assert (report.remote_credentials, report.remote_casts, report.remote_rejected) == (3, 3, 1)
    assert report.ballots == 18 + 2
    assert "其中远程选票 2 张" in render_text(report, "zh")
    assert "including 2 remote ballots" in render_text(report, "en")
    assert "3 credentials issued, 3 cast, 1 rejected" in render_text(report, "en")
    doc = json.loads(render_json(report))
    assert doc["remote_ballots"] == 2
    assert doc["remote"] == {
        "opened": True,
        "credentials": 3,
        "casts": 3,
        "rejected": 1,
        "check_code": report.check_code,
    }


def test_the_report_gives_the_invitations_check_code_RM_10_3(
    election: R.Election, run: Runner
) -> None:
    """The code every genuine invitation printed: the producer's own functions (the summary the
    service shows the page, ``keys.remote.invitation_pin``) give the same code from the bundle's
    manifest and remote.opened entry (the service itself: tests/integration/test_remote_write_ins.py)."""
    import hashlib  # noqa: PLC0415

    from tally.core.manifest import public_summary_hash  # noqa: PLC0415
    from tally.election import signed_public_summary  # noqa: PLC0415

    files = election.build()
    report = run(files)
    summary, _ = signed_public_summary(files["manifest.json"])
    opened = next(x for x in files["log.jsonl"].splitlines() if b'"remote.opened"' in x)
    leaf = hashlib.sha256(b"\x00" + opened).digest()
    assert report.check_code == remote.invitation_pin(public_summary_hash(summary), leaf)
    assert f"远程投票邀请函校验码：{report.check_code}" in render_text(report, "zh")
    assert f"check code: {report.check_code}" in render_text(report, "en")


def test_no_check_code_when_the_summary_signature_fails_V19(
    election: R.Election, run: Runner
) -> None:
    """A check code from a summary the town did not sign would vouch for nothing: none is shown."""
    files = election.build()
    man = json.loads(files["manifest.json"])
    sig = bytearray(base64.b64decode(man["summary_signature"]))
    sig[0] ^= 1
    man["summary_signature"] = base64.b64encode(bytes(sig)).decode()
    report = run({**files, "manifest.json": B.jcs(man)})
    assert report.failed() == ("V19",)
    assert report.check_code == ""
    assert "校验码" not in render_text(report, "zh")


def test_non_remote_report_states_zero(good_files: dict[str, bytes], run: Runner) -> None:
    report = run(good_files)
    assert report.ok
    assert not report.remote_opened
    assert "其中远程选票 0 张" in render_text(report, "zh")
    assert "including 0 remote ballots" in render_text(report, "en")
    assert "Remote voting:" not in render_text(report, "en")
    assert report.check_code == ""  # no remote.opened: no invitations, no check code


def test_list_changed_not_counted_passes(election: R.Election, run: Runner) -> None:
    """RM-9.1: an amended secretary list: remote.not_counted, the secretary round paper only."""
    ev = _amended_secretary(election.script())
    report = run(election.build(ev))
    assert report.ok, [(f.clause, f.rule, f.code) for c in report.clauses for f in c.findings]
    assert report.remote_ballots == 2


def _amended_secretary(ev: Events, *, with_not_counted: bool = True) -> Events:
    """M02 is not elected to the committee (paper ``oxoo`` x6: M01 8, M02 2, M03 7, M04 7, no
    runoff), so the secretary round is blocked (R20) until the town signs M01, M03 (RS7)."""
    for k, (t, b) in enumerate(ev):
        if t == "ballot.entered" and (b["post"], b["round"]) == ("committee", 1):
            ev[k][1]["marks"] = "oxoo"
    c1 = _idx(ev, "round.counted", post="committee", round=1)
    ev[c1][1].update(
        {
            "approvals": [
                {"member": "M01", "approvals": 8},
                {"member": "M02", "approvals": 2},
                {"member": "M03", "approvals": 7},
                {"member": "M04", "approvals": 7},
            ],
            "elected": ["M01", "M03", "M04"],
            "tied": [],
            "tied_seats": 0,
        }
    )
    ev[:] = [x for x in ev if not (x[1].get("post") == "committee" and x[1].get("round") == 2)]
    ev[_idx(ev, "election.result")][1]["elected"]["committee"] = ["M01", "M03", "M04"]
    i = _idx(ev, "stock.committed", post="secretary", round=1)
    eid = B.election_id(R.remote_manifest())
    ev.insert(i, B.amended("secretary", 1, ["M01", "M03"], eid=eid))
    j = _idx(ev, "round.opened", post="secretary", round=1)
    ev[j][1]["candidates"] = ["M01", "M03"]
    if with_not_counted:
        ev.insert(
            j + 1,
            [
                "remote.not_counted",
                {"post": "secretary", "round": 1, "reason": "remote.list_changed"},
            ],
        )
    entered = [
        k for k, (t, b) in enumerate(ev) if t == "ballot.entered" and b["post"] == "secretary"
    ]
    for n, k in enumerate(entered):
        ev[k][1]["marks"] = "ox" if n < 5 else "xo"
    c = _idx(ev, "round.counted", post="secretary", round=1)
    ev[c][1].update(
        {
            "valid_ballots": 6,
            "approvals": [{"member": "M01", "approvals": 5}, {"member": "M03", "approvals": 1}],
            "remote_ballots": 0,
        }
    )
    return ev


# ----------------------------------------------------------------------- tampered


def test_v18_1_wrong_threshold(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.opened")][1]["k"] = 2
    _check(run(election.build(ev)), {"V18"}, {"V18.1"})


def test_v18_1_remote_without_approval(election: R.Election, run: Runner) -> None:
    """A manifest approving nobody has no remote.* entry at all."""
    ev = [["election.opened", {}], ["remote.opened", election.opened_body()], *B.script()[1:]]
    report = run(B.build(ev))
    _check(report, {"V18"}, {"V18.1"})


def test_v18_2_credential_for_unapproved_member(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.credential_issued", member="M07")][1]["member"] = "M04"
    _check(run(election.build(ev)), {"V18", "V10"}, {"V18.2", "V18.10"})


def test_v18_3_forged_token_signature(election: R.Election, run: Runner) -> None:
    ev = election.script()
    body = ev[_idx(ev, "remote.cast")][1]
    sig = bytearray(base64.b64decode(body["token_signature"]))
    sig[-1] ^= 1
    body["token_signature"] = R.b64(bytes(sig))
    _check(run(election.build(ev)), {"V18"}, {"V18.3"})


def test_v18_3_token_from_another_issuer(election: R.Election, run: Runner) -> None:
    ev = election.script()
    cred = R.credential(election.eid, R.other_issuer())
    body = ev[_idx(ev, "remote.cast")][1]
    body["token_prefix"] = R.b64(cred.prefix)
    body["token_signature"] = R.b64(cred.signature)
    _check(run(election.build(ev)), {"V18"}, {"V18.3"})


def test_v18_4_token_used_twice(election: R.Election, run: Runner) -> None:
    """The third cast spends R1's credential again (its box names yet another token)."""
    ev = election.script()
    third = R.ballot(election.eid, election.creds[1].token, "oooo", "ox")
    sealed = remote.seal_ballot(election.setup.ballot_key, B.jcs(third))
    ev[_idx(ev, "remote.cast", 2)][1] = R.cast_body(election.creds[0], sealed)
    _check(run(election.build(ev)), {"V18"}, {"V18.4"})


def test_v18_5_more_casts_than_credentials(election: R.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "remote.credential_issued", member="M07")]
    ev[_idx(ev, "remote.closed")][1]["credentials"] = 2
    _check(run(election.build(_fix_cast_refs(ev))), {"V18"}, {"V18.5"})


def test_v18_6_cast_after_close(election: R.Election, run: Runner) -> None:
    ev = election.script()
    closed = ev.pop(_idx(ev, "remote.closed"))
    closed[1]["casts"] = 2
    ev.insert(_idx(ev, "remote.cast", 2), closed)
    report = run(election.build(_fix_cast_refs(ev)))
    _check(report, {"V18"}, {"V18.6"})
    assert {f.code for c in report.clauses for f in c.findings} == {"remote.cast_after_close"}


def test_v18_6_closed_counts_wrong(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.closed")][1]["casts"] = 2
    _check(run(election.build(ev)), {"V18"}, {"V18.6"})


def test_v18_7_wrong_revealed_key(election: R.Election, run: Runner) -> None:
    ev = election.script()
    other = bytes(nacl.public.PrivateKey.generate())
    ev[_idx(ev, "remote.key_revealed")][1]["private_key"] = R.b64(other)
    _check(run(election.build(ev)), {"V18"}, {"V18.7"})


def test_v18_7_unclamped_key(election: R.Election, run: Runner) -> None:
    """The right key with a clamped bit set: same X25519 public key, not the canonical form."""
    ev = election.script()
    raw = bytearray(election.private_key)
    raw[0] |= 1
    ev[_idx(ev, "remote.key_revealed")][1]["private_key"] = R.b64(bytes(raw))
    _check(run(election.build(ev)), {"V18"}, {"V18.7"})


def test_v18_8_decrypted_ballot_differs(election: R.Election, run: Runner) -> None:
    """R1 and R2 swapped in the log: same totals, but neither matches its sealed box."""
    ev = election.script()
    a, b = _idx(ev, "remote.decrypted", 0), _idx(ev, "remote.decrypted", 1)
    ev[a][1]["ballot"], ev[b][1]["ballot"] = ev[b][1]["ballot"], ev[a][1]["ballot"]
    _check(run(election.build(ev)), {"V18"}, {"V18.8"})


def test_v18_8_wrong_rejection_reason(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.rejected")][1]["reason"] = "remote.sealed_invalid"
    _check(run(election.build(ev)), {"V18"}, {"V18.8"})


def test_v18_8_cast_without_decision(election: R.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "remote.rejected")]
    _check(run(election.build(ev)), {"V18"}, {"V18.8"})


def test_v18_9_remote_counted_in_runoff(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "round.counted", post="committee", round=2)][1]["remote_ballots"] = 2
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_not_counted_where_it_should(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "round.counted", post="committee", round=1)][1]["remote_ballots"] = 0
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_remote_ballots_left_out_of_the_count(election: R.Election, run: Runner) -> None:
    """The producer counts paper only in the first round: V13's recount includes them."""
    ev = election.script()
    body = ev[_idx(ev, "round.counted", post="committee", round=1)][1]
    body["remote_ballots"] = 0
    body["valid_ballots"] = 6
    _check(run(election.build(ev)), {"V13", "V18"}, {"V18.9"})


def test_v18_9_unexpected_not_counted(election: R.Election, run: Runner) -> None:
    ev = election.script()
    i = _idx(ev, "round.opened", post="committee", round=1)
    ev.insert(
        i + 1,
        ["remote.not_counted", {"post": "committee", "round": 1, "reason": "remote.list_changed"}],
    )
    _check(run(election.build(_fix_cast_refs(ev))), {"V18"}, {"V18.9"})


def test_v18_9_missing_not_counted(election: R.Election, run: Runner) -> None:
    ev = _amended_secretary(election.script(), with_not_counted=False)
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_round_counted_lacks_member(election: R.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "round.counted", post="committee", round=2)][1]["remote_ballots"]
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_remote_ballots_member_without_remote_voting(run: Runner) -> None:
    ev = B.script()
    ev[_idx(ev, "round.counted")][1]["remote_ballots"] = 0
    _check(run(B.build(ev)), {"V6"}, set())


def test_v18_10_credentialed_member_checks_in(election: R.Election, run: Runner) -> None:
    ev = election.script()
    ev.insert(len(ev) - 1, ["member.checked_in", {"member": "M05"}])
    _check(run(election.build(ev)), {"V10"}, {"V18.10"})


def test_v18_11_casts_in_quorum_when_not_allowed(run: Runner) -> None:
    """counts_toward_quorum false, yet present = attendance + casts."""
    el = R.Election(counts_toward_quorum=False)
    report = run(el.build())
    _check(report, {"V11"}, {"V18.11"})


def test_v18_11_casts_left_out_of_quorum(election: R.Election, run: Runner) -> None:
    ev = election.script()
    for t, b in ev:
        if t == "round.opened":
            b["present"] = 6
    _check(run(election.build(ev)), {"V11"}, {"V18.11"})


def test_v18_12_result_remote_ballots_wrong(election: R.Election, run: Runner) -> None:
    _check(run(election.build(remote_ballots=3)), {"V18"}, {"V18.12"})


def test_remote_checkpoint_missing(election: R.Election, run: Runner) -> None:
    files = election.build()
    doc = json.loads(files["checkpoints.json"])
    doc["checkpoints"] = [c for c in doc["checkpoints"] if "\nremote-key\n" not in c["text"]]
    report = run({**files, "checkpoints.json": B.jcs(doc)})
    assert "V7" in report.failed()
    assert "V18.7" in _rules(report)


# ----------------------------------------------------------------------- producer-made


@pytest.mark.slow
def test_producer_remote_election_bundle_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote election driven through ``tally.election.ElectionSession`` and published with
    ``tally.publish`` verifies, with its remote ballots stated (spec/remote.md §13)."""
    import ballot_printer  # noqa: PLC0415
    import keys  # noqa: PLC0415
    from tally.calendar import load_calendar  # noqa: PLC0415
    from tally.core.definition import parse_definition  # noqa: PLC0415
    from tally.core.manifest import build_manifest  # noqa: PLC0415
    from tally.election import ElectionSession, EntryInput, sign_manifest  # noqa: PLC0415
    from tally.publish import publish  # noqa: PLC0415
    from tally.remote_device import vote_as_device  # noqa: PLC0415
    from verifier.checks import TownKey, verify_bundle  # noqa: PLC0415
    from verifier.crypto import fingerprint  # noqa: PLC0415

    monkeypatch.setenv("TALLY_PASSPHRASE", "correct horse battery")
    root = Path(__file__).resolve().parents[3]
    approved = ["M020", "M025"]
    paper = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]
    text = (root / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(approved)}")
    text = text.replace("counts_toward_quorum = false", "counts_toward_quorum = true")

    def pub(s: keys.InMemorySigner) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
        return doc

    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2, 3)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=pub(wg), scrutineer_keys=tuple(pub(s) for s in scs)
    )
    s = ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg)
    data = tmp_path / "svc"
    s.open_remote(signer=wg, k=2, data_dir=data)
    votes = {
        "M020": {"committee": "xxxxxo", "secretary": "xo"},
        "M025": {"committee": "oooooo", "secretary": "ox"},  # an over-vote: invalid, like paper
    }
    for member, marks in votes.items():
        code = s.issue_invitation(member, data_dir=data)[0]
        vote_as_device(s, code, marks, data_dir=data)
    s.close_remote(signer=wg)
    s.check_in(paper)

    def paper_round(kind: ballot_printer.PaperKind, marks: str) -> None:
        spec = s.due_round()
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=kind,
            round_number=spec.number,
            count=len(paper),
            signer=wg,
        )
        s.commit_stock(stock, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(paper), signer=wg)
        s.enter(
            [EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads]
        )
        s.close(signer=wg)

    assert s.reveal_remote(scs[:2], signer=wg, data_dir=data) == 2
    paper_round(ballot_printer.PaperKind.COMMITTEE, "ooooox")
    paper_round(ballot_printer.PaperKind.SECRETARY, "ox")
    s.record_result(signer=wg, calendar=load_calendar(None))
    for sc in scs:
        s.cosign(sc)
    publish(s, tmp_path / "out", notice=False)
    town_key = TownKey(fingerprint=fingerprint(town.public_key.key))
    for path in (tmp_path / "out" / "bundle", tmp_path / "out" / "bundle.zip"):
        report = verify_bundle(path, town_key, jobs=1)
        assert report.ok, render_text(report, "en")
        assert report.remote_ballots == 2
        assert (report.remote_credentials, report.remote_casts, report.remote_rejected) == (2, 2, 0)
        assert "including 2 remote ballots" in render_text(report, "en")
