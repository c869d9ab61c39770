"""``verify_bundle``: the clauses V1-V19 of spec/bundle.md §6, in order.

Every clause that can run does, and each failure is recorded rather than raised; a clause whose
inputs failed an earlier clause is reported as not checked. The document checks live in one module
per group of clauses (``index`` V1, ``manifest`` V2, V3, V19, ``definition`` V4, V5,
``checkpoints`` V7, ``result`` V15, V16, V18.12, ``publicity`` V17); the replay of the log (V6,
V8-V15, V18) is one streaming pass.
"""

from __future__ import annotations

import os
from pathlib import Path

from verifier.bundle import open_bundle
from verifier.checks.checkpoints import check_checkpoints, load_checkpoints
from verifier.checks.common import ProgressFn, TownKey
from verifier.checks.context import Context
from verifier.checks.definition import check_definition
from verifier.checks.findings import after
from verifier.checks.held import HeldCheckpoint, check_held, load_held
from verifier.checks.index import (
    check_index,
    check_index_election,
    check_index_entries,
    settle_hashes,
)
from verifier.checks.manifest import check_manifest, check_public_summary, check_town_signature
from verifier.checks.publicity import check_publicity
from verifier.checks.replay import Replay
from verifier.checks.result import (
    check_final_checkpoint,
    check_outcomes,
    check_remote_ballots,
    check_result,
    load_result,
)
from verifier.report import CLAUSES, Report
from verifier.summary import check_code

__all__ = ["verify_bundle"]


def verify_bundle(
    path: Path,
    town: TownKey,
    *,
    jobs: int | None = None,
    progress: ProgressFn | None = None,
    held: tuple[HeldCheckpoint, ...] = (),
) -> Report:
    """Verify a bundle against the town committee's key: every clause V1-V19.

    Args:
        path: the bundle folder or ``.zip``.
        town: the trust root.
        jobs: processes for QR signature checks (default: CPU count).
        progress: called with the number of log bytes consumed, for a progress bar.
        held: checkpoints kept outside the bundle (the board's, a receipt's), checked under V7.

    Raises:
        BundleOpenError: the bundle cannot be read at all (missing, not a folder or zip, no index).

    Returns:
        The report; ``report.ok`` only if every clause holds.
    """
    bundle, problems = open_bundle(path)
    cx = Context(bundle, town, jobs or os.cpu_count() or 1, progress)
    f = cx.f
    # (V1) The folder or zip opens safely; if not, nothing in it is read.
    for p in problems:
        f.fail("V1", p.code, p.zh, p.en, file=p.path)
    if any(p.fatal for p in problems):
        f.skip(CLAUSES[1:], "结果包不安全，未读取", "unsafe bundle, not read")
        return Report(bundle=str(path), clauses=f.results())
    # (V1) index.json, the layout, each file's size and SHA-256 (the two streamed by the replay
    # are hashed as it reads them).
    check_index(cx)
    # (V2) Town signature, then (V3) Manifest; without both, nothing else can be checked.
    signed = check_town_signature(cx)
    m = check_manifest(cx, signed) if signed is not None else None
    if signed is None or m is None:
        settle_hashes(cx)
        failed = "V2" if f.failed("V2") else "V3"
        f.skip(after(failed), f"{failed} 未通过", f"{failed} failed")
        return Report(bundle=str(path), clauses=f.results())
    # (V19) Public summary; (V1) the index names the manifest's election.
    check_public_summary(cx, signed, m)
    del signed  # the manifest as JSON and as JCS bytes: megabytes the replay does not need
    check_index_election(cx, m.election_id.hex())
    # (V4) Expected electors, (V5) Candidate rules (and the roster's names, V3).
    check_definition(cx, m.definition)
    # (V7) Checkpoints are parsed first: the replay records the log's root at each of their sizes.
    load_checkpoints(cx)
    load_held(cx, held)  # and those held outside the bundle, at their sizes too
    # (V6, V8-V15, V18) Log entries, stocks, ballot records, attendance, rounds, count,
    # decisions, the result entry and the remote ballots: one streaming replay of the log.
    Replay(cx, m).run()
    # (V1) The streamed files' hashes, and the index's entry count.
    settle_hashes(cx)
    check_index_entries(cx)
    if not cx.structure_ok:  # (V6) failed: what the replay found after it is not trusted
        for c in after("V7"):
            f.clear(c)
        f.skip(after("V7"), "日志条目未通过 V6", "log entries failed V6")
    # (V7) Checkpoints, against the log as replayed to its end.
    if cx.replay_stopped:
        f.skip(("V7",), "日志未完整重放", "the log was not replayed to its end")
    else:
        check_checkpoints(cx, m)
        check_held(cx, m)  # (V7) the bundle's log is the history signed and published then
    if cx.structure_ok:
        # (V15) Result: outcomes.json and result.json agree with the log.
        check_outcomes(cx)
        res = load_result(cx)
        if res is None:
            f.skip(["V16", "V17", "V18"], "result.json 无法读取", "result.json unreadable")
        else:
            check_result(cx, m, res)
            check_final_checkpoint(cx, res)  # (V16) Final checkpoint
            check_remote_ballots(cx, res)  # (V18.12) remote ballots
            check_publicity(cx, m, res)  # (V17) Publicity
    rm = cx.remote
    return Report(
        bundle=str(path),
        clauses=f.results(),
        entries=cx.entries,
        ballots=cx.ballots + (rm.remote_ballots if rm is not None else 0),
        remote_ballots=rm.remote_ballots if rm is not None else 0,
        remote_opened=rm is not None and rm.opened_seq is not None,
        remote_credentials=rm.credential_entries if rm is not None else 0,
        remote_casts=len(rm.casts) if rm is not None else 0,
        election_id=m.election_id.hex(),
        elected=tuple((p, tuple(ids)) for p, ids in cx.elected.items()),
        rounds=tuple(cx.rounds),
        elected_persons=tuple(cx.elected_persons),
        names=tuple((x.id, x.name) for x in m.definition.members),
        warnings=tuple(f.warnings),
        held_checkpoints=len(cx.held),
        check_code=(
            check_code(cx.summary_hash, rm.opened_leaf)
            if rm is not None and rm.opened_leaf and cx.summary_hash
            else ""
        ),
    )
