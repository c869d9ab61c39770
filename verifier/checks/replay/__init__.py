"""The replay of ``log.jsonl``: clauses V6-V15 and V18 of spec/bundle.md §6, in one pass.

``Replay(v, m).run()`` streams the log once (``core``): each line is hashed as a Merkle leaf
(V7), parsed and chained (V6), and handed to the handler of its entry type, which applies the
rules of its clause to the replay's state (``state``). The handlers are grouped as the spec
groups the clauses:

* ``stock`` — V8 stocks;
* ``ballots`` — V9 ballots of the log and records of ``ballots.jsonl``;
* ``attendance`` — V10;
* ``rounds`` — V11 round sequence (the round due, quorum, officials, the joint opening) and
  V12 round validity;
* ``count`` — V13 the recount (and the V12 checks of ``round.counted``);
* ``decisions`` — V14 seat reductions, amended lists, officials, double entry;
* ``outcome`` — V15 ``election.result`` (and entry 0, V6);
* ``remote`` — V18.1-V18.11, a unit of its own: ``RemoteChecks`` owns the remote state and has
  one method per remote entry type.

Handlers are plain functions taking the replay, ``def stock(r: Replay, e: LogEntry) -> None``,
gathered in ``core.HANDLERS`` (entry type → handler). They read and change the replay's
attributes directly: mypy checks each access against ``Replay`` (imported for type checking
only, so the modules do not import each other in a cycle), with no Protocol restating the
state. Every handler's docstring starts with the clause it implements, ``(V8) ...``.

Performance: ``ballot.entered`` is nearly every entry of a large log; ``Replay.apply`` sends it
straight to its handler, and the handler to the round and stock checks, with no layer between.
"""

from verifier.checks.replay.core import Replay

__all__ = ["Replay"]
