"""`python -m opsplay` runs the command-line interface."""

from opsplay.cli import main

main()
