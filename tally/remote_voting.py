"""Remote voting (spec/remote.md, spec/remote-v2.md), bound to an open election's log: the keys
and their files, invitations and their redemption, the pending casts, the close, and the
decryption of the totals. ``ElectionSession.remote`` is the one instance of an open session.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hmac
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

import keys
from keys import blind_rsa, elgamal, remote_ballot, remote_key, remote_tokens
from tally import remote_checker, remote_invitations, remote_tally
from tally.core.errors import TallyError
from tally.core.manifest import Manifest, canonical, public_summary_hash
from tally.core.meeting import Entry, Meeting, assembly_posts, parse_entry
from tally.core.meeting.bodies import RemoteCastV2 as CastBody
from tally.core.model import MemberId, zh_label
from tally.core.remote import post_shapes, write_in_lists_body
from tally.election_log import ElectionLog
from tally.election_log import now as _now
from tally.log.merkle import MerkleTree
from tally.manifest_io import signed_public_summary, strict_json
from tally.session_config import SessionConfig
from tally.session_errors import SessionError
from tally.store import ElectionStore

__all__ = [
    "INVITATION_KEY_FILE",
    "ISSUER_KEY_FILE",
    "MAX_CHOICES",
    "ReceivedCast",
    "RemoteCastV2",
    "RemoteVoting",
]


@dataclass(frozen=True, slots=True)
class RemoteCastV2:
    """One ``POST /api/remote/cast`` of version 2 (RV-4.1): the credential as decoded bytes and
    the ``remote-ballot/2`` object as received."""

    token: bytes
    prefix: bytes
    signature: bytes
    ballot: Any


@dataclass(frozen=True, slots=True)
class ReceivedCast:
    """A cast kept among the pending casts as ``received`` (RV-4.1): the answer to its request
    (``remote-receipt/2``) and what the checker is given, as stored (RV-4.5)."""

    answer: dict[str, Any]
    token: str  # base64
    ballot: bytes  # the ballot's RFC 8785 bytes

    @property
    def receipt(self) -> str:
        return str(self.answer["receipt"])


MAX_CHOICES = 256  # RV-2.2


ISSUER_KEY_FILE = "issuer.key"
"""The remote issuer's private key in ``<data>/remote/``: ``issuer-keyfile/1`` (RM-4.1)."""
INVITATION_KEY_FILE = "invitation.key"
"""The invitations' HMAC key ``K_inv`` in ``<data>/remote/`` (RM-3.2), destroyed at the close."""


def cast_ballot(raw: bytes) -> Mapping[str, Any]:
    """The encrypted ballot of a stored ``remote.cast`` entry (its structure was checked against
    the election when it was applied, RV-3.1)."""
    v = parse_entry(raw).value
    assert isinstance(v, CastBody), "not a remote.cast entry"
    assert isinstance(v.ballot, Mapping), "a logged cast's ballot is an object"
    return v.ballot


def _destroy_remote_files(folder: Path) -> None:
    """Destroy every key file of an opening that never reached the log (RM-4.1)."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and (
            path.name in (ISSUER_KEY_FILE, INVITATION_KEY_FILE, "issuer.pem")
            or (path.name.startswith("share-") and path.suffix == ".json")
        ):
            keys.destroy_file(path)


class RemoteVoting:
    """Remote voting of one open election: its commands append through the log it is bound to,
    and it keeps what is costly to read (the issuer key, ``remote.opened``) for the session."""

    def __init__(self, log: ElectionLog, config: SessionConfig) -> None:
        self._log = log
        self._config = config
        self._opened_cache: Mapping[str, Any] | None = None
        self._issuer_cache: remote_tokens.TokenIssuer | None = None
        self._issuer_public_cache: rsa.RSAPublicKey | None = None
        self._opened_row: tuple[int, bytes] | None = None
        self._ballot_context: remote_ballot.BallotContext | None = None

    @property
    def store(self) -> ElectionStore:
        """The election file."""
        return self._log.store

    @property
    def manifest(self) -> Manifest:
        """The signed manifest."""
        return self._log.manifest

    @property
    def meeting(self) -> Meeting:
        """The state replayed from the log, as of the last command."""
        return self._log.meeting

    @property
    def tree(self) -> MerkleTree:
        """The log's Merkle tree."""
        return self._log.tree

    def resolve_member(self, ref: str) -> MemberId:
        """A member id from an id or a unique name (``ElectionLog.resolve_member``)."""
        return self._log.resolve_member(ref)

    def _commit(self, specs: Sequence[tuple[str, dict[str, Any]]], **how: Any) -> list[Entry]:
        return self._log.commit(specs, **how)

    def _remote_dir(self, data_dir: Path | None) -> Path:
        """``<data>/remote/``: ``data_dir`` when a caller still passes one, else the session's
        ``SessionConfig.data_dir``.

        Raises:
            SessionError: ``remote.data_dir`` when neither names the data folder.
        """
        data_dir = data_dir if data_dir is not None else self._config.data_dir
        if data_dir is None:
            raise SessionError(
                "remote.data_dir",
                zh="未指定数据文件夹（远程投票的签发密钥、邀请密钥和密钥份额所在处）",
                en="no data folder (where the remote issuer, invitation and share files live)",
            )
        folder = data_dir / "remote"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _passphrase(self) -> str:
        value = self._config.passphrase
        if len(value) < keys.PASSPHRASE_MIN_CHARS:
            raise SessionError(
                "remote.passphrase",
                zh="须设置 TALLY_PASSPHRASE（工作组口令）以加密保存远程投票签发密钥",
                en="set TALLY_PASSPHRASE (the work group's passphrase) to keep the issuer key",
            )
        return value

    def _issuer(self, data_dir: Path | None) -> remote_tokens.TokenIssuer:
        """The issuer key, opened once per session (the key file's Argon2id is deliberately
        slow)."""
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
            self._issuer_cache = remote_tokens.TokenIssuer.from_key_file(
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

    def open(
        self,
        *,
        signer: keys.Signer,
        k: int,
        data_dir: Path | None = None,
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
        issuer = remote_tokens.TokenIssuer.generate()
        files: list[tuple[str, bytes]]
        try:
            setup = remote_key.create_remote_key_v2(self.manifest.election_id, scrutineers, k)
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
                (
                    INVITATION_KEY_FILE,
                    remote_invitations.generate_invitation_key(),
                    keys.PRIVATE_FILE_MODE,
                ),
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

    def issue_invitation(self, member_ref: str, *, data_dir: Path | None = None) -> tuple[str, str]:
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
        code, inv = remote_invitations.issue_invitation(
            server_key, self.manifest.election_id, member, now=now, closes_at=self._closes_at()
        )
        self.store.put_invitation(
            member=member,
            code_hash=inv.code_hash,
            issued_at=inv.issued_at.isoformat(),
            expires_at=inv.expires_at.isoformat(),
        )
        return code, member

    def redeem_invitation(
        self, code: str, blinded_msg: bytes, *, data_dir: Path | None = None
    ) -> bytes:
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
            normal = remote_invitations.normalize_invitation_code(code)
            server_key = (self._remote_dir(data_dir) / INVITATION_KEY_FILE).read_bytes()
            code_hash = remote_invitations.hash_invitation_code(
                server_key, self.manifest.election_id, normal
            )
            found = self.store.invitation_by_hash(code_hash)
            if found is None:
                raise remote_invitations.WrongInvitationCodeError(
                    zh="邀请码不正确。", en="wrong invitation code"
                )
            member, issued, expires, redeemed = found
            invitation = remote_invitations.Invitation(
                member=member,
                code_hash=code_hash,
                issued_at=dt.datetime.fromisoformat(issued),
                expires_at=dt.datetime.fromisoformat(expires),
                redeemed_at=dt.datetime.fromisoformat(redeemed) if redeemed else None,
            )
            now = _now()
            remote_invitations.check_invitation(
                invitation,
                normal,
                server_key=server_key,
                election_id=self.manifest.election_id,
                now=now,
            )
            blind_sig = self._issuer(data_dir).sign_blinded(blinded_msg)
        except (
            keys.KeysError,
            blind_rsa.BlindSignatureError,
            remote_invitations.InvitationError,
        ) as e:
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
        return remote_invitations.invitation_pin(
            public_summary_hash(summary), self.tree.leaf_hash(row[0])
        )

    def pin(self) -> dict[str, Any]:
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

    def info(self) -> dict[str, Any]:
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
            "write_in_lists": self.write_in_lists(),
            "election_key": opened["election_key"],
        }

    def write_in_lists(self) -> list[dict[str, Any]]:
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

    def cast(self, token: bytes, prefix: bytes, signature: bytes, ballot: Any) -> dict[str, Any]:
        """Accept a ``remote-ballot/2`` cast with a valid, unused token into the pending casts
        (RV-4.1); the receipt ``remote-receipt/2``. Nothing is appended to the log."""
        (result,) = self.cast_many([RemoteCastV2(token, prefix, signature, ballot)])
        if isinstance(result, SessionError):
            raise result
        return result.answer

    def cast_many(self, casts: Sequence[RemoteCastV2]) -> list[ReceivedCast | SessionError]:
        """(RV-4.1) Group commit: each cast checked in order (window, credential, single use over
        the pending and the logged casts, RV-3.5), the accepted ones inserted into the pending
        casts in one transaction (one fsync); no log entry, no time, no sequence. Each cast gets
        its receipt or the reason it was refused; a store failure refuses them all."""
        out: list[ReceivedCast | SessionError] = []
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
            answer = remote_checker.received_receipt(self.manifest.election_id, row[0])
            out.append(ReceivedCast(answer, row[1], row[4]))
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
            remote_tokens.verify_credential(
                self._issuer_public_key(),
                self.manifest.election_id,
                remote_tokens.RemoteCredential(
                    token=c.token, prefix=c.prefix, signature=c.signature
                ),
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
            ballot = remote_ballot.receive_ballot(self.ballot_context(), c.ballot, token=c.token)
            remote_checker.check_not_refused_before(self.store, ballot.receipt)
        except (keys.KeysError, TallyError) as e:
            raise SessionError(e.code, zh=e.zh, en=e.en, clause=e.clause) from e
        return (ballot.receipt, token, b64(c.prefix), b64(c.signature), ballot.jcs)

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

    def receipt_status(self, receipt: str) -> dict[str, Any] | None:
        """(RV-4.4) ``received``, ``accepted`` or ``refused`` with its code and messages while the
        receipt's cast is not logged; None otherwise (the caller looks in the log)."""
        return remote_checker.receipt_status(self.store, receipt)

    def _issuer_public_key(self) -> rsa.RSAPublicKey:
        """The issuer's public key from ``remote.opened``, parsed once."""
        if self._issuer_public_cache is None:
            opened = self._remote_opened()
            assert opened is not None
            self._issuer_public_cache = remote_tokens.load_issuer_public_key(
                base64.b64decode(opened["issuer_key"])
            )
        return self._issuer_public_cache

    def close(self, *, signer: keys.Signer, data_dir: Path | None = None, actor: str = "") -> None:
        """Log ``remote.closed``; then (RM-4.7) destroy the issuer key and the invitations' key in
        the data folder (``data_dir``, else ``SessionConfig.data_dir``; neither: nothing is
        destroyed): no token can be signed and no invitation code confirmed after the close, by
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
        if data_dir is not None or self._config.data_dir is not None:
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
                    "ballot": strict_json(ballot, "远程选票"),
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
        return [cast_ballot(raw) for _, raw in self.store.log_rows_of_types(["remote.cast"])]

    def _logged_bodies(self, type_: str) -> list[Mapping[str, Any]]:
        return [parse_entry(raw).body for _, raw in self.store.log_rows_of_types([type_])]

    def encrypted_totals(self) -> tuple[tuple[elgamal.Ciphertext, ...], ...]:
        """Per assembly-voted post (ballot order), per choice: the sum of that choice's
        ciphertexts over every logged ``remote.cast`` (EG-3.3; (O, O) without a cast)."""
        return remote_tally.encrypted_totals(self.ballot_context(), self._logged_casts_v2())

    def decrypt(
        self,
        scrutineer: keys.InMemorySigner,
        *,
        signer: keys.Signer | None,
        data_dir: Path | None = None,
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
        entry, partials = self._decrypting_share(scrutineer)
        index = int(entry["index"])
        ctx = self.ballot_context()
        casts = len(r.casts)
        if casts == 0:
            raise SessionError(
                "remote.no_casts",
                zh="没有远程选票，无需解密",
                en="no remote ballot was cast: nothing to decrypt",
            )
        totals, body_posts = self._partial_decryption(scrutineer, entry, ctx, data_dir)
        body = {"index": index, "posts": body_posts}
        specs: list[tuple[str, dict[str, Any]]] = [("remote.partial_decryption", body)]
        all_partials = [*partials, body]
        combined = None
        if len(all_partials) >= ctx.key.k:
            combined = remote_tally.combine(ctx, totals, all_partials, casts)
            specs.append(("remote.totals", {"posts": combined}))
        self._commit(specs, signer=signer if combined is not None else None, actor=actor)
        return {"index": index, "partials": len(all_partials), "k": ctx.key.k, "totals": combined}

    def _decrypting_share(
        self, scrutineer: keys.InMemorySigner
    ) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
        """The ``remote.opened`` share entry of the scrutineer who decrypts now, and the partial
        decryptions logged before (RV-5.3).

        Raises:
            SessionError: ``key.role``; ``remote.not_scrutineer``; ``remote.totals_done``;
                ``remote.partial_twice``.
        """
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
        return entry, partials

    def _partial_decryption(
        self,
        scrutineer: keys.InMemorySigner,
        entry: Mapping[str, Any],
        ctx: remote_ballot.BallotContext,
        data_dir: Path | None,
    ) -> tuple[tuple[tuple[elgamal.Ciphertext, ...], ...], list[dict[str, Any]]]:
        """The encrypted totals and the posts of ``remote.partial_decryption``: the scrutineer's
        share, checked against its commitment and unwrapped, applied to each choice's encrypted
        total, with its proof.

        Raises:
            SessionError: ``remote.share_corrupt``; the share container's refusals.
        """
        index = int(entry["index"])
        container_bytes = (self._remote_dir(data_dir) / f"share-{index}.json").read_bytes()
        try:
            if not hmac.compare_digest(
                remote_key.share_commitment_v2(container_bytes), str(entry["commitment"])
            ):
                raise SessionError(
                    "remote.share_corrupt",
                    zh="密钥份额文件与开启记录中的承诺不符",
                    en="the share container does not match its commitment in remote.opened",
                )
            container = remote_key.parse_share_container_v2(container_bytes)
            share = remote_key.unwrap_share_v2(container, scrutineer, ctx.key)
            totals = self.encrypted_totals()
            body_posts = remote_tally.partial_decryption_posts(share, ctx, totals)
        except keys.KeysError as e:
            raise SessionError(e.code, zh=e.zh, en=e.en) from e
        return totals, body_posts
