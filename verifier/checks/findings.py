"""The findings collector: every failure of every clause, bounded (spec/bundle.md §6, §8)."""

from __future__ import annotations

from typing import Any, Final

from verifier.errors import VerificationError
from verifier.report import CLAUSES, ClauseResult, Finding, Status

__all__ = ["FINDINGS_SHOWN", "Findings", "ListFindings", "after"]

FINDINGS_SHOWN: Final = 20  # per clause in full; then one per new code, the rest counted


class Findings:
    """Findings per clause, bounded (spec/bundle.md §8): the first ``FINDINGS_SHOWN`` of a clause in
    full, then only the first of each further code; the rest are counted, so memory stays flat
    however many lines are bad."""

    def __init__(self) -> None:
        self.items: dict[str, list[Finding]] = {c: [] for c in CLAUSES}
        self.omitted: dict[str, int] = dict.fromkeys(CLAUSES, 0)
        self._codes: dict[str, set[str]] = {c: set() for c in CLAUSES}
        self.skipped: dict[str, tuple[str, str]] = {}
        self.warnings: list[Finding] = []  # reported, never a failure (D-5.3 names)

    def fail(self, clause: str, code: str, zh: str, en: str, **where: Any) -> None:
        kept = self.items[clause]
        if len(kept) >= FINDINGS_SHOWN and code in self._codes[clause]:
            self.omitted[clause] += 1
            return
        self._codes[clause].add(code)
        kept.append(Finding(clause=clause, code=code, zh=zh, en=en, **where))

    def error(self, clause: str, e: VerificationError, **where: Any) -> None:
        where.setdefault("path", e.path)
        self.fail(clause, e.code, e.zh, e.en, **where)

    def failed(self, clause: str) -> bool:
        return bool(self.items[clause])

    def clear(self, clause: str) -> None:
        self.items[clause] = []
        self.omitted[clause] = 0
        self._codes[clause] = set()

    def skip(self, clauses: tuple[str, ...] | list[str], zh: str, en: str) -> None:
        for c in clauses:
            if not self.items[c]:
                self.skipped.setdefault(c, (zh, en))

    def results(self) -> tuple[ClauseResult, ...]:
        out = []
        for c in CLAUSES:
            if self.items[c]:
                out.append(
                    ClauseResult(c, Status.FAILED, tuple(self.items[c]), omitted=self.omitted[c])
                )
            elif c in self.skipped:
                zh, en = self.skipped[c]
                out.append(ClauseResult(c, Status.NOT_CHECKED, (), zh, en))
            else:
                out.append(ClauseResult(c, Status.PASSED))
        return tuple(out)


class ListFindings:
    """One bounded list of findings for a bundle whose clauses are not the election's (the
    casework's V31, the procedure's V20–V30): the first ``FINDINGS_SHOWN`` in full, then the first
    of each further code; the rest counted. Warnings never fail. ``clause`` is the clause of a
    finding that names none."""

    def __init__(self, clause: str) -> None:
        self.clause = clause
        self.items: list[Finding] = []
        self.codes: set[str] = set()
        self.omitted = 0
        self.warnings: list[Finding] = []

    def fail(self, code: str, zh: str, en: str, *, clause: str | None = None, **where: Any) -> None:
        if len(self.items) >= FINDINGS_SHOWN and code in self.codes:
            self.omitted += 1
            return
        self.codes.add(code)
        self.items.append(Finding(clause=clause or self.clause, code=code, zh=zh, en=en, **where))

    def error(self, e: VerificationError, **where: Any) -> None:
        where.setdefault("path", e.path)
        self.fail(e.code, e.zh, e.en, **where)

    def warn(self, code: str, zh: str, en: str, *, clause: str | None = None, **where: Any) -> None:
        if len(self.warnings) < FINDINGS_SHOWN * 5:
            self.warnings.append(
                Finding(clause=clause or self.clause, code=code, zh=zh, en=en, **where)
            )


def after(*clauses: str) -> tuple[str, ...]:
    """The clauses that come after all of ``clauses`` (those their failure leaves unchecked)."""
    return tuple(c for c in CLAUSES if CLAUSES.index(c) > max(CLAUSES.index(x) for x in clauses))
