"""Load producers: records generated lazily, when a source is read.

A producer describes a stream of writes (a rate model, record sizes, partition
keys, body templates, scripted records). It never runs on a timer per record:
the source asks it for every record that arrived up to "now" whenever anything
observes the source (a poller's read, a receive, an inspection), and the
records carry their true arrival times. Idle pollers learn when to wake from
``next_arrival_ms()``, so a producer costs work per record and nothing per
second of simulated time.

Rate models (``rate=``):

* a number: constant records per second, evenly spaced;
* ``{"type": "constant", "per_second": r}``;
* ``{"type": "poisson", "per_second": r}``: exponential gaps, seeded;
* ``{"type": "steps", "steps": [[at_seconds, per_second], ...]}``: piecewise constant;
* ``{"type": "bursts", "base": r0, "burst": r1, "every": s, "duration": d, "offset": o}``:
  ``r1`` during ``[o + k*s, o + k*s + d)``, ``r0`` otherwise.

Records: ``size`` (bytes: a number, or ``{"distribution": "uniform", "min", "max"}``)
pads generated bodies; ``keys`` (a number of distinct keys, or ``{"count": n,
"distribution": "uniform" | "zipf" | "round_robin", "skew": s}``) picks
partition keys (Kinesis) or message groups (FIFO SQS); ``body`` is a template
with ``{n}`` (record number), ``{key}``, ``{time}`` (ISO arrival time),
``{poison}`` (``true`` for a seeded ``poison_fraction`` of records) and
``{pad}`` (filler up to ``size``); ``records`` are scripted writes at given
offsets: ``[{"at": 12.5, "body": "...", "key": "k1"}, ...]``.
"""

from __future__ import annotations

import bisect
import math
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

from .._core import format_iso_ms

__all__ = ("Produced", "Producer", "parse_rate")


@dataclass(frozen=True, slots=True)
class Produced:
    """One generated write."""

    arrival_ms: int
    key: str
    body: str


class _Rate:
    """Arrival instants (epoch ms) after a start, for one rate model."""

    def arrivals(self, start_ms: int, rng: random.Random) -> Iterator[int]:
        raise NotImplementedError


class _Constant(_Rate):
    def __init__(self, per_second: float) -> None:
        self.per_second = per_second

    def arrivals(self, start_ms: int, rng: random.Random) -> Iterator[int]:
        if self.per_second <= 0:
            return
        gap = 1000.0 / self.per_second
        n = 0
        while True:
            yield start_ms + math.floor(n * gap)
            n += 1


class _ConstantArrivals:
    """Where a constant-rate producer is: arrival ``n`` is ``origin + floor(n * gap)``."""

    __slots__ = ("gap", "n", "origin")

    def __init__(self, origin: int, gap: float) -> None:
        self.origin = origin
        self.gap = gap
        self.n = 0


class _Poisson(_Rate):
    def __init__(self, per_second: float) -> None:
        self.per_second = per_second

    def arrivals(self, start_ms: int, rng: random.Random) -> Iterator[int]:
        if self.per_second <= 0:
            return
        t = float(start_ms)
        lam = self.per_second / 1000.0
        while True:
            t += rng.expovariate(lam)
            yield math.floor(t)


class _Piecewise(_Rate):
    """Piecewise-constant rate: ``rate_at(offset_seconds)`` changes at known instants."""

    def __init__(self, changes: list[tuple[float, float]], period: float | None = None) -> None:
        self.changes = sorted(changes)
        self.period = period

    def _segments(self) -> Iterator[tuple[float, float, float]]:
        """(start_s, end_s, per_second) forever (repeating when periodic)."""
        cycle = 0
        while True:
            base = cycle * self.period if self.period else 0.0
            for i, (at, rate) in enumerate(self.changes):
                end = self.changes[i + 1][0] if i + 1 < len(self.changes) else self.period
                if end is None:
                    yield base + at, math.inf, rate
                    return
                yield base + at, base + end, rate
            if not self.period:
                return
            cycle += 1

    def arrivals(self, start_ms: int, rng: random.Random) -> Iterator[int]:
        for seg_start, seg_end, rate in self._segments():
            if rate <= 0:
                continue
            gap = 1000.0 / rate
            n = 0
            while True:
                t = seg_start * 1000 + n * gap
                if t >= seg_end * 1000:
                    break
                yield start_ms + math.floor(t)
                n += 1


def _number(spec: dict[str, Any], key: str, where: str, minimum: float = 0.0) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ValueError(f"{where}.{key}: expected a number >= {minimum:g}, got {value!r}")
    return float(value)


def parse_rate(rate: Any, where: str = "rate") -> _Rate:
    """A rate model from its description (see the module docstring)."""
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        if rate < 0:
            raise ValueError(f"{where}: records per second must be >= 0, got {rate!r}")
        return _Constant(float(rate))
    if not isinstance(rate, dict):
        raise ValueError(f"{where}: expected records per second or a rate model mapping")
    kind = rate.get("type", "constant")
    if kind == "constant":
        return _Constant(_number(rate, "per_second", where))
    if kind == "poisson":
        return _Poisson(_number(rate, "per_second", where))
    if kind == "steps":
        steps = rate.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValueError(f"{where}.steps: expected a list of [at_seconds, per_second] pairs")
        changes: list[tuple[float, float]] = []
        for i, step in enumerate(steps):
            if not (isinstance(step, list | tuple) and len(step) == 2):
                raise ValueError(f"{where}.steps[{i}]: expected [at_seconds, per_second]")
            at, per_second = step
            if not all(isinstance(v, int | float) and v >= 0 for v in (at, per_second)):
                raise ValueError(f"{where}.steps[{i}]: values must be numbers >= 0")
            changes.append((float(at), float(per_second)))
        if changes[0][0] > 0:
            changes.insert(0, (0.0, 0.0))
        return _Piecewise(changes)
    if kind == "bursts":
        base = _number(rate, "base", where) if "base" in rate else 0.0
        burst = _number(rate, "burst", where)
        every = _number(rate, "every", where, minimum=1e-3)
        duration = _number(rate, "duration", where)
        offset = _number(rate, "offset", where) if "offset" in rate else 0.0
        if duration > every:
            raise ValueError(f"{where}.duration: must be <= every ({every:g} s)")
        offset %= every
        changes = sorted({(0.0, base), (offset, burst), ((offset + duration) % every, base)})
        if offset + duration > every:  # the burst wraps around the period start
            changes = [(0.0, burst), ((offset + duration) % every, base), (offset, burst)]
        return _Piecewise(sorted(dict(changes).items()), period=every)
    raise ValueError(f"{where}.type: {kind!r} is not one of constant, poisson, steps, bursts")


class _Keys:
    """Partition keys (or message groups): uniform, Zipf-skewed, or round robin."""

    def __init__(self, spec: Any, rng: random.Random, where: str) -> None:
        if spec is None:
            spec = {"count": 100}
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = {"count": spec}
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a key count or a mapping")
        count = spec.get("count", 100)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"{where}.count: expected an integer >= 1, got {count!r}")
        self.distribution = spec.get("distribution", "uniform")
        if self.distribution not in ("uniform", "zipf", "round_robin"):
            raise ValueError(
                f"{where}.distribution: {self.distribution!r} is not one of "
                "uniform, zipf, round_robin"
            )
        prefix = spec.get("prefix", "key-")
        names = spec.get("names")
        self.names: list[str]
        if names is not None:
            if (
                not isinstance(names, list)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise ValueError(f"{where}.names: expected a non-empty list of strings")
            self.names = [str(n) for n in names]
        else:
            self.names = [f"{prefix}{i}" for i in range(count)]
        self.rng = rng
        self.turn = 0
        self.cumulative: list[float] = []
        if self.distribution == "zipf":
            skew = spec.get("skew", 1.1)
            if not isinstance(skew, int | float) or skew <= 0:
                raise ValueError(f"{where}.skew: expected a number > 0, got {skew!r}")
            weights = [1.0 / (i + 1) ** float(skew) for i in range(len(self.names))]
            total = sum(weights)
            acc = 0.0
            for w in weights:
                acc += w / total
                self.cumulative.append(acc)

    def take(self, n: int) -> list[str]:
        """The next ``n`` keys at once: the same keys, and the same draws, as ``n`` ``next()``s."""
        names, count = self.names, len(self.names)
        if self.distribution == "round_robin":
            start = self.turn % count
            self.turn += n
            # The cycle from the next name on, cut to length in C.
            return list(islice(cycle(names[start:] + names[:start]), n))
        draw = self.rng.random
        if self.distribution == "zipf":
            cumulative, last = self.cumulative, count - 1
            return [names[min(bisect.bisect_left(cumulative, draw()), last)] for _ in range(n)]
        return [names[int(draw() * count)] for _ in range(n)]

    def next(self) -> str:
        if self.distribution == "round_robin":
            name = self.names[self.turn % len(self.names)]
            self.turn += 1
            return name
        if self.distribution == "zipf":
            index = bisect.bisect_left(self.cumulative, self.rng.random())
            return self.names[min(index, len(self.names) - 1)]
        return self.names[int(self.rng.random() * len(self.names))]


class _Sizes:
    def __init__(self, spec: Any, where: str) -> None:
        self.fixed: int | None = None
        self.low = self.high = 0
        if spec is None:
            self.fixed = 0
        elif isinstance(spec, int) and not isinstance(spec, bool) and spec >= 0:
            self.fixed = spec
        elif isinstance(spec, dict) and spec.get("distribution", "fixed") == "fixed":
            self.fixed = int(_number(spec, "bytes", where))
        elif isinstance(spec, dict) and spec.get("distribution") == "uniform":
            self.low = int(_number(spec, "min", where))
            self.high = int(_number(spec, "max", where))
            if self.high < self.low:
                raise ValueError(f"{where}.max: must be >= min")
        else:
            raise ValueError(f"{where}: expected bytes or {{distribution: uniform, min, max}}")

    def next(self, rng: random.Random) -> int:
        if self.fixed is not None:
            return self.fixed
        return rng.randint(self.low, self.high)


class Producer:
    """Describes a stream of writes into one source and generates it on demand.

    Args:
        rate: a rate model (module docstring); 0 for scripted records only.
        size: record size in bytes (pads ``{pad}``, or the whole body when no template).
        keys: partition keys / message groups.
        body: a body template; default ``{"n": <n>, "key": "<key>", "poison": <bool>}``.
        records: scripted writes ``{"at": seconds_from_start, "body": ..., "key": ...}``.
        start: seconds after the simulation start at which generation begins.
        stop: seconds after the simulation start at which it ends (None: never).
        poison_fraction: share of generated records whose ``{poison}`` is ``true``.
        seed_name: names this producer's random stream (default: the target's name).
    """

    def __init__(
        self,
        start_ms: int,
        rng: random.Random,
        *,
        rate: Any = 0,
        size: Any = None,
        keys: Any = None,
        body: str | None = None,
        records: list[dict[str, Any]] | None = None,
        start: float = 0.0,
        stop: float | None = None,
        poison_fraction: float = 0.0,
    ) -> None:
        self._rng = rng
        self._rate = parse_rate(rate)
        self._keys = _Keys(keys, rng, "keys")
        self._sizes = _Sizes(size, "size")
        if body is not None and not isinstance(body, str):
            raise ValueError("body: expected a template string")
        self._template = body
        if body is not None:
            try:
                body.format(n=0, key="k", time="t", poison="false", pad="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"body: {body!r} is not a valid template ({type(exc).__name__}: {exc}); "
                    "placeholders are {n}, {key}, {time}, {poison}, {pad}, and literal braces "
                    "are doubled: '{{\"n\": {n}}}'"
                ) from None
        # Which placeholders the template uses: fields it does not use are never
        # computed (formatting an ISO time per record would dominate the cost).
        self._fields = (
            frozenset(f for _, f, _, _ in string.Formatter().parse(body) if f)
            if body is not None
            else frozenset()
        )
        if not isinstance(poison_fraction, int | float) or not 0 <= poison_fraction <= 1:
            raise ValueError(f"poison_fraction: expected 0..1, got {poison_fraction!r}")
        self._poison = float(poison_fraction)
        if not isinstance(start, int | float) or start < 0:
            raise ValueError(f"start: expected seconds >= 0, got {start!r}")
        if stop is not None and (not isinstance(stop, int | float) or stop < start):
            raise ValueError(f"stop: expected seconds >= start, got {stop!r}")
        self._stop_ms = None if stop is None else start_ms + math.floor(stop * 1000)
        origin = start_ms + math.floor(start * 1000)
        self._arrivals = self._rate.arrivals(origin, rng)
        # The bulk path (``_emit_bulk``) needs arrivals that draw nothing and bodies
        # that draw nothing (no poison share, fixed sizes); otherwise the random
        # draws of keys, bodies and arrivals interleave per record.
        self._bulk: _ConstantArrivals | None = None
        if (
            isinstance(self._rate, _Constant)
            and self._rate.per_second > 0
            and self._poison == 0
            and self._sizes.fixed is not None
        ):
            self._bulk = _ConstantArrivals(origin, 1000.0 / self._rate.per_second)
        self._scripted = sorted(
            (self._scripted_record(start_ms, i, r) for i, r in enumerate(records or [])),
            key=lambda p: p.arrival_ms,
        )
        self._next_generated: int | None = self._pull()
        self.count = 0
        self._pad_cache: dict[int, str] = {}

    @staticmethod
    def _scripted_record(start_ms: int, index: int, spec: dict[str, Any]) -> Produced:
        where = f"records[{index}]"
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a mapping with at, body and key")
        at = spec.get("at", 0)
        if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
            raise ValueError(f"{where}.at: expected seconds >= 0, got {at!r}")
        body = spec.get("body", spec.get("data", ""))
        if not isinstance(body, str):
            raise ValueError(f"{where}.body: expected a string")
        key = spec.get("key", spec.get("partition_key", "scripted"))
        if not isinstance(key, str) or not key:
            raise ValueError(f"{where}.key: expected a non-empty string")
        return Produced(start_ms + math.floor(at * 1000), key, body)

    def _pull(self) -> int | None:
        arrival = next(self._arrivals, None)
        if arrival is None or (self._stop_ms is not None and arrival >= self._stop_ms):
            return None
        return arrival

    def next_arrival_ms(self) -> int | None:
        """When the next record arrives, or None if no more will."""
        candidates = [t for t in (self._next_generated,) if t is not None]
        if self._scripted:
            candidates.append(self._scripted[0].arrival_ms)
        return min(candidates) if candidates else None

    def _body(self, n: int, key: str, arrival_ms: int) -> str:
        poison = self._poison > 0 and self._rng.random() < self._poison
        size = self._sizes.next(self._rng)
        template = self._template
        if template is None:
            text = f'{{"n": {n}, "key": "{key}", "poison": {"true" if poison else "false"}}}'
            return text + " " * max(0, size - len(text))
        fields = self._fields
        if not fields:
            return template  # the same str object every time: no per-record work
        values: dict[str, str | int] = {}
        if "n" in fields:
            values["n"] = n
        if "key" in fields:
            values["key"] = key
        if "time" in fields:
            values["time"] = format_iso_ms(arrival_ms)
        if "poison" in fields:
            values["poison"] = "true" if poison else "false"
        if "pad" in fields:
            pad = self._pad_cache.get(size)
            if pad is None:
                pad = self._pad_cache[size] = "x" * size
            values["pad"] = pad
        return template.format(**values)

    def emit_columns(self, now_ms: int) -> tuple[list[int], list[str], list[str]]:
        """Every write due by ``now_ms`` as three parallel lists: arrival ms, key, body.

        The bulk form sources use on their hot path: no object per record, and
        method lookups hoisted out of the loop.
        """
        arrivals: list[int] = []
        keys: list[str] = []
        bodies: list[str] = []
        nxt = self._next_generated
        if nxt is not None and nxt <= now_ms and self._bulk is not None:
            arrivals, keys, bodies = self._emit_bulk(now_ms, self._bulk)
        elif nxt is not None and nxt <= now_ms:
            keys_next = self._keys.next
            make_body = self._body
            constant = self._template if (not self._fields and self._poison == 0) else None
            pull = self._arrivals.__next__
            stop = self._stop_ms
            count = self.count
            add_arrival, add_key, add_body = arrivals.append, keys.append, bodies.append
            while nxt is not None and nxt <= now_ms:
                key = keys_next()
                add_arrival(nxt)
                add_key(key)
                add_body(constant if constant is not None else make_body(count, key, nxt))
                count += 1
                try:
                    nxt = pull()
                except StopIteration:
                    nxt = None
                if nxt is not None and stop is not None and nxt >= stop:
                    nxt = None
            self.count = count
            self._next_generated = nxt
        if self._scripted and self._scripted[0].arrival_ms <= now_ms:
            due = [p for p in self._scripted if p.arrival_ms <= now_ms]
            del self._scripted[: len(due)]
            if not arrivals:
                return [p.arrival_ms for p in due], [p.key for p in due], [p.body for p in due]
            merged = sorted(
                [
                    *zip(arrivals, keys, bodies, strict=True),
                    *((p.arrival_ms, p.key, p.body) for p in due),
                ],
                key=lambda item: item[0],
            )
            return [m[0] for m in merged], [m[1] for m in merged], [m[2] for m in merged]
        return arrivals, keys, bodies

    def _emit_bulk(
        self, now_ms: int, bulk: _ConstantArrivals
    ) -> tuple[list[int], list[str], list[str]]:
        """``emit_columns`` for a constant rate whose bodies draw nothing: whole lists at once.

        Arrival ``n`` is ``origin + floor(n * gap)``, exactly what the constant rate's
        generator yields, so the due ones are a range of ``n`` found by arithmetic
        (then nudged, since the float estimate may be off by one either way). Keys
        come from ``_Keys.take``, which makes the same random draws in the same order
        as one ``next()`` per record; nothing else draws, so the records are the
        ones the record-at-a-time loop would make.
        """
        limit = now_ms if self._stop_ms is None else min(now_ms, self._stop_ms - 1)
        origin, gap, first = bulk.origin, bulk.gap, bulk.n
        end = max(first, int((limit - origin) / gap))
        while origin + math.floor(end * gap) <= limit:
            end += 1
        while end > first and origin + math.floor((end - 1) * gap) > limit:
            end -= 1
        floor = math.floor
        arrivals = [origin + floor(k * gap) for k in range(first, end)]
        bulk.n = end
        upcoming = origin + floor(end * gap)
        self._next_generated = (
            None if self._stop_ms is not None and upcoming >= self._stop_ms else upcoming
        )
        count = len(arrivals)
        keys = self._keys.take(count)
        constant = self._template if not self._fields else None
        if constant is not None:
            bodies = [constant] * count
        else:
            make_body, n0 = self._body, self.count
            bodies = [
                make_body(n0 + i, key, arrival)
                for i, (key, arrival) in enumerate(zip(keys, arrivals, strict=True))
            ]
        self.count += count
        return arrivals, keys, bodies

    def emit_until(self, now_ms: int) -> list[Produced]:
        """Every write that arrived at or before ``now_ms`` and was not emitted yet."""
        arrivals, keys, bodies = self.emit_columns(now_ms)
        return [Produced(a, k, b) for a, k, b in zip(arrivals, keys, bodies, strict=True)]
