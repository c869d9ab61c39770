"""One frozen dataclass per entry type (spec/log.md §2, spec/remote.md RM-8.1, spec/remote-v2.md
§5), parsed from an entry's JSON body exactly once, when the entry is read or built.

The parse refuses a malformed field with the code the log gives for that field (``log.bad_post``,
``log.bad_number``, ``enter.bad_id``…), so the appliers read typed values and check only what
depends on the state. A field the rules check by comparing the whole body with the body they
compute (``round.opened``, ``round.counted``, ``election.result``) or with a structure that needs
the election (a remote ballot, a partial decryption, the totals) stays the JSON value it is, typed
``object``; its check is the applier's (docs/adr/0030-typed-entries.md).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tally.core.ballots import INVALID_REASONS, Mark, WriteIn
from tally.core.model import MemberId, PostKind
from tally.core.remote import check_election_key

from .common import HEX32, HEX64, b64_bytes, b64len, bad, int_of, post_of


@dataclass(frozen=True, slots=True)
class EntryBody:
    """The typed body of an entry; one subclass per entry type."""


# -- election, stock, attendance ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElectionOpened(EntryBody):
    election_id: str


@dataclass(frozen=True, slots=True)
class StockCommitted(EntryBody):
    post: PostKind
    round: int
    count: int
    commitment: str


@dataclass(frozen=True, slots=True)
class StockSupplemented(EntryBody):
    post: PostKind
    round: int
    count: int
    part: int
    commitment: str


@dataclass(frozen=True, slots=True)
class MemberCheckedIn(EntryBody):
    member: MemberId


@dataclass(frozen=True, slots=True)
class MemberLeft(EntryBody):
    member: MemberId


# -- rounds, ballots, count ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundQuorumFailed(EntryBody):
    """``present_members`` is None when the body's member is not a list of strings."""

    post: PostKind
    round: int
    present: int
    present_members: tuple[MemberId, ...] | None


@dataclass(frozen=True, slots=True)
class RoundOpened(EntryBody):
    """The round's own fields are compared whole with the round due (``round.mismatch``)."""

    post: PostKind
    round: int
    present: int
    present_members: tuple[MemberId, ...] | None
    purpose: object
    candidates: object
    seats: object
    body: object
    expected: object


@dataclass(frozen=True, slots=True)
class BallotsIssued(EntryBody):
    post: PostKind
    round: int
    count: int


@dataclass(frozen=True, slots=True)
class BallotsReturned(EntryBody):
    post: PostKind
    round: int
    count: int


@dataclass(frozen=True, slots=True)
class RoundVoid(EntryBody):
    post: PostKind
    round: int
    issued: int
    returned: int


@dataclass(frozen=True, slots=True)
class BallotEntered(EntryBody):
    """The marks as read (their number is checked against the round's candidates) and every
    filled write-in row (more than the paper's rows is one invalid ballot, R9.5)."""

    post: PostKind
    round: int
    ballot_id: str
    qr: object
    marks: tuple[Mark, ...]
    write_ins: tuple[WriteIn, ...]


@dataclass(frozen=True, slots=True)
class BallotWithdrawn(EntryBody):
    post: PostKind
    round: int
    ballot_id: str


@dataclass(frozen=True, slots=True)
class BallotDeclaredInvalid(EntryBody):
    """(R8.5) ``ballot_id`` and ``qr`` are both "" for a paper without a QR of the stock."""

    post: PostKind
    round: int
    ballot_id: str
    qr: str
    reason: str
    scrutineer: str
    signature: str


@dataclass(frozen=True, slots=True)
class RoundCounted(EntryBody):
    """The outcome's fields are compared whole with the count of the entered ballots."""

    post: PostKind
    round: int
    valid_ballots: object
    invalid_ballots: object
    approvals: object
    base: object
    minimum: object
    elected: object
    tied: object
    tied_seats: object
    shortfall: object
    remote_ballots: object = None  # only in elections that opened remote voting
    dropped: object = None  # (R22.3) only when listed candidates dropped out


# -- decisions and the result -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeatsReduced(EntryBody):
    post: PostKind
    seats: int
    assembly_consent: int
    town_agreement: str  # "" when the body's value is not a string


@dataclass(frozen=True, slots=True)
class OfficialsChanged(EntryBody):
    scrutineers: tuple[str, ...]
    tellers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DoubleEntrySet(EntryBody):
    on: bool


@dataclass(frozen=True, slots=True)
class CandidatesAmended(EntryBody):
    """``signature`` is b"" when ``town_signature`` is not canonical base64."""

    post: PostKind
    round: int
    candidates: tuple[str, ...]
    town_approval: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class ElectionResult(EntryBody):
    elected: object  # compared with the rounds' elected (``result.mismatch``)
    publicity_start: object
    publicity_end: object


# -- remote ballots -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteOpenedV2(EntryBody):
    """The write-in lists are compared with those the manifest gives (RV-2.1)."""

    issuer_key: str
    k: int
    n: int
    shares: tuple[Mapping[str, Any], ...]
    write_in_lists: object


@dataclass(frozen=True, slots=True)
class RemoteCredentialIssued(EntryBody):
    member: MemberId


@dataclass(frozen=True, slots=True)
class RemoteCastV2(EntryBody):
    """The ballot's structure is checked against the election (RV-3.1)."""

    token: str
    token_prefix: str
    token_signature: str
    ballot: object


@dataclass(frozen=True, slots=True)
class RemoteClosed(EntryBody):
    credentials: int
    casts: int


@dataclass(frozen=True, slots=True)
class RemoteNotCounted(EntryBody):
    post: PostKind
    round: int
    reason: str


@dataclass(frozen=True, slots=True)
class RemotePartialDecryption(EntryBody):
    """Checked against the election's posts and key (V18.22): ``fields`` is the body."""

    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RemoteTotalsBody(EntryBody):
    """Checked against the election's posts and casts (V18.23): ``fields`` is the body."""

    fields: Mapping[str, Any]


# -- the parsers --------------------------------------------------------------------------------

Body = Mapping[str, Any]


def _election_opened(b: Body) -> ElectionOpened:
    if not isinstance(b["election_id"], str):
        raise bad(
            "log.bad_start",
            "日志第一条不是本次选举的开始记录",
            "entry 0 does not open this election",
        )
    return ElectionOpened(b["election_id"])


def _commitment(b: Body) -> str:
    value = b["commitment"]
    if not isinstance(value, str) or not HEX64.match(value):
        raise bad("stock.commitment", "选票承诺值格式错误", "bad commitment")
    return value


def _stock_committed(b: Body) -> StockCommitted:
    post, rnd, count = post_of(b), int_of(b, "round"), int_of(b, "count")
    return StockCommitted(post, rnd, count, _commitment(b))


def _stock_supplemented(b: Body) -> StockSupplemented:
    post, rnd, count, part = post_of(b), int_of(b, "round"), int_of(b, "count"), int_of(b, "part")
    return StockSupplemented(post, rnd, count, part, _commitment(b))


def _members(value: object) -> tuple[MemberId, ...] | None:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        return None
    return tuple(MemberId(x) for x in value)


def _quorum_failed(b: Body) -> RoundQuorumFailed:
    return RoundQuorumFailed(
        post_of(b), int_of(b, "round"), int_of(b, "present"), _members(b["present_members"])
    )


def _round_opened(b: Body) -> RoundOpened:
    return RoundOpened(
        post=post_of(b),
        round=int_of(b, "round"),
        present=int_of(b, "present"),
        present_members=_members(b["present_members"]),
        purpose=b["purpose"],
        candidates=b["candidates"],
        seats=b["seats"],
        body=b["body"],
        expected=b["expected"],
    )


def _bad_ballot_id(clause: str = "") -> Exception:
    return bad("enter.bad_id", "选票编号格式错误", "bad ballot id", clause)


def marks_of(text: object) -> tuple[Mark, ...]:
    """(R7) The marks of a ballot as read: one of ``o x - ?`` per candidate."""
    if not isinstance(text, str):
        raise bad("enter.marks", "标记只能是 o x - ?", "marks must be o x - ?", "R7")
    try:
        return tuple(Mark(c) for c in text)
    except ValueError as err:
        raise bad("enter.marks", "标记只能是 o x - ?", "marks must be o x - ?", "R7") from err


def write_ins_of(raw: object) -> tuple[WriteIn, ...]:
    """(R7) The filled write-in rows as read: ``{name, member, mark}`` each."""
    if not isinstance(raw, list):
        raise bad("enter.write_ins", "另选人格式错误", "malformed write-ins", "R7")
    out: list[WriteIn] = []
    for w in raw:
        ok = (
            isinstance(w, dict)
            and set(w) == {"name", "member", "mark"}
            and isinstance(w["name"], str)
            and w["name"].strip() != ""
            and isinstance(w["member"], str)
            and w["mark"] in ("o", "-")
        )
        if not ok:
            raise bad("enter.write_ins", "另选人格式错误", "malformed write-in", "R7")
        out.append(
            WriteIn(
                name=w["name"],
                member=MemberId(w["member"]) if w["member"] else None,
                marked=w["mark"] == "o",
            )
        )
    return tuple(out)


def _ballot_entered(b: Body) -> BallotEntered:
    post, rnd = post_of(b), int_of(b, "round")
    ballot_id = b["ballot_id"]
    if not isinstance(ballot_id, str) or not HEX32.match(ballot_id):
        raise _bad_ballot_id()
    return BallotEntered(
        post, rnd, ballot_id, b["qr"], marks_of(b["marks"]), write_ins_of(b["write_ins"])
    )


def _ballot_withdrawn(b: Body) -> BallotWithdrawn:
    post, rnd = post_of(b), int_of(b, "round")
    if not isinstance(b["ballot_id"], str):  # never the id of the last entered ballot
        raise bad(
            "withdraw.not_last",
            "只能撤回本轮最后录入的一张选票",
            "only the last entered ballot of the round can be withdrawn",
        )
    return BallotWithdrawn(post, rnd, b["ballot_id"])


def _declared_invalid(b: Body) -> BallotDeclaredInvalid:
    post, rnd = post_of(b), int_of(b, "round")
    reason = b["reason"]
    if not isinstance(reason, str) or reason not in INVALID_REASONS:
        raise bad(
            "invalid.reason",
            f"无效票理由 {reason!r} 不在可选范围内（有识别标记、无法辨认、非正式选票）",
            f"unknown reason {reason!r} (identifying_marks, unreadable, not_official_stock)",
            "R8.5",
        )
    ballot_id, qr = b["ballot_id"], b["qr"]
    if not isinstance(ballot_id, str) or not isinstance(qr, str) or (ballot_id == "") != (qr == ""):
        raise _bad_ballot_id("R8.5")
    if reason == "not_official_stock" and ballot_id:
        raise bad(
            "invalid.official_qr",
            "这张选票的二维码属于本轮正式选票，不能以“非正式选票”为由作废",
            "this ballot's QR is of the round's official stock: it is not 'not official stock'",
            "R8.5",
        )
    scrutineer, signature = b["scrutineer"], b["signature"]
    if not isinstance(scrutineer, str) or not isinstance(signature, str):
        raise bad("invalid.no_confirmation", "缺少监票人确认", "no scrutineer confirmation", "R8.5")
    if ballot_id and not HEX32.match(ballot_id):
        raise _bad_ballot_id()
    return BallotDeclaredInvalid(post, rnd, ballot_id, qr, reason, scrutineer, signature)


def _round_counted(b: Body) -> RoundCounted:
    return RoundCounted(
        post=post_of(b),
        round=int_of(b, "round"),
        valid_ballots=b["valid_ballots"],
        invalid_ballots=b["invalid_ballots"],
        approvals=b["approvals"],
        base=b["base"],
        minimum=b["minimum"],
        elected=b["elected"],
        tied=b["tied"],
        tied_seats=b["tied_seats"],
        shortfall=b["shortfall"],
        remote_ballots=b.get("remote_ballots"),
        dropped=b.get("dropped"),
    )


def _seats_reduced(b: Body) -> SeatsReduced:
    agreement = b["town_agreement"]
    return SeatsReduced(
        post=post_of(b),
        seats=int_of(b, "seats"),
        assembly_consent=int_of(b, "assembly_consent"),
        town_agreement=agreement if isinstance(agreement, str) else "",
    )


_ROLES = (("scrutineers", "监票人", "scrutineer"), ("tellers", "计票人", "teller"))


def _officials_changed(b: Body) -> OfficialsChanged:
    lists: dict[str, tuple[str, ...]] = {}
    for key, zh, en in _ROLES:
        ids = b[key]
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise bad("officials.bad_list", f"{zh}名单格式错误", f"bad list of {en}s", "R25")
        if not ids:
            raise bad(
                "officials.missing", f"至少需要一名{zh}", f"at least one {en} is needed", "R25"
            )
        lists[key] = tuple(ids)
    return OfficialsChanged(scrutineers=lists["scrutineers"], tellers=lists["tellers"])


def _double_entry_set(b: Body) -> DoubleEntrySet:
    if b["mode"] not in ("on", "off"):
        raise bad("double_entry.bad_mode", "录入方式应为 on 或 off", "mode must be on or off")
    return DoubleEntrySet(on=b["mode"] == "on")


def _candidates_amended(b: Body) -> CandidatesAmended:
    post = post_of(b)
    approval = b["town_approval"]
    if not isinstance(approval, str) or not approval.strip():
        raise bad(
            "amend.no_approval",
            "须记录镇党委批准调整候选人名单的文号",
            "the town committee's approval reference is missing",
            "RS7",
        )
    ids = b["candidates"]
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise bad("amend.bad_list", "候选人名单格式错误", "bad candidate list", "RS7")
    rnd = int_of(b, "round")
    sig = b["town_signature"]
    signature = b64_bytes(sig) or b""
    if base64.b64encode(signature).decode() != sig:
        signature = b""
    return CandidatesAmended(post, rnd, tuple(ids), approval, signature)


def _election_result(b: Body) -> ElectionResult:
    return ElectionResult(b["elected"], b["publicity_start"], b["publicity_end"])


def _opened_bad(en: str = "malformed remote.opened", zh: str = "") -> Exception:
    return bad("remote.opened_bad", "远程投票开启记录格式错误" + zh, en)


def _remote_opened(b: Body) -> RemoteOpenedV2:
    """(spec/remote-v2.md §5) The election key's shape (EG-7.4) and one share per scrutineer."""
    if not b64len(b["issuer_key"]):
        raise _opened_bad()
    k, n = check_election_key(b["election_key"])
    shares = b["shares"]
    if (
        not isinstance(shares, list)
        or len(shares) != n
        or not all(
            isinstance(x, dict)
            and set(x) == {"index", "scrutineer", "commitment"}
            and x["index"] == i
            and not isinstance(x["index"], bool)
            and b64len(x["scrutineer"], 32)
            and isinstance(x["commitment"], str)
            and HEX64.fullmatch(x["commitment"]) is not None
            for i, x in enumerate(shares, start=1)
        )
    ):
        raise _opened_bad("one share per scrutineer", "：份额")
    return RemoteOpenedV2(b["issuer_key"], k, n, tuple(shares), b["write_in_lists"])


def _member(b: Body) -> MemberId:
    return MemberId(str(b["member"]))


def _remote_cast(b: Body) -> RemoteCastV2:
    if not (
        b64len(b["token"], 32) and b64len(b["token_prefix"], 32) and b64len(b["token_signature"])
    ):
        raise bad("remote.cast_bad", "远程选票格式错误", "malformed remote.cast")
    return RemoteCastV2(b["token"], b["token_prefix"], b["token_signature"], b["ballot"])


def _remote_closed(b: Body) -> RemoteClosed:
    credentials, casts = b["credentials"], b["casts"]
    if not isinstance(credentials, int) or not isinstance(casts, int):
        raise bad("remote.closed_counts", "截止记录的数目不符", "counts differ")
    return RemoteClosed(credentials, casts)


def _remote_not_counted(b: Body) -> RemoteNotCounted:
    post, rnd = post_of(b), int_of(b, "round")
    if b["reason"] != "remote.list_changed":
        raise bad("remote.not_counted_bad", "不应记录远程选票不计入", "not_counted does not apply")
    return RemoteNotCounted(post, rnd, b["reason"])


#: The parser of each entry type's body; the body's members are already those of its type.
PARSERS: Mapping[str, Callable[[Body], EntryBody]] = {
    "election.opened": _election_opened,
    "stock.committed": _stock_committed,
    "stock.supplemented": _stock_supplemented,
    "member.checked_in": lambda b: MemberCheckedIn(_member(b)),
    "member.left": lambda b: MemberLeft(_member(b)),
    "round.quorum_failed": _quorum_failed,
    "round.opened": _round_opened,
    "ballots.issued": lambda b: BallotsIssued(post_of(b), int_of(b, "round"), int_of(b, "count")),
    "ballots.returned": lambda b: BallotsReturned(
        post_of(b), int_of(b, "round"), int_of(b, "count")
    ),
    "round.void": lambda b: RoundVoid(
        post_of(b), int_of(b, "round"), int_of(b, "issued"), int_of(b, "returned")
    ),
    "ballot.entered": _ballot_entered,
    "ballot.withdrawn": _ballot_withdrawn,
    "ballot.declared_invalid": _declared_invalid,
    "round.counted": _round_counted,
    "seats.reduced": _seats_reduced,
    "officials.changed": _officials_changed,
    "double_entry.set": _double_entry_set,
    "candidates.amended": _candidates_amended,
    "election.result": _election_result,
    "remote.opened": _remote_opened,
    "remote.credential_issued": lambda b: RemoteCredentialIssued(_member(b)),
    "remote.cast": _remote_cast,
    "remote.closed": _remote_closed,
    "remote.not_counted": _remote_not_counted,
    "remote.partial_decryption": lambda b: RemotePartialDecryption(dict(b)),
    "remote.totals": lambda b: RemoteTotalsBody(dict(b)),
}
