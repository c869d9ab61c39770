"""Shared fixtures for the remote-ballot tests (spec/remote.md, spec/remote-v2.md): keys made once per session."""

from __future__ import annotations

import pytest

import keys
from keys import remote_tokens

ELECTION_ID = bytes.fromhex("5a" * 32)
OTHER_ELECTION_ID = bytes.fromhex("a5" * 32)


@pytest.fixture(scope="session")
def issuer() -> remote_tokens.TokenIssuer:
    return remote_tokens.TokenIssuer.generate()


@pytest.fixture(scope="session")
def other_issuer() -> remote_tokens.TokenIssuer:
    return remote_tokens.TokenIssuer.generate()


@pytest.fixture(scope="session")
def scrutineers() -> tuple[keys.InMemorySigner, ...]:
    return tuple(
        keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, f"监票人{i}", bytes([i]) * 32)
        for i in range(1, 6)
    )
