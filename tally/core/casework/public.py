"""The town's public casework numbers ``casework-public/1`` (spec/procedure.md RP-12.4).

Built from the :class:`~tally.core.casework.cases.Ledger` alone, whose cases hold no text and no
identity (no ``what``, ``where``, ``when``, objector, reporter, name, phone, photo or summary), so
nothing of the kind can reach what is published: the town's name, the totals of reports received
and concluded, and the concluded reports by finding, for the whole town, never per branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .cases import CaseState, Finding, Ledger
from .references import CaseKind

__all__ = ["PUBLIC_FORMAT", "PublicSummary", "public_summary"]

PUBLIC_FORMAT: Final = "casework-public/1"


@dataclass(frozen=True, slots=True)
class PublicSummary:
    """Counts only: what the public may see of the town's reports."""

    town: str
    received: int
    concluded: int
    by_finding: tuple[tuple[Finding, int], ...]

    def document(self) -> dict[str, Any]:
        """The ``casework-public/1`` JSON object."""
        return {
            "format": PUBLIC_FORMAT,
            "town": self.town,
            "reports": {
                "received": self.received,
                "concluded": self.concluded,
                "by_finding": [{"finding": f.value, "count": n} for f, n in self.by_finding],
            },
        }


def public_summary(ledger: Ledger) -> PublicSummary:
    """The town's report totals (every finding listed, in the order of RP-8.5, zeros included)."""
    reports = [c for c in ledger.cases.values() if c.kind is CaseKind.REPORT]
    done = [c for c in reports if c.state is CaseState.CONCLUDED]
    return PublicSummary(
        town=ledger.casework.town,
        received=len(reports),
        concluded=len(done),
        by_finding=tuple((f, sum(1 for c in done if c.finding is f)) for f in Finding),
    )
