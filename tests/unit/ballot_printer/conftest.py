"""Fixtures for the ballot_printer tests: a PyNaCl test signer, a fixed election, sample papers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from nacl.signing import SigningKey

from ballot_printer import BallotPaper, PaperKind


class NaclTestSigner:
    """Ed25519 over `domain || 0x00 || message`, from a fixed seed."""

    def __init__(self, seed: bytes = b"\x07" * 32) -> None:
        self._key = SigningKey(seed)
        self.public_key: bytes = self._key.verify_key.encode()
        self.calls = 0

    def sign(self, domain: bytes, message: bytes) -> bytes:
        self.calls += 1
        return self._key.sign(domain + b"\x00" + message).signature


@pytest.fixture(scope="session")
def signer() -> NaclTestSigner:
    return NaclTestSigner()


@pytest.fixture(scope="session")
def public_key(signer: NaclTestSigner) -> bytes:
    return signer.public_key


@pytest.fixture(scope="session")
def other_public_key() -> bytes:
    return NaclTestSigner(b"\x09" * 32).public_key


@pytest.fixture(scope="session")
def election_id() -> bytes:
    return hashlib.sha256(b"test election").digest()


@pytest.fixture
def make_paper() -> Callable[..., BallotPaper]:
    def make(**overrides: Any) -> BallotPaper:
        fields: dict[str, Any] = {
            "title": "中共某某村支部委员会换届选举",
            "branch": "中共某某村支部委员会",
            "term": "第十一届",
            "kind": PaperKind.COMMITTEE,
            "round_number": 1,
            "seats": 5,
            "candidates": ("赵丽", "王小明", "李华", "张伟", "刘芳", "陈静"),
        }
        fields.update(overrides)
        return BallotPaper(**fields)

    return make
