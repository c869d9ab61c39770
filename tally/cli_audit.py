"""``tally audit ...``: what the town committee signs about the paper audit (spec/audit.md A14-A15).

- ``tally audit appoint``: the ``audit-appointment/1`` naming the auditors and their keys,
  signed with the town committee key; stored as ``audit/appointment.json`` beside the bundle.
- ``tally audit head``: the ``audit-head/1`` countersigning the newest record's hash (the head of
  the records' chain), given to ``verifier verify --audit-head FILE``; the town runs
  ``verifier audit check`` on the records before signing it.

The records themselves are made by ``verifier audit``; this side only hashes record files and
signs, with the project's own ``keys`` (the verifier checks with its own code).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Final

import typer

import keys
from tally.cli_day import JsonOpt, LangOpt, _run, _signer
from tally.cli_input import read_input
from tally.core.manifest import canonical
from tally.session_errors import SessionError

__all__ = ["appointment_document", "head_document", "register"]

APPOINTMENT_DOMAIN: Final = b"branch-election/audit-appointment/1"
HEAD_DOMAIN: Final = b"branch-election/audit-head/1"
GENESIS: Final = "0" * 64
#: An audit record (``audit/<n>.json``), the verifier's limit (spec/bundle.md §8).
MAX_RECORD_BYTES: Final = 64 * 1024 * 1024
_RECORD: Final = re.compile(r"([1-9][0-9]{0,5})\.json")
_EID: Final = re.compile(r"[0-9a-f]{64}")
TownOpt = Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件")]
EidOpt = Annotated[str, typer.Option("--election-id", help="选举标识（64位十六进制）")]


def _election_id(text: str) -> str:
    if not _EID.fullmatch(text):
        raise SessionError(
            "audit.election_id",
            zh="选举标识应为64位小写十六进制",
            en="the election id is 64 lowercase hex digits",
        )
    return text


def _auditor(text: str) -> dict[str, str]:
    """``NAME:BASE64KEY`` (the public key ``verifier audit keygen`` prints)."""
    name, sep, b64 = text.rpartition(":")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not sep or not 1 <= len(name) <= 64 or name != name.strip() or len(raw) != 32:
        raise SessionError(
            "audit.auditor",
            zh=f"审计员应写成“姓名:公钥”（公钥为 verifier audit keygen 显示的 base64）：{text}",
            en=f"an auditor is NAME:KEY (the base64 key verifier audit keygen prints): {text}",
        )
    return {"name": name, "key": base64.b64encode(raw).decode()}


def appointment_document(election_id: str, auditors: list[str], town: keys.Signer) -> bytes:
    """The ``audit-appointment/1`` bytes (RFC 8785), signed with the town committee key (A14).

    Raises:
        SessionError: a bad election id, auditor entry, repeated key or a key of another role.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError("key.role", zh="需要镇党委密钥", en="the town committee key is needed")
    items = [_auditor(a) for a in auditors]
    if not items or len({i["key"] for i in items}) != len(items):
        raise SessionError(
            "audit.auditor",
            zh="至少任命一名审计员，且每把公钥只能出现一次",
            en="appoint at least one auditor, each key once",
        )
    signed = {
        "format": "audit-appointment/1",
        "election_id": _election_id(election_id),
        "auditors": items,
    }
    sig = town.sign(APPOINTMENT_DOMAIN, canonical(signed))
    return canonical(
        {
            "format": "audit-appointment/1",
            "signed": signed,
            "signature": base64.b64encode(sig).decode(),
        }
    )


def head_document(election_id: str, folder: Path, town: keys.Signer) -> tuple[bytes, int, str]:
    """The ``audit-head/1`` bytes over the newest record in ``folder`` (A15), its count and head.

    Raises:
        SessionError: a bad election id, a key of another role, or records not numbered 1..n.
        CliError: ``input.*`` for a newest record the reader refuses.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError("key.role", zh="需要镇党委密钥", en="the town committee key is needed")
    numbers = (
        sorted(int(m.group(1)) for f in folder.iterdir() if (m := _RECORD.fullmatch(f.name)))
        if folder.is_dir()
        else []
    )
    if numbers != list(range(1, len(numbers) + 1)):
        raise SessionError(
            "audit.numbering",
            zh=f"审计记录编号不连续：{numbers}",
            en=f"the records are not numbered 1..n: {numbers}",
        )
    head = (
        hashlib.sha256(
            read_input(folder / f"{numbers[-1]}.json", limit=MAX_RECORD_BYTES)
        ).hexdigest()
        if numbers
        else GENESIS
    )
    signed = {
        "format": "audit-head/1",
        "election_id": _election_id(election_id),
        "records": len(numbers),
        "head": head,
    }
    sig = town.sign(HEAD_DOMAIN, canonical(signed))
    doc = canonical(
        {"format": "audit-head/1", "signed": signed, "signature": base64.b64encode(sig).decode()}
    )
    return doc, len(numbers), head


def register(app: typer.Typer) -> None:
    """Add ``tally audit appoint`` and ``tally audit head``."""
    audit_app = typer.Typer(help="纸质选票审计（镇党委签署）/ paper audit", no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("appoint")
    def appoint(
        town_key: TownOpt,
        election_id: EidOpt,
        auditor: Annotated[
            list[str], typer.Option("--auditor", help="审计员 姓名:公钥（可多次）/ NAME:KEY")
        ],
        out: Annotated[
            Path, typer.Option("--out", help="输出（结果包旁的 audit/appointment.json）")
        ],
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """镇党委任命审计员 / The town committee appoints the auditors (audit.md A14)."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            signer = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            data = appointment_document(election_id, auditor, signer)
            out.parent.mkdir(parents=True, exist_ok=True)
            keys.write_new_file(out, data, mode=keys.PUBLIC_FILE_MODE)
            return (
                [f"已签署审计员任命书：{out}（{len(auditor)} 名审计员）"]
                if lg == "zh"
                else [f"auditor appointment signed: {out} ({len(auditor)} auditors)"],
                {"out": str(out), "auditors": len(auditor)},
            )

        _run(lang, as_json, act)

    @audit_app.command("head")
    def head(
        audit_dir: Annotated[Path, typer.Argument(help="审计记录文件夹 audit/")],
        town_key: TownOpt,
        election_id: EidOpt,
        out: Annotated[Path, typer.Option("--out", help="输出：签署的审计链头 audit-head/1")],
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """镇党委会签审计记录链头 / The town committee countersigns the audit's head (A15)."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            signer = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            data, n, hx = head_document(election_id, audit_dir, signer)
            keys.write_new_file(out, data, mode=keys.PUBLIC_FILE_MODE)
            return (
                [f"已签署审计链头：{out}（{n} 份记录）", f"链头：{hx}"]
                if lg == "zh"
                else [f"audit head signed: {out} ({n} records)", f"head: {hx}"],
                {"out": str(out), "records": n, "head": hx},
            )

        _run(lang, as_json, act)
