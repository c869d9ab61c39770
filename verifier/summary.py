"""The election's public summary, re-derived from the manifest (spec/manifest.md §6, V19).

The town committee signs, beside the manifest, a ``public-summary/1`` document: what the remote
voting page is shown instead of the manifest, which holds the roster. The verifier derives the
summary again from the bundle's manifest and checks the town's signature on exactly that
derivation, so a summary signed for any other content fails.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

__all__ = ["PUBLIC_SUMMARY_DOMAIN", "check_code", "public_summary"]

PUBLIC_SUMMARY_DOMAIN: Final = b"branch-election/public-summary/1"
PIN_DOMAIN: Final = b"branch-election/invitation-pin/2"  # spec/remote.md RM-10.3


def check_code(summary_hash: bytes, opened_leaf_hash: bytes) -> str:
    """The invitations' check code (spec/remote.md RM-10.3): the first 16 hex digits, upper case
    in groups of four, of SHA-256(PIN_DOMAIN || 0x00 || summary hash || leaf hash of
    ``remote.opened``). Computed here from the town-signed summary the verifier re-derived, it is
    the code every genuine invitation printed; the town committee announces it, so a member whose
    invitation shows another was invited against a summary or key the town never signed."""
    digest = hashlib.sha256(PIN_DOMAIN + b"\x00" + summary_hash + opened_leaf_hash).hexdigest()
    return "-".join(digest[i : i + 4].upper() for i in range(0, 16, 4))


def public_summary(manifest: Any, town_key: Any, election_id_hex: str) -> dict[str, Any]:
    """The ``public-summary/1`` object of §6, from a manifest value that passed V3 and the
    ``pubkey/1`` value of the town key that passed V2."""
    d = manifest["definition"]
    e = d["election"]
    names = {m["id"]: m["name"] for m in d["members"]}
    posts = [
        {
            "post": p["post"],
            "seats": p["seats"],
            "candidates": [{"id": c, "name": names[c]} for c in p["candidates"]],
        }
        for p in d["posts"]
    ]
    return {
        "format": "public-summary/1",
        "election_id": election_id_hex,
        "title": e["title"],
        "branch": e["branch"],
        "town": e["town"],
        "term": e["term"],
        "date": e["date"],
        "posts": posts,
        "work_group_key": manifest["keys"]["work_group"],
        "town_key": town_key,
    }
