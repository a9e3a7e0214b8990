"""The stream poller: one implementation for Kinesis and DynamoDB Streams.

Shape of the machinery, per mapping:

* a supervisor starts one ``_ShardWorker`` per shard, parents before children
  (a child starts only when its parents are fully processed), so per-key order
  holds across a reshard;
* each shard worker has one reader (polls the source: once per second per
  shard for Kinesis, four times per second for DynamoDB, and at once again while
  records remain) and ``ParallelizationFactor`` lanes. A record goes to the lane
  its key hashes to, so records of one key are always processed in order by one
  lane, while up to PF batches of a shard run at once. With PF = 1 there is one
  lane and the shard is strictly sequential;
* a lane forms batches (BatchSize, batching window, 6 MB), invokes, and applies
  AWS's failure rules: retries, ``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds``,
  bisect, partial batch responses (checkpoint at the lowest failed sequence
  number; the retry count restarts when the checkpoint moves), throttles, and
  OnFailure destinations. A failing lane blocks only its keys' records; the
  shard's checkpoint cannot pass it.

Tumbling windows (``TumblingWindowInSeconds``, spec §2.5, §4.4, §10.15): a
shard then has one lane whatever the ParallelizationFactor (windows and their
state are per shard). Windows are aligned to multiples of the window length
since the Unix epoch, by record arrival time; a batch holds records of one
window; every invocation carries ``window``, ``state``, ``shardId``,
``eventSourceARN``, ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``
and must return an object with a ``state`` object. A window ends when a record
of a later window is next, when the shard ends, or, on an idle shard, once the
window's end has passed and the reader has read everything that arrived
before it; then a state-only final invocation (``Records: []``) delivers the
aggregate. A returned state over 1,048,576 bytes of JSON ends the window early
with such an invocation flagged ``isWindowTerminatedEarly``; the window then
goes on with a fresh state.

Idle costs nothing: a reader with nothing to read waits on the source's signal
and then sleeps only until the poll tick it would have polled at in AWS, so an
idle shard spends no timers at all. A source with lazy load producers (whose
records appear only when the stream is read) says when its next record
arrives; the reader then wakes at the first tick at or after it.
"""

from __future__ import annotations

import json
import math
import operator
import zlib
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._core import ResourceNotFoundException, Signal, wait_any
from .._core._clock import format_iso_s
from ..handlers.responses import parse_batch_response
from ._destinations import FailedBatch, deliver, failure_record
from ._events import copy_json, dynamodb_event_record, kinesis_event_records

if TYPE_CHECKING:
    from ..simulation import Simulation
    from .mapping import EventSourceMapping

__all__ = ("StreamPoller",)

PAYLOAD_LIMIT = 6 * 1024 * 1024
"""The synchronous invoke payload limit a batch must fit in (spec §2.1)."""

# Bytes an event record adds around its data: ARNs, ids, field names.
_RECORD_OVERHEAD = 420
_READ_LIMIT_KINESIS = 10_000
_READ_LIMIT_DYNAMODB = 1_000
_MAX_BACKOFF = 60.0
MAX_WINDOW_STATE = 1_048_576
"""Bytes of JSON-encoded tumbling-window state at most (spec §2.5, §10.15)."""


def _backoff(failures: int) -> float:
    """Seconds before retrying after ``failures`` consecutive failed invocations.

    AWS documents that failed stream batches are retried with backoff but not
    the curve; esmsim doubles from 1 s up to 60 s (docs/semantics.md).
    """
    # Cap the exponent: a shard blocked for a day fails thousands of times and
    # 2.0 ** 1024 overflows.
    return min(_MAX_BACKOFF, 2.0 ** min(max(0, failures - 1), 16))


def _window_state(response: Any) -> dict[str, Any] | None:
    """The ``state`` object of a tumbling-window response; None when there is none (§2.5)."""
    if isinstance(response, bytes | bytearray | str):
        try:
            response = json.loads(response)
        except ValueError:
            return None
    if not isinstance(response, dict):
        return None
    state = response.get("state")
    return state if isinstance(state, dict) else None


def _state_size(state: dict[str, Any]) -> int:
    return len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())


def _event_size(record: Any) -> int:
    # Kinesis data travels base64-encoded (4/3); DynamoDB records as JSON.
    return (int(record.size) * 4) // 3 + _RECORD_OVERHEAD


class StreamPoller:
    """Runs a Kinesis or DynamoDB Streams event source mapping."""

    def __init__(self, mapping: EventSourceMapping, sim: Simulation) -> None:
        self.mapping = mapping
        self.sim = sim
        self.source = mapping.source
        self.clock = sim.clock
        self.kind = mapping.settings.kind
        self.poll_interval = 1.0 if self.kind == "kinesis" else 0.25
        self.read_limit = _READ_LIMIT_KINESIS if self.kind == "kinesis" else _READ_LIMIT_DYNAMODB
        self.workers: dict[str, _ShardWorker] = {}
        self.request_ids = sim.seeds.ids("esm-request", mapping.uuid)
        self.warned_ignored_failures = False
        self.record_filter: Callable[[Any], bool] | None = None
        # Fired when a lazy producer may have moved the source's next arrival
        # earlier: idle readers re-plan their wake-up.
        self.replan = Signal(sim.kernel)

    # -- status -----------------------------------------------------------------------
    def idle(self) -> bool:
        """No record buffered, in flight or left unread on any shard."""
        return all(worker.idle() for worker in self.workers.values()) and not self._unstarted()

    def pending(self) -> int:
        """Records read or readable but not yet in a final state."""
        return sum(worker.pending() for worker in self.workers.values())

    def settled_elsewhere(self) -> dict[str, int]:
        """Records trimmed by retention before any reader got to them (not yet counted)."""
        return {"expired": sum(worker.unseen_expired() for worker in self.workers.values())}

    def _unstarted(self) -> bool:
        return any(sid not in self.workers for sid in self.source.shard_ids())

    # -- running ------------------------------------------------------------------------
    async def run(self) -> None:
        await self.mapping.wait_enabled()
        if self.mapping.deleted:
            return
        async with anyio.create_task_group() as tg:
            if hasattr(self.source, "next_arrival_ms"):
                tg.start_soon(self._watch_producers, name="producers")
            await self._supervise(tg)
            tg.cancel_scope.cancel()

    async def _watch_producers(self) -> None:
        """Wake idle readers when the source's next lazily produced arrival moves earlier.

        Readers wait on their own shard's signal; adding a producer to the
        stream fires only the stream's. One cheap check per write per mapping.
        """
        next_arrival_ms: Callable[[], int | None] = self.source.next_arrival_ms
        last = next_arrival_ms()
        while not self.mapping.deleted:
            await self.source.data_signal.wait()
            arrival = next_arrival_ms()
            if arrival is not None and (last is None or arrival < last):
                self.replan.fire()
            last = arrival

    def _start_position(self, shard_id: str) -> int:
        s = self.mapping.settings
        if s.starting_position == "AT_TIMESTAMP":
            return int(
                self.source.position(
                    shard_id, "AT_TIMESTAMP", timestamp=s.starting_position_timestamp
                )
            )
        return int(self.source.position(shard_id, s.starting_position or "TRIM_HORIZON"))

    async def _supervise(self, tg: anyio.abc.TaskGroup) -> None:
        # LATEST means the tip when the mapping becomes Enabled (§10.8): the
        # positions are taken now, at the first instant the mapping runs.
        shards_changed = getattr(self.source, "shards_signal", None)
        while not self.mapping.deleted:
            for shard_id in self.source.shard_ids():
                if shard_id in self.workers or not self._parents_done(shard_id):
                    continue
                info = self.source.shard_info(shard_id)
                # Children of a shard this mapping processed start at their
                # beginning; everything else starts at the mapping's position.
                parent_seen = any(
                    p in self.workers
                    for p in (info.parent_shard_id, info.adjacent_parent_shard_id)
                    if p
                )
                position = (
                    int(self.source.position(shard_id, "TRIM_HORIZON"))
                    if parent_seen
                    else self._start_position(shard_id)
                )
                worker = _ShardWorker(self, shard_id, position)
                self.workers[shard_id] = worker
                tg.start_soon(worker.run, name=f"shard-{shard_id}")
            waiters: list[Signal] = [self.mapping.changed]
            if shards_changed is not None:
                waiters.append(shards_changed)
            waiters.extend(w.finished for w in self.workers.values() if not w.done)
            await wait_any(waiters)

    def _parents_done(self, shard_id: str) -> bool:
        info = self.source.shard_info(shard_id)
        for parent in (info.parent_shard_id, info.adjacent_parent_shard_id):
            if not parent:
                continue
            worker = self.workers.get(parent)
            if worker is not None and not worker.done:
                return False
            if worker is None and parent in self.source.shard_ids():
                # The parent is still readable but not started yet: it goes first.
                return False
        return True

    # -- event building --------------------------------------------------------------------
    def event_builder(
        self, shard_id: str, batch: tuple[Any, ...], window: _WindowInvoke | None = None
    ) -> Callable[[], dict[str, Any]]:
        """A zero-argument builder of the invocation event for ``batch``.

        With ``window``, the tumbling-window fields of §4.4 follow ``Records``.
        """
        region = self.sim.region
        stream_arn = self.mapping.settings.event_source_arn
        if self.kind == "kinesis":
            role = self.mapping.function.role

            def build_records() -> list[dict[str, Any]]:
                return kinesis_event_records(batch, shard_id, stream_arn, region, role)

        else:

            def build_records() -> list[dict[str, Any]]:
                return [dynamodb_event_record(r, stream_arn, region) for r in batch]

        if window is None:
            return lambda: {"Records": build_records()}
        start_ms, end_ms = window.bounds
        span = {"start": format_iso_s(start_ms), "end": format_iso_s(end_ms)}
        state, final, early = window.state, window.final, window.early

        def build_window() -> dict[str, Any]:
            return {
                "Records": build_records(),
                "window": dict(span),
                "state": copy_json(state),
                "shardId": shard_id,
                "eventSourceARN": stream_arn,
                "isFinalInvokeForWindow": final,
                "isWindowTerminatedEarly": early,
            }

        return build_window

    # -- observing --------------------------------------------------------------------------
    def backlog_snapshot(self) -> dict[str, int]:
        """Per started shard: records in the shard not yet settled by this mapping.

        ``pending`` without its side effects, for observers sampling mid-run:
        bounds come from ``source.peek_bounds`` (no lazy production, trimming
        or signals), so sampling cannot move the trace. Lazily produced
        records appear once any reader of the stream has reached their time;
        shards not started yet (children waiting for their parents) are absent.
        """
        out: dict[str, int] = {}
        for shard_id, worker in self.workers.items():
            unread = 0
            bounds = None if worker.reader_done else self.source.peek_bounds(shard_id)
            if bounds is not None:
                trim, end = bounds
                unread = max(0, end - max(worker.position, trim))
            out[shard_id] = worker.buffered() + unread
        return out


class _WindowInvoke:
    """What a tumbling-window invocation says about its window (§4.4)."""

    __slots__ = ("bounds", "early", "final", "state")

    def __init__(
        self, bounds: tuple[int, int], state: dict[str, Any], *, final: bool, early: bool
    ) -> None:
        self.bounds = bounds
        self.state = state
        self.final = final
        self.early = early


def _active(mapping: EventSourceMapping) -> bool:
    """Enabled and not deleted (a function, so type narrowing never caches it across awaits)."""
    return mapping.enabled


_size_of = operator.attrgetter("size")


class _ShardWorker:
    """Reads one shard and feeds its lanes; done when the closed shard is fully processed."""

    def __init__(self, poller: StreamPoller, shard_id: str, position: int) -> None:
        self.poller = poller
        self.shard_id = shard_id
        self.position = position
        self.lanes: list[_Lane] = []
        self.need_records = Signal(poller.sim.kernel)
        self.finished = Signal(poller.sim.kernel)
        self.reader_done = False
        self.done = False
        # The highest shard end seen, and whether retention removed the whole
        # (closed) shard: then the source no longer answers for it, and what was
        # still unread past ``position`` up to ``tip`` expired unseen.
        self.tip = position
        self.gone = False
        self.tick_origin = poller.clock.now()
        self.lane_group: anyio.abc.TaskGroup | None = None

    # -- status -----------------------------------------------------------------------
    def buffered(self) -> int:
        return sum(lane.buffered() for lane in self.lanes)

    def _bounds(self) -> tuple[int, int]:
        """The shard's (trim horizon, tip); both the last tip once the shard is gone."""
        if not self.gone:
            source = self.poller.source
            try:
                trim = int(source.position(self.shard_id, "TRIM_HORIZON"))
                self.tip = max(self.tip, int(source.position(self.shard_id, "LATEST")))
                return trim, self.tip
            except ResourceNotFoundException:
                self.gone = True
        return self.tip, self.tip

    def unread(self) -> int:
        trim, tip = self._bounds()
        return max(0, tip - max(self.position, trim))

    def unseen_expired(self) -> int:
        trim, _ = self._bounds()
        return max(0, trim - self.position)

    def pending(self) -> int:
        return self.buffered() + (0 if self.reader_done else self.unread())

    def windows_open(self) -> bool:
        """A tumbling window is open: its final invocation is still to come."""
        return any(lane.window is not None for lane in self.lanes)

    def idle(self) -> bool:
        return self.done or (
            self.buffered() == 0
            and not self.windows_open()
            and (self.reader_done or self.unread() == 0)
        )

    # -- running -------------------------------------------------------------------------
    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            self.lane_group = tg
            self._build_lanes(tg)
            await self._read_loop()
            # The shard is closed and read to its end: wait for the lanes (a
            # lane with an open tumbling window closes it now, §2.2).
            for lane in self.lanes:
                lane.wake.fire()
            while self.buffered() or self.windows_open():
                await wait_any([lane.emptied for lane in self.lanes])
            tg.cancel_scope.cancel()
        self.done = True
        self.finished.fire()

    def _build_lanes(self, tg: anyio.abc.TaskGroup) -> None:
        for lane in self.lanes:
            lane.retired = True
            lane.wake.fire()
        count = self.lane_count()
        self.lanes = [_Lane(self, i) for i in range(count)]
        for lane in self.lanes:
            tg.start_soon(lane.run, name=f"lane-{self.shard_id}-{lane.index}")

    def lane_count(self) -> int:
        """ParallelizationFactor lanes; one with tumbling windows (state is per shard)."""
        settings = self.poller.mapping.settings
        if settings.tumbling_window_in_seconds > 0:
            return 1
        return settings.parallelization_factor

    def _lane_for(self, key: str) -> _Lane:
        if len(self.lanes) == 1:
            return self.lanes[0]
        return self.lanes[zlib.crc32(key.encode()) % len(self.lanes)]

    def _next_tick(self, at: float | None = None) -> float:
        """The first poll tick of this shard's schedule at or after ``at`` (default: now)."""
        interval = self.poller.poll_interval
        when = self.poller.clock.now() if at is None else at
        steps = math.ceil((when - self.tick_origin) / interval - 1e-9)
        return self.tick_origin + max(0, steps) * interval

    async def _sleep_to_next_poll(self) -> None:
        interval = self.poller.poll_interval
        now = self.poller.clock.now()
        steps = math.floor((now - self.tick_origin) / interval + 1e-9) + 1
        await self.poller.clock.sleep_until(self.tick_origin + steps * interval)

    async def _wait_watching_shard(self, signal: Signal) -> None:
        """Wait for ``signal`` while not reading, looking at the shard twice per retention.

        A reader that stops reading (blocked behind a failing batch, or the
        mapping disabled) must still see the shard's final tip before retention
        removes a closed shard whole, or the records it never read could not be
        counted as expired. Two timers per retention period (a day or more) per
        waiting shard cost nothing.
        """
        clock = self.poller.clock
        with clock.move_on_at(clock.now() + self.poller.source.retention_seconds / 2) as scope:
            await signal.wait()
        if scope.cancelled_caught:
            self._bounds()

    async def _read_loop(self) -> None:
        poller = self.poller
        mapping = poller.mapping
        source = poller.source
        clock = poller.clock
        data_signal: Signal = getattr(source, "shard_signal", lambda _sid: source.data_signal)(
            self.shard_id
        )
        # Sources with lazy load producers say when their next record arrives.
        next_arrival_ms: Callable[[], int | None] | None = getattr(source, "next_arrival_ms", None)
        waiters = [data_signal, mapping.changed]
        if next_arrival_ms is not None:
            waiters.append(poller.replan)
        while not mapping.deleted:
            if not mapping.enabled:
                await self._wait_watching_shard(mapping.changed)
                continue
            settings = mapping.settings
            assert self.lane_group is not None
            if self.lane_count() != len(self.lanes):
                # Re-partitioning keys while records are buffered could reorder
                # a key: drain first, then rebuild the lanes.
                if self.buffered() or self.windows_open():
                    await wait_any([lane.emptied for lane in self.lanes])
                    continue
                self._build_lanes(self.lane_group)
            # Keep about one batch per lane buffered; each read takes as much as
            # GetRecords gives (10,000 Kinesis, 1,000 DynamoDB) so that a fast
            # function is never starved by the 5 reads/s shard quota.
            watermark = max(settings.batch_size * len(self.lanes), 1)
            if self.buffered() >= watermark:
                await self._wait_watching_shard(self.need_records)
                continue
            if getattr(source, "deleted", False):
                await mapping.changed.wait()
                continue
            limit = max(poller.read_limit, watermark - self.buffered())
            try:
                result = source.read(self.shard_id, self.position, limit, mapping.uuid)
            except ResourceNotFoundException:
                # Retention removed the whole closed shard while this reader was
                # blocked behind a failing batch: its unread records expired.
                self.gone = True
                mapping.metrics_store.settle("expired", max(0, self.tip - self.position))
                self.position = max(self.position, self.tip)
                self.reader_done = True
                return
            if result.expired:
                mapping.metrics_store.settle("expired", result.expired)
            if result.throttled:
                await self._sleep_to_next_poll()
                continue
            self.position = result.next_position
            if self.position > self.tip:
                self.tip = self.position
            if result.records:
                self._distribute(result.records)
                if source.latest(self.shard_id) > self.position:
                    continue  # records remain: read again at once
                # Caught up (MillisBehindLatest 0): an empty read now would only
                # spend the shard's shared read quota.
            if result.shard_end:
                self.reader_done = True
                return
            # Caught up. Wait for data without spending timers, then poll at
            # the tick AWS would have polled at.
            while source.latest(self.shard_id) <= self.position:
                if not _active(mapping):
                    break
                shard_closed = source.shard_info(self.shard_id).closed
                if shard_closed:
                    break
                arrival = next_arrival_ms() if next_arrival_ms is not None else None
                if arrival is None:
                    await wait_any(waiters)
                    continue
                # A lazy producer writes its next record (on some shard) at
                # ``arrival`` but only when the stream is read: poll at the
                # first tick at or after it, at most one wake per tick.
                with clock.move_on_at(self._next_tick(arrival / 1000)):
                    await wait_any(waiters)
            await clock.sleep_until(self._next_tick())

    def _distribute(self, records: list[Any]) -> None:
        metrics = self.poller.mapping.metrics_store
        metrics.add("PolledEventCount", len(records))
        keep = self.poller.record_filter
        now = self.poller.clock.now()
        if keep is None and len(self.lanes) == 1:
            # The common case (no filter, PF 1): one bulk extend, no per-record work.
            lane = self.lanes[0]
            if not lane.queue:
                lane.available_since = now
            lane.queue.extend(records)
            lane.wake.fire()
            return
        touched: list[_Lane] = []
        filtered = 0
        for record in records:
            if keep is not None and not keep(record):
                filtered += 1
                continue
            lane = self._lane_for(record.key)
            if not lane.queue:
                lane.available_since = now
                touched.append(lane)
            lane.queue.append(record)
        if filtered:
            metrics.add("FilteredOutEventCount", filtered)
            metrics.settle("filtered", filtered)
        for lane in touched:
            lane.wake.fire()


class _Lane:
    """Sequential batches for the keys that hash here: retries, bisect, discards."""

    def __init__(self, worker: _ShardWorker, index: int) -> None:
        self.worker = worker
        self.poller = worker.poller
        self.index = index
        self.queue: deque[Any] = deque()
        self.batch: list[Any] = []
        self.halves: list[list[Any]] = []  # bisect halves still to process, last = next
        self.attempts = 0
        self.failures = 0
        self.last_request_id = ""
        self.last_end = -math.inf
        self.available_since = 0.0
        self.wake = Signal(worker.poller.sim.kernel)
        self.emptied = Signal(worker.poller.sim.kernel)
        self.retired = False
        # Tumbling window: the open window's [start, end) in epoch ms, the
        # state the last successful invocation returned, whether the window
        # (or its part since an early termination) was invoked, and whether
        # the last state was too large (an early-terminating invoke is due).
        self.window: tuple[int, int] | None = None
        self.window_state: dict[str, Any] = {}
        self.window_invoked = False
        self.window_early = False

    def buffered(self) -> int:
        return len(self.queue) + len(self.batch) + sum(len(h) for h in self.halves)

    # -- the lane loop ------------------------------------------------------------------
    async def run(self) -> None:
        mapping = self.poller.mapping
        while not self.retired and not mapping.deleted:
            if not mapping.enabled:
                await mapping.changed.wait()
                continue
            if not self.batch:
                if self.halves:
                    self.batch = self.halves.pop()
                    self.attempts = 0
                elif self.window is not None and self._window_due():
                    await self._close_window()
                    continue
                elif not self.queue:
                    self.emptied.fire()
                    self.worker.need_records.fire()
                    if self.window is None:
                        await self.wake.wait()
                    else:
                        await self._wait_window_end()
                    continue
                else:
                    if not await self._fill_window():
                        continue
                    self._take_batch()
            await self._process_batch()
            if not self.batch and not self.halves and len(self.queue) < mapping.settings.batch_size:
                self.worker.need_records.fire()

    async def _fill_window(self) -> bool:
        """Wait out MaximumBatchingWindowInSeconds; False if the wait should restart."""
        settings = self.poller.mapping.settings
        window = settings.batching_window
        if window <= 0:
            return True
        clock = self.poller.clock
        # The window starts when the previous invocation ends, even if the next
        # record is read a moment later (§10.9); only a lane that stayed empty
        # through a whole window is idle, and then it starts at the first record.
        start = self.last_end
        if self.available_since > start + window:
            start = self.available_since
        deadline = start + window
        if len(self.queue) >= settings.batch_size or clock.now() >= deadline:
            return True
        if self._queued_bytes() >= PAYLOAD_LIMIT:
            return True
        with clock.move_on_at(deadline):
            await self.wake.wait()
            return False
        return True

    def _queued_bytes(self) -> int:
        return sum(_event_size(r) for r in self.queue)

    # -- tumbling windows -------------------------------------------------------------------
    def _window_of(self, record: Any) -> tuple[int, int]:
        """The window holding ``record``: aligned to the window length since the epoch (§10.15)."""
        span = self.poller.mapping.settings.tumbling_window_in_seconds * 1000
        start = record.arrival_ms - record.arrival_ms % span
        return start, start + span

    def _window_due(self) -> bool:
        """Whether the open window must be closed (or early-terminated) before anything else."""
        assert self.window is not None
        if self.window_early or self.poller.mapping.settings.tumbling_window_in_seconds <= 0:
            return True
        if self.queue:
            # A record of a later window is next.
            return self._window_of(self.queue[0]) != self.window
        if self.worker.reader_done:
            return True  # the shard ended: its window closes (§2.2)
        # Idle shard: the window's end has passed and every record that arrived
        # before it has been read (nothing unread is left on the shard).
        now_ms = self.poller.clock.now_ms()
        return now_ms >= self.window[1] and self.worker.unread() == 0

    async def _wait_window_end(self) -> None:
        """Wait for records or the open window's end (then poll-tick by poll-tick)."""
        assert self.window is not None
        clock = self.poller.clock
        deadline = self.window[1] / 1000
        if clock.now() >= deadline:
            # Past the end, records that arrived before it are still unread:
            # the reader wakes this lane with them, or the next tick re-checks.
            deadline = clock.now() + self.poller.poll_interval
        with clock.move_on_at(deadline):
            await self.wake.wait()

    def _open_window(self, bounds: tuple[int, int]) -> None:
        self.window = bounds
        self.window_state = {}
        self.window_invoked = False
        self.window_early = False

    def _accept_state(self, state: dict[str, Any]) -> None:
        self.window_state = state
        self.window_invoked = True
        if _state_size(state) > MAX_WINDOW_STATE:
            self.window_early = True

    async def _invoke(self, build: Callable[[], dict[str, Any]], events: int) -> Any | None:
        """Invoke the mapping's function; None after backing off when it never ran.

        A deleted function fails before the function runs, so it is retried like a
        throttle until the records expire (§2.4); its ``events`` count in
        FailedInvokeEventCount (§5). Neither counts against MaximumRetryAttempts.
        """
        poller = self.poller
        mapping = poller.mapping
        clock = poller.clock
        try:
            outcome = await mapping.function.invoke(
                build, source=poller.kind, mapping_uuid=mapping.uuid, shard_id=self.worker.shard_id
            )
        except ResourceNotFoundException:
            outcome = None
            if events:
                mapping.metrics_store.add("FailedInvokeEventCount", events)
            mapping.last_processing_result = "PROBLEM: Function not found"
        else:
            if outcome.status != "throttled":
                self.last_end = clock.now()
                return outcome
            mapping.metrics_store.add("Throttles")
        self.last_end = clock.now()
        self.failures += 1
        await clock.sleep(_backoff(self.failures))
        return None

    async def _close_window(self) -> None:
        """The state-only invocation that ends the open window (or part of it, when early)."""
        assert self.window is not None
        poller = self.poller
        mapping = poller.mapping
        early = self.window_early
        if not self.window_invoked and not early:
            self.window = None  # nothing was invoked in it: nothing to report
            return
        clock = poller.clock
        shard_id = self.worker.shard_id
        invoke = _WindowInvoke(self.window, self.window_state, final=True, early=early)
        metrics = mapping.metrics_store
        outcome = await self._invoke(poller.event_builder(shard_id, (), invoke), events=0)
        if outcome is None:
            return
        metrics.add("Invocations")
        self.last_request_id = outcome.request_id or self.last_request_id
        ok = outcome.status == "success" and _window_state(outcome.response) is not None
        if ok:
            mapping.last_processing_result = "OK"
            self.attempts = 0
            self.failures = 0
            if early:
                # The same window goes on with a fresh state (§2.5).
                self.window_state = {}
                self.window_invoked = False
                self.window_early = False
            else:
                self.window = None
            return
        # A failed final invocation blocks the shard; it is retried under the
        # mapping's retry settings (§2.5), with the usual backoff.
        if outcome.status in ("function_error", "timeout"):
            metrics.add("Errors")
        mapping.last_processing_result = "PROBLEM: Function call failed"
        self.attempts += 1
        limit = mapping.settings.maximum_retry_attempts
        if limit != -1 and self.attempts > limit:
            mapping.log.warning(
                "window.final_invoke_abandoned",
                shard=shard_id,
                window_start=invoke.bounds[0],
                attempts=self.attempts,
            )
            self.attempts = 0
            self.failures = 0
            if early:
                self.window_state = {}
                self.window_invoked = False
                self.window_early = False
            else:
                self.window = None
            return
        self.failures += 1
        await clock.sleep(_backoff(self.failures))

    def _take_batch(self) -> None:
        limit = self.poller.mapping.settings.batch_size
        batch: list[Any] = []
        size = 0
        window: tuple[int, int] | None = None
        if self.poller.mapping.settings.tumbling_window_in_seconds > 0 and self.queue:
            window = self._window_of(self.queue[0])
            if self.window != window:
                self._open_window(window)
        queue = self.queue
        if window is None:
            # Usually the next BatchSize records fit in 6 MB: check their payload
            # in bulk (an upper bound of the per-record rule) and take them at once.
            count = min(limit, len(queue))
            head = list(islice(queue, count))
            total = sum(map(_size_of, head))
            if total * 4 // 3 + count * _RECORD_OVERHEAD <= PAYLOAD_LIMIT:
                popleft = queue.popleft
                for _ in range(count):
                    popleft()
                self.batch = head
                self.attempts = 0
                return
        while queue and len(batch) < limit:
            record = queue[0]
            if window is not None and not window[0] <= record.arrival_ms < window[1]:
                break  # one window per batch
            record_size = _event_size(record)
            if batch and size + record_size > PAYLOAD_LIMIT:
                break
            size += record_size
            batch.append(queue.popleft())
        self.batch = batch
        self.attempts = 0

    # -- one invocation -------------------------------------------------------------------
    async def _process_batch(self) -> None:
        self._expire_by_retention()
        self._discard_by_age()
        if not self.batch:
            return
        poller = self.poller
        mapping = poller.mapping
        clock = poller.clock
        settings = mapping.settings
        batch = tuple(self.batch)
        metrics = mapping.metrics_store
        metrics.iterator_age(clock.now_ms() - batch[-1].arrival_ms, clock.now())
        window: _WindowInvoke | None = None
        if self.window is not None and settings.tumbling_window_in_seconds > 0:
            window = _WindowInvoke(self.window, self.window_state, final=False, early=False)
        outcome = await self._invoke(
            poller.event_builder(self.worker.shard_id, batch, window), events=len(batch)
        )
        if outcome is None:
            return
        metrics.add("Invocations")
        metrics.add("InvokedEventCount", len(batch))
        self.last_request_id = outcome.request_id or self.last_request_id
        self.attempts += 1
        state: dict[str, Any] | None = None
        if window is not None and outcome.status == "success":
            state = _window_state(outcome.response)
            if state is None:
                # A window invocation must return an object with ``state`` (§2.5).
                mapping.log.warning(
                    "handler.window_state_missing",
                    shard=self.worker.shard_id,
                    reason="a tumbling-window invocation must return an object with a "
                    "'state' object; the invocation counts as failed",
                )
                await self._failed(outcome, function_error=None, bisect=False)
                return
        response = outcome.response
        if (
            outcome.status == "success"
            and state is None
            and (
                response is None or (type(response) is dict and "batchItemFailures" not in response)
            )
        ):
            # By far the most common result, and success under every §2.6 rule:
            # skip building the batch's id list.
            self._succeeded(len(batch))
            return
        parsed = parse_batch_response(
            outcome,
            family="stream",
            batch_ids=[r.sequence_number for r in batch],
            report_batch_item_failures=settings.report_batch_item_failures,
        )
        if getattr(parsed, "ignored_failures", False) and not poller.warned_ignored_failures:
            poller.warned_ignored_failures = True
            mapping.log.warning(
                "handler.batch_item_failures_ignored",
                reason="the handler returned batchItemFailures but the mapping's "
                "FunctionResponseTypes lacks ReportBatchItemFailures, so Lambda treats the "
                "batch as fully successful and those records are not retried",
            )
        if parsed.kind == "success":
            if state is not None:
                self._accept_state(state)
            self._succeeded(len(batch))
            return
        if parsed.kind == "partial":
            metrics.add("FailedInvokeEventCount", len(batch))
            by_id = {r.sequence_number: i for i, r in enumerate(batch)}
            lowest = min(by_id[i] for i in parsed.failed_ids)
            if lowest > 0:
                if state is not None:
                    self._accept_state(state)
                self._partial_progress(lowest)
                return
            await self._failed(outcome, function_error=None, bisect=False)
            return
        function_error = outcome.status in ("function_error", "timeout")
        if function_error:
            metrics.add("Errors")
        await self._failed(
            outcome,
            function_error="Unhandled" if function_error else None,
            bisect=function_error and settings.bisect_batch_on_function_error,
        )

    def _succeeded(self, count: int) -> None:
        mapping = self.poller.mapping
        mapping.metrics_store.settle("delivered", count, self.batch)
        mapping.last_processing_result = "OK"
        self.batch = []
        self.attempts = 0
        self.failures = 0

    def _partial_progress(self, lowest: int) -> None:
        # The checkpoint moves to the lowest failed record: everything before it
        # is done, the rest is retried with a fresh retry count (§10.2).
        self.poller.mapping.metrics_store.settle("delivered", lowest, self.batch[:lowest])
        rest = self.batch[lowest:]
        self.failures = 0
        self.attempts = 0
        if self.halves:
            self.batch = rest
        else:
            self.batch = []
            self.queue.extendleft(reversed(rest))

    async def _failed(self, outcome: Any, *, function_error: str | None, bisect: bool) -> None:
        mapping = self.poller.mapping
        settings = mapping.settings
        mapping.last_processing_result = "PROBLEM: Function call failed"
        if bisect and len(self.batch) > 1:
            middle = (len(self.batch) + 1) // 2
            first, second = self.batch[:middle], self.batch[middle:]
            self.halves.append(second)
            self.batch = first
            self.attempts = 0
            mapping.log.debug(
                "batch.bisected", shard=self.worker.shard_id, sizes=[len(first), len(second)]
            )
            return
        limit = settings.maximum_retry_attempts
        if limit != -1 and self.attempts > limit:
            self._discard(
                self.batch,
                "RetryAttemptsExhausted",
                invoke_count=self.attempts,
                function_error=function_error,
                invoked=True,
            )
            self.batch = []
            self.attempts = 0
            self.failures = 0
            return
        self.failures += 1
        await self.poller.clock.sleep(_backoff(self.failures))

    # -- expiry and discards ------------------------------------------------------------------
    def _expire_by_retention(self) -> None:
        retention_ms = int(self.poller.source.retention_seconds * 1000)
        cutoff = self.poller.clock.now_ms() - retention_ms
        expired = 0
        while self.batch and self.batch[0].arrival_ms < cutoff:
            self.batch.pop(0)
            expired += 1
        if expired:
            self.poller.mapping.metrics_store.settle("expired", expired)
            self.poller.mapping.log.info(
                "record.expired", shard=self.worker.shard_id, count=expired, reason="retention"
            )
            if not self.batch:
                self.attempts = 0

    def _discard_by_age(self) -> None:
        max_age = self.poller.mapping.settings.maximum_record_age_in_seconds
        if max_age == -1 or not self.batch:
            return
        cutoff = self.poller.clock.now_ms() - max_age * 1000
        count = 0
        while count < len(self.batch) and self.batch[count].arrival_ms < cutoff:
            count += 1
        if not count:
            return
        old, self.batch = self.batch[:count], self.batch[count:]
        self._discard(
            old,
            "RecordAgeExceeded",
            invoke_count=max(1, self.attempts),
            function_error=None,
            invoked=self.attempts > 0,
        )
        if not self.batch:
            self.attempts = 0

    def _discard(
        self,
        records: list[Any],
        condition: str,
        *,
        invoke_count: int,
        function_error: str | None,
        invoked: bool,
    ) -> None:
        poller = self.poller
        mapping = poller.mapping
        metrics = mapping.metrics_store
        clock = poller.clock
        count = len(records)
        metrics.settle("discarded", count, records)
        mapping.log.info(
            "record.dropped",
            shard=self.worker.shard_id,
            condition=condition,
            count=count,
            first=records[0].sequence_number,
            last=records[-1].sequence_number,
        )
        destination_arn = mapping.settings.on_failure_destination
        if destination_arn is None:
            metrics.add("DroppedEventCount", count)
            return
        request_id = (
            self.last_request_id if invoked and self.last_request_id else poller.request_ids.uuid4()
        )
        failed = FailedBatch(
            condition=condition,
            kind=poller.kind,
            shard_id=self.worker.shard_id,
            stream_arn=mapping.settings.event_source_arn,
            first_sequence_number=records[0].sequence_number,
            last_sequence_number=records[-1].sequence_number,
            first_arrival_ms=records[0].arrival_ms,
            last_arrival_ms=records[-1].arrival_ms,
            batch_size=count,
            request_id=request_id,
            function_arn=mapping.function.arn,
            invoke_count=invoke_count,
            function_error=function_error,
            invoked=invoked,
        )
        now_ms = clock.now_ms()
        error = deliver(
            poller.sim.resource(destination_arn),
            failure_record(failed, now_ms),
            payload=poller.event_builder(self.worker.shard_id, tuple(records))(),
            mapping_uuid=mapping.uuid,
            shard_id=self.worker.shard_id,
            now_ms=now_ms,
            unique=poller.request_ids.uuid4(),
        )
        if error is None:
            metrics.add("OnFailureDestinationDeliveredEventCount", count)
        else:
            metrics.add("DestinationDeliveryFailures")
            metrics.add("DroppedEventCount", count)
            mapping.log.warning(
                "destination.delivery_failed", destination=destination_arn, reason=error
            )
