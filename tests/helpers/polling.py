"""The former name of tests/helpers/cli_election.py, kept only while branches written against it
are merged: import from ``tests.helpers.cli_election``; delete this file once nothing imports it."""

from tests.helpers.cli_election import ENV, PASSPHRASE, Election, make_key, qr_texts

__all__ = ["ENV", "PASSPHRASE", "Election", "make_key", "qr_texts"]
