"""A whole town's re-election, synthesised reproducibly from a seed (``tally demo``).

Every branch goes through the real code: keys for every role, the manifest signed by the town
committee, ballot stocks printed (first rounds as PDFs), check-in, paper ballots with realistic
marks (over-votes, unreadable marks, write-ins), the committee round with its runoff, further round
or re-vote where the plan says so, the secretary round, the result, the bundle and the notice; then
the independent verifier checks every bundle, in a separate process as the town committee would.
Then the town's verification group handles a few objections and reports (``tally.demo_casework``),
and the town report (``tally.town_report``, the code of ``tally town-report``) adds each branch's
procedure figures and casework numbers from the exported bundles once the independent verifier
(``verifier procedure``, ``verifier casework``, again in their own processes) passed them, or the
failing findings and no number when it did not (spec/procedure.md RP-13.2).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import ballot_printer
import keys
from tally.calendar import load_calendar
from tally.casework_store import CaseworkStore
from tally.core.definition import parse_definition_data
from tally.core.election_figures import ElectionFigures, electing_rounds
from tally.core.manifest import Manifest, build_manifest
from tally.core.meeting import parse_entry
from tally.core.model import Election, MemberId, PostKind
from tally.core.rounds import Blocked, Finished, RoundPurpose, RoundSpec
from tally.core.rules import expected_electors, quorum
from tally.demo_casework import (
    CASEWORK_DAY,
    casework_setup,
    demo_branches,
    run_casework,
)
from tally.demo_procedure import (
    appoint_branch,
    conclude_branch,
    publish_procedure,
    run_procedure,
)
from tally.election import PAPER_KIND, ElectionSession, EntryInput
from tally.manifest_io import sign_amended_list, sign_manifest
from tally.publish import publish
from tally.remote_device import vote_as_device_v2
from tally.session_config import SessionConfig
from tally.town_report import (
    BranchElection,
    BranchReport,
    FailedElection,
    Gates,
    procedure_report,
    read_casework,
    run_gates,
    town_report_data,
    verify_election,
    write_town_report,
)

__all__ = ["BranchSummary", "Scenario", "run_town"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "建国秀英卫东海燕志强桂兰国平丽德明红梅振华玉兰建军丽娟永福晓明淑珍长青翠花春生小"
    "芳福贵金花伟芳娜敏静磊洋勇艳杰娟涛明超霞平刚"
)
VILLAGES = [
    "青山",
    "石桥",
    "柳河",
    "杏花",
    "东岗",
    "西营",
    "南湾",
    "北坡",
    "桃源",
    "梨园",
    "枣林",
    "松岭",
    "竹溪",
    "云台",
    "金沙",
    "银杏",
    "白鹭",
    "红旗",
    "新村",
    "和平",
    "幸福",
    "团结",
]
TOWN: Final = "中共红旗镇委员会"
EDUCATION = ("junior_high", "senior_high", "senior_high", "college", "bachelor")


class Scenario:
    """What a branch's committee round is planned to show."""

    NORMAL = "normal"
    TIE = "tie"
    SHORTFALL = "shortfall"
    VOID = "void"


@dataclass
class BranchSummary:
    """One row of the closing table."""

    name: str
    expected: int
    present: int
    quorum_minimum: int
    scenario: str
    elected: dict[str, list[str]] = field(default_factory=dict)
    rounds: int = 0
    verified: bool = False
    verifier_failures: list[str] = field(default_factory=list)
    has_committee: bool = True
    remote_ballots: int = 0
    #: the procedure's appointment: "recorded", or the refusal's code that left it pending
    appointment: str = ""
    #: the branch's keys (in memory only), for the town's acts after the casework
    signers: dict[str, keys.InMemorySigner] = field(default_factory=dict, repr=False)


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        n = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if n not in used:
            used.add(n)
            return n


def _definition(
    rng: random.Random, index: int, size: int, election_date: dt.date, *, remote: bool = False
) -> dict[str, Any]:
    village = VILLAGES[index % len(VILLAGES)]
    used: set[str] = set()
    members = []
    for i in range(1, size + 1):
        status = "full"
        if i > size - max(1, size // 10):
            status = "probationary"
        age = rng.randint(28, 70) if i > 8 else rng.randint(30, 44)
        members.append(
            {
                "id": f"{index:02d}{i:03d}",
                "name": _name(rng, used),
                "sex": "female" if rng.random() < 0.4 or i in (2, 4) else "male",
                "birth_date": election_date.replace(year=election_date.year - age)
                - dt.timedelta(days=rng.randint(1, 300)),
                "education": "bachelor" if i <= 8 else rng.choice(EDUCATION),
                "status": status,
            }
        )
    full = [m["id"] for m in members if m["status"] == "full"]
    has_committee = len(full) >= 7
    posts: list[dict[str, Any]] = []
    if has_committee:
        seats = 5 if len(full) >= 20 else 3
        posts.append({"post": "committee", "seats": seats, "candidates": full[: seats + 1]})
        posts.append({"post": "secretary", "seats": 1, "candidates": [full[1], full[0]]})
    else:
        posts.append({"post": "secretary", "seats": 1, "candidates": [full[0], full[1]]})
    return {
        "format": "election-definition/1",
        "preset": "R2020",
        "election": {
            "title": f"中共{village}村支部委员会换届选举"
            if has_committee
            else f"中共{village}村支部换届选举",
            "branch": f"中共{village}村支部委员会" if has_committee else f"中共{village}村支部",
            "town": TOWN,
            "term": "第十一届",
            "date": election_date,
            "objections_to": "红旗镇党委组织办，电话 0000-1234567",
        },
        "secretary": {"elected_by": "assembly"},
        "posts": posts,
        "officials": {"scrutineers": [full[-1]], "tellers": [full[-2]]},
        "members": members,
        # Two members working away vote remotely where the town authorised it (RULES A8).
        "remote_voting": {"approved": full[-4:-2] if remote else [], "counts_toward_quorum": False},
    }


def _marks(rng: random.Random, approvals: Sequence[int], ballots: int) -> list[str]:
    """``ballots`` mark strings giving exactly ``approvals[j]`` approvals to candidate j, each
    within ``seats`` choices; the remaining marks are a random mix of × and blank."""
    n = len(approvals)
    grid = [[rng.choice("x--") for _ in range(n)] for _ in range(ballots)]
    load = [0] * ballots
    for j in sorted(range(n), key=lambda j: -approvals[j]):
        order = sorted(range(ballots), key=lambda b: (load[b], rng.random()))
        for b in order[: approvals[j]]:
            grid[b][j] = "o"
            load[b] += 1
    return ["".join(row) for row in grid]


def _plan(rng: random.Random, spec: RoundSpec, present: int, base: int, scenario: str) -> list[str]:
    """Marks for a round that produce the planned outcome, plus an over-vote and an unreadable
    mark on larger branches; every total fits the ballots (seats choices each)."""
    c, seats = len(spec.candidates), spec.seats
    if spec.purpose is RoundPurpose.RUNOFF:
        return _marks(rng, [c - i for i in range(c)], present)
    spoiled = 2 if present >= 15 and c > seats else 0
    n = present - spoiled
    pass_v = base // 2 + 1
    winners = [min(n, pass_v + 2 + seats - i) for i in range(seats)]
    first_committee = spec.post is PostKind.COMMITTEE and spec.number == 1
    if scenario == Scenario.TIE and first_committee:
        winners = [*winners[:-1], pass_v + 1, pass_v + 1]
    elif scenario == Scenario.SHORTFALL and first_committee:
        winners = [*winners[:-1], pass_v - 1]
    room = max(0, seats * n - sum(winners))
    losers = [
        min(room // max(1, c - len(winners)), max(0, pass_v - 2 - i))
        for i in range(c - len(winners))
    ]
    marks = _marks(rng, winners + losers, n)
    if spoiled:
        marks += ["o" * c, "?" + "-" * (c - 1)]  # an over-vote (R8) and an unreadable mark (R10)
    return marks


def _remote_votes(
    session: ElectionSession,
    signers: dict[str, keys.InMemorySigner],
    members: Sequence[MemberId],
    rng: random.Random,
) -> int:
    """Absent members vote from their phones before the meeting (spec/remote.md, spec/remote-v2.md):
    invitation, blind-signed token, encrypted choices cast into the pending casts and logged at the
    close; then two scrutineers decrypt the totals (RV-5.3), before the meeting counts its first
    round. Returns the number of remote ballots cast."""
    if not members:
        return 0
    session.remote.open(signer=signers["wg"], k=2)
    info = session.remote.info()
    for member in members:
        code, _ = session.remote.issue_invitation(member)
        vote_as_device_v2(
            session,
            code,
            {
                p["post"]: [c["id"] for c in p["listed"][: p["seats"]] if rng.random() < 0.9]
                for p in info["posts"]
            },
        )
    session.remote.close(signer=signers["wg"])
    session.remote.decrypt(signers["s1"], signer=None)
    session.remote.decrypt(signers["s2"], signer=signers["wg"])
    return len(members)


def _keys(folder: Path) -> dict[str, keys.InMemorySigner]:
    out = {
        "town": keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委"),
        "wg": keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组"),
        "s1": keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "监票人甲"),
        "s2": keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "监票人乙"),
    }
    for name, s in out.items():
        (folder / f"{name}.pub").write_bytes(keys.export_public_key(s.public_key))
    return out


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _stock(
    session: ElectionSession,
    manifest: Manifest,
    due: RoundSpec,
    *,
    count: int,
    folder: Path,
    wg: keys.InMemorySigner,
) -> ballot_printer.BallotStock:
    """The round's ballot stock, committed: first rounds printed as PDFs, as for the meeting."""
    if due.number == 1:
        return session.print_stock(
            post=due.post,
            round_number=1,
            count=count,
            out_pdf=folder / f"ballots-{due.post.value}-1.pdf",
            stock_list_out=None,
            signer=wg,
        )
    stock = ballot_printer.make_stock(
        election_id=manifest.election_id,
        kind=PAPER_KIND[due.post],
        round_number=due.number,
        count=count,
        signer=wg,
    )
    session.commit_stock(stock, signer=wg)
    return stock


def _hold_rounds(
    session: ElectionSession,
    manifest: Manifest,
    signers: Mapping[str, keys.InMemorySigner],
    *,
    present: int,
    scenario: str,
    rng: random.Random,
    folder: Path,
) -> int:
    """Every round the meeting calls for, as the scenario plans it (amending a blocked list);
    returns the number of rounds held."""
    wg, rounds = signers["wg"], 0
    for _ in range(20):
        due = session.meeting.due()
        if isinstance(due, Finished):
            break
        if isinstance(due, Blocked):
            elected = list(session.meeting.rounds.elected(PostKind.COMMITTEE))
            request, _, _ = session.amend_request(
                due.post, elected[:2], approval="红组〔2026〕99号"
            )
            session.amend_candidates(sign_amended_list(request, signers["town"]))
            continue
        stock = _stock(session, manifest, due, count=present + 2, folder=folder, wg=wg)
        stock_payloads = [ballot_printer.encode_qr_text(p) for p in stock.payloads]
        session.issue(count=None, signer=wg)
        void = scenario == Scenario.VOID and due.post is PostKind.COMMITTEE and due.number == 1
        marks = _plan(rng, due, present, due.expected, scenario)
        if void:
            session.return_ballots(present + 1, signer=wg)
        else:
            session.return_ballots(present, signer=wg)
            session.enter(
                [EntryInput(qr=q_, marks=m) for q_, m in zip(stock_payloads, marks, strict=False)]
            )
            session.close(signer=wg)
        rounds += 1
        for s in ("s1", "s2"):
            session.cosign(signers[s])
    return rounds


def _signed_manifest(
    folder: Path, definition: Mapping[str, Any], signers: Mapping[str, keys.InMemorySigner]
) -> tuple[Election, Manifest, bytes]:
    """The election of ``definition``, its manifest, and the manifest signed by the town
    (written to ``folder/manifest.json``)."""
    election = parse_definition_data(definition)
    manifest = build_manifest(
        election,
        work_group_key=_pub(signers["wg"]),
        scrutineer_keys=(_pub(signers["s1"]), _pub(signers["s2"])),
    )
    signed = sign_manifest(manifest, signers["town"])
    (folder / "manifest.json").write_bytes(signed)
    return election, manifest, signed


def run_branch(
    folder: Path,
    definition: dict[str, Any],
    scenario: str,
    seed: int,
    *,
    index: int = 0,
    casework_id: str | None = None,
    town: keys.InMemorySigner | None = None,
) -> BranchSummary:
    """Hold one branch's whole election in ``folder``; with ``casework_id``, its procedure
    before (up to the binding of the manifest) and the conclusion after (tally.demo_procedure):
    a normal branch's election is then made from the town's approval (RP-6.5), a planned
    scenario's from the demo's own definition, which the approval must equal (ADR 0054)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data
    folder.mkdir(parents=True, exist_ok=True)
    signers = _keys(folder)
    if town is not None:  # the town's one key, as its casework's (verifier procedure --casework)
        signers["town"] = town
        (folder / "town.pub").write_bytes(keys.export_public_key(town.public_key))
    if casework_id is None:
        election, manifest, signed = _signed_manifest(folder, definition, signers)
    else:
        with run_procedure(
            folder, definition, signers, index=index, casework_id=casework_id, seed=seed
        ) as approved:
            if scenario == Scenario.NORMAL:
                definition = approved.election_definition(definition)
            election, manifest, signed = _signed_manifest(folder, definition, signers)
            approved.bind(signed)
    # The demo's published passphrase (as TALLY_PASSPHRASE, when it is not set) for remote voting.
    passphrase = os.environ.setdefault("TALLY_PASSPHRASE", "demo-passphrase-not-for-real-use")
    config = SessionConfig(
        folder / "election.db", passphrase=passphrase, data_dir=folder / "service"
    )
    session = ElectionSession.init(config, signed, signers["wg"], actor="demo")
    expected = list(expected_electors(election))
    remote_ids = list(election.remote_voting.approved)
    summary_remote = _remote_votes(session, signers, remote_ids, rng)
    absent = max(0, (len(expected) - (4 * len(expected)) // 5 - 1) - len(remote_ids))
    # The assembly rounds' scrutineers are present (R25.2): they are never among the absent.
    scrutineers = set(election.officials.scrutineers)
    on_paper = sorted(
        (m for m in expected if m not in remote_ids), key=lambda m: m not in scrutineers
    )
    present_ids: list[MemberId] = on_paper[: len(on_paper) - rng.randint(0, absent)]
    session.check_in(present_ids)
    q = quorum(len(present_ids), len(expected), election.parameters.quorum_comparison)
    summary = BranchSummary(
        name=election.branch,
        expected=len(expected),
        present=len(present_ids),
        quorum_minimum=q.minimum_present,
        scenario=scenario,
        has_committee=election.has_committee,
        remote_ballots=summary_remote,
        signers=signers,
    )
    summary.rounds = _hold_rounds(
        session,
        manifest,
        signers,
        present=len(present_ids),
        scenario=scenario,
        rng=rng,
        folder=folder,
    )
    session.record_result(signer=signers["wg"], calendar=load_calendar(None))
    for s in ("s1", "s2"):
        session.cosign(signers[s])
    publish(session, folder / "published")
    if casework_id is not None:
        conclude_branch(folder, signers, election.election_date)
    assert session.meeting.result is not None
    summary.elected = {
        k: [election.member(MemberId(i)).name for i in v]
        for k, v in session.meeting.result["elected"].items()
    }
    return summary


def town_plan(seed: int, branches: int) -> list[tuple[dict[str, Any], str]]:
    """The town's branches: varied sizes (some without a committee) and the planned scenarios."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data
    date = dt.date(2026, 12, 15)
    special = [Scenario.TIE, Scenario.SHORTFALL, Scenario.VOID]
    out = []
    for i in range(branches):
        fixed = (25, 30, 28, 6, 40, 32)  # the planned cases, then one branch with remote voters
        size = fixed[i] if i < len(fixed) else rng.choice((6, 7, 12, 18, 25, 32, 45, 60))
        scenario = special[i] if i < len(special) else Scenario.NORMAL
        remote = scenario == Scenario.NORMAL and size >= 25 and i % 2 == 1
        out.append((_definition(rng, i, size, date, remote=remote), scenario))
    return out


def run_town(
    out: Path,
    *,
    seed: int,
    branches: int,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> list[BranchSummary]:
    """Hold every branch's election under ``out`` and verify every bundle (``jobs`` verifiers at
    a time, while the next branches' elections are held; one after each election with
    ``jobs=1``); then the town's casework (objections and reports) under ``out/casework``,
    exported as its bundle."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    plan = town_plan(seed, branches)
    setup = casework_setup([d["election"]["branch"] for d, _ in plan])
    with Gates(jobs) as gates:
        verdicts = []
        for i, (definition, scenario) in enumerate(plan):
            folder = out / f"branch-{i + 1:02d}"
            s = run_branch(
                folder,
                definition,
                scenario,
                seed * 1000 + i,
                index=i,
                casework_id=setup.casework_id,
                town=setup.town,
            )
            verdicts.append(
                gates.submit(
                    partial(
                        verify_election, folder / "published" / "bundle.zip", folder / "town.pub"
                    )
                )
            )
            summaries.append(s)
            if progress:
                progress(s.name)
        gates.wait()
    for s, verdict in zip(summaries, verdicts, strict=True):
        s.verified, s.verifier_failures = verdict.result()

    def appointments(cases: CaseworkStore, service: keys.Signer) -> None:
        for i, summary in enumerate(summaries):
            folder = out / f"branch-{i + 1:02d}"
            outcome = appoint_branch(
                folder, cases, casework_signer=service, signers=summary.signers, index=i
            )
            summaries[i].appointment = outcome.code or "recorded"
            publish_procedure(folder)

    run_casework(
        out, demo_branches(out, len(summaries)), seed=seed, setup=setup, after=appointments
    )
    return summaries


def _branch_election(folder: Path, s: BranchSummary) -> BranchElection | FailedElection:
    """The branch's election for the town report: the attendance, rounds and remote ballots the
    demo held, the elected and the rounds that elected them from its election file's log (a
    real town's come from the bundles alone: ``tally town-report``); a bundle the verifier
    failed gives its clauses and no number (RP-13.2)."""
    if not s.verified:
        return FailedElection(name=s.name, verifier_failures=tuple(s.verifier_failures))
    session = ElectionSession.open(folder / "election.db")
    try:
        result = session.meeting.result or {}
        elected = {str(k): tuple(v) for k, v in result.get("elected", {}).items()}
        entries = [parse_entry(raw) for _, raw in session.store.iter_log_rows()]
        return BranchElection(
            election=session.manifest.election,
            figures=ElectionFigures(
                present=s.present,
                rounds=s.rounds,
                remote_ballots=s.remote_ballots,
                elected=elected,
                electing=electing_rounds(entries, elected),
                publicity_start=str(result.get("publicity_start", "")),
                publicity_end=str(result.get("publicity_end", "")),
            ),
        )
    finally:
        session.store.close()


def town_report(
    out: Path,
    summaries: Sequence[BranchSummary],
    *,
    lang: str = "zh",
    jobs: int = 1,
    done: Callable[[], None] | None = None,
) -> tuple[Path, Path]:
    """The town report as JSON and PDF (tally.town_report, as ``tally town-report`` makes it):
    turnout, rounds, the town plan's shares (R28), publicity, each branch's procedure figures
    from its procedure bundle once ``verifier procedure`` passed it, and each branch's
    objections and reports from the casework bundle once ``verifier casework`` (V31) passed it,
    on the demo's casework day (RP-13.2). The PDF is in Chinese, or in English with
    ``lang="en"``. The procedure gates run ``jobs`` at a time, ``done`` called as each ends."""
    bundle = out / "casework" / "bundle"
    cases, verification = (
        read_casework(bundle, out / "casework" / "town.pub", CASEWORK_DAY)
        if bundle.is_dir()
        else (None, None)
    )

    def procedure(folder: Path) -> dict[str, Any] | None:
        if not (folder / "procedure.sqlite").exists():
            return None
        return procedure_report(
            folder / "published" / "procedure",
            folder / "town.pub",
            bundle if bundle.is_dir() else None,
            election=folder / "published" / "bundle.zip",
            cases=cases,
            on=CASEWORK_DAY,
        )

    folders = [out / f"branch-{i:02d}" for i in range(1, len(summaries) + 1)]
    procedures = run_gates([partial(procedure, f) for f in folders], jobs=jobs, done=done)
    branches = [
        BranchReport(_branch_election(folder, s), p, extra={"scenario": s.scenario})
        for folder, s, p in zip(folders, summaries, procedures, strict=True)
    ]
    data = town_report_data(TOWN, branches, cases, verification)
    json_path = out / "town-report.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    pdf = write_town_report(
        out / "town-report.pdf",
        town=TOWN,
        title="红旗镇村党组织换届选举情况汇总"
        if lang == "zh"
        else "Hongqi town: the branches' re-elections at a glance",
        branches=branches,
        cases=cases,
        verification=verification,
        on=CASEWORK_DAY,
        lang=lang,
    )
    return json_path, pdf
