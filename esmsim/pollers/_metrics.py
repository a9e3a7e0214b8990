"""Per-mapping metrics (CloudWatch names) and the record ledger.

Counters are running totals, as ``mapping.metrics`` shows them; ``IteratorAge``
is the latest value in ms and ``IteratorAgeMax`` the largest seen. The ledger
says where every record the mapping was responsible for ended up, which is
what the conservation check adds up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ("LEDGER_STATES", "MappingMetrics")

STREAM_COUNTERS = (
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    "DroppedEventCount",
    "OnFailureDestinationDeliveredEventCount",
    "DestinationDeliveryFailures",
    "Invocations",
    "Errors",
    "Throttles",
)
SQS_COUNTERS = (
    "PolledEventCount",
    "FilteredOutEventCount",
    "InvokedEventCount",
    "FailedInvokeEventCount",
    "DeletedEventCount",
    "Invocations",
    "Errors",
    "Throttles",
)

LEDGER_STATES = ("delivered", "filtered", "discarded", "dead_lettered", "expired")
"""Final states of a record; anything else is still pending."""

Listener = Callable[[str, float, float], None]
SettleListener = Callable[[str, int, Sequence[Any] | None], None]
"""``(state, count, records)``: ``records`` (with ``arrival_ms`` / ``sent_at``) when known."""


class MappingMetrics:
    """Counters, gauges and the ledger of one mapping."""

    __slots__ = ("_listeners", "_settle_listeners", "counters", "gauges", "ledger")

    def __init__(self, stream: bool) -> None:
        names = STREAM_COUNTERS if stream else SQS_COUNTERS
        self.counters: dict[str, int] = dict.fromkeys(names, 0)
        self.gauges: dict[str, float] = {}
        if stream:
            self.gauges = {"IteratorAge": 0, "IteratorAgeMax": 0}
        self.ledger: dict[str, int] = dict.fromkeys(LEDGER_STATES, 0)
        self._listeners: list[Listener] = []
        self._settle_listeners: list[SettleListener] = []

    def add(self, name: str, value: int = 1) -> None:
        """Add ``value`` to counter ``name``."""
        self.counters[name] = self.counters.get(name, 0) + value

    def iterator_age(self, age_ms: int, at: float) -> None:
        """Record the IteratorAge of a batch as it is sent (spec §5)."""
        self.gauges["IteratorAge"] = age_ms
        if age_ms > self.gauges.get("IteratorAgeMax", 0):
            self.gauges["IteratorAgeMax"] = age_ms
        for listener in self._listeners:
            listener("IteratorAge", at, age_ms)

    def settle(self, state: str, count: int, records: Sequence[Any] | None = None) -> None:
        """``count`` records reached final state ``state`` (``records``: which, when known)."""
        if count:
            self.ledger[state] += count
            for listener in self._settle_listeners:
                listener(state, count, records)

    def on_settle(self, listener: SettleListener) -> None:
        """Call ``listener(state, count, records)`` whenever records reach a final state."""
        self._settle_listeners.append(listener)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(metric, time, value)`` for every sampled gauge value."""
        self._listeners.append(listener)

    def snapshot(self) -> dict[str, Any]:
        """``mapping.metrics``: counters and gauges in one dict."""
        out: dict[str, Any] = dict(self.counters)
        out.update(self.gauges)
        return out
