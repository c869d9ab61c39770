"""Rivest's consistent sampler (SHA-256 ticket numbers), as Arlo and SHANGRLA draw ballots.

Re-implemented from the published description of ``consistent_sampler`` (R. L. Rivest, PyPI
package ``consistent_sampler``; github.com/ron-rivest/consistent_sampler): each id gets a
pseudorandom *ticket number* in (0, 1), written as a decimal string ``0.ddd...``; the sample is the
ids in increasing ticket order. With replacement, a drawn id gets its next ticket, drawn
uniformly above the previous one (spec/audit.md A4).

- ``sha256_hex(x)``: lowercase hex SHA-256 of ``str(x)`` as UTF-8.
- ``sha256_uniform(x)``: the hash as a 64-digit zero-padded decimal integer, digits reversed,
  prefixed with ``0.``.
- first ticket of ``id``: ``sha256_uniform(sha256_hex(seed) + str(id))``.
- next ticket after ``x``: keep the leading 9s of ``x``'s fraction and append the digits of
  ``sha256_uniform(x + ":" + str(i))`` for i = 1, 2, ... until the result exceeds ``x``.

Ticket numbers compare as strings (all start with ``0.``), exactly as the reference does.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "Ticket",
    "first_fraction",
    "first_ticket",
    "next_fraction",
    "sample",
    "sha256_hex",
    "sha256_uniform",
    "trim",
]


@dataclass(frozen=True, slots=True, order=True)
class Ticket:
    """One draw: the ticket number (a decimal fraction string), the id and its generation."""

    ticket_number: str
    id: str
    generation: int


def sha256_hex(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_uniform(text: str) -> str:
    """SHA-256 of the text as a fraction ``0.ddd...``: the decimal digits, reversed."""
    digits = f"{int(sha256_hex(text), 16):064d}"
    return "0." + digits[::-1]


def _first_non_9(x: str) -> int:
    x0 = x + "0"
    return next(i for i in range(2, len(x0)) if x0[i] < "9")


def trim(x: str, digits: int = 9) -> str:
    """The ticket number cut to ``digits`` significant digits after its leading 9s (display)."""
    return x[: _first_non_9(x) + digits]


def first_fraction(ballot_id: str, seed: str) -> str:
    """The generation-1 ticket number of ``ballot_id``."""
    return sha256_uniform(sha256_hex(seed) + ballot_id)


def next_fraction(x: str) -> str:
    """A pseudorandom fraction above ``x``, from ``x`` alone."""
    x0 = x + "0"
    keep = _first_non_9(x)
    i = 0
    y = "0."
    while y <= x0:
        i += 1
        y = x0[:keep] + sha256_uniform(x + ":" + str(i))[2:]
    return y


def first_ticket(ballot_id: str, seed: str) -> Ticket:
    """The generation-1 ticket of an id."""
    return Ticket(first_fraction(ballot_id, seed), ballot_id, 1)


def sample(ids: Iterable[str], seed: str, *, with_replacement: bool = False) -> Iterator[Ticket]:
    """The tickets of ``ids`` in sampling order (endless with replacement).

    Raises:
        ValueError: an id appears twice.
    """
    heap = [first_ticket(i, seed) for i in ids]
    if len({t.id for t in heap}) != len(heap):
        raise ValueError("duplicate ids")
    heapq.heapify(heap)
    while heap:
        t = heapq.heappop(heap)
        if with_replacement:
            heapq.heappush(heap, Ticket(next_fraction(t.ticket_number), t.id, t.generation + 1))
        yield t
