"""Unit tests. A package, so that tests/unit/verifier is tests.unit.verifier and never shadows the
project's own verifier package (which made worktree runs test another checkout's verifier)."""
