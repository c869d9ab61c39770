"""Remote-ballot bundles for the verifier's V18 tests (spec/remote.md §8, §9, §13).

The cryptography comes from the producer's ``keys.remote`` (issuer key, RFC 9474 tokens, sealed
ballots, the k-of-n key shares) — test code only; the verifier re-checks all of it with
``cryptography`` and PyNaCl. The election is the scripted one of ``builder`` with three members
approved for remote voting; round outcomes are hand-computed from spec/rules.md.

The election (E = 9, ``counts_toward_quorum`` true): M05, M06, M07 redeem credentials and cast;
R1 and R2 are valid, R3 names R1's token (``remote.token_mismatch``). Six members check in, so each
assembly round has present 6 + 3 = 9 and issues 6 paper ballots.

* committee round 1 (first, manifest list): paper ``ooox ooxo ooox ooxo oxoo xooo`` and remote
  ``ooox`` (R1), ``ooxo`` (R2): M01 7, M02 7, M03 5, M04 5; base 9, minimum 5: M01, M02 elected,
  M03/M04 tied for the last seat;
* committee round 2 (runoff M03, M04): paper ``ox`` x4, ``xo`` x2: M03 elected (no remote);
* secretary round 1 (first, manifest list M01, M02): paper ``ox`` x4, ``xo`` x2 and remote ``ox``
  (R1), ``xo`` (R2): M01 5, M02 3; minimum 5: M01 elected.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from keys import remote
from tests.unit.verifier import builder as B

APPROVED = ["M05", "M06", "M07"]
PAPER = ["M01", "M02", "M03", "M04", "M08", "M09"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def remote_manifest(*, counts_toward_quorum: bool = True) -> dict[str, Any]:
    d = B.definition()
    d["remote_voting"] = {"approved": list(APPROVED), "counts_toward_quorum": counts_toward_quorum}
    return B.manifest(d)


@functools.cache
def issuer() -> remote.TokenIssuer:
    return remote.TokenIssuer.generate()


@functools.cache
def other_issuer() -> remote.TokenIssuer:
    return remote.TokenIssuer.generate()


@functools.cache
def key_setup(eid: bytes) -> tuple[remote.RemoteKeySetup, bytes]:
    """The remote-ballot key split among the manifest's one scrutineer, and the rebuilt key."""
    setup = remote.create_remote_key(eid, [B.SCRUTINEER.public_key], 1)
    shares = [remote.unwrap_share(c, B.SCRUTINEER) for c in setup.shares]
    rebuilt = remote.reconstruct_private_key(
        shares, election_id=eid, ballot_key=setup.ballot_key, k=setup.k
    )
    return setup, rebuilt.private_key.reveal()


def credential(eid: bytes, who: remote.TokenIssuer | None = None) -> remote.RemoteCredential:
    iss = who or issuer()
    req = remote.begin_token_request(iss.public_key, eid)
    return remote.finish_token_request(req, iss.public_key, iss.sign_blinded(req.blinded_msg))


def ballot(eid: bytes, token: bytes, committee: str, secretary: str) -> dict[str, Any]:
    return {
        "format": "remote-ballot/1",
        "election_id": eid.hex(),
        "token": b64(token),
        "posts": [
            {
                "post": "committee",
                "candidates": ["M01", "M02", "M03", "M04"],
                "marks": committee,
                "write_ins": [],
            },
            {
                "post": "secretary",
                "candidates": ["M01", "M02"],
                "marks": secretary,
                "write_ins": [],
            },
        ],
    }


def cast_body(cred: remote.RemoteCredential, sealed: bytes) -> dict[str, Any]:
    return {
        "token": b64(cred.token),
        "token_prefix": b64(cred.prefix),
        "token_signature": b64(cred.signature),
        "sealed": b64(sealed),
        "_actor": "remote",
    }


def _opened(post: str, rnd: int, purpose: str, cands: list[str], seats: int) -> list[Any]:
    return ["round.opened", {**B._opened(post, rnd, purpose, cands, seats, 9)[1]}]


def _counted(remote_ballots: int, *args: Any) -> list[Any]:
    t, body = B._counted(*args)
    return [t, {**body, "remote_ballots": remote_ballots}]


class Election:
    """The script of the remote election plus what tests need to tamper with it."""

    def __init__(self, *, counts_toward_quorum: bool = True) -> None:
        self.man = remote_manifest(counts_toward_quorum=counts_toward_quorum)
        self.eid = B.election_id(self.man)
        self.setup, self.private_key = key_setup(self.eid)
        self.creds = [credential(self.eid) for _ in range(3)]
        self.ballots = [
            ballot(self.eid, self.creds[0].token, "ooox", "ox"),
            ballot(self.eid, self.creds[1].token, "ooxo", "xo"),
            ballot(self.eid, self.creds[0].token, "oooo", "ox"),  # R3: R1's token
        ]
        self.sealed = [remote.seal_ballot(self.setup.ballot_key, B.jcs(b)) for b in self.ballots]

    def opened_body(self) -> dict[str, Any]:
        return self.setup.opened_body(issuer())

    def script(self) -> list[list[Any]]:
        ev: list[list[Any]] = [["election.opened", {}], ["remote.opened", self.opened_body()]]
        ev += [
            ["remote.credential_issued", {"member": "M05", "_actor": "remote"}],
            ["remote.credential_issued", {"member": "M06", "_actor": "remote"}],
            ["remote.cast", cast_body(self.creds[0], self.sealed[0])],
            ["remote.credential_issued", {"member": "M07", "_actor": "remote"}],
            [
                "remote.cast",
                {**cast_body(self.creds[1], self.sealed[1]), "_checkpoint": "remote-casts"},
            ],
            ["remote.cast", cast_body(self.creds[2], self.sealed[2])],
            ["remote.closed", {"credentials": 3, "casts": 3}],
        ]
        ev += [["member.checked_in", {"member": m}] for m in PAPER]
        ev += [
            ["stock.committed", {"post": "committee", "round": 1, "count": 8}],
            _opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3),
            ["ballots.issued", {"post": "committee", "round": 1, "count": 6}],
            ["ballots.returned", {"post": "committee", "round": 1, "count": 6}],
        ]
        ev += [
            B._ballot("committee", 1, m) for m in ("ooox", "ooxo", "ooox", "ooxo", "oxoo", "xooo")
        ]
        ev += [
            ["remote.key_revealed", {"private_key": b64(self.private_key)}],
            ["remote.decrypted", {"cast": 4, "ballot": self.ballots[0]}],
            ["remote.decrypted", {"cast": 6, "ballot": self.ballots[1]}],
            ["remote.rejected", {"cast": 7, "reason": "remote.token_mismatch"}],
            _counted(
                2,
                "committee",
                1,
                8,
                0,
                [("M01", 7), ("M02", 7), ("M03", 5), ("M04", 5)],
                9,
                5,
                ["M01", "M02"],
                ["M03", "M04"],
                1,
                0,
            ),
            ["stock.committed", {"post": "committee", "round": 2, "count": 8}],
            _opened("committee", 2, "runoff", ["M03", "M04"], 1),
            ["ballots.issued", {"post": "committee", "round": 2, "count": 6}],
            ["ballots.returned", {"post": "committee", "round": 2, "count": 6}],
        ]
        ev += [B._ballot("committee", 2, m) for m in ("ox", "ox", "ox", "ox", "xo", "xo")]
        ev += [
            _counted(0, "committee", 2, 6, 0, [("M03", 4), ("M04", 2)], 0, 0, ["M03"], [], 0, 0),
            ["stock.committed", {"post": "secretary", "round": 1, "count": 8}],
            _opened("secretary", 1, "first", ["M01", "M02"], 1),
            ["ballots.issued", {"post": "secretary", "round": 1, "count": 6}],
            ["ballots.returned", {"post": "secretary", "round": 1, "count": 6}],
        ]
        ev += [B._ballot("secretary", 1, m) for m in ("ox", "ox", "ox", "ox", "xo", "xo")]
        ev += [
            _counted(2, "secretary", 1, 8, 0, [("M01", 5), ("M02", 3)], 9, 5, ["M01"], [], 0, 0),
            [
                "election.result",
                {
                    "elected": {"committee": ["M01", "M02", "M03"], "secretary": ["M01"]},
                    "publicity_start": "2026-09-30",
                    "publicity_end": "2026-10-12",
                },
            ],
        ]
        return ev

    def build(
        self, ev: list[list[Any]] | None = None, *, remote_ballots: int = 2
    ) -> dict[str, bytes]:
        return B.build(
            ev if ev is not None else self.script(),
            man=self.man,
            result_extra={"remote_ballots": remote_ballots},
        )
