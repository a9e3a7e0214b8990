"""Shared helpers for the stream poller tests (Kinesis and DynamoDB Streams).

Only the public surface is used: simulations, resources, ``fn.invocations``,
``mapping.metrics`` / ``ledger`` and the destinations' ``messages()`` /
``objects()``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import esmsim

T0 = 1_767_225_600.0
"""The simulations' default start, 2026-01-01T00:00:00Z, in epoch seconds."""

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RBIF = ["ReportBatchItemFailures"]


def seq(record: dict[str, Any]) -> str:
    """The sequence number (RBIF item identifier) of a Kinesis or DynamoDB event record."""
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    return str(record["dynamodb"]["SequenceNumber"])


def seqs(inv: Any) -> list[str]:
    """The sequence numbers of one invocation's records, in order."""
    return [seq(r) for r in inv.event["Records"]]


def sizes(fn: Any) -> list[int]:
    """The number of records of each invocation, in start order."""
    return [len(inv.event["Records"]) for inv in fn.invocations]


def delivery_counts(fn: Any) -> dict[str, int]:
    """How many invocations each sequence number appeared in."""
    counts: dict[str, int] = {}
    for inv in fn.invocations:
        for s in seqs(inv):
            counts[s] = counts.get(s, 0) + 1
    return counts


def failure_records(queue: Any) -> list[dict[str, Any]]:
    """The OnFailure records an SQS destination queue holds, parsed."""
    return [json.loads(m["Body"]) for m in queue.messages()]


def batch_info(record: dict[str, Any]) -> dict[str, Any]:
    """``KinesisBatchInfo`` or ``DDBStreamBatchInfo`` of a failure record."""
    info = record.get("KinesisBatchInfo") or record.get("DDBStreamBatchInfo")
    assert isinstance(info, dict), record
    return info


def key_for_shard(stream: Any, shard_id: str, prefix: str = "k", skip: int = 0) -> str:
    """A partition key that Kinesis routes to ``shard_id`` (MD5 hash-key ranges)."""
    keys = keys_for_shard(stream, shard_id, skip + 1, prefix)
    return keys[skip]


def keys_for_shard(stream: Any, shard_id: str, count: int, prefix: str = "k") -> list[str]:
    """``count`` distinct partition keys that Kinesis routes to ``shard_id``."""
    shard = next(s for s in stream.list_shards()["Shards"] if s["ShardId"] == shard_id)
    low = int(shard["HashKeyRange"]["StartingHashKey"])
    high = int(shard["HashKeyRange"]["EndingHashKey"])
    found: list[str] = []
    i = 0
    while len(found) < count:
        key = f"{prefix}{i}"
        h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
        if low <= h <= high:
            found.append(key)
        i += 1
    return found


def simple_table(sim: esmsim.Simulation, name: str = "table", **extra: Any) -> Any:
    """A table keyed by string ``pk`` with a NEW_AND_OLD_IMAGES stream."""
    return sim.dynamodb_table(
        name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamViewType": "NEW_AND_OLD_IMAGES"},
        **extra,
    )


def put_items(table: Any, keys: Iterable[str], **attrs: str) -> None:
    """``put_item`` one item per key (each write is one INSERT stream record)."""
    for k in keys:
        item: dict[str, Any] = {"pk": {"S": k}}
        item.update({name: {"S": value} for name, value in attrs.items()})
        table.put_item(Item=item)


def overlaps(windows: Sequence[tuple[float, float]]) -> bool:
    """Whether any two [start, end] windows overlap with positive length."""
    ordered = sorted(windows)
    return any(b[0] < a[1] - 1e-9 for a, b in itertools.pairwise(ordered))
