"""The decisions recorded during the meeting, in chromium: a ballot entered as invalid with a
scrutineer's passphrase (RULES A12.7, R8.5), the officials of later rounds (R25) and the ballots of
a direct election issued together and returned per kind (R22.2).

Each page is read in Chinese and, through its language switch, in English, measured at phone
width (390 px: no horizontal scrolling) and photographed into a temporary folder.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.meeting import parse_entry
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.elections import definition_text
from tests.helpers.http_session import serve

from .conftest import CHROMIUM

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = (("chair", Role.CHAIR), ("teller", Role.TELLER), ("clerk", Role.CLERK))
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25
PASSPHRASE = "s1-passphrase"
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@dataclass
class Live:
    base: str
    app: Any
    wg: keys.InMemorySigner
    shots: Path
    qr: list[str] = field(default_factory=list)

    def on_thread(self, fn: Callable[[ElectionSession], Any]) -> Any:
        """Run ``fn`` on the thread that owns the election file (as the service does)."""
        state = self.app.state.service
        return state.thread.submit(fn, state.session).result()

    def log(self) -> list[Any]:
        return self.on_thread(lambda s: [parse_entry(raw) for _, raw in s.store.log_rows()])


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@contextlib.contextmanager
def _station(folder: Path, definition: str, *, scrutineer_key: bool = False) -> Iterator[Live]:
    """An election file, its accounts and the service on loopback. With ``scrutineer_key`` the
    service is started with one scrutineer's key file (tally serve --scrutineer-key)."""
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    key_files: tuple[Path, ...] = ()
    if scrutineer_key:
        sealed, pub = keys.generate_keypair(
            keys.Role.SCRUTINEER, "监票人甲", passphrase=PASSPHRASE, limits=keys.INTERACTIVE_LIMITS
        )
        key_file = folder / "huang-deming.key"
        key_file.write_bytes(sealed)
        key_files = (key_file,)
        scrutineer_pubs: tuple[dict[str, Any], ...] = (json.loads(keys.export_public_key(pub)),)
    else:
        scrutineer_pubs = (_pub(keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")),)
    manifest = build_manifest(
        parse_definition(definition), work_group_key=_pub(wg), scrutineer_keys=scrutineer_pubs
    )
    ElectionSession.init(folder / "e.db", sign_manifest(manifest, town), wg).store.close()
    data = folder / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, role in ACCOUNTS:
        accounts.add(name, role, f"{name}-password")
    app = create_app(
        ServiceConfig(
            election_path=folder / "e.db",
            data_dir=data,
            extra={"argon2_limits": FAST},
            scrutineer_keys=key_files,
        )
    )
    app.state.service.signer = wg
    shots = folder / "shots"
    shots.mkdir()
    with serve(app) as base:
        yield Live(base, app, wg, shots)


def _qingshan() -> str:
    return (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")


def _sign_in(browser: Any, live: Live, name: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())  # the forms' data-confirm questions
    page.goto(live.base + "/station/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-password")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.url.endswith("/station/"), page.url
    return page


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _phone_and_shot(page: Any, live: Live, name: str) -> None:
    """At 390 px the page does not scroll sideways; screenshots at laptop and phone width."""
    page.screenshot(path=str(live.shots / f"{name}-laptop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(NO_OVERFLOW), (
        name,
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"),
    )
    page.screenshot(path=str(live.shots / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def _open_round(live: Live) -> None:
    """Check in 23 of 25 electors, commit a committee stock of 25, issue and return 23."""
    wg = live.wg

    def go(s: ElectionSession) -> list[str]:
        s.check_in(PRESENT, actor="clerk")
        made = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=ballot_printer.PaperKind.COMMITTEE,
            round_number=1,
            count=25,
            signer=wg,
        )
        s.commit_stock(made, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(PRESENT), signer=wg)
        return [ballot_printer.encode_qr_text(p) for p in made.payloads]

    live.qr = live.on_thread(go)


INVALID_FORM = "form[action='/station/count/invalid']"


def _fill_invalid(page: Any, reason: str, qr: str, passphrase: str) -> None:
    if page.locator("details.invalid-decision").get_attribute("open") is None:
        page.click("details.invalid-decision summary")
    page.check(f"{INVALID_FORM} input[name=reason][value={reason}]")
    page.fill(f"{INVALID_FORM} input[name=qr]", qr)
    page.fill(f"{INVALID_FORM} input[name=passphrase]", passphrase)
    _submit(page, f"{INVALID_FORM} button[type=submit]")


def _declared(live: Live) -> list[Any]:
    return [e for e in live.log() if e.type == "ballot.declared_invalid"]


def test_a_teller_enters_ballots_as_invalid_with_the_scrutineers_passphrase_in_chromium_R8_5(
    browser: Any, tmp_path: Path
) -> None:
    with _station(tmp_path, _qingshan(), scrutineer_key=True) as live:
        _open_round(live)
        teller = _sign_in(browser, live, "teller")
        teller.goto(live.base + "/station/count")
        details = teller.locator("details.invalid-decision")
        assert details.locator("summary").inner_text() == "作为无效票录入（须监票人确认）"
        teller.click("details.invalid-decision summary")
        form = details.inner_text()
        for text in ("有识别标记", "无法辨认", "非正式选票", "确认的监票人", "监票人口令"):
            assert text in form, text
        assert teller.locator(f"{INVALID_FORM} select[name=key] option").all_inner_texts() == [
            "监票人甲"  # the name in the key file's clear header, not the file's name
        ]
        _phone_and_shot(teller, live, "count-invalid-form")

        # a wrong passphrase: refused, said so, nothing stored
        before = len(live.log())
        _fill_invalid(teller, "identifying_marks", live.qr[0], "not-the-passphrase")
        assert (
            teller.inner_text(".flash.error")
            == "监票人密钥无法打开（口令不正确或不是监票人密钥），未录入"
        )
        assert len(live.log()) == before
        assert teller.inner_text("#progress .num") == "0"
        # the refused decision's own form comes back open with its reason and QR (not the
        # passphrase); the ballot form's scan field stays empty, so "save" cannot store that
        # ballot as an ordinary one
        assert teller.locator("details.invalid-decision").get_attribute("open") is not None
        assert teller.is_checked(f"{INVALID_FORM} input[value=identifying_marks]")
        assert teller.input_value(f"{INVALID_FORM} input[name=qr]") == live.qr[0]
        assert teller.input_value(f"{INVALID_FORM} input[name=passphrase]") == ""
        assert teller.input_value("#qr") == ""
        _phone_and_shot(teller, live, "count-invalid-refused")

        # the scrutineer types the passphrase: one ballot with its QR, one without
        teller.fill(f"{INVALID_FORM} input[name=passphrase]", PASSPHRASE)
        _submit(teller, f"{INVALID_FORM} button[type=submit]")
        code = ballot_printer.ballot_code(bytes.fromhex(_declared(live)[0].body["ballot_id"]))
        assert (
            teller.inner_text(".flash.ok")
            == f"已作为无效票录入选票 {code}（有识别标记，经监票人确认）"
        )
        _fill_invalid(teller, "not_official_stock", "", PASSPHRASE)
        assert (
            teller.inner_text(".flash.ok")
            == "已作为无效票录入一张无二维码的选票（非正式选票，经监票人确认）"
        )
        assert teller.inner_text("#progress .num") == "2"
        decided = _declared(live)
        assert [e.body["reason"] for e in decided] == ["identifying_marks", "not_official_stock"]
        assert [e.actor for e in decided] == ["teller", "teller"]
        assert decided[1].body["ballot_id"] == ""
        teller.click("details.invalid-decision summary")
        _phone_and_shot(teller, live, "count-invalid-entered")

        with teller.expect_navigation():
            teller.click("a.lang:text-is('English')")
        assert (
            teller.inner_text("details.invalid-decision summary")
            == "Enter as invalid by decision (a scrutineer confirms)"
        )
        _phone_and_shot(teller, live, "count-invalid-en")
        teller.context.close()


OFFICIALS_FORM = "form[action='/station/decide']:has(input[name=kind][value=officials])"


def _fill_officials(page: Any, scrutineers: str, tellers: str) -> None:
    if page.locator("details.decisions").get_attribute("open") is None:
        page.click("details.decisions summary")
    page.fill(f"{OFFICIALS_FORM} input[name=scrutineers]", scrutineers)
    page.fill(f"{OFFICIALS_FORM} input[name=tellers]", tellers)
    _submit(page, f"{OFFICIALS_FORM} button[type=submit]")


def test_the_chair_records_later_rounds_officials_on_the_decide_form_in_chromium_R25(
    browser: Any, tmp_path: Path
) -> None:
    with _station(tmp_path, _qingshan()) as live:
        chair = _sign_in(browser, live, "chair")
        chair.goto(live.base + "/station/result")
        summary = chair.inner_text("details.decisions summary")
        assert summary == "记录决定（减少名额、调整候选人、此后各轮的监票人和计票人）"
        chair.click("details.decisions summary")
        form = chair.inner_text(OFFICIALS_FORM)
        assert "此后各轮的监票人和计票人（R25）" in form
        assert "监票人编号或姓名，以空格分隔" in form
        _phone_and_shot(chair, live, "decide-officials-form")

        _fill_officials(chair, "M009 M009", "M011")
        assert chair.inner_text(".flash.error") == "黄德明（M009） 在监票人名单中重复"
        assert not [e for e in live.log() if e.type == "officials.changed"]
        # the refused list comes back in its form, open, to be corrected
        assert chair.locator("details.decisions").get_attribute("open") is not None
        assert chair.input_value(f"{OFFICIALS_FORM} input[name=scrutineers]") == "M009 M009"
        assert chair.input_value(f"{OFFICIALS_FORM} input[name=tellers]") == "M011"
        _phone_and_shot(chair, live, "decide-officials-refused")

        _fill_officials(chair, "黄德明 M010", "M011")
        assert chair.inner_text(".flash.ok").startswith("已记录此后各轮的监票人和计票人（R25）。")
        last = live.log()[-1]
        assert (last.type, last.actor) == ("officials.changed", "chair")
        assert last.body == {"scrutineers": ["M009", "M010"], "tellers": ["M011"]}
        _phone_and_shot(chair, live, "decide-officials-recorded")

        with chair.expect_navigation():
            chair.click("a.lang:text-is('English')")
        chair.click("details.decisions summary")
        assert "Officials of the rounds from now on (R25)" in chair.inner_text(OFFICIALS_FORM)
        _phone_and_shot(chair, live, "decide-officials-en")
        chair.context.close()


RETURN_MAIN = "#action > form[action='/station/return']"
RETURN_SECRETARY = "#joint form:has(input[name=post][value=secretary])"


def test_a_direct_election_prints_issues_together_and_returns_each_kind_in_chromium_R22_2(
    browser: Any, tmp_path: Path
) -> None:
    definition = definition_text(
        full=12,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=(1, 2),
        secretary_body="direct",
    )
    with _station(tmp_path, definition) as live:
        present = [f"M{i:03d}" for i in (*range(1, 10), 12)]  # the scrutineer M012 (R25.2)
        live.on_thread(lambda s: s.check_in(present, actor="clerk"))
        chair = _sign_in(browser, live, "chair")
        chair.goto(live.base + "/station/ballots")
        joint = chair.inner_text("#joint")
        assert "直接选举：各职位选票一并发出，先计委员选票" in joint
        assert "书记选举" in joint and "尚未打印选票" in joint
        _phone_and_shot(chair, live, "direct-print")

        chair.fill("form[action='/station/print'] input[name=count]", "12")
        _submit(chair, "form[action='/station/print'] button")
        assert chair.inner_text(".flash.ok").startswith("已打印并登记选票 12 张：委员")
        assert "尚未打印选票" in chair.inner_text("#joint")  # the secretary's not yet
        chair.fill("form[action='/station/print'] input[name=count]", "12")
        _submit(chair, "form[action='/station/print'] button")
        assert chair.inner_text(".flash.ok").startswith("已打印并登记选票 12 张：书记")
        assert "尚未打印选票" not in chair.inner_text("#joint")

        _submit(chair, "form[action='/station/issue'] button")
        issued = chair.inner_text(".flash.ok")
        assert "发出选票 10 张" in issued and "同时发出 10 张" in issued
        assert "已发出 10" in chair.inner_text("#joint")
        _phone_and_shot(chair, live, "direct-issued")

        chair.fill(f"{RETURN_MAIN} input[name=count]", "10")
        _submit(chair, f"{RETURN_MAIN} button")
        assert "发出 10 张，收回 10 张，本轮选举有效" in chair.inner_text(".flash.ok")
        assert chair.locator(RETURN_SECRETARY).count() == 1  # the secretary's still to return
        chair.fill(f"{RETURN_SECRETARY} input[name=count]", "9")
        _submit(chair, f"{RETURN_SECRETARY} button")
        assert "发出 10 张，收回 9 张，本轮选举有效" in chair.inner_text(".flash.ok")
        assert "已发出 10，收回 9" in chair.inner_text("#joint")
        assert chair.locator(RETURN_SECRETARY).count() == 0
        _phone_and_shot(chair, live, "direct-returned")

        log = live.log()
        opened = [e.body for e in log if e.type == "round.opened"]
        assert [(b["post"], b["present"]) for b in opened] == [("committee", 10), ("secretary", 10)]
        returned = [(e.body["post"], e.body["count"]) for e in log if e.type == "ballots.returned"]
        assert returned == [("committee", 10), ("secretary", 9)]

        with chair.expect_navigation():
            chair.click("a.lang:text-is('English')")
        joint = chair.inner_text("#joint")
        assert "Direct election: every post’s ballots are issued together" in joint
        assert "secretary round 1: issued 10, returned 9" in joint  # no Chinese punctuation
        _phone_and_shot(chair, live, "direct-en")
        chair.context.close()
