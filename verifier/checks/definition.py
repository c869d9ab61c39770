"""(V4) Expected electors and (V5) candidate rules of the manifest's definition.

spec/bundle.md §6 V3 (the roster's names, warnings only), V4, V5; spec/rules.md R2-R3, R18-R30.
"""

from __future__ import annotations

from verifier import rules
from verifier.checks.context import Context
from verifier.model import POST_ORDER, Definition
from verifier.names import look_alike_names
from verifier.parse import NEVER_ELECTOR_CATEGORIES
from verifier.report import Finding

__all__ = [
    "check_candidate_rules",
    "check_definition",
    "check_expected_electors",
    "check_officials",
    "check_qualifications",
    "check_remote_approved",
    "warn_branch_without_committee",
    "warn_look_alike_names",
]


def check_definition(cx: Context, d: Definition) -> None:
    """(V3-V5) The definition's rules, in the order of spec/bundle.md §6."""
    warn_look_alike_names(cx, d)  # (V3, D-5.3)
    excluded = check_expected_electors(cx, d)  # (V4)
    check_candidate_rules(cx, d, excluded)  # (V5, R18-R23, R30)
    warn_branch_without_committee(cx, d)  # (V5, R23)
    check_officials(cx, d)  # (V5, R25)
    check_remote_approved(cx, d, excluded)  # (V3, R24.1)
    check_qualifications(cx, d)  # (V5, R27)


def warn_look_alike_names(cx: Context, d: Definition) -> None:
    """(V3, D-5.3) Names that mix scripts or look like another member's: warnings only."""
    f = cx.f
    roster = {m.id: m for m in d.members}
    for code, mid, other in look_alike_names((m.id, m.name) for m in d.members):
        name = roster[mid].name
        f.warnings.append(
            Finding(
                clause="V3",
                code=code,
                zh=f"{mid} 的姓名“{name}”混用了多种文字"
                if not other
                else f"{mid} 的姓名“{name}”与 {other} 的“{roster[other].name}”看起来相同",
                en=f"{mid}'s name {name!r} mixes scripts"
                if not other
                else f"{mid}'s name {name!r} looks like {other}'s {roster[other].name!r}",
                file="manifest.json",
                rule="D-5.3",
            )
        )


def warn_branch_without_committee(cx: Context, d: Definition) -> None:
    """(V5, R23) A definition without a committee post while the roster has 7 or more full
    members (status ``full``, every one on the roster, before exclusions and wherever their
    formal relationship is registered: RULES A12.10): a warning, never a failure."""
    if any(p.post == "committee" for p in d.posts):
        return
    full = sum(1 for m in d.members if m.status == "full")
    if full >= 7:
        cx.f.warnings.append(
            Finding(
                clause="V5",
                code="branch.no_committee",
                zh=f"名册上有 {full} 名正式党员，正式党员 7 人以上的支部应设立支部委员会",
                en=f"{full} full members on the roster: a branch with 7 or more should have a "
                "committee",
                file="manifest.json",
                path="definition.posts",
                rule="R23",
            )
        )


def check_expected_electors(cx: Context, d: Definition) -> set[str]:
    """(V4) Each exclusion has both approvals (R3.1), is of a category of electors (R3.4) and of
    an eligible elector on the roster (R3.2), once.

    Returns:
        The excluded members.
    """
    f = cx.f
    roster = {m.id: m for m in d.members}
    eligible = {m.id for m in d.members if m.eligible}
    seen: set[str] = set()
    for i, x in enumerate(d.exclusions):  # (V4)
        where = {"file": "manifest.json", "path": f"definition.exclusions[{i}]"}
        for k in ("higher_level_approval", "assembly_approval"):
            if not getattr(x, k).strip():
                f.fail(
                    "V4",
                    "exclusion.approval_missing",
                    f"不计入应到会人数缺少批准（{k}）",
                    f"exclusion lacks its {k} (R3.1)",
                    expected="non-empty approval",
                    found="empty",
                    **where,
                )
        if x.category in NEVER_ELECTOR_CATEGORIES:  # (V4, R3.4)
            f.fail(
                "V4",
                "exclusion.category_not_elector",
                "该类人员本来就不是有选举权的党员，不能列入不计入应到会人数名单",
                "people of this category are simply not eligible electors; they cannot be "
                "an exclusion (R3.4)",
                expected="a category of electors",
                found=x.category,
                **where,
            )
        if x.member not in roster:
            f.fail(
                "V4",
                "member.unknown",
                "不计入人员不在名册中",
                "excluded member not on the roster",
                **where,
            )
        elif x.member not in eligible:
            f.fail(
                "V4",
                "exclusion.not_elector",
                "只有有选举权的党员才能不计入",
                "excluded member is not an eligible elector (R3.2)",
                **where,
            )
        if x.member in seen:
            f.fail(
                "V4",
                "exclusion.duplicate",
                "同一成员重复不计入",
                "member excluded twice",
                **where,
            )
        seen.add(x.member)
    return seen


def check_candidate_rules(cx: Context, d: Definition, excluded: set[str]) -> None:
    """(V5) Candidates eligible (R30) and not officials of the first post (R25.1); enough
    candidates and the margin (R18, R19); a secretary post, elected by the assembly without a
    committee (R23); secretary and deputy candidates among the committee's (R20.1, R22.1).
    """
    f = cx.f
    roster = {m.id: m for m in d.members}
    eligible = {m.id for m in d.members if m.eligible}
    officials = set(d.scrutineers) | set(d.tellers)
    posts = {p.post: p for p in d.posts}
    first_post = next((x for x in POST_ORDER if x in posts), "")
    for p in d.posts:  # (V5)
        path = f"definition.posts.{p.post}.candidates"
        seen_c: set[str] = set()
        for c in p.candidates:
            where = {"file": "manifest.json", "path": path, "found": c}
            if c not in roster:
                f.fail(
                    "V5",
                    "candidate.not_on_roster",
                    "候选人不在名册中",
                    "candidate not on the roster (R30)",
                    **where,
                )
            elif c not in eligible:
                f.fail(
                    "V5",
                    "candidate.not_eligible",
                    "候选人没有被选举权",
                    "candidate not eligible (R30)",
                    **where,
                )
            elif c in excluded:
                f.fail(
                    "V5",
                    "candidate.excluded",
                    "候选人已不计入应到会人数",
                    "candidate is excluded (R30)",
                    **where,
                )
            if c in seen_c:
                f.fail(
                    "V5",
                    "candidate.duplicate",
                    "候选人重复",
                    "candidate listed twice (R30)",
                    **where,
                )
            seen_c.add(c)
            if c in officials and p.post == first_post:  # (R25.1) they serve the first round
                f.fail(
                    "V5",
                    "official.is_candidate",
                    "监票人、计票人不得为候选人",
                    "an official is a candidate (R25)",
                    **where,
                )
        if p.post == "committee" and p.margin != "20pct":
            f.fail(
                "V5",
                "post.margin",
                "委员差额不可免除",
                "committee margin cannot be none (R18)",
                file="manifest.json",
                path=path,
                expected="20pct",
                found=p.margin,
            )
        if len(p.candidates) < p.seats:  # (V5, A12.13) its own problem, any margin
            f.fail(
                "V5",
                "post.too_few_candidates",
                "候选人少于应选人数",
                "fewer candidates than seats (R18/R19)",
                file="manifest.json",
                path=path,
                expected=f"at least {p.seats} candidates",
                found=f"{len(p.candidates)} candidates",
            )
        elif not rules.margin_ok(len(p.candidates), p.seats, p.margin):
            f.fail(
                "V5",
                "post.margin",
                "候选人数不满足差额要求",
                "candidates fail the margin (R18/R19)",
                file="manifest.json",
                path=path,
                expected=f"margin {p.margin} for {p.seats} seats",
                found=f"{len(p.candidates)} candidates",
            )
    if "secretary" not in posts:
        f.fail(
            "V5",
            "post.no_secretary",
            "没有书记职位",
            "no secretary post",
            file="manifest.json",
            path="definition.posts",
        )
    if "committee" not in posts and d.elected_by != "assembly":
        f.fail(
            "V5",
            "secretary.body",
            "不设委员会时书记须由党员大会选举",
            "without a committee the assembly elects (R23)",
            file="manifest.json",
            path="definition.secretary.elected_by",
        )
    if "committee" in posts:  # (R20.1), (R22.1): whatever the body
        rule = "R22" if d.elected_by == "direct" else "R20"
        for post in ("secretary", "deputy_secretary"):
            for c in posts[post].candidates if post in posts else ():
                if c not in posts["committee"].candidates:
                    f.fail(
                        "V5",
                        "secretary.not_committee_candidate",
                        "书记、副书记候选人须为委员候选人",
                        f"secretary/deputy candidate not a committee candidate ({rule})",
                        file="manifest.json",
                        path=f"posts.{post}.candidates",
                        found=c,
                    )


def check_officials(cx: Context, d: Definition) -> None:
    """(V5, R25) Scrutineers and tellers: both lists given, on the roster, nobody twice in a list
    or in both."""
    f = cx.f
    roster = {m.id: m for m in d.members}
    officials = set(d.scrutineers) | set(d.tellers)
    if not d.scrutineers or not d.tellers:
        f.fail(
            "V5",
            "officials.missing",
            "缺少监票人或计票人",
            "officials missing (R25)",
            file="manifest.json",
            path="definition.officials",
        )
    for o in sorted(officials):
        if o not in roster:
            f.fail(
                "V5",
                "member.unknown",
                "监票人或计票人不在名册中",
                "official not on the roster",
                file="manifest.json",
                path="definition.officials",
                found=o,
            )
    for role in (d.scrutineers, d.tellers):
        for o in sorted({x for x in role if role.count(x) > 1}):
            f.fail(
                "V5",
                "official.duplicate",
                "同一人在监票人或计票人名单中重复",
                "an official is listed twice in one list (R25)",
                file="manifest.json",
                path="definition.officials",
                found=o,
            )
    for o in sorted(set(d.scrutineers) & set(d.tellers)):
        f.fail(
            "V5",
            "official.both_roles",
            "同一人不得兼任监票人和计票人",
            "member holds both roles (R25)",
            file="manifest.json",
            path="definition.officials",
            found=o,
        )


def check_remote_approved(cx: Context, d: Definition, excluded: set[str]) -> None:
    """(V3, R24.1) Every member approved for remote voting is an expected elector."""
    eligible = {m.id for m in d.members if m.eligible}
    for r in d.remote_approved:
        if r not in eligible or r in excluded:
            cx.f.fail(
                "V3",
                "remote.not_elector",
                "远程投票人员不是应到会党员",
                "remote voter is not an expected elector (R24.1)",
                file="manifest.json",
                path="definition.remote_voting.approved",
                found=r,
            )


def check_qualifications(cx: Context, d: Definition) -> None:
    """(V5, R27) Secretary candidates meet the qualifications when the policy is ``block``."""
    if d.parameters.qualification_policy == "block":  # (R27)
        for cid, code in rules.qualification_problems(d):
            cx.f.fail(
                "V5",
                code,
                "书记候选人资格不符",
                f"secretary candidate fails {code} (R27)",
                file="manifest.json",
                path=f"candidates.{cid}",
                found=cid,
            )
