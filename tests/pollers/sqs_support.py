"""Helpers for the SQS poller tests: reading invocations through the public surface only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from esmsim.handlers import Invocation

T0 = 1767225600.0
"""The default virtual start time, 2026-01-01T00:00:00Z, in epoch seconds."""

Event = dict[str, Any]


def records(inv: Invocation) -> list[dict[str, Any]]:
    """The SQS records of one invocation's event."""
    recs: list[dict[str, Any]] = inv.event["Records"]
    return recs


def bodies(inv: Invocation) -> list[str]:
    """The bodies of one invocation's records, in batch order."""
    return [r["body"] for r in records(inv)]


def message_ids(inv: Invocation) -> list[str]:
    """The message ids of one invocation's records, in batch order."""
    return [r["messageId"] for r in records(inv)]


def receive_counts(inv: Invocation) -> list[int]:
    """``ApproximateReceiveCount`` of each record of one invocation."""
    return [int(r["attributes"]["ApproximateReceiveCount"]) for r in records(inv)]


def all_bodies(invocations: Iterable[Invocation]) -> list[str]:
    """Every body delivered, invocation after invocation."""
    return [b for inv in invocations for b in bodies(inv)]


def running_at(invocations: Sequence[Invocation], t: float) -> int:
    """How many invocations were running at simulated epoch second ``t``."""
    return sum(1 for inv in invocations if inv.started_at <= t < inv.ended_at)


def max_overlap(invocations: Sequence[Invocation]) -> int:
    """The most invocations ever running at once (an end frees its slot before a start)."""
    edges = sorted(
        [(inv.started_at, 1) for inv in invocations] + [(inv.ended_at, -1) for inv in invocations],
        key=lambda edge: (edge[0], edge[1]),
    )
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


def send_many(queue: Any, n: int, prefix: str = "m", **extra: Any) -> list[str]:
    """Send ``n`` messages (``prefix0``, ``prefix1``, ...) in batches of 10; their bodies."""
    sent: list[str] = []
    for start in range(0, n, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"{prefix}{start + i}", **extra}
            for i in range(min(10, n - start))
        ]
        response = queue.send_message_batch(Entries=entries)
        assert not response["Failed"], response["Failed"]
        sent.extend(e["MessageBody"] for e in entries)
    return sent
