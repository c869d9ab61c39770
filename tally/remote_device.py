"""The member's device, in Python: what the voting page does, for the demo, tests and benchmarks.

The real device is the web page (tally/service/static/remote/); this client follows the same steps
of spec/remote.md and spec/remote-v2.md against an in-process session: draw and blind a token,
redeem the invitation, finalize the credential, encrypt and prove the ``remote-ballot/2``, cast.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keys import elgamal, remote_ballot, remote_tokens
from tally.election import ElectionSession

__all__ = ["DeviceVoteV2", "vote_as_device_v2"]


@dataclass(frozen=True, slots=True)
class DeviceVoteV2:
    credential: remote_tokens.RemoteCredential
    ballot: Mapping[str, Any]
    receipt: Mapping[str, Any]
    write_in_lists: Sequence[Mapping[str, Any]]


def ballot_context(
    info: Mapping[str, Any], write_in_lists: Sequence[Mapping[str, Any]]
) -> remote_ballot.BallotContext:
    """The context a device builds from ``/api/remote/info`` and the redemption's write-in
    lists (RV-3.2): what the page does."""
    lists = {w["post"]: w["members"] for w in write_in_lists}
    return remote_ballot.BallotContext(
        election_id=bytes.fromhex(info["election_id"]),
        key=elgamal.parse_threshold_key(info["election_key"]),
        posts=tuple(
            remote_ballot.PostShape(
                post=p["post"],
                listed=len(p["listed"]),
                choices=len(p["listed"]) + len(lists[p["post"]]),
                seats=p["seats"],
                disapprovals=bool(p["write_in_requires_disapproval"]),
            )
            for p in info["posts"]
        ),
    )


def choices_for(
    info: Mapping[str, Any],
    write_in_lists: Sequence[Mapping[str, Any]],
    approvals: Mapping[str, Sequence[str]],
    disapprovals: Mapping[str, int] | None = None,
) -> list[remote_ballot.PostChoice]:
    """Per post, the 0/1 vector approving the member ids in ``approvals[post]`` (listed
    candidates or members of the post's write-in list)."""
    lists = {w["post"]: [m["member"] for m in w["members"]] for w in write_in_lists}
    out = []
    for p in info["posts"]:
        order = [c["id"] for c in p["listed"]] + lists[p["post"]]
        chosen = set(approvals.get(p["post"], ()))
        unknown = chosen - set(order)
        if unknown:
            raise ValueError(f"not a choice of {p['post']}: {sorted(unknown)}")
        out.append(
            remote_ballot.PostChoice(
                approvals=tuple(1 if m in chosen else 0 for m in order),
                disapprovals=(disapprovals or {}).get(p["post"], 0),
            )
        )
    return out


def vote_as_device_v2(
    session: ElectionSession,
    code: str,
    approvals: Mapping[str, Sequence[str]],
    *,
    data_dir: Path | None = None,
    disapprovals: Mapping[str, int] | None = None,
) -> DeviceVoteV2:
    """Vote with invitation ``code`` (spec/remote-v2.md): credential,
    then ``remote-ballot/2`` encrypted and proved by ``keys.remote_ballot.encrypt_ballot``, cast
    into the pending casts. ``approvals`` maps each post code to the member ids approved (listed
    or from the write-in list); ``disapprovals`` to the number of × marks (RV-3.4)."""
    info = session.remote.info()
    issuer = remote_tokens.load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    request = remote_tokens.begin_token_request(issuer, bytes.fromhex(info["election_id"]))
    blind_sig = session.remote.redeem_invitation(code, request.blinded_msg, data_dir=data_dir)
    lists = session.remote.redemption_extras()["write_in_lists"]
    credential = remote_tokens.finish_token_request(request, issuer, blind_sig)
    ctx = ballot_context(info, lists)
    ballot = remote_ballot.encrypt_ballot(
        ctx, credential.token, choices_for(info, lists, approvals, disapprovals)
    )
    receipt = session.remote.cast(credential.token, credential.prefix, credential.signature, ballot)
    return DeviceVoteV2(credential=credential, ballot=ballot, receipt=receipt, write_in_lists=lists)
