"""The procedure before and after the vote (spec/procedure.md): pure values and parsers.

Piece 1 (RP-2): the definition. :mod:`.model` holds the frozen values, :mod:`.definition` the
parsers, :mod:`.errors` the errors; the names below are the public contract.
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
from tally.core.procedure.errors import ProcedureDefinitionError, ProcedureFileError
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
    "Evaluation",
    "FailComparison",
    "Procedure",
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
