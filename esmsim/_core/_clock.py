"""The ``Clock`` every simulation component is given.

Components never read the host clock and never talk to the event loop's
clock directly: they ask their ``Clock``. In virtual mode it reads
``VirtualTimeLoop.time()`` (which jumps from timer to timer); in wall mode it
reads a normal loop's monotonic clock. Both map loop time onto epoch time
with a fixed offset fixed when the simulation starts, so the same code runs in
both modes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

from ._loop import VirtualTimeLoop

__all__ = ("Clock", "ClockMode", "format_iso_ms", "format_iso_s")

ClockMode = Literal["virtual", "wall"]
T = TypeVar("T")

# Loop time is a float of seconds; integer milliseconds are derived from it.
# The epsilon (1 µs, in ms) absorbs float noise such as 0.3 being
# 0.29999999999999999, and the 0.24 µs resolution of epoch-second floats.
_MS_EPSILON = 1e-3


class Clock:
    """Simulated time: now, sleep, and the hold/barrier hooks of the kernel.

    Args:
        loop: the simulation's event loop (a ``VirtualTimeLoop`` in virtual
            mode, any asyncio loop in wall mode).
        start_epoch: the epoch seconds that loop time ``loop_t0`` stands for.
        loop_t0: the loop time at which the simulation starts.
    """

    __slots__ = ("_executor", "_loop", "_loop_t0", "_start_epoch", "_start_ms", "_virtual")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, start_epoch: float, loop_t0: float = 0.0
    ) -> None:
        self._loop = loop
        self._virtual = isinstance(loop, VirtualTimeLoop)
        self._start_epoch = float(start_epoch)
        self._start_ms = math.floor(self._start_epoch * 1000 + _MS_EPSILON)
        self._loop_t0 = loop_t0
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # -- reading time ---------------------------------------------------------
    @property
    def mode(self) -> ClockMode:
        """``"virtual"`` or ``"wall"``."""
        return "virtual" if self._virtual else "wall"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this clock reads."""
        return self._loop

    @property
    def start(self) -> float:
        """Epoch seconds at which the simulation started."""
        return self._start_epoch

    def elapsed(self) -> float:
        """Simulated seconds since the simulation started."""
        return self._loop.time() - self._loop_t0

    def now(self) -> float:
        """Simulated epoch seconds."""
        return self._start_epoch + self.elapsed()

    def now_ms(self) -> int:
        """Simulated epoch milliseconds, as an integer (floor)."""
        return self._start_ms + math.floor(self.elapsed() * 1000 + _MS_EPSILON)

    def to_ms(self, epoch_seconds: float) -> int:
        """Integer epoch milliseconds of an epoch-seconds instant."""
        return math.floor(epoch_seconds * 1000 + _MS_EPSILON)

    def wall(self, epoch_seconds: float | None = None) -> datetime:
        """A timezone-aware UTC datetime for ``epoch_seconds`` (default now)."""
        ms = self.now_ms() if epoch_seconds is None else self.to_ms(epoch_seconds)
        return datetime.fromtimestamp(ms / 1000, tz=UTC)

    # -- waiting ---------------------------------------------------------------
    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time."""
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, epoch_seconds: float) -> None:
        """Sleep until the simulated instant ``epoch_seconds``.

        The wake-up is scheduled at the exact loop time, so periodic work that
        sleeps until absolute deadlines never drifts.
        """
        when = self.loop_time(epoch_seconds)
        if when <= self._loop.time():
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = self._loop.create_future()
        handle = self._loop.call_at(when, _resolve, fut)
        try:
            await fut
        finally:
            handle.cancel()

    def loop_time(self, epoch_seconds: float) -> float:
        """The loop time (``anyio.current_time()``) of an epoch-seconds instant.

        Rounded to the microsecond: an epoch-seconds float carries only about
        0.24 µs of precision, and without rounding a deadline meant for
        ``...020 ms`` can land a hair before it, where ``now_ms()`` still reads
        ``...019``; a waiter woken there would find nothing due and wait again
        at the same instant forever.
        """
        return self._loop_t0 + round((epoch_seconds - self._start_epoch) * 1e6) / 1e6

    def move_on_at(self, epoch_seconds: float) -> anyio.CancelScope:
        """A cancel scope that ends its body at the simulated instant ``epoch_seconds``.

        Deadlines are absolute so repeated waits never accumulate float error.
        """
        return anyio.CancelScope(deadline=self.loop_time(epoch_seconds))

    # -- kernel hooks ------------------------------------------------------------
    def hold(self) -> contextlib.AbstractContextManager[None]:
        """Freeze simulated time while the body runs (thread work). No-op in wall mode."""
        if isinstance(self._loop, VirtualTimeLoop):
            return self._loop.hold()
        return contextlib.nullcontext()

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking ``fn(*args)`` in a worker thread, deterministically.

        In virtual mode the loop thread waits for the worker (time frozen under
        ``hold()``): no other simulation task runs meanwhile, so the order of
        everything at this instant cannot depend on how long the thread took.
        That is what makes sync handlers and other thread work reproducible.
        The worker is a separate thread so that code calling ``asyncio.run``
        (Powertools' AsyncBatchProcessor) works. In wall mode the work overlaps
        with the loop, as real concurrent work would.
        """
        ctx = contextvars.copy_context()
        if not self._virtual:
            return await anyio.to_thread.run_sync(ctx.run, fn, *args)
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="esmsim-worker"
            )
        with self.hold():
            return self._executor.submit(ctx.run, fn, *args).result()

    def close(self) -> None:
        """Release the worker thread (the kernel calls this when the simulation ends)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def quiescent(self) -> None:
        """Wait until every other task is parked on a future timer or event.

        In wall mode there is no such instant to wait for; it yields once.
        """
        if isinstance(self._loop, VirtualTimeLoop):
            await self._loop.wait_quiescent()
        else:
            await asyncio.sleep(0)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def format_iso_ms(epoch_ms: int) -> str:
    """``2024-01-01T00:00:00.000Z`` for integer epoch milliseconds."""
    dt = datetime.fromtimestamp(epoch_ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}Z"


def format_iso_s(epoch_ms: int) -> str:
    """``2024-01-01T00:00:00Z`` (whole seconds, floor) for epoch milliseconds."""
    return f"{datetime.fromtimestamp(epoch_ms // 1000, tz=UTC):%Y-%m-%dT%H:%M:%S}Z"
