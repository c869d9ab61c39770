"""Paper audit of a verified result bundle (spec/audit.md): full reconciliation and a
risk-limiting ballot-comparison audit, the signed ``audit-record/1`` and its check.

Imports nothing from ``tally``, ``keys`` or ``ballot_printer``.
"""

from verifier.audit.comparison import ComparisonAudit, Reading, parse_seed, run_comparison
from verifier.audit.election import AuditedElection, load_election
from verifier.audit.errors import (
    AuditError,
    AuditInputError,
    AuditRecordError,
    AuditScanError,
    AuditSeedError,
    BundleNotVerifiedError,
)
from verifier.audit.reconcile import Paper, Reconciliation, reconcile
from verifier.audit.record import AuditCheck, check_audit_records

__all__ = [
    "AuditCheck",
    "AuditError",
    "AuditInputError",
    "AuditRecordError",
    "AuditScanError",
    "AuditSeedError",
    "AuditedElection",
    "BundleNotVerifiedError",
    "ComparisonAudit",
    "Paper",
    "Reading",
    "Reconciliation",
    "check_audit_records",
    "load_election",
    "parse_seed",
    "reconcile",
    "run_comparison",
]
