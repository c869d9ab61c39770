"""V18.1-V18.6, V18.9-V18.12 (spec/remote.md §13, with spec/remote-v2.md §8) and the remote
extensions of V10, V11, V13, on remote ballots version 2 (``builder_remote_v2``).

Each tampered remote bundle must fail its clause (and the finer rule ``V18.x`` on the finding)
and nothing else; the valid one passes and the report states the remote ballots. Version 2's own
clauses (V18.20-V18.23) are ``test_remote_v2.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from tally import remote_invitations
from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote as R
from tests.unit.verifier import builder_remote_v2 as V
from verifier.report import Report, render_json, render_text

Runner = Callable[..., Report]
Events = list[list[Any]]


@pytest.fixture(scope="module")
def election() -> V.Election:
    return V.Election()


def _rules(report: Report) -> set[str]:
    return {f.rule for c in report.clauses for f in c.findings if f.rule}


def _codes(report: Report) -> set[str]:
    return {f.code for c in report.clauses for f in c.findings}


def _idx(ev: Events, etype: str, n: int = 0, **match: Any) -> int:
    hits = [
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    ]
    return hits[n]


def _check(report: Report, clauses: set[str], rules: set[str]) -> None:
    assert set(report.failed()) == clauses, [
        (f.clause, f.rule, f.code) for c in report.clauses for f in c.findings
    ]
    assert rules <= _rules(report), _rules(report)


# ----------------------------------------------------------------------- valid


def test_valid_remote_bundle_passes(election: V.Election, run: Runner) -> None:
    report = run(election.build())
    assert report.ok, [(f.clause, f.rule, f.code, f.en) for c in report.clauses for f in c.findings]
    assert report.remote_ballots == 3
    assert report.remote_opened
    assert (report.remote_credentials, report.remote_casts) == (3, 3)
    assert report.ballots == 18 + 3
    assert "其中远程选票 3 张" in render_text(report, "zh")
    assert "including 3 remote ballots" in render_text(report, "en")
    assert "3 credentials issued, 3 cast, 3 counted" in render_text(report, "en")
    assert "拒收" not in render_text(report, "zh")  # no cast is rejected: the service refuses
    doc = json.loads(render_json(report))
    assert doc["remote_ballots"] == 3
    assert doc["remote"] == {
        "opened": True,
        "credentials": 3,
        "casts": 3,
        "check_code": report.check_code,
    }


def test_the_report_gives_the_invitations_check_code_RM_10_3(
    election: V.Election, run: Runner
) -> None:
    """The code every genuine invitation printed: the producer's own functions (the summary the
    service shows the page, ``tally.remote_invitations.invitation_pin``) give the same code from the bundle's
    manifest and remote.opened entry (the service itself: tests/integration/test_remote_write_ins.py)."""
    import hashlib  # noqa: PLC0415

    from tally.core.manifest import public_summary_hash  # noqa: PLC0415
    from tally.manifest_io import signed_public_summary  # noqa: PLC0415

    files = election.build()
    report = run(files)
    summary, _ = signed_public_summary(files["manifest.json"])
    opened = next(x for x in files["log.jsonl"].splitlines() if b'"remote.opened"' in x)
    leaf = hashlib.sha256(b"\x00" + opened).digest()
    assert report.check_code == remote_invitations.invitation_pin(
        public_summary_hash(summary), leaf
    )
    assert f"远程投票邀请函校验码：{report.check_code}" in render_text(report, "zh")
    assert f"check code: {report.check_code}" in render_text(report, "en")


def test_no_check_code_when_the_summary_signature_fails_V19(
    election: V.Election, run: Runner
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


def test_list_changed_not_counted_passes(election: V.Election, run: Runner) -> None:
    """RM-9.1: an amended secretary list: remote.not_counted, the secretary round paper only."""
    ev = _amended_secretary(election.script())
    report = run(election.build(ev))
    assert report.ok, [(f.clause, f.rule, f.code) for c in report.clauses for f in c.findings]
    assert report.remote_ballots == 3


def _amended_secretary(ev: Events, *, with_not_counted: bool = True) -> Events:
    """M02 is not elected to the committee (paper ``oxoo`` x6 + the remote totals: M01 9, M02 2,
    M03 7, M04 7, M05 1, no runoff), so the secretary round is blocked (R20) until the town signs
    M01, M03 (RS7)."""
    for k, (t, b) in enumerate(ev):
        if t == "ballot.entered" and (b["post"], b["round"]) == ("committee", 1):
            ev[k][1]["marks"] = "oxoo"
    c1 = _idx(ev, "round.counted", post="committee", round=1)
    ev[c1][1].update(
        {
            "approvals": [
                {"member": "M01", "approvals": 9},
                {"member": "M02", "approvals": 2},
                {"member": "M03", "approvals": 7},
                {"member": "M04", "approvals": 7},
                {"member": "M05", "approvals": 1},
            ],
            "elected": ["M01", "M03", "M04"],
            "tied": [],
            "tied_seats": 0,
        }
    )
    ev[:] = [x for x in ev if not (x[1].get("post") == "committee" and x[1].get("round") == 2)]
    ev[_idx(ev, "election.result")][1]["elected"]["committee"] = ["M01", "M03", "M04"]
    i = _idx(ev, "stock.committed", post="secretary", round=1)
    eid = B.election_id(V.manifest())
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


def _v1_opened_body(election: V.Election) -> dict[str, Any]:
    """A ``remote.opened`` of remote ballots version 1 (spec/remote.md RM-8.1: a ballot key,
    k of n), which would have every ballot decrypted at the count."""
    body = election.opened_body()
    return {
        "issuer_key": body["issuer_key"],
        "ballot_key": V.b64(bytes(range(32))),
        "k": 2,
        "n": 3,
        "shares": body["shares"],
    }


def test_v18_1_a_version_1_remote_opened_is_not_supported(
    election: V.Election, run: Runner
) -> None:
    """RV-1.1: no remote ballot is decrypted anywhere, so the verifier refuses version 1's
    opening; its casts' ballots, partial decryptions and totals are then checked against no key
    (the recount misses the totals, V13; the remote-totals checkpoint is for no moment, V7)."""
    ev = election.script()
    ev[_idx(ev, "remote.opened")][1] = _v1_opened_body(election)
    report = run(election.build(ev))
    assert "V18" in report.failed()
    assert "remote.unsupported_version" in _codes(report)
    assert {f.rule for c in report.clauses if c.clause == "V18" for f in c.findings} == {"V18.1"}


@pytest.mark.parametrize(
    ("etype", "body"),
    [
        ("remote.key_revealed", {"private_key": V.b64(b"\x40" * 32)}),
        ("remote.decrypted", {"cast": 5, "ballot": {}}),
        ("remote.rejected", {"cast": 5, "reason": "remote.ballot_invalid"}),
    ],
)
def test_version_1_entries_are_unknown_types_V6(
    election: V.Election, run: Runner, etype: str, body: dict[str, Any]
) -> None:
    """Version 1's key reveal and per-ballot decryption are no entry types any more (RV-1.1)."""
    ev = election.script()
    ev.insert(_idx(ev, "remote.totals") + 1, [etype, body])
    report = run(election.build(ev))
    assert report.failed() == ("V6",), _codes(report)
    assert _codes(report) == {"entry.type"}


def test_v18_1_shares_not_the_manifests_scrutineers(election: V.Election, run: Runner) -> None:
    ev = election.script()
    shares = ev[_idx(ev, "remote.opened")][1]["shares"]
    shares[0]["scrutineer"], shares[1]["scrutineer"] = (
        shares[1]["scrutineer"],
        shares[0]["scrutineer"],
    )
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.1"})
    assert _codes(report) == {"remote.shares"}


def test_v18_1_remote_without_approval(election: V.Election, run: Runner) -> None:
    """A manifest approving nobody has no remote.* entry at all."""
    ev = [["election.opened", {}], ["remote.opened", election.opened_body()], *B.script()[1:]]
    report = run(B.build(ev))
    _check(report, {"V18"}, {"V18.1"})


def test_v18_2_credential_for_unapproved_member(election: V.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.credential_issued", member="M07")][1]["member"] = "M04"
    _check(run(election.build(ev)), {"V18", "V10"}, {"V18.2", "V18.10"})


def test_v18_3_forged_token_signature(election: V.Election, run: Runner) -> None:
    ev = election.script()
    body = ev[_idx(ev, "remote.cast")][1]
    sig = bytearray(base64.b64decode(body["token_signature"]))
    sig[-1] ^= 1
    body["token_signature"] = R.b64(bytes(sig))
    _check(run(election.build(ev)), {"V18"}, {"V18.3"})


def test_v18_3_token_from_another_issuer(election: V.Election, run: Runner) -> None:
    ev = election.script()
    cred = R.credential(election.eid, R.other_issuer())
    body = ev[_idx(ev, "remote.cast")][1]
    body["token_prefix"] = R.b64(cred.prefix)
    body["token_signature"] = R.b64(cred.signature)
    _check(run(election.build(ev)), {"V18"}, {"V18.3"})


def test_v18_4_token_used_twice(election: V.Election, run: Runner) -> None:
    """The third cast spends R1's credential again, with a ballot of the same choices as R3's
    made under R1's token (its proofs verify: only the second use is wrong)."""
    casts = list(election.casts)
    plans = [
        V.PostPlan("committee", V.choices("committee", ["M01", "M05"]), 1),
        V.PostPlan("secretary", V.choices("secretary", ["M05"]), 1),
    ]
    casts[2] = V.Cast(election.creds[0], election.ballot(election.creds[0].token, plans))
    report = run(election.build(election.script(casts=casts)))
    _check(report, {"V18"}, {"V18.4"})
    assert _codes(report) == {"remote.token_used"}


def test_v18_5_more_casts_than_credentials(election: V.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "remote.credential_issued", member="M07")]
    ev[_idx(ev, "remote.closed")][1]["credentials"] = 2
    _check(run(election.build(ev)), {"V18"}, {"V18.5"})


def test_v18_6_cast_after_close(election: V.Election, run: Runner) -> None:
    """The close moved before the last cast: that cast is outside the window (V18.6) and out of
    the close's batch (V18.20)."""
    ev = election.script()
    closed = ev.pop(_idx(ev, "remote.closed"))
    closed[1]["casts"] = 2
    ev.insert(_idx(ev, "remote.cast", 2), closed)
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.6", "V18.20"})
    assert _codes(report) == {"remote.cast_after_close", "remote.casts_not_batched"}


def test_v18_6_closed_counts_wrong(election: V.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.closed")][1]["casts"] = 2
    _check(run(election.build(ev)), {"V18"}, {"V18.6"})


def test_v18_9_remote_counted_in_runoff(election: V.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "round.counted", post="committee", round=2)][1]["remote_ballots"] = 3
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_not_counted_where_it_should(election: V.Election, run: Runner) -> None:
    ev = election.script()
    ev[_idx(ev, "round.counted", post="committee", round=1)][1]["remote_ballots"] = 0
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_remote_ballots_left_out_of_the_count(election: V.Election, run: Runner) -> None:
    """The producer counts paper only in the first round: V13's recount includes the totals."""
    ev = election.script()
    body = ev[_idx(ev, "round.counted", post="committee", round=1)][1]
    body["remote_ballots"] = 0
    body["valid_ballots"] = 6
    _check(run(election.build(ev)), {"V13", "V18"}, {"V18.9"})


def test_v18_9_unexpected_not_counted(election: V.Election, run: Runner) -> None:
    ev = election.script()
    i = _idx(ev, "round.opened", post="committee", round=1)
    ev.insert(
        i + 1,
        ["remote.not_counted", {"post": "committee", "round": 1, "reason": "remote.list_changed"}],
    )
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_missing_not_counted(election: V.Election, run: Runner) -> None:
    ev = _amended_secretary(election.script(), with_not_counted=False)
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_v18_9_round_counted_lacks_member(election: V.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "round.counted", post="committee", round=2)][1]["remote_ballots"]
    _check(run(election.build(ev)), {"V18"}, {"V18.9"})


def test_remote_ballots_member_without_remote_voting(run: Runner) -> None:
    ev = B.script()
    ev[_idx(ev, "round.counted")][1]["remote_ballots"] = 0
    _check(run(B.build(ev)), {"V6"}, set())


def test_v18_10_credentialed_member_checks_in(election: V.Election, run: Runner) -> None:
    ev = election.script()
    ev.insert(len(ev) - 1, ["member.checked_in", {"member": "M05"}])
    _check(run(election.build(ev)), {"V10"}, {"V18.10"})


def test_v18_11_casts_in_quorum_when_not_allowed(run: Runner) -> None:
    """counts_toward_quorum false, yet present = attendance + casts."""
    el = V.Election(counts_toward_quorum=False)
    report = run(el.build())
    _check(report, {"V11"}, {"V18.11"})


def test_v18_11_casts_left_out_of_quorum(election: V.Election, run: Runner) -> None:
    ev = election.script()
    for t, b in ev:
        if t == "round.opened":
            b["present"] = 6
    _check(run(election.build(ev)), {"V11"}, {"V18.11"})


def test_v18_12_result_remote_ballots_wrong(election: V.Election, run: Runner) -> None:
    _check(run(election.build(remote_ballots=2)), {"V18"}, {"V18.12"})


def test_remote_checkpoint_missing(election: V.Election, run: Runner) -> None:
    files = election.build()
    doc = json.loads(files["checkpoints.json"])
    doc["checkpoints"] = [c for c in doc["checkpoints"] if "\nremote-totals\n" not in c["text"]]
    report = run({**files, "checkpoints.json": B.jcs(doc)})
    assert "V7" in report.failed()
    assert "V18.23" in _rules(report)
