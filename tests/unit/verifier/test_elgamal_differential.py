"""Differential: the producer (``keys.elgamal``) and the verifier's own ``verifier.remote_v2``.

Random ballots, totals and partial decryptions made by the producer are accepted by the verifier
with the same totals; producer-made ballots and partials tampered in the ways issue 16 names (a 2
in a choice, an over-vote, a moved choice, a replay under another credential, a wrong partial
decryption, ...) are refused by both with the same error code, and by the verifier with the EG
clause of the case. The producer is imported here only (tests may; ``verifier/`` may not).
"""

from __future__ import annotations

import base64
import copy
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import elgamal as producer
from verifier import remote_v2 as v
from verifier.remote_v2 import group as g

ELECTION = secrets.token_bytes(32)
PRODUCER_KEY, PRODUCER_SHARES = producer.generate_threshold_key(k=2, n=3)
KEY = v.parse_threshold_key(PRODUCER_KEY.to_json())
TOKEN = secrets.token_bytes(32)


def _context(post: str, *, token: bytes = TOKEN, election: bytes = ELECTION) -> Any:
    return producer.ProofContext(
        election_id=election, public_key=PRODUCER_KEY.public_key, token=token, post=post
    )


def _statement(post: str, choices: int, seats: int, *, token: bytes = TOKEN) -> v.PostStatement:
    return v.make_statement(
        election_id=ELECTION,
        public_key=KEY.public_key,
        token=token,
        post=post,
        choices=choices,
        seats=seats,
    )


def _encrypt(post: str, approvals: list[int], seats: int, *, token: bytes = TOKEN) -> Any:
    doc: dict[str, Any] = producer.encrypt_post(
        _context(post, token=token), approvals, seats=seats
    ).to_json()
    return doc


@st.composite
def posts(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """A post shape (choices, seats) and approvals that are no over-vote."""
    choices = draw(st.integers(1, 9))
    seats = draw(st.integers(1, min(choices, 7)))
    ones = draw(st.sets(st.integers(0, choices - 1), max_size=seats))
    return choices, seats, [1 if i in ones else 0 for i in range(choices)]


@settings(max_examples=15, deadline=None)
@given(posts())
def test_every_producer_ballot_is_accepted_by_the_verifier(
    shape: tuple[int, int, list[int]],
) -> None:
    """(EG-5, EG-6) Whatever the shape and the approvals, a producer ballot verifies."""
    choices, seats, approvals = shape
    doc = _encrypt("committee", approvals, seats)
    verified = v.verify_post_json(_statement("committee", choices, seats), doc)
    assert [c.to_bytes() for c in verified.choices] == [base64.b64decode(c) for c in doc["choices"]]


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 1), min_size=3, max_size=3).filter(lambda a: sum(a) <= 2),
        max_size=6,
    ),
    st.sampled_from([(1, 2), (1, 3), (2, 3), (3, 2, 1)]),
)
def test_the_verifier_tallies_and_decrypts_producer_ballots_like_the_producer(
    ballots: list[list[int]], scrutineers: tuple[int, ...]
) -> None:
    """(EG-3.3, EG-8, EG-9) Same encrypted totals as ``producer.tally_posts``; the producer's
    partial decryptions verify and combine to the number of approvals of each candidate."""
    tokens = [secrets.token_bytes(32) for _ in ballots]
    docs = [_encrypt("board", a, 2, token=t) for a, t in zip(ballots, tokens, strict=True)]
    verified = [
        v.verify_post_json(_statement("board", 3, 2, token=t), d)
        for d, t in zip(docs, tokens, strict=True)
    ]
    tally = v.tally_post("board", 3, verified)
    parsed = [producer.parse_encrypted_post(d, choices=3, seats=2) for d in docs]
    assert [t.to_bytes() for t in tally.totals] == [
        t.to_bytes() for t in producer.tally_posts(parsed, choices=3)
    ]
    for position, total in enumerate(tally.totals):
        label = v.decryption_label("board", position)
        assert label == producer.tally_label("board", position)
        produced_total = producer.parse_ciphertext(total.to_bytes(), field="t", allow_identity=True)
        partials = [
            producer.partial_decrypt(
                PRODUCER_SHARES[i - 1],
                PRODUCER_KEY,
                produced_total,
                election_id=ELECTION,
                label=label,
            ).to_json()
            for i in scrutineers
        ]
        result = v.decrypt_total(
            KEY,
            election_id=ELECTION,
            label=label,
            total=total,
            partials=partials,
            bound=tally.ballots,
        )
        assert result.total == sum(a[position] for a in ballots)


# ---------------------------------------------------------------------------------------------
# Tampered ballots: (what is changed, the code both must give, the verifier's clause).

SECRETARY = ("secretary", 2, 1)
Doc = dict[str, Any]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _raw(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _set_choice(doc: Doc, i: int, raw: bytes) -> None:
    doc["choices"][i] = _b64(raw)


def _swap(doc: Doc) -> None:
    doc["choices"].reverse()
    doc["choice_proofs"].reverse()


def _choice_is_2(doc: Doc) -> None:
    """Choice 0 becomes the sum of two encryptions of 1 (from another ballot): a 2."""
    other = _encrypt("secretary", [1, 0], 1)
    a = v.parse_ciphertext(_raw(doc["choices"][0]), in_ballot=True)
    b = v.parse_ciphertext(_raw(other["choices"][0]), in_ballot=True)
    _set_choice(doc, 0, v.add_ciphertexts(a, b).to_bytes())


def _over_vote(doc: Doc) -> None:
    """Choice 1 and its proof from a ballot [0, 1] under the same credential: two approvals for
    one seat, each choice proven 0/1, the sum proof of the first ballot."""
    other = _encrypt("secretary", [0, 1], 1)
    doc["choices"][1] = other["choices"][1]
    doc["choice_proofs"][1] = other["choice_proofs"][1]


def _other_ballots_choice(doc: Doc) -> None:
    other = _encrypt("secretary", [1, 0], 1)
    doc["choices"][0] = other["choices"][0]


def _response_plus_order(doc: Doc) -> None:
    raw = bytearray(_raw(doc["choice_proofs"][0]))
    s = int.from_bytes(raw[64:96], "little") + g.ORDER
    raw[64:96] = s.to_bytes(32, "little")
    doc["choice_proofs"][0] = _b64(bytes(raw))


def _identity_alpha(doc: Doc) -> None:
    _set_choice(doc, 0, bytes(32) + _raw(doc["choices"][0])[32:])


def _high_bit_beta(doc: Doc) -> None:
    raw = bytearray(_raw(doc["choices"][1]))
    raw[63] |= 0x80
    _set_choice(doc, 1, bytes(raw))


def _short_proof(doc: Doc) -> None:
    doc["choice_proofs"][1] = _b64(_raw(doc["choice_proofs"][1])[:-1])


def _sum_proof_for_2_seats(doc: Doc) -> None:
    doc["sum_proof"] = _b64(_raw(doc["sum_proof"]) + bytes(64))


def _drop_choice(doc: Doc) -> None:
    doc["choices"].pop()
    doc["choice_proofs"].pop()


TAMPERS: dict[str, tuple[Callable[[Doc], None], str, str]] = {
    "choice-is-2": (_choice_is_2, "elgamal.choice_proof", "EG-5.3"),
    "over-vote": (_over_vote, "elgamal.sum_proof", "EG-6.2"),
    "swapped-choices": (_swap, "elgamal.choice_proof", "EG-5.3"),
    "choice-from-another-ballot": (_other_ballots_choice, "elgamal.choice_proof", "EG-5.3"),
    "response-plus-order": (_response_plus_order, "elgamal.noncanonical_scalar", "EG-2.3"),
    "identity-alpha": (_identity_alpha, "elgamal.identity", "EG-2.2"),
    "high-bit-beta": (_high_bit_beta, "elgamal.invalid_point", "EG-2.2"),
    "short-choice-proof": (_short_proof, "elgamal.proof_length", "EG-5.2"),
    "sum-proof-too-long": (_sum_proof_for_2_seats, "elgamal.proof_length", "EG-6.3"),
    "dropped-choice": (_drop_choice, "elgamal.wrong_shape", "EG-6.4"),
    "other-post": (lambda d: d.update(post="deputy"), "elgamal.wrong_shape", "EG-6.4"),
    "unknown-member": (lambda d: d.update(note="x"), "elgamal.encoding", "EG-6.3"),
}


def _producer_code(doc: Doc, context: Any) -> str:
    _, choices, seats = SECRETARY
    try:
        post = producer.parse_encrypted_post(doc, choices=choices, seats=seats)
        producer.verify_post(context, post, choices=choices, seats=seats)
    except producer.ElGamalError as e:
        return str(e.code)
    pytest.fail("the producer accepted a tampered ballot")


def _verifier_error(doc: Doc, statement: v.PostStatement) -> v.ElGamalVerificationError:
    with pytest.raises(v.ElGamalVerificationError) as info:
        v.verify_post_json(statement, doc)
    return info.value


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_a_tampered_producer_ballot_is_refused_by_both_with_the_same_code(name: str) -> None:
    tamper, code, clause = TAMPERS[name]
    doc = _encrypt("secretary", [1, 0], 1)
    statement = _statement(*SECRETARY)
    v.verify_post_json(statement, doc)  # the untampered ballot is fine
    tamper(doc)
    assert _producer_code(doc, _context("secretary")) == code
    error = _verifier_error(doc, statement)
    assert (error.code, error.clause) == (code, clause)


@pytest.mark.parametrize("other", ["token", "election", "post"])
def test_a_producer_ballot_replayed_in_another_statement_is_refused_by_both(other: str) -> None:
    """(EG-4.3) Another credential, election or post code: the proofs no longer verify (the
    verifier reports the failing check, EG-5.3; see the spec's notes)."""
    doc = _encrypt("secretary", [0, 1], 1)
    token, election, post = TOKEN, ELECTION, "secretary"
    if other == "token":
        token = secrets.token_bytes(32)
    elif other == "election":
        election = secrets.token_bytes(32)
    else:
        post = "treasurer"
        doc["post"] = post
    context = producer.ProofContext(
        election_id=election, public_key=PRODUCER_KEY.public_key, token=token, post=post
    )
    statement = v.make_statement(
        election_id=election,
        public_key=KEY.public_key,
        token=token,
        post=post,
        choices=2,
        seats=1,
    )
    assert _producer_code(doc, context) == "elgamal.choice_proof"
    error = _verifier_error(doc, statement)
    assert (error.code, error.clause) == ("elgamal.choice_proof", "EG-5.3")


def _decryption_case() -> tuple[Any, v.Ciphertext, bytes, list[Doc], list[v.Ciphertext]]:
    docs = [_encrypt("secretary", a, 1) for a in ([1, 0], [1, 0], [0, 1])]
    parsed = [producer.parse_encrypted_post(d, choices=2, seats=1) for d in docs]
    produced_total = producer.tally_posts(parsed, choices=2)[0]
    label = producer.tally_label("secretary", 0)
    partials = [
        producer.partial_decrypt(
            share, PRODUCER_KEY, produced_total, election_id=ELECTION, label=label
        ).to_json()
        for share in PRODUCER_SHARES
    ]
    total = v.parse_ciphertext(produced_total.to_bytes(), in_ballot=False)
    firsts = [v.parse_ciphertext(_raw(d["choices"][0]), in_ballot=True) for d in docs]
    return produced_total, total, label, partials, firsts


def _moved_by_g(partials: list[Doc]) -> list[Doc]:
    p = copy.deepcopy(partials[:2])
    p[1]["share"] = _b64(g.add(_raw(p[1]["share"]), g.GENERATOR))
    return p


PARTIAL_TAMPERS: dict[str, tuple[Callable[[list[Doc]], list[Doc]], str, str]] = {
    "wrong-partial": (_moved_by_g, "elgamal.decryption_proof", "EG-8.3"),
    "duplicate": (lambda p: [p[0], p[0]], "elgamal.duplicate_share", "EG-9.1"),
    "one-share": (lambda p: [p[2]], "elgamal.not_enough_shares", "EG-9.1"),
    "proof-swapped": (
        lambda p: [p[0], {**p[1], "proof": p[2]["proof"]}],
        "elgamal.decryption_proof",
        "EG-8.3",
    ),
}


@pytest.mark.parametrize("name", sorted(PARTIAL_TAMPERS))
def test_tampered_producer_partial_decryptions_are_refused_by_both(name: str) -> None:
    tamper, code, clause = PARTIAL_TAMPERS[name]
    produced_total, total, label, partials, _ = _decryption_case()
    assert (
        v.decrypt_total(
            KEY, election_id=ELECTION, label=label, total=total, partials=partials, bound=3
        ).total
        == 2
    )
    bad = tamper(copy.deepcopy(partials))
    with pytest.raises(producer.ElGamalError) as p_info:
        producer.combine_partials(
            PRODUCER_KEY,
            produced_total,
            [producer.parse_partial_decryption(d, n=3) for d in bad],
            election_id=ELECTION,
            label=label,
            bound=3,
        )
    with pytest.raises(v.ElGamalVerificationError) as v_info:
        v.decrypt_total(KEY, election_id=ELECTION, label=label, total=total, partials=bad, bound=3)
    assert p_info.value.code == v_info.value.code == code
    assert v_info.value.clause == clause


def test_totals_that_do_not_match_the_ballots_are_refused_by_both() -> None:
    """(EG-8.3) Partials of the true total do not verify against a total missing one ballot
    (a ballot dropped after the close), nor against one with a ballot added."""
    _, total, label, partials, firsts = _decryption_case()
    extra = v.parse_ciphertext(_raw(_encrypt("secretary", [1, 0], 1)["choices"][0]), in_ballot=True)
    added = v.add_ciphertexts(total, extra)
    dropped = v.sum_ciphertexts(firsts[:2])
    assert v.sum_ciphertexts(firsts) == total
    for wrong in (added, dropped):
        with pytest.raises(v.ElGamalVerificationError) as info:
            v.decrypt_total(
                KEY, election_id=ELECTION, label=label, total=wrong, partials=partials, bound=4
            )
        assert (info.value.code, info.value.clause) == ("elgamal.decryption_proof", "EG-8.3")
        produced = producer.parse_ciphertext(wrong.to_bytes(), field="t", allow_identity=True)
        with pytest.raises(producer.ElGamalError) as p_info:
            producer.combine_partials(
                PRODUCER_KEY,
                produced,
                [producer.parse_partial_decryption(d, n=3) for d in partials],
                election_id=ELECTION,
                label=label,
                bound=4,
            )
        assert p_info.value.code == "elgamal.decryption_proof"


def test_the_producer_key_shares_pass_the_verifiers_share_check() -> None:
    """(EG-7.3) Each producer share matches Y_i computed by the verifier from the commitments."""
    for share in PRODUCER_SHARES:
        y = v.check_share(KEY, share.index, share.secret_bytes())
        assert y == PRODUCER_KEY.share_public_key(share.index)
