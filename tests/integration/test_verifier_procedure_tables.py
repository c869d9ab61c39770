"""The tables of ``verifier procedure``'s report (spec/procedure.md RP-13.1): per post the
recommendation sessions and the ranking, the preliminary list, each evaluation round with its rule
written out, the vetting and the approved lists, in Chinese, in English and as the JSON
``procedure`` object, every number from the verifier's own recount and shown only when the
clauses it rests on passed.

The branch is tests/helpers/procedure_town.py's (both groups, a tie at the cut, an evaluation, the
vetting, the town's approval), published by the store as ``tally procedure publish`` does. The
golden texts are regenerated with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import evaluation_opening
from tests.helpers import procedure_town
from tests.helpers.procedure import TOWN, WORK_GROUP
from tests.helpers.procedure_bundle import Files, approved_files, reseal, rows, write
from tests.helpers.procedure_town import VettedBranch
from verifier.cli import app
from verifier.crypto import fingerprint
from verifier.procedure.report_tables import GATES

GOLDEN = Path(__file__).resolve().parent / "golden"
SHM = Path("/dev/shm")
TOWN_FP = fingerprint(TOWN.public_key.key)
IDENTITY = {"group", "post", "round", "version", "vetting", "reference", "check", "withheld_by"}
runner = CliRunner()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the procedure files are written: memory-backed when the machine has /dev/shm (each
    store append is a full sync; nothing here tests durability), else pytest's temporary folder."""
    if not SHM.is_dir():
        yield tmp_path_factory.mktemp("stores")
        return
    folder = Path(tempfile.mkdtemp(dir=SHM, prefix="verifier-tables-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.fixture(scope="module")
def published(scratch: Path) -> Files:
    """A branch through the town's approval, every count co-signed."""
    branch = VettedBranch(scratch / "published.sqlite").through_vetting()
    return approved_files(branch, "红组〔2026〕12号")


def report(folder: Path, *extra: str) -> tuple[int, str]:
    r = runner.invoke(app, ["procedure", str(folder), "--town-key", TOWN_FP, *extra])
    return r.exit_code, r.stdout


def procedure(folder: Path) -> dict[str, Any]:
    code, out = report(folder, "--json")
    assert code in {0, 1}, out
    doc: dict[str, Any] = json.loads(out)["procedure"]
    return doc


def first(entries: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    return next(e for e in entries if e["type"] == type_)


# --------------------------------------------------------------------------- golden text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rp_13_1_the_tables_read_as_the_golden_text(
    tmp_path: Path, published: Files, lang: str
) -> None:
    code, out = report(write(tmp_path, published), "--lang", lang)
    assert code == 0, out
    lines = out.splitlines()
    start = lines.index("一、推荐（两推）" if lang == "zh" else "1. Recommendation")
    assert lines[-1] == ("结论：通过" if lang == "zh" else "result: passed")
    text = "\n".join(lines[start:-1]) + "\n"  # the tables, between the clauses and the result
    golden = GOLDEN / f"verifier-procedure-tables.{lang}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_rp_13_1_the_evaluation_rule_is_written_out_in_each_language(
    tmp_path: Path, published: Files
) -> None:
    folder = write(tmp_path, published)
    zh, en = report(folder)[1], report(folder, "--lang", "en")[1]
    assert "规则：不满意票超过有效测评票三分之一的，不进入下一步。本轮有效测评票 40 张" in zh
    assert (
        "rule: a person does not proceed when the dissatisfied (不满意) ballots exceed one third "
        "of the valid ballots. This round: 40 valid ballots, so 14 or more do not proceed" in en
    )


# --------------------------------------------------------------------------- the JSON shape


def test_rp_13_1_the_procedure_object_has_every_table_with_its_items(
    tmp_path: Path, published: Files
) -> None:
    doc = procedure(write(tmp_path, published))
    assert list(doc) == [
        "sessions", "ranking", "preliminary", "evaluation", "vetting", "approval", "objections",
        "appointment",
    ]  # fmt: skip
    assert doc["appointment"] is None and doc["objections"] == []
    assert [(s["group"], s["post"], s["round"]) for s in doc["sessions"]] == [
        ("member", "committee", 1), ("member", "secretary", 1),
        ("public", "committee", 1), ("public", "secretary", 1),
    ]  # fmt: skip
    member = doc["sessions"][0]
    assert set(member) == {
        "group", "post", "round", "status", "present", "issued", "returned", "valid", "invalid",
        "check", "withheld_by",
    }  # fmt: skip
    assert (member["status"], member["present"], member["issued"], member["returned"]) == (
        "counted",
        20,
        20,
        20,
    )
    assert (member["valid"], member["invalid"], member["check"]) == (20, 0, "passed")
    committee = doc["ranking"][0]
    assert committee["post"] == "committee" and committee["valid_ballots"] == {
        "member": 20,
        "public": 40,
    }
    assert set(committee["persons"][0]) == {
        "member", "name", "member_recommendations", "public_recommendations", "score", "rank",
    }  # fmt: skip
    # 20 members' and 40 public ballots: score = m*40 + p*20 (RP-4.1, shares 1:1).
    scores = {p["member"]: (p["rank"], p["score"]) for p in committee["persons"]}
    assert scores["M023"] == scores["M002"] == scores["M003"] == (1, 20 * 40 + 40 * 20)
    assert scores["M001"] == scores["M022"] == (4, 14 * 40 + 28 * 20)
    assert scores["M014"] == scores["M005"] == (6, 6 * 40 + 12 * 20)
    assert committee["not_counted"] == []
    names = {n["member"]: n["basis"] for n in doc["preliminary"][0]["names"]}
    assert names["M014"] == names["M005"] == "tie_at_cut" and names["M004"] == "secretary_list"
    evaluation = doc["evaluation"][0]
    assert (evaluation["valid"], evaluation["members_present"], evaluation["public_present"]) == (
        40, 0, 40
    )  # fmt: skip
    assert evaluation["rule"]["from"] == 14 and evaluation["rule"]["comparison"] == "GT"
    assert evaluation["persons"][0]["counts"][0] == {
        "letter": "s", "zh": "满意", "en": "satisfied", "count": 40,
    }  # fmt: skip
    assert [a["post"] for a in doc["approval"]] == ["committee", "secretary"]
    assert doc["approval"][1]["candidates"] == [
        {"member": "M002", "name": "马秀英"},
        {"member": "M004", "name": "刘海燕"},
    ]
    assert doc["approval"][0]["reference"] == "红组〔2026〕12号"


def test_rp_3_2_the_public_representatives_are_counted_never_named(
    tmp_path: Path, published: Files
) -> None:
    doc = procedure(write(tmp_path, published))
    public = [s for s in doc["sessions"] if s["group"] == "public"]
    assert {s["present"] for s in public} == {40}
    assert all(set(s) & {"present_members", "names"} == set() for s in doc["sessions"])


# --------------------------------------------------------------------------- failed clauses


def _count(entries: list[dict[str, Any]]) -> None:
    first(entries, "recommendation.counted")["body"]["recommendations"][0]["recommendations"] += 1


def _evaluation(entries: list[dict[str, Any]]) -> None:
    first(entries, "evaluation.counted")["body"]["results"][0]["counts"][0]["count"] -= 1


def _basis(entries: list[dict[str, Any]]) -> None:
    names = first(entries, "preliminary.proposed")["body"]["posts"][0]["names"]
    names[0]["basis"], names[-1]["basis"] = names[-1]["basis"], names[0]["basis"]


def _vetting(entries: list[dict[str, Any]]) -> None:
    first(entries, "vetting.recorded")["body"]["posts"][0]["proceeding"].pop()


@pytest.mark.parametrize(
    ("edit", "clause", "tables"),
    [
        (_count, "V25", {"sessions", "ranking", "preliminary"}),
        (_evaluation, "V27", {"evaluation", "vetting"}),
        (_basis, "V26", {"ranking", "preliminary", "vetting"}),
        (_vetting, "V28", {"vetting", "approval"}),
    ],
    ids=["v25-count", "v27-evaluation", "v26-basis", "v28-vetting"],
)
def test_rp_13_1_a_failed_clause_shows_no_numbers_for_its_tables(
    tmp_path: Path,
    published: Files,
    edit: Callable[[list[dict[str, Any]]], None],
    clause: str,
    tables: set[str],
) -> None:
    entries = rows(published)
    edit(entries)
    folder = write(tmp_path, reseal(published, entries, WORK_GROUP))
    code, out = report(folder, "--json")
    assert code == 1
    doc = json.loads(out)
    failed = {c for c, s in doc["clauses"].items() if s == "failed"}
    assert clause in failed
    for table, gates in GATES.items():
        items = doc["procedure"][table]
        items = [items] if isinstance(items, dict) else items or []
        for item in items:
            if failed & set(gates):
                assert item["check"] == "failed", (table, item)
                assert set(item["withheld_by"]) == failed & set(gates)
                shown = {k: v for k, v in item.items() if k not in IDENTITY and v is not None}
                assert shown == {}, (table, shown)
            else:
                assert item["check"] == "passed", (table, item)
    withheld = {t for t in GATES if any(i["check"] == "failed" for i in doc["procedure"][t] or [])}
    assert tables <= withheld
    zh = report(folder)[1]
    assert f"{clause} 未通过，不予显示" in zh


def test_rp_13_1_a_changed_count_never_reaches_the_tables(tmp_path: Path, published: Files) -> None:
    """The recorded count is not the verifier's: neither number appears in the sessions."""
    entries = rows(published)
    first(entries, "recommendation.counted")["body"]["valid_ballots"] = 19
    folder = write(tmp_path, reseal(published, entries, WORK_GROUP))
    doc = procedure(folder)
    assert all(s["valid"] is None for s in doc["sessions"])
    zh = report(folder)[1]
    section = zh[zh.index("一、推荐") : zh.index("三、群众测评")]
    assert "19" not in section and "1600" not in section


# --------------------------------------------------------------------------- property


_ORDER = procedure_town.COMMITTEE  # eight nominable members the committee ballots use


def _ballots(k: int) -> st.SearchStrategy[list[list[str]]]:
    """Up to 10 ballots of 1..k+1 names (k+1: invalid by RP-3.7 step 2), the first valid."""
    ballot = st.lists(st.sampled_from(_ORDER), min_size=1, max_size=k + 1, unique=True)
    first_ = st.lists(st.sampled_from(_ORDER), min_size=1, max_size=k, unique=True)
    return st.tuples(first_, st.lists(ballot, max_size=9)).map(lambda t: [t[0], *t[1]])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(committee=_ballots(5), secretary=_ballots(1), data=st.data())
def test_rp_13_1_the_tables_totals_equal_the_logs_counts_for_valid_bundles(
    scratch: Path,
    committee: list[list[str]],
    secretary: list[list[str]],
    data: st.DataObject,
) -> None:
    """For any ballots of a valid bundle: each session's valid and invalid ballots, each
    person's recommendations by group, each proposed name's numbers and each evaluation count
    are the log's counts."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    with (
        mock.patch.object(procedure_town, "COMMITTEE_BALLOTS", committee),
        mock.patch.object(procedure_town, "SECRETARY_BALLOTS", secretary),
    ):
        branch = VettedBranch(folder / "b.sqlite")
        branch.recommend(Form.MEMBER, 20)
        branch.recommend(Form.PUBLIC, 40)
    branch.propose()
    opening = evaluation_opening(branch.store.ledger)
    assert opening is not None
    width = len(opening[2])
    paper = st.text(st.sampled_from("sbd-?"), min_size=width, max_size=width)
    branch.evaluate(data.draw(st.lists(paper, min_size=40, max_size=40)))
    branch.vet()
    files = {f.path: f.data for f in branch.store.bundle_files()}
    branch.store.close()
    code, out = report(write(folder / "bundle", files), "--json")
    doc = json.loads(out)
    assert code == 0, doc["findings"]
    _totals_agree(doc["procedure"], rows(files))


def _totals_agree(doc: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    counted = [e["body"] for e in entries if e["type"] == "recommendation.counted"]
    sessions = {(s["group"], s["post"], s["round"]): s for s in doc["sessions"]}
    for c in counted:
        s = sessions[c["group"], c["post"], c["round"]]
        assert (s["valid"], s["invalid"]) == (c["valid_ballots"], c["invalid_ballots"])
        assert s["valid"] + s["invalid"] == s["returned"]
    for r in doc["ranking"]:
        mine = [c for c in counted if c["post"] == r["post"]]
        for group in ("member", "public"):
            got = Counter({p["member"]: p[f"{group}_recommendations"] for p in r["persons"]})
            want: Counter[str] = Counter()
            for c in mine:
                if c["group"] == group:
                    want.update({x["member"]: x["recommendations"] for x in c["recommendations"]})
            assert +got == want
            assert r["valid_ballots"][group] == sum(
                c["valid_ballots"] for c in mine if c["group"] == group
            )
    [proposal] = [e["body"] for e in entries if e["type"] == "preliminary.proposed"]
    keys = ("member", "basis", "member_recommendations", "public_recommendations", "score")
    for table, post in zip(doc["preliminary"], proposal["posts"], strict=True):
        assert [{k: n[k] for k in keys} for n in table["names"]] == post["names"]
    [evaluated] = [e["body"] for e in entries if e["type"] == "evaluation.counted"]
    [table] = doc["evaluation"]
    assert table["valid"] == evaluated["valid_ballots"]
    for p, want_ in zip(table["persons"], evaluated["results"], strict=True):
        assert p["member"] == want_["member"] and p["outcome"] == want_["outcome"]
        assert [c["count"] for c in p["counts"]] == [c["count"] for c in want_["counts"]]
        assert sum(c["count"] for c in p["counts"]) + p["blank"] + p["unreadable"] == table["valid"]
