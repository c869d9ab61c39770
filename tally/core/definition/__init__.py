"""Parse an election definition (TOML text) into :class:`tally.core.model.Election`.

Implements spec/definition.md and the registration-time rules of spec/rules.md (R1-R3, R18, R19,
R23-R25, R27, R30). Every problem in the file is collected and reported at once, each with its field
path, so a clerk can mend the file in one pass. Reading the file is the shell's job: this package
takes text.

The package: `_document` (the whole file: format, preset, parameters, election; the entry points),
`_roster` (members, exclusions, officials, remote voting), `_posts` (posts and candidate lists),
`_collector` (reading a field and recording its problem). Import from `tally.core.definition`.
"""

from __future__ import annotations

# The names in __all__ are the API. The `X as X` imports are re-exported outside it: the
# member-id pattern, and the helpers the procedure parser shares so that its roster, exclusion and
# officials rules keep this spec's codes (tally.core.procedure._common, RP-2.4).
from tally.core.definition._collector import _Collector as _Collector
from tally.core.definition._document import (
    FORMAT,
    PRESET_DEFAULTS,
    parse_definition,
    parse_definition_data,
)
from tally.core.definition._posts import _default_margin as _default_margin
from tally.core.definition._posts import (
    candidate_problems,
)
from tally.core.definition._roster import MEMBER_ID_PATTERN as MEMBER_ID_PATTERN
from tally.core.definition._roster import _parse_exclusions as _parse_exclusions
from tally.core.definition._roster import _parse_members as _parse_members
from tally.core.definition._roster import _parse_officials as _parse_officials

__all__ = [
    "FORMAT",
    "PRESET_DEFAULTS",
    "candidate_problems",
    "parse_definition",
    "parse_definition_data",
]
