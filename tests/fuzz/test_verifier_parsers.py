"""Fuzz the verifier's parse layer, one bundle member file at a time, and the audit's files.

Each parser may refuse only with a ``VerificationError`` (which the verifier reports as a finding
with its clause); the audit-record check never raises and reports findings. Anything else is a
crash. Whole bundles (several files damaged together, the checks behind the parse layer) are
fuzzed by issue 15, not here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import samples as S
from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import json_values, mutated_bytes, mutated_text, mutated_tree
from verifier.audit.marks import parse_marks_file, parse_marks_line
from verifier.audit.reconcile import identify
from verifier.audit.record import check_audit_records, load_auditor_key
from verifier.canonical import canonical_bytes, parse_canonical, parse_canonical_checked
from verifier.crypto import parse_pubkey_document
from verifier.errors import VerificationError
from verifier.lines import read_lines
from verifier.parse import (
    parse_ballot_entered,
    parse_checkpoint,
    parse_log_entry,
    parse_manifest,
    parse_signed_manifest,
)
from verifier.qr import check_qr

pytestmark = pytest.mark.fuzz

LINE_LIMIT = 1 << 20


def _canonical(value: Any) -> bytes:
    """The canonical bytes of a damaged tree (so it gets past the canonical-form check), or its
    plain JSON when the tree cannot be canonical (then that check must refuse it)."""
    try:
        return canonical_bytes(value)
    except VerificationError:
        return json.dumps(value).encode()


def _member(name: str) -> st.SearchStrategy[bytes]:
    raw = S.bundle_files()[name]
    strategies = [mutated_bytes([raw])]
    if name.endswith(".json"):
        strategies.append(mutated_tree([json.loads(raw)], json_values()).map(_canonical))
    else:
        lines = [json.loads(x) for x in raw.splitlines()]
        strategies.append(
            st.lists(
                mutated_tree(lines, json_values()).map(_canonical), min_size=1, max_size=3
            ).map(lambda xs: raw + b"\n".join(xs) + b"\n")
        )
    return st.one_of(strategies)


# -- manifest.json ---------------------------------------------------------------------------------
@fuzz_settings(150)
@given(data=_member("manifest.json"))
def test_manifest_json_refuses_damage_with_a_verification_error(data: bytes) -> None:
    with contextlib.suppress(VerificationError):
        doc = parse_canonical(data, clause="V2", path="manifest.json")
        raw_manifest, *_ = parse_signed_manifest(doc)
        parse_manifest(raw_manifest, canonical_bytes(raw_manifest))


@fuzz_settings(150)
@given(
    tree=mutated_tree([json.loads(S.bundle_files()["manifest.json"])["manifest"]], json_values())
)
def test_manifest_value_refuses_damage_with_a_verification_error(tree: Any) -> None:
    """The manifest behind a valid signature: the definition's shapes (V3)."""
    with contextlib.suppress(VerificationError):
        parse_manifest(tree, _canonical(tree))


# -- log.jsonl -----------------------------------------------------------------------------------
@fuzz_settings(150)
@given(data=_member("log.jsonl"))
def test_log_lines_refuse_damage_with_a_verification_error(data: bytes) -> None:
    for n, raw, problem in read_lines(io.BytesIO(data), LINE_LIMIT):
        if problem:
            continue
        leaf = hashlib.sha256(b"\x00" + raw).digest()
        fast = parse_ballot_entered(raw, leaf)
        try:
            value, shaped = parse_canonical_checked(
                raw, clause="V6", path=f"log.jsonl:{n}", limit=LINE_LIMIT
            )
            entry = parse_log_entry(value, raw, n, leaf_hash=leaf, shape_checked=shaped)
        except VerificationError:
            assert fast is None, "the fast path accepted a line the general path refuses"
            continue
        if fast is not None:  # the fast path must agree with the general one (ADR 0005)
            assert fast[0] == entry


# -- checkpoints.json ------------------------------------------------------------------------------
def _checkpoint_texts() -> list[str]:
    doc = json.loads(S.bundle_files()["checkpoints.json"])
    return [c["text"] for c in doc["checkpoints"]]


@fuzz_settings(150)
@given(data=_member("checkpoints.json"))
def test_checkpoints_json_refuses_damage_with_a_verification_error(data: bytes) -> None:
    with contextlib.suppress(VerificationError):
        doc = parse_canonical(data, clause="V7", path="checkpoints.json")
        if isinstance(doc, dict) and isinstance(doc.get("checkpoints"), list):
            for i, item in enumerate(doc["checkpoints"]):
                if isinstance(item, dict) and "text" in item:
                    with contextlib.suppress(VerificationError):
                        parse_checkpoint(item["text"], f"checkpoints[{i}]")


@fuzz_settings(150)
@given(text=st.one_of(mutated_text(_checkpoint_texts()), json_values()))
def test_checkpoint_note_refuses_damage_with_a_verification_error(text: Any) -> None:
    with contextlib.suppress(VerificationError):
        parse_checkpoint(text, "checkpoints[0]")


# -- the other member files: what the parse layer reads of them ----------------------------------
@fuzz_settings(40)
@given(data=st.data())
@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n in S.bundle_files()
        if n not in {"manifest.json", "log.jsonl", "checkpoints.json"}
        and n.endswith((".json", ".jsonl"))
    ),
)
def test_member_file_refuses_damage_with_a_verification_error(
    name: str, data: st.DataObject
) -> None:
    raw = data.draw(_member(name))
    if name.endswith(".jsonl"):
        for n, line, problem in read_lines(io.BytesIO(raw), LINE_LIMIT):
            if not problem:
                with contextlib.suppress(VerificationError):
                    parse_canonical(line, clause="V9", path=f"{name}:{n}", limit=LINE_LIMIT)
    else:
        with contextlib.suppress(VerificationError):
            parse_canonical(raw, clause="V1", path=name)


# -- public keys and QR texts ------------------------------------------------------------------
@fuzz_settings(150)
@given(
    data=st.one_of(
        mutated_bytes([S.key_files()[1], S.key_files()[3]]),
        mutated_tree([json.loads(S.key_files()[1])], json_values()).map(
            lambda d: json.dumps(d).encode()
        ),
    )
)
def test_public_key_document_refuses_damage_with_a_verification_error(data: bytes) -> None:
    with contextlib.suppress(VerificationError):
        parse_pubkey_document(data, path="key.pub")


@fuzz_settings(150)
@given(text=mutated_text(S.qr_texts()), kind=st.integers(1, 3), rnd=st.integers(1, 3))
def test_qr_text_refuses_damage_with_a_qr_error(text: str, kind: int, rnd: int) -> None:
    with contextlib.suppress(VerificationError):
        check_qr(
            text,
            public_key=S.WORK_GROUP.public_key.key,
            election_id=hashlib.sha256(b"fuzz election").digest(),
            kind=kind,
            round_number=rnd,
        )


# -- the audit's files (spec/audit.md) -------------------------------------------------------------
MARKS_LINES = (
    {
        "qr": S.qr_texts()[0],
        "marks": "ooxo-?",
        "write_ins": ["周玉兰", {"name": "李", "mark": "-"}],
    },
    {"ballot_id": "0" * 32, "found": False},
    {"image": "scan-1.png", "page": 2, "marks": "ox"},
)


@fuzz_settings(100)
@given(
    data=st.one_of(
        mutated_bytes(["\n".join(json.dumps(x) for x in MARKS_LINES).encode()]),
        st.lists(mutated_tree(MARKS_LINES, json_values()), max_size=3).map(
            lambda xs: "\n".join(json.dumps(x) for x in xs).encode()
        ),
    )
)
def test_audit_marks_file_refuses_damage_with_an_audit_input_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("marks") / "marks.jsonl"
    path.write_bytes(data)
    with contextlib.suppress(VerificationError):
        parse_marks_file(path)


@fuzz_settings(100)
@given(value=mutated_tree(MARKS_LINES, json_values()))
def test_audit_marks_line_refuses_damage_with_an_audit_input_error(value: Any) -> None:
    with contextlib.suppress(VerificationError):
        parse_marks_line(1, value)


AUDITOR_KEY = {
    "format": "audit-key/1",
    "algorithm": "ed25519",
    "label": "审计员甲",
    "seed": "A" * 43 + "=",
}


@fuzz_settings(100)
@given(
    data=st.one_of(
        mutated_bytes([json.dumps(AUDITOR_KEY).encode()]),
        mutated_tree([AUDITOR_KEY], json_values()).map(lambda d: json.dumps(d).encode()),
    )
)
def test_auditor_key_file_refuses_damage_with_an_audit_record_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("key") / "a.key"
    path.write_bytes(data)
    with contextlib.suppress(VerificationError):
        load_auditor_key(path)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, bytes]:
    """A small bundle, its loaded election and one signed reconciliation record."""
    return S.audit_recording(tmp_path_factory.mktemp("audit"))


@fuzz_settings(60)
@given(data=st.data())
def test_audit_record_damage_gives_findings_never_an_exception(
    recorded: tuple[Path, Any, bytes], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    bundle, election, record = recorded
    raw = data.draw(
        st.one_of(
            mutated_bytes([record]),
            mutated_tree([json.loads(record)], json_values()).map(_canonical),
        )
    )
    folder = S.write_audit_folder(tmp_path_factory.mktemp("records"), bundle.parent, raw)
    report = check_audit_records(bundle, audit_dir=folder, election=election)
    assert report.ok or report.findings


def test_samples_are_valid(recorded: tuple[Path, Any, bytes], tmp_path: Path) -> None:
    """The fuzzers start from inputs that parse: otherwise they test only the first check."""
    files = S.bundle_files()
    doc = parse_canonical(files["manifest.json"], clause="V2", path="manifest.json")
    raw_manifest, *_ = parse_signed_manifest(doc)
    parse_manifest(raw_manifest, canonical_bytes(raw_manifest))
    for n, raw, _ in read_lines(io.BytesIO(files["log.jsonl"]), LINE_LIMIT):
        value, _ = parse_canonical_checked(raw, clause="V6", path="l", limit=LINE_LIMIT)
        parse_log_entry(value, raw, n)
    for text in _checkpoint_texts():
        parse_checkpoint(text, "c")
    parse_pubkey_document(S.key_files()[1])
    for i, line in enumerate(MARKS_LINES):
        parse_marks_line(i + 1, line)
    (tmp_path / "a.key").write_text(json.dumps(AUDITOR_KEY))
    load_auditor_key(tmp_path / "a.key")
    bundle, election, record = recorded
    folder = S.write_audit_folder(tmp_path / "audit", bundle.parent, record)
    assert check_audit_records(bundle, audit_dir=folder, election=election).ok


@fuzz_settings(80)
@given(data=st.data())
def test_audit_qr_identification_classifies_damage_never_raises(
    recorded: tuple[Path, Any, bytes], data: st.DataObject
) -> None:
    """A scanned QR text in the audit (A5): valid, foreign or counterfeit, never an exception."""
    _, election, _ = recorded
    texts = [b.qr for b in election.records if b.qr][:8]
    text = data.draw(st.one_of(mutated_text(texts), st.sampled_from(texts)))
    rounds = data.draw(
        st.lists(st.tuples(st.sampled_from(["committee", "secretary"]), st.integers(0, 3)))
    )
    identify(election, text, rounds)
