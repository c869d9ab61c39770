"""Verification clauses V1-V19 of spec/bundle.md §6 (the package's public face).

``verify_bundle`` checks a bundle against the town committee's key and returns the report.
"""

from verifier.checks._unsplit import (
    FINDINGS_SHOWN,
    MAX_BAD_LINES,
    TownKey,
    verify_bundle,
)
from verifier.checks._unsplit import _signed_calendar_years as signed_calendar_years

__all__ = [
    "FINDINGS_SHOWN",
    "MAX_BAD_LINES",
    "TownKey",
    "signed_calendar_years",
    "verify_bundle",
]
