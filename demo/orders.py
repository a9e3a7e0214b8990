"""Order processor for the demo's Kinesis stream.

Each record is an order as JSON (``{"n": 17, "key": "customer-3", "poison": false}``).
A poison order cannot be processed: the handler raises, so the whole batch fails;
the mapping bisects the batch until the poison order is alone, retries it
``MaximumRetryAttempts`` times and then sends its metadata to the OnFailure queue.
"""

from __future__ import annotations

import base64
import json
from typing import Any


class PoisonOrder(Exception):
    """An order that can never be processed."""


def handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        order = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if order.get("poison"):
            raise PoisonOrder(f"order {order.get('n')} is malformed")
