"""Where plain (``def``) handlers run.

* Virtual mode: **inline, on the simulation's loop thread**, with asyncio's notion of
  "the running loop" cleared for the duration of the call. Nothing else in the
  simulation can run meanwhile, so handlers run one at a time, in a deterministic
  order, and simulated time stands still for them.
* Wall mode: ``anyio.to_thread.run_sync``, so invocations overlap like real Lambda.

Why inline rather than on a worker thread: a handler may call ``asyncio.run`` (Powertools'
``AsyncBatchProcessor`` does), which refuses to start on a thread where a loop is
running. A dedicated thread solved that, but the hand-over there and back (two queue
operations and two GIL switches) cost ~20 µs per invocation, the single largest cost of
a small batch. Clearing the running-loop marker (``asyncio._set_running_loop``, the hook
asyncio exposes for loop implementations) gives the handler exactly what a thread gave
it: no running loop, so ``asyncio.run`` and ``asyncio.get_event_loop`` behave as in
Lambda's runtime, and ``sniffio`` reports no async library. The marker is restored in a
``finally`` even if the handler escapes with ``BaseException``.

The call runs in a copy of the caller's context, as a thread would: esmsim's log context
and the current invocation (for ``handler_rng``) are visible to the handler, and context
variables the handler sets do not leak back into the simulation.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from .environment import flush_lingering

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("SyncWorker", "sync_worker")

T = TypeVar("T")

_get_running_loop = asyncio._get_running_loop
_set_running_loop = asyncio._set_running_loop


class SyncWorker:
    """Runs the plain handlers of one simulation."""

    __slots__ = ("_virtual",)

    def __init__(self, sim: Simulation) -> None:
        self._virtual = sim.clock_mode == "virtual"
        if self._virtual:
            # Handlers' variables may linger between invocations (environment.py);
            # the caller's code must never see them.
            sim.kernel.add_pause_callback(flush_lingering)
            sim.kernel.add_close_callback(flush_lingering)

    @property
    def blocking(self) -> bool:
        """True when ``run_blocking`` is the way to call (virtual mode)."""
        return self._virtual

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` to completion now, on this thread, outside the running loop.

        Virtual mode only: the loop makes no progress until ``fn`` returns, which is
        what freezes simulated time for a plain handler.
        """
        loop = _get_running_loop()
        _set_running_loop(None)
        try:
            return contextvars.copy_context().run(fn, *args)
        finally:
            _set_running_loop(loop)

    async def run_overlapping(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a pooled thread without blocking the loop (wall mode).

        A cancelled caller (the function's ``Timeout``) abandons the thread, which runs
        on to its end in the background, as a timed-out Lambda's code would be frozen.
        """
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


_workers: weakref.WeakKeyDictionary[Simulation, SyncWorker] = weakref.WeakKeyDictionary()


def sync_worker(sim: Simulation) -> SyncWorker:
    """The simulation's ``SyncWorker`` (made on first use)."""
    worker = _workers.get(sim)
    if worker is None:
        worker = _workers[sim] = SyncWorker(sim)
    return worker
