"""`tally enter` and `tally withdraw`: the tellers' entry of the returned ballots."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Annotated, Any

import typer

import ballot_printer
import keys
from tally.cli_day.common import MAX_BATCH_BYTES, ActorOpt, DbArg, JsonOpt, LangOpt, _run, _signer
from tally.cli_input import read_input
from tally.core.ballots import INVALID_REASONS
from tally.core.double_entry import require_same_batches
from tally.core.meeting import Entry, OpenRound
from tally.core.meeting.bodies import BallotDeclaredInvalid, BallotEntered
from tally.election import ElectionSession, EntryInput, check_invalid_reason
from tally.session_errors import SessionError

__all__ = ["enter", "withdraw"]


def enter(
    db: DbArg,
    qr: Annotated[str | None, typer.Option("--qr", help="扫码枪读到的二维码文字")] = None,
    marks: Annotated[
        str | None, typer.Option("--marks", help="每名候选人一个标记：o x - ?")
    ] = None,
    write_in: Annotated[
        list[str] | None,
        typer.Option("--write-in", help="另选人姓名或编号（名字后加 :- 表示未画○）"),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option("--batch", help="批量录入文件（.jsonl 或 .csv，格式见上）"),
    ] = None,
    second: Annotated[
        Path | None, typer.Option("--second", help="第二名计票人的录入文件（双人录入核对）")
    ] = None,
    invalid: Annotated[
        str | None,
        typer.Option(
            "--invalid",
            help="无效票理由：identifying_marks unreadable not_official_stock",
        ),
    ] = None,
    confirm_key: Annotated[
        Path | None,
        typer.Option("--confirm-key", help="确认无效票的监票人密钥文件（与 --invalid 同用）"),
    ] = None,
    scans: Annotated[
        Path | None,
        typer.Option(
            "--scans",
            help="同一叠选票的扫描件（PDF/PNG/JPEG），按顺序填入批量文件中 qr 为空的各行",
        ),
    ] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """录入选票（单张或批量，全部成功或全部不录入）/ Enter ballots (one, or a batch: all or nothing).

    \b
    二维码文字从哪里来 / where the QR text comes from:
    - 扫码枪（模拟键盘）：光标放在 --qr 之后扫码，扫码枪打出 BQ1:… 文字
      a barcode scanner acting as a keyboard types the BQ1:... text after --qr
    - tally ballot read 扫描件.pdf --election 选举.db 读出扫描件上每张选票的二维码
      tally ballot read reads the QR of every ballot in a scan (PDF/PNG/JPEG)
    - 投票站页面 /station/ 的录入页用扫码枪或摄像头读码
      the station page /station/ reads it with a scanner or the camera
    标记：每名候选人一个，按选票上的顺序：o 赞成，x 不赞成，- 弃权，? 无法辨认
    marks: one per candidate in ballot order: o approve, x disapprove, - abstain, ? unreadable

    \b
    批量文件 / batch files (UTF-8, one ballot per line; examples/*.jsonl, examples/*.csv):
    - JSONL: {"qr": "BQ1:…", "marks": "ooooox", "write_ins": ["周玉兰"]}
    - CSV:   qr,marks,write_ins   （表头可省略；多名另选人用 ; 分隔；另选人后加 :- 表示未画○）
    qr 为空的行按顺序取 --scans 扫描件中的二维码（行数须与二维码数相同）
    rows with an empty qr take the QR codes of --scans in order (the counts must match)

    \b
    经监票人确认作为无效票录入（R8.5）：--invalid 理由 --confirm-key 监票人密钥 [--qr 二维码]；
    理由 identifying_marks（有识别标记）、unreadable（无法辨认）、not_official_stock
    （非正式选票，不给 --qr）。/ With --invalid REASON --confirm-key SCRUTINEER.key [--qr]:
    one returned ballot entered as invalid by decision, signed by a scrutineer.
    """

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        if invalid is not None or confirm_key is not None:
            given = (marks, batch, second, scans)
            other = any(x is not None for x in given) or bool(write_in)
            return _enter_invalid(db, lg, invalid, confirm_key, qr, actor, other=other)
        items, seconds = _entries_given(qr, marks, write_in, batch, second, scans)
        return _enter_entries(db, lg, items, seconds, actor)

    _run(lang, as_json, act)


def _entries_given(
    qr: str | None,
    marks: str | None,
    write_in: list[str] | None,
    batch: Path | None,
    second: Path | None,
    scans: Path | None,
) -> tuple[list[EntryInput], list[EntryInput] | None]:
    """The first teller's entries and the second's (None without --second), from the options.

    Raises:
        SessionError: --scans without --batch, neither --qr with --marks nor --batch, or a batch
            file or scan that cannot be read.
    """
    seconds: list[EntryInput] | None = None
    if scans is not None and batch is None:
        raise SessionError(
            "enter.scans_without_batch",
            zh="--scans 须与 --batch 一起使用",
            en="--scans needs --batch",
        )
    if batch is not None:
        first_rows = _read_batch(batch)
        second_rows = _read_batch(second) if second is not None else None
        texts = ballot_printer.read_qr_texts(scans) if scans is not None else None
        items = _fill_from_scans(first_rows, texts, "--batch")
        if second_rows is not None:
            seconds = _fill_from_scans(second_rows, texts, "--second")
    elif qr is not None and marks is not None:
        items = [EntryInput(qr=qr, marks=marks, write_ins=tuple(write_in or ()))]
        if second is not None:  # the second teller's entry of this one ballot
            seconds = _fill_from_scans(_read_batch(second), None, "--second")
    else:
        raise SessionError(
            "enter.args",
            zh="请给出 --qr 和 --marks，或 --batch",
            en="give --qr and --marks, or --batch",
        )
    return items, seconds


def _enter_entries(
    db: Path,
    lg: str,
    items: list[EntryInput],
    seconds: list[EntryInput] | None,
    actor: str,
) -> tuple[list[str], dict[str, Any]]:
    """Enter the ballots (all or none), the two tellers' entries compared first when given."""
    s = ElectionSession.open(db)
    if seconds is None and s.meeting.double_entry:
        # (spec/log.md §2.3) the logged mode binds every shell, not only the station
        raise SessionError(
            "double_entry.second_needed",
            zh="已开启双人录入：请用 --second 给出第二名计票人对同一批选票的录入",
            en="double entry is on: give the second teller's entry of the same ballots "
            "with --second",
        )
    if seconds is not None:  # (spec/log.md §2.3) one rule: tally.core.double_entry
        require_same_batches(
            [x.entered() for x in items],
            [x.entered() for x in seconds],
            params=s.manifest.election.parameters,
        )
    entries = s.enter(items, actor=actor)
    cur = s.meeting.current
    assert cur is not None
    lines = [_entered_line(e, cur, lg) for e in entries]
    lines.append(
        f"本轮已录入 {len(cur.entered)} / {cur.returned} 张"
        if lg == "zh"
        else f"{len(cur.entered)} of {cur.returned} returned ballots entered"
    )
    return lines, {
        "entered": len(entries),
        "total": len(cur.entered),
        "returned": cur.returned,
    }


def _entered_line(e: Entry, cur: OpenRound, lg: str) -> str:
    """One entered ballot: recorded, or why it is invalid (over-vote, too many write-ins)."""
    v = e.value
    assert isinstance(v, BallotEntered)  # s.enter built and applied it
    # (R8.1) every filled write-in row counts in 所选人数; (R9.5) more write-ins
    # than the paper's rows make one invalid ballot.
    approvals = sum(1 for m in v.marks if m.value == "o") + len(v.write_ins)
    rows = len(v.write_ins) > cur.spec.seats
    over = approvals > cur.spec.seats
    zh_v = "另选人多于选票上的空行，无效票" if rows else "所选人数多于应选人数，无效票"
    en_v = "more write-ins than rows, invalid ballot" if rows else "over-vote, invalid ballot"
    return (
        f"已录入选票 {v.ballot_id[:8]}…：" + (zh_v if over else "已记录")
        if lg == "zh"
        else f"entered {v.ballot_id[:8]}…: " + (en_v if over else "recorded")
    )


def withdraw(
    db: DbArg,
    ballot: Annotated[str, typer.Option("--ballot", help="最后录入的选票编号")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """撤回计票人最后录入的一张选票（记入日志，不删除）/ Undo the last entry."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        s.withdraw(ballot, actor=actor)
        return (
            [f"已撤回选票 {ballot}" if lg == "zh" else f"withdrawn: {ballot}"],
            {"withdrawn": ballot},
        )

    _run(lang, as_json, act)


def _enter_invalid(
    db: Path,
    lg: str,
    reason: str | None,
    confirm_key: Path | None,
    qr: str | None,
    actor: str,
    *,
    other: bool,
) -> tuple[list[str], dict[str, Any]]:
    """`tally enter --invalid REASON --confirm-key KEY [--qr TEXT]` (R8.5)."""
    if reason is None:
        raise SessionError(
            "enter.args",
            zh="--confirm-key 只与 --invalid 同用",
            en="--confirm-key goes with --invalid",
        )
    if other:
        raise SessionError(
            "enter.args",
            zh="作为无效票录入时不给 --marks、--write-in、--batch 或 --second",
            en="--invalid takes no --marks, --write-in, --batch or --second",
        )
    check_invalid_reason(reason)  # before asking for the scrutineer's passphrase
    if confirm_key is None:
        raise SessionError(
            "invalid.no_confirmation",
            zh="作为无效票录入须由监票人确认：请用 --confirm-key 给出监票人密钥文件",
            en="an invalid ballot needs a scrutineer's confirmation: give --confirm-key",
        )
    s = ElectionSession.open(db)
    if s.meeting.current is None:  # before asking for the scrutineer's passphrase
        raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
    entry = s.declare_invalid(
        reason, confirmer=_signer(confirm_key, keys.Role.SCRUTINEER), qr=qr, actor=actor
    )
    zh_reason, en_reason = INVALID_REASONS[reason]
    cur = s.meeting.current
    assert cur is not None
    v = entry.value
    assert isinstance(v, BallotDeclaredInvalid)
    code = v.ballot_id[:8] + "…" if v.ballot_id else ""
    lines = [
        f"已作为无效票录入{('选票 ' + code) if code else '一张无二维码的选票'}"
        f"（{zh_reason}，经监票人 {v.scrutineer} 确认）"
        if lg == "zh"
        else f"entered {('ballot ' + code) if code else 'a ballot without QR'} as invalid "
        f"({en_reason}, confirmed by {v.scrutineer})",
        f"本轮已录入 {len(cur.entered)} / {cur.returned} 张"
        if lg == "zh"
        else f"{len(cur.entered)} of {cur.returned} returned ballots entered",
    ]
    return lines, {
        "invalid": reason,
        "ballot_id": v.ballot_id,
        "scrutineer": v.scrutineer,
        "total": len(cur.entered),
        "returned": cur.returned,
    }


_BATCH_KEYS = frozenset({"qr", "marks", "write_ins"})


def _read_batch(path: Path) -> list[EntryInput]:
    raw = read_input(path, limit=MAX_BATCH_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SessionError(
            "batch.encoding",
            zh=f"批量文件不是 UTF-8 编码：{path}（第 {e.start + 1} 字节；请用 UTF-8 保存，"
            "如 Excel 的“CSV UTF-8”）",
            en=f"the batch file is not UTF-8: {path} (byte {e.start + 1}; save it as UTF-8, "
            'e.g. Excel\'s "CSV UTF-8")',
        ) from e
    items: list[EntryInput] = []
    if path.suffix.lower() == ".csv":
        rows = csv.reader(io.StringIO(text))
        for i in itertools.count(1):
            try:
                row = next(rows, None)
            except csv.Error as e:  # a field over the csv module's limit (128 KiB)
                raise SessionError(
                    "batch.row", zh=f"第 {i} 行格式错误", en=f"line {i} is malformed"
                ) from e
            if row is None:
                break
            if not row or (i == 1 and row[0].strip().lower() == "qr"):
                continue
            if not 2 <= len(row) <= 3:  # (A12.12) no column beyond the three known ones
                raise SessionError(
                    "batch.row",
                    zh=f"第 {i} 行应为 qr,marks[,另选人;…]（最多三列）",
                    en=f"line {i}: expected qr,marks[,write-ins;...] (at most three columns)",
                )
            write_ins = tuple(w for w in (row[2].split(";") if len(row) > 2 else []) if w.strip())
            items.append(EntryInput(qr=row[0], marks=row[1], write_ins=write_ins))
        return _non_empty(items, path)
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            unknown = sorted(set(doc) - _BATCH_KEYS) if isinstance(doc, dict) else []
            if unknown:  # (A12.12) unknown fields are refused, never ignored
                raise SessionError(
                    "batch.unknown_field",
                    zh=f"第 {i} 行有未知字段：{'、'.join(unknown)}（只允许 qr、marks、write_ins）",
                    en=f"line {i}: unknown field(s) {', '.join(unknown)} "
                    "(only qr, marks, write_ins)",
                )
            items.append(
                EntryInput(
                    qr=str(doc["qr"]),
                    marks=str(doc["marks"]),
                    write_ins=tuple(str(w) for w in doc.get("write_ins", [])),
                )
            )
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise SessionError(
                "batch.row", zh=f"第 {i} 行格式错误", en=f"line {i} is malformed"
            ) from e
    return _non_empty(items, path)


def _non_empty(items: list[EntryInput], path: Path) -> list[EntryInput]:
    if not items:
        raise SessionError(
            "batch.empty", zh=f"批量文件 {path.name} 中没有选票", en=f"no ballots in {path.name}"
        )
    return items


def _fill_from_scans(
    items: list[EntryInput], texts: list[str] | None, which: str
) -> list[EntryInput]:
    """Rows with an empty ``qr`` take the scan's QR codes in order; every other row keeps its own.

    Raises:
        SessionError: empty rows without a scan, a scan without empty rows, or counts that differ.
    """
    empty = [i for i, x in enumerate(items) if not x.qr.strip()]
    if texts is None:
        if empty:
            raise SessionError(
                "batch.qr_missing",
                zh=f"{which} 文件第 {empty[0] + 1} 张选票没有二维码文字（qr 为空时须给出 --scans）",
                en=f"{which} file: ballot {empty[0] + 1} has no QR text (empty qr needs --scans)",
            )
        return items
    if len(texts) != len(empty):
        raise SessionError(
            "batch.scan_count",
            zh=f"扫描件中有 {len(texts)} 个二维码，{which} 文件中 qr 为空的有 {len(empty)} 行，"
            "两者须相同，均未录入",
            en=f"the scan holds {len(texts)} QR codes but the {which} file has {len(empty)} rows "
            "with an empty qr; they must match; nothing entered",
        )
    out = list(items)
    for i, text in zip(empty, texts, strict=True):
        out[i] = EntryInput(qr=text, marks=items[i].marks, write_ins=items[i].write_ins)
    return out
