"""The remote voting page, version 2 (spec/remote-v2.md §6), in Debian chromium at phone size
(360×640), against the stand-in API of tests/helpers/remote_v2_stub.py (real keys, real checks;
the service's own v2 routes are written on another branch).

The member redeems the invitation, marks the listed candidates, writes in from the post's write-in
list (search by name), is held to the seats and, under write_in_requires_disapproval, to as many
write-ins as × marks (the page says why), sees RV-6.3's warning when few members vote remotely,
casts a ballot encrypted and proven on the device that Python's check accepts and whose choices
decrypt to what was marked, sees the receipt's first 16 hex digits once the service's check
accepted it (a refusal is said and casting again offered, RV-6.4), and checks it: accepted while
remote voting is open, logged with a valid inclusion proof after the close.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from keys import elgamal as eg
from tests.browser.conftest import SHOTS
from tests.helpers.remote_ballot_v2 import check_ballot_v2, decrypt_count
from tests.helpers.remote_v2_stub import StubV2, serve_stub

PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Record each distinct text of the encryption progress (#enc-text) as the page shows it.
PROGRESS_WATCH = """() => {
  window.progressSeen = [];
  const t = document.getElementById('enc-text');
  new MutationObserver(() => {
    const seen = window.progressSeen;
    if (seen[seen.length - 1] !== t.textContent) seen.push(t.textContent);
  }).observe(t, { childList: true, characterData: true, subtree: true });
}"""


def _code(seed: str) -> str:
    """A well-formed invitation code (RM-3.1: 23 symbols and a check symbol)."""
    body = "".join(CROCKFORD[b % 32] for b in hashlib.sha256(seed.encode()).digest()[:23])
    h = hashlib.sha256(b"branch-election/invitation-check/1\x00" + body.encode()).digest()
    return body + CROCKFORD[h[0] >> 3]


@pytest.fixture(scope="module")
def plain() -> Iterator[tuple[StubV2, str]]:
    """Four members approved for remote voting, no write-in rule."""
    stub = StubV2()
    with serve_stub(stub) as base:
        yield stub, base


@pytest.fixture
def closable() -> Iterator[tuple[StubV2, str]]:
    """Like ``plain``, for the test that closes remote voting."""
    stub = StubV2()
    with serve_stub(stub) as base:
        yield stub, base


@pytest.fixture(scope="module")
def ruled() -> Iterator[tuple[StubV2, str]]:
    """write_in_requires_disapproval, and only two members approved (RV-6.3's warning)."""
    stub = StubV2(approved=("M020", "M025"), rule=True)
    with serve_stub(stub) as base:
        yield stub, base


@pytest.fixture
def phone(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        yield page, errors
    finally:
        context.close()


def _redeem(page: Any, stub: StubV2, base: str, seed: str, lang: str = "zh") -> None:
    query = "?lang=en" if lang == "en" else ""
    page.goto(f"{base}/vote/{query}#code={_code(seed)}&pin={stub.pin()}")
    page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
    page.click("#redeem")
    page.wait_for_selector("#s-ballot:not([hidden]), #code-err:not([hidden])", timeout=30_000)
    assert page.is_visible("#s-ballot"), page.inner_text("#code-err")


def _post(page: Any, post: str) -> Any:
    return page.locator(f'.post[data-post="{post}"]')


def _mark(page: Any, post: str, marks: str) -> None:
    cands = _post(page, post).locator(".cand")
    for i, m in enumerate(marks):
        cands.nth(i).locator(f'button[data-mark="{m}"]').click()


def _search(page: Any, post: str, text: str) -> Any:
    box = _post(page, post)
    box.locator("input.wi-q").fill(text)
    return box.locator(".wi-results .wi-pick")


def _pick(page: Any, post: str, member: str, name: str) -> None:
    hits = _search(page, post, name)
    hits.and_(page.locator(f'[data-member="{member}"]')).click()
    assert _post(page, post).locator(f'.wi-chosen [data-member="{member}"]').count() == 1


# ----------------------------------------------------------------------------- hostile service


def _tamper(page: Any, pattern: str, change: Any) -> None:
    """Answer requests matching ``pattern`` with the stub's answer passed through ``change``."""

    def handle(route: Any) -> None:
        response = route.fetch()
        doc = response.json()
        change(doc)
        route.fulfill(status=response.status, json=doc)

    page.route(pattern, handle)


def test_write_in_lists_other_than_the_logged_ones_stop_the_page_RV_2_1(
    plain: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    """A redemption whose write-in list is reordered (a write-in of one member would count for
    another) is refused against the remote.opened entry the check code pinned."""
    stub, base = plain
    page, errors = phone

    def swap(doc: dict[str, Any]) -> None:
        members = doc["write_in_lists"][0]["members"]
        members[0], members[1] = members[1], members[0]

    _tamper(page, "**/api/remote/redeem*", swap)
    page.goto(f"{base}/vote/#code={_code('swap')}&pin={stub.pin()}")
    page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
    page.click("#redeem")
    page.wait_for_selector("#code-err:not([hidden])", timeout=30_000)
    assert "另选名单与选举记录不符" in page.inner_text("#code-err")
    assert not page.is_visible("#s-ballot")
    assert not errors, errors


def test_an_election_key_other_than_the_logged_one_stops_the_page_before_redeeming(
    plain: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    """RM-10.3 for version 2: the key the page would encrypt under must be the logged one."""
    stub, base = plain
    page, errors = phone
    other = eg.generate_threshold_key(k=1, n=1)[0].to_json()
    _tamper(page, "**/api/remote/info*", lambda doc: doc.update(election_key=other))
    redeemed: list[str] = []
    page.on("request", lambda r: redeemed.append(r.url) if "/redeem" in r.url else None)
    page.goto(f"{base}/vote/#code={_code('key')}&pin={stub.pin()}")
    page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
    page.click("#redeem")
    page.wait_for_selector("#code-err:not([hidden])", timeout=30_000)
    assert "校验码不符" in page.inner_text("#code-err")
    assert redeemed == []
    assert not errors, errors


def test_a_receipt_other_than_the_one_the_device_computed_is_flagged_RV_3_6(
    closable: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = closable
    page, errors = phone
    _tamper(page, "**/api/remote/cast*", lambda doc: doc.update(receipt="ab" * 32))
    _redeem(page, stub, base, "receipt")
    page.click("#to-confirm")
    page.wait_for_selector("#s-confirm:not([hidden])")
    page.click("#cast")
    page.wait_for_selector("#s-receipt:not([hidden])", timeout=30_000)
    assert page.locator("#receipt-bad").count() == 1
    ((receipt, _),) = stub.casts.items()
    assert page.inner_text("#r-hash").replace(" ", "") == receipt[:16]  # its own, not the server's
    assert not errors, errors


# ----------------------------------------------------------------------------- limits first


def test_the_seats_limit_holds_for_listed_and_written_in_choices_and_the_page_says_why(
    plain: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = plain
    page, errors = phone
    _redeem(page, stub, base, "seats")
    # Secretary, 1 seat: the listed candidate approved, no write-in can be added.
    _mark(page, "secretary", "o")
    hits = _search(page, "secretary", "杨")
    assert hits.count() == 1 and hits.first.is_disabled()
    why = _post(page, "secretary").locator(".wi-why")
    assert why.is_visible() and "已选满应选的 1 名" in why.inner_text()
    # Committee, 5 seats: 4 approvals and 1 write-in fill it; a further write-in is refused.
    _mark(page, "committee", "oooo")
    _pick(page, "committee", "M008", "杨丽")
    assert "已选 5 / 5" in _post(page, "committee").locator(".tallyline").inner_text()
    assert _search(page, "committee", "王伟").first.is_disabled()
    page.screenshot(path=str(SHOTS / "remote-v2-full-phone.png"), full_page=True)
    # A fifth approval makes 6 for 5 seats: shown, and the ballot cannot go on.
    _mark(page, "committee", "ooooo")
    err = _post(page, "committee").locator(".post-err")
    assert err.is_visible() and "多于应选" in err.inner_text()
    assert page.is_disabled("#to-confirm")
    # Removing the write-in brings it back to 5.
    _post(page, "committee").locator('.wi-chosen [data-member="M008"] button.remove').click()
    assert page.is_enabled("#to-confirm")
    assert not stub.casts and not errors, errors


def test_write_ins_need_as_many_disapprovals_under_the_rule_RV_3_4(
    ruled: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = ruled
    page, errors = phone
    _redeem(page, stub, base, "rule")
    box = _post(page, "committee")
    assert "每另选一人，须对一名候选人划 ×" in box.locator("p.wi-title").inner_text()
    # No × yet: no write-in, and the page says why.
    assert _search(page, "committee", "杨丽").first.is_disabled()
    assert "请先对一名候选人划 ×" in box.locator(".wi-why").inner_text()
    assert "还可另选 0 人" in box.locator(".wi-room").inner_text()
    # One × allows one write-in, and no second.
    _mark(page, "committee", "x")
    _pick(page, "committee", "M008", "杨丽")
    assert _search(page, "committee", "黄德明").first.is_disabled()
    # Taking the × back breaks the rule: shown, and the ballot cannot go on.
    _mark(page, "committee", "-")
    assert "另选了 1 人，但只划了 0 个 ×" in box.locator(".post-err").inner_text()
    assert page.is_disabled("#to-confirm")
    _mark(page, "committee", "x")
    assert page.is_enabled("#to-confirm")
    assert not errors, errors


# ----------------------------------------------------------------------------- the ballot


def test_the_v2_ballot_renders_in_chinese_at_phone_width_with_the_write_in_lists(
    plain: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = plain
    page, errors = phone
    _redeem(page, stub, base, "render")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_attribute("body", "data-version") == "2"
    assert [h.inner_text() for h in page.locator(".post h2").all()] == ["委员", "书记"]
    assert "在本机加密" in page.locator(".legend-help").inner_text()
    assert _post(page, "committee").locator(".cand").count() == 6
    # The write-in list: search by name; two members share a name and are told apart by id;
    # the post's own candidates are not on it (RV-2.1).
    hits = _search(page, "committee", "王伟")
    assert [h.get_attribute("data-member") for h in hits.all()] == ["M024", "M025"]
    assert _search(page, "committee", "丁建国").count() == 0
    assert "只能另选名单中的党员" in _post(page, "committee").locator(".wi-note").inner_text()
    _search(page, "committee", "")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    page.screenshot(path=str(SHOTS / "remote-v2-ballot-phone.png"), full_page=True)
    assert not errors, errors


def test_a_member_casts_a_v2_ballot_python_accepts_and_checks_the_receipt(
    closable: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = closable
    page, errors = phone
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    _redeem(page, stub, base, "cast")
    _mark(page, "committee", "oox-o")
    _pick(page, "committee", "M008", "杨丽")
    _pick(page, "committee", "M025", "王伟")
    _pick(page, "secretary", "M009", "黄德明")
    page.click("#to-confirm")
    page.wait_for_selector("#s-confirm:not([hidden])")
    summary = page.inner_text("#summary")
    assert "杨丽（另选）" in summary and "黄德明（另选）" in summary
    assert not page.is_visible("#privacy-warn")  # four members vote remotely
    page.evaluate(PROGRESS_WATCH)
    page.click("#cast")
    page.wait_for_selector("#s-receipt:not([hidden]), #cast-err:not([hidden])", timeout=30_000)
    assert page.is_visible("#s-receipt"), page.inner_text("#cast-err")
    assert page.locator("#receipt-bad").count() == 0
    # The progress of encryption was shown, post by post, then the sending.
    assert page.evaluate("window.progressSeen") == [
        "正在加密并生成证明（0/2）……",
        "正在加密并生成证明（1/2）……",
        "正在加密并生成证明（2/2）……",
        "正在投出……",
        "选票已送达，正在核验……",  # RV-6.4: the receipt is shown once the check accepts it
    ]
    page.screenshot(path=str(SHOTS / "remote-v2-receipt-phone.png"), full_page=True)
    ((receipt, body),) = stub.casts.items()
    assert page.inner_text("#r-hash").replace(" ", "") == receipt[:16]
    assert set(body) == {"token", "token_prefix", "token_signature", "ballot"}
    assert stub.refusals == []
    # Python's check accepts the body as sent, and the ballot encrypts exactly what was marked.
    token = base64.b64decode(body["token"])
    assert (
        check_ballot_v2(stub.election_id, stub.key, stub.shapes, body["ballot"], token=token)
        == receipt
    )
    committee_list = [m["member"] for m in stub.lists["committee"]]
    secretary_list = [m["member"] for m in stub.lists["secretary"]]
    want_committee = [1, 1, 0, 0, 1, 0] + [int(m in {"M008", "M025"}) for m in committee_list]
    want_secretary = [0, 0] + [int(m == "M009") for m in secretary_list]
    got = [
        [decrypt_count(stub.key, stub.shares, stub.election_id, ct, bound=1) for ct in p["choices"]]
        for p in body["ballot"]["posts"]
    ]
    assert got == [want_committee, want_secretary]
    assert page.evaluate("Object.keys(sessionStorage).length") == 0  # credential spent
    # Before the close the receipt is accepted, not logged (RV-4.4); after it, logged and proven.
    page.click("#to-check")
    page.wait_for_selector("body[data-ready]")
    assert page.input_value("#hash") == receipt
    assert page.locator("#seq").count() == 0  # no record number: the casts are logged at the close
    page.click("#check")
    page.wait_for_selector("body[data-check]", timeout=20_000)
    assert page.get_attribute("body", "data-check") == "pending", page.inner_text("#steps")
    stub.close()
    page.reload()
    page.wait_for_selector("body[data-ready]")
    page.click("#check")
    page.wait_for_selector("body[data-check]", timeout=20_000)
    assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
    page.screenshot(path=str(SHOTS / "remote-v2-check-phone.png"), full_page=True)
    # Offline once loaded: every request went to the page's own origin, the page and its API.
    assert requests and all(
        u.startswith(f"{base}/vote/") or u.startswith(f"{base}/api/remote/") for u in requests
    ), requests
    assert not errors, errors


def test_a_ballot_refused_by_the_check_is_said_and_cast_anew_RV_6_4(
    phone: tuple[Any, list[str]],
) -> None:
    stub = StubV2()
    stub.refuse_next = 1  # the checker refuses the first cast after the answer (RV-4.5)
    page, errors = phone
    with serve_stub(stub) as base:
        _redeem(page, stub, base, "refused")
        _mark(page, "committee", "o")
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.click("#cast")
        page.wait_for_selector("#cast-err:not([hidden]), #s-receipt:not([hidden])", timeout=30_000)
        said = page.inner_text("#cast-err")
        assert "未通过服务器核验" in said and "总和证明不成立" in said, said
        assert page.inner_text("#cast") == "再投一次"
        assert page.evaluate("Object.keys(sessionStorage).length") > 0  # the credential is kept
        (refused,) = stub.refused
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden])", timeout=30_000)
        ((receipt, _body),) = stub.casts.items()
        assert receipt != refused  # encrypted anew: fresh randomness, another receipt
        assert page.inner_text("#r-hash").replace(" ", "") == receipt[:16]
        assert page.evaluate("Object.keys(sessionStorage).length") == 0  # now spent
    assert not errors, errors


def test_few_remote_voters_are_warned_and_the_ruled_ballot_is_accepted_RV_6_3(
    ruled: tuple[StubV2, str], phone: tuple[Any, list[str]]
) -> None:
    stub, base = ruled
    page, errors = phone
    _redeem(page, stub, base, "warned")
    _mark(page, "committee", "oxx")
    _pick(page, "committee", "M008", "杨丽")
    _pick(page, "committee", "M009", "黄德明")
    _mark(page, "secretary", "x")
    page.click("#to-confirm")
    page.wait_for_selector("#s-confirm:not([hidden])")
    warn = page.locator("#privacy-warn")
    assert warn.is_visible() and "只有 2 名党员获准远程投票" in warn.inner_text()
    page.screenshot(path=str(SHOTS / "remote-v2-warning-phone.png"), full_page=True)
    page.click("#cast")
    page.wait_for_selector("#s-receipt:not([hidden]), #cast-err:not([hidden])", timeout=30_000)
    assert page.is_visible("#s-receipt"), page.inner_text("#cast-err")
    assert stub.refusals == [] and len(stub.casts) == 1
    (body,) = stub.casts.values()
    counts = [
        decrypt_count(stub.key, stub.shares, stub.election_id, p["disapprovals"]["count"], bound=9)
        for p in body["ballot"]["posts"]
    ]
    assert counts == [2, 1]
    assert not errors, errors


def test_the_v2_ballot_in_english(plain: tuple[StubV2, str], phone: tuple[Any, list[str]]) -> None:
    stub, base = plain
    page, errors = phone
    _redeem(page, stub, base, "english", lang="en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert [h.inner_text() for h in page.locator(".post h2").all()] == ["committee", "secretary"]
    box = _post(page, "secretary")
    assert "You can write in 1 more." in box.locator(".wi-room").inner_text()
    assert box.locator("input.wi-q").get_attribute("placeholder") == "Type a name to search"
    assert not errors, errors
