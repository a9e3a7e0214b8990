"""``sweep.svg``: the chosen metric per setting, the mean over seeds with its min-max.

The last grid axis is the x axis (its values evenly spaced, in file order); every
combination of the other axes is one line. Each seed's value is a small dot next
to the mean, so the seed-to-seed spread is visible, not just summarised.

Rendered with matplotlib's object API (no pyplot, no global backend) to SVG with a
fixed hash salt and no date, so the same table draws the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from ._metrics import short_names
from ._plan import Plan, Point, cell
from ._table import Row

__all__ = ("render_svg", "write_svg")

_WIDTH = 0.24  # the share of an x slot the lines of one x value spread over


def render_svg(plan: Plan, rows: list[Row]) -> str:
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    values: dict[int, list[float]] = {}
    for row in rows:
        if row.metric is not None:
            values.setdefault(row.run.point.index, []).append(float(row.metric))
    grid = plan.spec.grid
    if grid:
        xs = list(grid[-1].values)
        xlabel = plan.labels[-1]
    else:
        xs, xlabel = ["defaults"], "setting"
    series = _series(plan)
    seeds = len(plan.spec.seeds or (0,))
    with matplotlib.rc_context({"svg.hashsalt": "esmsim-sweep", "svg.fonttype": "none"}):
        fig = Figure(figsize=(8.0, 4.5))
        FigureCanvasSVG(fig)
        ax = fig.add_subplot(1, 1, 1)
        fig.subplots_adjust(left=0.12, right=0.72 if len(series) > 1 else 0.96, bottom=0.14)
        for number, (label, points) in enumerate(series):
            shift = _shift(number, len(series))
            colour = f"C{number % 10}"
            mean_x, mean_y, low, high = [], [], [], []
            for slot, point in enumerate(points):
                found = values.get(point.index, [])
                if not found:
                    continue
                x = slot + shift
                mean = sum(found) / len(found)
                mean_x.append(x)
                mean_y.append(mean)
                low.append(mean - min(found))
                high.append(max(found) - mean)
                ax.plot([x] * len(found), found, "o", color=colour, alpha=0.35, markersize=3)
            if mean_x:
                ax.errorbar(
                    mean_x,
                    mean_y,
                    yerr=[low, high],
                    color=colour,
                    marker="o",
                    capsize=3,
                    label=label,
                )
        ax.set_xticks(range(len(xs)), [cell(x) for x in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(short_names((plan.spec.metric,))[0])
        spread = f"mean of {seeds} seeds, bars min-max" if seeds > 1 else "one seed"
        ax.set_title(f"{plan.spec.metric.text}\n({spread})", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        if not values:
            ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center", va="center")
        if len(series) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "esmsim"})
    return buf.getvalue()


def write_svg(path: Path, plan: Plan, rows: list[Row]) -> None:
    path.write_text(render_svg(plan, rows), encoding="utf-8")


def _series(plan: Plan) -> list[tuple[str, list[Point]]]:
    """One line per combination of all axes but the last, in grid order."""
    grid = plan.spec.grid
    if not grid:
        return [("", list(plan.points))]
    per_line = len(grid[-1].values)
    out = []
    for start in range(0, len(plan.points), per_line):
        points = list(plan.points[start : start + per_line])
        label = ", ".join(
            f"{lab}={cell(v)}" for lab, v in zip(plan.labels[:-1], points[0].values, strict=False)
        )
        out.append((label, points))
    return out


def _shift(number: int, count: int) -> float:
    """Lines side by side within an x slot, so error bars do not hide each other."""
    if count == 1:
        return 0.0
    return -_WIDTH / 2 + _WIDTH * number / (count - 1)
