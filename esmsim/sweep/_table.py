"""The sweep's table: one row per (setting, seed), in plan order, as ``sweep.csv``.

Every cell is derived from the run's summary alone (no wall time, no host names,
no completion order), so the same sweep writes the same bytes on any executor.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._metrics import Metric, MetricError, Value, evaluate
from ._plan import Plan, Run, cell
from ._worker import RunResult

__all__ = ("TOTAL_COLUMNS", "Row", "csv_text", "header", "make_row", "write_csv")

TOTAL_COLUMNS = ("records", "delivered", "invocations", "errors")
"""Totals over all mappings from ``summary.json``, next to the chosen metrics."""


@dataclass(frozen=True)
class Row:
    """One run's line of the table."""

    run: Run
    metric: Value
    extras: tuple[Value, ...]
    totals: tuple[Value, ...]
    conservation_ok: bool | None
    error: str | None


def make_row(plan: Plan, run: Run, result: RunResult) -> Row:
    """The row for ``result``.

    Raises:
        MetricError: a metric path that this run's summary does not have.
    """
    summary = result.summary
    if summary is None:
        first_line = (result.error or "failed").splitlines()[0]
        empty = (None,) * len(plan.spec.metrics)
        return Row(run, None, empty, (None,) * len(TOTAL_COLUMNS), None, first_line)
    metric = _evaluate("metric", plan.spec.metric, summary)
    extras = tuple(_evaluate(f"metrics[{i}]", m, summary) for i, m in enumerate(plan.spec.metrics))
    totals_section: dict[str, Any] = summary.get("totals", {})
    totals = tuple(_number(totals_section.get(key)) for key in TOTAL_COLUMNS)
    ok = summary.get("conservation", {}).get("ok")
    return Row(run, metric, extras, totals, bool(ok) if ok is not None else None, None)


def header(plan: Plan) -> list[str]:
    spec = plan.spec
    return [
        "run",
        *(axis.path for axis in spec.grid),
        "seed",
        spec.metric.text,
        *(m.text for m in spec.metrics),
        *TOTAL_COLUMNS,
        "conservation_ok",
        "run_error",
    ]


def cells(row: Row) -> list[str]:
    return [
        row.run.run_id,
        *(cell(v) for v in row.run.point.values),
        str(row.run.seed),
        cell(row.metric),
        *(cell(v) for v in row.extras),
        *(cell(v) for v in row.totals),
        cell(row.conservation_ok),
        row.error or "",
    ]


def csv_text(plan: Plan, rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header(plan))
    for row in rows:
        writer.writerow(cells(row))
    return buf.getvalue()


def write_csv(path: Path, plan: Plan, rows: list[Row]) -> None:
    path.write_text(csv_text(plan, rows), encoding="utf-8", newline="")


def _evaluate(field: str, metric: Metric, summary: dict[str, Any]) -> Value:
    try:
        return evaluate(metric, summary)
    except MetricError as exc:
        raise MetricError(f"{field}: {metric.text}: {exc}") from None


def _number(value: Any) -> Value:
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int | float) else None
