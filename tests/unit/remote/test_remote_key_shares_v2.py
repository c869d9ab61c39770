"""The election's ElGamal key, shared k of n in `remote-share/2` containers (spec/remote-v2.md
RV-5.2, spec/remote-v2-crypto.md EG-7.2, EG-7.3).

Hostile containers first: another scrutineer's key, a tampered header, tampered sealed bytes, a
share that fails EG-7.3, a container of another election; then the round trip through a
threshold decryption.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import pickle
from typing import Any

import pytest
import rfc8785

import keys
from keys import elgamal as eg
from keys import remote_key, remote_tokens

from .conftest import ELECTION_ID, OTHER_ELECTION_ID


@pytest.fixture(scope="module")
def setup_v2(scrutineers: tuple[keys.InMemorySigner, ...]) -> remote_key.RemoteKeySetupV2:
    return remote_key.create_remote_key_v2(ELECTION_ID, [s.public_key for s in scrutineers], 3)


def _doc(container: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(container)
    return doc


def _jcs(doc: dict[str, Any]) -> bytes:
    return rfc8785.dumps(doc)


def _unwrap(
    setup: remote_key.RemoteKeySetupV2, data: bytes, signer: keys.InMemorySigner
) -> eg.KeyShare:
    return remote_key.unwrap_share_v2(remote_key.parse_share_container_v2(data), signer, setup.key)


# --------------------------------------------------------------------------- hostile


def test_a_container_opened_with_another_scrutineer_s_key_is_refused(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    with pytest.raises(remote_key.ShareNotForThisKeyError) as e:
        _unwrap(setup_v2, setup_v2.containers[0], scrutineers[1])
    assert e.value.code == "remote.share_wrong_key"


def test_only_a_scrutineer_key_opens_a_container(setup_v2: remote_key.RemoteKeySetupV2) -> None:
    clerk = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", b"\x09" * 32)
    with pytest.raises(keys.WrongRoleError):
        _unwrap(setup_v2, setup_v2.containers[0], clerk)


@pytest.mark.parametrize(
    ("member", "value"),
    [("scrutineer_label", "别人"), ("index", 2), ("election_id", OTHER_ELECTION_ID.hex())],
)
def test_a_tampered_header_no_longer_matches_the_sealed_binding(
    setup_v2: remote_key.RemoteKeySetupV2,
    scrutineers: tuple[keys.InMemorySigner, ...],
    member: str,
    value: object,
) -> None:
    tampered = _jcs({**_doc(setup_v2.containers[0]), member: value})
    with pytest.raises(remote_key.ShareContainerError) as e:
        _unwrap(setup_v2, tampered, scrutineers[0])
    assert e.value.code == "remote.share_corrupt"


def test_a_header_naming_another_election_key_is_refused_by_the_binding_first(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    doc = _doc(setup_v2.containers[0])
    doc["commitments"] = doc["commitments"][::-1]
    with pytest.raises(remote_key.ShareContainerError):
        _unwrap(setup_v2, _jcs(doc), scrutineers[0])


@pytest.mark.parametrize("offset", [0, 40, 111])
def test_tampered_sealed_bytes_do_not_open(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...], offset: int
) -> None:
    doc = _doc(setup_v2.containers[0])
    sealed = bytearray(base64.b64decode(doc["sealed"]))
    sealed[offset] ^= 0x01
    doc["sealed"] = base64.b64encode(bytes(sealed)).decode()
    with pytest.raises(remote_key.ShareContainerError) as e:
        _unwrap(setup_v2, _jcs(doc), scrutineers[0])
    assert e.value.code == "remote.share_corrupt"


def _dealer_who_lies(
    scrutineers: tuple[keys.InMemorySigner, ...], liar: int
) -> remote_key.RemoteKeySetupV2:
    """A setup whose sealing hands scrutineer `liar` (1-based) another scalar than f(liar)."""
    count = itertools.count(1)

    def seal(plaintext: bytes, recipient: bytes) -> bytes:
        if next(count) == liar:
            plaintext = plaintext[:32] + (1).to_bytes(32, "little")
        return remote_key._seal(plaintext, recipient)

    return remote_key._create_remote_key_v2(
        ELECTION_ID,
        [s.public_key for s in scrutineers],
        3,
        rng=eg.SystemScalars(),
        seal=seal,
    )


def test_a_share_that_does_not_match_the_commitments_fails_eg_7_3(
    scrutineers: tuple[keys.InMemorySigner, ...],
) -> None:
    setup = _dealer_who_lies(scrutineers, liar=2)
    with pytest.raises(eg.ShareMismatchError) as e:
        _unwrap(setup, setup.containers[1], scrutineers[1])
    assert e.value.code == "elgamal.share_mismatch"
    assert _unwrap(setup, setup.containers[0], scrutineers[0]).index == 1  # the others are fine


def test_a_non_canonical_sealed_scalar_is_a_share_mismatch(
    scrutineers: tuple[keys.InMemorySigner, ...],
) -> None:
    count = itertools.count(1)

    def seal(plaintext: bytes, recipient: bytes) -> bytes:
        if next(count) == 1:
            plaintext = plaintext[:32] + b"\xff" * 32
        return remote_key._seal(plaintext, recipient)

    setup = remote_key._create_remote_key_v2(
        ELECTION_ID, [s.public_key for s in scrutineers], 3, rng=eg.SystemScalars(), seal=seal
    )
    with pytest.raises(eg.ShareMismatchError):
        _unwrap(setup, setup.containers[0], scrutineers[0])


def test_a_container_of_another_election_is_refused_against_this_election_s_key(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    other = remote_key.create_remote_key_v2(
        OTHER_ELECTION_ID, [s.public_key for s in scrutineers], 3
    )
    with pytest.raises(eg.ShareMismatchError) as e:
        _unwrap(setup_v2, other.containers[0], scrutineers[0])
    assert e.value.code == "elgamal.share_mismatch"


def _container_cases(setup: remote_key.RemoteKeySetupV2) -> list[bytes]:
    doc = _doc(setup.containers[0])
    identity = base64.b64encode(eg.IDENTITY).decode()
    return [
        json.dumps(doc).encode(),  # not JCS (spaces)
        _jcs({**doc, "format": "remote-share/1"}),
        _jcs({**doc, "ballot_key": doc["commitments"][0]}),
        _jcs({k: v for k, v in doc.items() if k != "commitments"}),
        _jcs({**doc, "commitments": [identity, *doc["commitments"][1:]]}),
        _jcs({**doc, "commitments": doc["commitments"][:2]}),
        _jcs({**doc, "k": 1}),
        _jcs({**doc, "index": 6}),
        _jcs({**doc, "index": True}),
        _jcs({**doc, "sealed": base64.b64encode(b"\x00" * 80).decode()}),
        _jcs({**doc, "election_id": ELECTION_ID.hex().upper()}),
        b"\xff",
        b"[]",
    ]


def test_a_malformed_container_is_refused_when_parsed(
    setup_v2: remote_key.RemoteKeySetupV2,
) -> None:
    for data in _container_cases(setup_v2):
        with pytest.raises(remote_key.ShareContainerError) as e:
            remote_key.parse_share_container_v2(data)
        assert e.value.code == "remote.share_corrupt", data[:60]


def test_a_withdrawn_remote_share_1_container_is_refused(
    setup_v2: remote_key.RemoteKeySetupV2,
) -> None:
    doc = _doc(setup_v2.containers[0])
    doc["format"] = "remote-share/1"
    with pytest.raises(remote_key.ShareContainerError) as e:
        remote_key.parse_share_container_v2(_jcs(doc))
    assert e.value.code == "remote.share_corrupt"


def test_the_threshold_the_election_id_and_the_recipients_are_checked(
    scrutineers: tuple[keys.InMemorySigner, ...],
) -> None:
    keys_ = [s.public_key for s in scrutineers]
    for bad_k in (0, 1, 6):
        with pytest.raises(ValueError, match="threshold"):
            remote_key.create_remote_key_v2(ELECTION_ID, keys_, bad_k)
    with pytest.raises(ValueError, match="twice"):
        remote_key.create_remote_key_v2(ELECTION_ID, [keys_[0], keys_[0]], 2)
    with pytest.raises(ValueError):
        remote_key.create_remote_key_v2(ELECTION_ID[:31], keys_, 3)
    clerk = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", b"\x09" * 32)
    with pytest.raises(keys.WrongRoleError):
        remote_key.create_remote_key_v2(ELECTION_ID, [keys_[0], clerk.public_key], 2)


# --------------------------------------------------------------------------- round trip


def test_each_container_is_canonical_and_its_commitment_is_the_domain_hash(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    assert len(setup_v2.containers) == 5
    for i, data in enumerate(setup_v2.containers):
        container = remote_key.parse_share_container_v2(data)
        assert container.to_bytes() == data
        assert container.index == i + 1
        assert container.scrutineer == scrutineers[i].public_key
        assert len(container.sealed) == 112
        expected = hashlib.sha256(b"branch-election/remote-share-commitment/2\x00" + data)
        assert (
            remote_key.share_commitment_v2(data) == setup_v2.commitments[i] == expected.hexdigest()
        )
        assert _doc(data)["commitments"] == setup_v2.key.to_json()["commitments"]


def test_the_opened_body_carries_the_election_key_shares_and_write_in_lists(
    setup_v2: remote_key.RemoteKeySetupV2,
    issuer: remote_tokens.TokenIssuer,
    scrutineers: tuple[keys.InMemorySigner, ...],
) -> None:
    lists = [{"post": "committee", "members": ["m03", "m07"]}]
    body = setup_v2.opened_body(issuer, lists)
    assert set(body) == {"issuer_key", "election_key", "shares", "write_in_lists"}
    assert eg.parse_threshold_key(body["election_key"]) == setup_v2.key
    assert body["write_in_lists"] == lists
    assert body["shares"] == [
        {
            "index": i + 1,
            "scrutineer": base64.b64encode(s.public_key.key).decode(),
            "commitment": setup_v2.commitments[i],
        }
        for i, s in enumerate(scrutineers)
    ]


def test_no_share_or_private_key_is_kept_by_the_setup(
    setup_v2: remote_key.RemoteKeySetupV2,
) -> None:
    for value in (setup_v2, setup_v2.key):
        for name in getattr(type(value), "__slots__", ()):
            assert not isinstance(getattr(value, name), eg.KeyShare)
    text = repr(setup_v2)
    assert "KeyShare" not in text


def test_any_k_unwrapped_shares_decrypt_a_total_and_fewer_do_not(
    setup_v2: remote_key.RemoteKeySetupV2, scrutineers: tuple[keys.InMemorySigner, ...]
) -> None:
    shares = [
        _unwrap(setup_v2, data, signer)
        for data, signer in zip(setup_v2.containers, scrutineers, strict=True)
    ]
    with pytest.raises(TypeError):
        pickle.dumps(shares[0])
    ctx = eg.ProofContext(
        election_id=ELECTION_ID, public_key=setup_v2.key.public_key, token=b"\x01" * 32, post="x"
    )
    posts = [eg.encrypt_post(ctx, [1, 0], seats=1), eg.encrypt_post(ctx, [1, 0], seats=1)]
    total = eg.tally_posts(posts, choices=2)[0]
    label = eg.tally_label("x", 0)
    for subset in ([0, 1, 2], [4, 2, 3]):
        partials = [
            eg.partial_decrypt(shares[i], setup_v2.key, total, election_id=ELECTION_ID, label=label)
            for i in subset
        ]
        assert (
            eg.combine_partials(
                setup_v2.key, total, partials, election_id=ELECTION_ID, label=label, bound=2
            )
            == 2
        )
    with pytest.raises(eg.NotEnoughSharesError):
        eg.combine_partials(
            setup_v2.key, total, partials[:2], election_id=ELECTION_ID, label=label, bound=2
        )
