"""A12.12: every file `tally` reads refuses an unknown field (the definition's, the calendar's, the
key files' and the marks file's own tests cover those readers)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import keys
from keys import elgamal, remote_ballot
from tally.cli_day import _read_batch
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest, canonical
from tally.manifest_io import load_signed_manifest, sign_manifest
from tally.session_errors import SessionError
from tests.helpers.elections import definition_text

TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "红旗镇党委", b"\x01" * 32)
WG = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", b"\x02" * 32)
SC = keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "监票人", b"\x03" * 32)


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _signed(edit_manifest: Any = None) -> dict[str, Any]:
    manifest = build_manifest(
        parse_definition(definition_text(full=20)),
        work_group_key=_pub(WG),
        scrutineer_keys=(_pub(SC),),
    )
    doc: dict[str, Any] = json.loads(sign_manifest(manifest, TOWN))
    if edit_manifest is not None:
        edit_manifest(doc["manifest"])
        sig = TOWN.sign(b"branch-election/manifest/1", canonical(doc["manifest"]))
        doc["signature"] = base64.b64encode(sig).decode()
    return doc


def test_a_signed_manifest_reads_as_is() -> None:
    manifest, town = load_signed_manifest(canonical(_signed()), trust_root=TOWN.public_key)
    assert town.key == TOWN.public_key.key and manifest.election.members


@pytest.mark.parametrize(
    "where",
    ["signed-manifest", "manifest", "manifest.keys", "definition", "definition.members[0]"],
)
def test_a_manifest_with_an_unknown_member_is_refused_A12_12(where: str) -> None:
    def edit(m: dict[str, Any]) -> None:
        target = {
            "manifest": m,
            "manifest.keys": m["keys"],
            "definition": m["definition"],
            "definition.members[0]": m["definition"]["members"][0],
        }[where]
        target["note"] = "x"

    doc = _signed() if where == "signed-manifest" else _signed(edit)
    if where == "signed-manifest":
        doc["note"] = "x"
    with pytest.raises(SessionError):
        load_signed_manifest(canonical(doc), trust_root=TOWN.public_key)


def test_a_batch_line_with_an_unknown_field_is_refused_A12_12(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps({"qr": "X", "marks": "oo"})
        + "\n"
        + json.dumps({"qr": "Y", "marks": "oo", "teller": "张三"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.unknown_field"
    assert "第 2 行" in e.value.zh and "teller" in e.value.en


def test_a_batch_csv_row_with_an_extra_column_is_refused_A12_12(tmp_path: Path) -> None:
    path = tmp_path / "batch.csv"
    path.write_text("qr,marks,write_ins\nX,oo,\nY,oo,张三,extra\n", encoding="utf-8")
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.row" and "第 3 行" in e.value.zh
    path.write_text("qr,marks,write_ins\nX,oo,张三;李四\nY,oo\n", encoding="utf-8")
    assert [i.write_ins for i in _read_batch(path)] == [("张三", "李四"), ()]


def test_a_remote_ballot_with_an_unknown_member_is_refused_A12_12() -> None:
    key, _shares = elgamal.generate_threshold_key(k=1, n=1, rng=elgamal.SystemScalars())
    ctx = remote_ballot.BallotContext(
        election_id=bytes(32),
        key=key,
        posts=(
            remote_ballot.PostShape(
                post="secretary", listed=2, choices=2, seats=1, disapprovals=False
            ),
        ),
    )
    token = bytes(range(32))
    doc = remote_ballot.encrypt_ballot(ctx, token, [remote_ballot.PostChoice(approvals=(1, 0))])
    remote_ballot.check_ballot(ctx, doc, token=token)  # the ballot as made passes
    cases = [
        ({**doc, "x": 1}, "remote.ballot_invalid"),
        ({**doc, "posts": [{**doc["posts"][0], "x": 1}]}, "elgamal.encoding"),  # EG-8's shape
    ]
    for bad, code in cases:
        with pytest.raises(keys.KeysError) as e:
            remote_ballot.check_ballot(ctx, bad, token=token)
        assert e.value.code == code
