"""``esmsim validate``: check a config and report every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import check_config
from ._app import app, invalid

__all__ = ("validate",)


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="The config file to check.")],
) -> None:
    """Check a config: exit 0, or print every problem with its path and exit 2.

    Besides the static checks, the resources are created in a throwaway simulation
    that never runs, so AWS's create-time errors (a queue visibility timeout below
    the function timeout, a missing handler function...) are reported too. Warnings
    (AWS settings esmsim accepts but does not model) go to stderr.
    """
    problems, warnings = check_config(config)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if problems:
        invalid(problems)
    typer.echo(f"{config}: ok")
