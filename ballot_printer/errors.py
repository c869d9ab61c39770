"""The `ballot_printer` exception family (spec/ballot-qr.md §6 Errors).

Every error carries a stable machine id (`code`), the spec clause it enforces where there is one
(`clause`), a Simplified Chinese message for an election clerk (`zh`) and an English message (`en`,
also `str(e)`). Shells map classes to exit codes; this package never prints or logs.
"""

from __future__ import annotations

from bilingual import BilingualError

__all__ = [
    "BadEncodingError",
    "BadSignatureError",
    "BallotPrinterError",
    "FontError",
    "InvalidBallotPaperError",
    "InvalidElectionIdError",
    "InvalidFieldError",
    "InvalidPublicKeyError",
    "LayoutOverflowError",
    "MissingGlyphError",
    "NoQrFoundError",
    "NotAFileError",
    "OutputError",
    "OverlongPayloadError",
    "PdfRasterError",
    "ProcedureBallotError",
    "QrFormatError",
    "QrTextTooLongError",
    "QrVerificationError",
    "RenderError",
    "ScanError",
    "SignerError",
    "StockError",
    "StockMismatchError",
    "StockSizeError",
    "TruncatedPayloadError",
    "UnknownVersionError",
    "UnreadableImageError",
    "WrongElectionError",
    "WrongKindError",
    "WrongRoundError",
]


class BallotPrinterError(BilingualError):
    """Base class of every error raised by `ballot_printer`: each class names its ``code`` (and
    ``clause`` where one applies, "" where none); raise it as ``Cls(zh=..., en=...)``."""

    code = "ballot_printer.error"


# --- QR text and payload parsing (spec Q1-Q4) ---------------------------------------------------


class QrFormatError(BallotPrinterError):
    """The scanned text is not a well-formed ballot QR payload."""

    code = "qr.format"


class QrTextTooLongError(QrFormatError):
    """The text is longer than any ballot QR symbol holds (spec §3.4), refused unread (Q1)."""

    code = "qr.text_too_long"
    clause = "Q1"


class BadEncodingError(QrFormatError):
    """Not `BQ1:` + canonical unpadded RFC 4648 base32 (spec Q1)."""

    code = "qr.bad_encoding"
    clause = "Q1"


class ProcedureBallotError(QrFormatError):
    """A procedure ballot's `BP<n>:` text (a recommendation or evaluation ballot, spec/procedure.md
    RP-3.5) given to the election reader (spec Q1)."""

    code = "qr.procedure_ballot"
    clause = "Q1"


class UnknownVersionError(QrFormatError):
    """The text prefix or the version byte names a version this code does not read (spec Q2)."""

    code = "qr.unknown_version"
    clause = "Q2"


class TruncatedPayloadError(QrFormatError):
    """The payload is shorter than the 99 bytes of version 1 (spec Q3)."""

    code = "qr.truncated"
    clause = "Q3"


class OverlongPayloadError(QrFormatError):
    """The payload is longer than the 99 bytes of version 1 (spec Q3)."""

    code = "qr.overlong"
    clause = "Q3"


class InvalidFieldError(QrFormatError):
    """A field is out of range: paper kind not 1-3, round 0, wrong field length (spec Q4)."""

    code = "qr.bad_field"
    clause = "Q4"


# --- Verification against the expected election, kind and round (spec Q5-Q8) -------------------


class QrVerificationError(BallotPrinterError):
    """A well-formed payload does not belong to the ballot box being counted."""

    code = "qr.verification"


class WrongElectionError(QrVerificationError):
    """The payload names another election (spec Q5)."""

    code = "qr.wrong_election"
    clause = "Q5"


class WrongKindError(QrVerificationError):
    """The payload is another kind of paper, e.g. a secretary ballot in the committee count (Q6)."""

    code = "qr.wrong_kind"
    clause = "Q6"


class WrongRoundError(QrVerificationError):
    """The payload belongs to another round of the same post (spec Q7)."""

    code = "qr.wrong_round"
    clause = "Q7"


class InvalidPublicKeyError(QrVerificationError):
    """The work group public key is not 32 raw Ed25519 bytes (spec Q8)."""

    code = "qr.bad_public_key"
    clause = "Q8"


class BadSignatureError(QrVerificationError):
    """The Ed25519 signature does not verify: counterfeit, altered or foreign ballot (spec Q8)."""

    code = "qr.bad_signature"
    clause = "Q8"


# --- Ballot stock (spec §4) ---------------------------------------------------------------------


class StockError(BallotPrinterError):
    """The ballot stock cannot be made as asked."""

    code = "stock.error"


class StockSizeError(StockError):
    """The stock count is outside 1..5000 (spec §4.1)."""

    code = "stock.count_out_of_range"


class InvalidElectionIdError(StockError):
    """The election id is not a 32-byte SHA-256 digest (spec §4.1)."""

    code = "stock.bad_election_id"


class SignerError(StockError):
    """The signer returned something that is not a 64-byte Ed25519 signature."""

    code = "stock.bad_signer"


# --- Layout and rendering -----------------------------------------------------------------------


class RenderError(BallotPrinterError):
    """A ballot or tally sheet cannot be laid out or printed."""

    code = "render.error"


class InvalidBallotPaperError(RenderError):
    """The ballot paper description is incomplete or contradictory."""

    code = "render.bad_paper"


class LayoutOverflowError(RenderError):
    """The content does not fit on the page even at the smallest allowed sizes."""

    code = "render.overflow"


class StockMismatchError(RenderError):
    """The paper description and the stock disagree on the kind or the round."""

    code = "render.stock_mismatch"


class OutputError(RenderError):
    """The output file cannot be written (missing folder, no permission, disk full)."""

    code = "render.output"


class FontError(RenderError):
    """The font file is missing or cannot be loaded."""

    code = "render.font"


class MissingGlyphError(RenderError):
    """A character has no glyph in the font; it would print as a blank box (tofu)."""

    code = "render.missing_glyph"

    def __init__(self, *, char: str, text: str, field: str) -> None:
        super().__init__(
            zh=f"字体缺少“{char}”(U+{ord(char):04X})字形，无法打印{field}“{text}”。"
            "请更换包含该字的字体，或按规定使用规范写法后重新生成。",
            en=f"the font has no glyph for {char!r} (U+{ord(char):04X}) in {field} {text!r}; "
            "use a font that covers it",
        )
        self.char = char
        self.text = text
        self.field = field


# --- Reading scans ------------------------------------------------------------------------------


class ScanError(BallotPrinterError):
    """A scan cannot be read."""

    code = "scan.error"


class NotAFileError(ScanError):
    """The path does not name a regular file."""

    code = "scan.not_a_file"


class UnreadableImageError(ScanError):
    """The file is not a PNG, JPEG or PDF that can be decoded."""

    code = "scan.unreadable"


class NoQrFoundError(ScanError):
    """The image or document decodes, but no QR code was found in it."""

    code = "scan.no_qr"


class PdfRasterError(ScanError):
    """pdftoppm is missing or failed to render the PDF."""

    code = "scan.pdf_render_failed"
