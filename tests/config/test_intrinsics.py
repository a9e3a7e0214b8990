"""Intrinsic functions resolve locally, like CloudFormation resolves them."""

from __future__ import annotations

from typing import Any

import pytest

from esmsim import Simulation
from esmsim.config import load_config

from .conftest import WriteConfig

RESOURCES = """
Parameters:
  Stage: {Type: String, Default: prod}
  Zones: {Type: CommaDelimitedList, Default: "a,b,c"}
Mappings:
  Sizes: {prod: {Memory: 512}}
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Stream:
    Type: AWS::Kinesis::Stream
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      StreamSpecification: {StreamViewType: KEYS_ONLY}
  Topic:
    Type: AWS::SNS::Topic
  Bucket:
    Type: AWS::S3::Bucket
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Named
      EventSourceArn: !GetAtt Queue.Arn
  Named:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      FunctionName: !Sub "probe-${Stage}"
  Probe:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Environment:
        Variables:
          VALUE: {value}
"""


def _resolve(write_config: WriteConfig, expression: str) -> Any:
    """Build a config whose function's VALUE variable is ``expression``; return it and the run."""
    cfg = load_config(write_config(RESOURCES.replace("{value}", expression)))
    sim = Simulation(seed=1)
    with sim:
        built = cfg.build(sim)
        return built.functions["Probe"].environment["VALUE"], built


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("!Ref Queue", "https://sqs.us-east-1.amazonaws.com/123456789012/Queue"),
        ("!Ref Stream", "Stream"),
        ("!Ref Table", "Table"),
        ("!Ref Topic", "arn:aws:sns:us-east-1:123456789012:Topic"),
        ("!Ref Bucket", "bucket"),
        ("!Ref Named", "probe-prod"),
        ("!Ref Stage", "prod"),
        ("!Ref AWS::Region", "us-east-1"),
        ("!GetAtt Queue.Arn", "arn:aws:sqs:us-east-1:123456789012:Queue"),
        ("!GetAtt Queue.QueueName", "Queue"),
        ("!GetAtt Queue.QueueUrl", "https://sqs.us-east-1.amazonaws.com/123456789012/Queue"),
        ("!GetAtt Stream.Arn", "arn:aws:kinesis:us-east-1:123456789012:stream/Stream"),
        (
            "{'Fn::GetAtt': [Named, Arn]}",
            "arn:aws:lambda:us-east-1:123456789012:function:probe-prod",
        ),
        ("{'Fn::GetAtt': Topic.TopicName}", "Topic"),
        ("{Ref: Bucket}", "bucket"),
        ('!Sub "${AWS::Partition}:${AWS::AccountId}:${Stage}"', "aws:123456789012:prod"),
        ('!Sub "${Queue.QueueName}/${Stream}"', "Queue/Stream"),
        ("!Sub ['${X}-${Stage}', {X: !Ref Stream}]", "Stream-prod"),
        ('!Sub "${!Literal}"', "${Literal}"),
        ("!Join ['-', [a, !Ref Stage, c]]", "a-prod-c"),
        ("!Select [1, !Ref Zones]", "b"),
        ("!Select [2, !Split [',', 'x,y,z']]", "z"),
        ("!Join ['', !Split ['/', 'a/b']]", "ab"),
        ("!Base64 hi", "aGk="),
    ],
)
def test_intrinsic_resolves(write_config: WriteConfig, expression: str, expected: str) -> None:
    """Each intrinsic (short and long form) gives CloudFormation's value."""
    value, _ = _resolve(write_config, expression)
    assert value == expected


def test_getatt_stream_arn_is_the_real_stream_arn(write_config: WriteConfig) -> None:
    """!GetAtt Table.StreamArn is the ARN of the stream the simulation made."""
    value, built = _resolve(write_config, "!GetAtt Table.StreamArn")
    assert value == built.tables["Table"].stream_arn


def test_ref_of_a_mapping_is_its_uuid(write_config: WriteConfig) -> None:
    """!Ref of an event source mapping gives its UUID (in a resource created after it)."""
    text = RESOURCES.replace("{value}", "x") + (
        "  After:\n    Type: AWS::SQS::Queue\n"
        "    Properties: {Tags: [{Key: esm, Value: !Ref Mapping}]}\n"
    )
    cfg = load_config(write_config(text))
    with Simulation(seed=1) as sim:
        built = cfg.build(sim)
        tags = built.resolved["After"]["Properties"]["Tags"]
        assert tags == [{"Key": "esm", "Value": built.mappings["Mapping"].uuid}]


def test_fn_find_in_map_and_parameter_defaults(write_config: WriteConfig) -> None:
    """Fn::FindInMap and Ref to a parameter's Default feed properties."""
    _, built = _resolve(write_config, "x")
    assert built.functions["Probe"].memory_size == 512
