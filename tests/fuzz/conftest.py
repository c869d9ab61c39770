"""Hypothesis profiles for the fuzzers, chosen by the environment variable ``FUZZ``.

``FUZZ`` unset (``make test``): ``fuzz-quick``, derandomised (a fixed seed, the same examples each
run) and small, so the whole folder takes well under 30 s. ``FUZZ=deep``: thousands of random
examples per fuzzer, for a session of its own (``FUZZ=deep pytest -m fuzz tests/fuzz``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": None,
}
settings.register_profile("fuzz-quick", max_examples=150, derandomize=True, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=5000, **_COMMON)

PROFILE = "fuzz-deep" if os.environ.get("FUZZ") == "deep" else "fuzz-quick"
