"""The options that the ``tally procedure`` and ``tally casework`` commands share.

One definition each (an ``Annotated`` alias, as :mod:`tally.cli_day.common` does for the
polling-day commands), so that an option's name, help text and default come from one place. The
common four (``--lang``, ``--json``, ``--key``, ``--actor``) and the key loading with its
passphrase (``TALLY_PASSPHRASE`` or a hidden prompt) are the polling-day commands' own, re-exported
here. An option used by one command only stays with that command. A date option is parsed, and
an input file read, by :mod:`tally.cli_input` (one code for a bad date, one per file failure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tally.cli_day.common import (
    KIND_NAMES,
    PASSPHRASE_ENV,
    ActorOpt,
    JsonOpt,
    KeyOpt,
    LangOpt,
    _signer,
)

__all__ = [
    "KIND_NAMES",
    "PASSPHRASE_ENV",
    "ActorOpt",
    "CaseworkFileArg",
    "JsonOpt",
    "KeyOpt",
    "LangOpt",
    "MemberOpt",
    "MembersFileOpt",
    "NewFolderOpt",
    "ProcedureDbArg",
    "TownPublicOpt",
    "TownSigningKeyOpt",
    "key_signer",
]

key_signer = _signer
"""Load a key file for a role; its passphrase from ``TALLY_PASSPHRASE``, else a hidden prompt when
stdin is a terminal, else refused (``cli.passphrase_missing``)."""

# -- the procedure file and its people ------------------------------------------------------------
ProcedureDbArg = Annotated[Path, typer.Argument(help="换届程序文件（tally procedure open 创建）")]
MemberOpt = Annotated[list[str] | None, typer.Option("--member", help="到会党员编号（可多次）")]
MembersFileOpt = Annotated[
    Path | None, typer.Option("--members-file", help="到会党员编号清单（每行一个）")
]

# -- the town committee's key ---------------------------------------------------------------------
TownPublicOpt = Annotated[str, typer.Option("--town-key", help="镇党委公钥文件或其25位指纹")]
"""The town's public key (a file, or its 25-character fingerprint) that a signature is checked
against."""
TownSigningKeyOpt = Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件（签署）")]
"""The town's key file that signs a town act."""

# -- output -----------------------------------------------------------------------------------------
NewFolderOpt = Annotated[Path, typer.Option("--out", help="输出文件夹（须不存在或为空）")]
"""A bundle's folder: written only when it does not exist or is empty."""

# -- the casework file ------------------------------------------------------------------------------
CaseworkFileArg = Annotated[Path, typer.Argument(help="事项登记簿文件（tally casework new 创建）")]
