"""The consistent sampler against its published examples.

Source: R. L. Rivest, ``consistent_sampler`` (github.com/ron-rivest/consistent_sampler,
``pkg/consistent_sampler/consistent_sampler.py`` doctests and
``pkg/consistent_sampler/demo_consistent_sampler.py`` examples X1-X8, seed 314159).
"""

from __future__ import annotations

import itertools

import pytest

from verifier.audit.sampler import (
    first_fraction,
    next_fraction,
    sample,
    sha256_hex,
    sha256_uniform,
    trim,
)

SIX = ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"]


def _tuples(ids: list[str], take: int, *, replace: bool = False) -> list[tuple[str, str, int]]:
    it = itertools.islice(sample(ids, "314159", with_replacement=replace), take)
    return [(trim(t.ticket_number), t.id, t.generation) for t in it]


def test_a4_sha256_helpers_match_doctests() -> None:
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_uniform("abc") == (
        "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
    )
    assert first_fraction("AB-130", "01382438112797316654") == (
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
    )
    assert next_fraction("0.25471") == (
        "0.642853261655004694691182528114375607701032283189922170593838029306715548381901"
    )


def test_a4_x1_x3_shuffle_and_consistency_seed_314159() -> None:
    assert [t.id for t in sample(SIX, "314159")] == ["B-2", "B-3", "A-3", "A-2", "B-1", "A-1"]
    assert [t.id for t in itertools.islice(sample(SIX, "314159"), 3)] == ["B-2", "B-3", "A-3"]
    assert [t.id for t in sample(["B-1", "B-2", "B-3"], "314159")] == ["B-2", "B-3", "B-1"]


def test_a4_x4_ticket_numbers_seed_314159() -> None:
    assert _tuples(SIX, 6) == [
        ("0.410310858", "B-2", 1),
        ("0.470960291", "B-3", 1),
        ("0.471438751", "A-3", 1),
        ("0.567089805", "A-2", 1),
        ("0.9781715679", "B-1", 1),
        ("0.9828515724", "A-1", 1),
    ]


def test_a4_x6_with_replacement_seed_314159() -> None:
    got = _tuples(SIX, 16, replace=True)
    assert [(n, i, g) for n, i, g in got][-4:] == [
        ("0.9257009021", "B-3", 3),
        ("0.9357740622", "A-3", 4),
        ("0.9425889093", "B-3", 4),
        ("0.9501908345", "B-2", 4),
    ]
    assert [i for _, i, _ in got][:8] == ["B-2", "B-3", "A-3", "A-2", "A-2", "A-2", "B-3", "A-2"]


def test_a4_x8_single_item_with_replacement_seed_314159() -> None:
    got = _tuples(["B-1"], 16, replace=True)
    assert got[0] == ("0.9781715679", "B-1", 1)
    assert got[6] == ("0.9999894745680", "B-1", 7)
    assert got[15] == ("0.999999999540636137", "B-1", 16)


def test_a4_docstring_examples_seed_314159() -> None:
    ids = ["A#2", "B#7", "C#1", "D#4"]
    drawn = [t.id for t in itertools.islice(sample(ids, "314159", with_replacement=True), 8)]
    assert drawn == ["D#4", "C#1", "C#1", "B#7", "A#2", "C#1", "D#4", "B#7"]
    assert _tuples(["ab-1", "ab-2", "cd-1", "ef-3"], 4) == [
        ("0.317685817", "cd-1", 1),
        ("0.832984519", "ef-3", 1),
        ("0.9098039269", "ab-1", 1),
        ("0.9231549043", "ab-2", 1),
    ]


def test_a4_duplicate_ids_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        list(sample(["a", "a"], "1"))
