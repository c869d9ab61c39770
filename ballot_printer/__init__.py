"""Paper ballots: signed QR payloads, the ballot-stock PDF, the tally sheet, reading scans.

Normative description: spec/ballot-qr.md; the procedure's recommendation and evaluation ballots
(`procedure_*`): spec/procedure.md RP-3.3-RP-3.6, RP-5.3. `layout` is pure (model -> page spec);
`render` and `scan` are the I/O shells. A signer is passed in (see `Signer`); this package holds
no key.
"""

from ballot_printer import errors
from ballot_printer.errors import *  # noqa: F403 (the names in its __all__)
from ballot_printer.layout import BallotPaper, PageSize
from ballot_printer.payload import (
    QR_DOMAIN,
    QR_TEXT_MAX_CHARS,
    PaperKind,
    QrPayload,
    Signer,
    VerifiedBallot,
    ballot_code,
    encode_qr_text,
    parse_qr_text,
    sign_payload,
    verify_payload,
)
from ballot_printer.procedure_layout import EvaluationPaper, RecommendationPaper
from ballot_printer.procedure_qr import (
    ProcedureForm,
    encode_procedure_qr_text,
    parse_procedure_qr_text,
    post_code,
    verify_procedure_payload,
)
from ballot_printer.procedure_render import render_procedure_stock_pdf
from ballot_printer.procedure_stock import (
    ProcedureStock,
    make_procedure_stock,
    procedure_stock_commitment,
    procedure_stock_list_json,
)
from ballot_printer.render import DEFAULT_FONT_PATH, render_stock_pdf, render_tally_sheet
from ballot_printer.scan import PageQrs, read_qr_pages, read_qr_texts
from ballot_printer.stock import BallotStock, make_stock, stock_commitment, stock_list_json

__all__ = [
    "DEFAULT_FONT_PATH",
    "QR_DOMAIN",
    "QR_TEXT_MAX_CHARS",
    "BallotPaper",
    "BallotStock",
    "EvaluationPaper",
    "PageQrs",
    "PageSize",
    "PaperKind",
    "ProcedureForm",
    "ProcedureStock",
    "QrPayload",
    "RecommendationPaper",
    "Signer",
    "VerifiedBallot",
    "ballot_code",
    "encode_procedure_qr_text",
    "encode_qr_text",
    "make_procedure_stock",
    "make_stock",
    "parse_procedure_qr_text",
    "parse_qr_text",
    "post_code",
    "procedure_stock_commitment",
    "procedure_stock_list_json",
    "read_qr_pages",
    "read_qr_texts",
    "render_procedure_stock_pdf",
    "render_stock_pdf",
    "render_tally_sheet",
    "sign_payload",
    "stock_commitment",
    "stock_list_json",
    "verify_payload",
    "verify_procedure_payload",
]
__all__ += errors.__all__
