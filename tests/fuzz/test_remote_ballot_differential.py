"""Differential fuzzing of the decrypted remote ballot (spec/remote.md RM-5.1-RM-5.3): for every
damaged ``remote-ballot/1`` plaintext, the tally's judgement (``remote.decrypted`` or the reason of
``remote.rejected``) must be the verifier's. Where they differ, one voter's ballot would make the
whole bundle fail verification (V18)."""

from __future__ import annotations

import base64
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.core.errors import TallyError
from tally.core.manifest import canonical, parse_manifest
from tally.core.meeting import Meeting, assembly_posts, check_remote_ballot
from tally.election import ElectionSession, SessionError, _strict_json, sign_manifest
from tests.fuzz import samples as S
from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import json_values, mutated_tree
from verifier.canonical import parse_canonical
from verifier.errors import VerificationError
from verifier.remote import PostSpec, ballot_ok

pytestmark = pytest.mark.fuzz

TOKEN = bytes(range(32))


@functools.cache
def _meeting() -> Meeting:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-remote-"))
    manifest = parse_manifest(S.manifest_document())
    s = ElectionSession.init(folder / "e.db", sign_manifest(manifest, S.TOWN), S.WORK_GROUP)
    s.store.close()
    return s.meeting


def _sample() -> dict[str, Any]:
    m = _meeting()
    posts = []
    for kind in assembly_posts(m.election):
        post = m.election.post(kind)
        assert post is not None
        posts.append(
            {
                "post": kind.value,
                "candidates": list(post.candidates),
                "marks": "ox-o-x"[: len(post.candidates)].ljust(len(post.candidates), "o"),
                "write_ins": [{"name": "周玉兰", "member": "", "mark": "o"}],
            }
        )
    return {
        "format": "remote-ballot/1",
        "election_id": m.election_id.hex(),
        "token": base64.b64encode(TOKEN).decode(),
        "posts": posts,
    }


def tally_verdict(plain: bytes) -> str:
    """What ``ElectionSession.decrypt_remote`` logs for this plaintext."""
    try:
        doc = _strict_json(plain, "远程选票")
        if canonical(doc) != plain:
            return "remote.ballot_invalid"
        check_remote_ballot(_meeting(), doc, base64.b64encode(TOKEN).decode())
    except (SessionError, TallyError) as e:
        return (
            "remote.token_mismatch"
            if e.code == "remote.token_mismatch"
            else "remote.ballot_invalid"
        )
    except ValueError:  # canonical() refuses what JCS cannot write
        return "remote.ballot_invalid"
    return "remote.decrypted"


def verifier_verdict(plain: bytes) -> str:
    """What the verifier's ``decide_cast`` expects, after decryption."""
    m = _meeting()
    posts = tuple(
        PostSpec(k.value, tuple(p.candidates), p.seats)
        for k in assembly_posts(m.election)
        if (p := m.election.post(k)) is not None
    )
    roster = frozenset(x.id for x in m.election.members)
    try:
        value = parse_canonical(plain, clause="V18", path="remote-ballot")
    except VerificationError:
        return "remote.ballot_invalid"
    if not ballot_ok(value, m.election_id.hex(), posts, roster):
        return "remote.ballot_invalid"
    if value["token"] != base64.b64encode(TOKEN).decode():
        return "remote.token_mismatch"
    return "remote.decrypted"


def _plain(doc: Any) -> bytes:
    try:
        return canonical(doc)
    except ValueError:
        return json.dumps(doc).encode("utf-8", "surrogatepass")


WRITE_IN_NAMES = ("\u0007名", "e\u0301", "名\u200b", "", "x" * 33, " 周玉兰", "周玉兰")


@st.composite
def _ballots(draw: st.DrawFn) -> bytes:
    """A damaged ballot, or a valid one with one more write-in of a doubtful name or member."""
    if draw(st.booleans()):
        return _plain(
            draw(mutated_tree([_sample()], json_values() | st.sampled_from(WRITE_IN_NAMES)))
        )
    doc = _sample()
    if isinstance(doc, dict):
        for part in doc["posts"]:
            if isinstance(part, dict) and isinstance(part.get("write_ins"), list):
                part["write_ins"].append(
                    {
                        "name": draw(st.sampled_from(WRITE_IN_NAMES) | st.text(max_size=4)),
                        "member": draw(st.sampled_from(["", "M001", "M999", "m001"])),
                        "mark": draw(st.sampled_from(["o", "-", "x"])),
                    }
                )
    return _plain(doc)


def test_sample_is_accepted_by_both() -> None:
    plain = canonical(_sample())
    assert tally_verdict(plain) == verifier_verdict(plain) == "remote.decrypted"


@fuzz_settings(150)
@given(plain=_ballots())
def test_tally_and_verifier_judge_every_remote_ballot_alike(plain: bytes) -> None:
    assert tally_verdict(plain) == verifier_verdict(plain)
