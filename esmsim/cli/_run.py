"""``esmsim run``: run a config, show progress, print a summary, write the run directory."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from .._core._logging import current_clock, get_logger
from ..config import ConfigError, RunConfig, load_config, parse_duration
from ..simulation import Simulation
from ._app import LogFormatOption, LogLevelOption, app, configure_logs, invalid

__all__ = ("PROGRESS_STEPS", "print_summary", "run", "run_config")

PROGRESS_STEPS = 200
"""The run advances in this many chunks so the progress bar moves."""


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="The config file.")] = Path("config.yaml"),
    duration: Annotated[
        str | None, typer.Option("--duration", help="Simulated time to run, e.g. 90s, 30m, 48h.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the config's seed.")] = None,
    clock: Annotated[str | None, typer.Option("--clock", help="virtual (default) or wall.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The run directory (default runs/<config>-seed<N>)."),
    ] = None,
    sample_interval: Annotated[
        float, typer.Option("--sample-interval", help="Simulated seconds between metric samples.")
    ] = 60.0,
    report: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="Draw report.html (the plots take most of a short run's time to write; "
            "esmsim report DIR draws it later).",
        ),
    ] = True,
    log_format: LogFormatOption = None,
    log_level: LogLevelOption = "info",
) -> None:
    """Run a config, print a summary per mapping and write the run directory."""
    configure_logs(log_format, log_level)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        invalid(exc.problems)
    problems: list[str] = []
    seconds = float(cfg.duration)
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            problems.append(f"--duration: {exc}")
    mode = clock or cfg.clock
    if mode not in ("virtual", "wall"):
        problems.append(f"--clock: {mode!r} is not one of: virtual, wall")
    if not sample_interval > 0:
        problems.append(f"--sample-interval: expected seconds > 0, got {sample_interval}")
    if problems:
        invalid(problems)
    run_seed = cfg.seed if seed is None else seed
    out_dir = out if out is not None else Path("runs") / f"{_slug(config.stem)}-seed{run_seed}"
    try:
        summary = run_config(
            cfg,
            seed=run_seed,
            seconds=seconds,
            out_dir=out_dir,
            clock="wall" if mode == "wall" else "virtual",
            sample_interval=sample_interval,
            on_warning=lambda warning: typer.echo(f"warning: {warning}", err=True),
            progress=True,
            report=report,
        )
    except ConfigError as exc:
        invalid(exc.problems)
    print_summary(summary, config=config, out_dir=out_dir)


def run_config(
    cfg: RunConfig,
    *,
    seed: int,
    seconds: float,
    out_dir: Path,
    clock: Literal["virtual", "wall"] = "virtual",
    sample_interval: float = 60.0,
    on_warning: Callable[[str], None] | None = None,
    progress: bool = False,
    report: bool = True,
) -> dict[str, Any]:
    """Run a loaded config for ``seconds`` and write its run directory; the summary.

    The one place a config becomes a finished run, shared by ``esmsim run`` and the
    sweep workers so that a sweep's run directory is exactly what ``esmsim run
    --out`` would write for the same settings. ``progress`` draws the bar (on a TTY
    only); sweep workers leave it off, as several processes share one terminal.
    ``report=False`` skips ``report.html`` (``esmsim report DIR`` draws it later from
    ``summary.json`` and ``results.sqlite``).

    Raises:
        ConfigError: AWS's create-time errors, each with its resource's path.
    """
    log = get_logger(config=str(cfg.path))
    with Simulation(
        seed=seed,
        clock=clock,
        start_time=cfg.start_time,
        region=cfg.region,
        account_id=cfg.account_id,
        # The results database records every invocation; a Python-side log would
        # keep every batch alive for the whole run.
        invocation_log=0,
    ) as sim:
        # Lines logged from this thread carry the simulation's time too.
        token = current_clock.set(sim.clock)
        try:
            return _build_and_run(
                sim, cfg, seconds, out_dir, sample_interval, log, on_warning, progress, report
            )
        finally:
            current_clock.reset(token)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def _build_and_run(
    sim: Simulation,
    cfg: RunConfig,
    seconds: float,
    out_dir: Path,
    interval: float,
    log: Any,
    on_warning: Callable[[str], None] | None,
    progress: bool,
    report: bool,
) -> dict[str, Any]:
    from ..results import Recorder

    names: dict[str, str] = {}
    echo: Any = None
    build = getattr(cfg, "build", None)
    if build is not None:
        built = build(sim)
        for warning in getattr(built, "warnings", None) or []:
            if on_warning is not None:
                on_warning(warning)
        for logical_id, mapping in (getattr(built, "mappings", None) or {}).items():
            names[str(mapping.uuid)] = str(logical_id)
        echo_fn = getattr(built, "echo", None) or getattr(cfg, "echo", None)
        echo = echo_fn() if callable(echo_fn) else None
    recorder = Recorder(
        sim, out_dir, sample_interval=interval, config_echo=echo, names=names, report=report
    )
    recorder.attach()
    log.info("run.start", seed=sim.seed, clock=sim.clock_mode, duration_s=seconds)
    _advance(sim, seconds, progress=progress)
    log.info("run.complete", simulated_s=sim.clock.elapsed())
    return recorder.finish()


def _advance(sim: Simulation, seconds: float, *, progress: bool) -> None:
    """Run ``seconds`` in chunks, with a progress bar in simulated time on a TTY."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    console = Console(stderr=True)
    begin = sim.clock.elapsed()
    steps = PROGRESS_STEPS if seconds > 0 else 1
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[at]}"),
        console=console,
        transient=True,
        disable=not (progress and console.is_terminal),
    ) as bar:
        task = bar.add_task("run", total=seconds or 1.0, at="")
        for step in range(1, steps + 1):
            # Absolute targets: chunks never accumulate float error.
            target = begin + seconds * step / steps
            sim.run_sync(max(0.0, target - sim.clock.elapsed()))
            bar.update(
                task,
                completed=sim.clock.elapsed() - begin,
                at=f"{sim.clock.wall():%Y-%m-%d %H:%M:%S}Z",
            )


def print_summary(summary: dict[str, Any], *, config: Path | None, out_dir: Path) -> None:
    """The per-mapping table and the conservation line, on stdout."""
    from rich.console import Console
    from rich.table import Table

    from ..results import conservation_line

    if config is not None:
        typer.echo(f"config      {config}")
    typer.echo(f"seed        {summary['seed']}")
    typer.echo(f"clock       {summary['clock']}")
    typer.echo(f"simulated   {float(summary['simulated_seconds']):.3f} s")
    typer.echo(f"ended at    {summary['end'][:19]}Z")
    mappings = summary.get("mappings", {})
    if mappings:
        table = Table(title="event source mappings", title_justify="left")
        columns = (
            ("mapping", "name"),
            ("invocations", "invocations"),
            ("errors", "errors"),
            ("throttles", "throttles"),
            ("delivered", "delivered"),
            ("filtered", "filtered"),
            ("discarded", "discarded"),
            ("dead-lettered", "dead_lettered"),
            ("expired", "expired"),
            ("pending", "pending"),
            ("max age", ""),
        )
        for header, _ in columns:
            table.add_column(header, justify="left" if header == "mapping" else "right")
        for uuid in sorted(mappings, key=lambda u: (str(mappings[u].get("name")), u)):
            m = mappings[uuid]
            cells = [str(m.get("name", uuid))]
            cells += [f"{int(m.get(key, 0)):,}" for _, key in columns[1:-1]]
            if "iterator_age_max_ms" in m:
                cells.append(f"{int(m['iterator_age_max_ms']):,} ms")
            else:
                cells.append(f"{int(m.get('oldest_message_age_max_s', 0)):,} s")
            table.add_row(*cells)
        Console(width=160).print(table)
    typer.echo(conservation_line(summary))
    typer.echo(f"results     {out_dir}")
