"""A valid procedure definition (spec/procedure.md §2) with fixed keys, for the procedure tests."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import keys
from tally.core.procedure import Procedure, build_procedure, render_procedure

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qingshan.procedure.toml"


def signer(role: keys.Role, label: str, seed_byte: int) -> keys.InMemorySigner:
    """A deterministic key of ``role`` (tests only)."""
    return keys.InMemorySigner.from_seed(role, label, bytes([seed_byte]) * 32)


TOWN = signer(keys.Role.TOWN_COMMITTEE, "红旗镇党委", 1)
OTHER_TOWN = signer(keys.Role.TOWN_COMMITTEE, "白云镇党委", 2)
WORK_GROUP = signer(keys.Role.WORK_GROUP, "青山村选举工作组", 3)
SCRUTINEERS = (
    signer(keys.Role.SCRUTINEER, "黄德明", 4),
    signer(keys.Role.SCRUTINEER, "赵红梅", 5),
)


def pubkey(s: keys.InMemorySigner) -> dict[str, Any]:
    """The ``pubkey/1`` document of a signer."""
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def example_input() -> dict[str, Any]:
    """The decoded input of examples/qingshan.procedure.toml (a fresh copy each call)."""
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def build(data: dict[str, Any] | None = None) -> Procedure:
    """``build_procedure`` of ``data`` (default: the example) with the fixed keys."""
    return build_procedure(
        example_input() if data is None else data,
        work_group_key=pubkey(WORK_GROUP),
        scrutineer_keys=[pubkey(s) for s in SCRUTINEERS],
    )


def example_document() -> dict[str, Any]:
    """The resolved ``procedure/1`` document of the example (a fresh deep copy each call)."""
    return copy.deepcopy(_EXAMPLE_DOCUMENT)


_EXAMPLE_DOCUMENT = render_procedure(build())
