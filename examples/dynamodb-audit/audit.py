"""An audit trail for an accounts table, fed by its DynamoDB stream.

The event source mapping's ``FilterCriteria`` lets only ``MODIFY`` and ``REMOVE``
records through (sign-ups are audited by the sign-up service), so the function is never
invoked for an ``INSERT``. Each change becomes one audit entry naming the fields that
changed. Items carry a Time to Live (``expires_at``): when DynamoDB deletes an expired
item the ``REMOVE`` record has ``userIdentity`` set to the DynamoDB service, and the
entry says the account expired rather than that someone deleted it.

Events are parsed with Powertools' ``DynamoDBStreamModel``, which validates them and
turns DynamoDB JSON into Python values.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

AUDIT_TRAIL: list[dict[str, Any]] = []
"""Audit entries, oldest first (a stand-in for the audit log store)."""

TTL_PRINCIPAL = "dynamodb.amazonaws.com"

# Only changes and deletions reach the function (Lambda's filter syntax).
FILTER_CRITERIA = {"Filters": [{"Pattern": '{"eventName": ["MODIFY", "REMOVE"]}'}]}


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    for record in parse(event=event, model=DynamoDBStreamModel).Records:
        change = record.dynamodb
        old, new = change.OldImage or {}, change.NewImage or {}
        if record.eventName == "MODIFY":
            action = "update"
        elif record.userIdentity and record.userIdentity.principalId == TTL_PRINCIPAL:
            action = "expire"
        elif record.eventName == "REMOVE":
            action = "delete"
        else:
            raise ValueError(f"unexpected {record.eventName} record (check FilterCriteria)")
        AUDIT_TRAIL.append(
            {
                "account": change.Keys["account_id"],
                "action": action,
                "fields": changed_fields(old, new) if action == "update" else [],
                "at": change.ApproximateCreationDateTime.isoformat(),
            }
        )
