"""SAM templates: Events of every supported type become event source mappings."""

from __future__ import annotations

from esmsim import Simulation
from esmsim.config import load_config

from .conftest import WriteConfig

SAM = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 20
    Environment: {Variables: {STAGE: test}}
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      CodeUri: src/
      Environment: {Variables: {OWN: "1"}}
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt JobsQueue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
        Orders:
          Type: Kinesis
          Properties:
            Stream: !GetAtt OrderStream.Arn
            StartingPosition: TRIM_HORIZON
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
            DestinationConfig:
              OnFailure:
                Type: SQS
                Destination: !GetAtt Failures.Arn
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName": ["INSERT"]}'
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 120}
  Failures:
    Type: AWS::SQS::Queue
  OrderStream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 2}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
"""


def test_sam_events_of_all_three_types_build_mappings(write_config: WriteConfig) -> None:
    """SQS, Kinesis and DynamoDB events become mappings named function id + event id."""
    cfg = load_config(write_config(SAM))
    with Simulation(seed=1) as sim:
        built = cfg.build(sim)
        assert sorted(built.mappings) == [
            "OrdersFunctionChanges",
            "OrdersFunctionJobs",
            "OrdersFunctionOrders",
        ]
        orders = built.mappings["OrdersFunctionOrders"].configuration()
        assert orders["EventSourceArn"] == built.streams["OrderStream"].arn
        assert orders["DestinationConfig"] == {
            "OnFailure": {"Destination": built.queues["Failures"].arn}
        }
        changes = built.mappings["OrdersFunctionChanges"].configuration()
        assert changes["EventSourceArn"] == built.tables["Table"].stream_arn


def test_sam_globals_merge_into_functions(write_config: WriteConfig) -> None:
    """Globals.Function applies to each function; Environment variables merge."""
    cfg = load_config(write_config(SAM))
    with Simulation(seed=1) as sim:
        fn = cfg.build(sim).functions["OrdersFunction"]
        assert fn.timeout == 20
        assert fn.environment == {"STAGE": "test", "OWN": "1"}


def test_sam_destination_type_is_tolerated_silently(write_config: WriteConfig) -> None:
    """SAM's DestinationConfig.OnFailure.Type loads with no warning."""
    cfg = load_config(write_config(SAM))
    assert not [w for w in cfg.warnings if "OnFailure.Type" in w]


def test_sam_event_with_the_wrong_source_key_is_an_error(write_config: WriteConfig) -> None:
    """An SQS event given Stream instead of Queue is reported at its path."""
    from esmsim.config import ConfigError

    text = SAM.replace("Queue: !GetAtt JobsQueue.Arn", "Stream: !GetAtt JobsQueue.Arn")
    try:
        load_config(write_config(text))
    except ConfigError as exc:
        assert any(
            p.startswith("Resources.OrdersFunction.Properties.Events.Jobs.Properties.Stream:")
            for p in exc.problems
        )
    else:
        raise AssertionError("expected a ConfigError")
