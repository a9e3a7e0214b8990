"""An order worker behind an SQS queue.

Powertools' ``BatchProcessor`` runs ``record_handler`` for each message and builds the
partial batch response: an invalid order raises, so only that message is listed in
``batchItemFailures`` and returns to the queue; the others are shipped and deleted.
After ``maxReceiveCount`` receives the queue's ``RedrivePolicy`` moves the invalid
order to the dead-letter queue, where a human looks at it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

processor = BatchProcessor(event_type=EventType.SQS)

SHIPMENTS: list[dict[str, Any]] = []
"""What was handed to the shipping service (a stand-in for its API)."""


class InvalidOrder(ValueError):
    """An order that no retry can fix."""


def ship(order_id: str, lines: list[dict[str, Any]]) -> None:
    """Hand an order to the shipping service."""
    SHIPMENTS.append({"order_id": order_id, "lines": lines})


def record_handler(record: SQSRecord) -> None:
    order = record.json_body
    lines = order.get("lines") or []
    if not lines:
        raise InvalidOrder(f"order {order.get('order_id')} has no lines")
    for line in lines:
        if int(line["quantity"]) <= 0:
            raise InvalidOrder(f"order {order['order_id']}: quantity {line['quantity']}")
    ship(order["order_id"], lines)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
