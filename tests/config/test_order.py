"""Resources are created in dependency order; cycles are errors with their path."""

from __future__ import annotations

import pytest

from esmsim import Simulation
from esmsim.config import ConfigError, load_config

from .conftest import WriteConfig

ORDERED = """
Resources:
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Queue.Arn
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.handler}
    DependsOn: Dlq
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 2}
  Dlq:
    Type: AWS::SQS::Queue
"""


def test_resources_are_created_after_what_they_refer_to(write_config: WriteConfig) -> None:
    """Ref, GetAtt and DependsOn order creation regardless of document order."""
    cfg = load_config(write_config(ORDERED))
    with Simulation(seed=1) as sim:
        cfg.build(sim)
        order = [r.name for r in sim.resources()]
    assert order.index("Dlq") < order.index("Queue")
    assert order.index("Dlq") < order.index("Fn")
    assert cfg.template is not None
    assert cfg.template.order[-1].logical_id == "Mapping"


def test_a_cycle_is_reported_with_its_path(write_config: WriteConfig) -> None:
    """A -> B -> A is an error naming the cycle."""
    text = """
    Resources:
      A:
        Type: AWS::SQS::Queue
        Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 1}}
      B:
        Type: AWS::SQS::Queue
        DependsOn: A
    """
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    assert "Resources.A: circular dependency: A -> B -> A" in info.value.problems
