"""Remote ballots version 1 cannot come back (issue 16: no single remote ballot is decrypted
anywhere in the code). The production code (tally/, keys/, ballot_printer/) names none of version
1's mechanics: sealing a ballot to a ballot key, opening a sealed ballot, rebuilding or publishing
that key, or its per-ballot decryption entries. Sealed boxes stay only where they wrap a
scrutineer's key share (keys/remote_key.py, spec/remote-v2.md RV-5.2)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = ("tally", "keys", "ballot_printer")
# Names of version 1's code and log entries (spec/remote.md, former §5-§7, RM-8.1).
FORBIDDEN = (
    "seal_ballot",
    "open_ballot",
    "load_revealed_key",
    "RemoteBallotPrivateKey",
    "reconstruct_private_key",
    "reveal_remote",
    "key_revealed",
    "remote.decrypted",
    "remote.rejected",
    "remote-ballot/1",
    "remote-share/1",
    "ballot_key",
)
# crypto_box_seal_open, or PyNaCl's SealedBox(...).decrypt, on anything but a key share.
SEAL_OPEN = re.compile(r"crypto_box_seal_open|SealedBox\([^)]*\)\.decrypt")
SHARE_OPENER = ROOT / "keys" / "remote_key.py"


def _sources() -> list[Path]:
    files = [p for d in PRODUCTION for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 50, "the production code was not found"
    return files


def test_no_version_1_name_is_in_the_production_code() -> None:
    found = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in _sources()
        for name in FORBIDDEN
        if name in p.read_text(encoding="utf-8")
    ]
    assert not found, found


def test_a_sealed_box_is_opened_only_for_a_key_share() -> None:
    openers = [p for p in _sources() if SEAL_OPEN.search(p.read_text(encoding="utf-8"))]
    assert openers == [SHARE_OPENER]
    text = SHARE_OPENER.read_text(encoding="utf-8")
    (use,) = SEAL_OPEN.finditer(text)  # one place: _open_sealed_share
    assert "def _open_sealed_share(" in text[: use.start()]
    assert text.rfind("\ndef ", 0, use.start()) == text.find("\ndef _open_sealed_share(")


def test_the_checks_would_see_a_version_1_name() -> None:
    """The test cannot pass by reading nothing: a known file holds a known name."""
    assert "remote.totals" in (ROOT / "tally" / "remote_voting.py").read_text(encoding="utf-8")
    assert SEAL_OPEN.search("nacl.public.SealedBox(private).decrypt(sealed)")
