"""Remote write-ins are choices over the post's write-in list (spec/remote-v2.md RV-2.1), added up
encrypted and decrypted only as totals: a write-in approved on two remote ballots counts twice in
the round (RV-7.1), and the verifier's recount agrees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ballot_printer
import keys
from tally.calendar import load_calendar
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.publish import publish
from tally.remote_device import vote_as_device_v2
from tally.session_config import SessionConfig
from verifier.checks import TownKey, verify_bundle
from verifier.crypto import fingerprint
from verifier.report import render_text

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M020", "M025"]
PAPER = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def test_remote_write_ins_from_the_list_count_as_totals_and_the_bundle_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", "typed write-ins passphrase")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(s) for s in scs)
    )
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase="typed write-ins passphrase"),
        sign_manifest(manifest, town),
        wg,
    )
    assert s.manifest.election.member("M008").name == "杨丽"  # not a candidate, not an official
    data = tmp_path / "svc"
    s.remote.open(signer=wg, k=2, data_dir=data)
    chosen = {
        "M020": {"committee": ["M001", "M002", "M008"], "secretary": ["M005"]},
        "M025": {"committee": ["M001", "M008"], "secretary": ["M005"]},
    }
    for member in APPROVED:
        code = s.remote.issue_invitation(member, data_dir=data)[0]
        vote = vote_as_device_v2(s, code, chosen[member], data_dir=data)
        committee_list = next(w for w in vote.write_in_lists if w["post"] == "committee")
        assert {"member": "M008", "name": "杨丽"} in committee_list["members"]
    s.remote.close(signer=wg)
    s.check_in(PAPER)
    s.remote.decrypt(scs[0], signer=None, data_dir=data)
    s.remote.decrypt(scs[1], signer=wg, data_dir=data)

    def paper_round(kind: ballot_printer.PaperKind, paper_marks: str) -> dict[str, Any]:
        spec = s.due_round()
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=kind,
            round_number=spec.number,
            count=len(PAPER),
            signer=wg,
        )
        s.commit_stock(stock, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(PAPER), signer=wg)
        s.enter(
            [
                EntryInput(qr=ballot_printer.encode_qr_text(p), marks=paper_marks)
                for p in stock.payloads
            ]
        )
        return dict(s.close(signer=wg).body)

    committee = paper_round(ballot_printer.PaperKind.COMMITTEE, "ooooox")
    approvals = {a["member"]: a["approvals"] for a in committee["approvals"]}
    assert committee["remote_ballots"] == 2
    assert committee["valid_ballots"] == len(PAPER) + 2
    assert approvals["M008"] == 2  # 杨丽, from the write-in list on both remote ballots
    paper_round(ballot_printer.PaperKind.SECRETARY, "ox")
    s.record_result(signer=wg, calendar=load_calendar(None))
    for sc in scs:
        s.cosign(sc)
    publish(s, tmp_path / "out", notice=False)
    report = verify_bundle(
        tmp_path / "out" / "bundle", TownKey(fingerprint=fingerprint(town.public_key.key)), jobs=1
    )
    assert report.ok, render_text(report, "en")
    # RM-10.3: the verifier recomputes the check code every genuine invitation printed, from the
    # summary the town signed (its own derivation) and the logged remote.opened entry.
    assert report.check_code == s.remote.invitation_pin()
    assert s.remote.invitation_pin() in render_text(report)
