"""The virtual-time asyncio event loop.

asyncio asks its selector one question per loop iteration: "wait for I/O for
at most ``timeout`` seconds". ``timeout`` is 0 when callbacks are ready,
``None`` when nothing at all is scheduled, and otherwise the distance to the
next timer. A virtual loop answers that question without waiting: it moves its
own notion of time to the next timer and returns at once. Everything else
(timers, cancel scopes, ``anyio.fail_after``) is stock asyncio reading
``loop.time()``, so it all becomes virtual for free.

Three things make this trustworthy rather than merely fast:

* ``hold()``: while thread work is in flight (a sync handler, a SQLite write)
  time must stand still, or a 50 ms thread call would let every pending timer
  fire. With a hold open, the selector blocks on the real selector instead;
  the thread's ``call_soon_threadsafe`` writes to the loop's self-pipe and
  wakes it.
* the quiescence barrier: ``wait_quiescent()`` resolves at the instant the loop
  would otherwise advance time, that is, when every task is parked on a future
  timer (or an event). Write-behind persistence runs there, so it can never
  interleave with simulation work, and ``Simulation.run`` uses it to finish
  everything due at its deadline before pausing.
* stall detection: nothing ready, no timer, no hold. If someone is waiting for
  time to advance (``wait_advanced``), that wait can never end; it fails with
  ``SimulationStalled`` after a short real grace period (which lets unheld
  thread work still post back) instead of hanging the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import selectors
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVarTuple

from ._exceptions import SimulationStalled

__all__ = ("VirtualTimeLoop",)

# How long (real seconds) a loop with nothing to do waits for unheld thread
# work to post back before declaring a stall. Long enough for a slow thread
# hop, short enough that a deadlocked test fails fast.
_STALL_GRACE_SECONDS = 0.5

# While a hold is open we block on the real selector; the self-pipe wakes us
# when the thread finishes. The cap only bounds how long a lost wake-up could
# delay us; it does not move virtual time.
_HELD_WAIT_SECONDS = 1.0

_Ts = TypeVarTuple("_Ts")

_SelectResult = list[tuple[selectors.SelectorKey, int]]


class _VirtualSelector(selectors.BaseSelector):
    """A selector that polls real I/O but never sleeps in real time."""

    def __init__(self) -> None:
        self._real = selectors.DefaultSelector()
        self.loop: VirtualTimeLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> _SelectResult:
        loop = self.loop
        assert loop is not None
        # Real I/O first, without waiting: the self-pipe (thread results,
        # cross-thread wake-ups) and any sockets a handler uses.
        events = self._real.select(0)
        if events or timeout == 0:
            return events
        if loop._holds:
            # Thread work in flight: time stands still until it posts back.
            return self._real.select(_HELD_WAIT_SECONDS)
        if loop._resolve_quiescent():
            # Barrier waiters now have ready callbacks; run them at this same
            # instant instead of moving time.
            return []
        if timeout is None:
            # Nothing ready, nothing scheduled, nothing held. Unheld thread
            # work may still post back; give it a moment of real time.
            events = self._real.select(_STALL_GRACE_SECONDS)
            if events:
                return events
            loop._stall()
            return []
        loop._advance(timeout)
        return []


class _FifoTimerHandle(asyncio.TimerHandle):
    """A timer that, among timers due at the same instant, fires in scheduling order.

    asyncio's heap compares deadlines only, so timers due at the same instant
    fire in whatever order the heap happens to hold them, and adding any
    unrelated timer (a metrics sampler, a run split into chunks) can reshuffle
    them. In a simulation many timers share an instant (every shard polls on
    whole seconds), so that would make traces depend on unrelated work. A
    per-loop sequence number breaks ties first-scheduled-first.
    """

    __slots__ = ("_key",)

    def __init__(self, seq: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The heap compares timers ~8 times per push/pop: one tuple comparison (in C)
        # is the cheapest Python-level __lt__ there is. Every timer in the heap is one
        # of these (VirtualTimeLoop.call_at makes them all).
        self._key = (self._when, seq)  # type: ignore[attr-defined]

    def __lt__(self, other: object) -> bool:
        return bool(self._key < other._key)  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        return bool(self._key <= other._key)  # type: ignore[attr-defined]


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is virtual and jumps to the next timer.

    Use it as ``anyio.run(main, backend="asyncio",
    backend_options={"loop_factory": VirtualTimeLoop})`` or
    ``asyncio.Runner(loop_factory=VirtualTimeLoop)``. Time starts at 0.0 and
    is a plain float of seconds; ``esmsim._core.Clock`` maps it to epoch time.
    Starting at zero (rather than at epoch seconds) keeps sub-millisecond
    precision: at 1.7e9 a float's resolution is about 0.2 µs.
    """

    def __init__(self) -> None:
        selector = _VirtualSelector()
        super().__init__(selector=selector)
        selector.loop = self
        self._now = 0.0
        self._holds = 0
        self._quiescent_waiters: list[asyncio.Future[None]] = []
        self._advance_waiters: list[asyncio.Future[None]] = []
        self.timer_advances = 0
        self._timer_seq = 0

    # -- time ---------------------------------------------------------------
    def time(self) -> float:
        return self._now

    def _advance(self, timeout: float) -> None:
        # Land exactly on the next timer's deadline when it is within reach,
        # so ``now + (when - now)`` rounding can never leave it a hair in the
        # future and cost an extra iteration. ``_scheduled`` is the loop's own
        # timer heap; its head is live (``_run_once`` pops cancelled heads
        # before asking the selector).
        scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
        target = self._now + timeout
        if scheduled and scheduled[0].when() <= target:
            target = scheduled[0].when()
        self._now = max(self._now, target)
        self.timer_advances += 1
        if self._advance_waiters:
            waiters, self._advance_waiters = self._advance_waiters, []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    def call_at(
        self,
        when: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        """``BaseEventLoop.call_at`` with first-scheduled-first ties (``_FifoTimerHandle``)."""
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        self._timer_seq += 1
        timer = _FifoTimerHandle(self._timer_seq, when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)  # type: ignore[attr-defined]
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    # -- holds ----------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Freeze virtual time while the body (typically thread work) runs."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    @property
    def holds(self) -> int:
        """How many holds are open right now."""
        return self._holds

    # -- barriers -------------------------------------------------------------
    def wait_quiescent(self) -> asyncio.Future[None]:
        """A future resolved when nothing is ready and no hold is open.

        At that moment every other task is parked on a future timer or an
        event, so the waiter can act (flush, inspect, pause) knowing that no
        simulation work can interleave at the current instant.
        """
        fut: asyncio.Future[None] = self.create_future()
        self._quiescent_waiters.append(fut)
        return fut

    def wait_advanced(self) -> asyncio.Future[None]:
        """A future resolved the next time virtual time moves forward.

        Fails with ``SimulationStalled`` if time can never move again.
        """
        fut: asyncio.Future[None] = self.create_future()
        self._advance_waiters.append(fut)
        return fut

    def _resolve_quiescent(self) -> bool:
        if not self._quiescent_waiters:
            return False
        waiters, self._quiescent_waiters = self._quiescent_waiters, []
        resolved = False
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
                resolved = True
        return resolved

    def _stall(self) -> None:
        message = (
            "simulation stalled: no task is ready, no timer is pending and no "
            f"thread work is held at simulated t={self._now:.3f}s; something is "
            "waiting for an event that nothing can set"
        )
        waiters, self._advance_waiters = self._advance_waiters, []
        failed = False
        for fut in waiters:
            if not fut.done():
                fut.set_exception(SimulationStalled(message))
                failed = True
        if not failed:
            # Nobody to tell: fail the loop itself rather than hang forever.
            raise SimulationStalled(message)
