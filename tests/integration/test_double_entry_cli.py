"""Double entry through the CLI (spec/log.md §2.3): ``tally enter --batch A --second B``.

Two tellers' files count only when every ballot is entered alike by the one rule of
``tally.core.double_entry``: the marks, and the write-ins as a multiset of (name as the count reads
it, mark), in row order when ``write_in_requires_disapproval`` numbers the rows (R9.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli_election import PRESENT, QINGSHAN, Election


def _election(folder: Path, *, numbered: bool) -> tuple[Election, list[str]]:
    definition = QINGSHAN
    if numbered:
        definition = folder / "numbered.toml"
        text = QINGSHAN.read_text(encoding="utf-8")
        definition.write_text(
            text.replace("[parameters]\n", "[parameters]\nwrite_in_requires_disapproval = true\n"),
            encoding="utf-8",
        )
    e = Election(folder, definition)
    e.checkin(PRESENT)
    texts = e.print_stock("committee", 1, 25)
    e.ok("issue", str(e.db), "--key", str(e.wg))
    e.ok("return", str(e.db), "--count", "23", "--key", str(e.wg))
    return e, texts


def _batch(e: Election, name: str, rows: list[tuple[str, str, list[str]]]) -> str:
    path = e.folder / name
    path.write_text(
        "\n".join(
            json.dumps({"qr": q, "marks": m, "write_ins": w}, ensure_ascii=False)
            for q, m, w in rows
        ),
        encoding="utf-8",
    )
    return str(path)


def _entered(e: Election) -> int:
    return int(e.json("status", str(e.db))["round"]["entered"])


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Election, list[str]]:
    """One election for the module (a refused entry stores nothing; each test its own ballot)."""
    return _election(tmp_path_factory.mktemp("plain"), numbered=False)


def test_second_entry_agrees_when_write_ins_are_typed_in_another_order_or_spelling_log_2_3(
    plain: tuple[Election, list[str]],
) -> None:
    e, qr = plain
    db = str(e.db)
    # Rows in another order; 林 typed as the CJK compatibility ideograph U+F9F4 and with a space,
    # which the count reads as the roster's 林春生 (R9: trimmed, NFC).
    before = _entered(e)
    first = _batch(e, "a.jsonl", [(qr[0], "ooo---", ["林春生", "罗小芳:-"])])
    second = _batch(e, "b.jsonl", [(qr[0], "ooo---", ["罗小芳:-", " \uf9f4春生"])])
    e.ok("enter", db, "--batch", first, "--second", second)
    assert _entered(e) == before + 1


@pytest.mark.parametrize(
    "second_write_ins",
    [["林春生"], ["林春生", "罗小芳:-", "周玉兰"], ["林春生", "罗小芳"], ["林春生", "罗小"]],
    ids=["missing", "extra", "mark-changed", "name-changed"],
)
def test_second_entry_whose_write_ins_differ_enters_nothing_log_2_3(
    plain: tuple[Election, list[str]], second_write_ins: list[str]
) -> None:
    e, qr = plain
    db = str(e.db)
    before = _entered(e)
    first = _batch(e, "a.jsonl", [(qr[1], "oo----", ["林春生", "罗小芳:-"])])
    second = _batch(e, "b.jsonl", [(qr[1], "oo----", second_write_ins)])
    out = e.fails("enter", db, "--batch", first, "--second", second)
    assert "两名计票人的录入不一致" in out and "（另选人）" in out
    assert "林春生" not in out  # the message names the field, never the ballot's content
    assert _entered(e) == before


def test_second_entry_with_write_in_rows_reordered_enters_nothing_when_rows_are_numbered_R9_1(
    tmp_path: Path,
) -> None:
    e, qr = _election(tmp_path, numbered=True)
    db = str(e.db)
    # One x: only write-in 1 may give a vote, so the order decides who gets it.
    first = _batch(e, "a.jsonl", [(qr[0], "ooox--", ["林春生", "罗小芳"])])
    second = _batch(e, "b.jsonl", [(qr[0], "ooox--", ["罗小芳", "林春生"])])
    assert "（另选人）" in e.fails("enter", db, "--batch", first, "--second", second)
    assert _entered(e) == 0
    e.ok("enter", db, "--batch", first, "--second", first)
    assert _entered(e) == 1


def test_a_single_ballot_with_second_is_compared_not_ignored_log_2_3(
    plain: tuple[Election, list[str]],
) -> None:
    """``--qr … --marks … --second FILE``: the file holds the second teller's entry of that one
    ballot (it used to be read and ignored)."""
    e, qr = plain
    db = str(e.db)
    before = _entered(e)
    differs = _batch(e, "one-b.jsonl", [(qr[5], "oo-x--", [])])
    out = e.fails("enter", db, "--qr", qr[5], "--marks", "oo----", "--second", differs)
    assert "两名计票人的录入不一致" in out
    assert _entered(e) == before
    agrees = _batch(e, "one-c.jsonl", [(qr[5], "oo----", [])])
    e.ok("enter", db, "--qr", qr[5], "--marks", "oo----", "--second", agrees)
    assert _entered(e) == before + 1


def test_when_the_logged_mode_is_on_the_cli_refuses_a_single_entry_log_2_3(
    tmp_path: Path,
) -> None:
    """The station's logged ``double_entry.set`` binds ``tally enter`` too: without ``--second``
    nothing is stored; with an agreeing second entry the ballot is entered."""
    from tally.election import ElectionSession  # noqa: PLC0415

    e, qr = _election(tmp_path, numbered=False)
    db = str(e.db)
    s = ElectionSession.open(e.db)
    s.set_double_entry(True, actor="组长")
    s.store.close()
    out = e.fails("enter", db, "--qr", qr[0], "--marks", "ooo---")
    assert "已开启双人录入" in out
    out = e.fails("enter", db, "--batch", _batch(e, "a.jsonl", [(qr[0], "ooo---", [])]))
    assert "已开启双人录入" in out
    assert _entered(e) == 0
    second = _batch(e, "b.jsonl", [(qr[0], "ooo---", [])])
    e.ok("enter", db, "--qr", qr[0], "--marks", "ooo---", "--second", second)
    assert _entered(e) == 1
