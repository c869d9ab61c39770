"""Remote credentials and round entries shared by the verifier's V18 tests (spec/remote.md §4).

The RFC 9474 tokens come from the producer's ``keys.remote_tokens`` (issuer key, blinded requests) —
test code only; the verifier re-checks them with ``cryptography`` (V18.3). The remote ballots
themselves are version 2's: ``builder_remote_v2``.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from keys import remote_tokens
from tests.unit.verifier import builder as B


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@functools.cache
def issuer() -> remote_tokens.TokenIssuer:
    return remote_tokens.TokenIssuer.generate()


@functools.cache
def other_issuer() -> remote_tokens.TokenIssuer:
    return remote_tokens.TokenIssuer.generate()


def credential(
    eid: bytes, who: remote_tokens.TokenIssuer | None = None
) -> remote_tokens.RemoteCredential:
    iss = who or issuer()
    req = remote_tokens.begin_token_request(iss.public_key, eid)
    return remote_tokens.finish_token_request(
        req, iss.public_key, iss.sign_blinded(req.blinded_msg)
    )


def _opened(post: str, rnd: int, purpose: str, cands: list[str], seats: int) -> list[Any]:
    return ["round.opened", {**B._opened(post, rnd, purpose, cands, seats, 9)[1]}]


def _counted(remote_ballots: int, *args: Any) -> list[Any]:
    t, body = B._counted(*args)
    return [t, {**body, "remote_ballots": remote_ballots}]
