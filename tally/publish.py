"""Publish the result bundle (spec/bundle.md) and the publicity notice.

The bundle is written to a temporary folder beside the target and renamed into place, so a failed
publish leaves nothing half-written; the zip holds the same files.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally.calendar import WorkingDayCalendar, load_calendar
from tally.core.manifest import canonical
from tally.core.meeting import Entry, parse_entry
from tally.election import ElectionSession, SessionError

__all__ = ["Published", "bundle_files", "publish"]

BUNDLE_FORMAT = "bundle-index/1"


@dataclass(frozen=True, slots=True)
class Published:
    folder: Path
    zip_path: Path
    notice: Path | None
    final_checkpoint: str
    root_hex: str


def _jsonl(docs: Iterator[bytes]) -> bytes:
    return b"".join(d + b"\n" for d in docs)


def _counted_ballots(entries: list[Entry]) -> list[Entry]:
    """``ballot.entered`` entries not withdrawn (a withdrawal removes its round's last entry)."""
    per_round: dict[tuple[str, int], list[Entry]] = {}
    for e in entries:
        if e.type == "ballot.entered":
            per_round.setdefault((e.body["post"], e.body["round"]), []).append(e)
        elif e.type == "ballot.withdrawn":
            per_round[(e.body["post"], e.body["round"])].pop()
    return sorted((e for lst in per_round.values() for e in lst), key=lambda e: e.seq)


def bundle_files(session: ElectionSession, calendar: WorkingDayCalendar) -> dict[str, bytes]:
    """Every file of the bundle by its path (spec/bundle.md §1).

    Raises:
        SessionError: no result recorded yet, or scrutineer co-signatures missing.
    """
    store = session.store
    entries = [parse_entry(raw) for _, raw in store.log_rows()]
    if not entries or entries[-1].type != "election.result":
        raise SessionError(
            "publish.no_result",
            zh="尚未宣布选举结果（tally result），不能发布",
            en="no result recorded yet (tally result); nothing to publish",
        )
    missing = session.missing_cosignatures()
    if missing:
        raise SessionError(
            "publish.cosign_missing",
            zh="以下检查点尚缺监票人签名（tally cosign）：" + "；".join(missing),
            en="scrutineer signatures missing (tally cosign): " + "; ".join(missing),
        )
    files: dict[str, bytes] = {}
    files["manifest.json"] = store.signed_manifest
    files["log.jsonl"] = _jsonl(e.raw for e in entries)
    tree = session.tree
    cps: list[dict[str, Any]] = []
    prev = 0
    checkpoints = store.checkpoints()
    for cp in checkpoints:
        proof = tree.consistency_proof(prev, cp.size) if 0 < prev < cp.size else ()
        cps.append({"text": cp.text, "consistency": [base64.b64encode(h).decode() for h in proof]})
        prev = cp.size
    files["checkpoints.json"] = canonical({"format": "checkpoints/1", "checkpoints": cps})
    for s in store.stocks():
        files[f"stocks/{s.post}-{s.round}.json"] = s.list_json
    files["ballots.jsonl"] = _jsonl(
        canonical({"format": "ballot-record/1", "seq": e.seq, **e.body})
        for e in _counted_ballots(entries)
    )
    files["outcomes.json"] = canonical(
        {
            "format": "outcomes/1",
            "rounds": [
                {"type": e.type, **e.body}
                for e in entries
                if e.type in ("round.counted", "round.void")
            ],
        }
    )
    result = entries[-1].body
    election = session.manifest.election
    end = dt.date.fromisoformat(result["publicity_end"])
    holidays, workdays = calendar.extract(dt.date(election.election_date.year, 1, 1), end)
    last = checkpoints[-1]
    files["result.json"] = canonical(
        {
            "format": "result/1",
            "election_id": session.manifest.election_id.hex(),
            "elected": result["elected"],
            "publicity_start": result["publicity_start"],
            "publicity_end": result["publicity_end"],
            "working_days": election.parameters.publicity_working_days,
            "calendar": {
                "holidays": [d.isoformat() for d in holidays],
                "workdays": [d.isoformat() for d in workdays],
            },
            "remote_ballots": sum(1 for e in entries if e.type == "remote.decrypted"),
            "checkpoint": last.text,
        }
    )
    files["index.json"] = canonical(
        {
            "format": BUNDLE_FORMAT,
            "election_id": session.manifest.election_id.hex(),
            "entries": len(entries),
            "files": [
                {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                for p, b in sorted(files.items())
            ],
        }
    )
    return files


def publish(
    session: ElectionSession,
    out_dir: Path,
    *,
    calendar_file: Path | None = None,
    notice: bool = True,
) -> Published:
    """Write ``OUT/bundle/``, ``OUT/bundle.zip`` and ``OUT/notice.pdf``; refuses to overwrite.

    Raises:
        SessionError: nothing to publish yet, the target exists, or a calendar problem.
    """
    from tally.calendar import CalendarError  # noqa: PLC0415

    folder = out_dir / "bundle"
    zip_path = out_dir / "bundle.zip"
    if folder.exists() or zip_path.exists():
        raise SessionError(
            "publish.exists",
            zh=f"{out_dir} 中已有发布结果（不会覆盖）",
            en=f"{out_dir} already holds a bundle (never overwritten)",
        )
    try:
        calendar = load_calendar(calendar_file)
        files = bundle_files(session, calendar)
    except CalendarError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en) from e
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bundle-", dir=out_dir))
    try:
        for rel, data in files.items():
            target = tmp / "bundle" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        with zipfile.ZipFile(tmp / "bundle.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
            for rel, data in sorted(files.items()):
                info = zipfile.ZipInfo(rel, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        notice_path = None
        if notice:
            notice_path = _render_notice(session, tmp / "notice.pdf", files)
        for name in ("bundle", "bundle.zip", "notice.pdf"):
            if (tmp / name).exists():
                if name != "bundle":
                    (tmp / name).chmod(0o644)  # published documents, not secrets
                os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    last = json.loads(files["result.json"])["checkpoint"]
    root_b64 = last.split("\n")[2]
    return Published(
        folder=folder,
        zip_path=zip_path,
        notice=(out_dir / "notice.pdf") if notice_path else None,
        final_checkpoint=last,
        root_hex=base64.b64decode(root_b64).hex(),
    )


def _render_notice(session: ElectionSession, path: Path, files: dict[str, bytes]) -> Path:
    from tally.notice import notice_for  # noqa: PLC0415

    return notice_for(session, files, path)
