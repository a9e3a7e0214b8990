"""Property: every record a stream mapping reads ends up in exactly one place (§2.4, §10).

Random records over random keys and shards, random (deterministic) handler
failures, random mapping settings. After the run every record is delivered,
discarded or expired exactly once, the OnFailure destination holds exactly the
discarded records, and per-key order of first deliveries holds.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import esmsim

from .streams_support import RBIF, seq, simple_table

FAILURES = {"ok": 0, "once": 1, "twice": 2, "always": 10**9}


@dataclass(frozen=True)
class Scenario:
    kind: str
    shards: int
    records: tuple[tuple[int, str], ...]  # (key number, failure pattern) per record
    batch_size: int
    parallelization: int
    bisect: bool
    retries: int
    rbif: bool
    report: bool  # the handler reports failures (batchItemFailures) instead of raising
    destination: bool
    window: int
    change: str  # a mid-run update(): "none", "pause", "parallelization", "batch_size"
    change_at: float
    duration: float  # simulated seconds each invocation takes
    max_age: int  # MaximumRecordAgeInSeconds


scenarios = st.builds(
    Scenario,
    kind=st.sampled_from(["kinesis", "dynamodb"]),
    shards=st.integers(1, 3),
    records=st.lists(
        st.tuples(
            st.integers(0, 7),
            st.sampled_from(["ok", "ok", "ok", "ok", "once", "twice", "always"]),
        ),
        min_size=1,
        max_size=40,
    ).map(tuple),
    batch_size=st.integers(1, 10),
    parallelization=st.integers(1, 4),
    bisect=st.booleans(),
    retries=st.integers(0, 3),
    rbif=st.booleans(),
    report=st.booleans(),
    destination=st.booleans(),
    window=st.sampled_from([0, 0, 0, 2]),
    change=st.sampled_from(["none", "none", "pause", "parallelization", "batch_size"]),
    change_at=st.sampled_from([0.0, 0.005, 0.5, 1.5, 3.0]),
    duration=st.sampled_from([0.01, 0.01, 7.0]),
    max_age=st.sampled_from([-1, -1, 60]),
)


def _index(record: dict[str, Any]) -> int:
    if "kinesis" in record:
        return int(base64.b64decode(record["kinesis"]["data"]))
    return int(record["dynamodb"]["NewImage"]["n"]["N"])


def _key(record: dict[str, Any]) -> str:
    if "kinesis" in record:
        return str(record["kinesis"]["partitionKey"])
    return str(record["dynamodb"]["Keys"]["pk"]["S"])


def _succeeded(inv: Any, rbif: bool) -> list[str]:
    """The records an invocation moved past the checkpoint (successfully delivered)."""
    ids = [seq(r) for r in inv.event["Records"]]
    if inv.error is not None:
        return []
    response = inv.response
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not rbif or not failures:
        return ids
    lowest = min(ids.index(f["itemIdentifier"]) for f in failures)
    return ids[:lowest]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios)
def test_every_record_is_accounted_for_exactly_once(scenario: Scenario) -> None:
    """Ledger, deliveries and destination agree; per-key order holds (§2.2, §2.4, §10.2, §10.5)."""
    s = scenario
    with esmsim.Simulation(seed=95) as sim:
        attempts: dict[int, int] = {}

        def handler(event: dict[str, Any], context: Any) -> Any:
            assert event["Records"], "never an empty batch"
            failing = []
            for record in event["Records"]:
                i = _index(record)
                attempts[i] = attempts.get(i, 0) + 1
                if attempts[i] <= FAILURES[s.records[i][1]]:
                    failing.append(seq(record))
            if failing and not s.report:
                raise ValueError(f"records {failing} fail")
            return {"batchItemFailures": [{"itemIdentifier": f} for f in failing]}

        fn = sim.function("f", handler, Timeout=10, duration=s.duration)
        bucket = sim.s3_bucket("failures") if s.destination else None
        properties: dict[str, Any] = {
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": s.batch_size,
            "ParallelizationFactor": s.parallelization,
            "BisectBatchOnFunctionError": s.bisect,
            "MaximumRetryAttempts": s.retries,
            "MaximumBatchingWindowInSeconds": s.window,
            "MaximumRecordAgeInSeconds": s.max_age,
        }
        if s.rbif:
            properties["FunctionResponseTypes"] = RBIF
        if bucket is not None:
            properties["DestinationConfig"] = {"OnFailure": {"Destination": bucket.arn}}
        put_order: dict[str, list[str]] = {}
        index_of: dict[str, int] = {}
        shard_order: dict[str, list[str]] = {}
        if s.kind == "kinesis":
            stream = sim.kinesis_stream("s", ShardCount=s.shards)
            arn = stream.arn
            for i, (key, _) in enumerate(s.records):
                put = stream.put_record(Data=str(i), PartitionKey=f"key{key}")
                put_order.setdefault(f"key{key}", []).append(put["SequenceNumber"])
                shard_order.setdefault(put["ShardId"], []).append(put["SequenceNumber"])
                index_of[put["SequenceNumber"]] = i
        else:
            table = simple_table(sim, shard_count=s.shards)
            arn = str(table.stream_arn)
            for i, (key, _) in enumerate(s.records):
                table.put_item(Item={"pk": {"S": f"key{key}"}, "n": {"N": str(i)}})
            for record in table.stream_records():
                put_order.setdefault(_key(record), []).append(seq(record))
                index_of[seq(record)] = _index(record)
        m = sim.event_source_mapping(FunctionName="f", EventSourceArn=arn, **properties)
        if s.change != "none":
            sim.run_sync(s.change_at)
            if s.change == "pause":
                m.update(Enabled=False)
                sim.run_sync(30)
                m.update(Enabled=True)
            elif s.change == "parallelization":
                m.update(ParallelizationFactor=5 - s.parallelization)
            else:
                m.update(BatchSize=11 - s.batch_size)
        sim.run_until_idle_sync(max_seconds=24 * 3600)

        total = len(s.records)
        ledger = m.ledger
        assert ledger["pending"] == 0
        assert ledger["expired"] == 0  # a bounded run: nothing waits a day
        assert ledger["filtered"] == 0
        assert ledger["delivered"] + ledger["discarded"] == total

        # Successful deliveries: each record at most once, and as many as the ledger says.
        succeeded = [x for inv in fn.invocations for x in _succeeded(inv, s.rbif)]
        assert len(succeeded) == len(set(succeeded)) == ledger["delivered"]
        discarded = set(index_of) - set(succeeded)
        assert len(discarded) == ledger["discarded"]
        event("some records discarded" if discarded else "nothing discarded")

        # With bisect, a record that never fails is isolated from failing ones: delivered.
        if s.bisect and not s.report and s.max_age == -1:
            for sequence, i in index_of.items():
                if s.records[i][1] == "ok":
                    assert sequence in succeeded

        # Batches: never empty, one shard each.
        for inv in fn.invocations:
            assert inv.event["Records"]
            if s.kind == "kinesis":
                assert {r["eventID"].split(":")[0] for r in inv.event["Records"]} == {inv.shard_id}

        # The destination holds exactly the discarded records, each once.
        metrics = m.metrics
        if bucket is None:
            assert metrics["DroppedEventCount"] == len(discarded)
        else:
            assert metrics["DroppedEventCount"] == 0
            assert metrics["OnFailureDestinationDeliveredEventCount"] == len(discarded)
            in_destination: list[str] = []
            for body in bucket.objects().values():
                document = json.loads(body)
                info = document["KinesisBatchInfo" if s.kind == "kinesis" else "DDBStreamBatchInfo"]
                payload = [seq(r) for r in json.loads(document["payload"])["Records"]]
                assert info["batchSize"] == len(payload)
                assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (
                    payload[0],
                    payload[-1],
                )
                if s.kind == "kinesis" and s.parallelization == 1:
                    # With one lane per shard a discarded range is contiguous in its shard.
                    order = shard_order[info["shardId"]]
                    first = order.index(payload[0])
                    assert order[first : first + len(payload)] == payload
                in_destination.extend(payload)
            assert len(in_destination) == len(set(in_destination))
            assert set(in_destination) == discarded

        # Per key, first deliveries follow the order the records were written in.
        first_seen: dict[str, list[str]] = {}
        seen: set[str] = set()
        for inv in fn.invocations:
            for record in inv.event["Records"]:
                if seq(record) not in seen:
                    seen.add(seq(record))
                    first_seen.setdefault(_key(record), []).append(seq(record))
        for key_name, order in first_seen.items():
            positions = [put_order[key_name].index(x) for x in order]
            assert positions == sorted(positions)
        if s.max_age == -1:
            assert first_seen == put_order  # every record was invoked at least once
