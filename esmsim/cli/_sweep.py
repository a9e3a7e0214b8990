"""``esmsim sweep``: run a config under a grid of overrides and seeds, tabulate one metric.

Everything is checked before the first run starts: the sweep file, the config,
each grid path, and every grid point through the config's own checks (the same
as ``esmsim validate``), so a bad combination costs nothing. Runs then execute in
local processes or on a Dask cluster; the table is in plan order whatever order
they finish in.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from .._core._logging import get_logger
from ..sweep import (
    DaskMissing,
    MetricError,
    Plan,
    Row,
    RunResult,
    SchedulerUnreachable,
    SweepError,
    default_workers,
    load_sweep,
    make_plan,
    make_row,
    run_dask,
    run_local,
    write_csv,
    write_svg,
)
from ._app import EXIT_FAILURE, LogFormatOption, app, configure_logs, invalid

__all__ = ("sweep",)


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(metavar="SWEEP.yaml", help="The sweep file.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The sweep directory (default sweeps/<sweep file name>)."),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="local (processes on this machine) or dask.")
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes running at once (default: the CPU count); with --executor dask "
            "and no --scheduler, the size of the local Dask cluster.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A Dask scheduler address (tcp://host:8786); default: a local cluster.",
        ),
    ] = None,
    log_format: LogFormatOption = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="debug, info, warning or error (default warning: every run logs, "
            "from several processes at once).",
        ),
    ] = "warning",
) -> None:
    """Run a config under a grid of overrides x seeds; tabulate and plot one metric.

    Writes DIR/sweep.csv, DIR/sweep.svg and DIR/runs/<run id>/ (each as esmsim run
    --out writes it). Every grid point is checked before the first run starts.
    """
    started = time.perf_counter()  # display only: the wall time the sweep took
    configure_logs(log_format, log_level)
    problems = _option_problems(executor, workers, scheduler)
    try:
        spec = load_sweep(sweep_file)
    except SweepError as exc:
        problems.extend(exc.problems)
    if problems:
        invalid(problems)
    try:
        plan = make_plan(spec)
    except SweepError as exc:
        invalid(exc.problems)
    for warning in plan.warnings:
        typer.echo(f"warning: {warning}", err=True)
    out_dir = out if out is not None else Path("sweeps") / _slug(sweep_file.stem)
    count = workers or default_workers()
    tasks = [plan.task(run, log_format=log_format, log_level=log_level) for run in plan.runs]
    if executor == "dask":
        results = run_dask(tasks, scheduler=scheduler, workers=count)
        where = f"dask ({scheduler})" if scheduler else f"dask (local cluster, {count} workers)"
    else:
        results = run_local(tasks, count)
        where = f"local ({min(count, len(tasks))} processes)"
    log = get_logger(sweep=str(sweep_file))
    log.info("sweep.start", runs=len(tasks), executor=where, out=str(out_dir))
    try:
        rows, failed = _collect(plan, results, out_dir, log)
    except SchedulerUnreachable as exc:
        typer.echo(f"error: --scheduler: {exc}", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    except MetricError as exc:
        invalid([str(exc)])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / "sweep.csv", plan, rows)
    write_svg(out_dir / "sweep.svg", plan, rows)
    _print_results(plan, rows, sweep_file, out_dir, where)
    typer.echo(f"wall time   {time.perf_counter() - started:.1f} s")
    if failed:
        typer.echo(f"error: {failed} of {len(rows)} runs failed (see above)", err=True)
        raise typer.Exit(EXIT_FAILURE)


def _option_problems(executor: str, workers: int | None, scheduler: str | None) -> list[str]:
    problems = []
    if executor not in ("local", "dask"):
        problems.append(f"--executor: {executor!r} is not one of: local, dask")
    if workers is not None and workers < 1:
        problems.append(f"--workers: must be 1 or more, got {workers}")
    if scheduler is not None and executor != "dask":
        problems.append("--scheduler: only used with --executor dask")
    elif scheduler is not None and workers is not None:
        problems.append("--workers: the cluster at --scheduler has its own workers; drop --workers")
    if executor == "dask" and importlib.util.find_spec("distributed") is None:
        problems.append(f"--executor: {DaskMissing('distributed')}")
    return problems


def _collect(
    plan: Plan, results: Iterator[tuple[int, RunResult]], out_dir: Path, log: Any
) -> tuple[list[Row], int]:
    """Rows in plan order; each run's directory written as its result arrives."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    rows: list[Row | None] = [None] * len(plan.runs)
    failed = 0
    console = Console(stderr=True)
    with Progress(
        TextColumn("sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("sweep", total=len(plan.runs))
        try:
            for index, result in results:
                run = plan.runs[index]
                _write_run_dir(out_dir / "runs" / run.run_id, result)
                rows[index] = make_row(plan, run, result)
                if result.error is not None:
                    failed += 1
                    bar.console.print(
                        f"error: run {run.run_id} ({plan.describe(run.point)}, seed {run.seed}) "
                        f"failed: {result.error}",
                        markup=False,
                        highlight=False,
                    )
                log.info("sweep.run.complete", run=run.run_id, ok=result.error is None)
                bar.advance(task)
        finally:
            if isinstance(results, Generator):
                results.close()  # stop the executor now: cancel what has not started
    assert all(row is not None for row in rows)
    return [row for row in rows if row is not None], failed


def _write_run_dir(run_dir: Path, result: RunResult) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, data in result.files:
        (run_dir / name).write_bytes(data)


def _print_results(
    plan: Plan, rows: list[Row], sweep_file: Path, out_dir: Path, where: str
) -> None:
    """The results table on stdout (what sweep.csv holds, with short column names)."""
    from rich.console import Console
    from rich.table import Table

    from ..sweep._metrics import short_names
    from ..sweep._plan import cell

    spec = plan.spec
    seeds = len(spec.seeds or (0,))
    typer.echo(f"sweep       {sweep_file}")
    typer.echo(f"config      {spec.config_label}")
    typer.echo(f"metric      {spec.metric.text}")
    settings = _plural(len(plan.points), "setting")
    typer.echo(f"runs        {len(rows)} ({settings} x {_plural(seeds, 'seed')}), {where}")
    table = Table(title="sweep results", title_justify="left")
    table.add_column("run")
    for label in plan.labels:
        table.add_column(label, justify="right")
    table.add_column("seed", justify="right")
    for name in short_names((spec.metric, *spec.metrics)):
        table.add_column(name, justify="right")
    table.add_column("conservation")
    for row in rows:
        verdict = "FAILED" if row.error else "OK" if row.conservation_ok else "MISMATCH"
        table.add_row(
            row.run.run_id,
            *(cell(v) for v in row.run.point.values),
            str(row.run.seed),
            cell(row.metric) or "-",
            *(cell(v) or "-" for v in row.extras),
            verdict,
        )
    Console(width=160).print(table)
    typer.echo(f"table       {out_dir / 'sweep.csv'}")
    typer.echo(f"plot        {out_dir / 'sweep.svg'}")
    runs = out_dir / "runs"
    if spec.reports:
        typer.echo(f"run dirs    {runs}")
    else:
        typer.echo(f"run dirs    {runs} (no report.html: esmsim report {runs}/<run> draws one)")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "sweep"
