"""Real Powertools handlers run unchanged through the handlers layer (ecosystem §1)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    EventType,
    async_process_partial_response,
    process_partial_response,
)

import esmsim
from esmsim.handlers import parse_batch_response

from .conftest import Invoke
from .events import dynamodb_event, item_ids, kinesis_event, sqs_event

SOURCES: dict[str, tuple[EventType, Callable[[int], dict[str, Any]], str]] = {
    "sqs": (EventType.SQS, sqs_event, "sqs"),
    "kinesis": (EventType.KinesisDataStreams, kinesis_event, "stream"),
    "dynamodb": (EventType.DynamoDBStreams, dynamodb_event, "stream"),
}


def second_record_fails(record: Any) -> None:
    raw = record.raw_event
    if raw["eventSource"] == "aws:sqs":
        n = json.loads(record.body)["n"]
    elif raw["eventSource"] == "aws:kinesis":
        n = record.kinesis.data_as_json()["n"]
    else:
        n = int(raw["dynamodb"]["NewImage"]["n"]["N"])
    if n == 2:
        raise ValueError(f"record {n} is poison")


@pytest.mark.asyncio
@pytest.mark.parametrize("source", list(SOURCES))
async def test_batch_processor_partial_response_reaches_the_poller(
    sim: esmsim.Simulation, invoke: Invoke, source: str
) -> None:
    """Powertools ``process_partial_response`` reports record 2; it parses as partial (§2.6)."""
    event_type, build, family = SOURCES[source]
    processor = BatchProcessor(event_type=event_type)

    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(
            event=event, record_handler=second_record_fails, processor=processor, context=context
        )

    ids = item_ids(build(3))
    fn = sim.function("fn", handler)
    outcome = await invoke(fn, lambda: build(3))
    assert outcome.response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    parsed = parse_batch_response(outcome, family, ids, report_batch_item_failures=True)  # type: ignore[arg-type]
    assert (parsed.kind, parsed.failed_ids) == ("partial", (ids[1],))


@pytest.mark.asyncio
async def test_async_batch_processor_runs_from_a_plain_handler(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``async_process_partial_response`` (which calls ``asyncio.run``) works in a plain handler."""
    processor = AsyncBatchProcessor(event_type=EventType.SQS)

    async def record_handler(record: Any) -> None:
        await asyncio.sleep(0)
        if json.loads(record.body)["n"] == 3:
            raise ValueError("poison")

    def handler(event: dict[str, Any], context: Any) -> Any:
        return async_process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    ids = item_ids(sqs_event(3))
    fn = sim.function("fn", handler)
    outcome = await invoke(fn, lambda: sqs_event(3))
    assert (outcome.status, outcome.response) == (
        "success",
        {"batchItemFailures": [{"itemIdentifier": ids[2]}]},
    )


@pytest.mark.asyncio
async def test_all_records_failing_is_a_function_error(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Powertools raises when every record fails: a function error (ecosystem §0.3)."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def always_fails(record: Any) -> None:
        raise ValueError("no")

    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(
            event=event, record_handler=always_fails, processor=processor, context=context
        )

    fn = sim.function("fn", handler)
    outcome = await invoke(fn, lambda: sqs_event(2))
    assert (outcome.status, outcome.error) == ("function_error", "Unhandled")
    assert outcome.error_message is not None
    assert outcome.error_message.startswith("BatchProcessingError: All records failed processing.")


@pytest.mark.asyncio
async def test_powertools_logger_reads_the_context(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """``Logger.inject_lambda_context`` finds every context field it reads (ecosystem §2.1)."""
    stream = io.StringIO()
    logger = Logger(service="orders", stream=stream)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> None:
        logger.info("batch", size=len(event["Records"]))

    fn = sim.function("orders-fn", handler, MemorySize=256)
    outcome = await invoke(fn, lambda: sqs_event(2))
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert (line["function_name"], line["function_memory_size"], line["function_request_id"]) == (
        "orders-fn",
        "256",
        outcome.request_id,
    )
    assert line["function_arn"] == fn.arn
