"""A stored casework entry is read through the shared log-entry envelope (tally.core.log_entry,
spec/log.md §1, spec/procedure.md RP-11.3), and every refusal keeps the casework log's own code,
clause and words: ``casework.malformed``, RP-11.3, one zh text and the en text of the first rule
broken (the members before the salt, the salt before the canonical form)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tally.core.casework import (
    CaseworkError,
    open_ledger,
    opening_step,
    parse_entry,
    record,
    replay,
)
from tally.core.log_entry import entry_bytes
from tally.core.manifest import canonical
from tests.helpers.casework import at, casework

SALT_HEX = "0" * 64


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "casework-entry/1",
        "seq": 0,
        "prev": "",
        "salt": SALT_HEX,
        "type": "x",
        "at": "",
        "actor": "",
        "body": {},
    }
    doc.update(changes)
    return doc


def _without(name: str, **changes: Any) -> bytes:
    return canonical({k: v for k, v in _doc(**changes).items() if k != name})


_NOT_JSON = "a casework entry is not JSON"
_MEMBERS = "a casework entry has the wrong members"
_SALT = "a casework entry has no valid salt"
_NOT_CANONICAL = "a casework entry is not canonical JSON"


@pytest.mark.parametrize(
    ("raw", "en"),
    [
        (b"not json", _NOT_JSON),
        (b"\xff\xfe", _NOT_JSON),
        (b"[]", _MEMBERS),
        (canonical(_doc(format="log-entry/1")), _MEMBERS),
        (canonical(_doc(format="procedure-entry/1")), _MEMBERS),
        (canonical({**_doc(), "extra": 1}), _MEMBERS),
        (_without("body"), _MEMBERS),
        # The members are checked before the salt: a missing or bad salt beside a wrong member
        # set is a wrong member set here (the election and procedure logs say log.salt).
        (_without("salt"), _MEMBERS),
        (canonical({**_doc(salt="ab"), "extra": 1}), _MEMBERS),
        (canonical(_doc(salt="ab")), _SALT),
        (canonical(_doc(salt="A" * 64)), _SALT),
        (canonical(_doc(salt=7)), _SALT),
        (canonical(_doc(salt=SALT_HEX + "\n")), _SALT),
        (canonical(_doc(body=[])), _NOT_CANONICAL),
        (canonical(_doc(body="x", salt="ab")), _SALT),
        (canonical(_doc()).replace(b'"seq":0', b'"seq": 0'), _NOT_CANONICAL),
        (canonical(_doc()).replace(b'"actor":"",', b"") + b" ", _MEMBERS),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "not-object",
        "election-log-format",
        "procedure-log-format",
        "extra-member",
        "no-body",
        "no-salt",
        "bad-salt-and-extra-member",
        "short-salt",
        "upper-case-salt",
        "salt-not-text",
        "salt-with-newline",
        "body-not-object",
        "bad-salt-before-body",
        "not-canonical",
        "no-actor-and-not-canonical",
    ],
)
def test_each_malformed_entry_is_refused_with_its_own_casework_words(raw: bytes, en: str) -> None:
    with pytest.raises(CaseworkError) as e:
        parse_entry(raw)
    assert (e.value.code, e.value.clause, e.value.zh, e.value.en) == (
        "casework.malformed",
        "RP-11.3",
        "事项记录格式错误",
        en,
    )


def test_a_recorded_entry_is_the_shared_envelope_bytes_and_parses_back() -> None:
    led = open_ledger(casework())
    step = opening_step(led.casework)
    entry, _ = record(led, step, at=at("2026-09-28 09:00"), actor="town", salt=b"\x07" * 32)
    assert entry.raw == entry_bytes(
        "casework-entry/1",
        0,
        led.casework.id.hex(),
        type_="casework.opened",
        at=entry.at,
        actor="town",
        body=step.body,
        salt="07" * 32,
    )
    assert parse_entry(entry.raw) == entry


@pytest.mark.parametrize(
    "raw",
    [
        canonical(_doc()).replace(b'"seq":0', b'"seq":99999999999999999999'),
        canonical(_doc()).replace(b'"actor":""', b'"actor":"\\ud800"'),
    ],
    ids=["integer-beyond-2-53", "lone-surrogate"],
)
def test_an_entry_with_no_canonical_form_is_casework_malformed_not_a_crash(raw: bytes) -> None:
    # Before the shared envelope these escaped as rfc8785's ValueError, so opening a damaged
    # casework file did not say store.corrupt.
    with pytest.raises(CaseworkError) as e:
        parse_entry(raw)
    assert (e.value.code, e.value.en) == ("casework.malformed", _NOT_CANONICAL)


_TYPES = "a casework entry's seq, prev, type, at or actor has the wrong type"


@pytest.mark.parametrize(
    "changes",
    [
        {"seq": True},  # a bool is no seq, though Python takes it for 1
        {"seq": "0"},
        {"seq": 1.5},
        {"prev": 0},
        {"type": None},
        {"at": 20261207},
        {"actor": ["case_head"]},
    ],
    ids=["seq-bool", "seq-text", "seq-float", "prev-int", "type-null", "at-int", "actor-list"],
)
def test_rp_11_3_an_envelope_member_of_the_wrong_type_is_malformed_not_a_crash(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(CaseworkError) as e:
        parse_entry(canonical(_doc(**changes)))
    assert (e.value.code, e.value.en) == ("casework.malformed", _TYPES)


def test_rp_11_3_a_stored_entry_whose_time_is_no_time_is_malformed_on_replay() -> None:
    led = open_ledger(casework())
    good, _ = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=bytes(32)
    )
    replay(led.casework, [good.raw])  # the control: the same entry with its time replays
    bad = canonical({**json.loads(good.raw), "at": "yesterday"})
    with pytest.raises(CaseworkError) as e:
        replay(led.casework, [bad])
    assert e.value.code == "casework.malformed"
