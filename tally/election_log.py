"""An election file's log as a session holds it: opening (the replay), appending, checkpoints.

Every command follows one pattern: replay the stored log into a ``Meeting`` (tally.core.meeting),
build the command's entries, apply them to a copy of the state (so a refused command changes
nothing), then store the entries, their checkpoints and any sealed stock list in one transaction.
The meeting's commands (``tally.election``) and remote voting (``tally.remote_voting``) both append
through ``ElectionLog.commit``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keys
from bilingual import inline
from tally.core.errors import RoundStateError, TallyError
from tally.core.manifest import Manifest, canonical
from tally.core.meeting import (
    INVALID_DECISION_DOMAIN,
    SALT_BYTES,
    Entry,
    Meeting,
    apply_entry,
    begin,
    invalid_decision_message,
    make_entry,
    parse_entry,
)
from tally.core.meeting.bodies import StockCommitted, StockSupplemented
from tally.core.model import MemberId, PostKind
from tally.log.checkpoint import CheckpointBody, body_text, signature_line, signer_name
from tally.log.merkle import MerkleTree
from tally.manifest_io import load_signed_manifest, town_check
from tally.session_errors import SessionError
from tally.store import ElectionStore, StoreError

__all__ = ["ElectionLog", "check_invalid_confirmation", "check_work_group", "now"]


def _fresh_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


# Each log entry's secret salt (spec/log.md §1): the OS CSPRNG; only the vector generator replaces
# it (by a deterministic source, so that the committed vectors are reproducible).
_salt: Callable[[], bytes] = _fresh_salt
# The salt of a trial entry that is only applied, never stored (a check-in's pre-check).
_TRIAL_SALT = bytes(SALT_BYTES)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()


def now() -> dt.datetime:
    """The time of a command's entries: the local clock, read through ``_now`` (which the vector
    generator, the benchmarks and the tests replace)."""
    return _now()


def _reason(entry: Entry) -> str | None:
    b = entry.body
    return {
        "election.opened": "opened",
        "stock.committed": f"stock {b.get('post')} {b.get('round')}",
        "stock.supplemented": f"stock-supplement {b.get('post')} {b.get('round')} {b.get('part')}",
        "round.opened": f"round-opened {b.get('post')} {b.get('round')}",
        "round.counted": f"round-closed {b.get('post')} {b.get('round')}",
        "round.void": f"round-closed {b.get('post')} {b.get('round')}",
        "election.result": "result",
        "remote.opened": "remote-opened",
        "remote.closed": "remote-closed",
        "remote.totals": "remote-totals",
    }.get(entry.type)


class ElectionLog:
    """An election file opened and replayed: its store, manifest, state and Merkle tree, and the
    one way to append to it (``commit``)."""

    def __init__(
        self,
        store: ElectionStore,
        manifest: Manifest,
        town_key: keys.PublicKey,
        meeting: Meeting,
        tree: MerkleTree,
    ) -> None:
        self.store = store
        self.manifest = manifest
        self.town_key = town_key
        self.meeting = meeting
        self.tree = tree
        self.work_group_raw = keys.parse_public_key(canonical(manifest.work_group_key)).key

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        signed_manifest: bytes,
        signer: keys.Signer,
        *,
        now: dt.datetime | None = None,
        actor: str = "",
        trust_root: keys.PublicKey | str | None = None,
    ) -> ElectionLog:
        """Create the election file from a signed manifest (checks the work-group key, and the
        town key against ``trust_root`` when given: the CLI always gives it).

        Raises:
            SessionError: bad manifest or wrong key; StoreError: the file exists.
        """
        manifest, town = load_signed_manifest(signed_manifest, trust_root=trust_root)
        check_work_group(manifest, signer)
        store = ElectionStore.create(
            path, signed_manifest=signed_manifest, election_id=manifest.election_id
        )
        entry0 = make_entry(
            None,
            "election.opened",
            {"election_id": manifest.election_id.hex()},
            at=now or _now(),
            actor=actor,
            salt=_salt(),
            election_id=manifest.election_id,
        )
        meeting = begin(
            manifest.election, manifest.election_id, entry0, town_check=town_check(town)
        )
        tree = MerkleTree()
        log = cls(store, manifest, town, meeting, tree)
        log._store([entry0], signer=signer)
        return log

    @classmethod
    def open(cls, path: Path) -> ElectionLog:
        """Open an election file and replay its log; stops on any entry edited outside the program.

        Raises:
            StoreError: the file is missing or damaged, or the log fails its integrity checks.
        """
        store = ElectionStore.open(path)
        try:
            manifest, town = load_signed_manifest(store.signed_manifest)
        except SessionError as e:
            raise StoreError(e.code, zh=e.zh, en=e.en) from e
        if not hmac.compare_digest(manifest.election_id, store.election_id):
            raise StoreError(
                "store.manifest_mismatch",
                zh="选举文件中的选举标识与清单不符",
                en="the election id does not match the manifest",
            )
        tree = MerkleTree()
        meeting: Meeting | None = None
        for seq, raw in store.iter_log_rows():
            try:
                entry = parse_entry(raw)
                if entry.seq != seq:
                    raise RoundStateError("log.seq", zh="序号不符", en="sequence mismatch")
                if meeting is None:
                    meeting = begin(
                        manifest.election, manifest.election_id, entry, town_check=town_check(town)
                    )
                else:
                    if entry.type == "ballot.declared_invalid":
                        check_invalid_confirmation(manifest, entry)
                    meeting = apply_entry(meeting, entry, stock_ids=_stock_ids(store, entry))
            except RoundStateError as e:
                if e.code == "log.chain":
                    raise StoreError(
                        "store.tampered",
                        zh=f"选举记录第 {seq - 1} 条在程序之外被改动"
                        f"（第 {seq} 条记录的前一哈希与其不符），"
                        "选举不能继续，请交镇党委处理",
                        en=f"log entry {seq - 1} was edited outside the program (entry {seq} "
                        "no longer chains to it); the election cannot continue",
                    ) from e
                raise StoreError(
                    "store.tampered",
                    zh=f"选举记录第 {seq} 条无法通过核验（{inline(e.zh)}）："
                    "记录可能在程序之外被改动，选举不能继续，请交镇党委处理",
                    en=f"log entry {seq} fails its checks ({inline(e.en)}): it may have been "
                    "edited outside the program; the election cannot continue",
                ) from e
            tree.append(entry.leaf_hash)
        if meeting is None:
            raise StoreError("store.empty", zh="选举记录为空", en="the election log is empty")
        for cp in store.checkpoints():
            if (
                cp.size > len(tree)
                or body_text(
                    CheckpointBody(manifest.election_id, cp.size, tree.root_at(cp.size), cp.reason)
                )
                != cp.body
            ):
                raise StoreError(
                    "store.checkpoint_mismatch",
                    zh=f"检查点（{cp.size} 条）与记录不符：记录可能被改动",
                    en=f"checkpoint at size {cp.size} does not match the log",
                )
        return cls(store, manifest, town, meeting, tree)

    # -- the mechanism ------------------------------------------------------------------------
    def _build(
        self,
        specs: Sequence[tuple[str, dict[str, Any]]],
        *,
        now: dt.datetime | None = None,
        actor: str = "",
        stock_ids: frozenset[str] | None = None,
        actors: Sequence[str] | None = None,
    ) -> tuple[list[Entry], Meeting]:
        m = self.meeting
        entries: list[Entry] = []
        for i, (type_, body) in enumerate(specs, start=1):
            who = actors[i - 1] if actors is not None else actor
            e = make_entry(m, type_, body, at=now or _now(), actor=who, salt=_salt())
            try:
                m = apply_entry(m, e, stock_ids=stock_ids)
            except TallyError as err:
                if len(specs) > 1 and type_ == "ballot.entered":
                    raise SessionError(
                        err.code,
                        zh=f"第 {i} 张：{err.zh}",
                        en=f"ballot {i}: {err.en}",
                        clause=err.clause,
                    ) from err
                raise
            entries.append(e)
        return entries, m

    def commit(
        self,
        specs: Sequence[tuple[str, dict[str, Any]]],
        *,
        signer: keys.Signer | None = None,
        now: dt.datetime | None = None,
        actor: str = "",
        stock: tuple[str, int, bytes, frozenset[str]] | None = None,
        also: Callable[[sqlite3.Connection], None] | None = None,
        actors: Sequence[str] | None = None,
    ) -> list[Entry]:
        """Build the entries of ``specs``, apply them to a copy of the state, then store them,
        their checkpoints, the sealed ``stock`` list and ``also``'s rows in one transaction.

        Raises:
            SessionError: the state refuses an entry (nothing is stored); StoreError: another
                program wrote to the file since it was replayed.
        """
        try:
            entries, meeting = self._build(
                specs, now=now, actor=actor, stock_ids=stock[3] if stock else None, actors=actors
            )
        except TallyError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        self._store(entries, signer=signer, stock=stock, also=also)
        self.meeting = meeting
        return entries

    def _store(
        self,
        entries: Sequence[Entry],
        *,
        signer: keys.Signer | None,
        stock: tuple[str, int, bytes, frozenset[str]] | None = None,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        if signer is not None:
            check_work_group(self.manifest, signer)
        tree = self.tree
        size_before = len(tree)
        try:
            self._store_into(tree, entries, signer=signer, stock=stock, also=also)
        except BaseException:
            # The tree grows in place (a rebuild per command would cost O(n)); undo on failure.
            tree.truncate(size_before)
            raise

    def _store_into(
        self,
        tree: MerkleTree,
        entries: Sequence[Entry],
        *,
        signer: keys.Signer | None,
        stock: tuple[str, int, bytes, frozenset[str]] | None,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        checkpoints: list[tuple[int, str, str]] = []
        for e in entries:
            tree.append(e.leaf_hash)
            reason = _reason(e)
            if reason is not None:
                body = body_text(
                    CheckpointBody(self.manifest.election_id, len(tree), tree.root(), reason)
                )
                checkpoints.append((len(tree), reason, body))
        if checkpoints and signer is None:
            raise SessionError(
                "key.needed",
                zh="此操作会生成检查点，须使用工作组密钥（--key）",
                en="this step makes a checkpoint: the work-group key is needed (--key)",
            )
        with self.store.transaction() as conn:
            # The write lock is held from here: if another program (the CLI beside the service,
            # a second window) appended since this session replayed the log, these entries were
            # built on a stale state and must not land.
            if entries and self.store.last_seq() != entries[0].seq - 1:
                raise StoreError(
                    "store.changed_elsewhere",
                    zh="选举文件刚被另一个程序（如同时运行的命令行）修改，本次操作未保存，请重试",
                    en="another program (the command line, say) has just written to the election "
                    "file; nothing was saved: try again",
                )
            ElectionStore.add_entries(conn, [(e.seq, e.type, e.raw) for e in entries])
            for size, reason, body in checkpoints:
                assert signer is not None
                ElectionStore.add_checkpoint(
                    conn, size=size, reason=reason, body=body, lines=[signature_line(signer, body)]
                )
            if stock is not None:
                part = next((k[2] for e in entries if (k := _stock_key(e))), 1)
                ElectionStore.add_stock(
                    conn, post=stock[0], round_=stock[1], list_json=stock[2], part=part
                )
            if also is not None:
                also(conn)

    def resolve_member(self, ref: str) -> MemberId:
        """A member id from an id or a unique name.

        Raises:
            SessionError: nobody matches, or several members share the name (ids listed).
        """
        ref = ref.strip()
        election = self.manifest.election
        for m in election.members:
            if m.id == ref:
                return m.id
        for m in election.members:  # ids in either case: m001 is M001
            if m.id.casefold() == ref.casefold():
                return m.id
        same = [m for m in election.members if m.name == ref]
        if len(same) == 1:
            return same[0].id
        if same:
            ids = "、".join(m.id for m in same)
            raise SessionError(
                "member.ambiguous",
                zh=f"名册中有 {len(same)} 人名为 {ref}（编号 {ids}），请用编号签到",
                en=f"{len(same)} members are named {ref} ({ids}); use the member id",
            )
        raise SessionError(
            "member.unknown", zh=f"名册中没有 {ref}", en=f"nobody on the roster matches {ref}"
        )

    def cosign(self, signer: keys.Signer) -> int:
        """A scrutineer adds their signature to every round-closed and result checkpoint."""
        raw_keys = [keys.parse_public_key(canonical(k)).key for k in self.manifest.scrutineer_keys]
        if signer.role is not keys.Role.SCRUTINEER or not any(
            hmac.compare_digest(signer.public_key.key, k) for k in raw_keys
        ):
            raise SessionError(
                "cosign.not_scrutineer",
                zh="此密钥不是本次选举清单中的监票人密钥",
                en="this key is not a scrutineer key of the manifest",
            )
        name = signer_name(signer.public_key)
        todo = [
            cp
            for cp in self.store.checkpoints()
            if (cp.reason.startswith("round-closed") or cp.reason == "result")
            and name not in {n for n, _ in cp.signature_lines}
        ]
        with self.store.transaction() as conn:
            for cp in todo:
                ElectionStore.add_signatures(conn, cp.id, [signature_line(signer, cp.body)])
        return len(todo)

    def missing_cosignatures(self) -> list[str]:
        """Checkpoints that still lack a scrutineer's signature (reason and signer)."""
        names = [
            signer_name(keys.parse_public_key(canonical(k))) for k in self.manifest.scrutineer_keys
        ]
        out = []
        for cp in self.store.checkpoints():
            if cp.reason.startswith("round-closed") or cp.reason == "result":
                have = {n for n, _ in cp.signature_lines}
                out += [f"{cp.reason}: {n}" for n in names if n not in have]
        return out


def check_work_group(manifest: Manifest, signer: keys.Signer) -> None:
    wg = keys.parse_public_key(canonical(manifest.work_group_key))
    if signer.role is not keys.Role.WORK_GROUP or not hmac.compare_digest(
        signer.public_key.key, wg.key
    ):
        raise SessionError(
            "key.not_work_group",
            zh="此密钥不是本次选举清单中的工作组密钥",
            en="this key is not the work-group key named in the manifest",
        )


def _stock_key(entry: Entry) -> tuple[PostKind, int, int] | None:
    """Post, round and part (1 for the first print) of a stock entry."""
    v = entry.parsed  # a malformed body is not a stock key: the replay refuses the entry itself
    if isinstance(v, StockCommitted):
        return v.post, v.round, 1
    if isinstance(v, StockSupplemented):
        return (v.post, v.round, v.part) if v.part >= 2 else None
    return None


def _stock_ids(store: ElectionStore, entry: Entry) -> frozenset[str] | None:
    """For a ``stock.committed`` entry, the ids of the sealed list it commits to (read when the
    replay reaches it, so only the open rounds' ids are ever held)."""
    key = _stock_key(entry)
    if key is None:
        return None
    raw = store.stock_list_part(key[0].value, key[1], key[2])
    return None if raw is None else frozenset(json.loads(raw)["ballot_ids"])


def check_invalid_confirmation(manifest: Manifest, entry: Entry) -> None:
    """(R8.5) The scrutineer's signature on a ``ballot.declared_invalid`` entry: by a scrutineer
    key of the manifest, over this entry's decision and seq.

    Raises:
        RoundStateError: no such scrutineer, or the signature does not verify.
    """
    b = entry.body
    by_name = {
        signer_name(pk): pk
        for pk in (keys.parse_public_key(canonical(k)) for k in manifest.scrutineer_keys)
    }
    pk = by_name.get(b["scrutineer"]) if isinstance(b["scrutineer"], str) else None
    try:
        if pk is None or not isinstance(b["signature"], str):
            raise keys.SignatureError(zh="监票人不在清单中", en="no such scrutineer")
        signature = base64.b64decode(b["signature"], validate=True)
        keys.verify(
            pk,
            INVALID_DECISION_DOMAIN,
            invalid_decision_message(manifest.election_id, entry.seq, b),
            signature,
        )
    except (keys.SignatureError, binascii.Error, ValueError) as e:
        raise RoundStateError(
            "invalid.confirmation",
            zh="无效票的监票人确认签名无效，或签名者不是本次选举的监票人",
            en="the scrutineer's confirmation of an invalid ballot does not verify",
            clause="R8.5",
        ) from e
