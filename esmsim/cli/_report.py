"""``esmsim report DIR``: re-render report.html from a finished run, print its summary."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer

from ._app import app, invalid

__all__ = ("report",)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by esmsim run.")],
) -> None:
    """Re-render DIR/report.html from DIR/results.sqlite and DIR/summary.json."""
    from ..results import read_summary, write_report
    from ._run import print_summary

    summary_path = run_dir / "summary.json"
    db_path = run_dir / "results.sqlite"
    problems = [f"{p}: not found" for p in (summary_path, db_path) if not p.is_file()]
    if problems:
        invalid(problems)
    try:
        summary = read_summary(summary_path)
    except ValueError as exc:
        invalid([f"{summary_path}: {exc}"])
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            samples = [
                (float(t), str(m), str(d), float(v), str(u))
                for m, d, t, v, u in db.execute(
                    "SELECT metric, dimensions, timestamp, value, unit FROM metric_samples "
                    "ORDER BY timestamp, metric, dimensions"
                )
            ]
    except sqlite3.Error as exc:
        invalid([f"{db_path}: {exc}"])
    write_report(run_dir / "report.html", summary, samples)
    print_summary(summary, config=None, out_dir=run_dir)
    typer.echo(f"report      {run_dir / 'report.html'}")
