"""``esmsim.Simulation``: the one object users hold.

It owns the kernel (loop thread and clock), the seeds, and the resources made
on it. Simulated time moves only inside ``run`` / ``run_until_idle`` /
``call``; between them the simulation is paused and its resources may be read
and written from the caller's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._core import Clock, Kernel, Seeds, VirtualTimeLoop
from ._core._exceptions import ResourceConflictException, SimulationClosed
from .sources._base import Resource

if TYPE_CHECKING:
    from .handlers.function import Function
    from .pollers.mapping import EventSourceMapping
    from .sources.dynamodb import DynamoDBTable
    from .sources.kinesis import KinesisStream
    from .sources.producers import Producer
    from .sources.s3 import S3Bucket
    from .sources.sns import SnsTopic
    from .sources.sqs import SqsQueue

__all__ = ("DEFAULT_START_TIME", "Simulation")

T = TypeVar("T")

DEFAULT_START_TIME = datetime(2026, 1, 1, tzinfo=UTC)
"""Where virtual time starts unless ``start_time`` says otherwise."""

# In wall mode there is no "next timer" to jump to; run_until_idle re-checks
# idleness at this real interval.
_WALL_IDLE_POLL_SECONDS = 0.01


def _epoch_seconds(value: datetime | float | str, field: str) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{field}: expected a datetime, epoch seconds or ISO-8601 text, got bool")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not an ISO-8601 date-time") from None
        return _epoch_seconds(parsed, field)
    raise TypeError(
        f"{field}: expected a datetime, epoch seconds or ISO-8601 text, got {type(value).__name__}"
    )


class Simulation:
    """A simulated AWS account in which event source mappings run.

    Args:
        seed: the master seed; the same seed and inputs give the same run.
        clock: ``"virtual"`` (default: time jumps from event to event) or
            ``"wall"`` (real time, same code paths).
        start_time: when simulated time starts (datetime, epoch seconds or
            ISO-8601 text). Default 2026-01-01T00:00:00Z in virtual mode and
            the host's current time in wall mode.
        region: the AWS Region in ARNs and events.
        account_id: the AWS account id in ARNs and events.
        invocation_log: how many invocations each function keeps in
            ``function.invocations``: ``None`` (the default) keeps all of them,
            ``N`` at least the newest N (the list is trimmed in bulk, so it holds
            N to 2N - 1), 0 none. Each logged invocation keeps its batch so that ``.event`` can be
            rebuilt, so a long load run should bound it (``esmsim run`` keeps
            none: its results database records every invocation).
    """

    def __init__(
        self,
        seed: int = 0,
        clock: Literal["virtual", "wall"] = "virtual",
        start_time: datetime | float | str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        *,
        invocation_log: int | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
        if clock not in ("virtual", "wall"):
            raise ValueError(f"clock: {clock!r} is not one of: virtual, wall")
        if not isinstance(region, str) or not region:
            raise ValueError("region: expected a non-empty Region name such as 'us-east-1'")
        if not (isinstance(account_id, str) and len(account_id) == 12 and account_id.isdigit()):
            raise ValueError(f"account_id: {account_id!r} is not a 12-digit AWS account id")
        if invocation_log is not None and (
            isinstance(invocation_log, bool)
            or not isinstance(invocation_log, int)
            or invocation_log < 0
        ):
            raise ValueError(
                f"invocation_log: expected an integer >= 0 or None (keep all), "
                f"got {invocation_log!r}"
            )
        if start_time is None and clock == "virtual":
            start_time = DEFAULT_START_TIME
        start = None if start_time is None else _epoch_seconds(start_time, "start_time")
        self.seed = seed
        self.region = region
        self.account_id = account_id
        self.invocation_log = invocation_log
        self.seeds = Seeds(seed)
        self._mode = clock
        self._kernel = Kernel(virtual=clock == "virtual", start_epoch=start, name=f"esmsim-{seed}")
        self._idle_checks: list[Callable[[], bool]] = []
        self._resources: dict[str, Resource] = {}
        self._mappings: list[EventSourceMapping] = []
        self.mapping_ids = self.seeds.ids("esm", "uuid")
        self._producer_count = 0
        self._open_tasks = 0
        self._entered = False

    # -- lifecycle ---------------------------------------------------------------
    def _enter(self) -> None:
        if self._entered:
            raise SimulationClosed("a Simulation can be entered only once")
        self._entered = True
        self._kernel.start()

    async def __aenter__(self) -> Simulation:
        self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._kernel.close)

    def __enter__(self) -> Simulation:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._kernel.close()

    def close(self) -> None:
        """Stop the simulation's loop and thread (what leaving ``with`` does)."""
        self._kernel.close()

    # -- time ---------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        """The simulation clock every component reads."""
        return self._kernel.clock

    @property
    def clock_mode(self) -> Literal["virtual", "wall"]:
        """``"virtual"`` or ``"wall"``."""
        return self._mode

    @property
    def now(self) -> float:
        """Simulated epoch seconds."""
        return self._kernel.clock.now()

    # -- running --------------------------------------------------------------------
    async def run(self, seconds: float) -> None:
        """Advance simulated time by ``seconds``, running everything due."""
        await asyncio.wrap_future(self._submit_run(seconds))

    def run_sync(self, seconds: float) -> None:
        """``run`` for synchronous code."""
        self._submit_run(seconds).result()

    async def run_until_idle(self, max_seconds: float | None = None) -> float:
        """Run until no record is pending for any enabled mapping.

        Returns the simulated seconds elapsed. With ``max_seconds`` it stops
        there at the latest. Raises ``SimulationStalled`` if work is pending
        but nothing can ever make progress.
        """
        return await asyncio.wrap_future(self._submit_idle(max_seconds))

    def run_until_idle_sync(self, max_seconds: float | None = None) -> float:
        """``run_until_idle`` for synchronous code."""
        return self._submit_idle(max_seconds).result()

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await fn(*args)`` inside the simulation and return its result.

        Simulated time advances as ``fn`` needs; other simulation tasks run
        alongside it. Raises ``SimulationStalled`` if ``fn`` waits for
        something that nothing can ever set.
        """
        return await asyncio.wrap_future(self._kernel.submit(lambda: self._call(fn, *args)))

    def call_sync(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``call`` for synchronous code."""
        return self._kernel.submit(lambda: self._call(fn, *args)).result()

    def start_soon(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None
    ) -> None:
        """Start ``fn(*args)`` as a background task in the simulation.

        For custom producers and scripted scenarios. ``run_until_idle`` waits
        for such tasks to finish.
        """
        self._open_tasks += 1

        async def _tracked() -> None:
            try:
                await fn(*args)
            finally:
                self._open_tasks -= 1

        self._kernel.start_soon(_tracked, name=name or getattr(fn, "__name__", None))

    # -- internals used by resources --------------------------------------------------
    @property
    def kernel(self) -> Kernel:
        """The kernel (loop thread, deferred calls); for esmsim's own layers."""
        return self._kernel

    def register(self, resource: Resource) -> None:
        """Record a new resource under its ARN; a second one with that ARN is a conflict."""
        if resource.arn in self._resources:
            raise ResourceConflictException(f"Resource already exists: {resource.arn}")
        self._resources[resource.arn] = resource

    def unregister(self, resource: Resource) -> None:
        """Forget a deleted resource."""
        if self._resources.get(resource.arn) is resource:
            del self._resources[resource.arn]

    def resource(self, arn: str) -> Resource | None:
        """The live resource with this ARN, or None."""
        return self._resources.get(arn)

    def resources(self) -> list[Resource]:
        """Every live resource, in creation order."""
        return list(self._resources.values())

    def add_idle_check(self, check: Callable[[], bool]) -> None:
        """Register ``check``; ``run_until_idle`` ends only when all return True."""
        self._idle_checks.append(check)

    def remove_idle_check(self, check: Callable[[], bool]) -> None:
        """Forget an idle check registered with ``add_idle_check``."""
        if check in self._idle_checks:
            self._idle_checks.remove(check)

    def is_idle(self) -> bool:
        """True when no tracked task is open, no mapping has work and every idle check holds."""
        return (
            self._open_tasks == 0
            and all(mapping.idle() for mapping in self._mappings)
            and all(check() for check in self._idle_checks)
        )

    def add_mapping(self, mapping: EventSourceMapping) -> None:
        """Record a new event source mapping (its constructor calls this)."""
        self._mappings.append(mapping)

    def remove_mapping(self, mapping: EventSourceMapping) -> None:
        """Forget a deleted event source mapping."""
        if mapping in self._mappings:
            self._mappings.remove(mapping)

    def mappings(self) -> list[EventSourceMapping]:
        """Every event source mapping not deleted, in creation order."""
        return list(self._mappings)

    def _submit_run(self, seconds: float) -> concurrent.futures.Future[None]:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError(f"seconds: expected a number >= 0, got {seconds!r}")
        return self._kernel.submit(lambda: self._run_for(float(seconds)))

    def _submit_idle(self, max_seconds: float | None) -> concurrent.futures.Future[float]:
        if max_seconds is not None and (
            isinstance(max_seconds, bool)
            or not isinstance(max_seconds, int | float)
            or max_seconds < 0
        ):
            raise ValueError(f"max_seconds: expected a number >= 0 or None, got {max_seconds!r}")
        return self._kernel.submit(lambda: self._run_until_idle(max_seconds))

    async def _run_for(self, seconds: float) -> None:
        clock = self._kernel.clock
        await clock.sleep(seconds)
        # Timers due at exactly the deadline may wake tasks that schedule more
        # work at the same instant; finish all of it before pausing.
        await clock.quiescent()

    async def _run_until_idle(self, max_seconds: float | None) -> float:
        clock = self._kernel.clock
        loop = self._kernel.loop
        start = clock.elapsed()
        deadline = None if max_seconds is None else start + max_seconds
        while True:
            await clock.quiescent()
            if self.is_idle():
                break
            if deadline is not None and clock.elapsed() >= deadline:
                break
            if isinstance(loop, VirtualTimeLoop):
                handle = None
                if deadline is not None:
                    # A do-nothing timer at the deadline gives time somewhere
                    # to go even when the simulation has nothing scheduled.
                    handle = loop.call_at(loop.time() + (deadline - clock.elapsed()), _noop)
                try:
                    await loop.wait_advanced()
                finally:
                    if handle is not None:
                        handle.cancel()
            else:
                remaining = _WALL_IDLE_POLL_SECONDS
                if deadline is not None:
                    remaining = min(remaining, max(0.0, deadline - clock.elapsed()))
                await asyncio.sleep(remaining)
        return clock.elapsed() - start

    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        loop = self._kernel.loop

        async def _body() -> T:
            return await fn(*args)

        task = loop.create_task(_body())
        if not isinstance(loop, VirtualTimeLoop):
            return await task
        while not task.done():
            advanced = loop.wait_advanced()
            waiting: set[asyncio.Future[Any]] = {task, advanced}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            stalled = advanced.exception() if advanced.done() else None
            if stalled is not None:
                task.cancel()
                raise stalled
            advanced.cancel()
        return task.result()

    # -- resources -----------------------------------------------------------------
    # Each constructor imports its module on first use: a simulation that only
    # uses SQS never imports the stream machinery.
    def kinesis_stream(self, name: str, **properties: Any) -> KinesisStream:
        """A Kinesis data stream (AWS::Kinesis::Stream)."""
        from .sources.kinesis import KinesisStream

        return KinesisStream(self, name, **properties)

    def dynamodb_table(self, name: str, **properties: Any) -> DynamoDBTable:
        """A DynamoDB table and its stream (AWS::DynamoDB::Table)."""
        from .sources.dynamodb import DynamoDBTable

        return DynamoDBTable(self, name, **properties)

    def sqs_queue(self, name: str, **properties: Any) -> SqsQueue:
        """An SQS queue (AWS::SQS::Queue); FIFO queue names end in ``.fifo``."""
        from .sources.sqs import SqsQueue

        return SqsQueue(self, name, **properties)

    def sns_topic(self, name: str, **properties: Any) -> SnsTopic:
        """An SNS topic, as an OnFailure destination (AWS::SNS::Topic)."""
        from .sources.sns import SnsTopic

        return SnsTopic(self, name, **properties)

    def s3_bucket(self, name: str, **properties: Any) -> S3Bucket:
        """An S3 bucket, as an OnFailure destination (AWS::S3::Bucket)."""
        from .sources.s3 import S3Bucket

        return S3Bucket(self, name, **properties)

    def function(self, name: str, handler: Any, **properties: Any) -> Function:
        """A Lambda function (AWS::Lambda::Function) running ``handler``."""
        from .handlers.function import Function

        return Function(self, name, handler, **properties)

    def producer(self, target: Any, **spec: Any) -> Producer:
        """Attach a load producer to a Kinesis stream or SQS queue (records made lazily).

        ``spec`` takes ``rate``, ``size``, ``keys``, ``body``, ``records``,
        ``start``, ``stop`` and ``poison_fraction`` (see ``esmsim.sources.producers``).
        Generation starts now; each record arrives at its own simulated time.
        """
        from .sources.producers import Producer

        add = getattr(target, "add_producer", None)
        if add is None:
            raise TypeError(
                f"target: {type(target).__name__} takes no producer; use a Kinesis stream "
                "or an SQS queue (DynamoDB tables are written with put_item/update_item)"
            )
        index = self._producer_count
        self._producer_count += 1
        producer = Producer(
            self.clock.now_ms(),
            self.seeds.rng("producer", f"{getattr(target, 'name', '?')}#{index}"),
            **spec,
        )
        add(producer)
        if isinstance(target, Resource):
            self.kernel.call_soon(lambda: _wake_for(target))
        return producer

    def event_source_mapping(self, **properties: Any) -> EventSourceMapping:
        """An event source mapping (AWS::Lambda::EventSourceMapping): ``FunctionName``,
        ``EventSourceArn`` and the mapping's properties as CloudFormation spells them."""
        from .pollers.mapping import EventSourceMapping

        return EventSourceMapping(self, **properties)

    def event_source_mappings(
        self, EventSourceArn: str | None = None, FunctionName: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """ListEventSourceMappings: ``{"EventSourceMappings": [configuration, ...]}``."""
        from .pollers.mapping import resolve_function

        function = resolve_function(self, FunctionName) if FunctionName else None
        return {
            "EventSourceMappings": [
                m.configuration()
                for m in self._mappings
                if (EventSourceArn is None or m.settings.event_source_arn == EventSourceArn)
                and (function is None or m.function is function)
            ]
        }


def _noop() -> None:
    return None


def _wake_for(target: Any) -> None:
    """Tell waiting pollers that a source gained a producer (they re-plan their waits)."""
    for name in ("signal", "data_signal"):
        signal = getattr(target, name, None)
        if signal is not None:
            signal.fire()
