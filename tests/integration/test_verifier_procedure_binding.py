"""``verifier procedure --election`` (spec/procedure.md §13 V29) and V21's RP-2.4 checks on the
bundles of a real branch: its procedure driven through the CLI from the vetting to the town's
approval, the manifest, the binding, a real election run and published, its result recorded and
the appointment signed (as tests/integration/test_procedure_town_cli.py, without an objection).

The valid pair passes V29; each tampering fails with its code: an election bundle signed by
another town key, a manifest changed and re-signed by the town, the candidates' order changed and
re-bound by the work group, the concluded root changed, an election bundle failing its own
clauses. V21: each RP-2.4 violation in a definition re-signed by the town key fails with its code.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import keys
from tally.casework_store import CaseworkStore, sign_casework
from tally.cli import app as tally_app
from tally.core.casework import TOWN_TIME
from tally.core.manifest import canonical, parse_manifest
from tally.core.procedure import build_procedure
from tally.core.procedure.definition import PROCEDURE_DOMAIN, signed_procedure_bytes
from tally.log_file import BundleFile, bundle_index
from tally.manifest_io import sign_manifest
from tally.procedure_store import ProcedureStore
from tests.helpers import casework as cw
from tests.helpers.cli_election import ENV, PASSPHRASE, PRESENT, Election, make_key, marks_for
from tests.helpers.procedure import OTHER_TOWN, example_input
from tests.helpers.procedure_bundle import Files, reseal, rows, write
from tests.helpers.procedure_town import VettedBranch
from tests.integration.test_procedure_town_cli import DRAFT, reuse_keys
from verifier.cli import app as verifier_app

runner = CliRunner(env=ENV)


@dataclasses.dataclass(frozen=True)
class Branch:
    folder: Path
    procedure: Path  # the published procedure bundle (folder)
    election: Path  # the published election bundle (folder)
    town_pub: Path
    town: keys.InMemorySigner
    work_group: keys.InMemorySigner


def ok(*args: str) -> str:
    r = runner.invoke(tally_app, list(args), catch_exceptions=False)
    assert r.exit_code == 0, (args, r.output)
    return str(r.output)


def pub(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Branch:
    """A branch bound, concluded and appointed, with its published procedure and election
    bundles."""
    f = tmp_path_factory.mktemp("v29")
    town_key, town_pub = make_key(f, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
    wg_key, wg_pub = make_key(f, keys.Role.WORK_GROUP, "工作组", "wg")
    scrutineer_pubs = [make_key(f, keys.Role.SCRUTINEER, f"监票人{i}", f"s{i}")[1] for i in (1, 2)]
    cw_key, cw_pub = make_key(f, keys.Role.CASEWORK, "红旗镇查核组", "casework")
    town = keys.load_signer(town_key, PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE)
    wg = keys.load_signer(wg_key, PASSPHRASE, expected_role=keys.Role.WORK_GROUP)
    service = keys.load_signer(cw_key, PASSPHRASE, expected_role=keys.Role.CASEWORK)

    doc = cw.document()
    doc["keys"] = {"casework": pub(cw_pub)}
    doc["branches"].append({"branch_code": "qingshan", "name": "青山村党支部", "groups": []})
    signed_casework, casework_def = sign_casework(doc, town)
    cases = f / "town.casework.sqlite"
    CaseworkStore.create(
        cases,
        signed_casework=signed_casework,
        casework_signer=service,
        at=dt.datetime.now(TOWN_TIME) - dt.timedelta(days=1),
        random=cw.counter_random(),
    ).close()

    data = example_input()
    data["casework_id"] = casework_def.id.hex()
    procedure = build_procedure(
        data, work_group_key=pub(wg_pub), scrutineer_keys=[pub(p) for p in scrutineer_pubs]
    )
    db = f / "qingshan.procedure.sqlite"
    VettedBranch(db, procedure, town=town, work_group=wg).through_vetting().store.close()
    key = ("--key", str(wg_key))
    ok("procedure", "approve", str(db), "--reference", "红组〔2026〕12号",
       "--town-key", str(town_key), *key)  # fmt: skip
    draft, definition = f / "draft.toml", f / "election.toml"
    draft.write_text(DRAFT, encoding="utf-8")
    ok("procedure", "manifest", str(db), "--definition", str(draft), "--out", str(definition))
    with pytest.MonkeyPatch.context() as mp:
        reuse_keys(mp)
        election = Election(f, definition)
    ok("procedure", "bind", str(db), str(f / "manifest.json"), *key)
    election.checkin(PRESENT)
    election.vote("committee", 1, marks_for([20, 20, 3, 20, 20, 20, 3, 3], 23, 5))
    election.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 8])
    published = election.finish()
    ok("procedure", "conclude", str(db), str(election.db), *key)
    store = ProcedureStore.open(db)
    concluded = store.ledger.town.concluded
    store.close()
    assert concluded is not None
    after = dt.date.fromisoformat(concluded["publicity_end"]) + dt.timedelta(days=1)
    ok("procedure", "appoint", str(db), "--casework", str(cases), "--casework-key", str(cw_key),
       "--town-key", str(town_key), *key, "--reference", "红组〔2026〕31号",
       "--date", after.isoformat())  # fmt: skip
    ok("procedure", "publish", str(db), "--out", str(f / "pbundle"))
    return Branch(f, f / "pbundle", published / "bundle", town_pub, town, wg)


def verify(b: Branch, procedure: Path | None = None, *extra: str) -> tuple[int, dict[str, Any]]:
    args = ["procedure", str(procedure or b.procedure), "--town-key", str(b.town_pub)]
    r = CliRunner().invoke(verifier_app, [*args, "--json", "--jobs", "1", *extra])
    assert r.exit_code in {0, 1}, r.output
    return r.exit_code, json.loads(r.stdout)


def codes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["clause"], f["code"]) for f in doc["findings"]}


def read(folder: Path) -> Files:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def copy_of(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def manifest_doc(b: Branch) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((b.election / "manifest.json").read_bytes())["manifest"]
    return doc


def election_with(b: Branch, to: Path, signed_manifest: bytes) -> Path:
    """A copy of the election bundle with another ``manifest.json``."""
    folder = copy_of(b.election, to)
    (folder / "manifest.json").write_bytes(signed_manifest)
    return folder


def rebound(b: Branch, to: Path, signed_manifest: bytes) -> Path:
    """The procedure bundle whose ``election.bound`` names ``signed_manifest`` (what the work
    group could write and re-seal with its key)."""
    entries = rows(read(b.procedure))
    body = next(e for e in entries if e["type"] == "election.bound")["body"]
    body["manifest_sha256"] = hashlib.sha256(signed_manifest).hexdigest()
    body["election_id"] = hashlib.sha256(
        b"branch-election/manifest/1\x00" + canonical(json.loads(signed_manifest)["manifest"])
    ).hexdigest()
    return write(to, reseal(read(b.procedure), entries, b.work_group))


# --------------------------------------------------------------------------- V29


def test_v29_the_bound_concluded_appointed_branch_passes_with_its_election_bundle(
    branch: Branch,
) -> None:
    code, doc = verify(branch, None, "--election", str(branch.election))
    assert code == 0, doc["findings"]
    assert doc["clauses"]["V29"] == doc["clauses"]["V30"] == doc["clauses"]["V21"] == "passed"
    assert "V29" not in {n["clause"] for n in doc["not_checked"]}


def test_v29_the_zipped_election_bundle_passes_too(branch: Branch) -> None:
    code, doc = verify(branch, None, "--election", str(branch.election.parent / "bundle.zip"))
    assert code == 0, doc["findings"]
    assert doc["clauses"]["V29"] == "passed"


def test_v29_without_the_election_bundle_is_not_checked_never_passed(branch: Branch) -> None:
    code, doc = verify(branch)
    assert code == 0, doc["findings"]
    assert doc["clauses"]["V29"] == "not_checked"
    assert {n["en"] for n in doc["not_checked"] if n["clause"] == "V29"} == {
        "the election bundle was not given: the binding is not checked"
    }


def test_v29_the_text_report_says_passed_in_chinese_and_english(branch: Branch) -> None:
    args = ["procedure", str(branch.procedure), "--town-key", str(branch.town_pub),
            "--election", str(branch.election), "--jobs", "1"]  # fmt: skip
    zh = CliRunner().invoke(verifier_app, args)
    en = CliRunner().invoke(verifier_app, [*args, "--lang", "en"])
    assert zh.exit_code == en.exit_code == 0
    assert "V29 通过" in zh.stdout and "结论：通过" in zh.stdout
    assert "V29 passed" in en.stdout


def test_v29_an_election_bundle_signed_by_another_town_key_fails(
    branch: Branch, tmp_path: Path
) -> None:
    other = sign_manifest(parse_manifest(manifest_doc(branch)), OTHER_TOWN)
    election = election_with(branch, tmp_path / "e", other)
    code, doc = verify(branch, None, "--election", str(election))
    assert code == 1
    found = codes(doc)
    assert {("V29", "binding.town_key"), ("V29", "manifest.town_key")} <= found
    assert ("V29", "binding.manifest") in found  # the bound manifest's bytes were others


def _rename_candidate(doc: dict[str, Any]) -> None:
    member = next(m for m in doc["definition"]["members"] if m["id"] == "M004")
    member["name"] = "刘海艳"


def _longer_publicity(doc: dict[str, Any]) -> None:
    doc["definition"]["parameters"]["publicity_working_days"] += 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_rename_candidate, "binding.name_differs"),
        (_longer_publicity, "binding.parameter_differs"),
    ],
    ids=["a-candidates-name", "publicity-working-days"],
)
def test_v29_a_manifest_changed_and_resigned_by_the_town_fails(
    branch: Branch, tmp_path: Path, change: Callable[[dict[str, Any]], None], code: str
) -> None:
    doc = manifest_doc(branch)
    change(doc)
    election = election_with(
        branch, tmp_path / "e", sign_manifest(parse_manifest(doc), branch.town)
    )
    status, report = verify(branch, None, "--election", str(election))
    assert status == 1
    found = codes(report)
    assert {("V29", code), ("V29", "binding.manifest")} <= found
    # The election bundle's own log names the true manifest's election: it fails its clauses.
    assert any(f["en"].startswith("election bundle: ") for f in report["findings"])


def test_v29_candidates_in_another_order_fail_even_rebound_by_the_work_group(
    branch: Branch, tmp_path: Path
) -> None:
    doc = manifest_doc(branch)
    secretary = next(p for p in doc["definition"]["posts"] if p["post"] == "secretary")
    secretary["candidates"].reverse()
    signed = sign_manifest(parse_manifest(doc), branch.town)
    procedure = rebound(branch, tmp_path / "p", signed)
    _, report = verify(
        branch, procedure, "--election", str(election_with(branch, tmp_path / "e", signed))
    )
    found = codes(report)
    assert ("V29", "binding.candidates_differ") in found
    assert ("V29", "binding.manifest") not in found  # the work group re-bound it consistently
    path = next(f["path"] for f in report["findings"] if f["code"] == "binding.candidates_differ")
    assert path == "definition.posts.secretary.candidates"


def test_v29_a_concluded_root_not_the_election_bundles_fails(
    branch: Branch, tmp_path: Path
) -> None:
    entries = rows(read(branch.procedure))
    body = next(e for e in entries if e["type"] == "election.concluded")["body"]
    body["root"] = "00" * 32
    procedure = write(tmp_path, reseal(read(branch.procedure), entries, branch.work_group))
    status, report = verify(branch, procedure, "--election", str(branch.election))
    assert status == 1
    concluded = [f for f in report["findings"] if f["code"] == "binding.concluded_differs"]
    assert [(f["clause"], f["path"]) for f in concluded] == [("V29", "body.root")]


def test_v29_an_election_bundle_failing_its_own_clauses_is_listed_under_v29(
    branch: Branch, tmp_path: Path
) -> None:
    election = copy_of(branch.election, tmp_path / "e")
    lines = (election / "ballots.jsonl").read_bytes().splitlines(keepends=True)
    (election / "ballots.jsonl").write_bytes(b"".join(lines[1:]))
    status, report = verify(branch, None, "--election", str(election))
    assert status == 1
    assert {f["clause"] for f in report["findings"]} == {"V29"}
    assert report["clauses"]["V29"] == "failed"
    listed = [f for f in report["findings"] if f["en"].startswith("election bundle: ")]
    assert listed and all(f["rule"].startswith("V") for f in listed)
    assert "V1" in {f["rule"] for f in listed}  # ballots.jsonl is not the file indexed


def truncated(b: Branch, to: Path, last: str) -> Path:
    """The procedure bundle as published right after its ``last`` entry (checkpoints up to it)."""
    files = read(b.procedure)
    entries = rows(files)
    cut = next(i for i, e in enumerate(entries) if e["type"] == last) + 1
    doc = json.loads(files["checkpoints.json"])
    doc["checkpoints"] = [c for c in doc["checkpoints"] if int(c["text"].split("\n")[1]) <= cut]
    files["checkpoints.json"] = canonical(doc)
    return write(to, reseal(files, entries[:cut], b.work_group))


def test_v29_a_bound_election_not_yet_concluded_is_checked_in_part(
    branch: Branch, tmp_path: Path
) -> None:
    procedure = truncated(branch, tmp_path, "election.bound")
    code, doc = verify(branch, procedure, "--election", str(branch.election))
    assert code == 0, doc["findings"]
    assert doc["clauses"]["V29"] == "partial"
    assert {n["en"] for n in doc["not_checked"] if n["clause"] == "V29"} == {
        "the log records no concluded election yet: the result is not compared"
    }


def test_v29_with_no_election_bound_yet_is_not_checked(branch: Branch, tmp_path: Path) -> None:
    procedure = truncated(branch, tmp_path, "candidates.approved")
    code, doc = verify(branch, procedure, "--election", str(branch.election))
    assert code == 0, doc["findings"]
    assert doc["clauses"]["V29"] == "not_checked"
    assert {n["en"] for n in doc["not_checked"] if n["clause"] == "V29"} == {
        "no election is bound in the log yet: there is no binding to check"
    }


def test_v29_an_unreadable_election_bundle_exits_2(branch: Branch, tmp_path: Path) -> None:
    args = ["procedure", str(branch.procedure), "--town-key", str(branch.town_pub),
            "--election", str(tmp_path / "nothing")]  # fmt: skip
    assert CliRunner().invoke(verifier_app, args).exit_code == 2


# --------------------------------------------------------------------------- V21 RP-2.4


def resigned(b: Branch, to: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    """The procedure bundle with its definition changed, re-signed by the town and re-indexed."""
    files = read(b.procedure)
    signed = json.loads(files["procedure.json"])
    document = copy.deepcopy(signed["procedure"])
    change(document)
    signature = b.town.sign(PROCEDURE_DOMAIN, canonical(document))
    files["procedure.json"] = signed_procedure_bytes(document, signed["town_key"], signature)
    index = json.loads(files["index.json"])
    files["index.json"] = bundle_index(
        "procedure-bundle-index/1",
        "procedure_id",
        index["procedure_id"],
        index["entries"],
        [BundleFile(k, v) for k, v in sorted(files.items()) if k != "index.json"],
    ).data
    return write(to, files)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *head, last = path.split(".")
        target: Any = doc
        for part in head:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


RP_2_4: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("branch-code-pattern", _set("election.branch_code", "青山"), "procedure.branch_code",
     "election.branch_code"),
    ("ballot-order-leaves-out-a-member", lambda d: d["ballot_order"].remove("M001"),
     "procedure.ballot_order", "ballot_order"),
    ("ballot-order-lists-an-excluded-member", lambda d: d["ballot_order"].append("M015"),
     "procedure.ballot_order", "ballot_order[25]"),
    ("preliminary-size-below-the-margin", _set("posts.0.preliminary_size", 5),
     "procedure.parameter", "posts[0].preliminary_size"),
    ("formal-size-without-the-margin", _set("posts.0.formal_size", 5), "procedure.parameter",
     "posts[0].formal_size"),
    ("max-per-ballot-zero", _set("posts.0.max_per_ballot", 0), "procedure.parameter",
     "posts[0].max_per_ballot"),
    ("secretary-two-seats", _set("posts.1.seats", 2), "post.seats", "posts[1].seats"),
    ("committee-margin-none", _set("posts.0.margin", "none"), "post.margin", "posts[0].margin"),
    ("posts-out-of-order", lambda d: d["posts"].reverse(), "procedure.parameter", "posts"),
    ("no-secretary-post", lambda d: d["posts"].pop(), "post.no_secretary", "posts"),
    ("public-representatives-zero", _set("recommendation.public_representatives", 0),
     "procedure.parameter", "recommendation.public_representatives"),
    ("weights-both-zero",
     lambda d: d["recommendation"]["ranking"].update(member_weight=0, public_weight=0),
     "procedure.parameter", "recommendation.ranking"),
    ("scale-letter-repeated", _set("evaluation.scale.1.letter", "s"), "procedure.parameter",
     "evaluation.scale[1].letter"),
    ("fail-letters-every-letter", _set("evaluation.fail_letters", ["s", "b", "d"]),
     "procedure.parameter", "evaluation.fail_letters"),
    ("fail-share-numerator-not-below-denominator", _set("evaluation.fail_numerator", 3),
     "procedure.parameter", "evaluation.fail_numerator"),
    ("publicity-four-days", _set("publicity_working_days", 4), "procedure.parameter",
     "publicity_working_days"),
    ("one-scrutineer-key-for-two-scrutineers", lambda d: d["keys"]["scrutineers"].pop(),
     "procedure.keys", "keys.scrutineers"),
    ("roster-duplicate-id", lambda d: d["members"].append(copy.deepcopy(d["members"][0])),
     "members.duplicate_id", "members[30].id"),
    ("exclusion-without-assembly-approval", _set("exclusions.0.assembly_approval", ""),
     "exclusion.approval_missing", "exclusions[0].assembly_approval"),
    ("official-in-both-roles", _set("officials.tellers", ["M009"]), "official.both_roles",
     "officials"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "code", "path"), [c[1:] for c in RP_2_4], ids=[c[0] for c in RP_2_4]
)
def test_v21_an_rp_2_4_violation_resigned_by_the_town_fails_with_its_code(
    branch: Branch, tmp_path: Path, change: Callable[[dict[str, Any]], object], code: str, path: str
) -> None:
    status, report = verify(branch, resigned(branch, tmp_path, change))
    assert status == 1
    assert ("V21", code, path) in {(f["clause"], f["code"], f["path"]) for f in report["findings"]}
    assert {f["clause"] for f in report["findings"]} == {"V21"}
    assert report["clauses"]["V22"] == "not_checked"  # refused as a whole: the log not read


def test_v21_the_resigned_unchanged_definition_passes(branch: Branch, tmp_path: Path) -> None:
    """The re-signing helper alone changes nothing the verifier can see."""
    code, report = verify(branch, resigned(branch, tmp_path, lambda d: None))
    assert code == 0, report["findings"]
    assert report["clauses"]["V21"] == "passed"
    assert "V21" not in {n["clause"] for n in report["not_checked"]}


def test_v21_every_problem_is_reported_in_one_pass(branch: Branch, tmp_path: Path) -> None:
    def two(d: dict[str, Any]) -> None:
        d["publicity_working_days"] = 61
        d["election"]["branch_code"] = "青山"

    _, report = verify(branch, resigned(branch, tmp_path, two))
    assert {f["code"] for f in report["findings"]} == {
        "procedure.parameter",
        "procedure.branch_code",
    }


def test_fixture_keys_are_the_branchs(branch: Branch) -> None:
    """The re-signing above uses the town key the bundles were signed with."""
    signed = json.loads((branch.procedure / "procedure.json").read_bytes())
    assert base64.b64decode(signed["town_key"]["key"]) == branch.town.public_key.key
