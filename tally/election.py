"""An election file in use: the shell that joins the store, the keys, the printer and the core.

Every command follows one pattern: replay the stored log into a ``Meeting`` (tally.core.meeting),
build the command's entries, apply them to a copy of the state (so a refused command changes
nothing), then store the entries, their checkpoints and any sealed stock list in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

import ballot_printer
import keys
from keys import blind_rsa, elgamal, remote, remote_ballot
from tally import remote_checker
from tally.calendar import CalendarError, WorkingDayCalendar
from tally.core.ballots import INVALID_REASONS
from tally.core.double_entry import EnteredBallot, read_entry, read_marks, split_write_in
from tally.core.errors import DefinitionError, RoundStateError, TallyError
from tally.core.explain import describe_next, describe_quorum, round_wording
from tally.core.manifest import (
    MANIFEST_DOMAIN,
    PUBLIC_SUMMARY_DOMAIN,
    SIGNED_MANIFEST_FORMAT,
    Manifest,
    canonical,
    parse_manifest,
    public_summary,
    public_summary_hash,
)
from tally.core.marks_file import resolve_write_in
from tally.core.meeting import (
    AMENDED_LIST_DOMAIN,
    AMENDED_LIST_FORMAT,
    INVALID_DECISION_DOMAIN,
    SALT_BYTES,
    Entry,
    Meeting,
    TownSignatureCheck,
    amended_list_document,
    apply_entry,
    assembly_posts,
    begin,
    check_supplement,
    count_current,
    counted_body,
    invalid_decision_message,
    make_entry,
    opened_body,
    parse_entry,
    remote_counts_here,
    remote_list_changed,
)
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.remote import post_shapes, write_in_lists_body
from tally.core.rounds import (
    ElectingBody,
    Finished,
    RoundPurpose,
    RoundSpec,
    amend_candidates,
    amendable_round,
    amended_list_warnings,
    joint_rounds,
)
from tally.core.rules import plenary_quorum, publicity_day_zero, quorum
from tally.log.checkpoint import CheckpointBody, body_text, signature_line, signer_name
from tally.log.merkle import MerkleTree
from tally.store import ElectionStore, StoreError

__all__ = [
    "PAPER_KIND",
    "SIGNED_AMENDED_LIST_FORMAT",
    "ElectionSession",
    "EntryInput",
    "ManifestDefinitionError",
    "SessionError",
    "load_signed_manifest",
    "sign_amended_list",
    "sign_manifest",
    "signed_public_summary",
    "town_check",
]

PAPER_KIND = {
    PostKind.COMMITTEE: ballot_printer.PaperKind.COMMITTEE,
    PostKind.SECRETARY: ballot_printer.PaperKind.SECRETARY,
    PostKind.DEPUTY_SECRETARY: ballot_printer.PaperKind.DEPUTY,
}
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def _fresh_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


# Each log entry's secret salt (spec/log.md §1): the OS CSPRNG; only the vector generator replaces
# it (by a deterministic source, so that the committed vectors are reproducible).
_salt: Callable[[], bytes] = _fresh_salt
# The salt of a trial entry that is only applied, never stored (a check-in's pre-check).
_TRIAL_SALT = bytes(SALT_BYTES)


class SessionError(TallyError):
    """A command cannot be carried out; nothing was stored."""


class ManifestDefinitionError(SessionError):
    """The signed manifest's definition has problems; ``problems`` lists every one of them."""

    def __init__(self, error: DefinitionError) -> None:
        super().__init__(error.code, zh=error.zh, en=error.en, clause=error.clause)
        self.problems = error.problems


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()


def _strict_json(raw: bytes, what: str) -> Any:
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys_ = [k for k, _ in pairs]
        if len(keys_) != len(set(keys_)):
            msg = "duplicate key"
            raise ValueError(msg)
        return dict(pairs)

    try:
        return json.loads(raw, object_pairs_hook=no_dupes, parse_float=_no_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise SessionError(
            "json.malformed", zh=f"{what} 不是有效的 JSON：{e}", en=f"{what} is not valid JSON: {e}"
        ) from e


def _no_float(text: str) -> float:
    msg = f"floats are not allowed ({text})"
    raise ValueError(msg)


SIGNED_AMENDED_LIST_FORMAT = "signed-amended-list/1"
MAX_AMENDED_LIST_BYTES = 1024 * 1024


def town_check(town: keys.PublicKey) -> TownSignatureCheck:
    """The core's check of the town committee's signatures (amended lists), with this key."""

    def check(domain: bytes, message: bytes, signature: bytes) -> None:
        try:
            keys.verify(town, domain, message, signature)
        except keys.KeysError as e:
            raise ValueError(e.en) from e

    return check


def sign_amended_list(request: bytes, town: keys.Signer) -> bytes:
    """The town committee signs an ``amended-list/1`` request: ``signed-amended-list/1`` bytes
    (spec/log.md §2.1).

    Raises:
        SessionError: not the town key, or the request is not an ``amended-list/1`` document.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "amend.signer_role",
            zh="调整后的候选人名单须由镇党委密钥签署",
            en="an amended candidate list must be signed with the town committee key",
        )
    doc = _amended_list_request(request)
    sig = town.sign(AMENDED_LIST_DOMAIN, canonical(doc))
    return canonical(
        {
            "format": SIGNED_AMENDED_LIST_FORMAT,
            "list": doc,
            "signature": base64.b64encode(sig).decode(),
        }
    )


def _amended_list_request(raw: bytes) -> dict[str, Any]:
    doc = _strict_json(raw[: MAX_AMENDED_LIST_BYTES + 1], "候选人名单文件 / the list file")
    keys_ = {"format", "election_id", "post", "round", "candidates", "town_approval"}
    ok = (
        isinstance(doc, dict)
        and set(doc) == keys_
        and doc["format"] == AMENDED_LIST_FORMAT
        and isinstance(doc["election_id"], str)
        and isinstance(doc["post"], str)
        and isinstance(doc["round"], int)
        and isinstance(doc["candidates"], list)
        and all(isinstance(c, str) for c in doc["candidates"])
        and isinstance(doc["town_approval"], str)
    )
    if not ok:
        raise SessionError(
            "amend.bad_file",
            zh="不是 amended-list/1 候选人名单文件（字段缺少、多余或类型不符）",
            en="not an amended-list/1 document (missing, unknown or mistyped members)",
        )
    result: dict[str, Any] = doc
    return result


def sign_manifest(manifest: Manifest, town: keys.Signer) -> bytes:
    """The ``signed-manifest/1`` bytes (spec/manifest.md §4)."""
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "manifest.signer_role",
            zh="选举清单须由镇党委密钥签署",
            en="the manifest must be signed with the town committee key",
        )
    sig = town.sign(MANIFEST_DOMAIN, manifest.canonical_bytes)
    town_doc = json.loads(keys.export_public_key(town.public_key))
    summary = public_summary(manifest.document, town_doc)
    summary_sig = town.sign(PUBLIC_SUMMARY_DOMAIN, canonical(summary))
    doc = {
        "format": SIGNED_MANIFEST_FORMAT,
        "manifest": dict(manifest.document),
        "town_key": town_doc,
        "signature": base64.b64encode(sig).decode(),
        "summary_signature": base64.b64encode(summary_sig).decode(),
    }
    return canonical(doc)


def load_signed_manifest(
    raw: bytes, *, trust_root: keys.PublicKey | str | None = None
) -> tuple[Manifest, keys.PublicKey]:
    """Parse and check a signed manifest: format, town key role, trust root, signature, definition.

    Args:
        raw: the ``signed-manifest/1`` bytes.
        trust_root: the town committee's public key, or its 25-digit fingerprint, as the user
            supplied it (spec/manifest.md §4). None only where the manifest was checked against the
            trust root before (an election file created by ``init``).

    Raises:
        SessionError: any problem, with the reason.
    """
    if len(raw) > MAX_MANIFEST_BYTES:
        raise SessionError("manifest.too_large", zh="选举清单文件过大", en="manifest too large")
    doc = _strict_json(raw, "选举清单")
    if (
        not isinstance(doc, dict)
        or doc.get("format") != SIGNED_MANIFEST_FORMAT
        or set(doc) != {"format", "manifest", "town_key", "signature", "summary_signature"}
    ):
        raise SessionError(
            "manifest.format",
            zh="不是经镇党委签署的选举清单（signed-manifest/1）",
            en="not a signed-manifest/1 document",
        )
    try:
        town = keys.parse_public_key(canonical(doc["town_key"]))
        sig = base64.b64decode(doc["signature"], validate=True)
        summary_sig = base64.b64decode(doc["summary_signature"], validate=True)
    except (keys.KeysError, ValueError, TypeError) as e:  # rfc8785: an integer beyond 2**53
        raise SessionError(
            "manifest.town_key", zh=f"镇党委公钥或签名格式错误：{e}", en=f"bad town key: {e}"
        ) from e
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "manifest.town_role", zh="签署者不是镇党委密钥", en="the signer is not the town key"
        )
    if trust_root is not None:
        want = (
            trust_root.replace(" ", "")
            if isinstance(trust_root, str)
            else keys.fingerprint(trust_root).replace(" ", "")
        )
        if not hmac.compare_digest(keys.fingerprint(town).replace(" ", ""), want):
            raise SessionError(
                "manifest.town_key",
                zh="选举清单不是用本镇党委的公钥签署的（公钥指纹不符），不能使用",
                en="the manifest is not signed by the town committee key given (fingerprint differs)",
            )
    try:
        message = canonical(doc["manifest"])
    except ValueError as e:  # rfc8785 refuses it (an integer beyond 2**53): nothing was signed
        raise SessionError(
            "manifest.format",
            zh=f"选举清单含有无法规范化的值：{e}",
            en=f"the manifest holds a value that has no canonical JSON form: {e}",
        ) from e
    try:
        keys.verify(town, MANIFEST_DOMAIN, message, sig)
    except keys.SignatureError as e:
        raise SessionError(
            "manifest.signature",
            zh="选举清单的镇党委签名无效：清单未签署或已被改动，不能使用",
            en="the town committee's signature on the manifest does not verify",
        ) from e
    try:
        manifest = parse_manifest(doc["manifest"])
    except DefinitionError as e:
        raise ManifestDefinitionError(e) from e  # every problem, as `tally check` lists them
    except TallyError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en) from e
    try:
        summary = public_summary(manifest.document, doc["town_key"])
        keys.verify(town, PUBLIC_SUMMARY_DOMAIN, canonical(summary), summary_sig)
    except keys.SignatureError as e:
        raise SessionError(
            "manifest.summary_signature",
            zh="选举公开摘要的镇党委签名无效：摘要未签署或与清单不符，不能使用",
            en="the town committee's signature on the public summary does not verify",
        ) from e
    return manifest, town


def signed_public_summary(signed_manifest: bytes) -> tuple[dict[str, Any], str]:
    """The ``public-summary/1`` of an already checked signed manifest and the town's signature on
    it (base64): what the voting page is shown instead of the manifest (spec/manifest.md §6)."""
    doc = json.loads(signed_manifest)
    return public_summary(doc["manifest"], doc["town_key"]), str(doc["summary_signature"])


@dataclass(frozen=True, slots=True)
class RemoteCastV2:
    """One ``POST /api/remote/cast`` of version 2 (RV-4.1): the credential as decoded bytes and
    the ``remote-ballot/2`` object as received."""

    token: bytes
    prefix: bytes
    signature: bytes
    ballot: Any


MAX_CHOICES = 256  # RV-2.2


@dataclass(frozen=True, slots=True)
class EntryInput:
    """One ballot as the teller entered it: scanner text, marks, write-in names."""

    qr: str
    marks: str
    write_ins: tuple[str, ...] = ()

    def entered(self) -> EnteredBallot:
        """This entry as the double-entry rule compares it (``tally.core.double_entry``).

        Raises:
            ballot_printer.BallotPrinterError: the QR text is not a ballot QR.
        """
        ballot_id = ballot_printer.parse_qr_text(self.qr).ballot_id.hex()
        return read_entry(ballot_id=ballot_id, marks=self.marks, write_ins=self.write_ins)


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


ISSUER_KEY_FILE = "issuer.key"
"""The remote issuer's private key in ``<data>/remote/``: ``issuer-keyfile/1`` (RM-4.1)."""
INVITATION_KEY_FILE = "invitation.key"
"""The invitations' HMAC key ``K_inv`` in ``<data>/remote/`` (RM-3.2), destroyed at the close."""


def _destroy_remote_files(folder: Path) -> None:
    """Destroy every key file of an opening that never reached the log (RM-4.1)."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and (
            path.name in (ISSUER_KEY_FILE, INVITATION_KEY_FILE, "issuer.pem")
            or (path.name.startswith("share-") and path.suffix == ".json")
        ):
            keys.destroy_file(path)


def check_invalid_reason(reason: str) -> None:
    """A reason for entering a ballot as invalid by decision is one of R8.5's.

    Raises:
        SessionError: any other reason (the refusal lists the known ones).
    """
    if reason not in INVALID_REASONS:
        raise SessionError(
            "invalid.reason",
            zh=f"无效票理由 {reason!r} 不在可选范围内："
            + "、".join(f"{c}（{zh}）" for c, (zh, _) in INVALID_REASONS.items()),
            en=f"unknown reason {reason!r}; one of: " + ", ".join(INVALID_REASONS),
            clause="R8.5",
        )


class ElectionSession:
    """An open election file with its replayed state."""

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
        self._opened_cache: Mapping[str, Any] | None = None
        self._issuer_cache: remote.TokenIssuer | None = None
        self._issuer_public_cache: rsa.RSAPublicKey | None = None
        self._opened_row: tuple[int, bytes] | None = None
        self._ballot_context: remote_ballot.BallotContext | None = None

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        path: Path,
        signed_manifest: bytes,
        signer: keys.Signer,
        *,
        now: dt.datetime | None = None,
        actor: str = "",
        trust_root: keys.PublicKey | str | None = None,
    ) -> ElectionSession:
        """Create the election file from a signed manifest (checks the work-group key, and the
        town key against ``trust_root`` when given: the CLI always gives it).

        Raises:
            SessionError: bad manifest or wrong key; StoreError: the file exists.
        """
        manifest, town = load_signed_manifest(signed_manifest, trust_root=trust_root)
        _check_work_group(manifest, signer)
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
        session = cls(store, manifest, town, meeting, tree)
        session._store([entry0], signer=signer)
        return session

    @classmethod
    def open(cls, path: Path) -> ElectionSession:
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
                        zh=f"选举记录第 {seq - 1} 条在程序之外被改动（第 {seq} 条记录的前一哈希与其不符），"
                        "选举不能继续，请交镇党委处理",
                        en=f"log entry {seq - 1} was edited outside the program (entry {seq} "
                        "no longer chains to it); the election cannot continue",
                    ) from e
                raise StoreError(
                    "store.tampered",
                    zh=f"选举记录第 {seq} 条无法通过核验（{e.zh}）：记录可能在程序之外被改动，"
                    "选举不能继续，请交镇党委处理",
                    en=f"log entry {seq} fails its checks ({e.en}): it may have been edited "
                    "outside the program; the election cannot continue",
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

    def _commit(
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
            _check_work_group(self.manifest, signer)
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
                part = next((int(e.body.get("part", 1)) for e in entries if _stock_key(e)), 1)
                ElectionStore.add_stock(
                    conn, post=stock[0], round_=stock[1], list_json=stock[2], part=part
                )
            if also is not None:
                also(conn)

    # -- commands -----------------------------------------------------------------------------
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

    def check_in(self, refs: Sequence[str], *, actor: str = "") -> list[MemberId]:
        """Check members in, all or none: one refused name refuses the whole command.

        Raises:
            SessionError: ``checkin.refused`` naming every refused name with its reason, the
                names that would have been accepted, and that nobody was checked in.
        """
        ids: list[MemberId] = []
        refused: list[tuple[str, TallyError]] = []
        accepted: list[str] = []
        meeting = self.meeting
        for ref in refs:
            try:
                member = self.resolve_member(ref)
                if member in ids:
                    raise SessionError(
                        "checkin.repeated",
                        zh="在本次命令中重复",
                        en="given twice in this command",
                    )
                entry = make_entry(  # a trial only: the clock is read when it is committed
                    meeting,
                    "member.checked_in",
                    {"member": member},
                    at=meeting.last_at,
                    actor=actor,
                    salt=_TRIAL_SALT,
                )
                meeting = apply_entry(meeting, entry)
            except TallyError as e:
                refused.append((ref, e))
                continue
            ids.append(member)
            accepted.append(f"{self.manifest.election.member(member).name}（{member}）")
        if len(refs) == 1 and refused:
            err = refused[0][1]
            raise SessionError(err.code, zh=err.zh, en=err.en, clause=err.clause)
        if refused:
            zh = "；".join(f"{r}：{e.zh}" for r, e in refused)
            en = "; ".join(f"{r}: {e.en}" for r, e in refused)
            ok_zh = f"（{'、'.join(accepted)} 无误，也未签到）" if accepted else ""
            ok_en = (
                f" ({', '.join(accepted)} were fine and are not checked in either)"
                if accepted
                else ""
            )
            raise SessionError(
                "checkin.refused",
                zh=f"{len(refused)} 人不能签到，本次全部未签到{ok_zh}：{zh}",
                en=f"{len(refused)} of {len(refs)} cannot check in, so nobody was checked in"
                f"{ok_en}: {en}",
            )
        self._commit([("member.checked_in", {"member": i}) for i in ids], actor=actor)
        return ids

    def leave(self, refs: Sequence[str], *, actor: str = "") -> list[MemberId]:
        ids = [self.resolve_member(r) for r in refs]
        self._commit([("member.left", {"member": i}) for i in ids], actor=actor)
        return ids

    def due_round(self) -> RoundSpec:
        if self.meeting.current is not None:
            return self.meeting.current.spec
        due = self.meeting.due()
        if not isinstance(due, RoundSpec):
            raise SessionError(
                "round.none_due",
                zh=describe_next(due, self.manifest.election, "zh"),
                en=describe_next(due, self.manifest.election, "en"),
            )
        return due

    def print_stock(
        self,
        *,
        post: PostKind,
        round_number: int,
        count: int,
        out_pdf: Path,
        stock_list_out: Path | None,
        signer: keys.Signer,
        page_size: ballot_printer.PageSize = ballot_printer.PageSize.A4,
        font_path: Path | None = None,
        actor: str = "",
        supplement: bool = False,
    ) -> ballot_printer.BallotStock:
        """Make, print and commit a ballot stock for a round (the PDF only exists if committed).

        With ``supplement``, a supplementary print: more ballots for a round whose stock is
        committed and whose ballots are not yet issued, committed as the round's next part with
        its own checkpoint (spec/ballot-qr.md §4.4).
        """
        _check_work_group(self.manifest, signer)
        if supplement:
            try:
                check_supplement(self.meeting, post, round_number)
            except TallyError as e:
                raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        elif (post, round_number) in self.meeting.stocks:
            raise SessionError(
                "stock.twice",
                zh=f"{zh_label(post)}选举第 {round_number} 轮的选票已经打印登记过；"
                "选票不够时用 --supplement 补印",
                en=f"a stock for {post.value} round {round_number} is already committed; "
                "print more with --supplement",
            )
        paper = self.paper(post, round_number)
        try:
            stock = ballot_printer.make_stock(
                election_id=self.manifest.election_id,
                kind=PAPER_KIND[post],
                round_number=round_number,
                count=count,
                signer=signer,
            )
            kwargs: dict[str, Any] = {"page_size": page_size}
            if font_path is not None:
                kwargs["font_path"] = font_path
            ballot_printer.render_stock_pdf(paper, stock, out_pdf, **kwargs)
        except ballot_printer.BallotPrinterError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        try:
            list_json = self.commit_stock(stock, signer=signer, actor=actor, supplement=supplement)
        except BaseException:
            out_pdf.unlink(missing_ok=True)  # never leave ballots that are not in the stock
            raise
        if stock_list_out is not None:
            keys.write_new_file(stock_list_out, list_json, mode=keys.PRIVATE_FILE_MODE)
        return stock

    def commit_stock(
        self,
        stock: ballot_printer.BallotStock,
        *,
        signer: keys.Signer,
        actor: str = "",
        supplement: bool = False,
    ) -> bytes:
        """Commit a made stock (its commitment in the log, the sealed list in the store); with
        ``supplement``, as the round's next part (``stock.supplemented``).

        Returns:
            The sealed ``ballot-stock/1`` list.
        """
        post = next(p for p, k in PAPER_KIND.items() if k is stock.kind)
        list_json = ballot_printer.stock_list_json(stock)
        ids = frozenset(b.hex() for b in stock.ballot_ids)
        body: dict[str, Any] = {
            "post": post.value,
            "round": stock.round_number,
            "count": len(stock.payloads),
            "commitment": ballot_printer.stock_commitment(stock).hex(),
        }
        if supplement:
            part = self.meeting.stock_parts.get((post, stock.round_number), 1) + 1
            body = {**body, "part": part}
        self._commit(
            [("stock.supplemented" if supplement else "stock.committed", body)],
            signer=signer,
            actor=actor,
            stock=(post.value, stock.round_number, list_json, ids),
        )
        return list_json

    def paper(self, post: PostKind, round_number: int) -> ballot_printer.BallotPaper:
        """The ballot paper of a round: the due round's candidates, or the post's first round."""
        election = self.manifest.election
        spec: RoundSpec | None = None
        cur = self.meeting.current
        if cur is not None and cur.spec.post is post and cur.spec.number == round_number:
            spec = cur.spec
        else:
            due = self.meeting.due()
            if isinstance(due, RoundSpec) and due.post is post and due.number == round_number:
                spec = due
        if spec is not None:
            candidates, seats, wording = spec.candidates, spec.seats, _wording(spec)
        else:
            p = election.post(post)
            if p is None or round_number != 1:
                raise SessionError(
                    "stock.round_unknown",
                    zh="只能为第 1 轮或当前应进行的轮次打印选票",
                    en="ballots can be printed for round 1 or for the round due",
                )
            candidates, seats, wording = p.candidates, p.seats, ""
        return ballot_printer.BallotPaper(
            title=election.title,
            branch=election.branch,
            term=election.term,
            kind=PAPER_KIND[post],
            round_number=round_number,
            seats=seats,
            candidates=tuple(election.member(c).name for c in candidates),
            round_wording=wording,
        )

    def issue(
        self,
        *,
        count: int | None,
        signer: keys.Signer,
        present_members: Sequence[str] = (),
        actor: str = "",
    ) -> tuple[RoundSpec, int]:
        """Open the round due (quorum checked) and record the ballots issued.

        Raises:
            SessionError: no quorum (recorded as ``round.quorum_failed``), a count that is not the
                number present, no stock committed for the round.
        """
        cur = self.meeting.current
        if cur is not None:
            if cur.issued is not None:
                raise SessionError(
                    "issue.twice", zh="本轮已发出选票", en="ballots were already issued"
                )
            spec, present = cur.spec, cur.present
            specs: list[tuple[str, dict[str, Any]]] = []
            joint: tuple[RoundSpec, ...] = ()
        else:
            spec = self.due_round()
            members = tuple(self.resolve_member(r) for r in present_members)
            if spec.body is ElectingBody.PLENARY:
                present = len(members)
                q = plenary_quorum(present, spec.expected)
            else:
                present = len(self.meeting.present)
                remote = self.meeting.remote
                if remote is not None and self.manifest.election.remote_voting.counts_toward_quorum:
                    present += len(remote.casts)  # (RM-9.3) how many cast, never who
                q = quorum(
                    present, spec.expected, self.manifest.election.parameters.quorum_comparison
                )
            if not q.valid:
                self._commit(
                    [
                        (
                            "round.quorum_failed",
                            {
                                "post": spec.post.value,
                                "round": spec.number,
                                "present": present,
                                "present_members": list(members),
                            },
                        )
                    ],
                    actor=actor,
                )
                raise SessionError(
                    "quorum.failed",
                    zh=describe_quorum(q, "zh"),
                    en=describe_quorum(q, "en"),
                    clause=q.clause,
                )
            specs = [("round.opened", opened_body(spec, present, members))]
            # (R22.2) a direct election's first committee round opens the secretary's and
            # deputy's first rounds with it: one present count, one quorum, ballots of each kind.
            joint = joint_rounds(self.meeting.rounds) if spec.post is PostKind.COMMITTEE else ()
            specs += [("round.opened", opened_body(j, present, ())) for j in joint]
            if remote_counts_here(self.meeting, spec) and remote_list_changed(self.meeting, spec):
                specs.append(
                    (
                        "remote.not_counted",
                        {
                            "post": spec.post.value,
                            "round": spec.number,
                            "reason": "remote.list_changed",
                        },
                    )
                )
        paper = present
        if (
            spec.body is not ElectingBody.PLENARY
            and self.meeting.remote is not None
            and self.manifest.election.remote_voting.counts_toward_quorum
        ):
            paper = len(self.meeting.present)
        n = paper if count is None else count
        for r in (spec, *joint):
            specs.append(("ballots.issued", {"post": r.post.value, "round": r.number, "count": n}))
        self._commit(specs, signer=signer, actor=actor)
        return spec, n

    def sitting(self) -> tuple[RoundSpec, ...]:
        """(R22.2) The other rounds of a direct election's joint opening, waiting for their count
        (their ballots were issued with the open round's)."""
        return tuple(h.spec for h in self.meeting.held)

    def return_ballots(
        self,
        count: int,
        *,
        signer: keys.Signer | None,
        actor: str = "",
        post: PostKind | None = None,
    ) -> bool:
        """Record the ballots returned; returns False when the round is void (R11).

        ``post`` names a round of the joint opening (R22.2) other than the open one.
        """
        cur = self.meeting.current
        if post is not None and (cur is None or cur.spec.post is not post):
            cur = next((h for h in self.meeting.held if h.spec.post is post), None)
            if cur is None:
                raise SessionError(
                    "return.no_round",
                    zh=f"{zh_label(post)}没有已发出选票、尚未清点的轮次",
                    en=f"no {post.value} round has ballots issued and not yet returned",
                )
        if cur is None or cur.issued is None:
            raise SessionError("return.order", zh="请先发出选票", en="issue the ballots first")
        spec = cur.spec
        specs: list[tuple[str, dict[str, Any]]] = [
            ("ballots.returned", {"post": spec.post.value, "round": spec.number, "count": count})
        ]
        void = count > cur.issued
        if void:
            specs.append(
                (
                    "round.void",
                    {
                        "post": spec.post.value,
                        "round": spec.number,
                        "issued": cur.issued,
                        "returned": count,
                    },
                )
            )
        self._commit(specs, signer=signer if void else None, actor=actor)
        return not void

    def ballot_body(self, item: EntryInput) -> dict[str, Any]:
        """Check a ballot's QR against this election and round and build its entry body.

        Raises:
            SessionError: bad QR (another election, kind or round, bad signature, unreadable),
                bad marks or write-ins.
        """
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        try:
            payload = ballot_printer.parse_qr_text(item.qr)
            ballot_printer.verify_payload(
                payload,
                self.work_group_raw,
                election_id=self.manifest.election_id,
                kind=PAPER_KIND[cur.spec.post],
                round_number=cur.spec.number,
            )
        except ballot_printer.BallotPrinterError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        marks = read_marks(item.marks)
        write_ins = []
        for w in item.write_ins:
            name, marked = split_write_in(w)
            member, problem = resolve_write_in(name, self.manifest.election)
            if problem is not None:
                raise SessionError(
                    problem,
                    zh=f"名册中有多人名为 {name}，请写党员编号",
                    en=f"several members are named {name}; give the member id",
                )
            write_ins.append({"name": name, "member": member or "", "mark": "o" if marked else "-"})
        return {
            "post": cur.spec.post.value,
            "round": cur.spec.number,
            "ballot_id": payload.ballot_id.hex(),
            "qr": ballot_printer.encode_qr_text(payload),
            "marks": marks,
            "write_ins": write_ins,
        }

    def enter(self, items: Sequence[EntryInput], *, actor: str = "") -> list[Entry]:
        """Enter ballots, all or nothing (a batch with one bad ballot stores none)."""
        bodies: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(items, start=1):
            try:
                bodies.append(("ballot.entered", self.ballot_body(item)))
            except SessionError as e:
                raise SessionError(
                    e.code, zh=f"第 {i} 张：{e.zh}", en=f"ballot {i}: {e.en}", clause=e.clause
                ) from e
        return self._commit(bodies, actor=actor)

    def declare_invalid(
        self,
        reason: str,
        *,
        confirmer: keys.Signer,
        qr: str | None = None,
        actor: str = "",
    ) -> Entry:
        """(R8.5) Enter a returned ballot as invalid by decision, confirmed by a scrutineer whose
        key the manifest lists: the scrutineer signs the decision, bound to this entry's seq.
        ``qr`` is the ballot's scanner text, or None for a paper without a readable QR (and always
        for ``not_official_stock``).

        Raises:
            SessionError: unknown reason, a key that is not a scrutineer's of the manifest, no
                open round (or its ballots not returned), a bad or already entered QR.
        """
        check_invalid_reason(reason)
        raw_keys = [keys.parse_public_key(canonical(k)).key for k in self.manifest.scrutineer_keys]
        if confirmer.role is not keys.Role.SCRUTINEER or not any(
            hmac.compare_digest(confirmer.public_key.key, k) for k in raw_keys
        ):
            raise SessionError(
                "invalid.not_scrutineer",
                zh="确认无效票的密钥不是本次选举清单中的监票人密钥",
                en="the confirming key is not a scrutineer key of the manifest",
                clause="R8.5",
            )
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        ballot_id = qr_text = ""
        if qr is not None:
            if reason == "not_official_stock":
                raise SessionError(
                    "invalid.official_qr",
                    zh="以“非正式选票”为由录入时不扫描二维码（正式选票的二维码不能以此为由作废）",
                    en="a ballot entered as not the official stock has no QR to give",
                    clause="R8.5",
                )
            body = self.ballot_body(EntryInput(qr=qr, marks=""))
            ballot_id, qr_text = body["ballot_id"], body["qr"]
        decision: dict[str, Any] = {
            "post": cur.spec.post.value,
            "round": cur.spec.number,
            "ballot_id": ballot_id,
            "qr": qr_text,
            "reason": reason,
        }
        message = invalid_decision_message(self.manifest.election_id, self.meeting.size, decision)
        signature = confirmer.sign(INVALID_DECISION_DOMAIN, message)
        decision["scrutineer"] = signer_name(confirmer.public_key)
        decision["signature"] = base64.b64encode(signature).decode()
        return self._commit([("ballot.declared_invalid", decision)], actor=actor)[0]

    def withdraw(self, ballot_id: str, *, actor: str = "") -> None:
        cur = self.meeting.current
        if cur is None:
            raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
        self._commit(
            [
                (
                    "ballot.withdrawn",
                    {"post": cur.spec.post.value, "round": cur.spec.number, "ballot_id": ballot_id},
                )
            ],
            actor=actor,
        )

    def close(self, *, signer: keys.Signer, actor: str = "") -> Entry:
        """Count the open round and record its outcome (``round.counted``)."""
        try:
            outcome = count_current(self.meeting)
        except TallyError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        body = counted_body(outcome, remote=self.meeting.remote is not None)
        return self._commit([("round.counted", body)], signer=signer, actor=actor)[0]

    def reduce_seats(
        self, post: PostKind, *, seats: int, consent: int, agreement: str, actor: str = ""
    ) -> None:
        self._commit(
            [
                (
                    "seats.reduced",
                    {
                        "post": post.value,
                        "seats": seats,
                        "assembly_consent": consent,
                        "town_agreement": agreement,
                    },
                )
            ],
            actor=actor,
        )

    def change_officials(
        self, scrutineers: Sequence[str], tellers: Sequence[str], *, actor: str = ""
    ) -> None:
        """(R25.1) Record the scrutineers and tellers of the rounds opened from now on."""
        self._commit(
            [
                (
                    "officials.changed",
                    {
                        "scrutineers": [self.resolve_member(r) for r in scrutineers],
                        "tellers": [self.resolve_member(r) for r in tellers],
                    },
                )
            ],
            actor=actor,
        )

    def set_double_entry(self, on: bool, *, actor: str = "") -> None:
        """Log the station's entry mode (spec/log.md §2.3): with double entry on, a ballot counts
        only once two tellers have entered it alike. Refused when it is already so."""
        self._commit([("double_entry.set", {"mode": "on" if on else "off"})], actor=actor)

    def amend_request(
        self, post: PostKind, refs: Sequence[str], *, approval: str
    ) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
        """(RS7) The ``amended-list/1`` request for the town committee to sign, checked now against
        the rules (a list the rules refuse is not written).

        Returns:
            The request bytes and the warnings (R27 under ``warn``), zh and en.

        Raises:
            SessionError: not a moment RS7 allows, or the list breaks a rule.
        """
        ids = tuple(MemberId(self.resolve_member(r)) for r in refs)
        if not approval.strip():
            raise SessionError(
                "amend.no_approval",
                zh="须写明镇党委批准调整候选人名单的文号",
                en="give the town committee's approval reference",
                clause="RS7",
            )
        try:
            number = amendable_round(self.meeting.rounds, post)
            amend_candidates(self.meeting.rounds, post, ids)
        except TallyError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        doc = amended_list_document(self.manifest.election_id, post, number, ids, approval)
        warnings = amended_list_warnings(self.meeting.rounds, post, ids)
        return (
            canonical(doc),
            tuple(w.message("zh") for w in warnings),
            tuple(w.message("en") for w in warnings),
        )

    def amend_candidates(
        self, signed: bytes, *, actor: str = ""
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(RS7) Record a ``signed-amended-list/1`` from the town committee.

        Returns:
            The warnings (R27 under ``warn``), zh and en.

        Raises:
            SessionError: malformed file, another election, no valid town signature, not a
                moment RS7 allows, or the list breaks a rule; nothing is stored.
        """
        doc = _strict_json(signed[: MAX_AMENDED_LIST_BYTES + 1], "签署的名单 / the signed list")
        if (
            not isinstance(doc, dict)
            or set(doc) != {"format", "list", "signature"}
            or doc["format"] != SIGNED_AMENDED_LIST_FORMAT
            or not isinstance(doc["signature"], str)
        ):
            raise SessionError(
                "amend.bad_file",
                zh="不是镇党委签署的 signed-amended-list/1 候选人名单文件",
                en="not a signed-amended-list/1 document",
            )
        body = _amended_list_request(canonical(doc["list"]))
        if body["election_id"] != self.manifest.election_id.hex():
            raise SessionError(
                "amend.other_election",
                zh="该名单不是为本次选举签署的",
                en="the list was signed for another election",
            )
        try:
            post = PostKind(body["post"])
        except ValueError as e:
            raise SessionError("post.unknown", zh="职位错误", en="unknown post") from e
        self._commit(
            [
                (
                    "candidates.amended",
                    {
                        "post": post.value,
                        "round": body["round"],
                        "candidates": body["candidates"],
                        "town_approval": body["town_approval"],
                        "town_signature": doc["signature"],
                    },
                )
            ],
            actor=actor,
        )
        warnings = amended_list_warnings(
            self.meeting.rounds, post, tuple(MemberId(c) for c in body["candidates"])
        )
        return tuple(w.message("zh") for w in warnings), tuple(w.message("en") for w in warnings)

    def record_result(
        self, *, signer: keys.Signer, calendar: WorkingDayCalendar, actor: str = ""
    ) -> Entry:
        """Record the announced result and its publicity period (R26).

        Day 1 of the publicity is the first working day after the day of announcement: the local
        date of this entry, never earlier than the election date.

        Raises:
            SessionError: rounds are still open, or the calendar does not know a year touched.
        """
        due = self.meeting.due()
        if self.meeting.current is not None or not isinstance(due, Finished):
            raise SessionError(
                "result.not_finished",
                zh="还有轮次未完成，不能宣布结果",
                en="rounds are still open; no result yet",
            )
        now = _now()
        election = self.manifest.election
        day_zero = publicity_day_zero(election.election_date, now.date())
        try:
            publicity = calendar.publicity_period(
                day_zero, election.parameters.publicity_working_days
            )
        except CalendarError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause="R26") from e
        body = {
            "elected": {k.value: list(v) for k, v in due.elected},
            "publicity_start": publicity[0].isoformat(),
            "publicity_end": publicity[1].isoformat(),
        }
        return self._commit([("election.result", body)], signer=signer, now=now, actor=actor)[0]

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

    # -- remote ballots (spec/remote.md) ------------------------------------------------------
    @staticmethod
    def _remote_dir(data_dir: Path) -> Path:
        folder = data_dir / "remote"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _passphrase(self) -> str:
        value = os.environ.get("TALLY_PASSPHRASE", "")
        if len(value) < keys.PASSPHRASE_MIN_CHARS:
            raise SessionError(
                "remote.passphrase",
                zh="须设置 TALLY_PASSPHRASE（工作组口令）以加密保存远程投票签发密钥",
                en="set TALLY_PASSPHRASE (the work group's passphrase) to keep the issuer key",
            )
        return value

    def _issuer(self, data_dir: Path) -> remote.TokenIssuer:
        """The issuer key, opened once per session (the key file's Argon2id is deliberately slow)."""
        if self._issuer_cache is None:
            path = self._remote_dir(data_dir) / ISSUER_KEY_FILE
            if not path.exists():
                r = self.meeting.remote
                if r is not None and r.closed:
                    raise SessionError(
                        "remote.closed", zh="远程投票已截止", en="remote voting is closed"
                    )
                raise SessionError(
                    "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
                )
            self._issuer_cache = remote.TokenIssuer.from_key_file(
                path.read_bytes(), self._passphrase()
            )
        return self._issuer_cache

    def _issuer_public_key_der(self) -> bytes:
        """The ``issuer_key`` of ``remote.opened`` (DER SubjectPublicKeyInfo)."""
        opened = self._remote_opened()
        assert opened is not None
        return base64.b64decode(opened["issuer_key"])

    def _closes_at(self) -> dt.datetime:
        day = self.manifest.election.election_date
        return dt.datetime.combine(day, dt.time(23, 59), tzinfo=_now().tzinfo)

    def open_remote(
        self,
        *,
        signer: keys.Signer,
        k: int,
        data_dir: Path,
        actor: str = "",
    ) -> None:
        """Open remote voting: the issuer key, the ElGamal election key shared k-of-n among the
        manifest's scrutineers (spec/remote-v2.md RV-5.2), the write-in lists (RV-2.1), and
        ``remote.opened`` with its checkpoint."""
        if not self.manifest.election.remote_voting.approved:
            raise SessionError(
                "remote.not_authorised",
                zh="选举清单未批准任何党员远程投票",
                en="the manifest approves nobody for remote voting",
                clause="R24",
            )
        if self.meeting.remote is not None:  # refused before any file is touched
            raise SessionError(
                "remote.twice", zh="远程投票已开启", en="remote voting is already open"
            )
        scrutineers = [keys.parse_public_key(canonical(d)) for d in self.manifest.scrutineer_keys]
        for kind, listed, choices, _seats, _dis in post_shapes(self.manifest.election):
            if choices > MAX_CHOICES:
                raise SessionError(
                    "remote.too_many_choices",
                    zh=f"{zh_label(kind)}有 {choices} 个选项（候选人 {listed} 名加另选名单），"
                    f"超过 {MAX_CHOICES} 个，不能远程投票",
                    en=f"the {kind.value} post has {choices} choices ({listed} listed plus "
                    f"the write-in list), more than {MAX_CHOICES}",
                    clause="RV-2.2",
                )
        folder = self._remote_dir(data_dir)
        issuer = remote.TokenIssuer.generate()
        files: list[tuple[str, bytes]]
        try:
            setup = remote.create_remote_key_v2(self.manifest.election_id, scrutineers, k)
            body = setup.opened_body(issuer, write_in_lists_body(self.manifest.election))
            files = [(f"share-{i}.json", c) for i, c in enumerate(setup.containers, start=1)]
        except (ValueError, elgamal.ElGamalError) as e:
            raise SessionError("remote.threshold", zh=f"门限设置错误：{e}", en=str(e)) from e
        sealed = issuer.to_key_file(self._passphrase())
        # RM-4.1: the key files first, then `remote.opened`. Files left by an attempt that never
        # reached the log (a crash in between) are orphans of a key nobody can use: destroyed.
        _destroy_remote_files(folder)
        written: list[Path] = []
        try:
            for name, data, mode in [
                (ISSUER_KEY_FILE, sealed, keys.PRIVATE_FILE_MODE),
                (INVITATION_KEY_FILE, remote.generate_invitation_key(), keys.PRIVATE_FILE_MODE),
                *((n, d, keys.PUBLIC_FILE_MODE) for n, d in files),
            ]:
                keys.write_new_file(folder / name, data, mode=mode)
                written.append(folder / name)
            self._commit([("remote.opened", body)], signer=signer, actor=actor)
        except BaseException:
            for path in written:  # roll back: nothing of this attempt outlives it
                with contextlib.suppress(OSError):
                    keys.destroy_file(path)
            raise
        self._issuer_cache = issuer

    def issue_invitation(self, member_ref: str, *, data_dir: Path) -> tuple[str, str]:
        """A one-time invitation code for an approved member; only its HMAC is stored (RM-3)."""
        member = self.resolve_member(member_ref)
        r = self.meeting.remote
        if r is None or r.closed:
            raise SessionError(
                "remote.not_open", zh="远程投票未开启或已截止", en="remote voting is not open"
            )
        if member not in self.manifest.election.remote_voting.approved:
            raise SessionError(
                "remote.not_approved",
                zh=f"{member} 未经镇党委批准远程投票",
                en=f"{member} is not approved for remote voting",
                clause="R24",
            )
        if member in r.credentials or member in self.meeting.present:
            raise SessionError(
                "remote.already",
                zh="该党员已领取凭证或已签到",
                en="already has a credential or is present",
            )
        server_key = (self._remote_dir(data_dir) / INVITATION_KEY_FILE).read_bytes()
        now = _now()
        code, inv = remote.issue_invitation(
            server_key, self.manifest.election_id, member, now=now, closes_at=self._closes_at()
        )
        self.store.put_invitation(
            member=member,
            code_hash=inv.code_hash,
            issued_at=inv.issued_at.isoformat(),
            expires_at=inv.expires_at.isoformat(),
        )
        return code, member

    def redeem_invitation(self, code: str, blinded_msg: bytes, *, data_dir: Path) -> bytes:
        """Blind-sign a device's token for the invitation's member; logs that the member received a
        credential, never the token (RM-4.3)."""
        r = self.meeting.remote
        if r is None:
            raise SessionError(
                "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
            )
        if r.closed:  # RM-4.7: the keys are gone; refused before anything is read
            raise SessionError("remote.closed", zh="远程投票已截止", en="remote voting is closed")
        try:
            normal = remote.normalize_invitation_code(code)
            server_key = (self._remote_dir(data_dir) / INVITATION_KEY_FILE).read_bytes()
            code_hash = remote.hash_invitation_code(server_key, self.manifest.election_id, normal)
            found = self.store.invitation_by_hash(code_hash)
            if found is None:
                raise remote.WrongInvitationCodeError(
                    zh="邀请码不正确。", en="wrong invitation code"
                )
            member, issued, expires, redeemed = found
            invitation = remote.Invitation(
                member=member,
                code_hash=code_hash,
                issued_at=dt.datetime.fromisoformat(issued),
                expires_at=dt.datetime.fromisoformat(expires),
                redeemed_at=dt.datetime.fromisoformat(redeemed) if redeemed else None,
            )
            now = _now()
            remote.check_invitation(
                invitation,
                normal,
                server_key=server_key,
                election_id=self.manifest.election_id,
                now=now,
            )
            blind_sig = self._issuer(data_dir).sign_blinded(blinded_msg)
        except (keys.KeysError, blind_rsa.BlindSignatureError) as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        self._commit(
            [("remote.credential_issued", {"member": member})],
            actor="remote",
            also=lambda conn: ElectionStore.redeem_invitation(conn, member, now.isoformat()),
        )
        return blind_sig

    def _remote_opened(self) -> Mapping[str, Any] | None:
        """The ``remote.opened`` body, read once (the log is append-only, so it never changes)."""
        row = self._remote_opened_row()
        if self._opened_cache is None and row is not None:
            self._opened_cache = parse_entry(row[1]).body
        return self._opened_cache

    def _remote_opened_row(self) -> tuple[int, bytes] | None:
        if self._opened_row is None and self.meeting.remote is not None:
            for seq, raw in self.store.iter_log_rows():
                if b'"remote.opened"' in raw:
                    self._opened_row = (seq, raw)
                    break
        return self._opened_row

    def invitation_pin(self) -> str:
        """The check code printed with every invitation of this election (RM-10.3)."""
        row = self._remote_opened_row()
        if row is None:
            raise SessionError(
                "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
            )
        summary, _ = signed_public_summary(self.store.signed_manifest)
        return remote.invitation_pin(public_summary_hash(summary), self.tree.leaf_hash(row[0]))

    def remote_pin(self) -> dict[str, Any]:
        """What the page needs to check the keys it is served against the invitation's check
        code (RM-10.3): the town-signed public summary (never the manifest: it holds the roster),
        the ``remote.opened`` entry and its inclusion proof in the signed ``remote-opened``
        checkpoint."""
        row = self._remote_opened_row()
        cp = next((c for c in self.store.checkpoints() if c.reason == "remote-opened"), None)
        if row is None or cp is None:
            raise SessionError(
                "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
            )
        seq, raw = row
        summary, summary_sig = signed_public_summary(self.store.signed_manifest)
        return {
            "summary": canonical(summary).decode(),
            "summary_signature": summary_sig,
            "seq": seq,
            "entry": raw.decode(),
            "size": cp.size,
            "checkpoint": cp.text,
            "proof": [
                base64.b64encode(h).decode() for h in self.tree.inclusion_proof(seq, cp.size)
            ],
        }

    def remote_info(self) -> dict[str, Any]:
        """What the voting page needs: keys and the ballot as on paper (write-ins are typed, as on
        paper: no roster, nothing personal is public)."""
        e = self.manifest.election
        r = self.meeting.remote
        opened = self._remote_opened()
        posts = []
        for kind in assembly_posts(e):
            post = e.post(kind)
            assert post is not None
            posts.append(
                {
                    "post": kind.value,
                    "post_zh": zh_label(kind),
                    "seats": post.seats,
                    "candidates": [{"id": c, "name": e.member(c).name} for c in post.candidates],
                }
            )
        info: dict[str, Any] = {
            "open": r is not None and not r.closed,
            "closed": r is not None and r.closed,
            "election_id": self.manifest.election_id.hex(),
            "title": e.title,
            "issuer_key": opened["issuer_key"] if opened else None,
            "posts": posts,
        }
        if opened is not None:
            # Version 2 (RV-6.1, RV-6.3): the key, each post's listed candidates, seats and the
            # rule on write-ins; the number of approved members. The write-in lists (names of
            # members) are given only at redemption (RV-2.3).
            disapprovals = {kind.value: d for kind, _l, _c, _s, d in post_shapes(e)}
            for p in posts:
                p["listed"] = p["candidates"]
                p["write_in_requires_disapproval"] = disapprovals[str(p["post"])]
            info["version"] = 2
            info["election_key"] = opened["election_key"]
            info["approved_count"] = len(e.remote_voting.approved)
        return info

    def redemption_extras(self) -> dict[str, Any]:
        """What the redemption response adds in version 2 (RV-6.1): the write-in lists with
        names and the election key."""
        opened = self._remote_opened()
        if opened is None:
            return {}
        return {
            "write_in_lists": self.remote_write_in_lists(),
            "election_key": opened["election_key"],
        }

    def remote_write_in_lists(self) -> list[dict[str, Any]]:
        """(RV-2.1, RV-6.1) Each post's write-in list as logged in ``remote.opened``, with the
        members' names: for the holder of a valid invitation only (RV-2.3)."""
        opened = self._remote_opened()
        if opened is None or "write_in_lists" not in opened:
            return []
        e = self.manifest.election
        return [
            {
                "post": str(w["post"]),
                "members": [
                    {"member": str(mid), "name": e.member(MemberId(str(mid))).name}
                    for mid in w["members"]
                ],
            }
            for w in opened["write_in_lists"]
        ]

    def cast_remote_v2(
        self, token: bytes, prefix: bytes, signature: bytes, ballot: Any
    ) -> dict[str, Any]:
        """Accept a ``remote-ballot/2`` cast with a valid, unused token into the pending casts
        (RV-4.1); the receipt ``remote-receipt/2``. Nothing is appended to the log."""
        (result,) = self.cast_remote_many([RemoteCastV2(token, prefix, signature, ballot)])
        if isinstance(result, SessionError):
            raise result
        return result

    def cast_remote_many(
        self, casts: Sequence[RemoteCastV2]
    ) -> list[dict[str, Any] | SessionError]:
        """(RV-4.1) Group commit: each cast checked in order (window, credential, single use over
        the pending and the logged casts, RV-3.5), the accepted ones inserted into the pending
        casts in one transaction (one fsync); no log entry, no time, no sequence. Each cast gets
        its receipt or the reason it was refused; a store failure refuses them all."""
        out: list[dict[str, Any] | SessionError] = []
        rows: list[tuple[str, str, str, str, bytes]] = []
        tokens: set[str] = set()
        pending = self.store.pending_cast_count()
        for c in casts:
            try:
                row = self._checked_cast_v2(c, tokens, pending + len(rows))
            except SessionError as err:
                out.append(err)
                continue
            tokens.add(row[1])
            rows.append(row)
            out.append(remote_checker.received_receipt(self.manifest.election_id, row[0]))
        if rows:
            with self.store.transaction() as conn:
                ElectionStore.add_pending_casts(conn, rows)
        return out

    def _checked_cast_v2(
        self, c: RemoteCastV2, batch_tokens: set[str], pending: int
    ) -> tuple[str, str, str, str, bytes]:
        """The pending row of one cast once RV-4.1's checks hold, in its order.

        Raises:
            SessionError: ``remote.closed`` / ``remote.not_open``; the credential's refusal
                (RM-4.5); ``remote.token_used``; ``remote.too_many``; RV-3.5's refusal
                (``remote.ballot_invalid``, ``remote.token_mismatch``, ``remote.ballot_too_large``,
                ``elgamal.*``).
        """
        r = self.meeting.remote
        if r is None:
            raise SessionError(
                "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
            )
        if r.closed:
            raise SessionError("remote.closed", zh="远程投票已截止", en="remote voting is closed")
        try:
            remote.verify_credential(
                self._issuer_public_key(),
                self.manifest.election_id,
                remote.RemoteCredential(token=c.token, prefix=c.prefix, signature=c.signature),
            )
        except keys.KeysError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e

        def b64(x: bytes) -> str:
            return base64.b64encode(x).decode()

        token = b64(c.token)
        if token in batch_tokens or token in r.tokens or self.store.pending_token_used(token):
            raise SessionError(
                "remote.token_used", zh="该投票凭证已经使用过", en="this token was already used"
            )
        if pending >= len(r.credentials):  # every credential is one cast at most (RM-4.3)
            raise SessionError(
                "remote.too_many", zh="远程选票多于已发凭证", en="more casts than credentials"
            )
        try:  # RV-4.1: the cheap checks; the checker runs RV-3.5 in full (RV-4.5)
            remote_checker.check_token_not_refused(self.store, token)
            jcs = remote_checker.jcs_or_none(c.ballot)  # the fast encoder where it is JCS
            receipt = remote_ballot.precheck_ballot(
                self.ballot_context(), c.ballot, token=c.token, jcs=jcs
            )
            jcs = jcs if jcs is not None else canonical(c.ballot)
            remote_checker.check_not_refused_before(self.store, receipt)
        except (keys.KeysError, TallyError) as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        return (receipt, token, b64(c.prefix), b64(c.signature), jcs)

    def ballot_context(self) -> remote_ballot.BallotContext:
        """What a ``remote-ballot/2`` is checked against (RV-3.2): the election, the key of
        ``remote.opened``, and each assembly-voted post's choices and seats from the manifest."""
        if self._ballot_context is None:
            opened = self._remote_opened()
            if opened is None or "election_key" not in opened:
                raise SessionError(
                    "remote.not_open",
                    zh="远程投票（第 2 版）尚未开启",
                    en="remote voting (version 2) is not open",
                )
            self._ballot_context = remote_ballot.BallotContext(
                election_id=self.manifest.election_id,
                key=elgamal.parse_threshold_key(opened["election_key"]),
                posts=tuple(
                    remote_ballot.PostShape(
                        post=kind.value,
                        listed=listed,
                        choices=choices,
                        seats=seats,
                        disapprovals=disapprovals,
                    )
                    for kind, listed, choices, seats, disapprovals in post_shapes(
                        self.manifest.election
                    )
                ),
            )
        return self._ballot_context

    def remote_receipt_status(self, receipt: str) -> dict[str, Any] | None:
        """(RV-4.4) ``received``, ``accepted`` or ``refused`` with its code and messages while the
        receipt's cast is not logged; None otherwise (the caller looks in the log)."""
        return remote_checker.receipt_status(self.store, receipt)

    def _issuer_public_key(self) -> rsa.RSAPublicKey:
        """The issuer's public key from ``remote.opened``, parsed once."""
        if self._issuer_public_cache is None:
            opened = self._remote_opened()
            assert opened is not None
            self._issuer_public_cache = remote.load_issuer_public_key(
                base64.b64decode(opened["issuer_key"])
            )
        return self._issuer_public_cache

    def close_remote(
        self, *, signer: keys.Signer, data_dir: Path | None = None, actor: str = ""
    ) -> None:
        """Log ``remote.closed``; then (RM-4.7) destroy the issuer key and the invitations' key in
        ``data_dir``: no token can be signed and no invitation code confirmed after the close, by
        anyone who later finds the files (and the passphrase).

        Raises:
            SessionError: ``remote.not_open``; ``remote.closed`` when it was closed already (the
                key files left by a close that crashed before destroying them are destroyed
                first, so running the close again finishes it).
        """
        r = self.meeting.remote
        if r is None:
            raise SessionError(
                "remote.not_open", zh="远程投票尚未开启", en="remote voting not open"
            )
        already = r.closed
        if not already:
            self._close_v2(signer=signer, actor=actor)
        self._issuer_cache = None
        if data_dir is not None:
            keys.destroy_file(self._remote_dir(data_dir) / ISSUER_KEY_FILE)
            keys.destroy_file(self._remote_dir(data_dir) / INVITATION_KEY_FILE)
        try:  # RV-4.3, after the commit (and again on a re-run)
            self.store.compact()
        except sqlite3.OperationalError as e:
            raise SessionError(
                "store.compact_failed",
                zh="远程投票已截止并记录，但整理选举文件失败（可能另一程序正在使用）："
                "请关闭其他程序后再运行一次 tally remote close",
                en="remote voting is closed and logged, but compacting the election file "
                "failed (another program may have it open): run tally remote close again "
                "once it is closed",
            ) from e
        if already:  # a close run again (e.g. after a crash before the keys went): keys destroyed
            raise SessionError(
                "remote.closed", zh="远程投票已截止", en="remote voting is already closed"
            )

    def _close_v2(self, *, signer: keys.Signer, actor: str) -> None:
        """(RV-4.3) The casts still received checked first; then one transaction: one
        ``remote.cast`` per accepted cast in ascending receipt
        order, all with the close's time, then ``remote.closed`` and its checkpoint; the pending
        rows deleted. The caller then compacts the file, so no page keeps the order of arrival."""
        r = self.meeting.remote
        assert r is not None
        remote_checker.check_received(self)  # nothing unchecked is ever logged
        now = _now()
        rows = self.store.accepted_casts()
        specs: list[tuple[str, dict[str, Any]]] = [
            (
                "remote.cast",
                {
                    "token": token,
                    "token_prefix": prefix,
                    "token_signature": signature,
                    "ballot": _strict_json(ballot, "远程选票"),
                },
            )
            for _receipt, token, prefix, signature, ballot in rows
        ]
        specs.append(("remote.closed", {"credentials": len(r.credentials), "casts": len(rows)}))
        self._commit(
            specs,
            signer=signer,
            actor=actor,
            now=now,
            also=ElectionStore.clear_pending_casts,
            # RM-8.2: a cast's actor is "remote" (the member's device), the close's the closer.
            actors=["remote"] * len(rows) + [actor],
        )

    # -- decryption of the totals (spec/remote-v2.md RV-5.3) ----------------------------------
    def _logged_casts_v2(self) -> list[Mapping[str, Any]]:
        return [
            parse_entry(raw).body["ballot"]
            for _, raw in self.store.log_rows_of_types(["remote.cast"])
        ]

    def _logged_bodies(self, type_: str) -> list[Mapping[str, Any]]:
        return [parse_entry(raw).body for _, raw in self.store.log_rows_of_types([type_])]

    def encrypted_totals(self) -> tuple[tuple[elgamal.Ciphertext, ...], ...]:
        """Per assembly-voted post (ballot order), per choice: the sum of that choice's
        ciphertexts over every logged ``remote.cast`` (EG-3.3; (O, O) without a cast)."""
        ctx = self.ballot_context()
        ballots = self._logged_casts_v2()
        out = []
        for i, shape in enumerate(ctx.posts):
            posts = []
            for b in ballots:
                posts.append(
                    elgamal.parse_encrypted_post(
                        b["posts"][i],
                        choices=shape.choices,
                        seats=shape.seats,
                        listed=shape.listed_for_proofs,
                    )
                )
            out.append(elgamal.tally_posts(posts, choices=shape.choices))
        return tuple(out)

    def decrypt_remote(
        self,
        scrutineer: keys.InMemorySigner,
        *,
        signer: keys.Signer | None,
        data_dir: Path,
        actor: str = "",
    ) -> dict[str, Any]:
        """(RV-5.3) One scrutineer's partial decryption of every encrypted total, logged as
        ``remote.partial_decryption``; with the k-th, the totals combined (EG-9) and logged as
        ``remote.totals`` with its ``remote-totals`` checkpoint (the work group's ``signer`` is
        then needed). Returns ``{index, partials, k, totals}`` (``totals`` None until combined).

        Raises:
            SessionError: ``remote.not_closed``; ``key.role`` (not a
                scrutineer key); ``remote.not_scrutineer`` (no share of this election is theirs);
                ``remote.partial_twice``; ``remote.totals_done``; ``remote.no_casts``;
                ``elgamal.share_mismatch`` and the share container's refusals; ``key.needed``.
        """
        r = self.meeting.remote
        if r is None or not r.closed:
            raise SessionError(
                "remote.not_closed", zh="须先截止远程投票", en="close remote voting first"
            )
        opened = self._remote_opened()
        assert opened is not None
        if scrutineer.role is not keys.Role.SCRUTINEER:
            raise SessionError(
                "key.role",
                zh="只有监票人的密钥能做部分解密",
                en=f"only a scrutineer key decrypts, not {scrutineer.role.value}",
            )
        mine = base64.b64encode(scrutineer.public_key.key).decode()
        entry = next((sh for sh in opened["shares"] if sh["scrutineer"] == mine), None)
        if entry is None:
            raise SessionError(
                "remote.not_scrutineer",
                zh="此密钥不是本次选举监票人的密钥",
                en="this key is not one of the election's scrutineers",
            )
        index = int(entry["index"])
        if self._logged_bodies("remote.totals"):
            raise SessionError(
                "remote.totals_done",
                zh="远程选票的合计已经解密并记录",
                en="the remote totals are already decrypted and logged",
            )
        partials = self._logged_bodies("remote.partial_decryption")
        if any(int(p["index"]) == index for p in partials):
            raise SessionError(
                "remote.partial_twice",
                zh=f"监票人 {index} 已经做过部分解密",
                en=f"scrutineer {index} has already decrypted",
                clause="RV-5.3",
            )
        ctx = self.ballot_context()
        casts = len(r.casts)
        if casts == 0:
            raise SessionError(
                "remote.no_casts",
                zh="没有远程选票，无需解密",
                en="no remote ballot was cast: nothing to decrypt",
            )
        container_bytes = (self._remote_dir(data_dir) / f"share-{index}.json").read_bytes()
        eid = self.manifest.election_id
        try:
            if not hmac.compare_digest(
                remote.share_commitment_v2(container_bytes), str(entry["commitment"])
            ):
                raise SessionError(
                    "remote.share_corrupt",
                    zh="密钥份额文件与开启记录中的承诺不符",
                    en="the share container does not match its commitment in remote.opened",
                )
            container = remote.parse_share_container_v2(container_bytes)
            share = remote.unwrap_share_v2(container, scrutineer, ctx.key)
            totals = self.encrypted_totals()
            body_posts = []
            for shape, post_totals in zip(ctx.posts, totals, strict=True):
                parts = [
                    elgamal.partial_decrypt(
                        share,
                        ctx.key,
                        total,
                        election_id=eid,
                        label=elgamal.tally_label(shape.post, c),
                    ).to_json()
                    for c, total in enumerate(post_totals)
                ]
                body_posts.append(
                    {
                        "post": shape.post,
                        "shares": [p["share"] for p in parts],
                        "proofs": [p["proof"] for p in parts],
                    }
                )
        except keys.KeysError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        body = {"index": index, "posts": body_posts}
        specs: list[tuple[str, dict[str, Any]]] = [("remote.partial_decryption", body)]
        all_partials = [*partials, body]
        combined = None
        if len(all_partials) >= ctx.key.k:
            combined = self._combine(ctx, totals, all_partials, casts)
            specs.append(("remote.totals", {"posts": combined}))
        self._commit(specs, signer=signer if combined is not None else None, actor=actor)
        return {"index": index, "partials": len(all_partials), "k": ctx.key.k, "totals": combined}

    def _combine(
        self,
        ctx: remote_ballot.BallotContext,
        totals: Sequence[Sequence[elgamal.Ciphertext]],
        partials: Sequence[Mapping[str, Any]],
        casts: int,
    ) -> list[dict[str, Any]]:
        """EG-9 over the k lowest-index partial decryptions: each choice's total."""
        chosen = sorted(partials, key=lambda p: int(p["index"]))[: ctx.key.k]
        out = []
        try:
            for i, (shape, post_totals) in enumerate(zip(ctx.posts, totals, strict=True)):
                values = []
                for c, total in enumerate(post_totals):
                    parts = [
                        elgamal.parse_partial_decryption(
                            {
                                "index": int(p["index"]),
                                "share": p["posts"][i]["shares"][c],
                                "proof": p["posts"][i]["proofs"][c],
                            },
                            n=ctx.key.n,
                        )
                        for p in chosen
                    ]
                    values.append(
                        elgamal.combine_partials(
                            ctx.key,
                            total,
                            parts,
                            election_id=self.manifest.election_id,
                            label=elgamal.tally_label(shape.post, c),
                            bound=casts,
                        )
                    )
                out.append({"post": shape.post, "ballots": casts, "totals": values})
        except keys.KeysError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        return out

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


def _wording(spec: RoundSpec) -> str:
    """The round wording printed after the paper kind; nothing for a post's first round."""
    if spec.purpose is RoundPurpose.FIRST and spec.revote_of is None:
        return ""
    return round_wording(spec, "zh")


def _check_work_group(manifest: Manifest, signer: keys.Signer) -> None:
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
    if entry.type == "stock.committed":
        return PostKind(entry.body["post"]), int(entry.body["round"]), 1
    if entry.type == "stock.supplemented":
        part = entry.body.get("part")
        if isinstance(part, bool) or not isinstance(part, int) or part < 2:
            return None  # the replay refuses the entry itself
        return PostKind(entry.body["post"]), int(entry.body["round"]), part
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
