"""V6 and the entries' salts (spec/log.md §1.1): every entry carries 32 secret bytes as exactly 64
lowercase hex. A dishonest producer that leaves the salt out, shortens it, writes it in another
spelling or twice is caught; the chain and the checkpoints are computed over its bytes, so only V6
fails."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]
Edit = Callable[[int, bytes], bytes]
CHECK_IN = 1  # seq 1 of the scripted election: a member.checked_in
SALT = rb'"salt":"([0-9a-f]{64})",'


def _codes(report: Report) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


def _salt_of_check_in(new: Callable[[bytes], bytes]) -> Edit:
    """Entry 1's ``"salt":"<hex>",`` replaced by ``new(hex)``."""

    def edit(seq: int, raw: bytes) -> bytes:
        if seq != CHECK_IN:
            return raw
        assert b'"type":"member.checked_in"' in raw
        edited, n = re.subn(SALT, lambda m: new(m[1]), raw)
        assert n == 1
        return edited

    return edit


CASES: list[tuple[str, Edit, str]] = [
    ("missing", _salt_of_check_in(lambda _h: b""), "entry.salt_missing"),
    ("short-31-bytes", _salt_of_check_in(lambda h: b'"salt":"' + h[:62] + b'",'), "entry.salt"),
    ("long-64-bytes", _salt_of_check_in(lambda h: b'"salt":"' + h + h + b'",'), "entry.salt"),
    ("empty", _salt_of_check_in(lambda _h: b'"salt":"",'), "entry.salt"),
    ("not-a-string", _salt_of_check_in(lambda _h: b'"salt":7,'), "entry.salt"),
    # the same 32 bytes in a second spelling: not the one canonical form
    ("uppercase", _salt_of_check_in(lambda h: b'"salt":"' + h.upper() + b'",'), "entry.salt"),
]


@pytest.mark.parametrize(("name", "edit", "code"), CASES, ids=[c[0] for c in CASES])
def test_an_entry_without_a_valid_salt_is_a_V6_finding(
    run: Runner, name: str, edit: Edit, code: str
) -> None:
    report = run(B.build(raw_edit=edit))
    assert set(report.failed()) == {"V6"}, name
    assert ("V6", code) in _codes(report), _codes(report)


def test_a_salt_member_given_twice_is_a_V6_finding(run: Runner) -> None:
    twice = _salt_of_check_in(lambda h: (b'"salt":"' + h + b'",') * 2)
    report = run(B.build(raw_edit=twice))
    assert set(report.failed()) == {"V6"}
    findings = [f for c in report.clauses for f in c.findings if f.clause == "V6"]
    assert findings and all("salt" in f.en for f in findings), findings


def test_every_entry_of_a_valid_bundle_has_its_own_salt(good_files: dict[str, bytes]) -> None:
    salts = [e["salt"] for e in B.log_entries(good_files)]
    assert all(re.fullmatch("[0-9a-f]{64}", s) for s in salts)
    assert len(set(salts)) == len(salts)
