"""Fuzzers (marker ``fuzz``): a small fixed-seed budget in ``make test``; ``FUZZ=deep`` for more."""
