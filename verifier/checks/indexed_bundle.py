"""The layout of a bundle with an ``index.json`` of its files (V1's rules), for the procedure bundle
(V20, spec/procedure.md RP-12.1, codes ``pbundle.*``) and the casework bundle (V31, RP-12.3,
``cbundle.*``): exactly the files the bundle may hold, each hashed, and each as its index says.

One mechanism, two kinds: the kinds differ only in their codes' prefix, words, allowed files,
index format and id member, and in the ``where`` their findings carry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from verifier.bundle import Bundle, hash_member
from verifier.checks.findings import ListFindings

__all__ = ["IndexedBundle", "check_indexed_layout"]


@dataclass(frozen=True)
class IndexedBundle:
    """One kind of indexed bundle."""

    prefix: str  # "pbundle" / "cbundle"
    extra_zh: str  # the words of a file the bundle may not hold
    extra_en: str
    fixed: tuple[str, ...]  # the files every bundle of the kind holds
    allowed: Callable[[str], bool]  # any other file it may hold
    index_format: str  # "procedure-bundle-index/1"
    id_member: str  # "procedure_id"
    file_where: Mapping[str, str]  # the clause and rule of a file's presence
    index_where: Mapping[str, str]  # the clause and rule of the index's findings
    item_where: Mapping[str, str]  # those of a malformed index item


def check_indexed_layout(
    kind: IndexedBundle,
    f: ListFindings,
    bundle: Bundle,
    digests: dict[str, tuple[Any, int]],
    read_index: Callable[[], object],
) -> str | None:
    """Check the files of ``bundle`` against ``kind`` and its index; hash every file into
    ``digests`` (``"#entries"``: the index's entry count); the index's id, or None when the
    index is unreadable (reported)."""
    p = kind.prefix
    names = [n for n in bundle.names() if n != "index.json"]
    for name in names:
        if name not in kind.fixed and not kind.allowed(name):
            f.fail(f"{p}.extra_file", kind.extra_zh, kind.extra_en, file=name, **kind.file_where)
    for name in kind.fixed:
        if name not in names:
            f.fail(f"{p}.missing_file", "缺少文件", "missing file", file=name, **kind.file_where)
    for name in names:
        digest, _why = hash_member(bundle, name)
        digests[name] = (digest, bundle.size(name))
    doc = read_index()
    if (
        not isinstance(doc, dict)
        or set(doc) != {"format", kind.id_member, "entries", "files"}
        or doc["format"] != kind.index_format
        or not isinstance(doc["files"], list)
        or type(doc["entries"]) is not int
        or not isinstance(doc[kind.id_member], str)
    ):
        f.fail(
            f"{p}.index",
            f"index.json 不是 {kind.index_format}",
            f"index.json is not a {kind.index_format}",
            file="index.json",
            **kind.index_where,
        )
        return None
    listed: set[str] = set()
    for i, item in enumerate(doc["files"]):
        _index_item(kind, f, digests, i, item, listed=listed)
    for name in sorted(set(names) - listed):
        f.fail(
            f"{p}.unindexed",
            "文件未列入索引",
            "file not in the index",
            file=name,
            **kind.index_where,
        )
    digests["#entries"] = (None, doc["entries"])
    return str(doc[kind.id_member])


def _index_item(
    kind: IndexedBundle,
    f: ListFindings,
    digests: dict[str, tuple[Any, int]],
    i: int,
    item: object,
    *,
    listed: set[str],
) -> None:
    p, where = kind.prefix, kind.index_where
    if (
        not isinstance(item, dict)
        or set(item) != {"path", "sha256", "size"}
        or not isinstance(item["path"], str)
        or not isinstance(item["sha256"], str)
        or type(item["size"]) is not int
    ):
        f.fail(
            f"{p}.index",
            "索引条目格式错误",
            "malformed index item",
            path=f"files[{i}]",
            **kind.item_where,
        )
        return
    name = item["path"]
    if name in listed or name not in digests:
        f.fail(
            f"{p}.missing_file",
            "索引所列文件缺失或重复",
            "an indexed file is missing or listed twice",
            file=name,
            **where,
        )
        return
    listed.add(name)
    digest, size = digests[name]
    if size != item["size"] or digest != item["sha256"]:
        f.fail(
            f"{p}.hash",
            "文件与索引的哈希或大小不符",
            "the file differs from its index entry",
            file=name,
            expected=item["sha256"],
            found=str(digest),
            **where,
        )
