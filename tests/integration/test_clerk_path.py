"""The clerk's path (issue 13 item 3): batch files, scans, check-in of several names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli_election import PRESENT, QINGSHAN, Election

ROOT = Path(__file__).resolve().parents[2]
COMMITTEE_CSV = ROOT / "examples" / "qingshan.committee.csv"
SECRETARY_JSONL = ROOT / "examples" / "qingshan.secretary.jsonl"


@pytest.fixture
def qingshan(tmp_path: Path) -> Election:
    return Election(tmp_path, QINGSHAN)


def entries(e: Election) -> int:
    return int(e.json("status", str(e.db))["log_entries"])


def open_round(e: Election, kind: str, count: int) -> list[str]:
    texts = e.print_stock(kind, 1, count)
    e.ok("issue", str(e.db), "--key", str(e.wg))
    e.ok("return", str(e.db), "--count", str(count), "--key", str(e.wg))
    return texts


def test_example_batch_files_csv_and_jsonl_enter_with_the_scan_and_elect(
    qingshan: Election,
) -> None:
    qingshan.checkin(PRESENT)
    db = str(qingshan.db)
    open_round(qingshan, "committee", 23)
    pdf = qingshan.folder / "committee-1.pdf"
    out = qingshan.ok("enter", db, "--batch", str(COMMITTEE_CSV), "--scans", str(pdf))
    assert "本轮已录入 23 / 23 张" in out
    assert qingshan.json("close", db, "--key", str(qingshan.wg))["outcome"]["elected"] == [
        "M001",
        "M002",
        "M003",
        "M004",
        "M005",
    ]
    open_round(qingshan, "secretary", 23)
    pdf = qingshan.folder / "secretary-1.pdf"
    qingshan.ok("enter", db, "--batch", str(SECRETARY_JSONL), "--scans", str(pdf))
    assert qingshan.json("close", db, "--key", str(qingshan.wg))["outcome"]["elected"] == ["M005"]
    qingshan.finish()


def test_csv_batch_with_qr_texts_and_write_ins_is_entered(qingshan: Election) -> None:
    qingshan.checkin(PRESENT)
    texts = open_round(qingshan, "committee", 23)
    batch = qingshan.folder / "box.csv"
    rows = ["qr,marks,write_ins", f"{texts[0]},xxoooo,周玉兰", f"{texts[1]},ooooox,"]
    batch.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = qingshan.ok("enter", str(qingshan.db), "--batch", str(batch))
    assert "本轮已录入 2 / 23 张" in out


def test_scan_refusals_are_specific_in_both_languages_and_store_nothing(
    qingshan: Election,
) -> None:
    qingshan.checkin(PRESENT)
    open_round(qingshan, "committee", 23)
    db = str(qingshan.db)
    before = entries(qingshan)
    three = qingshan.folder / "three.csv"
    three.write_text(",ooooox,\n,ooooox,\n,ooooox,\n", encoding="utf-8")
    pdf = str(qingshan.folder / "committee-1.pdf")
    out = qingshan.fails("enter", db, "--batch", str(three), "--scans", pdf)
    assert "扫描件中有 23 个二维码" in out and "qr 为空的有 3 行" in out
    out = qingshan.fails("enter", db, "--batch", str(three), "--scans", pdf, "--lang", "en")
    assert "the scan holds 23 QR codes" in out
    out = qingshan.fails("enter", db, "--batch", str(three))
    assert "第 1 张选票没有二维码文字" in out
    assert "ballot 1 has no QR text" in qingshan.fails(
        "enter", db, "--batch", str(three), "--lang", "en"
    )
    assert "--scans 须与 --batch 一起使用" in qingshan.fails(
        "enter", db, "--qr", "x", "--marks", "o", "--scans", pdf
    )
    empty = qingshan.folder / "empty.csv"
    empty.write_text("qr,marks,write_ins\n", encoding="utf-8")
    assert "批量文件 empty.csv 中没有选票" in qingshan.fails("enter", db, "--batch", str(empty))
    gbk = qingshan.folder / "gbk.csv"
    gbk.write_bytes(",ooooox,周玉兰\n".encode("gbk"))
    out = qingshan.fails("enter", db, "--batch", str(gbk), "--scans", pdf)
    assert "文件不是 UTF-8 编码" in out
    assert entries(qingshan) == before


def test_checkin_of_several_names_is_all_or_none_and_says_which(qingshan: Election) -> None:
    db = str(qingshan.db)
    qingshan.ok("checkin", db, "M001")
    before = entries(qingshan)
    out = qingshan.fails("checkin", db, "M002", "nobody", "M001", "王伟", "m003")
    assert "3 人不能签到，本次全部未签到" in out
    assert "马秀英（M002）" in out and "王卫东（M003）" in out  # fine, but not checked in either
    assert "nobody：名册中没有 nobody" in out
    assert "M001：丁建国（M001） 已经签到" in out
    assert "王伟：名册中有 2 人名为 王伟" in out
    out = qingshan.fails("checkin", db, "M002", "M002", "--lang", "en")
    assert "nobody was checked in" in out and "given twice" in out
    assert entries(qingshan) == before
    out = qingshan.ok("checkin", db, "m002", "M003", "m024")
    assert "本次 3 人全部签到" in out
    assert "马秀英（M002）" in out and "王伟（M024）" in out


def test_manifest_sign_lists_every_problem_like_check_and_writes_nothing(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    bad = tmp_path / "bad.toml"
    text = QINGSHAN.read_text(encoding="utf-8")
    bad.write_text(
        text.replace("seats = 5", "seats = 0").replace('"M009", "M010"', '"M009", "M099"'),
        encoding="utf-8",
    )
    out_file = tmp_path / "m2.json"
    args = ["--town-key", str(tmp_path / "town.key"), "--work-group-pub", str(tmp_path / "wg.pub")]
    args += ["--scrutineer-pub", str(tmp_path / "s1.pub"), "--out", str(out_file)]
    out = e.fails("manifest", "sign", str(bad), *args)
    assert "posts[0].seats: 应选人数应为 1 到 15" in out
    assert "officials.scrutineers[1]: 名册中没有编号 M099" in out
    assert "选举定义有 2 个问题" in out
    data = e.json("manifest", "sign", str(bad), *args)
    assert data["ok"] is False
    assert [p["path"] for p in data["problems"]] == ["posts[0].seats", "officials.scrutineers[1]"]
    bad.write_text(text.replace("date = 2026-12-15", "date = 2026-13-45"), encoding="utf-8")
    out = e.fails("manifest", "sign", str(bad), *args)
    assert "TOML 格式错误，第 11 行第 12 列：2026-13-45 不是有效日期" in out
    assert not out_file.exists()


def test_lang_and_json_work_before_or_after_the_subcommand(qingshan: Election) -> None:
    db = str(qingshan.db)
    after = qingshan.ok("status", db, "--lang", "en")
    assert qingshan.ok("--lang", "en", "status", db) == after
    assert "E=25, P=0" in after
    data = qingshan.json("status", db)
    r = qingshan.run("--json", "status", db)
    assert r.exit_code == 0 and json.loads(r.output) == data
    out = qingshan.fails("--lang", "en", "checkin", db, "nobody", "M001")
    assert "nobody was checked in" in out
    # the subcommand's own option wins over the one before it
    assert "应到会有选举权人数" in qingshan.ok("--lang", "en", "status", db, "--lang", "zh")


def test_init_lists_every_problem_of_a_signed_manifest_and_creates_nothing(tmp_path: Path) -> None:
    import copy  # noqa: PLC0415
    import dataclasses  # noqa: PLC0415

    import keys  # noqa: PLC0415
    from tally.core.manifest import canonical  # noqa: PLC0415
    from tally.manifest_io import load_signed_manifest, sign_manifest  # noqa: PLC0415
    from tests.helpers.cli_election import PASSPHRASE  # noqa: PLC0415

    e = Election(tmp_path, QINGSHAN)
    manifest, _ = load_signed_manifest((tmp_path / "manifest.json").read_bytes())
    doc = copy.deepcopy(dict(manifest.document))
    doc["definition"]["posts"][0]["seats"] = 0
    doc["definition"]["officials"]["scrutineers"][1] = "M099"
    bad = dataclasses.replace(manifest, document=doc, canonical_bytes=canonical(doc))
    town = keys.load_signer(
        tmp_path / "town.key", PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE
    )
    signed = tmp_path / "bad-manifest.json"
    signed.write_bytes(sign_manifest(bad, town))
    out_db = tmp_path / "bad.db"
    args = ["init", str(signed), "--out", str(out_db), "--key", str(e.wg)]
    out = e.fails(*args, "--town-key", str(e.town_pub))
    assert "posts[0].seats: 应选人数应为 1 到 15" in out
    assert "officials.scrutineers[1]: 名册中没有编号 M099" in out
    assert "选举定义有 2 个问题" in out
    assert not out_db.exists()
