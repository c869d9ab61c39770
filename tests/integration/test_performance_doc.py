"""docs/PERFORMANCE.md names the command that produced each section's figures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_every_performance_section_names_an_existing_benchmark_command() -> None:
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) >= 4
    for section in sections:
        title = section.splitlines()[0]
        commands = re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)
        assert commands, f"section {title!r} names no command"
        for cmd in commands:
            script = re.search(r"bench/\w+\.py", cmd)
            assert script, f"{title!r}: {cmd!r} is not a bench/ script"
            assert (ROOT / script.group(0)).exists(), cmd
        assert re.search(r"\d", section), f"section {title!r} has no figures"


def _sample_figures() -> dict[str, object]:
    return {
        "print": {"ballots": 1000, "sign_rate": 3e4, "qr_rate": 180.0, "qr_kib_per_page": 3.7,
                  "qr_seconds": 5.5, "baseline_rate": 3000.0},
        "entries": {"entries": 24990, "seconds": 8.0, "rate": 3123.0, "baseline_rows": 24990,
                    "baseline_seconds": 0.1, "baseline_rate": 2e5, "log_entries": 26000,
                    "publish_seconds": 2.0},
        "flood": {"clients": 256, "max_connections": 200, "max_body_kib": 256,
                  "body_timeout_seconds": 10.0, "idle_mib": 85.8, "bound_mib": 205.4,
                  "after_mib": 152.4, "alive": True, "over_cap": 20760, "tracebacks": 0,
                  "baseline": {"seconds": 10.1, "peak_mib": 86.2, "mean_mib": 86.1,
                               "requests": 8826, "half_peaks_mib": [86.2, 86.2],
                               "outcomes": {"noop 200": 8569, "noop 503": 257}},
                  "flood": {"seconds": 37.1, "peak_mib": 155.4, "mean_mib": 147.2,
                            "requests": 25374, "half_peaks_mib": [155.4, 154.0],
                            "outcomes": {"chunked 413": 619, "huge_length 413": 1296,
                                         "malformed 422": 1151, "slow_body 408": 597,
                                         "slow_body 503": 5238}}},

        "board": {"checkins": 400, "interval": 0.15, "clients": 64, "seconds": 60.0, "pinned": True,
                  "rounds": 4,
                  "quiet": {"n": 600, "p50_ms": 9.0, "p99_ms": 20.0, "max_ms": 30.0},
                  "flood": {"n": 570, "p50_ms": 15.0, "p99_ms": 50.0, "max_ms": 80.0},
                  "board": {"requests": 60000, "duration_us": 6e7, "rate": 1000.0, "p50_us": 6e4,
                            "p99_us": 2e5, "max_us": 3e5, "errors": 0},
                  "snapshot": {"n": 100, "take_ms": 0.03, "commit_ms": 4.0}},
        "growth": {"rows": [{"ballots": 999, "entry_rate": 2800.0, "publish_s": 0.1,
                             "producer_mb": 54.0, "verify_s": 1.1, "verify_rate": 900.0,
                             "verifier_mb": 57.0}], "demo_branches": 20, "demo_seconds": 23.4},
        "verify": {"records": 999600, "bundle_mb": 823.0, "cpus": 2, "baseline_1": 62.0,
                   "baseline_2": 28.6, "cryptography_rate": 9000.0, "cryptography_sample": 100000,
                   "runs": [{"jobs": 1, "wall": 150.0, "peak_mb": 91.0, "ok": True},
                            {"jobs": 2, "wall": 80.0, "peak_mb": 96.0, "ok": True}],
                   "generation": {"ballots": 999600, "enter_s": 400.0, "entry_rate": 2500.0,
                                  "publish_s": 77.0, "producer_mb": 250.0}},
    }  # fmt: skip


def test_make_bench_renders_a_document_that_names_each_command(tmp_path: Path) -> None:
    """What `make bench` writes (bench/run_all.py) passes the same rule as the committed doc."""

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_all  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    text = run_all.render(_sample_figures(), {"print": 6.0, "verify": 300.0}, 540.0)
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) == 6  # version 1's "Remote casts" section went with version 1
    for section in sections:
        commands = re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)
        assert commands and all(re.search(r"bench/\w+\.py", c) for c in commands)
    assert "| 999,600 | 2,500 | 77.0 | 250 | 150.0 |" in text  # the 10^6 growth row
    assert "2.42×" in text and "**missed**" in text  # 150 / 62, and the target verdict
    # Producer memory per ballot between the last two rows: (250 - 54) MB / (999,600 - 999).
    assert "grows by about 206 bytes a ballot" in text
    assert "stays flat (57–91 MB" in text
    # The oversized flood: the server's peak beside its idle memory and the stated bound.
    assert "## Memory under a flood of oversized requests" in text
    assert (
        "| **256 clients, oversized and malformed requests** | 37 s | 25,374 | 155.4 MiB |" in text
    )
    assert "69.6 MiB over idle" in text and "205.4 MiB: met" in text
    assert "413 ×1,915" in text and "408 ×597" in text

    assert "| B: board flood, 64 connections | 570 | 15.0 ms | 50.0 ms | 80.0 ms |" in text
    assert "Check-in p99 under the flood / without: 2.50×." in text


def test_a_kept_run_renders_again_with_its_own_date(tmp_path: Path) -> None:
    """`run_all.py --render-from` rewrites the document from a previous run's figures without
    measuring again, and dates it by that run."""
    kept = tmp_path / "figures.json"
    kept.write_text(
        json.dumps(
            {"figures": _sample_figures(), "seconds": {"verify": 300.0}, "total": 540.0,
             "date": "2026-01-02"}
        ),
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "PERFORMANCE.md"
    subprocess.run(
        [sys.executable, "bench/run_all.py", "--render-from", str(kept), "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    text = out.read_text(encoding="utf-8")
    assert "on 2026-01-02;" in text and "| 999,600 | 2,500 | 77.0 | 250 | 150.0 |" in text


def test_security_md_states_the_memory_bound_the_limits_give() -> None:
    """SECURITY.md's memory bound is the one bench_oversized_flood.py checks, derived from the
    limits `tally serve` runs with (connections x (2 x body + read buffer + headers) + one
    parsed body), rounded up to a whole MiB."""
    import math  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_oversized_flood  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from tally.service.limits import RequestLimits  # noqa: PLC0415

    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    stated = re.search(r"within its idle size \+ (\d+) MiB", text)
    assert stated, "SECURITY.md states no memory bound"
    assert int(stated.group(1)) == math.ceil(
        bench_oversized_flood.stated_bound_mib(RequestLimits(), 0)
    )


def test_the_page_encryption_section_renders_its_runs_and_the_one_second_verdict() -> None:
    """bench_page_elgamal.py's section (bench/run_all.py): each throttling rate's three runs next
    to their bare loops, and the issue's target judged on encrypt-and-prove at 4x."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_all  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))

    def run(rate: int, make: float) -> dict[str, object]:
        return {
            "rate": rate,
            "make_ms": make,
            "base_make_ms": make / 2,
            "checked_ms": 2 * make,
            "base_checked_ms": make,
            "verify_ms": 40.0,
            "base_verify_ms": 50.0,
            "make_ratios": [2.0],
            "ops": {"make": {"a": 600, "b": 80}, "checked": {"a": 1006}, "verify": {"a": 328}},
        }

    figures = {"ballots": 5, "rounds": 3, "chromium": "156.0", "bundle_bytes": 695016,
               "posts": [["committee", 9, 7], ["secretary", 2, 1]],
               "runs": [run(4, 1200.0), run(1, 400.0)]}  # fmt: skip
    text = "\n".join(run_all.render_page_elgamal(figures, "bench/bench_page_elgamal.py"))
    assert "```sh\nbench/bench_page_elgamal.py\n```" in text
    assert "| encrypt and prove | 4x | **1200 ms** | 600 ms | 2.00x |" in text
    assert "| verify (as the service will) | 1x | 40 ms | 50 ms | 0.80x |" in text
    assert "680 to encrypt and prove, 1006 with the page's own check" in text
    assert "under 1 s with 4x throttling — 1200 ms, **missed**" in text
    assert "3.0x slower than at 1x" in text
    figures["runs"] = [run(4, 106.0)]
    assert "106 ms, met" in "\n".join(run_all.render_page_elgamal(figures, "x"))


def _run_all() -> object:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_all  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return run_all


def test_the_remote_v2_cast_section_judges_both_targets_and_gives_the_end_to_end_time() -> None:
    """bench_remote.py --version 2's section: the casts beside the no-op runs before and after,
    both targets of issue 16 judged, and the time until every cast was accepted with the
    checker's rate beside its bare loop (RV-4.5)."""
    run_all: Any = _run_all()
    noop = {"requests": 7000, "duration_us": 1e6, "p50_us": 8e3, "p99_us": 16e3, "max_us": 2e4}
    cast = {"requests": 80, "duration_us": 8e6, "p50_us": 5e6, "p99_us": 6.4e6, "max_us": 6.5e6}
    figures = {"version": 2, "voters": 80, "clients": 64, "seconds": 1.0, "pinned": True,
               "posts": [["committee", 9, 82], ["secretary", 2, 82]],
               "noop": {**noop, "rate": 7000.0}, "noop_after": {**noop, "rate": 6900.0},
               "cast": {**cast, "rate": 10.0}, "ratio": 10 / 7000, "check_ms": 100.0,
               "check_ops": 3030, "base_ms": 90.0, "first_accepted_s": 0.4,
               "all_accepted_s": 9.5, "checker_rate": 8.4}  # fmt: skip
    text = "\n".join(run_all.render_remote_v2(figures, "bench/bench_remote.py --version 2"))
    assert "```sh\nbench/bench_remote.py --version 2\n```" in text
    assert "| `POST /api/remote/cast`, version 2 | 80 | 10.0 /s | 5,000.0 ms | 6,400.0 ms |" in text
    assert "casts ≥ half the no-op rate — 0.0014, **missed**" in text
    assert "p99 < 100 ms — 6,400 ms, **missed**" in text
    assert "every cast was accepted 9.5 s after the first request (the first 0.40 s)" in text
    assert "the checker accepted 8.4 ballots a second" in text
    assert (
        "10.0 a second (100 ms)" in text and "3,030 libsodium calls 11.1 a second (90 ms)" in text
    )
    figures["ratio"], figures["cast"] = 0.6, {**cast, "p99_us": 5e4, "rate": 4200.0}
    text = "\n".join(run_all.render_remote_v2(figures, "x"))
    assert "0.6000, met" in text and "50 ms, met" in text
    del figures["all_accepted_s"]  # figures kept from before the checker
    text = "\n".join(run_all.render_remote_v2(figures, "x"))
    assert "from before the checker" in text and "accepted" not in text.split("Targets")[1]


def test_the_remote_v2_verifier_section_judges_jobs_1_against_the_bare_loop() -> None:
    """bench_verify_remote.py's section: each verifier run beside the bare loop of the same
    libsodium calls, the 1.3x target judged on --jobs 1, and why there are not 10,000 ballots."""
    run_all: Any = _run_all()
    figures = {"voters": 48, "posts": [["committee", 9, 50], ["secretary", 2, 50]],
               "ops": 96000, "ops_by_function": {"a": 96000}, "baseline": 4.0,
               "baseline_cpu": 4.0, "baseline_after": 4.2, "baseline_after_cpu": 4.1,
               "runs": [{"jobs": 1, "wall": 6.0, "cpu": 5.6, "ok": True},
                        {"jobs": 2, "wall": 3.5, "cpu": 6.0, "ok": True}],
               "bundle_cached": True, "generate_s": 0.4, "generation": {},
               "startup_wall": 0.9, "startup_cpu": 0.8}  # fmt: skip
    text = "\n".join(run_all.render_verify_remote(figures, "bench/bench_verify_remote.py"))
    assert "```sh\nbench/bench_verify_remote.py\n```" in text
    assert "counted once (96,000, 2,000 a ballot)" in text
    assert "| `verifier verify … --jobs 1` | 6.00 s | 125 ms | 5.60 s | 1.50× | 1.40× |" in text
    assert "`--jobs 1` 1.50×, **missed** (by CPU seconds 1.40×)" in text
    assert "at most 256" in text
    assert "without it `--jobs 1` is 1.20× the bare loop by CPU seconds" in text  # (5.6-0.8)/4
    figures["runs"] = [{"jobs": 1, "wall": 5.0, "cpu": 5.0, "ok": True}]
    assert "1.25×, met" in "\n".join(run_all.render_verify_remote(figures, "x"))


def _ten_thousand(wall: float) -> dict[str, Any]:
    """Figures of bench_verify_remote.py: 1,000 elections of 10 remote ballots, one process."""
    return {"elections": 1000, "voters": 10, "ballots": 10000,
            "posts": [["committee", 9, 12], ["secretary", 2, 12]], "ops": 5_534_000,
            "ops_by_function": {"a": 5_534_000}, "check_ops": 4_780_000, "baseline": 140.0,
            "baseline_cpu": 139.0, "baseline_after": 150.0, "baseline_after_cpu": 141.0,
            "check_baseline": 125.0,
            "run": {"ballots": 10000, "failed": [], "wall": wall, "cpu": wall - 1.0,
                    "loop_wall": wall - 0.4, "loop_cpu": wall - 1.3, "check_wall": 135.0},
            "bundle_cached": True, "generate_s": 0.5,
            "generation": {"elections": 1000, "voters": 10, "posts": [], "made": 1000,
                           "wall_s": 660.0, "election_s": 1.3, "procs": 2}}  # fmt: skip


def test_the_10000_remote_ballots_section_judges_the_whole_run_against_the_faster_bare_loop() -> (
    None
):
    """bench_verify_remote.py's section: 10,000 ballots in 1,000 bundles verified in one process,
    start-up included, against the faster bare loop of the same libsodium calls (issue 16)."""
    run_all: Any = _run_all()
    text = "\n".join(run_all.render_verify_remote(_ten_thousand(175.0), "bench/x.py"))
    assert "## Verifier on 10,000 remote ballots" in text and "```sh\nbench/x.py\n```" in text
    assert "1,000 branch elections of 10 remote ballots each: 10,000" in text
    assert "counted once (5,534,000, 553 a ballot, 4,780,000 of them" in text
    # 175 / min(140, 150); CPU 174 / min(139, 141)
    assert (
        "| **verifier, 10,000 ballots, one process** | 175.0 s | 17.5 ms | 174.0 s | 1.25× |"
        in text
    )
    assert "within 1.3× of the bare loop — 1.25×, met (by CPU seconds 1.25×)" in text
    assert "| 135.0 s | 13.5 ms |  | 1.08× |" in text  # the ballot check beside its calls' loop
    assert "start-up (interpreter, imports, town key) took 0.40 s, once" in text
    assert "found in the cache" in text and "made in 11.0 min on 2 processes" in text
    text = "\n".join(run_all.render_verify_remote(_ten_thousand(190.0), "x"))
    assert "1.36×, **missed**" in text
