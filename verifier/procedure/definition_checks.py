"""(V21, RP-2.4) Every check of a signed ``procedure/1`` beyond its shape (spec/procedure.md RP-2.1,
RP-2.2, RP-2.4; spec/definition.md §5-§7 for the roster, exclusion, post and officials rules).

Re-implemented from the spec, sharing nothing with ``tally.core.procedure``: the roster (D-5.1,
D-5.3), the exclusions (R3, D-6), ``ballot_order`` exactly the nominable members
(``procedure.ballot_order``), the posts (seats, margin, order, R23), every parameter within its
range (``procedure.parameter`` with the field path), the officials (R25.1's list rules without the
candidate rule), the keys (``procedure.keys``), ``branch_code`` (``procedure.branch_code``) and
the text of the resolved form (``procedure.not_resolved``). Every problem is collected in one
pass, with the codes the producer's ``tally procedure check`` gives.

``definition_problems`` runs on a value ``verifier.procedure.definition.parse_counting`` accepted,
so the members the counting reads (the roster's ids, dates, education and incumbency, the posts'
integers and codes, the scale's letters, the fail share, the qualifications) are of their types;
everything else is read defensively here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from verifier.crypto import parse_pubkey_value
from verifier.errors import VerificationError
from verifier.parse import CATEGORIES, NEVER_ELECTOR_CATEGORIES, STATUSES
from verifier.rules import margin_ok

__all__ = ["DefinitionProblem", "definition_problems"]

MEMBER_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
HEX64: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)
LETTER: Final = re.compile(r"[a-z]", re.ASCII)
MAX_MEMBERS: Final = 20_000
MAX_SEATS: Final = 15
MAX_REPRESENTATIVES: Final = 2000
MAX_WEIGHT: Final = 100
MAX_DENOMINATOR: Final = 100
PUBLICITY_DAYS: Final = (5, 60)
SCALE_SIZE: Final = (2, 5)
LABEL_CHARS: Final = {"zh": 16, "en": 32}
POST_ORDER: Final = ("committee", "secretary", "deputy_secretary")
BODIES: Final = ("assembly", "committee", "direct")


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One failure of RP-2.4: code, field path, zh and en text, and the rule that decides it."""

    code: str
    path: str
    zh: str
    en: str
    rule: str = "RP-2.4"


class _Problems:
    def __init__(self) -> None:
        self.items: list[DefinitionProblem] = []

    def add(self, code: str, path: str, zh: str, en: str, rule: str = "RP-2.4") -> None:
        self.items.append(DefinitionProblem(code, path, zh, en, rule))

    def parameter(self, path: str, zh: str, en: str, rule: str = "RP-2.2") -> None:
        self.add("procedure.parameter", path, zh, en, rule)

    def obj(self, value: object, members: frozenset[str], path: str) -> dict[str, Any] | None:
        """The object with exactly ``members`` (``field.*``), else None."""
        if not isinstance(value, dict):
            self.add("field.type", path, "应为对象", "must be an object", "RP-2.1")
            return None
        for key in sorted(set(value) - members):
            self.add("field.unknown", _at(path, key), "未知字段", "unknown field", "RP-2.1")
        for key in sorted(members - set(value)):
            self.add("field.missing", _at(path, key), "缺少此项", "missing", "RP-2.1")
        return value if set(value) == members else None

    def text(self, obj: Mapping[str, Any], key: str, path: str, *, nfc: bool = True) -> str:
        """Non-empty text in its resolved form: trimmed (and NFC unless ``nfc`` is False)."""
        value, where = obj.get(key), _at(path, key)
        if not isinstance(value, str) or not value.strip():
            self.add("field.type", where, "应为非空文字", "must be non-empty text", "RP-2.1")
            return ""
        if value.strip() != value or (nfc and unicodedata.normalize("NFC", value) != value):
            self.add(
                "procedure.not_resolved",
                where,
                "文字不是规范形式（首尾空白或未经 NFC 规范化）",
                "the text is not in its resolved form (surrounding white space or not NFC)",
                "RP-2.2",
            )
        return value

    def integer(self, obj: Mapping[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if type(value) is not int:
            self.add("field.type", _at(path, key), "应为整数", "must be a whole number", "RP-2.1")
            return None
        return value

    def within(self, obj: Mapping[str, Any], key: str, path: str, lo: int, hi: int) -> bool:
        """An integer ``lo..hi`` (``procedure.parameter``)."""
        value = self.integer(obj, key, path)
        if value is None:
            return False
        if lo <= value <= hi:
            return True
        self.parameter(
            _at(path, key),
            f"取值 {value} 超出允许范围 {lo} 到 {hi}",
            f"the value {value} is outside the allowed range {lo} to {hi}",
            "R26" if key == "publicity_working_days" else "RP-2.2",
        )
        return False

    def choice(self, obj: Mapping[str, Any], key: str, path: str, allowed: Sequence[str]) -> str:
        value = obj.get(key)
        if value not in allowed:
            self.add(
                "field.choice",
                _at(path, key),
                f"不认识的取值 {value!r}，可选：{', '.join(allowed)}",
                f"unknown value {value!r}; allowed: {', '.join(allowed)}",
                "RP-2.1",
            )
            return ""
        return str(value)

    def ids(self, value: object, path: str) -> list[str] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(
                "field.type", path, "应为党员编号列表", "must be a list of member ids", "RP-2.1"
            )
            return None
        return value


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(frozen=True, slots=True)
class _Roster:
    names: Mapping[str, str]
    eligible: frozenset[str]  # R2: full members registered here


def definition_problems(value: Mapping[str, Any]) -> tuple[DefinitionProblem, ...]:
    """(V21, RP-2.4) Every problem of a ``procedure/1`` value that ``parse_counting`` accepted.

    Returns:
        The problems, in the order of RP-2.1's members; empty when the definition holds.
    """
    p = _Problems()
    _election(p, value.get("election"))
    casework_id = value.get("casework_id")
    if not isinstance(casework_id, str) or HEX64.fullmatch(casework_id) is None:
        p.add(
            "field.type",
            "casework_id",
            "应为 64 位小写十六进制（镇异议与直报登记簿的标识）",
            "must be 64 lowercase hex digits (the town casework file's id)",
            "RP-2.1",
        )
    roster = _members(p, value["members"])
    excluded = _exclusions(p, value.get("exclusions"), roster)
    _ballot_order(p, value["ballot_order"], roster, excluded)
    secretary = p.obj(value.get("secretary"), frozenset({"elected_by"}), "secretary")
    body = p.choice(secretary, "elected_by", "secretary", BODIES) if secretary else ""
    _posts(p, value["posts"], body)
    _recommendation(p, value["recommendation"])
    _evaluation(p, value["evaluation"])
    scrutineers = _officials(p, value.get("officials"), roster)
    p.within(value, "publicity_working_days", "", *PUBLICITY_DAYS)
    _keys(p, value.get("keys"), scrutineers)
    return tuple(p.items)


def _election(p: _Problems, value: object) -> None:
    members = frozenset({"title", "branch", "branch_code", "town", "term"})
    election = p.obj(value, members, "election")
    if election is None:
        return
    for key in sorted(members):
        p.text(election, key, "election")
    code = election["branch_code"]
    if isinstance(code, str) and code and MEMBER_ID.fullmatch(code) is None:
        p.add(
            "procedure.branch_code",
            "election.branch_code",
            f"支部代码 {code!r} 只能由 ASCII 字母、数字和 . _ - 组成"
            "（1 到 32 个字符，以字母或数字开头）",
            f"branch code {code!r} must be 1 to 32 ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )


def _members(p: _Problems, rows: list[dict[str, Any]]) -> _Roster:
    """(D-5.1, D-5.3) The roster: not empty, at most 20 000, ids of the pattern and unique."""
    if not rows:
        p.add("members.empty", "members", "名册为空", "the roster is empty", "D-5.1")
    if len(rows) > MAX_MEMBERS:
        p.add(
            "members.too_many",
            "members",
            f"名册超过 {MAX_MEMBERS} 人",
            f"more than {MAX_MEMBERS} members",
            "D-5.1",
        )
        return _Roster({}, frozenset())
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    eligible: set[str] = set()
    for i, row in enumerate(rows):
        path = f"members[{i}]"
        mid = str(row["id"])
        if MEMBER_ID.fullmatch(mid) is None:
            p.add(
                "members.id_format",
                f"{path}.id",
                f"党员编号 {mid!r} 只能由 ASCII 字母、数字和 . _ - 组成",
                f"member id {mid!r} must be 1 to 32 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
                "D-5.3",
            )
        if mid in seen:
            p.add(
                "members.duplicate_id",
                f"{path}.id",
                f"党员编号 {mid} 与 members[{seen[mid]}] 重复",
                f"member id {mid} repeats members[{seen[mid]}]",
                "D-5.1",
            )
            continue
        seen[mid] = i
        names[mid] = p.text(row, "name", path)
        p.choice(row, "sex", path, ("male", "female"))
        status = p.choice(row, "status", path, STATUSES)
        here = row.get("registered_here")
        if type(here) is not bool:
            p.add(
                "field.type",
                f"{path}.registered_here",
                "应为 true 或 false",
                "must be true or false",
                "RP-2.1",
            )
        elif status == "full" and here:
            eligible.add(mid)
    return _Roster(names, frozenset(eligible))


def _exclusions(p: _Problems, value: object, roster: _Roster) -> set[str]:
    """(R3, D-6) Each of an eligible elector on the roster, once, of a category of electors, with
    both approvals; returns the excluded members."""
    members = frozenset({"member", "category", "higher_level_approval", "assembly_approval"})
    if not isinstance(value, list):
        p.add("field.type", "exclusions", "应为列表", "must be a list", "RP-2.1")
        return set()
    excluded: set[str] = set()
    for i, item in enumerate(value):
        path = f"exclusions[{i}]"
        row = p.obj(item, members, path)
        if row is None:
            continue
        mid = row["member"]
        known = isinstance(mid, str) and mid in roster.names
        if not isinstance(mid, str) or not mid.strip():
            p.add("field.type", f"{path}.member", "应为党员编号", "must be a member id", "D-6")
        elif not known:
            p.add(
                "member.unknown",
                f"{path}.member",
                f"名册中没有编号 {mid}",
                f"no member {mid} on the roster",
                "D-6",
            )
        category = p.choice(row, "category", path, CATEGORIES)
        if category in NEVER_ELECTOR_CATEGORIES:
            p.add(
                "exclusion.category_not_elector",
                f"{path}.category",
                "该类人员本来就不是有选举权的党员，不能列入不计入应到会人数名单",
                f"a member in category {category} is simply not an eligible elector (R2)",
                "R3",
            )
        for key in ("higher_level_approval", "assembly_approval"):
            text = row[key]
            if not isinstance(text, str) or not text.strip():
                p.add(
                    "exclusion.approval_missing",
                    f"{path}.{key}",
                    "不计入应到会人数须同时经上级党组织同意和党员大会通过",
                    f"an exclusion needs both approvals: {key} is missing",
                    "R3",
                )
            elif text.strip() != text:
                p.text(row, key, path, nfc=False)
        if known and mid in excluded:
            p.add(
                "exclusion.duplicate",
                f"{path}.member",
                f"党员 {mid} 重复列入不计入名单",
                f"member {mid} is excluded twice",
                "D-6",
            )
        if known and mid not in roster.eligible:
            p.add(
                "exclusion.not_elector",
                f"{path}.member",
                f"党员 {mid} 本无选举权（R2）",
                f"member {mid} has no vote anyway (R2)",
                "R3",
            )
        if known:
            excluded.add(str(mid))
    return excluded


def _ballot_order(p: _Problems, ids: list[str], roster: _Roster, excluded: set[str]) -> None:
    """(RP-2.1, RP-2.4, RP-3.1) Exactly the nominable members (eligible, not excluded), once."""
    seen: set[str] = set()
    for j, mid in enumerate(ids):
        if mid in seen:
            zh, en = f"{mid} 重复", f"{mid} is listed twice"
        elif mid not in roster.names:
            zh, en = f"名册中没有编号 {mid}", f"no member {mid} on the roster"
        elif mid in excluded:
            zh, en = f"{mid} 已不计入应到会人数，不能被推荐", f"{mid} is excluded from E"
        elif mid not in roster.eligible:
            zh, en = f"{mid} 不是有选举权的党员，不能被推荐", f"{mid} is not an eligible elector"
        else:
            seen.add(mid)
            continue
        seen.add(mid)
        p.add("procedure.ballot_order", f"ballot_order[{j}]", zh, en)
    nominable = roster.eligible - excluded
    missing = [m for m in roster.names if m in nominable and m not in seen]
    if missing:
        p.add(
            "procedure.ballot_order",
            "ballot_order",
            f"推荐票排列顺序缺少可被推荐的党员：{'、'.join(missing)}",
            f"the ballot order leaves out nominable members: {', '.join(missing)}",
        )


def _posts(p: _Problems, rows: list[dict[str, Any]], body: str) -> None:
    """(D-7.1, D-7.3, R18, R23, RP-2.1, RP-2.2) Seats, margins, order and sizes of the posts."""
    if not rows:
        p.add("posts.empty", "posts", "没有设置职位", "no posts are defined", "D-7.1")
    kinds: list[str] = []
    whole = True
    for i, row in enumerate(rows):
        path, kind, seats = f"posts[{i}]", str(row["post"]), int(row["seats"])
        ok = True
        if not 1 <= seats <= MAX_SEATS:
            p.add(
                "post.seats",
                f"{path}.seats",
                f"应选人数应为 1 到 {MAX_SEATS}",
                f"seats must be 1 to {MAX_SEATS}",
                "D-7.2",
            )
            ok = False
        elif kind != "committee" and seats > 1:
            p.add(
                "post.seats",
                f"{path}.seats",
                "书记、副书记职数应为 1",
                f"{kind} has one seat",
                "D-7.2",
            )
            ok = False
        if kind in kinds:
            p.add("post.duplicate", f"{path}.post", "职位重复", "post defined twice", "D-7.1")
            ok = False
        if kind == "committee" and row["margin"] == "none":
            p.add(
                "post.margin",
                f"{path}.margin",
                "委员候选人差额不少于应选人数的20%，不能设为等额",
                "committee candidates need the 20% margin; it cannot be waived",
                "R18",
            )
            ok = False
        if ok:
            kinds.append(kind)
            _sizes(p, row, path)
        whole &= ok
    if kinds != sorted(kinds, key=POST_ORDER.index):
        p.parameter(
            "posts",
            "职位应按委员、书记、副书记的顺序排列",
            "posts must be in the order committee, secretary, deputy_secretary",
            "RP-2.1",
        )
    if rows and whole:
        if "secretary" not in kinds:
            p.add(
                "post.no_secretary",
                "posts",
                "没有设置书记职位",
                "there is no secretary post",
                "R23",
            )
        if "committee" not in kinds and body and body != "assembly":
            p.add(
                "secretary.body",
                "secretary.elected_by",
                "不设支部委员会的支部由党员大会直接选举书记",
                "a branch without a committee elects its secretary in the assembly",
                "R23",
            )


def _sizes(p: _Problems, row: Mapping[str, Any], path: str) -> None:
    """(RP-2.2) ``L`` at least the 20 % margin and at most ``max(2S, S+2)``; ``F`` 0 or meeting
    the post's margin and at most ``L``; ``1 <= K <= L``."""
    seats, size = int(row["seats"]), int(row["preliminary_size"])
    formal, per_ballot = int(row["formal_size"]), int(row["max_per_ballot"])
    cap = max(2 * seats, seats + 2)
    if not (5 * (size - seats) >= seats and size <= cap):
        p.parameter(
            f"{path}.preliminary_size",
            f"初步人选人数 {size} 应不少于 {seats + -(-seats // 5)}（差额不少于20%）且不多于 {cap}",
            f"the preliminary size {size} must be at least {seats + -(-seats // 5)} (the 20% "
            f"margin) and at most {cap}",
        )
        return
    if formal != 0 and not (margin_ok(formal, seats, str(row["margin"])) and formal <= size):
        p.parameter(
            f"{path}.formal_size",
            f"正式候选人人数 {formal} 应为 0，或符合本职位的差额要求且不多于 {size}",
            f"the formal size {formal} must be 0 or meet the post's margin and be at most {size}",
        )
    if not 1 <= per_ballot <= size:
        p.parameter(
            f"{path}.max_per_ballot",
            f"每张推荐票最多推荐人数 {per_ballot} 应为 1 到 {size}",
            f"the names per recommendation ballot {per_ballot} must be 1 to {size}",
        )


def _recommendation(p: _Problems, rec: Mapping[str, Any]) -> None:
    """(RP-2.2) The quorum rule, ``R`` 1..2000, the weights 0..100 and not both 0."""
    p.choice(rec, "quorum", "recommendation", ("half", "four_fifths"))
    p.within(rec, "public_representatives", "recommendation", 1, MAX_REPRESENTATIVES)
    ranking: Mapping[str, Any] = rec["ranking"]
    path = "recommendation.ranking"
    member = p.within(ranking, "member_weight", path, 0, MAX_WEIGHT)
    public = p.within(ranking, "public_weight", path, 0, MAX_WEIGHT)
    if member and public and ranking["member_weight"] == ranking["public_weight"] == 0:
        p.parameter(path, "两组推荐的权重不能都为 0", "the two weights cannot both be 0")


def _evaluation(p: _Problems, ev: Mapping[str, Any]) -> None:
    """(RP-2.2) The scale (2..5 items, letters a-z distinct, short labels), the failing letters
    (some of the scale's, not all), ``1 <= num < den <= 100``, ``Q`` 1..2000."""
    scale: list[dict[str, Any]] = ev["scale"]
    lo, hi = SCALE_SIZE
    if not lo <= len(scale) <= hi:
        p.parameter(
            "evaluation.scale",
            f"测评等次应为 {lo} 到 {hi} 项",
            f"the scale needs {lo} to {hi} items, found {len(scale)}",
        )
    letters: list[str] = []
    for i, item in enumerate(scale):
        path = f"evaluation.scale[{i}]"
        letter = str(item["letter"])
        if LETTER.fullmatch(letter) is None or letter in letters:
            p.parameter(
                f"{path}.letter",
                f"等次字母 {letter!r} 应为 a 到 z 中的一个，且不重复",
                f"the letter {letter!r} must be one of a-z, not used before",
            )
        letters.append(letter)
        for key in ("zh", "en"):
            label = p.text(item, key, path)
            if len(label) > LABEL_CHARS[key]:
                p.parameter(
                    f"{path}.{key}",
                    f"等次名称不超过 {LABEL_CHARS[key]} 个字符",
                    f"a scale label ({key}) has at most {LABEL_CHARS[key]} characters",
                )
    fail = list(ev["fail_letters"])
    if not fail or len(set(fail)) != len(fail) or not set(fail) <= set(letters):
        p.parameter(
            "evaluation.fail_letters",
            "不通过的等次应为测评等次中的一项或几项，不重复",
            "the failing letters must be one or more distinct letters of the scale",
        )
    elif set(fail) == set(letters):
        p.parameter(
            "evaluation.fail_letters",
            "不通过的等次不能是全部测评等次",
            "the failing letters cannot be every letter of the scale",
        )
    num, den = ev["fail_numerator"], ev["fail_denominator"]
    if not 1 <= num < den <= MAX_DENOMINATOR:
        p.parameter(
            "evaluation.fail_numerator",
            f"不通过的比例 {num}/{den} 应满足 1 ≤ 分子 < 分母 ≤ {MAX_DENOMINATOR}",
            f"the failing share {num}/{den} needs 1 <= numerator < denominator "
            f"<= {MAX_DENOMINATOR}",
        )
    p.within(ev, "public_representatives", "evaluation", 1, MAX_REPRESENTATIVES)


def _officials(p: _Problems, value: object, roster: _Roster) -> int:
    """(R25.1, D-7.7 without the candidate rule) At least one of each, on the roster, once in
    their list, nobody in both; returns the number of scrutineers."""
    officials = p.obj(value, frozenset({"scrutineers", "tellers"}), "officials")
    if officials is None:
        return -1
    lists: dict[str, list[str]] = {}
    readable = True
    for key, zh in (("scrutineers", "监票人"), ("tellers", "计票人")):
        where = f"officials.{key}"
        ids = p.ids(officials[key], where)
        if ids is None:
            lists[key] = []
            readable &= key != "scrutineers"
            continue
        if not ids:
            p.add(
                "officials.missing", where, f"至少需要一名{zh}", f"at least one {key[:-1]}", "D-7.7"
            )
        for j, mid in enumerate(ids):
            if mid not in roster.names:
                p.add(
                    "member.unknown",
                    f"{where}[{j}]",
                    f"名册中没有编号 {mid}",
                    f"no member {mid} on the roster",
                    "D-7.7",
                )
            elif ids.index(mid) != j:
                p.add(
                    "official.duplicate",
                    f"{where}[{j}]",
                    f"{mid} 在{zh}名单中重复",
                    f"{mid} is listed twice as {key[:-1]}",
                    "R25",
                )
        lists[key] = ids
    for mid in sorted(set(lists["scrutineers"]) & set(lists["tellers"])):
        p.add(
            "official.both_roles",
            "officials",
            f"{mid} 不能同时担任监票人和计票人",
            f"{mid} cannot be both scrutineer and teller",
            "R25",
        )
    return len(lists["scrutineers"]) if readable else -1


def _keys(p: _Problems, value: object, scrutineers: int) -> None:
    """(RP-2.4) Each key a valid ``pubkey/1`` of its role, one scrutineer key per scrutineer,
    none given twice (``procedure.keys``)."""
    keys = p.obj(value, frozenset({"work_group", "scrutineers"}), "keys")
    if keys is None:
        return
    _key(p, keys["work_group"], "work_group", "keys.work_group")
    docs = keys["scrutineers"]
    if not isinstance(docs, list):
        p.add("procedure.keys", "keys.scrutineers", "应为监票人公钥列表", "must be a list of keys")
        return
    raw = [_key(p, d, "scrutineer", f"keys.scrutineers[{i}]") for i, d in enumerate(docs)]
    if scrutineers >= 0 and len(docs) != scrutineers:
        p.add(
            "procedure.keys",
            "keys.scrutineers",
            f"监票人公钥 {len(docs)} 个，监票人 {scrutineers} 名：应一人一个，顺序相同",
            f"{len(docs)} scrutineer keys for {scrutineers} scrutineers: one each, same order",
        )
    good = [k for k in raw if k is not None]
    if len(set(good)) != len(good):
        p.add(
            "procedure.keys",
            "keys.scrutineers",
            "监票人公钥重复",
            "a scrutineer key is given twice",
        )


def _key(p: _Problems, doc: object, role: str, path: str) -> bytes | None:
    try:
        return parse_pubkey_value(doc, path=path, role=role).key
    except VerificationError as e:
        p.add("procedure.keys", path, f"公钥无效：{e.zh}", f"the key is not valid: {e.en}")
        return None
