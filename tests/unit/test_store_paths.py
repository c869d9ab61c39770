"""Opening a store at a path that is there but is no regular file (a folder, a FIFO) says so
(``store.not_file``), instead of "not found"; a path that is not there is ``store.missing``. The
election file, the procedure file and the casework file (the signed-log files) alike, and a FIFO
is never opened (opening it for reading would wait for a writer)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tally.casework_store import CaseworkStore
from tally.procedure_store import ProcedureStore
from tally.store import ElectionStore, StoreError

OPENERS: dict[str, Callable[[Path], object]] = {
    "election": ElectionStore.open,
    "procedure": ProcedureStore.open,
    "casework": CaseworkStore.open,
}


def _place(kind: str, path: Path) -> None:
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
@pytest.mark.parametrize("store", sorted(OPENERS))
def test_a_path_that_is_no_regular_file_is_store_not_file(
    store: str, kind: str, tmp_path: Path
) -> None:
    path = tmp_path / "e.db"
    _place(kind, path)
    with pytest.raises(StoreError) as e:
        OPENERS[store](path)
    assert e.value.code == "store.not_file"
    assert str(path) in e.value.message("en") and "regular file" in e.value.message("en")


@pytest.mark.parametrize("store", sorted(OPENERS))
def test_a_path_that_is_not_there_is_store_missing(store: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as e:
        OPENERS[store](tmp_path / "nothing.db")
    assert e.value.code == "store.missing"
