"""`tally town-report` (spec/procedure.md RP-13.2, issue 18): a real town's report from the bundles
its branches handed in. On the demo town's published bundles it gives the report `tally demo`
computed from its own files; a bundle that fails its verifier shows that branch's failing clauses
and no number while the others keep theirs; every input that cannot be one town's is refused
with its own code before any verifier runs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import keys
from tally.cli import app
from tally.core.manifest import canonical

BRANCHES = 3
DAY = "2026-12-28"  # the demo's casework day (tally.demo_casework.CASEWORK_DAY)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town-report") / "town"
    r = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--branches", str(BRANCHES), "--seed", "11"]
    )
    assert r.exit_code == 0, r.output
    return out


def _published(town: Path) -> list[str]:
    return [str(town / f"branch-{i:02d}" / "published") for i in range(1, BRANCHES + 1)]


def _args(town: Path, folders: list[str], tmp_path: Path | None = None) -> list[str]:
    return [
        "town-report",
        *folders,
        "--town-key",
        str(town / "casework" / "town.pub"),
        "--casework",
        str(town / "casework" / "bundle"),
        "--on",
        DAY,
        "--out",
        str((tmp_path or town.parent) / "report.pdf"),
    ]


def _run(town: Path, folders: list[str], *extra: str, out: Path | None = None) -> Any:
    args = _args(town, folders)
    if out is not None:
        args[-1] = str(out)
    return CliRunner().invoke(app, [*args, *extra])


def test_town_report_from_the_published_bundles_equals_the_demos_report(
    town: Path, tmp_path: Path
) -> None:
    pdf = tmp_path / "汇总.pdf"
    r = _run(town, _published(town), "--json", out=pdf)
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got.pop("ok") is True and got.pop("all_verified") is True
    assert got.pop("pdf") == str(pdf)
    want = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    for branch in want["branches"]:
        del branch["scenario"]  # the demo's plan, which no bundle records
    assert got == want
    # every part is there: elections, procedure figures, casework numbers
    assert all(
        b["verified"] and b["procedure"]["verifier_gate"] == "passed" for b in got["branches"]
    )
    assert got["casework"]["branches"] and got["casework_verification"]["status"] == "passed"
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert text.count("换届程序（已经 verifier procedure 核验）") == BRANCHES
    assert "各支部异议和民情直报情况" in text


def test_text_output_in_english_names_every_branch_and_the_report(
    town: Path, tmp_path: Path
) -> None:
    pdf = tmp_path / "report.pdf"
    r = _run(town, _published(town), "--lang", "en", out=pdf)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert sum("election bundle verified" in line and "procedure verified" in line
               for line in lines) == BRANCHES  # fmt: skip
    assert "casework bundle verified (V31)" in lines
    assert lines[-1] == f"town report: {pdf}"
    assert "Procedure (verified)" in "\n".join(p.extract_text() for p in PdfReader(pdf).pages)


def _copy_published(town: Path, tmp_path: Path) -> list[Path]:
    out = []
    for i in range(1, BRANCHES + 1):
        target = tmp_path / f"支部{i}"
        shutil.copytree(town / f"branch-{i:02d}" / "published", target)
        out.append(target)
    return out


def test_a_failing_bundle_shows_its_clauses_and_no_number_the_others_keep_theirs_rp_13_2(
    town: Path, tmp_path: Path
) -> None:
    one, two, three = _copy_published(town, tmp_path)
    # branch 2: its procedure bundle's log changed after publication
    log = two / "procedure" / "log.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"valid_ballots":', b'"valid_ballots":1', 1))
    # branch 3: its election bundle's result changed (the folder handed in without the zip)
    (three / "bundle.zip").unlink()
    result = three / "bundle" / "result.json"
    result.write_bytes(
        result.read_bytes().replace(b'"publicity_end":"2026-12', b'"publicity_end":"2027-12')
    )
    pdf = tmp_path / "report.pdf"
    r = _run(town, [str(one), str(two), str(three)], "--json", out=pdf)
    assert r.exit_code == 2, r.output  # the report is written; a bundle failed
    got = json.loads(r.stdout)
    assert got["all_verified"] is False
    b1, b2, b3 = got["branches"]
    # branch 1: numbers everywhere
    assert b1["verified"] and b1["expected"] > 0
    assert b1["procedure"]["verifier_gate"] == "passed" and "lists" in b1["procedure"]
    # branch 2: its election's numbers, its procedure's failing codes and no procedure number
    assert b2["verified"] and b2["present"] > 0
    assert b2["procedure"]["verifier_gate"] == "failed"
    assert b2["procedure"]["verification"]["failures"]
    assert set(b2["procedure"]) == {"verifier_gate", "verification"}
    # branch 3: its failing clauses and no election number; its procedure, bound to the
    # election as it was concluded, fails V29 against the changed bundle: no procedure number
    assert b3["verified"] is False and b3["verifier_failures"]
    assert set(b3) == {"branch", "verified", "verifier_failures", "procedure"}
    assert set(b3["procedure"]) == {"verifier_gate", "verification"}
    failures = b3["procedure"]["verification"]["failures"]
    assert "binding.concluded_differs" in {f["code"] for f in failures}
    assert any(f["en"].startswith("election bundle: ") for f in failures)  # V1-V19's, under V29
    # the town's shares count only the branches whose bundle passed
    assert got["shares"]["secretaries"] == 2
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "换届程序：结果包未通过核验（verifier procedure：" in text
    assert "选举结果包未通过核验（verifier verify：" in text
    for clause in b3["verifier_failures"]:
        assert clause in text


def test_an_election_bundle_the_procedure_did_not_bind_fails_v29_and_shows_no_procedure_number(
    town: Path, tmp_path: Path
) -> None:
    """(V29, RP-13.2) Branch 1 hands in its election re-published with a candidate's name
    changed: same branch, same election id, so the folder is not refused, but the procedure
    bound the manifest as it was."""
    one, two, three = _copy_published(town, tmp_path)
    (one / "bundle.zip").unlink()
    manifest = one / "bundle" / "manifest.json"
    doc = json.loads(manifest.read_bytes())
    post = doc["manifest"]["definition"]["posts"][0]
    candidate = next(m for m in doc["manifest"]["definition"]["members"]
                     if m["id"] == post["candidates"][0])  # fmt: skip
    candidate["name"] += "某"
    manifest.write_bytes(canonical(doc))
    index = json.loads((one / "bundle" / "index.json").read_bytes())
    entry = next(f for f in index["files"] if f["path"] == "manifest.json")
    entry["sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
    entry["size"] = manifest.stat().st_size
    (one / "bundle" / "index.json").write_bytes(canonical(index))
    pdf = tmp_path / "report.pdf"
    r = _run(town, [str(one), str(two), str(three)], "--json", out=pdf)
    assert r.exit_code == 2, r.output
    b1, b2, b3 = json.loads(r.stdout)["branches"]
    assert set(b1["procedure"]) == {"verifier_gate", "verification"}
    assert b1["procedure"]["verifier_gate"] == "failed"
    assert "binding.manifest" in {f["code"] for f in b1["procedure"]["verification"]["failures"]}
    for other in (b2, b3):  # the others: their numbers, V29 checked and passed
        assert other["verified"] and other["procedure"]["verifier_gate"] == "passed"
        assert "V29" not in other["procedure"]["verification"]["not_checked"]
        assert other["procedure"]["verification"]["clauses"] == "V20-V31"
        assert "lists" in other["procedure"]
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "binding.manifest" in text
    assert text.count("换届程序（已经 verifier procedure 核验）") == 2


def test_an_election_bundle_of_another_branch_is_refused_before_any_verifier(
    town: Path, tmp_path: Path
) -> None:
    one, two, _ = _copy_published(town, tmp_path)
    (one / "bundle.zip").unlink()
    shutil.rmtree(one / "bundle")
    shutil.copy(two / "bundle.zip", one / "bundle.zip")
    assert _refusal(_run(town, [str(one)], "--json")) == "town.procedure_other_branch"


def _refusal(r: Any) -> str:
    assert r.exit_code == 1, r.output
    body = json.loads(r.stdout)
    assert body["ok"] is False
    return str(body["code"])


def _other_key(tmp_path: Path) -> Path:
    path = tmp_path / "other.pub"
    signer = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "别的镇党委")
    path.write_bytes(keys.export_public_key(signer.public_key))
    return path


def test_a_missing_procedure_or_election_bundle_is_refused(town: Path, tmp_path: Path) -> None:
    one, two, three = _copy_published(town, tmp_path)
    shutil.rmtree(two / "procedure")
    assert _refusal(_run(town, [str(one), str(two)], "--json")) == "town.missing_bundle"
    (three / "bundle.zip").unlink()
    shutil.rmtree(three / "bundle")
    assert _refusal(_run(town, [str(one), str(three)], "--json")) == "town.missing_bundle"
    assert _refusal(_run(town, [str(tmp_path / "无此支部")], "--json")) == "town.branch_folder"


def test_two_bundles_for_one_branch_are_refused(town: Path, tmp_path: Path) -> None:
    one, *_ = _copy_published(town, tmp_path)
    assert _refusal(_run(town, [str(one), str(one)], "--json")) == "town.duplicate_branch"
    again = tmp_path / "再交一次"
    shutil.copytree(one, again)
    assert _refusal(_run(town, [str(one), str(again)], "--json")) == "town.duplicate_branch"


def test_a_procedure_bundle_of_another_branch_is_refused(town: Path, tmp_path: Path) -> None:
    one, two, _ = _copy_published(town, tmp_path)
    shutil.rmtree(one / "procedure")
    shutil.copytree(two / "procedure", one / "procedure")
    r = _run(town, [str(one)], "--json")
    assert _refusal(r) == "town.procedure_other_branch"


def test_bundles_of_another_town_are_refused(town: Path, tmp_path: Path) -> None:
    one, *_ = _copy_published(town, tmp_path)
    other = _other_key(tmp_path)
    # another town's key given: the casework bundle (and every branch) is not that town's
    r = CliRunner().invoke(
        app,
        [
            "town-report",
            str(one),
            "--town-key",
            str(other),
            "--casework",
            str(town / "casework" / "bundle"),
            "--json",
        ],
    )
    assert _refusal(r) == "town.other_town"
    # one branch's manifest names another town key
    (one / "bundle.zip").unlink()
    manifest = one / "bundle" / "manifest.json"
    doc = json.loads(manifest.read_bytes())
    doc["town_key"] = json.loads(other.read_bytes())
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    r = _run(town, [str(one)], "--json")
    assert _refusal(r) == "town.other_town"
    assert str(one) in json.loads(r.stdout)["message"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--on", "28/12/2026"], "cli.date"),
        (["--out", "/no/such/folder/report.pdf"], "town.out_folder"),
    ],
    ids=["bad-date", "no-output-folder"],
)
def test_bad_options_are_refused(town: Path, args: list[str], code: str) -> None:
    assert _refusal(_run(town, _published(town)[:1], *args, "--json")) == code


def test_a_town_key_that_is_no_key_or_a_missing_casework_bundle_is_refused(
    town: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "town.pub"
    bad.write_text("not a key", encoding="utf-8")
    base = ["town-report", _published(town)[0], "--json"]
    r = CliRunner().invoke(
        app, [*base, "--town-key", str(bad), "--casework", str(town / "casework" / "bundle")]
    )
    assert _refusal(r) == "town.key"
    for folder in (tmp_path, tmp_path / "无此文件夹"):  # not a casework bundle; none at all
        r = CliRunner().invoke(
            app,
            [*base, "--town-key", str(town / "casework" / "town.pub"), "--casework", str(folder)],
        )
        assert _refusal(r) == "town.missing_bundle"


def test_a_refusal_is_one_line_on_stderr_in_the_commands_language(town: Path) -> None:
    r = _run(town, [_published(town)[0], _published(town)[0]])
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("错误：")
    assert "同一个支部" in r.stderr
    r = _run(town, [_published(town)[0], _published(town)[0]], "--lang", "en")
    assert r.stderr.startswith("error: ") and "one branch" in r.stderr


def _same_but_the_pdf(r: Any, pdf: Path) -> dict[str, Any]:
    got = json.loads(r.stdout)
    assert got.pop("pdf") == str(pdf)
    return dict(got)


def test_several_gates_at_a_time_give_the_same_json_and_pdf_bytes_as_one_at_a_time(
    town: Path, tmp_path: Path
) -> None:
    one, three = tmp_path / "jobs1.pdf", tmp_path / "jobs3.pdf"
    r1 = _run(town, _published(town), "--json", "--jobs", "1", out=one)
    r3 = _run(town, _published(town), "--json", "--jobs", "3", out=three)
    assert r1.exit_code == r3.exit_code == 0, r1.output + r3.output
    assert _same_but_the_pdf(r1, one) == _same_but_the_pdf(r3, three)
    assert one.read_bytes() == three.read_bytes()  # the PDF embeds no time (invariant=1)


def test_a_tampered_branch_among_several_fails_the_same_with_several_gates_at_a_time(
    town: Path, tmp_path: Path
) -> None:
    one, two, three = _copy_published(town, tmp_path)
    log = two / "procedure" / "log.jsonl"  # branch 2's procedure log changed after publication
    log.write_bytes(log.read_bytes().replace(b'"valid_ballots":', b'"valid_ballots":1', 1))
    (three / "bundle.zip").unlink()  # branch 3's election result changed
    result = three / "bundle" / "result.json"
    result.write_bytes(
        result.read_bytes().replace(b'"publicity_end":"2026-12', b'"publicity_end":"2027-12')
    )
    folders = [str(one), str(two), str(three)]
    pdf1, pdf3 = tmp_path / "jobs1.pdf", tmp_path / "jobs3.pdf"
    r1 = _run(town, folders, "--json", "--jobs", "1", out=pdf1)
    r3 = _run(town, folders, "--json", "--jobs", "3", out=pdf3)
    assert r1.exit_code == r3.exit_code == 2, r1.output + r3.output
    got = _same_but_the_pdf(r3, pdf3)
    assert got == _same_but_the_pdf(r1, pdf1)
    b1, b2, b3 = got["branches"]
    assert b1["verified"] and b1["procedure"]["verifier_gate"] == "passed"
    assert b2["verified"] and b2["procedure"]["verifier_gate"] == "failed"
    assert b3["verified"] is False and b3["verifier_failures"]
    assert pdf1.read_bytes() == pdf3.read_bytes()


@pytest.mark.parametrize(
    "jobs",
    ["0", "-2", "two", "1.5", "", "２", "+2", " 2", "1_0"],
    ids=[
        "zero",
        "negative",
        "word",
        "fraction",
        "empty",
        "full-width",
        "plus",
        "space",
        "underscore",
    ],
)
def test_a_bad_jobs_is_refused_in_one_line_before_any_verifier(
    town: Path, tmp_path: Path, jobs: str
) -> None:
    pdf = tmp_path / "report.pdf"
    r = _run(town, _published(town), "--jobs", jobs, "--json", out=pdf)
    assert _refusal(r) == "cli.jobs"
    r = _run(town, _published(town), "--jobs", jobs, out=pdf)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("错误：--jobs")
    r = _run(town, _published(town), "--jobs", jobs, "--lang", "en", out=pdf)
    assert r.stderr.startswith("error: --jobs is a whole number of at least 1")
    assert not pdf.exists()


def test_the_progress_bar_shows_on_a_terminal_only_and_never_with_json(
    town: Path, tmp_path: Path
) -> None:
    one = _published(town)[:1]
    terminal = {"TTY_COMPATIBLE": "1"}  # rich takes stderr for a terminal
    r = CliRunner().invoke(app, _args(town, one, tmp_path), env=terminal)
    assert r.exit_code == 0, r.output
    assert "核验各支部结果包" in r.stderr
    r = CliRunner().invoke(app, [*_args(town, one, tmp_path), "--lang", "en"], env=terminal)
    assert "verifying the branches" in r.stderr
    r = CliRunner().invoke(app, [*_args(town, one, tmp_path), "--json"], env=terminal)
    assert r.exit_code == 0 and r.stderr == ""
    no_terminal = {"TTY_COMPATIBLE": None, "FORCE_COLOR": None}  # stderr's isatty() decides
    r = CliRunner().invoke(app, _args(town, one, tmp_path), env=no_terminal)
    assert r.exit_code == 0 and r.stderr == ""
