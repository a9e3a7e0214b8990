"""FilterCriteria on all three sources: every operator, data keys, format rules (spec §6, §10.7).

Each operator case puts one record that must match and one that must not through a real
mapping, for SQS (``body``), Kinesis (``data``) and DynamoDB (``dynamodb``), and checks
which records reached the handler and how the rest were counted.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

import esmsim

from .streams_support import simple_table

Doc = dict[str, Any]

# (name, pattern over a JSON document, a document that matches, one that does not).
# Spec §6 names the operators: Null, Empty, Equals, Equals-ignore-case, And, Or, $or,
# anything-but, numeric, exists (leaf nodes only), prefix, suffix; EventBridge adds
# wildcard and anything-but prefix/suffix.
OPERATORS: list[tuple[str, Doc, Doc, Doc]] = [
    ("equals", {"f": ["ok"]}, {"f": "ok"}, {"f": "OK"}),
    ("equals-number-string-form", {"f": [300]}, {"f": 300}, {"f": 300.5}),
    ("equals-true", {"f": [True]}, {"f": True}, {"f": "true"}),
    ("or-values", {"f": ["a", "b"]}, {"f": "b"}, {"f": "c"}),
    ("and-fields", {"f": ["a"], "g": ["b"]}, {"f": "a", "g": "b"}, {"f": "a", "g": "c"}),
    ("equals-ignore-case", {"f": [{"equals-ignore-case": "ok"}]}, {"f": "oK"}, {"f": "no"}),
    ("prefix", {"f": [{"prefix": "us-"}]}, {"f": "us-east-1"}, {"f": "eu-west-1"}),
    (
        "prefix-ignore-case",
        {"f": [{"prefix": {"equals-ignore-case": "US-"}}]},
        {"f": "us-east-1"},
        {"f": "eu-west-1"},
    ),
    ("suffix", {"f": [{"suffix": ".png"}]}, {"f": "a.png"}, {"f": "a.jpg"}),
    ("anything-but", {"f": [{"anything-but": ["a", "b"]}]}, {"f": "c"}, {"f": "a"}),
    ("anything-but-one", {"f": [{"anything-but": "a"}]}, {"f": "x"}, {"f": "a"}),
    (
        "anything-but-prefix",
        {"f": [{"anything-but": {"prefix": "tmp"}}]},
        {"f": "data"},
        {"f": "tmpfile"},
    ),
    (
        "anything-but-suffix",
        {"f": [{"anything-but": {"suffix": ".tmp"}}]},
        {"f": "x.txt"},
        {"f": "x.tmp"},
    ),
    ("anything-but-missing-field", {"f": [{"anything-but": "a"}]}, {"f": "b"}, {"g": "b"}),
    ("numeric-eq", {"f": [{"numeric": ["=", 100]}]}, {"f": 100.0}, {"f": 101}),
    ("numeric-lt", {"f": [{"numeric": ["<", 10]}]}, {"f": 9.5}, {"f": 10}),
    ("numeric-le", {"f": [{"numeric": ["<=", 10]}]}, {"f": 10}, {"f": 10.5}),
    ("numeric-gt", {"f": [{"numeric": [">", 10]}]}, {"f": 11}, {"f": 10}),
    ("numeric-ge", {"f": [{"numeric": [">=", 10]}]}, {"f": 10}, {"f": 9}),
    ("numeric-range", {"f": [{"numeric": [">", 0, "<=", 5]}]}, {"f": 5}, {"f": 0}),
    ("numeric-not-a-string", {"f": [{"numeric": [">", 0]}]}, {"f": 5}, {"f": "5"}),
    ("exists-true", {"f": [{"exists": True}]}, {"f": 1}, {"g": 1}),
    ("exists-false", {"f": [{"exists": False}]}, {"g": 1}, {"f": 1}),
    ("exists-true-not-object", {"f": [{"exists": True}]}, {"f": [1]}, {"f": {"a": 1}}),
    ("exists-false-on-object", {"f": [{"exists": False}]}, {"f": {"a": 1}}, {"f": "x"}),
    ("null", {"f": [None]}, {"f": None}, {"g": None}),
    ("empty-string", {"f": [""]}, {"f": ""}, {"f": " "}),
    ("or-fields", {"$or": [{"f": ["1"]}, {"g": ["2"]}]}, {"g": "2"}, {"f": "2"}),
    ("wildcard", {"f": [{"wildcard": "dir/*.png"}]}, {"f": "dir/a.png"}, {"f": "dir/a.jpg"}),
    ("array-any-element", {"f": ["b"]}, {"f": ["a", "b"]}, {"f": ["a", "c"]}),
    ("nested", {"f": {"g": ["x"]}}, {"f": {"g": "x"}}, {"f": {"g": "y"}}),
    (
        "array-of-objects",
        {"f": {"g": ["x"]}},
        {"f": [{"g": "y"}, {"g": "x"}]},
        {"f": [{"g": "y"}]},
    ),
]


def _criteria(*patterns: Doc) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def _sqs_run(pattern: Doc, bodies: list[str], **send: Any) -> tuple[list[dict[str, Any]], Any, Any]:
    """Send ``bodies`` through a filtered SQS mapping: (records delivered, mapping, queue)."""
    delivered: list[dict[str, Any]] = []
    with esmsim.Simulation(seed=71) as sim:
        queue = sim.sqs_queue("q")
        sim.function("f", lambda event, context: delivered.extend(event["Records"]))
        mapping = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=queue.arn,
            FilterCriteria=_criteria(pattern),
            MetricsConfig={"Metrics": ["EventCount"]},
        )
        for body in bodies:
            queue.send_message(MessageBody=body, **send)
        sim.run_until_idle_sync(max_seconds=120)
        return delivered, mapping, queue


def _kinesis_run(pattern: Doc, data: list[bytes]) -> tuple[list[dict[str, Any]], Any]:
    delivered: list[dict[str, Any]] = []
    with esmsim.Simulation(seed=72) as sim:
        stream = sim.kinesis_stream("s")
        sim.function("f", lambda event, context: delivered.extend(event["Records"]))
        mapping = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            FilterCriteria=_criteria(pattern),
        )
        for i, blob in enumerate(data):
            stream.put_record(Data=blob, PartitionKey=f"pk-{i}")
        sim.run_until_idle_sync(max_seconds=120)
        return delivered, mapping


def _dynamodb_run(pattern: Doc, items: list[Doc]) -> tuple[list[dict[str, Any]], Any]:
    delivered: list[dict[str, Any]] = []
    with esmsim.Simulation(seed=73) as sim:
        table = simple_table(sim)
        sim.function("f", lambda event, context: delivered.extend(event["Records"]))
        mapping = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            FilterCriteria=_criteria(pattern),
        )
        for item in items:
            table.put_item(Item=item)
        sim.run_until_idle_sync(max_seconds=120)
        return delivered, mapping


@pytest.mark.parametrize(
    ("name", "pattern", "match", "miss"), OPERATORS, ids=[c[0] for c in OPERATORS]
)
def test_sqs_body_operators(name: str, pattern: Doc, match: Doc, miss: Doc) -> None:
    """SQS filters on ``body`` parsed as JSON (§6): the matching message only is delivered."""
    delivered, mapping, queue = _sqs_run({"body": pattern}, [json.dumps(match), json.dumps(miss)])
    assert [json.loads(r["body"]) for r in delivered] == [match]
    assert mapping.metrics["FilteredOutEventCount"] == 1
    assert mapping.ledger["filtered"] == 1
    assert mapping.ledger["delivered"] == 1
    assert queue.messages() == []  # the filtered message was deleted (§6, §10.7)


@pytest.mark.parametrize(
    ("name", "pattern", "match", "miss"), OPERATORS, ids=[c[0] for c in OPERATORS]
)
def test_kinesis_data_operators(name: str, pattern: Doc, match: Doc, miss: Doc) -> None:
    """Kinesis filters on ``data``, base64-decoded and parsed as JSON for matching only (§6)."""
    raw = [json.dumps(match).encode(), json.dumps(miss).encode()]
    delivered, mapping = _kinesis_run({"data": pattern}, raw)
    assert [base64.b64decode(r["kinesis"]["data"]) for r in delivered] == [raw[0]]
    assert mapping.metrics["FilteredOutEventCount"] == 1
    assert mapping.ledger == {
        "delivered": 1,
        "filtered": 1,
        "discarded": 0,
        "dead_lettered": 0,
        "expired": 0,
        "pending": 0,
    }


# DynamoDB records carry DynamoDB JSON: every value sits under its type key ("S", "N", ...)
# and N values are strings (§6).
DDB_OPERATORS: list[tuple[str, Doc, Doc, Doc]] = [
    ("equals", {"NewImage": {"s": {"S": ["ok"]}}}, {"s": {"S": "ok"}}, {"s": {"S": "no"}}),
    (
        "equals-ignore-case",
        {"NewImage": {"s": {"S": [{"equals-ignore-case": "OK"}]}}},
        {"s": {"S": "ok"}},
        {"s": {"S": "no"}},
    ),
    (
        "prefix",
        {"NewImage": {"s": {"S": [{"prefix": "a"}]}}},
        {"s": {"S": "ab"}},
        {"s": {"S": "ba"}},
    ),
    (
        "suffix",
        {"NewImage": {"s": {"S": [{"suffix": "b"}]}}},
        {"s": {"S": "ab"}},
        {"s": {"S": "ba"}},
    ),
    (
        "anything-but",
        {"NewImage": {"s": {"S": [{"anything-but": ["x"]}]}}},
        {"s": {"S": "y"}},
        {"s": {"S": "x"}},
    ),
    (
        "exists-leaf",
        {"NewImage": {"s": {"S": [{"exists": True}]}}},
        {"s": {"S": "y"}},
        {"t": {"S": "y"}},
    ),
    ("n-as-string", {"NewImage": {"n": {"N": ["5"]}}}, {"n": {"N": "5"}}, {"n": {"N": "6"}}),
    (
        "wildcard",
        {"NewImage": {"s": {"S": [{"wildcard": "a*c"}]}}},
        {"s": {"S": "abbc"}},
        {"s": {"S": "abbd"}},
    ),
    ("keys", {"Keys": {"pk": {"S": [{"prefix": "m"}]}}}, {}, {}),
]


@pytest.mark.parametrize(
    ("name", "pattern", "match", "miss"), DDB_OPERATORS, ids=[c[0] for c in DDB_OPERATORS]
)
def test_dynamodb_operators(name: str, pattern: Doc, match: Doc, miss: Doc) -> None:
    """DynamoDB filters on ``dynamodb`` in DynamoDB JSON (§6)."""
    items = [{"pk": {"S": "match"}, **match}, {"pk": {"S": "other"}, **miss}]
    delivered, mapping = _dynamodb_run({"dynamodb": pattern}, items)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in delivered] == ["match"]
    assert mapping.metrics["FilteredOutEventCount"] == 1
    assert mapping.ledger["filtered"] == 1


def test_dynamodb_exists_looks_at_leaves_only() -> None:
    """An attribute is an object in DynamoDB JSON: ``exists`` must name its type key (§6)."""
    items = [{"pk": {"S": "a"}, "s": {"S": "y"}}, {"pk": {"S": "b"}}]
    on_object = {"dynamodb": {"NewImage": {"s": [{"exists": True}]}}}
    delivered, mapping = _dynamodb_run(on_object, items)
    assert delivered == []
    assert mapping.ledger["filtered"] == 2
    # exists:false on the object matches both: the object is not a leaf, the other lacks it.
    delivered, _ = _dynamodb_run({"dynamodb": {"NewImage": {"s": [{"exists": False}]}}}, items)
    assert len(delivered) == 2


def test_dynamodb_numeric_never_matches_n_values() -> None:
    """N values are strings in DynamoDB JSON, so numeric operators never match them (§6)."""
    items = [{"pk": {"S": f"k{i}"}, "n": {"N": str(i)}} for i in range(5)]
    for op in (">", ">=", "=", "<", "<="):
        pattern = {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [op, 2]}]}}}}
        delivered, mapping = _dynamodb_run(pattern, items)
        assert delivered == []
        assert mapping.ledger["filtered"] == 5
        assert mapping.metrics["Invocations"] == 0


def test_dynamodb_metadata_event_name() -> None:
    """DynamoDB metadata fields (``eventName``) filter too (§6, §8.13)."""
    delivered: list[dict[str, Any]] = []
    with esmsim.Simulation(seed=74) as sim:
        table = simple_table(sim)
        sim.function("f", lambda event, context: delivered.extend(event["Records"]))
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=table.stream_arn,
            StartingPosition="TRIM_HORIZON",
            FilterCriteria=_criteria({"eventName": ["REMOVE", "MODIFY"]}),
        )
        table.put_item(Item={"pk": {"S": "a"}, "v": {"S": "1"}})
        table.put_item(Item={"pk": {"S": "a"}, "v": {"S": "2"}})
        table.delete_item(Key={"pk": {"S": "a"}})
        sim.run_until_idle_sync(max_seconds=60)
    assert [r["eventName"] for r in delivered] == ["MODIFY", "REMOVE"]


def test_kinesis_metadata_partition_key_and_event_fields() -> None:
    """Kinesis metadata is matched flat, as Lambda documents it (``partitionKey``...)."""
    pattern = {"partitionKey": [{"prefix": "pk-1"}], "eventName": ["aws:kinesis:record"]}
    delivered, mapping = _kinesis_run(pattern, [b"plain text"] * 12)
    assert sorted(r["kinesis"]["partitionKey"] for r in delivered) == ["pk-1", "pk-10", "pk-11"]
    assert mapping.ledger["filtered"] == 9


def test_kinesis_event_id_and_region_fields() -> None:
    """Other Kinesis record fields filter with the values the handler sees."""
    delivered, _ = _kinesis_run({"eventID": [{"prefix": "shardId-000000000000:"}]}, [b"x", b"y"])
    assert len(delivered) == 2
    delivered, _ = _kinesis_run({"awsRegion": ["eu-west-1"]}, [b"x"])
    assert delivered == []


def test_kinesis_non_json_data_with_a_data_pattern_is_dropped() -> None:
    """Non-JSON data + a JSON data pattern ⇒ dropped (§6); kept data reach the handler as sent."""
    blobs = [b"\xff\x00 binary", b"not json {", json.dumps({"b": 1}).encode()]
    delivered, mapping = _kinesis_run({"data": {"a": [{"exists": False}]}}, blobs)
    assert [base64.b64decode(r["kinesis"]["data"]) for r in delivered] == [blobs[2]]
    assert mapping.ledger["filtered"] == 2


def test_kinesis_metadata_only_pattern_ignores_data_format() -> None:
    """No data key in the pattern ⇒ metadata-only filtering: non-JSON data pass (§6)."""
    delivered, _ = _kinesis_run({"partitionKey": ["pk-0"]}, [b"\xff\xfe", b"\x00"])
    assert [base64.b64decode(r["kinesis"]["data"]) for r in delivered] == [b"\xff\xfe"]


@pytest.mark.parametrize(
    ("pattern", "bodies", "expected"),
    [
        # body plain + pattern plain ⇒ filter (§6)
        ({"body": ["hello"]}, ["hello", "bye"], ["hello"]),
        ({"body": [{"prefix": "hel"}]}, ["hello", "bye"], ["hello"]),
        # body plain + JSON pattern ⇒ drop, even for a pattern any object would match
        ({"body": {"a": [{"exists": False}]}}, ["hello", '{"b": 1}'], ['{"b": 1}']),
        # body JSON + plain pattern ⇒ drop
        ({"body": [{"prefix": "{"}]}, ['{"a": 1}', "{not json"], ["{not json"]),
        # JSON scalars are plain text for this rule
        ({"body": ["123"]}, ["123", "124"], ["123"]),
        # no body in the pattern ⇒ metadata only
        ({"eventSource": ["aws:sqs"]}, ["x", '{"a": 1}'], ["x", '{"a": 1}']),
    ],
)
def test_sqs_body_format_rules(pattern: Doc, bodies: list[str], expected: list[str]) -> None:
    """SQS format-mismatch rules of §6."""
    delivered, mapping, queue = _sqs_run(pattern, bodies)
    assert sorted(r["body"] for r in delivered) == sorted(expected)
    assert mapping.ledger["filtered"] == len(bodies) - len(expected)
    assert queue.messages() == []


def test_sqs_metadata_attributes_and_message_attributes() -> None:
    """SQS metadata: ``attributes`` and ``messageAttributes`` in the Lambda record's shape."""
    pattern = {
        "messageAttributes": {"kind": {"stringValue": ["order"]}},
        "attributes": {"ApproximateReceiveCount": ["1"]},
    }
    delivered: list[dict[str, Any]] = []
    with esmsim.Simulation(seed=75) as sim:
        queue = sim.sqs_queue("q")
        sim.function("f", lambda event, context: delivered.extend(event["Records"]))
        mapping = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=_criteria(pattern)
        )
        for kind in ("order", "refund", "order"):
            queue.send_message(
                MessageBody=kind,
                MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}},
            )
        queue.send_message(MessageBody="none")
        sim.run_until_idle_sync(max_seconds=60)
        assert queue.messages() == []
    assert [r["body"] for r in delivered] == ["order", "order"]
    assert mapping.metrics["FilteredOutEventCount"] == 2


def test_filters_are_ored_and_duplicate_keys_take_the_last() -> None:
    """Filters are ORed; inside a pattern a duplicate key's last value wins (§6)."""
    criteria = {
        "Filters": [
            {"Pattern": '{"body": {"t": ["a"]}}'},
            {"Pattern": '{"body": {"t": ["zzz"], "t": ["b"]}}'},
        ]
    }
    delivered: list[str] = []
    with esmsim.Simulation(seed=76) as sim:
        queue = sim.sqs_queue("q")
        sim.function(
            "f", lambda event, context: delivered.extend(r["body"] for r in event["Records"])
        )
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=criteria
        )
        for t in ("a", "b", "c", "zzz"):
            queue.send_message(MessageBody=json.dumps({"t": t}))
        sim.run_until_idle_sync(max_seconds=60)
    assert sorted(json.loads(b)["t"] for b in delivered) == ["a", "b"]


def test_stream_batch_filtered_to_nothing_is_not_invoked() -> None:
    """A batch that filters down to nothing is not invoked; the checkpoint moves past it (§10.7)."""
    with esmsim.Simulation(seed=77) as sim:
        stream = sim.kinesis_stream("s")
        fn = sim.function("f", lambda event, context: None)
        mapping = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=5,
            FilterCriteria=_criteria({"data": {"keep": [True]}}),
        )
        for i in range(40):
            stream.put_record(Data=json.dumps({"keep": False, "i": i}), PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=60)
        assert fn.invocations == []
        assert mapping.metrics["PolledEventCount"] == 40
        assert mapping.metrics["FilteredOutEventCount"] == 40
        assert mapping.metrics["Invocations"] == 0
        assert mapping.ledger["filtered"] == 40
        assert mapping.ledger["pending"] == 0
        # The position moved past them: a later matching record is the only delivery.
        stream.put_record(Data=json.dumps({"keep": True, "i": 40}), PartitionKey="k")
        sim.run_until_idle_sync(max_seconds=60)
        assert len(fn.invocations) == 1
        (record,) = fn.invocations[0].event["Records"]
        assert json.loads(base64.b64decode(record["kinesis"]["data"]))["i"] == 40


def test_sqs_batch_filtered_to_nothing_is_not_invoked_and_deleted() -> None:
    """SQS deletes filtered messages; nothing is invoked for them (§6, §10.7)."""
    delivered, mapping, queue = _sqs_run({"body": ["keep"]}, ["drop"] * 25)
    assert delivered == []
    assert mapping.metrics["Invocations"] == 0
    assert mapping.metrics["FilteredOutEventCount"] == 25
    assert mapping.ledger["filtered"] == 25
    assert queue.messages() == []


def test_filters_mixed_with_deliveries_keep_per_key_order() -> None:
    """Filtered records are skipped in place: the kept ones arrive in order, each once."""
    delivered, mapping = _kinesis_run(
        {"data": {"n": [{"numeric": [">=", 0]}], "odd": [False]}},
        [json.dumps({"n": i, "odd": i % 2 == 1}).encode() for i in range(60)],
    )
    numbers = [json.loads(base64.b64decode(r["kinesis"]["data"]))["n"] for r in delivered]
    assert numbers == list(range(0, 60, 2))
    assert mapping.ledger["filtered"] == 30


def test_update_installs_and_removes_filters() -> None:
    """Filters apply from create and change on every update; ``{}`` removes them (§6)."""
    delivered: list[str] = []
    with esmsim.Simulation(seed=78) as sim:
        queue = sim.sqs_queue("q")
        sim.function(
            "f", lambda event, context: delivered.extend(r["body"] for r in event["Records"])
        )
        mapping = sim.event_source_mapping(FunctionName="f", EventSourceArn=queue.arn)
        queue.send_message(MessageBody="a1")
        sim.run_until_idle_sync(max_seconds=60)
        config = mapping.update(FilterCriteria=_criteria({"body": [{"prefix": "b"}]}))
        assert config["FilterCriteria"] == _criteria({"body": [{"prefix": "b"}]})
        sim.run_sync(5)
        queue.send_message(MessageBody="a2")
        queue.send_message(MessageBody="b2")
        sim.run_until_idle_sync(max_seconds=60)
        config = mapping.update(FilterCriteria={})
        assert "FilterCriteria" not in config
        sim.run_sync(5)
        queue.send_message(MessageBody="a3")
        sim.run_until_idle_sync(max_seconds=60)
    assert delivered == ["a1", "b2", "a3"]


INVALID_PATTERNS: list[tuple[str, Any]] = [
    ("null-pattern", None),
    ("json-null", "null"),
    ("not-json", '{"body": '),
    ("not-an-object", '["a"]'),
    ("empty-object", "{}"),
    ("scalar-not-array", '{"a": "x"}'),
    ("number-not-array", '{"a": 5}'),
    ("empty-array", '{"a": []}'),
    ("nested-empty-object", '{"a": {}}'),
    ("unknown-operator", '{"a": [{"contains": "x"}]}'),
    ("two-operators-in-one", '{"a": [{"prefix": "x", "suffix": "y"}]}'),
    ("numeric-non-number", '{"a": [{"numeric": [">", "5"]}]}'),
    ("numeric-bad-operator", '{"a": [{"numeric": ["!=", 5]}]}'),
    ("numeric-odd-length", '{"a": [{"numeric": [">", 5, "<"]}]}'),
    ("numeric-two-lower-bounds", '{"a": [{"numeric": [">", 5, ">=", 6]}]}'),
    ("exists-not-bool", '{"a": [{"exists": "yes"}]}'),
    ("prefix-not-string", '{"a": [{"prefix": 5}]}'),
    ("anything-but-empty", '{"a": [{"anything-but": []}]}'),
    ("nested-array", '{"a": [["x"]]}'),
    ("or-not-a-list", '{"$or": {"a": ["x"]}}'),
    ("wildcard-double-star", '{"a": [{"wildcard": "a**b"}]}'),
]


@pytest.mark.parametrize(
    ("name", "pattern"), INVALID_PATTERNS, ids=[c[0] for c in INVALID_PATTERNS]
)
@pytest.mark.parametrize("source", ["sqs", "kinesis", "dynamodb"])
def test_invalid_patterns_fail_at_create_and_update(name: str, pattern: Any, source: str) -> None:
    """Invalid patterns fail with AWS's ``Invalid filter pattern definition.``."""
    with esmsim.Simulation(seed=79) as sim:
        sim.function("f", lambda event, context: None)
        extra: dict[str, Any] = {}
        if source == "sqs":
            arn = sim.sqs_queue("q").arn
        elif source == "kinesis":
            arn = sim.kinesis_stream("s").arn
            extra["StartingPosition"] = "LATEST"
        else:
            arn = simple_table(sim).stream_arn
            extra["StartingPosition"] = "LATEST"
        criteria = {"Filters": [{"Pattern": pattern}]}
        with pytest.raises(esmsim.InvalidParameterValueException) as exc:
            sim.event_source_mapping(
                FunctionName="f", EventSourceArn=arn, FilterCriteria=criteria, **extra
            )
        assert "Invalid filter pattern definition." in str(exc.value)
        mapping = sim.event_source_mapping(FunctionName="f", EventSourceArn=arn, **extra)
        with pytest.raises(esmsim.InvalidParameterValueException) as exc:
            mapping.update(FilterCriteria=criteria)
        assert "Invalid filter pattern definition." in str(exc.value)
        assert "FilterCriteria" not in mapping.configuration()


@pytest.mark.parametrize(
    ("source", "pattern"),
    [("kinesis", '{"data": ["plain"]}'), ("dynamodb", '{"dynamodb": ["plain"]}')],
)
def test_stream_plain_data_patterns_are_rejected(source: str, pattern: str) -> None:
    """Kinesis/DynamoDB: a non-JSON data pattern is an error at create (§6)."""
    with esmsim.Simulation(seed=80) as sim:
        sim.function("f", lambda event, context: None)
        arn = sim.kinesis_stream("s").arn if source == "kinesis" else simple_table(sim).stream_arn
        with pytest.raises(esmsim.InvalidParameterValueException, match="Invalid filter pattern"):
            sim.event_source_mapping(
                FunctionName="f",
                EventSourceArn=arn,
                StartingPosition="LATEST",
                FilterCriteria={"Filters": [{"Pattern": pattern}]},
            )


def test_filter_criteria_shape_errors_and_the_quota() -> None:
    """Filters must be a list; more than 5 filters breaks the quota, named in the error (§1)."""
    with esmsim.Simulation(seed=81) as sim:
        sim.function("f", lambda event, context: None)
        queue = sim.sqs_queue("q")
        for criteria in ({"Filters": "x"}, {"Other": []}, "text", {"Filters": [{"Other": "{}"}]}):
            with pytest.raises(esmsim.InvalidParameterValueException, match="Invalid filter"):
                sim.event_source_mapping(
                    FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=criteria
                )
        six = {"Filters": [{"Pattern": json.dumps({"body": [str(i)]})} for i in range(6)]}
        with pytest.raises(esmsim.InvalidParameterValueException) as exc:
            sim.event_source_mapping(FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=six)
        assert "Filters per event source mapping" in str(exc.value)
        assert "5" in str(exc.value)
        long = {"Filters": [{"Pattern": json.dumps({"body": ["x" * 5000]})}]}
        with pytest.raises(esmsim.InvalidParameterValueException, match="4096"):
            sim.event_source_mapping(
                FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=long
            )
        five = {"Filters": six["Filters"][:5]}
        mapping = sim.event_source_mapping(
            FunctionName="f", EventSourceArn=queue.arn, FilterCriteria=five
        )
        assert mapping.configuration()["FilterCriteria"] == five
