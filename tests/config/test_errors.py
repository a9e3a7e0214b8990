"""Every kind of config problem is reported, all at once, each with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from esmsim import Simulation
from esmsim.cli import app
from esmsim.config import ConfigError, load_config

from .conftest import WriteConfig

BROKEN = """
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 0}
  Typed:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: soon}
  Dangling:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Nowhere.Arn, maxReceiveCount: 2}
  BadHandler:
    Type: AWS::Lambda::Function
    Properties: {Handler: nodots}
  NoCode:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.handler, Code: missing/}
  NoModule:
    Type: AWS::Lambda::Function
    Properties: {Handler: absent.handler}
  A:
    Type: AWS::SQS::Queue
    DependsOn: B
  B:
    Type: AWS::SQS::Queue
    DependsOn: A
  Slow:
    Type: AWS::Lambda::Function
    Properties: {Handler: app.handler, Timeout: 60}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 30}
  JobsMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Slow
      EventSourceArn: !GetAtt Jobs.Arn
Simulation:
  Seed: 1
  Colour: red
"""

EXPECTED = [
    "Resources.Orders.Properties.ShardCount: must be >= 1, got 0",
    "Resources.Typed.Properties.VisibilityTimeout: must be an integer, got 'soon'",
    "Resources.Dangling.Properties.RedrivePolicy.deadLetterTargetArn: Nowhere is not a resource",
    "Resources.BadHandler.Properties.Handler: Runtime.MalformedHandlerName",
    "Resources.NoCode.Properties.Code: the code folder",
    "Resources.NoModule.Properties.Handler: Runtime.ImportModuleError",
    "Resources.A: circular dependency: A -> B -> A",
    "Simulation.Colour: unknown key",
]
BUILD_TIME = "Resources.JobsMapping.Properties: Queue visibility timeout: 30 seconds is less than"


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


@pytest.mark.parametrize("expected", EXPECTED)
def test_each_static_problem_is_reported_with_its_path(
    write_config: WriteConfig, expected: str
) -> None:
    """load_config reports this problem, starting with its path."""
    problems = _problems(write_config(BROKEN))
    assert any(p.startswith(expected) for p in problems), problems


def test_every_static_problem_is_reported_in_one_pass(write_config: WriteConfig) -> None:
    """One load reports all the problems, not just the first."""
    problems = _problems(write_config(BROKEN))
    assert all(any(p.startswith(e) for p in problems) for e in EXPECTED)


def test_an_aws_error_while_building_names_the_resource(write_config: WriteConfig) -> None:
    """An AWS error raised by sim.event_source_mapping maps to the mapping's path."""
    text = """
    Resources:
      Slow:
        Type: AWS::Lambda::Function
        Properties: {Handler: app.handler, Timeout: 60}
      Jobs:
        Type: AWS::SQS::Queue
      JobsMapping:
        Type: AWS::Lambda::EventSourceMapping
        Properties:
          FunctionName: !Ref Slow
          EventSourceArn: !GetAtt Jobs.Arn
    """
    cfg = load_config(write_config(text))
    with Simulation(seed=1) as sim, pytest.raises(ConfigError) as info:
        cfg.build(sim)
    assert info.value.problems[0].startswith(BUILD_TIME)


def test_a_static_aws_rule_maps_to_the_mapping_path(write_config: WriteConfig) -> None:
    """Lambda's own rules (SQS BatchSize > 10 needs a window) are found by load_config."""
    text = """
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties: {Handler: app.handler}
      Jobs:
        Type: AWS::SQS::Queue
      M:
        Type: AWS::Lambda::EventSourceMapping
        Properties: {FunctionName: !Ref Fn, EventSourceArn: !GetAtt Jobs.Arn, BatchSize: 50}
    """
    problems = _problems(write_config(text))
    assert problems == [
        "Resources.M.Properties: Maximum batch window in seconds must be greater than 0 if "
        "maximum batch size is greater than 10 (InvalidParameterValueException)"
    ]


def test_a_missing_handler_function_is_found_when_building(write_config: WriteConfig) -> None:
    """A handler module without the named function fails the build at Handler's resource."""
    text = """
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties: {Handler: app.nothing_here}
    """
    cfg = load_config(write_config(text))
    with Simulation(seed=1) as sim, pytest.raises(ConfigError) as info:
        cfg.build(sim)
    assert info.value.problems[0].startswith("Resources.Fn.Properties: Runtime.HandlerNotFound")


def test_unknown_builtin_handler_is_an_error(write_config: WriteConfig) -> None:
    """esmsim.handlers.builtin.<name> must name a built-in handler."""
    text = """
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties: {Handler: esmsim.handlers.builtin.explode}
    """
    problems = _problems(write_config(text))
    assert problems[0].startswith("Resources.Fn.Properties.Handler: Runtime.HandlerNotFound")


def test_a_misspelt_resource_type_is_an_error(write_config: WriteConfig) -> None:
    """A type close to a modelled one is an error with a suggestion."""
    text = "Resources:\n  S:\n    Type: AWS::Kinesis::Strem\n"
    problems = _problems(write_config(text))
    assert problems == [
        "Resources.S.Type: unknown type AWS::Kinesis::Strem (did you mean AWS::Kinesis::Stream?)"
    ]


def test_unknown_simulation_producer_key_is_an_error(write_config: WriteConfig) -> None:
    """Simulator keys are checked strictly: a misspelt producer key is an error."""
    text = """
    Resources:
      Q: {Type: AWS::SQS::Queue}
    Simulation:
      Producers:
        - {Target: Q, Rate: 1, PoisonFracton: 0.1}
    """
    problems = _problems(write_config(text))
    assert problems[0].startswith("Simulation.Producers[0].PoisonFracton: unknown key")


def test_validate_lists_every_problem_and_exits_2(write_config: WriteConfig) -> None:
    """esmsim validate prints the static and the build-time problems together, exit 2."""
    result = CliRunner().invoke(app, ["validate", str(write_config(BROKEN))])
    assert result.exit_code == 2
    for expected in [*EXPECTED, BUILD_TIME]:
        assert f"error: {expected}" in result.output, expected
