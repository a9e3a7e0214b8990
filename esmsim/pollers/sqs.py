"""The SQS poller: scaling long-pollers, batching windows, deletes and FIFO groups.

Per mapping, a controller keeps a number of pollers running (spec §3.2,
§10.11): 5 when messages first appear, 5 more every simulated second while
messages remain (300 per minute), up to 1,250 per mapping or
``ScalingConfig.MaximumConcurrency``; back to 5 when the queue runs dry.
Pollers are counted, not numbered: when the target drops, the surplus ones
retire after their batch.

Each poller gathers one batch at a time (BatchSize, the batching window of
standard queues, the 6 MB payload), invokes the function and then deletes what
succeeded (DeleteMessageBatch, as Lambda does). Messages received past the
6 MB payload are held by the poller for its next batch (not released early: a
release would spend one of the message's ``maxReceiveCount`` receives) unless
their visibility would end before that batch could finish. A message that
reappears while its batch is still gathering (a window longer than the
visibility timeout) is in the batch once, under its latest receipt handle. A
mapping disabled or deleted while a batch gathers invokes nothing; a deleted
mapping lets the invocations already running finish and settle.

A function error leaves the whole batch to reappear after the visibility
timeout and makes the mapping back off (one poller fewer per failed batch, not
below the floor) unless ReportBatchItemFailures is on. A throttle backs off
too (one poller fewer per throttled batch, and no scale-up in a second with a
throttle); the batch is retried with exponential backoff while a retry can
still finish (the function's timeout) before the batch's visibility timeout
ends, then let go to reappear on its own. An invoke that cannot reach the
function (deleted) fails the batch like an error and counts in
``FailedInvokeEventCount``. Only messages a delete actually removed count as
deleted and delivered: one that expired or was received again meanwhile is
settled elsewhere, exactly once.

FIFO ordering is the queue's job: a group with a message in flight is never
received, so a failing group blocks itself until success, DLQ move or expiry,
other groups keep flowing, and concurrency never exceeds the number of groups
with visible messages. A FIFO batch that did not fully succeed lets go of the
messages its poller held for the next batch, so no later message of a group
overtakes a failed one.

Idle costs nothing: a poller with nothing to receive waits on the queue's
signal or, if messages are hidden, until the next one becomes visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._core import ResourceNotFoundException, Signal
from ..handlers.responses import parse_batch_response
from ..sources._errors import OverLimit, QueueDoesNotExist
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

Held = tuple[Any, float]
"""A received message and the simulated time it was received at."""


_size = operator.attrgetter("size")


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
        self.spawned = 0
        self.throttled = False  # an invoke was throttled since the last scaling step
        self.active_batches = 0
        self.max_concurrency_seen = 0
        self.concurrency_samples: list[tuple[float, int]] = []
        self.scale_changed = Signal(sim.kernel)
        # Idle pollers park here (oldest first); the dispatcher wakes only as
        # many as there is work for, so a message costs O(1) wake-ups, not one
        # per poller (with 1,250 pollers that difference is the whole run).
        self._parked: deque[asyncio.Future[None]] = deque()
        self._parked_signal = Signal(sim.kernel)
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

    def _stopped(self) -> bool:
        """The mapping was disabled or deleted (a call, so type checkers re-read it)."""
        return not self.mapping.enabled

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
            tg.start_soon(self._dispatch, name="sqs-dispatcher")
            await self._control()
            # Deleted. Not cancelled: a poller finishes the invocation it is
            # running (a handler is never cut off mid-flight, and its batch is
            # settled), then stops; idle pollers wake on the change and stop.

    def _spawn(self, tg: anyio.abc.TaskGroup) -> None:
        while self.running < self.target:
            self.running += 1
            self.spawned += 1
            tg.start_soon(self._poller, name=f"sqs-poller-{self.spawned}")
        self._sample()

    def _shrink(self) -> None:
        """Back off: one poller fewer (it retires after its batch), not below the floor."""
        if self.target > self.floor():
            self.target -= 1
            self._sample()

    def _sample(self) -> None:
        now = self.clock.now()
        if self.concurrency_samples and self.concurrency_samples[-1][0] == now:
            self.concurrency_samples[-1] = (now, self.target)
        else:
            self.concurrency_samples.append((now, self.target))

    async def _control(self) -> None:
        """Scale up by 5 pollers a second while messages remain; reset when dry.

        A second in which the mapping was throttled adds nothing.
        """
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
                self.scale_changed.fire()  # idle pollers wake up and retire
            backlog = self.queue.has_receivable_messages()
            if backlog and self.target < ceiling:
                self.throttled = False
                await self.clock.sleep(1.0)
                # A second in which an invoke was throttled adds no pollers:
                # there is no concurrency to scale into.
                if self.queue.has_receivable_messages() and not self.throttled:
                    self.target = min(ceiling, self.target + SCALE_STEP_PER_SECOND)
                    self._spawn(self._group)
                continue
            if not backlog and self.active_batches == 0 and self.target != self.floor():
                self.target = self.floor()
                self._sample()
                self.scale_changed.fire()
            await _wait_any([self.queue.signal, mapping.changed, self.scale_changed])

    # -- one poller ----------------------------------------------------------------------------
    async def _poller(self) -> None:
        mapping = self.mapping
        backoff = 0
        held: list[Held] = []  # received past the payload limit, for the next batch
        try:
            # More pollers than the target: this one retires (pollers are
            # counted, not numbered, so the count always matches the target).
            while not mapping.deleted and self.running <= self.target:
                if not mapping.enabled:
                    self._let_go(held)
                    await mapping.changed.wait()
                    continue
                gathered = await self._gather(held)
                if gathered is None:
                    continue
                batch, received_at = gathered
                if self._stopped():
                    # Disabled or deleted while gathering: no invocation.
                    held[:0] = [(message, received_at) for message in batch]
                    self._let_go(held)
                    continue
                self.active_batches += 1
                try:
                    backoff, succeeded = await self._invoke(batch, received_at, backoff)
                finally:
                    self.active_batches -= 1
                    if self.scale_changed.waiting:  # (a fire nobody waits for is a no-op)
                        self.scale_changed.fire()
                if held and self.queue.fifo and not succeeded:
                    # Later messages of a failed group must not overtake it.
                    self._let_go(held)
        finally:
            self.running -= 1
            self._let_go(held)

    def _let_go(self, held: list[Held]) -> None:
        """Make held messages visible again now (ChangeMessageVisibility 0)."""
        for message, _ in held:
            try:
                self.queue.change_message_visibility(
                    ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
                )
            except Exception:  # already visible again, expired or gone
                continue
        held.clear()

    def _receive(self, room: int) -> list[Any] | None:
        """One receive of up to ``min(10, room)``, filtered; None when the queue refused it.

        Not a coroutine (it never waits): the caller sleeps on None.
        """
        try:
            messages: list[Any] = self.queue.receive(min(10, room))
        except QueueDoesNotExist:
            # The queue was deleted; the mapping outlives it, as in AWS, and
            # the long poll below waits for a change without ticking.
            return []
        except OverLimit:
            # 120,000 messages in flight on a standard queue: receives fail
            # until some settle; the caller tries again in a second.
            return None
        if not messages:
            return messages
        metrics = self.mapping.metrics_store
        metrics.add("PolledEventCount", len(messages))
        keep = self.record_filter
        if keep is None:
            return messages
        kept: list[Any] = []
        dropped = 0
        for message in messages:
            if keep(message):
                kept.append(message)
            else:
                # Lambda deletes what the filter drops (spec §6, §10.7).
                self.queue.delete_message(ReceiptHandle=message.receipt_handle)
                dropped += 1
        if dropped:
            metrics.add("FilteredOutEventCount", dropped)
            metrics.settle("filtered", dropped)
        return kept

    async def _receive_or_wait(self, room: int) -> list[Any]:
        """``_receive``, sleeping a second when the queue refused (OverLimit)."""
        received = self._receive(room)
        if received is None:
            await self.clock.sleep(1.0)
            return []
        return received

    async def _wait_for_messages(self, gathering: bool = False) -> None:
        """Long-poll: park until the dispatcher says something may be receivable.

        A poller holding a partial batch (waiting out its batching window)
        parks at the front: new messages join the batch being gathered before
        an idle poller starts another one, as Lambda fills the open batch.
        """
        if self.queue.has_receivable_messages() or self._stopped():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if gathering:
            self._parked.appendleft(fut)
        else:
            self._parked.append(fut)
        self._parked_signal.fire()
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self._parked.remove(fut)

    def _wake_parked(self, count: int) -> None:
        parked = self._parked
        while count > 0 and parked:
            fut = parked.popleft()
            if not fut.done():
                fut.set_result(None)
                count -= 1

    async def _dispatch(self) -> None:
        """Wake parked pollers when messages become receivable: one per receive's worth.

        Waits without ticking: on the queue's signal, the mapping's changes, a
        poller parking, or the instant the next hidden message becomes visible.
        """
        mapping = self.mapping
        queue = self.queue
        while not mapping.deleted:
            parked = self._parked
            if parked:
                if self._stopped():
                    self._wake_parked(len(parked))  # they see the change and stop
                elif self.running > self.target:
                    self._wake_parked(self.running - self.target)  # surplus retires
                if parked and not self._stopped() and queue.has_receivable_messages():
                    visible = queue.approximate_number_of_messages_visible()
                    self._wake_parked(max(1, -(-visible // 10)))
                    await asyncio.sleep(0)  # let them receive before looking again
                    continue
            if not parked:
                # Nothing to wake: only a poller parking (or the mapping's end)
                # gives this loop something to do. Batches ending and messages
                # arriving meanwhile are the busy pollers' business.
                await _wait_any([mapping.changed, self._parked_signal])
                continue
            visible_at = queue.next_visible_at()
            waiters = [queue.signal, mapping.changed, self.scale_changed, self._parked_signal]
            if visible_at is None:
                await _wait_any(waiters)
            else:
                with self.clock.move_on_at(visible_at):
                    await _wait_any(waiters)
        self._wake_parked(len(self._parked))

    async def _gather(self, held: list[Held]) -> tuple[list[Any], float] | None:
        """One batch: up to BatchSize, within the window (standard queues) and 6 MB.

        Returns the batch and when its earliest message was received (its
        visibility timeout runs from there), or None when there was nothing to
        take (after waiting for messages). It starts with the messages ``held``
        back from the previous batch; whatever does not fit goes back into ``held``.
        """
        settings = self.mapping.settings
        limit = settings.batch_size
        window = 0 if settings.fifo else settings.batching_window
        if window <= 0 and not held:
            # The common case, by far: no window and nothing carried over, so the
            # batch is what one receive returns. The general loop below gives
            # the same batch; this skips its bookkeeping per message.
            received = self._receive(limit)
            if not received:
                if received is None:  # refused (OverLimit): try again in a second
                    await self.clock.sleep(1.0)
                await self._wait_for_messages()
                return None
            if sum(map(_size, received)) + _RECORD_OVERHEAD * len(received) <= PAYLOAD_LIMIT:
                return received, self.clock.now()
            now = self.clock.now()
            held.extend((message, now) for message in received)
            # ... and the general path splits it at the payload limit.
        batch = await self._gather_slow(held, limit, window)
        if not batch:
            return None
        return [message for message, _ in batch], min(at for _, at in batch)

    async def _gather_slow(self, held: list[Held], limit: int, window: float) -> list[Held]:
        """``_gather`` with a batching window or messages carried over from the last batch."""
        batch: list[Held] = []
        where: dict[str, int] = {}
        size = 0
        deadline: float | None = None

        def take(message: Any, at: float) -> bool:
            nonlocal size
            known = where.get(message.message_id)
            if known is not None:
                # Received again while gathering (its visibility ran out):
                # once in the batch, under the latest receipt handle.
                batch[known] = (message, at)
                return True
            cost = _event_size(message)
            if len(batch) >= limit or (batch and size + cost > PAYLOAD_LIMIT):
                return False
            where[message.message_id] = len(batch)
            batch.append((message, at))
            size += cost
            return True

        carried, held[:] = list(held), []
        if carried:
            # A held message whose visibility would end before an invocation
            # could finish goes back to the queue now rather than risk being
            # processed twice at once (FIFO: out of order).
            room = float(self.queue.visibility_timeout) - self.mapping.function.timeout
            now = self.clock.now()
            stale = [entry for entry in carried if now > entry[1] + room]
            if stale:
                self._let_go(stale)
                carried = [entry for entry in carried if now <= entry[1] + room]
        for message, at in carried:
            if held or not take(message, at):
                held.append((message, at))
        if batch:
            if window <= 0:
                return batch  # like a receive's worth: invoke it at once
            deadline = self.clock.now() + window
        while len(batch) < limit and not held:
            received = await self._receive_or_wait(limit - len(batch))
            now = self.clock.now()
            for message in received:
                if held or not take(message, now):
                    held.append((message, now))  # past the payload limit
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
                while not self.queue.has_receivable_messages() and not self._stopped():
                    await self._wait_for_messages(gathering=True)
        return batch

    async def _invoke(self, batch: list[Any], received_at: float, backoff: int) -> tuple[int, bool]:
        """Invoke with ``batch`` (received from ``received_at`` on), settle it.

        Returns (throttle backoff, full success).
        """
        mapping = self.mapping
        settings = mapping.settings
        metrics = mapping.metrics_store
        clock = self.clock
        # The batch is Lambda's until the first of its visibility timeouts ends.
        let_go_at = received_at + float(self.queue.visibility_timeout)
        frozen = tuple(batch)
        queue_arn = self.queue.arn
        region = self.sim.region

        def build() -> dict[str, Any]:
            return {"Records": [sqs_event_record(m, queue_arn, region) for m in frozen]}

        throttled = False
        while True:
            try:
                outcome = await mapping.function.invoke(
                    build, source="sqs", mapping_uuid=mapping.uuid, shard_id=None
                )
            except ResourceNotFoundException:
                # The function was deleted: the invoke fails before any
                # handler runs; nothing is deleted and Lambda backs off.
                metrics.add("FailedInvokeEventCount", len(frozen))
                self._shrink()
                return backoff, False
            if outcome.status != "throttled":
                break
            metrics.add("Throttles")
            self.throttled = True
            if not throttled:
                throttled = True
                self._shrink()  # throttles back off the mapping too (spec §3.2)
            backoff += 1
            wait = min(_MAX_BACKOFF, 2.0 ** min(backoff - 1, 16))
            retry_ends = clock.now() + wait + mapping.function.timeout
            if retry_ends > let_go_at or self._stopped():
                # A retry could outlive the visibility timeout: Lambda lets go
                # and the messages reappear in the queue on their own. (A retry
                # running past it would overlap their next receive, breaking
                # FIFO group order.)
                return backoff, False
            await clock.sleep(wait)
            if self._stopped():
                return backoff, False
        metrics.add("Invocations")
        metrics.add("InvokedEventCount", len(frozen))
        if outcome.status == "success" and outcome.response is None:
            # The common case, settled without building the batch's ids: a
            # handler that returned nothing succeeded whole (spec §2.6, and
            # what parse_batch_response answers for it).
            self._delete(frozen)
            return 0, True
        parsed = parse_batch_response(
            outcome,
            family="sqs",
            batch_ids=[m.message_id for m in frozen],
            report_batch_item_failures=settings.report_batch_item_failures,
        )
        if parsed.ignored_failures and not self.warned_ignored_failures:
            self.warned_ignored_failures = True
            mapping.log.warning(
                "handler.batch_item_failures_ignored",
                reason="the handler returned batchItemFailures but the mapping's "
                "FunctionResponseTypes lacks ReportBatchItemFailures, so Lambda deletes the "
                "whole batch, including the messages the handler reported as failed",
            )
        if parsed.kind == "success":
            self._delete(frozen)
            return 0, True
        if parsed.kind == "partial":
            metrics.add("FailedInvokeEventCount", len(frozen))
            failed = set(parsed.failed_ids)
            self._delete(tuple(m for m in frozen if m.message_id not in failed))
            return 0, False
        if outcome.status in ("function_error", "timeout"):
            metrics.add("Errors")
        elif settings.report_batch_item_failures and _reports_failures(outcome.response):
            # A malformed but non-empty batchItemFailures: every event of the
            # invoke counts (spec §5), as for a valid partial response.
            metrics.add("FailedInvokeEventCount", len(frozen))
        # Complete failure: nothing is deleted; every message reappears after
        # its visibility timeout. Without RBIF Lambda also backs off.
        if not settings.report_batch_item_failures:
            self._shrink()
        return backoff, False

    def _delete(self, messages: tuple[Any, ...]) -> None:
        """Delete what succeeded; count only the messages this actually removed.

        DeleteMessage succeeds without deleting anything when the handle is
        stale (the message was received again meanwhile) or the message is
        already gone (expired, or moved to the DLQ by another receive), so a
        per-call count would settle such a message twice. The queue's poller
        delete (DeleteMessageBatch, as Lambda does) returns what it removed.
        """
        if not messages:
            return
        try:
            deleted = self.queue.delete_received(messages)
        except QueueDoesNotExist:  # the queue was deleted meanwhile
            deleted = 0
        metrics = self.mapping.metrics_store
        metrics.add("DeletedEventCount", deleted)
        # Which messages, when all of them went (the usual case): the recorder reads
        # their send times for end-to-end latency.
        metrics.settle("delivered", deleted, messages if deleted == len(messages) else None)


def _reports_failures(response: Any) -> bool:
    """True when a response carries a non-empty ``batchItemFailures`` list."""
    if not isinstance(response, dict):
        return False
    failures = response.get("batchItemFailures")
    return isinstance(failures, list) and bool(failures)


async def _wait_any(signals: list[Signal]) -> None:
    """Until one of ``signals`` fires (cancellable by an enclosing cancel scope).

    Plain asyncio tasks and ``asyncio.wait``, not an anyio task group: idle
    pollers wait here for every message that becomes visible, and a task
    group's cancel-scope bookkeeping made this the poller's hottest path.
    """
    loop = asyncio.get_running_loop()
    waiters = [loop.create_task(sig.wait()) for sig in signals]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
