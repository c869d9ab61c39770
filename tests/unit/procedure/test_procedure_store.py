"""The branch procedure file (spec/procedure.md RP-1.1, RP-11.2, RP-3.5, RP-3.6, RP-3.8): the
checks the core cannot make, the checkpoints and their co-signatures, and that a refused or failed
operation changes no stored data."""

from __future__ import annotations

import base64
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import keys
import tally.procedure_store as module
from bilingual import BilingualError
from tally.core.model import PostKind
from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import count_body
from tally.log.checkpoint import signer_name
from tally.procedure_store import INVALID_DOMAIN, ProcedureStore, invalid_decision_message
from tally.store import StoreError
from tests.helpers.procedure import OTHER_TOWN, SCRUTINEERS, TOWN, WORK_GROUP, signer
from tests.helpers.procedure_log import StoreDriver, marks


@pytest.fixture
def d(tmp_path: Path) -> StoreDriver:
    return StoreDriver(tmp_path / "qingshan.procedure.sqlite")


def stored(d: StoreDriver) -> tuple[list[bytes], list[tuple[int, str]], list[tuple[str, bytes]]]:
    """Everything the file holds, read afresh from disk."""
    again = ProcedureStore.open(d.store.path)
    try:
        return again.log_rows(), again.checkpoint_texts(), again.stock_lists()
    finally:
        again.close()


def refused(d: StoreDriver, code: str, type_: str, body: dict[str, Any], **kw: Any) -> None:
    before = stored(d)
    ledger = d.store.ledger
    head = d.store.head()
    with pytest.raises(BilingualError) as info:
        d.append(type_, body, **kw)
    assert info.value.code == code, info.value.en
    assert stored(d) == before
    assert d.store.ledger is ledger
    assert d.store.head() == head


def open_member_session(d: StoreDriver, present: int = 20) -> None:
    d.stock(Form.MEMBER, "committee", 1, present)
    d.stock(Form.MEMBER, "secretary", 1, present)
    d.append(
        "recommendation.opened",
        {
            "group": "member",
            "round": 1,
            "posts": ["committee", "secretary"],
            "present": present,
            "present_members": list(d.procedure.expected_electors[:present]),
        },
    )
    for type_ in ("ballots.issued", "ballots.returned"):
        d.append(type_, {"form": "member", "post": "committee", "round": 1, "count": present})


def entered(d: StoreDriver, index: int, **change: Any) -> dict[str, Any]:
    ballot_id, qr = d.ballot(Form.MEMBER, "committee", 1, index)
    body = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ballot_id,
        "qr": qr,
        "marks": marks(d.procedure, d.procedure.ballot_order[:3]),
        "written": [],
    }
    return body | change


def test_new_file_holds_entry_zero_and_the_opened_checkpoint_signed_by_the_work_group(
    d: StoreDriver,
) -> None:
    rows, checkpoints, _ = stored(d)
    assert len(rows) == 1
    size, text = checkpoints[0]
    assert size == 1
    lines = text.splitlines()
    assert lines[0] == f"branch-procedure/{d.store.procedure_id.hex()}"
    assert lines[3] == "opened"
    assert signer_name(WORK_GROUP.public_key) in lines[-1]


def test_create_refuses_another_town_key_another_work_group_key_and_an_existing_file(
    d: StoreDriver, tmp_path: Path
) -> None:
    kw: dict[str, Any] = {"at": d.now(), "actor": "", "random": d.random}
    with pytest.raises(BilingualError) as info:
        ProcedureStore.create(
            tmp_path / "a",
            signed_procedure=d.signed,
            trust_root=OTHER_TOWN.public_key,
            work_group=WORK_GROUP,
            **kw,
        )
    assert info.value.code == "procedure.town_key"
    other_wg = signer(keys.Role.WORK_GROUP, "邻村工作组", 9)
    with pytest.raises(BilingualError) as info:
        ProcedureStore.create(
            tmp_path / "b",
            signed_procedure=d.signed,
            trust_root=TOWN.public_key,
            work_group=other_wg,
            **kw,
        )
    assert info.value.code == "procedure.work_group_key"
    with pytest.raises(StoreError) as info:
        ProcedureStore.create(
            d.store.path,
            signed_procedure=d.signed,
            trust_root=TOWN.public_key,
            work_group=WORK_GROUP,
            **kw,
        )
    assert info.value.code == "store.exists"
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_stock_entry_needs_its_sealed_list_with_a_matching_commitment(d: StoreDriver) -> None:
    sealed = d.stock(Form.MEMBER, "committee", 1, 5)
    assert stored(d)[2] == [("member-committee-1", sealed)]
    other = d.stock(Form.MEMBER, "secretary", 1, 5)
    body = {"form": "member", "post": "committee", "round": 2, "count": 5, "commitment": "00" * 32}
    refused(d, "stock.list", "stock.committed", body, stock_list=other)
    refused(d, "stock.list", "stock.committed", body)


def test_ballot_qr_of_another_round_or_procedure_or_a_forged_id_is_refused(
    d: StoreDriver, tmp_path: Path
) -> None:
    open_member_session(d)
    _, secretary_qr = d.ballot(Form.MEMBER, "secretary", 1, 0)
    refused(d, "pqr.wrong_form", "recommendation.entered", entered(d, 0, qr=secretary_qr))
    # Another branch's procedure (here: the same roster with a longer publicity).
    other_procedure = dataclasses.replace(d.procedure, publicity_working_days=6)
    other = StoreDriver(tmp_path / "other.sqlite", other_procedure)
    other.stock(Form.MEMBER, "committee", 1, 3)
    _, foreign = other.ballot(Form.MEMBER, "committee", 1, 0)
    refused(d, "pqr.wrong_procedure", "recommendation.entered", entered(d, 0, qr=foreign))
    second_id, _ = d.ballot(Form.MEMBER, "committee", 1, 1)
    refused(d, "ballot.id_differs", "recommendation.entered", entered(d, 0, ballot_id=second_id))
    refused(d, "pqr.bad_encoding", "recommendation.entered", entered(d, 0, qr="hello"))
    d.append("recommendation.entered", entered(d, 0))
    refused(d, "ballot.replayed", "recommendation.entered", entered(d, 0))


def test_round_closed_checkpoint_is_co_signed_by_every_procedure_scrutineer(
    d: StoreDriver,
) -> None:
    open_member_session(d, present=14)
    for i in range(14):
        d.append("recommendation.entered", entered(d, i))
    _, text = d.append(
        "recommendation.counted", count_body(d.store.ledger, Form.MEMBER, PostKind.COMMITTEE)
    )
    assert text is not None
    assert text.splitlines()[3] == "round-closed member committee 1"
    assert [r for r, _ in d.store.missing_cosigners()] == ["round-closed member committee 1"]
    with pytest.raises(BilingualError) as info:
        d.store.cosign(WORK_GROUP)
    assert info.value.code == "procedure.scrutineer_key"
    assert d.store.cosign(SCRUTINEERS[0]) == ["round-closed member committee 1"]
    assert d.store.cosign(SCRUTINEERS[0]) == []
    d.store.cosign(SCRUTINEERS[1])
    assert d.store.missing_cosigners() == []
    last = stored(d)[1][-1][1]
    assert all(signer_name(s.public_key) in last for s in (WORK_GROUP, *SCRUTINEERS))


def test_ballot_declared_invalid_needs_a_procedure_scrutineers_confirmation(
    d: StoreDriver,
) -> None:
    open_member_session(d)
    ballot_id, qr = d.ballot(Form.MEMBER, "committee", 1, 0)
    body: dict[str, Any] = {
        "form": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ballot_id,
        "qr": qr,
        "reason": "identifying_marks",
        "scrutineer": signer_name(SCRUTINEERS[0].public_key),
    }
    seq = d.store.ledger.size
    message = invalid_decision_message(d.store.procedure_id, seq, body)
    forged = base64.b64encode(WORK_GROUP.sign(INVALID_DOMAIN, message)).decode()
    refused(d, "invalid.confirmation", "ballot.declared_invalid", body | {"signature": forged})
    good = base64.b64encode(SCRUTINEERS[0].sign(INVALID_DOMAIN, message)).decode()
    d.append("ballot.declared_invalid", body | {"signature": good})
    assert len(ProcedureStore.open(d.store.path).ledger.used_ids) == 1


def test_write_that_fails_inside_the_transaction_leaves_the_file_and_the_handle_as_they_were(
    d: StoreDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: Any, **_k: Any) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(module, "insert_checkpoint", broken)
    before = stored(d)
    head = d.store.head()
    with pytest.raises(sqlite3.OperationalError):
        d.stock(Form.MEMBER, "committee", 1, 3)  # its checkpoint fails after the log row
    assert stored(d) == before
    assert d.store.head() == head
    monkeypatch.undo()
    d.stock(Form.MEMBER, "committee", 1, 3)
    assert len(stored(d)[0]) == 2


def test_second_handle_that_did_not_see_the_last_write_writes_nothing(d: StoreDriver) -> None:
    stale = ProcedureStore.open(d.store.path)
    d.stock(Form.MEMBER, "committee", 1, 3)
    with pytest.raises(StoreError) as info:
        stale.append(
            "officials.changed",
            {"scrutineers": ["M009"], "tellers": ["M011"]},
            at=d.now(),
            actor="",
            work_group=WORK_GROUP,
            random=d.random,
        )
    assert info.value.code == "store.stale"
    assert len(stored(d)[0]) == 2


@pytest.mark.parametrize("last", [False, True], ids=["chained-entry", "checkpointed-entry"])
def test_entry_edited_outside_the_program_stops_the_file(d: StoreDriver, last: bool) -> None:
    """An edited entry breaks the chain of the next, or the checkpoint that covers it."""
    d.append("officials.changed", {"scrutineers": ["M009"], "tellers": ["M011"]})
    d.stock(Form.MEMBER, "committee", 1, 3)
    seq, old, new = (2, "计票人", "组长") if last else (1, "M011", "M012")
    conn = sqlite3.connect(d.store.path)
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = ?", (seq,)).fetchone()[0]
    edited = raw.replace(old.encode(), new.encode())
    assert edited != raw
    conn.execute("UPDATE log SET raw = ? WHERE seq = ?", (edited, seq))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        ProcedureStore.open(d.store.path)
    assert info.value.code == "store.tampered"


def test_a_damaged_file_is_refused_with_its_connection_closed(
    d: StoreDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that retries a damaged file (the casework pages' publicity reader) leaks nothing."""
    d.append("officials.changed", {"scrutineers": ["M009"], "tellers": ["M011"]})
    d.stock(Form.MEMBER, "committee", 1, 3)  # the entry after the edited one: its chain breaks
    conn = sqlite3.connect(d.store.path)
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = 1").fetchone()[0]
    conn.execute("UPDATE log SET raw = ? WHERE seq = 1", (raw.replace(b"M011", b"M012"),))
    conn.commit()
    conn.close()
    opened: list[sqlite3.Connection] = []
    real_open_file = module.open_file

    def recording_open_file(*args: object, **kwargs: object) -> object:
        result = real_open_file(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(result[0])
        return result

    monkeypatch.setattr(module, "open_file", recording_open_file)
    with pytest.raises(StoreError) as info:
        ProcedureStore.open(d.store.path)
    assert info.value.code == "store.tampered"
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError):  # "Cannot operate on a closed database."
        opened[0].execute("SELECT 1")
