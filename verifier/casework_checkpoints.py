"""(V31) The casework log's checkpoints (spec/procedure.md RP-11.4; spec/log.md §3 as V7).

``checkpoints.json`` is a ``checkpoints/1`` (spec/bundle.md §1): each item a signed note and the
consistency proof from the item before. A casework note has the origin
``branch-casework/<casework id>``, a reason ``opened``, ``day <YYYY-MM-DD>`` or
``appointment <branch_code>``, and one signature line by the casework key over
``"branch-election/casework-checkpoint/1" || 0x00 || body``. The verifier recomputes every root
from the log's own lines and checks the signature, the order and the proofs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from typing import Any, Final

from verifier.casework_log import CaseworkDefinition
from verifier.crypto import PublicKey, b64decode_canonical, verify_signature
from verifier.errors import VerificationError
from verifier.merkle import MerkleProofError, stream_roots, verify_consistency

__all__ = ["CHECKPOINT_DOMAIN", "check_checkpoints"]

CHECKPOINT_DOMAIN: Final = b"branch-election/casework-checkpoint/1"
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_REASON: Final = re.compile(r"opened|day (\d{4}-\d{2}-\d{2})|appointment ([A-Za-z0-9._-]{1,32})")
_MAX_ITEMS: Final = 100_000


def _note(text: object) -> tuple[str, int, bytes, str, bytes, list[str]] | str:
    """(origin, size, root, reason, body bytes, signature lines), or why it is no note."""
    if not isinstance(text, str) or "\n\n" not in text:
        return "not a signed note"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "not UTF-8 text"
    head, _, sigs = text.partition("\n\n")
    lines = head.split("\n")
    if len(lines) != 4 or _DECIMAL.fullmatch(lines[1]) is None:
        return "the body is not origin, size, root and reason"
    root = b64decode_canonical(lines[2], 32)
    if root is None:
        return "the root is not base64 of 32 bytes"
    if not sigs.endswith("\n"):
        return "the signature lines do not end in a line feed"
    body = (head + "\n").encode()
    return lines[0], int(lines[1]), root, lines[3], body, sigs[:-1].split("\n")


def check_checkpoints(
    f: Any,
    doc: object,
    d: CaseworkDefinition,
    key: PublicKey,
    leaves: Sequence[bytes],
) -> list[tuple[int, str]]:
    """(V31, RP-11.4) Every checkpoint: origin, size within the log, the recomputed root, the
    casework key's signature, the reasons in order and the consistency proofs.

    Returns:
        (size, root as 64 hex) of each checkpoint that holds: its origin, signature and root.
    """
    where = {"file": "checkpoints.json", "rule": "RP-11.4"}
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "checkpoints"}
        or doc["format"] != "checkpoints/1"
        or not isinstance(doc["checkpoints"], list)
        or not 1 <= len(doc["checkpoints"]) <= _MAX_ITEMS
    ):
        if doc is not None:
            f.fail(
                "checkpoint.malformed",
                "checkpoints.json 不是 checkpoints/1",
                "checkpoints.json is not a non-empty checkpoints/1",
                **where,
            )
        else:
            f.fail("checkpoint.missing", "没有可用的检查点", "no checkpoints to check", **where)
        return []
    notes: list[tuple[int, int, bytes, str, list[bytes]]] = []
    sound: set[int] = set()
    for i, item in enumerate(doc["checkpoints"]):
        at = {**where, "path": f"checkpoints[{i}]"}
        if not isinstance(item, dict) or set(item) != {"text", "consistency"}:
            f.fail("checkpoint.malformed", "检查点条目格式错误", "malformed item", **at)
            continue
        parsed = _note(item["text"])
        proof = item["consistency"]
        hashes = [b64decode_canonical(h, 32) for h in proof] if isinstance(proof, list) else [None]
        if isinstance(parsed, str) or any(h is None for h in hashes):
            why = parsed if isinstance(parsed, str) else "a proof hash is not base64 of 32 bytes"
            f.fail("checkpoint.malformed", "检查点格式错误", why, **at)
            continue
        origin, size, root, reason, body, sigs = parsed
        signed = _signature(f, key, body, sigs, at)
        if origin == f"branch-casework/{d.casework_id}":
            if signed:
                sound.add(i)
        else:
            f.fail(
                "checkpoint.origin",
                "检查点来源行不符",
                "the origin line is not this casework's",
                expected=f"branch-casework/{d.casework_id}",
                found=origin,
                **at,
            )
        notes.append((i, size, root, reason, [h for h in hashes if h is not None]))
    rooted = _roots(f, notes, leaves, where)
    _order(f, notes, d, where)
    return [(size, root.hex()) for i, size, root, _, _ in notes if i in sound and i in rooted]


def _signature(f: Any, key: PublicKey, body: bytes, sigs: list[str], at: dict[str, Any]) -> bool:
    """Exactly one line, by the casework key, verifying over the checkpoint domain."""
    name = f"casework:{hashlib.sha256(key.key).hexdigest()[:16]}"
    parts = sigs[0].split(" ") if len(sigs) == 1 else []
    blob = b64decode_canonical(parts[2], 68) if len(parts) == 3 else None
    if blob is None or parts[0] != "\u2014" or parts[1] != name or blob[:4] != key.key_id:
        f.fail(
            "checkpoint.signature",
            "检查点须有且仅有一条查核组密钥的签名行",
            "a checkpoint needs exactly one signature line, by the casework key",
            expected=name,
            **at,
        )
        return False
    try:
        verify_signature(key.key, CHECKPOINT_DOMAIN, body, blob[4:])
    except VerificationError:
        f.fail(
            "checkpoint.signature",
            "检查点签名无效",
            "the checkpoint signature does not verify",
            **at,
        )
        return False
    return True


def _roots(
    f: Any,
    notes: list[tuple[int, int, bytes, str, list[bytes]]],
    leaves: Sequence[bytes],
    where: dict[str, Any],
) -> set[int]:
    """(V7 as V31) Each root recomputed and each proof checked; the items whose root holds."""
    good: set[int] = set()
    inside = sorted({size for _, size, _, _, _ in notes if size <= len(leaves)})
    heads = dict(stream_roots(leaves, inside).checkpoints)
    prev: tuple[int, bytes] | None = None
    for i, size, root, _reason, proof in notes:
        at = {**where, "path": f"checkpoints[{i}]"}
        if size > len(leaves):
            f.fail(
                "checkpoint.beyond_log",
                "检查点大小超过日志记录数",
                "the checkpoint is beyond the log",
                expected=f"<= {len(leaves)}",
                found=str(size),
                **at,
            )
            continue
        if heads[size] != root:
            f.fail(
                "checkpoint.root",
                "检查点根哈希与日志不符",
                f"the root at size {size} differs from the log's",
                **at,
            )
        else:
            good.add(i)
        if prev is not None and 0 < prev[0] < size:
            try:
                verify_consistency(prev[0], size, prev[1], root, proof)
            except MerkleProofError as e:
                f.fail("checkpoint.consistency", "一致性证明无效", e.en, **at)
        elif proof:
            f.fail("checkpoint.consistency", "不应有一致性证明", "a proof where none is due", **at)
        prev = (size, root)
    return good


def _order(
    f: Any,
    notes: list[tuple[int, int, bytes, str, list[bytes]]],
    d: CaseworkDefinition,
    where: dict[str, Any],
) -> None:
    """``opened`` first at size 1; sizes never decrease; one ``day`` note per day."""
    days: set[str] = set()
    last = 0
    for n, (i, size, _root, reason, _proof) in enumerate(notes):
        at = {**where, "path": f"checkpoints[{i}]"}
        m = _REASON.fullmatch(reason)
        if m is None or (m[1] is not None and not _is_date(m[1])):
            f.fail("checkpoint.unexpected", "检查点原因无效", f"unknown reason {reason!r}", **at)
        elif (n == 0) != (reason == "opened") or (reason == "opened" and size != 1):
            f.fail(
                "checkpoint.unexpected",
                "首个检查点须为 opened（大小 1），且只有一个",
                "the first checkpoint is 'opened' at size 1, and only it",
                **at,
            )
        elif m[1] is not None and m[1] in days:
            f.fail("checkpoint.repeated", "同一天有两个检查点", "two checkpoints of one day", **at)
        elif m[2] is not None and m[2] not in d.branches:
            f.fail(
                "checkpoint.unexpected",
                "检查点所指支部不属于本镇",
                "the appointment checkpoint names no branch of the town",
                **at,
            )
        if m is not None and m[1] is not None:
            days.add(m[1])
        if size < last:
            f.fail("checkpoint.size_order", "检查点大小倒退", "checkpoint sizes decrease", **at)
        last = max(last, size)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
