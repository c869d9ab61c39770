"""(RP-2.1, RP-2.2, RP-2.4) The sections of ``procedure/1``, each read with every problem recorded:
the election, the posts and their sizes, the ballot order, the recommendation, the evaluation,
the qualifications and the keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tally.core.model import (
    Body,
    Education,
    MarginRule,
    Member,
    MemberId,
    PostKind,
    QualificationPolicy,
    zh_label,
)
from tally.core.procedure._common import (
    _ELECTION_KEYS,
    _LABEL_CHARS,
    _LETTER,
    _MAX_DENOMINATOR,
    _MAX_REPRESENTATIVES,
    _MAX_SEATS,
    _MAX_WEIGHT,
    _POST_KEYS,
    _POST_ORDER,
    _QUALIFICATION_KEYS,
    _SCALE_SIZE,
    MEMBER_ID_PATTERN,
    Collector,
    _ceil_fifth,
    _choice,
    _in_range,
    _keys_problem,
    _parameter,
    _parse_key,
    _table,
)
from tally.core.procedure.model import (
    Evaluation,
    FailComparison,
    ProcedureInfo,
    ProcedureKeys,
    ProcedurePost,
    Qualifications,
    Ranking,
    RankingMode,
    Recommendation,
    RecommendationLayout,
    RecommendationQuorum,
    ScaleItem,
)
from tally.core.rules import is_eligible_elector, margin_satisfied

__all__ = [
    "ballot_order",
    "election",
    "evaluation",
    "posts",
    "procedure_keys",
    "qualifications",
    "recommendation",
]


def _election(c: Collector, table: Mapping[str, Any]) -> ProcedureInfo | None:
    c.unknown_keys(table, _ELECTION_KEYS, "election")
    title = c.text(table, "title", "election")
    branch = c.text(table, "branch", "election")
    code = c.text(table, "branch_code", "election")
    town = c.text(table, "town", "election")
    term = c.text(table, "term", "election")
    if code and MEMBER_ID_PATTERN.fullmatch(code) is None:
        c.add(
            "procedure.branch_code",
            "election.branch_code",
            f"支部代码 {code!r} 只能由 ASCII 字母、数字和 . _ - 组成"
            "（1 到 32 个字符，以字母或数字开头）",
            f"branch code {code!r} must be 1 to 32 ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            "RP-2.4",
        )
    if not (title and branch and code and town and term):
        return None
    return ProcedureInfo(title=title, branch=branch, branch_code=code, town=town, term=term)


def _posts(c: Collector, data: Mapping[str, Any], body: Body | None) -> tuple[ProcedurePost, ...]:
    rows = c.array_of_tables(data, "posts")
    if not rows:
        c.add("posts.empty", "posts", "没有设置职位", "no posts are defined")
    posts: list[ProcedurePost] = []
    for i, row in enumerate(rows):
        post = _post(c, row, f"posts[{i}]", {p.kind for p in posts})
        if post is not None:
            posts.append(post)
    kinds = [p.kind for p in posts]
    if kinds != sorted(kinds, key=_POST_ORDER.index):
        _parameter(
            c,
            "posts",
            "职位应按委员、书记、副书记的顺序排列",
            "posts must be in the order committee, secretary, deputy_secretary",
            "RP-2.1",
        )
    if rows and len(posts) == len(rows):
        # (R23) A secretary post always; a branch without a committee elects in the assembly.
        if PostKind.SECRETARY not in kinds:
            c.add("post.no_secretary", "posts", "没有设置书记职位", "there is no secretary post")
        if PostKind.COMMITTEE not in kinds and body is not None and body is not Body.ASSEMBLY:
            c.add(
                "secretary.body",
                "secretary.elected_by",
                "不设支部委员会的支部由党员大会直接选举书记",
                "a branch without a committee elects its secretary in the assembly",
                "R23",
            )
    return tuple(posts)


def _post(
    c: Collector, row: Mapping[str, Any], path: str, seen: set[PostKind]
) -> ProcedurePost | None:
    c.unknown_keys(row, _POST_KEYS, path)
    kind = c.enum(row, "post", path, PostKind)
    seats = c.integer(row, "seats", path, None)
    ok = kind is not None
    if not 1 <= seats <= _MAX_SEATS:
        c.add(
            "post.seats",
            f"{path}.seats",
            f"应选人数应为 1 到 {_MAX_SEATS}",
            f"seats must be 1 to {_MAX_SEATS}",
        )
        ok = False
    elif kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY) and seats > 1:
        c.add("post.seats", f"{path}.seats", f"{zh_label(kind)}职数应为 1", f"{kind} has one seat")
        ok = False
    if kind is not None and kind in seen:
        c.add("post.duplicate", f"{path}.post", "职位重复", "post defined twice")
        ok = False
    margin = c.enum(row, "margin", path, MarginRule)
    if kind is PostKind.COMMITTEE and margin is MarginRule.NONE:
        c.add(
            "post.margin",
            f"{path}.margin",
            "委员候选人差额不少于应选人数的20%，不能设为等额",
            "committee candidates need the 20% margin; it cannot be waived",
            "R18",
        )
        ok = False
    size = c.integer(row, "preliminary_size", path, None)
    formal = c.integer(row, "formal_size", path, None)
    per_ballot = c.integer(row, "max_per_ballot", path, None)
    if not ok or margin is None or kind is None:
        return None
    # (RP-2.2) L: at least the 20% margin, at most max(2S, S+2).
    cap = max(2 * seats, seats + 2)
    if not (5 * (size - seats) >= seats and size <= cap):
        _parameter(
            c,
            f"{path}.preliminary_size",
            f"初步人选人数 {size} 应不少于 {seats + _ceil_fifth(seats)}（差额不少于20%）"
            f"且不多于 {cap}",
            f"the preliminary size {size} must be at least {seats + _ceil_fifth(seats)} "
            f"(the 20% margin) and at most {cap}",
        )
        ok = False
    # (RP-2.2) F: 0, or meeting the post's margin and at most L.
    if formal != 0 and not (margin_satisfied(margin, formal, seats) and formal <= size):
        _parameter(
            c,
            f"{path}.formal_size",
            f"正式候选人人数 {formal} 应为 0（全部通过考察的人选），或符合本职位的差额要求且不多于"
            f"初步人选人数 {size}",
            f"the formal size {formal} must be 0 (every name that proceeds) or meet the post's "
            f"margin and be at most the preliminary size {size}",
        )
        ok = False
    # (RP-2.2) K: 1 <= K <= L.
    if not 1 <= per_ballot <= max(size, 1):
        _parameter(
            c,
            f"{path}.max_per_ballot",
            f"每张推荐票最多推荐人数 {per_ballot} 应为 1 到初步人选人数 {size}",
            f"the names per recommendation ballot {per_ballot} must be 1 to the preliminary "
            f"size {size}",
        )
        ok = False
    if not ok:
        return None
    return ProcedurePost(
        kind=kind,
        seats=seats,
        margin=margin,
        preliminary_size=size,
        formal_size=formal,
        max_per_ballot=per_ballot,
    )


def _ballot_order(
    c: Collector,
    value: object,
    members: Sequence[Member],
    by_id: Mapping[MemberId, Member],
    excluded: set[MemberId],
) -> tuple[MemberId, ...]:
    """(RP-2.1, RP-2.4, RP-3.1) Exactly the nominable members, each once."""
    if value is None:
        c.add("field.missing", "ballot_order", "缺少此项", "missing")
        return ()
    ids = c.ids(value, "ballot_order")
    nominable = [m.id for m in members if is_eligible_elector(m) and m.id not in excluded]
    seen: set[MemberId] = set()
    for j, mid in enumerate(ids):
        where = f"ballot_order[{j}]"
        member = by_id.get(mid)
        if mid in seen:
            zh, en = f"{mid} 重复", f"{mid} is listed twice"
        elif member is None:
            zh, en = f"名册中没有编号 {mid}", f"no member {mid} on the roster"
        elif mid in excluded:
            zh = f"{member.name}（{mid}）已列入不计入应到会人数名单，不能被推荐"
            en = f"{member.name} ({mid}) is excluded from E and may not be recommended"
        elif not is_eligible_elector(member):
            zh = f"{member.name}（{mid}）为{zh_label(member.status)}" + (
                "" if member.registered_here else "，组织关系不在本支部"
            )
            zh += "，不能被推荐"
            en = f"{member.name} ({mid}) is {member.status.value}" + (
                "" if member.registered_here else ", registered elsewhere"
            )
            en += ", and may not be recommended"
        else:
            seen.add(mid)
            continue
        seen.add(mid)
        c.add("procedure.ballot_order", where, zh, en, "RP-2.4")
    missing = [mid for mid in nominable if mid not in seen]
    if missing and isinstance(value, list):
        names = "、".join(f"{by_id[m].name}（{m}）" for m in missing)
        names_en = ", ".join(f"{by_id[m].name} ({m})" for m in missing)
        c.add(
            "procedure.ballot_order",
            "ballot_order",
            f"推荐票排列顺序缺少可被推荐的党员：{names}",
            f"the ballot order leaves out nominable members: {names_en}",
            "RP-2.4",
        )
    return tuple(mid for mid in ids if mid in by_id)


def _recommendation(c: Collector, table: Mapping[str, Any] | None) -> Recommendation | None:
    p = "recommendation"
    if table is None:
        return None
    c.unknown_keys(table, {"layout", "quorum", "public_representatives", "ranking"}, p)
    layout = _choice(c, table, "layout", p, RecommendationLayout)
    quorum = _choice(c, table, "quorum", p, RecommendationQuorum)
    reps = c.integer(table, "public_representatives", p, None)
    ok = _in_range(
        c, reps, 1, _MAX_REPRESENTATIVES, where=f"{p}.public_representatives", clause="RP-2.2"
    )
    ranking_table = _table(c, table, "ranking", p)
    if ranking_table is None:
        return None
    rp = f"{p}.ranking"
    c.unknown_keys(ranking_table, {"mode", "member_weight", "public_weight"}, rp)
    mode = _choice(c, ranking_table, "mode", rp, RankingMode)
    wm = c.integer(ranking_table, "member_weight", rp, None)
    wp = c.integer(ranking_table, "public_weight", rp, None)
    ok &= _in_range(c, wm, 0, _MAX_WEIGHT, where=f"{rp}.member_weight", clause="RP-2.2")
    ok &= _in_range(c, wp, 0, _MAX_WEIGHT, where=f"{rp}.public_weight", clause="RP-2.2")
    if wm == 0 and wp == 0:
        _parameter(c, rp, "两组推荐的权重不能都为 0", "the two weights cannot both be 0")
        ok = False
    if not ok or layout is None or quorum is None or mode is None:
        return None
    return Recommendation(
        layout=layout,
        quorum=quorum,
        public_representatives=reps,
        ranking=Ranking(mode=mode, member_weight=wm, public_weight=wp),
    )


def _evaluation(c: Collector, table: Mapping[str, Any] | None) -> Evaluation | None:
    p = "evaluation"
    if table is None:
        return None
    c.unknown_keys(
        table,
        {
            "scale",
            "fail_letters",
            "fail_numerator",
            "fail_denominator",
            "fail_comparison",
            "public_representatives",
        },
        p,
    )
    scale = _scale(c, table, p)
    letters = _fail_letters(c, table, p, scale)
    ok = True
    num = c.integer(table, "fail_numerator", p, None)
    den = c.integer(table, "fail_denominator", p, None)
    if not 1 <= num < den <= _MAX_DENOMINATOR:
        _parameter(
            c,
            f"{p}.fail_numerator",
            f"不通过的比例 {num}/{den} 应满足 1 ≤ 分子 < 分母 ≤ {_MAX_DENOMINATOR}",
            f"the failing share {num}/{den} needs 1 <= numerator < denominator "
            f"<= {_MAX_DENOMINATOR}",
        )
        ok = False
    comparison = _choice(c, table, "fail_comparison", p, FailComparison)
    reps = c.integer(table, "public_representatives", p, None)
    ok &= _in_range(
        c, reps, 1, _MAX_REPRESENTATIVES, where=f"{p}.public_representatives", clause="RP-2.2"
    )
    if not ok or comparison is None or scale is None or letters is None:
        return None
    return Evaluation(
        scale=scale,
        fail_letters=letters,
        fail_numerator=num,
        fail_denominator=den,
        fail_comparison=comparison,
        public_representatives=reps,
    )


def _scale(c: Collector, table: Mapping[str, Any], p: str) -> tuple[ScaleItem, ...] | None:
    """(RP-2.2) 2..5 items, letters ``a``-``z`` distinct, short labels."""
    if "scale" not in table:
        c.add("field.missing", f"{p}.scale", "缺少此项", "missing")
        return None
    rows = c.array_of_tables(table, "scale")
    ok = True
    lo, hi = _SCALE_SIZE
    if not lo <= len(rows) <= hi:
        _parameter(
            c,
            f"{p}.scale",
            f"测评等次应为 {lo} 到 {hi} 项，实际 {len(rows)} 项",
            f"the scale needs {lo} to {hi} items, found {len(rows)}",
        )
        ok = False
    scale: list[ScaleItem] = []
    for i, row in enumerate(rows):
        item = _scale_item(c, row, f"{p}.scale[{i}]", {s.letter for s in scale})
        if item is None:
            ok = False
        else:
            scale.append(item)
    return tuple(scale) if ok else None


def _fail_letters(
    c: Collector, table: Mapping[str, Any], p: str, scale: tuple[ScaleItem, ...] | None
) -> tuple[str, ...] | None:
    """(RP-2.2) A non-empty set of the scale's letters, not all of them."""
    letters = c.ids(table.get("fail_letters"), f"{p}.fail_letters")
    known = {s.letter for s in scale or ()}
    if not letters or len(set(letters)) != len(letters) or not set(letters) <= known:
        _parameter(
            c,
            f"{p}.fail_letters",
            "不通过的等次应为测评等次中的一项或几项，不重复",
            "the failing letters must be one or more distinct letters of the scale",
        )
        return None
    if set(letters) == known:
        _parameter(
            c,
            f"{p}.fail_letters",
            "不通过的等次不能是全部测评等次",
            "the failing letters cannot be every letter of the scale",
        )
        return None
    return tuple(letters)


def _scale_item(
    c: Collector, row: Mapping[str, Any], path: str, seen: set[str]
) -> ScaleItem | None:
    c.unknown_keys(row, {"letter", "zh", "en"}, path)
    letter = c.text(row, "letter", path)
    zh = c.text(row, "zh", path)
    en = c.text(row, "en", path)
    ok = bool(letter and zh and en)
    if letter and (_LETTER.fullmatch(letter) is None or letter in seen):
        _parameter(
            c,
            f"{path}.letter",
            f"等次字母 {letter!r} 应为 a 到 z 中的一个小写字母，且不重复",
            f"the letter {letter!r} must be one of a-z, not used before",
        )
        ok = False
    for key, value in (("zh", zh), ("en", en)):
        if len(value) > _LABEL_CHARS[key]:
            _parameter(
                c,
                f"{path}.{key}",
                f"等次名称（{key}）不超过 {_LABEL_CHARS[key]} 个字符",
                f"a scale label ({key}) has at most {_LABEL_CHARS[key]} characters",
            )
            ok = False
    return ScaleItem(letter=letter, zh=zh, en=en) if ok else None


def _qualifications(c: Collector, table: Mapping[str, Any] | None) -> Qualifications | None:
    p = "qualifications"
    if table is None:
        return None
    c.unknown_keys(table, set(_QUALIFICATION_KEYS), p)
    policy = c.enum(table, "qualification_policy", p, QualificationPolicy)
    new_age = c.integer(table, "secretary_new_max_age", p, None)
    new_edu = c.enum(table, "secretary_new_min_education", p, Education)
    cont_age = c.integer(table, "secretary_continuing_max_age", p, None)
    cont_edu = c.enum(table, "secretary_continuing_min_education", p, Education)
    if policy is None or new_edu is None or cont_edu is None:
        return None
    return Qualifications(
        qualification_policy=policy,
        secretary_new_max_age=new_age,
        secretary_new_min_education=new_edu,
        secretary_continuing_max_age=cont_age,
        secretary_continuing_min_education=cont_edu,
    )


def _keys(c: Collector, table: Mapping[str, Any] | None, scrutineers: int) -> ProcedureKeys | None:
    if table is None:
        return None
    c.unknown_keys(table, {"work_group", "scrutineers"}, "keys")
    work_group = _parse_key(c, table.get("work_group"), "work_group", "keys.work_group")
    docs = table.get("scrutineers")
    if not isinstance(docs, list):
        _keys_problem(c, "keys.scrutineers", "应为监票人公钥列表", "must be a list of keys")
        return None
    parsed = [_parse_key(c, d, "scrutineer", f"keys.scrutineers[{i}]") for i, d in enumerate(docs)]
    if len(docs) != scrutineers:
        _keys_problem(
            c,
            "keys.scrutineers",
            f"监票人公钥 {len(docs)} 个，监票人 {scrutineers} 名：应一人一个，顺序相同",
            f"{len(docs)} scrutineer keys for {scrutineers} scrutineers: one each, same order",
        )
        return None
    good = [k for k in parsed if k is not None]
    if work_group is None or len(good) != len(parsed):
        return None
    if len({k.key for k in good}) != len(good):
        _keys_problem(c, "keys.scrutineers", "监票人公钥重复", "a scrutineer key is given twice")
        return None
    return ProcedureKeys(work_group=work_group, scrutineers=tuple(good))


ballot_order = _ballot_order
election = _election
evaluation = _evaluation
posts = _posts
procedure_keys = _keys
qualifications = _qualifications
recommendation = _recommendation
