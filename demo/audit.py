"""Audit trail for the demo's orders table (a DynamoDB stream consumer).

The mapping's FilterCriteria lets only INSERT and MODIFY records through, so
deletions never reach this function. It checks that, and never fails otherwise.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Report any record the filter should have dropped as a failure."""
    failures = [
        {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
        for record in event["Records"]
        if record["eventName"] not in ("INSERT", "MODIFY")
    ]
    return {"batchItemFailures": failures}
