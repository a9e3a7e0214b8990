"""AWS properties esmsim does not model are accepted with one warning each."""

from __future__ import annotations

from typer.testing import CliRunner

from esmsim.cli import app
from esmsim.config import load_config

from .conftest import WriteConfig

TEXT = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption: {EncryptionType: KMS, KeyId: alias/aws/kinesis}
      Tags: [{Key: team, Value: orders}]
      ShardCont: 3
  Role:
    Type: AWS::IAM::Role
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Role: !GetAtt Role.Arn
      Policies: [AWSLambdaBasicExecutionRole]
      Events:
        Http: {Type: Api, Properties: {Path: /, Method: get}}
"""


def test_each_unmodelled_property_warns_once(write_config: WriteConfig) -> None:
    """Every unmodelled AWS property (or resource, or event) gives exactly one warning."""
    cfg = load_config(write_config(TEXT))
    assert sorted(cfg.warnings) == sorted(
        [
            "Resources.Stream.Properties.StreamEncryption: not modelled by esmsim; ignored",
            "Resources.Stream.Properties.Tags: not modelled by esmsim; ignored",
            "Resources.Stream.Properties.ShardCont: not modelled by esmsim; ignored "
            "(did you mean ShardCount?)",
            "Resources.Role: AWS::IAM::Role not modelled by esmsim; ignored",
            "Resources.Fn.Properties.Events.Http: Api event not modelled by esmsim; ignored",
            "Resources.Fn.Properties.Policies: not modelled by esmsim; ignored",
        ]
    )


def test_validate_prints_warnings_on_stderr_and_exits_0(write_config: WriteConfig) -> None:
    """esmsim validate exits 0 and prints each warning as ``warning: <path>: ...``."""
    result = CliRunner().invoke(app, ["validate", str(write_config(TEXT))])
    assert result.exit_code == 0, result.output
    assert (
        "warning: Resources.Stream.Properties.Tags: not modelled by esmsim; ignored"
        in result.stderr
    )
    assert result.stdout.endswith(": ok\n")


def test_an_unmodelled_role_still_gives_its_arn(write_config: WriteConfig) -> None:
    """!GetAtt of an AWS::IAM::Role gives a role ARN, so a pasted template loads."""
    from esmsim import Simulation

    cfg = load_config(write_config(TEXT))
    with Simulation(seed=1) as sim:
        fn = cfg.build(sim).functions["Fn"]
        assert fn.role == "arn:aws:iam::123456789012:role/Role"
