"""The Simulation section's producers generate records into their targets."""

from __future__ import annotations

import pytest

from esmsim import Simulation
from esmsim.config import ConfigError, TableWriter, load_config

from .conftest import WriteConfig

TEXT = """
Resources:
  Stream: {Type: AWS::Kinesis::Stream, Properties: {ShardCount: 2}}
  Reader: {Type: AWS::Lambda::Function, Properties: {Handler: app.handler}}
  ReadStream:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Reader
      EventSourceArn: !GetAtt Stream.Arn
      StartingPosition: TRIM_HORIZON
  Queue: {Type: AWS::SQS::Queue}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
Simulation:
  Producers:
    - Target: !GetAtt Stream.Arn
      Rate: {Type: constant, PerSecond: 10}
      Keys: {Count: 4, Distribution: round_robin}
      Body: '{{"n": {n}, "poison": {poison}}}'
      PoisonFraction: 0.5
      Stop: 10s
    - Name: Scripted
      Target: !Ref Queue
      Records:
        - {At: 1s, Body: first}
        - {At: 2500ms, Body: second}
    - Target: Table
      Records:
        - {At: 1s, Item: {pk: {S: a}, v: {N: "1"}}}
        - {At: 2s, Item: {pk: {S: a}, v: {N: "2"}}}
        - {At: 3s, Delete: {pk: {S: a}}}
"""


def test_stream_producer_generates_records(write_config: WriteConfig) -> None:
    """A rate producer on a stream writes Rate x time records, keyed and templated."""
    cfg = load_config(write_config(TEXT))
    with Simulation(seed=1) as sim:
        built = cfg.build(sim)
        sim.run_sync(20)
        assert built.producers["Stream"].count == 100
        events = [inv.event for inv in built.functions["Reader"].invocations]
        keys = {r["kinesis"]["partitionKey"] for e in events for r in e["Records"]}
        assert keys == {"key-0", "key-1", "key-2", "key-3"}
        assert built.mappings["ReadStream"].ledger["delivered"] == 100


def test_scripted_queue_records_arrive_at_their_times(write_config: WriteConfig) -> None:
    """Scripted Records (At as a duration) land in the queue at their offsets."""
    cfg = load_config(write_config(TEXT))
    with Simulation(seed=1) as sim:
        built = cfg.build(sim)
        start_ms = int(sim.now * 1000)
        sim.run_sync(5)
        messages = built.queues["Queue"].messages()
        sent = sorted(
            (int(m["Attributes"]["SentTimestamp"]) - start_ms, m["Body"]) for m in messages
        )
        assert sent == [(1000, "first"), (2500, "second")]


def test_table_target_writes_items_with_a_task(write_config: WriteConfig) -> None:
    """Scripted table writes give INSERT, MODIFY and REMOVE stream records."""
    cfg = load_config(write_config(TEXT))
    with Simulation(seed=1) as sim:
        built = cfg.build(sim)
        writer = built.producers["Table"]
        assert isinstance(writer, TableWriter)
        sim.run_until_idle_sync(max_seconds=10)
        assert writer.count == 3
        names = [r["eventName"] for r in built.tables["Table"].stream_records()]
        assert names == ["INSERT", "MODIFY", "REMOVE"]


def test_a_table_target_rejects_a_rate(write_config: WriteConfig) -> None:
    """A DynamoDB table producer takes scripted Records only."""
    text = TEXT + "    - {Target: Table, Rate: 5}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    assert info.value.problems[0].startswith("Simulation.Producers[3].Rate: a DynamoDB table")


def test_a_bad_producer_value_is_reported_in_pascal_case(write_config: WriteConfig) -> None:
    """Producer value errors carry the YAML path (Rate.PerSecond), not Python's."""
    text = TEXT.replace("PerSecond: 10", "PerSecond: -1")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    assert info.value.problems[0].startswith("Simulation.Producers[0].Rate.PerSecond:")


def test_a_body_template_with_bare_braces_is_an_error(write_config: WriteConfig) -> None:
    """JSON braces in a Body template must be doubled; a bare one is reported."""
    text = TEXT.replace("""'{{"n": {n}, "poison": {poison}}}'""", """'{"n": {n}}'""")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    assert info.value.problems[0].startswith("Simulation.Producers[0].Body:")


def test_function_duration_maps_to_the_duration_option(write_config: WriteConfig) -> None:
    """Simulation.Functions.X.Duration becomes sim.function(duration=...)."""
    text = """
    Resources:
      Fn: {Type: AWS::Lambda::Function, Properties: {Handler: app.handler}}
    Simulation:
      Functions:
        Fn: {Duration: {Distribution: lognormal, P50: 100ms, P99: 1s}}
    """
    cfg = load_config(write_config(text))
    with Simulation(seed=1) as sim:
        fn = cfg.build(sim).functions["Fn"]
        assert fn.duration.describe() == {"distribution": "lognormal", "p50": 0.1, "p99": 1.0}
