"""A tiny, deterministic producer of ``bundle/1`` bundles for the verifier's tests (spec/bundle.md).

Written from the spec, using the producer packages only for keys (``keys.InMemorySigner``), QR
payloads (``ballot_printer``) and Merkle proofs (``tally.log.merkle``). The election is scripted as
a list of ``[type, body]`` events; round outcomes in the script are hand-computed from the worked
rules, so the verifier is checked against an oracle other than itself. Tests mutate the script (a
dishonest but consistent producer) or the written files (tampering after publication).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785
from chinese_calendar import constants

from ballot_printer import BallotStock, PaperKind, encode_qr_text, sign_payload, stock_list_json
from keys import InMemorySigner, Role
from tally.core.manifest import PUBLIC_SUMMARY_DOMAIN, public_summary
from tally.log.merkle import consistency_proof, mth

MANIFEST_DOMAIN = b"branch-election/manifest/1"
CHECKPOINT_DOMAIN = b"branch-election/checkpoint/1"
AMENDED_LIST_DOMAIN = b"branch-election/amended-list/1"
INVALID_DOMAIN = b"branch-election/invalid-ballot/1"
KINDS = {
    "committee": PaperKind.COMMITTEE,
    "secretary": PaperKind.SECRETARY,
    "deputy_secretary": PaperKind.DEPUTY,
}

TOWN = InMemorySigner.from_seed(Role.TOWN_COMMITTEE, "红旗镇党委", b"\x01" * 32)
WORK_GROUP = InMemorySigner.from_seed(Role.WORK_GROUP, "青山村支部选举工作组", b"\x02" * 32)
SCRUTINEER = InMemorySigner.from_seed(Role.SCRUTINEER, "监票人赵八", b"\x03" * 32)
OTHER_TOWN = InMemorySigner.from_seed(Role.TOWN_COMMITTEE, "别的镇党委", b"\x04" * 32)
OTHER_WG = InMemorySigner.from_seed(Role.WORK_GROUP, "别的工作组", b"\x05" * 32)
OTHER_SCRUTINEER = InMemorySigner.from_seed(Role.SCRUTINEER, "不在清单的人", b"\x09" * 32)


def jcs(value: Any) -> bytes:
    return bytes(rfc8785.dumps(value))


def pubdoc(signer: InMemorySigner) -> dict[str, str]:
    pk = signer.public_key
    return {
        "algorithm": "ed25519",
        "format": "pubkey/1",
        "key": base64.b64encode(pk.key).decode(),
        "label": pk.label,
        "role": pk.role.value,
    }


def pubkey_file_bytes(signer: InMemorySigner) -> bytes:
    return (
        json.dumps(pubdoc(signer), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    ).encode()


def _member(i: int, **kw: Any) -> dict[str, Any]:
    m = {
        "id": f"M{i:02d}",
        "name": f"党员{i:02d}",
        "sex": "male" if i % 2 else "female",
        "birth_date": "1985-03-0" + str(1 + i % 9),
        "education": "bachelor",
        "status": "full",
        "registered_here": True,
        "incumbent_secretary": False,
    }
    m.update(kw)
    return m


def definition() -> dict[str, Any]:
    members = [_member(i) for i in range(1, 11)]
    members.append(_member(11, status="probationary"))
    members.append(_member(12, registered_here=False))
    return {
        "format": "election-definition/1",
        "preset": "R2020",
        "election": {
            "title": "中共青山村支部委员会换届选举",
            "branch": "中共青山村支部",
            "town": "中共红旗镇委员会",
            "term": "第十一届",
            "date": "2026-09-29",
            "objections_to": "红旗镇党委组织办",
        },
        "parameters": {
            "quorum_comparison": "GT",
            "threshold_base": "E",
            "write_in_requires_disapproval": False,
            "write_in_unmarked": "ignored",
            "unreadable_mark": "void_mark",
            "publicity_working_days": 5,
            "qualification_policy": "block",
            "secretary_new_max_age": 45,
            "secretary_new_min_education": "senior_high",
            "secretary_continuing_max_age": 50,
            "secretary_continuing_min_education": "junior_high",
        },
        "members": members,
        "exclusions": [
            {
                "member": "M10",
                "category": "infirm",
                "higher_level_approval": "红组〔2026〕12号",
                "assembly_approval": "2026-09-01 支部党员大会",
            }
        ],
        "posts": [
            {
                "post": "committee",
                "seats": 3,
                "candidates": ["M01", "M02", "M03", "M04"],
                "margin": "20pct",
            },
            {"post": "secretary", "seats": 1, "candidates": ["M01", "M02"], "margin": "20pct"},
        ],
        "secretary": {"elected_by": "assembly"},
        "officials": {"scrutineers": ["M08"], "tellers": ["M09"]},
        "remote_voting": {"approved": [], "counts_toward_quorum": False},
    }


def manifest(defn: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "format": "manifest/1",
        "definition": defn or definition(),
        "keys": {"work_group": pubdoc(WORK_GROUP), "scrutineers": [pubdoc(SCRUTINEER)]},
    }


def election_id(man: dict[str, Any]) -> bytes:
    return hashlib.sha256(MANIFEST_DOMAIN + b"\x00" + jcs(man)).digest()


def amended(
    post: str,
    rnd: int,
    candidates: list[str],
    *,
    eid: bytes | None = None,
    approval: str = "红组〔2026〕30号",
    signer: InMemorySigner = TOWN,
) -> list[Any]:
    """A ``candidates.amended`` event with the town's signature over the ``amended-list/1``
    document (spec/log.md §2.1)."""
    eid = eid or election_id(manifest())
    doc = {
        "format": "amended-list/1",
        "election_id": eid.hex(),
        "post": post,
        "round": rnd,
        "candidates": candidates,
        "town_approval": approval,
    }
    sig = signer.sign(AMENDED_LIST_DOMAIN, jcs(doc))
    return [
        "candidates.amended",
        {
            "post": post,
            "round": rnd,
            "candidates": candidates,
            "town_approval": approval,
            "town_signature": base64.b64encode(sig).decode(),
        },
    ]


def _ballot(
    post: str, rnd: int, marks: str, write_ins: list[dict[str, str]] | None = None
) -> list[Any]:
    return [
        "ballot.entered",
        {"post": post, "round": rnd, "marks": marks, "write_ins": write_ins or []},
    ]


def _wi(member: str, mark: str = "o") -> dict[str, str]:
    return {"name": f"党员{member[1:]}" if member else "张三", "member": member, "mark": mark}


def _opened(
    post: str, rnd: int, purpose: str, cands: list[str], seats: int, present: int
) -> list[Any]:
    return [
        "round.opened",
        {
            "post": post,
            "round": rnd,
            "purpose": purpose,
            "candidates": cands,
            "seats": seats,
            "body": "assembly",
            "expected": 9,
            "present": present,
            "present_members": [],
        },
    ]


def _counted(
    post: str,
    rnd: int,
    valid: int,
    invalid: int,
    approvals: list[tuple[str, int]],
    base: int,
    minimum: int,
    elected: list[str],
    tied: list[str],
    tied_seats: int,
    shortfall: int,
) -> list[Any]:
    return [
        "round.counted",
        {
            "post": post,
            "round": rnd,
            "valid_ballots": valid,
            "invalid_ballots": invalid,
            "approvals": [{"member": m, "approvals": v} for m, v in approvals],
            "base": base,
            "minimum": minimum,
            "elected": elected,
            "tied": tied,
            "tied_seats": tied_seats,
            "shortfall": shortfall,
        },
    ]


def script() -> list[list[Any]]:
    """The tiny election: E = 9; committee 3 seats with a tie and a runoff; a VOID secretary round,
    a quorum failure, then the secretary elected (hand-computed per spec/rules.md)."""
    ev: list[list[Any]] = [["election.opened", {}]]
    ev += [["member.checked_in", {"member": f"M0{i}"}] for i in range(1, 10)]
    ev += [
        ["stock.committed", {"post": "committee", "round": 1, "count": 12}],
        _opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3, 9),
        ["ballots.issued", {"post": "committee", "round": 1, "count": 9}],
        ["ballots.returned", {"post": "committee", "round": 1, "count": 9}],
    ]
    c1 = [
        ("ooox", None),
        ("ooox", None),
        ("ooxo", None),
        ("ooxo", None),
        ("ooox", None),
        ("ooxo", None),
        ("oxoo", None),
        ("x-oo", [_wi("M05")]),
    ]
    ev += [_ballot("committee", 1, m, w) for m, w in c1]
    ev += [_ballot("committee", 1, "oxxx"), ["ballot.withdrawn", {"post": "committee", "round": 1}]]
    ev += [_ballot("committee", 1, "oooo")]
    ev += [
        _counted(
            "committee",
            1,
            8,
            1,
            [("M01", 7), ("M02", 6), ("M03", 5), ("M04", 5), ("M05", 1)],
            9,
            5,
            ["M01", "M02"],
            ["M03", "M04"],
            1,
            0,
        )
    ]
    ev += [
        ["stock.committed", {"post": "committee", "round": 2, "count": 10}],
        _opened("committee", 2, "runoff", ["M03", "M04"], 1, 9),
        ["ballots.issued", {"post": "committee", "round": 2, "count": 9}],
        ["ballots.returned", {"post": "committee", "round": 2, "count": 8}],
    ]
    ev += [_ballot("committee", 2, "ox") for _ in range(5)]
    ev += [_ballot("committee", 2, "xo") for _ in range(2)]
    ev += [_ballot("committee", 2, "--", [_wi("M06")])]
    ev += [_counted("committee", 2, 8, 0, [("M03", 5), ("M04", 2)], 0, 0, ["M03"], [], 0, 0)]
    ev += [
        ["member.left", {"member": "M07"}],  # not M08: an assembly round's scrutineer is present
        ["member.left", {"member": "M09"}],
        [
            "round.quorum_failed",
            {"post": "secretary", "round": 1, "present": 7, "present_members": []},
        ],
        ["member.checked_in", {"member": "M09"}],
        ["stock.committed", {"post": "secretary", "round": 1, "count": 10}],
        _opened("secretary", 1, "first", ["M01", "M02"], 1, 8),
        ["ballots.issued", {"post": "secretary", "round": 1, "count": 8}],
        ["ballots.returned", {"post": "secretary", "round": 1, "count": 9}],
        ["round.void", {"post": "secretary", "round": 1, "issued": 8, "returned": 9}],
        ["stock.committed", {"post": "secretary", "round": 2, "count": 10}],
        _opened("secretary", 2, "first", ["M01", "M02"], 1, 8),
        ["ballots.issued", {"post": "secretary", "round": 2, "count": 8}],
        ["ballots.returned", {"post": "secretary", "round": 2, "count": 8}],
    ]
    ev += [_ballot("secretary", 2, "ox") for _ in range(6)]
    ev += [_ballot("secretary", 2, "xo"), _ballot("secretary", 2, "oo")]
    ev += [_counted("secretary", 2, 7, 1, [("M01", 6), ("M02", 1)], 9, 5, ["M01"], [], 0, 0)]
    ev += [
        [
            "election.result",
            {
                "elected": {"committee": ["M01", "M02", "M03"], "secretary": ["M01"]},
                "publicity_start": "2026-09-30",
                "publicity_end": "2026-10-12",
            },
        ]
    ]
    return ev


def calendar_2026() -> dict[str, list[str]]:
    return {
        "holidays": sorted(d.isoformat() for d in constants.holidays if d.year == 2026),
        "workdays": sorted(d.isoformat() for d in constants.workdays if d.year == 2026),
    }


def sign_checkpoint(body: str, signers: list[InMemorySigner]) -> str:
    lines = []
    for s in signers:
        key = s.public_key.key
        digest = hashlib.sha256(key).digest()
        sig = s.sign(CHECKPOINT_DOMAIN, body.encode())
        lines.append(
            f"\u2014 {s.role.value}:{digest.hex()[:16]} "
            f"{base64.b64encode(digest[:4] + sig).decode()}\n"
        )
    return body + "\n" + "".join(lines)


def build(
    events: list[list[Any]] | None = None,
    *,
    man: dict[str, Any] | None = None,
    town: InMemorySigner = TOWN,
    wg: InMemorySigner = WORK_GROUP,
    result_extra: dict[str, Any] | None = None,
    raw_edit: Callable[[int, bytes], bytes] | None = None,
    scrutineers: list[InMemorySigner] | None = None,
) -> dict[str, bytes]:
    """Write the files of a bundle (without ``index.json``) for the scripted election.

    ``raw_edit(seq, raw)`` may replace an entry's stored bytes (a dishonest producer): the chain
    and the checkpoints are then computed over the replaced bytes. ``scrutineers`` sign the
    round-closed and result checkpoints (default: ``SCRUTINEER``, the manifest's one key)."""
    scrutineers = scrutineers if scrutineers is not None else [SCRUTINEER]
    events = copy.deepcopy(events if events is not None else script())
    man = man or manifest()
    eid = election_id(man)
    signed = {
        "format": "signed-manifest/1",
        "manifest": man,
        "town_key": pubdoc(town),
        "signature": base64.b64encode(town.sign(MANIFEST_DOMAIN, jcs(man))).decode(),
    }
    summary = public_summary(man, signed["town_key"])
    signed["summary_signature"] = base64.b64encode(
        town.sign(PUBLIC_SUMMARY_DOMAIN, jcs(summary))
    ).decode()
    files: dict[str, bytes] = {"manifest.json": jcs(signed)}
    stocks: dict[tuple[str, int], list[bytes]] = {}
    qrs: dict[bytes, str] = {}
    used: dict[tuple[str, int], int] = {}
    entries: list[bytes] = []
    leaves: list[bytes] = []
    checkpoints: list[dict[str, Any]] = []
    last_size = 0
    outcomes: list[dict[str, Any]] = []
    entered: dict[tuple[str, int], list[dict[str, Any]]] = {}
    records: list[tuple[int, dict[str, Any]]] = []
    at0 = dt.datetime(2026, 9, 29, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for seq, (etype, raw_body) in enumerate(events):
        body = dict(raw_body)
        if etype == "election.opened" and not body:
            body = {"election_id": eid.hex()}
        if etype == "stock.committed" and "commitment" not in body:
            key = (body["post"], body["round"])
            ids = [
                hashlib.sha256(f"{eid.hex()}-{key}-{i}".encode()).digest()[:16]
                for i in range(body["count"])
            ]
            payloads = tuple(
                sign_payload(
                    election_id=eid, kind=KINDS[key[0]], round_number=key[1], ballot_id=i, signer=wg
                )
                for i in ids
            )
            stock = BallotStock(
                election_id=eid, kind=KINDS[key[0]], round_number=key[1], payloads=payloads
            )
            files[f"stocks/{key[0]}-{key[1]}.json"] = stock_list_json(stock)
            body["commitment"] = json.loads(files[f"stocks/{key[0]}-{key[1]}.json"])["commitment"]
            stocks[key] = ids
            for p in payloads:
                qrs[p.ballot_id] = encode_qr_text(p)
        if etype == "ballot.entered" and "ballot_id" not in body:
            key = (body["post"], body["round"])
            if "use_stock_of" in body:
                bid = stocks[(body["post"], body["use_stock_of"])][-1]
            else:
                n = used.get(key, 0)
                used[key] = n + 1
                bid = stocks[key][n]
            body = {
                "post": body["post"],
                "round": body["round"],
                "ballot_id": bid.hex(),
                "qr": qrs[bid],
                "marks": body["marks"],
                "write_ins": body["write_ins"],
            }
        if etype == "ballot.declared_invalid" and "signature" not in body:
            # (R8.5) signed by a scrutineer over the decision and this entry's seq (log.md §2.2)
            key = (body["post"], body["round"])
            bid_hex = qr = ""
            if body.pop("with_qr", False):
                n = used.get(key, 0)
                used[key] = n + 1
                bid_hex, qr = stocks[key][n].hex(), qrs[stocks[key][n]]
            confirmer = OTHER_SCRUTINEER if body.pop("_other_signer", False) else SCRUTINEER
            body = {"post": key[0], "round": key[1], "ballot_id": bid_hex, "qr": qr, **body}
            message = jcs(
                {"election_id": eid.hex(), "seq": seq, **{k: body[k] for k in sorted(body)}}
            )
            body["scrutineer"] = (
                f"{confirmer.role.value}:{hashlib.sha256(confirmer.public_key.key).hexdigest()[:16]}"
            )
            body["signature"] = base64.b64encode(confirmer.sign(INVALID_DOMAIN, message)).decode()
        actor = body.pop("_actor", "")  # e.g. "remote" for remote.cast (spec/remote.md RM-8.2)
        extra_checkpoint = body.pop("_checkpoint", None)  # e.g. "remote-casts"
        at = body.pop("_at", None) or (at0 + dt.timedelta(minutes=seq)).isoformat()
        which = body.pop("which", -1) if etype == "ballot.withdrawn" else -1
        if etype == "ballot.withdrawn" and "ballot_id" not in body:
            body["ballot_id"] = entered[(body["post"], body["round"])][which]["ballot_id"]
        prev = eid.hex() if seq == 0 else hashlib.sha256(b"\x00" + entries[-1]).hexdigest()
        entry = {
            "format": "log-entry/1",
            "seq": seq,
            "prev": prev,
            # (log.md §1) a salt per entry; derived, so that the built bundles are reproducible
            "salt": hashlib.sha256(b"builder salt/" + eid + seq.to_bytes(8, "big")).hexdigest(),
            "type": etype,
            "at": at,
            "actor": actor,
            "body": body,
        }
        raw = jcs(entry)
        if raw_edit is not None:
            raw = raw_edit(seq, raw)
        entries.append(raw)
        leaves.append(hashlib.sha256(b"\x00" + raw).digest())
        if etype in ("ballot.entered", "ballot.declared_invalid"):
            entered.setdefault((body["post"], body["round"]), []).append({"seq": seq, **body})
        if etype == "ballot.withdrawn":
            entered[(body["post"], body["round"])].pop(which)
        if etype in ("round.counted", "round.void"):
            outcomes.append({**body, "type": etype})
            if etype == "round.counted":
                records += [(r["seq"], r) for r in entered.get((body["post"], body["round"]), [])]
        reason = {
            "election.opened": "opened",
            "election.result": "result",
            "remote.opened": "remote-opened",
            "remote.closed": "remote-closed",
        }.get(etype, extra_checkpoint)
        if etype == "stock.committed":
            reason = f"stock {body['post']} {body['round']}"
        elif etype == "round.opened":
            reason = f"round-opened {body['post']} {body['round']}"
        elif etype in ("round.counted", "round.void"):
            reason = f"round-closed {body['post']} {body['round']}"
        if reason is not None:
            size = seq + 1
            root = mth(leaves[:size])
            text_body = f"branch-election/{eid.hex()}\n{size}\n{base64.b64encode(root).decode()}\n{reason}\n"
            signers = [wg] + (
                scrutineers if reason == "result" or reason.startswith("round-closed") else []
            )
            proof = (
                []
                if not checkpoints
                else [
                    base64.b64encode(h).decode()
                    for h in consistency_proof(last_size, leaves[:size])
                ]
            )
            checkpoints.append({"text": sign_checkpoint(text_body, signers), "consistency": proof})
            last_size = size
    files["log.jsonl"] = b"".join(e + b"\n" for e in entries)
    files["checkpoints.json"] = jcs({"format": "checkpoints/1", "checkpoints": checkpoints})
    files["ballots.jsonl"] = b"".join(
        jcs({"format": "ballot-record/1", **r}) + b"\n"
        for _, r in sorted(records, key=lambda x: x[0])
    )
    files["outcomes.json"] = jcs({"format": "outcomes/1", "rounds": outcomes})
    last = json.loads(entries[-1])
    res_body = (
        last["body"]
        if last["type"] == "election.result"
        else {"elected": {}, "publicity_start": "2026-09-30", "publicity_end": "2026-10-12"}
    )
    result = {
        "format": "result/1",
        "election_id": eid.hex(),
        "elected": res_body["elected"],
        "publicity_start": res_body["publicity_start"],
        "publicity_end": res_body["publicity_end"],
        "working_days": man["definition"]["parameters"]["publicity_working_days"],
        "calendar": calendar_2026(),
        "remote_ballots": 0,
        "checkpoint": checkpoints[-1]["text"] if checkpoints else "",
    }
    result.update(result_extra or {})
    files["result.json"] = jcs(result)
    return files


def index(files: dict[str, bytes], *, entries: int | None = None, eid: str | None = None) -> bytes:
    log = files.get("log.jsonl", b"")
    if eid is None:
        signed = json.loads(files["manifest.json"])
        eid = election_id(signed["manifest"]).hex()
    return jcs(
        {
            "format": "bundle-index/1",
            "election_id": eid,
            "entries": log.count(b"\n") if entries is None else entries,
            "files": [
                {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
                for p, b in sorted(files.items())
                if p != "index.json"
            ],
        }
    )


def write_folder(files: dict[str, bytes], folder: Path, *, rehash: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if rehash or "index.json" not in files:
        files = {**files, "index.json": index(files)}
    for name, data in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return folder


def write_zip(files: dict[str, bytes], path: Path, *, rehash: bool = True) -> Path:
    if rehash or "index.json" not in files:
        files = {**files, "index.json": index(files)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return path


def log_entries(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(x) for x in files["log.jsonl"].splitlines()]


def set_log(
    files: dict[str, bytes], entries: list[dict[str, Any]], *, rechain: bool
) -> dict[str, bytes]:
    """Replace the log (optionally recomputing seq-independent prev links, as an attacker can)."""
    out = []
    prev_raw: bytes | None = None
    for original in entries:
        e = original
        if rechain:
            e = {
                **original,
                "prev": e["prev"]
                if prev_raw is None
                else hashlib.sha256(b"\x00" + prev_raw).hexdigest(),
            }
        raw = jcs(e)
        out.append(raw)
        prev_raw = raw
    return {**files, "log.jsonl": b"".join(x + b"\n" for x in out)}
