"""Shared test set-up, one module per kind (ADR 0039-test-helpers):

- ``cli_election``: an election made and driven through the `tally` CLI (keys, manifest, init,
  check-ins, rounds, publish); ``polling`` is its former name, kept for branches in flight.
- ``http_session``: a live service on loopback for browser and HTTP tests, with its teardown.
- ``bundles``: published bundles for verifier tests (vector generator, verify folder and zip).

The other modules serve one purpose each: ``elections`` (definitions as TOML text), ``disk`` (a
full disk), ``notice_text`` (the notice read back), ``bundle_server`` (the page bundle under the
CSP), ``remote_ballot_v2``/``remote_session``/``remote_v2``/``remote_v2_stub`` (remote ballots
without a device or a service), ``round_history`` (an election with every kind of round).
"""
