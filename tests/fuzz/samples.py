"""Valid samples of every file the programs read, built once per test process: the fuzzers
damage these (tests/fuzz/mutations.py)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import ballot_printer
import keys
import keys._issuer_keyfile as issuer_keyfile
import keys._keyfile as keyfile
from keys import blind_rsa
from keys.remote_key import RemoteKeySetupV2, create_remote_key_v2
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import Election
from tally.manifest_io import sign_manifest
from tally.remote_invitations import generate_invitation_code

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "fuzzing passphrase 2026"

TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "红旗镇党委", b"\x11" * 32)
WORK_GROUP = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", b"\x12" * 32)
SCRUTINEERS = tuple(
    keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, f"监票人{i}", bytes([0x20 + i]) * 32)
    for i in (1, 2)
)


def pubdoc(signer: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(signer.public_key))
    return doc


@functools.cache
def definition_texts() -> tuple[str, ...]:
    return tuple(
        (ROOT / "examples" / name).read_text(encoding="utf-8")
        for name in ("qingshan.toml", "shiqiao.toml")
    )


@functools.cache
def definition_trees() -> tuple[dict[str, Any], ...]:
    return tuple(tomllib.loads(t) for t in definition_texts())


@functools.cache
def election() -> Election:
    return parse_definition(definition_texts()[0])


@functools.cache
def marks_texts() -> tuple[str, ...]:
    spec = (ROOT / "spec" / "marks-file.md").read_text(encoding="utf-8")
    section = spec[spec.index("## 7. Example") :]
    found = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return (found.group(1), (ROOT / "examples" / "qingshan.ballots.toml").read_text("utf-8"))


@functools.cache
def batch_files() -> tuple[tuple[str, bytes], ...]:
    """(suffix, bytes) of the batch files ``tally ballots enter --batch`` reads."""
    return tuple(
        (Path(name).suffix, (ROOT / "examples" / name).read_bytes())
        for name in ("qingshan.committee.csv", "qingshan.secretary.jsonl")
    )


@functools.cache
def manifest_document() -> dict[str, Any]:
    manifest = build_manifest(
        election(),
        work_group_key=pubdoc(WORK_GROUP),
        scrutineer_keys=tuple(pubdoc(s) for s in SCRUTINEERS),
    )
    return dict(manifest.document)


@functools.cache
def signed_manifest() -> bytes:
    from tally.core.manifest import parse_manifest  # noqa: PLC0415

    return sign_manifest(parse_manifest(manifest_document()), TOWN)


@functools.cache
def qr_texts() -> tuple[str, ...]:
    eid = hashlib.sha256(b"fuzz election").digest()
    texts: list[str] = []
    for kind, rnd in ((ballot_printer.PaperKind.COMMITTEE, 1), (ballot_printer.PaperKind(2), 3)):
        stock = ballot_printer.make_stock(
            election_id=eid, kind=kind, round_number=rnd, count=2, signer=WORK_GROUP
        )
        texts += [ballot_printer.encode_qr_text(p) for p in stock.payloads]
    return tuple(texts)


def fast_derive(passphrase: str, salt: bytes, limits: keys.KdfLimits) -> tuple[bytes, bytes]:
    """A stand-in for Argon2id while fuzzing: the parsers are under test, not the KDF (whose
    cost a mutated header could raise to 1 GiB per example)."""
    del limits
    digest = hashlib.sha512(passphrase.encode("utf-8", "surrogatepass") + salt).digest()
    return digest[:32], digest[32:64]


@functools.cache
def key_files() -> tuple[bytes, ...]:
    """keyfile/1 files of two roles (sealed with ``fast_derive``), and public-key files."""
    out = []
    for role, label in ((keys.Role.SCRUTINEER, "监票人甲"), (keys.Role.WORK_GROUP, "工作组")):
        with mock.patch.object(keyfile, "_derive", fast_derive):
            data, public = keys.generate_keypair(
                role, label, passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS
            )
        out += [data, keys.export_public_key(public)]
    return tuple(out)


@functools.cache
def issuer_key_files() -> tuple[bytes, ...]:
    """issuer-keyfile/1, sealed with ``fast_derive`` (open it with the same stand-in)."""
    private = blind_rsa.generate_issuer_key(2048)
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with mock.patch.object(issuer_keyfile, "_derive", fast_derive):
        return (
            issuer_keyfile.seal_issuer_key(
                der, blind_rsa.public_key_to_der(private.public_key()), PASSPHRASE
            ),
        )


@functools.cache
def share_setup() -> RemoteKeySetupV2:
    return create_remote_key_v2(
        hashlib.sha256(b"fuzz election").digest(), [s.public_key for s in SCRUTINEERS], 2
    )


def share_containers() -> tuple[bytes, ...]:
    """``remote-share/2`` containers (spec/remote-v2.md RV-5.2)."""
    return share_setup().containers


@functools.cache
def invitation_codes() -> tuple[str, ...]:
    return tuple(generate_invitation_code() for _ in range(3))


@functools.cache
def bundle_files() -> dict[str, bytes]:
    """Every member file of a valid scripted bundle (the verifier's test builder)."""
    from tests.unit.verifier import builder  # noqa: PLC0415

    return builder.build()


def audit_recording(tmp: Path) -> tuple[Path, Any, bytes]:
    """A small bundle in ``tmp``, its loaded election and one signed reconciliation record."""
    from tests.unit.audit import fixtures as F  # noqa: PLC0415
    from verifier.audit.election import load_election  # noqa: PLC0415
    from verifier.audit.reconcile import Paper, reconcile  # noqa: PLC0415
    from verifier.audit.record import (  # noqa: PLC0415
        new_auditor_key,
        reconciliation_record,
        write_record,
    )

    bundle = F.small_bundle(tmp)
    election = load_election(bundle, F.TOWN)
    papers = [Paper(f"seq {b.seq}", b.qr, b.marks, b.write_ins) for b in election.records]
    key = new_auditor_key("审计员甲", tmp / "a.key")
    signed = reconciliation_record(election, papers, reconcile(election, papers), date="2026-10-08")
    path, _ = write_record(tmp / "audit", signed, [key])
    F.appoint(tmp / "audit", election.election_id, key)  # the town's appointment (spec A14)
    return bundle, election, path.read_bytes()


def write_audit_folder(folder: Path, recording: Path, record: bytes) -> Path:
    """``folder`` with the town's appointment of ``recording``'s bundle and ``record`` as 1.json."""
    folder.mkdir(parents=True, exist_ok=True)
    appointment = recording / "audit" / "appointment.json"
    (folder / "appointment.json").write_bytes(appointment.read_bytes())
    (folder / "1.json").write_bytes(record)
    return folder
