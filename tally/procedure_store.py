"""The branch procedure file (spec/procedure.md RP-1.1, RP-11.1, RP-11.2, RP-12.1).

One SQLite file per branch, beside its election file: the town-signed ``signed-procedure/1``, the
procedure log (``procedure-entry/1``: a salted hash chain and an RFC 9162 Merkle tree), its
checkpoints signed by the work group key (and co-signed by every procedure scrutineer key on each
``round-closed``), and the sealed stock lists the log commits to.

Every append is checked before anything is written: the entry by the pure core
(:mod:`tally.core.procedure.ledger`: order, counts), a ballot's ``BP1:`` QR against the round it is
entered in (PQ1-PQ8, ``ballot_printer.procedure_qr``), a declared-invalid ballot's scrutineer
confirmation (RP-3.8), a stock entry's sealed list and its commitment (RP-3.6). Then the entry, its
stock list and its checkpoint are written in one transaction (WAL, ``synchronous=FULL``), and the
in-memory ledger and tree move only after the commit: a refused or failed operation changes no
stored data. SQL is always parameterised; triggers refuse UPDATE and DELETE on the history.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import keys
from ballot_printer import PaperKind, ProcedureForm, parse_procedure_qr_text
from ballot_printer.procedure_qr import verify_procedure_payload
from ballot_printer.procedure_stock import PROCEDURE_STOCK_FORMAT, procedure_stock_commitment_of
from bilingual import BilingualError, inline
from tally.core.manifest import canonical
from tally.core.model import PostKind
from tally.core.procedure import SignedProcedure, parse_signed_envelope
from tally.core.procedure.entries import (
    DeclaredInvalid,
    EvaluationEntered,
    Form,
    ProcedureEntry,
    RecommendationEntered,
    StockCommitted,
    make_entry,
    parse_entry,
)
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.ledger import (
    Ledger,
    RoundKey,
    apply_entry,
    checkpoint_reason,
    open_ledger,
)
from tally.log import MerkleTree
from tally.log.checkpoint import note_body, signature_line, signer_name
from tally.log_file import (
    LOG_TABLES,
    BundleFile,
    SignedLogFile,
    append_only,
    bundle_index,
    create_file,
    insert_checkpoint,
    open_file,
)
from tally.procedure_file import load_signed_procedure
from tally.procedure_signatures import check_town_act
from tally.store import StoreError, transaction

__all__ = [
    "CHECKPOINT_DOMAIN",
    "INVALID_DOMAIN",
    "ProcedureStore",
    "Randomness",
    "confirm_invalid",
    "invalid_decision_message",
    "open_recommendation_session",
]

_T = TypeVar("_T")

CHECKPOINT_DOMAIN: Final = b"branch-election/procedure-checkpoint/1"
INVALID_DOMAIN: Final = b"branch-election/procedure-invalid-ballot/1"
BUNDLE_INDEX_FORMAT: Final = "procedure-bundle-index/1"
SCHEMA_VERSION: Final = 1
_SCHEMA: Final[tuple[str, ...]] = (
    *LOG_TABLES,
    # (RP-3.6) each sealed stock list as written by `tally procedure print`, by its stock entry.
    "CREATE TABLE stocks (form TEXT NOT NULL, post TEXT NOT NULL, round INTEGER NOT NULL, "
    "part INTEGER NOT NULL, list BLOB NOT NULL, PRIMARY KEY (form, post, round, part))",
    *append_only(("log", "checkpoints", "checkpoint_signatures", "stocks")),
)
_PAPER: Final = {
    PostKind.COMMITTEE: PaperKind.COMMITTEE,
    PostKind.SECRETARY: PaperKind.SECRETARY,
    PostKind.DEPUTY_SECRETARY: PaperKind.DEPUTY,
}

#: The shell's random source: ``n`` bytes fresh from the OS CSPRNG (``secrets.token_bytes``).
Randomness = Callable[[int], bytes]


def open_recommendation_session(
    append: Callable[[str, dict[str, Any]], _T], body: dict[str, Any]
) -> _T:
    """(RP-3.2) Append a ``recommendation.opened`` through ``append``; a quorum it fails is
    recorded as ``recommendation.quorum_failed`` (it consumes no round number), then refused."""
    try:
        return append("recommendation.opened", body)
    except ProcedureLogError as e:
        if e.code == "recommendation.quorum_failed":
            append("recommendation.quorum_failed", {k: v for k, v in body.items() if k != "posts"})
        raise


def invalid_decision_message(procedure_id: bytes, seq: int, body: Mapping[str, Any]) -> bytes:
    """(RP-3.8) What a scrutineer signs to confirm a ballot declared invalid."""
    fields = ("form", "post", "round", "ballot_id", "qr", "reason")
    return canonical(
        {"procedure_id": procedure_id.hex(), "seq": seq} | {k: body[k] for k in fields}
    )


def confirm_invalid(
    store: ProcedureStore, body: Mapping[str, Any], scrutineer: keys.Signer
) -> dict[str, Any]:
    """(RP-3.8) ``body`` (a ``ballot.declared_invalid`` body without ``scrutineer`` and
    ``signature``) confirmed by ``scrutineer`` for the store's next entry.

    Raises:
        ProcedureLogError: ``procedure.scrutineer_key`` (not a scrutineer key of the
            definition: nothing is signed).
    """
    name = store.scrutineer_name(scrutineer.public_key)
    full = {**body, "scrutineer": name}
    message = invalid_decision_message(store.procedure_id, store.ledger.size, full)
    signature = scrutineer.sign(INVALID_DOMAIN, message)
    return full | {"signature": base64.b64encode(signature).decode()}


def _key(doc: Mapping[str, str]) -> keys.PublicKey:
    return keys.parse_public_key(canonical(dict(doc)))


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureLogError:
    return ProcedureLogError(code, zh=zh, en=en, clause=clause)


class ProcedureStore(SignedLogFile):
    """The branch procedure file. Use :meth:`create` or :meth:`open`."""

    FILE_ZH = "换届程序文件"
    FILE_EN = "procedure file"

    def __init__(self, conn: sqlite3.Connection, path: Path, signed: SignedProcedure) -> None:
        self._conn = conn
        self.path = path
        self.signed = signed
        p = signed.procedure
        self.work_group_key = _key(p.keys.work_group.to_json())
        self.scrutineer_keys = tuple(_key(k.to_json()) for k in p.keys.scrutineers)
        self._ledger = open_ledger(p, signed.procedure_id)
        self._tree = MerkleTree()
        for raw in (bytes(r[0]) for r in conn.execute("SELECT raw FROM log ORDER BY seq")):
            entry = parse_entry(raw)
            self._check(entry)
            self._ledger = apply_entry(self._ledger, entry, stock_ids=self._stored_ids(entry))
            self._tree.append(entry.leaf_hash)
        origin = f"branch-procedure/{signed.procedure_id.hex()}"
        for size, reason, body in conn.execute("SELECT size, reason, body FROM checkpoints"):
            if size > self._tree.size or body != note_body(
                origin, size, self._tree.root_at(size), reason
            ):
                raise _refuse(
                    "log.checkpoint",
                    "RP-11.2",
                    f"第 {size} 条记录处的检查点与记录不符",
                    f"the checkpoint at size {size} does not match the log",
                )

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        *,
        signed_procedure: bytes,
        trust_root: keys.PublicKey | str,
        work_group: keys.Signer,
        at: dt.datetime,
        actor: str,
        random: Randomness,
    ) -> ProcedureStore:
        """A new procedure file with entry 0 (``procedure.opened``) and the ``opened``
        checkpoint; never overwrites.

        Raises:
            ProcedureFileError, ProcedureDefinitionError: the definition is not signed by the
                town key given, or has problems.
            ProcedureLogError: ``procedure.work_group_key`` (the signer is not the definition's
                work group key).
            StoreError: the file exists or cannot be written.
        """
        signed = load_signed_procedure(signed_procedure, trust_root=trust_root)
        _work_group(signed, work_group)
        pid = signed.procedure_id
        entry = make_entry(
            0,
            pid.hex(),
            "procedure.opened",
            {"procedure_id": pid.hex()},
            at=at,
            actor=actor,
            salt=random(32),
        )
        apply_entry(open_ledger(signed.procedure, pid), entry)
        body = note_body(f"branch-procedure/{pid.hex()}", 1, entry.leaf_hash, "opened")
        create_file(
            path,
            schema=_SCHEMA,
            meta=[
                ("schema_version", str(SCHEMA_VERSION).encode()),
                ("signed_procedure", signed_procedure),
            ],
            entry=(0, entry.type, entry.raw),
            checkpoint=(body, signature_line(work_group, body, domain=CHECKPOINT_DOMAIN)),
            name=("换届程序文件", "procedure file"),
        )
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> ProcedureStore:
        """Open a procedure file, re-checking the definition's signature and replaying the log.

        Raises:
            StoreError: missing, not a procedure file, of a newer version, or damaged
                (``store.tampered``: an entry fails its checks).
        """
        conn, raw = open_file(
            path,
            key="signed_procedure",
            schema_version=SCHEMA_VERSION,
            name=("换届程序文件", "procedure file"),
        )
        try:
            town = _key(parse_signed_envelope(raw).town_key.to_json())
            signed = load_signed_procedure(raw, trust_root=town)
        except (ValueError, BilingualError) as e:
            conn.close()
            raise StoreError(
                "store.corrupt",
                zh=f"{path} 中的换届程序定义无效：{inline(getattr(e, 'zh', str(e)))}",
                en=f"the procedure definition in {path} is not valid: {e}",
            ) from e
        try:
            return cls(conn, path, signed)
        except BilingualError as e:
            conn.close()  # a reader that retries a damaged file must not leak a connection
            raise StoreError(
                "store.tampered",
                zh=f"换届程序记录无法通过核验（{inline(e.zh)}）：记录可能在程序之外被改动",
                en=f"the procedure log fails its checks ({inline(e.en)}): it may have been edited "
                "outside the program",
            ) from e

    # -- reading -------------------------------------------------------------------------------
    @property
    def ledger(self) -> Ledger:
        """The procedure as its log says now."""
        return self._ledger

    @property
    def procedure_id(self) -> bytes:
        return self.signed.procedure_id

    def entries(self) -> list[ProcedureEntry]:
        return [parse_entry(raw) for raw in self.log_rows()]

    def stock_lists(self) -> list[tuple[str, bytes]]:
        """Each stored sealed list with its bundle name (RP-12.1 ``stocks/``)."""
        out: list[tuple[str, bytes]] = []
        for form, post, round_no, part, data in self._conn.execute(
            "SELECT form, post, round, part, list FROM stocks ORDER BY rowid"
        ):
            name = "-".join(str(x) for x in (form, post or None, round_no) if x is not None)
            out.append((name + (f"-{part}" if part > 1 else ""), bytes(data)))
        return out

    def missing_cosigners(self) -> list[tuple[str, list[str]]]:
        """Each ``round-closed`` checkpoint's reason and the scrutineers who have not co-signed."""
        wanted = {signer_name(k) for k in self.scrutineer_keys}
        return [
            (reason, sorted(wanted - have))
            for _, reason, have in self.round_closed_signers()
            if wanted - have
        ]

    def round_closed_signers(self) -> list[tuple[int, str, frozenset[str]]]:
        """(RP-11.2) Each ``round-closed`` checkpoint's size, reason and the names of every line
        signed on it (the work group's and the scrutineers' co-signatures), oldest first."""
        out: list[tuple[int, str, frozenset[str]]] = []
        for cid, size, reason in self._conn.execute(
            "SELECT id, size, reason FROM checkpoints WHERE reason LIKE 'round-closed %' "
            "ORDER BY id"
        ).fetchall():
            signed = frozenset(
                s
                for (s,) in self._conn.execute(
                    "SELECT signer FROM checkpoint_signatures WHERE checkpoint_id = ?", (cid,)
                )
            )
            out.append((int(size), str(reason), signed))
        return out

    def scrutineer_name(self, key: keys.PublicKey) -> str:
        """The signer name of ``key`` when it is a scrutineer key of the definition.

        Raises:
            ProcedureLogError: ``procedure.scrutineer_key`` otherwise (a key of another role,
                or another procedure's scrutineer).
        """
        name = signer_name(key)
        if key.role is not keys.Role.SCRUTINEER or name not in {
            signer_name(k) for k in self.scrutineer_keys
        }:
            raise _refuse(
                "procedure.scrutineer_key",
                "RP-11.2",
                "此密钥不是本换届程序定义中的监票人密钥",
                "this key is not a scrutineer key of the procedure definition",
            )
        return name

    # -- checks of what the core cannot see ----------------------------------------------------
    def _stored_ids(self, entry: ProcedureEntry) -> frozenset[str] | None:
        v = entry.value
        if not isinstance(v, StockCommitted):
            return None
        row = self._conn.execute(
            "SELECT list FROM stocks WHERE form = ? AND post = ? AND round = ? AND part = ?",
            (v.form.value, v.post.value if v.post else "", v.round, v.part),
        ).fetchone()
        return None if row is None else self._stock_ids(v, bytes(row[0]))

    def _stock_ids(self, v: StockCommitted, sealed: bytes) -> frozenset[str]:
        """(RP-3.6) The ids of a sealed list that matches the stock entry and its commitment."""
        try:
            doc = json.loads(sealed)
            ids = [bytes.fromhex(i) for i in doc["ballot_ids"]]
            expected = {
                "format": PROCEDURE_STOCK_FORMAT,
                "procedure_id": self.procedure_id.hex(),
                "form": v.form.value,
                "post": v.post.value if v.post else "",
                "round": v.round,
                "count": v.count,
                "commitment": v.commitment,
            }
            same = all(doc.get(k) == x for k, x in expected.items()) and set(doc) == {
                *expected,
                "ballot_ids",
            }
            post = _PAPER[v.post] if v.post else None
            commitment = procedure_stock_commitment_of(
                self.procedure_id, ProcedureForm[v.form.name], post, v.round, ids
            )
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise _stock_refused() from e
        if not same or commitment.hex() != v.commitment or len(set(ids)) != len(ids):
            raise _stock_refused()
        return frozenset(i.hex() for i in ids)

    def _check(self, entry: ProcedureEntry) -> None:
        """A ballot's QR verifies for its round (PQ1-PQ8) and names its ballot id; a ballot
        declared invalid carries a procedure scrutineer's confirmation (RP-3.8)."""
        check_town_act(entry, self.signed, self.checkpoint_texts)  # RP-6.4, RP-10 (piece 5)
        v = entry.value
        if isinstance(v, RecommendationEntered):
            key = RoundKey(Form(v.group.value), v.post, v.round)
        elif isinstance(v, EvaluationEntered):
            key = RoundKey(Form.EVALUATION, None, v.round)
        elif isinstance(v, DeclaredInvalid):
            key = RoundKey(v.form, v.post, v.round)
            self._check_confirmation(entry, v)
        else:
            return
        verified = verify_procedure_payload(
            parse_procedure_qr_text(v.qr),
            self.work_group_key.key,
            procedure_id=self.procedure_id,
            form=ProcedureForm[key.form.name],
            post=_PAPER[key.post] if key.post else None,
            round_number=key.round,
        )
        if verified.ballot_id.hex() != v.ballot_id:
            raise _refuse(
                "ballot.id_differs",
                "RP-3.7",
                "票号与二维码不符",
                "the ballot id differs from the QR's",
            )

    def _check_confirmation(self, entry: ProcedureEntry, v: DeclaredInvalid) -> None:
        by_name = {signer_name(k): k for k in self.scrutineer_keys}
        pk = by_name.get(v.scrutineer)
        try:
            if pk is None:
                raise keys.SignatureError(zh="监票人不在定义中", en="no such scrutineer")
            keys.verify(
                pk,
                INVALID_DOMAIN,
                invalid_decision_message(self.procedure_id, entry.seq, entry.body),
                base64.b64decode(v.signature, validate=True),
            )
        except (keys.SignatureError, binascii.Error, ValueError) as e:
            raise _refuse(
                "invalid.confirmation",
                "RP-3.8",
                "无效票的监票人确认签名无效，或签名者不是本程序的监票人",
                "the scrutineer's confirmation of an invalid ballot does not verify",
            ) from e

    # -- writing -------------------------------------------------------------------------------
    def append(
        self,
        type_: str,
        body: Mapping[str, Any],
        *,
        at: dt.datetime,
        actor: str,
        work_group: keys.Signer,
        random: Randomness,
        stock_list: bytes | None = None,
    ) -> tuple[ProcedureEntry, str | None]:
        """Check and append one entry, with its stock list and its checkpoint, in one transaction.

        Returns:
            The entry, and the checkpoint text made after it (None when none is due).

        Raises:
            ProcedureLogError: the core's refusal (order, count, …), ``stock.list``,
                ``ballot.id_differs``, ``invalid.confirmation``, ``procedure.work_group_key``.
            ProcedureCountError: the counting core's refusal.
            ProcedureQrError: the ballot's QR fails PQ1-PQ8 for the round.
            StoreError: ``store.stale`` or the write failed; nothing was written.
        """
        _work_group(self.signed, work_group)
        entry = make_entry(
            self._ledger.size,
            self._ledger.prev,
            type_,
            body,
            at=at,
            actor=actor,
            salt=random(32),
        )
        self._check(entry)
        v = entry.value
        ids = None
        if isinstance(v, StockCommitted):
            if stock_list is None:
                raise _stock_refused()
            ids = self._stock_ids(v, stock_list)
        after = apply_entry(self._ledger, entry, stock_ids=ids)
        checkpoint = self._checkpoint_after(entry, work_group)
        with transaction(self._conn) as conn:
            self._same_log(conn)
            conn.execute(
                "INSERT INTO log (seq, type, raw) VALUES (?, ?, ?)",
                (entry.seq, entry.type, entry.raw),
            )
            if isinstance(v, StockCommitted):
                conn.execute(
                    "INSERT INTO stocks (form, post, round, part, list) VALUES (?, ?, ?, ?, ?)",
                    (v.form.value, v.post.value if v.post else "", v.round, v.part, stock_list),
                )
            if checkpoint is not None:
                size, reason, cp_body, signed = checkpoint
                insert_checkpoint(conn, size, reason, cp_body, [signed])
        self._tree.append(entry.leaf_hash)
        self._ledger = after
        return entry, None if checkpoint is None else checkpoint[2] + "\n" + checkpoint[3][1]

    def _checkpoint_after(
        self, entry: ProcedureEntry, work_group: keys.Signer
    ) -> tuple[int, str, str, tuple[str, str]] | None:
        """(RP-11.2) The checkpoint due after ``entry`` (size, reason, body, the work group's
        line), over the tree with the entry; None when none is due."""
        reason = checkpoint_reason(entry)
        if reason is None:
            return None
        size = self._tree.size
        self._tree.append(entry.leaf_hash)
        root = self._tree.root()
        self._tree.truncate(size)
        body = note_body(f"branch-procedure/{self.procedure_id.hex()}", size + 1, root, reason)
        return size + 1, reason, body, signature_line(work_group, body, domain=CHECKPOINT_DOMAIN)

    def cosign(self, scrutineer: keys.Signer) -> list[str]:
        """(RP-11.2) Add ``scrutineer``'s line to every ``round-closed`` checkpoint it has not
        signed yet; the reasons co-signed.

        Raises:
            ProcedureLogError: ``procedure.scrutineer_key`` (not a scrutineer key of the
                definition).
            StoreError: the write failed; nothing was written.
        """
        name = self.scrutineer_name(scrutineer.public_key)
        done: list[str] = []
        with transaction(self._conn) as conn:
            for cid, reason, body in conn.execute(
                "SELECT id, reason, body FROM checkpoints WHERE reason LIKE 'round-closed %' "
                "AND id NOT IN (SELECT checkpoint_id FROM checkpoint_signatures WHERE signer = ?) "
                "ORDER BY id",
                (name,),
            ).fetchall():
                signer, line = signature_line(scrutineer, body, domain=CHECKPOINT_DOMAIN)
                conn.execute(
                    "INSERT INTO checkpoint_signatures (checkpoint_id, signer, line) "
                    "VALUES (?, ?, ?)",
                    (cid, signer, line),
                )
                done.append(reason)
        return done

    # -- export --------------------------------------------------------------------------------
    def bundle_files(self) -> list[BundleFile]:
        """The ``procedure-bundle/1`` (RP-12.1): the signed definition, the log, the checkpoints,
        each sealed stock list and the ballot records, with its index."""
        rows = self.log_rows()
        files = [
            BundleFile("procedure.json", self.signed.raw),
            BundleFile("log.jsonl", b"".join(r + b"\n" for r in rows)),
            BundleFile("checkpoints.json", self._checkpoints_json()),
            *(BundleFile(f"stocks/{name}.json", data) for name, data in self.stock_lists()),
            BundleFile("ballots.jsonl", self._ballot_records(rows)),
        ]
        index = bundle_index(
            BUNDLE_INDEX_FORMAT, "procedure_id", self.procedure_id.hex(), len(rows), files
        )
        return [index, *files]

    @staticmethod
    def _ballot_records(rows: Sequence[bytes]) -> bytes:
        """(RP-12.1) One ``procedure-ballot-record/1`` per ballot entered and not withdrawn."""
        kept: dict[str, dict[str, Any]] = {}
        for raw in rows:
            doc = json.loads(raw)
            if doc["type"] in {
                "recommendation.entered",
                "evaluation.entered",
                "ballot.declared_invalid",
            }:
                kept[doc["body"]["ballot_id"]] = {
                    "format": "procedure-ballot-record/1",
                    "seq": doc["seq"],
                    "type": doc["type"],
                    "body": doc["body"],
                }
            elif doc["type"] == "ballot.withdrawn":
                kept.pop(doc["body"]["ballot_id"], None)
        records = sorted(kept.values(), key=lambda r: int(r["seq"]))
        return b"".join(canonical(r) + b"\n" for r in records)


def _stock_refused() -> ProcedureLogError:
    return _refuse(
        "stock.list",
        "RP-3.6",
        "票号清单与登记的票种、职位、轮次、张数或承诺值不符",
        "the sealed stock list does not match the entry's form, post, round, count or commitment",
    )


def _work_group(signed: SignedProcedure, signer: keys.Signer) -> None:
    wg = _key(signed.procedure.keys.work_group.to_json())
    if signer.public_key.role is not keys.Role.WORK_GROUP or not hmac.compare_digest(
        signer.public_key.key, wg.key
    ):
        raise _refuse(
            "procedure.work_group_key",
            "RP-1.2",
            "此密钥不是本换届程序定义中的工作组密钥",
            "this key is not the work group key of the procedure definition",
        )
