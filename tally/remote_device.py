"""The member's device, in Python: what the voting page does, for the demo, tests and benchmarks.

The real device is the web page (tally/service/static/remote/); this client follows the same steps
of spec/remote.md against an in-process session: draw and blind a token, redeem the invitation,
finalize the credential, seal the ``remote-ballot/1`` plaintext, cast.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from keys import remote
from tally.election import ElectionSession

__all__ = ["DeviceVote", "vote_as_device"]


@dataclass(frozen=True, slots=True)
class DeviceVote:
    credential: remote.RemoteCredential
    sealed: bytes
    receipt: Mapping[str, Any]


def vote_as_device(
    session: ElectionSession,
    code: str,
    marks: Mapping[str, str],
    *,
    data_dir: Path,
    write_ins: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
) -> DeviceVote:
    """Vote with invitation ``code``: ``marks`` maps each post code to one letter per candidate."""
    info = session.remote_info()
    issuer = remote.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    request = remote.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    blind_sig = session.redeem_invitation(code, request.blinded_msg, data_dir=data_dir)
    credential = remote.finish_token_request(request, issuer, blind_sig)
    ballot = {
        "format": "remote-ballot/1",
        "election_id": info["election_id"],
        "token": base64.b64encode(credential.token).decode(),
        "posts": [
            {
                "post": p["post"],
                "candidates": [c["id"] for c in p["candidates"]],
                "marks": marks[p["post"]],
                "write_ins": [dict(w) for w in (write_ins or {}).get(p["post"], ())],
            }
            for p in info["posts"]
        ],
    }
    sealed = remote.seal_ballot(base64.b64decode(info["ballot_key"]), rfc8785.dumps(ballot))
    receipt = session.cast_remote(credential.token, credential.prefix, credential.signature, sealed)
    return DeviceVote(credential=credential, sealed=sealed, receipt=receipt)
