"""Key roles and labels (spec/keyfile.md §3).

A role names what a key may sign; a new role (e.g. the remote-ballot X25519 key) is added by a new
`Role` member, a row in `ROLE_ALGORITHM` and a clause in the spec, without a new file format.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import Final

from keys._errors import InvalidLabelError

__all__ = ["LABEL_MAX_CHARS", "ROLE_ALGORITHM", "ROLE_NAMES_ZH", "Algorithm", "Role", "check_label"]


class Algorithm(enum.StrEnum):
    """Key algorithms a key file or public-key document may carry (spec §3.3)."""

    ED25519 = "ed25519"


class Role(enum.StrEnum):
    """Who holds a key and what it signs (spec §3.1)."""

    TOWN_COMMITTEE = "town_committee"
    """镇党委: signs manifest approval and final approval."""
    WORK_GROUP = "work_group"
    """选举工作组: signs ballot QR payloads and log checkpoints."""
    SCRUTINEER = "scrutineer"
    """监票人: co-signs results; one key per scrutineer, told apart by its label."""
    CASEWORK = "casework"
    """查核组: the town casework service; signs casework checkpoints (spec/procedure.md RP-1.2)."""


ROLE_ALGORITHM: Final[dict[Role, Algorithm]] = {
    Role.TOWN_COMMITTEE: Algorithm.ED25519,
    Role.WORK_GROUP: Algorithm.ED25519,
    Role.SCRUTINEER: Algorithm.ED25519,
    Role.CASEWORK: Algorithm.ED25519,
}

ROLE_NAMES_ZH: Final[dict[Role, str]] = {
    Role.TOWN_COMMITTEE: "镇党委",
    Role.WORK_GROUP: "选举工作组",
    Role.SCRUTINEER: "监票人",
    Role.CASEWORK: "查核组",
}

LABEL_MAX_CHARS: Final = 64


def check_label(label: str) -> str:
    """Check a label against spec §3.2 and return it unchanged.

    Args:
        label: the human name of the key holder, e.g. "张三" or "红星村支部工作组".

    Raises:
        InvalidLabelError: empty, too long, not NFC, surrounded by spaces, or with control
            or format characters (which could make two labels look alike).

    Returns:
        The label.
    """
    problem_zh, problem_en = "", ""
    if not label:
        problem_zh, problem_en = "标签不能为空", "the label is empty"
    elif len(label) > LABEL_MAX_CHARS:
        problem_zh = f"标签超过 {LABEL_MAX_CHARS} 个字符"
        problem_en = f"the label is longer than {LABEL_MAX_CHARS} characters"
    elif unicodedata.normalize("NFC", label) != label:
        problem_zh, problem_en = "标签不是 NFC 规范形式", "the label is not in Unicode NFC form"
    elif label != label.strip():
        problem_zh, problem_en = "标签首尾不能有空格", "the label starts or ends with white space"
    elif any(unicodedata.category(c).startswith("C") for c in label):
        problem_zh, problem_en = "标签含有控制字符", "the label contains a control character"
    if problem_en:
        raise InvalidLabelError(
            zh=f"密钥标签无效：{problem_zh}。", en=f"invalid key label: {problem_en}"
        )
    return label
