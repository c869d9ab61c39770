"""`tally procedure print` as the work group runs it (spec/procedure.md RP-3.3-RP-3.6, RP-5.3): a
signed definition in, a PDF whose every QR verifies against the procedure and a sealed list whose
commitment recomputes out; each wrong input a specific refusal that writes nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from ballot_printer import PaperKind, ProcedureForm, parse_procedure_qr_text
from ballot_printer.procedure_qr import verify_procedure_payload
from tally.cli import app
from tests.helpers.polling import ENV, make_key, qr_texts
from tests.helpers.procedure import EXAMPLE


class Setup:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.town, self.town_pub = make_key(folder, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
        self.wg, self.wg_pub = make_key(folder, keys.Role.WORK_GROUP, "工作组", "wg")
        self.other_wg, _ = make_key(folder, keys.Role.WORK_GROUP, "邻村工作组", "wg2")
        s_pubs = [
            make_key(folder, keys.Role.SCRUTINEER, name, f"s{i}")[1]
            for i, name in enumerate(("黄德明", "赵红梅"))
        ]
        source = folder / "input.toml"
        # A name typed in decomposed form: the definition stores it in NFC, the paper prints that.
        text = EXAMPLE.read_text(encoding="utf-8").replace(
            'name = "丁建国"', 'name = "丁建国Zoe\u0308"', 1
        )
        source.write_text(text, encoding="utf-8")
        self.procedure = folder / "procedure.json"
        args = ["procedure", "new", str(source), "--work-group-pub", str(self.wg_pub)]
        for p in s_pubs:
            args += ["--scrutineer-pub", str(p)]
        r = run(*args, "--out", self.procedure, "--town-key", self.town, "--json")
        assert r.exit_code == 0, r.output
        self.procedure_id = bytes.fromhex(json.loads(r.stdout)["procedure_id"])
        self.doc = json.loads(self.procedure.read_bytes())["procedure"]
        self.wg_raw = keys.parse_public_key(self.wg_pub.read_bytes()).key

    def print_args(self, out: Path, *extra: str | Path) -> list[str | Path]:
        base: list[str | Path] = ["procedure", "print", self.procedure]
        return [*base, "--town-key", self.town_pub, "--key", self.wg, "--out", out, *extra]


def run(*args: str | Path) -> Result:
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def s(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("procedure-print"))


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_members_recommendation_stock_verifies_and_its_sealed_list_recomputes(
    s: Setup, tmp_path: Path
) -> None:
    out = tmp_path / "member-committee.pdf"
    r = run(*s.print_args(out, "--form", "member", "--post", "committee", "--count", "3", "--json"))
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["form"], data["post"], data["count"]) == ("member", "committee", 3)
    texts = qr_texts(out)
    assert len(texts) == 3
    ids = []
    for t in texts:
        v = verify_procedure_payload(
            parse_procedure_qr_text(t),
            s.wg_raw,
            procedure_id=s.procedure_id,
            form=ProcedureForm.MEMBER,
            post=PaperKind.COMMITTEE,
            round_number=1,
        )
        ids.append(v.ballot_id)
    sealed = json.loads((tmp_path / "member-committee.stock.json").read_bytes())
    assert sealed["format"] == "procedure-stock/1"
    assert sealed["procedure_id"] == s.procedure_id.hex()
    assert sealed["ballot_ids"] == sorted(i.hex() for i in ids)
    h = hashlib.sha256(b"branch-election/procedure-stock/1\x00" + s.procedure_id)
    h.update(bytes([1, 1, 1]) + (3).to_bytes(4, "big") + b"".join(sorted(ids)))
    assert sealed["commitment"] == data["commitment"] == h.hexdigest()
    # Every nominable member under the name the definition stores (NFC); the order is the
    # layout's test (tests/unit/ballot_printer/test_procedure_ballot_pdf.py).
    names = {m["id"]: m["name"] for m in s.doc["members"]}
    page = _pdf_text(out).split("\f")[0]
    assert "丁建国Zoë" in page and "Zoe\u0308" not in page
    for m in s.doc["ballot_order"]:  # a long name may be cut after its middle dot
        assert all(part in page for part in names[m].split("·")), names[m]
    assert "1989年生" in page and "1974年生" in page  # the two 王伟 told apart
    assert "最多推荐5名" in page


def test_evaluation_stock_prints_the_persons_in_ballot_order(s: Setup, tmp_path: Path) -> None:
    order = s.doc["ballot_order"]
    names = {m["id"]: m["name"] for m in s.doc["members"]}
    chosen = [order[5], order[1], order[3]]
    out = tmp_path / "evaluation.pdf"
    r = run(
        *s.print_args(out, "--form", "evaluation", "--count", "2"),
        *[a for m in chosen for a in ("--person", m)],
    )
    assert r.exit_code == 0, r.output
    page = _pdf_text(out).split("\f")[0]
    found = [page.find(names[m]) for m in (order[1], order[3], order[5])]
    assert -1 not in found and found == sorted(found)
    assert "满意" in page and "不满意" in page
    for t in qr_texts(out):
        verify_procedure_payload(
            parse_procedure_qr_text(t),
            s.wg_raw,
            procedure_id=s.procedure_id,
            form=ProcedureForm.EVALUATION,
            post=None,
            round_number=1,
        )


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--form", "member", "--count", "2"], "print.post_missing"),
        (
            ["--form", "evaluation", "--post", "committee", "--count", "2", "--person", "M001"],
            "print.post_for_evaluation",
        ),
        (["--form", "evaluation", "--count", "2"], "print.persons_missing"),
        (
            ["--form", "evaluation", "--count", "2", "--person", "M999"],
            "print.person_not_nominable",
        ),
        (
            ["--form", "evaluation", "--count", "2", "--person", "M001", "--person", "M001"],
            "print.person_twice",
        ),
        (
            ["--form", "member", "--post", "committee", "--count", "2", "--person", "M001"],
            "print.person_for_recommendation",
        ),
        (["--form", "ballot", "--count", "2"], "print.form"),
        (["--form", "public", "--post", "deputy", "--count", "2"], "print.post_not_in_procedure"),
        (["--form", "public", "--post", "committee", "--count", "0"], "stock.count_out_of_range"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_wrong_input_is_refused_with_its_code_and_writes_nothing(
    s: Setup, tmp_path: Path, extra: list[str], code: str
) -> None:
    out = tmp_path / "x.pdf"
    r = run(*s.print_args(out, *extra, "--json"))
    assert r.exit_code != 0
    assert json.loads(r.stdout)["code"] == code
    assert not out.exists() and not (tmp_path / "x.stock.json").exists()


def test_another_work_group_key_is_refused(s: Setup, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    args = s.print_args(out, "--form", "member", "--post", "committee", "--count", "1", "--json")
    args[args.index(s.wg)] = s.other_wg
    r = run(*args)
    assert r.exit_code != 0
    assert json.loads(r.stdout)["code"] == "print.work_group_key"
    assert not out.exists()


def test_an_existing_sealed_list_is_never_replaced(s: Setup, tmp_path: Path) -> None:
    out = tmp_path / "p.pdf"
    (tmp_path / "p.stock.json").write_text("sealed", encoding="utf-8")
    r = run(*s.print_args(out, "--form", "public", "--post", "committee", "--count", "1", "--json"))
    assert json.loads(r.stdout)["code"] == "print.exists"
    assert (tmp_path / "p.stock.json").read_text(encoding="utf-8") == "sealed"


def test_the_stored_name_is_nfc(s: Setup) -> None:
    names = [m["name"] for m in s.doc["members"]]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert "丁建国Zoë" in names
