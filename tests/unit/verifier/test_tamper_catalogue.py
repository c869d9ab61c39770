"""The tamper catalogue of issue 15: every category it names, each with its exact failed clauses.

Each case here asserts the exact set of failed clauses and the exact set of ``(clause, code)``
findings. Cases that already exist elsewhere are not repeated; the table names them. Paths are
under ``tests/``; ``here`` is this module.

| category (issue 15 point) | test |
| --- | --- |
| Ed25519 edge cases, S >= L, small-order and mixed-order keys (1) | ``unit/verifier/test_ed25519_strict.py`` (all twelve speccheck cases) |
| findings capped per clause (2) | ``unit/verifier/test_bounded_inputs.py::test_two_million_empty_log_lines_end_fast_with_bounded_findings_and_memory``, ``::test_findings_of_one_clause_are_capped_with_a_count``, ``::test_unparsable_ballot_records_stop_being_read`` |
| FIFO as town key, member, audit record (2) | ``test_bounded_inputs.py::test_fifo_town_key_is_refused_without_hanging``, ``::test_folder_member_that_is_a_fifo_is_refused``, ``::test_fifo_audit_record_is_a_finding_without_hanging`` |
| a file over its format's limit (2) | ``test_bounded_inputs.py::test_reader_stops_at_the_limit``, ``::test_oversized_town_key_file_is_exit_2`` |
| ``/dev/zero`` as town key or bundle (2) | ``test_bounded_inputs.py::test_dev_zero_is_refused_as_town_key_bundle_and_file`` |
| ``/dev/zero`` as a member (2) | here ``test_dev_zero_as_a_member_is_V1`` |
| zip: encrypted member, unknown method, corrupt stream, CRC mismatch, truncated central directory, bomb (2) | ``test_bounded_inputs.py::test_encrypted_member_is_a_v1_finding``, ``::test_unknown_compression_method_is_a_v1_finding``, ``::test_corrupt_deflate_stream_is_a_v1_finding``, ``::test_crc_mismatch_while_streaming_is_a_v1_finding``, ``::test_truncated_central_directory_is_exit_2_with_one_line``, ``::test_zip_bomb_is_refused_before_inflating``; ``unit/verifier/test_tamper.py::test_zip_bomb_declared_size``, ``::test_unsafe_zip_not_read`` |
| any bytes as bundle, member or town key (2) | ``fuzz/test_fuzz_bundle.py`` |
| audit forge: record by a key not appointed, appointment by another key (3, 6) | ``unit/audit/test_audit_binding.py::test_a14_record_signed_by_an_unappointed_key_fails``, ``::test_a14_appointment_signed_by_another_town_key_fails``, ``::test_a14_records_without_a_town_signed_appointment_fail``; vectors ``spec/vectors/audit/forged-record``, ``forged-appointment`` |
| audit delete: newest record, whole folder, with the head (3, 6) | ``test_audit_binding.py::test_a15_deleting_the_newest_record_is_detected_with_the_town_head``, ``::test_a15_a_published_hex_head_detects_a_deleted_record``, ``::test_a15_deleting_the_whole_audit_folder_is_detected_with_the_town_head`` (``verify --audit-head``, exit 1); vectors ``deleted-newest``, ``deleted-folder`` |
| audit discrepancy: unsettled fails, settled by a later full count passes (3, 6) | ``test_audit_binding.py::test_a16_a_record_that_found_discrepancies_exits_1``, ``::test_a16_a_discrepancy_settled_by_a_later_full_count_exits_0``, ``::test_a16_a_clean_record_before_the_discrepancy_does_not_settle_it`` |
| audit chain reordered, a record of another log (3) | ``test_audit_binding.py::test_a15_a_reordered_chain_is_detected``, ``::test_a11_a_record_naming_another_bundle_root_fails``; vectors ``reordered``, ``other-root`` |
| auditors' names and fingerprints printed (3) | ``test_audit_binding.py::test_verify_prints_the_appointed_auditors_names_and_fingerprints`` |
| checkpoint repeated (4, 6) | ``unit/verifier/test_small_gaps.py::test_the_same_checkpoint_twice_fails_V7_repeated`` |
| ``remote-casts`` checkpoint, a reason withdrawn with version 1 (4) | ``test_small_gaps.py::test_a_remote_casts_checkpoint_anywhere_is_malformed_V7`` |
| publicity calendar over every day it affects (4) | ``test_small_gaps.py::test_the_results_calendar_is_checked_outside_the_publicity_window_V17_A12_8``, ``::test_a_signed_year_file_that_contradicts_the_library_fails_V17_R26_3`` |
| extra file, extra folder (4) | ``test_tamper.py`` FILE_CASES ``extra-file``; ``test_small_gaps.py::test_extra_empty_folders_fail_V1`` |
| zip directory entry, duplicate zip names (4) | ``test_small_gaps.py::test_zip_directory_entries_fail_V1``; ``test_tamper.py::test_duplicate_zip_names``, ``test_bounded_inputs.py::test_duplicate_names_are_a_v1_finding`` |
| ids ASCII of the pattern (4) | ``test_small_gaps.py::test_a_member_id_that_is_not_ascii_of_the_pattern_fails_V3``; ``tally check``: ``unit/core/test_member_ids.py::test_a_member_id_outside_the_ascii_pattern_is_refused``, ``integration/test_roster_names.py::test_a_cyrillic_look_alike_id_is_refused`` |
| Unicode look-alike ids: Cyrillic М01 beside M01 (4, 6) | here ``test_a_look_alike_member_id_fails_exactly_V3``, ``test_a_check_in_by_a_look_alike_id_fails_exactly_V10``, ``test_a_write_in_naming_a_look_alike_id_fails_exactly_V9``; vector ``V3-member-id-look-alike`` |
| Unicode look-alike names: a warning, never a failure (4, 6) | ``test_small_gaps.py::test_a_name_mixing_scripts_is_a_V3_warning_not_a_failure``, ``::test_a_name_with_another_members_skeleton_is_a_V3_warning``; ``tally check``: ``integration/test_roster_names.py::test_a_name_mixing_scripts_is_a_warning``, ``::test_a_name_confusable_with_another_members_is_a_warning`` |
| truncating the end with the last checkpoint (6) | here LOG_END_CASES ``truncate-end-and-last-checkpoint``, ``...-result-repointed``; the log alone: ``test_tamper.py`` FILE_CASES ``truncate-log`` |
| editing only the last entry (6) | here LOG_END_CASES ``edit-last-entry-*`` |
| manifest: pretty-printed, non-canonical base64 of key or signature, S + L (6) | here MANIFEST_CASES, ``test_work_group_key_in_non_canonical_base64_fails_V3``; vector ``V2-bad-signature`` |
| checkpoint lines: repeated, renamed signer, reordered, garbage proof, S + L (6) | here CHECKPOINT_LINE_CASES; ``test_tamper.py`` FILE_CASES ``remove-checkpoint-signature``, ``checkpoint-signed-by-other-key``, ``checkpoint-wrong-root`` |
| stolen work-group key: re-signed fork (6) | here ``test_fork_signed_with_the_work_group_key_alone_fails_V7_on_the_scrutineers_lines``, ``test_fork_signed_with_every_key_but_the_towns_fails_the_audit_bound_to_the_old_root_A11`` |
| stolen work-group key: forged stock (6) | here ``test_forged_stock_file_re_sealed_fails_V8``, ``test_forged_stock_re_signed_with_the_log_fails_V7``, ``test_ballot_printed_with_the_stolen_key_outside_the_stock_fails_V9``, ``test_ballot_qr_signature_with_s_plus_l_fails_V9``; another key's ballot: ``test_tamper.py`` SCRIPT_CASES ``forged-ballot`` |
| stolen issuer key: casts with minted tokens (6) | here ``test_cast_with_a_minted_token_beyond_the_credentials_fails_V18_5``, ``test_minted_cast_under_a_second_credential_fails_V18_2``, ``test_minted_cast_within_the_logged_credentials_is_bounded_not_detected_RM_10_4``; ``unit/verifier/test_remote.py::test_v18_2_credential_for_unapproved_member``, ``::test_v18_10_credentialed_member_checks_in`` |
| remote ballots v2 (issue 16): a 2 in a choice, an over-vote, a write-in beyond the × marks, a wrong partial decryption, totals that do not match, a cast dropped or added after the close, a replayed ballot, casts out of receipt order or with another ``at``, a version-1 cast, too few partial decryptions | ``unit/verifier/test_remote_v2.py`` (each with its exact clauses and V18.x rules); one ballot's checks ``unit/verifier/test_remote_ballot_v2.py``; vectors ``unit/verifier/test_remote_v2_vectors.py`` |
| remote ballots version 1 (issue 16: none is decrypted anywhere): its ``remote.opened``, its key reveal and decryption entries | ``unit/verifier/test_remote.py::test_v18_1_a_version_1_remote_opened_is_not_supported``, ``::test_version_1_entries_are_unknown_types_V6``; ``unit/verifier/test_remote_v2.py::test_a_version_1_cast_fails_V6`` |
| format versions bumped or unknown (6) | here FORMAT_FILE_CASES, FORMAT_SIGNED_CASES, AUDIT_FORMAT_CASES, ``test_a_ballot_qrs_version_bumped_or_unknown_fails_V9``, ``test_a_remote_ballot_of_another_format_fails_V18_21`` |
| byte-order marks and CRLF (6) | here ENCODING_CASES |

What a stolen work-group key can and cannot do, as spec/bundle.md V7 and spec/remote.md §10 put
it: the thief re-signs every checkpoint but cannot add the scrutineers' lines, which every
``round-closed`` and the ``result`` checkpoint carry, so any fork fails V7 (the ``result``
checkpoint covers every entry).
A fork signed with the scrutineers' keys as well is self-consistent: the bundle alone cannot show
it; what binds the old history is a checkpoint held outside the bundle: the root every
paper-audit record names (A11, here), or a checkpoint saved from the board or a receipt and given
with ``verify --checkpoint`` (V7 ``checkpoint.held_fork``, ``unit/verifier/test_held_checkpoints.py``). A larger stock printed
with the stolen key is a stock like any other (count >= issued): its extra papers cannot be
counted without more ballots returned than issued, a VOID round (R11, V12). Tokens
minted with the issuer key are bounded by the logged credentials (V18.5, V18.2, V18.10); a cast
under the credential of an approved member who redeemed one is not distinguishable (RM-10.4 d).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ballot_printer import encode_qr_text, sign_payload
from tally.cli_audit import head_document
from tests.unit.audit import fixtures as F
from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote as R
from tests.unit.verifier import builder_remote_v2 as V
from tests.unit.verifier.conftest import TOWN_FP
from verifier.audit.election import load_election
from verifier.audit.reconcile import Paper, reconcile
from verifier.audit.record import (
    AuditorKey,
    check_audit_records,
    reconciliation_record,
    write_record,
)
from verifier.checks import TownKey, verify_bundle
from verifier.cli import app as verifier_app
from verifier.report import Report

Files = dict[str, bytes]
Runner = Callable[..., Report]
Events = list[list[Any]]
Mutation = Callable[[Files], Files]
Codes = set[tuple[str, str]]

# Ed25519's group order (RFC 8032 §5.1): S + L is the same scalar, not in its canonical form.
L = 2**252 + 27742317777372353535851937790883648493
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
BOM = b"\xef\xbb\xbf"
AUDITOR = AuditorKey(label="审计员甲", seed=b"\x21" * 32)


def codes(report: Report) -> Codes:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


def expect(report: Report, clauses: set[str], found: Codes) -> None:
    assert (set(report.failed()), codes(report)) == (clauses, found)


def _json(files: Files, name: str) -> Any:
    return json.loads(files[name])


def _put(files: Files, name: str, doc: Any) -> Files:
    return {**files, name: B.jcs(doc)}


def _idx(ev: Events, etype: str, n: int = 0, **match: Any) -> int:
    hits = [
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    ]
    return hits[n]


def s_plus_l(sig_b64: str) -> str:
    """The same signature with S written as S + L: plain integer arithmetic on its bytes."""
    sig = base64.b64decode(sig_b64)
    s = int.from_bytes(sig[32:], "little") + L
    assert s < 2**256
    return base64.b64encode(sig[:32] + s.to_bytes(32, "little")).decode()


def unused_bits_set(text: str) -> str:
    """Base64 of the same bytes whose last symbol has its unused low bits set (not canonical)."""
    body = text.rstrip("=")
    out = body[:-1] + B64[B64.index(body[-1]) | 1] + text[len(body) :]
    assert out != text
    assert base64.b64decode(out) == base64.b64decode(text)
    return out


def unpadded(text: str) -> str:
    assert text.endswith("=")
    return text.rstrip("=")


# ======================================================================= the end of the log


def m_truncate_with_last_checkpoint(f: Files) -> Files:
    doc = _json(f, "checkpoints.json")
    doc["checkpoints"].pop()
    lines = f["log.jsonl"].splitlines(keepends=True)
    return {**_put(f, "checkpoints.json", doc), "log.jsonl": b"".join(lines[:-1])}


def m_truncate_and_repoint_result(f: Files) -> Files:
    """...and result.json made to name the new last checkpoint."""
    out = m_truncate_with_last_checkpoint(f)
    res = _json(out, "result.json")
    res["checkpoint"] = _json(out, "checkpoints.json")["checkpoints"][-1]["text"]
    return _put(out, "result.json", res)


def m_edit_last_entry_actor(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[-1]["actor"] = "someone else"
    return B.set_log(f, entries, rechain=False)  # no later entry names its hash


def m_edit_last_entry_elected(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[-1]["body"]["elected"]["committee"] = ["M01", "M02", "M04"]
    return B.set_log(f, entries, rechain=False)


LOG_END_CASES: list[tuple[str, Mutation, set[str], Codes]] = [
    (
        "truncate-end-and-last-checkpoint",
        m_truncate_with_last_checkpoint,
        {"V15", "V16"},
        {("V15", "result.missing"), ("V16", "result.checkpoint")},
    ),
    (
        "truncate-end-and-last-checkpoint-result-repointed",
        m_truncate_and_repoint_result,
        {"V15", "V16"},
        {("V15", "result.missing"), ("V16", "result.checkpoint_size")},
    ),
    ("edit-last-entry-actor", m_edit_last_entry_actor, {"V7"}, {("V7", "checkpoint.root")}),
    (
        "edit-last-entry-elected",
        m_edit_last_entry_elected,
        {"V7", "V15"},
        {("V7", "checkpoint.root"), ("V15", "result.elected")},
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "clauses", "found"), LOG_END_CASES, ids=[c[0] for c in LOG_END_CASES]
)
def test_the_end_of_the_log_tampered(
    good_files: Files, run: Runner, name: str, mutate: Mutation, clauses: set[str], found: Codes
) -> None:
    expect(run(mutate(good_files)), clauses, found)


# ======================================================================= manifest malleations


def _manifest(edit: Callable[[Any], None]) -> Mutation:
    def mutate(f: Files) -> Files:
        doc = _json(f, "manifest.json")
        edit(doc)
        return _put(f, "manifest.json", doc)

    return mutate


def _at(*path: str, fn: Callable[[str], str]) -> Callable[[Any], None]:
    def edit(doc: Any) -> None:
        for p in path[:-1]:
            doc = doc[p]
        doc[path[-1]] = fn(doc[path[-1]])

    return edit


def m_manifest_pretty(f: Files) -> Files:
    doc = _json(f, "manifest.json")
    return {**f, "manifest.json": json.dumps(doc, ensure_ascii=False, indent=2).encode()}


MANIFEST_CASES: list[tuple[str, Mutation, set[str], Codes]] = [
    ("pretty-printed", m_manifest_pretty, {"V2"}, {("V2", "json.not_canonical")}),
    (
        "signature-unused-bits-set",
        _manifest(_at("signature", fn=unused_bits_set)),
        {"V2"},
        {("V2", "field.type")},
    ),
    (
        "signature-unpadded",
        _manifest(_at("signature", fn=unpadded)),
        {"V2"},
        {("V2", "field.type")},
    ),
    (
        "signature-s-plus-l",
        _manifest(_at("signature", fn=s_plus_l)),
        {"V2"},
        {("V2", "manifest.signature")},
    ),
    (
        "summary-signature-unused-bits-set",
        _manifest(_at("summary_signature", fn=unused_bits_set)),
        {"V2"},
        {("V2", "field.type")},
    ),
    (
        "summary-signature-s-plus-l",  # its shape is V2's, its verification V19's
        _manifest(_at("summary_signature", fn=s_plus_l)),
        {"V19"},
        {("V19", "manifest.summary_signature")},
    ),
    (
        "town-key-unused-bits-set",
        _manifest(_at("town_key", "key", fn=unused_bits_set)),
        {"V2"},
        {("V2", "pubkey.invalid")},
    ),
    (
        "town-key-unpadded",
        _manifest(_at("town_key", "key", fn=unpadded)),
        {"V2"},
        {("V2", "pubkey.invalid")},
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "clauses", "found"), MANIFEST_CASES, ids=[c[0] for c in MANIFEST_CASES]
)
def test_manifest_malleation(
    good_files: Files, run: Runner, name: str, mutate: Mutation, clauses: set[str], found: Codes
) -> None:
    expect(run(mutate(good_files)), clauses, found)


def test_work_group_key_in_non_canonical_base64_fails_V3(run: Runner) -> None:
    """Signed by the town as it stands: the same key bytes, spelt otherwise (K-5.1)."""
    man = B.manifest()
    man["keys"]["work_group"]["key"] = unused_bits_set(man["keys"]["work_group"]["key"])
    expect(run(B.build(man=man)), {"V3"}, {("V3", "pubkey.invalid")})


# ======================================================================= checkpoint lines


def _closed_committee_1(f: Files) -> int:
    cps = _json(f, "checkpoints.json")["checkpoints"]
    return next(i for i, c in enumerate(cps) if "\nround-closed committee 1\n" in c["text"])


def _lines(edit: Callable[[list[str]], list[str]], *, last: bool = False) -> Mutation:
    """Edit the signature lines of the first ``round-closed`` checkpoint (work group, then the
    scrutineer), or of the ``result`` one, kept equal in result.json."""

    def mutate(f: Files) -> Files:
        doc = _json(f, "checkpoints.json")
        i = len(doc["checkpoints"]) - 1 if last else _closed_committee_1(f)
        text = doc["checkpoints"][i]["text"]
        body, _, sigs = text.partition("\n\n")
        new = body + "\n\n" + "".join(x + "\n" for x in edit(sigs[:-1].split("\n")))
        doc["checkpoints"][i]["text"] = new
        res = _json(f, "result.json")
        if last:
            res["checkpoint"] = new
        return _put(_put(f, "checkpoints.json", doc), "result.json", res)

    return mutate


def _renamed(line: str) -> str:
    """The same signature under the other role's name (same key hash)."""
    dash, name, sig = line.split(" ")
    role, digest = name.split(":")
    return f"{dash} {'scrutineer' if role == 'work_group' else 'work_group'}:{digest} {sig}"


def _line_s_plus_l(line: str) -> str:
    dash, name, blob = line.split(" ")
    raw = base64.b64decode(blob)
    sig = base64.b64decode(s_plus_l(base64.b64encode(raw[4:]).decode()))
    return f"{dash} {name} {base64.b64encode(raw[:4] + sig).decode()}"


def _garbage_signature(line: str) -> str:
    """The right name and key id, then 64 bytes that are no signature."""
    dash, name, blob = line.split(" ")
    raw = base64.b64decode(blob)[:4] + hashlib.sha512(b"garbage").digest()
    return f"{dash} {name} {base64.b64encode(raw).decode()}"


def _proof(edit: Callable[[list[str]], list[str]], *, first: bool = False) -> Mutation:
    """Edit the consistency proof of the first checkpoint that has one (or of the very first)."""

    def mutate(f: Files) -> Files:
        doc = _json(f, "checkpoints.json")
        cp = (
            doc["checkpoints"][0]
            if first
            else next(c for c in doc["checkpoints"] if c["consistency"])
        )
        cp["consistency"] = edit(cp["consistency"])
        return _put(f, "checkpoints.json", doc)

    return mutate


ORDER = ("V7", "checkpoint.signature_order")
CHECKPOINT_LINE_CASES: list[tuple[str, Mutation, set[str], Codes]] = [
    ("work-group-line-repeated", _lines(lambda s: [s[0], *s]), {"V7"}, {ORDER}),
    ("scrutineer-line-repeated", _lines(lambda s: [*s, s[-1]]), {"V7"}, {ORDER}),
    (
        "lines-reordered",
        _lines(lambda s: s[::-1]),
        {"V7"},
        {ORDER, ("V7", "checkpoint.work_group")},
    ),
    (
        "result-lines-reordered",
        _lines(lambda s: s[::-1], last=True),
        {"V7"},
        {ORDER, ("V7", "checkpoint.work_group")},
    ),
    (
        "work-group-signer-renamed",
        _lines(lambda s: [_renamed(s[0]), *s[1:]]),
        {"V7"},
        {ORDER, ("V7", "checkpoint.unknown_signer"), ("V7", "checkpoint.work_group")},
    ),
    (
        "scrutineer-signer-renamed",
        _lines(lambda s: [*s[:-1], _renamed(s[-1])]),
        {"V7"},
        {ORDER, ("V7", "checkpoint.unknown_signer"), ("V7", "checkpoint.scrutineer")},
    ),
    (
        "work-group-signature-s-plus-l",
        _lines(lambda s: [_line_s_plus_l(s[0]), *s[1:]]),
        {"V7"},
        {("V7", "checkpoint.signature"), ("V7", "checkpoint.work_group")},
    ),
    (
        "scrutineer-signature-s-plus-l",
        _lines(lambda s: [*s[:-1], _line_s_plus_l(s[-1])]),
        {"V7"},
        {("V7", "checkpoint.signature"), ("V7", "checkpoint.scrutineer")},
    ),
    (
        "proof-garbage-hashes",
        _proof(lambda p: [base64.b64encode(bytes([i]) * 32).decode() for i in range(len(p))]),
        {"V7"},
        {("V7", "checkpoint.consistency")},
    ),
    (
        "proof-not-base64",  # the checkpoint is unreadable: its moment is missing, the next
        _proof(lambda p: ["!!garbage!!", *p[1:]]),  # one's proof starts from the one before
        {"V7"},
        {
            ("V7", "checkpoints.proof_format"),
            ("V7", "checkpoint.missing"),
            ("V7", "checkpoint.consistency"),
        },
    ),
    (
        "work-group-signature-garbage",
        _lines(lambda s: [_garbage_signature(s[0]), *s[1:]]),
        {"V7"},
        {("V7", "checkpoint.signature"), ("V7", "checkpoint.work_group")},
    ),
    (
        "first-checkpoint-given-a-proof",
        _proof(lambda p: [base64.b64encode(bytes(32)).decode()], first=True),
        {"V7"},
        {("V7", "checkpoint.proof")},
    ),
    ("proof-hash-dropped", _proof(lambda p: p[:-1]), {"V7"}, {("V7", "checkpoint.consistency")}),
    ("proof-hash-added", _proof(lambda p: [*p, p[0]]), {"V7"}, {("V7", "checkpoint.consistency")}),
]


@pytest.mark.parametrize(
    ("name", "mutate", "clauses", "found"),
    CHECKPOINT_LINE_CASES,
    ids=[c[0] for c in CHECKPOINT_LINE_CASES],
)
def test_checkpoint_line_variant(
    good_files: Files, run: Runner, name: str, mutate: Mutation, clauses: set[str], found: Codes
) -> None:
    expect(run(mutate(good_files)), clauses, found)


# ======================================================================= a stolen work-group key


def fork_runoff(ev: Events) -> Events:
    """The committee runoff turned round: M04 wins 5 to 2 instead of M03, every count agreeing."""
    for t, b in ev:
        if t == "ballot.entered" and (b["post"], b["round"]) == ("committee", 2):
            b["marks"] = {"ox": "xo", "xo": "ox"}.get(b["marks"], b["marks"])
    ev[_idx(ev, "round.counted", post="committee", round=2)][1].update(
        {
            "approvals": [
                {"member": "M03", "approvals": 2},
                {"member": "M04", "approvals": 5},
            ],
            "elected": ["M04"],
        }
    )
    ev[-1][1]["elected"]["committee"] = ["M01", "M02", "M04"]
    return ev


def fork_stock(ev: Events) -> Events:
    """Two more ids in the first committee stock, their QRs signed with the work group's key."""
    ev[_idx(ev, "stock.committed", post="committee", round=1)][1]["count"] = 14
    return ev


def work_group_only(fork: Files, original: Files) -> Files:
    """What the thief of the work-group key alone can sign: every checkpoint of the fork anew,
    with the scrutineer's lines copied from the original (that key was not stolen)."""
    old = _json(original, "checkpoints.json")["checkpoints"]
    doc = _json(fork, "checkpoints.json")
    assert len(old) == len(doc["checkpoints"])
    for mine, theirs in zip(doc["checkpoints"], old, strict=True):
        body, _, sigs = mine["text"].partition("\n\n")
        copied = theirs["text"].partition("\n\n")[2][:-1].split("\n")[1:]
        mine["text"] = body + "\n\n" + "".join(x + "\n" for x in [sigs.split("\n")[0], *copied])
    res = _json(fork, "result.json")
    res["checkpoint"] = doc["checkpoints"][-1]["text"]
    return _put(_put(fork, "checkpoints.json", doc), "result.json", res)


STOLEN = {("V7", "checkpoint.signature"), ("V7", "checkpoint.scrutineer")}


def test_fork_signed_with_both_keys_is_self_consistent(run: Runner) -> None:
    """The premise of the two tests below: the fork is a valid election of its own."""
    assert run(B.build(fork_runoff(B.script()))).ok


def test_fork_signed_with_the_work_group_key_alone_fails_V7_on_the_scrutineers_lines(
    good_files: Files, run: Runner
) -> None:
    fork = work_group_only(B.build(fork_runoff(B.script())), good_files)
    expect(run(fork), {"V7"}, STOLEN)


def _audited(folder: Path, files: Files) -> Path:
    """The bundle in ``folder/bundle`` with the town's appointment and one clean full count."""
    bundle = B.write_folder(files, folder / "bundle")
    election = load_election(bundle, F.TOWN)
    F.appoint(folder / "audit", election.election_id, AUDITOR)
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records]
    signed = reconciliation_record(election, papers, reconcile(election, papers), date="2026-10-08")
    write_record(folder / "audit", signed, [AUDITOR])
    return bundle


def test_fork_signed_with_every_key_but_the_towns_fails_the_audit_bound_to_the_old_root_A11(
    good_files: Files, tmp_path: Path
) -> None:
    """The audit record of the true bundle names its final root (A11): beside the fork it fails."""
    true = _audited(tmp_path / "true", good_files)
    assert check_audit_records(true, election=load_election(true, F.TOWN)).ok
    fork = B.write_folder(B.build(fork_runoff(B.script())), tmp_path / "fork" / "bundle")
    shutil.copytree(tmp_path / "true" / "audit", tmp_path / "fork" / "audit")
    result = check_audit_records(fork, election=load_election(fork, F.TOWN))
    assert {(f.clause, f.code) for f in result.findings} == {
        ("A11", "audit.other_root"),
        ("A11", "audit.other_bundle"),
        ("A12", "audit.outputs_differ"),
    }
    r = CliRunner().invoke(
        verifier_app, ["verify", str(fork), "--town-key", TOWN_FP, "--jobs", "1"]
    )
    assert r.exit_code == 1, r.stdout


def test_forged_stock_file_re_sealed_fails_V8(good_files: Files, run: Runner) -> None:
    """Two ids added to a stock list after publication, the list's commitment recomputed."""
    forged = B.build(fork_stock(B.script()))["stocks/committee-1.json"]
    assert forged != good_files["stocks/committee-1.json"]
    found = {("V8", "stock.commitment"), ("V8", "stock.count")}
    expect(run({**good_files, "stocks/committee-1.json": forged}), {"V8"}, found)


def test_forged_stock_re_signed_with_the_log_fails_V7(good_files: Files, run: Runner) -> None:
    """...and the ``stock.committed`` entry, the chain and every checkpoint re-signed."""
    forged = B.build(fork_stock(B.script()))
    assert run(forged).ok  # with the scrutineer's key too it is a stock like any other
    expect(run(work_group_only(forged, good_files)), {"V7"}, STOLEN)


def _entered(
    ev: Events, bid: bytes, *, malleate: bool = False, text: Callable[[str], str] = str
) -> Events:
    """The first committee runoff ballot replaced by the paper with id ``bid`` printed with the
    real work-group key (its signature written as S + L when ``malleate``; its QR text edited by
    ``text``)."""
    p = sign_payload(
        election_id=B.election_id(B.manifest()),
        kind=B.KINDS["committee"],
        round_number=2,
        ballot_id=bid,
        signer=B.WORK_GROUP,
    )
    if malleate:
        sig = base64.b64decode(s_plus_l(base64.b64encode(p.signature).decode()))
        p = dataclasses.replace(p, signature=sig)
    i = _idx(ev, "ballot.entered", 0, post="committee", round=2)
    ev[i][1] = {**ev[i][1], "ballot_id": bid.hex(), "qr": text(encode_qr_text(p))}
    return ev


def test_ballot_printed_with_the_stolen_key_outside_the_stock_fails_V9(run: Runner) -> None:
    ev = _entered(B.script(), hashlib.sha256(b"stuffed").digest()[:16])
    expect(run(B.build(ev)), {"V9"}, {("V9", "ballot.not_in_stock")})


def _unused_runoff_id() -> bytes:
    """The last id of the committee runoff's stock, which no entry of the script uses."""
    eid = B.election_id(B.manifest())
    return hashlib.sha256(f"{eid.hex()}-{('committee', 2)}-9".encode()).digest()[:16]


def test_ballot_qr_signature_with_s_plus_l_fails_V9(run: Runner) -> None:
    """A genuine paper of the stock (its last id, never entered) with a malleated signature."""
    ev = _entered(B.script(), _unused_runoff_id(), malleate=True)
    expect(run(B.build(ev)), {"V9"}, {("V9", "qr.bad_signature")})


@pytest.fixture(scope="module")
def remote_election() -> V.Election:
    return V.Election()


def minted_cast(el: V.Election, credential_of: str | None) -> Files:
    """The third cast (M07's: M01 and a write-in of M05, the secretary's write-in M05) replaced
    by a ballot of the same choices under a token minted with the issuer key, so the totals are
    unchanged. ``credential_of`` is the member of the ``remote.credential_issued`` that stood for
    M07's; None removes it."""
    minted = R.credential(el.eid)
    plans = [
        V.PostPlan("committee", V.choices("committee", ["M01", "M05"]), 1),
        V.PostPlan("secretary", V.choices("secretary", ["M05"]), 1),
    ]
    casts = list(el.casts)
    casts[2] = V.Cast(minted, el.ballot(minted.token, plans))
    ev = el.script(casts=casts)
    c = _idx(ev, "remote.credential_issued", member="M07")
    if credential_of is None:
        del ev[c]
        ev[_idx(ev, "remote.closed")][1]["credentials"] = 2
    else:
        ev[c][1]["member"] = credential_of
    return el.build(ev)


def test_cast_with_a_minted_token_beyond_the_credentials_fails_V18_5(
    remote_election: V.Election, run: Runner
) -> None:
    report = run(minted_cast(remote_election, None))
    expect(report, {"V18"}, {("V18", "remote.casts_exceed_credentials")})
    assert {f.rule for c in report.clauses for f in c.findings} == {"V18.5"}


def test_minted_cast_under_a_second_credential_fails_V18_2(
    remote_election: V.Election, run: Runner
) -> None:
    report = run(minted_cast(remote_election, "M05"))
    expect(report, {"V18"}, {("V18", "remote.credential_twice")})
    assert {f.rule for c in report.clauses for f in c.findings} == {"V18.2"}


def test_minted_cast_within_the_logged_credentials_is_bounded_not_detected_RM_10_4(
    remote_election: V.Election, run: Runner
) -> None:
    """The limit spec/remote.md RM-10.4 (d) states: under the credential of an approved member
    who redeemed one, a minted cast looks like that member's own; V18.5 bounds it."""
    assert run(minted_cast(remote_election, "M07")).ok


# ======================================================================= format versions


def _format(name: str, *path: str) -> Callable[[str], Mutation]:
    def with_value(value: str) -> Mutation:
        def mutate(f: Files) -> Files:
            doc = _json(f, name)
            target = doc
            for p in path:
                target = target[p]
            target["format"] = value
            return _put(f, name, doc)

        return mutate

    return with_value


def _record_format(value: str) -> Mutation:
    def mutate(f: Files) -> Files:
        lines = f["ballots.jsonl"].splitlines()
        rec = json.loads(lines[0])
        rec["format"] = value
        lines[0] = B.jcs(rec)
        return {**f, "ballots.jsonl": b"".join(x + b"\n" for x in lines)}

    return mutate


def _index_format(value: str) -> Mutation:
    def mutate(f: Files) -> Files:
        doc = json.loads(B.index(f))
        doc["format"] = value
        return {**f, "index.json": B.jcs(doc)}

    return mutate


def signed_calendar() -> bytes:
    """The town's ``signed-calendar/1`` of 2026, the same days as the verifier's own."""
    from tally.calendar import CalendarYear, sign_calendar  # noqa: PLC0415

    cal = B.calendar_2026()
    days = [frozenset(dt.date.fromisoformat(x) for x in cal[k]) for k in ("holidays", "workdays")]
    return sign_calendar([CalendarYear(2026, days[0], days[1], "test")], B.TOWN)


def _calendar_format(value: str) -> Mutation:
    def mutate(f: Files) -> Files:
        doc = json.loads(signed_calendar())
        doc["format"] = value
        return {**f, "calendar.json": B.jcs(doc)}

    return mutate


STOCK_UNREAD = ("V9", "ballot.not_in_stock")  # its ids are unknown (test_tamper.py's rule)
FORMAT_FILE_CASES: list[tuple[str, str, Callable[[str], Mutation], set[str], Codes]] = [
    ("index", "bundle-index/1", _index_format, {"V1"}, {("V1", "index.format")}),
    (
        "signed-manifest",
        "signed-manifest/1",
        _format("manifest.json"),
        {"V2"},
        {("V2", "format.version")},
    ),
    (
        "town-key",
        "pubkey/1",
        _format("manifest.json", "town_key"),
        {"V2"},
        {("V2", "keys.unsupported_format")},
    ),
    (
        "checkpoints",
        "checkpoints/1",
        _format("checkpoints.json"),
        {"V7", "V16"},
        {("V7", "checkpoints.format"), ("V7", "checkpoint.missing"), ("V16", "result.checkpoint")},
    ),
    (
        "ballot-stock",
        "ballot-stock/1",
        _format("stocks/committee-1.json"),
        {"V8", "V9"},
        {("V8", "stock.format"), STOCK_UNREAD},
    ),
    ("ballot-record", "ballot-record/1", _record_format, {"V9"}, {("V9", "record.differs")}),
    ("outcomes", "outcomes/1", _format("outcomes.json"), {"V15"}, {("V15", "outcomes.format")}),
    ("result", "result/1", _format("result.json"), {"V15"}, {("V15", "result.format")}),
    (
        "signed-calendar",
        "signed-calendar/1",
        _calendar_format,
        {"V17"},
        {("V17", "publicity.calendar_file")},
    ),
]


def _bumped(fmt: str) -> str:
    name, _, major = fmt.rpartition("/")
    return f"{name}/{int(major) + 1}"


@pytest.mark.parametrize("kind", ["bumped", "unknown"])
@pytest.mark.parametrize(
    ("name", "fmt", "mutate", "clauses", "found"),
    FORMAT_FILE_CASES,
    ids=[c[0] for c in FORMAT_FILE_CASES],
)
def test_a_files_format_bumped_or_unknown(
    good_files: Files,
    run: Runner,
    name: str,
    fmt: str,
    mutate: Callable[[str], Mutation],
    clauses: set[str],
    found: Codes,
    kind: str,
) -> None:
    value = _bumped(fmt) if kind == "bumped" else "ballot-box/1"
    report = run(mutate(value)(good_files), rehash=name != "index")
    expect(report, clauses, found)


def test_the_signed_calendar_of_the_format_cases_passes_as_it_is(
    good_files: Files, run: Runner
) -> None:
    assert run({**good_files, "calendar.json": signed_calendar()}).ok


def _man_format(*path: str | int) -> Callable[[str], dict[str, Any]]:
    def kwargs(value: str) -> dict[str, Any]:
        man = B.manifest()
        target: Any = man
        for p in path:
            target = target[p]
        target["format"] = value
        return {"man": man}

    return kwargs


def _entry_format(value: str) -> dict[str, Any]:
    def edit(seq: int, raw: bytes) -> bytes:
        return raw.replace(b'"log-entry/1"', f'"{value}"'.encode()) if seq == 5 else raw

    return {"raw_edit": edit}


FORMAT_SIGNED_CASES: list[tuple[str, str, Callable[[str], dict[str, Any]], set[str], Codes]] = [
    ("manifest", "manifest/1", _man_format(), {"V3"}, {("V3", "format.version")}),
    (
        "definition",
        "election-definition/1",
        _man_format("definition"),
        {"V3"},
        {("V3", "format.version")},
    ),
    (
        "work-group-key",
        "pubkey/1",
        _man_format("keys", "work_group"),
        {"V3"},
        {("V3", "keys.unsupported_format")},
    ),
    (
        "scrutineer-key",
        "pubkey/1",
        _man_format("keys", "scrutineers", 0),
        {"V3"},
        {("V3", "keys.unsupported_format")},
    ),
    ("log-entry", "log-entry/1", _entry_format, {"V6"}, {("V6", "format.version")}),
]


@pytest.mark.parametrize("kind", ["bumped", "unknown"])
@pytest.mark.parametrize(
    ("name", "fmt", "kwargs", "clauses", "found"),
    FORMAT_SIGNED_CASES,
    ids=[c[0] for c in FORMAT_SIGNED_CASES],
)
def test_a_signed_documents_format_bumped_or_unknown(
    run: Runner,
    name: str,
    fmt: str,
    kwargs: Callable[[str], dict[str, Any]],
    clauses: set[str],
    found: Codes,
    kind: str,
) -> None:
    """Signed as it stands (by the town, or chained and checkpointed by the work group)."""
    value = _bumped(fmt) if kind == "bumped" else "ballot-box/1"
    expect(run(B.build(**kwargs(value))), clauses, found)


def _qr_version_2(text: str) -> str:
    """The same paper with its payload's version byte 2 (still under the ``BQ1:`` prefix)."""
    body = text.removeprefix("BQ1:")
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[0] = 2
    return "BQ1:" + base64.b32encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (lambda t: t.replace("BQ1:", "BQ2:"), "qr.unknown_version"),
        (lambda t: t.replace("BQ1:", "BQX:"), "qr.bad_encoding"),  # no version at all (Q1)
        (_qr_version_2, "qr.unknown_version"),
    ],
    ids=["text-prefix-bumped", "text-prefix-unknown", "payload-version-byte-bumped"],
)
def test_a_ballot_qrs_version_bumped_or_unknown_fails_V9(
    run: Runner, text: Callable[[str], str], code: str
) -> None:
    """The work group's key signs whatever version it is handed; Q2 refuses any but 1."""
    ev = _entered(B.script(), _unused_runoff_id(), text=text)
    expect(run(B.build(ev)), {"V9"}, {("V9", code)})


@pytest.mark.parametrize("value", ["remote-ballot/1", "remote-ballot/3", "ballot-box/1"])
def test_a_remote_ballot_of_another_format_fails_V18_21(
    remote_election: V.Election, run: Runner, value: str
) -> None:
    """R1's ballot under another format, its proofs intact: RV-3.5 refuses it
    (``remote.ballot_invalid``), and the totals it fed are not checked against it (V18.22,
    V18.23 need every ballot's ciphertexts)."""
    el = remote_election
    casts = list(el.casts)
    casts[0] = V.Cast(el.creds[0], {**casts[0].ballot, "format": value})
    report = run(el.build(el.script(casts=casts)))
    expect(report, {"V18"}, {("V18", "remote.ballot_invalid")})
    assert {f.rule for c in report.clauses for f in c.findings} == {"V18.21"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripted bundle with the town's appointment, one clean record and the town's head."""
    folder = tmp_path_factory.mktemp("audited")
    bundle = _audited(folder, B.build())
    eid = load_election(bundle, F.TOWN).election_id.hex()
    (folder / "head.json").write_bytes(head_document(eid, folder / "audit", B.TOWN)[0])
    return folder


def _verify_json(folder: Path) -> tuple[int, Codes]:
    head = ["--audit-head", str(folder / "head.json")]
    r = CliRunner().invoke(
        verifier_app,
        ["verify", str(folder / "bundle"), "--town-key", TOWN_FP, "--jobs", "1", "--json", *head],
    )
    audit = json.loads(r.stdout)["audit"] or {}
    return r.exit_code, {(f["clause"], f["code"]) for f in audit.get("findings", [])}


AUDIT_FORMAT_CASES: list[tuple[str, str, Codes]] = [
    (
        "audit/1.json",
        "audit-record/2",  # the file changed, so the chain no longer ends at the head
        {("A9", "audit.record_format"), ("A15", "audit.head_mismatch")},
    ),
    ("audit/appointment.json", "audit-appointment/1", {("A14", "audit.appointment_invalid")}),
    ("head.json", "audit-head/1", {("A15", "audit.head_invalid")}),
]


@pytest.mark.parametrize("kind", ["bumped", "unknown"])
@pytest.mark.parametrize(
    ("name", "fmt", "found"), AUDIT_FORMAT_CASES, ids=[c[0] for c in AUDIT_FORMAT_CASES]
)
def test_an_audit_documents_format_bumped_or_unknown(
    audited: Path, tmp_path: Path, name: str, fmt: str, found: Codes, kind: str
) -> None:
    folder = Path(shutil.copytree(audited, tmp_path / "a"))
    assert _verify_json(folder) == (0, set())
    doc = json.loads((folder / name).read_bytes())
    assert doc["format"] == fmt
    doc["format"] = _bumped(fmt) if kind == "bumped" else "ballot-box/1"
    (folder / name).write_bytes(B.jcs(doc))
    assert _verify_json(folder) == (1, found)


# ======================================================================= byte-order marks, CRLF


def _bom(name: str) -> Mutation:
    return lambda f: {**f, name: BOM + f[name]}


def _crlf(name: str) -> Mutation:
    return lambda f: {**f, name: f[name].replace(b"\n", b"\r\n")}


def _crlf_after(name: str) -> Mutation:
    return lambda f: {**f, name: f[name] + b"\r\n"}


def _checkpoint_texts_crlf(f: Files) -> Files:
    doc = _json(f, "checkpoints.json")
    for c in doc["checkpoints"]:
        c["text"] = c["text"].replace("\n", "\r\n")
    res = _json(f, "result.json")
    res["checkpoint"] = res["checkpoint"].replace("\n", "\r\n")
    return _put(_put(f, "checkpoints.json", doc), "result.json", res)


def _index_bom(f: Files) -> Files:
    return {**f, "index.json": BOM + B.index(f)}


RECORDS = {("V9", "record.extra"), ("V9", "record.missing")}
CP_UNREAD = {("V7", "checkpoint.missing"), ("V16", "result.checkpoint")}
ENCODING_CASES: list[tuple[str, Mutation, set[str], Codes]] = [
    (
        "log-bom",
        _bom("log.jsonl"),
        {"V6", "V7"},
        {
            ("V6", "json.malformed"),
            ("V6", "entry.prev"),  # entry 1 names the hash of entry 0 without the mark
            ("V7", "checkpoint.root"),
            ("V7", "checkpoint.unexpected"),
        },
    ),
    (
        "log-crlf",
        _crlf("log.jsonl"),
        {"V6", "V7"},
        {("V6", "json.not_canonical"), ("V7", "checkpoint.root"), ("V7", "checkpoint.unexpected")},
    ),
    ("ballots-bom", _bom("ballots.jsonl"), {"V9"}, {("V9", "json.malformed"), *RECORDS}),
    ("ballots-crlf", _crlf("ballots.jsonl"), {"V9"}, {("V9", "json.not_canonical"), *RECORDS}),
    ("manifest-bom", _bom("manifest.json"), {"V2"}, {("V2", "json.malformed")}),
    ("manifest-crlf", _crlf_after("manifest.json"), {"V2"}, {("V2", "json.not_canonical")}),
    (
        "checkpoints-bom",
        _bom("checkpoints.json"),
        {"V7", "V16"},
        {("V7", "json.malformed"), *CP_UNREAD},
    ),
    (
        "checkpoints-crlf",
        _crlf_after("checkpoints.json"),
        {"V7", "V16"},
        {("V7", "json.not_canonical"), *CP_UNREAD},
    ),
    (
        "checkpoint-texts-crlf",
        _checkpoint_texts_crlf,
        {"V7", "V16"},
        {("V7", "checkpoint.malformed"), *CP_UNREAD},
    ),
    ("index-bom", _index_bom, {"V1"}, {("V1", "json.malformed")}),
    ("result-bom", _bom("result.json"), {"V15"}, {("V15", "json.malformed")}),
    ("outcomes-bom", _bom("outcomes.json"), {"V15"}, {("V15", "json.malformed")}),
    (
        "stock-bom",
        _bom("stocks/committee-1.json"),
        {"V8", "V9"},
        {("V8", "json.malformed"), STOCK_UNREAD},
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "clauses", "found"), ENCODING_CASES, ids=[c[0] for c in ENCODING_CASES]
)
def test_byte_order_mark_or_crlf(
    good_files: Files, run: Runner, name: str, mutate: Mutation, clauses: set[str], found: Codes
) -> None:
    expect(run(mutate(good_files), rehash=name != "index-bom"), clauses, found)


# ======================================================================= Unicode look-alikes


def test_a_look_alike_member_id_fails_exactly_V3(run: Runner) -> None:
    """Cyrillic М01 beside M01 on a town-signed roster (D-5.3)."""
    d = B.definition()
    d["members"][11]["id"] = "\u041c01"  # M12, named by no entry
    expect(run(B.build(man=B.manifest(d))), {"V3"}, {("V3", "members.id_format")})


def test_a_check_in_by_a_look_alike_id_fails_exactly_V10(run: Runner) -> None:
    ev = B.script()
    ev.insert(len(ev) - 1, ["member.checked_in", {"member": "\u041c01"}])
    expect(run(B.build(ev)), {"V10"}, {("V10", "attendance.not_elector")})


def test_a_write_in_naming_a_look_alike_id_fails_exactly_V9(run: Runner) -> None:
    """A write-in's ``member`` is "" or a roster id: Cyrillic М06 is neither."""
    ev = B.script()
    i = _idx(ev, "ballot.entered", 0, post="committee", round=2, marks="--")
    ev[i][1]["write_ins"] = [{"name": "党员06", "member": "\u041c06", "mark": "o"}]
    expect(run(B.build(ev)), {"V9"}, {("V9", "ballot.write_in")})


# ======================================================================= point 2: /dev/zero


def _device(path: Path) -> None:
    """``path`` made the character device of ``/dev/zero`` (1, 5); skipped where not allowed."""
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    except (PermissionError, AttributeError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.symlink_to("/dev/zero"), "bundle.link"),
        (_device, "bundle.special_file"),
    ],
    ids=["link-to-dev-zero", "dev-zero-device-node"],
)
def test_dev_zero_as_a_member_is_V1(
    good_files: Files, tmp_path: Path, make: Callable[[Path], None], code: str
) -> None:
    folder = B.write_folder(good_files, tmp_path / "b")
    (folder / "outcomes.json").unlink()
    make(folder / "outcomes.json")
    report = verify_bundle(folder, TownKey(fingerprint=TOWN_FP), jobs=1)
    expect(report, {"V1"}, {("V1", code)})
