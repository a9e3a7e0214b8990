"""The audit trail, called directly and behind a simulated table with a filter and TTL."""

from __future__ import annotations

from typing import Any

import audit
import pytest

from esmsim.testing import assert_delivered_once, dynamodb_item

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, where simulated time starts


@pytest.fixture(autouse=True)
def _empty_trail() -> None:
    audit.AUDIT_TRAIL.clear()


def deploy(sim: Any) -> tuple[Any, Any, Any]:
    table = sim.dynamodb_table(
        "accounts",
        KeySchema=[{"AttributeName": "account_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account_id", "AttributeType": "S"}],
        StreamSpecification={"StreamViewType": "NEW_AND_OLD_IMAGES"},
        TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True},
    )
    fn = sim.function("accounts-audit", audit.lambda_handler)
    mapping = sim.event_source_mapping(
        FunctionName="accounts-audit",
        EventSourceArn=table.stream_arn,
        StartingPosition="TRIM_HORIZON",
        FilterCriteria=audit.FILTER_CRITERIA,
    )
    return table, fn, mapping


def test_a_ttl_deletion_is_audited_as_an_expiry(dynamodb_event, lambda_context):
    event = dynamodb_event(
        old_image={"account_id": "a-1", "plan": "trial", "expires_at": T0}, ttl_delete=True
    )

    audit.lambda_handler(event, lambda_context)

    assert audit.AUDIT_TRAIL == [
        {"account": "a-1", "action": "expire", "fields": [], "at": "2026-01-01T00:00:00+00:00"}
    ]


def test_an_update_names_the_fields_that_changed(dynamodb_event, lambda_context):
    event = dynamodb_event(
        old_image={"account_id": "a-1", "plan": "trial", "seats": 1},
        new_image={"account_id": "a-1", "plan": "pro", "seats": 5},
    )

    audit.lambda_handler(event, lambda_context)

    assert [(e["action"], e["fields"]) for e in audit.AUDIT_TRAIL] == [
        ("update", ["plan", "seats"])
    ]


def test_changes_deletions_and_expiries_are_audited_but_not_sign_ups(esm_sim):
    table, fn, mapping = deploy(esm_sim)
    table.put_item(Item=dynamodb_item({"account_id": "a-1", "plan": "trial"}))
    table.put_item(
        Item=dynamodb_item({"account_id": "a-2", "plan": "trial", "expires_at": T0 + 3600})
    )
    table.put_item(Item=dynamodb_item({"account_id": "a-3", "plan": "pro"}))
    esm_sim.run_until_idle_sync()
    table.update_item(
        Key=dynamodb_item({"account_id": "a-1"}),
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues=dynamodb_item({":plan": "pro"}),
    )
    table.delete_item(Key=dynamodb_item({"account_id": "a-3"}))

    esm_sim.run_sync(2 * 3600)  # past a-2's expires_at: DynamoDB deletes it
    esm_sim.run_until_idle_sync()

    assert [(e["account"], e["action"], e["fields"]) for e in audit.AUDIT_TRAIL] == [
        ("a-1", "update", ["plan"]),
        ("a-3", "delete", []),
        ("a-2", "expire", []),
    ]
    delivered = [r["eventName"] for inv in fn.invocations for r in inv.event["Records"]]
    assert "INSERT" not in delivered  # the three sign-ups were filtered out
    assert mapping.metrics["FilteredOutEventCount"] == 3
    assert_delivered_once(fn)
