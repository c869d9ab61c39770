"""Parse the procedure definition: ``procedure/1`` and the envelope of ``signed-procedure/1``.

Implements spec/procedure.md §2: the members of RP-2.1, the parameters, defaults and ranges of
RP-2.2, the procedure id of RP-2.3 and the checks of RP-2.4, with the roster, exclusion, post and
officials rules of spec/definition.md under their own codes. Every problem is collected and reported
at once, each with its field path (as :mod:`tally.core.definition`, D-7.6). Pure: it takes decoded
values or bytes and never reads a file; the town's signature is checked by the shell
(``tally.procedure_file``), which holds the crypto.

Entry points:

* :func:`build_procedure`: a clerk's input (decoded TOML, defaults may be left out, no ``keys``)
  plus the public keys → :class:`~tally.core.procedure.model.Procedure` (``tally procedure new``).
* :func:`parse_procedure`: a ``procedure/1`` JSON value, every member written out (RP-2.1).
* :func:`render_procedure`: the ``procedure/1`` JSON value of a procedure; ``parse_procedure``
  of it gives the same procedure back, and a document is accepted only in this form.
* :func:`procedure_id_of`, :func:`parse_signed_envelope`, :func:`signed_procedure_bytes`: RP-2.3.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from tally.core.definition import (
    MEMBER_ID_PATTERN,
    _Collector,
    _default_margin,
    _parse_exclusions,
    _parse_members,
    _parse_officials,
)
from tally.core.errors import Problem
from tally.core.manifest import canonical
from tally.core.model import (
    ZH_ALIASES,
    Body,
    Education,
    MarginRule,
    Member,
    MemberId,
    PostKind,
    QualificationPolicy,
    zh_label,
)
from tally.core.procedure.errors import ProcedureDefinitionError, ProcedureFileError
from tally.core.procedure.model import (
    LABELS_ZH,
    Evaluation,
    FailComparison,
    Procedure,
    ProcedureInfo,
    ProcedureKeys,
    ProcedurePost,
    PublicKeyDocument,
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
    "DEFAULT_SCALE",
    "FORMAT",
    "PROCEDURE_DOMAIN",
    "SIGNED_FORMAT",
    "SignedEnvelope",
    "build_procedure",
    "decode_json",
    "fill_defaults",
    "parse_procedure",
    "parse_signed_envelope",
    "procedure_id_of",
    "render_procedure",
    "signed_procedure_bytes",
]

FORMAT = "procedure/1"
E = TypeVar("E", bound=StrEnum)
D = TypeVar("D", bound=StrEnum | None)
SIGNED_FORMAT = "signed-procedure/1"
PROCEDURE_DOMAIN = b"branch-election/procedure/1"

# (RP-2.2) The common 测评 scale, issue 18.
DEFAULT_SCALE: tuple[Mapping[str, str], ...] = (
    {"letter": "s", "zh": "满意", "en": "satisfied"},
    {"letter": "b", "zh": "基本满意", "en": "basically satisfied"},
    {"letter": "d", "zh": "不满意", "en": "dissatisfied"},
)
_QUALIFICATION_DEFAULTS: Mapping[str, Any] = {
    "qualification_policy": QualificationPolicy.BLOCK.value,
    "secretary_new_max_age": 45,
    "secretary_new_min_education": Education.SENIOR_HIGH.value,
    "secretary_continuing_max_age": 50,
    "secretary_continuing_min_education": Education.JUNIOR_HIGH.value,
}

_TOP_KEYS = {
    "format",
    "election",
    "casework_id",
    "members",
    "exclusions",
    "ballot_order",
    "posts",
    "secretary",
    "recommendation",
    "evaluation",
    "qualifications",
    "officials",
    "publicity_working_days",
    "keys",
}
_ELECTION_KEYS = {"title", "branch", "branch_code", "town", "term"}
_POST_KEYS = {"post", "seats", "margin", "preliminary_size", "formal_size", "max_per_ballot"}
_POST_ORDER = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)
_PUBKEY_KEYS = {"format", "algorithm", "role", "label", "key"}
_SIGNED_KEYS = {"format", "procedure", "town_key", "signature"}
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_LETTER = re.compile(r"[a-z]", re.ASCII)
_MAX_SEATS = 15
_MAX_REPRESENTATIVES = 2000
_MAX_WEIGHT = 100
_MAX_DENOMINATOR = 100
_MIN_PUBLICITY, _MAX_PUBLICITY = 5, 60
_SCALE_SIZE = (2, 5)
_LABEL_CHARS = {"zh": 16, "en": 32}


def _ceil_fifth(seats: int) -> int:
    return -(-seats // 5)


# --------------------------------------------------------------------------------------------
# Defaults (RP-2.2): what `tally procedure new` writes out for a value the input leaves out.


def fill_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """(RP-2.2) A copy of a clerk's input with every left-out parameter set to its default.

    Only values the input leaves out are added; a value of the wrong type is left for the parser
    to report. ``ballot_order``, the roster, the posts' ``seats`` and
    ``recommendation.public_representatives`` have no default.
    """
    doc: dict[str, Any] = dict(data)
    doc.setdefault("format", FORMAT)
    doc.setdefault("exclusions", [])
    doc.setdefault("publicity_working_days", 5)
    secretary = doc.setdefault("secretary", {"elected_by": Body.ASSEMBLY.value})
    body = Body.ASSEMBLY
    if isinstance(secretary, dict):
        secretary = doc["secretary"] = dict(secretary)
        secretary.setdefault("elected_by", Body.ASSEMBLY.value)
        body = _enum_or(Body, secretary["elected_by"], Body.ASSEMBLY)
    posts = doc.get("posts")
    if isinstance(posts, list):
        doc["posts"] = [_post_defaults(row, body) for row in posts]
    recommendation = doc.setdefault("recommendation", {})
    if isinstance(recommendation, dict):
        recommendation = doc["recommendation"] = dict(recommendation)
        recommendation.setdefault("layout", RecommendationLayout.LISTED.value)
        recommendation.setdefault("quorum", RecommendationQuorum.HALF.value)
        ranking = recommendation.setdefault("ranking", {})
        if isinstance(ranking, dict):
            ranking = recommendation["ranking"] = dict(ranking)
            ranking.setdefault("mode", RankingMode.SHARES.value)
            ranking.setdefault("member_weight", 1)
            ranking.setdefault("public_weight", 1)
    evaluation = doc.setdefault("evaluation", {})
    if isinstance(evaluation, dict):
        evaluation = doc["evaluation"] = dict(evaluation)
        evaluation.setdefault("scale", [dict(item) for item in DEFAULT_SCALE])
        evaluation.setdefault("fail_letters", ["d"])
        evaluation.setdefault("fail_numerator", 1)
        evaluation.setdefault("fail_denominator", 3)
        evaluation.setdefault("fail_comparison", FailComparison.GT.value)
        if isinstance(recommendation, dict) and "public_representatives" in recommendation:
            evaluation.setdefault(
                "public_representatives", recommendation["public_representatives"]
            )
    qualifications = doc.setdefault("qualifications", {})
    if isinstance(qualifications, dict):
        doc["qualifications"] = {**_QUALIFICATION_DEFAULTS, **qualifications}
    return doc


def _post_defaults(row: object, body: Body) -> object:
    if not isinstance(row, dict):
        return row
    out = dict(row)
    kind = _enum_or(PostKind, out.get("post"), None)
    if kind is not None:
        out.setdefault("margin", _default_margin(kind, body).value)
    seats = out.get("seats")
    if isinstance(seats, int) and not isinstance(seats, bool) and seats > 0:
        out.setdefault("preliminary_size", seats + _ceil_fifth(seats))
        out.setdefault("max_per_ballot", seats)
    out.setdefault("formal_size", 0)
    return out


def _enum_or(kind: type[E], value: object, default: D) -> E | D:
    if not isinstance(value, str):
        return default
    code = ZH_ALIASES.get(kind, {}).get(value, value)
    try:
        return kind(code)
    except ValueError:
        return default


# --------------------------------------------------------------------------------------------
# Entry points


def build_procedure(
    data: Mapping[str, Any],
    *,
    work_group_key: Mapping[str, Any],
    scrutineer_keys: Sequence[Mapping[str, Any]],
) -> Procedure:
    """(RP-2.2) The procedure of a clerk's input with the defaults filled in and the keys added.

    The input is ``procedure/1`` as decoded TOML: any parameter with a default may be left out,
    Chinese spellings of the enum values are accepted as in the election definition, and dates
    may be TOML dates; it carries no ``keys`` (they come from the key files).

    Args:
        data: the decoded input.
        work_group_key: the work group's ``pubkey/1`` document.
        scrutineer_keys: one ``pubkey/1`` document per scrutineer, in the order of
            ``officials.scrutineers``.

    Raises:
        ProcedureDefinitionError: with every problem found.

    Returns:
        The validated procedure; :func:`render_procedure` gives its ``procedure/1`` document.
    """
    c = _Collector()
    if "keys" in data:
        c.add(
            "field.unknown",
            "keys",
            "输入文件不写公钥：公钥由 --work-group-pub 和 --scrutineer-pub 给出",
            "the input carries no keys: they are given by --work-group-pub and --scrutineer-pub",
        )
    doc = fill_defaults(data)
    doc["keys"] = {
        "work_group": dict(work_group_key),
        "scrutineers": [dict(k) for k in scrutineer_keys],
    }
    procedure = _parse(c, doc)
    if c.problems or procedure is None:
        raise ProcedureDefinitionError(tuple(c.problems))
    return procedure


def parse_procedure(document: Mapping[str, Any]) -> Procedure:
    """Parse a ``procedure/1`` value (decoded JSON): RP-2.1 and every check of RP-2.4.

    Every member is required (no default is filled in), and the document must be exactly
    :func:`render_procedure` of what it parses to (no alias, no untrimmed text, no other
    spelling), so that the procedure id of RP-2.3 names one procedure.

    Raises:
        ProcedureDefinitionError: with every problem found.
    """
    c = _Collector()
    procedure = _parse(c, document)
    if c.problems or procedure is None:
        raise ProcedureDefinitionError(tuple(c.problems))
    if render_procedure(procedure) != document:
        raise ProcedureDefinitionError(
            (
                Problem(
                    "procedure.not_resolved",
                    "",
                    "换届程序定义不是完整展开的规范形式（请用 tally procedure new 生成）",
                    "the procedure definition is not in its resolved form (write it with "
                    "tally procedure new)",
                    "RP-2.1",
                ),
            )
        )
    return procedure


def procedure_id_of(document: Mapping[str, Any]) -> bytes:
    """(RP-2.3) ``SHA-256("branch-election/procedure/1" || 0x00 || JCS(procedure))``."""
    return hashlib.sha256(PROCEDURE_DOMAIN + b"\x00" + canonical(document)).digest()


def render_procedure(procedure: Procedure) -> dict[str, Any]:
    """The ``procedure/1`` JSON value of ``procedure``, every member written out (RP-2.1)."""
    p = procedure
    r = p.recommendation
    ev = p.evaluation
    q = p.qualifications
    return {
        "format": FORMAT,
        "election": {
            "title": p.election.title,
            "branch": p.election.branch,
            "branch_code": p.election.branch_code,
            "town": p.election.town,
            "term": p.election.term,
        },
        "casework_id": p.casework_id,
        "members": [_member_json(m) for m in p.members],
        "exclusions": [
            {
                "member": x.member,
                "category": x.category.value,
                "higher_level_approval": x.higher_level_approval,
                "assembly_approval": x.assembly_approval,
            }
            for x in p.exclusions
        ],
        "ballot_order": list(p.ballot_order),
        "posts": [
            {
                "post": post.kind.value,
                "seats": post.seats,
                "margin": post.margin.value,
                "preliminary_size": post.preliminary_size,
                "formal_size": post.formal_size,
                "max_per_ballot": post.max_per_ballot,
            }
            for post in p.posts
        ],
        "secretary": {"elected_by": p.secretary_body.value},
        "recommendation": {
            "layout": r.layout.value,
            "quorum": r.quorum.value,
            "public_representatives": r.public_representatives,
            "ranking": {
                "mode": r.ranking.mode.value,
                "member_weight": r.ranking.member_weight,
                "public_weight": r.ranking.public_weight,
            },
        },
        "evaluation": {
            "scale": [{"letter": s.letter, "zh": s.zh, "en": s.en} for s in ev.scale],
            "fail_letters": list(ev.fail_letters),
            "fail_numerator": ev.fail_numerator,
            "fail_denominator": ev.fail_denominator,
            "fail_comparison": ev.fail_comparison.value,
            "public_representatives": ev.public_representatives,
        },
        "qualifications": {
            "qualification_policy": q.qualification_policy.value,
            "secretary_new_max_age": q.secretary_new_max_age,
            "secretary_new_min_education": q.secretary_new_min_education.value,
            "secretary_continuing_max_age": q.secretary_continuing_max_age,
            "secretary_continuing_min_education": q.secretary_continuing_min_education.value,
        },
        "officials": {
            "scrutineers": list(p.officials.scrutineers),
            "tellers": list(p.officials.tellers),
        },
        "publicity_working_days": p.publicity_working_days,
        "keys": {
            "work_group": p.keys.work_group.to_json(),
            "scrutineers": [k.to_json() for k in p.keys.scrutineers],
        },
    }


def _member_json(m: Member) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "sex": m.sex.value,
        "birth_date": m.birth_date.isoformat(),
        "education": m.education.value,
        "status": m.status.value,
        "registered_here": m.registered_here,
        "incumbent_secretary": m.incumbent_secretary,
    }


# --------------------------------------------------------------------------------------------
# The signed envelope (RP-2.3)


@dataclass(frozen=True, slots=True)
class SignedEnvelope:
    """The members of a ``signed-procedure/1`` before its signature is checked.

    ``message`` is ``JCS(procedure)``, the bytes the town signed; ``procedure_id`` their hash.
    """

    document: Mapping[str, Any]
    town_key: PublicKeyDocument
    signature: bytes
    message: bytes
    procedure_id: bytes


def signed_procedure_bytes(
    document: Mapping[str, Any], town_key: Mapping[str, Any], signature: bytes
) -> bytes:
    """(RP-2.3) The JCS bytes of ``signed-procedure/1`` with this procedure, key and signature."""
    return canonical(
        {
            "format": SIGNED_FORMAT,
            "procedure": dict(document),
            "town_key": dict(town_key),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


def parse_signed_envelope(raw: bytes) -> SignedEnvelope:
    """(RP-2.3) The first checks of a ``signed-procedure/1``: the format and the town key's shape.

    The signature, the trust root and RP-2.4 follow (``tally.procedure_file``), in that order.

    Raises:
        ProcedureFileError: ``procedure.format`` (not JSON, another format, members missing or
            unknown), ``procedure.town_role`` (``town_key`` is not a ``pubkey/1`` of role
            ``town_committee``), ``procedure.signature`` (not 64 bytes of canonical base64).
    """
    doc = decode_json(raw)
    if not isinstance(doc, dict) or doc.get("format") != SIGNED_FORMAT or set(doc) != _SIGNED_KEYS:
        raise ProcedureFileError(
            "procedure.format",
            zh="不是经镇党委签署的换届程序定义（signed-procedure/1，恰好四项）",
            en="not a signed-procedure/1 document (exactly four members)",
            clause="RP-2.3",
        )
    c = _Collector()
    town = _parse_key(c, doc["town_key"], "town_committee", "town_key")
    if town is None:
        raise ProcedureFileError(
            "procedure.town_role",
            zh="签署者不是镇党委的公钥（pubkey/1，角色 town_committee）",
            en="the signer is not a town committee key (pubkey/1, role town_committee)",
            clause="RP-2.3",
        )
    signature = _b64(doc["signature"])
    if signature is None or len(signature) != 64:
        raise ProcedureFileError(
            "procedure.signature",
            zh="镇党委签名格式错误（应为 64 字节的 base64）",
            en="the town signature is malformed (64 bytes of base64 expected)",
            clause="RP-2.3",
        )
    document = doc["procedure"]
    if not isinstance(document, dict):
        raise ProcedureFileError(
            "procedure.format",
            zh="procedure 应为换届程序定义（JSON 对象）",
            en="procedure must be a procedure/1 object",
            clause="RP-2.3",
        )
    try:
        message = canonical(document)
    except ValueError as e:  # an integer beyond 2**53, a lone surrogate: nothing was signed
        raise ProcedureFileError(
            "procedure.format",
            zh=f"换届程序定义含有无法规范化的值：{e}",
            en=f"the procedure holds a value with no canonical JSON form: {e}",
            clause="RP-2.3",
        ) from e
    return SignedEnvelope(
        document=document,
        town_key=town,
        signature=signature,
        message=message,
        procedure_id=hashlib.sha256(PROCEDURE_DOMAIN + b"\x00" + message).digest(),
    )


def decode_json(raw: bytes) -> object:
    """Strict JSON of a procedure file: UTF-8, no duplicate member, no float (spec/README.md).

    Raises:
        ProcedureFileError: ``procedure.format``.
    """
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates, parse_float=_no_float)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        raise ProcedureFileError(
            "procedure.format",
            zh=f"换届程序定义文件不是有效的 JSON：{e}",
            en=f"the procedure file is not valid JSON: {e}",
            clause="RP-2.3",
        ) from e


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        msg = "duplicate key"
        raise ValueError(msg)
    return dict(pairs)


def _no_float(text: str) -> float:
    msg = f"numbers must be integers ({text})"
    raise ValueError(msg)


def _b64(value: object) -> bytes | None:
    """Canonical standard base64 with padding (spec/keyfile.md §2.4), else None."""
    if not isinstance(value, str):
        return None
    try:
        out = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return out if base64.b64encode(out).decode("ascii") == value else None


# --------------------------------------------------------------------------------------------
# The parser: every problem in one pass (RP-2.4)


def _parse(c: _Collector, data: Mapping[str, Any]) -> Procedure | None:
    c.unknown_keys(data, _TOP_KEYS, "")
    fmt = data.get("format")
    if fmt != FORMAT:
        c.add(
            "format.version",
            "format",
            f"格式应为 {FORMAT!r}，实际为 {fmt!r}",
            f"format must be {FORMAT!r}, found {fmt!r}",
        )
    election = _table(c, data, "election")
    info = _election(c, election) if election is not None else None
    casework_id = data.get("casework_id")
    if not isinstance(casework_id, str) or _HEX64.fullmatch(casework_id) is None:
        c.add(
            "field.type" if casework_id is not None else "field.missing",
            "casework_id",
            "应为 64 位小写十六进制（镇异议与直报登记簿的标识）",
            "must be 64 lowercase hex digits (the town casework file's id)",
            "RP-2.1",
        )
        casework_id = ""
    members = _parse_members(c, c.array_of_tables(data, "members"))
    by_id = {m.id: m for m in members}
    if "exclusions" not in data:
        c.add("field.missing", "exclusions", "缺少此项", "missing")
    exclusions = _parse_exclusions(c, c.array_of_tables(data, "exclusions"), by_id)
    excluded = {x.member for x in exclusions}

    secretary = _table(c, data, "secretary")
    body = None
    if secretary is not None:
        c.unknown_keys(secretary, {"elected_by"}, "secretary")
        body = c.enum(secretary, "elected_by", "secretary", Body)

    posts = _posts(c, data, body)
    ballot_order = _ballot_order(c, data.get("ballot_order"), members, by_id, excluded)
    recommendation = _recommendation(c, _table(c, data, "recommendation"))
    evaluation = _evaluation(c, _table(c, data, "evaluation"))
    qualifications = _qualifications(c, _table(c, data, "qualifications"))
    officials = _parse_officials(c, _table(c, data, "officials") or {}, by_id, ())
    days = c.integer(data, "publicity_working_days", "", None)
    _in_range(c, days, _MIN_PUBLICITY, _MAX_PUBLICITY, where="publicity_working_days", clause="R26")
    keys = _keys(c, _table(c, data, "keys"), len(officials.scrutineers))

    if (
        c.problems
        or info is None
        or body is None
        or recommendation is None
        or evaluation is None
        or qualifications is None
        or keys is None
    ):
        return None
    return Procedure(
        election=info,
        casework_id=casework_id,
        members=members,
        exclusions=exclusions,
        ballot_order=ballot_order,
        posts=posts,
        secretary_body=body,
        recommendation=recommendation,
        evaluation=evaluation,
        qualifications=qualifications,
        officials=officials,
        publicity_working_days=days,
        keys=keys,
    )


def _choice(
    c: _Collector, table: Mapping[str, Any], key: str, path: str, kind: type[E]
) -> E | None:
    """A procedure enum (:data:`LABELS_ZH` names its values in Chinese)."""
    where = f"{path}.{key}"
    value = table.get(key)
    if value is None:
        c.add("field.missing", where, "缺少此项", "missing")
        return None
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(f"{m.value}（{LABELS_ZH[m]}）" for m in kind)
    allowed_en = ", ".join(m.value for m in kind)
    c.add(
        "field.choice",
        where,
        f"不认识的取值 {value!r}，可选：{allowed}",
        f"unknown value {value!r}; allowed: {allowed_en}",
    )
    return None


def _table(
    c: _Collector, data: Mapping[str, Any], key: str, path: str = ""
) -> Mapping[str, Any] | None:
    """The object ``data[key]``; None (with its problem) when it is missing or not an object."""
    where = f"{path}.{key}" if path else key
    if key not in data:
        c.add("field.missing", where, "缺少此项", "missing")
        return None
    value = data[key]
    if not isinstance(value, dict):
        c.add("field.type", where, "应为表（对象）", "must be a table (object)")
        return None
    return value


def _in_range(c: _Collector, value: int, lo: int, hi: int, *, where: str, clause: str) -> bool:
    if lo <= value <= hi:
        return True
    c.add(
        "procedure.parameter",
        where,
        f"取值 {value} 超出允许范围 {lo} 到 {hi}",
        f"the value {value} is outside the allowed range {lo} to {hi}",
        clause,
    )
    return False


def _parameter(c: _Collector, where: str, zh: str, en: str, clause: str = "RP-2.2") -> None:
    c.add("procedure.parameter", where, zh, en, clause)


def _election(c: _Collector, table: Mapping[str, Any]) -> ProcedureInfo | None:
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


def _posts(c: _Collector, data: Mapping[str, Any], body: Body | None) -> tuple[ProcedurePost, ...]:
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
    c: _Collector, row: Mapping[str, Any], path: str, seen: set[PostKind]
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
    c: _Collector,
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


def _recommendation(c: _Collector, table: Mapping[str, Any] | None) -> Recommendation | None:
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


def _evaluation(c: _Collector, table: Mapping[str, Any] | None) -> Evaluation | None:
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
    ok = True
    rows = c.array_of_tables(table, "scale") if "scale" in table else None
    if rows is None:
        c.add("field.missing", f"{p}.scale", "缺少此项", "missing")
        rows, ok = [], False
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
    letters = c.ids(table.get("fail_letters"), f"{p}.fail_letters")
    known = {s.letter for s in scale}
    if not letters or len(set(letters)) != len(letters) or not set(letters) <= known:
        _parameter(
            c,
            f"{p}.fail_letters",
            "不通过的等次应为测评等次中的一项或几项，不重复",
            "the failing letters must be one or more distinct letters of the scale",
        )
        ok = False
    elif known and set(letters) == known:
        _parameter(
            c,
            f"{p}.fail_letters",
            "不通过的等次不能是全部测评等次",
            "the failing letters cannot be every letter of the scale",
        )
        ok = False
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
    if not ok or comparison is None:
        return None
    return Evaluation(
        scale=tuple(scale),
        fail_letters=tuple(letters),
        fail_numerator=num,
        fail_denominator=den,
        fail_comparison=comparison,
        public_representatives=reps,
    )


def _scale_item(
    c: _Collector, row: Mapping[str, Any], path: str, seen: set[str]
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


def _qualifications(c: _Collector, table: Mapping[str, Any] | None) -> Qualifications | None:
    p = "qualifications"
    if table is None:
        return None
    c.unknown_keys(table, set(_QUALIFICATION_DEFAULTS), p)
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


def _keys(c: _Collector, table: Mapping[str, Any] | None, scrutineers: int) -> ProcedureKeys | None:
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


def _keys_problem(c: _Collector, where: str, zh: str, en: str) -> None:
    c.add("procedure.keys", where, zh, en, "RP-2.4")


def _parse_key(c: _Collector, doc: object, role: str, where: str) -> PublicKeyDocument | None:
    """The shape of a ``pubkey/1`` document of ``role`` (spec/keyfile.md §5.2)."""
    if (
        not isinstance(doc, dict)
        or set(doc) != _PUBKEY_KEYS
        or doc["format"] != "pubkey/1"
        or doc["algorithm"] != "ed25519"
        or not all(isinstance(doc[k], str) for k in _PUBKEY_KEYS)
    ):
        _keys_problem(c, where, "应为公钥文件（pubkey/1）", "must be a pubkey/1 document")
        return None
    if doc["role"] != role:
        _keys_problem(
            c,
            where,
            f"公钥角色应为 {role}，实际为 {doc['role']}",
            f"the key's role must be {role}, found {doc['role']}",
        )
        return None
    raw = _b64(doc["key"])
    label = doc["label"]
    if raw is None or len(raw) != 32 or not label or unicodedata.normalize("NFC", label) != label:
        _keys_problem(c, where, "公钥格式错误", "the public key is malformed")
        return None
    return PublicKeyDocument(algorithm=doc["algorithm"], role=role, label=label, key=doc["key"])
