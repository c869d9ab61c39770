"""The procedure before and after the vote (spec/procedure.md): pure values and parsers.

Piece 1 (RP-2): the definition. :mod:`.model` holds the frozen values, :mod:`.definition` the
parsers, :mod:`.errors` the errors; the names below are the public contract.

Piece 3 (RP-3.7 to RP-6.3): the counting core, imported from its modules: :mod:`.recommendation`
(a round's count), :mod:`.ranking` (scores, the cut, the proposal), :mod:`.evaluation` (the
evaluation's count and rule), :mod:`.vetting` (the vetting record, formal lists, supplement).
"""

from tally.core.procedure.definition import (
    DEFAULT_SCALE,
    FORMAT,
    PROCEDURE_DOMAIN,
    SIGNED_FORMAT,
    SignedEnvelope,
    build_procedure,
    decode_json,
    fill_defaults,
    parse_procedure,
    parse_signed_envelope,
    procedure_id_of,
    render_procedure,
    signed_procedure_bytes,
)
from tally.core.procedure.errors import (
    ApprovalBlockedError,
    ProcedureCountError,
    ProcedureDefinitionError,
    ProcedureFileError,
)
from tally.core.procedure.model import (
    LABELS_ZH,
    Evaluation,
    FailComparison,
    Procedure,
    ProcedureInfo,
    ProcedureKeys,
    ProcedurePost,
    PublicKeyDocument,
    Qualifications,
    Ranking,
    RankingMode,
    Recommendation,
    RecommendationLayout,
    RecommendationQuorum,
    ScaleItem,
    SignedProcedure,
)

__all__ = [
    "DEFAULT_SCALE",
    "FORMAT",
    "LABELS_ZH",
    "PROCEDURE_DOMAIN",
    "SIGNED_FORMAT",
    "ApprovalBlockedError",
    "Evaluation",
    "FailComparison",
    "Procedure",
    "ProcedureCountError",
    "ProcedureDefinitionError",
    "ProcedureFileError",
    "ProcedureInfo",
    "ProcedureKeys",
    "ProcedurePost",
    "PublicKeyDocument",
    "Qualifications",
    "Ranking",
    "RankingMode",
    "Recommendation",
    "RecommendationLayout",
    "RecommendationQuorum",
    "ScaleItem",
    "SignedEnvelope",
    "SignedProcedure",
    "build_procedure",
    "decode_json",
    "fill_defaults",
    "parse_procedure",
    "parse_signed_envelope",
    "procedure_id_of",
    "render_procedure",
    "signed_procedure_bytes",
]
