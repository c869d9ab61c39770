"""The manifest: the resolved election definition plus the keys allowed to act (spec/manifest.md).

Pure: builds and reads JSON-ready values and computes the election id. Signing and signature checks
belong to the shell (``tally.manifest``), which holds the keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from tally.core.definition import FORMAT as DEFINITION_FORMAT
from tally.core.definition import parse_definition_data
from tally.core.errors import DefinitionError, Problem
from tally.core.model import Election, PostKind

__all__ = [
    "MANIFEST_DOMAIN",
    "MANIFEST_FORMAT",
    "PUBLIC_SUMMARY_DOMAIN",
    "PUBLIC_SUMMARY_FORMAT",
    "SIGNED_MANIFEST_FORMAT",
    "Manifest",
    "build_manifest",
    "canonical",
    "election_id_of",
    "parse_manifest",
    "public_summary",
    "public_summary_hash",
    "resolved_definition",
]

MANIFEST_FORMAT = "manifest/1"
SIGNED_MANIFEST_FORMAT = "signed-manifest/1"
MANIFEST_DOMAIN = b"branch-election/manifest/1"
PUBLIC_SUMMARY_FORMAT = "public-summary/1"
PUBLIC_SUMMARY_DOMAIN = b"branch-election/public-summary/1"
_POST_ORDER = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)


_SAFE = 2**53
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: object) -> bool:
    """True when ``json.dumps`` already gives RFC 8785 bytes: strings, integers below 2**53, lists
    and objects with ASCII keys (where code-point order is UTF-16 order). Python escapes the same
    characters as ECMAScript's JSON.stringify, with the same short forms and lowercase hex."""
    t = type(value)
    if t is str:
        return True
    if t is int:
        return -_SAFE < value < _SAFE  # type: ignore[operator]
    if t is list:
        return all(_plain(v) for v in value)  # type: ignore[attr-defined]
    if t is dict:
        return all(k.isascii() and _plain(v) for k, v in value.items())  # type: ignore[attr-defined]
    return False


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (``json`` for the plain shape of log bodies, else rfc8785)."""
    if _plain(value):
        try:
            return _ENCODER.encode(value).encode()
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it with its own error
            pass
    return rfc8785.dumps(value)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest: the election, the raw ``pubkey/1`` documents, and its canonical bytes."""

    election: Election
    document: Mapping[str, Any]
    work_group_key: Mapping[str, Any]
    scrutineer_keys: tuple[Mapping[str, Any], ...]
    canonical_bytes: bytes
    election_id: bytes


def election_id_of(document: Mapping[str, Any]) -> bytes:
    """``SHA-256("branch-election/manifest/1" || 0x00 || JCS(manifest))`` (spec/manifest.md §3)."""
    return hashlib.sha256(MANIFEST_DOMAIN + b"\x00" + canonical(document)).digest()


def public_summary(document: Mapping[str, Any], town_key: Mapping[str, Any]) -> dict[str, Any]:
    """The ``public-summary/1`` of a manifest (spec/manifest.md §6): what a voter's phone may be
    shown and the town committee signs beside the manifest; nothing personal (no roster, no birth
    date, education, status or exclusion, only the candidates' ids and names).

    Args:
        document: the ``manifest/1`` document (already parsed, so every member below exists).
        town_key: the ``pubkey/1`` document of the town committee key that signs the manifest.
    """
    d = document["definition"]
    e = d["election"]
    names = {m["id"]: m["name"] for m in d["members"]}
    return {
        "format": PUBLIC_SUMMARY_FORMAT,
        "election_id": election_id_of(document).hex(),
        "title": e["title"],
        "branch": e["branch"],
        "town": e["town"],
        "term": e["term"],
        "date": e["date"],
        "posts": [
            {
                "post": p["post"],
                "seats": p["seats"],
                "candidates": [{"id": c, "name": names[c]} for c in p["candidates"]],
            }
            for p in d["posts"]
        ],
        "work_group_key": dict(document["keys"]["work_group"]),
        "town_key": dict(town_key),
    }


def public_summary_hash(summary: Mapping[str, Any]) -> bytes:
    """``SHA-256("branch-election/public-summary/1" || 0x00 || JCS(summary))`` (spec/manifest.md
    §6), the value the invitation's check code binds (spec/remote.md RM-10.3)."""
    return hashlib.sha256(PUBLIC_SUMMARY_DOMAIN + b"\x00" + canonical(summary)).digest()


def resolved_definition(election: Election) -> dict[str, Any]:
    """The definition with every default explicit (spec/manifest.md §2)."""
    p = election.parameters
    return {
        "format": DEFINITION_FORMAT,
        "preset": p.preset.value,
        "election": {
            "title": election.title,
            "branch": election.branch,
            "town": election.town,
            "term": election.term,
            "date": election.election_date.isoformat(),
            "objections_to": election.objections_to,
        },
        "parameters": {
            "quorum_comparison": p.quorum_comparison.value,
            "threshold_base": p.threshold_base.value,
            "write_in_requires_disapproval": p.write_in_requires_disapproval,
            "write_in_unmarked": p.write_in_unmarked.value,
            "unreadable_mark": p.unreadable_mark.value,
            "publicity_working_days": p.publicity_working_days,
            "qualification_policy": p.qualification_policy.value,
            "secretary_new_max_age": p.secretary_new_max_age,
            "secretary_new_min_education": p.secretary_new_min_education.value,
            "secretary_continuing_max_age": p.secretary_continuing_max_age,
            "secretary_continuing_min_education": p.secretary_continuing_min_education.value,
        },
        "members": [
            {
                "id": m.id,
                "name": m.name,
                "sex": m.sex.value,
                "birth_date": m.birth_date.isoformat(),
                "education": m.education.value,
                "status": m.status.value,
                "registered_here": m.registered_here,
                "incumbent_secretary": m.incumbent_secretary,
            }
            for m in election.members
        ],
        "exclusions": [
            {
                "member": x.member,
                "category": x.category.value,
                "higher_level_approval": x.higher_level_approval,
                "assembly_approval": x.assembly_approval,
            }
            for x in election.exclusions
        ],
        "posts": [
            {
                "post": post.kind.value,
                "seats": post.seats,
                "candidates": list(post.candidates),
                "margin": post.margin.value,
            }
            for kind in _POST_ORDER
            if (post := election.post(kind)) is not None
        ],
        "secretary": {"elected_by": election.secretary_body.value},
        "officials": {
            "scrutineers": list(election.officials.scrutineers),
            "tellers": list(election.officials.tellers),
        },
        "remote_voting": {
            "approved": list(election.remote_voting.approved),
            "counts_toward_quorum": election.remote_voting.counts_toward_quorum,
        },
    }


def build_manifest(
    election: Election,
    *,
    work_group_key: Mapping[str, Any],
    scrutineer_keys: tuple[Mapping[str, Any], ...],
) -> Manifest:
    """Build the manifest of ``election`` for the given public-key documents.

    Raises:
        DefinitionError: no scrutineer key, or a key document of the wrong role.
    """
    document = {
        "format": MANIFEST_FORMAT,
        "definition": resolved_definition(election),
        "keys": {
            "work_group": dict(work_group_key),
            "scrutineers": [dict(k) for k in scrutineer_keys],
        },
    }
    return parse_manifest(document)


def _key_problem(doc: object, role: str, path: str) -> Problem | None:
    ok = (
        isinstance(doc, Mapping)
        and doc.get("format") == "pubkey/1"
        and doc.get("role") == role
        and isinstance(doc.get("key"), str)
    )
    if ok:
        return None
    return Problem(
        code="manifest.key",
        path=path,
        zh=f"应为角色 {role} 的公钥（pubkey/1）",
        en=f"must be a pubkey/1 document of role {role}",
    )


def _check_envelope(document: Mapping[str, Any]) -> None:
    """``manifest/1`` with exactly format, definition and keys, and a canonical JSON form."""
    if document.get("format") != MANIFEST_FORMAT or set(document) != {
        "format",
        "definition",
        "keys",
    }:
        raise DefinitionError(
            (
                Problem(
                    "manifest.format",
                    "",
                    "不是 manifest/1 选举清单",
                    "not a manifest/1 document",
                ),
            )
        )
    try:
        canonical(document)
    except ValueError as e:  # rfc8785: an integer beyond 2**53, a float, a lone surrogate
        raise DefinitionError(
            (
                Problem(
                    "manifest.format",
                    "",
                    "选举清单含有无法规范化的值（如超出 2^53 的整数）",
                    "the manifest holds a value with no canonical JSON form (e.g. an integer "
                    "beyond 2**53)",
                ),
            )
        ) from e


def _keys_problems(keys: Mapping[str, Any]) -> list[Problem]:
    """The work group's key and at least one scrutineer's, each a pubkey/1 of its role."""
    problems: list[Problem] = []
    if (p := _key_problem(keys["work_group"], "work_group", "keys.work_group")) is not None:
        problems.append(p)
    scrutineers = keys["scrutineers"]
    if not isinstance(scrutineers, list) or not scrutineers:
        problems.append(
            Problem(
                "manifest.keys",
                "keys.scrutineers",
                "至少需要一名监票人的公钥",
                "at least one scrutineer key is needed",
            )
        )
        scrutineers = []
    for i, k in enumerate(scrutineers):
        if (p := _key_problem(k, "scrutineer", f"keys.scrutineers[{i}]")) is not None:
            problems.append(p)
    return problems


def parse_manifest(document: Mapping[str, Any]) -> Manifest:
    """Parse a ``manifest/1`` value (already decoded JSON).

    Raises:
        DefinitionError: any problem with the format, the keys or the definition.
    """
    _check_envelope(document)
    keys = document["keys"]
    if not isinstance(keys, Mapping) or set(keys) != {"work_group", "scrutineers"}:
        raise DefinitionError(
            (Problem("manifest.keys", "keys", "公钥部分格式错误", "malformed keys"),)
        )
    problems = _keys_problems(keys)
    definition = document["definition"]
    if not isinstance(definition, Mapping):
        problems.append(Problem("manifest.definition", "definition", "缺少选举定义", "missing"))
    if problems:
        raise DefinitionError(tuple(problems))
    election = parse_definition_data(definition)
    if resolved_definition(election) != definition:
        raise DefinitionError(
            (
                Problem(
                    "manifest.not_resolved",
                    "definition",
                    "选举清单中的定义不是完整展开的规范形式",
                    "the manifest's definition is not in resolved form",
                ),
            )
        )
    wg = keys["work_group"]
    scrutineers = keys["scrutineers"]
    return Manifest(
        election=election,
        document=document,
        work_group_key=wg,
        scrutineer_keys=tuple(scrutineers),
        canonical_bytes=canonical(document),
        election_id=election_id_of(document),
    )
