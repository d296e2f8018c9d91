"""`python -m edubrain` runs the command line."""

from edubrain.cli.main import run

run()
