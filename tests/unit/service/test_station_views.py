"""The station's page data (``tally.service.station.views``) straight from an election session:
no app, no request, no file system.

Each view is a function of the session and of what the routes pass in (the official's name, the
pending first entries, the key labels, which files exist); these tests hold what a page may show
to whom, before the HTTP tests of tests/integration/test_station_api.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import MemberId
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.service.station import views

ROOT = Path(__file__).resolve().parents[3]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@pytest.fixture
def wg() -> keys.InMemorySigner:
    return keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")


@pytest.fixture
def session(tmp_path: Path, wg: keys.InMemorySigner) -> Iterator[ElectionSession]:
    """青山村 (examples/qingshan.toml): nobody checked in yet."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    scrutineer = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(
        election, work_group_key=_pub(wg), scrutineer_keys=(_pub(scrutineer),)
    )
    s = ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg)
    yield s
    s.store.close()


def _stock(s: ElectionSession, wg: keys.InMemorySigner, count: int = 25) -> list[str]:
    s.check_in(PRESENT, actor="clerk")
    made = ballot_printer.make_stock(
        election_id=s.manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=count,
        signer=wg,
    )
    s.commit_stock(made, signer=wg)
    return [ballot_printer.encode_qr_text(p) for p in made.payloads]


def _open(s: ElectionSession, wg: keys.InMemorySigner) -> list[str]:
    """23 present, a committee stock of 25, 23 issued and 23 returned."""
    qr = _stock(s, wg)
    s.issue(count=None, signer=wg)
    s.return_ballots(len(PRESENT), signer=wg)
    return qr


# -- what a page must not show ---------------------------------------------------------------------
def test_the_count_page_offers_the_withdrawal_only_to_the_teller_who_entered_the_last_ballot(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    qr = _open(session, wg)
    session.enter([EntryInput(qr=qr[0], marks="ooooox")], actor="teller")
    assert views.count(session, "teller2", [], [])["mine"] is None
    assert views.count(session, "chair", [], [])["mine"] is None
    mine = views.count(session, "teller", [], [])["mine"]
    code = ballot_printer.ballot_code(bytes.fromhex(mine["ballot_id"]))
    assert mine["code"] == code


def test_both_tellers_of_a_double_entry_may_withdraw_it(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    qr = _open(session, wg)
    session.enter([EntryInput(qr=qr[0], marks="ooooox")], actor="teller+teller2")
    assert views.count(session, "teller", [], [])["mine"] is not None
    assert views.count(session, "teller2", [], [])["mine"] is not None
    assert views.count(session, "teller+teller2", [], [])["mine"] is None


def test_the_count_page_has_no_grid_before_the_ballots_are_returned(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    _stock(session, wg)
    session.issue(count=None, signer=wg)
    ctx = views.count(session, "teller", [], ["张监票"])
    assert ctx["ready"] is False
    assert "candidates" not in ctx
    assert "scrutineer_keys" not in ctx


def test_downloads_list_no_stock_whose_file_is_missing(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    _stock(session, wg)
    assert views.downloads(session, "zh", lambda _name: False, published=False)["stocks"] == []
    shown = views.downloads(session, "zh", {"committee-1.pdf"}.__contains__, published=False)
    assert [s["name"] for s in shown["stocks"]] == ["committee-1.pdf"]
    assert "（25 张）" in shown["stocks"][0]["label"]
    assert shown["published"] is False


def test_check_in_search_matches_a_name_or_the_start_of_an_id_only(
    session: ElectionSession,
) -> None:
    assert views.checkin(session, "nobody-by-this-name")["rows"] == []
    assert views.checkin(session, "001")["rows"] == []  # an id matches from its start only
    rows = views.checkin(session, "m00")["rows"]
    assert [r["id"] for r in rows] == [f"M00{i}" for i in range(1, 10)]
    assert {r["remote"] for r in views.checkin(session, "M020")["rows"]} == {True}
    assert {r["remote"] for r in rows} == {False}


# -- the round and its next step -------------------------------------------------------------------
def test_the_next_step_goes_print_issue_return_enter_close(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    assert views.round_view(session, "zh")["step"] == "print"
    qr = _stock(session, wg)
    assert views.round_view(session, "zh")["step"] == "issue"
    session.issue(count=None, signer=wg)
    assert views.round_view(session, "zh")["step"] == "return"
    session.return_ballots(2, signer=wg)
    assert views.round_view(session, "zh")["step"] == "enter"
    session.enter([EntryInput(qr=q, marks="ooooox") for q in qr[:2]], actor="teller")
    rv = views.round_view(session, "en")
    assert (rv["step"], rv["issued"], rv["returned"], rv["entered"]) == ("close", 23, 2, 2)


def test_the_quorum_view_counts_those_present_against_the_electors(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    before = views.quorum_view(session, "zh")
    assert (before["present"], before["valid"]) == (0, False)
    _stock(session, wg)
    after = views.quorum_view(session, "en")
    assert (after["present"], after["expected"], after["valid"]) == (23, 25, True)


def test_the_running_tally_shows_the_open_rounds_approvals_live(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    qr = _open(session, wg)
    assert views.running_tally(session, "zh")["chart"]["entered"] == 0
    session.enter(
        [EntryInput(qr=qr[0], marks="oooooo"), EntryInput(qr=qr[1], marks="ooooox")],
        actor="teller",
    )
    chart = views.running_tally(session, "zh")["chart"]
    assert chart["live"] is True
    assert (chart["entered"], chart["valid"], chart["invalid"]) == (2, 1, 1)  # 6 of 5: invalid
    assert [r["votes"] for r in chart["rows"]] == [1, 1, 1, 1, 1, 0]


# -- the pieces of a page --------------------------------------------------------------------------
def test_the_threshold_line_stays_on_the_track_and_states_follow_the_outcome(
    session: ElectionSession,
) -> None:
    ids = [MemberId(f"M00{i}") for i in range(1, 5)]
    ctx = views.chart(
        session,
        "zh",
        title="t",
        approvals=list(zip(ids, (20, 13, 13, 2), strict=True)),
        minimum=13,
        base=25,
        live=False,
        entered=23,
        returned=23,
        valid=23,
        invalid=0,
        elected=(ids[0],),
        tied=(ids[1], ids[2]),
    )["chart"]
    assert [r["state"] for r in ctx["rows"]] == ["elected", "tied", "tied", ""]
    assert [r["mark"] for r in ctx["rows"]] == ["当选", "票数相等", "票数相等", ""]
    assert ctx["label_w"] < ctx["line_x"] <= ctx["label_w"] + ctx["bar_w"]
    assert all(r["w"] <= ctx["bar_w"] for r in ctx["rows"])


def test_a_count_above_the_base_widens_the_scale_not_the_bars(session: ElectionSession) -> None:
    ctx = views.chart(
        session,
        "en",
        title="t",
        approvals=[(MemberId("M001"), 40)],
        minimum=None,
        base=25,
        live=True,
        entered=40,
        returned=40,
        valid=40,
        invalid=0,
        elected=(),
        tied=(),
    )["chart"]
    assert ctx["line_x"] is None
    assert ctx["rows"][0]["w"] == ctx["bar_w"]


def test_a_double_entry_mismatch_marks_each_row_that_differs(
    session: ElectionSession, wg: keys.InMemorySigner
) -> None:
    qr = _open(session, wg)
    assert session.meeting.current is not None
    spec = session.meeting.current.spec
    first = views.Pending("teller", EntryInput(qr=qr[0], marks="ooooox", write_ins=("王五",)), "C")
    second = EntryInput(qr=qr[0], marks="oooox-", write_ins=("王五", "赵六"))
    view = views.mismatch(session, spec, first, second, "teller2")
    assert (view["code"], view["first"], view["second"]) == ("C", "teller", "teller2")
    assert [r["differs"] for r in view["rows"]] == [False] * 4 + [True, True, False, True]
    assert (view["rows"][4]["a"], view["rows"][4]["b"]) == ("○", "×")
    assert view["rows"][-1] == {"name": "另选 2", "a": "", "b": "赵六", "differs": True}


def test_messages_are_chinese_unless_english_is_asked_for() -> None:
    assert views.msg("zh", "中", "en") == "中"
    assert views.msg("en", "中", "en") == "en"
