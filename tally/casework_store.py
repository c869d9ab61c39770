"""The town casework file (spec/procedure.md RP-1.1, RP-8, RP-9, RP-11.3, RP-11.4, RP-12.3).

One SQLite file per town: the town-signed ``signed-casework/1`` definition, the casework log
(``casework-entry/1``, a salted hash chain and an RFC 9162 Merkle tree, ``tally.log``), its
checkpoints signed by the casework key, the photos by SHA-256, salted hashes of the objections'
check codes and the reporters' access codes, and the hashes of the submission tokens already
taken (a replayed submission is refused and nothing is stored again).

Every operation is checked by the pure core (``tally.core.casework``) against the ledger first and
then written in one transaction (WAL, ``synchronous=FULL``): the entry, its photos and its codes
land together or not at all, and the in-memory ledger and tree move only after the commit. SQL is
always parameterised; triggers refuse UPDATE and DELETE on every table that holds history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import keys
from tally.calendar import WorkingDayCalendar, builtin_years
from tally.core.casework import (
    CASEWORK_DOMAIN,
    SIGNED_CASEWORK_FORMAT,
    Casework,
    CaseworkEntry,
    CaseworkError,
    Ledger,
    Step,
    WorkingDays,
    access_code,
    check_code,
    exact_due_date,
    local_date,
    normalise_code,
    open_ledger,
    opening_step,
    parse_casework,
    public_summary,
    record,
    replay,
    settle_due_dates,
)
from tally.core.log_entry import leaf_hash
from tally.core.manifest import canonical
from tally.log import MerkleTree
from tally.log.checkpoint import note_body, signature_line
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
from tally.store import StoreError, transaction

__all__ = [
    "CHECKPOINT_DOMAIN",
    "BundleFile",
    "CaseworkStore",
    "Randomness",
    "parse_signed_casework",
    "sign_casework",
]

CHECKPOINT_DOMAIN: Final = b"branch-election/casework-checkpoint/1"
BUNDLE_INDEX_FORMAT: Final = "casework-bundle-index/1"
_CODE_SALT_BYTES: Final = 16
_PHOTO_SUFFIX: Final = {"jpeg": "jpg", "png": "png"}

_SCHEMA: Final[tuple[str, ...]] = (
    *LOG_TABLES,
    # (RP-9.4) photos as received, named by their SHA-256.
    "CREATE TABLE photos (sha256 TEXT PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL)",
    # (RP-8.3, RP-9.2) salted hashes of check codes and access codes; a code may be replaced.
    "CREATE TABLE codes (subject TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL)",
    # The SHA-256 of each submission token taken, with the reference it gave.
    "CREATE TABLE submissions (token_hash BLOB PRIMARY KEY, reference TEXT NOT NULL)",
    *append_only(("log", "checkpoints", "checkpoint_signatures", "photos", "submissions")),
)
SCHEMA_VERSION: Final = 1

#: The shell's random source: ``n`` bytes fresh from the OS CSPRNG (``secrets.token_bytes``).
Randomness = Callable[[int], bytes]


def sign_casework(document: dict[str, Any], town: keys.Signer) -> tuple[bytes, Casework]:
    """Check a ``casework/1`` document and sign it: the ``signed-casework/1`` JCS bytes.

    Raises:
        CaseworkDefinitionError: the document has problems (all listed).
        CaseworkError: ``casework.wrong_key`` when the signer is not the town committee's.
    """
    if town.public_key.role is not keys.Role.TOWN_COMMITTEE:
        raise _wrong_key("town_committee")
    casework = parse_casework(document)
    signature = town.sign(CASEWORK_DOMAIN, casework.raw)
    signed = canonical(
        {
            "format": SIGNED_CASEWORK_FORMAT,
            "casework": json.loads(casework.raw),
            "town_key": json.loads(keys.export_public_key(town.public_key)),
            "signature": base64.b64encode(signature).decode(),
        }
    )
    return signed, casework


def _wrong_key(role: str) -> CaseworkError:
    return CaseworkError(
        "casework.wrong_key",
        zh=f"密钥角色不符，应为 {role}",
        en=f"the key has the wrong role: {role} is needed",
        clause="RP-1.2",
    )


def _not_signed(en: str) -> CaseworkError:
    return CaseworkError(
        "casework.not_signed", zh="事项登记簿定义没有有效的镇党委签名", en=en, clause="RP-8.1"
    )


def parse_signed_casework(
    raw: bytes, *, town_key: keys.PublicKey | None = None
) -> tuple[Casework, keys.PublicKey, keys.PublicKey]:
    """Parse ``signed-casework/1`` bytes and check the town's signature.

    Returns:
        The casework, the town key it names and the casework service's key.

    Raises:
        CaseworkError: ``casework.not_signed`` (shape, key, role or signature), or
            ``casework.wrong_key`` when ``town_key`` is given and differs.
        CaseworkDefinitionError: the definition has problems.
    """
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise _not_signed("the signed casework definition is not JSON") from e
    if not isinstance(doc, dict) or set(doc) != {"format", "casework", "town_key", "signature"}:
        raise _not_signed("the signed casework definition has the wrong members")
    if doc["format"] != SIGNED_CASEWORK_FORMAT:
        raise _not_signed(f'the format must be "{SIGNED_CASEWORK_FORMAT}"')
    casework = parse_casework(doc["casework"])
    try:
        town = keys.parse_public_key(canonical(doc["town_key"]))
        service = keys.parse_public_key(canonical(dict(casework.casework_key)))
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        keys.verify(town, CASEWORK_DOMAIN, casework.raw, signature)
    except (keys.KeysError, binascii.Error, ValueError, TypeError) as e:
        raise _not_signed("the town's signature on the casework definition is not valid") from e
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise _wrong_key("town_committee")
    if service.role is not keys.Role.CASEWORK:
        raise _wrong_key("casework")
    if town_key is not None and town_key.key != town.key:
        raise _wrong_key("town_committee (the trust root given)")
    return casework, town, service


def _code_hash(salt: bytes, code: str) -> bytes:
    return hashlib.sha256(salt + normalise_code(code).encode()).digest()


class CaseworkStore(SignedLogFile):
    """The town casework file. Use :meth:`create` or :meth:`open`."""

    FILE_ZH = "事项登记簿"
    FILE_EN = "casework file"

    def __init__(self, conn: sqlite3.Connection, path: Path, signed: bytes) -> None:
        self._conn = conn
        self.path = path
        self.signed_casework = signed
        casework, self.town_key, self.casework_key = parse_signed_casework(signed)
        raws = [row[0] for row in conn.execute("SELECT raw FROM log ORDER BY seq")]
        self._ledger = replay(casework, raws)
        self._tree = MerkleTree(leaf_hash(r) for r in raws)

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        *,
        signed_casework: bytes,
        casework_signer: keys.Signer,
        at: datetime,
        random: Randomness,
    ) -> CaseworkStore:
        """A new casework file with entry 0 and the ``opened`` checkpoint; never overwrites.

        Raises:
            StoreError: the file exists or cannot be written.
            CaseworkError: the definition is not validly signed, or ``casework_signer`` is not
                the definition's casework key.
        """
        casework, _, service = parse_signed_casework(signed_casework)
        if casework_signer.public_key.key != service.key:
            raise _wrong_key("casework (the definition's)")
        entry, _ledger = record(
            open_ledger(casework), opening_step(casework), at=at, actor="town", salt=random(32)
        )
        # (RP-11.4) The "opened" checkpoint lands with entry 0: a one-leaf tree's root is its leaf.
        body = note_body(f"branch-casework/{casework.id.hex()}", 1, entry.leaf_hash, "opened")
        create_file(
            path,
            schema=_SCHEMA,
            meta=[
                ("schema_version", str(SCHEMA_VERSION).encode()),
                ("signed_casework", signed_casework),
            ],
            entry=(entry.seq, entry.type, entry.raw),
            checkpoint=(body, signature_line(casework_signer, body, domain=CHECKPOINT_DOMAIN)),
            name=("事项登记簿文件", "casework file"),
        )
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> CaseworkStore:
        """Open a casework file, replaying and checking its log.

        Raises:
            StoreError: missing, not a casework file, damaged, or of a newer version.
        """
        conn, signed = open_file(
            path,
            key="signed_casework",
            schema_version=SCHEMA_VERSION,
            name=("事项登记簿文件", "casework file"),
        )
        try:
            return cls(conn, path, signed)
        except CaseworkError as e:
            raise StoreError(
                "store.corrupt",
                zh=f"{path} 的事项记录已损坏：{e.zh}",
                en=f"the casework log of {path} is damaged: {e.en}",
            ) from e

    # -- reading -------------------------------------------------------------------------------
    @property
    def ledger(self) -> Ledger:
        """The casework as its log says now; after :meth:`use_calendar`, with its provisional
        due dates exact where the calendar knows their year (RP-8.4a)."""
        if self._calendar is None:
            return self._ledger
        return settle_due_dates(self._ledger, self._calendar)

    # The working-day calendar the ledger's due dates are settled on (RP-8.4a), once given.
    _calendar: WorkingDays | None = None

    def use_calendar(self, calendar: WorkingDays) -> None:
        """Settle the ledger's provisional due dates on ``calendar`` from now on: each becomes
        exact as soon as the calendar knows its year (spec/procedure.md RP-8.4a). The log is not
        written: the exact date follows from what it holds and the signed calendar."""
        self._calendar = calendar

    @property
    def casework(self) -> Casework:
        return self._ledger.casework

    def photo(self, sha256: str) -> bytes | None:
        row = self._conn.execute("SELECT data FROM photos WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else bytes(row[0])

    def verify_code(self, subject: str, code: str) -> bool:
        """Whether ``code`` is the current check code (``check:<reference>``) or access code
        (``access:<reporter>``) of ``subject``; compared in constant time."""
        row = self._conn.execute(
            "SELECT salt, hash FROM codes WHERE subject = ?", (subject,)
        ).fetchone()
        return row is not None and hmac.compare_digest(_code_hash(bytes(row[0]), code), row[1])

    def reporter_for_code(self, code: str) -> str | None:
        """The active reporter whose current access code is ``code`` (RP-9.2), else None.

        Every stored access code is compared (in constant time each), so the answer's timing
        does not say how many codes were tried before the match.
        """
        found: str | None = None
        rows = self._conn.execute(
            "SELECT subject, salt, hash FROM codes WHERE substr(subject, 1, 7) = 'access:'"
        ).fetchall()
        for subject, salt, digest in rows:
            if hmac.compare_digest(_code_hash(bytes(salt), code), bytes(digest)):
                found = str(subject)[len("access:") :]
        who = self._ledger.reporters.get(found) if found is not None else None
        return found if who is not None and who.active else None

    def changed_elsewhere(self) -> bool:
        """Whether another process (the CLI beside the service) appended to the log since this
        handle read it; the caller then opens the file again."""
        (n,) = self._conn.execute("SELECT COUNT(*) FROM log").fetchone()
        return bool(n != self._ledger.size)

    # -- writing -------------------------------------------------------------------------------
    def perform(
        self,
        step: Step,
        *,
        at: datetime,
        actor: str,
        random: Randomness,
        submission: str = "",
        code_subject: str = "",
        code: str = "",
    ) -> CaseworkEntry:
        """Append a checked step's entry, its photos, its code hash and its submission token, in
        one transaction.

        Raises:
            CaseworkError: ``case.replayed`` when ``submission`` was taken before (nothing
                stored), or the core's refusal when the entry does not fit the ledger.
            StoreError: ``store.stale`` (another process wrote first), or the disk is full or
                the write failed; nothing was written.
        """
        token_hash = hashlib.sha256(submission.encode()).digest() if submission else b""
        if token_hash:
            row = self._conn.execute(
                "SELECT reference FROM submissions WHERE token_hash = ?", (token_hash,)
            ).fetchone()
            if row is not None:
                raise CaseworkError(
                    "case.replayed",
                    zh=f"这份材料已经提交过，编号为 {row[0]}，没有重复登记",
                    en=f"this submission was already received as {row[0]}; "
                    "nothing was stored again",
                    clause="RP-8.2",
                )
        entry, after = record(self._ledger, step, at=at, actor=actor, salt=random(32))
        salt = random(_CODE_SALT_BYTES) if code else b""
        with transaction(self._conn) as conn:
            self._same_log(conn)
            conn.execute(
                "INSERT INTO log (seq, type, raw) VALUES (?, ?, ?)",
                (entry.seq, entry.type, entry.raw),
            )
            for p in step.photos:
                conn.execute(
                    "INSERT OR IGNORE INTO photos (sha256, type, data) VALUES (?, ?, ?)",
                    (p.sha256, p.type, p.data),
                )
            if code:
                conn.execute(
                    "INSERT OR REPLACE INTO codes (subject, salt, hash) VALUES (?, ?, ?)",
                    (code_subject, salt, _code_hash(salt, code)),
                )
            if token_hash:
                conn.execute(
                    "INSERT INTO submissions (token_hash, reference) VALUES (?, ?)",
                    (token_hash, str(step.body.get("reference", ""))),
                )
        self._ledger = after
        self._tree.append(entry.leaf_hash)
        return entry

    def lodge(
        self, step: Step, *, at: datetime, actor: str, random: Randomness, submission: str = ""
    ) -> tuple[CaseworkEntry, str]:
        """Record an ``objection.received`` step; a ``form`` objection gets a check code.

        Returns:
            The entry and the check code ("" for ``in_person``), shown once and stored only as a
            salted hash (RP-8.3).

        Raises:
            CaseworkError: as :meth:`perform`.
            StoreError: as :meth:`perform`.
        """
        code = check_code(random(5)) if step.body.get("channel") == "form" else ""
        entry = self.perform(
            step,
            at=at,
            actor=actor,
            random=random,
            submission=submission,
            code_subject=f"check:{step.body['reference']}",
            code=code,
        )
        return entry, code

    def register(
        self, step: Step, *, at: datetime, actor: str, random: Randomness
    ) -> tuple[CaseworkEntry, str]:
        """Record a ``reporter.registered`` step and draw the reporter's access code (RP-9.2).

        Raises:
            CaseworkError: as :meth:`perform`.
            StoreError: as :meth:`perform`.
        """
        code = access_code(random(8))
        entry = self.perform(
            step,
            at=at,
            actor=actor,
            random=random,
            code_subject=f"access:{step.body['reporter']}",
            code=code,
        )
        return entry, code

    def replace_code(self, reporter: str, *, random: Randomness) -> str:
        """Draw a new access code for an active reporter (RP-9.2); the old one stops at once.

        The code is never in the log, so replacing it writes no entry (implementation decision,
        issue 18, casework-gaps); a session signed in with the old code ends too, since it holds
        :meth:`access_stamp` and the stamp changes.

        Raises:
            CaseworkError: ``reporter.unknown`` (not registered, or withdrawn; nothing stored).
            StoreError: as :meth:`perform`.
        """
        who = self._ledger.reporters.get(reporter)
        if who is None or not who.active:
            raise CaseworkError(
                "reporter.unknown",
                zh=f"没有这名在册的直报员：{reporter}（什么也没有改变）",
                en=f"no registered reporter {reporter} (nothing was changed)",
                clause="RP-9.2",
            )
        code = access_code(random(8))
        salt = random(_CODE_SALT_BYTES)
        with transaction(self._conn) as conn:
            self._same_log(conn)
            conn.execute(
                "INSERT OR REPLACE INTO codes (subject, salt, hash) VALUES (?, ?, ?)",
                (f"access:{reporter}", salt, _code_hash(salt, code)),
            )
        return code

    def access_stamp(self, reporter: str) -> str | None:
        """A value that changes whenever the reporter's access code is replaced (the code's salt,
        hashed), or None when the reporter is not active: a reporter's session holds the stamp of
        its sign-in and ends when it no longer matches (RP-9.2)."""
        who = self._ledger.reporters.get(reporter)
        if who is None or not who.active:
            return None
        row = self._conn.execute(
            "SELECT salt FROM codes WHERE subject = ?", (f"access:{reporter}",)
        ).fetchone()
        return None if row is None else hashlib.sha256(bytes(row[0])).hexdigest()

    def checkpoint(self, reason: str, signer: keys.Signer) -> str:
        """Sign the log's current head with the casework key (RP-11.4) and store it.

        Raises:
            CaseworkError: ``casework.wrong_key`` when ``signer`` is not the casework key.
            StoreError: as :meth:`perform`.
        """
        if signer.public_key.key != self.casework_key.key:
            raise _wrong_key("casework (the definition's)")
        size = self._tree.size
        body = note_body(
            f"branch-casework/{self.casework.id.hex()}", size, self._tree.root(), reason
        )
        name, line = signature_line(signer, body, domain=CHECKPOINT_DOMAIN)
        with transaction(self._conn) as conn:
            self._same_log(conn)
            insert_checkpoint(conn, size, reason, body, [(name, line)])
        return body + "\n" + line

    # -- export --------------------------------------------------------------------------------
    def bundle_files(self, calendar: WorkingDayCalendar | None = None) -> list[BundleFile]:
        """The ``casework-bundle/1`` (RP-12.3), for the verification group and the town committee
        only: the signed definition, the log, the checkpoints, every photo the log names, and
        ``calendar``'s signed year file as ``calendar.json`` when a due date was counted on one of
        its years (:meth:`calendar_used`).

        Raises:
            CaseworkError: ``casework.calendar_needed`` (from :meth:`calendar_used`).
        """
        rows = self.log_rows()
        files = [
            BundleFile("casework.json", self.signed_casework),
            BundleFile("log.jsonl", b"".join(r + b"\n" for r in rows)),
            BundleFile("checkpoints.json", self._checkpoints_json()),
        ]
        for case_photo in self._logged_photos(rows):
            sha, kind = case_photo
            data = self.photo(sha)
            if data is not None:
                files.append(BundleFile(f"photos/{sha}.{_PHOTO_SUFFIX[kind]}", data))
        if calendar is not None and self.calendar_used(calendar, rows):
            files.append(BundleFile("calendar.json", calendar.signed_file))
        index = bundle_index(
            BUNDLE_INDEX_FORMAT, "casework_id", self.casework.id.hex(), len(rows), files
        )
        return [index, *files]

    def calendar_used(
        self, calendar: WorkingDayCalendar, rows: Sequence[bytes] | None = None
    ) -> bool:
        """(RP-12.3, R26.3, RP-8.4a) Whether a due date of the log is counted on a year that only
        ``calendar``'s signed year file knows: an exact date logged when received, or a
        provisional one that the signed year makes exact. The verifier then needs the file.

        Raises:
            CaseworkError: ``casework.calendar_needed`` when a due date logged as exact reaches
                a year ``calendar`` does not know (the town's signed year file is needed).
        """
        signed_only = set(calendar.known_years) - {y.year for y in builtin_years()}
        used, missing = False, set()
        d = self.casework.deadlines
        days = {
            "objection": (d.objection_assign_days, d.objection_conclude_days),
            "report": (d.report_assign_days, d.report_conclude_days),
        }
        for raw in self.log_rows() if rows is None else rows:
            doc = json.loads(raw)
            kind = str(doc["type"]).removesuffix(".received")
            if kind not in days:
                continue
            day = local_date(datetime.fromisoformat(doc["at"]))
            provisional = doc["body"].get("due_provisional", [])
            for name, n in zip(("due_assign", "due_conclude"), days[kind], strict=True):
                exact = exact_due_date(day, n, calendar)
                if exact is None:
                    if name not in provisional:
                        missing.add(int(doc["body"][name][:4]))
                    continue
                used = used or bool(set(range(day.year, exact.year + 1)) & signed_only)
        if missing:
            years = "、".join(str(y) for y in sorted(missing))
            raise CaseworkError(
                "casework.calendar_needed",
                zh=f"有办理期限是按镇党委签署的 {years} 年节假日文件计算的：导出时请用 --calendar "
                "给出该文件，核验时要用到它",
                en=f"due dates were counted on the town's signed year file for {years}: give "
                "that file with --calendar; the verifier needs it",
                clause="RP-12.3",
            )
        return used and bool(calendar.signed_file)

    @staticmethod
    def _logged_photos(rows: Sequence[bytes]) -> Iterator[tuple[str, str]]:
        seen: set[str] = set()
        for raw in rows:
            doc = json.loads(raw)
            if doc["type"] == "report.received":
                for p in doc["body"]["photos"]:
                    if p["sha256"] not in seen:
                        seen.add(p["sha256"])
                        yield p["sha256"], p["type"]

    def public_document(self) -> bytes:
        """The town's ``casework-public/1`` (RP-12.4): report totals only, JCS bytes."""
        return canonical(public_summary(self._ledger).document())
