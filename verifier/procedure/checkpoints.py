"""(V22) The procedure log's checkpoints (spec/procedure.md RP-11.2; spec/log.md §3 as V7).

``checkpoints.json`` is a ``checkpoints/1``: each item a signed note (origin
``branch-procedure/<procedure id>``, size, root, reason) and the consistency proof from the item
before. The verifier recomputes each root from the log's own lines, checks the proofs, the work
group key's signature on every note and each scrutineer's on ``round-closed`` (a missing
co-signature is a warning, as R9; a line by a key not of the definition is a failure), and
requires exactly one checkpoint at each moment RP-11.2 names, with that reason. When reading the
log stopped at an entry that is none (``read_to`` entries read), a checkpoint past them is not
judged against the moments (its roots, proofs and signatures still are): what is due there is
unknown, and the bundle reports it as not checked rather than as ``checkpoint.unexpected``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Final

from verifier.casework_checkpoints import _note, _roots
from verifier.crypto import PublicKey, b64decode_canonical, verify_signature
from verifier.errors import VerificationError
from verifier.procedure.log import Entry

__all__ = ["PROCEDURE_CHECKPOINT_DOMAIN", "check_checkpoints", "expected_reasons"]

PROCEDURE_CHECKPOINT_DOMAIN: Final = b"branch-election/procedure-checkpoint/1"
_MAX_ITEMS: Final = 100_000
_AFTER: Final = {
    "candidates.approved": "approved",
    "election.bound": "bound",
    "election.concluded": "concluded",
    "appointment.recorded": "appointed",
    "vetting.recorded": "vetted",
}


def _post(body: dict[str, Any]) -> str:
    return str(body.get("post") or "-")


def expected_reasons(entries: Sequence[Entry]) -> dict[int, str]:
    """(RP-11.2) The checkpoint each entry is followed by: log size -> reason."""
    out: dict[int, str] = {}
    for e in entries:
        b, size = e.body, e.seq + 1
        if e.type == "procedure.opened":
            out[size] = "opened"
        elif e.type == "stock.committed":
            out[size] = f"stock {b['form']} {_post(b)} {b['round']}"
        elif e.type == "stock.supplemented":
            out[size] = f"stock-supplement {b['form']} {_post(b)} {b['round']} {b['part']}"
        elif e.type == "recommendation.counted":
            out[size] = f"round-closed {b['group']} {b['post']} {b['round']}"
        elif e.type == "evaluation.counted":
            out[size] = f"round-closed evaluation - {b['round']}"
        elif e.type == "round.void":
            out[size] = f"round-closed {b['form']} {_post(b)} {b['round']}"
        elif e.type == "preliminary.proposed":
            out[size] = f"preliminary {b['version']}"
        elif e.type in _AFTER:
            out[size] = _AFTER[e.type]
    return out


def check_checkpoints(
    f: Any,
    doc: object,
    procedure_id: str,
    *,
    work_group: PublicKey,
    scrutineers: Sequence[PublicKey],
    leaves: Sequence[bytes],
    expected: dict[int, str],
    read_to: int | None = None,
) -> list[tuple[int, str, str]]:
    """(V22, RP-11.2) Every checkpoint checked; returns (size, root hex, reason) of each whose
    origin, work-group signature and root hold. ``read_to``: the entries read when reading the log
    stopped (None: the whole log); a checkpoint of a larger size is not judged by its moment."""
    where = {"file": "checkpoints.json", "rule": "RP-11.2", "clause": "V22"}
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", "checkpoints"}
        or doc["format"] != "checkpoints/1"
        or not isinstance(doc["checkpoints"], list)
        or not 1 <= len(doc["checkpoints"]) <= _MAX_ITEMS
    ):
        f.fail(
            "checkpoint.malformed",
            "checkpoints.json 不是 checkpoints/1",
            "checkpoints.json is not a non-empty checkpoints/1",
            **where,
        )
        return []
    notes: list[tuple[int, int, bytes, str, list[bytes]]] = []
    sound: set[int] = set()
    for i, item in enumerate(doc["checkpoints"]):
        at = {**where, "path": f"checkpoints[{i}]"}
        parsed = _note(item.get("text")) if isinstance(item, dict) else "not an object"
        proof = item.get("consistency") if isinstance(item, dict) else None
        hashes = [b64decode_canonical(h, 32) for h in proof] if isinstance(proof, list) else [None]
        if (
            isinstance(parsed, str)
            or any(h is None for h in hashes)
            or set(item) != {"text", "consistency"}
        ):
            why = parsed if isinstance(parsed, str) else "malformed item or proof"
            f.fail("checkpoint.malformed", "检查点格式错误", why, **at)
            continue
        origin, size, root, reason, body, sigs = parsed
        if origin != f"branch-procedure/{procedure_id}":
            f.fail(
                "checkpoint.origin",
                "检查点来源行不符",
                "the origin line is not this procedure's",
                expected=f"branch-procedure/{procedure_id}",
                found=origin,
                **at,
            )
        elif _signatures(f, body, sigs, reason, at, work_group=work_group, scrutineers=scrutineers):
            sound.add(i)
        notes.append((i, size, root, reason, [h for h in hashes if h is not None]))
    rooted = _roots(f, notes, leaves, where)
    _moments(f, notes, expected, where, read_to)
    return [(s, r.hex(), why) for i, s, r, why, _ in notes if i in sound and i in rooted]


def _name(key: PublicKey, role: str) -> str:
    return f"{role}:{hashlib.sha256(key.key).hexdigest()[:16]}"


def _signatures(
    f: Any,
    body: bytes,
    sigs: list[str],
    reason: str,
    at: dict[str, Any],
    *,
    work_group: PublicKey,
    scrutineers: Sequence[PublicKey],
) -> bool:
    """The work group's line verifies; each other line is a procedure scrutineer's on a
    ``round-closed`` note, and verifies; a missing scrutineer is a warning."""
    keys = {_name(work_group, "work_group"): work_group}
    if reason.startswith("round-closed "):
        keys.update({_name(k, "scrutineer"): k for k in scrutineers})
    seen: set[str] = set()
    ok = True
    for line in sigs:
        parts = line.split(" ")
        key = keys.get(parts[1]) if len(parts) == 3 and parts[0] == "\u2014" else None
        blob = b64decode_canonical(parts[2], 68) if key is not None else None
        if key is None or blob is None or parts[1] in seen or blob[:4] != key.key_id:
            f.fail(
                "checkpoint.signature",
                "检查点有不属于本程序的签名行",
                "a signature line by no key of the procedure, or twice",
                found=line[:80],
                **at,
            )
            ok = False
            continue
        try:
            verify_signature(key.key, PROCEDURE_CHECKPOINT_DOMAIN, body, blob[4:])
        except VerificationError:
            f.fail(
                "checkpoint.signature",
                "检查点签名无效",
                "a checkpoint signature does not verify",
                found=parts[1],
                **at,
            )
            ok = False
            continue
        seen.add(parts[1])
    wg = _name(work_group, "work_group")
    if wg not in seen:
        f.fail(
            "checkpoint.signature",
            "检查点缺少工作组签名",
            "no valid work-group signature",
            expected=wg,
            **at,
        )
        return False
    for name in sorted(set(keys) - seen - {wg}):
        f.warn(
            "checkpoint.cosignature_missing",
            f"监票人未联署计票检查点：{name}",
            f"a scrutineer has not co-signed the count: {name}",
            **at,
        )
    return ok


def _moments(
    f: Any,
    notes: list[tuple[int, int, bytes, str, list[bytes]]],
    expected: dict[int, str],
    where: dict[str, Any],
    read_to: int | None,
) -> None:
    """(RP-11.2) One checkpoint at each moment, with its reason; none elsewhere; sizes rising.
    Past ``read_to`` entries the moments are unknown: only the sizes' order is judged there."""
    found: dict[int, int] = {}
    last = 0
    for i, size, _root, reason, _proof in notes:
        at = {**where, "path": f"checkpoints[{i}]"}
        if (read_to is None or size <= read_to) and expected.get(size) != reason:
            f.fail(
                "checkpoint.unexpected",
                "检查点的位置或原因不符",
                "no checkpoint with this reason is due at this size",
                expected=expected.get(size, ""),
                found=reason,
                **at,
            )
        if size in found:
            f.fail(
                "checkpoint.repeated", "同一时刻有两个检查点", "two checkpoints at one size", **at
            )
        found[size] = i
        if size <= last:
            f.fail(
                "checkpoint.size_order", "检查点大小未递增", "checkpoint sizes do not rise", **at
            )
        last = max(last, size)
    for size, reason in sorted(expected.items()):
        if size not in found:
            f.fail(
                "checkpoint.missing",
                "缺少应有的检查点",
                f"no checkpoint {reason!r} at size {size}",
                expected=reason,
                **where,
            )
