"""A supplementary print (spec/ballot-qr.md §4.4): a round whose stock is too small gets more
ballots for the same round, committed with its own checkpoint and checked by the verifier (V8)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tally.store import ElectionStore
from tests.helpers.cli_election import PRESENT, QINGSHAN, Election, qr_texts
from tests.unit.verifier import builder as B
from verifier.cli import app as verifier_app

COMMITTEE = [
    *["ooooox"] * 8,
    *["oxoooo"] * 4,
    *["ooxoox"] * 5,
    *["-oooo-"] * 2,
    "xxoooo",
    "oooooo",
    "ooo?ox",
    "------",
]


def entries(e: Election) -> int:
    return int(e.json("status", str(e.db))["log_entries"])


def print_args(e: Election, count: int, out: Path, *extra: str) -> list[str]:
    return [
        *("print", str(e.db), "--kind", "committee", "--count", str(count)),
        *("--out", str(out), "--key", str(e.wg), *extra),
    ]


def test_short_stock_warns_then_supplement_lets_the_round_issue_and_verify(
    tmp_path: Path,
) -> None:
    e = Election(tmp_path, QINGSHAN)
    db = str(e.db)
    e.checkin(PRESENT)
    first = tmp_path / "c1.pdf"
    out = e.ok(*print_args(e, 20, first))
    assert "注意：本轮选票共 20 张，少于已签到的 23 人；发票前请用 --supplement 补印" in out
    before = entries(e)
    out = e.fails("issue", db, "--key", str(e.wg))
    assert "本轮登记的选票只有 20 张，少于要发出的 23 张" in out
    assert "tally print --supplement" in out
    assert entries(e) == before
    second = tmp_path / "c2.pdf"
    out = e.ok(*print_args(e, 3, second, "--supplement", "--stock-list", str(tmp_path / "s2.json")))
    assert "已补印委员选票 3 张（第 1 轮，共 23 张）" in out and "注意" not in out
    reasons = [c.reason for c in ElectionStore.open(e.db).checkpoints()]
    assert "stock-supplement committee 1 2" in reasons
    e.ok("issue", db, "--key", str(e.wg))
    e.ok("return", db, "--count", "23", "--key", str(e.wg))
    texts = qr_texts(first) + qr_texts(second)
    batch = tmp_path / "box.jsonl"
    batch.write_text(
        "".join(
            json.dumps({"qr": q, "marks": m}) + "\n" for q, m in zip(texts, COMMITTEE, strict=True)
        ),
        encoding="utf-8",
    )
    e.ok("enter", db, "--batch", str(batch))
    assert e.json("close", db, "--key", str(e.wg))["outcome"]["elected"] == [
        "M001",
        "M002",
        "M003",
        "M004",
        "M005",
    ]
    e.cosign()
    e.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 6, "oo", "--"])
    published = e.finish()  # the verifier passes the bundle and its zip
    bundle = published / "bundle"
    part2 = json.loads((bundle / "stocks" / "committee-1-2.json").read_text())
    assert part2["count"] == 3 and part2["round"] == 1

    # The verifier checks the supplementary part like any stock (V8): a changed list fails.
    files = {
        str(p.relative_to(bundle)): p.read_bytes()
        for p in bundle.rglob("*")
        if p.is_file() and p.name != "index.json"
    }
    part2["ballot_ids"] = part2["ballot_ids"][:2]
    files["stocks/committee-1-2.json"] = B.jcs(part2)
    tampered = B.write_folder(files, tmp_path / "tampered")
    r = CliRunner().invoke(
        verifier_app,
        ["verify", str(tampered), "--town-key", str(e.town_pub), "--json", "--jobs", "1"],
    )
    assert r.exit_code != 0
    report = json.loads(r.output)
    failed = {c["clause"] for c in report["clauses"] if c["status"] == "failed"}
    assert "V8" in failed, failed


def test_supplement_refusals_say_why_in_both_languages_and_store_nothing(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    db = str(e.db)
    pdf = tmp_path / "more.pdf"
    before = entries(e)
    out = e.fails(*print_args(e, 3, pdf, "--supplement"))
    assert "委员选举第 1 轮还没有打印登记选票，请先正常打印（不加 --supplement）" in out
    out = e.fails(*print_args(e, 3, pdf, "--supplement", "--lang", "en"))
    assert "has no stock yet: print it first (without --supplement)" in out
    assert entries(e) == before and not pdf.exists()

    e.checkin(PRESENT)
    e.ok(*print_args(e, 25, tmp_path / "c1.pdf"))
    before = entries(e)
    out = e.fails(*print_args(e, 3, pdf))
    assert "已经打印登记过；选票不够时用 --supplement 补印" in out
    assert "print more with --supplement" in e.fails(*print_args(e, 3, pdf, "--lang", "en"))
    e.ok("issue", db, "--key", str(e.wg))
    before = entries(e)
    out = e.fails(*print_args(e, 3, pdf, "--supplement"))
    assert "委员选举第 1 轮的选票已经发出，不能再补印" in out
    assert "ballots are already issued" in e.fails(
        *print_args(e, 3, pdf, "--supplement", "--lang", "en")
    )
    assert entries(e) == before and not pdf.exists()
    stored = ElectionStore.open(e.db)
    assert len(list(stored.iter_stock_supplements())) == 0
