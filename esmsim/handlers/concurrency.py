"""Concurrency: reserved concurrency per function and the account's shared pool.

Modelled as Lambda does it, simply:

* the account has a concurrency limit (``limit``, default 1,000);
* a function with ``ReservedConcurrentExecutions = R`` owns R slots carved out of it: it
  can never run more than R at once (R = 0 throttles every invocation), and nobody else
  can use them;
* every other function shares the **unreserved pool**: ``limit`` minus all
  reservations. Lambda keeps at least 100 unreserved (``unreserved_minimum``), so a
  reservation that would leave less is refused with Lambda's error text. Set
  ``unreserved_minimum`` (e.g. to 0) before creating functions to model small limits.

An invocation that finds no slot is throttled at once (no handler runs); it counts in
the function's ``Throttles``, not ``Invocations``. Changing ``limit`` later only
affects invocations that start afterwards.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from .._core import InvalidParameterValueException

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("DEFAULT_ACCOUNT_LIMIT", "AccountConcurrency", "account_concurrency")

DEFAULT_ACCOUNT_LIMIT = 1000
"""Lambda's default concurrent-executions quota per Region."""

_UNRESERVED_MINIMUM = 100


class AccountConcurrency:
    """The account-wide concurrency pool of one simulation.

    Attributes:
        unreserved_minimum: what reservations must leave unreserved (Lambda: 100).
        in_use: slots in use right now (reserved and unreserved).
        max_in_use: the largest ``in_use`` seen (account ``ConcurrentExecutions`` max).
    """

    __slots__ = (
        "_limit",
        "_reservations",
        "_reserved_total",
        "_unreserved_in_use",
        "in_use",
        "max_in_use",
        "unreserved_minimum",
    )

    def __init__(
        self, limit: int = DEFAULT_ACCOUNT_LIMIT, unreserved_minimum: int = _UNRESERVED_MINIMUM
    ) -> None:
        self._limit = _count(limit, "limit")
        self.unreserved_minimum = _count(unreserved_minimum, "unreserved_minimum")
        self._reservations: dict[str, int] = {}
        self._reserved_total = 0
        self._unreserved_in_use = 0
        self.in_use = 0
        self.max_in_use = 0

    @property
    def limit(self) -> int:
        """The account's concurrent-executions limit."""
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._limit = _count(value, "limit")

    @property
    def reserved(self) -> int:
        """The sum of every function's reserved concurrency."""
        return self._reserved_total

    @property
    def unreserved_limit(self) -> int:
        """Slots shared by functions without a reservation."""
        return max(0, self._limit - self._reserved_total)

    def reserve(self, function_name: str, amount: int | None) -> None:
        """Set (or with ``None`` remove) a function's reservation, as PutFunctionConcurrency.

        Raises:
            InvalidParameterValueException: the reservation would leave fewer than
                ``unreserved_minimum`` unreserved slots.
        """
        current = self._reservations.get(function_name, 0)
        if amount is None:
            self._reservations.pop(function_name, None)
            self._reserved_total -= current
            return
        total = self._reserved_total - current + amount
        if amount > 0 and self._limit - total < self.unreserved_minimum:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of "
                f"[{self.unreserved_minimum}]."
            )
        self._reservations[function_name] = amount
        self._reserved_total = total

    def try_acquire(self, reserved: int | None, active: int) -> bool | None:
        """Take a slot for a function running ``active`` invocations now.

        Returns None when throttled, else whether the slot came from the unreserved
        pool (pass it back to ``release``).
        """
        if reserved is None:
            if self._unreserved_in_use >= self._limit - self._reserved_total:
                return None
            self._unreserved_in_use += 1
            unreserved = True
        elif active >= reserved:
            return None
        else:
            unreserved = False
        self.in_use += 1
        if self.in_use > self.max_in_use:
            self.max_in_use = self.in_use
        return unreserved

    def release(self, unreserved: bool) -> None:
        """Give back a slot taken by ``try_acquire``."""
        self.in_use -= 1
        if unreserved:
            self._unreserved_in_use -= 1


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field}: expected an integer >= 0, got {value!r}")
    return value


_pools: weakref.WeakKeyDictionary[Simulation, AccountConcurrency] = weakref.WeakKeyDictionary()


def account_concurrency(sim: Simulation) -> AccountConcurrency:
    """The account concurrency pool of ``sim`` (made on first use).

    Set ``account_concurrency(sim).limit = 2000`` to model a raised quota.
    """
    pool = _pools.get(sim)
    if pool is None:
        pool = _pools[sim] = AccountConcurrency()
    return pool
