"""Tampering with a published procedure bundle as a holder of the work group's key could
(spec/procedure.md RP-12.1; for the verifier's tests, ``verifier procedure``)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import keys
from tally.core.manifest import canonical
from tally.log.checkpoint import note_body, signature_line
from tally.log.merkle import consistency_proof, leaf_hash, mth
from tally.log_file import BundleFile, bundle_index
from tally.procedure_store import ProcedureStore
from tally.procedure_town import approve, record_signed
from tests.helpers.procedure import SCRUTINEERS, TOWN, WORK_GROUP
from tests.helpers.procedure_town import VettedBranch
from verifier.cli import app
from verifier.crypto import fingerprint

__all__ = [
    "TOWN_FP",
    "Files",
    "approved_files",
    "codes",
    "reseal",
    "rows",
    "tampered",
    "verify",
    "write",
]

DOMAIN = b"branch-election/procedure-checkpoint/1"
Files = dict[str, bytes]
TOWN_FP = fingerprint(TOWN.public_key.key)
_RUNNER = CliRunner()


def approved_files(branch: VettedBranch, reference: str) -> Files:
    """The bundle of a vetted ``branch`` once the town approved its lists under ``reference``,
    every count co-signed by the scrutineers (the branch's store is closed)."""
    raw = json.dumps(approve(branch.store, reference=reference, town=TOWN)).encode()
    record_signed(
        branch.store,
        raw,
        work_group=WORK_GROUP,
        at=branch.now(),
        actor="组长",
        random=branch.random,
    )
    for s in SCRUTINEERS:
        branch.store.cosign(s)
    files = {f.path: f.data for f in branch.store.bundle_files()}
    branch.store.close()
    return files


def write(folder: Path, files: Files) -> Path:
    """The bundle's files written under ``folder``."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def verify(folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """``verifier procedure FOLDER --town-key <the test town> --json``: its exit code and report."""
    r = _RUNNER.invoke(app, ["procedure", str(folder), "--town-key", TOWN_FP, "--json", *extra])
    return r.exit_code, json.loads(r.stdout)


def codes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """The report's findings as (clause, code)."""
    return {(f["clause"], f["code"]) for f in doc["findings"]}


def tampered(
    tmp_path: Path, published: Files, edit: Callable[[list[dict[str, Any]]], None]
) -> dict[str, Any]:
    """The report on ``published`` after ``edit`` of its log, re-sealed with the work group's
    key (the verifier must fail it)."""
    entries = rows(published)
    edit(entries)
    code, doc = verify(write(tmp_path, reseal(published, entries, WORK_GROUP)))
    assert code == 1, doc
    return doc


def rows(files: Files) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["log.jsonl"].splitlines()]


def reseal(files: Files, entries: list[dict[str, Any]], work_group: keys.Signer) -> Files:
    """What a tamperer holding the work group's key can do after editing ``entries``: re-chain the
    log, re-sign every checkpoint at its size with its reason (scrutineers' lines dropped),
    rebuild ``ballots.jsonl`` and the index."""
    pid = rows(files)[0]["body"]["procedure_id"]
    prev = pid
    raws = []
    for seq, doc in enumerate(entries):
        raw = canonical({**doc, "seq": seq, "prev": prev})
        raws.append(raw)
        prev = hashlib.sha256(b"\x00" + raw).hexdigest()
    leaves = [leaf_hash(r) for r in raws]
    items, last = [], 0
    for item in json.loads(files["checkpoints.json"])["checkpoints"]:
        origin, size, _root, reason = item["text"].split("\n")[:4]
        n = min(int(size), len(raws))
        body = note_body(origin, n, mth(leaves[:n]), reason)
        proof = consistency_proof(last, leaves[:n]) if 0 < last < n else ()
        items.append(
            {
                "text": body + "\n" + signature_line(work_group, body, domain=DOMAIN)[1],
                "consistency": [base64.b64encode(h).decode() for h in proof],
            }
        )
        last = n
    out = dict(files)
    out["log.jsonl"] = b"".join(r + b"\n" for r in raws)
    out["checkpoints.json"] = canonical({"format": "checkpoints/1", "checkpoints": items})
    out["ballots.jsonl"] = ProcedureStore._ballot_records(raws)
    members = [BundleFile(k, v) for k, v in out.items() if k != "index.json"]
    out["index.json"] = bundle_index(
        "procedure-bundle-index/1", "procedure_id", pid, len(raws), members
    ).data
    return out
