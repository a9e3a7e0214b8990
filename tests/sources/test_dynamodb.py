"""DynamoDB tables and streams as a source: one AWS rule per test (spec §2.3, §4.3, §7)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

import esmsim
from esmsim import ResourceNotFoundException
from esmsim.sources._errors import ValidationException
from esmsim.sources.dynamodb import DynamoDBTable

DAY = 24 * 3600
START_S = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=1) as s:
        yield s


def _table(
    sim: esmsim.Simulation, view: str | None = "NEW_AND_OLD_IMAGES", **extra: Any
) -> DynamoDBTable:
    props: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "Id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "Id", "AttributeType": "N"}],
        **extra,
    }
    if view is not None:
        props["StreamSpecification"] = {"StreamViewType": view}
    return sim.dynamodb_table("Orders", **props)


def _key(i: int | str) -> dict[str, Any]:
    return {"Id": {"N": str(i)}}


def _names(table: DynamoDBTable) -> list[str]:
    return [r["eventName"] for r in table.stream_records()]


# -- what a write puts on the stream ------------------------------------------------------------
@pytest.mark.parametrize(
    ("view", "images"),
    [
        ("KEYS_ONLY", {"INSERT": set(), "MODIFY": set(), "REMOVE": set()}),
        ("NEW_IMAGE", {"INSERT": {"NewImage"}, "MODIFY": {"NewImage"}, "REMOVE": set()}),
        ("OLD_IMAGE", {"INSERT": set(), "MODIFY": {"OldImage"}, "REMOVE": {"OldImage"}}),
        (
            "NEW_AND_OLD_IMAGES",
            {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"}, "REMOVE": {"OldImage"}},
        ),
    ],
)
def test_insert_modify_remove_carry_the_images_of_the_stream_view_type(
    sim: esmsim.Simulation, view: str, images: dict[str, set[str]]
) -> None:
    """§4.3: images follow StreamViewType; INSERT has no OldImage, REMOVE no NewImage."""
    table = _table(sim, view)
    table.put_item(Item={**_key(1), "v": {"S": "a"}})
    table.put_item(Item={**_key(1), "v": {"S": "b"}})
    table.delete_item(Key=_key(1))
    records = table.stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for record in records:
        ddb = record["dynamodb"]
        assert ddb["Keys"] == _key(1)
        assert ddb["StreamViewType"] == view
        assert {"NewImage", "OldImage"} & set(ddb) == images[record["eventName"]]
        assert "userIdentity" not in record
    if view == "NEW_AND_OLD_IMAGES":
        assert records[1]["dynamodb"]["OldImage"]["v"] == {"S": "a"}
        assert records[1]["dynamodb"]["NewImage"]["v"] == {"S": "b"}


def test_put_of_an_identical_item_writes_no_record(sim: esmsim.Simulation) -> None:
    """§2.3: no stream record is written when a PutItem changes nothing."""
    table = _table(sim)
    item = {**_key(1), "tags": {"SS": ["a", "b"]}, "n": {"N": "1.50"}}
    table.put_item(Item=item)
    table.put_item(Item={**_key(1), "tags": {"SS": ["b", "a"]}, "n": {"N": "1.5"}})
    assert _names(table) == ["INSERT"]


def test_update_that_changes_nothing_writes_no_record(sim: esmsim.Simulation) -> None:
    """§2.3: no stream record is written when an UpdateItem changes nothing."""
    table = _table(sim)
    table.put_item(Item={**_key(1), "v": {"N": "5"}})
    table.update_item(
        Key=_key(1), UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "5"}}
    )
    table.update_item(Key=_key(1), UpdateExpression="REMOVE missing")
    assert _names(table) == ["INSERT"]


def test_delete_of_a_missing_item_writes_no_record(sim: esmsim.Simulation) -> None:
    """§2.3: deleting an item that does not exist changes nothing and writes nothing."""
    table = _table(sim)
    assert table.delete_item(Key=_key(42)) == {}
    assert table.stream_records() == []


# -- update expressions ----------------------------------------------------------------------
def test_update_set_resolves_attribute_names_and_values(sim: esmsim.Simulation) -> None:
    """UpdateItem: SET with #name placeholders and :value placeholders (nested paths too)."""
    table = _table(sim)
    table.put_item(Item={**_key(1), "info": {"M": {"tags": {"L": [{"S": "x"}]}}}})
    table.update_item(
        Key=_key(1),
        UpdateExpression="SET #s = :s, info.#t[0] = :t, info.color = :c",
        ExpressionAttributeNames={"#s": "status", "#t": "tags"},
        ExpressionAttributeValues={":s": {"S": "PAID"}, ":t": {"S": "y"}, ":c": {"S": "red"}},
    )
    item = table.get_item(Key=_key(1))["Item"]
    assert item["status"] == {"S": "PAID"}
    assert item["info"] == {"M": {"tags": {"L": [{"S": "y"}]}, "color": {"S": "red"}}}


def test_update_set_supports_arithmetic_if_not_exists_and_list_append(
    sim: esmsim.Simulation,
) -> None:
    """UpdateItem: a + :n, a - :n, if_not_exists(a, :v) and list_append(a, :l)."""
    table = _table(sim)
    expression = (
        "SET hits = if_not_exists(hits, :zero) + :one, stock = stock - :one, "
        "log = list_append(if_not_exists(log, :empty), :entry)"
    )
    values = {
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
        ":empty": {"L": []},
        ":entry": {"L": [{"S": "e"}]},
    }
    table.put_item(Item={**_key(1), "stock": {"N": "10"}})
    table.update_item(Key=_key(1), UpdateExpression=expression, ExpressionAttributeValues=values)
    result = table.update_item(
        Key=_key(1),
        UpdateExpression=expression,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    item = result["Attributes"]
    assert item["hits"] == {"N": "2"} and item["stock"] == {"N": "8"}
    assert item["log"] == {"L": [{"S": "e"}, {"S": "e"}]}


def test_update_remove_drops_attributes_and_list_elements(sim: esmsim.Simulation) -> None:
    """UpdateItem: REMOVE attributes and list elements (indexes as they were before)."""
    table = _table(sim)
    items = [{"S": c} for c in "abcd"]
    table.put_item(Item={**_key(1), "a": {"S": "x"}, "b": {"S": "y"}, "l": {"L": items}})
    table.update_item(Key=_key(1), UpdateExpression="REMOVE a, l[0], l[2]")
    item = table.get_item(Key=_key(1))["Item"]
    assert item == {**_key(1), "b": {"S": "y"}, "l": {"L": [{"S": "b"}, {"S": "d"}]}}


def test_update_add_and_delete_work_on_numbers_and_sets(sim: esmsim.Simulation) -> None:
    """UpdateItem: ADD adds numbers and unions sets; DELETE removes set members."""
    table = _table(sim)
    table.put_item(Item={**_key(1), "tags": {"SS": ["a", "b"]}})
    table.update_item(
        Key=_key(1),
        UpdateExpression="ADD n :n, tags :more DELETE gone :g",
        ExpressionAttributeValues={":n": {"N": "3"}, ":more": {"SS": ["c"]}, ":g": {"SS": ["z"]}},
    )
    table.update_item(
        Key=_key(1),
        UpdateExpression="DELETE tags :ab",
        ExpressionAttributeValues={":ab": {"SS": ["a", "b"]}},
    )
    item = table.get_item(Key=_key(1))["Item"]
    assert item == {**_key(1), "n": {"N": "3"}, "tags": {"SS": ["c"]}}


def test_update_of_a_missing_item_creates_it_as_an_insert(sim: esmsim.Simulation) -> None:
    """UpdateItem: updating a key that does not exist creates the item (stream: INSERT)."""
    table = _table(sim)
    table.update_item(
        Key=_key(7), UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"BOOL": True}}
    )
    (record,) = table.stream_records()
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {**_key(7), "v": {"BOOL": True}}


def test_update_cannot_change_key_attributes(sim: esmsim.Simulation) -> None:
    """UpdateItem: key attributes cannot be updated."""
    table = _table(sim)
    with pytest.raises(ValidationException, match="Cannot update attribute Id"):
        table.update_item(
            Key=_key(1),
            UpdateExpression="SET Id = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
        )


def test_expression_values_must_be_defined_and_used(sim: esmsim.Simulation) -> None:
    """UpdateItem: undefined or unused expression attribute values/names are errors."""
    table = _table(sim)
    with pytest.raises(ValidationException, match="not defined; attribute value: :v"):
        table.update_item(Key=_key(1), UpdateExpression="SET a = :v")
    with pytest.raises(ValidationException, match=r"unused in expressions: keys: \{:x\}"):
        table.update_item(
            Key=_key(1),
            UpdateExpression="SET a = :v",
            ExpressionAttributeValues={":v": {"N": "1"}, ":x": {"N": "2"}},
        )
    with pytest.raises(ValidationException, match=r"ExpressionAttributeNames unused.*#n"):
        table.update_item(
            Key=_key(1), UpdateExpression="REMOVE a", ExpressionAttributeNames={"#n": "a"}
        )
    with pytest.raises(ValidationException, match="Syntax error"):
        table.update_item(Key=_key(1), UpdateExpression="SET a == b")
    with pytest.raises(ValidationException, match="incorrect data type"):
        table.update_item(
            Key=_key(1),
            UpdateExpression="SET a = :s + :n",
            ExpressionAttributeValues={":s": {"S": "x"}, ":n": {"N": "1"}},
        )
    assert table.stream_records() == []


# -- record fields ------------------------------------------------------------------------------
def test_size_bytes_matches_the_aws_documented_examples(sim: esmsim.Simulation) -> None:
    """§4.3: SizeBytes of AWS's sample INSERT/MODIFY/REMOVE events is 26, 59 and 38."""
    table = _table(sim)
    table.put_item(Item={"Id": {"N": "101"}, "Message": {"S": "New item!"}})
    table.put_item(Item={"Id": {"N": "101"}, "Message": {"S": "This item has changed"}})
    table.delete_item(Key={"Id": {"N": "101"}})
    assert [r["dynamodb"]["SizeBytes"] for r in table.stream_records()] == [26, 59, 38]


def test_approximate_creation_date_time_is_whole_epoch_seconds(sim: esmsim.Simulation) -> None:
    """§4.3/§10.4: ApproximateCreationDateTime is epoch seconds rounded down."""
    table = _table(sim)
    sim.run_sync(2.75)
    table.put_item(Item=_key(1))
    (record,) = table.stream_records()
    created = record["dynamodb"]["ApproximateCreationDateTime"]
    assert created == START_S + 2 and isinstance(created, int)


def test_sequence_numbers_are_decimal_and_strictly_increasing(sim: esmsim.Simulation) -> None:
    """§4.3: SequenceNumber is a decimal string (21 digits here), increasing per shard."""
    table = _table(sim)
    for i in range(20):
        table.put_item(Item=_key(i))
    seqs = [r["dynamodb"]["SequenceNumber"] for r in table.stream_records()]
    assert all(len(s) == 21 and s.isdigit() for s in seqs)
    assert all(int(a) < int(b) for a, b in itertools.pairwise(seqs))


def test_event_ids_and_stream_identity_look_like_aws(sim: esmsim.Simulation) -> None:
    """§4.3/§2.7: 32-hex eventID, eventVersion 1.1, stream ARN label, shard id format."""
    table = _table(sim)
    table.put_item(Item=_key(1))
    (record,) = table.stream_records()
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"])
    assert record["eventVersion"] == "1.1" and record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "us-east-1"
    assert (
        record["eventSourceARN"]
        == table.stream_arn
        == ("arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000")
    )
    (shard_id,) = table.shard_ids()
    assert re.fullmatch(r"shardId-00000001767225600000-[0-9a-f]{8}", shard_id)


def test_stream_records_validate_with_the_powertools_model(sim: esmsim.Simulation) -> None:
    """Invariant 4: every record validates against Powertools' DynamoDBStreamModel."""
    table = _table(sim, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True})
    table.put_item(Item={**_key(1), "b": {"B": b"\x00\xff"}, "m": {"M": {"x": {"NULL": True}}}})
    table.update_item(
        Key=_key(1),
        UpdateExpression="SET ttl = :t",
        ExpressionAttributeValues={":t": {"N": str(START_S + 5)}},
    )
    sim.run_sync(10)
    records = table.stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    model = DynamoDBStreamModel.model_validate({"Records": records})
    assert model.Records[0].dynamodb.NewImage["b"] == "AP8="  # binary travels as base64
    assert model.Records[2].userIdentity is not None


# -- time to live --------------------------------------------------------------------------------
def test_ttl_expiry_writes_a_remove_with_the_service_identity(sim: esmsim.Simulation) -> None:
    """§4.3: TTL deletions are REMOVEs with userIdentity Service/dynamodb.amazonaws.com."""
    table = _table(sim, TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True})
    table.put_item(Item={**_key(2), "expires": {"N": str(START_S + 60)}})
    table.put_item(Item={**_key(1), "expires": {"N": str(START_S + 60)}})
    table.put_item(Item={**_key(3), "expires": {"N": str(START_S + 3600)}})
    sim.run_sync(60)
    assert len(table.stream_records()) == 3  # not yet: the TTL must be in the past
    sim.run_sync(120)
    removes = table.stream_records()[3:]
    assert [r["dynamodb"]["Keys"] for r in removes] == [_key(1), _key(2)]  # (TTL, key) order
    for record in removes:
        assert record["eventName"] == "REMOVE" and record["userIdentity"] == SERVICE
        assert record["dynamodb"]["ApproximateCreationDateTime"] == START_S + 60
    assert table.get_item(Key=_key(1)) == {}
    assert "Item" in table.get_item(Key=_key(3))


def test_ttl_ignores_non_numbers_and_times_over_five_years_past(sim: esmsim.Simulation) -> None:
    """§4.3 (DynamoDB TTL rules): only a Number of epoch seconds within 5 years is expired."""
    table = _table(sim, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True})
    table.put_item(Item={**_key(1), "ttl": {"S": str(START_S)}})
    table.put_item(Item={**_key(2), "ttl": {"N": str(START_S - 6 * 365 * DAY)}})
    table.put_item(Item={**_key(3), "ttl": {"N": str(START_S - 1)}})
    sim.run_sync(DAY)
    assert [i["Id"]["N"] for i in table.scan()["Items"]] == ["1", "2"]


def test_expired_item_is_deleted_at_the_first_access_after_expiry(sim: esmsim.Simulation) -> None:
    """§4.3: expired items are deleted by the service; esmsim does it at the next access."""
    table = _table(sim, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True})
    table.put_item(Item={**_key(1), "ttl": {"N": str(START_S - 10)}})
    assert table.get_item(Key=_key(1)) == {}
    assert _names(table) == ["INSERT", "REMOVE"]


# -- retention and the consumer surface ------------------------------------------------------------
def test_stream_records_are_kept_for_24_hours(sim: esmsim.Simulation) -> None:
    """§2.3: DynamoDB Streams retention is 24 hours, fixed."""
    table = _table(sim)
    table.put_item(Item=_key(1))
    assert table.retention_seconds == DAY
    sim.run_sync(DAY)
    assert len(table.stream_records()) == 1
    sim.run_sync(0.001)
    assert table.stream_records() == []
    result = table.read(table.shard_ids()[0], 0, 10, "t")
    assert result.expired == 1 and result.records == []


def test_consumer_surface_reads_records_keyed_by_item(sim: esmsim.Simulation) -> None:
    """Internals: position/read over the stream; records carry the item key for ordering."""
    table = _table(sim)
    table.put_item(Item=_key(1))
    table.put_item(Item=_key(2))
    table.delete_item(Key=_key(1))
    stream = sim.resource(str(table.stream_arn))
    assert stream is table.stream and stream is not None
    (shard,) = table.shard_ids()
    assert table.position(shard, "TRIM_HORIZON") == 0 and table.position(shard, "LATEST") == 3
    result = table.stream.read(shard, 0, 10, "mapping") if table.stream else None
    assert result is not None
    assert [r.event_name for r in result.records] == ["INSERT", "INSERT", "REMOVE"]
    assert result.records[0].key == result.records[2].key != result.records[1].key
    second = result.records[1].sequence_number
    assert table.position(shard, "AFTER_SEQUENCE_NUMBER", second) == 2
    with pytest.raises(ValidationException, match="ShardIteratorType"):
        table.position(shard, "AT_TIMESTAMP", timestamp=START_S)


def test_reads_return_at_most_1000_records(sim: esmsim.Simulation) -> None:
    """§7: DynamoDB Streams GetRecords returns at most 1,000 records per call."""
    table = _table(sim, "KEYS_ONLY")
    for i in range(1200):
        table.put_item(Item=_key(i))
    (shard,) = table.shard_ids()
    first = table.read(shard, 0, 10_000, "t")
    assert len(first.records) == 1000 and not first.throttled
    assert len(table.read(shard, first.next_position, 10_000, "t").records) == 200


def test_deleted_table_stream_stays_readable_for_24_hours(sim: esmsim.Simulation) -> None:
    """§2.3: a disabled stream stays readable for 24 h; its shard is closed."""
    table = _table(sim)
    table.put_item(Item=_key(1))
    table.delete()
    with pytest.raises(ResourceNotFoundException):
        table.put_item(Item=_key(2))
    (shard,) = table.shard_ids()
    result = table.read(shard, 0, 10, "t")
    assert len(result.records) == 1 and result.shard_end
    assert table.shard_info(shard).closed
    sim.run_sync(DAY + 1)
    assert table.shard_ids() == []


def test_table_without_stream_specification_has_no_stream(sim: esmsim.Simulation) -> None:
    """§2.3: without StreamSpecification there is no stream (stream_arn is None)."""
    table = _table(sim, None)
    table.put_item(Item=_key(1))
    assert table.stream_arn is None and table.shard_ids() == [] and table.stream_records() == []
    assert table.get_item(Key=_key(1)) == {"Item": _key(1)}


def test_numbers_are_normalized_as_dynamodb_stores_them(sim: esmsim.Simulation) -> None:
    """DynamoDB numbers: 1.0 and 1 are the same key; trailing zeros and exponents go."""
    table = _table(sim)
    table.put_item(Item={"Id": {"N": "1.0"}, "v": {"N": "1E2"}, "w": {"N": "-0.500"}})
    assert table.get_item(Key={"Id": {"N": "1"}})["Item"] == {
        "Id": {"N": "1"},
        "v": {"N": "100"},
        "w": {"N": "-0.5"},
    }


# -- bad input -------------------------------------------------------------------------------------
def test_bad_table_properties_name_the_field(sim: esmsim.Simulation) -> None:
    """§1 (CloudFormation): unknown properties and invalid values name the field."""
    key_schema = [{"AttributeName": "Id", "KeyType": "HASH"}]
    with pytest.raises(TypeError, match="Streamspec"):
        _table(sim, Streamspec={})
    with pytest.raises(TypeError, match="KeySchema"):
        sim.dynamodb_table("Orders", AttributeDefinitions=[])
    with pytest.raises(ValidationException, match=r"AttributeDefinitions.*Id"):
        sim.dynamodb_table(
            "Orders",
            KeySchema=key_schema,
            AttributeDefinitions=[{"AttributeName": "Other", "AttributeType": "S"}],
        )
    with pytest.raises(ValidationException, match="AttributeType"):
        sim.dynamodb_table(
            "Orders",
            KeySchema=key_schema,
            AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "BOOL"}],
        )
    with pytest.raises(ValidationException, match="StreamViewType"):
        _table(sim, "ALL")


def test_bad_items_and_keys_name_the_field(sim: esmsim.Simulation) -> None:
    """PutItem/GetItem: invalid items and keys are rejected with the offending field."""
    table = _table(sim)
    with pytest.raises(ValidationException, match="Missing the key Id"):
        table.put_item(Item={"v": {"S": "x"}})
    with pytest.raises(ValidationException, match=r"Item\.Id.*Type mismatch"):
        table.put_item(Item={"Id": {"S": "1"}})
    with pytest.raises(ValidationException, match=r"Item\.price\.N.*numeric"):
        table.put_item(Item={**_key(1), "price": {"N": "ten"}})
    with pytest.raises(ValidationException, match=r"Item\.tags\.SS.*empty"):
        table.put_item(Item={**_key(1), "tags": {"SS": []}})
    with pytest.raises(ValidationException, match=r"Key.*does not match the schema"):
        table.get_item(Key={**_key(1), "extra": {"S": "x"}})
    assert table.stream_records() == []


def _trace(seed: int) -> list[tuple[str, str]]:
    with esmsim.Simulation(seed=seed) as sim:
        table = _table(sim)
        for i in range(5):
            table.put_item(Item=_key(i))
            sim.run_sync(0.3)
        return [(r["eventID"], r["dynamodb"]["SequenceNumber"]) for r in table.stream_records()]


def test_same_seed_gives_the_same_sequence_numbers_and_event_ids() -> None:
    """API contract: the same seed and inputs give identical event ids and sequence numbers."""
    assert _trace(3) == _trace(3)
    assert _trace(3) != _trace(4)
