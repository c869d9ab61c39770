"""`tally demo`'s casework (issue 18 points 3-6; spec/procedure.md §8, §9, §12.3, §12.4, RP-13.2):
the demo town's objections and reports go through the real store; the casework bundle and the
public totals are exported; the town report takes its numbers only once `verifier casework` (V31)
passed the bundle, and they, in its JSON and read back from its PDF, equal the counts taken from
the store's own cases; a bundle that fails V31 gives the report's failing-clause line and no
number; and nothing a reporter or objector gave (name, phone, text, photo, reference) reaches the
PDF."""

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
from tally import demo
from tally.casework_bundle import read_verified_casework, verify_casework_bundle
from tally.casework_store import CaseworkStore
from tally.cli import app
from tally.core.casework import Case, CaseKind, CaseState
from tally.demo_casework import CASEWORK_DAY

DAY = CASEWORK_DAY


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("casework-town") / "town"
    r = CliRunner().invoke(app, ["demo", "--out", str(out), "--branches", "3", "--seed", "11"])
    assert r.exit_code == 0, r.output
    assert str(out / "casework" / "bundle") in r.output
    return out


def _store_entries(town: Path) -> list[dict[str, Any]]:
    store = CaseworkStore.open(town / "casework" / "town.casework")
    try:
        return [json.loads(r) for r in store.log_rows()]
    finally:
        store.close()


def _late(c: Case) -> bool:
    """Overdue as RP-9.7 says, written out here rather than taken from the code under test."""
    if c.state is CaseState.CONCLUDED:
        return False
    return c.due_conclude < DAY or (c.state is CaseState.RECEIVED and c.due_assign < DAY)


def _expected(town: Path) -> dict[str, list[int]]:
    """Per branch name, the 12 numbers of the town report's casework table, counted from the
    store's cases and reporters."""
    store = CaseworkStore.open(town / "casework" / "town.casework")
    try:
        ledger = store.ledger
    finally:
        store.close()
    out: dict[str, list[int]] = {}
    for b in ledger.casework.branches:
        cases = [c for c in ledger.cases.values() if c.branch == b.code]
        row: list[int] = []
        for kind in (CaseKind.OBJECTION, CaseKind.REPORT):
            mine = [c for c in cases if c.kind is kind]
            done = sum(c.state is CaseState.CONCLUDED for c in mine)
            row += [len(mine), done, len(mine) - done, sum(_late(c) for c in mine)]
            row.append(
                sum(c.timing == "after" for c in mine)
                if kind is CaseKind.OBJECTION
                else sum(not c.own_branch for c in mine)
            )
        active = [r for r in ledger.reporters.values() if r.active and r.branch == b.code]
        row.append(len(active))
        row.append(sum(not any(r.group == g for r in active) for g, _ in b.groups))
        out[b.name] = row
    return out


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def _pdf_row(text: str, first: str) -> list[int]:
    lines = text.splitlines()
    i = lines.index(first, text[: text.index("各支部异议和民情直报情况")].count("\n"))
    return [int(x) for x in lines[i + 1 : i + 13]]


def test_demo_exports_the_casework_bundle_and_the_public_totals(town: Path) -> None:
    bundle = town / "casework" / "bundle"
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {"index.json", "casework.json", "log.jsonl", "checkpoints.json"} <= names
    entries = _store_entries(town)
    assert (bundle / "log.jsonl").read_bytes().splitlines() == [
        json.dumps(e, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        for e in entries
    ]
    photos = [p for e in entries if e["type"] == "report.received" for p in e["body"]["photos"]]
    assert len(photos) == 1 and f"photos/{photos[0]['sha256']}.png" in names
    # The bundle passes V31 against the town key the demo wrote, and reads back whole.
    ledger, verification = read_verified_casework(bundle, town / "casework" / "town.pub")
    assert verification.passed and verification.failures == ()
    assert ledger is not None and ledger.size == len(entries)
    # A day's checkpoint for each day with entries (RP-11.4), after the opening one.
    cps = json.loads((bundle / "checkpoints.json").read_bytes())["checkpoints"]
    days = sorted({e["at"][:10] for e in entries})
    # Then the town's appointments (RP-10), each over the casework it saw; branch 1's waits on
    # its open objection (tally.demo_procedure).
    appointed = ["appointment B02", "appointment B03"]
    assert [c["text"].split("\n")[3] for c in cps] == [
        "opened",
        *(f"day {d}" for d in days),
        *appointed,
    ]
    public = json.loads((town / "casework" / "public" / "casework-public.json").read_bytes())
    reports = [e for e in entries if e["type"] == "report.received"]
    assert public["format"] == "casework-public/1"
    assert public["reports"]["received"] == len(reports)
    assert "branch" not in json.dumps(public)  # town totals only (RP-12.4)


def test_demo_casework_covers_every_step_and_channel(town: Path) -> None:
    entries = _store_entries(town)
    types = {e["type"] for e in entries}
    assert {
        "reporter.registered",
        "report.received",
        "report.assigned",
        "report.checked",
        "report.concluded",
        "objection.received",
        "objection.assigned",
        "objection.concluded",
    } <= types
    received = [e for e in entries if e["type"] == "objection.received"]
    assert {e["body"]["channel"] for e in received} == {"in_person", "form"}
    assert {e["actor"] for e in received if e["body"]["channel"] == "form"} == {"public"}
    assert any(e["body"]["own_branch"] == "no" for e in entries if e["type"] == "report.received")
    findings = {e["body"]["finding"] for e in entries if e["type"].endswith(".concluded")}
    assert len(findings) == 5  # every finding of RP-8.5 at least once
    # A reporter for every village group of every branch (RP-9.1).
    store = CaseworkStore.open(town / "casework" / "town.casework")
    try:
        ledger = store.ledger
    finally:
        store.close()
    groups = {(b.code, g) for b in ledger.casework.branches for g, _ in b.groups}
    assert {(r.branch, r.group) for r in ledger.reporters.values()} == groups


def test_town_report_numbers_equal_the_stores_counts_rp_13_2(town: Path) -> None:
    expected = _expected(town)
    assert sum(row[0] for row in expected.values()) >= 4  # objections
    assert sum(row[5] for row in expected.values()) >= 4  # reports
    assert any(row[2] for row in expected.values()) and any(row[3] for row in expected.values())
    report = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    assert report["casework_verification"] == {"clause": "V31", "status": "passed", "failures": []}
    cases = report["casework"]
    assert (cases["format"], cases["on"]) == ("town-casework/1", DAY.isoformat())
    for b in cases["branches"]:
        o, r = b["objections"], b["reports"]
        assert [
            o["received"],
            o["concluded"],
            o["open"],
            o["overdue"],
            o["after_publicity"],
            r["received"],
            r["concluded"],
            r["open"],
            r["overdue"],
            r["from_other_branches"],
            sum(g["reporters"] for g in b["groups"]),
            len(b["groups_without_reporter"]),
        ] == expected[b["name"]]
    text = _pdf_text(town / "town-report.pdf")
    for name, row in expected.items():
        assert _pdf_row(text, name) == row, name
    total = [sum(col) for col in zip(*expected.values(), strict=True)]
    assert _pdf_row(text, "全镇合计") == total


def test_town_report_pdf_holds_no_identity_text_or_reference_rp_12_2(town: Path) -> None:
    text = _pdf_text(town / "town-report.pdf")
    secrets: set[str] = set()
    for e in _store_entries(town):
        b = e["body"]
        if e["type"] == "reporter.registered":
            secrets |= {b["name"], b["phone"], b["reporter"]}
        elif e["type"] == "objection.received":
            secrets |= {b["what"], b["reference"], *b["objector"].values()}
        elif e["type"] == "report.received":
            secrets |= {b["what"], b["where"], b["reference"], b["reporter"]}
            secrets |= {p["sha256"] for p in b["photos"]}
        elif e["type"] in ("objection.concluded", "report.concluded"):
            secrets |= {b["summary"]}
        elif e["type"] == "report.checked":
            secrets.add(b["note"])
    secrets.discard("")
    assert len(secrets) > 20
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, leaked
    assert "YY-20" not in text and "MQ-20" not in text


def _summaries(town: Path) -> list[demo.BranchSummary]:
    report = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    return [
        demo.BranchSummary(
            name=b["branch"],
            expected=b["expected"],
            present=b["present"],
            quorum_minimum=0,
            scenario=b["scenario"],
            elected=b["elected"],
            rounds=b["rounds"],
            verified=b["verified"],
        )
        for b in report["branches"]
    ]


def test_town_report_in_english_with_the_switch(town: Path, tmp_path: Path) -> None:
    copy = tmp_path / "town"
    shutil.copytree(town, copy)
    _, pdf = demo.town_report(copy, _summaries(town), lang="en")
    text = _pdf_text(pdf)
    assert "Objections and reports per branch (town committee only)" in text
    assert "Town figures (the town plan's targets)" in text
    assert "secretary: " in text and "round 1" in text
    assert "Town total" in text and "全镇合计" not in text and "公示至" not in text


def _rehash(bundle: Path, name: str) -> None:
    """Tampering after export: the index rewritten to match the changed file."""
    index = json.loads((bundle / "index.json").read_bytes())
    for f in index["files"]:
        if f["path"] == name:
            f["sha256"] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
            f["size"] = (bundle / name).stat().st_size
    (bundle / "index.json").write_text(json.dumps(index), encoding="utf-8")


def test_a_tampered_casework_bundle_gives_the_failing_clause_line_not_numbers_rp_13_2(
    town: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "town"
    shutil.copytree(town, copy)
    log = copy / "casework" / "bundle" / "log.jsonl"
    log.write_bytes(log.read_bytes().replace("不属实".encode(), "属实了".encode(), 1))
    _rehash(copy / "casework" / "bundle", "log.jsonl")  # the next entry no longer chains to it
    json_path, pdf = demo.town_report(copy, _summaries(town))
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["casework"] is None  # no number from a bundle that failed V31
    verification = report["casework_verification"]
    assert (verification["clause"], verification["status"]) == ("V31", "failed")
    assert "entry.prev" in {f["code"] for f in verification["failures"]}
    text = _pdf_text(pdf)
    assert "事项登记簿导出包未通过核验（V31：" in text and "entry.prev" in text
    assert "不显示任何事项数字" in text
    assert "全镇合计" not in text and "异议收到" not in text  # no table, no total
    for name in _expected(town):
        assert name not in text.split("各支部异议和民情直报情况")[1], name


def test_a_casework_bundle_of_another_town_or_with_an_extra_file_fails_v31(
    town: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(town / "casework" / "bundle", bundle)
    other = tmp_path / "other.pub"
    other.write_bytes(
        keys.export_public_key(
            keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "别的镇党委").public_key
        )
    )
    ledger, verification = read_verified_casework(bundle, other)
    assert ledger is None and "casework.other_town" in verification.codes()
    (bundle / "extra.txt").write_text("x", encoding="utf-8")
    found = verify_casework_bundle(bundle, town / "casework" / "town.pub")
    assert not found.passed and "cbundle.extra_file" in found.codes()


def test_a_checkpoint_not_over_the_bundles_log_fails_v31_rp_11_4(
    town: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(town / "casework" / "bundle", bundle)
    path = bundle / "checkpoints.json"
    doc = json.loads(path.read_bytes())
    lines = doc["checkpoints"][-1]["text"].split("\n")
    lines[3] = "day 2026-12-31"  # a reason the casework key never signed
    doc["checkpoints"][-1]["text"] = "\n".join(lines)
    path.write_text(json.dumps(doc), encoding="utf-8")
    _rehash(bundle, "checkpoints.json")
    found = verify_casework_bundle(bundle, town / "casework" / "town.pub")
    assert not found.passed
    assert any(code.startswith("checkpoint.") for code in found.codes()), found.codes()
