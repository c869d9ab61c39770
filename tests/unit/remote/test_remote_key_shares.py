"""k-of-n sharing of the remote-ballot private key, spec/remote.md §7 (RM-7.1 .. RM-7.5)."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from keys import remote

from .conftest import ELECTION_ID, OTHER_ELECTION_ID


def _rebuild(
    setup: remote.RemoteKeySetup, shares: list[remote.UnwrappedShare]
) -> remote.Reconstruction:
    return remote.reconstruct_private_key(
        shares, election_id=setup.election_id, ballot_key=setup.ballot_key, k=setup.k
    )


def _flip(share: remote.UnwrappedShare, byte: int = 0) -> remote.UnwrappedShare:
    value = bytearray(share.value)
    value[byte] ^= 0x01
    return dataclasses.replace(share, value=bytes(value))


@pytest.mark.parametrize("subset", list(itertools.combinations(range(5), 3)), ids=str)
def test_rm_7_5_any_k_shares_rebuild_the_committed_key(
    setup_3_of_5: remote.RemoteKeySetup,
    unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...],
    subset: tuple[int, ...],
) -> None:
    result = _rebuild(setup_3_of_5, [unwrapped_3_of_5[i] for i in subset])
    assert result.private_key.public_key == setup_3_of_5.ballot_key
    assert result.used == tuple(i + 1 for i in subset)
    assert result.rejected == ()
    sealed = remote.seal_ballot(setup_3_of_5.ballot_key, b"remote-ballot")
    assert result.private_key.open_ballot(sealed) == b"remote-ballot"


@pytest.mark.parametrize("subset", list(itertools.combinations(range(5), 2)), ids=str)
def test_rm_7_5_k_minus_1_shares_are_refused(
    setup_3_of_5: remote.RemoteKeySetup,
    unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...],
    subset: tuple[int, ...],
) -> None:
    with pytest.raises(remote.NotEnoughSharesError) as e:
        _rebuild(setup_3_of_5, [unwrapped_3_of_5[i] for i in subset])
    assert e.value.code == "remote.not_enough_shares"
    assert "3" in e.value.en and "3" in e.value.zh


def test_rm_7_5_the_same_share_twice_counts_once(
    setup_3_of_5: remote.RemoteKeySetup, unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...]
) -> None:
    a, b = unwrapped_3_of_5[:2]
    with pytest.raises(remote.NotEnoughSharesError):
        _rebuild(setup_3_of_5, [a, b, a])


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 7), data=st.data())
def test_rm_7_2_any_k_of_n_split_round_trips(n: int, data: st.DataObject) -> None:
    k = 1 if n == 1 else data.draw(st.integers(2, n))
    signers = [
        keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, f"s{i}", bytes([i + 1]) * 32)
        for i in range(n)
    ]
    setup = remote.create_remote_key(ELECTION_ID, [s.public_key for s in signers], k)
    chosen = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    shares = [remote.unwrap_share(setup.shares[i], signers[i]) for i in chosen]
    assert _rebuild(setup, shares).private_key.public_key == setup.ballot_key
    if k > 1:
        with pytest.raises(remote.NotEnoughSharesError):
            _rebuild(setup, shares[:-1])


@pytest.mark.parametrize("byte", [0, 15, 16, 31])
def test_rm_7_5_a_tampered_share_is_detected_with_exactly_k(
    setup_3_of_5: remote.RemoteKeySetup,
    unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...],
    byte: int,
) -> None:
    shares = [_flip(unwrapped_3_of_5[0], byte), *unwrapped_3_of_5[1:3]]
    with pytest.raises(remote.ShareMismatchError) as e:
        _rebuild(setup_3_of_5, shares)
    assert e.value.code == "remote.share_mismatch"


def test_rm_7_5_a_tampered_share_is_named_when_more_than_k_are_present(
    setup_3_of_5: remote.RemoteKeySetup, unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...]
) -> None:
    shares = [_flip(unwrapped_3_of_5[1]), *unwrapped_3_of_5[2:]]  # 2 bad, 3 4 5 good
    result = _rebuild(setup_3_of_5, [unwrapped_3_of_5[0], *shares])
    assert result.private_key.public_key == setup_3_of_5.ballot_key
    assert result.used == (1, 3, 4)
    assert result.rejected == (2,)


def test_rm_7_5_shares_of_another_election_or_key_are_refused(
    setup_3_of_5: remote.RemoteKeySetup, unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...]
) -> None:
    foreign = dataclasses.replace(unwrapped_3_of_5[0], election_id=OTHER_ELECTION_ID)
    with pytest.raises(remote.ShareMismatchError):
        _rebuild(setup_3_of_5, [foreign, *unwrapped_3_of_5[1:3]])
    with pytest.raises(remote.ShareMismatchError):
        remote.reconstruct_private_key(
            unwrapped_3_of_5, election_id=ELECTION_ID, ballot_key=bytes(32), k=3
        )
    with pytest.raises(remote.ShareMismatchError):  # committed k, not the shares' k, decides
        remote.reconstruct_private_key(
            unwrapped_3_of_5[:2],
            election_id=ELECTION_ID,
            ballot_key=setup_3_of_5.ballot_key,
            k=2,
        )


def test_rm_7_5_two_values_for_one_index_are_refused(
    setup_3_of_5: remote.RemoteKeySetup, unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...]
) -> None:
    with pytest.raises(remote.ShareMismatchError):
        _rebuild(setup_3_of_5, [*unwrapped_3_of_5[:3], _flip(unwrapped_3_of_5[0])])


def test_rm_7_3_container_round_trips_as_canonical_json(
    setup_3_of_5: remote.RemoteKeySetup,
) -> None:
    for container in setup_3_of_5.shares:
        data = container.to_bytes()
        assert remote.parse_share_container(data) == container
        doc = json.loads(data)
        assert doc["format"] == "remote-share/1"
        assert len(remote.parse_share_container(data).sealed) == 112


def test_rm_7_3_non_canonical_or_unknown_members_are_refused(
    setup_3_of_5: remote.RemoteKeySetup,
) -> None:
    doc = json.loads(setup_3_of_5.shares[0].to_bytes())
    variants = [
        json.dumps(doc, indent=2).encode(),
        json.dumps({**doc, "extra": 1}, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps(
            {**doc, "format": "remote-share/2"}, sort_keys=True, separators=(",", ":")
        ).encode(),
        json.dumps({**doc, "index": 6}, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps({**doc, "k": 1}, sort_keys=True, separators=(",", ":")).encode(),
        b"{",
    ]
    for data in variants:
        with pytest.raises(remote.ShareContainerError):
            remote.parse_share_container(data)


def test_rm_7_3_commitment_changes_with_any_member(setup_3_of_5: remote.RemoteKeySetup) -> None:
    container = setup_3_of_5.shares[0]
    changed = dataclasses.replace(container, index=2)
    assert changed.commitment() != container.commitment()
    assert len(container.commitment()) == 32


def test_rm_8_1_opened_body_lists_each_share_commitment(
    setup_3_of_5: remote.RemoteKeySetup, issuer: remote.TokenIssuer
) -> None:
    body = setup_3_of_5.opened_body(issuer)
    assert set(body) == {"issuer_key", "ballot_key", "k", "n", "shares"}
    assert (body["k"], body["n"]) == (3, 5)
    assert [s["index"] for s in body["shares"]] == [1, 2, 3, 4, 5]
    assert [s["commitment"] for s in body["shares"]] == [
        c.commitment().hex() for c in setup_3_of_5.shares
    ]
    remote.load_issuer_public_key(base64.b64decode(body["issuer_key"]))


def test_rm_7_4_altered_sealed_share_is_refused(
    setup_3_of_5: remote.RemoteKeySetup, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    container = setup_3_of_5.shares[0]
    sealed = bytearray(container.sealed)
    sealed[-1] ^= 1
    with pytest.raises(remote.ShareContainerError):
        remote.unwrap_share(dataclasses.replace(container, sealed=bytes(sealed)), scrutineers[0])


@pytest.mark.parametrize(
    "change",
    [
        {"index": 2},
        {"k": 2},
        {"election_id": OTHER_ELECTION_ID},
        {"ballot_key": bytes(range(32))},
    ],
    ids=["index", "k", "election", "ballot_key"],
)
def test_rm_7_4_changed_header_breaks_the_binding(
    setup_3_of_5: remote.RemoteKeySetup,
    scrutineers: tuple[keys.InMemorySigner, ...],
    change: dict[str, object],
) -> None:
    container = dataclasses.replace(setup_3_of_5.shares[0], **change)  # type: ignore[arg-type]
    with pytest.raises(remote.ShareContainerError):
        remote.unwrap_share(container, scrutineers[0])


def test_rm_7_4_share_opens_only_for_its_scrutineer(
    setup_3_of_5: remote.RemoteKeySetup, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    with pytest.raises(remote.ShareNotForThisKeyError) as e:
        remote.unwrap_share(setup_3_of_5.shares[0], scrutineers[1])
    assert e.value.code == "remote.share_wrong_key"
    work_group = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", bytes([1]) * 32)
    with pytest.raises(keys.WrongRoleError):
        remote.unwrap_share(setup_3_of_5.shares[0], work_group)


def test_rm_7_2_threshold_and_recipients_are_checked(
    scrutineers: tuple[keys.InMemorySigner, ...],
) -> None:
    keys_ = [s.public_key for s in scrutineers]
    for k in (0, 1, 6):
        with pytest.raises(ValueError, match="threshold"):
            remote.create_remote_key(ELECTION_ID, keys_, k)
    with pytest.raises(ValueError, match="twice"):
        remote.create_remote_key(ELECTION_ID, [keys_[0], keys_[0]], 2)
    town = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "镇党委", bytes(32))
    with pytest.raises(keys.WrongRoleError):
        remote.create_remote_key(ELECTION_ID, [keys_[0], town.public_key], 2)
    single = remote.create_remote_key(ELECTION_ID, keys_[:1], 1)
    share = remote.unwrap_share(single.shares[0], scrutineers[0])
    assert _rebuild(single, [share]).private_key.public_key == single.ballot_key


def test_rm_7_2_no_share_container_contains_the_private_key(
    setup_3_of_5: remote.RemoteKeySetup, unwrapped_3_of_5: tuple[remote.UnwrappedShare, ...]
) -> None:
    secret = _rebuild(setup_3_of_5, list(unwrapped_3_of_5[:3])).private_key.reveal()
    for container, share in zip(setup_3_of_5.shares, unwrapped_3_of_5, strict=True):
        assert secret[:16] not in container.to_bytes()
        assert secret[:16] not in share.value and secret[16:] not in share.value
        assert share.value.hex() not in repr(share)
