"""The town casework file (tally/casework_store.py): a failed operation changes no stored data,
a replayed submission is refused, photos are stored by hash, the log reopens to the same ledger,
checkpoints are signed by the casework key, and the public export holds no identity or text."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keys
from tally.casework_store import (
    CHECKPOINT_DOMAIN,
    CaseworkStore,
    parse_signed_casework,
    sign_casework,
)
from tally.core.casework import (
    CaseSource,
    CaseworkError,
    Channel,
    Finding,
    appointment_objections,
    assign,
    check,
    conclude,
    lodge_objection,
    register_reporter,
    submit_report,
)
from tally.store import StoreError
from tests.helpers.casework import CALENDAR, SERVICE, TOWN, at, counter_random, document, png

ELECTED = frozenset({"M001"})


def _new(path: Path) -> CaseworkStore:
    signed, _ = sign_casework(document(), TOWN)
    return CaseworkStore.create(
        path,
        signed_casework=signed,
        casework_signer=SERVICE,
        at=at("2026-09-28 09:00"),
        random=counter_random(),
    )


@pytest.fixture
def store(tmp_path: Path) -> CaseworkStore:
    s = _new(tmp_path / "town.casework")
    when = at("2026-09-28 09:30")
    step = register_reporter(
        s.ledger,
        at=when,
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="13800000000",
    )
    s.register(step, at=when, actor="head", random=counter_random())
    return s


def _snapshot(path: Path) -> dict[str, list[Any]]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in (
                "log",
                "checkpoints",
                "checkpoint_signatures",
                "photos",
                "codes",
                "submissions",
            )
        }
    finally:
        conn.close()


def _report_step(s: CaseworkStore, what: str = "村口发烟拉票", photos: tuple[Any, ...] = ()) -> Any:
    return submit_report(
        s.ledger,
        at=at("2026-09-30 10:00"),
        calendar=CALENDAR,
        reporter="R1",
        what=what,
        photos=photos,
    )


def _objection_step(s: CaseworkStore, what: str = "代填选票", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "at": at("2026-09-30 10:00"),
        "calendar": CALENDAR,
        "branch": "B01",
        "channel": Channel.FORM,
        "about": "M001",
        "what": what,
        "objector_name": "张三",
        "objector_contact": "13900000000",
        "publicity_end": date(2026, 10, 13),
        "elected": ELECTED,
    }
    args.update(kw)
    return lodge_objection(s.ledger, **args)


def test_a_refused_operation_changes_no_stored_data(store: CaseworkStore) -> None:
    before = _snapshot(store.path)
    ledger = store.ledger
    with pytest.raises(CaseworkError):
        store.perform(
            _objection_step(store, "  "),
            at=at("2026-09-30 10:00"),
            actor="public",
            random=counter_random(),
        )
    with pytest.raises(CaseworkError):
        store.perform(
            _report_step(store, photos=(png(10, 10), png(10, 10, pad=6 * 1024 * 1024))),
            at=at("2026-09-30 10:00"),
            actor="reporter:R1",
            random=counter_random(),
        )
    assert _snapshot(store.path) == before
    assert store.ledger is ledger


def test_a_write_that_fails_midway_stores_nothing(store: CaseworkStore) -> None:
    """The entry, its photos and its token land together or not at all."""
    conn = sqlite3.connect(store.path)
    conn.execute(
        "CREATE TRIGGER fail_photo BEFORE INSERT ON photos BEGIN SELECT RAISE(ABORT, 'disk'); END"
    )
    conn.commit()
    conn.close()
    before = _snapshot(store.path)
    ledger = store.ledger
    step = _report_step(store, photos=(png(3, 3),))
    with pytest.raises(sqlite3.IntegrityError):
        store.perform(
            step,
            at=at("2026-09-30 10:00"),
            actor="reporter:R1",
            random=counter_random(),
            submission="tok-1",
        )
    assert _snapshot(store.path) == before
    assert store.ledger is ledger
    reopened = CaseworkStore.open(store.path)
    assert reopened.ledger.size == ledger.size


def test_a_replayed_submission_is_refused_and_stores_nothing(store: CaseworkStore) -> None:
    step = _objection_step(store)
    _, code = store.lodge(
        step,
        at=at("2026-09-30 10:00"),
        actor="public",
        random=counter_random(),
        submission="form-token-7",
    )
    assert code
    before = _snapshot(store.path)
    again = _objection_step(store)
    with pytest.raises(CaseworkError) as e:
        store.lodge(
            again,
            at=at("2026-09-30 10:00"),
            actor="public",
            random=counter_random(),
            submission="form-token-7",
        )
    assert e.value.code == "case.replayed"
    assert "YY-2026-00001" in e.value.en
    assert _snapshot(store.path) == before


def test_the_check_code_is_kept_only_as_a_salted_hash(store: CaseworkStore) -> None:
    step = _objection_step(store)
    _, code = store.lodge(step, at=at("2026-09-30 10:00"), actor="public", random=counter_random())
    ref = step.body["reference"]
    assert store.verify_code(f"check:{ref}", code)
    assert store.verify_code(f"check:{ref}", code.lower().replace("-", ""))
    assert not store.verify_code(f"check:{ref}", "0000-0000")
    raw = store.path.read_bytes() + Path(str(store.path) + "-wal").read_bytes()
    assert code.encode() not in raw
    assert code.replace("-", "").encode() not in raw
    assert all(code not in r.decode() for r in store.log_rows())


def test_an_in_person_objection_gets_no_check_code(store: CaseworkStore) -> None:
    step = _objection_step(store, channel=Channel.IN_PERSON)
    _, code = store.lodge(
        step, at=at("2026-09-30 10:00"), actor="clerk-B01", random=counter_random()
    )
    assert code == ""


def test_photos_are_stored_by_hash_as_received(store: CaseworkStore) -> None:
    data = png(40, 30, pad=100)
    store.perform(
        _report_step(store, photos=(data, data)),
        at=at("2026-09-30 10:00"),
        actor="reporter:R1",
        random=counter_random(),
    )
    sha = hashlib.sha256(data).hexdigest()
    assert store.photo(sha) == data
    files = {f.path: f.data for f in store.bundle_files()}
    assert [p for p in files if p.startswith("photos/")] == [f"photos/{sha}.png"]


def test_the_log_reopens_to_the_same_ledger(store: CaseworkStore) -> None:
    step = _objection_step(store)
    store.lodge(step, at=at("2026-09-30 10:00"), actor="public", random=counter_random())
    ref = step.body["reference"]
    store.perform(
        assign(store.ledger, at=at("2026-09-30 11:00"), reference=ref, assignee="o1"),
        at=at("2026-09-30 11:00"),
        actor="head",
        random=counter_random(),
    )
    store.perform(
        conclude(
            store.ledger,
            at=at("2026-09-30 12:00"),
            reference=ref,
            actor="o1",
            finding=Finding.UNSUBSTANTIATED,
            summary="不属实",
        ),
        at=at("2026-09-30 12:00"),
        actor="o1",
        random=counter_random(),
    )
    reopened = CaseworkStore.open(store.path)
    assert reopened.ledger == store.ledger


def test_a_tampered_log_does_not_open(store: CaseworkStore) -> None:
    store.lodge(
        _objection_step(store), at=at("2026-09-30 10:00"), actor="public", random=counter_random()
    )
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = 1").fetchone()[0]
    conn.execute(
        "UPDATE log SET raw = ? WHERE seq = 1", (raw.replace("李四".encode(), "王五".encode()),)
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as e:
        CaseworkStore.open(store.path)
    assert e.value.code == "store.corrupt"


def test_a_log_entry_with_no_canonical_form_is_a_corrupt_file_not_a_crash(
    store: CaseworkStore,
) -> None:
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = 0").fetchone()[0]
    conn.execute(
        "UPDATE log SET raw = ? WHERE seq = 0",
        (raw.replace(b'"seq":0', b'"seq":99999999999999999999'),),
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as e:
        CaseworkStore.open(store.path)
    assert e.value.code == "store.corrupt"
    assert "not canonical JSON" in e.value.en


def test_history_tables_refuse_update_and_delete(store: CaseworkStore) -> None:
    conn = sqlite3.connect(store.path)
    for sql in ("UPDATE log SET type = 'x'", "DELETE FROM log", "DELETE FROM checkpoints"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_a_new_file_has_its_opened_checkpoint_over_entry_0(tmp_path: Path) -> None:
    s = _new(tmp_path / "town.casework")
    [(size, text)] = s.checkpoint_texts()
    body, line = text.split("\n\n")
    assert size == 1
    assert body.split("\n")[1:] == ["1", base64.b64encode(s.head()[1]).decode(), "opened"]
    keys.verify(
        SERVICE.public_key,
        CHECKPOINT_DOMAIN,
        (body + "\n").encode(),
        base64.b64decode(line.split(" ")[2])[4:],
    )


def test_checkpoints_are_signed_by_the_casework_key_over_the_tree(store: CaseworkStore) -> None:
    text = store.checkpoint("day 2026-09-28", SERVICE)
    body, line = text.split("\n\n")
    origin, size, root_b64, reason = body.split("\n")
    assert origin == f"branch-casework/{store.casework.id.hex()}"
    assert (int(size), reason) == (2, "day 2026-09-28")
    leaves = [hashlib.sha256(b"\x00" + r).digest() for r in store.log_rows()]
    assert base64.b64decode(root_b64) == hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    sig = base64.b64decode(line.split(" ")[2])[4:]
    keys.verify(SERVICE.public_key, CHECKPOINT_DOMAIN, (body + "\n").encode(), sig)
    with pytest.raises(CaseworkError):
        store.checkpoint("day 2026-09-29", TOWN)


def test_the_store_refuses_a_definition_not_signed_by_the_town(tmp_path: Path) -> None:
    signed, _ = sign_casework(document(), TOWN)
    doc = json.loads(signed)
    doc["casework"]["town"] = "别的镇"
    with pytest.raises(CaseworkError) as e:
        parse_signed_casework(json.dumps(doc).encode())
    assert e.value.code == "casework.not_signed"
    with pytest.raises(CaseworkError):
        sign_casework(document(), SERVICE)


def test_a_new_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "town.casework"
    _new(path)
    with pytest.raises(StoreError) as e:
        _new(path)
    assert e.value.code == "store.exists"


def test_the_bundle_index_lists_every_file_with_its_hash(store: CaseworkStore) -> None:
    files = store.bundle_files()
    index = json.loads(files[0].data)
    assert index["format"] == "casework-bundle-index/1"
    assert index["entries"] == 2
    assert [f["path"] for f in index["files"]] == ["casework.json", "log.jsonl", "checkpoints.json"]
    for item, f in zip(index["files"], files[1:], strict=True):
        assert item["sha256"] == hashlib.sha256(f.data).hexdigest()


_MARK = st.text(alphabet="甲乙丙丁戊己庚辛壬癸子丑寅卯", min_size=6, max_size=12)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=_MARK,
    contact=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    what=_MARK,
    where=_MARK,
    note=_MARK,
    summary=_MARK,
)
def test_the_public_export_holds_no_identity_or_text(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    contact: str,
    what: str,
    where: str,
    note: str,
    summary: str,
) -> None:
    """RP-12.4: whatever objectors and reporters write, none of it, and no identity, is public."""
    s = _new(tmp_path_factory.mktemp("cw") / "town.casework")
    when = at("2026-09-28 09:30")
    s.register(
        register_reporter(
            s.ledger, at=when, reporter="R7", branch="B02", group="G1", name=name, phone=contact
        ),
        at=when,
        actor="head",
        random=counter_random(),
    )
    s.lodge(
        _objection_step(s, what, objector_name=name, objector_contact=contact),
        at=at("2026-09-30 10:00"),
        actor="public",
        random=counter_random(),
    )
    step = submit_report(
        s.ledger,
        at=at("2026-09-30 10:00"),
        calendar=CALENDAR,
        reporter="R7",
        what=what,
        where=where,
        branch="B01",
    )
    ref = step.body["reference"]
    s.perform(step, at=at("2026-09-30 10:00"), actor="reporter:R7", random=counter_random())
    s.perform(
        assign(s.ledger, at=at("2026-09-30 11:00"), reference=ref, assignee="o1"),
        at=at("2026-09-30 11:00"),
        actor="head",
        random=counter_random(),
    )
    s.perform(
        check(s.ledger, at=at("2026-09-30 11:30"), reference=ref, actor="o1", note=note),
        at=at("2026-09-30 11:30"),
        actor="o1",
        random=counter_random(),
    )
    s.perform(
        conclude(
            s.ledger,
            at=at("2026-09-30 12:00"),
            reference=ref,
            actor="o1",
            finding=Finding.SUBSTANTIATED,
            summary=summary,
        ),
        at=at("2026-09-30 12:00"),
        actor="o1",
        random=counter_random(),
    )
    public = s.public_document()
    text = public.decode()
    for secret in (name, contact, what, where, note, summary, "R7", "B01", "B02", ref, "YY-2026"):
        assert secret not in text
    doc = json.loads(public)
    assert set(doc) == {"format", "town", "reports"}
    assert doc["reports"]["received"] == 1
    assert doc["reports"]["concluded"] == 1
    assert {"finding": "substantiated", "count": 1} in doc["reports"]["by_finding"]
    s.close()


def test_the_store_is_the_appointments_case_source(store: CaseworkStore) -> None:
    """RP-10.2: the town's appointment reads the open objections through ``CaseSource``."""
    source: CaseSource = store
    assert appointment_objections(source.ledger, "B01") == []
    store.lodge(
        _objection_step(store), at=at("2026-09-30 10:00"), actor="public", random=counter_random()
    )
    with pytest.raises(CaseworkError) as e:
        appointment_objections(source.ledger, "B01")
    assert e.value.code == "appointment.objection_open"
    size, root = store.head()
    assert size == 3
    assert len(root) == 32


def test_a_handle_that_another_process_overtook_writes_nothing(store: CaseworkStore) -> None:
    other = CaseworkStore.open(store.path)
    other.lodge(
        _objection_step(other), at=at("2026-09-30 10:00"), actor="public", random=counter_random()
    )
    before = _snapshot(store.path)
    with pytest.raises(StoreError) as e:
        store.lodge(
            _objection_step(store),
            at=at("2026-09-30 10:01"),
            actor="public",
            random=counter_random(),
        )
    assert e.value.code == "store.stale"
    assert _snapshot(store.path) == before
    with pytest.raises(StoreError):
        store.checkpoint("day 2026-09-30", SERVICE)
    assert CaseworkStore.open(store.path).ledger == other.ledger


def test_a_report_about_another_branch_is_stored_and_marked_in_the_log(
    store: CaseworkStore,
) -> None:
    """RP-9.5: allowed, recorded with own_branch "no", and handled like any other case."""
    step = submit_report(
        store.ledger,
        at=at("2026-09-30 10:00"),
        calendar=CALENDAR,
        reporter="R1",
        what="邻村拉票",
        branch="B02",
    )
    assert [n.code for n in step.notes] == ["report.other_branch"]
    store.perform(step, at=at("2026-09-30 10:00"), actor="reporter:R1", random=counter_random())
    body = json.loads(store.log_rows()[-1])["body"]
    assert (body["branch"], body["own_branch"], body["reporter"]) == ("B02", "no", "R1")
    assert CaseworkStore.open(store.path).ledger.cases[body["reference"]].branch == "B02"
