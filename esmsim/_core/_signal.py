"""Edge-triggered wake-ups that work from any thread.

Idle pollers must cost nothing: instead of one timer per poll interval they
wait on a ``Signal`` that a source fires when data arrives. Firing is cheap
when nobody waits, and firing from outside a paused simulation is coalesced
into one deferred call, so a million puts between two runs cost one wake-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ._kernel import Kernel

__all__ = ("Signal", "wait_any")


class Signal:
    """Wakes every task waiting on it; remembers nothing once they are woken."""

    __slots__ = ("_deferred", "_kernel", "_waiters")

    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._waiters: list[asyncio.Future[None]] = []
        self._deferred = False

    def fire(self) -> None:
        """Wake the current waiters (now on the loop, else at the next chance)."""
        if self._kernel.on_loop_thread():
            self._wake()
        elif not self._deferred:
            self._deferred = True
            self._kernel.call_soon(self._wake)

    def _wake(self) -> None:
        self._deferred = False
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self) -> None:
        """Wait for the next ``fire()``."""
        await wait_any((self,))

    @property
    def waiting(self) -> int:
        """How many tasks wait right now."""
        return len(self._waiters)


async def wait_any(signals: Sequence[Signal]) -> None:
    """Return when any of ``signals`` fires.

    One future, registered with every signal: the first ``fire()`` resolves
    it and later ones see it done. This replaces a task group with a task per
    signal, which cost two task spawns and a cancel scope per wait: on a busy
    stream poller that wait happens every poll, and it was the largest
    per-poll cost. Cancellation (a ``move_on_at`` deadline, a poller stopping)
    cancels the one future; the ``finally`` unregisters it everywhere, so no
    signal keeps a dead waiter.
    """
    fut: asyncio.Future[None] = signals[0]._kernel.loop.create_future()
    for signal in signals:
        signal._waiters.append(fut)
    try:
        await fut
    finally:
        if not fut.done():
            fut.cancel()
        for signal in signals:
            waiters = signal._waiters
            if fut in waiters:
                waiters.remove(fut)
