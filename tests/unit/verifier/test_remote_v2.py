"""V18 for remote ballots version 2 (spec/remote-v2.md §8): V18.1 (election key, write-in lists),
V18.20 batch, V18.21 ballots, V18.22 partial decryptions, V18.23 totals, V13 with the totals.

Each tampered bundle must fail exactly the clauses named (and the finer rules ``V18.x``); the
valid ones pass. The bundles are built by ``builder_remote_v2`` (ballots encrypted with the
producer's ``keys.elgamal``, checked by the verifier's own ``verifier.remote_v2``).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote as R
from tests.unit.verifier import builder_remote_v2 as V
from tests.unit.verifier.conftest import TOWN_FP
from verifier.checks import TownKey, verify_bundle
from verifier.report import Report, render_json, render_text

Runner = Callable[..., Report]
Events = list[list[Any]]


@pytest.fixture(scope="module")
def election() -> V.Election:
    return V.Election()


@pytest.fixture(scope="module")
def election_x() -> V.Election:
    """The same election with ``write_in_requires_disapproval`` (RV-3.4)."""
    return V.Election(disapprovals=True)


def _findings(report: Report) -> list[tuple[str, str, str]]:
    return [(f.clause, f.rule, f.code) for c in report.clauses for f in c.findings]


def _check(
    report: Report,
    clauses: set[str],
    rules: set[str],
    codes: frozenset[str] | set[str] = frozenset(),
) -> None:
    found = _findings(report)
    assert set(report.failed()) == clauses, found
    assert {r for c, r, _ in found if c == "V18"} == rules, found
    assert codes <= {code for _, _, code in found}, found


def _idx(ev: Events, etype: str, n: int = 0) -> int:
    return [i for i, (t, _) in enumerate(ev) if t == etype][n]


def _with_ballots(el: V.Election, *plans: list[V.PostPlan]) -> list[V.Cast]:
    """The election's casts with the first ones' ballots re-encrypted from ``plans``."""
    casts = list(el.casts)
    for i, p in enumerate(plans):
        casts[i] = V.Cast(el.creds[i], el.ballot(el.creds[i].token, p))
    return casts


def _plans(committee: list[int], secretary: list[str], disapproved: int = 1) -> list[V.PostPlan]:
    return [
        V.PostPlan("committee", committee, disapproved),
        V.PostPlan("secretary", V.choices("secretary", secretary), disapproved),
    ]


# ----------------------------------------------------------------------- valid


def test_valid_v2_bundle_passes_and_counts_the_totals(election: V.Election, run: Runner) -> None:
    """RV-7.1: committee round 1 counts 6 paper + 3 remote ballots, M05's write-in total gives
    a vote; the secretary's written-in M05 gives none (R9.3, RV-2.4)."""
    report = run(election.build())
    assert report.ok, _findings(report)
    assert report.remote_ballots == 3
    assert report.ballots == 18 + 3
    assert (report.remote_credentials, report.remote_casts) == (3, 3)
    doc = json.loads(render_json(report))
    assert doc["remote_ballots"] == 3
    first = next(r for r in doc["rounds"] if (r["post"], r["round"]) == ("committee", 1))
    assert first["valid_ballots"] == 9 and first["remote_ballots"] == 3
    assert {a["member"]: a["approvals"] for a in first["approvals"]}["M05"] == 1
    assert "including 3 remote ballots" in render_text(report, "en")


def test_valid_v2_bundle_with_disapproval_proofs_passes_RV_3_4(
    election_x: V.Election, run: Runner
) -> None:
    report = run(election_x.build())
    assert report.ok, _findings(report)


@pytest.mark.parametrize("disapprovals", [False, True])
def test_a_v2_bundle_made_with_the_producers_functions_passes(
    run: Runner, disapprovals: bool
) -> None:
    """Interoperability: the key split and sealed by ``keys.remote_key.create_remote_key_v2``, the
    shares opened by ``unwrap_share_v2``, the ballots of ``keys.remote_ballot.encrypt_ballot``
    (with RV-3.4's proofs when the manifest asks for them) all pass the verifier."""
    el = V.Election(disapprovals=disapprovals, producer=True)
    report = run(el.build())
    assert report.ok, _findings(report)
    assert report.remote_ballots == 3


def test_checking_on_a_process_pool_gives_the_same_findings(
    election: V.Election, run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ballots' proofs are checked in batches on a process pool when jobs > 1 (here one
    ballot a batch): the findings are those of the check in line."""
    from verifier.checks.replay import remote_v2  # noqa: PLC0415

    monkeypatch.setattr(remote_v2, "BATCH", 1)
    casts = _with_ballots(
        election,
        _plans([2, 1, 1, 0, 0, 0, 0, 0, 0], ["M01"]),
        _plans([0, 1, 0, 1, 0, 0, 0, 0, 0], ["M02"]),
    )
    files = election.build(election.script(casts=casts))
    one = run(files)
    path = B.write_folder(files, tmp_path / "pool")
    many = verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=2)
    assert _findings(one) == _findings(many)
    assert _findings(many) == [("V18", "V18.21", "elgamal.choice_proof")]


# ----------------------------------------------------------------------- V18.21 ballots


def test_a_ballot_with_a_2_in_one_choice_fails_V18_21(election: V.Election, run: Runner) -> None:
    """EG-5.3: no 0/1 proof exists for a 2. R2 gives up its M01 approval, so every total (and so
    V18.22, V18.23, V13) is the honest election's: only the ballot is wrong."""
    casts = _with_ballots(
        election,
        _plans([2, 1, 1, 0, 0, 0, 0, 0, 0], ["M01"]),
        _plans([0, 1, 0, 1, 0, 0, 0, 0, 0], ["M02"]),
    )
    report = run(election.build(election.script(casts=casts)))
    _check(report, {"V18"}, {"V18.21"}, {"elgamal.choice_proof"})


def test_an_over_vote_fails_V18_21(election: V.Election, run: Runner) -> None:
    """EG-6.2: four approvals for three seats have no sum proof (the totals are unchanged)."""
    casts = _with_ballots(
        election,
        _plans([1, 1, 1, 1, 0, 0, 0, 0, 0], ["M01"]),
        _plans([1, 1, 0, 0, 0, 0, 0, 0, 0], ["M02"]),
    )
    report = run(election.build(election.script(casts=casts)))
    _check(report, {"V18"}, {"V18.21"}, {"elgamal.sum_proof"})


def test_a_write_in_beyond_the_x_marks_fails_V18_21(election_x: V.Election, run: Runner) -> None:
    """RV-3.4: R3 writes in M05 with no × mark: ``count − W`` is −1, no proof over 0..L."""
    el = election_x
    casts = list(el.casts)
    casts[2] = V.Cast(
        el.creds[2],
        el.ballot(el.creds[2].token, _plans(V.choices("committee", ["M01", "M05"]), ["M05"], 0)),
    )
    report = run(el.build(el.script(casts=casts)))
    _check(report, {"V18"}, {"V18.21"}, {"elgamal.choice_proof"})
    f = next(f for c in report.clauses for f in c.findings if f.rule == "V18.21")
    assert "disapprovals.write_in_proof" in f.path


def test_a_missing_disapprovals_member_fails_V18_21(election_x: V.Election, run: Runner) -> None:
    el = election_x
    casts = list(el.casts)
    doc = copy.deepcopy(casts[0].ballot)
    del doc["posts"][1]["disapprovals"]
    casts[0] = V.Cast(el.creds[0], doc)
    report = run(el.build(el.script(casts=casts)))
    _check(report, {"V18"}, {"V18.21"}, {"elgamal.encoding"})


def test_a_replayed_ballot_under_another_cast_fails_V18_21(
    election: V.Election, run: Runner
) -> None:
    """The same ballot under R3's credential: its token is R1's (``remote.token_mismatch``); it
    has R1's receipt, so two casts share one (V18.20: strictly ascending); the totals (R1 twice,
    no R3) are no longer the logged ones (V18.23)."""
    casts = list(election.casts)
    casts[2] = V.Cast(election.creds[2], copy.deepcopy(casts[0].ballot))
    report = run(election.build(election.script(casts=casts)))
    _check(report, {"V18"}, {"V18.20", "V18.21", "V18.23"}, {"remote.token_mismatch"})


def test_a_copied_ballot_with_its_token_rewritten_fails_V18_21(
    election: V.Election, run: Runner
) -> None:
    """EG-4.3: the proofs are bound to R1's token; under R3's they do not verify."""
    casts = list(election.casts)
    doc = copy.deepcopy(casts[0].ballot)
    doc["token"] = V.b64(election.creds[2].token)
    casts[2] = V.Cast(election.creds[2], doc)
    report = run(election.build(election.script(casts=casts)))
    _check(report, {"V18"}, {"V18.21", "V18.23"}, {"elgamal.choice_proof"})


def test_a_version_1_cast_fails_V6(election: V.Election, run: Runner) -> None:
    """A ``remote.cast`` with a sealed box instead of a ballot (version 1) has the wrong body
    members (V6): no sealed ballot is read, let alone opened (RV-1.1)."""
    ev = election.script()
    i = _idx(ev, "remote.cast")
    body = ev[i][1]
    del body["ballot"]
    body["sealed"] = V.b64(b"\x00" * 64)
    report = run(election.build(ev))
    assert report.failed() == ("V6",), _findings(report)
    assert {code for _, _, code in _findings(report)} == {"field.unknown"}


# ----------------------------------------------------------------------- V18.20 batch


def test_casts_out_of_receipt_order_fail_V18_20(election: V.Election, run: Runner) -> None:
    ev = election.script()
    first = _idx(ev, "remote.cast")
    ev[first : first + 3] = ev[first : first + 3][::-1]
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.20"}, {"remote.casts_not_batched"})


def test_a_cast_with_another_at_fails_V18_20(election: V.Election, run: Runner) -> None:
    ev = election.script()
    i = _idx(ev, "remote.cast", 1)
    at = dt.datetime.fromisoformat(ev[i][1]["_at"]) - dt.timedelta(seconds=30)
    ev[i][1]["_at"] = at.isoformat()
    ev[i - 1][1]["_at"] = at.isoformat()  # times never decrease (V6)
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.20"}, {"remote.casts_not_batched"})


def test_a_cast_not_right_before_the_close_fails_V18_20(election: V.Election, run: Runner) -> None:
    ev = election.script()
    i = _idx(ev, "remote.cast")
    ev.insert(i + 1, ["remote.credential_issued", {"member": "M01", "_actor": "remote"}])
    for e in ev[i + 1 : i + 2]:
        e[1]["_at"] = ev[i][1]["_at"]
    report = run(election.build(ev))
    # M01 is no approved remote voter (V18.2) and checks in later (V10, V18.10).
    _check(report, {"V10", "V18"}, {"V18.2", "V18.20", "V18.6"})


def test_a_cast_added_after_the_close_fails_V18_20(election: V.Election, run: Runner) -> None:
    """A fourth cast after ``remote.closed``: outside the window (V18.6) and the batch (V18.20),
    beyond the credentials (V18.5, so its ballot is not checked); the rounds' present (V18.11),
    the count (V13), ``remote_ballots`` (V18.9, V18.12) and the totals' ``ballots`` (V18.23) no
    longer match the casts."""
    ev = election.script()
    extra = R.credential(election.eid)
    ballot = election.ballot(extra.token, _plans(V.choices("committee", ["M02"]), ["M02"]))
    ev.insert(_idx(ev, "remote.closed") + 1, ["remote.cast", V.Cast(extra, ballot).body()])
    report = run(election.build(ev))
    _check(
        report,
        {"V11", "V13", "V18"},
        {"V18.5", "V18.6", "V18.9", "V18.12", "V18.20", "V18.23"},
        {"remote.casts_not_batched", "remote.cast_after_close", "round.present"},
    )


def test_a_cast_dropped_after_the_close_fails_V18_22(election: V.Election, run: Runner) -> None:
    """The partial decryptions were made over three casts: over the two left, their proofs fail
    (V18.22); the close's and the totals' counts (V18.6, V18.23), the rounds' present (V18.11),
    the count (V13) and ``remote_ballots`` (V18.9, V18.12) no longer match the casts."""
    ev = election.script()
    del ev[_idx(ev, "remote.cast", 1)]
    report = run(election.build(ev))
    _check(
        report,
        {"V11", "V13", "V18"},
        {"V18.6", "V18.9", "V18.12", "V18.22", "V18.23"},
        {"elgamal.decryption_proof", "remote.closed_casts", "remote.totals_ballots"},
    )


# ----------------------------------------------------------------------- V18.22, V18.23


def test_a_wrong_partial_decryption_fails_V18_22(election: V.Election, run: Runner) -> None:
    """EG-8.3: scrutineer 1's share of the first total replaced by scrutineer 3's."""
    ev = election.script()
    one = ev[_idx(ev, "remote.partial_decryption", 1)][1]
    three = ev[_idx(ev, "remote.partial_decryption", 0)][1]
    assert (one["index"], three["index"]) == (1, 3)
    one["posts"][0]["shares"][0] = three["posts"][0]["shares"][0]
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.22"}, {"elgamal.decryption_proof"})


def test_a_second_partial_decryption_of_one_scrutineer_fails_V18_22(
    election: V.Election, run: Runner
) -> None:
    ev = election.script()
    i = _idx(ev, "remote.partial_decryption")
    ev.insert(i + 1, copy.deepcopy(ev[i]))
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.22"}, {"remote.partial_twice"})


def test_totals_that_do_not_match_the_ballots_fail_V18_23(
    election: V.Election, run: Runner
) -> None:
    """The secretary's M05 total (a write-in that gives no vote, so the count is unchanged)
    logged as 0 instead of 1."""
    totals = {"committee": [3, 2, 1, 1, 1, 0, 0, 0, 0], "secretary": [1, 1, 0, 0, 0, 0, 0, 0, 0]}
    report = run(election.build(election.script(totals=totals)))
    _check(report, {"V18"}, {"V18.23"}, {"remote.totals_differ"})


def test_totals_counted_into_the_round_must_be_the_decrypted_ones_V13(
    election: V.Election, run: Runner
) -> None:
    """Committee totals naming M06 instead of M05: V18.23 refuses them, and the round's body
    (M05 1) is not what those logged totals give (V13)."""
    totals = {"committee": [3, 2, 1, 1, 0, 1, 0, 0, 0], "secretary": [1, 1, 0, 0, 1, 0, 0, 0, 0]}
    report = run(election.build(election.script(totals=totals)))
    _check(report, {"V13", "V18"}, {"V18.23"}, {"remote.totals_differ"})


def test_too_few_partial_decryptions_fail_V18_23(election: V.Election, run: Runner) -> None:
    report = run(election.build(election.script(partials=(2,))))
    _check(report, {"V18"}, {"V18.23"}, {"elgamal.not_enough_shares"})


def test_the_k_lowest_indices_are_combined_EG_9_1(election: V.Election, run: Runner) -> None:
    """Three valid partial decryptions in any order: the totals are those of 1 and 2."""
    report = run(election.build(election.script(partials=(3, 2, 1))))
    assert report.ok, _findings(report)


def test_no_totals_before_the_count_fails_V18_23(election: V.Election, run: Runner) -> None:
    ev = election.script()
    del ev[_idx(ev, "remote.totals")]
    report = run(election.build(ev))
    # Without totals the round's remote approvals are not known: the recount differs (V13).
    _check(report, {"V13", "V18"}, {"V18.23"}, {"remote.totals_missing_at_count"})


# ----------------------------------------------------------------------- V18.1


def test_write_in_lists_not_those_of_the_manifest_fail_V18_1(
    election: V.Election, run: Runner
) -> None:
    """RV-2.1: M10 is excluded (R3) and may not be on a write-in list."""
    ev = election.script()
    body = ev[_idx(ev, "remote.opened")][1]
    body["write_in_lists"][0]["members"].append("M10")
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.1"}, {"remote.write_in_lists"})


def test_an_election_key_with_the_identity_fails_V18_1(election: V.Election, run: Runner) -> None:
    """EG-7.4; no ballot can then be checked (the clauses that need the key are not run)."""
    ev = election.script()
    key = ev[_idx(ev, "remote.opened")][1]["election_key"]
    key["commitments"][1] = base64.b64encode(bytes(32)).decode()
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.1"}, {"elgamal.identity"})


def test_an_election_key_for_another_number_of_scrutineers_fails_V18_1(
    election: V.Election, run: Runner
) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.opened")][1]["election_key"]["n"] = 2
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.1"}, {"remote.threshold"})


def test_a_partial_decryption_of_an_index_beyond_n_fails_V18_22(
    election: V.Election, run: Runner
) -> None:
    ev = election.script()
    ev[_idx(ev, "remote.partial_decryption")][1]["index"] = 4
    report = run(election.build(ev))
    # index 3 is then missing: one valid partial decryption (index 1) is fewer than k (V18.23)
    _check(report, {"V18"}, {"V18.22", "V18.23"}, {"elgamal.parameters"})


def test_a_partial_decryption_without_a_share_per_choice_fails_V18_22(
    election: V.Election, run: Runner
) -> None:
    ev = election.script()
    part = ev[_idx(ev, "remote.partial_decryption")][1]["posts"][1]
    part["shares"].pop()
    part["proofs"].pop()
    report = run(election.build(ev))
    _check(report, {"V18"}, {"V18.22"}, {"remote.partial_shape"})


def test_totals_of_the_wrong_shape_fail_V18_23(election: V.Election, run: Runner) -> None:
    """One total missing for the secretary: the totals cannot be read, so the round's remote
    approvals are not known either (V13)."""
    totals = {"committee": [3, 2, 1, 1, 1, 0, 0, 0, 0], "secretary": [1, 1, 0, 0, 1, 0, 0, 0]}
    report = run(election.build(election.script(totals=totals)))
    _check(report, {"V13", "V18"}, {"V18.23"}, {"remote.totals_shape"})


def test_a_second_totals_entry_fails_V18_23(election: V.Election, run: Runner) -> None:
    ev = election.script()
    i = _idx(ev, "remote.totals")
    again = copy.deepcopy(ev[i])
    ev.insert(i + 1, again)
    report = run(election.build(ev))
    # the producer's checkpoint after the second one is for no moment of the log (V7)
    _check(report, {"V7", "V18"}, {"V18.23"}, {"remote.totals_twice"})
