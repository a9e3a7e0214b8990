"""The order worker, called directly and behind a simulated queue with a DLQ."""

from __future__ import annotations

import json
from typing import Any

import order_worker
import pytest

from esmsim.testing import EsmsimWarning, assert_delivered_once, dead_letters


@pytest.fixture(autouse=True)
def _no_shipments() -> None:
    order_worker.SHIPMENTS.clear()


def order(order_id: str, quantity: int = 1) -> dict[str, Any]:
    return {"order_id": order_id, "lines": [{"sku": "SKU-1", "quantity": quantity}]}


def shipped() -> list[str]:
    return sorted(s["order_id"] for s in order_worker.SHIPMENTS)


def deploy(sim: Any, **mapping: Any) -> tuple[Any, Any, Any]:
    """The stack: orders queue (3 receives, then the DLQ), the worker, its mapping."""
    dlq = sim.sqs_queue("orders-dlq")
    queue = sim.sqs_queue(
        "orders",
        VisibilityTimeout=60,
        RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3},
    )
    fn = sim.function("order-worker", order_worker.lambda_handler, Timeout=10)
    sim.event_source_mapping(
        FunctionName="order-worker", EventSourceArn=queue.arn, BatchSize=10, **mapping
    )
    return queue, dlq, fn


def send(queue: Any, *orders: dict[str, Any]) -> list[str]:
    return [queue.send_message(MessageBody=json.dumps(o))["MessageId"] for o in orders]


def test_an_invalid_order_is_reported_alone(sqs_event, lambda_context):
    event = sqs_event(order("o-1"), order("o-2", quantity=0), order("o-3"))

    response = order_worker.lambda_handler(event, lambda_context)

    invalid = event["Records"][1]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": invalid}]}
    assert shipped() == ["o-1", "o-3"]


def test_a_poison_order_ends_in_the_dlq(esm_sim):
    queue, dlq, fn = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    good = send(queue, order("o-1"), order("o-2"), order("o-3"), order("o-4"))
    send(queue, order("o-5", quantity=0))

    esm_sim.run_until_idle_sync()

    assert_delivered_once(fn, good)
    assert shipped() == ["o-1", "o-2", "o-3", "o-4"]
    assert [json.loads(body)["order_id"] for body in dead_letters(dlq)] == ["o-5"]
    assert len(fn.invocations) == 3  # the batch, then two more receives of o-5


@pytest.mark.asyncio
async def test_the_same_from_an_async_test(esm_sim):
    queue, dlq, fn = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    good = send(queue, order("o-1"), order("o-2"))
    send(queue, order("o-3", quantity=-1))

    await esm_sim.run_until_idle()

    assert_delivered_once(fn, good)
    assert len(dead_letters(dlq)) == 1


def test_without_report_batch_item_failures_the_poison_order_vanishes(esm_sim):
    queue, dlq, _ = deploy(esm_sim)  # FunctionResponseTypes forgotten
    send(queue, order("o-1"), order("o-2", quantity=0))

    with pytest.warns(EsmsimWarning, match="ReportBatchItemFailures"):
        esm_sim.run_until_idle_sync()

    # Lambda deleted the whole batch: o-2 was never retried and never reached the DLQ.
    assert shipped() == ["o-1"]
    assert dead_letters(dlq) == []
    assert queue.messages() == []
