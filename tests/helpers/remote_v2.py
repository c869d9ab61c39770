"""Build version-2 remote-voting logs on the pure meeting state machine (spec/remote-v2.md §5).

The core checks structure only (the service checks the proofs before it appends), so the ballots
and partial decryptions here carry well-formed placeholders, not real ciphertexts or proofs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from tally.core.definition import parse_definition
from tally.core.meeting import Meeting, apply_entry, begin, make_entry
from tally.core.model import Election
from tally.core.remote import post_shapes, receipt_of, write_in_lists_body
from tests.helpers.elections import definition_text

EID = hashlib.sha256(b"remote ballots v2, core tests").digest()
AT = dt.datetime(2026, 12, 14, 9, 0, tzinfo=dt.UTC)
CLOSE_AT = dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.UTC)
SALT = bytes(32)  # the state machine ignores the salt; the shells draw it from secrets
APPROVED = ("M004", "M005", "M006", "M007")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def token(i: int) -> str:
    return b64(bytes([i]) * 32)


def election(approved: Sequence[str] = APPROVED, **kw: Any) -> Election:
    ids = ", ".join(f'"{x}"' for x in approved)
    kw.setdefault("full", 12)
    kw.setdefault("committee_seats", 3)
    extra = f"[remote_voting]\napproved = [{ids}]\n" + kw.pop("extra", "")
    return parse_definition(definition_text(extra=extra, **kw))


def meeting(e: Election | None = None) -> Meeting:
    e = e if e is not None else election()
    entry0 = make_entry(
        None,
        "election.opened",
        {"election_id": EID.hex()},
        at=AT,
        actor="",
        salt=SALT,
        election_id=EID,
    )
    return begin(e, EID, entry0)


def do(m: Meeting, type_: str, body: dict[str, Any], at: dt.datetime | None = None) -> Meeting:
    """Apply the next entry, at ``at`` or else at the time of the last one (never before AT)."""
    when = at if at is not None else max(AT, m.last_at)
    return apply_entry(m, make_entry(m, type_, body, at=when, actor="", salt=SALT))


def opened_v2(e: Election, k: int = 2, n: int = 3) -> dict[str, Any]:
    return {
        "issuer_key": b64(b"issuer public key, DER"),
        "election_key": {
            "k": k,
            "n": n,
            "commitments": [b64(bytes([j + 1]) * 32) for j in range(k)],
        },
        "shares": [
            {"index": i, "scrutineer": b64(bytes([i]) * 32), "commitment": f"{i:064x}"}
            for i in range(1, n + 1)
        ],
        "write_in_lists": write_in_lists_body(e),
    }


def ballot(e: Election, tok: str, salt: int = 0) -> dict[str, Any]:
    """A ``remote-ballot/2`` of the right structure; ``salt`` only changes its receipt."""
    return {
        "format": "remote-ballot/2",
        "election_id": EID.hex(),
        "token": tok,
        "posts": [
            {"post": kind.value, "choices": [b64(bytes([salt]) * 64)] * choices}
            for kind, _listed, choices, _seats, _d in post_shapes(e)
        ],
    }


def cast_body(e: Election, tok: str, salt: int = 0) -> dict[str, Any]:
    return {
        "token": tok,
        "token_prefix": b64(b"p" * 32),
        "token_signature": b64(b"s" * 256),
        "ballot": ballot(e, tok, salt),
    }


def sorted_casts(e: Election, tokens: Sequence[str]) -> list[dict[str, Any]]:
    """The casts as ``remote close`` appends them: in ascending receipt order (RV-4.3)."""
    return sorted((cast_body(e, t) for t in tokens), key=lambda c: receipt_of(c["ballot"]))


def partial(e: Election, index: int) -> dict[str, Any]:
    return {
        "index": index,
        "posts": [
            {"post": kind.value, "shares": [b64(bytes(32))] * c, "proofs": [b64(bytes(64))] * c}
            for kind, _listed, c, _seats, _d in post_shapes(e)
        ],
    }


def totals_body(
    e: Election, ballots: int, per_post: dict[str, list[int]] | None = None
) -> dict[str, Any]:
    per_post = per_post or {}
    return {
        "posts": [
            {"post": kind.value, "ballots": ballots, "totals": per_post.get(kind.value, [0] * c)}
            for kind, _listed, c, _seats, _d in post_shapes(e)
        ]
    }


def opened_and_closed(e: Election, voters: Sequence[str] = APPROVED[:2], k: int = 2) -> Meeting:
    """Remote voting v2 opened, a credential for each of ``voters``, each cast, closed."""
    m = do(meeting(e), "remote.opened", opened_v2(e, k=k))
    for v in voters:
        m = do(m, "remote.credential_issued", {"member": v})
    toks = [token(i + 1) for i in range(len(voters))]
    for c in sorted_casts(e, toks):
        m = do(m, "remote.cast", c, CLOSE_AT)
    return do(m, "remote.closed", {"credentials": len(voters), "casts": len(voters)}, CLOSE_AT)
