"""The one error base of the producer packages: ``tally``, ``keys`` and ``ballot_printer``.

Every refusal they raise carries a stable machine ``code``, a Simplified Chinese message for an
official or a voter (``zh``), an English one (``en``, also ``str(e)``) and, where it enforces a spec
clause, that ``clause`` ("" when none). The shells choose the language (Chinese unless English is
asked for) and the exit code or HTTP status; this package never prints or logs.

It is a package of its own, importing nothing, so that all three may use it without breaking the
import contracts (``keys`` and ``ballot_printer`` never import ``tally``; ``tally.core`` never
imports ``keys``). The verifier keeps its own error family by design: it reimplements from spec/
and imports nothing of the producer, this package included (docs/adr, "one error base").
"""

from __future__ import annotations

__all__ = ["BilingualError", "inline"]

# What ends a sentence in either language; a message set inside another sentence loses it.
_SENTENCE_ENDS = "。．！？；.!?;"


class BilingualError(Exception):
    """A refusal in both languages: ``code``, ``zh``, ``en`` and optional ``clause``.

    ``code`` and ``clause`` are class defaults that an instance may override: a family whose
    classes each name their code (``keys``, ``ballot_printer``) calls ``Cls(zh=..., en=...)``; a
    family that names it where it raises (``tally``) calls ``Cls("store.locked", zh=..., en=...)``.
    """

    code: str = "error"
    clause: str = ""
    zh: str
    en: str

    def __init__(
        self, code: str | None = None, *, zh: str, en: str, clause: str | None = None
    ) -> None:
        super().__init__(en)
        if code is not None:
            self.code = code
        if clause is not None:
            self.clause = clause
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return self.en

    def message(self, lang: str) -> str:
        """The message in ``lang``: English for "en", Simplified Chinese otherwise."""
        return self.en if lang == "en" else self.zh

    def to_json(self, lang: str) -> dict[str, object]:
        """The refusal body the CLI's ``--json`` and the HTTP API print, in ``lang``.

        ``{"ok": false, "code": ..., "message": ...}``; a caller adds what its output has more
        (the definition's ``problems``, the API's ``clause``).
        """
        return {"ok": False, "code": self.code, "message": self.message(lang)}


def inline(text: str) -> str:
    """``text`` as a part of another sentence: its final full stop (。 . ！ ; …) removed.

    Most messages end with their own stop (``二维码内容为空。``); a message that quotes one
    ("扫到的内容不是选票二维码：{inline(e.zh)}。请重新扫描") adds its own, so the sentence ends
    once. A range such as ``1..255`` inside the text is left alone.
    """
    return text.rstrip().rstrip(_SENTENCE_ENDS)
