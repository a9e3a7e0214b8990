"""``esmsim events`` prints events that Powertools' parser models accept."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamModel,
    KinesisDataStreamModel,
    SqsModel,
)
from pydantic import BaseModel
from typer.testing import CliRunner

from esmsim.cli import app


@pytest.mark.parametrize(
    ("source", "model"),
    [("sqs", SqsModel), ("kinesis", KinesisDataStreamModel), ("dynamodb", DynamoDBStreamModel)],
)
def test_events_validate_with_powertools(source: str, model: type[BaseModel]) -> None:
    """The sample event for each source parses with its Powertools model, 3 records."""
    result = CliRunner().invoke(app, ["events", source, "--count", "3"])
    assert result.exit_code == 0, result.output
    parsed = model.model_validate(json.loads(result.stdout))
    assert len(parsed.Records) == 3  # type: ignore[attr-defined]


def test_events_body_and_region_options() -> None:
    """--body sets the SQS body and --region the Region in ARNs and records."""
    result = CliRunner().invoke(app, ["events", "sqs", "--body", "hello", "--region", "eu-west-1"])
    record = json.loads(result.stdout)["Records"][0]
    assert record["body"] == "hello"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"].startswith("arn:aws:sqs:eu-west-1:")


def test_events_count_out_of_range_exits_2() -> None:
    """--count outside 1..10 is invalid input."""
    result = CliRunner().invoke(app, ["events", "kinesis", "--count", "0"])
    assert result.exit_code == 2
