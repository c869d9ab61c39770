"""The scrutineers on the procedure pages (spec/procedure.md RP-3.8, RP-11.2, RP-3.2): a ballot
declared invalid with a scrutineer's confirmation (key file given at start-up, passphrase typed
on the page), the count checkpoints' co-signatures, and a members' session without its
scrutineers. Hostile cases first, each a specific refusal with nothing stored: a wrong
passphrase, no key chosen, a key of another role, a key of another procedure, a co-signature
twice, a ballot not in the round, the wrong role, no CSRF token."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import keys
from tally.core.procedure.entries import Form
from tally.procedure_store import ProcedureStore
from tally.service.procedure import ProcedureServiceConfig, create_app
from tally.session_errors import SessionError
from tests.helpers.procedure_log import StoreDriver
from tests.helpers.procedure_service import (
    PREFIX,
    SCRUTINEER_PASSPHRASES,
    key_file,
    log_types,
    make_service,
    other_procedure_qr,
    scrutineer_key_files,
    sign_in,
)

PASS0, PASS1 = SCRUTINEER_PASSPHRASES


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[FastAPI, StoreDriver]]:
    app, driver = make_service(tmp_path, scrutineer_keys=scrutineer_key_files(tmp_path / "keys"))
    yield app, driver
    app.state.procedure.close()
    driver.store.close()


def _client(app: FastAPI, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    return client, sign_in(client, name)


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(PREFIX + path, data=data, follow_redirects=False)


def _round_returned(app: FastAPI, driver: StoreDriver, returned: int = 2) -> None:
    chair, token = _client(app, "chair")
    members = list(driver.procedure.expected_electors[:20])
    assert (
        _post(chair, "/open", {"csrf": token, "group": "member", "member": members}).status_code
        == 303
    )
    base = {"csrf": token, "form": "member", "post": "committee"}
    assert _post(chair, "/issue", base).status_code == 303
    assert _post(chair, "/return", {**base, "count": str(returned)}).status_code == 303


def _invalid(token: str, ballot_qr: str, **over: str) -> dict[str, str]:
    return {
        "csrf": token,
        "form": "member",
        "post": "committee",
        "reason": "identifying_marks",
        "qr": ballot_qr,
        "key": "0",
        "passphrase": PASS0,
        **over,
    }


def _signatures(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM checkpoint_signatures").fetchone()[0])
    finally:
        conn.close()


# -- a ballot declared invalid (RP-3.8) -----------------------------------------------------------
def test_declared_invalid_with_the_scrutineers_passphrase_is_entered_and_verifies(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    _round_returned(app, driver)
    teller, token = _client(app, "teller")
    page = teller.get(f"{PREFIX}/enter?post=committee").text
    assert "宣布为无效票（须监票人确认）" in page
    assert "黄德明" in page and "赵红梅" in page
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    r = _post(teller, "/invalid", _invalid(token, qr, key="1", passphrase=PASS1))
    assert r.status_code == 303, r.text
    assert log_types(driver.store.path)[-1] == "ballot.declared_invalid"
    after = teller.get(f"{PREFIX}/enter?post=committee").text
    assert "已作为无效票录入" in after and "1 / 2" in after
    # the file reopens: the confirmation verifies against the definition's scrutineer key
    ProcedureStore.open(driver.store.path).close()
    # the teller may undo it as any own last entry
    ballot_id = driver.ballot(Form.MEMBER, "committee", 1, 0)[0]
    r = _post(teller, "/withdraw", {"csrf": token, "ballot_id": ballot_id, "post": "committee"})
    assert r.status_code == 303, r.text
    assert log_types(driver.store.path)[-1] == "ballot.withdrawn"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"passphrase": "wrong passphrase"}, "口令不正确"),
        ({"passphrase": PASS1}, "口令不正确"),  # the other scrutineer's passphrase
        ({"key": ""}, "须由监票人选择本人的密钥"),
        ({"key": "7"}, "须由监票人选择本人的密钥"),
        ({"reason": "torn"}, "请选择无效票的理由"),
        ({"qr": "BP1:NOTAQR"}, "二维码"),
    ],
    ids=[
        "wrong-passphrase",
        "other-scrutineers-passphrase",
        "no-key",
        "key-out-of-range",
        "unknown-reason",
        "bad-qr",
    ],
)
def test_declared_invalid_refusals_store_nothing_and_never_echo_the_passphrase(
    service: tuple[FastAPI, StoreDriver], over: dict[str, str], message: str
) -> None:
    app, driver = service
    _round_returned(app, driver)
    teller, token = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    before = log_types(driver.store.path)
    r = _post(teller, "/invalid", _invalid(token, qr, **over))
    assert r.status_code == 409, r.text
    assert message in r.text
    assert over.get("passphrase", PASS0) not in r.text
    assert "wrong passphrase" not in r.text
    assert log_types(driver.store.path) == before


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ("secretary", "票的种类或职位不符"),
        ("other", "不属于本支部本次换届"),
        ("entered", "已经录入过"),
    ],
    ids=["another-posts-ballot", "another-procedures-ballot", "entered-twice"],
)
def test_declared_invalid_of_a_ballot_not_in_the_round_is_refused(
    service: tuple[FastAPI, StoreDriver], ballot: str, message: str
) -> None:
    app, driver = service
    _round_returned(app, driver)
    teller, token = _client(app, "teller")
    qr = {
        "secretary": driver.ballot(Form.MEMBER, "secretary", 1, 0)[1],
        "other": other_procedure_qr(Form.MEMBER, "committee", 1),
        "entered": driver.ballot(Form.MEMBER, "committee", 1, 0)[1],
    }[ballot]
    if ballot == "entered":
        assert _post(teller, "/invalid", _invalid(token, qr)).status_code == 303
    before = log_types(driver.store.path)
    r = _post(teller, "/invalid", _invalid(token, qr))
    assert r.status_code == 409, r.text
    assert message in r.text
    assert log_types(driver.store.path) == before


def test_declared_invalid_needs_a_teller_and_the_forms_token(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    _round_returned(app, driver)
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    before = log_types(driver.store.path)
    chair, token = _client(app, "chair")
    r = _post(chair, "/invalid", _invalid(token, qr))
    assert r.status_code == 403
    assert "计票人" in r.text
    teller, _ = _client(app, "teller")
    r = _post(teller, "/invalid", _invalid("", qr))
    assert r.status_code == 403
    assert log_types(driver.store.path) == before


def test_a_key_file_swapped_for_another_roles_is_refused_on_the_page(
    service: tuple[FastAPI, StoreDriver], tmp_path: Path
) -> None:
    """A key of another role never signs, even if the file is replaced after start-up."""
    app, driver = service
    _round_returned(app, driver)
    path = app.state.procedure.scrutineers[0].path
    other = key_file(tmp_path, keys.Role.WORK_GROUP, "工作组", 3, PASS0)
    path.write_bytes(other.read_bytes())
    teller, token = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    before = log_types(driver.store.path)
    r = _post(teller, "/invalid", _invalid(token, qr))
    assert r.status_code == 409
    assert "不是监票人密钥" in r.text
    assert log_types(driver.store.path) == before


def test_without_scrutineer_keys_the_page_names_the_option_and_refuses(tmp_path: Path) -> None:
    app, driver = make_service(tmp_path)
    try:
        _round_returned(app, driver)
        teller, token = _client(app, "teller")
        assert "--scrutineer-key" in teller.get(f"{PREFIX}/enter?post=committee").text
        _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
        r = _post(teller, "/invalid", _invalid(token, qr))
        assert r.status_code == 409
        assert "须由监票人选择本人的密钥" in r.text
    finally:
        app.state.procedure.close()
        driver.store.close()


# -- key files at start-up -------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["work-group", "another-procedure", "twice", "missing"])
def test_the_service_refuses_to_start_with_a_key_file_not_of_the_procedures_scrutineers(
    tmp_path: Path, which: str
) -> None:
    (tmp_path / "a").mkdir()
    app, driver = make_service(tmp_path / "a")
    app.state.procedure.close()
    good = scrutineer_key_files(tmp_path / "keys")
    bad = {
        "work-group": (key_file(tmp_path, keys.Role.WORK_GROUP, "工作组", 3, PASS0),),
        "another-procedure": (key_file(tmp_path, keys.Role.SCRUTINEER, "外人", 9, PASS0),),
        "twice": (good[0], good[0]),
        "missing": (tmp_path / "nowhere.key",),
    }[which]
    config = ProcedureServiceConfig(
        driver.store.path, tmp_path / "a" / "service", signer=None, scrutineer_keys=bad
    )
    with pytest.raises(SessionError) as info:
        create_app(config)
    assert info.value.code == "procedure.scrutineer_key"
    driver.store.close()


# -- co-signatures of the counts (RP-11.2) ---------------------------------------------------------
def _counted(app: FastAPI, driver: StoreDriver) -> None:
    """Round 1's committee of the members, two ballots entered and counted through the pages."""
    _round_returned(app, driver)
    teller, t_token = _client(app, "teller")
    for i in range(2):
        _, qr = driver.ballot(Form.MEMBER, "committee", 1, i)
        data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr}
        assert _post(teller, "/enter", data).status_code == 303
    chair, token = _client(app, "chair")
    r = _post(chair, "/count", {"csrf": token, "form": "member", "post": "committee"})
    assert r.status_code == 303, r.text


def test_each_scrutineer_co_signs_the_count_on_the_page(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    _counted(app, driver)
    scrutineer, token = _client(app, "scrutineer")
    page = scrutineer.get(f"{PREFIX}/cosign").text
    assert "党员推荐（支部委员会委员）第 1 轮" in page
    assert page.count("待签署") >= 2
    assert "待监票人签署" in scrutineer.get(f"{PREFIX}/").text
    signatures = _signatures(driver.store.path)
    r = _post(scrutineer, "/cosign", {"csrf": token, "key": "0", "passphrase": PASS0})
    assert r.status_code == 303, r.text
    assert _signatures(driver.store.path) == signatures + 1
    page = scrutineer.get(f"{PREFIX}/cosign").text
    assert "已签署 1 个计票检查点" in page
    assert "✓ 已签署" in page
    # the chair's laptop: the second scrutineer types their own passphrase
    chair, c_token = _client(app, "chair")
    r = _post(chair, "/cosign", {"csrf": c_token, "key": "1", "passphrase": PASS1})
    assert r.status_code == 303, r.text
    assert "全部计票检查点都已由全体监票人签署" in chair.get(f"{PREFIX}/cosign").text
    assert "待监票人签署" not in chair.get(f"{PREFIX}/").text
    ProcedureStore.open(driver.store.path).close()


@pytest.mark.parametrize(
    ("who", "form", "status", "message"),
    [
        ("scrutineer", {"key": "0", "passphrase": "wrong passphrase"}, 409, "口令不正确"),
        ("scrutineer", {"key": "", "passphrase": PASS0}, 409, "须由监票人选择本人的密钥"),
        ("teller", {"key": "0", "passphrase": PASS0}, 403, "主持人"),
        ("scrutineer", {"key": "0", "passphrase": PASS0, "csrf": ""}, 403, "安全令牌"),
    ],
    ids=["wrong-passphrase", "no-key", "teller", "no-token"],
)
def test_co_signature_refusals_store_nothing(
    service: tuple[FastAPI, StoreDriver],
    who: str,
    form: dict[str, str],
    status: int,
    message: str,
) -> None:
    app, driver = service
    _counted(app, driver)
    client, token = _client(app, who)
    signatures = _signatures(driver.store.path)
    r = _post(client, "/cosign", {"csrf": token, **form})
    assert r.status_code == status, r.text
    assert message in r.text
    assert "wrong passphrase" not in r.text
    assert _signatures(driver.store.path) == signatures


def test_a_co_signature_twice_is_refused_and_stores_nothing(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    _counted(app, driver)
    scrutineer, token = _client(app, "scrutineer")
    assert (
        _post(scrutineer, "/cosign", {"csrf": token, "key": "0", "passphrase": PASS0}).status_code
        == 303
    )
    signatures = _signatures(driver.store.path)
    r = _post(scrutineer, "/cosign", {"csrf": token, "key": "0", "passphrase": PASS0})
    assert r.status_code == 409
    assert "没有待签署的" in r.text
    assert _signatures(driver.store.path) == signatures


def test_the_cosign_page_before_any_count_says_so(service: tuple[FastAPI, StoreDriver]) -> None:
    app, _ = service
    scrutineer, token = _client(app, "scrutineer")
    page = scrutineer.get(f"{PREFIX}/cosign").text
    assert "还没有计票结果" in page
    r = _post(scrutineer, "/cosign", {"csrf": token, "key": "0", "passphrase": PASS0})
    assert r.status_code == 409
    assert "没有待签署的" in r.text
    assert "No count yet" in scrutineer.get(f"{PREFIX}/cosign?lang=en").text


# -- RP-3.2 through the pages ----------------------------------------------------------------------
def test_a_members_session_without_a_scrutineer_present_is_refused_on_the_page(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _client(app, "chair")
    scrutineers = set(driver.procedure.officials.scrutineers)
    members = [m for m in driver.procedure.expected_electors if m not in scrutineers][:20]
    before = log_types(driver.store.path)
    r = _post(chair, "/open", {"csrf": token, "group": "member", "member": members})
    assert r.status_code == 409
    assert "党员推荐的监票人须是到会的有选举权党员" in r.text
    assert log_types(driver.store.path) == before
