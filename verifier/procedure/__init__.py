"""The verifier's own recounts of the procedure before the vote (spec/procedure.md §3-§5; V25-V27).

Re-implemented from spec/procedure.md alone, sharing nothing with ``tally.core.procedure``: the
recount of a recommendation round (RP-3.7, RP-3.10: ``recommendation.counted``), the ranking and
the proposed preliminary list (RP-4: ``preliminary.proposed`` version 1; RP-6.3: a supplement
version) and the recount of an
evaluation round (RP-5.5, RP-5.6: ``evaluation.counted``), the vetting record (RP-6.1:
``vetting.recorded``) and the formal lists' checks (RP-6.2). Each takes the parts of a resolved
``procedure/1`` it needs (``parse_counting``) and the records the rule reads, and returns the entry
body the rule gives, as JSON, for comparison with the one the log records; or raises
``ProcedureRecountError`` with the code and the RP clause of the refusal. The whole-bundle checks
V20-V31 (``verifier procedure``) are in ``bundle`` (layout, definition), ``definition_checks``
(V21's RP-2.4), ``log`` and ``checkpoints`` (V22), ``qr``, ``stocks`` and ``records`` (V23),
``sessions`` (V24), ``proposals`` (V26, V27's openings), ``recounts`` (V23, V25-V28, V30) and
``binding`` (V29, ``--election``); ``render`` writes the report.
"""

from verifier.procedure.definition import (
    CountingDefinition,
    ProcedureRecountError,
    parse_counting,
)
from verifier.procedure.evaluation import recount_evaluation
from verifier.procedure.ranking import recount_proposal
from verifier.procedure.recommendation import recount_recommendation
from verifier.procedure.supplement import recount_supplement
from verifier.procedure.vetting import formal_list_problems, recount_vetting

__all__ = [
    "CountingDefinition",
    "ProcedureRecountError",
    "formal_list_problems",
    "parse_counting",
    "recount_evaluation",
    "recount_proposal",
    "recount_recommendation",
    "recount_supplement",
    "recount_vetting",
]
