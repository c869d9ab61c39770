"""The tables of the verifier's procedure report as text (spec/procedure.md RP-13.1): Simplified
Chinese by default, English by ``--lang en``, written from the JSON ``procedure`` object
(``verifier.procedure.report_tables``) so the two never differ. Columns are aligned by display
width (a CJK character takes two columns, UAX #11), numbers to the right; a table whose clauses
did not pass says so and shows no number.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["display_width", "render_tables", "table"]

Json = Mapping[str, Any]
_Pair = tuple[str, str]

_POSTS: Final[Mapping[str, _Pair]] = {
    "committee": ("委员", "committee"),
    "secretary": ("书记", "secretary"),
    "deputy_secretary": ("副书记", "deputy secretary"),
}
_GROUPS: Final[Mapping[str, _Pair]] = {
    "member": ("党员推荐", "members"),
    "public": ("群众推荐", "public"),
}
_SESSION: Final[Mapping[str, _Pair]] = {
    "counted": ("已计票", "counted"),
    "void": ("作废", "void"),
    "open": ("未计票", "not counted"),
}
_NOT_COUNTED: Final[Mapping[str, _Pair]] = {
    "unreadable": ("无法辨认", "unreadable"),
    "not_on_roster": ("不在党员名册", "not on the roster"),
    "not_nominable": ("不可被推荐", "not nominable"),
    "listed": ("已印人选另写（未画圈）", "a printed name written in"),
    "repeated": ("重复推荐", "repeated"),
}
_BASES: Final[Mapping[str, _Pair]] = {
    "rank": ("按得分", "rank"),
    "tie_at_cut": ("末位并列", "tie at the cut"),
    "secretary_list": ("书记、副书记人选", "secretary's list"),
    "higher_level": ("上级党组织推荐", "higher level"),
    "supplement": ("补充", "supplement"),
}
_STOPS: Final[Mapping[str, _Pair]] = {
    "declined": ("本人书面放弃", "declined in writing"),
    "qualification": ("不符合书记任职条件（R27）", "fails the secretary's qualifications (R27)"),
    "ten_disqualifications": ("十不推", "ten disqualifications"),
    "evaluation": ("测评未通过", "did not pass the evaluation"),
    "over_size": ("超出正式候选人人数", "over the formal size"),
}
#: (RP-4.4) The ten disqualifications (十不推), shown to the town committee only.
_CATEGORIES: Final[Mapping[str, _Pair]] = {
    "td1": ("政治品质和道德品行差的", "poor political integrity or moral conduct"),
    "td2": ("有涉法涉罪或被立案调查的", "involved in a crime or under criminal investigation"),
    "td3": (
        "有违纪违法问题正在接受调查处理的",
        "under investigation for a breach of discipline or law",
    ),
    "td4": ("有拉票贿选或其他不正当行为的", "canvassing, vote buying or other improper conduct"),
    "td5": (
        "组织或参与非法上访、越级上访的",
        "organising or joining illegal or level-skipping petitions",
    ),
    "td6": ("组织或参与封建迷信活动、参加邪教活动的", "superstitious or cult activity"),
    "td7": ("个人信用缺失的", "lack of personal credit standing"),
    "td8": ("能力虽强但心术不正的", "able but of bad intent"),
    "td9": ("廉洁自律过不了关的", "fails the integrity standard"),
    "td10": ("不具备其他履职能力和条件的", "lacks the other abilities and conditions for the post"),
}
_OUTCOMES: Final[Mapping[str, _Pair]] = {
    "proceeds": ("进入下一步", "proceeds"),
    "does_not_proceed": ("不进入下一步", "does not proceed"),
}
_MARGINS: Final[Mapping[str, _Pair]] = {
    "20pct": ("差额不少于20%", "margin at least 20%"),
    "none": ("等额", "no margin"),
}
_CHANNELS: Final[Mapping[str, _Pair]] = {
    "in_person": ("当面", "in person"),
    "form": ("网上表单", "public form"),
}
_TIMINGS: Final[Mapping[str, _Pair]] = {
    "during": ("公示期内", "during publicity"),
    "after": ("公示期后", "after publicity"),
}
_FINDINGS: Final[Mapping[str, _Pair]] = {
    "substantiated": ("属实", "substantiated"),
    "partly_substantiated": ("部分属实", "partly substantiated"),
    "unsubstantiated": ("不属实", "unsubstantiated"),
    "not_competent": ("不属于换届纪律或选举问题", "not competent"),
    "duplicate": ("重复反映", "duplicate"),
}
_EFFECTS: Final[Mapping[str, _Pair]] = {
    "none": ("无", "none"),
    "not_appointed": ("不予任命", "not appointed"),
    "election_void": ("选举无效", "election void"),
}
_DECISIONS: Final[Mapping[str, _Pair]] = {
    "approved": ("批准", "approved"),
    "refused": ("不予批准", "refused"),
}
_STATUSES: Final[Mapping[str, _Pair]] = {
    "appointed": ("任命", "appointed"),
    "not_appointed": ("不予任命", "not appointed"),
}


def display_width(text: str) -> int:
    """Terminal columns of ``text``: 2 for a wide or fullwidth character (UAX #11), 0 for a
    combining mark, 1 otherwise."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def table(head: Sequence[str], rows: Sequence[Sequence[object]], indent: str) -> list[str]:
    """Rows under a header, each column as wide as its widest cell; a column of integers (``-``
    for none) is aligned to the right."""
    cells = [list(head), *([str(c) for c in r] for r in rows)]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(head))]
    right = [
        any(type(r[i]) is int for r in rows) and all(type(r[i]) is int or r[i] == "-" for r in rows)
        for i in range(len(head))
    ]
    out = []
    for r in cells:
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - display_width(c))
            parts.append(pad + c if right[i] else c + pad)
        out.append((indent + "  ".join(parts)).rstrip())
    return out


class _Text:
    def __init__(self, zh: bool) -> None:
        self.zh = zh

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def of(self, labels: Mapping[str, _Pair], code: object) -> str:
        pair = labels.get(str(code))
        return str(code) if pair is None else pair[0] if self.zh else pair[1]

    def who(self, person: Json | None) -> str:
        if not person:
            return self.t("整个选举", "the election as a whole")
        name, member = person.get("name") or "", person.get("member")
        if not name:
            return str(member)
        return f"{name}（{member}）" if self.zh else f"{name} ({member})"

    def withheld(self, item: Json) -> str | None:
        """The line saying an item's clauses did not pass, or None when it is shown."""
        if item.get("check") == "passed":
            return None
        clauses = ("、" if self.zh else ", ").join(item.get("withheld_by") or [])
        if item.get("check") == "failed":
            return self.t(f"（{clauses} 未通过，不予显示）", f"(not shown: {clauses} failed)")
        return self.t(f"（{clauses} 未核验，不予显示）", f"(not shown: {clauses} not checked)")


def render_tables(procedure: Json | None, lang: str = "zh") -> list[str]:
    """(RP-13.1) The report's tables as lines: per post the recommendation sessions, the ranking
    and the names not counted; the preliminary list; each evaluation round with its rule; the
    vetting; the approved lists; the objections and the appointment."""
    if procedure is None:
        return []
    x = _Text(lang != "en")
    out: list[str] = []
    out += _recommendation(x, procedure)
    out += _preliminary(x, procedure.get("preliminary") or [])
    out += _evaluation(x, procedure.get("evaluation") or [])
    out += _vetting(x, procedure.get("vetting") or [])
    out += _approval(x, procedure.get("approval") or [])
    out += _objections(x, procedure.get("objections") or [], procedure.get("appointment"))
    return out


def _recommendation(x: _Text, procedure: Json) -> list[str]:
    sessions, ranking = procedure.get("sessions") or [], procedure.get("ranking") or []
    posts = dict.fromkeys(str(s.get("post")) for s in [*sessions, *ranking])
    if not posts:
        return []
    out = [x.t("一、推荐（两推）", "1. Recommendation")]
    for post in posts:
        out.append("  " + x.of(_POSTS, post))
        out += _sessions(x, [s for s in sessions if s.get("post") == post])
        for r in ranking:
            if r.get("post") == post:
                out += _ranking(x, r)
    return out


def _sessions(x: _Text, mine: Sequence[Json]) -> list[str]:
    if not mine:
        return []
    out = ["    " + x.t("推荐会议", "sessions")]
    for s in mine:
        line = x.withheld(s)
        if line is not None:
            group, round_ = x.of(_GROUPS, s.get("group")), s.get("round")
            out.append(
                "      " + x.t(f"{group} 第{round_}轮 {line}", f"{group} round {round_} {line}")
            )
    shown = [s for s in mine if x.withheld(s) is None]
    if shown:
        head = (
            ("组别", "轮次", "状态", "到会", "发出", "收回", "有效", "无效")
            if x.zh
            else ("group", "round", "status", "present", "issued", "returned", "valid", "invalid")
        )
        rows = [
            [x.of(_GROUPS, s["group"]), s["round"], x.of(_SESSION, s["status"])]
            + [_n(s[k]) for k in ("present", "issued", "returned", "valid", "invalid")]
            for s in shown
        ]
        out += table(head, rows, "      ")
    return out


def _n(v: object) -> object:
    """A number as a cell (an integer stays one, for alignment); ``-`` for none."""
    return v if type(v) is int else "-"


def _ranking(x: _Text, r: Json) -> list[str]:
    line = x.withheld(r)
    if line is not None:
        return ["    " + x.t("得票排名", "ranking") + " " + line]
    valid, wm, wp = r["valid_ballots"], r["member_weight"], r["public_weight"]
    vm, vp = valid["member"], valid["public"]
    if r["mode"] == "shares":
        rule = x.t(
            f"综合得分 = {wm}×党员推荐票×{max(vp, 1)} + {wp}×群众推荐票×{max(vm, 1)}"
            f"（按两组推荐比例；党员有效推荐票 {vm} 张，群众有效推荐票 {vp} 张）",
            f"score = {wm}×members'×{max(vp, 1)} + {wp}×public×{max(vm, 1)} (the two groups' "
            f"shares; {vm} valid members' ballots, {vp} valid public ballots)",
        )
    else:
        rule = x.t(
            f"综合得分 = 党员推荐票 + 群众推荐票（党员有效推荐票 {vm} 张，群众有效推荐票 {vp} 张）",
            f"score = members' + public recommendations ({vm} valid members' ballots, "
            f"{vp} valid public ballots)",
        )
    out = ["    " + x.t("得票排名：", "ranking: ") + rule]
    head = (
        ("名次", "姓名（编号）", "党员推荐", "群众推荐", "综合得分")
        if x.zh
        else ("rank", "name (id)", "members", "public", "score")
    )
    rows = [
        [p["rank"], x.who(p), p["member_recommendations"], p["public_recommendations"], p["score"]]
        for p in r["persons"]
    ]
    out += (
        table(head, rows, "      ") if rows else ["      " + x.t("无人得票", "nobody recommended")]
    )
    for n in r["not_counted"]:
        names = [w for w in n["names"] if w != "?"]
        listed = ("：" + "、".join(names) if x.zh else ": " + ", ".join(names)) if names else ""
        out.append(
            "    "
            + x.t(
                f"未计入推荐的书写人选（{x.of(_GROUPS, n['group'])}，"
                f"{x.of(_NOT_COUNTED, n['reason'])}）{n['count']} 个{listed}",
                f"written names not counted ({x.of(_GROUPS, n['group'])}, "
                f"{x.of(_NOT_COUNTED, n['reason'])}): {n['count']}{listed}",
            )
        )
    return out


def _preliminary(x: _Text, items: Sequence[Json]) -> list[str]:
    if not items:
        return []
    out = [x.t("二、候选人初步人选", "2. Preliminary list")]
    for p in items:
        head_line = x.t(
            f"  第{p.get('version')}版 {x.of(_POSTS, p.get('post'))}",
            f"  version {p.get('version')}, {x.of(_POSTS, p.get('post'))}",
        )
        line = x.withheld(p)
        if line is not None:
            out.append(f"{head_line} {line}")
            continue
        out.append(
            head_line
            + x.t(f"（选举日期 {p['election_date']}）", f" (election date {p['election_date']})")
        )
        head = (
            ("姓名（编号）", "列入依据", "党员推荐", "群众推荐", "综合得分")
            if x.zh
            else ("name (id)", "basis", "members", "public", "score")
        )
        rows = [
            [
                x.who(n),
                x.of(_BASES, n["basis"]),
                n["member_recommendations"],
                n["public_recommendations"],
                n["score"],
            ]
            for n in p["names"]
        ]
        out += table(head, rows, "    ")
        for o in p["omitted"]:
            out.append("    " + x.t("未列入：", "omitted: ") + _stop(x, o))
    return out


def _stop(x: _Text, o: Json) -> str:
    reason = x.of(_STOPS, o["reason"])
    if o.get("category"):
        reason += x.t("：", ": ") + x.of(_CATEGORIES, o["category"])
    if o.get("reference"):
        reason += x.t(f"，{o['reference']}", f", {o['reference']}")
    return x.who(o) + x.t(f"（{reason}）", f" ({reason})")


def _evaluation(x: _Text, rounds: Sequence[Json]) -> list[str]:
    if not rounds:
        return []
    out = [x.t("三、群众测评", "3. Public evaluation")]
    for r in rounds:
        head_line = x.t(
            f"  第{r.get('round')}轮（第{r.get('version')}版人选）",
            f"  round {r.get('round')} (version {r.get('version')})",
        )
        line = x.withheld(r)
        if line is not None:
            out.append(f"{head_line} {line}")
            continue
        out.append(
            head_line
            + x.t(
                f"：到会 {r['present']} 人（党员 {r['members_present']} 人，"
                f"群众代表 {r['public_present']} 人），发出 {_n(r['issued'])} 张，"
                f"收回 {_n(r['returned'])} 张",
                f": present {r['present']} ({r['members_present']} members, "
                f"{r['public_present']} public representatives), issued {_n(r['issued'])}, "
                f"returned {_n(r['returned'])}",
            )
        )
        if r["status"] != "counted":
            out.append("    " + x.of(_SESSION, r["status"]))
            continue
        out[-1] += x.t(
            f"，有效 {r['valid']} 张，无效 {r['invalid']} 张，手写增列 {r['added_rows']} 行",
            f", valid {r['valid']}, invalid {r['invalid']}, rows added by hand {r['added_rows']}",
        )
        out += _evaluated(x, r)
    return out


def _evaluated(x: _Text, r: Json) -> list[str]:
    rule = r["rule"]
    out = [
        "    "
        + x.t(
            f"规则：{rule['zh']}。本轮有效测评票 {r['valid']} 张，"
            f"达到 {rule['from']} 票即不进入下一步",
            f"rule: {rule['en']}. This round: {r['valid']} valid ballots, so "
            f"{rule['from']} or more do not proceed",
        )
    ]
    persons = r["persons"]
    labels = [c["zh"] if x.zh else c["en"] for c in (persons[0]["counts"] if persons else [])]
    several = len(rule["fail_letters"]) > 1
    head = [x.t("姓名（编号）", "name (id)"), *labels, x.t("弃权", "blank")]
    head += [x.t("无法辨认", "unreadable")] + ([x.t("合计", "together")] if several else [])
    head.append(x.t("结果", "outcome"))
    rows = [
        [x.who(p), *(c["count"] for c in p["counts"]), p["blank"], p["unreadable"]]
        + ([p["fail_count"]] if several else [])
        + [x.of(_OUTCOMES, p["outcome"])]
        for p in persons
    ]
    return out + table(head, rows, "    ")


def _vetting(x: _Text, items: Sequence[Json]) -> list[str]:
    if not items:
        return []
    out = [x.t("四、组织考察、组织审查", "4. Vetting")]
    for v in items:
        head_line = x.t(
            f"  第{v.get('vetting')}次 {x.of(_POSTS, v.get('post'))}",
            f"  record {v.get('vetting')}, {x.of(_POSTS, v.get('post'))}",
        )
        line = x.withheld(v)
        if line is not None:
            out.append(f"{head_line} {line}")
            continue
        going = _names(x, v["proceeding"])
        out.append(head_line + x.t(f"：进入 {going}", f": proceeding {going}"))
        for s in v["stopped"]:
            out.append("    " + x.t("未进入：", "stopped: ") + _stop(x, s))
    return out


def _names(x: _Text, persons: Sequence[Json]) -> str:
    return ("、" if x.zh else ", ").join(x.who(p) for p in persons) or "-"


def _approval(x: _Text, items: Sequence[Json]) -> list[str]:
    if not items:
        return []
    shown = next((a for a in items if x.withheld(a) is None), None)
    out = [x.t("五、正式候选人", "5. Formal candidates")]
    if shown is not None:
        out[0] += x.t(f"（批复 {shown['reference']}）", f" (approval {shown['reference']})")
    for a in items:
        line = x.withheld(a)
        post = x.of(_POSTS, a.get("post"))
        if line is not None:
            out.append(f"  {post} {line}")
            continue
        out.append(
            x.t(
                f"  {post}（应选 {a['seats']} 名，{x.of(_MARGINS, a['margin'])}）："
                f"{_names(x, a['candidates'])}",
                f"  {post} ({a['seats']} seat{'s' * (a['seats'] != 1)}, "
                f"{x.of(_MARGINS, a['margin'])}): "
                f"{_names(x, a['candidates'])}",
            )
        )
    return out


def _objections(x: _Text, items: Sequence[Json], appointment: Json | None) -> list[str]:
    if appointment is None and not items:
        return []
    out = [x.t("六、异议和审批任命", "6. Objections and appointment")]
    withheld = [x.withheld(o) for o in items if x.withheld(o) is not None]
    if withheld:
        out.append("  " + x.t("异议", "objections") + f" {withheld[0]}")
    elif items:
        out.append("  " + x.t("异议", "objections"))
        head = (
            ("编号", "渠道", "提出时段", "所涉人员", "认定", "处理结果", "受理", "办结")
            if x.zh
            else (
                "reference",
                "channel",
                "timing",
                "about",
                "finding",
                "effect",
                "received",
                "concluded",
            )
        )
        rows = [
            [
                o["reference"],
                x.of(_CHANNELS, o["channel"]),
                x.of(_TIMINGS, o["timing"]),
                x.who(o["about"]),
                x.of(_FINDINGS, o["finding"]),
                x.of(_EFFECTS, o["effect"]),
                o["received"],
                o["concluded"],
            ]
            for o in items
        ]
        out += table(head, rows, "    ")
    else:
        out.append("  " + x.t("异议：无", "objections: none"))
    if appointment is not None:
        out += _appointment(x, appointment)
    return out


def _appointment(x: _Text, a: Json) -> list[str]:
    line = x.withheld(a)
    if line is not None:
        return ["  " + x.t("审批任命", "appointment") + f" {line}"]
    out = [
        "  "
        + x.t(
            f"审批任命：{a['date']}，{x.of(_DECISIONS, a['decision'])}（{a['reference']}）",
            f"appointment: {a['date']}, {x.of(_DECISIONS, a['decision'])} ({a['reference']})",
        )
    ]
    head = (
        ("职务", "姓名（编号）", "结果", "异议")
        if x.zh
        else ("post", "name (id)", "status", "objections")
    )
    rows = [
        [
            x.of(_POSTS, p["post"]),
            x.who(p),
            x.of(_STATUSES, p["status"]),
            ("、" if x.zh else ", ").join(p["objections"] or []) or "-",
        ]
        for p in a["persons"]
    ]
    return out + table(head, rows, "    ")
