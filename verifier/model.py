"""Frozen models of the bundle's documents (spec/manifest.md, spec/definition.md, spec/log.md).

Only ``verifier.parse`` builds them; code after it trusts their types (STYLE §7.2 rule 6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from verifier.crypto import PublicKey

__all__ = [
    "EDUCATION_ORDER",
    "POST_ORDER",
    "Checkpoint",
    "CheckpointSignature",
    "Definition",
    "Exclusion",
    "LogEntry",
    "Manifest",
    "Member",
    "Parameters",
    "Post",
]

POST_ORDER: Final = ("committee", "secretary", "deputy_secretary")
EDUCATION_ORDER: Final = (
    "primary",
    "junior_high",
    "senior_high",
    "college",
    "bachelor",
    "postgraduate",
)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    sex: str
    birth_date: dt.date
    education: str
    status: str
    registered_here: bool
    incumbent_secretary: bool

    @property
    def eligible(self) -> bool:
        """R2: full member registered in this branch."""
        return self.status == "full" and self.registered_here


@dataclass(frozen=True, slots=True)
class Exclusion:
    member: str
    category: str
    higher_level_approval: str
    assembly_approval: str


@dataclass(frozen=True, slots=True)
class Post:
    post: str
    seats: int
    candidates: tuple[str, ...]
    margin: str


@dataclass(frozen=True, slots=True)
class Parameters:
    quorum_comparison: str
    threshold_base: str
    write_in_requires_disapproval: bool
    write_in_unmarked: str
    unreadable_mark: str
    publicity_working_days: int
    qualification_policy: str
    secretary_new_max_age: int
    secretary_new_min_education: str
    secretary_continuing_max_age: int
    secretary_continuing_min_education: str


@dataclass(frozen=True, slots=True)
class Definition:
    preset: str
    title: str
    branch: str
    town: str
    term: str
    objections_to: str
    date: dt.date
    parameters: Parameters
    members: tuple[Member, ...]
    exclusions: tuple[Exclusion, ...]
    posts: tuple[Post, ...]
    elected_by: str
    scrutineers: tuple[str, ...]
    tellers: tuple[str, ...]
    remote_approved: tuple[str, ...]
    counts_toward_quorum: bool


@dataclass(frozen=True, slots=True)
class Manifest:
    definition: Definition
    work_group: PublicKey
    scrutineers: tuple[PublicKey, ...]
    election_id: bytes


class LogEntry(NamedTuple):
    """One ``log-entry/1`` (log.md §1).

    Immutable like the other models; a NamedTuple rather than a frozen dataclass because one
    is built per log line, and a NamedTuple is built about four times faster.
    """

    seq: int
    prev: str
    type: str
    at: dt.datetime
    actor: str
    body: Mapping[str, Any]
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class CheckpointSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    reason: str
    body: bytes
    signatures: tuple[CheckpointSignature, ...]
    text: str
