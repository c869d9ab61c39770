"""The roster and who may do what in the election (spec/definition.md; spec/rules.md R2, R3,
R24, R25, D-5.3): members, exclusions from E, the officials of the first round, the members
approved to vote remotely."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from tally.core.definition._collector import _Collector
from tally.core.model import (
    Education,
    Exclusion,
    ExclusionCategory,
    Member,
    MemberId,
    MemberStatus,
    Officials,
    Post,
    PostKind,
    RemoteVoting,
    Sex,
    zh_label,
)
from tally.core.rules import (
    is_eligible_elector,
)

_MEMBER_KEYS = {
    "id",
    "name",
    "sex",
    "birth_date",
    "education",
    "status",
    "registered_here",
    "incumbent_secretary",
}
_EXCLUSION_KEYS = {"member", "category", "higher_level_approval", "assembly_approval"}
# (R3.4, A12.11) Categories describing people who are never electors (R2): refused as exclusions.
_NEVER_ELECTOR_CATEGORIES = frozenset(
    {
        ExclusionCategory.PARTY_PROBATION,
        ExclusionCategory.MEMBERSHIP_STOPPED,
        ExclusionCategory.DETAINED,
    }
)
_MAX_MEMBERS = 20_000


MEMBER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
"""(D-5.3) A member id: ASCII only, so that no two ids look alike (Cyrillic М001 beside M001)."""


def _parse_members(c: _Collector, rows: Sequence[Mapping[str, Any]]) -> tuple[Member, ...]:
    if not rows:
        c.add("members.empty", "members", "名册为空", "the roster is empty")
    if len(rows) > _MAX_MEMBERS:
        c.add(
            "members.too_many",
            "members",
            f"名册超过 {_MAX_MEMBERS} 人",
            f"more than {_MAX_MEMBERS} members",
        )
        return ()
    members: list[Member] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        path = f"members[{i}]"
        c.unknown_keys(row, _MEMBER_KEYS, path)
        mid = c.text(row, "id", path)
        if mid and MEMBER_ID_PATTERN.fullmatch(mid) is None:  # (D-5.3) no look-alike ids
            c.add(
                "members.id_format",
                f"{path}.id",
                f"党员编号 {mid!r} 只能由 ASCII 字母、数字和 . _ - 组成（1 到 32 个字符，"
                "以字母或数字开头）",
                f"member id {mid!r} must be 1 to 32 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
        if mid in seen:
            c.add(
                "members.duplicate_id",
                f"{path}.id",
                f"党员编号 {mid} 与 members[{seen[mid]}] 重复",
                f"member id {mid} repeats members[{seen[mid]}]",
            )
        elif mid:
            seen[mid] = i
        name = c.text(row, "name", path)
        sex = c.enum(row, "sex", path, Sex)
        birth = c.date(row, "birth_date", path)
        education = c.enum(row, "education", path, Education)
        status = c.enum(row, "status", path, MemberStatus)
        here = c.boolean(row, "registered_here", path, True)
        incumbent = c.boolean(row, "incumbent_secretary", path, False)
        if mid and name and sex and education and status:
            members.append(
                Member(
                    id=MemberId(mid),
                    name=name,
                    sex=sex,
                    birth_date=birth,
                    education=education,
                    status=status,
                    registered_here=here,
                    incumbent_secretary=incumbent,
                )
            )
    return tuple(members)


def _member_ref(
    c: _Collector, value: object, where: str, by_id: Mapping[MemberId, Member]
) -> MemberId | None:
    if not isinstance(value, str) or not value.strip():
        c.add("field.type", where, "应为党员编号", "must be a member id")
        return None
    mid = MemberId(unicodedata.normalize("NFC", value.strip()))
    if mid not in by_id:
        c.add("member.unknown", where, f"名册中没有编号 {mid}", f"no member {mid} on the roster")
        return None
    return mid


def _parse_exclusions(
    c: _Collector, rows: Sequence[Mapping[str, Any]], by_id: Mapping[MemberId, Member]
) -> tuple[Exclusion, ...]:
    out: list[Exclusion] = []
    seen: set[MemberId] = set()
    for i, row in enumerate(rows):
        path = f"exclusions[{i}]"
        c.unknown_keys(row, _EXCLUSION_KEYS, path)
        mid = _member_ref(c, row.get("member"), f"{path}.member", by_id)
        category = c.enum(row, "category", path, ExclusionCategory)
        ok = True
        if category in _NEVER_ELECTOR_CATEGORIES:
            # (R3.4, A12.11) Such a person is not an eligible elector at all (R2): the roster
            # status says so, and E never counted them; an exclusion is for electors only.
            c.add(
                "exclusion.category_not_elector",
                f"{path}.category",
                f"{zh_label(category)}的党员本来就不是有选举权的党员（R2），不计入应到会人数无从谈起："
                "请在名册中如实填写其党籍状态，不要列入不计入名单",
                f"a member in category {category.value} is simply not an eligible elector (R2) "
                "and is never counted in E: record the status on the roster instead of an "
                "exclusion",
                "R3",
            )
            ok = False
        higher = row.get("higher_level_approval")
        assembly = row.get("assembly_approval")
        for key, value, zh in (
            ("higher_level_approval", higher, "上级党组织同意的文件"),
            ("assembly_approval", assembly, "党员大会通过的记录"),
        ):
            if not isinstance(value, str) or not value.strip():
                c.add(
                    "exclusion.approval_missing",
                    f"{path}.{key}",
                    f"不计入应到会人数须同时经上级党组织同意和党员大会通过：缺少{zh}",
                    "an exclusion needs both the higher level's agreement and the assembly's "
                    f"approval: {key} is missing",
                    "R3",
                )
                ok = False
        if mid is not None and mid in seen:
            c.add(
                "exclusion.duplicate",
                f"{path}.member",
                f"党员 {mid} 重复列入不计入名单",
                f"member {mid} is excluded twice",
            )
            ok = False
        if mid is not None:
            seen.add(mid)
            if not is_eligible_elector(by_id[mid]):
                c.add(
                    "exclusion.not_elector",
                    f"{path}.member",
                    f"党员 {mid} 本无选举权，不必列入不计入名单（R2）",
                    f"member {mid} has no vote anyway; do not list as an exclusion (R2)",
                    "R3",
                )
                ok = False
        if ok and mid is not None and category is not None:
            assert isinstance(higher, str)
            assert isinstance(assembly, str)
            out.append(
                Exclusion(
                    member=mid,
                    category=category,
                    higher_level_approval=higher.strip(),
                    assembly_approval=assembly.strip(),
                )
            )
    return tuple(out)


def _parse_officials(
    c: _Collector,
    table: Mapping[str, Any],
    by_id: Mapping[MemberId, Member],
    posts: Sequence[Post],
) -> Officials:
    c.unknown_keys(table, {"scrutineers", "tellers"}, "officials")
    # (R25.1) the definition's officials serve from the first round, which is the first post's
    # (RS1); serving in one round does not bar standing in another (R25.2).
    order = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)
    first = min(posts, key=lambda p: order.index(p.kind), default=None)
    candidates = set(first.candidates) if first is not None else set()
    out: dict[str, tuple[MemberId, ...]] = {}
    for key, zh in (("scrutineers", "监票人"), ("tellers", "计票人")):
        where = f"officials.{key}"
        ids = c.ids(table.get(key, []), where)
        if not ids:
            c.add("officials.missing", where, f"至少需要一名{zh}", f"at least one {key[:-1]}")
        for j, mid in enumerate(ids):
            if mid not in by_id:
                c.add(
                    "member.unknown",
                    f"{where}[{j}]",
                    f"名册中没有编号 {mid}",
                    f"no member {mid} on the roster",
                )
            elif ids.index(mid) != j:
                c.add(
                    "official.duplicate",
                    f"{where}[{j}]",
                    f"{by_id[mid].name}（{mid}）在{zh}名单中重复",
                    f"{by_id[mid].name} ({mid}) is listed twice as {key[:-1]}",
                    "R25",
                )
            elif mid in candidates:
                c.add(
                    "official.is_candidate",
                    f"{where}[{j}]",
                    f"{by_id[mid].name}（{mid}）是第一轮的候选人，不能担任第一轮的{zh}",
                    f"{by_id[mid].name} ({mid}) is a candidate of the first round and cannot be "
                    f"its {key[:-1]}",
                    "R25",
                )
        out[key] = ids
    overlap = set(out["scrutineers"]) & set(out["tellers"])
    for mid in sorted(overlap):
        c.add(
            "official.both_roles",
            "officials",
            f"{mid} 不能同时担任监票人和计票人",
            f"{mid} cannot be both scrutineer and teller",
            "R25",
        )
    return Officials(scrutineers=out["scrutineers"], tellers=out["tellers"])


def _parse_remote(
    c: _Collector,
    table: Mapping[str, Any],
    by_id: Mapping[MemberId, Member],
    excluded: set[MemberId],
) -> RemoteVoting:
    c.unknown_keys(table, {"approved", "counts_toward_quorum"}, "remote_voting")
    ids = c.ids(table.get("approved", []), "remote_voting.approved")
    for j, mid in enumerate(ids):
        where = f"remote_voting.approved[{j}]"
        member = by_id.get(mid)
        if member is None:
            c.add("member.unknown", where, f"名册中没有编号 {mid}", f"no member {mid} on roster")
        elif not is_eligible_elector(member) or mid in excluded:
            c.add(
                "remote.not_elector",
                where,
                f"{member.name}（{mid}）不是应到会的有选举权党员，不能远程投票",
                f"{member.name} ({mid}) is not an expected elector and cannot vote remotely",
                "R24",
            )
    return RemoteVoting(
        approved=ids,
        counts_toward_quorum=c.boolean(
            table, "counts_toward_quorum", "remote_voting", default=False
        ),
    )
