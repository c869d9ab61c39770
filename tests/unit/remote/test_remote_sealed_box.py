"""Sealed remote ballots, spec/remote.md §6 (RM-6.1 .. RM-6.3) and the reveal of RM-7.6."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import remote

_KEY = remote.RemoteBallotPrivateKey.generate()
_OTHER = remote.RemoteBallotPrivateKey.generate()


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=remote.MAX_BALLOT_BYTES))
def test_rm_6_2_seal_then_open_gives_the_plaintext(plaintext: bytes) -> None:
    sealed = remote.seal_ballot(_KEY.public_key, plaintext)
    assert len(sealed) == len(plaintext) + remote.SEAL_OVERHEAD == len(plaintext) + 48
    assert _KEY.open_ballot(sealed) == plaintext


def test_rm_6_2_sealing_is_randomized() -> None:
    assert remote.seal_ballot(_KEY.public_key, b"x") != remote.seal_ballot(_KEY.public_key, b"x")


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=200), data=st.data())
def test_rm_6_3_any_altered_byte_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    sealed = bytearray(remote.seal_ballot(_KEY.public_key, plaintext))
    position = data.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(remote.SealedBallotError) as e:
        _KEY.open_ballot(bytes(sealed))
    assert e.value.code == "remote.sealed_invalid"


@pytest.mark.parametrize("length", [0, 1, 47, 48])
def test_rm_6_3_short_or_cut_sealed_box_is_refused(length: int) -> None:
    sealed = remote.seal_ballot(_KEY.public_key, b"ballot")
    with pytest.raises(remote.SealedBallotError):
        _KEY.open_ballot(sealed[:length])


def test_rm_6_3_box_sealed_to_another_key_is_refused() -> None:
    with pytest.raises(remote.SealedBallotError):
        _OTHER.open_ballot(remote.seal_ballot(_KEY.public_key, b"ballot"))


def test_rm_5_4_oversize_plaintext_is_refused_before_sealing() -> None:
    with pytest.raises(remote.SealedBallotTooLargeError) as e:
        remote.seal_ballot(_KEY.public_key, bytes(remote.MAX_BALLOT_BYTES + 1))
    assert e.value.code == "remote.sealed_too_large"
    assert e.value.zh and e.value.en


def test_rm_6_3_oversize_sealed_box_is_refused_without_decrypting() -> None:
    with pytest.raises(remote.SealedBallotTooLargeError):
        _KEY.open_ballot(bytes(remote.MAX_BALLOT_BYTES + remote.SEAL_OVERHEAD + 1))


@pytest.mark.parametrize("size", [0, 31, 33])
def test_rm_6_1_ballot_key_of_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(remote.BallotKeyError):
        remote.seal_ballot(bytes(size), b"ballot")


def test_rm_6_1_low_order_ballot_key_is_refused() -> None:
    with pytest.raises(remote.BallotKeyError):
        remote.seal_ballot(bytes(32), b"ballot")


def test_rm_7_6_revealed_key_loads_only_against_its_public_key() -> None:
    loaded = remote.load_revealed_key(_KEY.reveal(), _KEY.public_key)
    assert loaded.open_ballot(remote.seal_ballot(_KEY.public_key, b"v")) == b"v"
    with pytest.raises(remote.BallotKeyError):
        remote.load_revealed_key(_KEY.reveal(), _OTHER.public_key)
    with pytest.raises(remote.BallotKeyError):
        remote.load_revealed_key(_KEY.reveal()[:31], _KEY.public_key)


@pytest.mark.parametrize(("byte", "bit"), [(0, 0), (0, 1), (0, 2), (31, 6), (31, 7)])
def test_rm_7_6_revealed_key_must_be_clamped(byte: int, bit: int) -> None:
    """X25519 ignores these bits: an altered copy would open ballots yet not be the committed key."""
    raw = bytearray(_KEY.reveal())
    raw[byte] ^= 1 << bit
    with pytest.raises(remote.BallotKeyError):
        remote.load_revealed_key(bytes(raw), _KEY.public_key)


def test_rm_7_6_private_key_is_not_printed_pickled_or_copied() -> None:
    assert _KEY.reveal().hex() not in repr(_KEY)
    for leak in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            leak(_KEY)
