"""Metric expressions: which number of a run's ``summary.json`` a sweep tabulates.

An expression is a dotted path into ``summary.json``, optionally wrapped in an
aggregate over the entries a ``*`` picks::

    max(mappings.*.percentiles.end_to_end_ms.p99)      # the default
    mappings.OrdersMapping.percentiles.iterator_age_ms.p99
    sum(mappings.*.discarded)
    functions.Worker.concurrent_executions_max
    conservation.pending

Under ``mappings`` an entry is named by its logical id (the summary keys them by
UUID, which changes with the seed, so a UUID would not name the same mapping in
every run). A ``*`` takes every entry that has the rest of the path (an SQS mapping
has no ``iterator_age_ms``, so ``max(mappings.*.percentiles.iterator_age_ms.p99)``
is the worst stream); aggregates skip empty values (a percentile of nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = (
    "AGGREGATES",
    "DEFAULT_METRIC",
    "Metric",
    "MetricError",
    "Value",
    "evaluate",
    "parse_metric",
    "short_names",
)

DEFAULT_METRIC = "max(mappings.*.percentiles.end_to_end_ms.p99)"
"""The worst p99 end-to-end latency (ms) over all mappings: what a load experiment
usually asks first, and defined for every source type."""

AGGREGATES = ("max", "min", "sum", "mean")

Value = int | float | None
"""A metric's value: None when the run has none (a p99 of zero records)."""

_EXPRESSION = re.compile(r"\s*(?:(\w+)\s*\(\s*(.*?)\s*\)|(.*?))\s*")
_STATISTIC = re.compile(r"p\d+(\.\d+)?|max|min|count|mean")
_SEGMENT = re.compile(r"[A-Za-z0-9_\-#:]+|\*")


class MetricError(Exception):
    """A metric expression does not fit a summary; the message says where."""


@dataclass(frozen=True)
class Metric:
    """A parsed expression; ``text`` is also its column name."""

    text: str
    aggregate: str | None
    segments: tuple[str, ...]

    @property
    def mapping_name(self) -> str | None:
        """The mapping logical id it names (``mappings.<name>...``), if any."""
        if len(self.segments) > 1 and self.segments[0] == "mappings":
            name = self.segments[1]
            return None if name == "*" else name
        return None


def short_names(metrics: tuple[Metric, ...]) -> tuple[str, ...]:
    """Column headers for a narrow table: each path's tail, as short as keeps the
    columns apart (``iterator_age_ms.p99``; a statistic keeps what it is of)."""
    names = []
    for metric in metrics:
        segments = metric.segments
        least = 2 if _STATISTIC.fullmatch(segments[-1]) else 1
        for take in range(min(least, len(segments)), len(segments) + 1):
            tail = segments[-take:]
            clash = [
                m
                for m in metrics
                if m is not metric
                and m.segments[-take:] == tail
                and m.aggregate == metric.aggregate
            ]
            if not clash:
                break
        text = ".".join(tail)
        names.append(f"{metric.aggregate}({text})" if metric.aggregate else text)
    return tuple(names)


def parse_metric(text: str) -> Metric:
    """Parse ``text``.

    Raises:
        ValueError: naming what is wrong and what is allowed.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"must be a dotted path into summary.json such as {DEFAULT_METRIC}")
    match = _EXPRESSION.fullmatch(text)
    assert match is not None  # the last alternative matches anything
    aggregate, inner = match.group(1), match.group(2)
    if aggregate is None:
        inner = match.group(3)
    elif aggregate not in AGGREGATES:
        raise ValueError(f"{aggregate}() is not one of: {', '.join(a + '()' for a in AGGREGATES)}")
    segments = tuple(inner.split("."))
    bad = [s for s in segments if not _SEGMENT.fullmatch(s)]
    if bad:
        raise ValueError(
            f"{inner!r} is not a dotted path into summary.json (such as "
            "mappings.OrdersMapping.percentiles.iterator_age_ms.p99); "
            f"bad part: {bad[0]!r}"
        )
    if aggregate is None and "*" in segments:
        raise ValueError(
            f"{inner} takes one value per entry; wrap it in "
            f"{', '.join(a + '()' for a in AGGREGATES)}"
        )
    if aggregate is not None and "*" not in segments:
        raise ValueError(
            f"{aggregate}() needs a * in the path to aggregate over, as in "
            f"{aggregate}(mappings.*.errors)"
        )
    return Metric(text.strip(), aggregate, segments)


def evaluate(metric: Metric, summary: dict[str, Any]) -> Value:
    """The metric's value in ``summary``.

    Raises:
        MetricError: when the path does not lead to a number.
    """
    values = _walk(summary, metric.segments, 0)
    if metric.aggregate is None:
        return values[0]
    present = [v for v in values if v is not None]
    if not present:
        return None
    if metric.aggregate == "max":
        return max(present)
    if metric.aggregate == "min":
        return min(present)
    total = sum(present)
    if metric.aggregate == "sum":
        return round(total, 6) if isinstance(total, float) else total
    return round(total / len(present), 6)


class _Missing(MetricError):
    """The path leaves the summary (a ``*`` skips entries that raise this)."""


def _walk(node: Any, segments: tuple[str, ...], depth: int) -> list[Value]:
    where = ".".join(segments[:depth]) or "summary.json"
    if depth == len(segments):
        return [_leaf(node, where)]
    if not isinstance(node, dict):
        raise _Missing(f"{where} is {_kind(node)}; it has no {segments[depth]}")
    segment = segments[depth]
    if segment == "*":
        values: list[Value] = []
        missing: _Missing | None = None
        for _, child in sorted(node.items(), key=lambda item: _label(item[0], item[1])):
            try:
                values.extend(_walk(child, segments, depth + 1))
            except _Missing as exc:
                missing = missing or exc
        if not values and missing is not None:
            rest = ".".join(segments[depth + 1 :])
            raise _Missing(f"no entry of {where} has {rest} ({missing})")
        return values
    child = node.get(segment)
    if child is None and segment not in node:
        named = [v for v in node.values() if isinstance(v, dict) and v.get("name") == segment]
        if len(named) != 1:
            names = sorted({_label(k, v) for k, v in node.items()})
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise _Missing(f"{where} has no {segment}; it has: {shown or 'nothing'}")
        child = named[0]
    return _walk(child, segments, depth + 1)


def _leaf(node: Any, where: str) -> Value:
    if node is None or isinstance(node, int | float):
        return int(node) if isinstance(node, bool) else node
    if isinstance(node, dict):
        keys = ", ".join(sorted(str(k) for k in node)[:12])
        raise _Missing(f"{where} is a group, not a number; add one of: {keys}")
    raise _Missing(f"{where} is {_kind(node)}, not a number")


def _label(key: Any, value: Any) -> str:
    """How an entry is named in messages and ordered under a ``*``: its ``name``
    (the mapping's logical id) when it has one, since UUID keys change with the seed."""
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])
    return str(key)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return f"the value {value!r}"
