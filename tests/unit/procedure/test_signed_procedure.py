"""spec/procedure.md RP-2.3: ``signed-procedure/1``, checked in order: format, town key, trust
root, signature, then RP-2.4 (tally.procedure_file over the core's envelope parser)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import keys
from tally.core.manifest import canonical
from tally.core.procedure import (
    PROCEDURE_DOMAIN,
    ProcedureDefinitionError,
    ProcedureFileError,
    parse_signed_envelope,
    procedure_id_of,
    render_procedure,
    signed_procedure_bytes,
)
from tally.procedure_file import (
    MAX_PROCEDURE_BYTES,
    check_key_material,
    load_signed_procedure,
    sign_procedure,
)
from tests.helpers.procedure import (
    OTHER_TOWN,
    TOWN,
    WORK_GROUP,
    build,
    example_document,
    pubkey,
)


def _signed(doc: dict[str, Any], town: keys.InMemorySigner = TOWN) -> bytes:
    """A signed-procedure/1 over any document (valid or not), as a town would sign it."""
    return signed_procedure_bytes(doc, pubkey(town), town.sign(PROCEDURE_DOMAIN, canonical(doc)))


def _code(e: pytest.ExceptionInfo[ProcedureFileError]) -> str:
    return e.value.code


def test_signed_procedure_loads_with_the_town_key_as_trust_root() -> None:
    p = build()
    raw = sign_procedure(p, TOWN)
    signed = load_signed_procedure(raw, trust_root=TOWN.public_key)
    assert signed.procedure == p
    assert signed.procedure_id == procedure_id_of(render_procedure(p))
    assert signed.raw == raw
    assert signed.town_key.to_json() == pubkey(TOWN)


def test_signed_procedure_is_stored_as_jcs_bytes() -> None:
    raw = sign_procedure(build(), TOWN)
    assert canonical(json.loads(raw)) == raw


def test_trust_root_may_be_the_25_digit_fingerprint() -> None:
    raw = sign_procedure(build(), TOWN)
    fp = keys.fingerprint(TOWN.public_key)
    assert load_signed_procedure(raw, trust_root=fp).procedure == build()


def test_only_a_town_committee_key_signs_a_procedure() -> None:
    with pytest.raises(ProcedureFileError) as e:
        sign_procedure(build(), WORK_GROUP)
    assert _code(e) == "procedure.town_role"


def test_signed_by_another_town_is_refused_before_the_signature_is_checked() -> None:
    raw = sign_procedure(build(), OTHER_TOWN)
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(raw, trust_root=TOWN.public_key)
    assert _code(e) == "procedure.town_key"


def test_a_changed_definition_fails_the_signature() -> None:
    doc = json.loads(sign_procedure(build(), TOWN))
    doc["procedure"]["publicity_working_days"] = 7
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(canonical(doc), trust_root=TOWN.public_key)
    assert _code(e) == "procedure.signature"


def test_signature_over_another_domain_fails() -> None:
    doc = example_document()
    sig = TOWN.sign(b"branch-election/manifest/1", canonical(doc))
    raw = signed_procedure_bytes(doc, pubkey(TOWN), sig)
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(raw, trust_root=TOWN.public_key)
    assert _code(e) == "procedure.signature"


def test_a_validly_signed_definition_that_breaks_rp_2_4_lists_every_problem() -> None:
    doc = example_document()
    doc["publicity_working_days"] = 4
    doc["posts"][0]["max_per_ballot"] = 0
    with pytest.raises(ProcedureDefinitionError) as e:
        load_signed_procedure(_signed(doc), trust_root=TOWN.public_key)
    assert [p.path for p in e.value.problems] == [
        "posts[0].max_per_ballot",
        "publicity_working_days",
    ]


def test_a_key_with_a_control_character_in_its_label_is_refused_by_the_key_check() -> None:
    doc = example_document()
    doc["keys"]["scrutineers"][1]["label"] = "赵红梅\u200b"
    with pytest.raises(ProcedureDefinitionError) as e:
        load_signed_procedure(_signed(doc), trust_root=TOWN.public_key)
    assert [(p.code, p.path) for p in e.value.problems] == [
        ("procedure.keys", "keys.scrutineers[1]")
    ]


def test_a_town_key_that_keys_refuses_is_procedure_town_role() -> None:
    doc = json.loads(sign_procedure(build(), TOWN))
    doc["town_key"]["label"] = "红旗镇党委\u200b"
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(canonical(doc), trust_root=TOWN.public_key)
    assert _code(e) == "procedure.town_role"


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(b" " * (MAX_PROCEDURE_BYTES + 1), trust_root=TOWN.public_key)
    assert _code(e) == "procedure.format"


def test_check_key_material_accepts_the_example() -> None:
    check_key_material(build())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", "procedure.format"),
        (b"\xff\xfe", "procedure.format"),
        (b'{"format": "signed-procedure/1", "format": "signed-procedure/1"}', "procedure.format"),
        (b'{"a": 1.5}', "procedure.format"),
        (b"[]", "procedure.format"),
        (b'{"format": "signed-manifest/1"}', "procedure.format"),
    ],
    ids=["not-json", "not-utf8", "duplicate-member", "float", "array", "other-format"],
)
def test_envelope_that_is_not_signed_procedure_json_is_procedure_format(
    raw: bytes, code: str
) -> None:
    with pytest.raises(ProcedureFileError) as e:
        parse_signed_envelope(raw)
    assert _code(e) == code


def _envelope(**change: Any) -> bytes:
    doc = json.loads(sign_procedure(build(), TOWN))
    for k, v in change.items():
        if v is None:
            del doc[k]
        else:
            doc[k] = v
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"extra": 1}, "procedure.format"),
        ({"signature": None}, "procedure.format"),
        ({"procedure": []}, "procedure.format"),
        ({"town_key": pubkey(WORK_GROUP)}, "procedure.town_role"),
        ({"town_key": "key"}, "procedure.town_role"),
        ({"procedure": {"n": 2**60}}, "procedure.format"),
        ({"signature": "not base64!"}, "procedure.signature"),
        ({"signature": 5}, "procedure.signature"),
        ({"signature": base64.b64encode(bytes(63)).decode()}, "procedure.signature"),
    ],
    ids=[
        "unknown-member",
        "missing-member",
        "procedure-not-an-object",
        "integer-beyond-2-53",
        "work-group-key-as-town-key",
        "town-key-not-a-document",
        "signature-not-base64",
        "signature-not-text",
        "signature-63-bytes",
    ],
)
def test_envelope_checks_in_order(change: dict[str, Any], code: str) -> None:
    with pytest.raises(ProcedureFileError) as e:
        load_signed_procedure(_envelope(**change), trust_root=TOWN.public_key)
    assert _code(e) == code


def test_casework_is_a_key_role_with_ed25519() -> None:
    """RP-1.2: the casework service's key role, added to spec/keyfile.md §3.1."""
    s = keys.InMemorySigner.from_seed(keys.Role.CASEWORK, "红旗镇查核组", bytes(32))
    assert keys.parse_public_key(keys.export_public_key(s.public_key)).role is keys.Role.CASEWORK
    assert keys.ROLE_NAMES_ZH[keys.Role.CASEWORK] == "查核组"
