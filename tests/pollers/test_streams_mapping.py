"""Stream mapping lifecycle and validation: create, configuration, update, disable, delete (§1)."""

from __future__ import annotations

from typing import Any

import pytest

import esmsim

from .streams_support import seqs, sizes


def _ok(event: dict[str, Any], context: Any) -> None:
    return None


def _setup(sim: esmsim.Simulation) -> Any:
    stream = sim.kinesis_stream("s")
    sim.function("f", _ok)
    return stream


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (
            {"BatchSize": 0},
            "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"BatchSize": 10001},
            "Value '10001' at 'batchSize' failed to satisfy constraint: "
            "Member must have value less than or equal to 10000",
        ),
        (
            {"ParallelizationFactor": 11},
            "Value '11' at 'parallelizationFactor' failed to satisfy constraint: "
            "Member must have value less than or equal to 10",
        ),
        (
            {"ParallelizationFactor": 0},
            "Value '0' at 'parallelizationFactor' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"MaximumRetryAttempts": -2},
            "Value '-2' at 'maximumRetryAttempts' failed to satisfy constraint: "
            "Member must have value greater than or equal to -1",
        ),
        (
            {"MaximumRetryAttempts": 10001},
            "Value '10001' at 'maximumRetryAttempts' failed to satisfy constraint: "
            "Member must have value less than or equal to 10000",
        ),
        ({"MaximumRecordAgeInSeconds": 30}, "MaximumRecordAgeInSeconds"),
        (
            {"MaximumRecordAgeInSeconds": 604801},
            "Value '604801' at 'maximumRecordAgeInSeconds' failed to satisfy constraint: "
            "Member must have value less than or equal to 604800",
        ),
        (
            {"TumblingWindowInSeconds": 901},
            "Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: "
            "Member must have value less than or equal to 900",
        ),
        (
            {"MaximumBatchingWindowInSeconds": 301},
            "Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: "
            "Member must have value less than or equal to 300",
        ),
    ],
    ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()) if isinstance(v, dict) else "",
)
def test_out_of_range_properties_are_rejected(properties: dict[str, Any], message: str) -> None:
    """Out-of-range properties raise InvalidParameterValueException with AWS's text (§1)."""
    with esmsim.Simulation(seed=51) as sim:
        stream = _setup(sim)
        with pytest.raises(esmsim.InvalidParameterValueException) as info:
            sim.event_source_mapping(
                FunctionName="f",
                EventSourceArn=stream.arn,
                StartingPosition="LATEST",
                **properties,
            )
        assert message in str(info.value)
        assert sim.event_source_mappings()["EventSourceMappings"] == []


@pytest.mark.parametrize("age", [-1, 60, 604800])
def test_maximum_record_age_bounds_are_accepted(age: int) -> None:
    """MaximumRecordAgeInSeconds accepts -1 and 60-604800 (§1)."""
    with esmsim.Simulation(seed=52) as sim:
        stream = _setup(sim)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            MaximumRecordAgeInSeconds=age,
        )
        assert m.configuration()["MaximumRecordAgeInSeconds"] == age


def test_starting_position_is_required_for_streams() -> None:
    """A stream mapping needs StartingPosition (§1)."""
    with esmsim.Simulation(seed=53) as sim:
        stream = _setup(sim)
        with pytest.raises(esmsim.InvalidParameterValueException) as info:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=stream.arn)
        assert "startingPosition" in str(info.value)
        assert "Member must not be null" in str(info.value)


@pytest.mark.parametrize(
    "properties",
    [
        {"EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/other"},
        {"StartingPosition": "TRIM_HORIZON"},
        {"StartingPositionTimestamp": 1_767_225_600},
    ],
    ids=["EventSourceArn", "StartingPosition", "StartingPositionTimestamp"],
)
def test_update_rejects_create_only_properties(properties: dict[str, Any]) -> None:
    """UpdateEventSourceMapping cannot change create-only properties (§1)."""
    with esmsim.Simulation(seed=54) as sim:
        stream = _setup(sim)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        with pytest.raises(esmsim.InvalidParameterValueException) as info:
            m.update(**properties)
        assert next(iter(properties)) in str(info.value)
        assert m.configuration()["StartingPosition"] == "LATEST"


def test_duplicate_mapping_is_a_conflict() -> None:
    """A second mapping of the same stream and function raises ResourceConflictException (§1)."""
    with esmsim.Simulation(seed=55) as sim:
        stream = _setup(sim)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        with pytest.raises(esmsim.ResourceConflictException) as info:
            sim.event_source_mapping(
                FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
            )
        assert (
            f'The event source arn (" {stream.arn} ") and function (" f ") provided mapping '
            f"already exists. Please update or delete the existing mapping with UUID {m.uuid}"
        ) in str(info.value)


def test_unknown_stream_is_rejected() -> None:
    """A mapping of a stream that does not exist fails with "Stream not found: <arn>" (§1)."""
    with esmsim.Simulation(seed=56) as sim:
        sim.function("f", _ok)
        arn = "arn:aws:kinesis:us-east-1:123456789012:stream/nope"
        with pytest.raises(esmsim.InvalidParameterValueException) as info:
            sim.event_source_mapping(
                FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST"
            )
        assert f"Stream not found: {arn}" in str(info.value)


def test_configuration_fills_in_defaults() -> None:
    """configuration() is the EventSourceMappingConfiguration with AWS's defaults (§1)."""
    with esmsim.Simulation(seed=57) as sim:
        stream = _setup(sim)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        config = m.configuration()
        expected = {
            "UUID": m.uuid,
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 0,
            "ParallelizationFactor": 1,
            "MaximumRetryAttempts": -1,
            "MaximumRecordAgeInSeconds": -1,
            "BisectBatchOnFunctionError": False,
            "TumblingWindowInSeconds": 0,
            "DestinationConfig": {"OnFailure": {}},
            "StartingPosition": "TRIM_HORIZON",
            "FunctionResponseTypes": [],
            "EventSourceArn": stream.arn,
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "State": "Creating",
            "StateTransitionReason": "User action",
        }
        assert {k: config[k] for k in expected} == expected
        assert config["EventSourceMappingArn"].endswith(f":event-source-mapping:{m.uuid}")
        sim.run_sync(1)
        assert m.configuration()["State"] == "Enabled"


def test_state_follows_aws() -> None:
    """State: Creating, then Enabled after a run; Disabled when created disabled (§1)."""
    with esmsim.Simulation(seed=58) as sim:
        stream = _setup(sim)
        sim.function("g", _ok)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        off = sim.event_source_mapping(
            FunctionName="g", EventSourceArn=stream.arn, StartingPosition="LATEST", Enabled=False
        )
        assert (m.state, off.state) == ("Creating", "Disabled")
        sim.run_sync(0.1)
        assert (m.state, off.state) == ("Enabled", "Disabled")
        m.update(BatchSize=5)
        assert m.state == "Updating"
        sim.run_sync(0.1)
        assert m.state == "Enabled"


def test_disable_pauses_and_enable_resumes_from_the_checkpoint() -> None:
    """Enabled=False pauses; re-enabling resumes where it stopped, nothing lost or repeated (§1)."""
    with esmsim.Simulation(seed=59) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("f", _ok, duration=0.5)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="LATEST",
            BatchSize=2,
        )
        sim.run_sync(1)
        put = [stream.put_record(Data=str(i), PartitionKey=f"k{i % 5}") for i in range(20)]
        sim.run_sync(1.2)  # a few batches in
        done_before = len(fn.invocations)
        assert done_before > 0
        m.update(Enabled=False)
        assert m.state == "Disabling"
        sim.run_sync(0.001)
        assert m.state == "Disabled"
        sim.run_sync(0.6)  # let any in-flight batch finish
        paused_at = len(fn.invocations)
        put += [stream.put_record(Data=f"late{i}", PartitionKey="k1") for i in range(3)]
        sim.run_sync(3600)
        assert len(fn.invocations) == paused_at
        assert m.state == "Disabled"
        m.update(Enabled=True)
        assert m.state == "Enabling"
        sim.run_until_idle_sync(max_seconds=600)
        assert m.state == "Enabled"
        delivered = sorted(s for inv in fn.invocations for s in seqs(inv))
        assert delivered == sorted(p["SequenceNumber"] for p in put)
        assert m.ledger["delivered"] == 23
        assert m.ledger["pending"] == 0


def test_no_invocation_starts_while_disabled() -> None:
    """A disabled mapping starts no invocation, retries included (§1)."""
    with esmsim.Simulation(seed=60) as sim:
        stream = sim.kinesis_stream("s")

        def fails(event: dict[str, Any], context: Any) -> None:
            raise ValueError("boom")

        fn = sim.function("f", fails)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(1)
        stream.put_record(Data="x", PartitionKey="k")
        sim.run_sync(10)
        m.update(Enabled=False)
        disabled_at = sim.now
        sim.run_sync(600)
        assert all(inv.started_at <= disabled_at for inv in fn.invocations)
        m.update(Enabled=True)
        sim.run_sync(120)
        assert any(inv.started_at > disabled_at + 600 for inv in fn.invocations)


def test_update_batch_size_applies_to_the_next_batch() -> None:
    """update(BatchSize=...) takes effect from the next batch (§1)."""
    with esmsim.Simulation(seed=61) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok, duration=1)
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=2,
        )
        for i in range(12):
            stream.put_record(Data=str(i), PartitionKey="k")
        sim.run_sync(0.5)  # the first batch of 2 is in flight
        config = m.update(BatchSize=5)
        assert config["BatchSize"] == 5
        sim.run_until_idle_sync(max_seconds=600)
        assert sizes(fn) == [2, 5, 5]


def test_update_function_name_keeps_the_position() -> None:
    """Re-pointing a mapping at another function keeps its position (§1)."""
    with esmsim.Simulation(seed=62) as sim:
        stream = sim.kinesis_stream("s")
        f = sim.function("f", _ok)
        g = sim.function("g", _ok)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(1)
        first = stream.put_record(Data="1", PartitionKey="k")
        sim.run_sync(5)
        m.update(FunctionName="g")
        second = stream.put_record(Data="2", PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=60)
        assert [seqs(inv) for inv in f.invocations] == [[first["SequenceNumber"]]]
        assert [seqs(inv) for inv in g.invocations] == [[second["SequenceNumber"]]]
        assert m.configuration()["FunctionArn"] == g.arn


def test_delete_stops_polling() -> None:
    """delete() returns the configuration in state Deleting and stops invocations (§1)."""
    with esmsim.Simulation(seed=63) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", _ok)
        m = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(1)
        stream.put_record(Data="1", PartitionKey="k")
        sim.run_sync(2)
        config = m.delete()
        assert config["State"] == "Deleting"
        stream.put_record(Data="2", PartitionKey="k")
        sim.run_sync(60)
        assert len(fn.invocations) == 1
        assert sim.event_source_mappings()["EventSourceMappings"] == []
        assert sim.run_until_idle_sync(max_seconds=60) == 0
        # The stream and function are free for a new mapping.
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
