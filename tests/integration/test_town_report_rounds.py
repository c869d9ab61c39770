"""The town report (R28, RULES A12.9, A13): each branch's elected persons with the round that
elected them and their approvals in it, and the young-secretary share from each manifest's
``secretary_new_max_age`` with ages on each branch's meeting date. The PDF's text is read back and
every number compared with the branches' published bundles."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tally import demo
from tally.cli import app

MEETING = dt.date(2026, 12, 15)
EARLY = dt.date(2026, 11, 16)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _plan(seed: int, branches: int) -> list[tuple[dict[str, Any], str]]:
    """The demo's plan, with two branches whose young-secretary verdict the old rule (45 years,
    ages on one report date) gets wrong: one allows new secretaries up to 50 and elects a
    47-year-old; one meets on 16 November and elects a secretary who turns 46 before 15 December."""
    plan = _ORIGINAL_PLAN(seed, branches)
    first, second = plan[0][0], plan[1][0]
    first["parameters"] = {"secretary_new_max_age": 50}
    second["election"]["date"] = EARLY
    for definition, birth in ((first, dt.date(1979, 6, 1)), (second, dt.date(1980, 12, 1))):
        full = [m for m in definition["members"] if m["status"] == "full"]
        for m in full[:2]:  # both secretary candidates
            m["birth_date"] = birth
    return plan


_ORIGINAL_PLAN = demo.town_plan


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town") / "town"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "town_plan", _plan)
        r = CliRunner().invoke(app, ["demo", "--out", str(out), "--branches", "3", "--seed", "11"])
    assert r.exit_code == 0, r.output
    return out


def _bundle(town: Path, i: int) -> Path:
    return town / f"branch-{i:02d}" / "published" / "bundle"


def _definition(bundle: Path) -> dict[str, Any]:
    signed = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    definition: dict[str, Any] = signed["manifest"]["definition"]
    return definition


def _electing(bundle: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(post, member) -> (round, approvals) from the bundle's outcomes.json."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    rounds = json.loads((bundle / "outcomes.json").read_text(encoding="utf-8"))["rounds"]
    for o in rounds:
        if o["type"] != "round.counted":
            continue
        votes = {a["member"]: a["approvals"] for a in o["approvals"]}
        for m in o["elected"]:
            out.setdefault((o["post"], m), (o["round"], votes[m]))
    return out


def _pdf_text(town: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(town / "town-report.pdf").pages)


def test_town_report_pdf_shows_the_round_and_approvals_that_elected_each_person(
    town: Path,
) -> None:
    text = _pdf_text(town)
    report = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    scenarios = {b["scenario"] for b in report["branches"]}
    assert {"tie", "shortfall", "void"} <= scenarios  # a runoff, a further round, a void re-vote
    labels = {"committee": "委员", "secretary": "书记"}
    later_rounds = 0
    for i, branch in enumerate(report["branches"], start=1):
        bundle = _bundle(town, i)
        names = {m["id"]: m["name"] for m in _definition(bundle)["members"]}
        electing = _electing(bundle)
        result = json.loads((bundle / "result.json").read_text(encoding="utf-8"))
        assert branch["branch"] in text
        for post, ids in result["elected"].items():
            rows = branch["elected_rounds"][post]
            assert [r["member"] for r in rows] == ids
            items = []
            for r in rows:
                rnd, votes = electing[post, r["member"]]
                assert (r["round"], r["approvals"], r["name"]) == (
                    rnd,
                    votes,
                    names[r["member"]],
                )
                items.append(f"{names[r['member']]}（第{rnd}轮，{votes}票）")
                later_rounds += rnd > 1
            # The PDF lists the post's elected persons in order, each with round and approvals.
            line = f"{labels[post]}：" + "、".join(items)
            assert line in text, (line, text)
    assert later_rounds >= 3  # elected in a runoff, a further round or a re-vote


def test_young_secretary_share_uses_each_manifests_age_limit_on_its_meeting_date_R28(
    town: Path,
) -> None:
    report = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    young = old_rule = 0
    for i in range(1, len(report["branches"]) + 1):
        bundle = _bundle(town, i)
        definition = _definition(bundle)
        members = {m["id"]: m for m in definition["members"]}
        date = dt.date.fromisoformat(definition["election"]["date"])
        limit = definition["parameters"]["secretary_new_max_age"]
        secretary = json.loads((bundle / "result.json").read_text())["elected"]["secretary"][0]
        birth = dt.date.fromisoformat(members[secretary]["birth_date"])
        young += _age(birth, date) <= limit
        old_rule += _age(birth, MEETING) <= 45  # the old rule: 45, on one date
        assert report["branches"][i - 1]["secretary_new_max_age"] == limit
        assert report["branches"][i - 1]["meeting_date"] == date.isoformat()
    assert young != old_rule  # the plan tells the two rules apart
    shares = report["shares"]
    assert (shares["secretaries"], shares["young_secretaries"]) == (3, young)
    assert shares["secretary_new_max_ages"] == [45, 50]
    text = _pdf_text(town)
    m = re.search(r"不超过本支部新任书记年龄上限（45至50岁）的书记：(\d+) 名，占 (\d+)%", text)
    assert m, text
    assert (int(m.group(1)), int(m.group(2))) == (young, 100 * young // 3)
    assert "45岁及以下书记" not in text
