"""An election with remote ballots of version 2 for the benchmarks (bench_remote.py --version 2,
bench_verify_remote.py): a 9-candidate committee (7 seats) and a 2-candidate secretary (1 seat),
``voters`` members approved for remote voting, each with a credential and a real
``remote-ballot/2`` made by the v2 device's code (``tally.remote_device``: the same context and
choices the page builds, ``keys.remote_ballot.encrypt_ballot``).

Why the casts are few (spec/remote-v2.md RV-2.1, RV-2.2, R24): a remote voter must be an expected
elector, every expected elector who is not a listed candidate is on each post's write-in list, and a
post has at most 256 choices. So a version-2 election has at most 256 remote voters, and each of its
posts has at least as many choices as it has remote voters: the cost of one ballot grows with the
number of ballots. The roster here is the ``voters`` plus the two officials, all full members (fewer
would make no write-in list smaller: every voter is on it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import multiprocessing
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keys
from bench.synthetic import _definition
from keys import remote_ballot, remote_tokens
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_device import ballot_context, choices_for
from tally.session_config import SessionConfig

PASSPHRASE = "bench remote v2 passphrase 2026"
COMMITTEE = 9  # listed candidates, 7 seats
SECRETARY = 2  # listed candidates, 1 seat


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def definition(voters: int) -> dict[str, Any]:
    """``voters`` approved members B00001.. plus two officials; every member full (R2)."""
    data = _definition(voters + 2)
    ids = [f"B{i:05d}" for i in range(1, voters + 3)]
    data["posts"] = [
        {"post": "committee", "seats": 7, "candidates": ids[:COMMITTEE]},
        {"post": "secretary", "seats": 1, "candidates": ids[:SECRETARY]},
    ]
    # The remote ballots count toward the quorum: the two officials are the only members present.
    data["remote_voting"] = {"approved": ids[:voters], "counts_toward_quorum": True}
    data["election"]["date"] = dt.date.today() + dt.timedelta(days=2)  # type: ignore[index]
    return data


@dataclass(frozen=True, slots=True)
class Election:
    session: ElectionSession
    data_dir: Path
    wg: keys.InMemorySigner
    scrutineer: keys.InMemorySigner
    town: keys.InMemorySigner


def open_election(
    folder: Path, voters: int, *, town: keys.InMemorySigner | None = None
) -> Election:
    """The election file ``folder/e.db`` with remote voting of version 2 open (1-of-1 key),
    under ``town``'s signature (a new town key when None: one town signs all its branches')."""
    town = town or keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    manifest = build_manifest(
        parse_definition_data(definition(voters)),
        work_group_key=_pub(wg),
        scrutineer_keys=(_pub(sc),),
    )
    svc = folder / "svc"
    s = ElectionSession.init(
        SessionConfig(folder / "e.db", passphrase=os.environ.get("TALLY_PASSPHRASE", "")),
        sign_manifest(manifest, town),
        wg,
    )
    s.remote.open(signer=wg, k=1, data_dir=svc)
    if s.remote.info().get("version") != 2:
        raise SystemExit("remote voting did not open in version 2")
    return Election(s, svc, wg, sc, town)


@dataclass(frozen=True, slots=True)
class Vote:
    credential: remote_tokens.RemoteCredential
    ballot: dict[str, Any]

    def cast_body(self) -> dict[str, Any]:
        """The body of ``POST /api/remote/cast`` (RV-4.1)."""
        c = self.credential
        return {
            "token": base64.b64encode(c.token).decode(),
            "token_prefix": base64.b64encode(c.prefix).decode(),
            "token_signature": base64.b64encode(c.signature).decode(),
            "ballot": self.ballot,
        }


def _approvals(
    rng: random.Random,
    info: Mapping[str, Any],
    lists: Sequence[Mapping[str, Any]],
    *,
    write_in: bool,
) -> dict[str, list[str]]:
    """The first ``seats`` listed candidates, so that every post is filled in its first round;
    with ``write_in`` (one voter in five) the last of them replaced by a write-in, so that even
    ten voters elect every listed one. (The cost of checking a ballot does not depend on its
    choices: every choice carries the same proofs.)"""
    names = {w["post"]: [m["member"] for m in w["members"]] for w in lists}
    out: dict[str, list[str]] = {}
    for p in info["posts"]:
        chosen = [c["id"] for c in p["listed"][: p["seats"]]]
        if p["seats"] > 1 and names[p["post"]] and write_in:
            chosen[-1] = rng.choice(names[p["post"]])
        out[p["post"]] = chosen
    return out


def _encrypt(job: tuple[dict[str, Any], list[dict[str, Any]], bytes, dict[str, list[str]]]) -> Any:
    info, lists, token, approvals = job
    ctx = ballot_context(info, lists)
    return remote_ballot.encrypt_ballot(ctx, token, choices_for(info, lists, approvals))


def votes(e: Election, voters: int, *, seed: int = 16, procs: int = 2) -> list[Vote]:
    """Each approved member's credential (invitation, blind token, redemption: the device's
    steps) and ballot, encrypted and proved by the device's code in ``procs`` processes; nothing
    is cast."""
    s, rng = e.session, random.Random(seed)
    info = s.remote.info()
    issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    eid = bytes.fromhex(info["election_id"])
    creds, jobs = [], []
    lists: list[dict[str, Any]] = []
    for i in range(1, voters + 1):
        code, _ = s.remote.issue_invitation(f"B{i:05d}", data_dir=e.data_dir)
        req = remote_tokens.begin_token_request(issuer, eid)
        blind = s.remote.redeem_invitation(code, req.blinded_msg, data_dir=e.data_dir)
        lists = s.remote.redemption_extras()["write_in_lists"]
        cred = remote_tokens.finish_token_request(req, issuer, blind)
        creds.append(cred)
        jobs.append((info, lists, cred.token, _approvals(rng, info, lists, write_in=i % 5 == 0)))
    if procs == 1:  # in line (e.g. inside a pool's worker, which may not start one)
        ballots = [_encrypt(job) for job in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            ballots = pool.map(_encrypt, jobs, chunksize=max(1, len(jobs) // (4 * procs)))
    return [Vote(c, json.loads(json.dumps(b))) for c, b in zip(creds, ballots, strict=True)]


def choices_per_post(e: Election) -> list[tuple[str, int, int]]:
    """(post, listed, choices) of each post of the ballot."""
    lists = {w["post"]: len(w["members"]) for w in e.session.remote.write_in_lists()}
    return [
        (p["post"], len(p["listed"]), len(p["listed"]) + lists[p["post"]])
        for p in e.session.remote.info()["posts"]
    ]


def run_to_result(e: Election, cast: Sequence[Vote]) -> None:
    """Cast ``cast`` into the pending casts, close remote voting (the batch is logged), decrypt
    the totals (the one scrutineer, the work group signing the checkpoint), then the meeting: the
    two officials checked in, each post counted in one round of their two paper ballots and the
    remote totals, the result recorded and cosigned."""
    import ballot_printer  # noqa: PLC0415
    from tally.calendar import load_calendar  # noqa: PLC0415
    from tally.core.model import PostKind  # noqa: PLC0415
    from tally.election import EntryInput  # noqa: PLC0415

    s, wg = e.session, e.wg
    for v in cast:
        c = v.credential
        s.remote.cast(c.token, c.prefix, c.signature, v.ballot)
    s.remote.close(signer=wg, data_dir=e.data_dir)
    s.remote.decrypt(e.scrutineer, signer=wg, data_dir=e.data_dir)
    members = s.manifest.election.members
    present = [m.id for m in members if m.id not in s.manifest.election.remote_voting.approved]
    s.check_in(present)
    for kind, marks in ((PostKind.COMMITTEE, "o" * 7 + "-" * 2), (PostKind.SECRETARY, "o-")):
        spec = s.due_round()
        assert spec.post is kind, spec
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=ballot_printer.PaperKind({PostKind.COMMITTEE: 1, PostKind.SECRETARY: 2}[kind]),
            round_number=spec.number,
            count=len(present),
            signer=wg,
        )
        s.commit_stock(stock, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(present), signer=wg)
        s.enter(
            [EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads]
        )
        s.close(signer=wg)
    s.record_result(signer=wg, calendar=load_calendar(None))
    s.cosign(e.scrutineer)
