"""The tamper suite: each mutation of a valid bundle is caught by exactly the expected clauses.

Mutations of the written files model tampering after publication; mutations of the script model a
dishonest producer that holds the work-group key and signs a wrong but self-consistent bundle.
Unless a test says otherwise the index is re-hashed, so that V1 does not mask the deeper clause.
"""

from __future__ import annotations

import base64
import copy
import json
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

import verifier.bundle
from ballot_printer import PaperKind, encode_qr_text, sign_payload
from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from verifier.bundle import open_bundle, read_file
from verifier.checks import TownKey, verify_bundle
from verifier.errors import VerificationError
from verifier.report import Report, Status

Files = dict[str, bytes]
Runner = Callable[..., Report]


def _lines(files: Files, name: str) -> list[bytes]:
    return files[name].splitlines()


def _set_lines(files: Files, name: str, lines: list[bytes]) -> Files:
    return {**files, name: b"".join(x + b"\n" for x in lines)}


def _edit_json(files: Files, name: str, fn: Callable[[Any], None]) -> Files:
    doc = json.loads(files[name])
    fn(doc)
    return {**files, name: B.jcs(doc)}


def _idx(ev: list[list[Any]], etype: str, n: int = 0, **match: Any) -> int:
    hits = [
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    ]
    return hits[n]


# ----------------------------------------------------------------------- file-level mutations


def m_change_mark(f: Files) -> Files:
    lines = _lines(f, "ballots.jsonl")
    rec = json.loads(lines[0])
    rec["marks"] = "xxxx"
    lines[0] = B.jcs(rec)
    return _set_lines(f, "ballots.jsonl", lines)


def m_drop_ballot(f: Files) -> Files:
    lines = _lines(f, "ballots.jsonl")
    return _set_lines(f, "ballots.jsonl", lines[:3] + lines[4:])


def m_duplicate_ballot(f: Files) -> Files:
    lines = _lines(f, "ballots.jsonl")
    return _set_lines(f, "ballots.jsonl", [*lines[:4], lines[3], *lines[4:]])


def m_add_forged_record(f: Files) -> Files:
    lines = _lines(f, "ballots.jsonl")
    rec = json.loads(lines[-1])
    rec["seq"] += 1
    rec["ballot_id"] = "00" * 16
    return _set_lines(f, "ballots.jsonl", [*lines, B.jcs(rec)])


def m_swap_rounds_in_records(f: Files) -> Files:
    lines = _lines(f, "ballots.jsonl")
    a, b = json.loads(lines[0]), json.loads(lines[10])
    assert (a["round"], b["round"]) == (1, 2)
    for k in ("ballot_id", "qr"):
        a[k], b[k] = b[k], a[k]
    lines[0], lines[10] = B.jcs(a), B.jcs(b)
    return _set_lines(f, "ballots.jsonl", lines)


def m_reorder_log(f: Files) -> Files:
    lines = _lines(f, "log.jsonl")
    lines[2], lines[3] = lines[3], lines[2]
    return _set_lines(f, "log.jsonl", lines)


def m_edit_entry_rechain(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[5]["actor"] = "attacker"
    return B.set_log(f, entries, rechain=True)


def m_edit_entry_no_rechain(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[5]["actor"] = "attacker"
    return B.set_log(f, entries, rechain=False)


def m_at_decreases(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[5]["at"] = "2026-09-29T08:00:00+08:00"
    return B.set_log(f, entries, rechain=True)


def m_edit_roster_unsigned(f: Files) -> Files:
    def fn(doc: Any) -> None:
        doc["manifest"]["definition"]["members"][8]["status"] = "probationary"

    return _edit_json(f, "manifest.json", fn)


def m_remove_scrutineer_signature(f: Files) -> Files:
    def fn(doc: Any) -> None:
        cps = doc["checkpoints"]
        i = next(i for i, c in enumerate(cps) if "round-closed committee 1" in c["text"])
        text = cps[i]["text"]
        cps[i]["text"] = text[: text.rindex("\u2014 scrutineer")]

    return _edit_json(f, "checkpoints.json", fn)


def m_forged_wg_checkpoint(f: Files) -> Files:
    def fn(doc: Any) -> None:
        text = doc["checkpoints"][1]["text"]
        body = text[: text.index("\n\n") + 1]
        forged = B.sign_checkpoint(body, [B.OTHER_WG])
        doc["checkpoints"][1]["text"] = forged

    return _edit_json(f, "checkpoints.json", fn)


def m_checkpoint_wrong_root(f: Files) -> Files:
    def fn(doc: Any) -> None:
        text = doc["checkpoints"][2]["text"]
        lines = text.split("\n")
        lines[2] = base64.b64encode(b"\x11" * 32).decode()
        body = "\n".join(lines[:4]) + "\n"
        doc["checkpoints"][2]["text"] = B.sign_checkpoint(body, [B.WORK_GROUP])

    return _edit_json(f, "checkpoints.json", fn)


def m_publicity_end_result_only(f: Files) -> Files:
    return _edit_json(f, "result.json", lambda d: d.__setitem__("publicity_end", "2026-10-09"))


def m_wrong_working_days(f: Files) -> Files:
    return _edit_json(f, "result.json", lambda d: d.__setitem__("working_days", 4))


def m_calendar_missing_national_day(f: Files) -> Files:
    def fn(d: Any) -> None:
        d["calendar"]["holidays"] = [
            x for x in d["calendar"]["holidays"] if not x.startswith("2026-10")
        ]

    return _edit_json(f, "result.json", fn)


def m_remote_ballots(f: Files) -> Files:
    return _edit_json(f, "result.json", lambda d: d.__setitem__("remote_ballots", 1))


def m_result_checkpoint_not_last(f: Files) -> Files:
    cps = json.loads(f["checkpoints.json"])["checkpoints"]
    return _edit_json(f, "result.json", lambda d: d.__setitem__("checkpoint", cps[-2]["text"]))


def m_outcomes_altered(f: Files) -> Files:
    return _edit_json(f, "outcomes.json", lambda d: d["rounds"][0].__setitem__("valid_ballots", 9))


def m_stock_commitment(f: Files) -> Files:
    return _edit_json(f, "stocks/committee-2.json", lambda d: d.__setitem__("commitment", "0" * 64))


def m_stock_id_replaced(f: Files) -> Files:
    def fn(d: Any) -> None:
        d["ballot_ids"][0] = "f" * 32
        d["ballot_ids"].sort()

    return _edit_json(f, "stocks/committee-2.json", fn)


def m_stock_file_missing(f: Files) -> Files:
    return {k: v for k, v in f.items() if k != "stocks/committee-2.json"}


def m_stock_extra(f: Files) -> Files:
    return {**f, "stocks/deputy_secretary-1.json": f["stocks/committee-2.json"]}


def m_extra_file(f: Files) -> Files:
    return {**f, "notes.txt": b"hello"}


def m_outcomes_missing(f: Files) -> Files:
    return {k: v for k, v in f.items() if k != "outcomes.json"}


def m_json_bomb_outcomes(f: Files) -> Files:
    return {**f, "outcomes.json": b"[" * 100000 + b"]" * 100000}


def m_deep_json_log_line(f: Files) -> Files:
    lines = _lines(f, "log.jsonl")
    lines[3] = b"[" * 40 + b"]" * 40
    return _set_lines(f, "log.jsonl", lines)


def m_truncate_log(f: Files) -> Files:
    return _set_lines(f, "log.jsonl", _lines(f, "log.jsonl")[:-1])


FILE_CASES: list[tuple[str, Callable[[Files], Files], set[str]]] = [
    ("change-a-mark", m_change_mark, {"V9"}),
    ("drop-a-ballot", m_drop_ballot, {"V9"}),
    ("duplicate-a-ballot", m_duplicate_ballot, {"V9"}),
    ("add-forged-record", m_add_forged_record, {"V9"}),
    ("swap-ballots-between-rounds", m_swap_rounds_in_records, {"V9"}),
    ("reorder-log-entries", m_reorder_log, {"V6", "V7"}),
    ("edit-entry-recompute-chain", m_edit_entry_rechain, {"V7"}),
    ("edit-entry-break-chain", m_edit_entry_no_rechain, {"V6", "V7"}),
    ("at-decreases", m_at_decreases, {"V6", "V7"}),
    ("edit-roster-unsigned", m_edit_roster_unsigned, {"V2"}),
    ("remove-checkpoint-signature", m_remove_scrutineer_signature, {"V7"}),
    ("checkpoint-signed-by-other-key", m_forged_wg_checkpoint, {"V7"}),
    ("checkpoint-wrong-root", m_checkpoint_wrong_root, {"V7"}),
    ("publicity-end-in-result-only", m_publicity_end_result_only, {"V15", "V17"}),
    ("wrong-working-days", m_wrong_working_days, {"V17"}),
    ("calendar-missing-holidays", m_calendar_missing_national_day, {"V17"}),
    ("remote-ballots-claimed", m_remote_ballots, {"V18"}),
    ("result-checkpoint-not-last", m_result_checkpoint_not_last, {"V16"}),
    ("outcomes-altered", m_outcomes_altered, {"V15"}),
    ("stock-commitment-altered", m_stock_commitment, {"V8"}),
    ("stock-id-replaced", m_stock_id_replaced, {"V8", "V9"}),
    ("stock-file-missing", m_stock_file_missing, {"V8", "V9"}),
    ("stock-file-unreferenced", m_stock_extra, {"V8"}),
    ("extra-file", m_extra_file, {"V1"}),
    ("outcomes-missing", m_outcomes_missing, {"V1", "V15"}),
    ("json-bomb-outcomes", m_json_bomb_outcomes, {"V15"}),
    ("deep-json-log-line", m_deep_json_log_line, {"V6", "V7"}),
    ("truncate-log", m_truncate_log, {"V7", "V15", "V16"}),
]


@pytest.mark.parametrize(("name", "mutate", "expected"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_mutation(
    good_files: Files, run: Runner, name: str, mutate: Callable[[Files], Files], expected: set[str]
) -> None:
    report = run(mutate(copy.deepcopy(good_files)))
    assert set(report.failed()) == expected, name


# ----------------------------------------------------------------------- dishonest producer


def s_forged_ballot(ev: list[list[Any]]) -> dict[str, Any]:

    man = B.manifest()
    eid = B.election_id(man)
    forged = sign_payload(
        election_id=eid,
        kind=PaperKind.COMMITTEE,
        round_number=2,
        ballot_id=b"\xab" * 16,
        signer=B.OTHER_WG,
    )
    i = _idx(ev, "ballot.entered", 0, post="committee", round=2)
    ev[i][1] = {**ev[i][1], "ballot_id": (b"\xab" * 16).hex(), "qr": encode_qr_text(forged)}
    return {}


def s_ballot_from_other_round(ev: list[list[Any]]) -> dict[str, Any]:
    # a round-1 paper entered in round 2: the builder resolves round-1 ids when asked
    i = _idx(ev, "ballot.entered", 0, post="committee", round=2)
    ev[i][1] = {**ev[i][1], "use_stock_of": 1}
    return {}


def s_drop_exclusion_approval(ev: list[list[Any]]) -> dict[str, Any]:
    d = B.definition()
    d["exclusions"][0]["assembly_approval"] = ""
    return {"man": B.manifest(d)}


def s_threshold_parameter(ev: list[list[Any]]) -> dict[str, Any]:
    d = B.definition()
    d["parameters"]["threshold_base"] = "P"
    return {"man": B.manifest(d)}


def s_seat_count(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "round.opened", 0, post="committee", round=1)
    ev[i][1]["seats"] = 4
    return {}


def s_elect_runner_up(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "round.counted", 0, post="secretary")
    ev[i][1]["elected"] = ["M02"]
    ev[-1][1]["elected"]["secretary"] = ["M02"]
    return {}


def s_tie_broken_by_order(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "round.counted", 0, post="committee", round=1)
    ev[i][1].update({"elected": ["M01", "M02", "M03"], "tied": [], "tied_seats": 0})
    start = _idx(ev, "stock.committed", 0, post="committee", round=2)
    end = _idx(ev, "round.counted", 0, post="committee", round=2)
    del ev[start : end + 1]
    return {}


def s_replace_town_key(ev: list[list[Any]]) -> dict[str, Any]:
    return {"town": B.OTHER_TOWN}


def s_publicity_end(ev: list[list[Any]]) -> dict[str, Any]:
    ev[-1][1]["publicity_end"] = "2026-10-09"
    return {}


def s_issued_not_present(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "ballots.issued", 0, post="committee", round=2)
    ev[i][1]["count"] = 8
    return {}


def s_non_elector_checks_in(ev: list[list[Any]]) -> dict[str, Any]:
    ev.insert(len(ev) - 1, ["member.checked_in", {"member": "M11"}])
    return {}


def s_reduction_without_shortfall(ev: list[list[Any]]) -> dict[str, Any]:
    ev.insert(
        len(ev) - 1,
        [
            "seats.reduced",
            {
                "post": "committee",
                "seats": 2,
                "assembly_consent": 9,
                "town_agreement": "红组〔2026〕20号",
            },
        ],
    )
    return {}


def s_amend_not_eligible(ev: list[list[Any]]) -> dict[str, Any]:
    ev.insert(
        len(ev) - 1,
        B.amended("secretary", 3, ["M11"], approval=""),
    )
    return {}


def s_quorum_not_met(ev: list[list[Any]]) -> dict[str, Any]:
    """Open the secretary rounds with 7 present (5*7 = 35 > 36 fails, R5) instead of waiting."""
    del ev[_idx(ev, "member.checked_in", 1, member="M09")]
    del ev[_idx(ev, "round.quorum_failed")]
    for t, b in ev:
        if b.get("post") == "secretary" and t == "round.opened":
            b["present"] = 7
        if b.get("post") == "secretary" and t == "ballots.issued":
            b["count"] = 7
        if b.get("post") == "secretary" and t == "round.void":
            b["issued"] = 7
        if b.get("post") == "secretary" and b.get("round") == 2 and t == "ballots.returned":
            b["count"] = 7
    del ev[_idx(ev, "ballot.entered", 0, post="secretary", marks="oo")]
    ev[_idx(ev, "round.counted", 0, post="secretary")][1].update(
        {"valid_ballots": 7, "invalid_ballots": 0}
    )
    return {}


def s_wrong_count_valid(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "round.counted", 0, post="committee", round=1)
    ev[i][1]["approvals"][4]["approvals"] = 2
    return {}


def s_marks_wrong_shape(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "ballot.entered", 0, post="committee", round=2)
    ev[i][1]["marks"] = "oxo"
    return {}


def s_result_not_last(ev: list[list[Any]]) -> dict[str, Any]:
    ev.append(["member.left", {"member": "M01"}])
    return {}


def s_ballot_after_result(ev: list[list[Any]]) -> dict[str, Any]:
    """A ballot.entered (of the form the replay reads in one step) after the result: V15 sees it
    even though such a line goes straight to its handler while nothing else is due."""
    ev.append(["ballot.entered", dict(ev[_idx(ev, "ballot.entered", 0, post="committee")][1])])
    return {}


def s_withdraw_not_last(ev: list[list[Any]]) -> dict[str, Any]:
    i = _idx(ev, "ballot.withdrawn")
    ev.insert(i - 2, ev.pop(i - 1))  # "oxxx" entered before x-oo, then withdrawn out of order
    ev[i][1]["which"] = -2
    return {}


def s_quorum_failed_with_members(ev: list[list[Any]]) -> dict[str, Any]:
    """An assembly round's quorum_failed must list no present_members (log.md §2)."""
    ev[_idx(ev, "round.quorum_failed")][1]["present_members"] = ["M01"]
    return {}


def s_quorum_failed_wrong_present(ev: list[list[Any]]) -> dict[str, Any]:
    """present must equal the attendance when the quorum failed, too."""
    ev[_idx(ev, "round.quorum_failed")][1]["present"] = 6
    return {}


def s_quorum_failed_but_met(ev: list[list[Any]]) -> dict[str, Any]:
    """quorum_failed recorded while 8 of 9 are present (5*8 > 4*9 holds)."""
    i = _idx(ev, "round.quorum_failed")
    ev.insert(i, ["member.checked_in", {"member": "M07"}])
    ev[i + 1][1]["present"] = 8
    return {}


SCRIPT_CASES: list[tuple[str, Callable[[list[list[Any]]], dict[str, Any]], set[str]]] = [
    ("forged-ballot", s_forged_ballot, {"V9"}),
    ("ballot-from-other-round", s_ballot_from_other_round, {"V9"}),
    ("drop-exclusion-approval", s_drop_exclusion_approval, {"V4"}),
    ("threshold-parameter-changed", s_threshold_parameter, {"V13"}),
    ("seat-count-changed", s_seat_count, {"V11", "V13"}),
    ("elect-the-runner-up", s_elect_runner_up, {"V13"}),
    ("tie-broken-by-order", s_tie_broken_by_order, {"V13"}),
    ("replace-town-key", s_replace_town_key, {"V2"}),
    ("publicity-end-date", s_publicity_end, {"V17"}),
    ("issued-not-present", s_issued_not_present, {"V12"}),
    ("non-elector-checks-in", s_non_elector_checks_in, {"V10"}),
    ("reduction-without-shortfall", s_reduction_without_shortfall, {"V14"}),
    ("amended-list-not-eligible", s_amend_not_eligible, {"V14"}),
    ("round-opened-without-quorum", s_quorum_not_met, {"V11"}),
    ("approvals-misreported", s_wrong_count_valid, {"V13"}),
    ("marks-wrong-shape", s_marks_wrong_shape, {"V9"}),
    ("result-not-last", s_result_not_last, {"V15", "V16"}),
    ("ballot-after-result", s_ballot_after_result, {"V11", "V15", "V16"}),
    ("withdraw-not-last", s_withdraw_not_last, {"V9"}),
    ("quorum-failed-with-members", s_quorum_failed_with_members, {"V11"}),
    ("quorum-failed-wrong-present", s_quorum_failed_wrong_present, {"V11"}),
    ("quorum-failed-but-met", s_quorum_failed_but_met, {"V11"}),
]


@pytest.mark.parametrize(
    ("name", "mutate", "expected"), SCRIPT_CASES, ids=[c[0] for c in SCRIPT_CASES]
)
def test_dishonest_producer(
    run: Runner, name: str, mutate: Callable[[list[list[Any]]], dict[str, Any]], expected: set[str]
) -> None:
    ev = B.script()
    kwargs = mutate(ev)
    report = run(B.build(ev, **kwargs))
    assert set(report.failed()) == expected, name


def test_a_ballot_line_after_the_result_is_reported_at_its_seq(run: Runner) -> None:
    """The replay sends a common ballot line straight to its handler only while nothing else is
    due; after the result, V15 must still see it (``result.not_last`` at that entry)."""
    ev = B.script()
    s_ballot_after_result(ev)
    report = run(B.build(ev))
    v15 = next(c for c in report.clauses if c.clause == "V15")
    assert [(f.code, f.seq) for f in v15.findings if f.code == "result.not_last"] == [
        ("result.not_last", len(ev) - 1)
    ]


# ----------------------------------------------------------------------- bundle-level cases


def test_valid_bundle_passes(good_files: Files, run: Runner) -> None:
    report = run(good_files)
    assert report.ok, report.failed()
    assert report.ballots == 25
    assert report.remote_ballots == 0


def test_valid_zip_passes(good_files: Files, run: Runner) -> None:
    assert run(good_files, as_zip=True).ok


def test_wrong_index_hash(good_files: Files, run: Runner) -> None:
    files = {**good_files, "index.json": B.index(good_files)}

    def fn(d: Any) -> None:
        d["files"][0]["sha256"] = "0" * 64

    files = _edit_json(files, "index.json", fn)
    report = run(files, rehash=False)
    assert set(report.failed()) == {"V1"}


def test_index_election_id_wrong(good_files: Files, run: Runner) -> None:
    files = {**good_files, "index.json": B.index(good_files, eid="ab" * 32)}
    assert set(run(files, rehash=False).failed()) == {"V1"}


def test_index_entries_wrong(good_files: Files, run: Runner) -> None:
    files = {**good_files, "index.json": B.index(good_files, entries=3)}
    assert set(run(files, rehash=False).failed()) == {"V1"}


def test_change_without_rehash_is_v1_and_deeper(good_files: Files, run: Runner) -> None:
    files = {**good_files, "index.json": B.index(good_files)}
    report = run(m_change_mark(files), rehash=False)
    assert set(report.failed()) == {"V1", "V9"}


def test_unsafe_zip_not_read(good_files: Files, run: Runner, tmp_path: Any) -> None:

    path = B.write_zip(good_files, tmp_path / "evil.zip")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("../evil.txt", b"x")
    report = verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)
    assert report.status("V9") is Status.NOT_CHECKED


def test_duplicate_zip_names(good_files: Files, tmp_path: Any) -> None:

    path = B.write_zip(good_files, tmp_path / "dup.zip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("result.json", b"{}")
    report = verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)


def test_symlink_in_folder(good_files: Files, tmp_path: Any) -> None:

    folder = B.write_folder(good_files, tmp_path / "b")
    (folder / "link.json").symlink_to("/etc/passwd")
    report = verify_bundle(folder, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)


def test_zip_bomb_declared_size(
    good_files: Files, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr(verifier.bundle, "MAX_TOTAL_SIZE", 10_000)
    path = B.write_zip(good_files, tmp_path / "big.zip")
    report = verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)


def test_zip_member_inflating_beyond_declared_size(good_files: Files, tmp_path: Any) -> None:
    """A member whose header lies about its size is a clean V1 failure, never unbounded reading."""

    path = B.write_zip({**good_files, "x.bin": b"\0" * 100_000}, tmp_path / "lie.zip")
    bundle, _ = open_bundle(path)
    # Force a smaller declared size on the member, as a crafted archive would.
    zf = bundle._zf  # type: ignore[attr-defined]
    info = zf.getinfo("x.bin")
    info.file_size = 10
    with pytest.raises((VerificationError, zipfile.BadZipFile)):
        read_file(bundle, "x.bin", 1000)


# ----------------------------------------------------------------------- write-ins (A12.2)


def _secretary_overvote_as_extra_names(ev: list[list[Any]]) -> dict[str, Any]:
    """The secretary round's invalid "oo" ballot becomes two names on its one write-in row."""
    i = _idx(ev, "ballot.entered", 0, post="secretary", marks="oo")
    ev[i][1].update({"marks": "--", "write_ins": [B._wi("M05"), B._wi("")]})
    return {}


def test_more_write_ins_than_rows_is_an_invalid_ballot_not_a_bad_entry_V9_V13_R9_5(
    run: Runner,
) -> None:
    ev = B.script()
    _secretary_overvote_as_extra_names(ev)
    report = run(B.build(ev))
    assert report.ok, report.failed()


def test_counting_extra_write_ins_as_valid_fails_the_recount_V13_R9_5(run: Runner) -> None:
    ev = B.script()
    _secretary_overvote_as_extra_names(ev)
    ev[_idx(ev, "round.counted", 0, post="secretary")][1].update(
        {"valid_ballots": 8, "invalid_ballots": 0}
    )
    report = run(B.build(ev))
    assert {"V13"} <= set(report.failed())


# ------------------------------------------------ invalid ballots entered by decision (A12.7)


def _decided(ev: list[list[Any]], **committee: Any) -> list[list[Any]]:
    """The committee's over-vote "oooo" and the secretary's "oo" become ballots declared invalid by
    decision (R8.5): the first with its QR, the second a paper without QR (not official stock)."""
    i = _idx(ev, "ballot.entered", 0, post="committee", marks="oooo")
    ev[i] = [
        "ballot.declared_invalid",
        {"post": "committee", "round": 1, "reason": "identifying_marks", "with_qr": True}
        | committee,
    ]
    i = _idx(ev, "ballot.entered", 0, post="secretary", marks="oo")
    ev[i] = [
        "ballot.declared_invalid",
        {"post": "secretary", "round": 2, "reason": "not_official_stock"},
    ]
    return ev


def test_ballots_declared_invalid_with_a_scrutineers_confirmation_pass_V9_V13_R8_5(
    run: Runner,
) -> None:
    files = B.build(_decided(B.script()))
    report = run(files)
    assert report.ok, report.failed()
    records = [json.loads(x) for x in files["ballots.jsonl"].splitlines()]
    assert sorted(r["reason"] for r in records if "reason" in r) == [
        "identifying_marks",
        "not_official_stock",
    ]


def test_confirmation_by_a_key_outside_the_manifest_fails_V9_R8_5(run: Runner) -> None:
    report = run(B.build(_decided(B.script(), _other_signer=True)))
    assert set(report.failed()) == {"V9"}


def test_confirmation_signature_that_does_not_verify_fails_V9_R8_5(run: Runner) -> None:
    files = B.build(_decided(B.script()))
    entries = B.log_entries(files)
    i = next(k for k, e in enumerate(entries) if e["type"] == "ballot.declared_invalid")
    entries[i]["body"]["reason"] = "unreadable"  # changed after the scrutineer signed
    report = run(B.set_log(files, entries, rechain=True))
    assert "V9" in set(report.failed())


def test_unknown_reason_fails_V9_R8_5(run: Runner) -> None:
    report = run(B.build(_decided(B.script(), reason="torn")))
    assert set(report.failed()) == {"V9"}


def test_not_official_stock_with_an_official_qr_fails_V9_R8_5(run: Runner) -> None:
    report = run(B.build(_decided(B.script(), reason="not_official_stock")))
    assert set(report.failed()) == {"V9"}


def test_counting_a_ballot_declared_invalid_as_valid_fails_V13_R8_5(run: Runner) -> None:
    ev = _decided(B.script())
    ev[_idx(ev, "round.counted", 0, post="committee", round=1)][1].update(
        {"valid_ballots": 9, "invalid_ballots": 0}
    )
    report = run(B.build(ev))
    assert "V13" in set(report.failed())


def test_withdrawing_a_ballot_declared_invalid_without_qr_passes_V9_R8_5(run: Runner) -> None:
    ev = _decided(B.script())
    i = _idx(ev, "ballot.declared_invalid", 0, post="secretary")
    again = copy.deepcopy(ev[i])
    ev[i + 1 : i + 1] = [["ballot.withdrawn", {"post": "secretary", "round": 2}], again]
    report = run(B.build(ev))
    assert report.ok, report.failed()
