"""The verifier's check of one ``remote-ballot/2`` (spec/remote-v2.md RV-3.1-RV-3.6), called
directly: the refusals of RV-3.1/RV-3.5 in their order, the three disapproval proofs of RV-3.4,
and the receipt of RV-3.6. Ballots are made by ``builder_remote_v2`` (the producer's prover)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.verifier import builder_remote_v2 as V
from verifier.remote_v2.remote_ballot import PostShape, check_ballot, receipt

EID = hashlib.sha256(b"test election").digest()
TOKEN = hashlib.sha256(b"token").digest()
OTHER = hashlib.sha256(b"other token").digest()


def _shapes(disapprovals: bool) -> tuple[PostShape, ...]:
    return tuple(
        PostShape(
            post=p,
            listed=len(V.LISTED[p]),
            choices=len(V.LISTED[p]) + len(V.WRITE_INS[p]),
            seats=V.SEATS[p],
            disapprovals=disapprovals,
        )
        for p in ("committee", "secretary")
    )


def _ballot(
    committee: list[str], secretary: list[str], *, d: int = 1, x: bool = False, token: bytes = TOKEN
) -> dict[str, Any]:
    plans = [
        V.PostPlan("committee", V.choices("committee", committee), d),
        V.PostPlan("secretary", V.choices("secretary", secretary), d),
    ]
    return V.ballot(EID, token, plans, disapprovals=x)


def _check(doc: object, *, x: bool = False, token: bytes = TOKEN) -> tuple[Any, Any]:
    key, _ = V.threshold_key()
    return check_ballot(
        doc, election_id=EID, public_key=key.public_key, token=token, shapes=_shapes(x)
    )


def _code(doc: object, **kw: Any) -> tuple[str, str, str]:
    _, failure = _check(doc, **kw)
    assert failure is not None
    return failure.clause, failure.code, failure.path


def test_a_valid_ballot_passes_with_its_ciphertexts() -> None:
    parsed, failure = _check(_ballot(["M01", "M05"], ["M03"]))
    assert failure is None
    assert [len(p) for p in parsed] == [9, 9]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda b: b.update(format="remote-ballot/1"), "remote.ballot_invalid"),
        (lambda b: b.update(election_id="00" * 32), "remote.ballot_invalid"),
        (lambda b: b.update(extra=1), "remote.ballot_invalid"),
        (lambda b: b["posts"].reverse(), "remote.ballot_invalid"),
        (lambda b: b["posts"].pop(), "remote.ballot_invalid"),
        (lambda b: b.update(token="AAAA"), "remote.ballot_invalid"),
    ],
)
def test_the_shape_of_the_ballot_is_refused_first_RV_3_1(edit: Any, code: str) -> None:
    doc = _ballot(["M01"], ["M01"])
    edit(doc)
    assert _code(doc)[1] == code


def test_another_token_is_a_token_mismatch_before_any_proof_RV_3_5() -> None:
    """Checked before the posts: a ballot made for another credential is refused as such, and its
    ciphertexts are still returned for the encrypted totals (EG-3.3)."""
    parsed, failure = _check(_ballot(["M01"], ["M01"], token=OTHER))
    assert failure is not None and failure.code == "remote.token_mismatch"
    assert all(p is not None for p in parsed)


def test_a_ballot_over_the_size_limit_is_refused_RV_3_5() -> None:
    doc = _ballot(["M01"], ["M01"])
    doc["posts"][0]["choices"][0] = "A" * 270_000
    assert _code(doc)[1] == "remote.ballot_too_large"


def test_an_unknown_disapprovals_member_without_the_rule_is_an_encoding_error() -> None:
    doc = _ballot(["M01"], ["M01"], x=True)
    assert _code(doc, x=False)[:2] == ("EG-6.3", "elgamal.encoding")


def test_the_disapprovals_member_is_required_under_the_rule_EG_6_3() -> None:
    doc = _ballot(["M01"], ["M01"])
    assert _code(doc, x=True)[:2] == ("EG-6.3", "elgamal.encoding")


def test_valid_disapprovals_pass_RV_3_4() -> None:
    """Two write-ins with two × marks: W = D."""
    _, failure = _check(_ballot(["M01", "M05", "M06"], ["M03"], d=2, x=True), x=True)
    assert failure is None, failure


@pytest.mark.parametrize(
    ("committee", "d", "proof"),
    [
        (["M01"], 5, "count_proof"),  # D = 5 > L = 4
        (["M01", "M02", "M03"], 2, "room_proof"),  # A + D = 5 > L: approved and disapproved
        (["M01", "M05", "M06"], 1, "write_in_proof"),  # W = 2 > D = 1
    ],
)
def test_each_disapproval_proof_refuses_its_case_RV_3_4(
    committee: list[str], d: int, proof: str
) -> None:
    doc = _ballot(committee, ["M01"], d=d, x=True)
    clause, code, path = _code(doc, x=True)
    assert (clause, code) == ("EG-5.3", "elgamal.choice_proof")
    assert path == f"posts[0].disapprovals.{proof}"


def test_each_disapproval_proof_is_bound_to_its_name_RV_3_4() -> None:
    """The prefix ends with the proof's name: the room proof given as the count proof fails,
    and a proof for L + 1 alternatives of another length is refused before (EG-5.2)."""
    doc = _ballot(["M01"], ["M01"], d=0, x=True)
    swapped = copy.deepcopy(doc)
    part = swapped["posts"][0]["disapprovals"]
    part["count_proof"], part["room_proof"] = part["room_proof"], part["count_proof"]
    assert _code(swapped, x=True) == (
        "EG-5.3",
        "elgamal.choice_proof",
        "posts[0].disapprovals.count_proof",
    )
    short = copy.deepcopy(doc)
    short["posts"][0]["disapprovals"]["count_proof"] = doc["posts"][1]["disapprovals"][
        "count_proof"
    ]
    assert _code(short, x=True)[1] == "elgamal.proof_length"


def test_the_receipt_is_the_hash_of_the_ballots_JCS_RV_3_6() -> None:
    doc = _ballot(["M01"], ["M01"])
    want = hashlib.sha256(
        b"branch-election/remote-receipt/2\x00" + bytes(rfc8785.dumps(doc))
    ).hexdigest()
    assert receipt(doc) == want
    assert receipt(doc) == V.receipt(doc)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_VALID = _ballot(["M01", "M05"], ["M03"], x=True)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


_PATHS = _leaves(_VALID)


@settings(max_examples=60, deadline=None)
@given(where=st.sampled_from(_PATHS), value=_JSON)
def test_any_value_anywhere_in_a_ballot_is_a_finding_never_a_crash(where: Any, value: Any) -> None:
    """Hostile input: one member of a valid ballot replaced by any JSON value. The check returns
    a failure with a code (or passes when the value happens to be the same), never raises."""
    doc = copy.deepcopy(_VALID)
    target: Any = doc
    for step in where[:-1]:
        target = target[step]
    same = target[where[-1]] == value
    target[where[-1]] = value
    _, failure = _check(doc, x=True)
    if not same:
        assert failure is not None and failure.code.startswith(("remote.", "elgamal."))
