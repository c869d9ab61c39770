"""Shared fixtures for the remote-ballot tests (spec/remote.md): keys made once per session."""

from __future__ import annotations

import pytest

import keys
from keys import remote

ELECTION_ID = bytes.fromhex("5a" * 32)
OTHER_ELECTION_ID = bytes.fromhex("a5" * 32)


@pytest.fixture(scope="session")
def issuer() -> remote.TokenIssuer:
    return remote.TokenIssuer.generate()


@pytest.fixture(scope="session")
def other_issuer() -> remote.TokenIssuer:
    return remote.TokenIssuer.generate()


@pytest.fixture(scope="session")
def scrutineers() -> tuple[keys.InMemorySigner, ...]:
    return tuple(
        keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, f"监票人{i}", bytes([i]) * 32)
        for i in range(1, 6)
    )


@pytest.fixture(scope="session")
def setup_3_of_5(scrutineers: tuple[keys.InMemorySigner, ...]) -> remote.RemoteKeySetup:
    return remote.create_remote_key(ELECTION_ID, [s.public_key for s in scrutineers], 3)


@pytest.fixture(scope="session")
def unwrapped_3_of_5(
    setup_3_of_5: remote.RemoteKeySetup, scrutineers: tuple[keys.InMemorySigner, ...]
) -> tuple[remote.UnwrappedShare, ...]:
    return tuple(
        remote.unwrap_share(c, s) for c, s in zip(setup_3_of_5.shares, scrutineers, strict=True)
    )
