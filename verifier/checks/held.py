"""(V7) Checkpoints held outside the bundle (spec/bundle.md §6 V7, "held checkpoints").

A bundle is self-consistent by construction: whoever holds every signing key but the town's can
sign a different history from start to end, and the bundle alone cannot show it. What binds the
history is a checkpoint someone kept from before: the bulletin board's list saved on polling day
(``/api/board/checkpoints``), the checkpoint of a remote voter's receipt (``/api/remote/receipt``,
``/api/board/proof``), or any checkpoint note. Given with ``verify --checkpoint FILE``, each is
checked like a checkpoint of the bundle (origin, signature lines) and must name the bundle's own
log: the same root at its size. A checkpoint beyond the log means the bundle lost entries that
were once signed; another root at a size the log has means a fork.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier.canonical import parse_json
from verifier.checks.checkpoints import check_signature_lines
from verifier.checks.common import DOCUMENT_LIMIT
from verifier.checks.context import Context
from verifier.errors import VerificationError
from verifier.model import Checkpoint, Manifest
from verifier.parse import parse_checkpoint
from verifier.reader import read_regular

__all__ = ["HeldCheckpoint", "HeldFileError", "check_held", "load_held", "read_held"]

_NOTE_START = "branch-election/"


class HeldFileError(VerificationError):
    """A ``--checkpoint`` file is unreadable or holds no checkpoint (the CLI exits 2)."""


@dataclass(frozen=True, slots=True)
class HeldCheckpoint:
    """One checkpoint note as kept outside the bundle, with where it came from."""

    label: str  # the file, and the item within it
    text: str


def _file_error(path: str, zh: str, en: str) -> HeldFileError:
    return HeldFileError(
        clause="V7",
        code="checkpoint.held_file",
        zh=f"外部检查点文件 {path}：{zh}",
        en=f"the checkpoint file {path}: {en}",
        path=path,
    )


def read_held(path: Path | str) -> tuple[HeldCheckpoint, ...]:
    """The checkpoints of one ``--checkpoint`` file, in any of its three forms: a checkpoint note;
    the board's ``{"checkpoints": [{"text": ...}, ...]}``; an object with a ``"checkpoint"`` text
    (a receipt's proof).

    Raises:
        HeldFileError: not a readable regular file within the document limit, not UTF-8, or none of
            the three forms.
    """
    shown = str(path)
    try:
        data = read_regular(path, DOCUMENT_LIMIT, clause="V7")
    except VerificationError as e:
        raise _file_error(shown, e.zh, e.en) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _file_error(shown, "不是 UTF-8 文本", "not UTF-8 text") from e
    if text.startswith(_NOTE_START):
        return (HeldCheckpoint(shown, text),)
    try:
        doc: Any = parse_json(data, clause="V7", path=shown)
    except VerificationError as e:
        raise _file_error(
            shown, "既不是检查点文本也不是 JSON", "neither a checkpoint nor JSON"
        ) from e
    if isinstance(doc, dict) and isinstance(doc.get("checkpoints"), list):
        out = []
        for i, item in enumerate(doc["checkpoints"]):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise _file_error(
                    shown,
                    f"第 {i} 项没有检查点文本（text）",
                    f"item {i} has no checkpoint text",
                )
            out.append(HeldCheckpoint(f"{shown} [{i}]", item["text"]))
        return tuple(out)
    if isinstance(doc, dict) and isinstance(doc.get("checkpoint"), str) and doc["checkpoint"]:
        return (HeldCheckpoint(shown, doc["checkpoint"]),)
    raise _file_error(
        shown,
        "不含检查点（应为检查点文本、公告板的检查点列表或回执的证明）",
        "holds no checkpoint (a checkpoint note, the board's list or a receipt's proof)",
    )


def load_held(cx: Context, held: tuple[HeldCheckpoint, ...]) -> None:
    """(V7) Parse each held checkpoint; its size becomes a size the replay records a root at."""
    for h in held:
        try:
            cp = parse_checkpoint(h.text, h.label)
        except VerificationError as e:
            cx.f.fail("V7", "checkpoint.held_format", e.zh, e.en, file=h.label)
            continue
        cx.held.append((h.label, cp))
        cx.checkpoint_sizes.add(cp.size)


def check_held(cx: Context, m: Manifest) -> None:
    """(V7) Each held checkpoint: this election's origin, the signature lines of a checkpoint, and
    the bundle's log at its size (``checkpoint.held_beyond_log``, ``checkpoint.held_fork``)."""
    origin = f"branch-election/{m.election_id.hex()}"
    for label, cp in cx.held:
        where: dict[str, Any] = {"file": label, "path": f"{cp.reason} @ {cp.size}"}
        if cp.origin != origin:
            cx.f.fail(
                "V7",
                "checkpoint.held_origin",
                "外部检查点属于另一场选举",
                "a held checkpoint is of another election",
                expected=origin,
                found=cp.origin,
                **where,
            )
            continue
        check_signature_lines(cx, m, cp, where)
        _check_against_log(cx, cp, where)


def _check_against_log(cx: Context, cp: Checkpoint, where: dict[str, Any]) -> None:
    if cp.size > cx.entries:
        cx.f.fail(
            "V7",
            "checkpoint.held_beyond_log",
            "外部检查点覆盖的条目多于结果包的日志：日志被截短或改写",
            "a held checkpoint covers more entries than the bundle's log: entries once signed "
            "are missing",
            expected=f"<= {cx.entries}",
            found=str(cp.size),
            **where,
        )
    elif cx.roots.get(cp.size) != cp.root:
        cx.f.fail(
            "V7",
            "checkpoint.held_fork",
            "外部检查点的根哈希与结果包的日志不符：结果包的历史与当时签署公布的不同",
            "a held checkpoint's root differs from the bundle's log at its size: the bundle's "
            "history is not the one signed and published then",
            expected=cx.roots.get(cp.size, b"").hex(),
            found=cp.root.hex(),
            **where,
        )
