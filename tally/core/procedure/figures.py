"""A branch's procedure figures for the town report (spec/procedure.md RP-13.2), read from its log.

Pure: the entries in, a JSON-ready mapping out. The demo's town report takes them only from a
bundle that ``verifier procedure`` passed (ADR 0054).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tally.core.procedure.entries import Form, ProcedureEntry

__all__ = ["procedure_figures"]


def _sessions(entries: Sequence[ProcedureEntry]) -> list[dict[str, Any]]:
    """Every counted session round: form, post, round, issued, returned, valid, invalid."""
    moved: dict[tuple[str, str, int], dict[str, int]] = {}
    rows = []
    for e in entries:
        b = e.body
        if e.type in ("ballots.issued", "ballots.returned"):
            moved.setdefault((b["form"], b["post"], b["round"]), {})[e.type[8:]] = b["count"]
        elif e.type in ("recommendation.counted", "evaluation.counted"):
            form = b.get("group", Form.EVALUATION.value)
            key = (form, b.get("post", ""), b["round"])
            rows.append(
                {
                    "form": key[0],
                    "post": key[1],
                    "round": key[2],
                    **moved.get(key, {}),
                    "valid": b["valid_ballots"],
                    "invalid": b["invalid_ballots"],
                }
            )
    return rows


def _lists(entries: Sequence[ProcedureEntry]) -> list[dict[str, Any]]:
    """Per post: the last preliminary list's size, the approved (formal) list's size, and the
    names not proceeding by reason (the last vetting's ``stopped``)."""
    last: dict[str, Mapping[str, Any]] = {}
    for e in entries:
        if e.type in ("preliminary.proposed", "vetting.recorded"):
            last[e.type] = e.body
        elif e.type == "candidates.approved":
            last[e.type] = e.body["approval"]
    formal = {p["post"]: len(p["candidates"]) for p in last.get("candidates.approved", {}).get(
        "posts", [])}  # fmt: skip
    stopped = {p["post"]: p["stopped"] for p in last.get("vetting.recorded", {}).get("posts", [])}
    out = []
    for p in last.get("preliminary.proposed", {}).get("posts", []):
        reasons: dict[str, int] = {}
        for s in stopped.get(p["post"], []):
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        out.append(
            {
                "post": p["post"],
                "preliminary": len(p["names"]),
                "formal": formal.get(p["post"]),
                "not_proceeding": reasons,
            }
        )
    return out


def procedure_figures(entries: Sequence[ProcedureEntry], pending: str = "") -> dict[str, Any]:
    """(RP-13.2) A branch's procedure figures for the town report, from its log: the
    recommendation's session rounds and whether both groups were held, the list sizes per post
    with the names not proceeding by reason, the evaluation rounds with the number who did not
    proceed, and the appointment's date and decision (or ``pending`` with the refusal's code)."""
    sessions = _sessions(entries)
    held = {s["form"] for s in sessions}
    evaluation = [
        {
            "round": e.body["round"],
            "persons": len(e.body["results"]),
            "did_not_proceed": sum(r["outcome"] != "proceeds" for r in e.body["results"]),
        }
        for e in entries
        if e.type == "evaluation.counted"
    ]
    made = [e.body["appointment"] for e in entries if e.type == "appointment.recorded"]
    appointment = (
        {"state": "recorded", "date": made[-1]["date"], "decision": made[-1]["decision"]}
        if made
        else {"state": "pending", "refused": pending}
    )
    return {
        "source": "producer_log",
        "recommendation": {
            "member_group_held": Form.MEMBER.value in held,
            "public_group_held": Form.PUBLIC.value in held,
            "sessions": [s for s in sessions if s["form"] != Form.EVALUATION.value],
        },
        "lists": _lists(entries),
        "evaluation": evaluation,
        "appointment": appointment,
    }
