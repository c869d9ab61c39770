"""The town report (issue 9; spec/procedure.md RP-13.2): every branch's election, procedure and
casework numbers, each taken only from a bundle the independent verifier passed, run in its own
process as the town committee would run it: ``verifier verify`` on the election bundle (V1-V19),
``verifier procedure`` on the procedure bundle (V20-V31: with the branch's election bundle for
V29, the casework bundle for V30 and V31), ``verifier casework`` on the town's casework bundle
(V31). A bundle that fails gives its failing clauses or codes and no number.

Shared by ``tally town-report`` (:mod:`tally.cli_town_report`, from the bundles a town receives)
and ``tally demo`` (:mod:`tally.demo`, which has the election files too): the gates, the figures
and the report's JSON and PDF rows are the same code (docs/adr/0057-town-report-command.md).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from ballot_printer.town_report import (
    TownCaseRow,
    TownCases,
    TownElected,
    TownReport,
    TownRow,
    render_town_report,
)
from tally.casework_bundle import CaseworkVerification, read_verified_casework
from tally.core.casework import Effect, TownCasework, town_casework
from tally.core.election_figures import ElectionFigures
from tally.core.model import Election, MemberId, PostKind, zh_label
from tally.core.procedure.entries import parse_entry as parse_procedure_entry
from tally.core.procedure.figures import pending_reason, procedure_figures
from tally.core.rules import TownSecretary, TownShares, expected_electors, town_shares

__all__ = [
    "TIMED_OUT",
    "BranchElection",
    "BranchReport",
    "FailedElection",
    "Gates",
    "GatesStoppedError",
    "casework_verification_json",
    "failed_cases",
    "procedure_lines",
    "procedure_report",
    "read_casework",
    "run_gates",
    "run_verifier",
    "town_cases",
    "town_report_data",
    "verify_election",
    "verify_procedure",
    "write_town_report",
]

_TIMEOUT: Final = 600
#: The exit code :func:`run_verifier` gives a verifier it killed after ``_TIMEOUT`` seconds (as
#: coreutils' ``timeout`` does).
TIMED_OUT: Final = 124
R = TypeVar("R")


# -- the verifier gates, each in its own process, several at a time ---------------------------


class GatesStoppedError(Exception):
    """A gate asked for a verifier process after its :class:`Gates` stopped (never reported:
    the exception that stopped them is)."""


class Gates:
    """The report's gates, at most ``jobs`` at a time, each in a thread that waits on its verifier
    processes (the work is in those processes), each result in the future :meth:`submit` gives,
    so the caller assembles the report in its own order, the same whatever ``jobs`` is.
    ``jobs=1`` runs each gate at once in the caller's thread, as a plain loop would. ``done`` is
    called (from any thread) as each gate ends.

    Leaving the ``with`` block on an exception (a gate's, or Ctrl-C in the caller) starts no
    further gate and kills the verifier processes still running, then waits for their threads:
    no verifier outlives the command.
    """

    def __init__(self, jobs: int, *, done: Callable[[], None] | None = None) -> None:
        """Gates for ``jobs`` (at least 1; the CLI refuses fewer as ``cli.jobs``).

        Raises:
            ValueError: ``jobs`` is less than 1.
        """
        if jobs < 1:
            raise ValueError(jobs)
        self._jobs = jobs
        self._done = done
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self._stopped = False
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[Any]] = []
        self._cause: BaseException | None = None

    def __enter__(self) -> Self:
        if self._jobs > 1:
            self._pool = ThreadPoolExecutor(self._jobs, thread_name_prefix="gate")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None:
            self.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)

    def submit(self, gate: Callable[[], R]) -> Future[R]:
        """Run ``gate``: at once with ``jobs=1`` (its exception raised here), else once a thread
        is free."""
        if self._pool is None:
            future: Future[R] = Future()
            future.set_result(self._run(gate))
        else:
            future = self._pool.submit(self._run, gate)
        self._futures.append(future)
        return future

    def wait(self) -> None:
        """Wait until every gate submitted ended.

        Raises:
            BaseException: as soon as a gate raised, the first exception a gate raised (the
                ``with`` block then stops the others, if that gate did not already).
        """
        futures.wait(self._futures, return_when=futures.FIRST_EXCEPTION)
        if self._cause is not None:
            raise self._cause

    def stop(self) -> None:
        """Start no further verifier process and kill those running."""
        with self._lock:
            self._stopped = True
            live = list(self._live)
        for proc in live:
            proc.kill()

    def _run(self, gate: Callable[[], R]) -> R:
        if self._stopped:
            raise GatesStoppedError
        _current.gates = self
        try:
            return gate()
        except BaseException as e:
            with self._lock:
                self._cause = self._cause or e
            self.stop()  # at once, before this thread takes the next gate
            raise
        finally:
            _current.gates = None
            if self._done is not None:
                self._done()

    def start(self, args: list[str]) -> subprocess.Popen[str]:
        """A verifier process these gates will kill if they stop.

        Raises:
            GatesStoppedError: they stopped.
        """
        with self._lock:
            if self._stopped:
                raise GatesStoppedError
            proc = _start(args)
            self._live.add(proc)
            return proc

    def reaped(self, proc: subprocess.Popen[str]) -> None:
        """``proc`` ended and was waited for: nothing left to kill."""
        with self._lock:
            self._live.discard(proc)


class _Current(threading.local):
    gates: Gates | None = None


#: The gates the current thread runs a gate for (None outside any).
_current: Final = _Current()


def run_gates(
    gates: Sequence[Callable[[], R]], *, jobs: int, done: Callable[[], None] | None = None
) -> list[R]:
    """Every gate, at most ``jobs`` at a time (:class:`Gates`); their results in their order.

    Raises:
        Exception: the first exception a gate raised; the other gates are stopped.
    """
    with Gates(jobs, done=done) as running:
        results = [running.submit(gate) for gate in gates]
        running.wait()
    return [f.result() for f in results]


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_verifier(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run one verifier process to its end; killed (exit :data:`TIMED_OUT`) after ``_TIMEOUT``
    seconds, and when the :class:`Gates` it runs under stop or the caller is interrupted.

    Raises:
        GatesStoppedError: the gates this runs under stopped before it started.
    """
    gates = _current.gates
    proc = _start(args) if gates is None else gates.start(args)
    try:
        out, err = proc.communicate(timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        said = f"{err}\nverifier.timeout: killed after {_TIMEOUT} s"
        return subprocess.CompletedProcess(args, TIMED_OUT, out, said)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        if gates is not None:
            gates.reaped(proc)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def verify_election(bundle: Path, town_key: Path) -> tuple[bool, list[str]]:
    """Run ``verifier verify BUNDLE --town-key FILE --json`` (V1-V19) in its own process.

    Returns:
        (passed, the failed clauses): passed only when the verifier exits 0; an unreadable
        bundle gives the end of the verifier's message as its one "clause".
    """
    args = [sys.executable, "-m", "verifier", "verify", str(bundle),
            "--town-key", str(town_key), "--json", "--jobs", "1"]  # fmt: skip
    proc = run_verifier(args)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return False, [proc.stderr.strip()[-200:]]
    failed = [c["clause"] for c in report.get("clauses", []) if c.get("status") == "failed"]
    return proc.returncode == 0, failed


def verify_procedure(
    bundle: Path, town_key: Path, casework_bundle: Path | None, election_bundle: Path
) -> dict[str, Any]:
    """Run ``verifier procedure`` (V20-V31) on a procedure bundle in its own process, against
    the town key, the branch's election bundle (``--election``, V29: the procedure bound to
    this election) and, when given, the town's casework bundle (V30, V31's appointment part).

    Returns:
        ``{clauses: "V20-V31", status: "passed"|"failed", failures: [{code, zh, en}],
        not_checked: [clause]}``: passed only when the verifier exits 0 with no finding and V29
        was checked (a log that binds no election yet fails with ``town.election_not_bound``).
        ``clauses`` is "V20-V30" without a casework bundle.
    """
    args = [sys.executable, "-m", "verifier", "procedure", str(bundle),
            "--town-key", str(town_key), "--election", str(election_bundle),
            "--json", "--jobs", "1"]  # fmt: skip
    with_casework = casework_bundle is not None and casework_bundle.is_dir()
    if with_casework:
        args += ["--casework", str(casework_bundle)]
    proc = run_verifier(args)
    try:
        report = json.loads(proc.stdout)
        failures = [{k: str(f[k]) for k in ("code", "zh", "en")} for f in report["findings"]]
        ok = report.get("ok") is True
        unchecked = {str(n["clause"]): n for n in report.get("not_checked", [])}
    except (ValueError, AttributeError, KeyError, TypeError):
        failures, ok, unchecked = [], False, {}
    if not failures and not (proc.returncode == 0 and ok):
        said = proc.stderr.strip()[-300:]
        code = "timeout" if proc.returncode == TIMED_OUT else f"exit_{proc.returncode}"
        failures = [{"code": f"verifier.{code}", "zh": f"无法核验：{said}",
                     "en": f"cannot be verified: {said}"}]  # fmt: skip
    if not failures and "V29" in unchecked:
        why = unchecked["V29"]
        failures = [{"code": "town.election_not_bound",
                     "zh": f"换届程序未与该选举结果包核对（V29 未检查：{why.get('zh', '')}）",
                     "en": f"the procedure is not checked against this election bundle (V29 "
                           f"not checked: {why.get('en', '')})"}]  # fmt: skip
    passed = proc.returncode == 0 and ok and not failures
    return {"clauses": "V20-V31" if with_casework else "V20-V30",
            "status": "passed" if passed else "failed",
            "failures": failures, "not_checked": sorted(unchecked)}  # fmt: skip


def procedure_report(
    bundle: Path,
    town_key: Path,
    casework_bundle: Path | None,
    *,
    election: Path,
    cases: TownCasework | None,
    on: dt.date,
) -> dict[str, Any]:
    """(RP-13.2) A branch's procedure figures once ``verifier procedure`` passed its bundle
    against the branch's election bundle ``election`` (:func:`verify_procedure`, V29 included),
    read from that bundle's log; with a failing bundle, only the verifier's findings and no
    number. A pending appointment names the refusal the town would meet on ``on``
    (``pending_reason``), the open objections taken from ``cases`` (the casework numbers of a
    bundle that passed V31; None when it failed)."""
    verification = verify_procedure(bundle, town_key, casework_bundle, election)
    if verification["status"] != "passed":
        return {"verifier_gate": "failed", "verification": verification}
    raw = (bundle / "log.jsonl").read_bytes()
    entries = [parse_procedure_entry(line) for line in raw.splitlines()]
    code = json.loads((bundle / "procedure.json").read_bytes())["procedure"]["election"][
        "branch_code"
    ]
    mine = [b for b in cases.branches if b.branch == code] if cases else []
    pending = pending_reason(
        entries, open_objections=mine[0].objections.open if mine else None, on=on
    )
    figures = procedure_figures(entries, pending)
    return {"verifier_gate": "passed", "verification": verification, **figures}


def read_casework(
    bundle: Path, town_key: Path, on: dt.date
) -> tuple[TownCasework | None, CaseworkVerification]:
    """(RP-13.2) The town's casework numbers on ``on`` from the casework bundle once ``verifier
    casework`` (V31, its own process) passed it; None with the failing findings when it failed."""
    ledger, verification = read_verified_casework(bundle, town_key)
    return (town_casework(ledger, on) if ledger else None), verification


def casework_verification_json(v: CaseworkVerification | None) -> dict[str, Any] | None:
    """The town report JSON's record of V31 on the casework bundle (RP-13.2)."""
    if v is None:
        return None
    return {
        "clause": "V31",
        "status": "passed" if v.passed else "failed",
        "failures": [{"code": c, "zh": zh, "en": en} for c, zh, en in v.failures],
    }


# -- one branch's election ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BranchElection:
    """A branch's election as the town report shows it: from a bundle the verifier passed."""

    election: Election
    figures: ElectionFigures

    @property
    def name(self) -> str:
        return self.election.branch


@dataclass(frozen=True, slots=True)
class FailedElection:
    """A branch whose election bundle failed ``verifier verify``: its clauses, no number."""

    name: str
    verifier_failures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BranchReport:
    """One branch of the town report: its election, its procedure figures (or None without a
    procedure), and members the caller adds to its JSON (the demo's ``scenario``)."""

    election: BranchElection | FailedElection
    procedure: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _names(e: Election, ids: Sequence[str]) -> list[str]:
    return [e.member(MemberId(m)).name for m in ids]


def _branch_json(b: BranchElection | FailedElection) -> dict[str, Any]:
    """One branch's entry in the town report's JSON (no number from a failed bundle)."""
    if isinstance(b, FailedElection):
        return {"branch": b.name, "verified": False, "verifier_failures": list(b.verifier_failures)}
    e, f = b.election, b.figures
    expected = len(expected_electors(e))
    return {
        "branch": b.name,
        "expected": expected,
        "present": f.present,
        "turnout_percent": 100 * f.present // max(1, expected),
        "rounds": f.rounds,
        "elected": {post: _names(e, ids) for post, ids in f.elected.items()},
        "elected_rounds": {
            post: [
                {
                    "member": m,
                    "name": e.member(MemberId(m)).name,
                    "round": f.electing[post, m][0],
                    "approvals": f.electing[post, m][1],
                }
                for m in ids
            ]
            for post, ids in f.elected.items()
        },
        "secretary_new_max_age": e.parameters.secretary_new_max_age,
        "meeting_date": e.election_date.isoformat(),
        "verified": True,
        "verifier_failures": [],
        "remote_ballots": f.remote_ballots,
        "publicity": {"state": "in_publicity", "start": f.publicity_start, "end": f.publicity_end},
    }


def _town_row(b: BranchElection | FailedElection, procedure: tuple[str, ...], lang: str) -> TownRow:
    """One branch's row of the town report's PDF."""
    zh = lang == "zh"
    if isinstance(b, FailedElection):
        return TownRow(branch=b.name, expected=0, present=0, rounds=0, secretary="",
                       committee="", verified=False, publicity="", procedure=procedure,
                       failures=b.verifier_failures)  # fmt: skip
    e, f = b.election, b.figures
    sep = "、" if zh else ", "
    return TownRow(
        branch=b.name,
        expected=len(expected_electors(e)),
        present=f.present,
        rounds=f.rounds,
        secretary=sep.join(_names(e, f.elected.get("secretary", ()))),
        committee=sep.join(_names(e, f.elected.get("committee", ())))
        or ("（不设委员会）" if zh else "(no committee)"),
        verified=True,
        publicity=f"{'公示至' if zh else 'publicity to'} {f.publicity_end}",
        elected=tuple(
            TownElected(
                post=zh_label(PostKind(post)) if zh else post.replace("_", " "),
                name=e.member(MemberId(m)).name,
                round=f.electing[post, m][0],
                approvals=f.electing[post, m][1],
            )
            for post, ids in f.elected.items()
            for m in ids
        ),
        procedure=procedure,
    )


def _shares(branches: Sequence[BranchReport]) -> TownShares:
    """(R28, RULES A12.9) The town plan's shares over the branches whose bundle passed: each
    branch's own age limit, ages on its own meeting date."""
    secretaries: list[TownSecretary] = []
    committee = []
    for r in branches:
        b = r.election
        if isinstance(b, FailedElection):
            continue
        e = b.election
        secretaries += [
            TownSecretary(
                e.member(MemberId(m)), e.election_date, e.parameters.secretary_new_max_age
            )
            for m in b.figures.elected.get("secretary", ())
        ]
        committee += [e.member(MemberId(m)) for m in b.figures.elected.get("committee", ())]
    return town_shares(secretaries, committee)


def town_report_data(
    town: str,
    branches: Sequence[BranchReport],
    cases: TownCasework | None,
    verification: CaseworkVerification | None,
) -> dict[str, Any]:
    """The town report's JSON (``town-report/1``)."""
    shares = _shares(branches)
    return {
        "format": "town-report/1",
        "town": town,
        "branches": [
            {**_branch_json(r.election), **r.extra, "procedure": r.procedure} for r in branches
        ],
        "shares": {
            "secretaries": shares.secretaries,
            "young_secretaries": shares.young_secretaries,
            "secretary_new_max_ages": list(shares.max_ages),
            "young_secretary_target_met": shares.young_secretary_target_met,
            "committee_members": shares.committee_members,
            "women_committee_members": shares.women_committee_members,
            "women_secretaries": shares.women_secretaries,
        },
        "casework": cases.document() if cases else None,
        "casework_verification": casework_verification_json(verification),
    }


def write_town_report(
    pdf: Path,
    *,
    town: str,
    title: str,
    branches: Sequence[BranchReport],
    cases: TownCasework | None,
    verification: CaseworkVerification | None,
    on: dt.date,
    lang: str = "zh",
) -> Path:
    """Render the town report's PDF (Chinese, or English with ``lang="en"``).

    Raises:
        MissingGlyphError: a name the embedded font cannot show (nothing written).
    """
    rows = tuple(_town_row(r.election, procedure_lines(r.procedure, lang), lang) for r in branches)
    casework = (
        town_cases(cases) if cases else (failed_cases(verification, on) if verification else None)
    )
    return render_town_report(
        TownReport(
            town=town,
            title=title,
            rows=rows,
            shares=_share_lines(_shares(branches), lang),
            casework=casework,
            lang=lang,
        ),
        pdf,
    )


# -- the PDF's words ----------------------------------------------------------------------------


def failed_cases(verification: CaseworkVerification, on: dt.date) -> TownCases:
    """(RP-13.2) The town report's casework pages when the bundle failed V31: the failing
    findings, and no number."""
    return TownCases(on=on.isoformat(), entries=0, rows=(), failures=verification.failures)


def town_cases(town: TownCasework) -> TownCases:
    """The town report's casework pages from the town's numbers (counts and names only)."""
    return TownCases(
        on=town.on.isoformat(),
        entries=town.entries,
        rows=tuple(
            TownCaseRow(
                branch=b.name,
                objections_received=b.objections.received,
                objections_concluded=b.objections.concluded,
                objections_open=b.objections.open,
                objections_overdue=b.objections.overdue,
                objections_after_publicity=b.objections_after_publicity,
                objection_findings=tuple((f.value, n) for f, n in b.objections.by_finding if n),
                objection_effects=tuple(
                    (e.value, n) for e, n in b.objection_effects if n and e is not Effect.NONE
                ),
                reports_received=b.reports.received,
                reports_concluded=b.reports.concluded,
                reports_open=b.reports.open,
                reports_overdue=b.reports.overdue,
                reports_from_other_branches=b.reports_from_other_branches,
                report_findings=tuple((f.value, n) for f, n in b.reports.by_finding if n),
                groups=tuple((g.name, g.reporters) for g in b.groups),
            )
            for b in town.branches
        ),
    )


_DECISIONS: Final = {"approved": ("批准", "approved")}
_PENDING: Final = {
    "appointment.objection_open": ("有异议未办结", "an objection is open"),
    "appointment.during_publicity": ("公示期未满", "publicity has not ended"),
    "appointment.not_concluded": ("选举结果未记录", "the result is not recorded"),
    "": ("镇党委尚未审批", "the town has not yet acted"),
}
_STOPS: Final = {
    "evaluation": "测评未通过",
    "declined": "本人谢绝",
    "ten_disqualifications": "资格审查未通过",
    "over_size": "超出名额",
}


def procedure_lines(figures: Mapping[str, Any] | None, lang: str = "zh") -> tuple[str, ...]:
    """The town report PDF's lines for :func:`procedure_report` (RP-13.2): the figures of a
    bundle the verifier passed, or one line naming the failing codes."""
    if figures is None:
        return ()
    zh = lang == "zh"
    if figures["verifier_gate"] != "passed":
        codes = ", ".join(f["code"] for f in figures["verification"]["failures"])
        return (
            f"换届程序：结果包未通过核验（verifier procedure：{codes}），不显示任何数字"
            if zh
            else f"Procedure: the bundle failed verifier procedure ({codes}): no figures shown",
        )
    rec = figures["recommendation"]
    held = [g for g, k in ((("党员", "members"), "member_group_held"),
                           (("群众", "public"), "public_group_held")) if rec[k]]  # fmt: skip
    ballots = sum(x["valid"] + x["invalid"] for x in rec["sessions"])
    names = ("、" if zh else ", ").join(g[0 if zh else 1] for g in held)
    lines = [
        f"换届程序（已经 verifier procedure 核验）：推荐 {names or '未举行'}，共 {ballots} 张票"
        if zh
        else f"Procedure (verified): recommendation by {names or 'none'}, {ballots} ballots"
    ]
    for x in figures["lists"]:
        stops = ("、" if zh else ", ").join(
            f"{_STOPS.get(r, r) if zh else r.replace('_', ' ')} {n}"
            for r, n in x["not_proceeding"].items()
        ) or "0"
        lines.append(
            f"{zh_label(PostKind(x['post']))}人选：初步 {x['preliminary']} 名，"
            f"正式候选人 {x['formal']} 名，不再列入 {stops}"
            if zh
            else f"{x['post']}: preliminary {x['preliminary']}, formal {x['formal']}, "
            f"not proceeding {stops}"
        )
    for ev in figures["evaluation"]:
        lines.append(
            f"测评第 {ev['round']} 轮：{ev['persons']} 人，不再列入 {ev['did_not_proceed']} 人"
            if zh
            else f"evaluation round {ev['round']}: {ev['persons']} persons, "
            f"{ev['did_not_proceed']} not proceeding"
        )
    a = figures["appointment"]
    if a["state"] == "recorded":
        word = _DECISIONS.get(a["decision"], (a["decision"], a["decision"]))[0 if zh else 1]
        lines.append(f"任命：{a['date']} {word}" if zh else f"appointment: {a['date']} {word}")
    else:
        why = _PENDING.get(a["refused"], (a["refused"], a["refused"]))[0 if zh else 1]
        lines.append(f"任命：待任命（{why}）" if zh else f"appointment pending ({why})")
    return tuple(lines)


def _share_lines(shares: TownShares, lang: str = "zh") -> tuple[tuple[str, str], ...]:
    """The town plan's shares (R28) as (label, value) lines of the PDF."""
    if lang != "zh":
        return _share_lines_en(shares)
    ages = shares.max_ages
    young_label = (
        f"{ages[0]}岁及以下书记"
        if len(ages) == 1
        else "不超过本支部新任书记年龄上限"
        + (f"（{ages[0]}至{ages[-1]}岁）" if ages else "")
        + "的书记"
    )
    # Committee members include the secretaries (who are elected to the committee first).
    return (
        ("书记人数", f"{shares.secretaries} 名"),
        (
            young_label,
            f"{shares.young_secretaries} 名，占 "
            f"{100 * shares.young_secretaries // max(1, shares.secretaries)}%"
            f"（按各支部选举日计算年龄；目标不低于30%："
            f"{'达到' if shares.young_secretary_target_met else '未达到'}）",
        ),
        ("女性委员", f"{shares.women_committee_members} / {shares.committee_members} 名"),
        ("女性书记", f"{shares.women_secretaries} / {shares.secretaries} 名"),
    )


def _share_lines_en(shares: TownShares) -> tuple[tuple[str, str], ...]:
    """The lines of :func:`_share_lines` in English."""
    ages = shares.max_ages
    limit = f"{ages[0]}" if len(ages) == 1 else f"{ages[0]} to {ages[-1]}" if ages else "-"
    return (
        ("Secretaries", f"{shares.secretaries}"),
        (
            f"Secretaries within their branch's age limit for a new secretary ({limit})",
            f"{shares.young_secretaries}, "
            f"{100 * shares.young_secretaries // max(1, shares.secretaries)}% "
            f"(ages on each branch's meeting date; target at least 30%: "
            f"{'met' if shares.young_secretary_target_met else 'not met'})",
        ),
        (
            "Women on the committees",
            f"{shares.women_committee_members} / {shares.committee_members}",
        ),
        ("Women secretaries", f"{shares.women_secretaries} / {shares.secretaries}"),
    )
