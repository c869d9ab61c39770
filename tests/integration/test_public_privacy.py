"""Nothing personal is public (issue 14.3): every route that answers without a sign-in, walked
in zh and en, shows no birth date, education, status, exclusion category, non-candidate's name or
non-candidate's member id of the example election, and no roster.

The routes are enumerated from the app itself (``app.routes``), so a new public route is walked
as soon as it exists: a route counts as public when it answers without a session cookie with
anything other than a refusal for want of a sign-in (401/403, or a redirect to the login page).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import ballot_printer
import keys
from keys import remote_ballot
from keys.remote_tokens import begin_token_request, finish_token_request, load_issuer_public_key
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.model import Election, zh_label
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.remote_device import ballot_context, choices_for
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M020", "M025"]
PASSPHRASE = "privacy test passphrase 2026"
# Query values tried for a route's required query parameters (each value, one request).
QUERY_VALUES: dict[str, tuple[str, ...]] = {"seq": tuple(str(i) for i in range(40))}
# The routes that must be found public: the test cannot pass by finding nothing.
MUST_BE_PUBLIC = {
    "/api/remote/info",
    "/api/remote/pin",
    "/api/remote/receipt",
    "/vote/",
    "/vote/receipt",
    "/board/",
    "/api/board",
    "/api/board/checkpoints",
    "/api/board/proof",
}


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@dataclass
class Public:
    client: TestClient
    app: Any
    election: Election
    # (what was asked, response text, what it may show) of the journey's POSTs: the redemption
    # answers the invitation's holder with the write-in lists' names and ids (RV-2.3)
    bodies: list[tuple[str, str, frozenset[str]]]
    query_values: dict[str, tuple[str, ...]]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Public]:
    tmp = tmp_path_factory.mktemp("privacy")
    mp = pytest.MonkeyPatch()
    mp.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    election = parse_definition(text)
    manifest = build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    data = tmp / "svc"
    s = ElectionSession.init(
        SessionConfig(tmp / "e.db", passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.check_in(["M001", "M007", "M021"])
    s.remote.open(signer=wg, k=1, data_dir=data)
    code = s.remote.issue_invitation("M020", data_dir=data)[0]
    s.store.close()
    app = create_app(ServiceConfig(election_path=tmp / "e.db", data_dir=data))
    app.state.service.signer = wg
    bodies: list[tuple[str, str, frozenset[str]]] = []
    with TestClient(app) as client:
        # A member redeems and casts, so receipts, proofs and casts exist to be shown.
        info = client.get("/api/remote/info").json()
        issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
        req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
        r = client.post(
            "/api/remote/redeem", json={"code": code, "blinded_msg": _b64(req.blinded_msg)}
        )
        assert r.status_code == 200, r.text
        lists = r.json()["write_in_lists"]
        listed = frozenset(
            v for w in lists for m in w["members"] for v in (m["name"], f'"{m["member"]}"')
        )
        bodies.append(("POST /api/remote/redeem", r.text, listed))
        cred = finish_token_request(req, issuer, base64.b64decode(r.json()["blind_sig"]))
        ballot = remote_ballot.encrypt_ballot(
            ballot_context(info, lists), cred.token, choices_for(info, lists, {})
        )
        r = client.post(
            "/api/remote/cast",
            json={
                "token": _b64(cred.token),
                "token_prefix": _b64(cred.prefix),
                "token_signature": _b64(cred.signature),
                "ballot": ballot,
            },
        )
        assert r.status_code == 200, r.text
        bodies.append(("POST /api/remote/cast", r.text, frozenset()))
        state = app.state.service
        # Then the count: remote voting closes, the scrutineer decrypts the totals, and the
        # committee's first round is counted with a paper write-in for a member who is not a
        # candidate.
        state.thread.submit(lambda s: _count(s, wg, sc, data), state.session).result()
        values = {**QUERY_VALUES, "receipt": (r.json()["receipt"], "0" * 64)}
        yield Public(client, app, election, bodies, values)
    mp.undo()


def _count(
    s: ElectionSession, wg: keys.InMemorySigner, sc: keys.InMemorySigner, data: Path
) -> None:
    s.remote.close(signer=wg)
    s.remote.decrypt(sc, signer=wg, data_dir=data)
    paper = [f"M{i:03d}" for i in range(1, 27) if i not in (1, 7, 15, 20, 21, 25)]
    s.check_in(paper)
    spec = s.due_round()
    n = len(paper) + 3
    stock = ballot_printer.make_stock(
        election_id=s.manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=spec.number,
        count=n,
        signer=wg,
    )
    s.commit_stock(stock, signer=wg)
    s.issue(count=None, signer=wg)
    s.return_ballots(n, signer=wg)
    qr = [ballot_printer.encode_qr_text(p) for p in stock.payloads]
    s.enter(
        [EntryInput(qr=qr[0], marks="oooox-", write_ins=("杨丽",))]
        + [EntryInput(qr=q, marks="ooooox") for q in qr[1:]]
    )
    s.close(signer=wg)


def _json_value(code: str) -> tuple[str, str]:
    """A code as a JSON member's value, plain and inside a JSON string (an embedded document)."""
    return f':"{code}"', f':\\"{code}\\"'


def _personal_values(e: Election) -> set[str]:
    """Every personal value of the roster as it would be shown: JSON values, zh labels, ids."""
    candidates = {c for p in e.posts for c in p.candidates}
    found: set[str] = {'"birth_date"', '"education"', '"exclusions"', '"roster"'}
    for m in e.members:
        found |= {
            m.birth_date.isoformat(),
            *_json_value(m.education.value),
            *_json_value(m.status.value),
        }
        found |= {zh_label(m.education), zh_label(m.status)}
        if m.id not in candidates:
            found |= {m.name, f'"{m.id}"', f"（{m.id}）", f"({m.id})"}
    for x in e.exclusions:
        found |= {*_json_value(x.category.value), zh_label(x.category)}
    return found


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers at any depth."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's included router (0.16x)
            inner = prefix + str(getattr(route.include_context, "prefix", ""))
            yield from _api_routes(route.original_router.routes, inner)


def _public_gets(
    client: TestClient, app: Any, values: dict[str, tuple[str, ...]]
) -> Iterator[tuple[str, str, Any]]:
    """(route path, URL asked, response) for every GET route that answers without a sign-in."""
    for full, route in _api_routes(app.routes):
        if "GET" not in route.methods:
            continue
        path = re.sub(r"\{[^}]+\}", "x", full)
        required = [q.name for q in route.dependant.query_params if q.field_info.is_required()]
        combos: list[dict[str, str]] = [{}]
        for name in required:
            combos = [dict(c, **{name: v}) for c in combos for v in values.get(name, ("1",))]
        for lang in ("zh", "en"):
            for params in combos:
                r = client.get(path, params={**params, "lang": lang}, follow_redirects=False)
                login = r.is_redirect and "login" in r.headers.get("location", "")
                if r.status_code in (401, 403) or login:
                    continue
                yield full, str(r.url), r


def test_public_routes_show_nothing_personal_in_zh_and_en(public: Public) -> None:
    personal = _personal_values(public.election)
    assert len(personal) > 60  # the example has 30 members, most not candidates
    seen: set[str] = set()
    leaks: list[str] = []
    for route, url, r in _public_gets(public.client, public.app, public.query_values):
        seen.add(route)
        leaks += [f"{url}: {v}" for v in sorted(personal) if v in r.text]
    for what, text, allowed in public.bodies:
        leaks += [f"{what}: {v}" for v in sorted(personal - allowed) if v in text]
    assert seen >= MUST_BE_PUBLIC, MUST_BE_PUBLIC - seen
    assert not leaks, "\n".join(leaks[:400])


def test_public_post_refusals_show_nothing_personal(public: Public) -> None:
    """Every POST route that answers a bad body without a sign-in shows nothing personal either."""
    personal = _personal_values(public.election)
    leaks: list[str] = []
    for full, route in _api_routes(public.app.routes):
        if "POST" not in route.methods:
            continue
        path = re.sub(r"\{[^}]+\}", "x", full)
        for lang in ("zh", "en"):
            r = public.client.post(f"{path}?lang={lang}", json={}, follow_redirects=False)
            leaks += [f"POST {path}: {v}" for v in sorted(personal) if v in r.text]
    assert not leaks, "\n".join(leaks[:400])
