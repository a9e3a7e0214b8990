"""Tumbling windows on Kinesis and DynamoDB Streams (spec §2.5, §4.4, §8.19, §10.15)."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

import esmsim

from .streams_support import RBIF, T0, failure_records, overlaps, put_items, simple_table


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def counting_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Counts records per window in ``state``."""
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(event["Records"])
    return {"state": state}


def _kinesis_mapping(sim: esmsim.Simulation, handler: Any, **props: Any) -> tuple[Any, Any, Any]:
    stream = sim.kinesis_stream("s", ShardCount=props.pop("ShardCount", 1))
    fn = sim.function("f", handler, duration=props.pop("duration", 0.01))
    mapping = sim.event_source_mapping(
        FunctionName="f",
        EventSourceArn=stream.arn,
        StartingPosition="TRIM_HORIZON",
        **props,
    )
    return stream, fn, mapping


def test_counts_over_three_windows_with_final_invocations() -> None:
    """State is carried within a window, {} at its start; one final invoke per window (§2.5)."""
    with esmsim.Simulation(seed=111) as sim:
        stream, fn, mapping = _kinesis_mapping(
            sim, counting_handler, TumblingWindowInSeconds=10, BatchSize=4
        )
        per_window: dict[str, int] = defaultdict(int)
        for second in range(30):
            for j in range(second % 4 + 1):
                stream.put_record(Data=f"{second}-{j}", PartitionKey=f"k{j}")
                per_window[_iso(T0 + second // 10 * 10)] += 1
            sim.run_sync(1)
        sim.run_until_idle_sync(max_seconds=120)
        events = [inv.event for inv in fn.invocations]
        finals = [e for e in events if e["isFinalInvokeForWindow"]]
        assert [f["window"]["start"] for f in finals] == sorted(per_window)
        for final in finals:
            start = final["window"]["start"]
            assert final["Records"] == []  # the final invoke is state-only
            assert final["state"] == {"count": per_window[start]}
            assert not final["isWindowTerminatedEarly"]
            end = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() + 10
            assert final["window"]["end"] == _iso(end)
        # Within a window: the first invocation gets {}, the next ones the state returned.
        expected_state: dict[str, Any] = {}
        current = None
        for inv in fn.invocations:
            event = inv.event
            assert list(event) == [
                "Records",
                "window",
                "state",
                "shardId",
                "eventSourceARN",
                "isFinalInvokeForWindow",
                "isWindowTerminatedEarly",
            ]
            assert event["shardId"] == "shardId-000000000000"
            assert event["eventSourceARN"] == stream.arn
            if event["window"]["start"] != current:
                current = event["window"]["start"]
                expected_state = {}
            assert event["state"] == expected_state
            expected_state = inv.response["state"]
            # One window per batch: every record arrived inside the event's window.
            start = datetime.fromisoformat(current.replace("Z", "+00:00")).timestamp()
            for r in event["Records"]:
                assert start <= r["kinesis"]["approximateArrivalTimestamp"] < start + 10
            assert len(event["Records"]) <= 4
        assert mapping.ledger["delivered"] == sum(per_window.values())
        assert mapping.metrics["Invocations"] == len(fn.invocations)
        assert mapping.metrics["InvokedEventCount"] == sum(per_window.values())


def test_window_alignment_is_to_the_epoch() -> None:
    """Windows are multiples of the length since the Unix epoch, by arrival time (§10.15)."""
    start = 1_767_225_600 + 7_000.3  # 01:56:40.3, not a multiple of 120 s
    with esmsim.Simulation(seed=112, start_time=start) as sim:
        stream, fn, _ = _kinesis_mapping(sim, counting_handler, TumblingWindowInSeconds=120)
        stream.put_record(Data="a", PartitionKey="k")
        sim.run_sync(85)  # 01:58:05.3, in the next window
        stream.put_record(Data="b", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=400)
        windows = [
            (inv.event["window"]["start"], inv.event["window"]["end"]) for inv in fn.invocations
        ]
        assert windows[0] == ("2026-01-01T01:56:00Z", "2026-01-01T01:58:00Z")
        assert windows[-1] == ("2026-01-01T01:58:00Z", "2026-01-01T02:00:00Z")
        finals = [inv for inv in fn.invocations if inv.event["isFinalInvokeForWindow"]]
        assert len(finals) == 2
        # An idle shard closes its window once the end has passed.
        assert finals[0].started_at >= 1_767_225_600 + 7_080
        assert finals[1].started_at >= 1_767_225_600 + 7_200


def test_handler_without_state_fails_the_invocation() -> None:
    """A window invocation that returns no ``state`` object is a failed invocation (§2.5)."""
    with esmsim.Simulation(seed=113) as sim:
        destination = sim.sqs_queue("dlq")
        stream, fn, mapping = _kinesis_mapping(
            sim,
            lambda event, context: {"count": 1},
            TumblingWindowInSeconds=30,
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": destination.arn}},
        )
        stream.put_record(Data="x", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=300)
        batches = [inv for inv in fn.invocations if inv.event["Records"]]
        assert len(batches) == 3  # 1 + MaximumRetryAttempts
        assert all(inv.event["state"] == {} for inv in batches)
        assert mapping.metrics["Errors"] == 0  # the function itself succeeded
        assert mapping.ledger["discarded"] == 1
        (record,) = failure_records(destination)
        assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        # Nothing was invoked successfully in the window: no final invocation.
        assert not any(inv.event["isFinalInvokeForWindow"] for inv in fn.invocations)


@pytest.mark.parametrize(
    "response", [None, {"state": None}, {"state": [1]}, "not json", {"batchItemFailures": []}]
)
def test_responses_without_a_state_object_fail(response: Any) -> None:
    """``None``, a null or non-object ``state``, or no ``state`` key all fail (§2.5)."""
    with esmsim.Simulation(seed=114) as sim:
        stream, fn, mapping = _kinesis_mapping(
            sim, lambda event, context: response, TumblingWindowInSeconds=30, MaximumRetryAttempts=0
        )
        stream.put_record(Data="x", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=300)
        assert len(fn.invocations) == 1
        assert mapping.ledger["discarded"] == 1
        assert mapping.metrics["DroppedEventCount"] == 1


def test_state_over_one_megabyte_ends_the_window_early() -> None:
    """State over 1,048,576 bytes of JSON ends the window early; it goes on with a fresh state."""
    big = "x" * 1_048_600

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = dict(event["state"])
        state["n"] = state.get("n", 0) + len(event["Records"])
        if state["n"] >= 2 and not event["isFinalInvokeForWindow"] and "big" not in state:
            state["big"] = big
        return {"state": state}

    with esmsim.Simulation(seed=115) as sim:
        stream, fn, _ = _kinesis_mapping(sim, handler, TumblingWindowInSeconds=60, BatchSize=1)
        for i in range(5):
            stream.put_record(Data=str(i), PartitionKey="k")
            sim.run_sync(1)
        sim.run_until_idle_sync(max_seconds=300)
        flags = [
            (
                len(inv.event["Records"]),
                inv.event["isFinalInvokeForWindow"],
                inv.event["isWindowTerminatedEarly"],
            )
            for inv in fn.invocations
        ]
        assert flags == [
            (1, False, False),
            (1, False, False),  # returns the oversized state
            (0, True, True),  # ends the window early, carrying that state
            (1, False, False),  # same window, fresh state
            (1, False, False),  # oversized again
            (0, True, True),
            (1, False, False),
            (0, True, False),  # the real end of the window
        ]
        events = [inv.event for inv in fn.invocations]
        assert len({json.dumps(e["window"]) for e in events}) == 1
        assert events[2]["state"]["n"] == 2 and events[2]["state"]["big"] == big
        assert events[3]["state"] == {}
        assert events[7]["state"] == {"n": 1}


def test_final_invocation_failure_blocks_the_shard_until_it_succeeds() -> None:
    """A failed final invocation is retried; the next window waits for it (§2.5)."""
    calls = {"final": 0}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["isFinalInvokeForWindow"]:
            calls["final"] += 1
            if calls["final"] <= 2:
                raise RuntimeError("final failed")
        return counting_handler(event, context)

    with esmsim.Simulation(seed=116) as sim:
        stream, fn, mapping = _kinesis_mapping(sim, handler, TumblingWindowInSeconds=10)
        stream.put_record(Data="a", PartitionKey="k")
        sim.run_sync(12)
        stream.put_record(Data="b", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=300)
        kinds = [
            (
                "final" if inv.event["isFinalInvokeForWindow"] else "batch",
                inv.event["window"]["start"],
                inv.error,
            )
            for inv in fn.invocations
        ]
        w0, w1 = _iso(T0), _iso(T0 + 10)
        assert kinds == [
            ("batch", w0, None),
            ("final", w0, "Unhandled"),
            ("final", w0, "Unhandled"),
            ("final", w0, None),
            ("batch", w1, None),
            ("final", w1, None),
        ]
        assert mapping.metrics["Errors"] == 2
        assert fn.invocations[3].event["state"] == {"count": 1}


def test_final_invocation_gives_up_after_the_retry_limit() -> None:
    """With MaximumRetryAttempts the final invocation is abandoned after N+1 attempts."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["isFinalInvokeForWindow"]:
            raise RuntimeError("never")
        return counting_handler(event, context)

    with esmsim.Simulation(seed=117) as sim:
        stream, fn, mapping = _kinesis_mapping(
            sim, handler, TumblingWindowInSeconds=10, MaximumRetryAttempts=1
        )
        stream.put_record(Data="a", PartitionKey="k")
        sim.run_sync(15)
        stream.put_record(Data="b", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=300)
        finals = [inv for inv in fn.invocations if inv.event["isFinalInvokeForWindow"]]
        assert len(finals) == 4  # two windows, two attempts each
        assert mapping.ledger["delivered"] == 2


def test_partial_batch_response_with_state() -> None:
    """With ReportBatchItemFailures the response may carry batchItemFailures next to state."""
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        state = dict(event["state"])
        for r in event["Records"]:
            data = base64.b64decode(r["kinesis"]["data"]).decode()
            if data == "3" and seen.count("3") == 0:
                seen.append(data)
                return {
                    "state": state,
                    "batchItemFailures": [{"itemIdentifier": r["kinesis"]["sequenceNumber"]}],
                }
            seen.append(data)
            state["sum"] = state.get("sum", 0) + int(data)
        return {"state": state}

    with esmsim.Simulation(seed=118) as sim:
        stream, fn, mapping = _kinesis_mapping(
            sim, handler, TumblingWindowInSeconds=60, FunctionResponseTypes=RBIF, BatchSize=10
        )
        stream.put_records(Records=[{"Data": str(i), "PartitionKey": "k"} for i in range(6)])
        sim.run_until_idle_sync(max_seconds=300)
        final = fn.invocations[-1].event
        assert final["isFinalInvokeForWindow"]
        assert final["state"] == {"sum": 15}
        assert seen == ["0", "1", "2", "3", "3", "4", "5"]
        assert mapping.ledger["delivered"] == 6


def test_dynamodb_tumbling_windows() -> None:
    """DynamoDB Streams get the same window fields (§4.4)."""
    with esmsim.Simulation(seed=119) as sim:
        table = simple_table(sim)
        fn = sim.function("f", counting_handler)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            TumblingWindowInSeconds=5,
        )
        put_items(table, ["a", "b", "c"])
        sim.run_sync(6)
        put_items(table, ["d"])
        sim.run_until_idle_sync(max_seconds=60)
        finals = [inv.event for inv in fn.invocations if inv.event["isFinalInvokeForWindow"]]
        assert [f["state"] for f in finals] == [{"count": 3}, {"count": 1}]
        assert finals[0]["eventSourceARN"] == table.stream_arn
        assert finals[0]["shardId"] == fn.invocations[0].event["shardId"]


def test_parallelization_factor_uses_one_lane_per_shard() -> None:
    """With tumbling windows a shard has one batch in flight whatever the PF (per-shard state)."""
    with esmsim.Simulation(seed=120) as sim:
        stream, fn, _ = _kinesis_mapping(
            sim,
            counting_handler,
            TumblingWindowInSeconds=60,
            ParallelizationFactor=5,
            BatchSize=2,
            duration=0.5,
        )
        stream.put_records(Records=[{"Data": str(i), "PartitionKey": f"k{i}"} for i in range(20)])
        sim.run_until_idle_sync(max_seconds=300)
        assert not overlaps([(inv.started_at, inv.ended_at) for inv in fn.invocations])
        assert fn.invocations[-1].event["state"] == {"count": 20}


def test_a_closed_shard_ends_its_window_and_children_start_fresh() -> None:
    """When the shard ends the window closes; the children start their own (§2.2)."""
    with esmsim.Simulation(seed=121) as sim:
        stream, fn, _ = _kinesis_mapping(sim, counting_handler, TumblingWindowInSeconds=600)
        stream.put_records(Records=[{"Data": str(i), "PartitionKey": f"k{i}"} for i in range(10)])
        sim.run_sync(5)
        stream.update_shard_count(TargetShardCount=2)
        sim.run_sync(5)
        stream.put_records(Records=[{"Data": str(i), "PartitionKey": f"k{i}"} for i in range(10)])
        sim.run_sync(30)
        parent_final = [
            inv.event
            for inv in fn.invocations
            if inv.event["shardId"] == "shardId-000000000000"
            and inv.event["isFinalInvokeForWindow"]
        ]
        assert len(parent_final) == 1  # long before the 10-minute window ends
        assert parent_final[0]["state"] == {"count": 10}
        sim.run_until_idle_sync(max_seconds=1200)
        children = defaultdict(list)
        for inv in fn.invocations:
            if inv.event["shardId"] != "shardId-000000000000":
                children[inv.event["shardId"]].append(inv.event)
        assert sorted(children) == ["shardId-000000000001", "shardId-000000000002"]
        total = 0
        for events in children.values():
            assert events[0]["state"] == {}
            assert events[-1]["isFinalInvokeForWindow"]
            total += events[-1]["state"]["count"]
        assert total == 10


def test_run_until_idle_waits_for_the_final_invocation() -> None:
    """An open window keeps the mapping busy until its final invocation."""
    with esmsim.Simulation(seed=122) as sim:
        stream, fn, _ = _kinesis_mapping(sim, counting_handler, TumblingWindowInSeconds=900)
        stream.put_record(Data="x", PartitionKey="k")
        elapsed = sim.run_until_idle_sync(max_seconds=2000)
        assert 900 <= elapsed < 902
        assert fn.invocations[-1].event["isFinalInvokeForWindow"]
