"""Fuzz the station's HTML forms and pages (not in the OpenAPI schema) with hypothesis-generated
fields, as no one, as each role, with a valid, missing or forged CSRF token: no request gets a
5xx, every refused one (4xx) changes nothing stored, and no GET changes anything at all.

The same election stays open across examples, so accepted commands (a check-in, a ballot entered,
a round closed) move it on and later examples meet other states.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.budget import fuzz_settings
from tests.fuzz.mutations import mutated_text
from tests.fuzz.service import ROLES, Service, json_code, running_service

pytestmark = pytest.mark.fuzz

COMMANDS = (
    "/station/login",
    "/station/logout",
    "/station/checkin",
    "/station/print",
    "/station/issue",
    "/station/return",
    "/station/count/enter",
    "/station/count/invalid",
    "/station/count/withdraw",
    "/station/count/mode",
    "/station/close",
    "/station/decide",
    "/station/result",
    "/station/publish",
)
PAGES = (
    "/station",
    "/station/",
    "/station/login",
    "/station/checkin",
    "/station/ballots",
    "/station/count",
    "/station/tally",
    "/station/result",
    "/station/downloads",
    "/station/files/notice.pdf",
    "/station/files/bundle.zip",
    "/station/api/live",
    "/station/api/scan",
    "/vote/",
    "/vote/receipt",
    "/board/",
    "/api/docs",
    "/api/docs/init.js",
    "/api/openapi.json",
)
FIELDS = (
    *[
        "csrf",
        "member",
        "leave",
        "count",
        "qr",
        "kind",
        "post",
        "signed",
        "reason",
        "name",
        "password",
        "passphrase",
        "key",
    ],
    *["double", "ballot_id", "agreement", "seats", "consent", "next", "q", "lang", "round"],
    *(f"m{i}" for i in range(8)),
    *(f"{p}{i}" for p in ("w", "wm") for i in range(3)),
)
WORDS = (
    *[
        "o",
        "x",
        "-",
        "?",
        "○",
        "committee",
        "secretary",
        "deputy_secretary",
        "1",
        "0",
        "-1",
        "25",
        "on",
        "yes",
        "en",
        "zh",
    ],
    *["M001", "M003", "M020", "M025", "M999", "blank", "unreadable", "marked_other"],
    "王卫东",
    "/station/",
    "//evil.example/",
    "https://evil.example/",
    "\u0000",
    "9" * 7,
    "x" * 300,
)


def _values(service: Service) -> st.SearchStrategy[Any]:
    one = st.one_of(
        st.sampled_from(WORDS),
        st.text(max_size=30),
        st.integers(-(10**9), 10**9).map(str),
        st.sampled_from(service.qr),
        # a lone surrogate cannot be sent at all: the client would refuse it, not the service
        mutated_text(service.qr[:3], max_edits=2).map(
            lambda t: t.encode("utf-8", "replace").decode("utf-8")
        ),
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(Path(tmp_path_factory.mktemp("station"))) as svc:
        yield svc


def _check(service: Service, response: Any, before: str, *, safe: bool) -> None:
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    assert response.status_code < 500, (where, response.text[-1500:])
    if safe or response.status_code >= 400:
        assert service.snapshot() == before, f"{where}: stored something"
    if response.status_code >= 400 and "/api/" in str(response.request.url):
        assert json_code(response), (where, response.text[:500])


@fuzz_settings(80)
@given(data=st.data())
def test_station_form_never_fails_and_refusals_change_nothing(
    service: Service, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(COMMANDS), label="path")
    # Mostly a signed-in user with a valid token: the fuzzer should reach the commands.
    user = data.draw(st.sampled_from([None, *ROLES, "chair", "teller"]), label="user")
    token = data.draw(st.sampled_from(["valid"] * 4 + ["missing", "forged"]), label="csrf")
    form: dict[str, Any] = data.draw(
        st.dictionaries(
            st.sampled_from(FIELDS) | st.text(max_size=8), _values(service), max_size=8
        ),
        label="form",
    )
    if token == "valid" and user is not None and path != "/station/logout":
        form["csrf"] = service.csrf[user]
    elif token == "missing":
        form.pop("csrf", None)
    if path == "/station/print" and not (
        str(form.get("count", "")).isdigit() and int(form["count"]) <= 40
    ):
        form["count"] = "30"  # a chair may print 5000 ballots; the fuzzer need not wait for it
    query = data.draw(
        st.sampled_from(["", "?lang=en", "?q=M00", "?next=//evil.example/"]), label="query"
    )
    # Raw bytes no form encoder writes: invalid UTF-8 and broken percent escapes.
    raw = data.draw(st.sampled_from(["", "&%FF=%FE", "&m0=%C0%80", "&a=%", "&%%=&&", "&=x"]))
    before = service.snapshot()
    response = service.client.post(
        path + query,
        content=urlencode(form, doseq=True) + raw,
        headers={"content-type": "application/x-www-form-urlencoded", **service.headers(user)},
        follow_redirects=False,
    )
    event(f"{path} {response.status_code}")  # --hypothesis-show-statistics: what was reached
    to_login = response.status_code == 303 and response.headers["location"].startswith(
        "/station/login"
    )
    _check(service, response, before, safe=to_login and path != "/station/login")
    if response.status_code == 303:
        assert not response.headers["location"].startswith(("//", "http")), "open redirect"


@fuzz_settings(60)
@given(data=st.data())
def test_station_page_never_fails_and_changes_nothing(
    service: Service, data: st.DataObject
) -> None:
    path = data.draw(
        st.one_of(
            st.sampled_from(PAGES),
            st.builds(
                "{}{}".format,
                st.sampled_from(["/station/files/stock/", "/station/files/sheet/"]),
                st.sampled_from(["committee-1.pdf", "committee-9.pdf", "..%2Fe.db", "x.zip"])
                | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._%", max_size=20),
            ),
        ),
        label="path",
    )
    user = data.draw(st.sampled_from([None, *ROLES]), label="user")
    params = data.draw(
        st.dictionaries(
            st.sampled_from(FIELDS) | st.text(max_size=8), _values(service), max_size=4
        ),
        label="params",
    )
    before = service.snapshot()
    response = service.client.get(
        path, params=params, headers=service.headers(user), follow_redirects=False
    )
    _check(service, response, before, safe=True)
