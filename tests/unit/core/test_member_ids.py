"""spec/definition.md D-5.3: member ids are ASCII of one pattern, so none can look like another."""

from __future__ import annotations

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError
from tests.helpers.elections import definition_text

BASE = definition_text(full=20)


@pytest.mark.parametrize(
    "bad_id", ["\u041c012", "M\u200b012", "Ｍ012", "M 012", "_M012", "M" * 33], ids=repr
)
def test_a_member_id_outside_the_ascii_pattern_is_refused(bad_id: str) -> None:
    text = BASE.replace('id = "M012"', f'id = "{bad_id}"', 1)
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    assert ("members.id_format", "members[11].id") in [(p.code, p.path) for p in e.value.problems]


def test_cyrillic_look_alike_beside_the_latin_id_is_refused_not_a_second_member() -> None:
    text = BASE.replace('id = "M012"', 'id = "\u041c001"', 1)
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    assert "members.id_format" in [p.code for p in e.value.problems]


def test_ids_of_the_pattern_are_accepted() -> None:
    assert parse_definition(BASE.replace('id = "M012"', 'id = "m.3_x-Y"', 1))
