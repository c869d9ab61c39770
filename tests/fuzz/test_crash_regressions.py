"""Each crash the fuzzers found (docs/FUZZING.md), as the smallest input that showed it.

Every test names the rule the parser broke: a bad input is refused with the parser's documented
error (here a SessionError with a code), never an unexpected exception and a traceback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import keys
import keys._issuer_keyfile as issuer_keyfile
from keys import remote_key
from tally.calendar import InvalidCalendarError, load_calendar, parse_calendar
from tally.cli_day import _read_batch
from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError, RoundStateError
from tally.core.manifest import parse_manifest
from tally.core.marks_file import parse_marks_file
from tally.core.meeting import parse_entry
from tally.manifest_io import load_signed_manifest
from tally.session_errors import SessionError
from tests.fuzz import samples as S
from tests.fuzz.service import Service, running_service
from verifier.audit.errors import AuditInputError, AuditRecordError
from verifier.audit.marks import parse_marks_file as parse_marks_file_audit
from verifier.audit.record import check_audit_records, load_auditor_key
from verifier.canonical import canonical_bytes, parse_canonical_checked
from verifier.errors import CheckpointFormatError, DocumentFormatError
from verifier.parse import parse_checkpoint, parse_log_entry

ROOT = Path(__file__).resolve().parents[2]


# -- tally ballots enter --batch ----------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_batch_file_that_is_not_utf8_is_refused_with_a_session_error(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"b{suffix}"
    path.write_bytes(b"\x80")  # found by test_batch_file_refuses_damage_with_a_session_error
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.encoding"


def test_batch_csv_field_over_the_csv_limit_is_refused_with_a_session_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.csv"
    path.write_text("," + "o" * 131073 + "\n", encoding="utf-8")
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.row"


def test_batch_jsonl_line_nested_too_deep_is_refused_with_a_session_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.row"


# -- TOML files nested deeper than Python recurses ------------------------------------------------
DEEP_TOML = "a = " + "[" * 5000


def test_definition_nested_too_deep_is_refused_with_a_definition_error() -> None:
    with pytest.raises(DefinitionError) as e:
        parse_definition(DEEP_TOML)
    assert [p.code for p in e.value.problems] == ["toml.malformed"]


def test_marks_file_nested_too_deep_is_refused_with_a_definition_error() -> None:
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    with pytest.raises(DefinitionError) as e:
        parse_marks_file(DEEP_TOML, election)
    assert [p.code for p in e.value.problems] == ["toml.malformed"]


def test_calendar_nested_too_deep_is_refused_with_an_invalid_calendar_error() -> None:
    with pytest.raises(InvalidCalendarError):
        parse_calendar(DEEP_TOML)


# -- stored log entries (tally.core.meeting.parse_entry, spec/log.md §1) ---------------------------
def _entry(**fields: str) -> bytes:
    doc = {
        "actor": '""',
        "at": '"2026-09-29T09:00:00+08:00"',
        "body": "{}",
        "format": '"log-entry/1"',
        "prev": '""',
        "salt": '"' + "5a" * 32 + '"',
        "seq": "0",
        "type": '"election.opened"',
    } | fields
    return ("{" + ",".join(f'"{k}":{v}' for k, v in sorted(doc.items())) + "}").encode()


def test_stored_entry_whose_type_is_not_text_is_refused_as_malformed() -> None:
    with pytest.raises(RoundStateError) as e:
        parse_entry(_entry(type="[]"))
    assert e.value.code == "log.malformed"


@pytest.mark.parametrize(
    "fields",
    [{"seq": "1e999"}, {"seq": "9007199254740993"}, {"actor": '"\\udc80"'}],
    ids=["infinite-float", "integer-beyond-2**53", "lone-surrogate"],
)
def test_stored_entry_that_cannot_be_canonical_is_refused_as_not_canonical(
    fields: dict[str, str],
) -> None:
    with pytest.raises(RoundStateError) as e:
        parse_entry(_entry(**fields))
    assert e.value.code == "log.not_canonical"


def test_stored_entry_nested_too_deep_is_refused_as_malformed() -> None:
    with pytest.raises(RoundStateError) as e:
        parse_entry(b"[" * 100_000)
    assert e.value.code == "log.malformed"


# -- the verifier's parse layer ---------------------------------------------------------------------
def test_verifier_log_entry_whose_type_is_not_text_is_a_V6_finding() -> None:
    raw = _entry(prev='"' + "0" * 64 + '"', type="[]")
    value, shaped = parse_canonical_checked(raw, clause="V6", path="log.jsonl:1")
    with pytest.raises(DocumentFormatError) as e:
        parse_log_entry(value, raw, 1, shape_checked=shaped)
    assert (e.value.clause, e.value.code) == ("V6", "entry.type")


def test_verifier_checkpoint_note_with_a_lone_surrogate_is_a_checkpoint_format_error() -> None:
    root, sig = base64.b64encode(bytes(32)).decode(), base64.b64encode(bytes(68)).decode()
    text = f"\udc80\n1\n{root}\nresult\n\n\u2014 work_group:0123456789abcdef {sig}\n"
    with pytest.raises(CheckpointFormatError):
        parse_checkpoint(text, "checkpoints[0]")


# -- signed documents holding an integer that has no canonical (RFC 8785) form ---------------------
BEYOND_JCS = 2**60


def test_signed_manifest_with_an_integer_beyond_2_53_in_its_town_key_is_refused() -> None:
    doc = json.loads(S.signed_manifest())
    doc["town_key"]["extra"] = BEYOND_JCS
    with pytest.raises(SessionError) as e:
        load_signed_manifest(json.dumps(doc).encode())
    assert e.value.code == "manifest.town_key"


def test_signed_manifest_with_an_integer_beyond_2_53_in_its_manifest_is_refused() -> None:
    doc = json.loads(S.signed_manifest())
    doc["manifest"]["extra"] = BEYOND_JCS
    with pytest.raises(SessionError) as e:
        load_signed_manifest(json.dumps(doc).encode())
    assert e.value.code == "manifest.format"


def test_signed_calendar_with_an_integer_beyond_2_53_in_its_town_key_is_refused(
    tmp_path: Path,
) -> None:
    folder = ROOT / "spec" / "vectors" / "calendar"
    doc = json.loads((folder / "valid-2027.json").read_bytes())
    doc["town_key"]["extra"] = BEYOND_JCS
    path = tmp_path / "2027.signed.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    town = keys.parse_public_key((folder / "town.pub").read_bytes())
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path, town_key=town)
    assert e.value.code == "calendar.bad_key"


# -- HTTP -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(Path(tmp_path_factory.mktemp("svc"))) as svc:
        yield svc


@pytest.mark.parametrize("path", ["/api/remote/redeem", "/api/remote/cast"])
@pytest.mark.parametrize("body", [b"\xff", b'{"code": "\xff"}'], ids=["bare", "in-a-string"])
def test_json_body_in_invalid_utf8_is_refused_with_a_code_and_stores_nothing(
    service: Service, path: str, body: bytes
) -> None:
    before = service.snapshot()
    r = service.client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "request.malformed"
    assert r.json()["message"] == "请求格式不正确"
    assert service.snapshot() == before


def test_unknown_api_path_is_refused_with_a_code_in_the_chosen_language(service: Service) -> None:
    r = service.client.get("/api/no-such-thing?lang=en")
    assert r.status_code == 404
    assert (r.json()["code"], r.json()["message"]) == ("http.404", "not found")


@pytest.mark.parametrize("path", ["/station/api/live", "/station/api/scan?qr=x"])
def test_station_json_endpoint_without_a_session_says_why_in_the_chosen_language(
    service: Service, path: str
) -> None:
    r = service.client.get(path)  # found by test_station_page_never_fails_and_changes_nothing
    assert r.status_code == 401
    assert (r.json()["code"], r.json()["message"]) == ("signin.needed", "请先登录")
    r = service.client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert r.json()["message"] == "sign in first"


# -- found by make fuzz (the random run): key documents, the issuer key file, the audit's files -----
DEEP_JSON = b"[" * 100_000


def test_key_file_nested_too_deep_is_refused_as_corrupt() -> None:
    with pytest.raises(keys.CorruptKeyFileError):
        keys.parse_key_file(DEEP_JSON)


def test_public_key_file_nested_too_deep_is_refused_as_invalid() -> None:
    with pytest.raises(keys.InvalidPublicKeyError):
        keys.parse_public_key(DEEP_JSON)


def test_share_container_nested_too_deep_is_refused_as_a_share_container_error() -> None:
    with pytest.raises(remote_key.ShareContainerError):
        remote_key.parse_share_container_v2(DEEP_JSON)


def test_issuer_key_file_whose_ciphertext_is_shorter_than_its_tag_is_refused_as_corrupt() -> None:
    doc = json.loads(S.issuer_key_files()[0])
    doc["ciphertext"] = base64.b64encode(b"\x01" * 6).decode()
    with (
        mock.patch.object(issuer_keyfile, "_derive", S.fast_derive),
        pytest.raises(keys.CorruptKeyFileError),
    ):
        issuer_keyfile.open_issuer_key(json.dumps(doc).encode(), S.PASSPHRASE)


def test_auditor_key_nested_too_deep_is_an_audit_record_error(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    path.write_bytes(DEEP_JSON)
    with pytest.raises(AuditRecordError):
        load_auditor_key(path)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, bytes]:
    return S.audit_recording(tmp_path_factory.mktemp("audit"))


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["signed"]["inputs"]["papers"][1].__setitem__("qr", [None]),
        lambda d: d["signed"]["inputs"]["papers"][0]["write_ins"].append(
            {"name": ["x"], "member": "", "mark": "o"}
        ),
    ],
    ids=["qr-a-list", "write-in-name-a-list"],
)
def test_audit_record_whose_inputs_have_the_wrong_type_is_an_A12_finding(
    recorded: tuple[Path, Any, bytes], tmp_path: Path, edit: Any
) -> None:
    bundle, election, record = recorded
    doc = json.loads(record)
    edit(doc)
    folder = S.write_audit_folder(tmp_path / "audit", bundle.parent, canonical_bytes(doc))
    report = check_audit_records(bundle, audit_dir=folder, election=election)
    assert "audit.inputs_invalid" in {f.code for f in report.findings}


def test_manifest_with_an_integer_beyond_2_53_is_a_definition_error() -> None:
    doc = dict(S.manifest_document())
    doc["definition"] = {**doc["definition"], "preset": BEYOND_JCS}
    with pytest.raises(DefinitionError) as e:
        parse_manifest(doc)
    assert [p.code for p in e.value.problems] == ["manifest.format"]


def test_audit_marks_file_nested_too_deep_is_an_audit_input_error(tmp_path: Path) -> None:
    path = tmp_path / "marks.jsonl"
    path.write_bytes(DEEP_JSON)
    with pytest.raises(AuditInputError):
        parse_marks_file_audit(path)
