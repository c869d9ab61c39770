"""Append-only log: RFC 9162 Merkle tree (``merkle``); see spec/merkle.md."""

from tally.log import merkle
from tally.log.merkle import *  # noqa: F403 (the names in its __all__)

__all__ = merkle.__all__
