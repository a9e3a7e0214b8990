"""What a handler can ask esmsim while it runs: the current function and seeded randomness.

A handler that wants randomness (to fail 1 % of records, to jitter a sleep) must not use
the global ``random`` module, or runs would stop being reproducible. ``handler_rng()``
gives it a generator derived from the simulation seed, the function's name and a stream
name, the same one on every call within the simulation. The current function is carried
in a context variable, which plain handlers see through the copied context they run in
and ``async def`` handlers inherit from the task that invokes them.
"""

from __future__ import annotations

import contextvars
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .function import Function

__all__ = ("current_function", "handler_rng")

current: contextvars.ContextVar[Function | None] = contextvars.ContextVar(
    "esmsim_current_function", default=None
)


def current_function() -> Function | None:
    """The function whose handler is running in this context, or None outside one."""
    return current.get()


def handler_rng(stream: str = "default") -> random.Random:
    """The current function's seeded generator named ``stream``.

    Derived from ``sim.seeds.rng("handler", "<function>/<stream>")``: the same seed gives
    the same numbers in the same invocation order.

    Raises:
        RuntimeError: when called outside a simulated invocation.
    """
    function = current.get()
    if function is None:
        raise RuntimeError("handler_rng() is only available inside a simulated invocation")
    return function.rng(stream)
