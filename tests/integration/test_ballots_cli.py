"""Keys, manifest and ballot stock through the CLI: every bad input is one clear error and
leaves nothing behind (issue: keys and QR-coded paper ballots)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

import keys
from tally.cli import app
from tests.helpers.cli_election import ENV, QINGSHAN, Election, make_key


@pytest.fixture
def election(tmp_path: Path) -> Election:
    return Election(tmp_path, QINGSHAN)


def test_printed_stock_reads_back_and_verifies_through_ballot_read(election: Election) -> None:
    texts = election.print_stock("committee", 1, 3)
    out = json.loads(
        election.run(
            "ballot",
            "read",
            str(election.folder / "committee-1.pdf"),
            "--election",
            str(election.db),
            "--json",
        ).output
    )
    assert [b["qr"] for b in out["ballots"]] == texts
    assert all(b["verified"] for b in out["ballots"])


def test_altered_manifest_cannot_start_an_election(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    doc["manifest"]["definition"]["posts"][0]["seats"] = 4
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = e.fails(
        "init",
        str(altered),
        "--out",
        str(tmp_path / "x.db"),
        "--key",
        str(e.wg),
        "--town-key",
        str(e.town_pub),
    )
    assert "签名无效" in out
    assert not (tmp_path / "x.db").exists()
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(doc["manifest"], ensure_ascii=False), encoding="utf-8")
    out = e.fails(
        "init",
        str(unsigned),
        "--out",
        str(tmp_path / "y.db"),
        "--key",
        str(e.wg),
        "--town-key",
        str(e.town_pub),
    )
    assert "经镇党委签署" in out


def test_manifest_signed_by_another_town_key_is_refused(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    _, other_pub = make_key(tmp_path, keys.Role.TOWN_COMMITTEE, "别的镇", "other-town")
    out = e.fails(
        "init",
        str(tmp_path / "manifest.json"),
        "--out",
        str(tmp_path / "z.db"),
        "--key",
        str(e.wg),
        "--town-key",
        str(other_pub),
    )
    assert "公钥指纹不符" in out
    fp = keys.fingerprint(keys.parse_public_key(e.town_pub.read_bytes()))
    e.ok(
        "init",
        str(tmp_path / "manifest.json"),
        "--out",
        str(tmp_path / "w.db"),
        "--key",
        str(e.wg),
        "--town-key",
        fp,
    )


def test_wrong_passphrase_wrong_role_and_corrupt_key_are_refused(election: Election) -> None:
    db = str(election.db)
    pdf = election.folder / "c.pdf"
    base = ["print", db, "--kind", "committee", "--count", "5", "--out", str(pdf)]
    wrong = CliRunner(env={**ENV, "TALLY_PASSPHRASE": "not the passphrase"})
    r = wrong.invoke(app, [*base, "--key", str(election.wg)])
    assert r.exit_code == 1 and "口令" in r.output
    r = election.run(*base, "--key", str(election.scrutineers[0]))
    assert r.exit_code == 1 and "角色" in r.output
    corrupt = election.folder / "corrupt.key"
    corrupt.write_bytes(election.wg.read_bytes()[:40])
    r = election.run(*base, "--key", str(corrupt))
    assert r.exit_code == 1
    other_wg, _ = make_key(election.folder, keys.Role.WORK_GROUP, "别的工作组", "other")
    r = election.run(*base, "--key", str(other_wg))
    assert r.exit_code == 1 and "不是本次选举清单中的工作组密钥" in r.output
    assert not pdf.exists()


@pytest.mark.parametrize("count", ["0", "-3", "5001"], ids=["zero", "negative", "absurd"])
def test_bad_stock_size_is_refused_and_leaves_no_pdf(election: Election, count: str) -> None:
    pdf = election.folder / "c.pdf"
    r = election.run(
        "print",
        str(election.db),
        "--kind",
        "committee",
        "--count",
        count,
        "--out",
        str(pdf),
        "--key",
        str(election.wg),
    )
    assert r.exit_code != 0
    assert not pdf.exists()
    assert "round" not in election.json("status", str(election.db))


def test_unreadable_and_qr_less_images_are_clear_errors(election: Election) -> None:
    blank = election.folder / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    assert "二维码" in election.fails("ballot", "read", str(blank))
    junk = election.folder / "junk.png"
    junk.write_bytes(b"not an image at all")
    assert election.fails("ballot", "read", str(junk))


def test_ballot_of_another_election_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = Election(tmp_path / "a", QINGSHAN)
    b = Election(tmp_path / "b", QINGSHAN)
    a.print_stock("committee", 1, 2)
    out = a.fails("ballot", "read", str(a.folder / "committee-1.pdf"), "--election", str(b.db))
    assert "不属于本次选举" in out
