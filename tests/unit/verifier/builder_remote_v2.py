"""Remote-ballot v2 bundles for the verifier's V18 tests (spec/remote-v2.md, remote-v2-crypto.md).

The cryptography comes from the producer's ``keys.elgamal`` (the 2-of-3 key, the ciphertexts and
their proofs, the partial decryptions) and ``keys.remote_tokens`` (RFC 9474 tokens) — test code only;
the verifier re-checks all of it with its own ``verifier.remote_v2``. The ballot document and the
disapproval proofs of RV-3.4 are assembled here from the spec (with the producer's CDS prover),
so that a test can make any of them wrong. Round outcomes are hand-computed from spec/rules.md.

The election (E = 9, ``counts_toward_quorum`` true, three scrutineer keys, k = 2): M05, M06, M07
receive credentials and cast; six members check in, so each assembly round has present 9.
Write-in lists (RV-2.1: eligible M01-M09, M10 excluded): committee M05-M09 (choices 9, seats 3),
secretary M03-M09 (choices 9, seats 1).

* remote committee: R1 M01 M02 M03, R2 M01 M02 M04, R3 M01 + write-in M05;
  remote secretary: R1 M01, R2 M02, R3 write-in M05 (no vote: not an elected committee member,
  R9.3, RV-2.4);
* committee round 1: paper ``ooox ooxo ooox ooxo oxoo xooo`` + remote: M01 8, M02 7, M03 5, M04 5,
  M05 1; valid 9; minimum 5: M01, M02 elected, M03/M04 tied for the last seat;
* committee round 2 (runoff M03, M04): paper ``ox`` x4, ``xo`` x2: M03 elected (no remote);
* secretary round 1: paper ``ox`` x4, ``xo`` x2 + remote: M01 5, M02 3 (M05's write-in dropped);
  valid 9; minimum 5: M01 elected.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from keys import InMemorySigner, Role, remote_key
from keys import elgamal as eg
from keys import remote_ballot as rb
from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote as R

APPROVED = ["M05", "M06", "M07"]
PAPER = ["M01", "M02", "M03", "M04", "M08", "M09"]
SCRUTINEERS = [
    B.SCRUTINEER,
    InMemorySigner.from_seed(Role.SCRUTINEER, "监票人钱九", b"\x06" * 32),
    InMemorySigner.from_seed(Role.SCRUTINEER, "监票人孙十", b"\x07" * 32),
]
WRITE_INS = {
    "committee": ["M05", "M06", "M07", "M08", "M09"],
    "secretary": ["M03", "M04", "M05", "M06", "M07", "M08", "M09"],
}
LISTED = {"committee": ["M01", "M02", "M03", "M04"], "secretary": ["M01", "M02"]}
SEATS = {"committee": 3, "secretary": 1}
DISAPPROVALS_DOMAIN = b"branch-election/elgamal-disapprovals/1"
RECEIPT_DOMAIN = b"branch-election/remote-receipt/2"
AT0 = dt.datetime(2026, 9, 29, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def manifest(*, disapprovals: bool = False, counts_toward_quorum: bool = True) -> dict[str, Any]:
    d = B.definition()
    d["remote_voting"] = {
        "approved": list(APPROVED),
        "counts_toward_quorum": counts_toward_quorum,
    }
    d["parameters"]["write_in_requires_disapproval"] = disapprovals
    man = B.manifest(d)
    man["keys"]["scrutineers"] = [B.pubdoc(s) for s in SCRUTINEERS]
    return man


@functools.cache
def threshold_key() -> tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]:
    return eg.generate_threshold_key(k=2, n=3)


def receipt(ballot: dict[str, Any]) -> str:
    """RV-3.6, written here from the spec."""
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + B.jcs(ballot)).hexdigest()


def choices(post: str, approved: Sequence[str]) -> list[int]:
    names = LISTED[post] + WRITE_INS[post]
    return [1 if n in approved else 0 for n in names]


@dataclass
class PostPlan:
    """One post of a remote ballot: the plaintext per choice and the × marks (RV-3.4)."""

    post: str
    values: list[int]
    disapproved: int = 0
    seats: int | None = None  # the seats the sum proof claims (default: the manifest's)


@dataclass
class Cast:
    cred: Any
    ballot: dict[str, Any]
    receipt: str = field(init=False)

    def __post_init__(self) -> None:
        self.receipt = receipt(self.ballot)

    def body(self) -> dict[str, Any]:
        return {
            "token": b64(self.cred.token),
            "token_prefix": b64(self.cred.prefix),
            "token_signature": b64(self.cred.signature),
            "ballot": self.ballot,
            "_actor": "remote",
        }


def _sub_ct(a: eg.Ciphertext, b: eg.Ciphertext) -> eg.Ciphertext:
    return eg.Ciphertext(alpha=eg._sub(a.alpha, b.alpha), beta=eg._sub(a.beta, b.beta))


def encrypt_post(
    eid: bytes, key: eg.ThresholdKey, token: bytes, plan: PostPlan, *, disapprovals: bool
) -> dict[str, Any]:
    """A post object of ``remote-ballot/2`` (EG-6.3, RV-3.4) with the producer's CDS prover; a
    plan outside the rules gives proofs that do not verify (the cheating prover)."""
    rng = eg.SystemScalars()
    h = key.public_key
    ctx = eg.ProofContext(election_id=eid, public_key=h, token=token, post=plan.post)
    statement = ctx.statement()
    seats = plan.seats or SEATS[plan.post]
    cts, rs, proofs = [], [], []
    for i, m in enumerate(plan.values):
        r = rng.scalar()
        ct = eg._encrypt(h, m, r)
        proofs.append(
            eg._prove_range(
                eg.CHOICE_DOMAIN,
                [*statement, eg._u32(i)],
                public_key=h,
                ct=ct,
                m=m,
                r=r,
                values=2,
                rng=rng,
            )
        )
        cts.append(ct)
        rs.append(r)
    r_sum = rs[0]
    for r in rs[1:]:
        r_sum = eg._s_add(r_sum, r)
    sum_proof = eg._prove_range(
        eg.SUM_DOMAIN,
        [*statement, eg._u32(seats), eg._u32(len(cts))],
        public_key=h,
        ct=eg.add_ciphertexts(cts),
        m=sum(plan.values),
        r=r_sum,
        values=seats + 1,
        rng=rng,
    )
    out: dict[str, Any] = eg.EncryptedPost(
        post=plan.post, choices=tuple(cts), choice_proofs=tuple(proofs), sum_proof=sum_proof
    ).to_json()
    if disapprovals:
        n_listed = len(LISTED[plan.post])
        d, r_d = plan.disapproved, rng.scalar()
        count = eg._encrypt(h, d, r_d)
        a_ct = eg.add_ciphertexts(cts[:n_listed])
        w_ct = eg.add_ciphertexts(cts[n_listed:])
        r_a, r_w = eg._scalar(0), eg._scalar(0)
        for r in rs[:n_listed]:
            r_a = eg._s_add(r_a, r)
        for r in rs[n_listed:]:
            r_w = eg._s_add(r_w, r)
        a, w = sum(plan.values[:n_listed]), sum(plan.values[n_listed:])
        subjects = {
            "count": (count, d, r_d),
            "room": (eg.add_ciphertexts([a_ct, count]), a + d, eg._s_add(r_a, r_d)),
            "write-in": (_sub_ct(count, w_ct), d - w, eg._s_sub(r_d, r_w)),
        }
        proof_b64 = {}
        for name, (ct, m, r) in subjects.items():
            proof = eg._prove_range(
                DISAPPROVALS_DOMAIN,
                [*statement, eg._u32(n_listed), name.encode("ascii")],
                public_key=h,
                ct=ct,
                m=m,
                r=r,
                values=n_listed + 1,
                rng=rng,
            )
            proof_b64[name] = b64(proof.to_bytes())
        out["disapprovals"] = {
            "count": b64(count.to_bytes()),
            "count_proof": proof_b64["count"],
            "room_proof": proof_b64["room"],
            "write_in_proof": proof_b64["write-in"],
        }
    return out


def ballot(
    eid: bytes,
    token: bytes,
    plans: Sequence[PostPlan],
    *,
    disapprovals: bool,
    key: eg.ThresholdKey | None = None,
) -> dict[str, Any]:
    key = key or threshold_key()[0]
    return {
        "format": "remote-ballot/2",
        "election_id": eid.hex(),
        "token": b64(token),
        "posts": [encrypt_post(eid, key, token, p, disapprovals=disapprovals) for p in plans],
    }


def encrypted_totals(ballots: Sequence[dict[str, Any]]) -> dict[str, list[eg.Ciphertext]]:
    """EG-3.3 over the given ballots, per post and choice (the producer's parser)."""
    out: dict[str, list[eg.Ciphertext]] = {}
    for post in ("committee", "secretary"):
        n = len(LISTED[post]) + len(WRITE_INS[post])
        cts = [[] for _ in range(n)]  # type: list[list[eg.Ciphertext]]
        for b in ballots:
            part = next(p for p in b["posts"] if p["post"] == post)
            for j, c in enumerate(part["choices"]):
                cts[j].append(eg.parse_ciphertext(base64.b64decode(c), field="c"))
        out[post] = [eg.add_ciphertexts(c) for c in cts]
    return out


def partial_body(
    eid: bytes,
    index: int,
    totals: dict[str, list[eg.Ciphertext]],
    keys: tuple[eg.ThresholdKey, Sequence[eg.KeyShare]] | None = None,
) -> dict[str, Any]:
    key, shares = keys or threshold_key()
    share = shares[index - 1]
    posts = []
    for post, cts in totals.items():
        parts = [
            eg.partial_decrypt(
                share, key, ct, election_id=eid, label=eg.tally_label(post, j)
            ).to_json()
            for j, ct in enumerate(cts)
        ]
        posts.append(
            {
                "post": post,
                "shares": [p["share"] for p in parts],
                "proofs": [p["proof"] for p in parts],
            }
        )
    return {"index": index, "posts": posts}


class Election:
    """The script of the v2 remote election plus what tests need to tamper with it."""

    def __init__(
        self,
        *,
        disapprovals: bool = False,
        producer: bool = False,
        counts_toward_quorum: bool = True,
    ) -> None:
        """``producer``: the key, its sealed shares and the ballots made by the producer's own
        functions (``keys.remote_key.create_remote_key_v2``, ``unwrap_share_v2``,
        ``keys.remote_ballot.encrypt_ballot``) instead of this module's, for interoperability."""
        self.disapprovals = disapprovals
        self.producer = producer
        self.man = manifest(disapprovals=disapprovals, counts_toward_quorum=counts_toward_quorum)
        self.eid = B.election_id(self.man)
        self.setup: Any = None
        if producer:
            self.setup = remote_key.create_remote_key_v2(
                self.eid, [s.public_key for s in SCRUTINEERS], 2
            )
            self.key = self.setup.key
            self.shares: Sequence[eg.KeyShare] = tuple(
                remote_key.unwrap_share_v2(remote_key.parse_share_container_v2(c), s, self.key)
                for c, s in zip(self.setup.containers, SCRUTINEERS, strict=True)
            )
        else:
            self.key, self.shares = threshold_key()
        self.creds = [R.credential(self.eid) for _ in range(3)]
        plans = [
            [
                PostPlan("committee", choices("committee", ["M01", "M02", "M03"]), 1),
                PostPlan("secretary", choices("secretary", ["M01"]), 1),
            ],
            [
                PostPlan("committee", choices("committee", ["M01", "M02", "M04"]), 1),
                PostPlan("secretary", choices("secretary", ["M02"]), 1),
            ],
            [
                PostPlan("committee", choices("committee", ["M01", "M05"]), 1),
                PostPlan("secretary", choices("secretary", ["M05"]), 1),
            ],
        ]
        self.casts = [
            Cast(c, self.ballot(c.token, p)) for c, p in zip(self.creds, plans, strict=True)
        ]

    def ballot(self, token: bytes, plans: Sequence[PostPlan]) -> dict[str, Any]:
        if self.producer:
            ctx = rb.BallotContext(
                election_id=self.eid,
                key=self.key,
                posts=tuple(
                    rb.PostShape(
                        post=p.post,
                        listed=len(LISTED[p.post]),
                        choices=len(LISTED[p.post]) + len(WRITE_INS[p.post]),
                        seats=SEATS[p.post],
                        disapprovals=self.disapprovals,
                    )
                    for p in plans
                ),
            )
            choices = [rb.PostChoice(tuple(p.values), p.disapproved) for p in plans]
            return rb.encrypt_ballot(ctx, token, choices)
        return ballot(self.eid, token, plans, disapprovals=self.disapprovals, key=self.key)

    def write_in_lists(self) -> list[dict[str, Any]]:
        return [{"post": p, "members": list(WRITE_INS[p])} for p in ("committee", "secretary")]

    def opened_body(self) -> dict[str, Any]:
        if self.producer:
            body: dict[str, Any] = self.setup.opened_body(R.issuer(), self.write_in_lists())
            return body
        return {
            "issuer_key": b64(R.issuer().public_key_der),
            "election_key": self.key.to_json(),
            "shares": [
                {
                    "index": i + 1,
                    "scrutineer": b64(s.public_key.key),
                    "commitment": hashlib.sha256(f"container {i}".encode()).hexdigest(),
                }
                for i, s in enumerate(SCRUTINEERS)
            ],
            "write_in_lists": self.write_in_lists(),
        }

    def remote_part(
        self,
        casts: Sequence[Cast] | None = None,
        *,
        partials: Sequence[int] = (3, 1),
        totals: dict[str, list[int]] | None = None,
        first_seq: int = 1,
    ) -> list[list[Any]]:
        """remote.opened .. remote.totals, the casts sorted by receipt at the close's time.
        The entries start at ``first_seq`` (the builder's times are AT0 + seq minutes)."""
        casts = sorted(casts if casts is not None else self.casts, key=lambda c: c.receipt)
        ev: list[list[Any]] = [["remote.opened", self.opened_body()]]
        ev += [["remote.credential_issued", {"member": m, "_actor": "remote"}] for m in APPROVED]
        close_seq = first_seq + len(ev) + len(casts)
        at = (AT0 + dt.timedelta(minutes=close_seq)).isoformat()
        ev += [["remote.cast", {**c.body(), "_at": at}] for c in casts]
        ev += [["remote.closed", {"credentials": 3, "casts": len(casts), "_at": at}]]
        sums = encrypted_totals([c.ballot for c in casts])
        ev += [
            ["remote.partial_decryption", partial_body(self.eid, i, sums, (self.key, self.shares))]
            for i in partials
        ]
        if totals is None:
            totals = {
                "committee": [3, 2, 1, 1, 1, 0, 0, 0, 0],
                "secretary": [1, 1, 0, 0, 1, 0, 0, 0, 0],
            }
        ev += [
            [
                "remote.totals",
                {
                    "posts": [
                        {"post": p, "ballots": len(casts), "totals": t} for p, t in totals.items()
                    ],
                    "_checkpoint": "remote-totals",
                },
            ]
        ]
        return ev

    def rounds(self) -> list[list[Any]]:
        ev: list[list[Any]] = [["member.checked_in", {"member": m}] for m in PAPER]
        ev += [
            ["stock.committed", {"post": "committee", "round": 1, "count": 8}],
            R._opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3),
            ["ballots.issued", {"post": "committee", "round": 1, "count": 6}],
            ["ballots.returned", {"post": "committee", "round": 1, "count": 6}],
        ]
        ev += [
            B._ballot("committee", 1, m) for m in ("ooox", "ooxo", "ooox", "ooxo", "oxoo", "xooo")
        ]
        ev += [
            R._counted(
                3,
                "committee",
                1,
                9,
                0,
                [("M01", 8), ("M02", 7), ("M03", 5), ("M04", 5), ("M05", 1)],
                9,
                5,
                ["M01", "M02"],
                ["M03", "M04"],
                1,
                0,
            ),
            ["stock.committed", {"post": "committee", "round": 2, "count": 8}],
            R._opened("committee", 2, "runoff", ["M03", "M04"], 1),
            ["ballots.issued", {"post": "committee", "round": 2, "count": 6}],
            ["ballots.returned", {"post": "committee", "round": 2, "count": 6}],
        ]
        ev += [B._ballot("committee", 2, m) for m in ("ox", "ox", "ox", "ox", "xo", "xo")]
        ev += [
            R._counted(0, "committee", 2, 6, 0, [("M03", 4), ("M04", 2)], 0, 0, ["M03"], [], 0, 0),
            ["stock.committed", {"post": "secretary", "round": 1, "count": 8}],
            R._opened("secretary", 1, "first", ["M01", "M02"], 1),
            ["ballots.issued", {"post": "secretary", "round": 1, "count": 6}],
            ["ballots.returned", {"post": "secretary", "round": 1, "count": 6}],
        ]
        ev += [B._ballot("secretary", 1, m) for m in ("ox", "ox", "ox", "ox", "xo", "xo")]
        ev += [
            R._counted(3, "secretary", 1, 9, 0, [("M01", 5), ("M02", 3)], 9, 5, ["M01"], [], 0, 0),
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

    def script(self, **kw: Any) -> list[list[Any]]:
        return [["election.opened", {}], *self.remote_part(**kw), *self.rounds()]

    def build(
        self, ev: list[list[Any]] | None = None, *, remote_ballots: int = 3
    ) -> dict[str, bytes]:
        return B.build(
            ev if ev is not None else self.script(),
            man=self.man,
            result_extra={"remote_ballots": remote_ballots},
            scrutineers=SCRUTINEERS,
        )
