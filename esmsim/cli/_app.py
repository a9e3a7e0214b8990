"""The ``esmsim`` command line.

Exit codes: 0 success, 2 invalid input (every problem printed, with its
path), 1 anything else. Logs go to stderr (console on a TTY, JSON otherwise or
with ``--log-format json``); results go to stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated, Literal, NoReturn

import typer

from .. import __version__
from .._core._logging import configure as configure_logging

__all__ = ("EXIT_FAILURE", "EXIT_INVALID", "app", "configure_logs", "invalid", "main")

app = typer.Typer(
    name="esmsim",
    help="Simulate AWS Lambda event source mappings (Kinesis, DynamoDB Streams, SQS) "
    "on a virtual clock.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INVALID = 2
EXIT_FAILURE = 1


def _version(value: bool) -> None:
    if value:
        typer.echo(f"esmsim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """esmsim: AWS Lambda event source mappings on a virtual clock."""


LogFormatOption = Annotated[
    str | None,
    typer.Option("--log-format", help="console or json (default: console on a TTY, else json)."),
]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")]


def configure_logs(log_format: str | None, log_level: str) -> None:
    if log_format not in (None, "console", "json"):
        invalid([f"--log-format: {log_format!r} is not one of: console, json"])
    fmt: Literal["console", "json"] | None = log_format  # type: ignore[assignment]
    try:
        configure_logging(level=log_level, format=fmt)
    except ValueError as exc:
        invalid([f"--log-level: {exc}"])


def invalid(problems: list[str]) -> NoReturn:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(EXIT_INVALID)


def main() -> None:
    """Console-script entry point, with esmsim's exit codes."""
    try:
        app(prog_name="esmsim")
    except SystemExit:
        raise
    except Exception as exc:
        typer.echo(f"esmsim: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
