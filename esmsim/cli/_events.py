"""``esmsim events``: print a sample Lambda event, like ``sam local generate-event``.

The event is not a template: esmsim creates the source in a short simulation,
writes the records, and prints the event its own poller hands to a function on
the first invocation, so it has exactly the shape (ids, timestamps, ARNs, md5s)
a handler gets under esmsim, which is the shape AWS sends.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ..simulation import Simulation
from ._app import app, configure_logs, invalid

__all__ = ("events_app",)

events_app = typer.Typer(
    name="events",
    help="Print a sample event for a source (sqs, kinesis, dynamodb), as a function gets it.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")

CountOption = Annotated[int, typer.Option("--count", help="Records in the event (1-10).")]
RegionOption = Annotated[str, typer.Option("--region", help="AWS Region in ARNs and records.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for ids and sequence numbers.")]


def _check(count: int) -> None:
    if not 1 <= count <= 10:
        invalid([f"--count: expected 1 to 10 records, got {count}"])


def _first_event(sim: Simulation, source_arn: str, **mapping: Any) -> Any:
    """The event of the first invocation of a function mapped to ``source_arn``."""
    function = sim.function("sample-consumer", _capture)
    sim.event_source_mapping(FunctionName=function.name, EventSourceArn=source_arn, **mapping)
    sim.run_until_idle_sync(max_seconds=600)
    if not function.invocations:  # pragma: no cover - a poller bug, not user input
        raise RuntimeError("the sample simulation produced no invocation")
    return function.invocations[0].event


def _capture(event: Any, context: Any) -> None:
    return None


def _print(event: Any) -> None:
    typer.echo(json.dumps(event, indent=2))


@events_app.command("sqs")
def sqs(
    count: CountOption = 1,
    body: Annotated[str, typer.Option("--body", help="Message body ({n}: record number).")] = (
        '{{"orderId": "order-{n}", "amount": 42}}'
    ),
    region: RegionOption = "us-east-1",
    seed: SeedOption = 0,
) -> None:
    """An SQS event (validates with Powertools' SqsModel)."""
    _check(count)
    configure_logs(None, "error")
    with Simulation(seed=seed, region=region) as sim:
        queue = sim.sqs_queue("sample-queue")
        for n in range(count):
            queue.send_message(MessageBody=_render(body, n))
        batching = {"MaximumBatchingWindowInSeconds": 1} if count > 1 else {}
        _print(_first_event(sim, queue.arn, BatchSize=count, **batching))


@events_app.command("kinesis")
def kinesis(
    count: CountOption = 1,
    data: Annotated[str, typer.Option("--data", help="Record data ({n}: record number).")] = (
        '{{"orderId": "order-{n}", "amount": 42}}'
    ),
    region: RegionOption = "us-east-1",
    seed: SeedOption = 0,
) -> None:
    """A Kinesis event (validates with Powertools' KinesisDataStreamModel)."""
    _check(count)
    configure_logs(None, "error")
    with Simulation(seed=seed, region=region) as sim:
        stream = sim.kinesis_stream("sample-stream")
        for n in range(count):
            stream.put_record(Data=_render(data, n), PartitionKey=f"key-{n}")
        _print(
            _first_event(
                sim,
                stream.arn,
                StartingPosition="TRIM_HORIZON",
                BatchSize=count,
                MaximumBatchingWindowInSeconds=1,
            )
        )


@events_app.command("dynamodb")
def dynamodb(
    count: CountOption = 1,
    item: Annotated[
        str,
        typer.Option(
            "--item",
            help="An item in DynamoDB JSON ({n}: record number); it needs the key 'pk' (S).",
        ),
    ] = '{{"pk": {{"S": "order-{n}"}}, "status": {{"S": "NEW"}}, "amount": {{"N": "42"}}}}',
    view_type: Annotated[
        str,
        typer.Option("--view-type", help="KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES."),
    ] = "NEW_AND_OLD_IMAGES",
    region: RegionOption = "us-east-1",
    seed: SeedOption = 0,
) -> None:
    """A DynamoDB Streams event of INSERTs (validates with Powertools' DynamoDBStreamModel)."""
    _check(count)
    configure_logs(None, "error")
    items = []
    for n in range(count):
        try:
            items.append(json.loads(_render(item, n)))
        except ValueError as exc:
            invalid([f"--item: not JSON ({exc})"])
    with Simulation(seed=seed, region=region) as sim:
        try:
            table = sim.dynamodb_table(
                "sample-table",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                StreamSpecification={"StreamViewType": view_type},
            )
            for value in items:
                table.put_item(Item=value)
        except Exception as exc:  # AWS's validation errors: bad view type or item
            invalid([f"--item/--view-type: {exc}"])
        assert table.stream_arn is not None
        _print(
            _first_event(sim, table.stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=count)
        )


def _render(template: str, n: int) -> str:
    try:
        return template.format(n=n)
    except (KeyError, IndexError, ValueError):
        return template
