"""``esmsim run``: run a config, show progress, print a summary, write results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .._core._logging import current_clock, get_logger
from ..config import ConfigError, load_config, parse_duration
from ..simulation import Simulation
from ._app import LogFormatOption, LogLevelOption, app, configure_logs, invalid

__all__ = ("run",)


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
    configure_logs(log_format, log_level)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        invalid(exc.problems)
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
        invalid(problems)
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
