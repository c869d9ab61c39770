"""A page and the committed ``remote-crypto.js`` served on 127.0.0.1 under the service's CSP.

Used by the browser interop tests and by ``bench/bench_page_elgamal.py``: the bundle runs where
the voting page runs it (a secure context, the service's Content-Security-Policy plus
``'wasm-unsafe-eval'`` for libsodium.js, ADR 0007), without starting the whole service.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tally.service.app import SECURITY_HEADERS

BUNDLE = Path(__file__).resolve().parents[2] / "tally/service/static/remote/remote-crypto.js"
_TYPES = {"": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def csp() -> str:
    """The service's CSP, plus 'wasm-unsafe-eval' (libsodium.js is WebAssembly; ADR 0007)."""
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    if "'wasm-unsafe-eval'" not in policy:
        policy = policy.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
    return policy


class _Handler(http.server.BaseHTTPRequestHandler):
    files: Mapping[str, bytes] = {}  # set on a subclass per server

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", _TYPES[Path(self.path).suffix])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", csp())
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_bundle(page: str, boot: str) -> Iterator[str]:
    """Serve ``/`` (the page), ``/boot.js`` and ``/remote-crypto.js``; yields the base address."""
    assert BUNDLE.is_file(), "build it: cd web/remote && npm ci && npm run build"
    files = {
        "/": page.encode(),
        "/boot.js": boot.encode(),
        "/remote-crypto.js": BUNDLE.read_bytes(),
    }
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Handler", (_Handler,), {"files": files})
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
