"""The polling-station pages over a real election file (FastAPI TestClient, one event loop).

Sign-in and its rate limit, CSRF, role checks, the scanner field, two tellers at once, a page
submitted twice, double entry and the teller's undo: each refused request says why and stores
nothing; each accepted one is logged under the signed-in account.
"""

from __future__ import annotations

import errno
import html
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import ballot_printer
import keys
from ballot_printer.procedure_qr import sign_procedure_payload
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.meeting import parse_entry
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.disk import disk_full, full_on_commit

ROOT = Path(__file__).resolve().parents[2]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PASSWORDS = {
    "chair": ("chair", Role.CHAIR),
    "teller": ("teller", Role.TELLER),
    "teller2": ("teller2", Role.TELLER),
    "clerk": ("clerk", Role.CLERK),
    "scrutineer": ("scrutineer", Role.SCRUTINEER),
}


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass
class Station:
    app: Any
    client: TestClient
    wg: keys.InMemorySigner
    data: Path
    qr: list[str] = field(default_factory=list)

    def on_thread(self, fn: Callable[[ElectionSession], Any]) -> Any:
        """Run ``fn`` on the thread that owns the election file (as the service does)."""
        state = self.app.state.service
        return state.thread.submit(fn, state.session).result()

    def log(self) -> list[Any]:
        return self.on_thread(lambda s: [parse_entry(raw) for _, raw in s.store.log_rows()])

    def sign_in(self, name: str, password: str | None = None) -> User:
        user = User(self, name)
        r = user.sign_in(password if password is not None else f"{name}-password")
        assert r.status_code == 303, r.text
        return user

    def open_round(self, stock: int = 25) -> None:
        """Check in 23 of 25 electors, commit a committee stock, issue and return 23."""
        wg = self.wg

        def go(s: ElectionSession) -> list[str]:
            s.check_in(PRESENT, actor="clerk")
            made = ballot_printer.make_stock(
                election_id=s.manifest.election_id,
                kind=ballot_printer.PaperKind.COMMITTEE,
                round_number=1,
                count=stock,
                signer=wg,
            )
            s.commit_stock(made, signer=wg)
            s.issue(count=None, signer=wg)
            s.return_ballots(len(PRESENT), signer=wg)
            return [ballot_printer.encode_qr_text(p) for p in made.payloads]

        self.qr = self.on_thread(go)


@dataclass
class User:
    """One person's browser: their own session cookie on the shared test client."""

    station: Station
    name: str
    sid: str = ""

    def _headers(self) -> dict[str, str]:
        return {"cookie": f"tally_session={self.sid}"} if self.sid else {}

    def sign_in(self, password: str) -> Any:
        c = self.station.client
        c.cookies.clear()
        page = c.get("/station/login")
        pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert pre is not None
        r = c.post(
            "/station/login",
            data={"csrf": pre.group(1), "name": self.name, "password": password},
            follow_redirects=False,
        )
        if r.status_code == 303:
            self.sid = r.cookies["tally_session"]
        c.cookies.clear()
        return r

    def get(self, path: str) -> Any:
        return self.station.client.get(path, headers=self._headers(), follow_redirects=False)

    def csrf(self) -> str:
        m = re.search(r'name="csrf" value="([^"]+)"', self.get("/station/").text)
        assert m is not None
        return m.group(1)

    def post(self, path: str, data: dict[str, Any], *, csrf: str | None = None) -> Any:
        body = {"csrf": self.csrf() if csrf is None else csrf, **data}
        return self.station.client.post(
            path, data=body, headers=self._headers(), follow_redirects=False
        )

    def follow(self, r: Any) -> str:
        assert r.status_code == 303, (r.status_code, r.text[-2000:])
        text: str = self.get(r.headers["location"]).text
        return text


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    yield from _station(tmp_path, (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))


def _station(tmp_path: Path, definition: str) -> Iterator[Station]:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scrutineers = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
    election = parse_definition(definition)
    manifest = build_manifest(
        election, work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(s) for s in scrutineers)
    )
    ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg).store.close()
    data = tmp_path / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, (_, role) in PASSWORDS.items():
        accounts.add(name, role, f"{name}-password")
    app = create_app(
        ServiceConfig(election_path=tmp_path / "e.db", data_dir=data, extra={"argon2_limits": FAST})
    )
    app.state.service.signer = wg
    with TestClient(app) as client:
        yield Station(app, client, wg, data)


def _ballot(qr: str, marks: str, write_ins: tuple[str, ...] = ()) -> dict[str, str]:
    """The count page's form; a write-in ``name:-`` is a row without a ○ under it."""
    data = {"qr": qr} | {f"m{i}": m for i, m in enumerate(marks)}
    for i, w in enumerate(write_ins):
        name, _, mark = w.partition(":")
        data[f"w{i}"] = name
        data[f"wm{i}"] = "" if mark == "-" else "o"
    return data


# -- sign-in ---------------------------------------------------------------------------------------
def test_pages_need_sign_in(station: Station) -> None:
    r = station.client.get("/station/checkin", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/station/login")


def test_sign_in_cookie_is_http_only_strict_and_random(station: Station) -> None:
    user = User(station, "chair")
    r = user.sign_in("chair-password")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert len(user.sid) >= 40
    assert "监票人签名确认" in user.get("/station/").text


def test_wrong_password_is_refused_with_tries_left(station: Station) -> None:
    r = User(station, "chair").sign_in("not-the-password")
    assert r.status_code == 401
    assert "账户名或密码错误（还可再试 4 次）" in r.text


def test_five_wrong_passwords_lock_the_account_for_30_seconds(station: Station) -> None:
    user = User(station, "teller")
    for _ in range(5):
        user.sign_in("wrong-password")
    r = user.sign_in("teller-password")  # even the right password waits
    assert r.status_code == 429
    assert "密码错误次数过多" in r.text
    assert "请 30 秒后再试" in r.text


def test_wrong_passwords_from_one_address_lock_that_address(station: Station) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        User(station, name).sign_in("whatever-password")
    r = User(station, "clerk").sign_in("clerk-password")
    assert r.status_code == 429


def test_a_forged_sign_in_form_is_refused(station: Station) -> None:
    r = station.client.post(
        "/station/login",
        data={"csrf": "forged", "name": "chair", "password": "chair-password"},
        follow_redirects=False,
    )
    assert r.status_code == 403


# -- CSRF and roles ----------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
def test_csrf_missing_or_forged_is_403_and_stores_nothing(
    station: Station, token: str | None
) -> None:
    clerk = station.sign_in("clerk")
    before = len(station.log())
    data: dict[str, Any] = {"member": "M001"}
    if token is not None:
        data["csrf"] = token
    r = station.client.post(
        "/station/checkin", data=data, headers=clerk._headers(), follow_redirects=False
    )
    assert r.status_code == 403
    assert "安全令牌缺失或不符" in r.text
    assert len(station.log()) == before


def test_a_teller_cannot_do_the_chairs_actions(station: Station) -> None:
    teller = station.sign_in("teller")
    for path, data in (
        ("/station/issue", {}),
        ("/station/return", {"count": "3"}),
        ("/station/close", {}),
        ("/station/print", {"count": "30"}),
        ("/station/result", {}),
        ("/station/publish", {}),
        ("/station/checkin", {"member": "M001"}),
    ):
        r = teller.post(path, data)
        assert r.status_code == 403, path
        assert "您的角色是计票人" in r.text
    assert len(station.log()) == 1


def test_a_clerk_cannot_enter_ballots_and_a_scrutineer_changes_nothing(station: Station) -> None:
    station.open_round()
    clerk = station.sign_in("clerk")
    r = clerk.post("/station/count/enter", _ballot(station.qr[0], "oooooo"))
    assert r.status_code == 403
    scrutineer = station.sign_in("scrutineer")
    r = scrutineer.post("/station/close", {})
    assert r.status_code == 403
    assert "只能由主持人进行" in r.text
    assert scrutineer.get("/station/files/stock/committee-1.pdf").status_code == 403


def test_check_in_is_logged_under_the_clerks_name(station: Station) -> None:
    clerk = station.sign_in("clerk")
    text = clerk.follow(clerk.post("/station/checkin", {"member": "M003"}))
    assert "王卫东（M003）已签到" in text
    last = station.log()[-1]
    assert (last.type, last.actor, last.body["member"]) == ("member.checked_in", "clerk", "M003")


def test_check_in_twice_is_refused_with_a_clear_message(station: Station) -> None:
    clerk = station.sign_in("clerk")
    clerk.post("/station/checkin", {"member": "M003"})
    r = clerk.post("/station/checkin", {"member": "M003"})
    assert r.status_code == 409
    assert "已经签到" in r.text
    assert sum(e.type == "member.checked_in" for e in station.log()) == 1


def test_check_in_search_shows_homonyms_with_ids(station: Station) -> None:
    clerk = station.sign_in("clerk")
    text = clerk.get("/station/checkin?q=M00").text
    assert "M001" in text
    assert "M009" in text
    assert "已批准远程投票" in clerk.get("/station/checkin?q=M020").text


def test_english_switch_sets_a_cookie(station: Station) -> None:
    chair = station.sign_in("chair")
    r = chair.get("/station/?lang=en")
    assert "Meeting overview" in r.text
    assert "tally_lang=en" in r.headers["set-cookie"]


# -- counting ------------------------------------------------------------------------------------
def test_a_whole_round_through_the_pages_is_counted_and_logged_by_name(station: Station) -> None:
    clerk = station.sign_in("clerk")
    chair = station.sign_in("chair")
    teller = station.sign_in("teller")
    for member in PRESENT:
        assert clerk.post("/station/checkin", {"member": member}).status_code == 303
    text = chair.follow(chair.post("/station/print", {"count": "25"}))
    assert "已打印并登记选票 25 张" in text
    assert chair.follow(chair.post("/station/issue", {})).count("发出选票 23 张") >= 1
    text = chair.follow(chair.post("/station/return", {"count": "23"}))
    assert "本轮选举有效" in text
    qr = [
        p.texts[0]
        for p in ballot_printer.read_qr_pages(station.data / "stocks" / "committee-1.pdf", dpi=150)
    ]
    for i, code in enumerate(qr[:23]):
        marks = "oooooo" if i == 0 else "ooooox"  # the first one is an over-vote
        text = teller.follow(teller.post("/station/count/enter", _ballot(code, marks)))
        flash = re.search(r'<p class="flash ok"[^>]*>([^<]*)</p>', text)
        assert flash is not None
        assert ("无效票" in flash.group(1)) == (i == 0), flash.group(1)
    text = chair.follow(chair.post("/station/close", {}))
    assert "计票结束" in text
    counted = station.log()[-1]
    assert counted.type == "round.counted"
    assert counted.actor == "chair"
    assert counted.body["invalid_ballots"] == 1
    entered = [e for e in station.log() if e.type == "ballot.entered"]
    assert {e.actor for e in entered} == {"teller"}
    assert "<svg" in chair.get("/station/tally").text


def test_two_tellers_entering_the_same_ballot_at_once_store_exactly_one(station: Station) -> None:
    station.open_round()
    tellers = [station.sign_in("teller"), station.sign_in("teller2")]
    tokens = [t.csrf() for t in tellers]
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def go(i: int) -> None:
        barrier.wait()
        results[i] = tellers[i].post(
            "/station/count/enter", _ballot(station.qr[0], "ooooox"), csrf=tokens[i]
        )

    threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [303, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert "已经录入过" in loser.text
    assert sum(e.type == "ballot.entered" for e in station.log()) == 1


def test_a_ballot_form_submitted_twice_is_stored_once(station: Station) -> None:
    station.open_round()
    teller = station.sign_in("teller")
    token = teller.csrf()
    first = teller.post("/station/count/enter", _ballot(station.qr[1], "oxoxo-"), csrf=token)
    again = teller.post("/station/count/enter", _ballot(station.qr[1], "oxoxo-"), csrf=token)
    assert first.status_code == 303
    assert again.status_code == 409
    assert "已经录入过，没有重复录入" in again.text
    assert sum(e.type == "ballot.entered" for e in station.log()) == 1


@pytest.mark.parametrize(
    "garbage",
    ["hello world", "BQ1:AAAA", "BQ1:" + "A" * 120, "<script>alert(1)</script>"],
    ids=["text", "truncated", "not-signed", "markup"],
)
def test_scanner_garbage_gets_a_clear_message(station: Station, garbage: str) -> None:
    station.open_round()
    teller = station.sign_in("teller")
    scan = station.client.get(
        "/station/api/scan", params={"qr": garbage}, headers=teller._headers()
    )
    assert scan.status_code == 409
    assert scan.json()["ok"] is False
    assert scan.json()["message"]
    r = teller.post("/station/count/enter", _ballot(garbage, "oooooo"))
    assert r.status_code == 409
    assert "<script>alert(1)</script>" not in r.text
    assert not any(e.type == "ballot.entered" for e in station.log())


def test_a_scan_longer_than_any_ballot_qr_is_refused_as_such_not_cut(station: Station) -> None:
    """(spec/ballot-qr.md §3.4, Q1) a valid text padded past 311 characters is refused with
    qr.text_too_long, at the scan check and at entry, never cut to fit and then read."""
    station.open_round()
    teller = station.sign_in("teller")
    long_text = station.qr[1] + " " * 400
    scan = station.client.get(
        "/station/api/scan", params={"qr": long_text}, headers=teller._headers()
    )
    assert scan.status_code == 409
    assert scan.json()["code"] == "qr.text_too_long"
    assert "311" in scan.json()["message"]
    r = teller.post("/station/count/enter", _ballot("A" * 312, "oooooo"))
    assert r.status_code == 409
    assert "311" in html.unescape(r.text)
    assert not any(e.type == "ballot.entered" for e in station.log())


def test_a_procedure_ballot_scanned_at_the_election_is_named_in_zh_and_en(
    station: Station,
) -> None:
    """(spec/ballot-qr.md Q1) a recommendation ballot is named, and not met with "scan again"."""
    station.open_round()
    teller = station.sign_in("teller")
    payload = sign_procedure_payload(
        procedure_id=b"\x05" * 32,
        form=ballot_printer.ProcedureForm.MEMBER,
        post=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        ballot_id=b"\x06" * 16,
        signer=station.wg,
    )
    text = ballot_printer.encode_procedure_qr_text(payload)
    for lang, named, generic in (
        ("zh", "这是推荐票或测评票", "请对准选票右上角的二维码重新扫描"),
        ("en", "this is a procedure ballot", "Scan the ballot's QR code again"),
    ):
        scan = station.client.get(
            "/station/api/scan", params={"qr": text, "lang": lang}, headers=teller._headers()
        )
        assert scan.status_code == 409
        assert scan.json()["code"] == "qr.procedure_ballot"
        assert named in scan.json()["message"] and generic not in scan.json()["message"]
        r = teller.post(f"/station/count/enter?lang={lang}", _ballot(text, "oooooo"))
        assert r.status_code == 409
        assert named in html.unescape(r.text)
    assert not any(e.type == "ballot.entered" for e in station.log())


def test_a_ballot_of_another_election_is_refused(station: Station) -> None:
    station.open_round()
    other = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "other")
    forged = ballot_printer.make_stock(
        election_id=b"\x01" * 32,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=1,
        signer=other,
    )
    teller = station.sign_in("teller")
    r = teller.post(
        "/station/count/enter",
        _ballot(ballot_printer.encode_qr_text(forged.payloads[0]), "oooooo"),
    )
    assert r.status_code == 409
    assert not any(e.type == "ballot.entered" for e in station.log())


def test_scan_check_names_the_ballot_code(station: Station) -> None:
    station.open_round()
    teller = station.sign_in("teller")
    r = station.client.get(
        "/station/api/scan", params={"qr": station.qr[2]}, headers=teller._headers()
    )
    assert r.status_code == 200
    assert "签名有效" in r.json()["message"]


def test_a_teller_withdraws_only_their_own_last_entry_and_it_is_logged(station: Station) -> None:
    station.open_round()
    teller, teller2 = station.sign_in("teller"), station.sign_in("teller2")
    teller.post("/station/count/enter", _ballot(station.qr[0], "ooooox"))
    entered = station.log()[-1]
    ballot_id = entered.body["ballot_id"]
    r = teller2.post("/station/count/withdraw", {"ballot_id": ballot_id})
    assert r.status_code == 409
    assert "只能撤回您自己最后录入的选票" in r.text
    text = teller.follow(teller.post("/station/count/withdraw", {"ballot_id": ballot_id}))
    assert "已撤回" in text
    last = station.log()[-1]
    assert (last.type, last.actor) == ("ballot.withdrawn", "teller")
    assert any(e.type == "ballot.entered" for e in station.log())  # not a deletion
    # the same ballot can now be entered again
    assert teller.post("/station/count/enter", _ballot(station.qr[0], "ooooox")).status_code == 303


def test_double_entry_counts_nothing_until_two_tellers_agree(station: Station) -> None:
    station.open_round()
    chair = station.sign_in("chair")
    chair.post("/station/count/mode", {"double": "1"})
    teller, teller2 = station.sign_in("teller"), station.sign_in("teller2")
    teller.post("/station/count/enter", _ballot(station.qr[0], "ooooox"))
    assert not any(e.type == "ballot.entered" for e in station.log())
    mismatch = teller2.post("/station/count/enter", _ballot(station.qr[0], "oooox-"))
    assert mismatch.status_code == 409
    assert "两人录入不一致" in mismatch.text
    assert 'class="differs"' in mismatch.text
    assert not any(e.type == "ballot.entered" for e in station.log())
    teller.post("/station/count/enter", _ballot(station.qr[0], "ooooox"))
    text = teller2.follow(teller2.post("/station/count/enter", _ballot(station.qr[0], "ooooox")))
    assert "两人录入一致，已计入" in text
    entered = [e for e in station.log() if e.type == "ballot.entered"]
    assert [e.actor for e in entered] == ["teller+teller2"]


def _double_entry(station: Station) -> tuple[User, User]:
    station.open_round()
    station.sign_in("chair").post("/station/count/mode", {"double": "1"})
    return station.sign_in("teller"), station.sign_in("teller2")


def _counted(station: Station) -> list[list[dict[str, str]]]:
    return [e.body["write_ins"] for e in station.log() if e.type == "ballot.entered"]


@pytest.mark.parametrize(
    "second",
    [("林春生",), ("林春生", "罗小芳:-", "周玉兰"), ("林春生", "罗小芳"), ("林春生", "罗小")],
    ids=["missing", "extra", "mark-changed", "name-changed"],
)
def test_double_entry_counts_nothing_when_the_write_ins_differ_log_2_3(
    station: Station, second: tuple[str, ...]
) -> None:
    teller, teller2 = _double_entry(station)
    teller.post("/station/count/enter", _ballot(station.qr[0], "oo----", ("林春生", "罗小芳:-")))
    r = teller2.post("/station/count/enter", _ballot(station.qr[0], "oo----", second))
    assert r.status_code == 409
    assert "两人录入不一致" in r.text
    assert _counted(station) == []


def test_double_entry_reads_write_ins_as_the_count_does_log_2_3_R9(station: Station) -> None:
    teller, teller2 = _double_entry(station)
    first = ("林春生", "罗小芳:-")
    teller.post("/station/count/enter", _ballot(station.qr[0], "ooo---", first))
    # Rows in another order, 林 typed as the CJK compatibility ideograph U+F9F4 (NFC: 林).
    second = ("罗小芳:-", "\uf9f4春生")
    text = teller2.follow(
        teller2.post("/station/count/enter", _ballot(station.qr[0], "ooo---", second))
    )
    assert "两人录入一致，已计入" in text
    assert len(_counted(station)) == 1


@pytest.fixture
def numbered_station(tmp_path: Path) -> Iterator[Station]:
    """The station of an election whose write-ins need a disapproval (R9.1 numbers the rows)."""
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    extra = "[parameters]\nwrite_in_requires_disapproval = true\n"
    yield from _station(tmp_path, text.replace("[parameters]\n", extra))


def test_double_entry_refuses_reordered_write_ins_when_rows_are_numbered_R9_1(
    numbered_station: Station,
) -> None:
    station = numbered_station
    teller, teller2 = _double_entry(station)
    # One x: only write-in 1 may give a vote (R9.1), so the order decides who gets it.
    teller.post("/station/count/enter", _ballot(station.qr[0], "ooox--", ("林春生", "罗小芳")))
    r = teller2.post("/station/count/enter", _ballot(station.qr[0], "ooox--", ("罗小芳", "林春生")))
    assert r.status_code == 409
    assert "两人录入不一致" in r.text
    assert _counted(station) == []


def test_session_errors_are_shown_in_the_users_language(station: Station) -> None:
    chair = station.sign_in("chair")
    r = chair.post("/station/issue?lang=en", {})
    assert r.status_code == 409
    assert (
        "no ballot stock is committed" in r.text
        or "print more first" in r.text
        or "quorum" in r.text.lower()
    )


def test_live_endpoint_reports_the_count(station: Station) -> None:
    clerk = station.sign_in("clerk")
    clerk.post("/station/checkin", {"member": "M001"})
    r = station.client.get("/station/api/live", headers=clerk._headers())
    assert r.json()["present"] == 1
    assert r.json()["expected"] == 25
    assert station.client.get("/station/api/live").status_code == 401


def test_security_headers_and_own_static_assets(station: Station) -> None:
    r = station.client.get("/station/static/station.js")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert station.client.get("/station/static/station.css").status_code == 200


# -- the accounts command ------------------------------------------------------------------------
def test_accounts_cli_adds_hashed_accounts_that_can_sign_in(tmp_path: Path) -> None:
    from tally.cli import app  # noqa: PLC0415

    runner = CliRunner(env={"TALLY_ACCOUNT_PASSWORD": "a-long-password", "TALLY_LANG": "zh"})
    r = runner.invoke(app, ["accounts", "add", str(tmp_path), "--name", "李四", "--role", "teller"])
    assert r.exit_code == 0, r.output
    again = runner.invoke(
        app, ["accounts", "add", str(tmp_path), "--name", "李四", "--role", "chair"]
    )
    assert again.exit_code == 1
    assert "已存在" in again.output
    listed = runner.invoke(app, ["accounts", "list", str(tmp_path), "--json"])
    assert json.loads(listed.output) == [{"name": "李四", "role": "teller"}]
    raw = (tmp_path / "accounts.db").read_bytes()
    assert b"a-long-password" not in raw
    assert b"$argon2id$" in raw
    store = AccountStore(tmp_path / "accounts.db")
    _, session = store.sign_in("李四", "a-long-password", client="127.0.0.1")
    assert session.account.role is Role.TELLER


def test_the_language_switch_of_a_refused_form_leads_to_its_page_not_to_the_post_address(
    station: Station,
) -> None:
    chair = station.sign_in("chair")
    r = chair.post(
        "/station/decide", {"kind": "officials", "scrutineers": "M009 M009", "tellers": "M011"}
    )
    assert r.status_code == 409
    link = re.search(r'<a class="lang[^"]*" href="([^"]+lang=en[^"]*)"', r.text)
    assert link is not None and link.group(1).startswith("/station/result?")
    assert chair.get(html.unescape(link.group(1))).status_code == 200


def test_the_chair_records_later_rounds_officials_and_a_malformed_list_is_refused_R25(
    station: Station,
) -> None:
    chair = station.sign_in("chair")
    r = chair.post(
        "/station/decide", {"kind": "officials", "scrutineers": "M009 M009", "tellers": "M011"}
    )
    assert r.status_code == 409 and "重复" in r.text
    assert not any(e.type == "officials.changed" for e in station.log())
    text = chair.follow(
        chair.post(
            "/station/decide", {"kind": "officials", "scrutineers": "M009 M010", "tellers": "M011"}
        )
    )
    assert "已记录此后各轮的监票人和计票人" in text
    last = station.log()[-1]
    assert (last.type, last.actor) == ("officials.changed", "chair")
    assert last.body == {"scrutineers": ["M009", "M010"], "tellers": ["M011"]}


# -- direct election (R22.2) ---------------------------------------------------------------------


@pytest.fixture
def direct_station(tmp_path: Path) -> Iterator[Station]:
    from tests.helpers.elections import definition_text  # noqa: PLC0415

    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    election = parse_definition(
        definition_text(
            full=12,
            committee_seats=3,
            committee_candidates=4,
            secretary_candidates=(1, 2),
            secretary_body="direct",
        )
    )
    scrutineer = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    manifest = build_manifest(
        election, work_group_key=_pub(wg), scrutineer_keys=(_pub(scrutineer),)
    )
    ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg).store.close()
    data = tmp_path / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, (_, role) in PASSWORDS.items():
        accounts.add(name, role, f"{name}-password")
    app = create_app(
        ServiceConfig(election_path=tmp_path / "e.db", data_dir=data, extra={"argon2_limits": FAST})
    )
    app.state.service.signer = wg
    with TestClient(app) as client:
        yield Station(app, client, wg, data)


def test_direct_election_station_prints_issues_and_returns_every_ballot_kind_R22_2(
    direct_station: Station,
) -> None:
    """The committee and secretary ballots are printed, issued together (one present count) and
    returned per kind; the secretary ballots are counted after the committee's."""
    station = direct_station
    clerk, chair = station.sign_in("clerk"), station.sign_in("chair")
    for member in [f"M{i:03d}" for i in (*range(1, 10), 12)]:  # the scrutineer M012 present (R25.2)
        assert clerk.post("/station/checkin", {"member": member}).status_code == 303
    page = chair.get("/station/ballots").text
    assert "直接选举" in page and "尚未打印选票" in page
    assert "委员" in chair.follow(chair.post("/station/print", {"count": "12"}))
    text = chair.follow(chair.post("/station/print", {"count": "12"}))
    assert "书记" in text and "尚未打印选票" not in text
    text = chair.follow(chair.post("/station/issue", {}))
    assert "同时发出 10 张" in text
    chair.follow(chair.post("/station/return", {"count": "10"}))
    text = chair.follow(chair.post("/station/return", {"count": "10", "post": "secretary"}))
    assert "本轮选举有效" in text
    log = station.log()
    opened = [e.body for e in log if e.type == "round.opened"]
    assert [(b["post"], b["present"]) for b in opened] == [("committee", 10), ("secretary", 10)]
    returned = [e.body["post"] for e in log if e.type == "ballots.returned"]
    assert returned == ["committee", "secretary"]


def test_a_ballot_with_more_write_ins_than_rows_is_stored_as_one_invalid_ballot_R9_5(
    station: Station,
) -> None:
    station.open_round()
    teller = station.sign_in("teller")
    seats = 5  # qingshan: committee 5 seats, so 5 write-in rows and the form's extra row
    names = tuple(f"无名{i}" for i in range(seats + 1))
    page = teller.get("/station/count").text
    assert f'name="w{seats}"' in page and "空行之外另写的姓名" in page
    text = teller.follow(
        teller.post("/station/count/enter", _ballot(station.qr[0], "------", names))
    )
    flash = re.search(r'<p class="flash ok"[^>]*>([^<]*)</p>', text)
    assert flash is not None and "无效票" in flash.group(1) and "另选人 6 名" in flash.group(1)
    entered = [e for e in station.log() if e.type == "ballot.entered"]
    assert len(entered) == 1 and len(entered[0].body["write_ins"]) == seats + 1


# -- invalid ballots entered by decision (RULES A12.7, spec/rules.md R8.5) ------------------------


@pytest.fixture
def keyed_station(tmp_path: Path) -> Iterator[Station]:
    """A station started with one scrutineer's key file (tally serve --scrutineer-key)."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sealed, pub = keys.generate_keypair(
        keys.Role.SCRUTINEER, "监票人甲", passphrase="s1-passphrase", limits=keys.INTERACTIVE_LIMITS
    )
    key_file = tmp_path / "s1.key"
    key_file.write_bytes(sealed)
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(
        election,
        work_group_key=_pub(wg),
        scrutineer_keys=(json.loads(keys.export_public_key(pub)),),
    )
    ElectionSession.init(tmp_path / "e.db", sign_manifest(manifest, town), wg).store.close()
    data = tmp_path / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, (_, role) in PASSWORDS.items():
        accounts.add(name, role, f"{name}-password")
    app = create_app(
        ServiceConfig(
            election_path=tmp_path / "e.db",
            data_dir=data,
            extra={"argon2_limits": FAST},
            scrutineer_keys=(key_file,),
        )
    )
    app.state.service.signer = wg
    with TestClient(app) as client:
        yield Station(app, client, wg, data)


def test_a_teller_enters_a_ballot_as_invalid_with_the_scrutineers_passphrase_R8_5(
    keyed_station: Station,
) -> None:
    station = keyed_station
    station.open_round()
    teller = station.sign_in("teller")
    page = teller.get("/station/count").text
    assert "作为无效票录入（须监票人确认）" in page and "有识别标记" in page
    form = {"reason": "identifying_marks", "qr": station.qr[0], "key": "0"}
    text = teller.follow(
        teller.post("/station/count/invalid", form | {"passphrase": "s1-passphrase"})
    )
    assert "已作为无效票录入选票" in text and "有识别标记" in text
    text = teller.follow(
        teller.post(
            "/station/count/invalid",
            {"reason": "not_official_stock", "key": "0", "passphrase": "s1-passphrase"},
        )
    )
    assert "一张无二维码的选票" in text
    decided = [e for e in station.log() if e.type == "ballot.declared_invalid"]
    assert [e.body["reason"] for e in decided] == ["identifying_marks", "not_official_stock"]
    assert {e.actor for e in decided} == {"teller"}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"reason": "torn", "key": "0", "passphrase": "s1-passphrase"}, "请选择无效票的理由"),
        ({"reason": "unreadable", "key": "0", "passphrase": "wrong"}, "监票人密钥无法打开"),
        ({"reason": "unreadable", "key": "7", "passphrase": "s1-passphrase"}, "须由监票人确认"),
    ],
    ids=["unknown-reason", "wrong-passphrase", "no-such-key"],
)
def test_an_invalid_ballot_decision_without_a_valid_confirmation_stores_nothing_R8_5(
    keyed_station: Station, data: dict[str, str], needle: str
) -> None:
    keyed_station.open_round()
    before = len(keyed_station.log())
    teller = keyed_station.sign_in("teller")
    r = teller.post("/station/count/invalid", data)
    text = r.text if r.status_code != 303 else teller.follow(r)
    assert needle in text
    assert len(keyed_station.log()) == before


def test_a_clerk_cannot_enter_a_ballot_as_invalid_R8_5(keyed_station: Station) -> None:
    keyed_station.open_round()
    clerk = keyed_station.sign_in("clerk")
    r = clerk.post(
        "/station/count/invalid",
        {"reason": "unreadable", "key": "0", "passphrase": "s1-passphrase"},
    )
    assert r.status_code == 403
    assert not [e for e in keyed_station.log() if e.type == "ballot.declared_invalid"]


# -- issue 14: a sign-in lock an attacker cannot turn against the chair ---------------------------
def _from(app: Any, address: str) -> TestClient:
    """A browser at ``address`` (the ASGI client address, as the server sees a direct peer)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = dict(scope, client=(address, 4000))
        await app(scope, receive, send)

    return TestClient(asgi)


def _sign_in_from(client: TestClient, name: str, password: str) -> Any:
    client.cookies.clear()
    page = client.get("/station/login")
    pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert pre is not None
    return client.post(
        "/station/login",
        data={"csrf": pre.group(1), "name": name, "password": password},
        follow_redirects=False,
    )


def test_wrong_passwords_from_another_address_do_not_lock_the_chair_out(station: Station) -> None:
    attacker, chair = _from(station.app, "192.0.2.9"), _from(station.app, "10.0.0.2")
    for _ in range(6):
        _sign_in_from(attacker, "chair", "guessed-password")
    assert _sign_in_from(attacker, "chair", "chair-password").status_code == 429
    assert _sign_in_from(chair, "chair", "chair-password").status_code == 303


def test_wrong_passwords_from_one_ipv6_64_lock_the_whole_64(station: Station) -> None:
    """An attacker rotating through the 2^64 addresses of its /64 is one source (issue 14)."""
    for i in range(1, 6):
        _sign_in_from(_from(station.app, f"2001:db8:5:6::{i:x}"), "chair", "guessed-password")
    same_64 = _from(station.app, "2001:db8:5:6:ffff::1")
    assert _sign_in_from(same_64, "chair", "chair-password").status_code == 429
    other_64 = _from(station.app, "2001:db8:5:7::1")
    assert _sign_in_from(other_64, "chair", "chair-password").status_code == 303


def test_guesses_at_many_names_across_one_ipv6_64_lock_the_64(station: Station) -> None:
    for i, name in enumerate(("c1", "c2", "c3", "c4", "c5"), start=1):
        _sign_in_from(_from(station.app, f"2001:db8:8::{i:x}"), name, "whatever-password")
    same_64 = _from(station.app, "2001:db8:8:0:1::1")
    assert _sign_in_from(same_64, "clerk", "clerk-password").status_code == 429
    assert (
        _sign_in_from(_from(station.app, "::ffff:10.0.0.4"), "clerk", "clerk-password").status_code
        == 303
    )


def test_the_chair_unlocks_an_account_from_the_command_line(station: Station) -> None:
    from tally.cli import app  # noqa: PLC0415

    browser = _from(station.app, "10.0.0.3")
    for _ in range(5):
        _sign_in_from(browser, "teller", "wrong-password")
    assert _sign_in_from(browser, "teller", "teller-password").status_code == 429
    runner = CliRunner()
    r = runner.invoke(app, ["accounts", "unlock", str(station.data), "--name", "teller"])
    assert r.exit_code == 0, r.output
    assert "已解除 teller 的锁定" in r.output
    assert _sign_in_from(browser, "teller", "teller-password").status_code == 303
    # an address locked by guesses at many names is lifted by --address
    for name in ("b1", "b2", "b3", "b4", "b5"):
        _sign_in_from(browser, name, "whatever-password")
    assert _sign_in_from(browser, "clerk", "clerk-password").status_code == 429
    r = runner.invoke(
        app, ["accounts", "unlock", str(station.data), "--address", "10.0.0.3", "--lang", "en"]
    )
    assert r.exit_code == 0 and "10.0.0.3 unlocked" in r.output, r.output
    assert _sign_in_from(browser, "clerk", "clerk-password").status_code == 303
    # an IPv6 address's lock is its /64's: --address with any address of it lifts it
    for i, name in enumerate(("d1", "d2", "d3", "d4", "d5"), start=1):
        _sign_in_from(_from(station.app, f"2001:db8:9::{i:x}"), name, "whatever-password")
    v6 = _from(station.app, "2001:db8:9::abc")
    assert _sign_in_from(v6, "clerk", "clerk-password").status_code == 429
    r = runner.invoke(app, ["accounts", "unlock", str(station.data), "--address", "2001:db8:9::1"])
    assert r.exit_code == 0, r.output
    assert _sign_in_from(v6, "clerk", "clerk-password").status_code == 303
    unknown = runner.invoke(app, ["accounts", "unlock", str(station.data), "--name", "nobody"])
    assert unknown.exit_code == 1 and "没有账户 nobody" in unknown.output


def test_a_slow_password_hash_does_not_stall_other_requests(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = nacl.pwhash.verify
    hashing = threading.Event()

    def slow_verify(pw_hash: bytes, password: bytes) -> bool:
        hashing.set()
        time.sleep(1.5)  # an Argon2 verification on a slow laptop
        return bool(real(pw_hash, password))

    monkeypatch.setattr(nacl.pwhash, "verify", slow_verify)
    signed_in: list[int] = []
    t = threading.Thread(
        target=lambda: signed_in.append(
            User(station, "chair").sign_in("chair-password").status_code
        )
    )
    t.start()
    assert hashing.wait(10)
    started = time.monotonic()
    r = station.client.get("/api/health")
    waited = time.monotonic() - started
    t.join()
    assert r.status_code == 200 and signed_in == [303]
    assert waited < 1.0, f"/api/health waited {waited:.2f} s behind a password hash"


def test_serve_trusts_forwarded_headers_only_from_the_given_proxy(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipaddress  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    from tally.cli import app  # noqa: PLC0415

    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            seen.update(
                proxy_headers=config.proxy_headers, extra=config.app.state.service.config.extra
            )

        def run(self) -> None:
            return None

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    db = station.data.parent / "e.db"
    runner = CliRunner()
    r = runner.invoke(app, ["serve", str(db), "--data", str(station.data)])
    assert r.exit_code == 0, r.output
    # uvicorn's own header handling (it trusts 127.0.0.1 by default) is off: the app decides
    assert seen["proxy_headers"] is False
    assert not seen["extra"].get("trusted_proxies")
    r = runner.invoke(
        app, ["serve", str(db), "--data", str(station.data), "--trusted-proxy", "10.0.0.1"]
    )
    assert r.exit_code == 0, r.output
    assert seen["extra"]["trusted_proxies"] == (ipaddress.ip_network("10.0.0.1/32"),)
    bad = runner.invoke(
        app, ["serve", str(db), "--data", str(station.data), "--trusted-proxy", "x"]
    )
    assert bad.exit_code != 0 and "x" in bad.output


# -- a full disk (the soak, bench/soak.py) ----------------------------------------------------------
def test_a_check_in_on_a_full_disk_is_a_503_saying_so_and_stores_nothing(station: Station) -> None:
    clerk = station.sign_in("clerk")
    before = station.log()
    store = station.app.state.service.session.store
    with disk_full(store):
        r = clerk.post("/station/checkin", {"member": "M003"})
    assert r.status_code == 503
    assert "磁盘已满" in r.text
    assert station.log() == before
    assert "已签到" in clerk.follow(clerk.post("/station/checkin", {"member": "M003"}))


def test_a_stock_print_on_a_full_disk_is_a_503_and_commits_no_stock(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk, chair = station.sign_in("clerk"), station.sign_in("chair")
    for member in PRESENT:
        assert clerk.post("/station/checkin", {"member": member}).status_code == 303
    before = station.log()

    def no_space(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ballot_printer, "render_stock_pdf", no_space)
    r = chair.post("/station/print", {"count": "25"})
    assert r.status_code == 503
    assert "磁盘已满或无法写入" in r.text
    assert station.log() == before
    monkeypatch.undo()
    assert "已打印并登记选票 25 张" in chair.follow(chair.post("/station/print", {"count": "25"}))


def test_a_sign_in_on_a_full_disk_is_a_503_and_signs_no_one_in(
    station: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: full_on_commit(real(*a, **k)))
    r = User(station, "teller").sign_in("teller-password")
    assert r.status_code == 503
    assert "磁盘已满" in r.text
    assert "tally_session" not in r.cookies
    monkeypatch.undo()
    station.sign_in("teller")  # space freed: the same sign-in goes through
