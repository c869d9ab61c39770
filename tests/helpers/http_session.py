"""A live service on 127.0.0.1 for browser and HTTP tests, with its teardown.

- ``free_port()``: a loopback port nobody listens on (for a server the test starts itself).
- ``running(server)``: a ``uvicorn.Server`` run in a daemon thread until the block ends.
- ``serve(app)``: an ASGI app under uvicorn's defaults; yields the base URL.
- ``remote_election(folder, approved)``: an election file with remote voting (version 2) opened
  by the work group, k = 1, the way ``tally remote open`` leaves it.
- ``live_remote(folder, approved, passphrase)``: that election behind the real service, with
  an invitation for every approved member; yields a ``LiveRemote``.

Every context manager stops what it started (server thread, ``TALLY_PASSPHRASE``) on the way out,
so a fixture of any scope can use them; a function-scoped fixture gives each test a service of
its own, whatever order or worker the tests run in.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig

ROOT = Path(__file__).resolve().parents[2]
QINGSHAN = ROOT / "examples" / "qingshan.toml"
START_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def public_key_doc(signer: keys.InMemorySigner) -> dict[str, Any]:
    """The signer's public key as the manifest lists it."""
    doc: dict[str, Any] = json.loads(keys.export_public_key(signer.public_key))
    return doc


@contextmanager
def running(server: Any, sockets: list[Any] | None = None) -> Iterator[None]:
    """Run a ``uvicorn.Server`` in a daemon thread until the block ends (on ``sockets`` when
    given, else on its config's host and port); fails the test (an AssertionError) if it has not
    started within START_SECONDS."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert thread.is_alive(), "the service stopped at start-up"
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port; yields its base URL."""
    import uvicorn  # noqa: PLC0415 (only the tests that serve need it)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    with running(server):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def passphrase(value: str) -> Iterator[None]:
    """``TALLY_PASSPHRASE`` set for the block, and as it was afterwards."""
    old = os.environ.get("TALLY_PASSPHRASE")
    os.environ["TALLY_PASSPHRASE"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TALLY_PASSPHRASE", None)
        else:
            os.environ["TALLY_PASSPHRASE"] = old


@dataclass(frozen=True)
class RemoteElection:
    """An election file with remote voting opened; ``session`` is still open (close its store)."""

    path: Path
    data: Path
    session: ElectionSession
    town: keys.InMemorySigner
    wg: keys.InMemorySigner
    sc: keys.InMemorySigner


def remote_election(folder: Path, approved: Sequence[str] | None = None) -> RemoteElection:
    """examples/qingshan.toml (its remote voters replaced by ``approved`` if given) signed by a
    fresh town committee, one scrutineer, remote voting opened with k = 1 and data in
    ``folder / "service"``. Needs ``TALLY_PASSPHRASE`` set (see ``passphrase``)."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "黄德明")
    text = QINGSHAN.read_text(encoding="utf-8")
    if approved is not None:
        text = text.replace('approved = ["M020"]', f"approved = {json.dumps(list(approved))}")
    manifest = build_manifest(
        parse_definition(text),
        work_group_key=public_key_doc(wg),
        scrutineer_keys=(public_key_doc(sc),),
    )
    path, data = folder / "e.db", folder / "service"
    config = SessionConfig(path, passphrase=os.environ.get("TALLY_PASSPHRASE", ""))
    s = ElectionSession.init(config, sign_manifest(manifest, town), wg)
    s.remote.open(signer=wg, k=1, data_dir=data)
    return RemoteElection(path, data, s, town, wg, sc)


@dataclass(frozen=True)
class LiveRemote:
    """The service with remote voting open: ``codes`` holds an unused invitation per member."""

    base: str
    app: Any
    codes: Mapping[str, str]
    pin: str
    wg: keys.InMemorySigner
    sc: keys.InMemorySigner
    data: Path
    town_fp: str

    def run(self, fn: Any) -> Any:
        """``fn`` on the session's thread as a station request runs it (without the lock): its
        commit publishes the snapshot that the public routes (receipt, pin, info) read."""
        state = self.app.state.service
        return state.thread.submit(state._fresh_then, fn).result()

    def log_types(self) -> list[str]:
        rows = self.run(lambda s: s.store.log_rows())
        return [json.loads(raw)["type"] for _, raw in rows]

    def vote_and_close(self, member: str, approvals: Mapping[str, list[str]]) -> None:
        """``member`` votes from the Python device (no browser) and remote voting closes: the
        state a test of the receipt page after the close starts from."""
        from tally.remote_device import vote_as_device_v2  # noqa: PLC0415 (a device, not a shell)

        code = self.codes[member]
        self.run(lambda s: vote_as_device_v2(s, code, dict(approvals), data_dir=self.data))
        self.run(lambda s: s.remote.close(signer=self.wg))


@contextmanager
def live_remote(folder: Path, approved: Sequence[str], secret: str) -> Iterator[LiveRemote]:
    """A fresh election in ``folder`` with remote voting open for ``approved``, served on
    loopback with ``TALLY_PASSPHRASE`` = ``secret``; everything stops when the block ends."""
    with passphrase(secret):
        e = remote_election(folder, approved)
        s = e.session
        codes = {m: s.remote.issue_invitation(m, data_dir=e.data)[0] for m in approved}
        pin = s.remote.invitation_pin()
        s.store.close()
        app = create_app(ServiceConfig(election_path=e.path, data_dir=e.data))
        app.state.service.signer = e.wg
        with serve(app) as base:
            yield LiveRemote(
                base, app, codes, pin, e.wg, e.sc, e.data, keys.fingerprint(e.town.public_key)
            )
