"""The simulation's own event loop, in its own thread, paused between runs.

Why a thread: users enter a simulation from anywhere (a pytest-asyncio test, an
anyio test, ``asyncio.run``, plain sync code). The simulation must never patch
or borrow the caller's loop, whose timeouts stay real. So the kernel runs
``anyio.run(host)`` on a loop it owns, in a thread it owns, and the caller only
waits for commands (``run``, ``run_until_idle``, ``call``) to finish.

Why "paused" is a blocking ``get()``: between commands the host task blocks
the loop thread on a queue. Nothing on the loop can run, so virtual time cannot
move and the caller may read and write resources without locks. Anything that
must reach the loop while it is paused (starting a poller, waking one because
records arrived) is queued and applied, in order, when the next command starts,
which keeps runs deterministic.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio
import anyio.abc

from ._clock import Clock
from ._exceptions import SimulationClosed
from ._logging import current_clock
from ._loop import VirtualTimeLoop

__all__ = ("Kernel",)

T = TypeVar("T")

_GC_GEN0_THRESHOLD = 100_000

_Command = tuple["concurrent.futures.Future[Any]", Callable[[], Awaitable[Any]]]


class Kernel:
    """Owns the loop thread; runs commands on the loop; queues cross-thread work.

    Args:
        virtual: use ``VirtualTimeLoop`` (True) or a normal loop (False).
        start_epoch: epoch seconds of the simulation start, or ``None`` for
            "now on the host" (wall mode).
        name: the thread's name, for debuggers.
    """

    def __init__(self, *, virtual: bool, start_epoch: float | None, name: str) -> None:
        self._virtual = virtual
        self._start_epoch = start_epoch
        self._name = name
        self._commands: queue.SimpleQueue[_Command | None] = queue.SimpleQueue()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clock: Clock | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._paused = True
        self._deferred: list[Callable[[], None]] = []
        self._failure: BaseException | None = None
        self._closed = False
        self._current: concurrent.futures.Future[Any] | None = None
        self._close_callbacks: list[Callable[[], None]] = []
        self._pause_callbacks: list[Callable[[], None]] = []

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> Clock:
        """Start the loop thread and return once the loop is up and paused."""
        if self._thread is not None:
            raise SimulationClosed("this simulation was already started")
        self._thread = threading.Thread(target=self._thread_main, name=self._name, daemon=True)
        self._thread.start()
        self._started.wait()
        if self._failure is not None:
            raise self._failure
        assert self._clock is not None
        return self._clock

    def close(self) -> None:
        """Cancel every task, stop the loop and join the thread. Idempotent.

        Then runs the close callbacks (see ``add_close_callback``), newest first.
        """
        if self._thread is None or self._closed:
            self._closed = True
            return
        self._closed = True
        self._commands.put(None)
        self._thread.join()
        while self._close_callbacks:
            self._close_callbacks.pop()()

    def add_pause_callback(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the loop thread each time a command ends, before its caller resumes.

        For state the simulation may leave in place while it runs but must tidy
        before the caller's code runs again, such as the environment variables
        of the last plain handler (``handlers/environment.py``).
        """
        self._pause_callbacks.append(fn)

    def add_close_callback(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` once, on the closing thread, after the loop thread has stopped.

        For resources the kernel does not own but whose life ends with it, such
        as ``Clock.to_thread``'s worker thread.
        """
        self._close_callbacks.append(fn)

    @property
    def clock(self) -> Clock:
        """The simulation clock (available once started)."""
        if self._clock is None:
            raise SimulationClosed("the simulation has not been started")
        return self._clock

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The simulation's event loop (available once started)."""
        if self._loop is None:
            raise SimulationClosed("the simulation has not been started")
        return self._loop

    @property
    def running(self) -> bool:
        """True while a command is executing on the loop."""
        return not self._paused

    def on_loop_thread(self) -> bool:
        """True when called from the simulation's loop thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    # -- commands ------------------------------------------------------------------
    def submit(self, fn: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Run ``fn()`` on the loop as the next command; a future for its result."""
        if self._failure is not None:
            raise SimulationClosed(f"the simulation crashed earlier: {self._failure!r}")
        if self._closed or self._thread is None:
            raise SimulationClosed("the simulation is closed")
        if self.on_loop_thread():
            raise RuntimeError("cannot wait for a simulation command from inside the simulation")
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._commands.put((fut, fn))
        return fut

    # -- work from outside the loop -------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop: now if on it, at resume if paused, else soon.

        The three cases keep order deterministic: the caller's writes between
        runs are applied in program order when the next run starts, and a plain
        handler (called inline on the loop thread in virtual mode) applies its
        writes at once, in its own program order.
        """
        if self.on_loop_thread():
            fn()
        elif self._paused:
            self._deferred.append(fn)
        else:
            self.loop.call_soon_threadsafe(fn)

    def start_soon(
        self, fn: Callable[[], Coroutine[Any, Any, Any]], name: str | None = None
    ) -> None:
        """Start a background task on the simulation's task group."""

        def _start() -> None:
            assert self._task_group is not None
            self._task_group.start_soon(fn, name=name)

        self.call_soon(_start)

    # -- the loop thread ------------------------------------------------------------
    def _thread_main(self) -> None:
        backend_options: dict[str, Any] = {}
        if self._virtual:
            backend_options["loop_factory"] = VirtualTimeLoop
        try:
            # A fresh, empty context: the caller's context variables (its
            # structlog context, its pytest-asyncio state) never leak in.
            contextvars.Context().run(self._run_host, backend_options)
        except BaseException as exc:
            self._failure = _unwrap(exc)
            if self._current is not None and not self._current.done():
                self._current.set_exception(self._failure)
            self._fail_pending()
        finally:
            if self._clock is not None:
                self._clock.close()
            self._started.set()
            self._paused = True

    def _run_host(self, backend_options: dict[str, Any]) -> None:
        anyio.run(self._host, backend="asyncio", backend_options=backend_options)

    def _fail_pending(self) -> None:
        while True:
            try:
                item = self._commands.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[0].set_exception(SimulationClosed("the simulation crashed"))

    async def _host(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self._start_epoch is None:
            from ._wallclock import host_epoch_seconds

            self._start_epoch = host_epoch_seconds()
        self._clock = Clock(loop, self._start_epoch, loop_t0=loop.time())
        current_clock.set(self._clock)
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            self._started.set()
            while True:
                item = self._commands.get()  # blocks the loop thread: paused
                if item is None:
                    break
                fut, fn = item
                if not fut.set_running_or_notify_cancel():
                    continue
                self._current = fut
                self._paused = False
                self._apply_deferred()
                # A long run retains millions of small records; with CPython's
                # default gen-0 threshold (700) the collector rescans them over
                # and over (measured: ~2x the cost of creating them). Records
                # hold no cycles, so collecting less often loses nothing; the
                # caller's setting is restored when the command ends.
                saved_threshold = gc.get_threshold()
                gc.set_threshold(max(saved_threshold[0], _GC_GEN0_THRESHOLD), *saved_threshold[1:])
                ok, value = True, None
                try:
                    value = await fn()
                except Exception as exc:
                    ok, value = False, exc
                finally:
                    gc.set_threshold(*saved_threshold)
                    # Before the caller's thread wakes: it must find the process
                    # as it left it (see add_pause_callback).
                    for callback in self._pause_callbacks:
                        callback()
                    self._paused = True
                if ok:
                    fut.set_result(value)
                else:
                    assert isinstance(value, BaseException)
                    fut.set_exception(value)
                # Only reached when the command ended by itself; when a crashing
                # background task cancels it, the thread reports to _current.
                self._current = None
            tg.cancel_scope.cancel()

    def _apply_deferred(self) -> None:
        while self._deferred:
            pending, self._deferred = self._deferred, []
            for fn in pending:
                fn()


def _unwrap(exc: BaseException) -> BaseException:
    """The single real error inside anyio's exception groups, if there is one."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc
