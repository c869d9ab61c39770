"""``verifier procedure`` on a branch whose vetting leaves the committee short, so that a
supplement (version 2 of ``preliminary.proposed``, spec/procedure.md RP-6.3) is proposed,
evaluated in round 2 and vetted again before the town's approval: V26 recomputes the supplement
(no longer "not checked"), V27 the rounds that follow it, V23 the shape of every ballot record;
each tampering (re-chained and re-checkpointed with the work group's key) fails with its code.

The branch: committee 5 seats (target 6, ``L`` = 6), secretary 1. Committee ranking (the public
gives each name twice the members' number, so scores are 80 times the members'):
M023 M002 M003 (17), M001 M022 (11), M014 M005 (6: tied at the cut, both in), M024 (3), M025
(2), M008 (1). Secretary: M002, M004 (who joins the committee's list). The evaluation stops
M001, M022, M014 and M005: four proceed on the committee, so version 2 adds the next two names,
M024 and M025, who proceed; the approval has six committee candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tally.core.procedure.entries import Form
from tests.helpers.procedure_bundle import (
    Files,
    approved_files,
    codes,
    rows,
    verify,
    write,
)
from tests.helpers.procedure_bundle import tampered as tampered_doc
from tests.helpers.procedure_town import SECRETARY_BALLOTS, VettedBranch

COMMITTEE_BALLOTS = (
    [["M001", "M022", "M023", "M002", "M003"]] * 11
    + [["M023", "M002", "M003", "M014", "M005"]] * 6
    + [["M024", "M025", "M008"], ["M024", "M025"], ["M024"]]
)
STOPPED = {"M001", "M022", "M014", "M005"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The bundle of the branch through the supplement, its evaluation, the second vetting and
    the town's approval, every count co-signed."""
    branch = VettedBranch(tmp_path_factory.mktemp("s") / "b.sqlite")
    ballots = {"committee": COMMITTEE_BALLOTS, "secretary": SECRETARY_BALLOTS}
    branch.recommend(Form.MEMBER, 20, ballots)
    branch.recommend(Form.PUBLIC, 40, ballots)
    branch.propose()
    first = branch.store.ledger.proposals[0]
    persons = sorted(
        {n.member for p in first.posts for n in p.names}, key=branch.procedure.ballot_order.index
    )
    assert len(first.posts[0].names) == 8  # seven ranked (a tie at the cut), the secretary's M004
    fail = "".join("d" if m in STOPPED else "s" for m in persons)
    branch.evaluate(["s" * len(persons)] * 20 + [fail] * 20)
    branch.vet()
    branch.propose()
    branch.evaluate(["ss"] * 40)
    branch.vet()
    return approved_files(branch, "红组〔2026〕13号")


def tampered(
    tmp_path: Path, published: Files, edit: Callable[[list[dict[str, Any]]], None]
) -> set[tuple[str, str]]:
    return codes(tampered_doc(tmp_path, published, edit))


def proposal(entries: list[dict[str, Any]], version: int) -> dict[str, Any]:
    return next(
        e["body"]
        for e in entries
        if e["type"] == "preliminary.proposed" and e["body"]["version"] == version
    )


def committee_names(entries: list[dict[str, Any]], version: int) -> list[dict[str, Any]]:
    names: list[dict[str, Any]] = proposal(entries, version)["posts"][0]["names"]
    return names


# --------------------------------------------------------------------------- the valid bundle


def test_the_supplement_is_recomputed_and_the_bundle_passes(
    tmp_path: Path, published: Files
) -> None:
    entries = rows(published)
    assert [(n["member"], n["basis"]) for n in committee_names(entries, 2)] == [
        ("M024", "supplement"),
        ("M025", "supplement"),
    ]
    code, doc = verify(write(tmp_path, published))
    assert code == 0, doc["findings"]
    assert doc["findings"] == [] and doc["warnings"] == []
    for clause in ("V23", "V26", "V27", "V28"):
        assert doc["clauses"][clause] == "passed", clause
    assert not [n for n in doc["not_checked"] if n["clause"] == "V26"]
    committee = doc["procedure"]["approval"][0]
    assert committee["post"] == "committee"
    assert [c["member"] for c in committee["candidates"]] == [
        "M023", "M002", "M003", "M024", "M025", "M004"
    ]  # fmt: skip
    # RP-13.1: the supplement's version is shown, now that V26 recomputes it.
    preliminary = doc["procedure"]["preliminary"]
    assert [(p["version"], p["post"]) for p in preliminary] == [
        (1, "committee"), (1, "secretary"), (2, "committee"), (2, "secretary")
    ]  # fmt: skip
    assert all(p["check"] == "passed" for p in preliminary), preliminary


# --------------------------------------------------------------------------- V26


def test_v26_a_supplement_with_one_name_too_many_fails_preliminary_differs(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        committee_names(entries, 2).append(
            {
                "member": "M008",
                "basis": "supplement",
                "member_recommendations": 1,
                "public_recommendations": 2,
                "score": 80,
            }
        )

    found = tampered(tmp_path, published, edit)
    assert ("V26", "preliminary.differs") in found
    assert ("V26", "preliminary.tie_broken") not in found


def test_v26_a_supplement_with_one_name_too_few_fails_preliminary_differs(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        committee_names(entries, 2).pop()

    found = tampered(tmp_path, published, edit)
    assert ("V26", "preliminary.differs") in found
    # Its evaluation then evaluates a name no version first proposes (V27).
    assert ("V27", "evaluation.not_listed") in found


def test_v26_a_tie_at_the_cut_broken_is_its_own_code(tmp_path: Path, published: Files) -> None:
    """M014 and M005 are tied at the committee's cut of version 1: keeping one of them and
    leaving out the other is ``preliminary.tie_broken``, not ``preliminary.differs``."""

    def edit(entries: list[dict[str, Any]]) -> None:
        names = committee_names(entries, 1)
        tied = [n for n in names if n["basis"] == "tie_at_cut"]
        assert [n["member"] for n in tied] == ["M014", "M005"]
        names.remove(tied[1])
        tied[0]["basis"] = "rank"

    doc = tampered_doc(tmp_path, published, edit)
    version_1 = next(e["seq"] for e in rows(published) if e["type"] == "preliminary.proposed")
    at_version_1 = {f["code"] for f in doc["findings"] if f["seq"] == version_1}
    assert at_version_1 == {"preliminary.tie_broken"}
    broken = next(f for f in doc["findings"] if f["code"] == "preliminary.tie_broken")
    assert "in: M014; out: M005" in broken["en"]


def test_v22_a_supplement_without_a_vetting_of_the_previous_version_is_out_of_order(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        vetting = next(e for e in entries if e["type"] == "vetting.recorded")
        entries.remove(vetting)

    assert ("V22", "procedure.order") in tampered(tmp_path, published, edit)


# --------------------------------------------------------------------------- V27


def test_v27_an_evaluation_of_other_persons_than_the_versions_fails(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        opened = [e["body"] for e in entries if e["type"] == "evaluation.opened"]
        opened[1]["candidates"] = ["M025", "M024"]  # not in ballot order

    found = tampered(tmp_path, published, edit)
    assert ("V27", "evaluation.not_listed") in found


# --------------------------------------------------------------------------- V23


def _first(entries: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    body: dict[str, Any] = next(e["body"] for e in entries if e["type"] == type_)
    return body


def test_v23_recommendation_marks_of_the_wrong_length_fail(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        body = _first(entries, "recommendation.entered")
        body["marks"] = body["marks"][:-1]

    assert ("V23", "recommendation.marks") in tampered(tmp_path, published, edit)


def test_v23_a_recommendation_mark_not_of_the_layout_fails(
    tmp_path: Path, published: Files
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        body = _first(entries, "recommendation.entered")
        body["marks"] = "x" + body["marks"][1:]

    assert ("V23", "recommendation.marks") in tampered(tmp_path, published, edit)


def test_v23_evaluation_marks_of_the_wrong_length_fail(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        body = _first(entries, "evaluation.entered")
        body["marks"] += "s"

    assert ("V23", "evaluation.marks_length") in tampered(tmp_path, published, edit)


def test_v23_an_evaluation_mark_not_of_the_scale_fails(tmp_path: Path, published: Files) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        body = _first(entries, "evaluation.entered")
        body["marks"] = "x" + body["marks"][1:]

    assert ("V23", "evaluation.marks") in tampered(tmp_path, published, edit)


@pytest.mark.parametrize(
    ("row", "clause", "code"),
    [
        ({"name": "", "member": ""}, "V23", "recommendation.written"),
        ({"name": "?", "member": "M001"}, "V23", "recommendation.written"),
        ({"name": "张三", "member": "M999"}, "V23", "recommendation.written"),
        # A row without its members is no `{name, member}` object: the log's body shape (V22,
        # every level) refuses it before the record is read.
        ({"name": "张三"}, "V22", "entry.body"),
        ("张三", "V22", "entry.body"),
    ],
    ids=["empty-name", "unreadable-matched", "not-on-roster", "no-member", "not-an-object"],
)
def test_v23_a_written_row_of_the_wrong_shape_fails(
    tmp_path: Path, published: Files, row: object, clause: str, code: str
) -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        _first(entries, "recommendation.entered")["written"] = [row]

    assert (clause, code) in tampered(tmp_path, published, edit)
