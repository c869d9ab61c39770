"""Rounds: counting one round, and which round comes next (spec/rules.md R4-R6, R11-R17, R19-R23).

The election advances as a pure state machine over immutable values:

    state = start(election)
    spec = next_round(state)          # a RoundSpec, or Blocked, or Finished
    outcome = count_round(state, spec, inputs)
    state = apply_outcome(state, outcome)

Committee round first; a tie across the last seat opens a runoff among exactly the tied candidates;
a shortfall opens a further round for the open seats (or a recorded seat reduction, never
automatic); a VOID round (returned > issued) is voted again; then the secretary round from the
newly elected committee, with the quorum and threshold of the electing body; then the deputy.
In a direct election (R22) the secretary's and deputy's first rounds are voted with the
committee's first round (``joint_rounds``), wait as their posts' pending rounds, and are counted
in the same order, a candidate not elected to the committee dropping out at the count.

The package: `_state` (the values), `_schedule` (which round is next; recording an outcome or a
seat reduction), `_count` (counting one round), `_amend` (amended candidate lists). Import from
`tally.core.rounds`, never from a part.
"""

from __future__ import annotations

# The names in __all__ are the API; the `X as X` imports are the module's constants, re-exported
# outside it as the single module had them.
from tally.core.rounds._amend import AMENDABLE_BLOCKS as AMENDABLE_BLOCKS
from tally.core.rounds._amend import (
    amend_candidates,
    amendable_round,
    amended_list_warnings,
)
from tally.core.rounds._count import (
    count_round,
    uncounted_outcome,
)
from tally.core.rounds._schedule import (
    apply_outcome,
    joint_rounds,
    next_round,
    reduce_seats,
    round_officials,
    start,
    void_held_round,
)
from tally.core.rounds._state import MAX_ROUNDS_PER_POST as MAX_ROUNDS_PER_POST
from tally.core.rounds._state import MIN_COMMITTEE_SEATS as MIN_COMMITTEE_SEATS
from tally.core.rounds._state import (
    Blocked,
    ElectingBody,
    ElectionState,
    Finished,
    PostState,
    RoundInput,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
)

__all__ = [
    "Blocked",
    "ElectingBody",
    "ElectionState",
    "Finished",
    "PostState",
    "RoundInput",
    "RoundOutcome",
    "RoundPurpose",
    "RoundSpec",
    "RoundStatus",
    "amend_candidates",
    "amendable_round",
    "amended_list_warnings",
    "apply_outcome",
    "count_round",
    "joint_rounds",
    "next_round",
    "reduce_seats",
    "round_officials",
    "start",
    "uncounted_outcome",
    "void_held_round",
]
