"""Write the procedure's unit vectors of the counting core (spec/procedure.md RP-15.1):
spec/vectors/procedure/ranking/, recommendation-ballot/, evaluation/ and the definitions they use,
unit-procedures/.

    .venv/bin/python scripts/gen_procedure_vectors.py          # rewrite the vectors
    .venv/bin/python scripts/gen_procedure_vectors.py --check  # exit 1 when they are stale

Each vector is JSON in, JSON out: ``procedure`` names a ``procedure/1`` document of
unit-procedures/ (fixed seed keys), ``input`` holds the records (entered ballots, count bodies,
omissions), and either ``output`` is the entry body the rule gives or ``error`` names the ``code``
and ``clause`` it must raise. The generator owns only these four folders of
spec/vectors/procedure/ (the QR, stock, deadline and bundle vectors are written elsewhere).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keys
from tally.core.model import MemberId, PostKind, QualificationPolicy
from tally.core.procedure import (
    FailComparison,
    Procedure,
    ProcedureCountError,
    RankingMode,
    RecommendationLayout,
    ScaleItem,
    build_procedure,
    render_procedure,
)
from tally.core.procedure.evaluation import EvaluationBallot, count_evaluation
from tally.core.procedure.ranking import Omission, OmissionReason, propose
from tally.core.procedure.recommendation import (
    MemberRecommendations,
    RecommendationBallot,
    RecommendationCount,
    RecommendationGroup,
    WrittenName,
    count_recommendation_round,
)

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "spec" / "vectors" / "procedure"
FOLDERS = ("ranking", "recommendation-ballot", "evaluation", "unit-procedures")
FORMAT = "procedure-unit-vector/1"
DAY = dt.date(2026, 12, 20)
COMMITTEE, SECRETARY = PostKind.COMMITTEE, PostKind.SECRETARY
MEMBER, PUBLIC = RecommendationGroup.MEMBER, RecommendationGroup.PUBLIC


def _signer(role: keys.Role, label: str) -> keys.InMemorySigner:
    seed = hashlib.sha256(f"procedure unit vector seed: {label}".encode()).digest()
    return keys.InMemorySigner.from_seed(role, label, seed)


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _base() -> Procedure:
    data = tomllib.loads((ROOT / "examples" / "qingshan.procedure.toml").read_text("utf-8"))
    scrutineers = [str(x) for x in data["officials"]["scrutineers"]]
    p = build_procedure(
        data,
        work_group_key=_pub(_signer(keys.Role.WORK_GROUP, "work group")),
        scrutineer_keys=[_pub(_signer(keys.Role.SCRUTINEER, s)) for s in scrutineers],
    )
    q = dataclasses.replace(p.qualifications, qualification_policy=QualificationPolicy.WARN)
    return dataclasses.replace(p, qualifications=q)


BASE = _base()
ORDER = BASE.ballot_order
A, B, C, D, E, F, G, H = ORDER[:8]
OUTSIDER = ORDER[10]
NOT_NOMINABLE = next(m.id for m in BASE.members if m.id not in BASE.nominable)


def _variant(
    *,
    mode: RankingMode = RankingMode.SHARES,
    weights: tuple[int, int] = (1, 1),
    layout: RecommendationLayout = RecommendationLayout.LISTED,
    comparison: FailComparison = FailComparison.GT,
    custom_scale: bool = False,
) -> Procedure:
    r = BASE.recommendation
    ranking = dataclasses.replace(
        r.ranking, mode=mode, member_weight=weights[0], public_weight=weights[1]
    )
    ev = dataclasses.replace(BASE.evaluation, fail_comparison=comparison)
    if custom_scale:
        ev = dataclasses.replace(
            ev,
            scale=(ScaleItem("y", "称职", "competent"), ScaleItem("n", "不称职", "not competent")),
            fail_letters=("n",),
            fail_numerator=1,
            fail_denominator=2,
        )
    return dataclasses.replace(
        BASE,
        recommendation=dataclasses.replace(r, ranking=ranking, layout=layout),
        evaluation=ev,
    )


PROCEDURES: dict[str, Procedure] = {
    "listed": _variant(),
    "written": _variant(layout=RecommendationLayout.WRITTEN),
    "sum": _variant(mode=RankingMode.SUM),
    "shares-2-1": _variant(weights=(2, 1)),
    "ge": _variant(comparison=FailComparison.GE),
    "custom-scale": _variant(custom_scale=True),
}


def _count(
    group: RecommendationGroup, post: PostKind, valid: int, per: Mapping[MemberId, int]
) -> RecommendationCount:
    return RecommendationCount(
        group=group,
        post=post,
        round=1,
        valid_ballots=valid,
        invalid_ballots=0,
        recommendations=tuple(MemberRecommendations(m, per[m]) for m in ORDER if per.get(m, 0) > 0),
        not_counted=(),
        written_names=(),
    )


WORKED = {
    A: (35, 40),
    B: (30, 20),
    C: (20, 30),
    D: (25, 10),
    E: (10, 25),
    F: (12, 22),
    G: (31, 0),
    H: (5, 8),
}


def _counts(
    committee: Mapping[MemberId, tuple[int, int]],
    secretary: Mapping[MemberId, tuple[int, int]] | None = None,
    valid: tuple[int, int] = (38, 44),
) -> list[RecommendationCount]:
    sec = secretary or {}
    vm, vp = valid
    return [
        _count(MEMBER, COMMITTEE, vm, {k: v[0] for k, v in committee.items()}),
        _count(PUBLIC, COMMITTEE, vp, {k: v[1] for k, v in committee.items()}),
        _count(MEMBER, SECRETARY, vm, {k: v[0] for k, v in sec.items()}),
        _count(PUBLIC, SECRETARY, vp, {k: v[1] for k, v in sec.items()}),
    ]


def _vector(
    clause: str,
    description: str,
    procedure: str,
    inputs: dict[str, Any],
    run: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "clause": clause,
        "description": description,
        "procedure": f"unit-procedures/{procedure}.json",
        "input": inputs,
    }
    try:
        doc["output"] = run()
    except ProcedureCountError as e:
        doc["error"] = {"code": e.code, "clause": e.clause}
    return doc


def _ranking(
    name: str,
    clause: str,
    description: str,
    procedure: str,
    counts: list[RecommendationCount],
    *,
    omissions: tuple[Omission, ...] = (),
    higher_level: Mapping[PostKind, list[MemberId]] | None = None,
) -> tuple[str, dict[str, Any]]:
    hl = dict(higher_level or {})
    inputs = {
        "election_date": DAY.isoformat(),
        "counts": [c.to_json() for c in counts],
        "omissions": [o.to_json() for o in omissions],
        "higher_level": [{"post": k.value, "members": list(v)} for k, v in hl.items()],
    }

    def run() -> dict[str, Any]:
        return propose(
            PROCEDURES[procedure],
            election_date=DAY,
            counts=counts,
            omissions=omissions,
            higher_level=hl,
        ).to_json()

    return f"ranking/{name}.json", _vector(clause, description, procedure, inputs, run)


def _recommendation(
    name: str,
    description: str,
    procedure: str,
    ballots: list[RecommendationBallot],
    *,
    declared_invalid: int = 0,
) -> tuple[str, dict[str, Any]]:
    inputs = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballots": [
            {"marks": b.marks, "written": [{"name": w.name, "member": w.member} for w in b.written]}
            for b in ballots
        ],
        "declared_invalid": declared_invalid,
    }

    def run() -> dict[str, Any]:
        return count_recommendation_round(
            PROCEDURES[procedure],
            MEMBER,
            COMMITTEE,
            1,
            ballots,
            declared_invalid=declared_invalid,
        ).to_json()

    return f"recommendation-ballot/{name}.json", _vector(
        "RP-3.7", description, procedure, inputs, run
    )


def _evaluation(
    name: str,
    description: str,
    procedure: str,
    persons: list[MemberId],
    ballots: list[EvaluationBallot],
    *,
    declared_invalid: int = 0,
) -> tuple[str, dict[str, Any]]:
    inputs = {
        "round": 1,
        "persons": list(persons),
        "ballots": [{"marks": b.marks, "added_rows": b.added_rows} for b in ballots],
        "declared_invalid": declared_invalid,
    }

    def run() -> dict[str, Any]:
        return count_evaluation(
            PROCEDURES[procedure], 1, persons, ballots, declared_invalid=declared_invalid
        ).to_json()

    return f"evaluation/{name}.json", _vector("RP-5.5", description, procedure, inputs, run)


def _marks(*members: MemberId, unreadable: tuple[MemberId, ...] = ()) -> str:
    return "".join("o" if m in members else "?" if m in unreadable else "-" for m in ORDER)


def _column(text: str) -> list[EvaluationBallot]:
    return [EvaluationBallot(c) for c in text]


def _sum_counts(per: Mapping[MemberId, int]) -> list[RecommendationCount]:
    return _counts({k: (v, 0) for k, v in per.items()}, valid=(10, 10))


def vectors() -> dict[str, dict[str, Any]]:
    """Every vector document by its path under spec/vectors/procedure/."""
    declined = Omission(C, OmissionReason.DECLINED, "", "本人书面放弃 2026-11-25")
    items = [
        _ranking(
            "tie-at-cut-worked-example",
            "RP-4.2",
            "RP-4.6: S = 5, L = 6, shares 1:1, Vm = 38, Vp = 44; F and G tie at the cut 1364 "
            "and are both proposed (tie_at_cut): 7 names",
            "listed",
            _counts(WORKED),
        ),
        _ranking(
            "shares-equal-weights",
            "RP-4.1",
            "shares 1:1 with Vm = 20, Vp = 40: score = m*40 + p*20, no tie",
            "listed",
            _counts(
                {A: (10, 10), B: (8, 20), C: (2, 30), D: (12, 0), E: (5, 5), F: (1, 14), G: (3, 1)},
                valid=(20, 40),
            ),
        ),
        _ranking(
            "shares-weighted-2-1",
            "RP-4.1",
            "RP-4.6's counts with the members weighted 2:1: G rises to 4th, E drops out",
            "shares-2-1",
            _counts(WORKED),
        ),
        _ranking(
            "sum",
            "RP-4.1",
            "RP-4.6's counts under sum: F (34) is 6th alone and G (31) is out",
            "sum",
            _counts(WORKED),
        ),
        _ranking(
            "one-group-no-valid-ballots",
            "RP-4.1",
            "the public round has no valid ballot (Vp = 0): max(Vp,1) and the group adds nothing",
            "listed",
            _counts({A: (5, 0), B: (3, 0)}, {A: (5, 0)}, valid=(10, 0)),
        ),
        _ranking(
            "tie-at-cut-three-way",
            "RP-4.2",
            "sum, L = 6: F, G, H tie at the cut (4) and all three are proposed",
            "sum",
            _sum_counts({A: 9, B: 8, C: 7, D: 6, E: 5, F: 4, G: 4, H: 4}),
        ),
        _ranking(
            "tie-inside-list",
            "RP-4.3",
            "sum: A and B tie at 9 inside the list: both rank, no tie_at_cut",
            "sum",
            _sum_counts({A: 9, B: 9, C: 7, D: 6, E: 5, F: 4, G: 3}),
        ),
        _ranking(
            "short-post",
            "RP-4.2",
            "three names ranked for L = 6: all proposed by rank, the post is short",
            "sum",
            _sum_counts({A: 3, B: 2, C: 1}),
        ),
        _ranking(
            "omission-moves-next-up",
            "RP-4.4",
            "RP-4.6 with C declined: the rule is computed without C, exactly six reach 1364, "
            "F and G are rank; C is listed as omitted on every post",
            "listed",
            _counts(WORKED),
            omissions=(declined,),
        ),
        _ranking(
            "secretary-name-added-to-committee",
            "RP-4.3",
            "H, 8th on the committee's ranking, is on the secretary's list: it joins the "
            "committee's list as secretary_list",
            "listed",
            _counts(WORKED, {H: (20, 20), A: (10, 10)}),
        ),
        _ranking(
            "higher-level-name",
            "RP-3.9",
            "the town recommends an unranked member and A: the first is higher_level with score "
            "0, A keeps its basis rank",
            "listed",
            _counts(WORKED),
            higher_level={COMMITTEE: [OUTSIDER, A]},
        ),
        _ranking(
            "invalid-group-missing",
            "RP-4.1",
            "no public round was counted: the proposal is refused",
            "listed",
            [c for c in _counts(WORKED) if c.group is MEMBER],
        ),
        _ranking(
            "invalid-omission-without-reference",
            "RP-4.4",
            "a declined omission without a reference is refused",
            "listed",
            _counts(WORKED),
            omissions=(Omission(C, OmissionReason.DECLINED, "", ""),),
        ),
        _recommendation(
            "over-limit-invalid",
            "K = 5: five marks and one written name make n = 6, the whole ballot is invalid",
            "listed",
            [RecommendationBallot(_marks(*ORDER[:5]), (WrittenName("张三", ""),))],
        ),
        _recommendation(
            "written-nonmember",
            "a written name that is nobody on the roster: not_on_roster, shown",
            "listed",
            [RecommendationBallot(_marks(A), (WrittenName("张三", ""),))],
        ),
        _recommendation(
            "written-not-nominable",
            "a written member who may not be recommended (probationary): not_nominable",
            "written",
            [RecommendationBallot("", (WrittenName("预备党员", NOT_NOMINABLE),))],
        ),
        _recommendation(
            "written-listed-printed-name",
            "under listed a printed name written in a blank row counts only by its mark",
            "listed",
            [RecommendationBallot(_marks(), (WrittenName("丁建国", A),))],
        ),
        _recommendation(
            "written-repeated",
            "the same member written twice on one ballot counts once (repeated)",
            "written",
            [RecommendationBallot("", (WrittenName("甲", A), WrittenName("甲", A)))],
        ),
        _recommendation(
            "unreadable-mark-not-counted",
            "a ? mark gives nothing and is not in n",
            "listed",
            [RecommendationBallot(_marks(*ORDER[:5], unreadable=(ORDER[5],)), ())],
        ),
        _recommendation(
            "blank-valid",
            "a ballot with no mark is valid and recommends nobody; one more declared invalid",
            "listed",
            [RecommendationBallot(_marks(), ())],
            declared_invalid=1,
        ),
        _recommendation(
            "invalid-marks-length",
            "under listed the marks must have one letter per nominable member",
            "listed",
            [RecommendationBallot("o", ())],
        ),
        _evaluation(
            "one-third-gt-boundary-10-of-30-proceeds",
            "1/3 GT, V = 30: f = 10 proceeds (30 > 30 is false)",
            "listed",
            [A],
            _column("d" * 10 + "s" * 20),
        ),
        _evaluation(
            "11-of-30-does-not",
            "1/3 GT, V = 30: f = 11 does not proceed (33 > 30)",
            "listed",
            [A],
            _column("d" * 11 + "s" * 19),
        ),
        _evaluation(
            "ge-boundary",
            "1/3 GE, V = 30: f = 10 does not proceed (30 >= 30), f = 9 does",
            "ge",
            [A, B],
            [
                EvaluationBallot(("d" if i < 10 else "s") + ("d" if i < 9 else "b"))
                for i in range(30)
            ],
        ),
        _evaluation(
            "blank-rows-in-base",
            "blank and unreadable rows are in V: 10 of 30 with 12 blank or unreadable proceeds",
            "listed",
            [A],
            _column("d" * 10 + "-" * 8 + "?" * 4 + "s" * 8),
        ),
        _evaluation(
            "custom-scale-two-letters",
            "a scale y/n failing on n over one half, with added rows",
            "custom-scale",
            [A, B],
            [EvaluationBallot("yn", 1), EvaluationBallot("nn"), EvaluationBallot("y-", 2)],
        ),
        _evaluation(
            "no-valid-ballots",
            "every ballot declared invalid: V = 0 cannot be used",
            "listed",
            [A],
            [],
            declared_invalid=3,
        ),
        _evaluation(
            "invalid-marks-length",
            "two persons evaluated, one mark entered",
            "listed",
            [A, B],
            [EvaluationBallot("s")],
        ),
    ]
    docs = dict(items)
    for name, procedure in PROCEDURES.items():
        docs[f"unit-procedures/{name}.json"] = render_procedure(procedure)
    return docs


def build_files() -> dict[str, bytes]:
    """Every file, JSON with sorted keys and two-space indent."""
    return {
        path: (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()
        for path, doc in sorted(vectors().items())
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling vector_files.py
    from vector_files import present_files, sync  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    present = {
        f"{folder}/{p}" for folder in FOLDERS for p in present_files(OUT_DIR / folder, "*.json")
    }
    return sync(OUT_DIR, build_files(), present, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
