"""The tables of the verifier's procedure report (spec/procedure.md RP-13.1): the ``procedure``
object of ``procedure-verification/1``, built from the verifier's own recounts.

What the tables are made of (``Recounted``): the signed definition, the log as read, and the
verifier's own recount of each ``recommendation.counted`` and ``evaluation.counted`` entry. A
count shown is never the one the log records: the sessions' valid and invalid ballots, the
ranking's recommendations and scores and every evaluation count are the verifier's own; the lists
(the proposal's names and bases, the vetting, the approval, the appointment's objections) are the
recorded ones, shown only when the clause that recomputes or checks them held.

**Gates** (issue 18, verifier-tables). Each table has the clauses its numbers rest on
(``GATES``): V20-V23 (the bundle, the definition, the log, the ballot records) for every table,
then its own. An item's content is shown only when each of those clauses passed (``passed``, or
``partial``: every check made held); otherwise ``check`` is ``failed`` (a clause failed) or
``not_checked`` (a clause was not checked), ``withheld_by`` names the failed clauses (else those
not checked) and every member but the item's identity is ``null``. A proposal version other than
1 is shown only when V26 passed whole (the supplement is not recomputed while V26 is partial).

Persons are named as in the roster (NFC), with their member ids; the public representatives are
counted, never named (RP-3.2); nothing of the casework but the appointment's objection list
(V30, RP-10.1) appears.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError
from verifier.procedure.log import Entry
from verifier.procedure.ranking import ranking as _ranking

__all__ = [
    "GATES",
    "Recounted",
    "chinese_number",
    "fail_rule",
    "fraction_en",
    "fraction_zh",
    "procedure_tables",
]

_BASE: Final = ("V20", "V21", "V22", "V23")
#: (RP-13.1) The clauses each table's content rests on.
GATES: Final[Mapping[str, tuple[str, ...]]] = {
    "sessions": (*_BASE, "V24", "V25"),
    "ranking": (*_BASE, "V25", "V26"),
    "preliminary": (*_BASE, "V25", "V26"),
    "evaluation": (*_BASE, "V24", "V27"),
    "vetting": (*_BASE, "V26", "V27", "V28"),
    "approval": (*_BASE, "V28"),
    "objections": (*_BASE, "V30", "V31"),
    "appointment": (*_BASE, "V30", "V31"),
}
_HELD: Final = ("passed", "partial")
_EVALUATION: Final = (
    "status",
    "present",
    "members_present",
    "public_present",
    "issued",
    "returned",
    "valid",
    "invalid",
    "added_rows",
    "rule",
    "persons",
)
_PROPOSAL: Final = ("election_date", "names", "omitted")
_UNRANKED: Final = {"check": "not_checked", "withheld_by": ["V26"]}

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Recounted:
    """What the tables are made from: the signed ``procedure/1`` value, its counting parts, the
    log's entries and the verifier's own recount of each count entry (by ``seq``; None when the
    recount refused the round's records)."""

    definition: Mapping[str, Any]
    counting: CountingDefinition
    entries: tuple[Entry, ...]
    recounts: Mapping[int, Mapping[str, Any] | None]

    def has(self, entry_type: str) -> bool:
        """Whether the log holds an entry of ``entry_type``."""
        return any(e.type == entry_type for e in self.entries)


class _Gate:
    """Each table's check from the clauses' statuses."""

    def __init__(self, status: Mapping[str, str]) -> None:
        self.status = status

    def __call__(self, table: str, *, whole: bool = False) -> Json:
        """The check of an item of ``table``; ``whole``: V26 must have passed without a check
        left out (a supplement version, not recomputed while V26 is partial)."""
        bad = [c for c in GATES[table] if self.status.get(c, "not_checked") not in _HELD]
        if whole and "V26" not in bad and self.status.get("V26") != "passed":
            bad.append("V26")
        if not bad:
            return {"check": "passed", "withheld_by": []}
        failed = [c for c in bad if self.status.get(c) == "failed"]
        if failed:
            return {"check": "failed", "withheld_by": failed}
        return {"check": "not_checked", "withheld_by": bad}


def procedure_tables(material: Recounted, status: Mapping[str, str]) -> Json:
    """(RP-13.1) The ``procedure`` object: ``sessions``, ``ranking``, ``preliminary``,
    ``evaluation``, ``vetting``, ``approval`` and ``objections`` (lists) and ``appointment``
    (an object or null), each item gated by ``status`` (clause -> ``passed``, ``partial``,
    ``failed``, ``not_checked``)."""
    gate = _Gate(status)
    names = _names(material.definition)
    tables = _Tables(material, gate, names)
    return {
        "sessions": tables.sessions(),
        "ranking": tables.ranking(),
        "preliminary": tables.preliminary(),
        "evaluation": tables.evaluation(),
        "vetting": tables.vetting(),
        "approval": tables.approval(),
        "objections": tables.objections(),
        "appointment": tables.appointment(),
    }


def _names(definition: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _list(definition.get("members")):
        if isinstance(m, dict):
            out[str(m.get("id"))] = unicodedata.normalize("NFC", str(m.get("name", "")))
    return out


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: object) -> Mapping[str, Any]:
    return v if isinstance(v, dict) else {}


def _withheld(check: Json, identity: Json, content: Sequence[str]) -> Json:
    return {**identity, **check, **dict.fromkeys(content)}


class _Tables:
    def __init__(self, m: Recounted, gate: _Gate, names: Mapping[str, str]) -> None:
        self.m = m
        self.gate = gate
        self.names = names

    def person(self, member: object) -> Json:
        return {"member": str(member), "name": self.names.get(str(member), "")}

    # ----------------------------------------------------------------------- sessions (RP-3.4)

    def sessions(self) -> list[Json]:
        """Each post of each recommendation session: present, issued, returned, valid, invalid
        (the verifier's recount), in log order."""
        check = self.gate("sessions")
        content = ("status", "present", "issued", "returned", "valid", "invalid")
        rows: dict[tuple[object, object, object], Json] = {}
        for e in self.m.entries:
            b = e.body
            if e.type == "recommendation.opened":
                for post in _list(b.get("posts")):
                    key = (b.get("group"), post, b.get("round"))
                    rows[key] = {"group": key[0], "post": post, "round": key[2]} | {
                        "status": "open",
                        "present": b.get("present"),
                        "issued": None,
                        "returned": None,
                        "valid": None,
                        "invalid": None,
                    }
            elif e.type in ("ballots.issued", "ballots.returned", "round.void"):
                row = rows.get((b.get("form"), b.get("post"), b.get("round")))
                if row is not None:
                    _step(row, e)
            elif e.type == "recommendation.counted":
                row = rows.get((b.get("group"), b.get("post"), b.get("round")))
                own = self.m.recounts.get(e.seq)
                if row is not None and own is not None:
                    row |= {
                        "status": "counted",
                        "valid": own["valid_ballots"],
                        "invalid": own["invalid_ballots"],
                    }
        if check["check"] != "passed":
            return [
                _withheld(check, {k: r[k] for k in ("group", "post", "round")}, content)
                for r in rows.values()
            ]
        return [{**r, **check} for r in rows.values()]

    # ----------------------------------------------------------------------- ranking (RP-4.1)

    def _own_counts(self, entry_type: str) -> list[Mapping[str, Any]]:
        out = []
        for e in self.m.entries:
            own = self.m.recounts.get(e.seq)
            if e.type == entry_type and own is not None:
                out.append(own)
        return out

    def ranking(self) -> list[Json]:
        """Per post: every nominable member with a score above 0 (RP-4.1), by score, with the
        recommendations of each group, the shared rank, and the written names not counted."""
        d = self.m.counting
        counts = self._own_counts("recommendation.counted")
        check = self.gate("ranking")
        content = (
            "mode",
            "member_weight",
            "public_weight",
            "valid_ballots",
            "persons",
            "not_counted",
        )
        out = []
        for post in (p.post for p in d.posts):
            if not any(c.get("post") == post for c in counts):
                continue
            item: Json = {"post": post}
            if check["check"] != "passed":
                out.append(_withheld(check, item, content))
                continue
            try:
                ranked = _ranking(d, counts, post)
            except ProcedureRecountError:  # a group not counted yet: no ranking (RP-4.1)
                out.append(_withheld(_UNRANKED, item, content))
                continue
            valid = {
                g: sum(
                    int(c["valid_ballots"])
                    for c in counts
                    if c.get("post") == post and c.get("group") == g
                )
                for g in ("member", "public")
            }
            persons = [
                self.person(x)
                | {
                    "member_recommendations": m,
                    "public_recommendations": p,
                    "score": score,
                    "rank": 1 + sum(1 for r in ranked if r[3] > score),
                }
                for x, m, p, score in ranked
            ]
            out.append(
                item
                | check
                | {
                    "mode": d.mode,
                    "member_weight": d.member_weight,
                    "public_weight": d.public_weight,
                    "valid_ballots": valid,
                    "persons": persons,
                    "not_counted": _not_counted(counts, post),
                }
            )
        return out

    # ----------------------------------------------------------------------- preliminary (RP-4.5)

    def preliminary(self) -> list[Json]:
        """Each version of the proposal, per post: every name with its basis and the verifier's
        recommendations and score, and every omission with its reason."""
        d = self.m.counting
        counts = self._own_counts("recommendation.counted")
        out = []
        for e in self.m.entries:
            if e.type != "preliminary.proposed":
                continue
            version = e.body.get("version")
            check = self.gate("preliminary", whole=version != 1)
            for p in _list(e.body.get("posts")):
                post = _dict(p).get("post")
                item: Json = {"version": version, "post": post}
                if check["check"] != "passed":
                    out.append(_withheld(check, item, _PROPOSAL))
                    continue
                try:
                    scores = {r[0]: r for r in _ranking(d, counts, str(post))}
                except ProcedureRecountError:  # not reached when V26 passed
                    out.append(_withheld(_UNRANKED, item, _PROPOSAL))
                    continue
                out.append(
                    item
                    | check
                    | {
                        "election_date": e.body.get("election_date"),
                        "names": [
                            self._proposed(_dict(n), scores) for n in _list(_dict(p).get("names"))
                        ],
                        "omitted": [self._stop(_dict(o)) for o in _list(_dict(p).get("omitted"))],
                    }
                )
        return out

    def _proposed(
        self, n: Mapping[str, Any], scores: Mapping[str, tuple[str, int, int, int]]
    ) -> Json:
        member = str(n.get("member"))
        _, m, p, score = scores.get(member, (member, 0, 0, 0))
        return self.person(member) | {
            "basis": n.get("basis"),
            "member_recommendations": m,
            "public_recommendations": p,
            "score": score,
        }

    def _stop(self, o: Mapping[str, Any]) -> Json:
        return self.person(o.get("member")) | {
            "reason": o.get("reason"),
            "category": o.get("category"),
            "reference": o.get("reference"),
        }

    # ----------------------------------------------------------------------- evaluation (RP-5.6)

    def evaluation(self) -> list[Json]:
        """Each evaluation round: who took part (members and public representatives, each by
        number), the ballots, every person's counts from the verifier's recount, the rule
        written out."""
        check = self.gate("evaluation")
        rows: dict[object, Json] = {}
        for e in self.m.entries:
            b = e.body
            if e.type == "evaluation.opened":
                rows[b.get("round")] = {"round": b.get("round"), "version": b.get("version")} | {
                    "status": "open",
                    "present": b.get("present"),
                    "members_present": len(_list(b.get("present_members"))),
                    "public_present": b.get("public_present"),
                    **dict.fromkeys(("issued", "returned", "valid", "invalid", "added_rows")),
                    "rule": None,
                    "persons": [],
                }
            elif e.type in ("ballots.issued", "ballots.returned", "round.void"):
                row = rows.get(b.get("round")) if b.get("form") == "evaluation" else None
                if row is not None:
                    _step(row, e)
            elif e.type == "evaluation.counted":
                row, own = rows.get(b.get("round")), self.m.recounts.get(e.seq)
                if row is not None and own is not None:
                    self._evaluated(row, own)
        if check["check"] != "passed":
            return [
                _withheld(check, {"round": r["round"], "version": r["version"]}, _EVALUATION)
                for r in rows.values()
            ]
        return [{**r, **check} for r in rows.values()]

    def _evaluated(self, row: Json, own: Mapping[str, Any]) -> None:
        scale = _scale(self.m.definition)
        valid = int(own["valid_ballots"])
        row |= {
            "status": "counted",
            "valid": valid,
            "invalid": own["invalid_ballots"],
            "added_rows": own["added_rows"],
            "rule": fail_rule(self.m.counting, scale, valid),
            "persons": [
                self.person(r["member"])
                | {
                    "counts": [
                        {"letter": c["letter"], **scale.get(c["letter"], {}), "count": c["count"]}
                        for c in r["counts"]
                    ],
                    "blank": r["blank"],
                    "unreadable": r["unreadable"],
                    "fail_count": r["fail_count"],
                    "outcome": r["outcome"],
                }
                for r in own["results"]
            ],
        }

    # ----------------------------------------------------------------------- vetting, approval

    def vetting(self) -> list[Json]:
        """Each vetting record, per post: who proceeds, who is stopped and why (RP-6.1)."""
        check = self.gate("vetting")
        out = []
        records = [e for e in self.m.entries if e.type == "vetting.recorded"]
        for i, e in enumerate(records, start=1):
            for p in _list(e.body.get("posts")):
                item: Json = {"vetting": i, "post": _dict(p).get("post")}
                if check["check"] != "passed":
                    out.append(_withheld(check, item, ("proceeding", "stopped")))
                    continue
                out.append(
                    item
                    | check
                    | {
                        "proceeding": [self.person(m) for m in _list(_dict(p).get("proceeding"))],
                        "stopped": [self._stop(_dict(s)) for s in _list(_dict(p).get("stopped"))],
                    }
                )
        return out

    def approval(self) -> list[Json]:
        """The town's approved lists per post, in the order signed (RP-6.4)."""
        check = self.gate("approval")
        out = []
        for e in self.m.entries:
            if e.type != "candidates.approved":
                continue
            a = _dict(e.body.get("approval"))
            for p in _list(a.get("posts")):
                item: Json = {"post": _dict(p).get("post")}
                if check["check"] != "passed":
                    out.append(
                        _withheld(check, item, ("seats", "margin", "candidates", "reference"))
                    )
                    continue
                out.append(
                    item
                    | check
                    | {
                        "seats": _dict(p).get("seats"),
                        "margin": _dict(p).get("margin"),
                        "candidates": [self.person(m) for m in _list(_dict(p).get("candidates"))],
                        "reference": a.get("reference"),
                    }
                )
        return out

    # ----------------------------------------------------------------------- V30

    def _appointed(self) -> Mapping[str, Any] | None:
        last = [e for e in self.m.entries if e.type == "appointment.recorded"]
        return _dict(last[-1].body.get("appointment")) if last else None

    def objections(self) -> list[Json]:
        """The appointment's objections (RP-10.1): reference, channel, timing, the person it is
        about (or the election as a whole), finding, effect, dates; no identity, no text."""
        a = self._appointed()
        check = self.gate("objections")
        content = ("received", "channel", "timing", "about", "finding", "effect", "concluded")
        out = []
        for o in _list((a or {}).get("objections")):
            item: Json = {"reference": _dict(o).get("reference")}
            if check["check"] != "passed":
                out.append(_withheld(check, item, content))
                continue
            about = _dict(o).get("about")
            out.append(
                item
                | check
                | {k: _dict(o).get(k) for k in content}
                | {"about": self.person(about) if about else None}
            )
        return out

    def appointment(self) -> Json | None:
        """The town's decision and each elected person's status (RP-10.1), or null."""
        a = self._appointed()
        if a is None:
            return None
        check = self.gate("appointment")
        if check["check"] != "passed":
            return _withheld(check, {}, ("date", "decision", "reference", "persons"))
        return check | {
            "date": a.get("date"),
            "decision": a.get("decision"),
            "reference": a.get("reference"),
            "persons": [
                {"post": _dict(p).get("post")}
                | self.person(_dict(p).get("member"))
                | {"status": _dict(p).get("status"), "objections": _dict(p).get("objections")}
                for p in _list(a.get("persons"))
            ],
        }


def _step(row: Json, e: Entry) -> None:
    """A session's ballots issued, returned, or its void (RP-3.4)."""
    if e.type == "ballots.issued":
        row["issued"] = e.body.get("count")
    elif e.type == "ballots.returned":
        row["returned"] = e.body.get("count")
    else:
        row["status"] = "void"


def _not_counted(counts: Sequence[Mapping[str, Any]], post: str) -> list[Json]:
    """(RP-3.10) The written names that gave no recommendation for ``post``, per group and reason
    (in RP-3.10's order), with the names as written, in entry order."""
    out: dict[tuple[str, str], Json] = {}
    for c in counts:
        if c.get("post") != post:
            continue
        group = str(c.get("group"))
        for n in c.get("not_counted", []):
            row = out.setdefault(
                (group, n["reason"]),
                {"group": group, "reason": n["reason"], "count": 0, "names": []},
            )
            row["count"] += n["count"]
        for w in c.get("written_names", []):
            out[group, w["reason"]]["names"].append(w["name"])
    reasons = ("unreadable", "not_on_roster", "not_nominable", "listed", "repeated")
    return sorted(out.values(), key=lambda r: (r["group"] != "member", reasons.index(r["reason"])))


def _scale(definition: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The evaluation scale's letter -> ``{zh, en}`` (RP-2.2)."""
    items = _list(_dict(definition.get("evaluation")).get("scale"))
    return {
        str(s.get("letter")): {"zh": str(s.get("zh")), "en": str(s.get("en"))}
        for s in items
        if isinstance(s, dict)
    }


# --------------------------------------------------------------------------- the rule written out

_CN_DIGITS: Final = "零一二三四五六七八九"
_EN_NUM: Final = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_DEN: Final = {
    2: ("half", "halves"),
    3: ("third", "thirds"),
    4: ("quarter", "quarters"),
    5: ("fifth", "fifths"),
    6: ("sixth", "sixths"),
    7: ("seventh", "sevenths"),
    8: ("eighth", "eighths"),
    9: ("ninth", "ninths"),
    10: ("tenth", "tenths"),
}


def chinese_number(n: int) -> str:
    """0..100 in Chinese numerals (``三``, ``十二``, ``二十``, ``一百``); digits beyond."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return "一百" if n == 100 else str(n)


def fraction_zh(num: int, den: int) -> str:
    """``三分之一``."""
    return f"{chinese_number(den)}分之{chinese_number(num)}"


def fraction_en(num: int, den: int) -> str:
    """``one third``, ``two fifths``; ``7/20`` beyond tenths."""
    if den in _EN_DEN and 1 <= num < len(_EN_NUM):
        one, many = _EN_DEN[den]
        return f"{_EN_NUM[num]} {one if num == 1 else many}"
    return f"{num}/{den}"


def fail_rule(d: CountingDefinition, scale: Mapping[str, Mapping[str, str]], valid: int) -> Json:
    """(RP-5.5) The rule of an evaluation round written out from the definition's fail letters,
    fraction and comparison, with ``from``: the least fail count that does not proceed for the
    round's ``valid`` ballots (``V > 0``)."""
    letters = [x for x in d.scale if x in d.fail_letters]
    num, den = d.fail_numerator, d.fail_denominator
    gt = d.fail_comparison == "GT"
    least = num * valid // den + 1 if gt else -(-num * valid // den)
    zh_names = "、".join(scale.get(x, {}).get("zh", x) for x in letters)
    en_names = " and ".join(scale.get(x, {}).get("en", x) for x in letters)
    together_zh, together_en = ("合计", " together") if len(letters) > 1 else ("", "")
    zh_cmp, en_cmp = ("超过", "exceed") if gt else ("达到或超过", "reach or exceed")
    return {
        "fail_letters": letters,
        "numerator": num,
        "denominator": den,
        "comparison": d.fail_comparison,
        "from": least,
        "zh": f"{zh_names}票{together_zh}{zh_cmp}有效测评票{fraction_zh(num, den)}的，不进入下一步",
        "en": (
            f"a person does not proceed when the {en_names} ({zh_names}) ballots{together_en} "
            f"{en_cmp} {fraction_en(num, den)} of the valid ballots"
        ),
    }
