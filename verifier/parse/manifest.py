"""Parse ``signed-manifest/1`` and ``manifest/1`` (spec/manifest.md §1-§4, spec/definition.md).

Shapes and types only; the rules (R2-R30) are checked by ``verifier.checks``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from verifier.canonical import canonical_bytes
from verifier.crypto import PublicKey, b64decode_canonical, parse_pubkey_value
from verifier.errors import PublicKeyError
from verifier.model import (
    EDUCATION_ORDER,
    POST_ORDER,
    Definition,
    Exclusion,
    Manifest,
    Member,
    Parameters,
    Post,
)
from verifier.parse._reader import Reader, err

__all__ = [
    "CATEGORIES",
    "MANIFEST_DOMAIN",
    "NEVER_ELECTOR_CATEGORIES",
    "STATUSES",
    "election_id_of",
    "parse_manifest",
    "parse_signed_manifest",
]

MANIFEST_DOMAIN: Final = b"branch-election/manifest/1"
STATUSES: Final = ("full", "probationary", "party_probation", "suspended", "membership_stopped")
CATEGORIES: Final = (
    "illness",
    "abroad",
    "membership_stopped",
    "party_probation",
    "detained",
    "infirm",
    "away_unmoved",
    "migrant_applied",
)
# (R3.4) Categories that describe people who are never electors (R2): refused by V4.
NEVER_ELECTOR_CATEGORIES: Final = frozenset({"party_probation", "membership_stopped", "detained"})


_MEMBER_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)


# --------------------------------------------------------------------------- manifest


def election_id_of(manifest_value: object, jcs: bytes | None = None) -> bytes:
    """``SHA-256("branch-election/manifest/1" || 0x00 || JCS(manifest))`` (manifest.md §3).

    ``jcs``: ``JCS(manifest_value)`` when the caller has it already (it is the town signature's
    message too; serialising a large manifest with ``rfc8785`` takes tenths of a second).
    """
    message = canonical_bytes(manifest_value) if jcs is None else jcs
    return hashlib.sha256(MANIFEST_DOMAIN + b"\x00" + message).digest()


def parse_signed_manifest(value: object) -> tuple[Any, PublicKey, bytes, bytes]:
    """Split a ``signed-manifest/1`` (manifest.md §4); checks the format and the town key role.

    Raises:
        DocumentFormatError: not ``signed-manifest/1`` or a malformed member (clause V2).
        PublicKeyError: the town key is not a valid ``pubkey/1`` of role ``town_committee``.

    Returns:
        (the raw manifest value, the town key, the 64-byte signature, the 64-byte signature on
        the public summary, manifest.md §6).
    """
    members = frozenset({"format", "manifest", "town_key", "signature", "summary_signature"})
    r = Reader(value, "", "V2", members)
    if r.raw("format") != "signed-manifest/1":
        raise err(
            "V2", "format", "not signed-manifest/1", "不是 signed-manifest/1", "format.version"
        )
    town = parse_pubkey_value(r.raw("town_key"), path="town_key", role="town_committee")
    sig = b64decode_canonical(r.raw("signature"), 64)
    if sig is None:
        raise err("V2", "signature", "signature not canonical base64 of 64 bytes", "签名格式无效")
    summary_sig = b64decode_canonical(r.raw("summary_signature"), 64)
    if summary_sig is None:
        raise err(
            "V2",
            "summary_signature",
            "summary_signature not canonical base64 of 64 bytes",
            "公开摘要签名格式无效",
        )
    return r.raw("manifest"), town, sig, summary_sig


_PARAMS: Final = frozenset(
    {
        "quorum_comparison",
        "threshold_base",
        "write_in_requires_disapproval",
        "write_in_unmarked",
        "unreadable_mark",
        "publicity_working_days",
        "qualification_policy",
        "secretary_new_max_age",
        "secretary_new_min_education",
        "secretary_continuing_max_age",
        "secretary_continuing_min_education",
    }
)


def _parameters(value: object) -> Parameters:
    r = Reader(value, "definition.parameters", "V3", _PARAMS)
    days = r.int_("publicity_working_days")
    if not 1 <= days <= 60:
        raise err(
            "V3",
            r.at("publicity_working_days"),
            "must be 1..60",
            "应为 1..60",
            "parameters.publicity",
        )
    return Parameters(
        quorum_comparison=r.code("quorum_comparison", ("GT", "GE")),
        threshold_base=r.code("threshold_base", ("E", "P")),
        write_in_requires_disapproval=r.bool_("write_in_requires_disapproval"),
        write_in_unmarked=r.code("write_in_unmarked", ("ignored", "approval")),
        unreadable_mark=r.code("unreadable_mark", ("void_mark", "void_ballot")),
        publicity_working_days=days,
        qualification_policy=r.code("qualification_policy", ("block", "warn")),
        secretary_new_max_age=r.int_("secretary_new_max_age"),
        secretary_new_min_education=r.code("secretary_new_min_education", EDUCATION_ORDER),
        secretary_continuing_max_age=r.int_("secretary_continuing_max_age"),
        secretary_continuing_min_education=r.code(
            "secretary_continuing_min_education", EDUCATION_ORDER
        ),
    )


_MEMBER: Final = frozenset(
    {
        "id",
        "name",
        "sex",
        "birth_date",
        "education",
        "status",
        "registered_here",
        "incumbent_secretary",
    }
)


def _definition(value: object) -> Definition:
    top = Reader(
        value,
        "definition",
        "V3",
        frozenset(
            {
                "format",
                "preset",
                "election",
                "parameters",
                "members",
                "exclusions",
                "posts",
                "secretary",
                "officials",
                "remote_voting",
            }
        ),
    )
    if top.raw("format") != "election-definition/1":
        raise err(
            "V3", top.at("format"), "not election-definition/1", "格式版本不符", "format.version"
        )
    preset = top.code("preset", ("R2020", "R1990"))
    el = Reader(
        top.raw("election"),
        "definition.election",
        "V3",
        frozenset({"title", "branch", "town", "term", "objections_to", "date"}),
    )
    params = _parameters(top.raw("parameters"))
    members = []
    seen: set[str] = set()
    mlist = top.list_("members")
    if not mlist or len(mlist) > 20000:
        raise err(
            "V3",
            "definition.members",
            "roster empty or too large",
            "名册为空或过大",
            "members.empty",
        )
    for i, m in enumerate(mlist):
        mr = Reader(m, f"definition.members[{i}]", "V3", _MEMBER)
        mid = mr.text("id")
        if _MEMBER_ID.fullmatch(mid) is None:  # (V3, spec/definition.md D-5.3)
            raise err(
                "V3",
                mr.at("id"),
                f"member id {mid!r} is not 1-32 ASCII letters, digits, '.', '_' or '-'",
                f"党员编号 {mid!r} 不是 1 到 32 个 ASCII 字母、数字或 . _ -",
                "members.id_format",
            )
        if mid in seen:
            raise err(
                "V3",
                mr.at("id"),
                f"duplicate member id {mid}",
                f"成员编号重复 {mid}",
                "members.duplicate_id",
            )
        seen.add(mid)
        members.append(
            Member(
                id=mid,
                name=mr.text("name"),
                sex=mr.code("sex", ("male", "female")),
                birth_date=mr.date("birth_date"),
                education=mr.code("education", EDUCATION_ORDER),
                status=mr.code("status", STATUSES),
                registered_here=mr.bool_("registered_here"),
                incumbent_secretary=mr.bool_("incumbent_secretary"),
            )
        )
    exclusions = []
    for i, x in enumerate(top.list_("exclusions")):
        xr = Reader(
            x,
            f"definition.exclusions[{i}]",
            "V3",
            frozenset({"member", "category", "higher_level_approval", "assembly_approval"}),
        )
        exclusions.append(
            Exclusion(
                member=xr.str_("member", nonempty=True),
                category=xr.code("category", CATEGORIES),
                higher_level_approval=xr.str_("higher_level_approval"),
                assembly_approval=xr.str_("assembly_approval"),
            )
        )
    posts = []
    for i, p in enumerate(top.list_("posts")):
        pr = Reader(
            p, f"definition.posts[{i}]", "V3", frozenset({"post", "seats", "candidates", "margin"})
        )
        seats = pr.int_("seats")
        post = pr.code("post", POST_ORDER)
        if not 1 <= seats <= 15 or (post != "committee" and seats != 1):
            raise err(
                "V3",
                pr.at("seats"),
                f"seats {seats} out of range",
                "应选人数超出范围",
                "post.seats",
            )
        posts.append(
            Post(
                post=post,
                seats=seats,
                candidates=pr.ids("candidates"),
                margin=pr.code("margin", ("20pct", "none")),
            )
        )
    order = [p.post for p in posts]
    if not posts or order != sorted(set(order), key=POST_ORDER.index):
        raise err(
            "V3",
            "definition.posts",
            "posts must be committee, secretary, deputy_secretary in order, once each",
            "职位须按委员、书记、副书记顺序且各一次",
            "post.duplicate",
        )
    sec = Reader(top.raw("secretary"), "definition.secretary", "V3", frozenset({"elected_by"}))
    off = Reader(
        top.raw("officials"), "definition.officials", "V3", frozenset({"scrutineers", "tellers"})
    )
    rv = Reader(
        top.raw("remote_voting"),
        "definition.remote_voting",
        "V3",
        frozenset({"approved", "counts_toward_quorum"}),
    )
    return Definition(
        preset=preset,
        title=el.text("title"),
        branch=el.text("branch"),
        town=el.text("town"),
        term=el.text("term"),
        objections_to=el.text("objections_to"),
        date=el.date("date"),
        parameters=params,
        members=tuple(members),
        exclusions=tuple(exclusions),
        posts=tuple(posts),
        elected_by=sec.code("elected_by", ("assembly", "committee", "direct")),
        scrutineers=off.ids("scrutineers"),
        tellers=off.ids("tellers"),
        remote_approved=rv.ids("approved"),
        counts_toward_quorum=rv.bool_("counts_toward_quorum"),
    )


def parse_manifest(value: object, jcs: bytes | None = None) -> Manifest:
    """Parse ``manifest/1`` (manifest.md §1, §2): shapes and types only (V3).

    ``jcs``: ``JCS(value)`` if already computed (see ``election_id_of``).

    Raises:
        DocumentFormatError: with clause V3 and the field path.

    Returns:
        The manifest with its recomputed election id.
    """
    r = Reader(value, "", "V3", frozenset({"format", "definition", "keys"}))
    if r.raw("format") != "manifest/1":
        raise err("V3", "format", "not manifest/1", "不是 manifest/1", "format.version")
    definition = _definition(r.raw("definition"))
    kr = Reader(r.raw("keys"), "keys", "V3", frozenset({"work_group", "scrutineers"}))
    try:
        wg = parse_pubkey_value(kr.raw("work_group"), path="keys.work_group", role="work_group")
        scr = tuple(
            parse_pubkey_value(k, path=f"keys.scrutineers[{i}]", role="scrutineer")
            for i, k in enumerate(kr.list_("scrutineers"))
        )
    except PublicKeyError as e:
        raise err("V3", e.path, e.en, e.zh, e.code) from e
    if not scr:
        raise err("V3", "keys.scrutineers", "at least one scrutineer key", "至少需要一个监票人公钥")
    return Manifest(
        definition=definition,
        work_group=wg,
        scrutineers=scr,
        election_id=election_id_of(value, jcs),
    )


# --------------------------------------------------------------------------- log entries
