"""Remote ballots, version 2, in the pure core (spec/remote-v2.md).

What the meeting state machine and the count need of version 2, without any cryptography: the
write-in lists (RV-2.1), the shape of each post's encrypted ballot (RV-3.2; the shells pass it to
``keys.remote_ballot``), a ballot's receipt (RV-3.6), the structural checks of the version-2 log
bodies (§5) and the remote totals of a post as the count takes them (RV-7.1). The proofs are checked
by the service before it appends an entry and by the verifier; the core never sees a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tally.core.errors import RoundStateError
from tally.core.manifest import canonical
from tally.core.model import Body, Election, MemberId, PostKind
from tally.core.rules import candidate_eligible_for_election

__all__ = [
    "BALLOT_FORMAT",
    "MAX_CHOICES",
    "RECEIPT_DOMAIN",
    "TOTALS_CHECKPOINT",
    "RemoteTotals",
    "assembly_posts",
    "check_cast_ballot",
    "check_election_key",
    "check_partial_decryption",
    "check_totals",
    "post_choices",
    "post_shapes",
    "receipt_of",
    "too_many_choices",
    "write_in_lists",
    "write_in_lists_body",
]

#: (RV-3.1) The format of a version-2 remote ballot.
BALLOT_FORMAT = "remote-ballot/2"
#: (RV-3.6) The domain of a ballot's receipt.
RECEIPT_DOMAIN = b"branch-election/remote-receipt/2"
#: (RV-2.2) At most this many choices per post (listed candidates plus write-in list).
MAX_CHOICES = 256
#: (spec/remote-v2.md §5, spec/log.md §3) The reason of the checkpoint after ``remote.totals``.
TOTALS_CHECKPOINT = "remote-totals"
#: (EG-7.1) At most this many scrutineers hold a share of the election key.
MAX_SCRUTINEERS = 32


def _bad(code: str, zh: str, en: str, clause: str = "") -> RoundStateError:
    return RoundStateError(code, zh=zh, en=en, clause=clause)


@dataclass(frozen=True, slots=True)
class RemoteTotals:
    """(RV-7.1) A post's remote totals as the count takes them: the number of remote ballots and,
    per choice in ballot order (listed candidates, then the write-in list), the member and the
    number of ballots that approve that choice."""

    ballots: int
    approvals: tuple[tuple[MemberId, int], ...]


def assembly_posts(election: Election) -> tuple[PostKind, ...]:
    """The posts a remote ballot covers: those the assembly votes on (RM-5.2), in ballot order."""
    out = []
    for kind in (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY):
        if election.post(kind) is None:
            continue
        if kind is not PostKind.COMMITTEE and election.secretary_body is Body.COMMITTEE:
            continue
        out.append(kind)
    return tuple(out)


def write_in_lists(election: Election) -> tuple[tuple[PostKind, tuple[MemberId, ...]], ...]:
    """(RV-2.1) Per assembly-voted post in ballot order, the members a remote voter may write in:
    on the roster, eligible for election (R30), not excluded (R3), not a listed candidate of the
    post in the manifest; in ascending member-id order (bytewise). Who of them gets a vote is
    decided at the count (RV-2.4)."""
    excluded = {x.member for x in election.exclusions}
    eligible = [
        m.id
        for m in election.members
        if candidate_eligible_for_election(m) and m.id not in excluded
    ]
    out = []
    for kind in assembly_posts(election):
        post = election.post(kind)
        assert post is not None  # assembly_posts lists only the election's posts
        listed = set(post.candidates)
        members = sorted((x for x in eligible if x not in listed), key=lambda x: x.encode())
        out.append((kind, tuple(members)))
    return tuple(out)


def write_in_lists_body(election: Election) -> list[dict[str, Any]]:
    """The ``write_in_lists`` member of a version-2 ``remote.opened`` (spec/remote-v2.md §5)."""
    return [
        {"post": kind.value, "members": [str(x) for x in members]}
        for kind, members in write_in_lists(election)
    ]


def post_shapes(election: Election) -> tuple[tuple[PostKind, int, int, int, bool], ...]:
    """(RV-3.2, RV-3.4) Per assembly-voted post in ballot order: ``(post, listed, choices, seats,
    disapprovals)`` -- the listed candidates are the first ``listed`` choices, the write-in list
    follows; ``disapprovals`` is the manifest's ``write_in_requires_disapproval``. Plain tuples:
    the core does not import ``keys`` (the shells build ``keys.remote_ballot.PostShape``)."""
    disapprovals = election.parameters.write_in_requires_disapproval
    out = []
    for kind, members in write_in_lists(election):
        post = election.post(kind)
        assert post is not None
        listed = len(post.candidates)
        out.append((kind, listed, listed + len(members), post.seats, disapprovals))
    return tuple(out)


def post_choices(election: Election) -> tuple[tuple[PostKind, tuple[MemberId, ...]], ...]:
    """Per assembly-voted post in ballot order, the member of each choice (EG-6.1, RV-3.2)."""
    out = []
    for kind, members in write_in_lists(election):
        post = election.post(kind)
        assert post is not None
        out.append((kind, (*post.candidates, *members)))
    return tuple(out)


def too_many_choices(election: Election) -> PostKind | None:
    """(RV-2.2) The first post with more than ``MAX_CHOICES`` choices, if any."""
    for kind, _listed, choices, _seats, _d in post_shapes(election):
        if choices > MAX_CHOICES:
            return kind
    return None


def receipt_of(ballot: Mapping[str, Any]) -> str:
    """(RV-3.6) ``SHA-256("branch-election/remote-receipt/2" || 0x00 || JCS(ballot))``, 64 lowercase
    hex.

    Raises:
        ValueError: the ballot has no canonical JSON form (a float, an integer beyond 2**53).
    """
    return hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + canonical(dict(ballot))).hexdigest()


# -- structural checks of the version-2 bodies (no cryptography) ---------------------------------


def _b64(value: object, size: int | None = None) -> bool:
    """Canonical base64 (of ``size`` bytes when given)."""
    if not isinstance(value, str) or not value.isascii():
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return (size is None or len(raw) == size) and base64.b64encode(raw).decode() == value


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_election_key(value: object) -> tuple[int, int]:
    """(EG-7.4, structure only) ``{k, n, commitments}``: 1 <= n <= 32, 2 <= k <= n (k = 1 when
    n = 1), exactly k base64 points of 32 bytes. Returns ``(k, n)``. Whether the points are valid
    ristretto255 encodings is the service's and the verifier's check (V18.1).

    Raises:
        RoundStateError: ``remote.opened_bad``.
    """
    ok = isinstance(value, dict) and set(value) == {"k", "n", "commitments"}
    if ok:
        assert isinstance(value, dict)
        k, n, commitments = value["k"], value["n"], value["commitments"]
        ok = (
            _count(k)
            and _count(n)
            and 1 <= n <= MAX_SCRUTINEERS
            and (2 <= k <= n or k == n == 1)
            and isinstance(commitments, list)
            and len(commitments) == k
            and all(_b64(c, 32) for c in commitments)
        )
        if ok:
            return int(k), int(n)
    raise _bad("remote.opened_bad", "远程投票开启记录格式错误：选举公钥", "malformed election_key")


def check_cast_ballot(election_id: bytes, election: Election, ballot: object, token: str) -> str:
    """(RV-3.1, structure only) A ``remote.cast``'s ``ballot``: exactly ``{format, election_id,
    token, posts}`` of this election, one post object per assembly-voted post in ballot order, and
    the cast's own token. Returns the receipt (RV-3.6). The proofs (RV-3.5) are checked by the
    service before it appends the cast, and by the verifier (V18.21).

    Raises:
        RoundStateError: ``remote.ballot_invalid`` or ``remote.token_mismatch``.
    """

    def invalid(why: str) -> RoundStateError:
        return _bad(
            "remote.ballot_invalid", f"远程选票格式不符：{why}", f"remote ballot invalid: {why}"
        )

    if not isinstance(ballot, dict) or set(ballot) != {"format", "election_id", "token", "posts"}:
        raise invalid("members")
    if ballot["format"] != BALLOT_FORMAT or ballot["election_id"] != election_id.hex():
        raise invalid("format or election")
    if not _b64(ballot["token"], 32):
        raise invalid("token")
    posts = ballot["posts"]
    expected = [kind.value for kind in assembly_posts(election)]
    if (
        not isinstance(posts, list)
        or [p.get("post") if isinstance(p, dict) else None for p in posts] != expected
    ):
        raise invalid("posts")
    if ballot["token"] != token:
        raise _bad("remote.token_mismatch", "选票中的凭证与投递凭证不符", "token mismatch")
    try:
        return receipt_of(ballot)
    except ValueError as e:  # not JCS-able: parse_entry refuses such an entry anyway
        raise invalid("not canonical JSON") from e


def check_partial_decryption(election: Election, body: Mapping[str, Any], n: int) -> int:
    """(spec/remote-v2.md §5, V18.22, structure only) ``index`` 1..n and one ``{post, shares,
    proofs}`` per assembly-voted post in ballot order with one base64 share (32 bytes, EG-8.2) and
    proof (64 bytes) per choice. Returns the index. The proofs are checked by the service and the
    verifier (EG-8.3).

    Raises:
        RoundStateError: ``remote.partial_bad``.
    """

    def bad(why: str) -> RoundStateError:
        return _bad(
            "remote.partial_bad",
            f"部分解密记录格式错误：{why}",
            f"malformed remote.partial_decryption: {why}",
        )

    index = body.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= n:
        raise bad(f"index must be 1..{n}")
    posts = body.get("posts")
    shapes = post_shapes(election)
    if not isinstance(posts, list) or len(posts) != len(shapes):
        raise bad("posts")
    for (kind, _listed, choices, _seats, _d), part in zip(shapes, posts, strict=True):
        ok = (
            isinstance(part, dict)
            and set(part) == {"post", "shares", "proofs"}
            and part["post"] == kind.value
            and isinstance(part["shares"], list)
            and isinstance(part["proofs"], list)
            and len(part["shares"]) == len(part["proofs"]) == choices
            and all(_b64(s, 32) for s in part["shares"])
            and all(_b64(p, 64) for p in part["proofs"])
        )
        if not ok:
            raise bad(f"post {kind.value}")
    return index


def check_totals(
    election: Election, body: Mapping[str, Any], casts: int
) -> tuple[tuple[PostKind, RemoteTotals], ...]:
    """(spec/remote-v2.md §5, V18.23, structure only) One ``{post, ballots, totals}`` per
    assembly-voted post in ballot order; ``ballots`` the number of casts; one integer 0..ballots per
    choice. Returns each post's totals with the member of each choice. That the totals are the
    combination of the partial decryptions (EG-9) is checked by the service and the verifier.

    Raises:
        RoundStateError: ``remote.totals_bad``.
    """
    posts = body.get("posts")
    choices = post_choices(election)
    if not isinstance(posts, list) or len(posts) != len(choices):
        raise _bad("remote.totals_bad", "远程计票总数记录格式错误", "malformed remote.totals")
    out = []
    for (kind, members), part in zip(choices, posts, strict=True):
        ok = (
            isinstance(part, dict)
            and set(part) == {"post", "ballots", "totals"}
            and part["post"] == kind.value
            and _count(part["ballots"])
            and part["ballots"] == casts
            and isinstance(part["totals"], list)
            and len(part["totals"]) == len(members)
            and all(_count(t) and 0 <= t <= casts for t in part["totals"])
        )
        if not ok:
            raise _bad(
                "remote.totals_bad",
                f"远程计票总数记录格式错误（{kind.value}）：应有 {casts} 张选票、"
                f"{len(members)} 个选项，每项 0 至 {casts}",
                f"malformed remote.totals for {kind.value}: {casts} ballots, "
                f"{len(members)} choices, each 0..{casts}",
            )
        totals: Sequence[int] = part["totals"]
        out.append((kind, RemoteTotals(casts, tuple(zip(members, totals, strict=True)))))
    return tuple(out)
