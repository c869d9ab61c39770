"""Parse an election definition (TOML text) into :class:`tally.core.model.Election`.

Implements spec/definition.md and the registration-time rules of spec/rules.md (R1-R3, R18, R19,
R23-R25, R27, R30). Every problem in the file is collected and reported at once, each with its field
path, so a clerk can mend the file in one pass. Reading the file is the shell's job: this module
takes text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from tally.core.errors import DefinitionError, Problem
from tally.core.model import (
    ZH_ALIASES,
    Body,
    Education,
    Election,
    Exclusion,
    ExclusionCategory,
    MarginRule,
    Member,
    MemberId,
    MemberStatus,
    Officials,
    Parameters,
    Post,
    PostKind,
    Preset,
    QualificationPolicy,
    QuorumComparison,
    RemoteVoting,
    Sex,
    ThresholdBase,
    UnreadableMark,
    WriteInUnmarked,
    zh_label,
)
from tally.core.rules import (
    candidate_eligible_for_election,
    is_eligible_elector,
    margin_satisfied,
    qualification_problems,
)
from tally.core.toml_errors import load_toml

__all__ = [
    "FORMAT",
    "PRESET_DEFAULTS",
    "candidate_problems",
    "parse_definition",
    "parse_definition_data",
]

FORMAT = "election-definition/1"

E = TypeVar("E", bound=StrEnum)

# R1: what each preset fills in; every one of these may be overridden in [parameters].
PRESET_DEFAULTS: Mapping[Preset, Mapping[str, Any]] = {
    Preset.R2020: {
        "quorum_comparison": QuorumComparison.GT,
        "threshold_base": ThresholdBase.EXPECTED,
    },
    Preset.R1990: {
        "quorum_comparison": QuorumComparison.GT,
        "threshold_base": ThresholdBase.PRESENT,
    },
}
_COMMON_DEFAULTS: Mapping[str, Any] = {
    "write_in_requires_disapproval": False,
    "write_in_unmarked": WriteInUnmarked.IGNORED,
    "unreadable_mark": UnreadableMark.VOID_MARK,
    "publicity_working_days": 5,
    "qualification_policy": QualificationPolicy.BLOCK,
    "secretary_new_max_age": 45,
    "secretary_new_min_education": Education.SENIOR_HIGH,
    "secretary_continuing_max_age": 50,
    "secretary_continuing_min_education": Education.JUNIOR_HIGH,
}

_TOP_KEYS = {
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
_ELECTION_KEYS = {"title", "branch", "town", "term", "date", "objections_to"}
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
_POST_KEYS = {"post", "seats", "candidates", "margin"}
_MAX_SEATS = 15
# (R26, A12.8) Publicity: at least 5 working days (the town plan), at most 60.
_MIN_PUBLICITY = 5
_MAX_PUBLICITY = 60
# (R3.4, A12.11) Categories describing people who are never electors (R2): refused as exclusions.
_NEVER_ELECTOR_CATEGORIES = frozenset(
    {
        ExclusionCategory.PARTY_PROBATION,
        ExclusionCategory.MEMBERSHIP_STOPPED,
        ExclusionCategory.DETAINED,
    }
)
# What an unparsable date becomes (its problem is already recorded); never checked against R27.
_NO_DATE = dt.date(1900, 1, 1)
_MAX_MEMBERS = 20_000


class _Collector:
    """Accumulates problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: str, path: str, zh: str, en: str, clause: str = "") -> None:
        self.problems.append(Problem(code=code, path=path, zh=zh, en=en, clause=clause))

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(table) - allowed):
            where = f"{path}.{key}" if path else key
            self.add("field.unknown", where, "未知字段", "unknown field")

    def text(self, table: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            if required:
                self.add("field.missing", where, "缺少此项", "missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add("field.type", where, "应为非空文字", "must be non-empty text")
            return ""
        # Names are kept exactly as entered, only normalised to NFC (never transliterated).
        return unicodedata.normalize("NFC", value.strip())

    def boolean(self, table: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.add("field.type", f"{path}.{key}", "应为 true 或 false", "must be true or false")
            return default
        return value

    def integer(self, table: Mapping[str, Any], key: str, path: str, default: int | None) -> int:
        where = f"{path}.{key}" if path else key
        value = table.get(key, default)
        if value is None:
            self.add("field.missing", where, "缺少此项", "missing")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.add("field.type", where, "应为整数", "must be a whole number")
            return 0
        return value

    def date(self, table: Mapping[str, Any], key: str, path: str) -> dt.date:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        # The manifest (JSON) writes dates as "YYYY-MM-DD" strings.
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if value is None:
            self.add("field.missing", where, "缺少此项", "missing")
        else:
            self.add(
                "field.type",
                where,
                "应为日期，例如 1970-01-31",
                "must be a date such as 1970-01-31",
            )
        return _NO_DATE

    def enum(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        kind: type[E],
        default: E | None = None,
    ) -> E | None:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            if default is None:
                self.add("field.missing", where, "缺少此项", "missing")
            return default
        if isinstance(value, str):
            code = ZH_ALIASES.get(kind, {}).get(value, value)
            try:
                return kind(code)
            except ValueError:
                pass
        allowed = ", ".join(f"{m.value}（{zh_label(m)}）" for m in kind)
        allowed_en = ", ".join(m.value for m in kind)
        self.add(
            "field.choice",
            where,
            f"不认识的取值 {value!r}，可选：{allowed}",
            f"unknown value {value!r}; allowed: {allowed_en}",
        )
        return default

    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.add("field.type", path or key, "应为表（[节]）", "must be a table")
            return {}
        return value

    def array_of_tables(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add("field.type", key, "应为表数组（[[节]]）", "must be an array of tables")
            return []
        return value

    def ids(self, value: object, where: str) -> tuple[MemberId, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add("field.type", where, "应为党员编号列表", "must be a list of member ids")
            return ()
        return tuple(MemberId(unicodedata.normalize("NFC", v.strip())) for v in value)


def parse_definition(text: str) -> Election:
    """Parse the TOML text of an election definition.

    Args:
        text: the file's content.

    Raises:
        DefinitionError: with every problem found (malformed TOML gives one problem with its line).

    Returns:
        The validated election.
    """
    data = load_toml(text)
    return parse_definition_data(data)


def parse_definition_data(data: Mapping[str, Any]) -> Election:
    """Parse an already-decoded definition (the same checks as :func:`parse_definition`).

    Raises:
        DefinitionError: with every problem found.
    """
    c = _Collector()
    c.unknown_keys(data, _TOP_KEYS, "")
    fmt = data.get("format")
    if fmt != FORMAT:
        c.add(
            "format.version",
            "format",
            f"格式应为 {FORMAT!r}，实际为 {fmt!r}",
            f"format must be {FORMAT!r}, found {fmt!r}",
        )

    preset = c.enum(data, "preset", "", Preset, Preset.R2020) or Preset.R2020
    parameters = _parse_parameters(c, c.table(data, "parameters", "parameters"), preset)

    info = c.table(data, "election", "election")
    c.unknown_keys(info, _ELECTION_KEYS, "election")
    title = c.text(info, "title", "election")
    branch = c.text(info, "branch", "election")
    town = c.text(info, "town", "election")
    term = c.text(info, "term", "election")
    objections_to = c.text(info, "objections_to", "election")
    election_date = c.date(info, "date", "election")

    members = _parse_members(c, c.array_of_tables(data, "members"))
    by_id = {m.id: m for m in members}
    exclusions = _parse_exclusions(c, c.array_of_tables(data, "exclusions"), by_id)

    secretary = c.table(data, "secretary", "secretary")
    c.unknown_keys(secretary, {"elected_by"}, "secretary")
    body = c.enum(secretary, "elected_by", "secretary", Body, Body.ASSEMBLY) or Body.ASSEMBLY

    excluded = {x.member for x in exclusions}
    posts = _parse_posts(c, c.array_of_tables(data, "posts"), by_id, excluded, body)

    officials = _parse_officials(c, c.table(data, "officials", "officials"), by_id, posts)
    remote = _parse_remote(c, c.table(data, "remote_voting", "remote_voting"), by_id, excluded)

    # (R27, A12.13) Qualifications are checked in the same pass as everything else, for every
    # secretary candidate whose birth date (and the election date) parsed.
    if parameters.qualification_policy is QualificationPolicy.BLOCK and election_date != _NO_DATE:
        for post in posts:
            for cid in post.candidates:
                if by_id[cid].birth_date != _NO_DATE:
                    c.problems.extend(
                        qualification_problems(post.kind, by_id[cid], election_date, parameters)
                    )

    if c.problems:
        raise DefinitionError(tuple(c.problems))
    return Election(
        title=title,
        branch=branch,
        town=town,
        term=term,
        election_date=election_date,
        parameters=parameters,
        members=members,
        exclusions=exclusions,
        posts=posts,
        secretary_body=body,
        officials=officials,
        remote_voting=remote,
        objections_to=objections_to,
    )


def _parse_parameters(c: _Collector, table: Mapping[str, Any], preset: Preset) -> Parameters:
    defaults = {**_COMMON_DEFAULTS, **PRESET_DEFAULTS[preset]}
    c.unknown_keys(table, set(defaults), "parameters")
    p = "parameters"
    days = c.integer(table, "publicity_working_days", p, defaults["publicity_working_days"])
    if not _MIN_PUBLICITY <= days <= _MAX_PUBLICITY:
        c.add(
            "parameters.publicity",
            f"{p}.publicity_working_days",
            f"公示期应为 {_MIN_PUBLICITY} 到 {_MAX_PUBLICITY} 个工作日"
            "（镇实施方案：不少于 5 个工作日）",
            f"the publicity period must be {_MIN_PUBLICITY} to {_MAX_PUBLICITY} working days "
            "(the town plan: at least 5)",
            "R26",
        )

    def pick(key: str, kind: type[E]) -> E:
        got = c.enum(table, key, p, kind, defaults[key])
        return got if got is not None else defaults[key]  # type: ignore[no-any-return]

    return Parameters(
        preset=preset,
        quorum_comparison=pick("quorum_comparison", QuorumComparison),
        threshold_base=pick("threshold_base", ThresholdBase),
        write_in_requires_disapproval=c.boolean(
            table, "write_in_requires_disapproval", p, defaults["write_in_requires_disapproval"]
        ),
        write_in_unmarked=pick("write_in_unmarked", WriteInUnmarked),
        unreadable_mark=pick("unreadable_mark", UnreadableMark),
        publicity_working_days=days,
        qualification_policy=pick("qualification_policy", QualificationPolicy),
        secretary_new_max_age=c.integer(
            table, "secretary_new_max_age", p, defaults["secretary_new_max_age"]
        ),
        secretary_new_min_education=pick("secretary_new_min_education", Education),
        secretary_continuing_max_age=c.integer(
            table, "secretary_continuing_max_age", p, defaults["secretary_continuing_max_age"]
        ),
        secretary_continuing_min_education=pick("secretary_continuing_min_education", Education),
    )


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


def _default_margin(kind: PostKind, body: Body) -> MarginRule:
    # R19: the town plan's 20% for the secretary when the assembly elects; uncontested allowed
    # when the new committee elects its secretary.
    if kind is PostKind.COMMITTEE or body is not Body.COMMITTEE:
        return MarginRule.TWENTY_PERCENT
    return MarginRule.NONE


def _parse_posts(
    c: _Collector,
    rows: Sequence[Mapping[str, Any]],
    by_id: Mapping[MemberId, Member],
    excluded: set[MemberId],
    body: Body,
) -> tuple[Post, ...]:
    if not rows:
        c.add("posts.empty", "posts", "没有设置职位", "no posts are defined")
    posts: list[Post] = []
    kinds: set[PostKind] = set()
    for i, row in enumerate(rows):
        path = f"posts[{i}]"
        c.unknown_keys(row, _POST_KEYS, path)
        kind = c.enum(row, "post", path, PostKind)
        seats = c.integer(row, "seats", path, None)
        if seats <= 0 or seats > _MAX_SEATS:
            c.add(
                "post.seats",
                f"{path}.seats",
                f"应选人数应为 1 到 {_MAX_SEATS}",
                f"seats must be 1 to {_MAX_SEATS}",
            )
        if kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY) and seats > 1:
            c.add(
                "post.seats",
                f"{path}.seats",
                f"{zh_label(kind)}职数应为 1",
                f"{kind.value} has one seat",
            )
        if kind is not None and kind in kinds:
            c.add("post.duplicate", f"{path}.post", "职位重复", "post defined twice")
        if kind is not None:
            kinds.add(kind)
        candidates = _parse_candidates(c, row.get("candidates"), f"{path}.candidates", by_id)
        for j, cid in enumerate(candidates):
            member = by_id.get(cid)
            if member is None:
                continue
            c.problems.extend(candidate_problems(member, excluded, f"{path}.candidates[{j}]"))
        margin = (
            c.enum(row, "margin", path, MarginRule, None)
            if "margin" in row
            else (_default_margin(kind, body) if kind is not None else None)
        )
        if kind is None or margin is None or seats <= 0:
            continue
        if kind is PostKind.COMMITTEE and margin is not MarginRule.TWENTY_PERCENT:
            c.add(
                "post.margin",
                f"{path}.margin",
                "委员候选人差额不少于应选人数的20%，不能设为等额",
                "committee candidates need the 20% margin; it cannot be waived",
                "R18",
            )
        clause = "R18" if kind is PostKind.COMMITTEE else "R19"
        if len(candidates) < seats:
            # (A12.13) Fewer candidates than seats is its own problem, whatever the margin rule.
            twenty = margin is MarginRule.TWENTY_PERCENT or kind is PostKind.COMMITTEE
            need = seats + -(-seats // 5) if twenty else seats
            c.add(
                "post.too_few_candidates",
                f"{path}.candidates",
                f"候选人 {len(candidates)} 名少于应选 {seats} 名（至少需要 {need} 名）",
                f"{len(candidates)} candidates for {seats} seats (at least {need} needed)",
                clause,
            )
        elif not margin_satisfied(margin, len(candidates), seats):
            need = seats + -(-seats // 5)
            c.add(
                "post.margin",
                f"{path}.candidates",
                f"差额不足：应选 {seats} 名，候选人 {len(candidates)} 名，至少需要 {need} 名",
                f"competitive margin not met: {seats} seats, {len(candidates)} candidates, "
                f"at least {need} needed",
                clause,
            )
        posts.append(Post(kind=kind, seats=seats, candidates=candidates, margin=margin))

    _check_post_structure(c, posts, body, rows)
    return tuple(posts)


def candidate_problems(
    member: Member, excluded: Collection[MemberId], where: str
) -> tuple[Problem, ...]:
    """(R30) Why ``member`` cannot stand for any post: not eligible for election, or excluded
    from E. The same check for a definition's lists and for an amended list (RS7)."""
    cid = member.id
    if not candidate_eligible_for_election(member):
        return (
            Problem(
                "candidate.not_eligible",
                where,
                f"{member.name}（{cid}）为{zh_label(member.status)}"
                + ("" if member.registered_here else "，组织关系不在本支部")
                + "，没有被选举权",
                f"{member.name} ({cid}) is {member.status.value}"
                + ("" if member.registered_here else ", registered elsewhere")
                + " and cannot be elected",
                "R30",
            ),
        )
    if cid in excluded:
        return (
            Problem(
                "candidate.excluded",
                where,
                f"{member.name}（{cid}）已列入不计入应到会人数名单，不能作为候选人",
                f"{member.name} ({cid}) is excluded from E and cannot stand",
                "R30",
            ),
        )
    return ()


def _parse_candidates(
    c: _Collector, value: object, where: str, by_id: Mapping[MemberId, Member]
) -> tuple[MemberId, ...]:
    ids = c.ids(value, where)
    out: list[MemberId] = []
    for j, cid in enumerate(ids):
        if cid not in by_id:
            c.add(
                "candidate.not_on_roster",
                f"{where}[{j}]",
                f"候选人 {cid} 不在名册中",
                f"candidate {cid} is not on the roster",
                "R30",
            )
        elif cid in out:
            c.add(
                "candidate.duplicate",
                f"{where}[{j}]",
                f"候选人 {cid} 重复",
                f"candidate {cid} is listed twice",
            )
        else:
            out.append(cid)
    return tuple(out)


def _check_post_structure(
    c: _Collector, posts: Sequence[Post], body: Body, rows: Sequence[Mapping[str, Any]]
) -> None:
    kinds = {p.kind: p for p in posts}
    if rows and PostKind.SECRETARY not in kinds and len(posts) == len(rows):
        c.add("post.no_secretary", "posts", "没有设置书记职位", "there is no secretary post")
    committee = kinds.get(PostKind.COMMITTEE)
    if committee is None:
        if body is not Body.ASSEMBLY and posts:
            c.add(
                "secretary.body",
                "secretary.elected_by",
                "不设支部委员会的支部由党员大会直接选举书记",
                "a branch without a committee elects its secretary in the assembly",
                "R23",
            )
        return
    # R20/R21/R22: whatever the body, the secretary comes from the new committee (in a direct
    # election the committee ballots are counted first), so a secretary candidate who is not a
    # committee candidate could never be elected.
    direct = body is Body.DIRECT
    for kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY):
        post = kinds.get(kind)
        if post is None:
            continue
        for cid in post.candidates:
            if cid not in committee.candidates:
                c.add(
                    "secretary.not_committee_candidate",
                    f"posts.{kind.value}.candidates",
                    f"{zh_label(kind)}候选人 {cid} 不是委员候选人"
                    + (
                        "：直接选举时书记、副书记候选人须同时是委员候选人"
                        if direct
                        else "，不能从新一届委员会中产生"
                    ),
                    f"{kind.value} candidate {cid} is not a committee candidate"
                    + (
                        " (in a direct election secretary and deputy candidates must also "
                        "stand for the committee)"
                        if direct
                        else ""
                    ),
                    "R22" if direct else "R20",
                )


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
