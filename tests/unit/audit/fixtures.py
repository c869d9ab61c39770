"""Bundles for the audit tests, built with the verifier tests' scripted producer (builder.py).

``large_round``: one committee round of 119 ballots (E = 119, 3 seats, candidates M01-M04) whose
reported outcome is M01, M02, M03; the approvals are chosen here and the ``round.counted`` body is
counted by hand from them (a plain tally of approvals: every ballot valid).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from ballot_printer import BallotStock, PaperKind, encode_qr_text, sign_payload
from keys import InMemorySigner
from tests.unit.verifier import builder as B
from verifier.checks import TownKey
from verifier.crypto import fingerprint

TOWN = TownKey(fingerprint=fingerprint(B.TOWN.public_key.key))
MEMBERS = 120


def large_marks() -> list[str]:
    """119 ballots: M01 100, M02 90, M03 80, M04 30 approvals (3 seats, base E = 119)."""
    out = []
    for i in range(119):
        m = "".join("o" if i < cut else "x" for cut in (100, 90, 80))
        m += "o" if 89 <= i < 119 else "x"
        out.append(m)
    return out


def _large_definition() -> dict[str, Any]:
    d = B.definition()
    d["members"] = [B._member(i) for i in range(1, MEMBERS + 1)]
    return d


def large_script(marks: list[str]) -> list[list[Any]]:
    ev: list[list[Any]] = [["election.opened", {}]]
    present = [f"M{i:02d}" for i in range(1, MEMBERS + 1) if i != 10]
    ev += [["member.checked_in", {"member": m}] for m in present]
    n = len(marks)
    ev += [
        ["stock.committed", {"post": "committee", "round": 1, "count": n + 5}],
        B._opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3, len(present)),
        ["ballots.issued", {"post": "committee", "round": 1, "count": len(present)}],
        ["ballots.returned", {"post": "committee", "round": 1, "count": n}],
    ]
    ev[-3][1]["expected"] = 119
    ev += [B._ballot("committee", 1, m) for m in marks]
    votes: Counter[str] = Counter()
    for m in marks:
        for c, x in zip(["M01", "M02", "M03", "M04"], m, strict=True):
            votes[c] += x == "o"
    approvals = [(c, votes[c]) for c in ["M01", "M02", "M03", "M04"]]
    passed = sorted((c for c, v in approvals if 2 * v > 119), key=lambda c: -votes[c])
    elected = sorted(passed[:3])
    ev += [B._counted("committee", 1, n, 0, approvals, 119, 60, elected, [], 0, 0)]
    ev += [
        ["stock.committed", {"post": "secretary", "round": 1, "count": n + 5}],
        B._opened("secretary", 1, "first", ["M01", "M02"], 1, len(present)),
        ["ballots.issued", {"post": "secretary", "round": 1, "count": len(present)}],
        ["ballots.returned", {"post": "secretary", "round": 1, "count": n}],
    ]
    ev[-3][1]["expected"] = 119
    ev += [B._ballot("secretary", 1, "ox") for _ in marks]
    ev += [B._counted("secretary", 1, n, 0, [("M01", n), ("M02", 0)], 119, 60, ["M01"], [], 0, 0)]
    ev += [
        [
            "election.result",
            {
                "elected": {
                    "committee": sorted(elected, key=lambda c: -votes[c]),
                    "secretary": ["M01"],
                },
                "publicity_start": "2026-09-30",
                "publicity_end": "2026-10-12",
            },
        ]
    ]
    return ev


def large_bundle(folder: Path) -> Path:
    man = B.manifest(_large_definition())
    files = B.build(large_script(large_marks()), man=man)
    return B.write_folder(files, folder / "bundle")


def small_bundle(folder: Path) -> Path:
    """The verifier tests' scripted election (committee rounds 1-2, secretary rounds 1-2)."""
    return B.write_folder(B.build(), folder / "bundle")


def small_stock(kind: str = "committee", rnd: int = 1, count: int = 12) -> BallotStock:
    """The stock builder.py committed for that round (same deterministic ids, same key)."""
    eid = B.election_id(B.manifest())
    key = (kind, rnd)
    ids = [hashlib.sha256(f"{eid.hex()}-{key}-{i}".encode()).digest()[:16] for i in range(count)]
    payloads = tuple(
        sign_payload(
            election_id=eid, kind=B.KINDS[kind], round_number=rnd, ballot_id=i, signer=B.WORK_GROUP
        )
        for i in ids
    )
    return BallotStock(election_id=eid, kind=B.KINDS[kind], round_number=rnd, payloads=payloads)


def forged_qr(
    *, signer: InMemorySigner = B.WORK_GROUP, eid: bytes | None = None, rnd: int = 1
) -> str:
    """A committee QR text with a fresh id: counterfeit (other key or not in stock) or foreign."""
    election = eid if eid is not None else B.election_id(B.manifest())
    p = sign_payload(
        election_id=election,
        kind=PaperKind.COMMITTEE,
        round_number=rnd,
        ballot_id=hashlib.sha256(repr((signer.public_key.key, election, rnd)).encode()).digest()[
            :16
        ],
        signer=signer,
    )
    return encode_qr_text(p)


def appoint(folder: Path, election_id: bytes, *auditors: Any) -> Path:
    """The town's ``audit/appointment.json`` naming ``auditors`` (``AuditorKey``s), spec A14."""
    import base64  # noqa: PLC0415

    from tally.cli_audit import appointment_document  # noqa: PLC0415

    names = [f"{k.label}:{base64.b64encode(k.public_key).decode()}" for k in auditors]
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "appointment.json"
    out.write_bytes(appointment_document(election_id.hex(), names, B.TOWN))
    return out
