"""``summary.json`` and ``metrics.csv``: byte-identical for the same seed and inputs.

Nothing here reads the host clock; keys are sorted; rows are sorted by
(timestamp, metric, dimensions); floats are rounded and printed the same way
every time (6 decimals; the cost block keeps 10 for USD, the prices' own
precision, so a short run's fractions of a cent do not round away).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from .._core import format_iso_ms
from ._cost import build_cost

if TYPE_CHECKING:
    from ._recorder import MetricSample, Recorder

__all__ = (
    "COUNT_COLUMNS",
    "build_summary",
    "conservation_line",
    "format_number",
    "read_summary",
    "write_metrics_csv",
    "write_summary",
)

COUNT_COLUMNS = (
    "invocations",
    "errors",
    "throttles",
    "delivered",
    "filtered",
    "discarded",
    "dead_lettered",
    "expired",
    "pending",
)
"""Per-mapping counts, in the order the summary table prints them."""

_SETTLED = ("delivered", "filtered", "discarded", "dead_lettered", "expired", "pending")


def format_number(value: Any) -> str:
    """Stable text for a metric value: integers bare, other floats to 6 decimals."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{round(number, 6)!r}"


def _iso(epoch_s: float) -> str:
    return format_iso_ms(round(epoch_s * 1000))


def _clean(value: Any) -> Any:
    """JSON-ready with floats rounded (stable text), recursively."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 6)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def build_summary(rec: Recorder) -> dict[str, Any]:
    """The run's summary from a finished recorder."""
    sim = rec.sim
    clock = sim.clock
    mappings: dict[str, Any] = {}
    totals = dict.fromkeys((*COUNT_COLUMNS, "records"), 0)
    all_ok = True
    for uuid, mobs in rec._mappings.items():
        mapping = mobs.mapping
        counters = mobs.store.counters
        ledger = mapping.ledger
        counts: dict[str, Any] = {
            "invocations": int(counters.get("Invocations", 0)),
            "errors": int(counters.get("Errors", 0)),
            "throttles": int(counters.get("Throttles", 0)),
        }
        for state in _SETTLED:
            counts[state] = int(ledger.get(state, 0))
        accounted = sum(counts[s] for s in _SETTLED)
        records, basis = accounted, "ledger"
        if not mobs.is_stream:
            qobs = rec._queues.get(mobs.source_arn)
            if qobs is not None:
                final = mapping.source.metrics if not mapping.source.deleted else qobs.final
                records = (
                    int(final.get("NumberOfMessagesSent", 0))
                    + int(final.get("NumberOfMessagesMovedIn", 0))
                    - int(final.get("NumberOfMessagesPurged", 0))
                )
                basis = "queue"
        ok = records == accounted
        all_ok = all_ok and ok
        entry: dict[str, Any] = {
            "name": rec.names.get(uuid, f"{mobs.function_name} <- {mobs.source_name}"),
            "function": mobs.function_name,
            "source": mobs.source_arn,
            "source_type": mapping.settings.kind,
            **counts,
            "records": records,
            "records_basis": basis,
            "conservation_ok": ok,
            "metrics": {k: mobs.store.counters[k] for k in sorted(mobs.store.counters)},
            "percentiles": {
                "duration_ms": mobs.duration.percentiles(),
                "end_to_end_ms": mobs.end_to_end.percentiles(),
            },
        }
        if mobs.is_stream:
            entry["iterator_age_max_ms"] = mobs.age_max_all
            entry["percentiles"]["iterator_age_ms"] = mobs.iterator_age.percentiles()
            entry["stream_backlog_max"] = mobs.backlog_max
        else:
            qobs = rec._queues.get(mobs.source_arn)
            entry["oldest_message_age_max_s"] = qobs.oldest_max if qobs else 0
        mappings[uuid] = entry
        for key in COUNT_COLUMNS:
            totals[key] += counts[key]
        totals["records"] += records
    functions = {
        name: {
            "invocations": int(f.fn.metrics["Invocations"]),
            "errors": int(f.fn.metrics["Errors"]),
            "throttles": int(f.fn.metrics["Throttles"]),
            "concurrent_executions_max": int(f.fn.metrics["ConcurrentExecutionsMax"]),
            "duration_ms": f.duration.percentiles(),
        }
        for name, f in rec._functions.items()
    }
    queues = {
        q.name: {k: q.final[k] for k in sorted(q.final)} | {"age_of_oldest_max_s": q.oldest_max}
        for q in rec._queues.values()
    }
    accounted_total = sum(totals[s] for s in _SETTLED)
    summary: dict[str, Any] = {
        "esmsim_version": __version__,
        "config": rec.config_echo,
        "seed": sim.seed,
        "clock": sim.clock_mode,
        "start": _iso(rec._start),
        "end": _iso(clock.now()),
        "simulated_seconds": clock.now() - rec._start,
        "sample_interval_seconds": rec.sample_interval,
        "mappings": mappings,
        "functions": functions,
        "queues": queues,
        "totals": totals,
        "conservation": {
            "records": totals["records"],
            **{s: totals[s] for s in _SETTLED},
            "accounted": accounted_total,
            "ok": all_ok and accounted_total == totals["records"],
        },
    }
    out = dict(_clean(summary))
    # After _clean: prices such as $0.0000166667 per GB-s must not round to 6 decimals.
    out["cost"] = build_cost(rec)
    return out


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a summary object")
    return data


def dimension_keys(samples: Iterable[MetricSample]) -> list[str]:
    keys: set[str] = set()
    for _, _, dims, _, _ in samples:
        keys.update(json.loads(dims))
    return sorted(keys)


def write_metrics_csv(path: Path, samples: list[MetricSample]) -> None:
    """Long format: ``timestamp, metric, <one column per dimension>, value, unit``."""
    keys = dimension_keys(samples)
    rows = sorted(samples, key=lambda s: (s[0], s[1], s[2]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["timestamp", "metric", *keys, "value", "unit"])
        for at, metric, dims, value, unit in rows:
            parsed = json.loads(dims)
            writer.writerow(
                [_iso(at), metric, *(parsed.get(k, "") for k in keys), format_number(value), unit]
            )


def conservation_line(summary: dict[str, Any]) -> str:
    """``conservation: 12,345 records = 12,000 delivered + ... + 5 pending  OK``."""
    c = summary["conservation"]
    parts = " + ".join(f"{c[s]:,} {s.replace('_', '-')}" for s in _SETTLED)
    verdict = "OK" if c["ok"] else f"MISMATCH (accounted {c['accounted']:,})"
    return f"conservation: {c['records']:,} records = {parts}  {verdict}"
