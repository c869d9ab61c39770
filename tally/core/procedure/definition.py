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

The module is the entry points; its private parts are `_common` (formats, ranges, field
helpers), `_defaults` (RP-2.2), `_sections` (each section of RP-2.1) and `_envelope` (RP-2.3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from tally.core.errors import Problem
from tally.core.manifest import canonical
from tally.core.model import Body, Member
from tally.core.procedure import _sections as section
from tally.core.procedure._common import (
    _HEX64,
    _MAX_PUBLICITY,
    _MIN_PUBLICITY,
    _TOP_KEYS,
    FORMAT,
    PROCEDURE_DOMAIN,
    SIGNED_FORMAT,
    Collector,
    _in_range,
    _table,
    parse_exclusions,
    parse_members,
    parse_officials,
)
from tally.core.procedure._defaults import DEFAULT_SCALE, fill_defaults
from tally.core.procedure._envelope import (
    SignedEnvelope,
    decode_json,
    parse_signed_envelope,
    signed_procedure_bytes,
)
from tally.core.procedure.errors import ProcedureDefinitionError
from tally.core.procedure.model import Procedure

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
    c = Collector()
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
    c = Collector()
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
# The parser: every problem in one pass (RP-2.4)


def _parse(c: Collector, data: Mapping[str, Any]) -> Procedure | None:
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
    info = section.election(c, election) if election is not None else None
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
    members = parse_members(c, c.array_of_tables(data, "members"))
    by_id = {m.id: m for m in members}
    if "exclusions" not in data:
        c.add("field.missing", "exclusions", "缺少此项", "missing")
    exclusions = parse_exclusions(c, c.array_of_tables(data, "exclusions"), by_id)
    excluded = {x.member for x in exclusions}

    secretary = _table(c, data, "secretary")
    body = None
    if secretary is not None:
        c.unknown_keys(secretary, {"elected_by"}, "secretary")
        body = c.enum(secretary, "elected_by", "secretary", Body)

    posts = section.posts(c, data, body)
    ballot_order = section.ballot_order(c, data.get("ballot_order"), members, by_id, excluded)
    recommendation = section.recommendation(c, _table(c, data, "recommendation"))
    evaluation = section.evaluation(c, _table(c, data, "evaluation"))
    qualifications = section.qualifications(c, _table(c, data, "qualifications"))
    officials = parse_officials(c, _table(c, data, "officials") or {}, by_id, ())
    days = c.integer(data, "publicity_working_days", "", None)
    _in_range(c, days, _MIN_PUBLICITY, _MAX_PUBLICITY, where="publicity_working_days", clause="R26")
    keys = section.procedure_keys(c, _table(c, data, "keys"), len(officials.scrutineers))

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
