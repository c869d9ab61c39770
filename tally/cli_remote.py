"""``tally remote``: open remote voting, invite approved members, close it (spec/remote.md).

Mounted by ``tally.cli``: ``app.add_typer(cli_remote.app, name="remote")``. Run these while the
service is stopped (the service keeps its own open session), with the service's ``--data`` folder:
the issuer key, the invitation key and the share containers live under ``<data>/remote``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import qrcode
import typer

import keys
from tally import remote_checker
from tally.cli_day import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _run, _signer
from tally.cli_day.common import PASSPHRASE_ENV
from tally.cli_progress import progress_bar
from tally.election import ElectionSession
from tally.session_config import SessionConfig

__all__ = ["app", "invitation_url", "terminal_qr"]

app = typer.Typer(help="远程投票 / remote voting", no_args_is_help=True)
DataOpt = Annotated[Path, typer.Option("--data", help="服务数据文件夹（与 tally serve 相同）")]
DEFAULT_DATA = Path(".run/service")


def invitation_url(base: str, code: str, pin: str | None = None) -> str:
    """The page address with the code (and the check code) in the fragment, which browsers never
    send to a server (RM-10.3)."""
    extra = f"&pin={quote(pin)}" if pin else ""
    return f"{base.rstrip('/')}/vote/#code={quote(code)}{extra}"


def terminal_qr(text: str) -> str:
    """A QR code drawn with half-block characters (two modules per character row)."""
    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    m = qr.get_matrix()
    rows = []
    for y in range(0, len(m), 2):
        top, bottom = m[y], m[y + 1] if y + 1 < len(m) else [False] * len(m[y])
        rows.append(
            "".join(
                {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}[
                    (t, b)
                ]
                for t, b in zip(top, bottom, strict=True)
            )
        )
    return "\n".join(rows)


@app.command("open")
def open_(
    db: DbArg,
    key: KeyOpt,
    k: Annotated[int, typer.Option("--k", min=1, help="开启密钥所需监票人数（k-of-n）")],
    data: DataOpt = DEFAULT_DATA,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """开启远程投票：签发密钥、选举公钥的私钥份额分给监票人 / Open remote voting."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(
            SessionConfig(db, passphrase=os.environ.get(PASSPHRASE_ENV, ""), data_dir=data)
        )
        s.remote.open(signer=_signer(key, keys.Role.WORK_GROUP), k=k, actor=actor)
        n = len(s.manifest.scrutineer_keys)
        return (
            [f"远程投票已开启：选举公钥的私钥份额由 {n} 名监票人分持，解密合计时需 {k} 人"]
            if lg == "zh"
            else [
                f"remote voting open: the election key is shared among {n} scrutineers, "
                f"{k} needed to decrypt the totals"
            ],
            {"k": k, "n": n, "data": str(data)},
        )

    _run(lang, as_json, act)


@app.command("invite")
def invite(
    db: DbArg,
    member: Annotated[str, typer.Argument(help="党员编号或姓名（须经镇党委批准远程投票）")],
    base_url: Annotated[
        str, typer.Option("--url", help="服务的 https 地址")
    ] = "https://127.0.0.1:8000",
    png: Annotated[Path | None, typer.Option("--png", help="二维码另存为 PNG")] = None,
    data: DataOpt = DEFAULT_DATA,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """发给党员一次性邀请码（只显示一次）/ Invite a member (the code is shown once)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(SessionConfig(db, data_dir=data))
        code, mid = s.remote.issue_invitation(member)
        pin = s.remote.invitation_pin()
        url = invitation_url(base_url, code, pin)
        if png is not None:
            buf = io.BytesIO()
            qrcode.make(url).save(buf, format="PNG")
            keys.write_new_file(png, buf.getvalue(), mode=keys.PRIVATE_FILE_MODE)
        lines = (
            [
                f"{mid} 的邀请码（只显示这一次，请当面或私下交给本人）：",
                f"  邀请码 {code}",
                f"  校验码 {pin}（本次选举所有邀请相同；扫码时自动核对）",
                f"  {url}",
            ]
            if lg == "zh"
            else [
                f"invitation for {mid} (shown once; give it to the member privately):",
                f"  code       {code}",
                f"  check code {pin} (the same on every invitation of this election; the QR has it)",
                f"  {url}",
            ]
        )
        if png is not None:
            lines.append(f"二维码：{png}" if lg == "zh" else f"QR code: {png}")
        else:
            lines.append(terminal_qr(url))
        return lines, {"member": mid, "code": code, "pin": pin, "url": url}

    _run(lang, as_json, act)


# About 0.1 s a ballot: a bar once the check takes more than a couple of seconds.
PROGRESS_FROM_CASTS = 20


def _check_received(s: ElectionSession, lg: str, *, quiet: bool) -> None:
    """(RV-4.3) The casts still received, checked here before the close logs anything, with a
    progress bar on stderr when there are many (the close then finds none left to check)."""
    r = s.meeting.remote
    if r is None or r.closed:
        return  # the close refuses with its own code
    total = len(s.store.received_receipts())
    if quiet or total < PROGRESS_FROM_CASTS:
        remote_checker.check_received(s.remote)
        return
    label = "核验未核验的远程选票" if lg == "zh" else "checking the received remote ballots"
    with progress_bar(label, total) as bar:
        remote_checker.check_received(s.remote, lambda done, _n: bar.completed(done))


@app.command("close")
def close(
    db: DbArg,
    key: KeyOpt,
    data: DataOpt = DEFAULT_DATA,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """截止远程投票并销毁签发密钥 / Close remote voting and destroy the issuer key."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(SessionConfig(db, data_dir=data))
        signer = _signer(key, keys.Role.WORK_GROUP)
        _check_received(s, lg, quiet=as_json)
        s.remote.close(signer=signer, actor=actor)
        r = s.meeting.remote
        casts = len(r.casts) if r is not None else 0
        creds = len(r.credentials) if r is not None else 0
        return (
            [f"远程投票已截止：已发凭证 {creds} 个，收到远程选票 {casts} 张"]
            if lg == "zh"
            else [f"remote voting closed: {creds} credentials, {casts} remote ballots"],
            {"credentials": creds, "casts": casts},
        )

    _run(lang, as_json, act)


@app.command("decrypt")
def decrypt(
    db: DbArg,
    key: Annotated[Path, typer.Option("--key", help="监票人密钥文件（口令同其他密钥命令）")],
    work_group_key: Annotated[
        Path | None,
        typer.Option("--work-group-key", help="工作组密钥文件：第 k 名监票人解密时合计须签检查点"),
    ] = None,
    data: DataOpt = DEFAULT_DATA,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """监票人部分解密远程选票合计；第 k 人时得出合计 / A scrutineer decrypts the remote
    totals; the k-th combines them (spec/remote-v2.md RV-5.3)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(SessionConfig(db, data_dir=data))
        scrutineer = _signer(key, keys.Role.SCRUTINEER)
        wg = _signer(work_group_key, keys.Role.WORK_GROUP) if work_group_key else None
        out = s.remote.decrypt(scrutineer, signer=wg, actor=actor)
        i, have, k = out["index"], out["partials"], out["k"]
        if out["totals"] is None:
            lines = (
                [f"监票人 {i} 的部分解密已记录（{have}/{k}）"]
                if lg == "zh"
                else [f"partial decryption of scrutineer {i} logged ({have}/{k})"]
            )
        else:
            lines = (
                [f"监票人 {i} 的部分解密已记录；远程选票合计已解密并记录："]
                if lg == "zh"
                else [f"partial decryption of scrutineer {i} logged; remote totals logged:"]
            )
            for p in out["totals"]:
                lines.append(f"  {p['post']}: {p['ballots']} / {p['totals']}")
        return lines, out

    _run(lang, as_json, act)
