"""`python -m promptslim` runs the command line."""

from promptslim_cli.app import main

main()
