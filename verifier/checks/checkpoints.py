"""(V7) Checkpoints: ``checkpoints.json`` against the replayed log (spec/log.md §3, spec/merkle.md).

spec/bundle.md §6 V7: each checkpoint parses, names this election, has the log's root at its size,
extends the one before (M11), carries the work group's and, where due, every scrutineer's valid
signature; a checkpoint exists for each moment of the log, once.
"""

from __future__ import annotations

from typing import Any

from verifier.checks.context import Context
from verifier.crypto import verify_signature
from verifier.errors import VerificationError
from verifier.merkle import MerkleProofError, verify_consistency
from verifier.model import Checkpoint, Manifest
from verifier.parse import CHECKPOINT_DOMAIN
from verifier.parse.documents import CheckpointItem, parse_checkpoints

__all__ = ["check_checkpoints", "check_signature_lines", "load_checkpoints"]


def load_checkpoints(cx: Context) -> None:
    """(V7) Parse ``checkpoints.json``; its checkpoint sizes are moments the replay records."""
    doc = cx.doc("checkpoints.json", "V7")
    if doc is None:
        return
    try:
        items = parse_checkpoints(doc)
    except VerificationError as e:
        cx.f.error("V7", e, file="checkpoints.json")
        return
    for item in items:
        if isinstance(item, VerificationError):
            cx.f.error("V7", item, file="checkpoints.json")
            continue
        cx.checkpoints.append(item)
        cx.checkpoint_sizes.add(item.checkpoint.size)


def check_checkpoints(cx: Context, m: Manifest) -> None:
    """(V7) Every checkpoint against the log (``cx.entries``, ``cx.roots``) and the manifest's keys,
    then the checkpoints against the moments of the log (``cx.moments``)."""
    prev: Checkpoint | None = None
    for i, item in enumerate(cx.checkpoints):
        where: dict[str, Any] = {
            "file": "checkpoints.json",
            "path": f"checkpoints[{i}] ({item.checkpoint.reason})",
        }
        _check_tree(cx, m, item, prev, where)
        check_signature_lines(cx, m, item.checkpoint, where)
        prev = item.checkpoint
    _check_moments(cx)


def _check_tree(
    cx: Context, m: Manifest, item: CheckpointItem, prev: Checkpoint | None, where: dict[str, Any]
) -> None:
    """(V7) Origin line; size within the log; the log's root at that size; sizes never decrease
    and the consistency proof from the checkpoint before verifies (M11)."""
    f = cx.f
    n = cx.entries
    origin = f"branch-election/{m.election_id.hex()}"
    cp, proof = item.checkpoint, item.proof
    if cp.origin != origin:
        f.fail(
            "V7",
            "checkpoint.origin",
            "检查点来源行不符",
            "checkpoint origin line differs",
            expected=origin,
            found=cp.origin,
            **where,
        )
    if cp.size > n:
        f.fail(
            "V7",
            "checkpoint.beyond_log",
            "检查点大小超过日志条目数",
            "checkpoint size exceeds the log",
            expected=f"<= {n}",
            found=str(cp.size),
            **where,
        )
    elif cp.size == 0 or cx.roots.get(cp.size) != cp.root:
        f.fail(
            "V7",
            "checkpoint.root",
            "检查点根哈希与日志不符",
            "checkpoint root differs from the log's tree head",
            expected=cx.roots.get(cp.size, b"").hex(),
            found=cp.root.hex(),
            **where,
        )
    if prev is None:
        if proof:
            f.fail(
                "V7",
                "checkpoint.proof",
                "第一个检查点的一致性证明应为空",
                "first checkpoint has a consistency proof",
                **where,
            )
    elif cp.size < prev.size:
        f.fail(
            "V7",
            "checkpoint.size_order",
            "检查点大小减小",
            "checkpoint sizes decrease",
            expected=f">= {prev.size}",
            found=str(cp.size),
            **where,
        )
    else:
        try:
            verify_consistency(prev.size, cp.size, prev.root, cp.root, proof)
        except MerkleProofError as e:
            f.fail(
                "V7",
                "checkpoint.consistency",
                "一致性证明不成立",
                f"consistency proof fails ({e.code})",
                **where,
            )


def check_signature_lines(cx: Context, m: Manifest, cp: Checkpoint, where: dict[str, Any]) -> None:
    """(V7) Signature lines: only the manifest's keys, each valid; the work group's first, the
    scrutineers' after it in the manifest's order, none twice; every scrutineer's on
    ``round-closed`` and ``result`` checkpoints."""
    f = cx.f
    keys = {k.signer_name: k for k in (m.work_group, *m.scrutineers)}
    seen: list[str] = []
    for sig in cp.signatures:
        key = keys.get(sig.name)
        if key is None:
            f.fail(
                "V7",
                "checkpoint.unknown_signer",
                "检查点上有清单之外的签名",
                "signature line from a key outside the manifest",
                found=sig.name,
                **where,
            )
            continue
        try:
            if sig.key_id != key.key_id:
                raise VerificationError(clause="V7", code="signature.invalid", zh="", en="key id")
            verify_signature(key.key, CHECKPOINT_DOMAIN, cp.body, sig.signature)
        except VerificationError:
            f.fail(
                "V7",
                "checkpoint.signature",
                "检查点签名无效",
                "checkpoint signature invalid",
                found=sig.name,
                **where,
            )
            continue
        seen.append(sig.name)
    wg = m.work_group.signer_name
    if not cp.signatures or cp.signatures[0].name != wg or wg not in seen:
        f.fail(
            "V7",
            "checkpoint.work_group",
            "缺少工作组的有效签名（应为第一行）",
            "no valid work-group signature first",
            expected=wg,
            found=", ".join(s.name for s in cp.signatures) or "none",
            **where,
        )
    order = [wg] + [k.signer_name for k in m.scrutineers]
    names = [s.name for s in cp.signatures]
    if names != [x for x in order if x in names] or len(set(names)) != len(names):
        f.fail(
            "V7",
            "checkpoint.signature_order",
            "签名行顺序错误或重复",
            "signature lines out of order or repeated",
            found=", ".join(names),
            **where,
        )
    if cp.reason == "result" or cp.reason.startswith("round-closed"):
        for k in m.scrutineers:
            if k.signer_name not in seen:
                f.fail(
                    "V7",
                    "checkpoint.scrutineer",
                    "缺少监票人的有效签名",
                    "a scrutineer's valid signature is missing",
                    expected=k.signer_name,
                    **where,
                )


def _check_moments(cx: Context) -> None:
    """(V7) A checkpoint for each moment of spec/log.md §3, each once; none for a moment the log
    does not have."""
    f = cx.f
    have = [(item.checkpoint.reason, item.checkpoint.size) for item in cx.checkpoints]
    want = [(r, s) for r, s, _ in cx.moments]
    rules_of = {
        "remote-opened": "V18.1",
        "remote-closed": "V18.6",
        "remote-totals": "V18.23",
    }
    for r, s, seq in cx.moments:
        if (r, s) not in have:
            f.fail(
                "V7",
                "checkpoint.missing",
                "缺少规定时刻的检查点",
                "no checkpoint for a required moment",
                file="checkpoints.json",
                seq=seq,
                expected=f"{r} @ {s}",
                found="none",
                rule=rules_of.get(r, ""),
            )
    once: set[tuple[str, int]] = set()
    for i, (r, s) in enumerate(have):
        if (r, s) in once:  # (V7) each moment has one checkpoint
            f.fail(
                "V7",
                "checkpoint.repeated",
                "同一检查点出现了不止一次",
                "the same checkpoint appears more than once",
                file="checkpoints.json",
                path=f"checkpoints[{i}]",
                found=f"{r} @ {s}",
            )
            continue
        once.add((r, s))
        if (r, s) not in want:
            f.fail(
                "V7",
                "checkpoint.unexpected",
                "检查点的原因或大小与日志不符",
                "checkpoint does not match a moment of the log",
                file="checkpoints.json",
                found=f"{r} @ {s}",
            )
