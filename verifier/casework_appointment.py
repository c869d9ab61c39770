"""(V31) An appointment against the casework log (spec/procedure.md RP-10.1, RP-12.2, V31).

The appointment (``appointment/1``, in the branch's procedure log) names a casework checkpoint
(``casework``: id, size, root) and lists the branch's objections (``objections``: reference,
dates, channel, timing, about, finding, effect; no identity and no text). Given the report of a
casework bundle that passed ``verifier.casework.verify_casework``, this checks both; the procedure
bundle's driver calls it with the appointment it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from verifier.casework import CaseworkReport
from verifier.report import Finding

__all__ = ["APPOINTMENT_ITEM", "appointment_findings"]


#: (RP-10.1) The members of an appointment's objection item, no identity and no text (RP-12.2).
APPOINTMENT_ITEM: Final = (
    "reference",
    "received",
    "channel",
    "timing",
    "about",
    "finding",
    "effect",
    "concluded",
)


def appointment_findings(
    report: CaseworkReport, appointment: Mapping[str, Any], branch: str
) -> list[Finding]:
    """(V31) An appointment's ``casework`` and ``objections`` against a verified casework log.

    ``casework`` names this casework and one of its checkpoints (``casework.root_differs``);
    ``objections`` are exactly the branch's objections received within that size, in reference
    order, each concluded within it, with the members of RP-10.1 as the log says
    (``appointment.objections_differ``: an objection left out is this failure).

    Args:
        report: the casework bundle's report (``verify_casework``), which must have passed.
        appointment: the ``appointment/1`` object (RP-10.1); only ``casework`` and
            ``objections`` are read.
        branch: the procedure definition's ``branch_code``.

    Returns:
        The failures, empty when the appointment agrees with the casework.
    """
    out: list[Finding] = []
    cw = appointment.get("casework")
    n = cw.get("size") if isinstance(cw, dict) else None
    size = n if isinstance(n, int) and not isinstance(n, bool) else -1
    if (
        not isinstance(cw, dict)
        or cw.get("casework_id") != report.casework_id
        or (size, cw.get("root")) not in report.checkpoints
    ):
        out.append(
            Finding(
                clause="V31",
                code="casework.root_differs",
                zh="审批任命所依据的异议记录状态不存在",
                en="the appointment's casework state is not a checkpoint of the log",
                path="casework",
                found=str(cw)[:200],
                rule="RP-10.1",
            )
        )
        return out
    want = [
        {
            "reference": c.reference,
            "received": c.received,
            "channel": c.channel,
            "timing": c.timing,
            "about": c.about,
            "finding": c.finding if 0 < c.concluded_size <= size else "",
            "effect": c.effect if 0 < c.concluded_size <= size else "",
            "concluded": c.concluded if 0 < c.concluded_size <= size else "",
        }
        for c in sorted(report.cases, key=lambda c: c.reference)
        if c.kind == "objection" and c.branch == branch and c.received_size <= size
    ]
    got = appointment.get("objections")
    if got != want:
        given = got if isinstance(got, list) else []
        refs = {o.get("reference") for o in given if isinstance(o, dict)}
        missing = [w["reference"] for w in want if w["reference"] not in refs]
        out.append(
            Finding(
                clause="V31",
                code="appointment.objections_differ",
                zh="审批任命所列异议与异议记录不一致",
                en="the appointment's objections differ from the casework",
                path="objections",
                expected=", ".join(missing) if missing else "",
                rule="RP-10.1",
            )
        )
    open_ = [w["reference"] for w in want if not w["concluded"]]
    if open_:
        out.append(
            Finding(
                clause="V31",
                code="appointment.objection_open",
                zh="审批任命时仍有异议未办结",
                en="an objection was still open at the appointment's casework state",
                found=", ".join(open_),
                rule="RP-10.2",
            )
        )
    return out
