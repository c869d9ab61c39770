"""How long each fuzzer runs: a small, reproducible budget in ``make test``, a large random one in
``make fuzz`` (docs/FUZZING.md).

``make test`` runs every fuzzer with a fixed seed (``derandomize``) and no example database, so
CI sees the same inputs on every run and cannot turn red by chance. ``make fuzz`` sets
``FUZZ=deep``: random inputs, the example database under ``.hypothesis/`` (a crash found once is
replayed first next time) and ``FUZZ_SCALE`` (default 50) times the examples of each fuzzer,
or exactly ``FUZZ_EXAMPLES`` when set.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["DEEP", "fuzz_settings"]

DEEP = os.environ.get("FUZZ") == "deep"
_SCALE = int(os.environ.get("FUZZ_SCALE", "50"))
_EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
_QUIET = (
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
    HealthCheck.function_scoped_fixture,
)


def fuzz_settings(examples: int) -> settings:
    """``examples`` in ``make test``; many more, randomly seeded, under ``FUZZ=deep``."""
    if DEEP:
        return settings(
            max_examples=int(_EXAMPLES) if _EXAMPLES else examples * _SCALE,
            deadline=None,
            suppress_health_check=_QUIET,
            print_blob=True,
        )
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=_QUIET,
        # No shrinking budget is wasted in CI on inputs that pass; a failure still shrinks.
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    )
