"""The town's casework: objections and community reporters' reports (spec/procedure.md §8, §9,
§11.3). Pure: the shell passes the time, the working-day calendar and the random bytes.

The parts: `cases` (states, findings and effects, cases, reporters, the ledger), the operations
`receiving` (objections and reports in), `reporters` (registering, withdrawing) and `handling`
(assign, check, extend, conclude) on the checks they share (`_checks`), `folding` (an entry into
the ledger), `entries` (the log), `reminders` (due and overdue cases, RP-9.7), `public`,
`source` and `town` (views for the notice, the procedure and the town report), on `definition`,
`deadlines`, `references`, `photos` and `errors`. Import from `tally.core.casework`."""

from .actors import BRANCH_ACTOR, actor_branch, branch_actor, check_actor
from .cases import (
    BODY_FIELDS,
    Case,
    CaseState,
    Channel,
    Effect,
    Finding,
    Ledger,
    Note,
    Reporter,
    Step,
    allowed_effects,
    open_ledger,
)
from .deadlines import (
    PROVISIONAL,
    TOWN_TIME,
    WorkingDays,
    due_date,
    exact_due_date,
    local_date,
    provisional_due_date,
)
from .definition import (
    CASEWORK_DOMAIN,
    CASEWORK_FORMAT,
    SIGNED_CASEWORK_FORMAT,
    Branch,
    Casework,
    Deadlines,
    PhotoLimits,
    casework_document,
    casework_id,
    parse_casework,
)
from .entries import (
    ENTRY_FORMAT,
    SALT_BYTES,
    CaseworkEntry,
    opening_step,
    parse_entry,
    record,
    replay,
)
from .errors import CaseworkDefinitionError, CaseworkError
from .folding import apply
from .handling import assign, check, conclude, extend
from .photos import Photo, check_photos
from .public import PublicSummary, public_summary
from .receiving import lodge_objection, settle_due_dates, submit_report
from .references import (
    ACCESS_CODE_BYTES,
    CHECK_CODE_BYTES,
    CaseKind,
    access_code,
    check_code,
    format_reference,
    normalise_code,
    parse_reference,
)
from .reminders import Reminder, ReminderKind, reminder_step, reminders
from .reporters import register_reporter, withdraw_reporter
from .source import CaseSource, appointment_objections, objections_of
from .town import (
    TOWN_CASEWORK_FORMAT,
    BranchCasework,
    CaseCounts,
    GroupReporters,
    TownCasework,
    is_overdue,
    town_casework,
)

__all__ = [
    "ACCESS_CODE_BYTES",
    "BODY_FIELDS",
    "BRANCH_ACTOR",
    "CASEWORK_DOMAIN",
    "CASEWORK_FORMAT",
    "CHECK_CODE_BYTES",
    "ENTRY_FORMAT",
    "PROVISIONAL",
    "SALT_BYTES",
    "SIGNED_CASEWORK_FORMAT",
    "TOWN_CASEWORK_FORMAT",
    "TOWN_TIME",
    "Branch",
    "BranchCasework",
    "Case",
    "CaseCounts",
    "CaseKind",
    "CaseSource",
    "CaseState",
    "Casework",
    "CaseworkDefinitionError",
    "CaseworkEntry",
    "CaseworkError",
    "Channel",
    "Deadlines",
    "Effect",
    "Finding",
    "GroupReporters",
    "Ledger",
    "Note",
    "Photo",
    "PhotoLimits",
    "PublicSummary",
    "Reminder",
    "ReminderKind",
    "Reporter",
    "Step",
    "TownCasework",
    "WorkingDays",
    "access_code",
    "actor_branch",
    "allowed_effects",
    "apply",
    "appointment_objections",
    "assign",
    "branch_actor",
    "casework_document",
    "casework_id",
    "check",
    "check_actor",
    "check_code",
    "check_photos",
    "conclude",
    "due_date",
    "exact_due_date",
    "extend",
    "format_reference",
    "is_overdue",
    "local_date",
    "lodge_objection",
    "normalise_code",
    "objections_of",
    "open_ledger",
    "opening_step",
    "parse_casework",
    "parse_entry",
    "parse_reference",
    "provisional_due_date",
    "public_summary",
    "record",
    "register_reporter",
    "reminder_step",
    "reminders",
    "replay",
    "settle_due_dates",
    "submit_report",
    "town_casework",
    "withdraw_reporter",
]
