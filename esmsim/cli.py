"""The ``esmsim`` command line.

Exit codes: 0 success, 2 invalid input (every problem printed, with its
path), 1 anything else. Logs go to stderr (console on a TTY, JSON otherwise or
with ``--log-format json``); results go to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from . import __version__
from ._core._logging import configure as configure_logging
from ._core._logging import current_clock, get_logger
from .config import ConfigError, load_config, parse_duration
from .simulation import Simulation

__all__ = ("app", "main")

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


def _configure_logs(log_format: str | None, log_level: str) -> None:
    if log_format not in (None, "console", "json"):
        _invalid([f"--log-format: {log_format!r} is not one of: console, json"])
    fmt: Literal["console", "json"] | None = log_format  # type: ignore[assignment]
    try:
        configure_logging(level=log_level, format=fmt)
    except ValueError as exc:
        _invalid([f"--log-level: {exc}"])


def _invalid(problems: list[str]) -> None:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(EXIT_INVALID)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="The config file.")] = Path("config.yaml"),
    duration: Annotated[
        str | None, typer.Option("--duration", help="Simulated time to run, e.g. 90s, 30m, 48h.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the config's seed.")] = None,
    clock: Annotated[str | None, typer.Option("--clock", help="virtual (default) or wall.")] = None,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = "info",
) -> None:
    """Run a config and print a summary."""
    _configure_logs(log_format, log_level)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _invalid(exc.problems)
    problems: list[str] = []
    seconds = cfg.duration
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            problems.append(f"--duration: {exc}")
    mode = clock or cfg.clock
    if mode not in ("virtual", "wall"):
        problems.append(f"--clock: {mode!r} is not one of: virtual, wall")
    if problems:
        _invalid(problems)
    log = get_logger(config=str(config))
    with Simulation(
        seed=cfg.seed if seed is None else seed,
        clock="wall" if mode == "wall" else "virtual",
        start_time=cfg.start_time,
    ) as sim:
        # Lines logged from this thread carry the simulation's time too.
        token = current_clock.set(sim.clock)
        try:
            _run_and_report(sim, config, mode, seconds, log)
        finally:
            current_clock.reset(token)


def _run_and_report(sim: Simulation, config: Path, mode: str, seconds: float, log: Any) -> None:
    started = sim.now
    log.info("run.start", seed=sim.seed, clock=mode, duration_s=seconds)
    sim.run_sync(seconds)
    log.info("run.complete", simulated_s=sim.now - started)
    typer.echo(f"config      {config}")
    typer.echo(f"seed        {sim.seed}")
    typer.echo(f"clock       {mode}")
    typer.echo(f"simulated   {sim.now - started:.3f} s")
    typer.echo(f"ended at    {sim.clock.wall():%Y-%m-%dT%H:%M:%S}Z")


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="The config file to check.")],
) -> None:
    """Check a config: exit 0, or print every problem with its path and exit 2."""
    try:
        load_config(config)
    except ConfigError as exc:
        _invalid(exc.problems)
    typer.echo(f"{config}: ok")


def main() -> None:
    """Console-script entry point, with esmsim's exit codes."""
    try:
        app(prog_name="esmsim")
    except SystemExit:
        raise
    except Exception as exc:
        typer.echo(f"esmsim: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
