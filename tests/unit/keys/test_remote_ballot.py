"""keys.remote_ballot: the `remote-ballot/2` document (spec/remote-v2.md §3, RV-3.1 .. RV-3.6).

Hostile documents first, each with the code RV-3.5 gives it; then the round trips: any valid
choice vector encrypts to a ballot that checks, and the encrypted totals decrypt (with a public
test key) to the plain sums.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keys import elgamal as eg
from keys import remote_ballot as rb

ELECTION = bytes.fromhex("e1" * 32)
OTHER_ELECTION = bytes.fromhex("e2" * 32)
TOKEN = b"\x31" * 32
OTHER_TOKEN = b"\x32" * 32


@pytest.fixture(scope="module")
def threshold() -> tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]:
    return eg.generate_threshold_key(k=2, n=3, rng=eg.UnsafeDeterministicScalars(b"rb-unit"))


def _context(key: eg.ThresholdKey, *, disapprovals: bool = False) -> rb.BallotContext:
    """Committee: 3 listed + a write-in list of 2, 2 seats; secretary: 2 listed + 2, 1 seat."""
    return rb.BallotContext(
        election_id=ELECTION,
        key=key,
        posts=(
            rb.PostShape("committee", listed=3, choices=5, seats=2, disapprovals=disapprovals),
            rb.PostShape("secretary", listed=2, choices=4, seats=1, disapprovals=disapprovals),
        ),
    )


@pytest.fixture(scope="module")
def ctx(threshold: Any) -> rb.BallotContext:
    return _context(threshold[0])


@pytest.fixture(scope="module")
def ctx_d(threshold: Any) -> rb.BallotContext:
    return _context(threshold[0], disapprovals=True)


PLAIN = (rb.PostChoice((1, 0, 0, 1, 0)), rb.PostChoice((0, 0, 0, 1)))
MARKED = (rb.PostChoice((1, 0, 0, 1, 0), disapprovals=1), rb.PostChoice((0, 0, 0, 1), 1))


@pytest.fixture(scope="module")
def ballot(ctx: rb.BallotContext) -> dict[str, Any]:
    return rb.encrypt_ballot(ctx, TOKEN, PLAIN)


@pytest.fixture(scope="module")
def marked(ctx_d: rb.BallotContext) -> dict[str, Any]:
    return rb.encrypt_ballot(ctx_d, TOKEN, MARKED)


def _refused(ctx: rb.BallotContext, doc: object, code: str, *, token: bytes = TOKEN) -> str:
    with pytest.raises((rb.RemoteBallotError, eg.ElGamalError)) as e:
        rb.check_ballot(ctx, doc, token=token)
    assert e.value.code == code, e.value.en
    assert e.value.zh and e.value.en
    return e.value.en


def _cheat(
    ctx: rb.BallotContext,
    post: int,
    approvals: tuple[int, ...],
    *,
    marks: int | None = None,
    token: bytes = TOKEN,
) -> dict[str, Any]:
    """A post made by the honest algorithm from plaintexts it may not prove (no checks)."""
    shape = ctx.posts[post]
    return eg._encrypt_post_unchecked(
        ctx.proof_context(token, shape.post),
        approvals,
        seats=shape.seats,
        listed=shape.listed if marks is not None else None,
        disapprovals=marks,
        rng=eg.SystemScalars(),
    ).to_json()


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _pad_bits_set(text: str) -> str:
    """The same bytes in a non-canonical spelling: the last symbol's unused low bit set."""
    body = text.rstrip("=")
    last = _ALPHABET[_ALPHABET.index(body[-1]) ^ 1]
    return body[:-1] + last + "=" * (len(text) - len(body))


def _with_post(doc: dict[str, Any], index: int, post: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["posts"][index] = post
    return out


# --------------------------------------------------------------------------- size (RV-3.5)


def test_a_ballot_above_262144_jcs_bytes_is_too_large_before_any_crypto(
    ctx: rb.BallotContext, ballot: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = copy.deepcopy(ballot)
    while len(rfc8785.dumps(big)) <= rb.MAX_BALLOT_JCS_BYTES:
        big["posts"][0]["choices"] += big["posts"][0]["choices"]

    def no_crypto(*_: object, **__: object) -> None:
        raise AssertionError("crypto before the size check")

    monkeypatch.setattr(eg, "parse_point", no_crypto)
    monkeypatch.setattr(eg, "_verify_range", no_crypto)
    _refused(ctx, big, "remote.ballot_too_large")
    big["format"] = "remote-ballot/1"  # the size is checked before the shape
    _refused(ctx, big, "remote.ballot_too_large")


def test_the_size_limit_is_inclusive(ctx: rb.BallotContext) -> None:
    overhead = len(rfc8785.dumps({"pad": ""}))
    exact = {"pad": "a" * (rb.MAX_BALLOT_JCS_BYTES - overhead)}
    assert len(rfc8785.dumps(exact)) == rb.MAX_BALLOT_JCS_BYTES
    _refused(ctx, exact, "remote.ballot_invalid")
    _refused(ctx, {"pad": exact["pad"] + "a"}, "remote.ballot_too_large")


# --------------------------------------------------------------------------- shape (RV-3.1)


@pytest.mark.parametrize("doc", [None, [], "remote-ballot/2", 7, {"format": float("nan")}])
def test_what_is_not_a_json_object_is_an_invalid_ballot(ctx: rb.BallotContext, doc: object) -> None:
    _refused(ctx, doc, "remote.ballot_invalid")


def test_another_format_is_an_invalid_ballot(ctx: rb.BallotContext, ballot: Any) -> None:
    _refused(ctx, {**ballot, "format": "remote-ballot/1"}, "remote.ballot_invalid")


@pytest.mark.parametrize("member", ["format", "election_id", "token", "posts"])
def test_a_missing_member_is_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: dict[str, Any], member: str
) -> None:
    doc = {k: v for k, v in ballot.items() if k != member}
    _refused(ctx, doc, "remote.ballot_invalid")


def test_an_extra_member_is_an_invalid_ballot(ctx: rb.BallotContext, ballot: Any) -> None:
    _refused(ctx, {**ballot, "at": "2026-12-07T01:00:00Z"}, "remote.ballot_invalid")


@pytest.mark.parametrize(
    "election_id", [OTHER_ELECTION.hex(), ELECTION.hex().upper(), ELECTION.hex()[:-2], 5]
)
def test_another_or_misspelt_election_id_is_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: Any, election_id: object
) -> None:
    _refused(ctx, {**ballot, "election_id": election_id}, "remote.ballot_invalid")


def test_a_ballot_cast_with_another_token_is_a_token_mismatch(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    _refused(ctx, ballot, "remote.token_mismatch", token=OTHER_TOKEN)


def test_a_ballot_whose_token_is_swapped_is_a_token_mismatch_not_a_proof_failure(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    doc = {**ballot, "token": rb._b64(OTHER_TOKEN)}
    _refused(ctx, doc, "remote.token_mismatch")


@pytest.mark.parametrize(
    "token",
    [
        _pad_bits_set(rb._b64(TOKEN)),
        rb._b64(TOKEN[:31]),
        rb._b64(TOKEN).rstrip("="),
        "not base64!",
        32,
    ],
)
def test_a_misencoded_token_is_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: Any, token: object
) -> None:
    _refused(ctx, {**ballot, "token": token}, "remote.ballot_invalid")


def test_the_posts_in_another_order_are_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    _refused(ctx, {**ballot, "posts": ballot["posts"][::-1]}, "remote.ballot_invalid")


@pytest.mark.parametrize("cut", [slice(0, 1), slice(0, 0)])
def test_a_missing_post_is_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: Any, cut: slice
) -> None:
    _refused(ctx, {**ballot, "posts": ballot["posts"][cut]}, "remote.ballot_invalid")


def test_a_post_list_with_a_post_twice_or_not_a_list_is_an_invalid_ballot(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    twice = [ballot["posts"][0], ballot["posts"][0]]
    _refused(ctx, {**ballot, "posts": twice}, "remote.ballot_invalid")
    _refused(ctx, {**ballot, "posts": {"committee": ballot["posts"][0]}}, "remote.ballot_invalid")
    _refused(ctx, {**ballot, "posts": [ballot["posts"][0], "secretary"]}, "remote.ballot_invalid")


# --------------------------------------------------------------------------- posts (EG-6.4)


def test_an_extra_member_in_a_post_is_an_encoding_error(ctx: rb.BallotContext, ballot: Any) -> None:
    post = {**ballot["posts"][1], "abstain": []}
    _refused(ctx, _with_post(ballot, 1, post), "elgamal.encoding")


def test_a_post_without_its_disapprovals_is_an_encoding_error(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    post = {k: v for k, v in marked["posts"][0].items() if k != "disapprovals"}
    _refused(ctx_d, _with_post(marked, 0, post), "elgamal.encoding")


def test_disapprovals_where_the_manifest_does_not_require_them_are_an_encoding_error(
    ctx: rb.BallotContext, marked: Any
) -> None:
    _refused(ctx, marked, "elgamal.encoding")


@pytest.mark.parametrize("member", ["count", "count_proof", "room_proof", "write_in_proof"])
def test_disapprovals_without_one_member_are_an_encoding_error(
    ctx_d: rb.BallotContext, marked: Any, member: str
) -> None:
    post = copy.deepcopy(marked["posts"][0])
    del post["disapprovals"][member]
    _refused(ctx_d, _with_post(marked, 0, post), "elgamal.encoding")


def test_a_post_with_too_many_choices_is_the_wrong_shape(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    post = copy.deepcopy(ballot["posts"][0])
    post["choices"].append(post["choices"][0])
    post["choice_proofs"].append(post["choice_proofs"][0])
    _refused(ctx, _with_post(ballot, 0, post), "elgamal.wrong_shape")


def test_a_choice_of_2_has_no_valid_proof(ctx: rb.BallotContext, ballot: Any) -> None:
    en = _refused(
        ctx, _with_post(ballot, 0, _cheat(ctx, 0, (2, 0, 0, 0, 0))), "elgamal.choice_proof"
    )
    assert "choice 0" in en


def test_an_over_vote_has_no_valid_sum_proof(ctx: rb.BallotContext, ballot: Any) -> None:
    over = _cheat(ctx, 1, (1, 0, 1, 0))  # a listed candidate and a write-in for one seat
    _refused(ctx, _with_post(ballot, 1, over), "elgamal.sum_proof")


def test_a_write_in_beyond_the_disapprovals_has_no_valid_write_in_proof(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    post = _cheat(ctx_d, 0, (1, 0, 0, 1, 0), marks=0)
    en = _refused(ctx_d, _with_post(marked, 0, post), "elgamal.choice_proof")
    assert "write-ins are at most the × marks" in en


def test_approvals_and_disapprovals_above_the_listed_have_no_valid_room_proof(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    post = _cheat(ctx_d, 0, (1, 1, 0, 0, 0), marks=2)  # A = 2, D = 2 > L - A = 1
    en = _refused(ctx_d, _with_post(marked, 0, post), "elgamal.choice_proof")
    assert "at most 3" in en


def test_more_disapprovals_than_listed_candidates_have_no_valid_count_proof(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    post = _cheat(ctx_d, 1, (0, 0, 0, 0), marks=3)  # L = 2
    en = _refused(ctx_d, _with_post(marked, 1, post), "elgamal.choice_proof")
    assert "in 0..2" in en


def test_disapprovals_copied_from_another_credential_do_not_verify(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    other = rb.encrypt_ballot(ctx_d, OTHER_TOKEN, MARKED)
    post = {**marked["posts"][0], "disapprovals": other["posts"][0]["disapprovals"]}
    _refused(ctx_d, _with_post(marked, 0, post), "elgamal.choice_proof")


def test_a_disapprovals_count_with_an_identity_half_is_refused(
    ctx_d: rb.BallotContext, marked: Any
) -> None:
    post = copy.deepcopy(marked["posts"][0])
    count = eg._unb64(post["disapprovals"]["count"], field="c")
    post["disapprovals"]["count"] = rb._b64(eg.IDENTITY + count[32:])
    _refused(ctx_d, _with_post(marked, 0, post), "elgamal.identity")


def test_non_canonical_base64_in_a_post_is_an_encoding_error(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    post = copy.deepcopy(ballot["posts"][0])
    post["choices"][0] = _pad_bits_set(post["choices"][0])
    _refused(ctx, _with_post(ballot, 0, post), "elgamal.encoding")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("choice proof", ("choice_proofs", 0)),
        ("sum proof", ("sum_proof", None)),
        ("count proof", ("disapprovals", "count_proof")),
        ("write-in proof", ("disapprovals", "write_in_proof")),
    ],
)
def test_a_proof_of_the_wrong_length_is_refused(
    ctx_d: rb.BallotContext, marked: Any, where: str, path: tuple[str, Any]
) -> None:
    post = copy.deepcopy(marked["posts"][0])
    holder: Any = post[path[0]]
    key = path[1]
    if key is None:
        holder, key = post, path[0]
    raw = eg._unb64(holder[key], field=where)
    holder[key] = rb._b64(raw + raw[:32])
    _refused(ctx_d, _with_post(marked, 0, post), "elgamal.proof_length")


def test_a_valid_post_from_another_ballot_of_the_same_voter_is_still_bound_to_its_token(
    ctx: rb.BallotContext, ballot: Any
) -> None:
    other = rb.encrypt_ballot(ctx, OTHER_TOKEN, PLAIN)
    _refused(ctx, _with_post(ballot, 1, other["posts"][1]), "elgamal.choice_proof")


# --------------------------------------------------------------------------- the encryptor


@pytest.mark.parametrize(
    "choices",
    [
        (rb.PostChoice((1, 1, 1, 0, 0)), PLAIN[1]),  # an over-vote
        (rb.PostChoice((2, 0, 0, 0, 0)), PLAIN[1]),
        (rb.PostChoice((1, 0, 0, 0)), PLAIN[1]),  # a choice missing
        (PLAIN[0],),  # a post missing
    ],
)
def test_the_encryptor_refuses_what_no_valid_ballot_holds(
    ctx: rb.BallotContext, choices: tuple[rb.PostChoice, ...]
) -> None:
    with pytest.raises(eg.InvalidParametersError):
        rb.encrypt_ballot(ctx, TOKEN, choices)


@pytest.mark.parametrize(
    "choice",
    [
        rb.PostChoice((0, 0, 0, 1, 0), disapprovals=0),  # a write-in without a × mark
        rb.PostChoice((1, 1, 0, 0, 0), disapprovals=2),  # A + D > L
        rb.PostChoice((0, 0, 0, 0, 0), disapprovals=-1),
    ],
)
def test_the_encryptor_refuses_write_ins_beyond_the_disapprovals(
    ctx_d: rb.BallotContext, choice: rb.PostChoice
) -> None:
    with pytest.raises(eg.InvalidParametersError):
        rb.encrypt_ballot(ctx_d, TOKEN, (choice, MARKED[1]))


def test_the_shapes_are_bounded_as_the_spec_says(threshold: Any) -> None:
    key = threshold[0]
    for bad in [
        {"post": "board", "listed": 1, "choices": 2, "seats": 1},
        {"post": "committee", "listed": 1, "choices": 257, "seats": 1},
        {"post": "committee", "listed": 3, "choices": 2, "seats": 1},
        {"post": "committee", "listed": 1, "choices": 2, "seats": 65},
        {"post": "committee", "listed": 1, "choices": 2, "seats": 0},
    ]:
        with pytest.raises(eg.InvalidParametersError):
            rb.PostShape(disapprovals=False, **bad)  # type: ignore[arg-type]
    sec = rb.PostShape("secretary", listed=2, choices=2, seats=1, disapprovals=False)
    com = rb.PostShape("committee", listed=2, choices=2, seats=1, disapprovals=False)
    for posts in [(sec, com), (com, com), ()]:
        with pytest.raises(eg.InvalidParametersError):
            rb.BallotContext(election_id=ELECTION, key=key, posts=posts)
    with pytest.raises(eg.InvalidParametersError):
        rb.BallotContext(election_id=ELECTION[:31], key=key, posts=(com,))


# --------------------------------------------------------------------------- receipt (RV-3.6)


def test_the_receipt_is_the_domain_hash_of_the_jcs_bytes(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    expected = hashlib.sha256(
        b"branch-election/remote-receipt/2\x00" + rfc8785.dumps(ballot)
    ).hexdigest()
    assert rb.ballot_receipt(ballot) == expected
    reordered = dict(reversed(list(json.loads(json.dumps(ballot)).items())))
    assert rb.ballot_receipt(reordered) == expected
    assert rb.check_ballot(ctx, reordered, token=TOKEN).receipt == expected


def test_two_ballots_of_the_same_choices_have_different_receipts(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    again = rb.encrypt_ballot(ctx, TOKEN, PLAIN)
    assert rb.ballot_receipt(again) != rb.ballot_receipt(ballot)


# --------------------------------------------------------------------------- round trips


def test_the_checked_ballot_keeps_the_document_and_its_posts(
    ctx_d: rb.BallotContext, marked: dict[str, Any]
) -> None:
    checked = rb.check_ballot(ctx_d, json.loads(json.dumps(marked)), token=TOKEN)
    assert checked.doc == marked
    assert [p.to_json() for p in checked.posts] == marked["posts"]
    assert all(p.disapprovals is not None for p in checked.posts)


def test_the_totals_of_no_ballot_are_the_identity_pairs(ctx: rb.BallotContext) -> None:
    totals = rb.encrypted_totals(ctx, [])
    assert [len(t) for t in totals] == [5, 4]
    assert set(itertools.chain.from_iterable(totals)) == {eg.ZERO_CIPHERTEXT}


def _decrypt(
    key: eg.ThresholdKey,
    shares: tuple[eg.KeyShare, ...],
    ctx: rb.BallotContext,
    totals: tuple[tuple[eg.Ciphertext, ...], ...],
    bound: int,
) -> list[list[int]]:
    out = []
    for shape, post_totals in zip(ctx.posts, totals, strict=True):
        row = []
        for i, ct in enumerate(post_totals):
            label = eg.tally_label(shape.post, i)
            partials = [
                eg.partial_decrypt(s, key, ct, election_id=ELECTION, label=label)
                for s in (shares[0], shares[2])
            ]
            row.append(
                eg.combine_partials(
                    key, ct, partials, election_id=ELECTION, label=label, bound=bound
                )
            )
        out.append(row)
    return out


@st.composite
def _shapes_and_votes(
    draw: st.DrawFn,
) -> tuple[tuple[rb.PostShape, ...], list[tuple[rb.PostChoice, ...]]]:
    disapprovals = draw(st.booleans())
    shapes = []
    for post in draw(st.sampled_from([("committee",), ("secretary",), rb.POST_ORDER[:2]])):
        listed = draw(st.integers(1, 3))
        shapes.append(
            rb.PostShape(
                post,
                listed=listed,
                choices=listed + draw(st.integers(0, 2)),
                seats=draw(st.integers(1, 2)),
                disapprovals=disapprovals,
            )
        )

    def vote(shape: rb.PostShape) -> rb.PostChoice:
        approvals = tuple(
            draw(st.lists(st.integers(0, 1), min_size=shape.choices, max_size=shape.choices))
        )
        assume(sum(approvals) <= shape.seats)
        a, w = sum(approvals[: shape.listed]), sum(approvals[shape.listed :])
        if not shape.disapprovals:
            return rb.PostChoice(approvals)
        assume(w <= shape.listed - a)
        return rb.PostChoice(approvals, draw(st.integers(w, shape.listed - a)))

    votes = [tuple(vote(s) for s in shapes) for _ in range(draw(st.integers(1, 3)))]
    return tuple(shapes), votes


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=_shapes_and_votes())
def test_any_valid_choices_encrypt_to_a_ballot_that_checks_and_whose_totals_are_the_sums(
    threshold: Any,
    case: tuple[tuple[rb.PostShape, ...], list[tuple[rb.PostChoice, ...]]],
) -> None:
    key, shares = threshold
    shapes, votes = case
    ctx = rb.BallotContext(election_id=ELECTION, key=key, posts=shapes)
    checked = []
    for i, vote in enumerate(votes):
        token = bytes([0x40 + i]) * 32
        doc = json.loads(json.dumps(rb.encrypt_ballot(ctx, token, vote)))
        checked.append(rb.check_ballot(ctx, doc, token=token))
    totals = rb.encrypted_totals(ctx, checked)
    plain = [
        [sum(v[p].approvals[i] for v in votes) for i in range(shape.choices)]
        for p, shape in enumerate(shapes)
    ]
    assert _decrypt(key, shares, ctx, totals, len(votes)) == plain
