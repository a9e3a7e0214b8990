"""From a checked sweep file to the list of runs, every grid point validated first.

The grid expands in file order, the first axis varying slowest (``itertools.product``),
then each point runs once per seed in the order listed. That order is the table's
row order and fixes the run ids (``03-seed2``: the third point, seed 2), so nothing
depends on which run finishes first.
"""

from __future__ import annotations

import difflib
import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

from ..config import RunConfig
from ._configs import Override, apply, check_point, parse_document
from ._paths import locate
from ._spec import Axis, SweepError, SweepSpec
from ._worker import RunTask

__all__ = ("Plan", "Point", "Run", "cell", "expand", "make_plan", "short_labels")

_ESM_TYPE = "AWS::Lambda::EventSourceMapping"


@dataclass(frozen=True)
class Point:
    """One setting: a value per axis (``index`` counts from 0 in grid order)."""

    index: int
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Run:
    """One (setting, seed): what a worker runs and a table row describes."""

    run_id: str
    point: Point
    seed: int
    seconds: float


@dataclass(frozen=True)
class Plan:
    """A sweep ready to run: every run, and the config text each worker needs."""

    spec: SweepSpec
    config_text: str
    labels: tuple[str, ...]
    points: tuple[Point, ...]
    runs: tuple[Run, ...]
    warnings: tuple[str, ...]

    def overrides(self, point: Point) -> tuple[Override, ...]:
        return tuple(
            (axis.segments, value) for axis, value in zip(self.spec.grid, point.values, strict=True)
        )

    def describe(self, point: Point) -> str:
        """``BatchSize=10, ParallelizationFactor=2`` (``defaults`` with an empty grid)."""
        pairs = [f"{lab}={cell(v)}" for lab, v in zip(self.labels, point.values, strict=True)]
        return ", ".join(pairs) or "defaults"

    def task(self, run: Run, *, log_format: str | None, log_level: str) -> RunTask:
        return RunTask(
            run_id=run.run_id,
            config_path=str(self.spec.config),
            config_text=self.config_text,
            overrides=self.overrides(run.point),
            seed=run.seed,
            seconds=run.seconds,
            sample_interval=self.spec.sample_interval,
            report=self.spec.reports,
            log_format=log_format,
            log_level=log_level,
        )


def expand(grid: tuple[Axis, ...]) -> tuple[Point, ...]:
    """Every combination, the first axis varying slowest."""
    combos = itertools.product(*(axis.values for axis in grid))
    return tuple(Point(index, tuple(values)) for index, values in enumerate(combos))


def short_labels(grid: tuple[Axis, ...]) -> tuple[str, ...]:
    """Column labels: each path's last key, lengthened only as far as needed to tell
    two paths apart (``OrdersMapping.Properties.BatchSize``)."""
    parts = [axis.path.split(".") for axis in grid]
    labels = []
    for mine in parts:
        for take in range(1, len(mine) + 1):
            tail = mine[-take:]
            if sum(1 for other in parts if other[-take:] == tail) == 1:
                break
        labels.append(".".join(tail))
    return tuple(labels)


def cell(value: Any) -> str:
    """A grid value or metric as table text: the same text for the same value, always."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(round(value, 6))
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def make_plan(spec: SweepSpec) -> Plan:
    """Check the config, each grid path and every grid point, then list the runs.

    Raises:
        SweepError: every problem, each naming its field or its config path and the
            grid point it arises at.
    """
    label = spec.config_label
    try:
        text = spec.config.read_text(encoding="utf-8")
    except OSError as exc:
        raise SweepError([f"config: cannot read {spec.config} ({exc.strerror})"]) from None
    doc, problems = parse_document(text, label)
    if doc is None:
        raise SweepError(problems)
    base, base_problems = check_point(spec.config, doc)
    if base_problems or base is None:
        raise SweepError([f"{label}: {problem}" for problem in base_problems])
    if base.clock != "virtual":
        problems.append(
            f"{label}: Simulation.Clock: sweeps run on the virtual clock "
            "(wall-clock runs are not reproducible); remove Clock: wall"
        )
    for axis in spec.grid:
        where = locate(doc, axis.segments)
        if where is not None:
            problems.append(f"grid.{axis.path}: path not found in {label}: {where}")
    problems.extend(_metric_problems(spec, base, label))
    if problems:
        raise SweepError(problems)
    points = expand(spec.grid)
    labels = short_labels(spec.grid)
    plan = Plan(spec, text, labels, points, (), tuple(base.warnings))
    runs, problems = _check_points(plan, doc, base)
    if problems:
        raise SweepError(problems)
    return replace(plan, runs=tuple(runs))


def _check_points(plan: Plan, doc: dict[str, Any], base: RunConfig) -> tuple[list[Run], list[str]]:
    spec = plan.spec
    seeds = spec.seeds if spec.seeds is not None else (base.seed,)
    width = max(2, len(str(len(plan.points))))
    found: dict[str, list[Point]] = {}
    promoted: dict[str, None] = {}
    runs: list[Run] = []
    for point in plan.points:
        overrides = plan.overrides(point)
        checked = check_point(spec.config, apply(doc, overrides)) if overrides else (base, [])
        cfg, problems = checked
        for problem in problems:
            found.setdefault(problem, []).append(point)
        if cfg is None:
            continue  # static problems: no config to run (and the sweep will not start)
        for warning in cfg.warnings:
            for axis in spec.grid:
                if warning.startswith((f"{axis.path}:", f"{axis.path}.")):
                    promoted[f"grid.{warning}; sweeping it changes nothing"] = None
        seconds = spec.seconds if spec.seconds is not None else cfg.duration
        runs.extend(
            Run(f"{point.index + 1:0{width}d}-seed{seed}", point, seed, seconds) for seed in seeds
        )
    out = list(promoted)
    out.extend(f"{problem} ({_where(plan, points)})" for problem, points in found.items())
    return runs, out


def _where(plan: Plan, points: list[Point]) -> str:
    """Which grid points a problem arises at, with the values they share."""
    total = len(plan.points)
    if len(points) == 1:
        return f"grid point {points[0].index + 1} of {total}: {plan.describe(points[0])}"
    shared = [
        f"{label}={cell(points[0].values[i])}"
        for i, label in enumerate(plan.labels)
        if all(p.values[i] == points[0].values[i] for p in points)
    ]
    common = f", all with {', '.join(shared)}" if shared else ""
    if len(points) == total:
        return f"every grid point{common}"
    numbers = ", ".join(str(p.index + 1) for p in points[:10])
    more = f" and {len(points) - 10} more" if len(points) > 10 else ""
    return f"grid points {numbers}{more} of {total}{common}"


def _metric_problems(spec: SweepSpec, base: RunConfig, label: str) -> list[str]:
    """Mapping names in metric paths, checked against the config's mappings (the rest
    of a path is checked against the first run's summary.json)."""
    template = base.template
    if template is None:
        return []
    names = sorted(lid for lid, node in template.nodes.items() if node.rtype == _ESM_TYPE)
    problems = []
    fields = [("metric", spec.metric)] + [(f"metrics[{i}]", m) for i, m in enumerate(spec.metrics)]
    for field, metric in fields:
        name = metric.mapping_name
        if name is not None and name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = ", ".join(names) or "none"
            problems.append(
                f"{field}: {label} has no event source mapping {name}{hint}; "
                f"its mappings (by logical id, SAM events as function + event name): {known}"
            )
    return problems
