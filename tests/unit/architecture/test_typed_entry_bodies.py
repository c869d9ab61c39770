"""The shells read a meeting entry's typed body, not its JSON mapping (issue 17 point 2,
docs/adr/0030-typed-entries.md): outside ``tally/core`` no module indexes ``<x>.body[...]`` or
calls ``<x>.body.get(...)``, nor aliases a whole body (``b = entry.body``) to index it later.
``Entry.value`` (narrowed with ``isinstance`` to its ``tally.core.meeting.bodies`` class) is the
way in. The exceptions below are listed with their reason; a new one needs one too."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# ``x.body[`` or ``x.body.get(``, and ``= x.body`` / ``= f(...).body`` ending a line.
INDEXED = re.compile(r"\.body(\[|\.get\()")
ALIASED = re.compile(r"(?<![!=<>])=\s*[\w.]+(\([^()]*\))?\.body\s*$")
# (path, the line's text stripped) -> why it may read the mapping.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # A casework step, not a meeting entry (tally/casework.py has its own step format).
    (
        "tally/casework_store.py",
        'code = check_code(random(5)) if step.body.get("channel") == "form" else ""',
    ): "casework step",
    (
        "tally/casework_store.py",
        '(token_hash, str(step.body.get("reference", ""))),',
    ): "casework step",
    (
        "tally/casework_store.py",
        "code_subject=f\"check:{step.body['reference']}\",",
    ): "casework step",
    (
        "tally/casework_store.py",
        "code_subject=f\"access:{step.body['reporter']}\",",
    ): "casework step",
    # A casework entry (casework-entry/1), not a meeting entry: the reference a case was given.
    ("tally/demo_casework.py", 'return str(entry.body["reference"])'): "casework entry",
    # Casework steps and casework entries (tally.core.casework), not meeting entries: their
    # bodies are the mappings of spec/procedure.md RP-11.3, with no typed form.
    (
        "tally/service/casework/views.py",
        'return str(step.body["reference"])',
    ): "casework step",
    (
        "tally/service/casework/views.py",
        'ref = str(e.body.get("reference", ""))',
    ): "casework entry",
    (
        "tally/service/casework/views.py",
        'out.add((str(e.body["reference"]), str(e.body["kind"])))',
    ): "casework entry",
    (
        "tally/service/casework/views.py",
        "rid, branch, group, name, phone = (str(e.body[k]) for k in _REGISTERED)",
    ): "casework entry",
    # Two lines alike in election_log.py. _reason: the checkpoint reason is part of the signed
    # checkpoint and is built from whatever the body holds, byte for byte as before.
    # check_invalid_confirmation: the scrutineer signs the decision's JSON members
    # (invalid_decision_message), so the signature is checked over the mapping; it runs before
    # the entry is applied, so a typed read would change which refusal a malformed one gets.
    ("tally/election_log.py", "b = entry.body"): "checkpoint reason; scrutineer's signature",
    # The remote.opened body is compared whole with the one the manifest gives (RV-2.1).
    ("tally/remote_voting.py", "self._opened_cache = parse_entry(row[1]).body"): "opened body",
}


def _reads(text: str) -> list[str]:
    return [
        line.strip() for line in text.splitlines() if INDEXED.search(line) or ALIASED.search(line)
    ]


def test_no_shell_indexes_a_meeting_entry_body() -> None:
    files = [p for p in sorted((ROOT / "tally").rglob("*.py")) if "core" not in p.parts]
    assert len(files) > 40, "the shells were not found"
    found = [
        f"{p.relative_to(ROOT)}: {line}"
        for p in files
        for line in _reads(p.read_text(encoding="utf-8"))
        if (str(p.relative_to(ROOT)), line) not in EXCEPTIONS
    ]
    assert not found, found


def test_every_exception_is_still_there() -> None:
    """An exception whose line went away is removed from the list, so the list stays the truth."""
    gone = [
        key
        for key in EXCEPTIONS
        if key[1] not in _reads((ROOT / key[0]).read_text(encoding="utf-8"))
    ]
    assert not gone, gone


def test_the_patterns_see_what_the_shells_used_to_write() -> None:
    """The test cannot pass by matching nothing: the reads this test replaced are seen."""
    old = (
        'int(e.body.get("part", 1))',
        'PostKind(entry.body["post"])',
        'parse_entry(raw).body["ballot"]',
        "f\"entered {e.body['ballot_id'][:8]}\"",
        "b = entry.body",
        "self._opened_cache = parse_entry(row[1]).body",
    )
    assert all(_reads(line) for line in old)
    assert not _reads("v = entry.value\nbid = v.ballot_id\nspec.body is ElectingBody.PLENARY")
    assert not _reads("    != cp.body")
