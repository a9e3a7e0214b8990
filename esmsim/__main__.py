"""``python -m esmsim``."""

from .cli import main

main()
