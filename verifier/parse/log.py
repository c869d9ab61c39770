"""Parse ``log-entry/1`` lines and ``checkpoint/1`` notes (spec/log.md §1-§3).

Shapes and types only; what the entries mean is replayed by ``verifier.checks``.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable
from typing import Any, Final

from verifier.crypto import b64decode_canonical
from verifier.errors import CheckpointFormatError
from verifier.merkle import hash_leaf
from verifier.model import POST_ORDER, Checkpoint, CheckpointSignature, LogEntry
from verifier.parse._reader import DATE, Reader, err

__all__ = [
    "BALLOT_LINE",
    "CHECKPOINT_DOMAIN",
    "ENTRY_BODIES",
    "ENTRY_OPTIONAL",
    "ENTRY_VARIANTS",
    "parse_ballot_entered",
    "parse_checkpoint",
    "parse_log_entry",
]

CHECKPOINT_DOMAIN: Final = b"branch-election/checkpoint/1"
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_AT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_SIGNER: Final = re.compile(r"(work_group|scrutineer):[0-9a-f]{16}")
_REASON: Final = re.compile(
    r"opened|result|remote-opened|remote-closed|remote-totals|"
    r"(stock|round-opened|round-closed) "
    r"(committee|secretary|deputy_secretary) ([1-9][0-9]{0,2})|"
    r"stock-supplement (?:committee|secretary|deputy_secretary) ([1-9][0-9]{0,2}) "
    r"([2-9]|[1-9][0-9]{1,2})"
)


def _v_post(v: Any) -> bool:
    return v in POST_ORDER


def _v_round(v: Any) -> bool:
    return type(v) is int and 1 <= v <= 255


def _v_count(v: Any) -> bool:
    return type(v) is int and v >= 0


def _v_part(v: Any) -> bool:
    return type(v) is int and 2 <= v <= 255


def _v_str(v: Any) -> bool:
    return isinstance(v, str)


def _v_member(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _v_hex64(v: Any) -> bool:
    return isinstance(v, str) and _HEX64.fullmatch(v) is not None


def _v_ids(v: Any) -> bool:
    return isinstance(v, list) and all(_v_member(x) for x in v)


def _v_marks(v: Any) -> bool:
    return isinstance(v, str)


def _v_write_ins(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(w, dict)
        and set(w) == {"name", "member", "mark"}
        and isinstance(w["name"], str)
        and isinstance(w["member"], str)
        and isinstance(w["mark"], str)
        for w in v
    )


def _v_approvals(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(a, dict)
        and set(a) == {"member", "approvals"}
        and _v_member(a["member"])
        and _v_count(a["approvals"])
        for a in v
    )


def _v_elected_map(v: Any) -> bool:
    return isinstance(v, dict) and all(_v_post(k) and _v_ids(x) for k, x in v.items())


def _v_date(v: Any) -> bool:
    if not isinstance(v, str) or DATE.fullmatch(v) is None:
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _v_object(v: Any) -> bool:
    return isinstance(v, dict)


def _v_list(v: Any) -> bool:
    return isinstance(v, list)


_Check = Callable[[Any], bool]
_PR: Final[dict[str, _Check]] = {"post": _v_post, "round": _v_round}
ENTRY_BODIES: Final[dict[str, dict[str, _Check]]] = {
    "election.opened": {"election_id": _v_hex64},
    "stock.committed": {**_PR, "count": _v_count, "commitment": _v_hex64},
    "stock.supplemented": {**_PR, "part": _v_part, "count": _v_count, "commitment": _v_hex64},
    "member.checked_in": {"member": _v_member},
    "member.left": {"member": _v_member},
    "round.quorum_failed": {**_PR, "present": _v_count, "present_members": _v_ids},
    "round.opened": {
        **_PR,
        "purpose": lambda v: v in ("first", "runoff", "further"),
        "candidates": _v_ids,
        "seats": _v_count,
        "body": lambda v: v in ("assembly", "plenary"),
        "expected": _v_count,
        "present": _v_count,
        "present_members": _v_ids,
    },
    "ballots.issued": {**_PR, "count": _v_count},
    "ballots.returned": {**_PR, "count": _v_count},
    "round.void": {**_PR, "issued": _v_count, "returned": _v_count},
    "ballot.entered": {
        **_PR,
        "ballot_id": lambda v: isinstance(v, str) and _HEX32.fullmatch(v) is not None,
        "qr": _v_str,
        "marks": _v_marks,
        "write_ins": _v_write_ins,
    },
    "ballot.withdrawn": {
        **_PR,
        # "" withdraws a ballot.declared_invalid of a paper without QR (log.md §2.2)
        "ballot_id": lambda v: isinstance(v, str) and (v == "" or _HEX32.fullmatch(v) is not None),
    },
    "ballot.declared_invalid": {
        **_PR,
        "ballot_id": lambda v: isinstance(v, str) and (v == "" or _HEX32.fullmatch(v) is not None),
        "qr": _v_str,
        "reason": _v_str,
        "scrutineer": _v_str,
        "signature": _v_str,
    },
    "round.counted": {
        **_PR,
        "valid_ballots": _v_count,
        "invalid_ballots": _v_count,
        "approvals": _v_approvals,
        "base": _v_count,
        "minimum": _v_count,
        "elected": _v_ids,
        "tied": _v_ids,
        "tied_seats": _v_count,
        "shortfall": _v_count,
    },
    "seats.reduced": {
        "post": _v_post,
        "seats": _v_count,
        "assembly_consent": _v_count,
        "town_agreement": _v_str,
    },
    "officials.changed": {"scrutineers": _v_ids, "tellers": _v_ids},
    "double_entry.set": {"mode": lambda v: v in ("on", "off")},  # log.md §2.3
    "candidates.amended": {
        **_PR,
        "candidates": _v_ids,
        "town_approval": _v_str,
        "town_signature": _v_str,
    },
    "election.result": {
        "elected": _v_elected_map,
        "publicity_start": _v_date,
        "publicity_end": _v_date,
    },
    # spec/remote.md RM-8.1, spec/remote-v2.md §5: shapes only here; contents are V18's
    # (verifier.checks). Version 1's key reveal and per-ballot decryption entries are unknown.
    "remote.opened": {
        "issuer_key": _v_str,
        "election_key": _v_object,
        "shares": _v_list,
        "write_in_lists": _v_list,
    },
    "remote.credential_issued": {"member": _v_member},
    "remote.cast": {
        "token": _v_str,
        "token_prefix": _v_str,
        "token_signature": _v_str,
        "ballot": _v_object,
    },
    "remote.closed": {"credentials": _v_count, "casts": _v_count},
    "remote.not_counted": {**_PR, "reason": _v_str},
    "remote.partial_decryption": {"index": _v_count, "posts": _v_list},
    "remote.totals": {"posts": _v_list},
}
# Entry types with another body that is parsed only to be refused by the replay: the
# ``remote.opened`` of remote ballots version 1 (a ``ballot_key``, spec/remote.md RM-8.1) is
# read so that V18.1 names the version it does not support (``remote.unsupported_version``).
ENTRY_VARIANTS: Final[dict[str, dict[str, _Check]]] = {
    "remote.opened": {
        "issuer_key": _v_str,
        "ballot_key": _v_str,
        "k": _v_count,
        "n": _v_count,
        "shares": _v_list,
    },
}
# Members a body may carry in addition: ``round.counted`` has ``remote_ballots`` exactly in
# elections with a ``remote.opened`` entry (checked by the replay, V18.9).
ENTRY_OPTIONAL: Final[dict[str, dict[str, _Check]]] = {
    "round.counted": {"remote_ballots": _v_count, "dropped": _v_ids},  # dropped: R22.3, V13
}
_ENTRY: Final = frozenset({"format", "seq", "prev", "salt", "type", "at", "actor", "body"})


def _only_allowed_values(v: object) -> bool:
    # log.md §1: objects, arrays, strings and integers only.
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, bool) or x is None:
            return False
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif not isinstance(x, str | int):
            return False
    return True


def parse_log_entry(
    value: object,
    raw: bytes,
    line: int,
    *,
    leaf_hash: bytes | None = None,
    shape_checked: bool = False,
) -> LogEntry:
    """Parse a ``log-entry/1`` (log.md §1, §2): exact members, known type, typed body.

    ``leaf_hash`` may pass the already computed ``hash_leaf(raw)``; ``shape_checked`` says the
    value is known to hold no booleans, nulls or floats (``parse_canonical_checked``).

    Raises:
        DocumentFormatError: with clause V6 and the path ``log.jsonl:<line>.<member>``.

    Returns:
        The entry with its leaf hash (of the stored bytes).
    """
    path = f"log.jsonl:{line}"
    if type(value) is dict:  # log.md §1: every entry commits a secret 32-byte salt
        if "salt" not in value:
            raise err(
                "V6",
                f"{path}.salt",
                "entry has no salt (every entry carries one, log.md §1)",
                "日志条目缺少盐值（每条记录都应有，log.md §1）",
                "entry.salt_missing",
            )
        if not _v_hex64(value["salt"]):
            raise err(
                "V6",
                f"{path}.salt",
                "salt is not 32 bytes written as 64 lowercase hex (log.md §1)",
                "盐值不是 32 字节的 64 位小写十六进制（log.md §1）",
                "entry.salt",
            )
    r = Reader(value, path, "V6", _ENTRY)
    if r.raw("format") != "log-entry/1":
        raise err("V6", r.at("format"), "not log-entry/1", "不是 log-entry/1", "format.version")
    if not shape_checked and not _only_allowed_values(value):
        raise err("V6", path, "booleans, nulls or floats in an entry", "日志条目含布尔值或空值")
    seq = r.int_("seq")
    prev = r.raw("prev")
    if not _v_hex64(prev):
        raise err("V6", r.at("prev"), "prev is not 64 lowercase hex", "prev 不是 64 位十六进制")
    etype = r.raw("type")
    if not isinstance(etype, str) or etype not in ENTRY_BODIES:
        raise err(
            "V6",
            r.at("type"),
            f"unknown entry type {etype!r}",
            f"未知条目类型 {etype!r}",
            "entry.type",
        )
    at_text = r.raw("at")
    if not isinstance(at_text, str) or _AT.fullmatch(at_text) is None:
        raise err("V6", r.at("at"), "at is not RFC 3339 with offset", "时间格式无效")
    try:
        at = dt.datetime.fromisoformat(at_text)
    except ValueError as e:
        raise err("V6", r.at("at"), "at is not a valid time", "时间无效") from e
    actor = r.str_("actor")
    schema = ENTRY_BODIES[etype]
    extra = ENTRY_OPTIONAL.get(etype)
    raw_body = r.raw("body")
    variant = ENTRY_VARIANTS.get(etype)
    if variant is not None and isinstance(raw_body, dict) and set(raw_body) == set(variant):
        schema = variant  # the version-1 body, refused by V18.1
    if extra and isinstance(raw_body, dict) and any(k in raw_body for k in extra):
        schema = {**schema, **{k: c for k, c in extra.items() if k in raw_body}}
    body = Reader(r.raw("body"), r.at("body"), "V6", frozenset(schema))
    for key, check in schema.items():
        if not check(body.value[key]):
            raise err(
                "V6",
                body.at(key),
                f"{etype} body member {key!r} has a wrong value",
                f"{etype} 的字段 {key} 取值无效",
            )
    return LogEntry(
        seq=seq,
        prev=prev,
        type=etype,
        at=at,
        actor=actor,
        body=types.MappingProxyType(body.value),
        leaf_hash=hash_leaf(raw) if leaf_hash is None else leaf_hash,
    )


# --------------------------------------------------------------------------- ballot fast path

# A JSON string that JCS writes as is: printable ASCII without quote and backslash.
_PLAIN: Final = r"[ !#-\[\]-~]*+"  # possessive: nothing to backtrack into, and faster
# The canonical bytes (JCS: members sorted, no whitespace, nothing to escape) of a
# ``ballot.entered`` entry without write-ins, field by field as parse_log_entry requires them
# (log.md §1, §2): seq below 2**53, 64-hex prev and salt, an RFC 3339 ``at``, a 32-hex ballot
# id, post and round 1..255. Nearly every line of a large log has this form.
BALLOT_LINE: Final = re.compile(
    r'\{"actor":"(' + _PLAIN + r')",'
    r'"at":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?'
    r'(?:Z|[+-][0-9]{2}:[0-9]{2}))",'
    r'"body":\{"ballot_id":"([0-9a-f]{32}+)",'
    r'("marks":"(' + _PLAIN + r')",'
    r'"post":"(committee|secretary|deputy_secretary)",'
    r'"qr":"(' + _PLAIN + r')",'
    r'"round":([1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])),'
    r'"write_ins":\[\]\},'
    r'"format":"log-entry/1",'
    r'"prev":"([0-9a-f]{64}+)",'
    r'"salt":"[0-9a-f]{64}+",'
    r'"seq":(0|[1-9][0-9]{0,14}),'
    r'"type":"ballot\.entered"\}'
)


def parse_ballot_entered(raw: bytes, leaf_hash: bytes) -> tuple[LogEntry, bytes] | None:
    """The common ``ballot.entered`` line in one step, or ``None`` for the general path.

    Performance, in the spirit of ADR 0005's fast path: one regular expression recognises bytes
    that are both canonical (members sorted, no whitespace, no character JCS would escape) and
    a valid entry, so the JSON parse, the re-serialisation and the member checks of
    ``parse_canonical_checked`` + ``parse_log_entry`` are not needed for them. What is returned
    equals what that path returns for the same bytes (tests/unit/verifier/test_fast_paths.py);
    any other line (write-ins, escapes, non-ASCII text, a wrong member, an invalid time) gets
    ``None`` and takes that path, which reports the precise failure. The values replayed are
    read from the stored bytes, whose leaf hash chains and is checkpointed as before.

    Returns:
        The entry, and its ``ballot-record/1`` bytes (spec/bundle.md §3: the body plus
        ``format`` and ``seq``, as JCS), spliced from the canonical line.
    """
    if not raw.isascii():
        return None
    m = BALLOT_LINE.fullmatch(raw.decode("ascii"))
    if m is None:
        return None
    actor, at_text, ballot_id, middle, marks, post, qr, rnd, prev, seq_text = m.groups()
    try:
        at = dt.datetime.fromisoformat(at_text)
    except ValueError:
        return None
    body: dict[str, Any] = {
        "ballot_id": ballot_id,
        "marks": marks,
        "post": post,
        "qr": qr,
        "round": int(rnd),
        "write_ins": [],
    }
    # Positional: a NamedTuple is built faster so, and this runs once per ballot.
    entry = LogEntry(
        int(seq_text), prev, "ballot.entered", at, actor, types.MappingProxyType(body), leaf_hash
    )
    # Members in JCS order: ballot_id, format, marks, post, qr, round, seq, write_ins.
    record = (
        f'{{"ballot_id":"{ballot_id}","format":"ballot-record/1",{middle},'
        f'"seq":{seq_text},"write_ins":[]}}'
    )
    return entry, record.encode("ascii")


# --------------------------------------------------------------------------- checkpoints


def _cp_err(en: str, zh: str, path: str) -> CheckpointFormatError:
    return CheckpointFormatError(clause="V7", code="checkpoint.malformed", zh=zh, en=en, path=path)


def parse_checkpoint(text: object, path: str) -> Checkpoint:
    """Parse a ``checkpoint/1`` signed note (log.md §3).

    Raises:
        CheckpointFormatError: the text is not a well-formed note.

    Returns:
        The checkpoint (signatures not yet verified).
    """
    if not isinstance(text, str) or "\n\n" not in text:
        raise _cp_err("not a signed note", "不是签名检查点文本", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # a lone surrogate: no bytes to verify a signature over
        raise _cp_err("not UTF-8 text", "不是 UTF-8 文本", path) from e
    head, _, sigs = text.partition("\n\n")
    lines = head.split("\n")
    if len(lines) != 4:
        raise _cp_err("body is not four lines", "检查点正文不是四行", path)
    origin, size_text, root_text, reason = lines
    if _DECIMAL.fullmatch(size_text) is None:
        raise _cp_err("tree size is not a decimal", "树大小不是十进制数", path)
    root = b64decode_canonical(root_text, 32)
    if root is None:
        raise _cp_err("root is not base64 of 32 bytes", "根哈希不是 32 字节 base64", path)
    m = _REASON.fullmatch(reason)
    if m is None or any(g is not None and int(g) > 255 for g in m.group(3, 4, 5)):
        raise _cp_err(f"unknown reason {reason!r}", f"未知原因 {reason!r}", path)
    if not sigs.endswith("\n"):
        raise _cp_err("signature lines must end in a line feed", "签名行应以换行结束", path)
    signatures = []
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or _SIGNER.fullmatch(parts[1]) is None:
            raise _cp_err(f"bad signature line {line!r}", "签名行格式无效", path)
        blob = b64decode_canonical(parts[2], 68)
        if blob is None:
            raise _cp_err("signature is not base64 of 68 bytes", "签名不是 68 字节 base64", path)
        signatures.append(CheckpointSignature(name=parts[1], key_id=blob[:4], signature=blob[4:]))
    return Checkpoint(
        origin=origin,
        size=int(size_text),
        root=root,
        reason=reason,
        body=(head + "\n").encode("utf-8"),
        signatures=tuple(signatures),
        text=text,
    )
