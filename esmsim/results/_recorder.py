"""``Recorder``: observes a simulation (never drives it) and writes the run directory.

What it listens to, all on the simulation's loop thread:

* ``fn.on_invocation``: one row per invocation (throttles included), the
  duration histogram, intervals for the per-period concurrency maximum, and
  the billed duration (rounded up to 1 ms, times MemorySize) for cost;
* ``metrics_store.on_settle``: one ``record_outcomes`` row per settle call (a
  batch or range, not a record) and, for delivered records, end-to-end latency
  counted in bulk;
* ``metrics_store.subscribe``: IteratorAge per batch (max per period, per
  mapping and per shard, and a histogram).

Per period it also writes what a load experiment compares runs by:
``EndToEndLatency`` and ``IteratorAge`` percentiles per mapping (rows with a
``Statistic`` dimension: p50, p90, p99, p99.9, max; rows without one stay the
CloudWatch-style maximum), ``StreamBacklog`` per stream mapping and shard, and
``BilledDuration`` / ``GBSeconds`` per function (with ``Invocations``, the
cost drivers; ``summary.json``'s ``cost`` prices them).

Every ``sample_interval`` simulated seconds a background task waits for the
clock's quiescence barrier, samples counters (as per-period deltas) and
gauges, and flushes the buffers to SQLite under ``clock.hold()``. Simulation
tasks never await anything of the recorder's.

Reads during the run are only of plain counters, of ``queue.metrics`` and of
the stream poller's ``backlog_snapshot`` (strictly read-only: no lazy
production, trimming or signals); ``mapping.ledger`` (which reads stream
positions through the source, producing due records) is read only at the end.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from .._core import format_iso_ms, get_logger
from ._cost import MB_MS_PER_GB_SECOND, billed_ms
from ._histogram import Histogram
from ._store import ResultsStore

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("STATES", "MetricSample", "Recorder")

STATES = ("delivered", "filtered", "discarded", "dead_lettered", "expired")
FLUSH_ROWS = 50_000
"""Flush early (at the next quiescent instant) when this many rows are buffered."""

MetricSample = tuple[float, str, str, float, str]
"""``(timestamp, metric, dimensions JSON, value, unit)``."""

_ARRIVAL_MS = operator.attrgetter("arrival_ms")
_SENT_AT = operator.attrgetter("sent_at")

_MAPPING_COUNTERS_UNIT = "Count"
_QUEUE_GAUGES = (
    ("ApproximateNumberOfMessagesVisible", "Count"),
    ("ApproximateNumberOfMessagesNotVisible", "Count"),
    ("ApproximateNumberOfMessagesDelayed", "Count"),
    ("ApproximateAgeOfOldestMessage", "Seconds"),
)
_QUEUE_COUNTERS = (
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
    "NumberOfEmptyReceives",
    "NumberOfMessagesExpired",
    "NumberOfMessagesMovedToDLQ",
    "NumberOfMessagesMovedIn",
    "NumberOfMessagesPurged",
)
_FUNCTION_COUNTERS = ("Invocations", "Errors", "Throttles")
_LATENCY_UNIT = "Milliseconds"


def dims_json(dims: dict[str, str]) -> str:
    """Dimensions as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(dims, sort_keys=True, separators=(",", ":"))


def _current_shard() -> str | None:
    """The shard of the stream lane task running now (``lane-<shard>-<n>``), if any.

    ``metrics_store.subscribe`` listeners are not told the shard; the stream
    poller names each lane task after its shard, and IteratorAge is recorded
    from inside that task.
    """
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    if task is None:
        return None
    name = task.get_name()
    if not name.startswith("lane-"):
        return None
    return name[5:].rpartition("-")[0] or None


def _record_id(record: Any) -> str | None:
    for attr in ("sequence_number", "message_id", "event_id"):
        value = getattr(record, attr, None)
        if value is not None:
            return str(value)
    return None


def _record_time(record: Any) -> float | None:
    arrival = getattr(record, "arrival_ms", None)
    if arrival is not None:
        return float(arrival) / 1000.0
    sent = getattr(record, "sent_at", None)
    return float(sent) if sent is not None else None


class _MappingObs:
    """What the recorder keeps about one mapping."""

    def __init__(self, mapping: Any) -> None:
        self.mapping = mapping
        self.store = mapping.metrics_store
        self.uuid: str = mapping.uuid
        self.source_arn: str = mapping.settings.event_source_arn
        self.source_name: str = str(getattr(mapping.source, "name", self.source_arn))
        self.function_name: str = mapping.function.name
        self.is_stream: bool = bool(mapping.settings.is_stream)
        self.dims = {"EventSourceMappingUUID": self.uuid, "FunctionName": self.function_name}
        self.dims_json = dims_json(self.dims)
        self.last_counters: dict[str, int] = {}
        self.last_states: dict[str, int] = dict.fromkeys(STATES, 0)
        self.age_max: int | None = None
        self.shard_age_max: dict[str, int] = {}
        self.age_max_all = 0
        self.oldest_age_max = 0
        self.duration = Histogram("us", 1000.0)
        self.end_to_end = Histogram("ms")
        self.iterator_age = Histogram("ms")
        self.settled: dict[str, int] = dict.fromkeys(STATES, 0)
        self.backlog_max = 0
        # The poller's read-only backlog count (stream mappings only).
        poller = getattr(mapping, "_poller", None)
        self.backlog: Callable[[], dict[str, int]] | None = (
            getattr(poller, "backlog_snapshot", None) if self.is_stream else None
        )
        # Invocations whose batch size is read from InvokedEventCount once the
        # poller has counted them (the poller adds right after invoke returns).
        self.unsized: list[tuple[list[Any], int]] = []

    def resolve_batch_sizes(self) -> None:
        if not self.unsized:
            return
        now = int(self.store.counters.get("InvokedEventCount", 0))
        # Each invocation was counted right after its callback, before the next
        # one: its size is the counter's growth up to the next snapshot.
        for row, before in reversed(self.unsized):
            row[6] = now - before
            now = before
        self.unsized.clear()

    def states_now(self) -> dict[str, int]:
        """Settled counts from plain counters only (safe to read mid-run)."""
        out = dict(self.store.ledger)
        if not self.is_stream:
            metrics = self.mapping.source.metrics if not self.mapping.source.deleted else {}
            out["dead_lettered"] = int(metrics.get("NumberOfMessagesMovedToDLQ", 0))
            out["expired"] = int(metrics.get("NumberOfMessagesExpired", 0))
        return out


class _FunctionObs:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.name: str = fn.name
        self.dims_json = dims_json({"FunctionName": self.name})
        self.last: dict[str, float] = {}
        self.intervals: list[tuple[float, float]] = []
        self.duration = Histogram("us", 1000.0)
        self.concurrency_max = 0
        # Billing in integers, so totals are exact whatever the order: billed ms
        # and billed ms x MemorySize (MB-ms), for the run and for this period.
        self.billed_ms = 0
        self.mb_ms = 0
        self.period_billed_ms = 0
        self.period_mb_ms = 0


class _QueueObs:
    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.name: str = queue.name
        self.dims_json = dims_json({"QueueName": self.name})
        self.last: dict[str, int] = {}
        self.final: dict[str, int] = {}
        self.oldest_max = 0


class Recorder:
    """Observes ``sim`` and writes ``results.sqlite`` (write-behind), then the run directory.

    Args:
        sim: the simulation to observe (started: inside ``with Simulation()``).
        out_dir: the run directory (created).
        sample_interval: simulated seconds between metric samples.
        config_echo: what ``summary.json`` echoes as the config (optional).
        names: display names by mapping UUID (e.g. config logical ids).
        report: draw ``report.html`` (matplotlib plots: most of the cost of writing a
            short run's directory). When False it is not written; ``esmsim report DIR``
            draws the same report later from the run directory's ``summary.json`` and
            ``results.sqlite``.

    Call ``attach()`` once the resources exist (later ones are picked up at the
    next sample), run the simulation, then ``finish()`` (or ``await afinish()``)
    while it is paused.
    """

    def __init__(
        self,
        sim: Simulation,
        out_dir: str | Path,
        sample_interval: float = 60.0,
        *,
        config_echo: Any = None,
        names: dict[str, str] | None = None,
        report: bool = True,
    ) -> None:
        if not sample_interval > 0:
            raise ValueError(f"sample_interval: expected seconds > 0, got {sample_interval!r}")
        self.sim = sim
        self.out_dir = Path(out_dir)
        self.sample_interval = float(sample_interval)
        self.config_echo = config_echo
        self.names = dict(names or {})
        self.report = report
        self.samples: list[MetricSample] = []
        self.summary: dict[str, Any] | None = None
        self._clock = sim.clock
        self._mappings: dict[str, _MappingObs] = {}
        self._functions: dict[str, _FunctionObs] = {}
        self._queues: dict[str, _QueueObs] = {}
        self._seen: set[int] = set()
        self._inv_rows: list[list[Any]] = []
        self._outcome_rows: list[tuple[Any, ...]] = []
        self._sample_rows: list[MetricSample] = []
        self._buffered = 0
        self._wake: asyncio.Future[None] | None = None
        self._closing = False
        self._done: anyio.Event | None = None
        self._attached = False
        self._start = self._clock.now()
        self._last_sample = self._start
        self._samples_taken = 0
        self._store = ResultsStore(self.out_dir / "results.sqlite")
        self._log = get_logger(component="recorder")
        self.invocation_rows = 0

    # -- set-up ------------------------------------------------------------------------
    def attach(self) -> Recorder:
        """Subscribe to every function, mapping and queue, and start the flusher."""
        if self._attached:
            self._discover()
            return self
        self._attached = True
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._start = self._clock.now()
        self._last_sample = self._start
        self._discover()
        self.sim.kernel.start_soon(self._main, name="esmsim-recorder")
        return self

    def _discover(self) -> None:
        for resource in self.sim.resources():
            key = id(resource)
            if key in self._seen:
                continue
            rtype = getattr(resource, "resource_type", "")
            if rtype == "AWS::Lambda::Function":
                self._seen.add(key)
                self._watch_function(resource)
            elif rtype == "AWS::SQS::Queue":
                self._seen.add(key)
                self._queues.setdefault(resource.arn, _QueueObs(resource))
        for mapping in self.sim.mappings():
            if mapping.uuid not in self._mappings:
                self._watch_mapping(mapping)

    def _watch_function(self, fn: Any) -> None:
        obs = self._functions.get(fn.name)
        if obs is None or obs.fn is not fn:
            obs = _FunctionObs(fn)
            self._functions[fn.name] = obs
        fn.on_invocation.append(self._invocation_callback(obs))

    def _watch_mapping(self, mapping: Any) -> None:
        obs = _MappingObs(mapping)
        self._mappings[obs.uuid] = obs
        obs.store.on_settle(self._settle_callback(obs))
        obs.store.subscribe(self._age_callback(obs))

    # -- hot-path callbacks (loop thread) ------------------------------------------------
    def _invocation_callback(self, fobs: _FunctionObs) -> Callable[[Any], None]:
        mappings = self._mappings

        def on_invocation(inv: Any) -> None:
            batch_size = getattr(inv, "batch_size", None)
            row = [
                inv.function_name,
                inv.mapping_uuid,
                inv.shard_id,
                inv.started_at,
                inv.ended_at,
                inv.duration,
                batch_size,
                inv.status,
                inv.error,
                inv.request_id,
            ]
            self._inv_rows.append(row)
            if inv.status == "throttled":
                self._grew()
                return
            micros = int(inv.duration * 1_000_000 + 0.5)
            fobs.duration.pending[micros] += 1
            billed = billed_ms(micros)
            fobs.period_billed_ms += billed
            fobs.period_mb_ms += billed * fobs.fn.memory_size
            fobs.intervals.append((inv.started_at, inv.ended_at))
            uuid = inv.mapping_uuid
            if uuid is not None:
                mobs = mappings.get(uuid)
                if mobs is None:
                    self._discover()
                    mobs = mappings.get(uuid)
                if mobs is not None:
                    mobs.duration.pending[micros] += 1
                    if batch_size is None:
                        mobs.unsized.append(
                            (row, int(mobs.store.counters.get("InvokedEventCount", 0)))
                        )
            self._grew()

        return on_invocation

    def _settle_callback(
        self, mobs: _MappingObs
    ) -> Callable[[str, int, Sequence[Any] | None], None]:
        clock = self._clock

        def on_settle(state: str, count: int, records: Sequence[Any] | None) -> None:
            first_id = last_id = first_t = last_t = None
            if records:
                head, tail = records[0], records[-1]
                first_id, last_id = _record_id(head), _record_id(tail)
                first_t, last_t = _record_time(head), _record_time(tail)
                if state == "delivered":
                    if getattr(head, "arrival_ms", None) is not None:
                        now_ms = clock.now_ms()
                        mobs.end_to_end.add_many(map(now_ms.__sub__, map(_ARRIVAL_MS, records)))
                    elif getattr(head, "sent_at", None) is not None:
                        now = clock.now()
                        mobs.end_to_end.add_many(
                            int((now - sent) * 1000) for sent in map(_SENT_AT, records)
                        )
            mobs.settled[state] = mobs.settled.get(state, 0) + count
            self._outcome_rows.append(
                (
                    mobs.uuid,
                    mobs.source_arn,
                    state,
                    count,
                    first_id,
                    last_id,
                    first_t,
                    last_t,
                    clock.now(),
                )
            )
            self._grew()

        return on_settle

    def _age_callback(self, mobs: _MappingObs) -> Callable[[str, float, float], None]:
        def on_sample(metric: str, at: float, value: float) -> None:
            if metric != "IteratorAge":
                return
            age = int(value)
            mobs.iterator_age.pending[age if age > 0 else 0] += 1
            if mobs.age_max is None or age > mobs.age_max:
                mobs.age_max = age
            if age > mobs.age_max_all:
                mobs.age_max_all = age
            shard = _current_shard()
            if shard is not None:
                best = mobs.shard_age_max.get(shard)
                if best is None or age > best:
                    mobs.shard_age_max[shard] = age

        return on_sample

    def _grew(self) -> None:
        self._buffered += 1
        if self._buffered >= FLUSH_ROWS and self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- the background task: sample, flush --------------------------------------------------
    def _next_boundary(self) -> float:
        return self._start + (self._samples_taken + 1) * self.sample_interval

    async def _main(self) -> None:
        self._done = anyio.Event()
        loop = asyncio.get_running_loop()
        clock = self._clock
        try:
            with clock.hold():
                await self._store.open()
            while not self._closing:
                self._wake = loop.create_future()
                with clock.move_on_at(self._next_boundary()):
                    await self._wake
                await clock.quiescent()
                while not self._closing and clock.now() >= self._next_boundary() - 1e-9:
                    self._samples_taken += 1
                    self._sample(self._start + self._samples_taken * self.sample_interval)
                await self._flush()
            if clock.now() > self._last_sample + 1e-9:
                self._sample(clock.now())
            await self._flush()
            with clock.hold():
                await self._store.replace_histograms(self._histogram_rows())
                await self._store.close()
        finally:
            self._done.set()

    async def _flush(self) -> None:
        for mobs in self._mappings.values():
            mobs.resolve_batch_sizes()
        invocations, self._inv_rows = self._inv_rows, []
        outcomes, self._outcome_rows = self._outcome_rows, []
        samples, self._sample_rows = self._sample_rows, []
        self._buffered = 0
        if not (invocations or outcomes or samples):
            return
        with self._clock.hold():
            await self._store.write("invocations", invocations)
            await self._store.write("record_outcomes", outcomes)
            await self._store.write(
                "metric_samples", [(m, d, t, v, u) for t, m, d, v, u in samples]
            )
        self.invocation_rows += len(invocations)
        self._log.debug(
            "results.flushed",
            invocations=len(invocations),
            record_outcomes=len(outcomes),
            metric_samples=len(samples),
        )

    # -- sampling ------------------------------------------------------------------------------
    def _sample(self, at: float) -> None:
        self._discover()
        self._last_sample = at
        out = self._sample_rows
        keep = self.samples

        def emit(metric: str, dims: str, value: float, unit: str) -> None:
            row = (at, metric, dims, value, unit)
            out.append(row)
            keep.append(row)

        for mobs in self._mappings.values():
            counters = mobs.store.counters
            for name in sorted(counters):
                value = int(counters[name])
                emit(name, mobs.dims_json, value - mobs.last_counters.get(name, 0), "Count")
                mobs.last_counters[name] = value
            states = mobs.states_now()
            for state in STATES:
                value = int(states.get(state, 0))
                dims = dims_json({**mobs.dims, "State": state})
                emit("RecordsSettled", dims, value - mobs.last_states[state], "Count")
                mobs.last_states[state] = value
            if mobs.age_max is not None:
                emit("IteratorAge", mobs.dims_json, mobs.age_max, "Milliseconds")
                for shard in sorted(mobs.shard_age_max):
                    dims = dims_json({**mobs.dims, "ShardId": shard})
                    emit("IteratorAge", dims, mobs.shard_age_max[shard], "Milliseconds")
            mobs.age_max = None
            mobs.shard_age_max = {}
            for metric, hist in (
                ("EndToEndLatency", mobs.end_to_end),
                ("IteratorAge", mobs.iterator_age),
            ):
                stats = hist.drain_period()
                if stats is None:
                    continue
                for stat, ms in stats.items():
                    dims = dims_json({**mobs.dims, "Statistic": stat})
                    emit(metric, dims, ms, _LATENCY_UNIT)
            if mobs.backlog is not None:
                per_shard = mobs.backlog()
                backlog = sum(per_shard.values())
                mobs.backlog_max = max(mobs.backlog_max, backlog)
                emit("StreamBacklog", mobs.dims_json, backlog, "Count")
                for shard in sorted(per_shard):
                    dims = dims_json({**mobs.dims, "ShardId": shard})
                    emit("StreamBacklog", dims, per_shard[shard], "Count")
        for qobs in self._queues.values():
            queue = qobs.queue
            if queue.deleted:
                continue
            metrics = queue.metrics
            qobs.final = dict(metrics)
            for name, unit in _QUEUE_GAUGES:
                emit(name, qobs.dims_json, int(metrics.get(name, 0)), unit)
            qobs.oldest_max = max(qobs.oldest_max, int(metrics["ApproximateAgeOfOldestMessage"]))
            for name in _QUEUE_COUNTERS:
                value = int(metrics.get(name, 0))
                emit(name, qobs.dims_json, value - qobs.last.get(name, 0), "Count")
                qobs.last[name] = value
        for fobs in self._functions.values():
            metrics = fobs.fn.metrics
            for name in _FUNCTION_COUNTERS:
                total = float(metrics[name])
                emit(name, fobs.dims_json, total - fobs.last.get(name, 0.0), "Count")
                fobs.last[name] = total
            peak = _peak_concurrency(fobs.intervals, int(metrics["ConcurrentExecutions"]))
            fobs.intervals = []
            fobs.concurrency_max = max(fobs.concurrency_max, peak)
            emit("ConcurrentExecutions", fobs.dims_json, peak, "Count")
            emit("BilledDuration", fobs.dims_json, fobs.period_billed_ms, "Milliseconds")
            emit(
                "GBSeconds",
                fobs.dims_json,
                fobs.period_mb_ms / MB_MS_PER_GB_SECOND,
                "Gigabyte-Seconds",
            )
            fobs.billed_ms += fobs.period_billed_ms
            fobs.mb_ms += fobs.period_mb_ms
            fobs.period_billed_ms = fobs.period_mb_ms = 0

    def _histogram_rows(self) -> list[tuple[str, str, str, str]]:
        rows: list[tuple[str, str, str, str]] = []
        for mobs in self._mappings.values():
            for name, hist in (
                ("Duration", mobs.duration),
                ("EndToEndLatency", mobs.end_to_end),
                ("IteratorAge", mobs.iterator_age),
            ):
                rows.append((name, mobs.dims_json, hist.unit, hist.encode()))
        rows.extend(
            ("Duration", fobs.dims_json, fobs.duration.unit, fobs.duration.encode())
            for fobs in self._functions.values()
        )
        return rows

    # -- the end -----------------------------------------------------------------------------
    async def _stop(self) -> None:
        self._closing = True
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        if self._done is None:
            # The task never started (attach() then no run): start it now.
            await anyio.lowlevel.checkpoint()
        if self._done is not None:
            await self._done.wait()

    def finish(self) -> dict[str, Any]:
        """Stop recording (sync, while the simulation is paused) and write the run directory."""
        if self.summary is None:
            if self._attached:
                self.sim.call_sync(self._stop)
            self._write_outputs()
        assert self.summary is not None
        return self.summary

    async def afinish(self) -> dict[str, Any]:
        """``finish`` for async code (``async with Simulation()``)."""
        if self.summary is None:
            if self._attached:
                await self.sim.call(self._stop)
            self._write_outputs()
        assert self.summary is not None
        return self.summary

    def _write_outputs(self) -> None:
        from ._outputs import build_summary, write_metrics_csv, write_summary

        self.summary = build_summary(self)
        write_summary(self.out_dir / "summary.json", self.summary)
        write_metrics_csv(self.out_dir / "metrics.csv", self.samples)
        if self.report:
            from ._report import write_report

            write_report(self.out_dir / "report.html", self.summary, self.samples)
        self._log.info(
            "results.written",
            out=str(self.out_dir),
            invocations=self.invocation_rows,
            samples=len(self.samples),
            start=format_iso_ms(self._clock.to_ms(self._start)),
        )


def _peak_concurrency(intervals: list[tuple[float, float]], running_now: int) -> int:
    """Most invocations overlapping at once among ``intervals`` (or ``running_now``).

    Intervals are the invocations that ended in the period; one still running
    at the period's end is counted by ``running_now`` only, so this is a lower
    bound when a long invocation straddles a boundary.
    """
    if not intervals:
        return running_now
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    # Ends sort before starts at the same instant (-1 < 1): back-to-back is not overlap.
    level = peak = 0
    for _, step in events:
        level += step
        if level > peak:
            peak = level
    return max(peak, running_now)
