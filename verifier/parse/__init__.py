"""Parse, don't validate: each bundle document to a model or a specific error with its path.

spec/manifest.md §1-§4 (``signed-manifest/1``, ``manifest/1``, the resolved definition of
spec/definition.md) in ``manifest``; spec/log.md §1-§3 (``log-entry/1`` bodies, ``checkpoint/1``
notes) in ``log``; the bundle's other documents (spec/bundle.md §2, §4: ``bundle-index/1``,
``checkpoints/1``, ``outcomes/1``, ``result/1``, ``signed-calendar/1``) in ``documents``.
Semantic rules (R2-R30) are checked later in ``verifier.checks``; here only shapes and types.
"""

from verifier.parse.log import (
    CHECKPOINT_DOMAIN,
    ENTRY_BODIES,
    ENTRY_OPTIONAL,
    ENTRY_VARIANTS,
    parse_ballot_entered,
    parse_checkpoint,
    parse_log_entry,
)
from verifier.parse.manifest import (
    CATEGORIES,
    MANIFEST_DOMAIN,
    NEVER_ELECTOR_CATEGORIES,
    STATUSES,
    election_id_of,
    parse_manifest,
    parse_signed_manifest,
)

__all__ = [
    "CATEGORIES",
    "CHECKPOINT_DOMAIN",
    "ENTRY_BODIES",
    "ENTRY_OPTIONAL",
    "ENTRY_VARIANTS",
    "MANIFEST_DOMAIN",
    "NEVER_ELECTOR_CATEGORIES",
    "STATUSES",
    "election_id_of",
    "parse_ballot_entered",
    "parse_checkpoint",
    "parse_log_entry",
    "parse_manifest",
    "parse_signed_manifest",
]
