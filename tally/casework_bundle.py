"""Reading a ``casework-bundle/1`` back (spec/procedure.md RP-12.3, RP-13.2), for the town report.

The town report takes its case numbers from the casework bundle the verification group exported,
never from a live file. Before a number is taken, the bundle is checked as far as the producer can:
the index lists exactly the bundle's files with their SHA-256 and size; ``casework.json`` is signed
by the town key (and, when given, by the town key the caller trusts); the log replays through the
casework core (chain from the casework id, known entry types, state order); and every checkpoint is
signed by the definition's casework key over a root this log recomputes. This is the producer's own
check, not V31: the independent verifier's ``verifier casework`` is the check a town relies on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any, Final

import keys
from tally.casework_store import BUNDLE_INDEX_FORMAT, CHECKPOINT_DOMAIN, parse_signed_casework
from tally.core.casework import CaseworkDefinitionError, CaseworkError, Ledger, replay
from tally.log.checkpoint import note_body
from tally.log.merkle import leaf_hash, mth
from tally.store import StoreError

__all__ = ["read_casework_bundle"]

_MAX_FILE: Final = 64 * 1024 * 1024


def _bad(en: str, zh: str) -> StoreError:
    return StoreError(
        "casework.bundle",
        zh=f"事项登记簿导出包无法使用：{zh}",
        en=f"unusable casework bundle: {en}",
    )


def _files(folder: Path) -> dict[str, bytes]:
    """Every file the index names, each checked against its hash and size; no other file."""
    try:
        index = json.loads((folder / "index.json").read_bytes())
        listed = {f["path"]: (f["sha256"], f["size"]) for f in index["files"]}
        fmt = index["format"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise _bad("index.json is missing or malformed", "index.json 缺失或格式错误") from e
    if fmt != BUNDLE_INDEX_FORMAT:
        raise _bad(f"index.json is not {BUNDLE_INDEX_FORMAT}", f"index.json 不是 {fmt}")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "index.json"
    }
    if present != set(listed):
        extra = sorted(present ^ set(listed))
        raise _bad(f"files not as the index lists: {extra}", f"文件与索引不符：{extra}")
    out: dict[str, bytes] = {}
    for path, (sha, size) in listed.items():
        data = (folder / path).read_bytes()[: _MAX_FILE + 1]
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            raise _bad(f"{path} differs from its index entry", f"{path} 与索引记载的不一致")
        out[path] = data
    return out


def _check_checkpoints(raw: bytes, leaves: list[bytes], origin: str, key: keys.PublicKey) -> None:
    try:
        texts = [c["text"] for c in json.loads(raw)["checkpoints"]]
    except (ValueError, KeyError, TypeError) as e:
        raise _bad("checkpoints.json is malformed", "checkpoints.json 格式错误") from e
    if not texts:
        raise _bad("the log has no checkpoint", "没有检查点")
    for text in texts:
        try:
            lines = text.split("\n")
            size, reason = int(lines[1]), lines[3]
            body = note_body(origin, size, mth(leaves[:size]), reason)
            (line,) = [x for x in lines if x.startswith("\u2014 ")]  # the casework key's only
            signature = base64.b64decode(line.split(" ")[2], validate=True)[4:]
            if not 0 < size <= len(leaves) or not text.startswith(body):
                raise ValueError(size)
            keys.verify(key, CHECKPOINT_DOMAIN, body.encode(), signature)
        except (ValueError, IndexError, binascii.Error, keys.KeysError) as e:
            raise _bad(
                "a checkpoint is not signed by the casework key over this log",
                "有检查点与日志不符或没有查核组的有效签名",
            ) from e


def read_casework_bundle(folder: Path, *, town_key: keys.PublicKey | None = None) -> Ledger:
    """The casework ledger a bundle folder holds, after checking the bundle (module docstring).

    Args:
        folder: the folder ``tally casework export`` wrote.
        town_key: the town key the caller trusts; when given, the definition must be signed by it.

    Raises:
        StoreError: ``casework.bundle`` naming what does not hold.
    """
    files = _files(folder)
    try:
        casework, _, service = parse_signed_casework(files["casework.json"], town_key=town_key)
        raws = files["log.jsonl"].splitlines()
        ledger = replay(casework, raws)
    except KeyError as e:
        raise _bad(f"{e} is missing", f"缺少 {e}") from e
    except (CaseworkError, CaseworkDefinitionError) as e:
        raise _bad(e.en, e.zh) from e
    index: dict[str, Any] = json.loads((folder / "index.json").read_bytes())
    if index.get("casework_id") != casework.id.hex() or index.get("entries") != len(raws):
        raise _bad("index.json names another casework or size", "index.json 的编号或条数不符")
    origin = f"branch-casework/{casework.id.hex()}"
    _check_checkpoints(
        files.get("checkpoints.json", b""), [leaf_hash(r) for r in raws], origin, service
    )
    return ledger
