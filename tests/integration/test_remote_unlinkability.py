"""The linking game (issue 16 point 6; DESIGN §2 point 2, RULES A13, spec/remote.md RM-1.3.2,
spec/remote-v2.md RV-1.1 to RV-1.3), played against remote ballots (version 2, the only one).

A game: an election with exactly two approved remote members A and B (M009, M010), who cast two
remote ballots that differ only in their committee marks, X and Y. A secret coin decides who cast
X. The attacker gets everything the service and the town committee hold after the count: every
table of the SQLite election file, the raw bytes of the election file with its WAL and shared-
memory files (read while the service runs and again after it stopped), the published bundle
(``tally.publish.bundle_files``), the board's JSON (``/api/board`` in zh and en,
``/api/board/checkpoints``, ``/api/board/remote``), every record of the service's ``tally``
loggers (captured at DEBUG), and every file of the service's data folder; never the receipts, the
members' devices or the scrutineers' private keys. It knows X and Y (the challenge) and says who
cast X. It wins when it is right.

Each game is a fresh election through the real service, by one driver (``_play``): HTTP redeem
and cast, then the meeting (the close: the casts kept pending are logged as one batch, which
compacts the file; k = 1 scrutineer decrypts the totals only), the paper rounds, the result, the
scrutineer's co-signatures and the bundle. The members behave as real phones would, on a
simulated clock (``tally.election_log._now``): the invitations are sent at 18:00 on the eve of the
meeting; each member opens theirs at a moment uniform in the next two hours, redeems it at once,
fills in the ballot for 1 to 15 minutes and casts the ``remote-ballot/2`` the device encrypts and
proves (``tally.remote_device``). Who goes first, and whether the two sittings overlap (redeem A,
redeem B, cast B, cast A, ...), is random. Seeded: the same games every run. Not exercised:
write-ins, casts sharing one service batch, members who cast hours after redeeming, an attacker
watching the service or the board *during* the window (RV-1.3: the board shows the number of
casts while open).

Channels the attacker tries (``guess``): it must learn which cast holds X (*content*) and who made
that cast (*owner*).

1. *Content: per-ballot plaintext -> cast*: (a) any log entry (the election file's ``log`` table,
   the bundle's ``log.jsonl``) that names one cast (``{"cast": seq}``) beside one of the two marks
   strings (a decrypted ballot); (b) any table row, bundle file, board JSON, log record or data
   file holding one marks string next to a cast's token. The ElGamal ciphertexts
   (spec/remote-v2-crypto.md): (c) a ``remote.partial_decryption`` that opens one cast's
   ciphertext instead of the post's total (its proofs verify against that ciphertext and the k
   shares combine to 0 or 1); (d) two casts encrypting a choice with the same randomness (equal
   ``alpha``: the difference of the ``beta`` is ±G or O); (e) a key that opens a ciphertext:
   every 32-byte piece of every base64 or hex string the attacker holds (log, bundle, board, rows,
   records, data files), as a scalar x, checked against the election key and its commitments (x
   would open every ballot) and every cast's ``alpha`` (x = r opens that choice); (f) the shape:
   the attacker encrypts X and Y itself with the published key and compares the sizes of every
   member with each cast's.
2. *Owner: cast -> member*, in this order: (a) *direct*: a member id next to a cast's token
   (base64 or hex) in one table row, bundle file, board JSON, log record or data file;
   (b) *timeline*: ``remote.credential_issued {member}`` (seq, ``at``) and the invitations
   table's ``redeemed_at`` (to the microsecond) against each ``remote.cast`` (seq, ``at``): among
   the assignments where every cast follows its member's credential, the one with the smallest
   sum of squared delays (a sitting is short), ties broken by seq distance (credential issue order
   against cast order); (c) *log order*: the casts in log order (the receipt order) against the
   credentials in redemption order; (d) *page*: a member id and a cast's token in one 4 KiB window
   of the raw election file or its WAL (the pending casts' old pages, say); (e) *file order*: the
   casts in the order their tokens first (and last) appear in the raw bytes of the election file
   and of its WAL, against the redemption order (what insertion order a page or a frame would
   keep); (f) *service log order*: the casts in the order the service's log records first name
   their token or receipt (the service writes no record in these games).
3. Nothing links: the attacker flips a (seeded) coin.

Channel 1 finds nothing (RV-1.1, RV-1.2: no plaintext, no key, no decryption of fewer ballots than
a post's total, no shape), so the attacker is at chance (12 of 40: the coin); the owner channels
find nothing either (every cast has the close's ``at``, the log and the compacted file keep the
receipt order, a random order: right in 24 of 40, no token in any WAL, no member beside a token in
any page), so even the ciphertext is not linked to its member.
``test_content_channels_read_a_planted_leak`` shows that channels 1 (c) to (e) do read a leak when
there is one. (History: remote ballots version 1, removed, decrypted each ballot and logged each
cast on arrival; this attacker won 40 of 40 games against it, by its plaintext and its timeline.)
What stays visible (RV-1.3), and the attacker holds it: who was approved, who received a
credential and when, the number of casts, each cast's encrypted ballot and receipt, each post's
remote totals (here X + Y, the same whoever cast X: with two voters the totals alone give nothing
away, but a post where every remote voter chose alike reveals it, RULES A13, RV-6.3).

"Better than chance" is decided over ``GAMES`` seeded games: the attacker's wins must stay within
the one-sided 99% binomial bound of p = 1/2 (``_upper``: at most 27 of 40); each owner channel
alone must stay within the two-sided bounds at 0.05% a side (10 to 30 of the 40 games it
answers): 17 channels, so an attacker at chance fails it with probability under 2% (Bonferroni).
The games are seeded, so either bound gives the same verdict every run (no flake); a real link is
far beyond them. The games take about 25 s on an idle core (60 s on the loaded two-core
machine) and the attacker about 0.15 s a game.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import itertools
import json
import logging
import math
import random
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysodium
import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
import keys.remote_key
import keys.remote_tokens
from keys import elgamal, remote_ballot
from keys.remote_tokens import begin_token_request, finish_token_request, load_issuer_public_key
from tally.calendar import load_calendar
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.publish import bundle_files
from tally.remote_device import ballot_context, choices_for
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from tests.helpers.elections import definition_text

GAMES = 40
SEED = 20261216
PASSPHRASE = "linking game passphrase 2026"
MEMBERS = ("M009", "M010")  # the two approved remote members; M011 teller, M012 scrutineer
PAPER = tuple(f"M{i:03d}" for i in range(1, 13) if f"M{i:03d}" not in MEMBERS)
# The challenge: two valid committee ballots (3 seats of M001-M004) that differ; same secretary.
BALLOTS = ("ooxo", "xooo")
SECRETARY_MARKS = "ox"
PAPER_COMMITTEE = "ooox"
CST = dt.timezone(dt.timedelta(hours=8))
INVITED_AT = dt.datetime(2026, 12, 14, 18, 0, tzinfo=CST)  # the eve of the meeting (12-15)
OPENING_SPREAD = dt.timedelta(hours=2)
SITTING = (dt.timedelta(minutes=1), dt.timedelta(minutes=15))
COUNT_AT = dt.datetime(2026, 12, 15, 9, 0, tzinfo=CST)
GAME_ALPHA = 0.01  # the property: one-sided, the attacker's wins over GAMES
CHANNEL_ALPHA = 0.0005  # each owner channel alone: each side


# --------------------------------------------------------------------------- the evidence


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the attacker holds after one game (never the receipts)."""

    members: tuple[str, str]  # the approved remote members (public in the manifest)
    ballots: tuple[str, str]  # the challenge: the two committee marks strings
    tables: Mapping[str, tuple[tuple[Any, ...], ...]]  # every table of the election file
    raw: Mapping[str, bytes]  # the election file, WAL, shm: "live/<name>" and "rest/<name>"
    bundle: Mapping[str, bytes]  # the published bundle, file by file
    board: tuple[Any, ...]  # /api/board (zh, en), /api/board/checkpoints, /remote, as JSON
    service_log: tuple[str, ...]  # every record of the `tally` loggers, formatted
    data_files: Mapping[str, bytes]  # the service's data folder after the count


@dataclass(frozen=True, slots=True)
class Guess:
    cast_first_ballot: str  # the member the attacker says cast ``ballots[0]``
    channel: str  # how it decided (the channels of the module docstring)


@dataclass(frozen=True, slots=True)
class Game:
    evidence: Evidence
    truth: str  # the member who cast ``ballots[0]``
    events: tuple[tuple[str, str], ...]  # (member, "redeem" | "cast") in the order they happened
    owners: Mapping[str, str]  # each cast's token (base64) -> its member: the referee's, hidden
    scrutineer: keys.InMemorySigner  # the referee's too: only to plant leaks in a test


# --------------------------------------------------------------------------- the attacker


def _log_entries(ev: Evidence) -> dict[int, dict[str, Any]]:
    """Every log entry the attacker holds, by seq: the election file's and the bundle's."""
    out: dict[int, dict[str, Any]] = {}
    for _, _, raw in ev.tables.get("log", ()):
        doc = json.loads(bytes(raw))
        out[doc["seq"]] = doc
    for name, data in ev.bundle.items():
        if name.endswith("log.jsonl"):
            for line in data.splitlines():
                doc = json.loads(line)
                out.setdefault(doc["seq"], doc)
    return out


def _casts(entries: Mapping[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {s: e for s, e in sorted(entries.items()) if e["type"] == "remote.cast"}


def _matching(values: Sequence[int | None], ballots: Sequence[str]) -> str | None:
    """The one challenge ballot whose committee approvals (listed candidates first, no write-in)
    agree with what is known of a cast's choices (None: unknown), if exactly one does."""
    if all(v is None for v in values):
        return None
    fits = [
        b
        for b in ballots
        if all(
            v is None or v == (1 if i < len(b) and b[i] == "o" else 0) for i, v in enumerate(values)
        )
    ]
    return fits[0] if len(fits) == 1 else None


def _committee_cts(cast: Mapping[str, Any]) -> list[elgamal.Ciphertext]:
    """A cast's committee ciphertexts."""
    post = next(p for p in cast["body"]["ballot"]["posts"] if p["post"] == "committee")
    return [elgamal.parse_ciphertext(base64.b64decode(c), field="choice") for c in post["choices"]]


def _content_by_cast(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """Channel 1: the committee marks of each cast (by the cast's seq), wherever readable."""
    found: dict[int, str] = {}
    casts = _casts(entries)
    # (a) an entry naming one cast beside one of the marks strings (a decrypted ballot)
    for e in entries.values():
        body = e["body"]
        if isinstance(body, dict) and isinstance(body.get("cast"), int):
            text = json.dumps(body, ensure_ascii=False)
            hits = [b for b in ev.ballots if f'"{b}"' in text]
            if len(hits) == 1:
                found[body["cast"]] = hits[0]
    # (b) a marks string next to a cast's token anywhere else
    for seq, c in casts.items():
        token = str(c["body"].get("token", ""))
        for blob in _blobs(ev):
            if token and token in blob:
                hits = [b for b in ev.ballots if f'"{b}"' in blob]
                if len(hits) == 1:
                    found.setdefault(seq, hits[0])
    # (c)-(f) the ciphertexts
    for channel in (_opened_by_partials, _reused_randomness, _opened_by_scalars, _by_shape):
        for seq, marks in channel(entries, ev).items():
            found.setdefault(seq, marks)
    return found


def _election_key(entries: Mapping[int, dict[str, Any]]) -> elgamal.ThresholdKey | None:
    opened = next((e["body"] for e in entries.values() if e["type"] == "remote.opened"), None)
    if opened is None or "election_key" not in opened:
        return None
    return elgamal.parse_threshold_key(opened["election_key"])


def _opened_by_partials(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """1 (c): the logged partial decryptions tried on each cast's own ciphertexts."""
    key = _election_key(entries)
    partials = [e["body"] for e in entries.values() if e["type"] == "remote.partial_decryption"]
    if key is None or len(partials) < key.k:
        return {}
    found: dict[int, str] = {}
    for seq, c in _casts(entries).items():
        cts = _committee_cts(c)
        eid = bytes.fromhex(c["body"]["ballot"]["election_id"])
        values: list[int | None] = []
        for i, ct in enumerate(cts):
            try:
                parts = [
                    elgamal.parse_partial_decryption(
                        {
                            "index": p["index"],
                            "share": post["shares"][i],
                            "proof": post["proofs"][i],
                        },
                        n=key.n,
                    )
                    for p in partials
                    for post in p["posts"]
                    if post["post"] == "committee"
                ]
                values.append(
                    elgamal.combine_partials(
                        key,
                        ct,
                        parts,
                        election_id=eid,
                        label=elgamal.tally_label("committee", i),
                        bound=1,
                    )
                )
            except (elgamal.ElGamalError, KeyError, IndexError):
                values.append(None)
        marks = _matching(values, ev.ballots)
        if marks is not None:
            found[seq] = marks
    return found


G = pysodium.crypto_scalarmult_ristretto255_base((1).to_bytes(32, "little"))


def _reused_randomness(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """1 (d): a choice encrypted with the same r in two casts gives away which one holds 1."""
    cts = {s: _committee_cts(c) for s, c in _casts(entries).items()}
    known: dict[int, list[int | None]] = {s: [None] * len(v) for s, v in cts.items()}
    for (s1, a), (s2, b) in itertools.combinations(cts.items(), 2):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            diff = elgamal.sub_ciphertexts(x, y)
            if diff.alpha != elgamal.IDENTITY:
                continue
            if diff.beta == G:
                known[s1][i], known[s2][i] = 1, 0
            elif elgamal.sub_ciphertexts(y, x).beta == G:
                known[s1][i], known[s2][i] = 0, 1
    return {s: m for s, v in known.items() if (m := _matching(v, ev.ballots)) is not None}


_B64 = re.compile(r"[A-Za-z0-9+/]{43,}={0,2}")
_HEX = re.compile(r"[0-9a-f]{64,}")


def _pieces(text: str) -> Iterator[bytes]:
    """Every 32-byte aligned piece of every base64 or hex string in ``text``."""
    for m in _B64.finditer(text):
        try:
            data = base64.b64decode(m.group() + "=" * (-len(m.group()) % 4))
        except (binascii.Error, ValueError):
            continue
        yield from (data[i : i + 32] for i in range(0, len(data) - 31, 32))
    for m in _HEX.finditer(text):
        data = bytes.fromhex(m.group()[: len(m.group()) // 2 * 2])
        yield from (data[i : i + 32] for i in range(0, len(data) - 31, 32))


def _opened_by_scalars(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """1 (e): any 32 bytes the attacker holds, as a scalar, that is the election key (or one of
    its commitments' logarithms) or one ciphertext's randomness, opens what it keys."""
    key = _election_key(entries)
    cts = {s: _committee_cts(c) for s, c in _casts(entries).items()}
    if key is None or not cts:
        return {}
    alphas: dict[bytes, list[tuple[int, int]]] = {}
    for s, v in cts.items():
        for i, ct in enumerate(v):
            alphas.setdefault(ct.alpha, []).append((s, i))
    texts = [json.dumps(e) for e in entries.values()]
    texts += list(_blobs(ev))
    known: dict[int, list[int | None]] = {s: [None] * len(v) for s, v in cts.items()}
    for piece in {p for t in texts for p in _pieces(t)}:
        x = (int.from_bytes(piece, "little") % elgamal.ORDER).to_bytes(32, "little")
        if x == bytes(32):
            continue
        point = pysodium.crypto_scalarmult_ristretto255_base(x)
        if point in key.commitments:  # k = 1 here: C_0 = H, x the whole key
            for s, v in cts.items():
                for i, ct in enumerate(v):
                    m = pysodium.crypto_core_ristretto255_sub(
                        ct.beta, pysodium.crypto_scalarmult_ristretto255(x, ct.alpha)
                    )
                    known[s][i] = 1 if m == G else 0 if m == elgamal.IDENTITY else None
        for s, i in alphas.get(point, ()):  # x = r: beta - r·H = m·G
            m = pysodium.crypto_core_ristretto255_sub(
                cts[s][i].beta, pysodium.crypto_scalarmult_ristretto255(x, key.public_key)
            )
            known[s][i] = 1 if m == G else 0 if m == elgamal.IDENTITY else None
    return {s: m for s, v in known.items() if (m := _matching(v, ev.ballots)) is not None}


def _shape(doc: Any) -> Any:
    """A document with every string replaced by its length: what its size says of it."""
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in doc.items() if k != "token"}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    return len(doc) if isinstance(doc, str) else doc


@functools.cache
def _challenge_shapes(context: str) -> tuple[str, str]:
    """The shape of X and of Y as the attacker encrypts them itself (once per election key)."""
    ctx_doc = json.loads(context)
    ctx = remote_ballot.BallotContext(
        election_id=bytes.fromhex(ctx_doc["election_id"]),
        key=elgamal.parse_threshold_key(ctx_doc["key"]),
        posts=tuple(remote_ballot.PostShape(**p) for p in ctx_doc["posts"]),
    )
    out = []
    for marks in BALLOTS:
        choices = []
        for p in ctx.posts:
            listed = marks if p.post == "committee" else SECRETARY_MARKS
            vector = [1 if m == "o" else 0 for m in listed] + [0] * (p.choices - p.listed)
            choices.append(remote_ballot.PostChoice(approvals=tuple(vector)))
        doc = remote_ballot.encrypt_ballot(ctx, bytes(32), choices)
        out.append(json.dumps(_shape(doc), sort_keys=True))
    return out[0], out[1]


def _by_shape(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """1 (f): the sizes of a cast's members against the attacker's own encryptions of X and Y."""
    key = _election_key(entries)
    opened: dict[str, Any] = next(
        (e["body"] for e in entries.values() if e["type"] == "remote.opened"), {}
    )
    casts = _casts(entries)
    if key is None or not casts or ev.ballots != BALLOTS:
        return {}
    definition = json.loads(ev.bundle["manifest.json"])["manifest"]["definition"]
    posts = {p["post"]: p for p in definition["posts"]}
    lists = {w["post"]: w["members"] for w in opened["write_in_lists"]}
    first = next(iter(casts.values()))["body"]["ballot"]
    context = {
        "election_id": first["election_id"],
        "key": opened["election_key"],
        "posts": [
            {
                "post": p["post"],
                "listed": len(posts[p["post"]]["candidates"]),
                "choices": len(posts[p["post"]]["candidates"]) + len(lists[p["post"]]),
                "seats": posts[p["post"]]["seats"],
                "disapprovals": "disapprovals" in p,
            }
            for p in first["posts"]
        ],
    }
    shapes = _challenge_shapes(json.dumps(context, sort_keys=True))
    if shapes[0] == shapes[1]:
        return {}
    found = {}
    for seq, c in casts.items():
        hits = [
            b
            for b, sh in zip(BALLOTS, shapes, strict=True)
            if sh == json.dumps(_shape(c["body"]["ballot"]), sort_keys=True)
        ]
        if len(hits) == 1:
            found[seq] = hits[0]
    return found


def _blobs(ev: Evidence) -> Iterator[str]:
    """Every table row, log record, board JSON, bundle file and data file as text (the log is
    read as entries; the raw files are read by window, ``_windows``)."""
    for name, rows in ev.tables.items():
        if name != "log":
            for row in rows:
                yield repr(row)
    yield from ev.service_log
    yield from (json.dumps(doc, ensure_ascii=False) for doc in ev.board)
    for name, data in ev.bundle.items():
        if not name.endswith("log.jsonl"):  # the log is read as entries
            yield data.decode("utf-8", "replace")
    for data in ev.data_files.values():
        yield data.decode("utf-8", "replace")


def _windows(ev: Evidence, size: int = 4096) -> Iterator[str]:
    """The raw files in windows of a page, overlapping by half (latin-1: byte for byte)."""
    for data in ev.raw.values():
        for start in range(0, max(len(data) - size // 2, 1), size // 2):
            yield data[start : start + size].decode("latin-1")


def _token_forms(cast: Mapping[str, Any]) -> tuple[str, ...]:
    token = base64.b64decode(cast["body"]["token"])
    return (cast["body"]["token"], token.hex(), token.decode("latin-1"))


def _credentials(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[str, Any]:
    """Each member with a credential: (redemption time, seq of ``remote.credential_issued``)."""
    redeemed = {
        row[0]: dt.datetime.fromisoformat(row[4])
        for row in ev.tables.get("invitations", ())
        if len(row) > 4 and isinstance(row[4], str) and row[4]
    }
    return {
        e["body"]["member"]: (
            redeemed.get(e["body"]["member"], dt.datetime.fromisoformat(e["at"])),
            seq,
        )
        for seq, e in sorted(entries.items())
        if e["type"] == "remote.credential_issued"
    }


def _by_order(
    entries: Mapping[int, dict[str, Any]], ev: Evidence, key: Callable[[int, Any], Any]
) -> dict[int, str]:
    """The casts sorted by ``key(seq, cast)`` (None: unknown) against the credentials in
    redemption order: the first cast is the first redeemer's."""
    creds = _credentials(entries, ev)
    casts = _casts(entries)
    keyed = {s: key(s, c) for s, c in casts.items()}
    if len(casts) != len(creds) or not casts or None in keyed.values():
        return {}
    members = sorted(creds, key=lambda m: creds[m])
    return dict(zip(sorted(casts, key=lambda s: keyed[s]), members, strict=True))


def _timeline(entries: Mapping[int, dict[str, Any]], ev: Evidence) -> dict[int, str]:
    """Channel 2 (b): the member of each cast from the credential and cast times (then seq)."""
    creds = _credentials(entries, ev)
    casts = [(dt.datetime.fromisoformat(e["at"]), s) for s, e in _casts(entries).items()]
    if len(casts) != len(creds) or not casts:
        return {}
    best: tuple[tuple[float, int], dict[int, str]] | None = None
    for perm in itertools.permutations(creds):
        pairs = list(zip(perm, casts, strict=True))
        if any(at < creds[m][0].replace(microsecond=0) for m, (at, _) in pairs):
            continue  # a cast before its member's credential
        delay = sum((at - creds[m][0]).total_seconds() ** 2 for m, (at, _) in pairs)
        distance = sum(abs(seq - creds[m][1]) for m, (_, seq) in pairs)
        score = (delay, distance)
        if best is None or score < best[0]:
            best = (score, {seq: m for m, (_, seq) in pairs})
    return best[1] if best else {}


def _co_occurring(
    entries: Mapping[int, dict[str, Any]], ev: Evidence, blobs: Callable[[Evidence], Iterator[str]]
) -> dict[int, str]:
    """A member id beside a cast's token in one of ``blobs``."""
    found: dict[int, str] = {}
    for seq, c in _casts(entries).items():
        forms = _token_forms(c)
        for blob in blobs(ev):
            if any(f in blob for f in forms):
                named = [m for m in ev.members if m in blob]
                if len(named) == 1:
                    found[seq] = named[0]
    return found


def _first_offset(data: bytes, forms: Sequence[str], last: bool = False) -> int | None:
    hits = [
        (data.rfind if last else data.find)(f.encode("latin-1"))
        for f in forms
        if f.encode("latin-1") in data
    ]
    return (max if last else min)(hits) if hits else None


def _offset_of_token(data: bytes, last: bool, _seq: int, cast: Mapping[str, Any]) -> int | None:
    return _first_offset(data, _token_forms(cast), last)


def _owner_channels(
    entries: Mapping[int, dict[str, Any]], ev: Evidence
) -> list[tuple[str, dict[int, str]]]:
    """Channel 2, each way of telling who made each cast, in the attacker's order of trust."""
    out = [
        ("direct", _co_occurring(entries, ev, _blobs)),
        ("timeline", _timeline(entries, ev)),
        ("log-order", _by_order(entries, ev, lambda s, _c: s)),
        ("page", _co_occurring(entries, ev, _windows)),
    ]
    for name, data in sorted(ev.raw.items()):
        for last in (False, True):
            offset = functools.partial(_offset_of_token, data, last)
            out.append(
                (f"file-{'last' if last else 'first'}:{name}", _by_order(entries, ev, offset))
            )
    log = "\n".join(ev.service_log)

    def in_log(_s: int, c: Mapping[str, Any]) -> int | None:
        forms = [*_token_forms(c)[:2], remote_ballot.ballot_receipt(c["body"]["ballot"])]
        return _first_offset(log.encode("latin-1", "replace"), forms)

    out.append(("service-log-order", _by_order(entries, ev, in_log)))
    return out


def guess(ev: Evidence, coin: random.Random) -> Guess:
    """The attacker: who cast ``ev.ballots[0]``, by the first channels that link it."""
    entries = _log_entries(ev)
    content = _content_by_cast(entries, ev)
    if content:
        owners = _owner_channels(entries, ev)
        for seq, marks in content.items():
            if marks != ev.ballots[0]:
                continue
            for name, owner in owners:
                if seq in owner:
                    return Guess(owner[seq], f"plaintext+{name}")
    return Guess(coin.choice(ev.members), "chance")


# --------------------------------------------------------------------------- the game


class _Clock:
    """The simulated ``tally.election_log._now``: set per event, a millisecond per call after."""

    def __init__(self) -> None:
        self.t = INVITED_AT

    def __call__(self) -> dt.datetime:
        now = self.t
        self.t += dt.timedelta(milliseconds=1)
        return now


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(
            f"{record.created} {record.name} {record.levelname} {self.format(record)}"
        )


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@dataclass(frozen=True, slots=True)
class _Template:
    folder: Path
    codes: Mapping[str, str]
    wg: keys.InMemorySigner
    sc: keys.InMemorySigner


def _template(folder: Path, clock: _Clock) -> _Template:
    """The election up to the invitations (the costly keys), copied for each game."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = definition_text(
        full=12,
        committee_seats=3,
        secretary_candidates=(1, 2),
        extra=f"[remote_voting]\napproved = {json.dumps(list(MEMBERS))}\n"
        "counts_toward_quorum = false\n",
    )
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    clock.t = INVITED_AT - dt.timedelta(hours=1)
    folder.mkdir()
    s = ElectionSession.init(
        SessionConfig(folder / "e.db", passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.remote.open(signer=wg, k=1, data_dir=folder / "svc")
    clock.t = INVITED_AT
    codes = {m: s.remote.issue_invitation(m, data_dir=folder / "svc")[0] for m in MEMBERS}
    s.store.close()
    return _Template(folder, codes, wg, sc)


def _schedule(rng: random.Random) -> list[tuple[dt.datetime, str, str]]:
    """Each member's sitting: open the invitation, redeem, fill in the ballot, cast."""
    events = []
    for m in MEMBERS:
        start = INVITED_AT + OPENING_SPREAD * rng.random()
        fill = SITTING[0] + (SITTING[1] - SITTING[0]) * rng.random()
        events += [(start, m, "redeem"), (start + fill, m, "cast")]
    return sorted(events)


def _count(s: ElectionSession, t: _Template, clock: _Clock, data: Path) -> None:
    """The meeting: close (the batch of pending casts, the file compacted), the totals
    decrypted, both posts counted (paper + remote), the result, the co-signatures."""
    clock.t = COUNT_AT
    s.remote.close(signer=t.wg, data_dir=data)
    s.remote.decrypt(t.sc, signer=t.wg, data_dir=data)
    s.check_in(list(PAPER))
    for kind, marks in (
        (ballot_printer.PaperKind.COMMITTEE, PAPER_COMMITTEE),
        (ballot_printer.PaperKind.SECRETARY, SECRETARY_MARKS),
    ):
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=kind,
            round_number=s.due_round().number,
            count=len(PAPER),
            signer=t.wg,
        )
        s.commit_stock(stock, signer=t.wg)
        s.issue(count=None, signer=t.wg)
        s.return_ballots(len(PAPER), signer=t.wg)
        s.enter(
            [EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads]
        )
        s.close(signer=t.wg)
    s.record_result(signer=t.wg, calendar=load_calendar(None))
    s.cosign(t.sc)


def _approvals(info: Mapping[str, Any], marks: str, post: str) -> list[str]:
    listed = next(p for p in info["posts"] if p["post"] == post)["listed"]
    return [c["id"] for c, m in zip(listed, marks, strict=True) if m == "o"]


def _cast_body(
    info: Mapping[str, Any],
    cred: Any,
    committee: str,
    write_in_lists: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """What the member's device POSTs to ``/api/remote/cast``: the ``remote-ballot/2`` encrypted
    and proved (RV-4.1)."""
    approvals = {
        "committee": _approvals(info, committee, "committee"),
        "secretary": _approvals(info, SECRETARY_MARKS, "secretary"),
    }
    ballot = remote_ballot.encrypt_ballot(
        ballot_context(info, write_in_lists),
        cred.token,
        choices_for(info, write_in_lists, approvals),
    )
    return {
        "token": _b64(cred.token),
        "token_prefix": _b64(cred.prefix),
        "token_signature": _b64(cred.signature),
        "ballot": ballot,
    }


def _files(folder: Path, prefix: str, skip: Path | None = None) -> dict[str, bytes]:
    return {
        prefix + str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (skip is None or skip not in p.parents)
    }


def _play(t: _Template, folder: Path, clock: _Clock, rng: random.Random) -> Game:
    """One game through the real service (the module docstring)."""
    shutil.copytree(t.folder, folder)
    data = folder / "svc"
    x_by = rng.choice(MEMBERS)
    marks = {m: BALLOTS[0] if m == x_by else BALLOTS[1] for m in MEMBERS}
    records = _Records()
    logger = logging.getLogger("tally")
    level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    try:
        app = create_app(ServiceConfig(election_path=folder / "e.db", data_dir=data))
        app.state.service.signer = t.wg
        events: list[tuple[str, str]] = []
        owners: dict[str, str] = {}
        with TestClient(app) as client:
            info = client.get("/api/remote/info").json()
            issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
            creds: dict[str, Any] = {}
            lists: dict[str, Any] = {}
            for at, member, what in _schedule(rng):
                clock.t = at
                events.append((member, what))
                if what == "redeem":
                    req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
                    r = client.post(
                        "/api/remote/redeem",
                        json={"code": t.codes[member], "blinded_msg": _b64(req.blinded_msg)},
                    )
                    assert r.status_code == 200, r.text
                    creds[member] = finish_token_request(
                        req, issuer, base64.b64decode(r.json()["blind_sig"])
                    )
                    lists[member] = r.json().get("write_in_lists", [])
                    continue
                body = _cast_body(info, creds[member], marks[member], lists[member])
                r = client.post("/api/remote/cast", json=body)
                assert r.status_code == 200, r.text
                owners[body["token"]] = member
            # as a station request runs (its commit publishes the snapshot the board reads)
            run, portal = app.state.service.run, client.portal
            assert portal is not None  # inside the client's `with`
            portal.call(run, lambda s: _count(s, t, clock, data))
            bundle = portal.call(run, lambda s: bundle_files(s, load_calendar(None)))
            board = tuple(
                client.get(path, params=params).json()
                for path, params in (
                    ("/api/board", {"lang": "zh"}),
                    ("/api/board", {"lang": "en"}),
                    ("/api/board/checkpoints", {}),
                    ("/api/board/remote", {}),
                )
            )
            live = _files(folder, "live/", skip=data)  # the files as the running service has them
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    evidence = Evidence(
        members=MEMBERS,
        ballots=BALLOTS,
        tables=_tables(folder / "e.db"),
        raw={**live, **_files(folder, "rest/", skip=data)},
        bundle=bundle,
        board=board,
        service_log=tuple(records.lines),
        data_files=_files(data, ""),
    )
    return Game(evidence, x_by, tuple(events), owners, t.sc)


def _tables(path: Path) -> dict[str, tuple[tuple[Any, ...], ...]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: tuple(conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names}
    finally:
        conn.close()


def _games(factory: pytest.TempPathFactory) -> list[Game]:
    """``GAMES`` games, seeded (the same schedules and coins every run)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    clock = _Clock()
    mp.setattr("tally.election_log._now", clock)
    # Every game copies one template, so one issuer key file: unlocked once (Argon2id), not per game.
    unlock = keys.remote_tokens.TokenIssuer.from_key_file
    unlocked: dict[tuple[bytes, str], keys.remote_tokens.TokenIssuer] = {}

    def from_key_file(data: bytes, passphrase: str) -> keys.remote_tokens.TokenIssuer:
        if (data, passphrase) not in unlocked:
            unlocked[data, passphrase] = unlock(data, passphrase)
        return unlocked[data, passphrase]

    mp.setattr(keys.remote_tokens.TokenIssuer, "from_key_file", from_key_file)
    try:
        root = factory.mktemp("linking")
        template = _template(root / "template", clock)
        rng = random.Random(SEED)
        return [_play(template, root / f"game-{i}", clock, rng) for i in range(GAMES)]
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def games(tmp_path_factory: pytest.TempPathFactory) -> list[Game]:
    return _games(tmp_path_factory)


def _upper(n: int, alpha: float = GAME_ALPHA) -> int:
    """The smallest c with P(Binomial(n, 1/2) > c) <= alpha: more wins than c beat chance."""
    tail = 0
    for c in range(n, -1, -1):
        tail += math.comb(n, c)
        if tail / 2**n > alpha:
            return c
    return 0


def _play_attacker(
    games: list[Game], blind: Callable[[Evidence], Evidence] = lambda ev: ev
) -> list[tuple[bool, Guess]]:
    """The attacker's verdict on each game (with the evidence as ``blind`` leaves it)."""
    coin = random.Random(SEED + 1)
    out = []
    for g in games:
        got = guess(blind(g.evidence), coin)
        out.append((got.cast_first_ballot == g.truth, got))
    return out


def _owner_scores(games: list[Game]) -> dict[str, tuple[int, int]]:
    """Per owner channel: (games where it named the member of every cast, games where all of
    them were right)."""
    scores: dict[str, tuple[int, int]] = {}
    for g in games:
        entries = _log_entries(g.evidence)
        token = {s: c["body"]["token"] for s, c in _casts(entries).items()}
        for name, owner in _owner_channels(entries, g.evidence):
            answered, right = scores.get(name, (0, 0))
            if set(owner) == set(token):
                answered += 1
                right += all(g.owners[token[s]] == m for s, m in owner.items())
            scores[name] = (answered, right)
    return scores


def test_attacker_cannot_link_two_remote_voters_better_than_chance(games: list[Game]) -> None:
    """The property (DESIGN §2.2, RM-1.3.2, RV-1.1): with the bundle, the board, the election
    file (tables and raw bytes), the service's logs and data folder, the attacker tells who cast
    which of two ballots no better than a coin: over ``GAMES`` seeded games its wins stay within
    the one-sided 99% binomial bound of p = 1/2 (27 of 40)."""
    results = _play_attacker(games)
    wins = sum(won for won, _ in results)
    channels = sorted({g.channel for _, g in results})
    assert wins <= _upper(GAMES), (wins, GAMES, channels)
    assert channels == ["chance"], channels  # no channel of content found anything


def test_no_channel_links_a_remote_member_to_their_ciphertext(games: list[Game]) -> None:
    """Stronger than the game (RV-1.2: a credential's time links to no cast): each owner channel
    alone, scored against the referee's record of who made which cast, is right about as often
    as a coin, within the two-sided binomial bounds at 0.05% a side of the games it answers."""
    scores = _owner_scores(games)
    assert scores["timeline"][0] == GAMES  # the attacker always has an answer to score
    beyond = {
        name: (right, answered)
        for name, (answered, right) in scores.items()
        if answered
        and not answered - _upper(answered, CHANNEL_ALPHA)
        <= right
        <= _upper(answered, CHANNEL_ALPHA)
    }
    assert not beyond, beyond


def test_game_is_played_as_designed(games: list[Game]) -> None:
    """Not degenerate: both go first, both cast X, sittings overlap now and then; every game's
    log has its two casts in one batch at the close and the decrypted totals; the pending-casts
    table is empty and the file was compacted (no WAL frame from before the close is left: the
    live WAL holds only what came after)."""
    assert {g.events[0][0] for g in games} == {g.truth for g in games} == set(MEMBERS)
    assert 0 < sum(g.events[1][1] == "redeem" for g in games) < GAMES
    for g in games:
        entries = _log_entries(g.evidence)
        types = [e["type"] for _, e in sorted(entries.items())]
        assert types.count("remote.cast") == 2 and "remote.totals" in types
        casts = [e for e in entries.values() if e["type"] == "remote.cast"]
        closed = next(e for e in entries.values() if e["type"] == "remote.closed")
        assert {c["at"] for c in casts} == {closed["at"]}
        assert g.evidence.tables["pending_casts"] == ()
        assert "live/e.db" in g.evidence.raw and "rest/e.db" in g.evidence.raw


def _vector_forms(marks: str) -> list[str]:
    """A committee ballot's approvals as anyone might write them down (the listed candidates are
    the first choices; the write-in list follows, all 0 here)."""
    vector = [1 if m == "o" else 0 for m in marks]
    return [
        json.dumps(vector)[:-1],  # the prefix of the whole list: "[1, 1, 0, 1"
        json.dumps(vector, separators=(",", ":"))[:-1],
    ]


def test_no_challenge_ballot_is_readable_anywhere(games: list[Game]) -> None:
    """Channel 1 closed (RV-1.1): no content channel reads any cast, and neither challenge
    ballot, as marks or as approvals, is in any log entry, row, record, board document, bundle,
    data file or raw page."""
    for g in games:
        entries = _log_entries(g.evidence)
        assert _content_by_cast(entries, g.evidence) == {}
        texts = [json.dumps(e, ensure_ascii=False) for e in entries.values()]
        texts += [*_blobs(g.evidence), *_windows(g.evidence)]
        for marks in BALLOTS:
            for form in [f'"{marks}"', *_vector_forms(marks)]:
                assert not any(form in t for t in texts), form


class _Recorded:
    """A scalar source that keeps what it gives (a device that logs its nonces)."""

    def __init__(self, source: elgamal.ScalarSource) -> None:
        self.source, self.drawn = source, list[bytes]()

    def scalar(self) -> elgamal.Scalar:
        x = self.source.scalar()
        self.drawn.append(x)
        return x


def _with_ballots(ev: Evidence, ballots: Mapping[int, Any], bodies: Mapping[str, Any]) -> Evidence:
    """The evidence with the casts' ballots (by seq) and the bodies of entries (by type)
    replaced, in the election file's log and the bundle's."""

    def edit(doc: dict[str, Any]) -> bytes:
        if doc["seq"] in ballots:
            doc["body"]["ballot"] = ballots[doc["seq"]]
        if doc["type"] in bodies:
            doc["body"] = bodies[doc["type"]]
        return json.dumps(doc).encode()

    tables = dict(ev.tables)
    tables["log"] = tuple((*row[:2], edit(json.loads(bytes(row[2])))) for row in ev.tables["log"])
    bundle = dict(ev.bundle)
    bundle["log.jsonl"] = b"".join(
        edit(json.loads(line)) + b"\n" for line in ev.bundle["log.jsonl"].splitlines()
    )
    return dataclasses.replace(ev, tables=tables, bundle=bundle)


def test_content_channels_read_a_planted_leak(games: list[Game]) -> None:
    """The content channels are not blind: in a game's evidence with a leak planted, each finds
    which cast holds X. (c) a partial decryption of one cast's ciphertexts instead of the
    totals; (d) the two ballots encrypted with one seed (every nonce reused); (e) a device's
    nonces in a service log record. (f) cannot be planted: every valid ballot has one shape."""
    g = games[0]
    entries = _log_entries(g.evidence)
    casts = _casts(entries)
    truth = {
        s: BALLOTS[0] if g.owners[c["body"]["token"]] == g.truth else BALLOTS[1]
        for s, c in casts.items()
    }
    opened = next(e["body"] for e in entries.values() if e["type"] == "remote.opened")
    key = elgamal.parse_threshold_key(opened["election_key"])
    eid = bytes.fromhex(next(iter(casts.values()))["body"]["ballot"]["election_id"])
    # (c) scrutineer 1 (k = 1) decrypts the committee choices of the first cast alone
    first = next(iter(casts))
    share = keys.remote_key.unwrap_share_v2(
        keys.remote_key.parse_share_container_v2(g.evidence.data_files["remote/share-1.json"]),
        g.scrutineer,
        key,
    )
    partial = next(e["body"] for e in entries.values() if e["type"] == "remote.partial_decryption")
    parts = [
        elgamal.partial_decrypt(
            share, key, ct, election_id=eid, label=elgamal.tally_label("committee", i)
        ).to_json()
        for i, ct in enumerate(_committee_cts(casts[first]))
    ]
    leaked = {
        **partial,
        "posts": [
            {
                "post": "committee",
                "shares": [p["share"] for p in parts],
                "proofs": [p["proof"] for p in parts],
            }
            if post["post"] == "committee"
            else post
            for post in partial["posts"]
        ],
    }
    ev = _with_ballots(g.evidence, {}, {"remote.partial_decryption": leaked})
    assert _opened_by_partials(_log_entries(ev), ev) == {first: truth[first]}
    # (d) and (e): the casts re-encrypted (with their own tokens) from one seed, nonces kept
    definition = json.loads(g.evidence.bundle["manifest.json"])["manifest"]["definition"]
    lists = [
        {"post": w["post"], "members": [{"member": m, "name": ""} for m in w["members"]]}
        for w in opened["write_in_lists"]
    ]
    info = {
        "election_id": eid.hex(),
        "election_key": opened["election_key"],
        "posts": [
            {
                "post": p["post"],
                "seats": p["seats"],
                "write_in_requires_disapproval": False,
                "listed": [{"id": c} for c in p["candidates"]],
            }
            for p in definition["posts"]
            if p["post"] in ("committee", "secretary")
        ],
    }

    def encrypted(seed: Callable[[int], bytes]) -> tuple[dict[int, Any], list[bytes]]:
        ballots, drawn = {}, []
        for seq, c in casts.items():
            source = _Recorded(elgamal.UnsafeDeterministicScalars(seed(seq)))
            approvals = {
                "committee": _approvals(info, truth[seq], "committee"),
                "secretary": _approvals(info, SECRETARY_MARKS, "secretary"),
            }
            ballots[seq] = remote_ballot.encrypt_ballot(
                ballot_context(info, lists),
                base64.b64decode(c["body"]["token"]),
                choices_for(info, lists, approvals),
                scalars=source,
            )
            drawn += source.drawn
        return ballots, drawn

    ballots, _ = encrypted(lambda _seq: b"one seed")
    ev = _with_ballots(g.evidence, ballots, {})
    assert _reused_randomness(_log_entries(ev), ev) == truth
    ballots, drawn = encrypted(lambda seq: b"seed %d" % seq)
    ev = _with_ballots(g.evidence, ballots, {})
    assert _reused_randomness(_log_entries(ev), ev) == {}
    assert _opened_by_scalars(_log_entries(ev), ev) == {}  # before the nonces are logged
    logged = " ".join(base64.b64encode(x).decode() for x in drawn)
    ev = dataclasses.replace(ev, service_log=(*ev.service_log, f"device nonces {logged}"))
    assert _opened_by_scalars(_log_entries(ev), ev) == truth
