"""``tally procedure stock --supplement`` (spec/procedure.md RP-3.6, spec/ballot-qr.md §4.4), the
CLI's ballot declared invalid (RP-3.8) and RP-3.2's member scrutineers: each refusal a specific
code that writes nothing; a supplementary part's ballots are entered as the round's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import keys
from ballot_printer import PaperKind, ProcedureForm, encode_procedure_qr_text
from ballot_printer.procedure_qr import sign_procedure_payload
from tests.helpers.cli_election import make_key
from tests.integration.test_procedure_log_cli import Branch, run

_PAPER = {"committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}


@pytest.fixture
def b(tmp_path: Path) -> Branch:
    branch = Branch(tmp_path)
    branch.ok(
        "open",
        branch.db,
        "--procedure",
        branch.procedure,
        "--town-key",
        branch.town_pub,
        "--key",
        branch.wg,
    )
    return branch


def _print(b: Branch, post: str, count: int, name: str) -> Path:
    """A members' stock of round 1 printed to ``name``.pdf; its sealed list."""
    out = b.folder / f"{name}.pdf"
    r = run(
        "procedure",
        "print",
        b.procedure,
        "--town-key",
        b.town_pub,
        "--key",
        b.wg,
        "--form",
        "member",
        "--post",
        post,
        "--round",
        "1",
        "--count",
        str(count),
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    return out.with_suffix(".stock.json")


def _qrs(b: Branch, listed: Path, post: str) -> list[str]:
    """The printed QR texts of a list (Ed25519 is deterministic)."""
    return [
        encode_procedure_qr_text(
            sign_procedure_payload(
                procedure_id=b.procedure_id,
                form=ProcedureForm.MEMBER,
                post=_PAPER[post],
                round_number=1,
                ballot_id=bytes.fromhex(i),
                signer=b.signer,
            )
        )
        for i in json.loads(listed.read_bytes())["ballot_ids"]
    ]


def _present(b: Branch) -> list[str]:
    excluded = {e["member"] for e in b.doc["exclusions"]}
    return [m["id"] for m in b.doc["members"] if m["id"] not in excluded][:20]


def test_supplementary_stock_is_committed_as_the_next_part_with_its_refusals(b: Branch) -> None:
    first = _print(b, "committee", 3, "committee-1")
    b.ok("stock", b.db, first, "--key", b.wg)
    more = _print(b, "committee", 2, "committee-1-more")

    # a second print without --supplement is refused, and the refusal names the option
    b.refused("stock.twice", "stock", b.db, more, "--key", b.wg)
    assert "--supplement" in run("procedure", "stock", b.db, more, "--key", b.wg).output

    data = b.ok("stock", b.db, more, "--key", b.wg, "--supplement")
    assert data["part"] == 2
    assert (
        "stock-supplement member committee 1 3"
        in run(
            "procedure",
            "stock",
            b.db,
            _print(b, "committee", 1, "c3"),
            "--key",
            b.wg,
            "--supplement",
            "--lang",
            "en",
        ).output
    )

    # the same list again: its ids are the round's already
    b.refused("stock.supplement_overlap", "stock", b.db, more, "--key", b.wg, "--supplement")
    # a supplement for a round without its first stock
    secretary = _print(b, "secretary", 2, "secretary-1-more")
    b.refused("stock.supplement_first", "stock", b.db, secretary, "--key", b.wg, "--supplement")
    # not a stock list at all
    junk = b.folder / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    b.refused("stock.list", "stock", b.db, junk, "--key", b.wg, "--supplement")

    # after the ballots are issued, no supplement
    b.session("member", _present(b))
    where = ["--form", "member", "--post", "committee"]
    b.ok("issue", b.db, *where, "--key", b.wg)
    late = _print(b, "committee", 2, "committee-1-late")
    b.refused("stock.supplement_late", "stock", b.db, late, "--key", b.wg, "--supplement")

    # a ballot of the supplementary part is entered as the round's; one declared invalid
    b.ok("return", b.db, *where, "--count", "2", "--key", b.wg)
    b.ok("enter", b.db, *where, "--qr", _qrs(b, more, "committee")[0], "--key", b.wg)
    scrutineer = b.scrutineers[0][0]
    qr = _qrs(b, first, "committee")[0]
    invalid = ["--qr", qr, "--invalid", "unreadable"]
    b.refused("invalid.no_confirmation", "enter", b.db, *where, *invalid, "--key", b.wg)
    b.refused(
        "keys.wrong_role", "enter", b.db, *where, *invalid, "--scrutineer-key", b.wg, "--key", b.wg
    )
    outsider, _ = make_key(b.folder, keys.Role.SCRUTINEER, "外人", "outsider")
    b.refused(
        "procedure.scrutineer_key",
        "enter",
        b.db,
        *where,
        *invalid,
        "--scrutineer-key",
        outsider,
        "--key",
        b.wg,
    )
    data = b.ok("enter", b.db, *where, *invalid, "--scrutineer-key", scrutineer, "--key", b.wg)
    assert data["type"] == "ballot.declared_invalid"
    counted = b.ok("count", b.db, *where, "--key", b.wg)
    assert (counted["count"]["valid_ballots"], counted["count"]["invalid_ballots"]) == (1, 1)


def test_rp_3_2_members_session_without_its_scrutineers_is_refused(b: Branch) -> None:
    scrutineers = set(b.doc["officials"]["scrutineers"])
    excluded = {e["member"] for e in b.doc["exclusions"]}
    absent = [m["id"] for m in b.doc["members"] if m["id"] not in excluded | scrutineers][:20]
    args = [a for m in absent for a in ("--member", m)]
    b.refused("official.not_present", "session", b.db, "--group", "member", *args, "--key", b.wg)
    b.session("member", _present(b))


def test_serve_refuses_a_key_file_not_of_the_procedures_scrutineers(b: Branch) -> None:
    """`tally procedure serve --scrutineer-key` checks each file at start-up (it never starts)."""
    outsider, _ = make_key(b.folder, keys.Role.SCRUTINEER, "外人", "outsider")
    for bad in (b.wg, outsider):
        r = run("procedure", "serve", b.db, "--scrutineer-key", bad, "--data", b.folder / "svc")
        assert r.exit_code == 1, r.output
        assert "不是本换届程序定义中的监票人密钥" in r.output
