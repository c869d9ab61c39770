"""Verification clauses V1-V19 of spec/bundle.md §6 (the package's public face).

``verify_bundle`` checks a bundle against the town committee's key and returns the report.

The package reads like the spec: ``run`` (``verify_bundle``, the clauses in order), the document
checks one module per group of clauses (``index`` V1, ``manifest`` V2, V3, V19, ``definition``
V4, V5, ``checkpoints`` V7, ``result`` V15, V16, V18.12, ``publicity`` V17), the replay of the log
(V6, V8-V15, V18), and what they share: ``context`` (one run's state), ``findings`` (the bounded
collector), ``signatures`` (the parallel QR signature checker) and ``common``.
"""

from verifier.checks.common import MAX_BAD_LINES, TownKey
from verifier.checks.findings import FINDINGS_SHOWN
from verifier.checks.publicity import signed_calendar_years
from verifier.checks.run import verify_bundle

__all__ = [
    "FINDINGS_SHOWN",
    "MAX_BAD_LINES",
    "TownKey",
    "signed_calendar_years",
    "verify_bundle",
]
