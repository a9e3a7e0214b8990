"""``esmsim validate``: check a config and report every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import ConfigError, load_config
from ._app import app, invalid

__all__ = ("validate",)


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="The config file to check.")],
) -> None:
    """Check a config: exit 0, or print every problem with its path and exit 2."""
    try:
        load_config(config)
    except ConfigError as exc:
        invalid(exc.problems)
    typer.echo(f"{config}: ok")
