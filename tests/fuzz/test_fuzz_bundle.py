"""Property (spec/bundle.md §8): for any bytes given as the bundle, a member or the town key, the
verifier exits 0, 1 or 2 with no traceback.

Inputs are random bytes, and byte flips, truncations and splices of the valid vector bundles
(spec/vectors/bundle/valid), as a zip or as one member of a folder (the index then rehashed or not,
so that mutated members reach the parsers behind V1). The CLI runs in-process
(``verifier.cli.app`` with ``standalone_mode=False``): any exception other than a clean exit fails
the property with its traceback.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import PROFILE
from verifier.cli import app

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "bundle"
TOWN_PUB = VECTORS / "town.pub"
SCENARIOS = ("small-branch", "invalid-by-decision", "tie-runoff")


@functools.cache
def _members(scenario: str) -> dict[str, bytes]:
    root = VECTORS / "valid" / scenario / "bundle"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@functools.cache
def _zip(scenario: str, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in sorted(_members(scenario).items()):
            z.writestr(name, data)
    return buf.getvalue()


def _index(files: dict[str, bytes]) -> bytes:
    """The index over mutated members, so that the mutation passes V1's hash check."""
    doc = json.loads(files["index.json"])
    doc["files"] = [
        {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
        for p, b in sorted(files.items())
        if p != "index.json"
    ]
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@st.composite
def _mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """Random bytes, or ``base`` with flips, a truncation, a splice or a deleted span."""
    kind = draw(st.sampled_from(("random", "flips", "truncate", "splice", "delete")))
    if kind == "random" or not base:
        return draw(st.binary(max_size=2048))
    data = bytearray(base)
    if kind == "flips":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif kind == "splice":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    else:
        i = draw(st.integers(0, len(data) - 1))
        del data[i : i + draw(st.integers(1, 256))]
    return bytes(data)


def _verify(bundle: Path, town_key: str) -> None:
    """Run the CLI; only a clean exit 0, 1 or 2 may come out of it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(
            ["verify", str(bundle), "--town-key", town_key, "--jobs", "1", "--lang", "en"],
            standalone_mode=False,
        )
    assert code in (0, 1, 2, None), code
    assert "Traceback" not in out.getvalue() + err.getvalue()


@settings(settings.get_profile(PROFILE))
@given(data=st.data(), scenario=st.sampled_from(SCENARIOS), stored=st.booleans())
def test_any_bytes_as_the_bundle_zip_end_cleanly(
    data: st.DataObject, scenario: str, stored: bool
) -> None:
    base = _zip(scenario, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    blob = data.draw(_mutated(base))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.zip"
        path.write_bytes(blob)
        _verify(path, str(TOWN_PUB))


@settings(settings.get_profile(PROFILE))
@given(data=st.data(), scenario=st.sampled_from(SCENARIOS), rehash=st.booleans())
def test_any_bytes_as_a_folder_member_end_cleanly(
    data: st.DataObject, scenario: str, rehash: bool
) -> None:
    files = dict(_members(scenario))
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = data.draw(_mutated(files[name]))
    if rehash and name != "index.json":
        files["index.json"] = _index(files)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bundle"
        for p, b in files.items():
            (root / p).parent.mkdir(parents=True, exist_ok=True)
            (root / p).write_bytes(b)
        _verify(root, str(TOWN_PUB))


@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_any_bytes_as_the_town_key_end_cleanly(data: st.DataObject) -> None:
    key = data.draw(_mutated(TOWN_PUB.read_bytes()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "town.pub"
        path.write_bytes(key)
        _verify(VECTORS / "valid" / "small-branch" / "bundle", str(path))
