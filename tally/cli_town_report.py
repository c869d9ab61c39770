"""``tally town-report``: the town report for a real town, from the bundles its branches handed in
(spec/procedure.md RP-13.2; issue 9, issue 18).

Input: the town's trusted public key, the town's casework bundle (``tally casework export``), and
one folder per branch as its work group published it: the election bundle ``bundle.zip`` (or the
folder ``bundle/``, both written by ``tally publish``) and the procedure bundle ``procedure/``
(``tally procedure publish``). Every input is checked before any verifier runs, and each problem
is one refusal with its own code (exit 1, nothing written). Then every bundle goes through the
independent verifier in its own process (:mod:`tally.town_report`, the code ``tally demo`` uses
too): a branch whose bundle fails is shown with its failing clauses and no number. Exit 0 when
every bundle passed, 2 when the report was written with a bundle that failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Final

import typer

import keys
from tally.cli_day.common import MAX_KEY_BYTES
from tally.cli_errors import CliError, command_lang, run
from tally.cli_input import open_input, parse_date, read_input
from tally.cli_progress import progress_bar
from tally.core.election_figures import election_figures
from tally.core.manifest import canonical
from tally.core.meeting import parse_entry
from tally.manifest_io import load_signed_manifest
from tally.town_report import (
    BranchElection,
    BranchReport,
    FailedElection,
    Gates,
    procedure_report,
    read_casework,
    town_report_data,
    verify_election,
    write_town_report,
)

__all__ = ["gate_jobs", "gate_progress", "register", "town_report_cmd"]

#: The folders of a branch's published files (``tally publish --out``, ``tally procedure publish``).
ELECTION_ZIP: Final = "bundle.zip"
ELECTION_FOLDER: Final = "bundle"
PROCEDURE_FOLDER: Final = "procedure"
EXIT_BUNDLE_FAILED: Final = 2
_DIGITS: Final = re.compile(r"[0-9]+")  # ASCII digits only: int() takes ２ and 1_0 too
#: One JSON document of a bundle (``manifest.json``, ``procedure.json``, ...): the verifier's limit
#: (spec/bundle.md §8).
MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
#: A bundle's ``log.jsonl``, which this command reads whole (ADR 0065).
MAX_LOG_BYTES: Final = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Branch:
    """One branch folder as given, before any verifier ran: where its two bundles are, and what
    their unverified headers say (for refusing inputs that cannot be one town's; None where
    unreadable, which the verifier then reports)."""

    folder: Path
    election: Path
    procedure: Path
    name: str | None
    election_id: str | None
    procedure_branch: str | None
    procedure_code: str | None
    bound_to: str | None


def _refuse(code: str, zh: str, en: str) -> CliError:
    return CliError(code, zh=zh, en=en)


def _day(on: str | None) -> dt.date:
    """``--on``, or today in the town (UTC+8)."""
    if on is None:
        return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    return parse_date(on, option="--on")


def _limit(name: str) -> int:
    return MAX_LOG_BYTES if name.endswith(".jsonl") else MAX_DOCUMENT_BYTES


def _member(bundle: Path, name: str) -> bytes:
    """A file of a bundle (a folder or a zip), read within its limit.

    Raises:
        CliError: ``input.*`` for what the reader refuses (a folder's file, or the zip itself),
            ``input.too_large`` for a zip member that declares more than the limit.
        KeyError, zipfile.BadZipFile, OSError: no such member, or not a readable zip.
    """
    limit = _limit(name)
    if bundle.is_dir():
        return read_input(bundle / name, limit=limit)
    with open_input(bundle) as fh, zipfile.ZipFile(fh) as z:
        if z.getinfo(name).file_size > limit:  # zipfile reads no more than a member declares
            raise CliError(
                "input.too_large",
                zh=f"{bundle} 中的 {name} 超过 {limit // (1024 * 1024)} MiB 上限",
                en=f"{name} in {bundle} is larger than the {limit // (1024 * 1024)} MiB limit",
            )
        return z.read(name)


def _read(bundle: Path, name: str) -> bytes | None:
    """A file of a bundle (a folder or a zip), or None when it cannot be read (a FIFO or a device
    included: never read, so the command never waits on one)."""
    try:
        return _member(bundle, name)
    except (OSError, KeyError, zipfile.BadZipFile, CliError):
        return None


def _verified(bundle: Path, name: str) -> bytes:
    """A file of a bundle the verifier passed: read within its limit, or refused."""
    try:
        return _member(bundle, name)
    except (KeyError, zipfile.BadZipFile) as e:
        raise CliError(
            "input.unreadable",
            zh=f"无法读取 {bundle} 中的 {name}",
            en=f"cannot read {name} in {bundle}: {e}",
        ) from e


def _json(bundle: Path, name: str) -> dict[str, Any] | None:
    raw = _read(bundle, name)
    try:
        doc = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _get(doc: Any, *path: str) -> str | None:
    for p in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(p)
    return doc if isinstance(doc, str) else None


def _fingerprint(doc: dict[str, Any] | None) -> str | None:
    """The fingerprint of a signed document's ``town_key`` (unverified), or None."""
    if doc is None:
        return None
    try:
        return keys.fingerprint(keys.parse_public_key(canonical(doc["town_key"])))
    except (keys.KeysError, KeyError, TypeError, ValueError):
        return None


def _other_town(what: str, where: Path, found: str | None, trusted: str) -> None:
    if found is not None and found != trusted:
        raise _refuse(
            "town.other_town",
            f"{where}：{what}不是本镇党委公钥签署的（签署公钥指纹 {found}，本镇 {trusted}），"
            "不属于本镇",
            f"{where}: the {what} is signed by another town key ({found}, this town's is "
            f"{trusted}): it is not this town's",
        )


def _branch(folder: Path, trusted: str) -> _Branch:
    """A branch folder's bundles and headers, or the refusal of what cannot be this town's."""
    if not folder.is_dir():
        raise _refuse(
            "town.branch_folder",
            f"找不到支部文件夹：{folder}",
            f"no such branch folder: {folder}",
        )
    election = folder / ELECTION_ZIP
    if not election.is_file():
        election = folder / ELECTION_FOLDER
    procedure = folder / PROCEDURE_FOLDER
    for path, zh, en, hint in (
        (election, "选举结果包", "election bundle", f"{ELECTION_ZIP} 或 {ELECTION_FOLDER}/"),
        (procedure, "换届程序结果包", "procedure bundle", f"{PROCEDURE_FOLDER}/"),
    ):
        if not path.exists():
            raise _refuse(
                "town.missing_bundle",
                f"{folder} 中没有{zh}（{hint}）",
                f"{folder} holds no {en} ({hint.replace(' 或 ', ' or ')})",
            )
    manifest = _json(election, "manifest.json")
    defined = _json(procedure, "procedure.json")
    _other_town("选举清单", folder, _fingerprint(manifest), trusted)
    _other_town("换届程序定义", folder, _fingerprint(defined), trusted)
    bound = None
    log = _read(procedure, "log.jsonl") or b""
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # an unreadable entry is the verifier's to report
            continue
        if isinstance(entry, dict) and entry.get("type") == "election.bound":
            bound = _get(entry, "body", "election_id")
    return _Branch(
        folder=folder,
        election=election,
        procedure=procedure,
        name=_get(manifest, "manifest", "definition", "election", "branch"),
        election_id=_get(_json(election, "index.json"), "election_id"),
        procedure_branch=_get(defined, "procedure", "election", "branch"),
        procedure_code=_get(defined, "procedure", "election", "branch_code"),
        bound_to=bound,
    )


def _same_branch(b: _Branch) -> None:
    """(RP-7.1) The procedure bundle must be the election's branch's."""
    other = (b.name is not None and b.procedure_branch is not None
             and b.name != b.procedure_branch)  # fmt: skip
    other_id = b.bound_to is not None and b.election_id is not None and b.bound_to != b.election_id
    if other or other_id:
        raise _refuse(
            "town.procedure_other_branch",
            f"{b.folder}：换届程序结果包不是该支部这次选举的（程序：{b.procedure_branch}，"
            f"选举：{b.name}）",
            f"{b.folder}: the procedure bundle is not this branch election's (procedure: "
            f"{b.procedure_branch}, election: {b.name})",
        )


def _one_each(branches: Sequence[_Branch]) -> None:
    """Two bundles for one branch (one folder given twice, or the same election, branch name or
    branch code in two folders) are refused."""
    seen: dict[tuple[str, str], Path] = {}
    for b in branches:
        for kind, value in (("folder", str(b.folder.resolve())), ("election", b.election_id),
                            ("name", b.name), ("code", b.procedure_code)):  # fmt: skip
            if value is None:
                continue
            if (kind, value) in seen:
                first = seen[kind, value]
                raise _refuse(
                    "town.duplicate_branch",
                    f"{first} 和 {b.folder} 是同一个支部的结果包（{value}），每个支部只能给一次",
                    f"{first} and {b.folder} are bundles of one branch ({value}): give each "
                    "branch once",
                )
            seen[kind, value] = b.folder


def _inputs(
    folders: Sequence[Path], town_key: Path, casework: Path
) -> tuple[keys.PublicKey, list[_Branch]]:
    """Every input checked before any verifier runs."""
    try:
        trusted = keys.parse_public_key(read_input(town_key, limit=MAX_KEY_BYTES))
    except keys.KeysError as e:
        raise _refuse(
            "town.key",
            f"{town_key} 不是有效的公钥文件：{e}",
            f"{town_key} is not a public key: {e}",
        ) from e
    if trusted.role is not keys.Role.TOWN_COMMITTEE:
        raise _refuse(
            "town.key",
            f"{town_key} 不是镇党委公钥（角色 {trusted.role.value}）",
            f"{town_key} is not a town committee key (role {trusted.role.value})",
        )
    fingerprint = keys.fingerprint(trusted)
    if not (casework / "casework.json").is_file():
        raise _refuse(
            "town.missing_bundle",
            f"{casework} 不是事项登记簿导出包（没有 casework.json；tally casework export）",
            f"{casework} is not a casework bundle (no casework.json; tally casework export)",
        )
    _other_town("事项登记簿", casework, _fingerprint(_json(casework, "casework.json")), fingerprint)
    branches = [_branch(f, fingerprint) for f in folders]
    for b in branches:
        _same_branch(b)
    _one_each(branches)
    return trusted, branches


def _election(
    b: _Branch, town_key: Path, trusted: keys.PublicKey
) -> BranchElection | FailedElection:
    """(V1-V19) The branch's election, read from its bundle once ``verifier verify`` passed it."""
    passed, failed = verify_election(b.election, town_key)
    if not passed:
        return FailedElection(name=b.name or str(b.folder), verifier_failures=tuple(failed))
    manifest, _ = load_signed_manifest(_verified(b.election, "manifest.json"), trust_root=trusted)
    log = _verified(b.election, "log.jsonl")
    entries = [parse_entry(line) for line in log.splitlines()]
    return BranchElection(election=manifest.election, figures=election_figures(entries))


def _lines(data: dict[str, Any], pdf: Path, lang: str) -> list[str]:
    zh = lang == "zh"
    out = []
    for b in data["branches"]:
        if b["verified"]:
            part = (
                f"选举结果包核验通过，应到 {b['expected']}、实到 {b['present']}，{b['rounds']} 轮"
                if zh
                else f"election bundle verified, E {b['expected']}, present {b['present']}, "
                f"{b['rounds']} rounds"
            )
        else:
            clauses = ("、" if zh else ", ").join(b["verifier_failures"])
            part = (
                f"选举结果包未通过核验（{clauses}），不显示任何数字"
                if zh
                else f"election bundle FAILED ({clauses}): no figures"
            )
        p = b["procedure"]
        codes = ", ".join(f["code"] for f in p["verification"]["failures"])
        gate = (
            ("换届程序核验通过" if zh else "procedure verified")
            if p["verifier_gate"] == "passed"
            else (f"换届程序未通过核验（{codes}）" if zh else f"procedure FAILED ({codes})")
        )
        out.append(f"{b['branch']}：{part}；{gate}" if zh else f"{b['branch']}: {part}; {gate}")
    v = data["casework_verification"]
    codes = ", ".join(sorted({f["code"] for f in v["failures"]}))
    out.append(
        ("事项登记簿导出包核验通过（V31）" if zh else "casework bundle verified (V31)")
        if v["status"] == "passed"
        else (
            f"事项登记簿导出包未通过核验（V31：{codes}），不显示任何事项数字"
            if zh
            else f"casework bundle FAILED (V31: {codes}): no case numbers"
        )
    )
    out.append(f"汇总报告：{pdf}" if zh else f"town report: {pdf}")
    return out


def gate_jobs(text: str | None) -> int:
    """``--jobs``: how many verifier gates at a time; the CPU count (at least 1) when not given.

    Raises:
        CliError: ``cli.jobs``, anything but a whole number of at least 1 in ASCII digits (as
            ``parse_date``: ``int`` would take ``２``, ``+2``, `` 2`` and ``1_0`` too).
    """
    if text is None:
        return max(1, os.cpu_count() or 1)
    if _DIGITS.fullmatch(text) and int(text) >= 1:
        return int(text)
    shown = json.dumps(text, ensure_ascii=False)  # quoted, so spaces show
    raise _refuse(
        "cli.jobs",
        f"--jobs 应为不小于 1 的整数（同时运行的核验进程数）：{shown}",
        f"--jobs is a whole number of at least 1 (verifier processes at a time): {shown}",
    )


@contextlib.contextmanager
def gate_progress(lang: str, total: int, *, quiet: bool) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr over ``total`` gates, and its "one more ended" callback (safe
    from any thread); none (None) with ``quiet`` (``--json``) or when stderr is no terminal."""
    label = "核验各支部结果包" if lang == "zh" else "verifying the branches"
    with progress_bar(label, total, quiet=quiet) as bar:
        yield bar.advance if bar.shown else None


def _report(
    folders: Sequence[Path],
    town_key: Path,
    casework: Path,
    day: dt.date,
    out: Path,
    *,
    lg: str,
    jobs: int,
    quiet: bool,
) -> tuple[dict[str, Any], Path]:
    """Check the inputs, run every gate (at most ``jobs`` at a time), write the PDF: the
    report's JSON and the PDF's path."""
    trusted, items = _inputs(folders, town_key, casework)
    if not out.parent.is_dir():
        raise _refuse(
            "town.out_folder",
            f"报告的文件夹不存在：{out.parent}",
            f"the report's folder does not exist: {out.parent}",
        )
    cases, verification = read_casework(casework, town_key, day)

    def procedure(b: _Branch) -> dict[str, Any]:
        return procedure_report(
            b.procedure, town_key, casework, election=b.election, cases=cases, on=day
        )

    # Each branch's two gates, at most `jobs` at a time; the report takes them in its order.
    with (
        gate_progress(lg, 2 * len(items), quiet=quiet) as done,
        Gates(jobs, done=done) as gates,
    ):
        pending = [
            (
                gates.submit(partial(_election, b, town_key, trusted)),
                gates.submit(partial(procedure, b)),
            )
            for b in items
        ]
        gates.wait()
    reports = [BranchReport(e.result(), p.result()) for e, p in pending]
    verified = [r.election.election for r in reports if isinstance(r.election, BranchElection)]
    town = cases.town if cases else next((e.town for e in verified), "")
    data = town_report_data(town, reports, cases, verification)
    pdf = write_town_report(
        out,
        town=town,
        title="村（社区）党组织换届选举情况汇总"
        if lg == "zh"
        else "The branches' re-elections at a glance",
        branches=reports,
        cases=cases,
        verification=verification,
        on=day,
        lang=lg,
    )
    return data, pdf


def town_report_cmd(
    branches: Annotated[
        list[Path],
        typer.Argument(
            help="各支部交来的文件夹（每个含选举结果包 bundle.zip 或 bundle/，及换届程序结果包 procedure/）"
        ),
    ],
    town_key: Annotated[Path, typer.Option("--town-key", help="本镇党委公钥文件（信任根）")],
    casework: Annotated[
        Path, typer.Option("--casework", help="本镇事项登记簿导出包文件夹（tally casework export）")
    ],
    on: Annotated[
        str | None, typer.Option("--on", help="按哪一天计算逾期和待任命（YYYY-MM-DD，默认今天）")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="汇总报告 PDF")] = Path("town-report.pdf"),
    lang: Annotated[str | None, typer.Option("--lang", help="zh（默认）或 en")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（town-report/1）")] = False,
    jobs: Annotated[
        str | None,
        typer.Option(
            "--jobs",
            help="同时运行的核验进程数（默认 CPU 数；1 为逐个核验）/ verifier processes at a time",
        ),
    ] = None,
) -> None:
    """全镇换届汇总报告：每个结果包先经独立核验 / The town report, from bundles the verifier passed.

    Exit 0: every bundle passed; 1: an input refused (nothing written); 2: the report was written
    and a bundle failed (that branch without numbers).
    """
    lg = command_lang(lang)

    def act() -> tuple[dict[str, Any], Path]:
        n = gate_jobs(jobs)  # before anything runs
        day = _day(on)
        return _report(branches, town_key, casework, day, out, lg=lg, jobs=n, quiet=as_json)

    data, pdf = run(lg, as_json, act)
    passed = (
        all(b["verified"] for b in data["branches"])
        and all(b["procedure"]["verifier_gate"] == "passed" for b in data["branches"])
        and data["casework_verification"]["status"] == "passed"
    )
    if as_json:
        typer.echo(json.dumps({"ok": True, **data, "all_verified": passed, "pdf": str(pdf)},
                              ensure_ascii=False, indent=2))  # fmt: skip
    else:
        typer.echo("\n".join(_lines(data, pdf, lg)))
    if not passed:
        raise typer.Exit(EXIT_BUNDLE_FAILED)


def register(app: typer.Typer) -> None:
    """Register ``tally town-report`` on the ``tally`` app."""
    app.command("town-report")(town_report_cmd)
