"""``report.html``: one self-contained page (inline SVG plots, inline CSS, no script).

Plots are drawn with matplotlib's object API (no pyplot, no GUI backend) into
SVG text embedded in the page, so it opens from disk with no server, CDN or
side files, and runs no JavaScript.
"""

from __future__ import annotations

import html
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._cost import GB_SECOND_USD, REQUEST_USD_PER_MILLION
from ._histogram import STATISTICS
from ._outputs import COUNT_COLUMNS, conservation_line

__all__ = ("PLOTS", "render_report", "write_report")

PLOTS = (
    ("latency-percentiles", "End-to-end latency and iterator age percentiles per period"),
    ("iterator-age", "Iterator age per shard (max per period)"),
    ("stream-backlog", "Stream backlog: records not yet settled, per mapping"),
    ("queue-backlog", "Queue backlog and age of the oldest message"),
    ("concurrency", "Concurrent executions (max per period)"),
    ("invocations", "Invocations, errors and throttles per period"),
    ("record-states", "Records by final state per period"),
    ("cost", "Estimated cost, cumulative, per function"),
)
"""(DOM id, title) of every plot the report contains, in order."""

Sample = tuple[float, str, str, float, str]


_MAPPING = ("EventSourceMappingUUID", "FunctionName")
_UUID = ("EventSourceMappingUUID",)
# Percentile lines drawn over time: fewer than the table holds, to stay readable.
_PLOTTED_STATISTICS = (("p50", ":"), ("p99", "-"))


def _series(
    samples: Iterable[Sample], metric: str, key: tuple[str, ...], dims: tuple[str, ...] = ()
) -> dict[str, list[tuple[float, float]]]:
    """Points of ``metric`` whose dimensions are exactly ``dims`` (default ``key``),
    one series per value of the ``key`` dimensions."""
    wanted = set(dims or key)
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for at, name, dims_text, value, _ in samples:
        if name != metric:
            continue
        parsed = json.loads(dims_text)
        if set(parsed) != wanted:
            continue
        label = " ".join(str(parsed[k]) for k in key)
        out[label].append((at, float(value)))
    return {k: sorted(v) for k, v in sorted(out.items())}


def _svg(fig: Any) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "esmsim"})
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _figure(rows: int = 1) -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "esmsim"
    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib.figure import Figure

    # Fixed margins: constrained/tight layout cost more than the drawing itself.
    fig = Figure(figsize=(9.5, 3.2 * rows))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.97, bottom=0.14 / rows + 0.02, hspace=0.3)
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    return fig, axes


def _scale(start: float, end: float) -> tuple[float, str]:
    span = max(end - start, 0.0)
    if span <= 2 * 3600:
        return 60.0, "simulated minutes since start"
    return 3600.0, "simulated hours since start"


def _plot_lines(
    ax: Any,
    series: dict[str, list[tuple[float, float]]],
    start: float,
    unit: float,
    *,
    prefix: str = "",
) -> int:
    drawn = 0
    for label, points in series.items():
        xs = [(t - start) / unit for t, _ in points]
        ys = [v for _, v in points]
        ax.plot(xs, ys, marker="." if len(xs) < 40 else None, linewidth=1.2, label=prefix + label)
        drawn += 1
    return drawn


def _finish_axes(ax: Any, xlabel: str, ylabel: str, drawn: int) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if ax.get_yscale() == "linear":
        # Plain numbers: an offset such as "1e7" sits above the axes, cut by the margin.
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    if drawn:
        ax.legend(fontsize="small", loc="upper left", ncols=2 if drawn > 6 else 1)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)


def _mapping_names(summary: dict[str, Any]) -> dict[str, str]:
    """Legend label per mapping UUID: its name in the summary (config logical id)."""
    return {
        uuid: str(m.get("name", uuid)) for uuid, m in sorted(summary.get("mappings", {}).items())
    }


def _percentile_lines(
    ax: Any,
    samples: list[Sample],
    metric: str,
    names: dict[str, str],
    start: float,
    unit: float,
    interval: float,
) -> int:
    """p50 (dotted) and p99 (solid) of ``metric`` per mapping, from its ``Statistic`` rows.

    A period without values has no row: the line breaks there instead of
    joining two bursts hours apart, and markers keep a lone period visible.
    """
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    wanted = {stat for stat, _ in _PLOTTED_STATISTICS}
    for at, name, dims_text, value, _ in samples:
        if name != metric:
            continue
        parsed = json.loads(dims_text)
        stat = parsed.get("Statistic")
        if stat in wanted:
            points[(str(parsed.get("EventSourceMappingUUID")), stat)].append((at, float(value)))
    drawn = 0
    for uuid in sorted({uuid for uuid, _ in points}):
        for stat, style in _PLOTTED_STATISTICS:
            picked = sorted(points.get((uuid, stat), []))
            if not picked:
                continue
            xs: list[float] = []
            ys: list[float] = []
            last = None
            for t, v in picked:
                if last is not None and t - last > 1.5 * interval:
                    xs.append((last - start) / unit)
                    ys.append(math.nan)
                xs.append((t - start) / unit)
                ys.append(v)
                last = t
            ax.plot(
                xs,
                ys,
                linestyle=style,
                marker=".",
                markersize=4,
                linewidth=1.2,
                label=f"{names.get(uuid, uuid)} {stat}",
            )
            drawn += 1
    if drawn:
        # Latencies span milliseconds to hours: log above 1 ms, linear below (0 stays).
        ax.set_yscale("symlog", linthresh=1.0)
    return drawn


def _plots(
    summary: dict[str, Any], samples: list[Sample], start: float, end: float
) -> dict[str, str]:
    unit, xlabel = _scale(start, end)
    out: dict[str, str] = {}
    names = _mapping_names(summary)
    interval = float(summary.get("sample_interval_seconds") or 60.0)

    fig, (ax1, ax2) = _figure(2)
    for ax in (ax1, ax2):  # one time axis for both, though values exist only when records flow
        ax.set_xlim(0.0, max(end - start, interval) / unit)
    _finish_axes(
        ax1,
        xlabel,
        "end-to-end latency (ms)",
        _percentile_lines(ax1, samples, "EndToEndLatency", names, start, unit, interval),
    )
    _finish_axes(
        ax2,
        xlabel,
        "IteratorAge (ms)",
        _percentile_lines(ax2, samples, "IteratorAge", names, start, unit, interval),
    )
    out["latency-percentiles"] = _svg(fig)

    fig, (ax,) = _figure()
    shards = _series(samples, "IteratorAge", ("FunctionName", "ShardId"), (*_MAPPING, "ShardId"))
    drawn = _plot_lines(ax, shards, start, unit)
    if not drawn:
        per_mapping = _series(samples, "IteratorAge", ("FunctionName",), _MAPPING)
        drawn = _plot_lines(ax, per_mapping, start, unit)
    _finish_axes(ax, xlabel, "IteratorAge (ms)", drawn)
    out["iterator-age"] = _svg(fig)

    fig, (ax,) = _figure()
    backlog = {
        names.get(uuid, uuid): points
        for uuid, points in _series(samples, "StreamBacklog", _UUID, _MAPPING).items()
    }
    _finish_axes(ax, xlabel, "records not yet settled", _plot_lines(ax, backlog, start, unit))
    out["stream-backlog"] = _svg(fig)

    fig, (ax1, ax2) = _figure(2)
    drawn = 0
    for metric, short in (
        ("ApproximateNumberOfMessagesVisible", "visible"),
        ("ApproximateNumberOfMessagesNotVisible", "in flight"),
        ("ApproximateNumberOfMessagesDelayed", "delayed"),
    ):
        series = {f"{k} {short}": v for k, v in _series(samples, metric, ("QueueName",)).items()}
        drawn += _plot_lines(ax1, series, start, unit)
    _finish_axes(ax1, xlabel, "messages", drawn)
    ages = _series(samples, "ApproximateAgeOfOldestMessage", ("QueueName",))
    _finish_axes(ax2, xlabel, "oldest message age (s)", _plot_lines(ax2, ages, start, unit))
    out["queue-backlog"] = _svg(fig)

    fig, (ax,) = _figure()
    conc = _series(samples, "ConcurrentExecutions", ("FunctionName",))
    _finish_axes(ax, xlabel, "concurrent executions", _plot_lines(ax, conc, start, unit))
    out["concurrency"] = _svg(fig)

    fig, (ax,) = _figure()
    drawn = 0
    for metric in ("Invocations", "Errors", "Throttles"):
        series = {
            f"{k} {metric}": v for k, v in _series(samples, metric, ("FunctionName",)).items()
        }
        drawn += _plot_lines(ax, series, start, unit)
    _finish_axes(ax, xlabel, "per period", drawn)
    out["invocations"] = _svg(fig)

    fig, (ax,) = _figure()
    totals: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for at, name, dims, value, _ in samples:
        if name == "RecordsSettled":
            totals[json.loads(dims)["State"]][at] += float(value)
    times = sorted({t for per in totals.values() for t in per})
    drawn = 0
    if times:
        xs = [(t - start) / unit for t in times]
        stacks = [[totals[s].get(t, 0.0) for t in times] for s in sorted(totals)]
        if any(any(v for v in row) for row in stacks):
            ax.stackplot(xs, *stacks, labels=sorted(totals), alpha=0.8)
            drawn = len(stacks)
    _finish_axes(ax, xlabel, "records per period", drawn)
    out["record-states"] = _svg(fig)

    fig, (ax,) = _figure()
    drawn = _cost_lines(ax, summary, samples, start, unit)
    _finish_axes(ax, xlabel, "estimated USD, cumulative", drawn)
    out["cost"] = _svg(fig)
    return out


def _cost_lines(
    ax: Any, summary: dict[str, Any], samples: list[Sample], start: float, unit: float
) -> int:
    """Cumulative cost per function from the per-period Invocations and GBSeconds."""
    arch = {
        name: str(f.get("architecture", "x86_64"))
        for name, f in summary.get("cost", {}).get("functions", {}).items()
    }
    requests = _series(samples, "Invocations", ("FunctionName",))
    gb_seconds = _series(samples, "GBSeconds", ("FunctionName",))
    series: dict[str, list[tuple[float, float]]] = {}
    for name in sorted(set(requests) | set(gb_seconds)):
        price = GB_SECOND_USD.get(arch.get(name, "x86_64"), GB_SECOND_USD["x86_64"])
        per_period: dict[float, float] = defaultdict(float)
        for at, value in requests.get(name, []):
            per_period[at] += value * REQUEST_USD_PER_MILLION / 1_000_000
        for at, value in gb_seconds.get(name, []):
            per_period[at] += value * price
        total = 0.0
        points = []
        for at in sorted(per_period):
            total += per_period[at]
            points.append((at, total))
        series[name] = points
    return _plot_lines(ax, series, start, unit)


def _table(summary: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in COUNT_COLUMNS)
    rows = []
    for uuid in sorted(summary.get("mappings", {})):
        m = summary["mappings"][uuid]
        cells = "".join(f"<td>{int(m.get(c, 0)):,}</td>" for c in COUNT_COLUMNS)
        age = m.get("iterator_age_max_ms", m.get("oldest_message_age_max_s", ""))
        unit = "ms" if "iterator_age_max_ms" in m else "s"
        rows.append(
            f"<tr><td>{html.escape(str(m.get('name', uuid)))}<br><small>{html.escape(uuid)}"
            f"</small></td>{cells}<td>{age} {unit}</td></tr>"
        )
    return (
        f"<table><tr><th>mapping</th>{head}<th>max age</th></tr>{''.join(rows)}</table>"
        if rows
        else "<p>No event source mapping.</p>"
    )


def _percentile_table(summary: dict[str, Any]) -> str:
    rows = []
    for uuid in sorted(summary.get("mappings", {})):
        m = summary["mappings"][uuid]
        for metric, values in sorted(m.get("percentiles", {}).items()):
            cells = "".join(
                f"<td>{'' if values.get(k) is None else values.get(k)}</td>"
                for k in ("count", *STATISTICS)
            )
            rows.append(
                f"<tr><td>{html.escape(str(m.get('name', uuid)))}</td>"
                f"<td>{html.escape(metric)}</td>{cells}</tr>"
            )
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(k)}</th>" for k in ("count", *STATISTICS))
    return f"<table><tr><th>mapping</th><th>metric</th>{head}</tr>{''.join(rows)}</table>"


_COST_COLUMNS = (
    ("architecture", "architecture"),
    ("memory_size_mb", "memory (MB)"),
    ("requests", "requests"),
    ("billed_duration_ms", "billed duration (ms)"),
    ("gb_seconds", "GB-seconds"),
    ("request_usd", "requests (USD)"),
    ("duration_usd", "duration (USD)"),
    ("total_usd", "total (USD)"),
)


def _cost_cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return "<td></td>"
    if key.endswith("_usd"):
        return f"<td>{float(value):,.6f}</td>"
    if key == "gb_seconds":
        return f"<td>{float(value):,.3f}</td>"
    if isinstance(value, int | float):
        return f"<td>{int(value):,}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _cost_table(summary: dict[str, Any]) -> str:
    """Per-function estimate, a total row, and the prices it assumed."""
    cost = summary.get("cost")
    if not cost:
        return "<p>No cost estimate in this run's summary.</p>"
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in _COST_COLUMNS)
    rows = []
    for name in sorted(cost.get("functions", {})):
        f = cost["functions"][name]
        cells = "".join(_cost_cell(k, f.get(k)) for k, _ in _COST_COLUMNS)
        rows.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
    totals = cost.get("totals", {})
    cells = "".join(
        _cost_cell(k, totals.get(k)) if k in totals else "<td></td>" for k, _ in _COST_COLUMNS
    )
    rows.append(f"<tr><th>total</th>{cells}</tr>")
    prices = cost.get("prices", {})
    per_gb_s = prices.get("duration_usd_per_gb_second", {})
    gb_s_text = ", ".join(
        f"${float(v):.10f} ({html.escape(k)})" for k, v in sorted(per_gb_s.items())
    )
    note = (
        f"<p><small>On-demand prices, {html.escape(str(prices.get('region', '')))}: "
        f"${float(prices.get('request_usd_per_million', 0)):.2f} per 1M requests; "
        f"{gb_s_text} per GB-second "
        f"({html.escape(str(prices.get('duration_tier', '')))} tier). Duration billed per "
        "invocation rounded up to 1 ms, at MemorySize / 1024 GB; throttles are not billed; "
        f"free tier {html.escape(str(prices.get('free_tier', 'ignored')))}. Source: "
        f"{html.escape(str(prices.get('source', '')))}</small></p>"
    )
    return f"<table><tr><th>function</th>{head}</tr>{''.join(rows)}</table>{note}"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}
figure svg{max-width:100%;height:auto}.ok{color:#060}.bad{color:#a00}code{font-size:.9em}
"""


def render_report(summary: dict[str, Any], samples: list[Sample]) -> str:
    """The report page as text."""
    from datetime import datetime

    def epoch(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    start = epoch(summary["start"])
    end = epoch(summary["end"])
    plots = _plots(summary, samples, start, end)
    ok = summary.get("conservation", {}).get("ok", False)
    figures = "".join(
        f'<figure id="plot-{pid}" class="plot"><figcaption><h2>{html.escape(title)}</h2>'
        f"</figcaption>{plots[pid]}</figure>"
        for pid, title in PLOTS
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>esmsim run: seed {summary.get('seed')}</title><style>{_CSS}</style></head><body>"
        f"<h1>esmsim run: seed {summary.get('seed')}, {html.escape(str(summary.get('clock')))}"
        " clock</h1>"
        f"<p>Simulated {html.escape(summary['start'])} to {html.escape(summary['end'])} "
        f"({float(summary.get('simulated_seconds', 0)):,.0f} s); samples every "
        f"{summary.get('sample_interval_seconds')} s.</p>"
        f"<h2>Mappings</h2>{_table(summary)}"
        f"<p class='{'ok' if ok else 'bad'}'><code>{html.escape(conservation_line(summary))}"
        "</code></p>"
        f"<h2>Percentiles</h2>{_percentile_table(summary)}"
        f"<h2>Estimated cost</h2>{_cost_table(summary)}"
        f"{figures}</body></html>\n"
    )


def write_report(path: Path, summary: dict[str, Any], samples: list[Sample]) -> None:
    path.write_text(render_report(summary, samples), encoding="utf-8")
