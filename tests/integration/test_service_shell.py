"""The service as a person runs it: `make run` options, /api/docs offline, a quiet stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")


def test_make_run_passes_host_and_port_to_the_server() -> None:
    r = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.2", "PORT=9123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "tally serve --demo --host 127.0.0.2 --port 9123" in r.stdout


def test_api_docs_use_only_local_assets_and_the_server_stops_without_leak_warnings(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    tally = Path(sys.executable).parent / "tally"
    proc = subprocess.Popen(
        [str(tally), "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                get(f"{base}/api/health")
                break
            except OSError:
                time.sleep(0.5)
        status, _, page = get(f"{base}/api/docs")
        assert status == 200
        # every script and stylesheet is served by this server; nothing inline, no CDN
        urls = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert urls and all(u.startswith("/api/docs") for u in urls), urls
        assert "<script>" not in page
        for u in urls:
            code, _ctype, body = get(base + u)
            assert code == 200 and body, u
        assert "/api/openapi.json" in get(f"{base}/api/docs/init.js")[2]
        assert "javascript" in get(f"{base}/api/docs-assets/swagger-ui-bundle.js")[1]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert "leaked" not in err, err
    assert "Traceback" not in err, err
