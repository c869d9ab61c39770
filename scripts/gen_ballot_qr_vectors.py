"""Generate the ballot QR vectors of spec/ballot-qr.md into spec/vectors/ballot-qr/.

Deterministic: fixed seed keys, fixed ids, and Ed25519 signatures are deterministic. The payloads
are assembled here byte by byte from the spec table (spec §2), not with `ballot_printer`, so the
vectors check the implementation rather than repeat it.

    python scripts/gen_ballot_qr_vectors.py          # (re)write the files
    python scripts/gen_ballot_qr_vectors.py --check  # exit 1 if the committed files differ
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

OUT_DIR = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "ballot-qr"
DOMAIN = b"branch-election/ballot-qr/1"
STOCK_DOMAIN = b"branch-election/ballot-stock/1"
PROCEDURE_DOMAIN = b"branch-election/procedure-ballot/1"
VECTOR_FORMAT = "ballot-qr-vector/1"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

SEED_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"ballot-qr vector seed key 1").digest()
)
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"ballot-qr vector seed key 2").digest()
)
ELECTION_ID = hashlib.sha256("示例选举：中共示例村支部委员会换届选举 2026".encode()).digest()
OTHER_ELECTION_ID = hashlib.sha256("另一次选举：中共邻村支部委员会换届选举 2026".encode()).digest()
PROCEDURE_ID = hashlib.sha256("示例换届程序：中共示例村支部委员会 2026".encode()).digest()


def ballot_id(label: str) -> bytes:
    return hashlib.sha256(b"ballot-id/" + label.encode()).digest()[:16]


def body(
    *, version: int = 1, election_id: bytes = ELECTION_ID, kind: int, rnd: int, bid: bytes
) -> bytes:
    return bytes([version]) + election_id[:16] + bytes([kind, rnd]) + bid


def signed(b: bytes, key: Ed25519PrivateKey = SEED_KEY) -> bytes:
    return b + key.sign(DOMAIN + b"\x00" + b)


def text(payload: bytes, prefix: str = "BQ1:") -> str:
    return prefix + base64.b32encode(payload).decode("ascii").rstrip("=")


def procedure_ballot(bid: bytes) -> bytes:
    """A member recommendation ballot for the committee, round 1 (spec/procedure.md RP-3.5: 100
    bytes, its own domain), signed by the same work group key."""
    b = bytes([1]) + PROCEDURE_ID[:16] + bytes([1, 1, 1]) + bid
    return b + SEED_KEY.sign(PROCEDURE_DOMAIN + b"\x00" + b)


def crockford_code(bid: bytes) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    v = int.from_bytes(bid[:5], "big")
    s = "".join(alphabet[(v >> shift) & 31] for shift in range(35, -1, -5))
    return f"{s[:4]}-{s[4:]}"


def vector(
    description: str, qr_text: str, *, kind: int, rnd: int, result: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": VECTOR_FORMAT,
        "description": description,
        "qr_text": qr_text,
        "public_key": SEED_KEY.public_key().public_bytes_raw().hex(),
        "expected": {"election_id": ELECTION_ID.hex(), "kind": kind, "round": rnd},
        "result": result,
    }


def valid(description: str, qr_text: str, *, kind: int, rnd: int, bid: bytes) -> dict[str, Any]:
    res = {"valid": True, "ballot_id": bid.hex(), "ballot_code": crockford_code(bid)}
    return vector(description, qr_text, kind=kind, rnd=rnd, result=res)


def invalid(description: str, qr_text: str, code: str, clause: str) -> dict[str, Any]:
    res = {"valid": False, "error": code, "clause": clause}
    return vector(description, qr_text, kind=1, rnd=1, result=res)


def build_vectors() -> dict[str, bytes]:
    """Relative path -> file content for every vector file."""
    docs: dict[str, dict[str, Any]] = {}
    b1 = ballot_id("valid-committee")
    good = signed(body(kind=1, rnd=1, bid=b1))
    docs["valid/committee-round1.json"] = valid(
        "committee ballot, first round", text(good), kind=1, rnd=1, bid=b1
    )
    b2 = ballot_id("valid-secretary")
    docs["valid/secretary-round2.json"] = valid(
        "secretary ballot, second round (e.g. 另行选举)",
        text(signed(body(kind=2, rnd=2, bid=b2))),
        kind=2,
        rnd=2,
        bid=b2,
    )
    b3 = ballot_id("valid-deputy")
    docs["valid/deputy-round255-scanner-noise.json"] = valid(
        "deputy ballot, round 255, typed by a scanner with Caps Lock on plus CR LF and spaces",
        "  " + text(signed(body(kind=3, rnd=255, bid=b3))).lower() + "\r\n",
        kind=3,
        rnd=255,
        bid=b3,
    )

    good_text = text(good)
    base = ballot_id("invalid")
    inv = {
        "Q1-missing-prefix": ("no BQ1: prefix", good_text[4:], "qr.bad_encoding"),
        "Q1-bad-base32": (
            "a digit 1 is not in the base32 alphabet",
            good_text[:10] + "1" + good_text[11:],
            "qr.bad_encoding",
        ),
        "Q1-padding": ("'=' padding is not allowed", good_text + "=", "qr.bad_encoding"),
        "Q1-inner-space": (
            "whitespace inside the text",
            good_text[:20] + " " + good_text[20:],
            "qr.bad_encoding",
        ),
        "Q1-non-canonical": (
            "unused low bits of the last character are not zero",
            good_text[:-1] + B32[B32.index(good_text[-1]) ^ 1],
            "qr.bad_encoding",
        ),
        "Q1-bad-length": (
            "161 base32 characters: no byte string encodes to that length",
            good_text + "AA",
            "qr.bad_encoding",
        ),
        "Q1-text-too-long": (
            "three payloads in one text (480 characters): longer than a QR version 10-M holds "
            "(spec §3.4), refused before it is decoded",
            text(good * 3),
            "qr.text_too_long",
        ),
        "Q1-text-too-long-before-trimming": (
            "a valid text followed by spaces to 312 characters: the limit holds for the text as "
            "received, before Q1 trims it",
            good_text + " " * (312 - len(good_text)),
            "qr.text_too_long",
        ),
        "Q1-procedure-ballot": (
            "a procedure ballot's BP1: text (a member recommendation ballot, spec/procedure.md "
            "RP-3.5) scanned at the election",
            text(procedure_ballot(base), "BP1:"),
            "qr.procedure_ballot",
        ),
        "Q2-unknown-version": (
            "version byte 2",
            text(signed(body(version=2, kind=1, rnd=1, bid=base))),
            "qr.unknown_version",
        ),
        "Q2-text-prefix-bq2": ("text prefix BQ2:", "BQ2:" + good_text[4:], "qr.unknown_version"),
        "Q3-truncated": ("signature cut short by 10 bytes", text(good[:-10]), "qr.truncated"),
        "Q3-overlong": ("one byte appended", text(good + b"\x00"), "qr.overlong"),
        "Q4-bad-kind": (
            "paper kind 4",
            text(signed(body(kind=4, rnd=1, bid=base))),
            "qr.bad_field",
        ),
        "Q4-round-zero": ("round 0", text(signed(body(kind=1, rnd=0, bid=base))), "qr.bad_field"),
        "Q5-wrong-election": (
            "signed by the same key for another election",
            text(signed(body(election_id=OTHER_ELECTION_ID, kind=1, rnd=1, bid=base))),
            "qr.wrong_election",
        ),
        "Q6-wrong-kind": (
            "a secretary ballot in the committee count",
            text(signed(body(kind=2, rnd=1, bid=base))),
            "qr.wrong_kind",
        ),
        "Q7-wrong-round": (
            "a round-2 ballot in the round-1 count",
            text(signed(body(kind=1, rnd=2, bid=base))),
            "qr.wrong_round",
        ),
        "Q8-bad-signature": (
            "one bit of the signature flipped",
            text(good[:-1] + bytes([good[-1] ^ 1])),
            "qr.bad_signature",
        ),
        "Q8-altered-ballot-id": (
            "ballot id changed after signing",
            text(good[:19] + bytes([good[19] ^ 0x80]) + good[20:]),
            "qr.bad_signature",
        ),
        "Q8-other-key": (
            "signed by a key that is not the work group's",
            text(signed(body(kind=1, rnd=1, bid=base), OTHER_KEY)),
            "qr.bad_signature",
        ),
    }
    for name, (description, qr_text, code) in inv.items():
        docs[f"invalid/{name}.json"] = invalid(description, qr_text, code, name.split("-")[0])

    ids = [ballot_id(f"stock-{i}") for i in range(5)]
    srt = sorted(ids)
    h = hashlib.sha256(
        STOCK_DOMAIN + b"\x00" + ELECTION_ID + bytes([1, 1]) + len(ids).to_bytes(4, "big")
    )
    for i in srt:
        h.update(i)
    docs["stock/commitment.json"] = {
        "format": "ballot-stock-vector/1",
        "description": "stock commitment (spec §4.3) over 5 ids given in print order",
        "election_id": ELECTION_ID.hex(),
        "kind": "committee",
        "round": 1,
        "ballot_ids_print_order": [i.hex() for i in ids],
        "commitment": h.hexdigest(),
    }
    return {
        path: (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()
        for path, doc in sorted(docs.items())
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import run  # noqa: PLC0415

    return run(OUT_DIR, build_vectors, argv, description=__doc__, pattern="*.json")


if __name__ == "__main__":
    sys.exit(main())
