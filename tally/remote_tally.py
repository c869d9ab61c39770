"""The arithmetic of remote voting's totals (spec/remote-v2.md RV-5.3, EG-3.3, EG-9): the logged
casts added up encrypted, one scrutineer's partial decryption of the sums, and the k partial
decryptions combined into each choice's total. No file and no log: ``tally.remote_voting`` reads
and appends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keys
from keys import elgamal, remote_ballot
from tally.session_errors import SessionError

__all__ = ["combine", "encrypted_totals", "partial_decryption_posts"]


def encrypted_totals(
    ctx: remote_ballot.BallotContext, ballots: Sequence[Mapping[str, Any]]
) -> tuple[tuple[elgamal.Ciphertext, ...], ...]:
    """Per assembly-voted post (ballot order), per choice: the sum of that choice's ciphertexts
    over ``ballots``, the ``remote-ballot/2`` objects of the logged casts (EG-3.3; (O, O) without
    a cast).

    Raises:
        keys.KeysError: a ballot's post does not parse (``elgamal.*``).
    """
    out = []
    for i, shape in enumerate(ctx.posts):
        posts = []
        for b in ballots:
            posts.append(
                elgamal.parse_encrypted_post(
                    b["posts"][i],
                    choices=shape.choices,
                    seats=shape.seats,
                    listed=shape.listed_for_proofs,
                )
            )
        out.append(elgamal.tally_posts(posts, choices=shape.choices))
    return tuple(out)


def partial_decryption_posts(
    share: elgamal.KeyShare,
    ctx: remote_ballot.BallotContext,
    totals: Sequence[Sequence[elgamal.Ciphertext]],
) -> list[dict[str, Any]]:
    """The posts of ``remote.partial_decryption``: ``share`` applied to each choice's encrypted
    total, with its proof.

    Raises:
        keys.KeysError: the elgamal refusals.
    """
    body_posts = []
    for shape, post_totals in zip(ctx.posts, totals, strict=True):
        parts = [
            elgamal.partial_decrypt(
                share,
                ctx.key,
                total,
                election_id=ctx.election_id,
                label=elgamal.tally_label(shape.post, c),
            ).to_json()
            for c, total in enumerate(post_totals)
        ]
        body_posts.append(
            {
                "post": shape.post,
                "shares": [p["share"] for p in parts],
                "proofs": [p["proof"] for p in parts],
            }
        )
    return body_posts


def combine(
    ctx: remote_ballot.BallotContext,
    totals: Sequence[Sequence[elgamal.Ciphertext]],
    partials: Sequence[Mapping[str, Any]],
    casts: int,
) -> list[dict[str, Any]]:
    """EG-9 over the k lowest-index partial decryptions: each choice's total, the body's posts
    of ``remote.totals``.

    Raises:
        SessionError: a partial decryption does not parse or its proof does not verify, or the
            combination does not decode within ``casts`` (the elgamal refusals).
    """
    chosen = sorted(partials, key=lambda p: int(p["index"]))[: ctx.key.k]
    out = []
    try:
        for i, (shape, post_totals) in enumerate(zip(ctx.posts, totals, strict=True)):
            values = []
            for c, total in enumerate(post_totals):
                parts = [
                    elgamal.parse_partial_decryption(
                        {
                            "index": int(p["index"]),
                            "share": p["posts"][i]["shares"][c],
                            "proof": p["posts"][i]["proofs"][c],
                        },
                        n=ctx.key.n,
                    )
                    for p in chosen
                ]
                values.append(
                    elgamal.combine_partials(
                        ctx.key,
                        total,
                        parts,
                        election_id=ctx.election_id,
                        label=elgamal.tally_label(shape.post, c),
                        bound=casts,
                    )
                )
            out.append({"post": shape.post, "ballots": casts, "totals": values})
    except keys.KeysError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en) from e
    return out
