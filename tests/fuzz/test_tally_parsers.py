"""Fuzz every parser of the producer (tally, keys, ballot_printer) with damaged valid samples and
random input: each may refuse only with its documented error; anything else is a crash.

Definition TOML (as text and as a decoded tree), the ballot-marks file, the batch files of
``tally ballots enter --batch``, QR payload text, the manifest and the signed manifest, stored
log entries, key files, public-key files, issuer key files, share containers and invitation
codes. Budgets: tests/fuzz/budget.py; what each finds: docs/FUZZING.md.
"""

from __future__ import annotations

import base64
import contextlib
import json
import tomllib
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ballot_printer
import keys
import keys._issuer_keyfile as issuer_keyfile
import keys._keyfile as keyfile
from keys import remote_key, remote_tokens
from tally import remote_invitations
from tally.calendar import CalendarError, load_calendar, parse_calendar
from tally.cli_day import _read_batch
from tally.core.definition import parse_definition, parse_definition_data
from tally.core.errors import TallyError
from tally.core.manifest import parse_manifest
from tally.core.marks_file import parse_marks_file
from tally.core.meeting import parse_entry
from tally.manifest_io import load_signed_manifest
from tally.session_errors import SessionError
from tests.fuzz import samples as S
from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import (
    json_values,
    mutated_bytes,
    mutated_text,
    mutated_tree,
    toml_text,
    toml_values,
)

pytestmark = pytest.mark.fuzz


def _jcs(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


# -- election definition (spec/definition.md) ----------------------------------------------------
@fuzz_settings(150)
@given(text=mutated_text(S.definition_texts()))
def test_definition_text_refuses_damage_with_a_definition_error(text: str) -> None:
    with contextlib.suppress(TallyError):
        parse_definition(text)


@fuzz_settings(150)
@given(tree=mutated_tree(S.definition_trees(), toml_values()))
def test_definition_tree_refuses_damage_with_a_definition_error(tree: Any) -> None:
    with contextlib.suppress(TallyError):
        parse_definition_data(tree)
    if isinstance(tree, dict):
        try:
            text = toml_text(tree)
        except TypeError:  # a TOML key that is not a string cannot be written
            return
        with contextlib.suppress(TallyError):
            parse_definition(text)


# -- ballot-marks file (spec/marks-file.md) ------------------------------------------------------
@fuzz_settings(100)
@given(text=mutated_text(S.marks_texts()))
def test_marks_file_text_refuses_damage_with_a_definition_error(text: str) -> None:
    with contextlib.suppress(TallyError):
        parse_marks_file(text, S.election())


@fuzz_settings(100)
@given(tree=mutated_tree(tuple(tomllib.loads(t) for t in S.marks_texts()), toml_values()))
def test_marks_file_tree_refuses_damage_with_a_definition_error(tree: Any) -> None:
    if not isinstance(tree, dict):
        return
    with contextlib.suppress(TallyError):
        parse_marks_file(toml_text(tree), S.election())


# -- batch files of `tally ballots enter --batch` ------------------------------------------------
@fuzz_settings(100)
@given(
    suffix=st.sampled_from([".csv", ".jsonl"]),
    data=mutated_bytes([b for _, b in S.batch_files()]),
)
def test_batch_file_refuses_damage_with_a_session_error(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("batch") / f"ballots{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(SessionError):
        _read_batch(path)


# -- QR payload text (spec/ballot-qr.md) --------------------------------------------------------
def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


@st.composite
def _qr_texts(draw: st.DrawFn) -> str:
    """Damaged text, or a well-encoded text of damaged payload bytes (reaches Q2-Q4)."""
    raw = [base64.b32decode(t[4:] + "=" * (-len(t[4:]) % 8)) for t in S.qr_texts()]
    prefix = draw(st.sampled_from(["BQ1:", "bq1:", "BQ2:", " BQ1:", "BQ1", ""]))
    return draw(
        st.one_of(
            mutated_text(S.qr_texts()),
            mutated_bytes(raw).map(lambda b: prefix + _b32(b)),
        )
    )


@fuzz_settings(200)
@given(text=_qr_texts())
def test_qr_text_refuses_damage_with_a_qr_format_error(text: str) -> None:
    with contextlib.suppress(ballot_printer.QrFormatError):
        ballot_printer.parse_qr_text(text)


# -- manifest and signed manifest (spec/manifest.md) ---------------------------------------------
@fuzz_settings(150)
@given(tree=mutated_tree([S.manifest_document()], json_values()))
def test_manifest_refuses_damage_with_a_definition_error(tree: Any) -> None:
    if not isinstance(tree, dict):
        return
    with contextlib.suppress(TallyError):
        parse_manifest(tree)


@st.composite
def _signed_manifests(draw: st.DrawFn) -> bytes:
    doc = json.loads(S.signed_manifest())
    return draw(
        st.one_of(
            mutated_bytes([S.signed_manifest()]),
            mutated_tree([doc], json_values()).map(_jcs),
        )
    )


@fuzz_settings(150)
@given(raw=_signed_manifests(), trust=st.booleans())
def test_signed_manifest_refuses_damage_with_a_session_error(raw: bytes, trust: bool) -> None:
    with contextlib.suppress(SessionError):
        load_signed_manifest(raw, trust_root=S.TOWN.public_key if trust else None)


# -- stored log entries (spec/log.md §1-2) ------------------------------------------------------
def _log_lines() -> list[bytes]:
    return S.bundle_files()["log.jsonl"].splitlines()


@fuzz_settings(150)
@given(
    raw=st.one_of(
        mutated_bytes(_log_lines()),
        mutated_tree([json.loads(x) for x in _log_lines()], json_values()).map(_jcs),
    )
)
def test_log_entry_refuses_damage_with_a_round_state_error(raw: bytes) -> None:
    with contextlib.suppress(TallyError):
        parse_entry(raw)


# -- key files (spec/keyfile.md) ------------------------------------------------------------------
def _key_documents() -> st.SearchStrategy[bytes]:
    docs = [json.loads(b) for b in S.key_files()]
    return st.one_of(
        mutated_bytes(S.key_files()),
        mutated_tree(docs, json_values()).map(lambda d: json.dumps(d).encode()),
    )


@fuzz_settings(150)
@given(data=_key_documents(), role=st.sampled_from([None, *keys.Role]))
def test_key_file_refuses_damage_with_a_keys_error(data: bytes, role: keys.Role | None) -> None:
    with contextlib.suppress(keys.KeysError), mock.patch.object(keyfile, "_derive", S.fast_derive):
        keys.unlock_key_file(keys.parse_key_file(data), S.PASSPHRASE, expected_role=role)


@fuzz_settings(150)
@given(data=_key_documents())
def test_public_key_file_refuses_damage_with_a_keys_error(data: bytes) -> None:
    with contextlib.suppress(keys.KeysError):
        keys.parse_public_key(data)


@fuzz_settings(100)
@given(
    data=st.one_of(
        mutated_bytes(S.issuer_key_files()),
        mutated_tree([json.loads(b) for b in S.issuer_key_files()], json_values()).map(
            lambda d: json.dumps(d).encode()
        ),
    )
)
def test_issuer_key_file_refuses_damage_with_a_keys_error(data: bytes) -> None:
    with (
        contextlib.suppress(keys.KeysError),
        mock.patch.object(issuer_keyfile, "_derive", S.fast_derive),
    ):
        issuer_keyfile.open_issuer_key(data, S.PASSPHRASE)


@fuzz_settings(100)
@given(
    data=st.one_of(
        mutated_bytes(S.share_containers()),
        mutated_tree([json.loads(b) for b in S.share_containers()], json_values()).map(_jcs),
    )
)
def test_share_container_refuses_damage_with_a_remote_error(data: bytes) -> None:
    with contextlib.suppress(keys.KeysError):
        remote_key.unwrap_share_v2(
            remote_key.parse_share_container_v2(data), S.SCRUTINEERS[0], S.share_setup().key
        )


@fuzz_settings(100)
@given(text=mutated_text(S.invitation_codes()))
def test_invitation_code_refuses_damage_with_a_malformed_code_error(text: str) -> None:
    with contextlib.suppress(remote_invitations.MalformedInvitationCodeError):
        remote_invitations.normalize_invitation_code(text)


@fuzz_settings(60)
@given(data=st.binary(max_size=600))
def test_issuer_public_key_refuses_random_der_with_a_token_signature_error(data: bytes) -> None:
    with contextlib.suppress(remote_tokens.TokenSignatureError):
        remote_tokens.load_issuer_public_key(data)


def test_samples_are_valid() -> None:
    """The fuzzers start from inputs that parse: otherwise they test only the first check."""
    parse_definition(S.definition_texts()[0])
    parse_marks_file(S.marks_texts()[0], S.election())
    for text in S.qr_texts():
        ballot_printer.parse_qr_text(text)
    parse_manifest(S.manifest_document())
    load_signed_manifest(S.signed_manifest(), trust_root=S.TOWN.public_key)
    for line in _log_lines():
        parse_entry(line)
    with mock.patch.object(keyfile, "_derive", S.fast_derive):
        keys.unlock_key_file(
            keys.parse_key_file(S.key_files()[0]), S.PASSPHRASE, expected_role=None
        )
    keys.parse_public_key(S.key_files()[1])
    with mock.patch.object(issuer_keyfile, "_derive", S.fast_derive):
        issuer_keyfile.open_issuer_key(S.issuer_key_files()[0], S.PASSPHRASE)
    remote_key.unwrap_share_v2(
        remote_key.parse_share_container_v2(S.share_containers()[0]),
        S.SCRUTINEERS[0],
        S.share_setup().key,
    )
    for code in S.invitation_codes():
        remote_invitations.normalize_invitation_code(code)
    parse_calendar(_CAL_TEXT)
    town = keys.parse_public_key((_CAL_DIR / "town.pub").read_bytes())
    load_calendar(_CAL_DIR / "valid-2027.json", town_key=town)


# -- working-day calendar files (spec/rules.md R26.3) -------------------------------------------
_CAL_DIR = S.ROOT / "spec" / "vectors" / "calendar"
_CAL_TEXT = "\n".join(
    [
        'format = "calendar/1"',
        "[years.2027]",
        'source = "测试数据"',
        'holidays = [2027-01-01, "2027-10-01"]',
        "workdays = [2027-02-20]",
        "",
    ]
)


@fuzz_settings(100)
@given(
    text=st.one_of(
        mutated_text([_CAL_TEXT]),
        mutated_tree([tomllib.loads(_CAL_TEXT)], toml_values()).map(
            lambda t: toml_text(t) if isinstance(t, dict) else ""
        ),
    )
)
def test_calendar_text_refuses_damage_with_a_calendar_error(text: str) -> None:
    with contextlib.suppress(CalendarError):
        parse_calendar(text)


@fuzz_settings(60)
@given(
    data=st.one_of(
        mutated_bytes([(_CAL_DIR / "valid-2027.json").read_bytes()]),
        mutated_tree([json.loads((_CAL_DIR / "valid-2027.json").read_bytes())], json_values()).map(
            _jcs
        ),
    )
)
def test_signed_calendar_file_refuses_damage_with_a_calendar_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("cal") / "2027.signed.json"
    path.write_bytes(data)
    town = keys.parse_public_key((_CAL_DIR / "town.pub").read_bytes())
    with contextlib.suppress(CalendarError):
        load_calendar(path, town_key=town)
