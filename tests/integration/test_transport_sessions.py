"""Issue 14 point 5: transport and sessions.

TLS in ``tally serve`` (Secure cookies, HSTS) over a real handshake; the station and the public
pages on separate bindings; double-entry mode as a logged decision that survives a restart; no
scratch folder left behind by a failed or abandoned download.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nacl.pwhash
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.core.meeting import parse_entry
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers import tls as tls_certs
from tests.helpers.http_session import free_port

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = {"chair": Role.CHAIR, "teller": Role.TELLER, "teller2": Role.TELLER}
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass
class Election:
    db: Path
    data: Path
    wg: keys.InMemorySigner
    town: keys.InMemorySigner
    scrutineer: keys.InMemorySigner

    def config(self, *, extra: dict[str, Any] | None = None, **kw: Any) -> ServiceConfig:
        return ServiceConfig(
            election_path=self.db,
            data_dir=self.data,
            extra={"argon2_limits": FAST, **(extra or {})},
            **kw,
        )


@pytest.fixture
def election(tmp_path: Path) -> Election:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    definition = parse_definition((ROOT / "examples" / "qingshan.toml").read_text("utf-8"))
    manifest = build_manifest(definition, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    db = tmp_path / "e.db"
    ElectionSession.init(db, sign_manifest(manifest, town), wg).store.close()
    data = tmp_path / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, role in ACCOUNTS.items():
        accounts.add(name, role, f"{name}-password")
    return Election(db, data, wg, town, sc)


def _sign_in(client: httpx.Client | TestClient, name: str) -> str:
    """Sign ``name`` in; the session cookie's value (the client keeps no cookie)."""
    client.cookies.clear()
    page = client.get("/station/login")
    pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert pre is not None, page.text[:500]
    r = client.post(
        "/station/login",
        data={"csrf": pre.group(1), "name": name, "password": f"{name}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    sid = r.cookies["tally_session"]
    client.cookies.clear()
    return sid


def _scratch_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR of the test's own: every scratch folder the service makes lands here."""
    root = tmp_path / "scratch"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


# -- 4. downloads leave no scratch folders ---------------------------------------------------------
def test_a_tally_sheet_download_whose_renderer_fails_leaves_no_scratch_folder(
    election: Election, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def jammed(paper: Any, out: Path, **_: Any) -> Path:
        Path(out).write_bytes(b"%PDF-1.4 half a page")
        raise RuntimeError("printer jam")

    monkeypatch.setattr(ballot_printer, "render_tally_sheet", jammed)
    app = create_app(election.config())
    with TestClient(app, raise_server_exceptions=False) as client:
        sid = _sign_in(client, "chair")
        before = _scratch_dirs(private_tmp)
        r = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert r.status_code == 500
        assert _scratch_dirs(private_tmp) == before


def test_a_refused_tally_sheet_download_leaves_no_scratch_folder(
    election: Election, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(paper: Any, out: Path, **_: Any) -> Path:
        raise ballot_printer.OutputError(zh="无法写入", en="cannot write")

    monkeypatch.setattr(ballot_printer, "render_tally_sheet", refused)
    app = create_app(election.config())
    with TestClient(app) as client:
        sid = _sign_in(client, "chair")
        before = _scratch_dirs(private_tmp)
        r = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert r.status_code == 409
        assert _scratch_dirs(private_tmp) == before


def test_a_tally_sheet_download_abandoned_mid_stream_leaves_no_scratch_folder(
    election: Election, private_tmp: Path
) -> None:
    """The client goes away while the PDF is being sent: the server's ``send`` raises (ASGI 2.4:
    ``OSError`` on a closed connection), so nothing after the response, such as a background
    task, runs."""
    app = create_app(election.config())
    with TestClient(app) as client:
        sid = _sign_in(client, "chair")
        ok = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
        assert _scratch_dirs(private_tmp) == []
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/station/files/sheet/committee-1.pdf",
            "raw_path": b"/station/files/sheet/committee-1.pdf",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", f"tally_session={sid}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "extensions": {},
        }
        sent: list[str] = []
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not sent:
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])
            if message["type"] == "http.response.body":
                gone.set()
                raise OSError("the client went away")

        async def abandon() -> None:
            with contextlib.suppress(OSError, ExceptionGroup):
                await app(scope, receive, send)
            await asyncio.sleep(0.2)  # anything the response scheduled has run

        client.portal.call(abandon)
        assert "http.response.body" in sent
        assert _scratch_dirs(private_tmp) == []


# -- 1. TLS: Secure cookies and HSTS over a real handshake ------------------------------------------
def _self_signed(folder: Path, *, key_mode: int = 0o600) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 valid for 30 days, and its key (tests.helpers.tls)."""
    now = dt.datetime.now(dt.UTC)
    return tls_certs.self_signed(
        folder,
        not_before=now - dt.timedelta(minutes=5),
        not_after=now + dt.timedelta(days=30),
        key_mode=key_mode,
    )


@contextlib.contextmanager
def _serving(servers: list[Any]) -> Iterator[None]:
    """The servers ``tally serve`` would run, on one event loop in a thread."""
    from tally.service.transport import serve_together  # noqa: PLC0415

    thread = threading.Thread(target=asyncio.run, args=(serve_together(servers),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not all(s.started for s in servers):
        assert thread.is_alive(), "the service stopped at start-up"
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        for s in servers:
            s.should_exit = True
        thread.join(timeout=10)


def test_served_over_tls_cookies_are_secure_and_every_response_carries_hsts(
    election: Election, tmp_path: Path
) -> None:
    from tally.service.transport import HSTS, Binding, TlsFiles, build_servers  # noqa: PLC0415

    cert, key = _self_signed(tmp_path / "tls")
    files = TlsFiles(cert=cert, key=key)
    app = create_app(election.config(tls=True))
    port = free_port()
    trust = ssl.create_default_context(cafile=str(cert))
    with (
        _serving(build_servers(app, [Binding("127.0.0.1", port)], tls=files)),
        httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust) as client,
    ):
        login = client.get("/station/login")
        assert login.status_code == 200
        assert login.extensions["http_version"] == b"HTTP/1.1"
        assert login.headers["strict-transport-security"] == HSTS
        pre_cookie = login.headers["set-cookie"]
        assert "; secure" in pre_cookie.lower(), pre_cookie
        pre = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert pre is not None
        signed_in = client.post(
            "/station/login",
            data={"csrf": pre.group(1), "name": "chair", "password": "chair-password"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        session_cookie = next(
            v for k, v in signed_in.headers.multi_items() if v.startswith("tally_session=")
        )
        assert "; secure" in session_cookie.lower() and "httponly" in session_cookie.lower()
        assert signed_in.headers["strict-transport-security"] == HSTS
        for path in ("/api/health", "/board/", "/no/such/page"):
            assert client.get(path).headers["strict-transport-security"] == HSTS, path
        too_large = client.post("/api/remote/redeem", content=b"x" * (300 * 1024))
        assert too_large.status_code == 413
        assert too_large.headers["strict-transport-security"] == HSTS
        # plain HTTP to the TLS port gets no page
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/station/login", timeout=5)


def test_served_without_tls_no_hsts_and_cookies_are_not_secure(election: Election) -> None:
    from tally.service.transport import Binding, build_servers  # noqa: PLC0415

    app = create_app(election.config())
    port = free_port()
    with (
        _serving(build_servers(app, [Binding("127.0.0.1", port)])),
        httpx.Client(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        login = client.get("/station/login")
        assert login.status_code == 200
        assert "strict-transport-security" not in login.headers
        assert "secure" not in login.headers["set-cookie"].lower()


# -- 2. separate bindings ------------------------------------------------------------------------
STATION_PATHS = (
    "/station/login",
    "/station/",
    "/station",
    "/station/count",
    "/station/static/station.css",
    "/station/files/bundle.zip",
    "/station/api/live",
    "/api/docs",
    "/api/openapi.json",
    "/stationx",
)
PUBLIC_URLS = (
    "/board/",
    "/api/board",
    "/api/board/checkpoints",
    "/vote/",
    "/vote/static/vote.js",
    "/api/remote/info",
    "/api/health",
)


def test_the_public_binding_serves_the_public_pages_and_never_a_station_page(
    election: Election,
) -> None:
    from tally.service.limits import RequestLimits  # noqa: PLC0415
    from tally.service.transport import Binding, build_servers  # noqa: PLC0415

    limits = RequestLimits(max_body_bytes=32 * 1024, max_connections=16)
    app = create_app(election.config(extra={"request_limits": limits}))
    station_port, public_port = free_port(), free_port()
    servers = build_servers(
        app,
        [Binding("127.0.0.1", station_port), Binding("127.0.0.1", public_port, public_only=True)],
        limits=limits,
    )
    # issue 14.1's limits hold on both servers
    assert [s.config.limit_concurrency for s in servers] == [16, 16]
    assert [s.config.h11_max_incomplete_event_size for s in servers] == [16 * 1024] * 2
    with (
        _serving(servers),
        httpx.Client(base_url=f"http://127.0.0.1:{public_port}") as public,
        httpx.Client(base_url=f"http://127.0.0.1:{station_port}") as station,
    ):
        sid = _sign_in(station, "chair")
        for path in STATION_PATHS:
            r = public.get(path, headers={"cookie": f"tally_session={sid}"})
            assert r.status_code == 404, (path, r.status_code, r.text[:200])
            assert "location" not in r.headers, path
            assert r.json()["code"] == "not_found", path
            assert "<form" not in r.text
        for path in ("/board/%2e%2e/station/login", "/vote/..%2fstation/count"):
            r = public.get(path, headers={"cookie": f"tally_session={sid}"})
            assert r.status_code == 404 and "<form" not in r.text, (path, r.text[:200])
        refused = public.post(
            "/station/login", data={"csrf": "x", "name": "chair", "password": "chair-password"}
        )
        assert refused.status_code == 404
        for path in PUBLIC_URLS:
            r = public.get(path)
            assert r.status_code != 404 and r.status_code < 500, (path, r.status_code)
            assert "location" not in r.headers, path
        # one election session behind both: a check-in on the station shows in the public health
        size = public.get("/api/health").json()["log_entries"]
        page = station.get("/station/checkin", headers={"cookie": f"tally_session={sid}"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        r = station.post(
            "/station/checkin",
            data={"csrf": csrf.group(1), "member": "M001"},
            headers={"cookie": f"tally_session={sid}"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:300]
        assert public.get("/api/health").json()["log_entries"] == size + 1
        # the station's binding serves the station and the public pages
        assert station.get("/station/login").status_code == 200
        for path in PUBLIC_URLS:
            assert station.get(path).status_code != 404, path
        # the limits hold on the public binding too
        big = public.post("/api/remote/redeem", content=b"x" * (64 * 1024))
        assert big.status_code == 413


def test_a_binding_that_cannot_listen_stops_the_other_and_exits_non_zero(
    election: Election, capfd: pytest.CaptureFixture[str]
) -> None:
    from tally.service.transport import Binding, build_servers, serve_together  # noqa: PLC0415

    app = create_app(election.config())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        servers = build_servers(
            app,
            [
                Binding("127.0.0.1", free_port()),
                Binding("127.0.0.1", busy.getsockname()[1], public_only=True),
            ],
        )
        started = time.monotonic()
        with pytest.raises(SystemExit) as stopped:
            asyncio.run(serve_together(servers))
        assert stopped.value.code not in (0, None)
        assert time.monotonic() - started < 10
        assert all(s.should_exit for s in servers)
    err = capfd.readouterr().err
    assert "address already in use" in err
    assert "Traceback" not in err  # one line saying why, not the other server's cancellation


# -- tally serve: the options and their one-line refusals ---------------------------------------
@dataclass
class FakeServers:
    configs: list[Any]


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch) -> FakeServers:
    import uvicorn  # noqa: PLC0415

    seen = FakeServers([])

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            seen.configs.append(config)

        def run(self) -> None:
            return None

        async def serve(self) -> None:
            return None

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    return seen


def _serve(election: Election, *args: str) -> Any:
    from tally.cli import app  # noqa: PLC0415

    return CliRunner().invoke(app, ["serve", str(election.db), "--data", str(election.data), *args])


def test_serve_with_a_certificate_runs_https_with_secure_cookies(
    election: Election, tmp_path: Path, fake_uvicorn: FakeServers
) -> None:
    cert, key = _self_signed(tmp_path / "tls")
    r = _serve(election, "--tls-cert", str(cert), "--tls-key", str(key))
    assert r.exit_code == 0, r.output
    (config,) = fake_uvicorn.configs
    assert (config.ssl_certfile, config.ssl_keyfile) == (str(cert), str(key))
    service = config.app.state.service.config
    assert service.tls and service.secure_cookies
    assert "https://127.0.0.1:8000/station/" in r.output
    assert r.stderr == ""  # valid for 30 days, past the election day: no warning


def test_serve_with_a_public_port_runs_two_servers_with_the_same_limits(
    election: Election, tmp_path: Path, fake_uvicorn: FakeServers
) -> None:
    r = _serve(election, "--public-host", "0.0.0.0", "--public-port", "8443", "--lang", "en")
    assert r.exit_code == 0, r.output
    station, public = fake_uvicorn.configs
    assert (station.host, station.port, public.host, public.port) == (
        "127.0.0.1",
        8000,
        "0.0.0.0",
        8443,
    )
    assert station.limit_concurrency == public.limit_concurrency is not None
    assert station.proxy_headers is public.proxy_headers is False
    assert "station pages (work group): http://127.0.0.1:8000/station/" in r.output
    assert "bulletin board: http://0.0.0.0:8443/board/" in r.output


def _pem_of_another_key(folder: Path) -> Path:
    other_cert, _ = _self_signed(folder)
    return other_cert


@pytest.mark.parametrize(
    ("case", "code_text_zh", "code_text_en"),
    [
        ("missing_cert", "不存在", "does not exist"),
        ("missing_key", "不存在", "does not exist"),
        ("key_mode", "权限 0644 过宽", "mode 0644, readable by others"),
        ("mismatch", "不匹配", "does not belong to the certificate"),
        ("not_pem", "须为 PEM 格式", "PEM expected"),
        ("encrypted", "有口令保护", "is encrypted"),
        ("only_cert", "须同时给出", "give both"),
        ("directory", "不是普通文件", "not a regular file"),
    ],
)
def test_serve_refuses_an_unusable_certificate_or_key_in_one_line(
    election: Election,
    tmp_path: Path,
    fake_uvicorn: FakeServers,
    case: str,
    code_text_zh: str,
    code_text_en: str,
) -> None:
    cert, key = _self_signed(tmp_path / "tls")
    args = ["--tls-cert", str(cert), "--tls-key", str(key)]
    if case == "missing_cert":
        args[1] = str(tmp_path / "nothing.pem")
    elif case == "missing_key":
        args[3] = str(tmp_path / "nothing.pem")
    elif case == "key_mode":
        key.chmod(0o644)
    elif case == "mismatch":
        args[1] = str(_pem_of_another_key(tmp_path / "other"))
    elif case == "not_pem":
        cert.write_text("not a certificate\n")
    elif case == "encrypted":
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        loaded = serialization.load_pem_private_key(key.read_bytes(), None)
        key.write_bytes(
            loaded.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            )
        )
    elif case == "only_cert":
        args = args[:2]
    elif case == "directory":
        args[1] = str(tmp_path)
    for lang, text in (("zh", code_text_zh), ("en", code_text_en)):
        r = _serve(election, *args, "--lang", lang)
        assert r.exit_code == 1, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1, r.output
        assert text in lines[0], lines[0]
        assert lines[0].startswith("错误：" if lang == "zh" else "error: ")
    assert fake_uvicorn.configs == []  # nothing listened


def test_serve_refuses_an_expired_certificate_in_one_line_stating_its_dates(
    election: Election, tmp_path: Path, fake_uvicorn: FakeServers
) -> None:
    now = dt.datetime.now(dt.UTC)
    not_after = now - dt.timedelta(minutes=1)
    cert, key = tls_certs.self_signed(
        tmp_path / "tls", not_before=now - dt.timedelta(days=90), not_after=not_after
    )
    expired = not_after.strftime("%Y-%m-%d %H:%M UTC")
    for lang, text in (("zh", f"已于 {expired} 过期"), ("en", f"expired at {expired}")):
        r = _serve(election, "--tls-cert", str(cert), "--tls-key", str(key), "--lang", lang)
        assert r.exit_code == 1, r.output
        assert r.stdout == ""  # refused before the election is opened or any address printed
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith("错误：TLS 证书" if lang == "zh" else "error: the TLS certificate")
        assert text in line, line
    assert fake_uvicorn.configs == []  # nothing listened


def test_serve_starts_with_a_certificate_expiring_within_14_days_and_warns_once(
    election: Election,
    tmp_path: Path,
    fake_uvicorn: FakeServers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=13)
    cert, key = tls_certs.self_signed(
        tmp_path / "tls", not_before=now - dt.timedelta(days=90), not_after=not_after
    )
    expires = not_after.strftime("%Y-%m-%d %H:%M UTC")
    for lang, text in (
        ("zh", f"提醒：TLS 证书 {cert} 将于 {expires} 过期（14 天之内）"),
        ("en", f"warning: the TLS certificate {cert} expires at {expires}, within 14 days"),
    ):
        caplog.clear()
        r = _serve(election, "--tls-cert", str(cert), "--tls-key", str(key), "--lang", lang)
        assert r.exit_code == 0, r.output
        (line,) = r.stderr.strip().splitlines()  # one line, on stderr only
        assert line.startswith(text), line
        assert "https://127.0.0.1:8000/station/" in r.stdout and "TLS" not in r.stdout
        (record,) = [x for x in caplog.records if x.name == "tally.cli_day.serve"]
        assert record.levelname == "WARNING"
        logged = record.getMessage()
        assert logged.startswith("serve.tls_cert_expires_soon: the TLS certificate"), logged
        assert expires in logged
        assert str(key) not in logged and "PRIVATE" not in logged  # no key material, no key path
    assert len(fake_uvicorn.configs) == 2  # it started, both times


def test_serve_refuses_a_public_binding_that_overlaps_the_station(
    election: Election, fake_uvicorn: FakeServers
) -> None:
    for args in (["--public-port", "8000"], ["--public-host", "0.0.0.0"]):
        r = _serve(election, *args, "--lang", "en")
        assert r.exit_code == 1, r.output
        assert "overlaps the station's 127.0.0.1:8000" in r.output
    assert fake_uvicorn.configs == []


# -- 3. double-entry mode: a logged decision that survives a restart --------------------------------
def _on_thread(app: Any, fn: Any) -> Any:
    state = app.state.service
    return state.thread.submit(fn, state.session).result()


def _log(app: Any) -> list[Any]:
    return _on_thread(app, lambda s: [parse_entry(raw) for _, raw in s.store.log_rows()])


def _post_form(client: TestClient, sid: str, path: str, data: dict[str, str]) -> Any:
    cookie = {"cookie": f"tally_session={sid}"}
    page = client.get("/station/count", headers=cookie)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None, page.text[:300]
    return client.post(
        path, data={"csrf": csrf.group(1), **data}, headers=cookie, follow_redirects=False
    )


def _open_committee_round(app: Any, wg: keys.InMemorySigner) -> list[str]:
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

    qrs: list[str] = _on_thread(app, go)
    return qrs


def _ballot(qr: str, marks: str) -> dict[str, str]:
    return {"qr": qr} | {f"m{i}": m for i, m in enumerate(marks)}


def test_double_entry_mode_is_logged_refused_while_a_ballot_waits_and_survives_a_restart(
    election: Election, tmp_path: Path
) -> None:
    from tally.calendar import load_calendar  # noqa: PLC0415
    from tally.publish import bundle_files  # noqa: PLC0415
    from verifier.checks import TownKey, verify_bundle  # noqa: PLC0415
    from verifier.crypto import fingerprint  # noqa: PLC0415

    first = create_app(election.config())
    first.state.service.signer = election.wg
    with TestClient(first) as client:
        qrs = _open_committee_round(first, election.wg)
        chair, teller = _sign_in(client, "chair"), _sign_in(client, "teller")
        assert _post_form(client, chair, "/station/count/mode", {"double": "1"}).status_code == 303
        (switched,) = [e for e in _log(first) if e.type == "double_entry.set"]
        assert (switched.body, switched.actor) == ({"mode": "on"}, "chair")
        # switching it on again logs nothing and says why
        again = _post_form(client, chair, "/station/count/mode", {"double": "1"})
        assert again.status_code == 409 and "双人录入已经是开启状态" in again.text
        # a first entry waits for its second teller: switching off is refused, nothing logged
        _post_form(client, teller, "/station/count/enter", _ballot(qrs[0], "ooooox"))
        size = len(_log(first))
        off = _post_form(client, chair, "/station/count/mode", {"double": "0"})
        assert off.status_code == 409 and "还有等待核对的录入" in off.text
        assert len(_log(first)) == size
        first.state.service.thread.submit(first.state.service.session.store.close).result()

    # a restart: a new service over the same election file and data folder
    second = create_app(election.config())
    second.state.service.signer = election.wg
    with TestClient(second) as client:
        assert _on_thread(second, lambda s: s.meeting.double_entry) is True
        chair, teller, teller2 = (_sign_in(client, n) for n in ("chair", "teller", "teller2"))
        page = client.get("/station/count", headers={"cookie": f"tally_session={chair}"})
        assert "关闭双人录入" in page.text  # the form offers to turn it off: it is on
        # one teller's entry still does not count; the second teller's agreeing entry does
        _post_form(client, teller, "/station/count/enter", _ballot(qrs[0], "ooooox"))
        assert not any(e.type == "ballot.entered" for e in _log(second))
        _post_form(client, teller2, "/station/count/enter", _ballot(qrs[0], "ooooox"))
        (entered,) = [e for e in _log(second) if e.type == "ballot.entered"]
        assert entered.actor == "teller+teller2"
        assert _post_form(client, chair, "/station/count/mode", {"double": "0"}).status_code == 303
        modes = [(e.body["mode"], e.actor) for e in _log(second) if e.type == "double_entry.set"]
        assert modes == [("on", "chair"), ("off", "chair")]

        def finish(s: ElectionSession) -> dict[str, bytes]:
            from tally.election import EntryInput  # noqa: PLC0415

            wg = election.wg
            s.enter([EntryInput(qr=q, marks="ooooox") for q in qrs[1 : len(PRESENT)]])
            s.close(signer=wg)
            made = ballot_printer.make_stock(
                election_id=s.manifest.election_id,
                kind=ballot_printer.PaperKind.SECRETARY,
                round_number=1,
                count=25,
                signer=wg,
            )
            s.commit_stock(made, signer=wg)
            s.issue(count=None, signer=wg)
            s.return_ballots(len(PRESENT), signer=wg)
            texts = [ballot_printer.encode_qr_text(p) for p in made.payloads]
            s.enter([EntryInput(qr=q, marks="ox") for q in texts[: len(PRESENT)]])
            s.close(signer=wg)
            s.record_result(signer=wg, calendar=load_calendar(None))
            s.cosign(election.scrutineer)
            return bundle_files(s, load_calendar(None, town_key=s.town_key))

        files = _on_thread(second, finish)
    assert b'"type":"double_entry.set"' in files["log.jsonl"]
    folder = tmp_path / "bundle"
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    town = TownKey(fingerprint=fingerprint(election.town.public_key.key))
    report = verify_bundle(folder, town, jobs=1)
    assert list(report.failed()) == []
