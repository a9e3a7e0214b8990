"""Where plain (``def``) handlers run: never on the simulation's event loop.

A handler may call ``asyncio.run`` (Powertools' ``AsyncBatchProcessor`` does), which
fails on a thread that already runs a loop, so plain handlers run in a worker thread.

* Virtual mode: one dedicated (daemon) thread per simulation, and the loop thread **blocks**
  until the handler returns, inside ``clock.hold()``. Nothing else in the simulation can
  run meanwhile, so handlers run one at a time, in a deterministic order, and
  simulated time stands still for them.
* Wall mode: ``anyio.to_thread.run_sync``, so invocations overlap like real Lambda.

Both copy the caller's context variables into the thread (esmsim's log context, the
current invocation for ``handler_rng``). The dedicated thread is made on first use and
shut down when the simulation closes (``Kernel.add_close_callback``).
"""

from __future__ import annotations

import contextvars
import queue
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio.to_thread

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("SyncWorker", "sync_worker")

T = TypeVar("T")


class SyncWorker:
    """Runs plain handlers of one simulation off its event loop."""

    __slots__ = ("_kernel", "_name", "_replies", "_requests", "_thread", "_virtual")

    def __init__(self, sim: Simulation) -> None:
        # Holds the kernel, not the simulation: this object is a value of a
        # WeakKeyDictionary keyed by the simulation, and must not keep it alive.
        self._kernel = sim.kernel
        self._virtual = sim.clock_mode == "virtual"
        self._name = f"esmsim-{sim.seed}-handler"
        self._thread: threading.Thread | None = None
        # Two plain queues rather than an executor: the hand-over to the thread and
        # back is the largest cost of a plain invocation, and this halves it.
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._replies: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

    @property
    def blocking(self) -> bool:
        """True when ``run_blocking`` is the way to call (virtual mode)."""
        return self._virtual

    def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the worker thread while the loop thread waits (virtual mode)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name=self._name, daemon=True)
            self._thread.start()
            self._kernel.add_close_callback(self.close)
        self._requests.put((contextvars.copy_context(), fn, args))
        with self._kernel.clock.hold():
            ok, value = self._replies.get()
        if not ok:
            raise value
        return cast(T, value)

    def _main(self) -> None:
        requests, replies = self._requests, self._replies
        while True:
            request = requests.get()
            if request is None:
                return
            context, fn, args = request
            try:
                reply: tuple[bool, Any] = (True, context.run(fn, *args))
            except BaseException as exc:
                reply = (False, exc)
            replies.put(reply)

    async def run_overlapping(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a pooled thread without blocking the loop (wall mode).

        A cancelled caller (the function's ``Timeout``) abandons the thread, which runs
        on to its end in the background, as a timed-out Lambda's code would be frozen.
        """
        return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)

    def close(self) -> None:
        """Stop the dedicated thread (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._requests.put(None)
            thread.join()


_Request = tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...]]


_workers: weakref.WeakKeyDictionary[Simulation, SyncWorker] = weakref.WeakKeyDictionary()


def sync_worker(sim: Simulation) -> SyncWorker:
    """The simulation's ``SyncWorker`` (made on first use)."""
    worker = _workers.get(sim)
    if worker is None:
        worker = _workers[sim] = SyncWorker(sim)
    return worker
