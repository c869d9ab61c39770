"""Generate the procedure ballot QR and stock vectors of spec/procedure.md RP-15.1.

Writes spec/vectors/procedure/qr/ (valid payloads of each form; one invalid vector per PQ code,
including `pqr.election_ballot` and an evaluation ballot read as a recommendation) and
spec/vectors/procedure/stock/commitment.json. Only those two folders: the other vectors under
spec/vectors/procedure/ belong to other generators.

Deterministic: fixed seed keys and ids; Ed25519 signatures are deterministic. The payloads are
assembled here byte by byte from the RP-3.5 table, not with `ballot_printer`, so the vectors check
the implementation rather than repeat it.

    python scripts/gen_procedure_qr_vectors.py          # (re)write the files
    python scripts/gen_procedure_qr_vectors.py --check  # exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

OUT_DIR = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "procedure"
FOLDERS = ("qr", "stock")
DOMAIN = b"branch-election/procedure-ballot/1"
ELECTION_DOMAIN = b"branch-election/ballot-qr/1"
STOCK_DOMAIN = b"branch-election/procedure-stock/1"
VECTOR_FORMAT = "procedure-qr-vector/1"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

SEED_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"procedure-qr vector seed key 1").digest()
)
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"procedure-qr vector seed key 2").digest()
)
PROCEDURE_ID = hashlib.sha256("示例换届程序：中共示例村支部委员会 2026".encode()).digest()
OTHER_PROCEDURE_ID = hashlib.sha256("另一支部的换届程序：中共邻村支部委员会 2026".encode()).digest()
FORMS = {1: "member", 2: "public", 3: "evaluation"}
POSTS = {0: "", 1: "committee", 2: "secretary", 3: "deputy_secretary"}


def ballot_id(label: str) -> bytes:
    return hashlib.sha256(b"procedure-ballot-id/" + label.encode()).digest()[:16]


def body(
    *,
    version: int = 1,
    procedure_id: bytes = PROCEDURE_ID,
    form: int,
    post: int,
    rnd: int,
    bid: bytes,
) -> bytes:
    return bytes([version]) + procedure_id[:16] + bytes([form, post, rnd]) + bid


def signed(b: bytes, key: Ed25519PrivateKey = SEED_KEY, domain: bytes = DOMAIN) -> bytes:
    return b + key.sign(domain + b"\x00" + b)


def text(payload: bytes, prefix: str = "BP1:") -> str:
    return prefix + base64.b32encode(payload).decode("ascii").rstrip("=")


def crockford_code(bid: bytes) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    v = int.from_bytes(bid[:5], "big")
    s = "".join(alphabet[(v >> shift) & 31] for shift in range(35, -1, -5))
    return f"{s[:4]}-{s[4:]}"


def vector(
    description: str, qr_text: str, *, form: int, post: int, rnd: int, result: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": VECTOR_FORMAT,
        "description": description,
        "qr_text": qr_text,
        "public_key": SEED_KEY.public_key().public_bytes_raw().hex(),
        "expected": {
            "procedure_id": PROCEDURE_ID.hex(),
            "form": FORMS[form],
            "post": POSTS[post],
            "round": rnd,
        },
        "result": result,
    }


def build_vectors() -> dict[str, bytes]:
    """Relative path (under spec/vectors/procedure/) -> file content for every vector file."""
    docs: dict[str, dict[str, Any]] = {}
    for name, form, post, rnd, what in (
        ("member-committee-round1", 1, 1, 1, "members' recommendation, committee, round 1"),
        ("public-secretary-round2", 2, 2, 2, "public recommendation, secretary, round 2"),
        ("member-deputy-round255", 1, 3, 255, "members' recommendation, deputy, round 255"),
        ("evaluation-round1", 3, 0, 1, "evaluation ballot (post byte 0), round 1"),
    ):
        bid = ballot_id(name)
        res = {"valid": True, "ballot_id": bid.hex(), "ballot_code": crockford_code(bid)}
        qr = text(signed(body(form=form, post=post, rnd=rnd, bid=bid)))
        docs[f"qr/valid-{name}.json"] = vector(what, qr, form=form, post=post, rnd=rnd, result=res)
    bid = ballot_id("scanner-noise")
    docs["qr/valid-scanner-noise.json"] = vector(
        "public recommendation typed by a scanner with Caps Lock on, plus CR LF and spaces",
        "  " + text(signed(body(form=2, post=1, rnd=1, bid=bid))).lower() + "\r\n",
        form=2,
        post=1,
        rnd=1,
        result={"valid": True, "ballot_id": bid.hex(), "ballot_code": crockford_code(bid)},
    )

    base = ballot_id("invalid")
    good = signed(body(form=1, post=1, rnd=1, bid=base))
    good_text = text(good)
    short_text = text(good[:-1])
    election = signed(bytes([1]) + PROCEDURE_ID[:16] + bytes([1, 1]) + base, domain=ELECTION_DOMAIN)
    # (name, description, text, code, clause); every one read as a members' committee round 1.
    inv: list[tuple[str, str, str, str, str]] = [
        ("PQ1-missing-prefix", "no BP1: prefix", good_text[4:], "pqr.bad_encoding", "PQ1"),
        (
            "PQ1-bad-base32",
            "a digit 1 is not in the base32 alphabet",
            good_text[:10] + "1" + good_text[11:],
            "pqr.bad_encoding",
            "PQ1",
        ),
        (
            "PQ1-non-canonical",
            "a 99-byte text whose unused low bits of the last character are not zero (a "
            "100-byte text has no unused bits)",
            short_text[:-1] + B32[B32.index(short_text[-1]) ^ 1],
            "pqr.bad_encoding",
            "PQ1",
        ),
        (
            "PQ1-election-ballot",
            "an election ballot's BQ1: text (99 bytes) given to the procedure reader",
            text(election, "BQ1:"),
            "pqr.election_ballot",
            "PQ1",
        ),
        (
            "PQ2-text-prefix-bp2",
            "text prefix BP2:",
            "BP2:" + good_text[4:],
            "pqr.unknown_version",
            "PQ2",
        ),
        (
            "PQ2-version-byte",
            "version byte 2",
            text(signed(body(version=2, form=1, post=1, rnd=1, bid=base))),
            "pqr.unknown_version",
            "PQ2",
        ),
        (
            "PQ3-truncated",
            "signature cut short by 10 bytes",
            text(good[:-10]),
            "pqr.truncated",
            "PQ3",
        ),
        ("PQ3-overlong", "one byte appended", text(good + b"\x00"), "pqr.overlong", "PQ3"),
        (
            "PQ3-oversized-text",
            "a 300-character text: refused before decoding",
            good_text + "A" * (300 - len(good_text)),
            "pqr.overlong",
            "PQ3",
        ),
        (
            "PQ4-bad-form",
            "form 4",
            text(signed(body(form=4, post=1, rnd=1, bid=base))),
            "pqr.bad_field",
            "PQ4",
        ),
        (
            "PQ4-evaluation-with-post",
            "an evaluation payload with post byte 1",
            text(signed(body(form=3, post=1, rnd=1, bid=base))),
            "pqr.bad_field",
            "PQ4",
        ),
        (
            "PQ4-recommendation-without-post",
            "a recommendation payload with post byte 0",
            text(signed(body(form=1, post=0, rnd=1, bid=base))),
            "pqr.bad_field",
            "PQ4",
        ),
        (
            "PQ4-round-zero",
            "round 0",
            text(signed(body(form=1, post=1, rnd=0, bid=base))),
            "pqr.bad_field",
            "PQ4",
        ),
        (
            "PQ5-wrong-procedure",
            "signed by the same key for another procedure",
            text(signed(body(procedure_id=OTHER_PROCEDURE_ID, form=1, post=1, rnd=1, bid=base))),
            "pqr.wrong_procedure",
            "PQ5",
        ),
        (
            "PQ6-evaluation-in-recommendation",
            "an evaluation ballot read into the members' committee count",
            text(signed(body(form=3, post=0, rnd=1, bid=base))),
            "pqr.wrong_form",
            "PQ6",
        ),
        (
            "PQ6-public-in-member",
            "a public ballot read into the members' count",
            text(signed(body(form=2, post=1, rnd=1, bid=base))),
            "pqr.wrong_form",
            "PQ6",
        ),
        (
            "PQ6-wrong-post",
            "a secretary ballot read into the committee count",
            text(signed(body(form=1, post=2, rnd=1, bid=base))),
            "pqr.wrong_form",
            "PQ6",
        ),
        (
            "PQ7-wrong-round",
            "a round-2 ballot in the round-1 count",
            text(signed(body(form=1, post=1, rnd=2, bid=base))),
            "pqr.wrong_round",
            "PQ7",
        ),
        (
            "PQ8-bad-signature",
            "one bit of the signature flipped",
            text(good[:-1] + bytes([good[-1] ^ 1])),
            "pqr.bad_signature",
            "PQ8",
        ),
        (
            "PQ8-other-key",
            "a forged ballot: signed by a key that is not the work group's",
            text(signed(body(form=1, post=1, rnd=1, bid=base), OTHER_KEY)),
            "pqr.bad_signature",
            "PQ8",
        ),
        (
            "PQ8-election-domain",
            "the work group's signature under the election ballot's domain",
            text(signed(body(form=1, post=1, rnd=1, bid=base), domain=ELECTION_DOMAIN)),
            "pqr.bad_signature",
            "PQ8",
        ),
    ]
    for name, description, qr_text, code, clause in inv:
        docs[f"qr/invalid-{name}.json"] = vector(
            description,
            qr_text,
            form=1,
            post=1,
            rnd=1,
            result={"valid": False, "error": code, "clause": clause},
        )

    short_key = vector(
        "a work group key of 31 bytes",
        good_text,
        form=1,
        post=1,
        rnd=1,
        result={"valid": False, "error": "pqr.bad_public_key", "clause": "PQ8"},
    )
    short_key["public_key"] = SEED_KEY.public_key().public_bytes_raw()[:31].hex()
    docs["qr/invalid-PQ8-bad-public-key.json"] = short_key

    ids = [ballot_id(f"stock-{i}") for i in range(5)]
    h = hashlib.sha256(
        STOCK_DOMAIN + b"\x00" + PROCEDURE_ID + bytes([3, 0, 1]) + len(ids).to_bytes(4, "big")
    )
    for i in sorted(ids):
        h.update(i)
    docs["stock/commitment.json"] = {
        "format": "procedure-stock-vector/1",
        "description": "procedure stock commitment (RP-3.6) of an evaluation stock, round 1, "
        "over 5 ids given in print order",
        "procedure_id": PROCEDURE_ID.hex(),
        "form": "evaluation",
        "post": "",
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
    from vector_files import present_files, sync  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    wanted = build_vectors()
    rc = 0
    for folder in FOLDERS:
        mine = {
            rel[len(folder) + 1 :]: content
            for rel, content in wanted.items()
            if rel.startswith(f"{folder}/")
        }
        out = OUT_DIR / folder
        rc |= sync(out, mine, present_files(out, "*.json"), check=args.check)
    return rc


if __name__ == "__main__":
    sys.exit(main())
