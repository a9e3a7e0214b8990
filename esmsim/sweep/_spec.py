"""``SWEEP.yaml``: what to run, under which overrides, and what to tabulate.

Every problem is collected (not just the first) and named by its field, the way
``esmsim validate`` names config fields: ``seeds[1]: must be an integer``,
``grid.Resources.OrdersMapping.Properties.BatchSize: must be a non-empty list``.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import parse_duration
from ..config._yaml import load_yaml
from ._metrics import DEFAULT_METRIC, Metric, parse_metric
from ._paths import Segment, format_path, parse_path

__all__ = ("SWEEP_KEYS", "Axis", "SweepError", "SweepSpec", "load_sweep")

SWEEP_KEYS = (
    "config",
    "duration",
    "seeds",
    "grid",
    "metric",
    "metrics",
    "sample_interval",
    "reports",
)

# Grid paths a sweep sets another way (or cannot honour).
_RESERVED = {
    "Simulation.Seed": "the seeds come from seeds: (a list), not the grid",
    "Simulation.Clock": "sweeps run on the virtual clock (wall-clock runs are not reproducible)",
}


class SweepError(Exception):
    """The sweep cannot start; ``problems`` lists each one with its field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Axis:
    """One grid key: a path into the config and the values it takes, in file order."""

    path: str
    segments: tuple[Segment, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file.

    Attributes:
        path: the sweep file.
        config: the config file, absolute (relative paths are relative to the sweep file).
        config_label: the config as the sweep file names it (for messages).
        seconds: simulated seconds per run; None runs each for its config's Duration.
        seeds: the seeds, in order; None runs each setting once with the config's seed.
        grid: the axes in file order (the first varies slowest).
        metric: what the table and plot show.
        metrics: extra columns.
        sample_interval: simulated seconds between metric samples in each run.
        reports: whether each run draws its ``report.html``.
    """

    path: Path
    config: Path
    config_label: str
    seconds: float | None
    seeds: tuple[int, ...] | None
    grid: tuple[Axis, ...]
    metric: Metric
    metrics: tuple[Metric, ...]
    sample_interval: float
    reports: bool = True


def load_sweep(path: Path) -> SweepSpec:
    """Read and check ``path``.

    Raises:
        SweepError: every problem found, each naming its field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SweepError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    try:
        doc = load_yaml(text)  # grid values may use !Ref / !GetAtt, as in the config
    except yaml.YAMLError as exc:
        raise SweepError([f"{path}: not valid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise SweepError([f"{path}: the top level must be a mapping with config: and grid:"])
    problems: list[str] = []
    for key in doc:
        if key not in SWEEP_KEYS:
            close = difflib.get_close_matches(str(key), SWEEP_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{key}: unknown key{hint}; allowed: {', '.join(SWEEP_KEYS)}")
    config_label = doc.get("config")
    config = path.parent
    if not isinstance(config_label, str) or not config_label.strip():
        problems.append("config: required: the path of a config file, relative to the sweep file")
        config_label = ""
    else:
        config = (path.parent / config_label).resolve()
    seconds = _seconds(doc, "duration", problems, positive=False)
    sample_interval = _seconds(doc, "sample_interval", problems, positive=True)
    seeds = _seeds(doc.get("seeds"), problems)
    grid = _grid(doc.get("grid"), problems)
    if seconds is not None and any(axis.path == "Simulation.Duration" for axis in grid):
        problems.append(
            "grid.Simulation.Duration: duration: already sets every run's length; "
            "drop one of the two"
        )
    metric, metrics = _metrics(doc, problems)
    reports = doc.get("reports", True)
    if not isinstance(reports, bool):
        problems.append(
            f"reports: must be true (each run draws its report.html) or false, got {reports!r}"
        )
    if problems:
        raise SweepError(problems)
    assert metric is not None
    return SweepSpec(
        path=path,
        config=config,
        config_label=config_label,
        seconds=seconds,
        seeds=seeds,
        grid=grid,
        metric=metric,
        metrics=metrics,
        sample_interval=60.0 if sample_interval is None else sample_interval,
        reports=reports,
    )


def _seconds(doc: dict[str, Any], key: str, problems: list[str], *, positive: bool) -> float | None:
    if doc.get(key) is None:
        return None
    try:
        seconds = parse_duration(doc[key])
    except ValueError as exc:
        problems.append(f"{key}: {exc}")
        return None
    if positive and not seconds > 0:
        problems.append(f"{key}: must be more than 0 seconds, got {doc[key]!r}")
        return None
    return seconds


def _seeds(value: Any, problems: list[str]) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        problems.append(
            f"seeds: must be a non-empty list of integers such as [1, 2], got {value!r}"
        )
        return None
    seeds: list[int] = []
    for index, seed in enumerate(value):
        if isinstance(seed, bool) or not isinstance(seed, int):
            problems.append(f"seeds[{index}]: must be an integer, got {seed!r}")
        elif seed in seeds:
            problems.append(f"seeds[{index}]: {seed} is already in the list")
        else:
            seeds.append(seed)
    return tuple(seeds)


def _grid(value: Any, problems: list[str]) -> tuple[Axis, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        problems.append(
            "grid: must be a mapping from a config path to a list of values, such as "
            "Resources.OrdersMapping.Properties.BatchSize: [10, 100, 500]"
        )
        return ()
    axes: list[Axis] = []
    for key, values in value.items():
        where = f"grid.{key}"
        try:
            segments = parse_path(str(key))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        path = format_path(segments)
        if path in _RESERVED:
            problems.append(f"{where}: {_RESERVED[path]}")
            continue
        if not isinstance(values, list) or not values:
            problems.append(f"{where}: must be a non-empty list of values, got {values!r}")
            continue
        seen: set[str] = set()
        for index, item in enumerate(values):
            canonical = json.dumps(item, sort_keys=True, default=str)
            if canonical in seen:
                problems.append(f"{where}[{index}]: {item!r} is already in the list")
            seen.add(canonical)
        for other in axes:
            shorter, longer = sorted((other.segments, segments), key=len)
            if longer[: len(shorter)] == shorter:
                problems.append(f"{where}: overlaps grid.{other.path}; a setting is swept once")
        axes.append(Axis(path, segments, tuple(values)))
    return tuple(axes)


def _metrics(doc: dict[str, Any], problems: list[str]) -> tuple[Metric | None, tuple[Metric, ...]]:
    metric: Metric | None = None
    text = doc.get("metric", DEFAULT_METRIC)
    if not isinstance(text, str):
        problems.append(f"metric: must be a dotted path into summary.json, got {text!r}")
    else:
        try:
            metric = parse_metric(text)
        except ValueError as exc:
            problems.append(f"metric: {exc}")
    extras: list[Metric] = []
    raw = doc.get("metrics")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.append(f"metrics: must be a list of dotted paths into summary.json, got {raw!r}")
        raw = []
    names = {metric.text} if metric is not None else set()
    for index, item in enumerate(raw):
        where = f"metrics[{index}]"
        if not isinstance(item, str):
            problems.append(f"{where}: must be a dotted path into summary.json, got {item!r}")
            continue
        try:
            parsed = parse_metric(item)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if parsed.text in names:
            problems.append(f"{where}: {parsed.text} is already a column")
            continue
        names.add(parsed.text)
        extras.append(parsed)
    return metric, tuple(extras)
