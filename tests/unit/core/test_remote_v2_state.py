"""Remote ballots version 2 on the meeting state machine (spec/remote-v2.md §2, §4, §5).

Version 1 is withdrawn: its entry types are unknown entry types and its bodies malformed. The core
checks the structure of every remote entry: the write-in lists against the manifest (RV-2.1),
the batch of casts at the close (RV-4.3, V18.20), partial decryptions once per index after the
close (RV-5.3), the totals once after k of them. Hostile cases first."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tally.core.errors import RoundStateError
from tally.core.meeting import Meeting, parse_entry
from tally.core.model import MemberId, PostKind
from tally.core.remote import (
    RECEIPT_DOMAIN,
    RemoteTotals,
    post_shapes,
    receipt_of,
    write_in_lists,
)
from tests.helpers.remote_v2 import (
    AT,
    CLOSE_AT,
    b64,
    ballot,
    cast_body,
    do,
    election,
    meeting,
    opened_and_closed,
    opened_v2,
    partial,
    sorted_casts,
    token,
    totals_body,
)


def _refused(fn: Any, *args: Any, **kw: Any) -> RoundStateError:
    with pytest.raises(RoundStateError) as err:
        fn(*args, **kw)
    assert err.value.zh and err.value.en  # every refusal says why in both languages
    return err.value


def _opened(k: int = 2, n: int = 3) -> tuple[Any, Meeting]:
    e = election()
    return e, do(meeting(e), "remote.opened", opened_v2(e, k=k, n=n))


# -- the write-in lists (RV-2.1) and the shapes (RV-3.2) -----------------------------------------


def test_write_in_list_leaves_out_listed_excluded_and_non_eligible_members_RV_2_1() -> None:
    e = election(full=12, probationary=2, exclusions=1)
    lists = dict(write_in_lists(e))
    committee = e.post(PostKind.COMMITTEE)
    assert committee is not None
    listed = set(committee.candidates)
    excluded = {x.member for x in e.exclusions}
    assert excluded and excluded.isdisjoint(lists[PostKind.COMMITTEE])
    assert listed.isdisjoint(lists[PostKind.COMMITTEE])
    assert "M013" not in lists[PostKind.COMMITTEE]  # probationary: not eligible for election
    # Officials stay on the list: whether a write-in of them gives a vote is the count's (RV-2.4).
    assert "M012" in lists[PostKind.COMMITTEE] and "M011" in lists[PostKind.COMMITTEE]
    everyone = {f"M{i:03d}" for i in range(1, 13)} - excluded
    assert set(lists[PostKind.COMMITTEE]) == everyone - listed
    assert set(lists[PostKind.SECRETARY]) == everyone - {"M001", "M002"}


def test_write_in_list_is_in_bytewise_member_id_order_RV_2_1() -> None:
    e = election()
    for _kind, members in write_in_lists(e):
        assert list(members) == sorted(members, key=lambda x: x.encode())


def test_write_in_lists_cover_only_the_posts_the_assembly_votes_on_RV_2_1() -> None:
    e = election(secretary_body="committee", secretary_candidates=(1,), secretary_margin="none")
    assert [k for k, _ in write_in_lists(e)] == [PostKind.COMMITTEE]


def test_post_shapes_give_listed_choices_seats_and_the_disapproval_option_RV_3_2() -> None:
    e = election(parameters="write_in_requires_disapproval = true")
    lists = dict(write_in_lists(e))
    assert post_shapes(e) == (
        (PostKind.COMMITTEE, 4, 4 + len(lists[PostKind.COMMITTEE]), 3, True),
        (PostKind.SECRETARY, 2, 2 + len(lists[PostKind.SECRETARY]), 1, True),
    )
    assert all(not d for *_, d in post_shapes(election()))


def test_receipt_is_the_domain_separated_hash_of_the_ballots_jcs_RV_3_6() -> None:
    e = election()
    doc = ballot(e, token(1))
    jcs = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert receipt_of(doc) == hashlib.sha256(RECEIPT_DOMAIN + b"\x00" + jcs).hexdigest()
    assert RECEIPT_DOMAIN == b"branch-election/remote-receipt/2"
    assert receipt_of(ballot(e, token(1), salt=1)) != receipt_of(doc)
    assert receipt_of(ballot(e, token(2))) != receipt_of(doc)


# -- log bodies: parse_entry ---------------------------------------------------------------------


def _raw(type_: str, body: dict[str, Any]) -> bytes:
    doc = {
        "format": "log-entry/1",
        "seq": 1,
        "prev": "00" * 32,
        "salt": "00" * 32,
        "type": type_,
        "at": "2026-12-15T08:00:00+00:00",
        "actor": "",
        "body": body,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_parse_refuses_a_remote_opened_mixing_the_two_versions() -> None:
    e = election()
    body = opened_v2(e) | {"ballot_key": b64(bytes(32))}
    assert _refused(parse_entry, _raw("remote.opened", body)).code == "log.malformed"
    cast = cast_body(e, token(1)) | {"sealed": b64(b"x")}
    assert _refused(parse_entry, _raw("remote.cast", cast)).code == "log.malformed"
    bad = {"index": 1, "posts": [], "extra": 1}
    assert _refused(parse_entry, _raw("remote.partial_decryption", bad)).code == "log.malformed"


def test_parse_accepts_the_version_2_bodies() -> None:
    e = election()
    for type_, body in (
        ("remote.opened", opened_v2(e)),
        ("remote.cast", cast_body(e, token(1))),
        ("remote.partial_decryption", partial(e, 1)),
        ("remote.totals", totals_body(e, 0)),
    ):
        assert parse_entry(_raw(type_, body)).body == body


# -- remote.opened (version 2) -------------------------------------------------------------------


def test_opened_v2_refuses_write_in_lists_other_than_the_computed_ones_RV_2_1() -> None:
    e = election()
    body = opened_v2(e)
    body["write_in_lists"][0]["members"] = list(reversed(body["write_in_lists"][0]["members"]))
    err = _refused(do, meeting(e), "remote.opened", body)
    assert err.code == "remote.write_in_lists" and err.clause == "RV-2.1"
    body = opened_v2(e)
    body["write_in_lists"] = body["write_in_lists"][:1]
    assert _refused(do, meeting(e), "remote.opened", body).code == "remote.write_in_lists"


@pytest.mark.parametrize(
    "key",
    [
        {"k": 3, "n": 2, "commitments": [b64(bytes([1]) * 32)] * 3},  # k > n
        {"k": 1, "n": 2, "commitments": [b64(bytes([1]) * 32)]},  # k = 1 only when n = 1
        {"k": 2, "n": 3, "commitments": [b64(bytes([1]) * 32)]},  # not k commitments
        {"k": 2, "n": 3, "commitments": [b64(bytes([1]) * 31)] * 2},  # not 32 bytes
        {"k": 2, "n": 33, "commitments": [b64(bytes([1]) * 32)] * 2},  # n > 32 (EG-7.1)
        {"k": True, "n": 1, "commitments": [b64(bytes([1]) * 32)]},  # a boolean is no count
        {"k": 2, "n": 3, "commitments": [b64(bytes([1]) * 32)] * 2, "x": 1},  # extra member
    ],
)
def test_opened_v2_refuses_a_malformed_election_key_EG_7_4(key: dict[str, Any]) -> None:
    e = election()
    body = opened_v2(e) | {"election_key": key}
    assert _refused(do, meeting(e), "remote.opened", body).code == "remote.opened_bad"


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s[:2],  # not one per scrutineer
        lambda s: [s[1], s[0], s[2]],  # not in index order
        lambda s: [s[0] | {"index": True}, *s[1:]],
        lambda s: [s[0] | {"commitment": "AB" * 32}, *s[1:]],  # not lowercase hex
        lambda s: [s[0] | {"scrutineer": b64(bytes(31))}, *s[1:]],
        lambda s: [{k: v for k, v in s[0].items() if k != "commitment"}, *s[1:]],
    ],
)
def test_opened_v2_refuses_shares_not_one_per_scrutineer_in_index_order_RM_8_1(
    change: Any,
) -> None:
    e = election()
    body = opened_v2(e, k=2, n=3)
    body["shares"] = change(body["shares"])
    assert _refused(do, meeting(e), "remote.opened", body).code == "remote.opened_bad"


def test_opened_v2_refuses_a_post_with_more_than_256_choices_RV_2_2() -> None:
    e = election(full=260)
    err = _refused(do, meeting(e), "remote.opened", opened_v2(e))
    assert err.code == "remote.too_many_choices" and err.clause == "RV-2.2"


def test_opened_v2_accepts_256_choices_RV_2_2() -> None:
    e = election(full=256)  # committee: 4 listed + 252 others; 256 choices
    assert max(c for _k, _l, c, _s, _d in post_shapes(e)) == 256
    r = do(meeting(e), "remote.opened", opened_v2(e)).remote
    assert r is not None and (r.k, r.n) == (2, 3)


def test_opened_sets_the_threshold() -> None:
    _e, m = _opened(k=2, n=3)
    assert m.remote is not None
    assert (m.remote.k, m.remote.n) == (2, 3)


# -- version 1 is withdrawn ----------------------------------------------------------------------


def test_a_version_1_remote_opened_is_refused_as_malformed() -> None:
    e = election()
    body = {
        "issuer_key": b64(b"issuer"),
        "ballot_key": b64(bytes(32)),
        "k": 2,
        "n": 3,
        "shares": [{}, {}, {}],
    }
    assert _refused(do, meeting(e), "remote.opened", body).code == "log.malformed"


@pytest.mark.parametrize(
    ("type_", "body"),
    [
        ("remote.key_revealed", {"private_key": b64(bytes(32))}),
        ("remote.decrypted", {"cast": 3, "ballot": {}}),
        ("remote.rejected", {"cast": 3, "reason": "remote.ballot_invalid"}),
    ],
)
def test_version_1_entry_types_are_unknown_entry_types(type_: str, body: dict[str, Any]) -> None:
    m = opened_and_closed(election())
    assert _refused(do, m, type_, body, CLOSE_AT).code == "log.unknown_type"
    assert _refused(parse_entry, _raw(type_, body)).code == "log.malformed"  # as any unknown type
    assert _refused(do, m, "remote.no_such_type", body, CLOSE_AT).code == "log.unknown_type"


def test_a_sealed_cast_is_refused_as_malformed() -> None:
    e, m = _opened()
    m = do(m, "remote.credential_issued", {"member": "M004"})
    body = {k: v for k, v in cast_body(e, token(1)).items() if k != "ballot"}
    assert _refused(do, m, "remote.cast", body | {"sealed": b64(b"box")}).code == "log.malformed"


# -- remote.cast (version 2): structure and token ------------------------------------------------


def _with_credentials(n: int = 3) -> tuple[Any, Meeting]:
    e, m = _opened()
    for member in ("M004", "M005", "M006", "M007")[:n]:
        m = do(m, "remote.credential_issued", {"member": member})
    return e, m


def test_cast_whose_ballot_names_another_token_is_refused_RV_3_5() -> None:
    e, m = _with_credentials()
    body = cast_body(e, token(1)) | {"ballot": ballot(e, token(2))}
    assert _refused(do, m, "remote.cast", body, CLOSE_AT).code == "remote.token_mismatch"


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b | {"format": "remote-ballot/1"},
        lambda b: b | {"election_id": "00" * 32},
        lambda b: {k: v for k, v in b.items() if k != "posts"},
        lambda b: b | {"extra": 1},
        lambda b: b | {"posts": list(reversed(b["posts"]))},
        lambda b: b | {"posts": b["posts"][:1]},
        lambda b: b | {"token": "not base64!"},
        lambda b: [b],
    ],
)
def test_cast_with_a_malformed_ballot_is_refused_RV_3_1(change: Any) -> None:
    e, m = _with_credentials()
    body = cast_body(e, token(1)) | {"ballot": change(ballot(e, token(1)))}
    assert _refused(do, m, "remote.cast", body, CLOSE_AT).code == "remote.ballot_invalid"


def test_cast_with_a_used_token_is_refused() -> None:
    e, m = _with_credentials()
    first, second = sorted(
        (cast_body(e, token(1)), cast_body(e, token(1)) | {"ballot": ballot(e, token(1), 1)}),
        key=lambda c: receipt_of(c["ballot"]),
    )
    m = do(m, "remote.cast", first, CLOSE_AT)
    assert _refused(do, m, "remote.cast", second, CLOSE_AT).code == "remote.token_used"


# -- the batch at the close (RV-4.3, V18.20) -----------------------------------------------------


def test_casts_out_of_receipt_order_are_refused_RV_4_3() -> None:
    e, m = _with_credentials()
    a, b = sorted_casts(e, [token(1), token(2)])
    m = do(m, "remote.cast", b, CLOSE_AT)
    err = _refused(do, m, "remote.cast", a, CLOSE_AT)
    assert err.code == "remote.casts_not_batched" and err.clause == "RV-4.3"


def test_casts_at_different_times_are_refused_RV_4_3() -> None:
    e, m = _with_credentials()
    a, b = sorted_casts(e, [token(1), token(2)])
    m = do(m, "remote.cast", a, AT)
    assert _refused(do, m, "remote.cast", b, CLOSE_AT).code == "remote.casts_not_batched"


def test_an_entry_between_two_casts_is_refused_RV_4_3() -> None:
    e, m = _with_credentials(2)
    a, b = sorted_casts(e, [token(1), token(2)])
    m = do(m, "remote.cast", a, CLOSE_AT)
    m = do(m, "remote.credential_issued", {"member": "M006"}, CLOSE_AT)
    assert _refused(do, m, "remote.cast", b, CLOSE_AT).code == "remote.casts_not_batched"


def test_close_not_right_after_the_casts_is_refused_RV_4_3() -> None:
    e, m = _with_credentials(2)
    (a,) = sorted_casts(e, [token(1)])
    m = do(m, "remote.cast", a, CLOSE_AT)
    m = do(m, "remote.credential_issued", {"member": "M006"}, CLOSE_AT)
    err = _refused(do, m, "remote.closed", {"credentials": 3, "casts": 1}, CLOSE_AT)
    assert err.code == "remote.casts_not_batched"


def test_close_at_another_time_than_the_casts_is_refused_RV_4_3() -> None:
    e, m = _with_credentials(2)
    for c in sorted_casts(e, [token(1), token(2)]):
        m = do(m, "remote.cast", c, AT)
    err = _refused(do, m, "remote.closed", {"credentials": 2, "casts": 2}, CLOSE_AT)
    assert err.code == "remote.casts_not_batched"


def test_a_batch_in_ascending_receipt_order_at_the_close_time_is_accepted_RV_4_3() -> None:
    e = election()
    m = opened_and_closed(e, ("M004", "M005", "M006"))
    r = m.remote
    assert r is not None and r.closed and len(r.casts) == 3
    assert list(r.receipts) == sorted(receipt_of(ballot(e, token(i))) for i in (1, 2, 3))


def test_a_close_without_casts_is_accepted() -> None:
    m = opened_and_closed(election(), ())
    assert m.remote is not None and m.remote.closed and not m.remote.casts


# -- partial decryptions (RV-5.3, V18.22) --------------------------------------------------------


def test_partial_decryption_before_the_close_is_refused_RV_5_3() -> None:
    e, m = _opened()
    err = _refused(do, m, "remote.partial_decryption", partial(e, 1))
    assert err.code == "remote.partial_early"


@pytest.mark.parametrize("index", [0, 4, -1, True, "1", None])
def test_partial_decryption_index_outside_1_to_n_is_refused(index: object) -> None:
    e = election()
    m = opened_and_closed(e)  # n = 3
    body = partial(e, 1) | {"index": index}
    assert _refused(do, m, "remote.partial_decryption", body).code == "remote.partial_bad"


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p | {"posts": p["posts"][:1]},  # a post missing
        lambda p: p | {"posts": list(reversed(p["posts"]))},  # wrong order
        lambda p: (
            p
            | {"posts": [p["posts"][0] | {"shares": p["posts"][0]["shares"][1:]}, *p["posts"][1:]]}
        ),  # one share short
        lambda p: (
            p
            | {
                "posts": [
                    p["posts"][0] | {"proofs": [b64(bytes(63))] * len(p["posts"][0]["proofs"])},
                    *p["posts"][1:],
                ]
            }
        ),  # proof not 64 bytes
        lambda p: (
            p
            | {
                "posts": [
                    p["posts"][0] | {"shares": ["****"] * len(p["posts"][0]["shares"])},
                    *p["posts"][1:],
                ]
            }
        ),  # not base64
    ],
)
def test_partial_decryption_with_a_malformed_post_is_refused_V18_22(change: Any) -> None:
    e = election()
    m = opened_and_closed(e)
    body = change(partial(e, 2))
    assert _refused(do, m, "remote.partial_decryption", body).code == "remote.partial_bad"


def test_second_partial_decryption_of_an_index_is_refused_RV_5_3() -> None:
    e = election()
    m = do(opened_and_closed(e), "remote.partial_decryption", partial(e, 2))
    err = _refused(do, m, "remote.partial_decryption", partial(e, 2))
    assert err.code == "remote.partial_twice" and err.clause == "RV-5.3"
    m = do(m, "remote.partial_decryption", partial(e, 1))
    assert m.remote is not None and set(m.remote.partials) == {1, 2}


# -- totals (RV-5.3, V18.23) ---------------------------------------------------------------------


def test_totals_before_k_partial_decryptions_are_refused_RV_5_3() -> None:
    e = election()
    m = do(opened_and_closed(e, k=2), "remote.partial_decryption", partial(e, 3))
    err = _refused(do, m, "remote.totals", totals_body(e, 2))
    assert err.code == "remote.totals_early"
    assert _refused(do, opened_and_closed(e), "remote.totals", totals_body(e, 2)).code == (
        "remote.totals_early"
    )


def _decrypted(voters: tuple[str, ...] = ("M004", "M005")) -> tuple[Any, Meeting]:
    e = election()
    m = opened_and_closed(e, voters)
    m = do(m, "remote.partial_decryption", partial(e, 1))
    return e, do(m, "remote.partial_decryption", partial(e, 3))


def _choices(e: Any, post: str) -> int:
    return next(c for k, _l, c, _s, _d in post_shapes(e) if k.value == post)


@pytest.mark.parametrize(
    "change",
    [
        lambda e, t: t | {"posts": t["posts"][:1]},
        lambda e, t: t | {"posts": list(reversed(t["posts"]))},
        lambda e, t: totals_body(e, 3),  # ballots is not the number of casts
        lambda e, t: totals_body(e, 2, {"committee": [3] + [0] * (_choices(e, "committee") - 1)}),
        lambda e, t: totals_body(e, 2, {"committee": [-1] + [0] * (_choices(e, "committee") - 1)}),
        lambda e, t: totals_body(
            e, 2, {"committee": [True] + [0] * (_choices(e, "committee") - 1)}
        ),
        lambda e, t: totals_body(e, 2, {"committee": [0] * (_choices(e, "committee") - 1)}),
        lambda e, t: totals_body(e, 2, {"committee": [0] * (_choices(e, "committee") + 1)}),
        lambda e, t: t | {"posts": [t["posts"][0] | {"x": 1}, *t["posts"][1:]]},
    ],
)
def test_malformed_totals_are_refused_V18_23(change: Any) -> None:
    e, m = _decrypted()
    body = change(e, totals_body(e, 2))
    assert _refused(do, m, "remote.totals", body).code == "remote.totals_bad"


def test_totals_are_kept_per_post_with_the_member_of_each_choice_RV_7_1() -> None:
    e, m = _decrypted()
    n = _choices(e, "committee")
    committee = [2, 1, 0, 0] + [0] * (n - 5) + [1]
    m = do(m, "remote.totals", totals_body(e, 2, {"committee": committee}))
    r = m.remote
    assert r is not None
    got = r.totals_of(PostKind.COMMITTEE)
    members = dict(write_in_lists(e))[PostKind.COMMITTEE]
    assert got == RemoteTotals(
        2,
        (
            (MemberId("M001"), 2),
            (MemberId("M002"), 1),
            (MemberId("M003"), 0),
            (MemberId("M004"), 0),
            *((x, 0) for x in members[:-1]),
            (members[-1], 1),
        ),
    )
    assert _refused(do, m, "remote.totals", totals_body(e, 2)).code == "remote.totals_twice"
