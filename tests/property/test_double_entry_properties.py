"""Double entry (spec/log.md §2.3) against simple oracles: "two tellers have entered it alike".

The rule (``tally.core.double_entry``) compares the marks as the session reads them and the
write-ins as (name trimmed and in NFC, marked), as sorted lists, or as plain lists when
``write_in_requires_disapproval`` numbers the rows (R9.1).
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.ballots import Ballot, Mark, WriteIn, judge_ballot
from tally.core.definition import parse_definition
from tally.core.double_entry import compare_entries, read_entry
from tally.core.marks_file import resolve_write_in
from tally.core.model import MemberId, Parameters
from tests.helpers.elections import make_election

ROOT = Path(__file__).resolve().parents[2]
QINGSHAN = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
PARAMS = {
    (numbered, unmarked): make_election(
        full=30,
        committee_seats=3,
        parameters=f"write_in_requires_disapproval = {str(numbered).lower()}\n"
        f'write_in_unmarked = "{unmarked}"',
    ).parameters
    for numbered in (False, True)
    for unmarked in ("ignored", "approval")
}
CANDIDATES = (MemberId("M001"), MemberId("M002"), MemberId("M003"))
ELIGIBLE = frozenset({MemberId("M012"), MemberId("M020"), MemberId("M021")})

# Names a teller may type for a few roster members: spaces around them, a CJK compatibility
# ideograph (U+F9F4 is 林 in NFC), a member id, a name not on the roster (with a decomposed é).
NAMES = ["周玉兰", " 周玉兰", "林春生", "\uf9f4春生 ", "M021", "罗小芳", "Zoe\u0301", "Zoé"]
marks_text = st.text(alphabet="ox-?○× ", max_size=4)
write_in = st.builds(lambda n, m: n + m, st.sampled_from(NAMES), st.sampled_from(["", ":-", ":o"]))
write_ins = st.lists(write_in, max_size=4)
params = st.sampled_from(sorted(PARAMS)).map(PARAMS.__getitem__)


SPELLINGS = {"周玉兰": " 周玉兰", "林春生": "\uf9f4春生 ", "Zoé": "Zoe\u0301"}


def _respell(w: str) -> str:
    """The same row spelled another way the count reads alike (spaces, NFC, ``:o`` or not)."""
    name, _, mark = w.partition(":")
    for a, b in SPELLINGS.items():
        if a in name:
            name = name.replace(a, b)
        elif b in name:
            name = name.replace(b, a)
    return name + {"": ":o", "o": "", "-": ":-"}[mark]


def _oracle_same(a: tuple[str, list[str]], b: tuple[str, list[str]], *, numbered: bool) -> bool:
    def marks(t: str) -> str:
        return "".join({"○": "o", "×": "x"}.get(c, c) for c in t if c != " ")

    def rows(ws: list[str]) -> list[tuple[str, bool]]:
        out = []
        for w in ws:
            name, _, mark = w.partition(":")
            out.append((unicodedata.normalize("NFC", name.strip()), mark != "-"))
        return out if numbered else sorted(out)

    return marks(a[0]) == marks(b[0]) and rows(a[1]) == rows(b[1])


@st.composite
def _second_rows(draw: st.DrawFn, first: list[str]) -> list[str]:
    """Another teller's rows: unrelated, or the first's respelled, reordered, one maybe changed."""
    if draw(st.booleans()):
        return draw(write_ins)
    rows = [_respell(w) if draw(st.booleans()) else w for w in draw(st.permutations(first))]
    if rows and draw(st.booleans()):
        rows[draw(st.integers(0, len(rows) - 1))] = draw(write_in)
    return rows


@settings(max_examples=500, deadline=None)
@given(marks_text, write_ins, st.data(), params)
def test_double_entry_matches_the_sorted_pairs_oracle(
    m1: str, w1: list[str], data: st.DataObject, p: Parameters
) -> None:
    """§2.3 "the second, when it agrees, is logged": agreement is the oracle's, no more, no less."""
    m2 = data.draw(st.one_of(st.just(m1), marks_text))
    w2 = data.draw(_second_rows(w1))
    a = read_entry(ballot_id="aa", marks=m1, write_ins=w1)
    b = read_entry(ballot_id="aa", marks=m2, write_ins=w2)
    expected = _oracle_same((m1, w1), (m2, w2), numbered=p.write_in_requires_disapproval)
    assert (compare_entries(a, b, params=p) is None) == expected


@settings(max_examples=300, deadline=None)
@given(marks_text, write_ins, st.randoms(use_true_random=False))
def test_reordered_write_in_rows_are_the_same_ballot_unless_numbered(
    m: str, ws: list[str], rnd: random.Random
) -> None:
    """R9.1: the rows are numbered only under write_in_requires_disapproval."""
    shuffled = list(ws)
    rnd.shuffle(shuffled)
    a = read_entry(ballot_id="aa", marks=m, write_ins=ws)
    b = read_entry(ballot_id="aa", marks=m, write_ins=shuffled)
    assert compare_entries(a, b, params=PARAMS[False, "ignored"]) is None
    assert (compare_entries(a, b, params=PARAMS[True, "ignored"]) is None) == (
        a.write_ins == b.write_ins
    )


def _verdict(marks: str, ws: list[str], p: Parameters) -> tuple[object, ...]:
    entry = read_entry(ballot_id="aa", marks=marks, write_ins=ws)
    ballot = Ballot(
        tuple(Mark(c) for c in entry.marks),
        tuple(
            WriteIn(name=w.name, member=resolve_write_in(w.name, QINGSHAN)[0], marked=w.marked)
            for w in entry.write_ins
        ),
    )
    v = judge_ballot(
        ballot, candidates=CANDIDATES, seats=3, params=p, write_in_eligible=ELIGIBLE.__contains__
    )
    return v.valid, v.choices, sorted(v.approvals), sorted(v.notes)


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="ox-?", min_size=3, max_size=3),
    write_ins,
    st.permutations(range(4)),
    st.lists(st.booleans(), min_size=4, max_size=4),
    params,
)
def test_entries_double_entry_calls_alike_are_counted_alike_R9(
    marks: str, w1: list[str], order: list[int], respell: list[bool], p: Parameters
) -> None:
    """R8, R9: whatever double entry accepts as one ballot, the count reads as one ballot. The
    second entry is the first with some rows spelled another way the count reads alike (spaces,
    NFC, an explicit ``:o``) and the rows in another order."""
    w2 = [_respell(w1[i]) if respell[i] else w1[i] for i in order if i < len(w1)]
    a = read_entry(ballot_id="aa", marks=marks, write_ins=w1)
    b = read_entry(ballot_id="aa", marks=marks, write_ins=w2)
    if compare_entries(a, b, params=p) is None:
        assert _verdict(marks, w1, p) == _verdict(marks, w2, p)
