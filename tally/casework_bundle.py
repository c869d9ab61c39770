"""The town report's casework numbers from a casework bundle (spec/procedure.md RP-12.3, RP-13.2).

V31 is the check. The town report (and ``tally casework summary``) takes a case number only from a
``casework-bundle/1`` that the independent verifier passed: :func:`verify_casework_bundle` runs
``verifier casework --json`` on it in its own process (as ``tally.demo.verify`` does for the
election bundles), and :func:`read_verified_casework` gives the ledger only when that run
passed, else the failing findings, which the report shows instead of any number.

What is left here is reading, not checking: the signed definition against the trusted town key,
the log replayed through the casework core (the numbers are ``tally.core.casework.town``'s, from
that ledger), and each provisional due date settled on the bundle's ``calendar.json`` when it has
one (RP-8.4a), so the overdue counts use the exact date where the town signed its year.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import keys
from tally.calendar import CalendarError, build_calendar, load_calendar
from tally.casework_store import parse_signed_casework
from tally.core.casework import (
    CaseworkDefinitionError,
    CaseworkError,
    Ledger,
    replay,
    settle_due_dates,
)
from tally.store import StoreError

__all__ = ["CaseworkVerification", "read_verified_casework", "verify_casework_bundle"]

_TIMEOUT: Final = 600


@dataclass(frozen=True, slots=True)
class CaseworkVerification:
    """What ``verifier casework`` (V31) said of a bundle: passed, or its failing findings."""

    passed: bool
    failures: tuple[tuple[str, str, str], ...] = ()
    """Each failing finding's (code, zh, en), in the verifier's order."""

    def codes(self) -> list[str]:
        return sorted({code for code, _, _ in self.failures})


def verify_casework_bundle(bundle: Path, town_key_file: Path) -> CaseworkVerification:
    """(V31) Run ``verifier casework BUNDLE --town-key FILE --json`` in its own process.

    Returns:
        Passed only when the verifier exits 0 and reports no failure; otherwise each failing
        finding (an unreadable bundle or key as one finding with the verifier's code).
    """
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [
            sys.executable,
            "-m",
            "verifier",
            "casework",
            str(bundle),
            "--town-key",
            str(town_key_file),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=_TIMEOUT,
    )
    try:
        report = json.loads(proc.stdout)
        found = report.get("findings", [])
        failures = tuple((str(f["code"]), str(f["zh"]), str(f["en"])) for f in found)
        ok = report.get("ok") is True
    except (ValueError, AttributeError, KeyError, TypeError):
        report, failures, ok = {}, (), False
    if proc.returncode == 0 and ok and not failures:
        return CaseworkVerification(passed=True)
    if not failures:  # unreadable (exit 2): the verifier's code and its own words
        said = proc.stderr.strip()[-300:]
        code = str(report.get("code", "")) or f"verifier.exit_{proc.returncode}"
        failures = ((code, f"无法核验：{said}", f"cannot be verified: {said}"),)
    return CaseworkVerification(passed=False, failures=failures)


def read_verified_casework(
    bundle: Path, town_key_file: Path
) -> tuple[Ledger | None, CaseworkVerification]:
    """The casework ledger of a bundle that passed V31, else None with the failing findings.

    Raises:
        StoreError: ``casework.bundle`` when a bundle that passed V31 cannot be read by the
            producer (the two sides disagree: a fault to report, never a number).
    """
    verification = verify_casework_bundle(bundle, town_key_file)
    if not verification.passed:
        return None, verification
    return _read(bundle, keys.parse_public_key(town_key_file.read_bytes())), verification


def _read(folder: Path, town_key: keys.PublicKey) -> Ledger:
    """The ledger of a bundle V31 passed, its provisional due dates settled (RP-8.4a)."""
    try:
        casework, _, _ = parse_signed_casework(
            (folder / "casework.json").read_bytes(), town_key=town_key
        )
        ledger = replay(casework, (folder / "log.jsonl").read_bytes().splitlines())
        year_file = folder / "calendar.json"
        calendar = (
            load_calendar(year_file, town_key=town_key) if year_file.is_file() else build_calendar()
        )
    except (OSError, CaseworkError, CaseworkDefinitionError, CalendarError) as e:
        raise StoreError(
            "casework.bundle",
            zh=f"事项登记簿导出包已通过 V31 核验，但本软件无法读取：{e}",
            en=f"the casework bundle passed V31 but the producer cannot read it: {e}",
        ) from e
    return settle_due_dates(ledger, calendar)
