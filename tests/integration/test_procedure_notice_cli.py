"""``tally procedure notice`` (spec/procedure.md RP-12.4): the public notice of a procedure file,
a PDF in Chinese (``--lang en`` for English), with the ``procedure-public/1`` it shows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from tally.cli import app
from tally.core.model import PostKind
from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import count_body
from tests.helpers.procedure_log import StoreDriver, marks


def _session(tmp_path: Path) -> Path:
    """A procedure file with the members' committee round entered and counted (one ballot
    with a written name that is nobody on the roster)."""
    db = tmp_path / "qingshan.procedure.sqlite"
    d = StoreDriver(db)
    d.stock(Form.MEMBER, "committee", 1, 20)
    d.stock(Form.MEMBER, "secretary", 1, 20)
    present = list(d.procedure.expected_electors[:20])
    posts = ["committee", "secretary"]
    d.append(
        "recommendation.opened",
        {"group": "member", "round": 1, "posts": posts, "present": 20, "present_members": present},
    )
    for type_, n in (("ballots.issued", 20), ("ballots.returned", 2)):
        d.append(type_, {"form": "member", "post": "committee", "round": 1, "count": n})
    order = d.procedure.ballot_order
    for i, (chosen, written) in enumerate(
        [(order[:5], []), (order[:4], [{"name": "钱多多", "member": ""}])]
    ):
        ballot_id, qr = d.ballot(Form.MEMBER, "committee", 1, i)
        d.append(
            "recommendation.entered",
            {
                "group": "member",
                "post": "committee",
                "round": 1,
                "ballot_id": ballot_id,
                "qr": qr,
                "marks": marks(d.procedure, chosen),
                "written": written,
            },
        )
    body = count_body(d.store.ledger, Form.MEMBER, PostKind.COMMITTEE)
    d.append("recommendation.counted", body)
    d.store.close()
    return db


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True)
    return "".join(out.stdout.decode().split())


def test_notice_prints_the_public_view_of_the_file(tmp_path: Path) -> None:
    db = _session(tmp_path)
    pdf = tmp_path / "notice.pdf"
    r = CliRunner().invoke(app, ["procedure", "notice", str(db), "--out", str(pdf), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)["public"]
    assert doc["format"] == "procedure-public/1"
    assert doc["sessions"][0] == {
        "form": "member",
        "post": "committee",
        "round": 1,
        "status": "counted",
        "issued": 20,
        "returned": 2,
        "valid": 2,
        "invalid": 0,
    }
    text = _pdf_text(pdf)
    assert "党员推荐（支部委员会委员）第1轮：发出20张，收回2张，有效2张，无效0张。" in text
    assert "党员推荐（书记）第1轮：正在进行。" in text
    assert "钱多多" not in text and "钱多多" not in r.stdout


def test_notice_in_english_by_the_switch(tmp_path: Path) -> None:
    db = _session(tmp_path)
    pdf = tmp_path / "notice-en.pdf"
    r = CliRunner().invoke(app, ["procedure", "notice", str(db), "--out", str(pdf), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "public notice written" in r.stdout
    assert "round1:20issued,2returned,2valid,0invalid." in _pdf_text(pdf)


def test_notice_of_a_missing_file_is_refused(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app,
        [
            "procedure",
            "notice",
            str(tmp_path / "none.sqlite"),
            "--out",
            str(tmp_path / "n.pdf"),
            "--json",
        ],
    )
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"].startswith("store.")
    assert not (tmp_path / "n.pdf").exists()
