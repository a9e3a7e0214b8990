"""Latency percentiles: HdrHistogram behind a bulk-friendly front.

The hot path (a settle or an invocation callback) only counts exact integer
values in a ``collections.Counter`` (C code, ~0.1 µs a value, one
``update`` per batch); the counts are drained into an HdrHistogram when the
recorder samples, once per distinct value. HdrHistogram keeps 3 significant
digits (0.1 % relative error) over 1..2^42 in fixed memory, and its
percentiles are the standard for latency (wrk2, Gatling, JMeter's HDR mode).

Per-period percentiles (``metrics.csv``) come from the period's exact counts
just before they are drained, with HdrHistogram's own rank rule and bucket
rounding, so a period's numbers read like the run's: a constant 20 ms is 20 in
both, and one period holding every value gives the run's percentiles exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

__all__ = ("PERCENTILES", "STATISTICS", "Histogram")

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
"""Reported as p50, p90, p99, p99.9 (plus max and count)."""

STATISTICS = (*(f"p{p:g}" for p in PERCENTILES), "max")
"""The statistic names of a percentile set, in order (``count`` aside)."""

_HIGHEST = 2**42  # ~139 years in ms, ~51 days in µs
_DIGITS = 3


class Histogram:
    """Integer values (in ``unit``) with cheap bulk adds and HdrHistogram percentiles.

    Args:
        unit: what one integer step means (``"ms"`` or ``"us"``).
        scale: divide by this when reporting (``1000`` turns µs into ms).
    """

    __slots__ = ("_hdr", "pending", "scale", "unit")

    def __init__(self, unit: str = "ms", scale: float = 1.0) -> None:
        self.unit = unit
        self.scale = scale
        self.pending: Counter[int] = Counter()
        self._hdr: Any = None

    def add(self, value: int, count: int = 1) -> None:
        """Count ``value`` (negative values count as 0)."""
        self.pending[value if value > 0 else 0] += count

    def add_many(self, values: Iterable[int]) -> None:
        """Count every value of ``values`` (one C-level pass)."""
        self.pending.update(values)

    def _drain(self) -> Any:
        if self._hdr is None:
            self._hdr = HdrHistogram(1, _HIGHEST, _DIGITS)
        if self.pending:
            record = self._hdr.record_value
            top = _HIGHEST - 1
            for value, count in self.pending.items():
                record(min(max(value, 0), top), count)
            self.pending.clear()
        return self._hdr

    def drain_period(self) -> dict[str, float | int] | None:
        """Percentiles of the values added since the last drain (None if none), then drain.

        The recorder calls this once per sample, so ``pending`` holds exactly
        the period's values. Ranks follow HdrHistogram's
        ``get_value_at_percentile`` (the value at rank ``round(p% x n)``, at
        least 1) and values are lowered to their bucket's lowest equivalent,
        as ``percentiles`` reports them.
        """
        if not self.pending:
            return None
        top = _HIGHEST - 1
        counts = sorted((min(max(v, 0), top), n) for v, n in self.pending.items())
        low = self._drain().get_lowest_equivalent_value
        total = sum(n for _, n in counts)
        targets = [(f"p{p:g}", max(int(p * total / 100 + 0.5), 1)) for p in PERCENTILES]
        out: dict[str, float | int] = {}
        seen = 0
        i = 0
        for value, n in counts:
            seen += n
            while i < len(targets) and seen >= targets[i][1]:
                out[targets[i][0]] = self._scaled(low(value))
                i += 1
            if i == len(targets):
                break
        out["max"] = self._scaled(low(counts[-1][0]))
        return out

    @property
    def count(self) -> int:
        """How many values were added."""
        return int(self._drain().get_total_count())

    def percentiles(self) -> dict[str, float | int | None]:
        """``count``, then ``STATISTICS`` in reporting units (None when empty)."""
        hdr = self._drain()
        count = int(hdr.get_total_count())
        out: dict[str, float | int | None] = {"count": count}
        # Each value is the lowest of its HdrHistogram bucket (buckets are 0.1 %
        # wide), so a constant 20 ms reads 20, not the bucket's top 20.015.
        low = hdr.get_lowest_equivalent_value
        # One scan of the (pure-Python) counts array for every percentile, not one each:
        # same ranks and values as ``get_value_at_percentile``.
        values = hdr.get_percentile_to_value_dict(list(PERCENTILES)) if count else {}
        for p in PERCENTILES:
            out[f"p{p:g}"] = self._scaled(low(values[p])) if count else None
        out["max"] = self._scaled(low(hdr.get_max_value())) if count else None
        return out

    def _scaled(self, value: int) -> float | int:
        if self.scale == 1.0:
            return int(value)
        return round(value / self.scale, 3)

    def encode(self) -> str:
        """HdrHistogram's compressed base64 form (readable by HdrHistogram tools)."""
        encoded = self._drain().encode()
        return encoded.decode() if isinstance(encoded, bytes) else str(encoded)
