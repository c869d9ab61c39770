"""``python -m tally``."""

from tally.cli import main

main()
