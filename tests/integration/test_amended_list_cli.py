"""The town-signed amended candidate list through the CLI (spec/rules.md RS7, spec/log.md §2.1):
`amend-request` (work group), `amend-sign` (town committee), `amend-candidates` (work group).
Every refusal names its reason in Chinese (and English) and stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import keys
from tally.election import ElectionSession
from tests.helpers.cli_election import Election, checked_in, make_key
from tests.helpers.elections import ballots_for


def _log_size(e: Election) -> int:
    return ElectionSession.open(e.db).meeting.size


def test_amended_list_needs_the_manifest_town_key_signature_and_a_blocked_round_RS7(
    tmp_path: Path,
) -> None:
    e = checked_in(tmp_path)
    # Before the committee round: the manifest fixes the first-round lists.
    early = e.fails(
        "amend-request",
        str(e.db),
        "--kind",
        "secretary",
        "M004",
        "M002",
        "--approval",
        "红组〔2026〕40号",
        "--out",
        str(tmp_path / "early.json"),
    )
    assert "以镇党委签署的选举清单为准" in early and not (tmp_path / "early.json").exists()
    marks = ["".join(m.value for m in b.marks) for b in ballots_for([20, 18, 16, 15, 5, 14], 23, 5)]
    assert "M005" not in e.vote("committee", 1, marks)["elected"]  # the secretary round is blocked

    request = tmp_path / "request.json"
    e.ok(
        "amend-request",
        str(e.db),
        "--kind",
        "secretary",
        "M004",
        "M002",
        "--approval",
        "红组〔2026〕40号",
        "--out",
        str(request),
    )
    doc = json.loads(request.read_bytes())
    assert (doc["format"], doc["post"], doc["round"]) == ("amended-list/1", "secretary", 1)
    size = _log_size(e)

    # Signed by another town's key: refused.
    other, _ = make_key(tmp_path, keys.Role.TOWN_COMMITTEE, "别的镇党委", "other-town")
    forged = tmp_path / "forged.sjson"
    e.ok("amend-sign", str(request), "--key", str(other), "--out", str(forged))
    out = e.fails("amend-candidates", str(e.db), str(forged))
    assert "不是本次选举清单中镇党委的签名" in out
    # Not the town's role at all: amend-sign refuses the work group key.
    wrong_role = e.fails(
        "amend-sign", str(request), "--key", str(e.wg), "--out", str(tmp_path / "x.sjson")
    )
    assert "镇党委" in wrong_role
    # Signed by the town, then altered (a candidate swapped in): refused.
    signed = tmp_path / "signed.sjson"
    e.ok("amend-sign", str(request), "--key", str(e.town), "--out", str(signed))
    altered = json.loads(signed.read_bytes())
    altered["list"]["candidates"] = ["M004", "M001"]
    tampered = tmp_path / "tampered.sjson"
    tampered.write_text(json.dumps(altered, ensure_ascii=False), encoding="utf-8")
    assert "签名后被改动" in e.fails("amend-candidates", str(e.db), str(tampered))
    assert _log_size(e) == size  # nothing stored by any refusal

    e.ok("amend-candidates", str(e.db), str(signed))
    assert _log_size(e) == size + 1
    # The same signed list cannot be recorded again: the round can open now.
    again = e.fails("amend-candidates", str(e.db), str(signed), "--lang", "en")
    assert "cannot be amended now" in again
    sec = e.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    assert sec["elected"] == ["M004"]
    e.finish()  # the verifier checks the town's signature again (V14)
