"""Edge-triggered wake-ups that work from any thread.

Idle pollers must cost nothing: instead of one timer per poll interval they
wait on a ``Signal`` that a source fires when data arrives. Firing is cheap
when nobody waits, and firing from outside a paused simulation is coalesced
into one deferred call, so a million puts between two runs cost one wake-up.
"""

from __future__ import annotations

import asyncio

from ._kernel import Kernel

__all__ = ("Signal",)


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
        fut: asyncio.Future[None] = self._kernel.loop.create_future()
        self._waiters.append(fut)
        try:
            await fut
        finally:
            if not fut.done():
                fut.cancel()
            if fut in self._waiters:
                self._waiters.remove(fut)

    @property
    def waiting(self) -> int:
        """How many tasks wait right now."""
        return len(self._waiters)
