"""The SQS poller: scaling long-pollers, batching windows, deletes and FIFO groups.

Per mapping, a controller keeps a number of pollers running (spec §3.2,
§10.11): 5 when messages first appear, 5 more every simulated second while
messages remain (300 per minute), up to 1,250 per mapping or
``ScalingConfig.MaximumConcurrency``; back to 5 when the queue runs dry. Each
poller gathers one batch at a time (BatchSize, the batching window of standard
queues, the 6 MB payload), invokes the function and then deletes what
succeeded. A function error leaves the whole batch to reappear after the
visibility timeout and makes the mapping back off (one poller fewer per failed
batch, not below the floor) unless ReportBatchItemFailures is on; a throttle is
retried with backoff until the messages' visibility timeout runs out, at which
point they are released to reappear.

FIFO ordering is the queue's job: a group with a message in flight is never
received, so a failing group blocks itself until success, DLQ move or expiry,
other groups keep flowing, and concurrency never exceeds the number of groups
with visible messages.

Idle costs nothing: a poller with nothing to receive waits on the queue's
signal or, if messages are hidden, until the next one becomes visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._core import Signal
from ._events import sqs_event_record

if TYPE_CHECKING:
    from ..simulation import Simulation
    from .mapping import EventSourceMapping

__all__ = ("SCALING_CEILING", "SqsPoller")

SCALING_CEILING = 1250
"""Concurrent batches per mapping at most (spec §8.1, §10.11)."""
START_CONCURRENCY = 5
SCALE_STEP_PER_SECOND = 5  # 300 per minute
PAYLOAD_LIMIT = 6 * 1024 * 1024
_RECORD_OVERHEAD = 700  # receipt handle, attributes, ARNs around each body
_MAX_BACKOFF = 60.0


def _event_size(message: Any) -> int:
    return int(message.size) + _RECORD_OVERHEAD


class SqsPoller:
    """Runs an SQS event source mapping."""

    def __init__(self, mapping: EventSourceMapping, sim: Simulation) -> None:
        self.mapping = mapping
        self.sim = sim
        self.queue = mapping.source
        self.clock = sim.clock
        self.target = 0
        self.running = 0
        self.in_flight = 0  # messages held by pollers (received, not settled)
        self.active_batches = 0
        self.max_concurrency_seen = 0
        self.concurrency_samples: list[tuple[float, int]] = []
        self.scale_changed = Signal(sim.kernel)
        self.record_filter: Callable[[Any], bool] | None = None
        self.warned_ignored_failures = False
        self._group: anyio.abc.TaskGroup | None = None

    # -- status --------------------------------------------------------------------------
    def pending(self) -> int:
        """Messages still in the queue (visible, in flight or delayed)."""
        return int(self.queue.approximate_number_of_messages_total())

    def settled_elsewhere(self) -> dict[str, int]:
        """What the queue itself settled: redrives to the DLQ and retention expiry."""
        metrics = self.queue.metrics
        return {
            "dead_lettered": int(metrics["NumberOfMessagesMovedToDLQ"]),
            "expired": int(metrics["NumberOfMessagesExpired"]),
        }

    def idle(self) -> bool:
        """No message left in the queue and no batch in flight."""
        return self.active_batches == 0 and self.pending() == 0

    def ceiling(self) -> int:
        """The most concurrent batches this mapping may run right now."""
        limit = self.mapping.settings.maximum_concurrency
        return min(SCALING_CEILING, limit) if limit is not None else SCALING_CEILING

    def floor(self) -> int:
        """Where scaling starts and where back-off stops."""
        return min(START_CONCURRENCY, self.ceiling())

    # -- running ---------------------------------------------------------------------------
    async def run(self) -> None:
        await self.mapping.wait_enabled()
        async with anyio.create_task_group() as tg:
            self._group = tg
            self.target = self.floor()
            self._spawn(tg)
            await self._control()
            tg.cancel_scope.cancel()

    def _spawn(self, tg: anyio.abc.TaskGroup) -> None:
        while self.running < self.target:
            self.running += 1
            tg.start_soon(self._poller, self.running - 1, name=f"sqs-poller-{self.running - 1}")
        self._sample()

    def _sample(self) -> None:
        now = self.clock.now()
        if self.concurrency_samples and self.concurrency_samples[-1][0] == now:
            self.concurrency_samples[-1] = (now, self.target)
        else:
            self.concurrency_samples.append((now, self.target))

    async def _control(self) -> None:
        """Scale up by 5 pollers a second while messages remain; reset when dry."""
        mapping = self.mapping
        assert self._group is not None
        while not mapping.deleted:
            if not mapping.enabled:
                await mapping.changed.wait()
                continue
            ceiling = self.ceiling()
            if self.target > ceiling:
                self.target = ceiling
                self._sample()
            backlog = self.queue.approximate_number_of_messages_visible() > 0
            if backlog and self.target < ceiling:
                await self.clock.sleep(1.0)
                if self.queue.approximate_number_of_messages_visible() > 0:
                    self.target = min(ceiling, self.target + SCALE_STEP_PER_SECOND)
                    self._spawn(self._group)
                continue
            if not backlog and self.active_batches == 0 and self.target != self.floor():
                self.target = self.floor()
                self._sample()
                self.scale_changed.fire()
            await _wait_any([self.queue.signal, mapping.changed, self.scale_changed])

    # -- one poller ----------------------------------------------------------------------------
    async def _poller(self, index: int) -> None:
        mapping = self.mapping
        backoff = 0
        try:
            while not mapping.deleted and index < self.target:
                if not mapping.enabled:
                    await mapping.changed.wait()
                    continue
                batch = await self._gather()
                if not batch:
                    continue
                self.active_batches += 1
                try:
                    backoff = await self._invoke(batch, backoff)
                finally:
                    self.active_batches -= 1
                    self.scale_changed.fire()
        finally:
            self.running -= 1

    async def _receive(self, room: int) -> list[Any]:
        messages: list[Any] = self.queue.receive(min(10, room))
        metrics = self.mapping.metrics_store
        if not messages:
            return []
        metrics.add("PolledEventCount", len(messages))
        keep = self.record_filter
        if keep is None:
            return messages
        kept = [m for m in messages if keep(m)]
        dropped = len(messages) - len(kept)
        if dropped:
            for message in messages:
                if not keep(message):
                    self.queue.delete_message(ReceiptHandle=message.receipt_handle)
            metrics.add("FilteredOutEventCount", dropped)
            metrics.settle("filtered", dropped)
        return kept

    async def _wait_for_messages(self) -> None:
        """Long-poll: until something may be receivable, without ticking."""
        if self.queue.approximate_number_of_messages_visible() > 0:
            return
        visible_at = self.queue.next_visible_at()
        waiters = [self.queue.signal, self.mapping.changed, self.scale_changed]
        if visible_at is None:
            await _wait_any(waiters)
            return
        with self.clock.move_on_at(visible_at):
            await _wait_any(waiters)

    async def _gather(self) -> list[Any]:
        """One batch: up to BatchSize, within the window (standard queues) and 6 MB."""
        settings = self.mapping.settings
        limit = settings.batch_size
        window = 0 if settings.fifo else settings.batching_window
        batch: list[Any] = []
        size = 0
        deadline: float | None = None
        while len(batch) < limit and size < PAYLOAD_LIMIT:
            received = await self._receive(limit - len(batch))
            for message in received:
                batch.append(message)
                size += _event_size(message)
            if received:
                if window <= 0:
                    break  # no window: invoke with what the receive returned
                if deadline is None:
                    deadline = self.clock.now() + window
                continue
            if not batch:
                await self._wait_for_messages()
                return []
            if deadline is None or self.clock.now() >= deadline:
                break
            if self.mapping.deleted or not self.mapping.enabled:
                break
            with self.clock.move_on_at(deadline):
                # Woken without anything to take (a change elsewhere): keep
                # waiting out the window.
                while self.queue.approximate_number_of_messages_visible() == 0:
                    await self._wait_for_messages()
        return batch

    async def _invoke(self, batch: list[Any], backoff: int) -> int:
        mapping = self.mapping
        settings = mapping.settings
        metrics = mapping.metrics_store
        clock = self.clock
        received_at = clock.now()
        visibility = float(self.queue.visibility_timeout)
        frozen = tuple(batch)
        queue_arn = self.queue.arn
        region = self.sim.region

        def build() -> dict[str, Any]:
            return {"Records": [sqs_event_record(m, queue_arn, region) for m in frozen]}

        while True:
            outcome = await mapping.function.invoke(
                build, source="sqs", mapping_uuid=mapping.uuid, shard_id=None
            )
            if outcome.status != "throttled":
                break
            metrics.add("Throttles")
            backoff += 1
            wait = min(_MAX_BACKOFF, 2.0 ** (backoff - 1))
            if clock.now() + wait >= received_at + visibility:
                # Past the visibility timeout Lambda lets go: the messages
                # reappear in the queue on their own.
                return backoff
            await clock.sleep(wait)
        metrics.add("Invocations")
        metrics.add("InvokedEventCount", len(frozen))
        from ..handlers.responses import parse_batch_response

        parsed = parse_batch_response(
            outcome,
            family="sqs",
            batch_ids=[m.message_id for m in frozen],
            report_batch_item_failures=settings.report_batch_item_failures,
        )
        if getattr(parsed, "ignored_failures", False) and not self.warned_ignored_failures:
            self.warned_ignored_failures = True
            mapping.log.warning(
                "handler.batch_item_failures_ignored",
                reason="the handler returned batchItemFailures but the mapping's "
                "FunctionResponseTypes lacks ReportBatchItemFailures, so Lambda deletes the "
                "whole batch, including the messages the handler reported as failed",
            )
        if parsed.kind == "success":
            self._delete(frozen)
            return 0
        if parsed.kind == "partial":
            metrics.add("FailedInvokeEventCount", len(frozen))
            failed = set(parsed.failed_ids)
            self._delete(tuple(m for m in frozen if m.message_id not in failed))
            return 0
        if outcome.status in ("function_error", "timeout"):
            metrics.add("Errors")
        # Complete failure: nothing is deleted; every message reappears after
        # its visibility timeout. Without RBIF Lambda also backs off.
        if not settings.report_batch_item_failures and self.target > self.floor():
            self.target -= 1
            self._sample()
        return backoff

    def _delete(self, messages: tuple[Any, ...]) -> None:
        deleted = 0
        for message in messages:
            try:
                self.queue.delete_message(ReceiptHandle=message.receipt_handle)
            except Exception:  # a stale handle: the message was received again meanwhile
                continue
            deleted += 1
        metrics = self.mapping.metrics_store
        metrics.add("DeletedEventCount", deleted)
        metrics.settle("delivered", deleted)


async def _wait_any(signals: list[Signal]) -> None:
    async with anyio.create_task_group() as tg:

        async def _one(sig: Signal) -> None:
            await sig.wait()
            tg.cancel_scope.cancel()

        for sig in signals:
            tg.start_soon(_one, sig)
