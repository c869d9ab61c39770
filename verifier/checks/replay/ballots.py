"""The ballots of the log and of ``ballots.jsonl`` (spec/bundle.md V9, spec/log.md §2.2).

Each ``ballot.entered`` and ``ballot.declared_invalid`` joins the open round's entries; a
``ballot.withdrawn`` takes back the last. When the round closes, its surviving ballots are
checked as a whole: their QR signatures (spec/ballot-qr.md Q1-Q8, in batches across processes),
ids unique in the election, and one ``ballot-record/1`` each, in seq order, in ``ballots.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from verifier.bundle import HashingReader
from verifier.canonical import LINE_LIMIT, canonical_bytes, parse_canonical
from verifier.checks.common import MAX_BAD_LINES, short
from verifier.checks.findings import Findings
from verifier.checks.replay.state import Open
from verifier.checks.signatures import BATCH
from verifier.crypto import b64decode_canonical, verify_signature
from verifier.errors import VerificationError
from verifier.lines import LineReader
from verifier.model import LogEntry
from verifier.qr import KIND_BYTES, normalise_qr_text

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = [
    "MARKS",
    "Records",
    "ballot_declared_invalid",
    "ballot_entered",
    "ballot_withdrawn",
    "close_round",
    "finish",
    "record_bytes",
]

MARKS: Final = "ox-?"  # R7.2; ``marks.strip(MARKS)`` is empty exactly when all are valid
# (V9) R8.5: a returned ballot entered as invalid by decision, confirmed by a scrutineer.
_INVALID_DOMAIN: Final = b"branch-election/invalid-ballot/1"
_INVALID_REASONS: Final = frozenset({"identifying_marks", "unreadable", "not_official_stock"})


def record_bytes(seq: int, body: Mapping[str, Any]) -> bytes:
    """The ``ballot-record/1`` of an entry: its body plus format and seq (bundle.md §3), JCS."""
    record = dict(body)
    record["format"] = "ballot-record/1"
    record["seq"] = seq
    return canonical_bytes(record)


# --------------------------------------------------------------------------- entries


def ballot_entered(r: Replay, e: LogEntry, record: bytes = b"") -> None:
    """(V9) One returned ballot as read: marks and write-ins of the round's shape, its paper of
    the round's stock (``record`` is its ballot-record/1 bytes when already built)."""
    b = e.body
    o = r.open
    # The common case (the open round, its ballots returned) without a call; else ``round_of``
    # finds the round and reports the entry out of order (V11).
    if o is None or o.stage != "returned" or o.number != b["round"] or o.post != b["post"]:
        o = r.round_of(e)
        if o is None:
            return
    bid = b["ballot_id"]
    if o.issued is not None and o.returned is not None and o.returned > o.issued:
        void_has_ballots(r, e, o, {"ballot_id": bid})
    marks = b["marks"]
    if len(marks) != len(o.candidates) or marks.strip(MARKS):  # (R7.2) one mark per candidate
        o.misshapen += 1
        r.fail(
            "V9",
            "ballot.shape",
            "选票标记数量或符号无效",
            "marks: one of o x - ? per candidate (R7.2)",
            e,
            expected=f"{len(o.candidates)} marks",
            found=marks,
            ballot_id=bid,
        )
    # More write-ins than rows is an invalid ballot (R9.5), judged in V13, not a bad entry.
    for w in b["write_ins"]:
        if w["mark"] not in ("o", "-") or (w["member"] and w["member"] not in r.roster):
            r.fail(
                "V9",
                "ballot.write_in",
                "另选他人格式无效",
                "write-in mark or member invalid",
                e,
                found=str(w),
                ballot_id=bid,
            )
    qr = b["qr"]
    # Q1 normal form: ``normalise_qr_text`` inline for the fast path's text (printable ASCII,
    # see ``parse_ballot_entered``), on which it is exactly strip then upper.
    if qr != (qr.strip(" \t\r\n").upper() if record else normalise_qr_text(qr)):
        qr_not_normalised(r, e, bid)
    # (V9) its id in the round's stock, and not entered before in the round
    stock = r.stocks.get((o.post, o.number))
    if stock is None or stock.ids is None or bid not in stock.ids or bid in o.ids:
        in_stock_once(r, e, o, bid)
    o.ids[bid] = o.ids.get(bid, 0) + 1
    o.entries.append((e.seq, b, record))
    o.entered_total += 1


def void_has_ballots(r: Replay, e: LogEntry, o: Open, where: dict[str, str]) -> None:
    """(V12) R11: a round with more ballots returned than issued is VOID; none is entered."""
    if o.issued is not None and o.returned is not None and o.returned > o.issued:
        r.fail(
            "V12",
            "round.void_has_ballots",
            "收回多于发出的轮次不得录入选票",
            "ballot entered in a void round (R11)",
            e,
            **where,
        )


def paper_of_the_round(r: Replay, e: LogEntry, o: Open, bid: str) -> None:
    """(V9) A paper with a QR, entered or declared invalid: its QR text normalised (Q1), its id in
    the round's stock and not used before in the round."""
    if normalise_qr_text(e.body["qr"]) != e.body["qr"]:
        qr_not_normalised(r, e, bid)
    in_stock_once(r, e, o, bid)
    o.ids[bid] = o.ids.get(bid, 0) + 1


def qr_not_normalised(r: Replay, e: LogEntry, bid: str) -> None:
    """(V9) Q1: the entry's QR text is not its normalised form."""
    r.fail(
        "V9",
        "ballot.qr_not_normalised",
        "二维码文本未按 Q1 规范化",
        "qr is not the Q1-normalised text",
        e,
        ballot_id=bid,
    )


def in_stock_once(r: Replay, e: LogEntry, o: Open, bid: str) -> None:
    """(V9) The paper's id is in the round's stock and not entered before in the round."""
    stock = r.stocks.get((o.post, o.number))
    if stock is None or stock.ids is None or bid not in stock.ids:
        r.fail(
            "V9",
            "ballot.not_in_stock",
            "选票标识不在本轮登记的批次中",
            "ballot id not in the stock of its round",
            e,
            ballot_id=bid,
        )
    if bid in o.ids:
        r.fail(
            "V9",
            "ballot.duplicate",
            "同一选票重复录入",
            "ballot id entered twice",
            e,
            ballot_id=bid,
        )


def ballot_declared_invalid(r: Replay, e: LogEntry) -> None:
    """(V9) R8.5: a returned ballot entered as invalid by decision, with a known reason, its QR
    and id both given or both empty, and the confirmation of a scrutineer key of the manifest
    over this entry's decision and seq (spec/log.md §2.2)."""
    o = r.round_of(e)
    if o is None:
        return
    b = e.body
    bid = b["ballot_id"]
    where = {"ballot_id": bid} if bid else {}
    void_has_ballots(r, e, o, where)
    if b["reason"] not in _INVALID_REASONS:
        r.fail(
            "V9",
            "ballot.invalid_reason",
            "无效票理由不在可选范围内",
            "reason is not one of R8.5",
            e,
            found=short(b["reason"]),
            **where,
        )
    if (bid == "") != (b["qr"] == "") or (bid and b["reason"] == "not_official_stock"):
        r.fail(
            "V9",
            "ballot.invalid_qr",
            "无效票的二维码与选票标识不一致，或“非正式选票”带有二维码",
            "ballot_id and qr must both be given or both be empty, and empty for "
            "not_official_stock (R8.5)",
            e,
            **where,
        )
    key = {k.signer_name: k for k in r.m.scrutineers}.get(b["scrutineer"])
    signature = b64decode_canonical(b["signature"], 64)
    message = canonical_bytes(
        {
            "election_id": r.m.election_id.hex(),
            "seq": e.seq,
            "post": b["post"],
            "round": b["round"],
            "ballot_id": bid,
            "qr": b["qr"],
            "reason": b["reason"],
        }
    )
    confirmed = key is not None and signature is not None
    if key is not None and signature is not None:
        try:
            verify_signature(key.key, _INVALID_DOMAIN, message, signature)
        except VerificationError:
            confirmed = False
    if not confirmed:
        r.fail(
            "V9",
            "ballot.invalid_confirmation",
            "无效票没有本次选举清单中监票人的有效确认签名",
            "no valid confirmation by a scrutineer key of the manifest (R8.5)",
            e,
            found=short(b["scrutineer"]),
            **where,
        )
    if bid:
        paper_of_the_round(r, e, o, bid)
    o.entries.append((e.seq, b, b""))
    o.entered_total += 1
    o.decided += 1


def ballot_withdrawn(r: Replay, e: LogEntry) -> None:
    """(V9) A ``ballot.withdrawn`` withdraws the last not-withdrawn entry of its round."""
    o = r.round_of(e)
    if o is None:
        return
    b = e.body
    bid = b["ballot_id"]
    if bid in o.ids:
        o.ids[bid] -= 1
        if not o.ids[bid]:
            del o.ids[bid]
    if not o.entries or o.entries[-1][1]["ballot_id"] != bid:
        r.fail(
            "V9",
            "ballot.withdraw_not_last",
            "撤回的不是本轮最后一张未撤回的选票",
            "ballot.withdrawn does not withdraw the last entry of its round",
            e,
            ballot_id=b["ballot_id"],
        )
        for i in range(len(o.entries) - 1, -1, -1):
            if o.entries[i][1]["ballot_id"] == b["ballot_id"]:
                del o.entries[i]
                break
    elif "reason" in o.entries.pop()[1]:
        o.decided -= 1


# --------------------------------------------------------------------------- closed rounds


def close_round(r: Replay, o: Open) -> None:
    """(V9) The surviving ballots of a closed round: ids for the election-wide uniqueness check,
    QR texts to the signature checker (Q1-Q8), and one record each in ``ballots.jsonl``."""
    # Ballots declared invalid without a QR (R8.5) have no id and no QR to check.
    with_qr = [x for x in o.entries if x[1]["ballot_id"]] if o.decided else o.entries
    r.ids.add_round((bytes.fromhex(x[1]["ballot_id"]), x[0]) for x in with_qr)
    r.qr.add_round(KIND_BYTES[o.post], o.number, with_qr)
    r.records.match_round(o.entries)
    r.v.ballots += len(o.entries)


def finish(r: Replay) -> None:
    """(V9) At the end of the log: the QR checks' results, the records left over in
    ``ballots.jsonl``, and no ballot id twice in the election."""
    r.qr.close()
    r.records.finish()
    for raw_id, seq, earlier in r.ids.repeats():
        r.fail(
            "V9",
            "ballot.duplicate",
            "同一选票标识在本次选举中出现两次",
            "ballot id appears twice in the election",
            None,
            file="log.jsonl",
            seq=seq,
            ballot_id=raw_id.hex(),
            expected="unique",
            found=f"also at seq {earlier}",
        )
    r.ids.close()


# --------------------------------------------------------------------------- ballots.jsonl


class Records:
    """Compares the log's surviving ballots with ``ballots.jsonl``, both in seq order (V9)."""

    def __init__(self, stream: HashingReader | None, findings: Findings) -> None:
        self._f = findings
        self._stream = stream
        self._it: Iterator[tuple[int, bytes, str]] = (
            LineReader(self._stream, LINE_LIMIT) if self._stream else iter(())
        )
        self._head: tuple[int, bytes, int | None] | None = None
        self.count = 0
        self._bad = 0

    def match_round(self, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]) -> None:
        """(V9) ``match`` for each (seq, body, record) of a round, in order; the common case (the
        records are the next lines, byte for byte) a chunk at a time (``LineReader.take``)."""
        it = self._it
        for start in range(0, len(entries), BATCH):
            chunk = entries[start : start + BATCH]
            expected = [record or record_bytes(seq, body) for seq, body, record in chunk]
            if self._head is None and isinstance(it, LineReader) and it.take(expected):
                self.count += len(chunk)
                continue
            for (seq, body, _), want in zip(chunk, expected, strict=True):
                self.match(seq, want, body["ballot_id"])

    def match(self, seq: int, expected: bytes, ballot_id: str) -> None:
        """(V9) The next record should be ``expected`` (the JCS bytes of the entry's record)."""
        if self._head is None:
            for n, raw, problem in self._it:
                if not problem and raw == expected:
                    # Identical to canonical bytes built from the log: canonical, right seq.
                    self.count += 1
                    return
                head = self._parse(n, raw, problem)
                if head is not None:
                    self._head = head
                    break
        self._match(seq, expected, ballot_id)

    def _parse(self, n: int, raw: bytes, problem: str) -> tuple[int, bytes, int | None] | None:
        seq: int | None = None
        if problem:
            self._f.fail(
                "V9",
                "record.line",
                "ballots.jsonl 行格式错误",
                f"ballots.jsonl line {problem}",
                file="ballots.jsonl",
                path=f"line {n}",
            )
        else:
            try:
                doc = parse_canonical(raw, clause="V9", path=f"ballots.jsonl:{n}", limit=LINE_LIMIT)
                if isinstance(doc, dict) and type(doc.get("seq")) is int:
                    seq = doc["seq"]
            except VerificationError as e:
                self._f.error("V9", e, file="ballots.jsonl")
        if seq is None:
            self._bad += 1
            if self._bad > MAX_BAD_LINES:  # (bundle.md §8) stop reading line by line
                self._it = iter(())
                self._f.fail(
                    "V9",
                    "record.too_many_bad_lines",
                    f"ballots.jsonl 中超过 {MAX_BAD_LINES} 行无法解析，其余部分不再读取",
                    f"more than {MAX_BAD_LINES} lines of ballots.jsonl cannot be parsed: "
                    "the rest is not read",
                    file="ballots.jsonl",
                    path=f"line {n}",
                )
                return (n, raw, None)  # ends the callers' loops over the old iterator
        return None if problem else (n, raw, seq)

    def _next(self) -> tuple[int, bytes, int | None] | None:
        if self._head is None:
            for n, raw, problem in self._it:
                head = self._parse(n, raw, problem)
                if head is not None:
                    self._head = head
                    break
        return self._head

    def _match(self, seq: int, expected: bytes, ballot_id: str) -> None:
        while True:
            head = self._next()
            if head is None or (head[2] is not None and head[2] > seq):
                self._f.fail(
                    "V9",
                    "record.missing",
                    "日志中计入的选票在 ballots.jsonl 中缺失",
                    "a counted ballot of the log is missing from ballots.jsonl",
                    file="ballots.jsonl",
                    seq=seq,
                    ballot_id=ballot_id,
                    expected="a ballot-record/1 for this entry",
                    found="none",
                )
                return
            self._head = None
            n, raw, rseq = head
            if rseq is None or rseq < seq:
                self._f.fail(
                    "V9",
                    "record.extra",
                    "ballots.jsonl 中有日志中不存在（或已撤回）的记录",
                    "ballots.jsonl holds a record that is not a counted ballot of the log",
                    file="ballots.jsonl",
                    path=f"line {n}",
                    seq=rseq,
                )
                continue
            self.count += 1
            if raw != expected:
                self._f.fail(
                    "V9",
                    "record.differs",
                    "选票记录与日志条目不一致",
                    "ballot record differs from its log entry",
                    file="ballots.jsonl",
                    seq=seq,
                    ballot_id=ballot_id,
                    path=f"line {n}",
                    expected=expected.decode("utf-8", "replace")[:300],
                    found=raw.decode("utf-8", "replace")[:300],
                )
            return

    def finish(self) -> None:
        """(V9) Every record left after the log's last ballot is one too many."""
        while (head := self._next()) is not None:
            self._head = None
            self._f.fail(
                "V9",
                "record.extra",
                "ballots.jsonl 中有多余的记录",
                "ballots.jsonl holds a record that is not a counted ballot of the log",
                file="ballots.jsonl",
                path=f"line {head[0]}",
                seq=head[2],
            )
        if self._stream is not None:
            self._stream.close()
