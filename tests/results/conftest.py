"""Helpers for the results tests: a small simulation built in Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from esmsim import Simulation
from esmsim.results import Recorder


async def ok_handler(event: dict[str, Any], context: Any) -> None:
    """Succeeds (async: runs on the loop, no worker thread)."""
    return None


async def flaky_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reports every SQS message whose body says ``"poison": true`` as a batch item failure."""
    failures = []
    for record in event["Records"]:
        body = record.get("body") or record.get("kinesis", {}).get("data", "")
        if '"poison": true' in body:
            ident = record.get("messageId") or record["kinesis"]["sequenceNumber"]
            failures.append({"itemIdentifier": ident})
    return {"batchItemFailures": failures}


def build_small(sim: Simulation, *, shards: int = 1) -> dict[str, Any]:
    """One Kinesis stream (``shards``) and one SQS queue with a DLQ, producers on both."""
    stream = sim.kinesis_stream("orders", ShardCount=shards)
    dlq = sim.sqs_queue("jobs-dlq")
    queue = sim.sqs_queue(
        "jobs",
        VisibilityTimeout=10,
        RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2},
    )
    sim.function(
        "orders-fn", ok_handler, duration={"distribution": "lognormal", "p50": 0.05, "p99": 0.4}
    )
    sim.function("jobs-fn", flaky_handler, Timeout=5, duration=0.02)
    sim.event_source_mapping(
        FunctionName="orders-fn",
        EventSourceArn=stream.arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=50,
    )
    sim.event_source_mapping(
        FunctionName="jobs-fn",
        EventSourceArn=queue.arn,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    sim.producer(stream, rate=50, keys=8)
    sim.producer(queue, rate=5, poison_fraction=0.1, body='{{"n": {n}, "poison": {poison}}}')
    return {"stream": stream, "queue": queue, "dlq": dlq}


def run_small(out: Path | None, *, seconds: float = 60.0, shards: int = 1, seed: int = 5) -> Any:
    """Build, optionally record into ``out``, run; returns (trace, summary or None)."""
    with Simulation(seed=seed) as sim:
        build_small(sim, shards=shards)
        recorder = Recorder(sim, out, sample_interval=15.0).attach() if out is not None else None
        for step in range(1, 4):
            sim.run_sync(seconds * step / 3 - sim.clock.elapsed())
        summary = recorder.finish() if recorder is not None else None
        trace = [
            (
                inv.function_name,
                inv.shard_id,
                inv.started_at,
                inv.ended_at,
                inv.status,
                inv.request_id,
            )
            for fn in sim.resources()
            if getattr(fn, "resource_type", "") == "AWS::Lambda::Function"
            for inv in fn.invocations
        ]
    return trace, summary
