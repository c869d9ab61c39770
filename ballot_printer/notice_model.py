"""The content of the publicity notice (公示): the model a shell fills in, and its validation.

Pure values and checks: what `ballot_printer.notice` lays out and prints. A notice that is
incomplete or contradicts itself (elected list, hash, dates) is refused with `InvalidNoticeError`
before anything is laid out.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from ballot_printer.errors import RenderError

__all__ = [
    "PURPOSES_ZH",
    "ROUND_COUNTED",
    "ROUND_QUORUM_FAILED",
    "ROUND_VOID",
    "InvalidNoticeError",
    "Notice",
    "NoticeCandidate",
    "NoticeCheckpoint",
    "NoticeElected",
    "NoticePost",
    "NoticeRound",
    "format_date_zh",
    "group_hex",
    "notice_strings",
    "validate_notice",
]


class InvalidNoticeError(RenderError):
    """The notice's content is incomplete or contradicts itself (elected list, hash, dates)."""

    code = "render.bad_notice"


# --- model --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeCandidate:
    """One bar of a round's chart: a candidate (or write-in recipient) and the approvals.

    `elected` marks the candidates this round elected; `tied` those tied across the last seat,
    who go to a runoff (R15).
    """

    name: str
    approvals: int
    elected: bool
    tied: bool = False


ROUND_COUNTED: Final = "counted"
ROUND_VOID: Final = "void"
ROUND_QUORUM_FAILED: Final = "quorum_failed"
# What a round's purpose adds to its title on the notice (a first round adds nothing).
PURPOSES_ZH: Final = {"first": "", "runoff": "再次投票", "further": "另行选举"}


@dataclass(frozen=True, slots=True)
class NoticeRound:
    """One round of a post, as held: counted, void (R11) or not held for want of a quorum (R5).

    `purpose` is "first", "runoff" (再次投票 among tied candidates: no threshold, R15) or
    "further" (另行选举 for open seats, R16); `revote_of` the void round this one repeats.
    A counted round lists every candidate in ballot order, then write-in recipients;
    `threshold_minimum` is the fewest approvals that could elect (0 in a runoff), derived from
    `base`, described by `base_label_zh` (e.g. "应到会有选举权人数"). A round not counted has no
    candidates and no threshold.
    """

    number: int
    purpose: str
    revote_of: int | None
    status: str
    seats: int
    present: int
    expected: int
    issued: int
    returned: int
    valid_ballots: int
    invalid_ballots: int
    candidates: tuple[NoticeCandidate, ...]
    threshold_minimum: int
    base: int
    base_label_zh: str
    remote_ballots: int = 0  # remote ballots counted in this round, beside the paper counts
    # (R22.3) listed candidates out of the count: not elected to the committee (or secretary)
    dropped: tuple[str, ...] = ()

    @property
    def title_zh(self) -> str:
        """第2轮（另行选举） / 第3轮（第2轮无效后重新投票） / 第1轮（未能举行）: a round not held
        for want of a quorum keeps its number, which the round then held reuses."""
        extra = PURPOSES_ZH.get(self.purpose, "")
        if self.status == ROUND_QUORUM_FAILED:
            extra = (extra + "，" if extra else "") + "未能举行"
        elif self.revote_of is not None:
            extra = (extra + "，" if extra else "") + f"第{self.revote_of}轮无效后重新投票"
        return f"第{self.number}轮" + (f"（{extra}）" if extra else "")


@dataclass(frozen=True, slots=True)
class NoticeElected:
    """An elected person: the round that elected them and that round's approvals.

    A runoff winner also names the earlier round in which the threshold was passed
    (`passed_round`, `passed_approvals`); for everyone else these equal `round`/`approvals`.
    """

    name: str
    round: int
    approvals: int
    passed_round: int
    passed_approvals: int


@dataclass(frozen=True, slots=True)
class NoticePost:
    """The result of one post (支部委员会委员, 书记, 副书记).

    `elected` lists the elected people in the order they were elected; `rounds` every round of
    the post in the order held (first, runoffs, further rounds, void rounds and their re-votes,
    rounds not held for want of a quorum).
    """

    label_zh: str
    seats: int
    elected: tuple[NoticeElected, ...]
    rounds: tuple[NoticeRound, ...]

    def elected_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.elected)


@dataclass(frozen=True, slots=True)
class Notice:
    """What the publicity notice shows.

    `title` is the election's title (e.g. 中共青山村支部委员会换届选举); `branch` the branch
    (中共青山村支部委员会), whose work group signs; `town` the town committee that keeps the
    verified copy; `root_hash_hex` the final checkpoint's root (64 lowercase hex), which must be
    the root of `checkpoint_text`. The notice is dated `publicity_start`.
    """

    title: str
    branch: str
    town: str
    term: str
    election_date: date
    posts: tuple[NoticePost, ...]
    publicity_start: date
    publicity_end: date
    working_days: int
    objections_to: str
    root_hash_hex: str
    checkpoint_text: str
    remote_ballots: int


# --- formatting helpers -------------------------------------------------------------------------


def format_date_zh(day: date) -> str:
    """2026年9月24日 (no leading zeros), as in official notices."""
    return f"{day.year}年{day.month}月{day.day}日"


def group_hex(hex_text: str, group: int = 4) -> tuple[str, ...]:
    """Split hex text into groups of `group` characters, for reading aloud and comparing."""
    return tuple(hex_text[i : i + group] for i in range(0, len(hex_text), group))


_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_ORIGIN: Final = re.compile(r"branch-election/([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class NoticeCheckpoint:
    """What the notice takes from its checkpoint: the election id and the log size."""

    election_id: str
    size: int


def _parse_checkpoint(text: str, root_hash_hex: str) -> NoticeCheckpoint:
    lines = text.split("\n")
    origin = _ORIGIN.fullmatch(lines[0]) if lines else None
    if origin is None or len(lines) < 4 or not lines[1].isdigit():
        raise InvalidNoticeError(
            zh="检查点文本格式不正确（应为 checkpoint/1）。",
            en="checkpoint_text is not a checkpoint/1 note (origin, size, root, reason)",
        )
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        root = b""
    if len(root) != 32:
        raise InvalidNoticeError(
            zh="检查点中的根哈希不是 32 字节的 base64 值。",
            en="the checkpoint's root line is not base64 of 32 bytes",
        )
    if root.hex() != root_hash_hex:
        raise InvalidNoticeError(
            zh="公示的根哈希与检查点中的根哈希不一致。",
            en=f"root_hash_hex {root_hash_hex} is not the checkpoint's root {root.hex()}",
        )
    return NoticeCheckpoint(election_id=origin.group(1), size=int(lines[1]))


def _bad(zh: str, en: str) -> InvalidNoticeError:
    return InvalidNoticeError(zh=zh, en=en)


def validate_notice(notice: Notice) -> NoticeCheckpoint:
    """Check the notice's content; return its parsed checkpoint or raise InvalidNoticeError."""
    for label, value in (
        ("标题", notice.title),
        ("党组织名称", notice.branch),
        ("镇党委名称", notice.town),
        ("届次", notice.term),
        ("意见反映途径", notice.objections_to),
    ):
        if not value.strip() or "\n" in value:
            raise _bad(f"{label}不能为空，也不能换行。", f"{label}: empty or multi-line")
    if not _HEX64.fullmatch(notice.root_hash_hex):
        raise _bad(
            "根哈希须为 64 位小写十六进制。", "root_hash_hex must be 64 lowercase hex digits"
        )
    if notice.working_days < 1 or notice.publicity_start > notice.publicity_end:
        raise _bad("公示期不正确。", "publicity period: start after end, or working_days < 1")
    if notice.publicity_start <= notice.election_date:
        raise _bad("公示期须在选举日之后开始。", "publicity must start after the election date")
    if notice.remote_ballots < 0:
        raise _bad("远程投票数不能为负。", "remote_ballots is negative")
    if not notice.posts:
        raise _bad("至少须有一个职务的选举结果。", "no posts")
    for post in notice.posts:
        _validate_post(post)
    return _parse_checkpoint(notice.checkpoint_text, notice.root_hash_hex)


def _validate_post(post: NoticePost) -> None:
    label = post.label_zh
    if not label.strip():
        raise _bad("职务名称不能为空。", "post label is empty")
    if post.seats < 1 or not post.rounds:
        raise _bad(f"{label}：应选名额或轮次不正确。", f"{label}: no seats or no rounds")
    numbers = [r.number for r in post.rounds]
    if numbers != sorted(numbers):
        raise _bad(f"{label}：轮次顺序不正确。", f"{label}: rounds out of order {numbers}")
    for r in post.rounds:
        _validate_round(label, r)
    names = [e.name for e in post.elected]
    if len(set(names)) != len(names):
        raise _bad(f"{label}：当选名单有重复。", f"{label}: a name is elected twice")
    if len(post.elected) > post.seats:
        raise _bad(f"{label}：当选人数超过应选名额。", f"{label}: more elected than seats")
    flagged = {
        (r.number, c.name, c.approvals) for r in post.rounds for c in r.candidates if c.elected
    }
    claimed = {(e.round, e.name, e.approvals) for e in post.elected}
    if claimed != flagged:
        raise _bad(
            f"{label}：当选名单与各轮得票、当选标记不一致。",
            f"{label}: elected {sorted(claimed)} differs from the rounds' flags {sorted(flagged)}",
        )
    bars = {(r.number, c.name): c.approvals for r in post.rounds for c in r.candidates}
    thresholds = {r.number: r.threshold_minimum for r in post.rounds}
    for e in post.elected:
        passed = bars.get((e.passed_round, e.name))
        if passed != e.passed_approvals or e.passed_round > e.round:
            raise _bad(
                f"{label}：{e.name}过线的轮次或票数不正确。",
                f"{label}: {e.name}: passed round {e.passed_round} / {e.passed_approvals} wrong",
            )
        line = thresholds.get(e.passed_round, 0)
        if line == 0 or e.passed_approvals < line:
            raise _bad(
                f"{label}：{e.name}在第{e.passed_round}轮未过当选票数线。",
                f"{label}: {e.name} did not pass the threshold in round {e.passed_round}",
            )


def _validate_round(label: str, r: NoticeRound) -> None:
    where = f"{label}第{r.number}轮"
    numbers = (
        r.number, r.seats, r.present, r.expected, r.issued, r.returned,
        r.valid_ballots, r.invalid_ballots, r.threshold_minimum, r.base, r.remote_ballots,
    )  # fmt: skip
    if r.number < 1 or r.seats < 1 or min(numbers) < 0 or r.purpose not in PURPOSES_ZH:
        raise _bad(f"{where}：数字或轮次类型不正确。", f"{where}: bad numbers or purpose")
    if r.status == ROUND_COUNTED:
        names = [c.name for c in r.candidates]
        if not names or len(set(names)) != len(names) or not all(n.strip() for n in names):
            raise _bad(f"{where}：候选人名单为空或有重名。", f"{where}: empty or repeated names")
        if any(c.approvals < 0 for c in r.candidates):
            raise _bad(f"{where}：得票数不能为负。", f"{where}: negative approvals")
        if r.threshold_minimum > 0 and not r.base_label_zh.strip():
            raise _bad(f"{where}：计票基数说明不能为空。", f"{where}: base label is empty")
        if any(c.elected and c.tied for c in r.candidates):
            raise _bad(f"{where}：当选者不能同时票数相等待定。", f"{where}: elected and tied")
        if sum(c.elected for c in r.candidates) > r.seats:
            raise _bad(f"{where}：当选人数超过本轮应选名额。", f"{where}: more elected than seats")
    elif r.status in (ROUND_VOID, ROUND_QUORUM_FAILED):
        if r.candidates or r.threshold_minimum:
            raise _bad(
                f"{where}：未计票的轮次不能有得票或当选票数线。",
                f"{where}: a round not counted has no approvals and no threshold",
            )
    else:
        raise _bad(f"{where}：轮次状态不正确。", f"{where}: unknown status {r.status!r}")


def notice_strings(notice: Notice) -> tuple[tuple[str, str], ...]:
    """Every text field of the notice as (field name in Chinese, text), for the glyph check."""
    out: list[tuple[str, str]] = [
        ("标题", notice.title),
        ("党组织名称", notice.branch),
        ("镇党委名称", notice.town),
        ("届次", notice.term),
        ("意见反映途径", notice.objections_to),
    ]
    for post in notice.posts:
        out.append(("职务名称", post.label_zh))
        for r in post.rounds:
            out.append(("计票基数说明", r.base_label_zh))
            out.extend(("候选人姓名", c.name) for c in r.candidates)
    return tuple(out)
