"""Property (spec/bundle.md §8 as V31 applies it): for any bytes given as a casework bundle, or as
one member of it (the index then rehashed or not), ``verifier casework`` exits 0, 1 or 2 with no
traceback.

Inputs are random bytes, and byte flips, truncations, splices and deletions of the valid vector
spec/vectors/procedure/casework/valid/casework-basic (``tests.fuzz.test_fuzz_bundle``'s mutations).
The CLI runs in-process (``verifier.cli.app`` with ``standalone_mode=False``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import PROFILE
from tests.fuzz.test_fuzz_bundle import _index, _mutated
from verifier.cli import app

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "procedure" / "casework"
TOWN_PUB = VECTORS / "town.pub"


@functools.cache
def _members() -> dict[str, bytes]:
    root = VECTORS / "valid" / "casework-basic" / "bundle"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _verify(bundle: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(
            ["casework", str(bundle), "--town-key", str(TOWN_PUB), "--lang", "en"],
            standalone_mode=False,
        )
    assert code in (0, 1, 2, None), code
    assert "Traceback" not in out.getvalue() + err.getvalue()


@settings(settings.get_profile(PROFILE))
@given(data=st.data(), rehash=st.booleans())
def test_any_bytes_as_a_casework_bundle_member_end_cleanly(
    data: st.DataObject, rehash: bool
) -> None:
    files = dict(_members())
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = data.draw(_mutated(files[name]))
    if rehash and name != "index.json":
        files["index.json"] = _index(files)  # keeps the casework index's members
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bundle"
        for p, b in files.items():
            (root / p).parent.mkdir(parents=True, exist_ok=True)
            (root / p).write_bytes(b)
        _verify(root)


@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_any_bytes_as_a_casework_bundle_zip_end_cleanly(data: st.DataObject) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in sorted(_members().items()):
            z.writestr(name, blob)
    blob = data.draw(_mutated(buf.getvalue()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "casework.zip"
        path.write_bytes(blob)
        _verify(path)
