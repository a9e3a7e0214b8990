"""Amazon DynamoDB tables and their streams (AWS::DynamoDB::Table).

A table stores items in DynamoDB JSON. With a ``StreamSpecification`` every
write that changes an item appends the stream record DynamoDB would write:
``INSERT``, ``MODIFY`` or ``REMOVE``, with the images its ``StreamViewType``
asks for. A write that changes nothing (a put of an identical item, an update
that sets what is already there, a delete of a missing item) writes no record.

Stream records are kept 24 hours. Sequence numbers are decimal strings,
strictly increasing per shard: ``(shard index + 1) * 10**20 + seeded base +
counter``, i.e. 21 digits such as ``100000000003126276362`` (the doc examples
look like this). DynamoDB manages shards; esmsim models one shard per table
(``shard_count=n``, a simulator-only option, spreads partition keys over n).

Time to live: with ``TimeToLiveSpecification`` enabled, an item whose TTL
attribute is a top-level Number of epoch seconds, less than the current time
and no more than five years in the past, is expired. DynamoDB deletes expired
items "within a few days"; esmsim deletes them deterministically at the
earlier of (a) the table's single wake-up timer, set for the first
millisecond after the earliest pending TTL, or (b) the first table or stream
access after expiry. Items due together are deleted in (TTL, item key) order.
Each deletion writes a ``REMOVE`` stamped with the simulated time of deletion
and ``userIdentity = {"type": "Service", "principalId":
"dynamodb.amazonaws.com"}``. The timer (one per table, never one per item) is
what lets an idle stream poller see TTL deletions at all.

Deleting the table closes its stream's shards; the stream stays readable
(and registered under its ARN) until retention trims it, as AWS keeps a
disabled stream readable for 24 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import re
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from .._arns import dynamodb_stream_arn, dynamodb_table_arn
from .._core import (
    ResourceConflictException,
    ResourceNotFoundException,
    format_iso_ms,
    get_logger,
)
from ._base import Resource
from ._dynamodb_expr import apply_update, parse_update
from ._dynamodb_values import (
    MAX_ITEM_BYTES,
    AttributeValue,
    Item,
    canonical_key,
    copy_item,
    copy_json,
    item_size,
    normalize_item,
    normalize_value,
    to_stream_json,
)
from ._errors import ValidationException
from ._shardlog import ReadLimits, ShardLog, StreamConsumer, StreamLog, StreamRecord

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("DynamoDBRecord", "DynamoDBShard", "DynamoDBStream", "DynamoDBTable")

STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
RETENTION_SECONDS = 24 * 3600
READ_LIMITS = ReadLimits(max_records=1000, max_bytes=1024 * 1024)
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
TTL_MAX_PAST_MS = 5 * 365 * 24 * 3600 * 1000  # TTL ignores items expired over 5 years ago
EVENT_VERSION = "1.1"
_SEQ_SHARD_FACTOR = 10**20

_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_ACCEPTED = frozenset(
    {
        "TableName",
        "KeySchema",
        "AttributeDefinitions",
        "StreamSpecification",
        "TimeToLiveSpecification",
        "BillingMode",
        "ProvisionedThroughput",
        "Tags",
        "SSESpecification",
        "TableClass",
        "DeletionProtectionEnabled",
        "PointInTimeRecoverySpecification",
        "ContributorInsightsSpecification",
        "shard_count",
    }
)


class DynamoDBRecord(StreamRecord):
    """A DynamoDB stream record.

    ``key`` is the item key as a canonical string; ``dynamodb`` is the
    record's ``dynamodb`` field in Lambda's shape (shared, do not mutate);
    ``user_identity`` is set only for TTL deletions.
    """

    __slots__ = ("dynamodb", "event_id", "event_name", "user_identity")

    def __init__(
        self,
        seq: int,
        arrival_ms: int,
        key: str,
        size: int,
        *,
        event_id: str,
        event_name: str,
        dynamodb: dict[str, Any],
        user_identity: dict[str, str] | None,
    ) -> None:
        super().__init__(seq, arrival_ms, key, size)
        self.event_id = event_id
        self.event_name = event_name
        self.dynamodb = dynamodb
        self.user_identity = user_identity

    @property
    def sequence_number(self) -> str:
        """``dynamodb.SequenceNumber``."""
        return str(self.dynamodb["SequenceNumber"])


class DynamoDBShard(ShardLog[DynamoDBRecord]):
    """A DynamoDB Streams shard with its sequence counter."""

    __slots__ = ("_next_seq",)

    def __init__(self, shard_id: str, index: int, created_ms: int, base: int) -> None:
        super().__init__(shard_id, index, created_ms)
        self._next_seq = (index + 1) * _SEQ_SHARD_FACTOR + base

    def next_sequence(self) -> int:
        """A new sequence number, larger than every earlier one of this shard."""
        self._next_seq += 1
        return self._next_seq

    def owns_sequence(self, seq: int) -> bool:
        return seq // _SEQ_SHARD_FACTOR == self.index + 1


class _StreamSurface(StreamConsumer[DynamoDBRecord]):
    """What a table and its stream both offer: the consumer surface and the listings."""

    event_source = "aws:dynamodb"
    _owner: DynamoDBTable

    def stream_records(self) -> list[dict[str, Any]]:
        """The stream's records not yet trimmed, in Lambda's record shape (fresh dicts).

        Oldest first (by creation time, then shard, then sequence number).
        """
        table = self._owner
        table._expire_due()
        log = self._log
        horizon = log.horizon_ms(log.clock.now_ms())
        records: list[tuple[int, int, DynamoDBRecord]] = []
        for order, shard in enumerate(log.live_shards()):
            shard.trim(horizon)
            records.extend((r.arrival_ms, order, r) for r in shard.retained())
        records.sort(key=lambda t: (t[0], t[1], t[2].seq))
        return [table.lambda_record(r) for _, _, r in records]

    def lambda_record(self, record: DynamoDBRecord) -> dict[str, Any]:
        """One record as Lambda delivers it (§4.3), as a fresh dict."""
        return self._owner._lambda_record(record)


class DynamoDBStream(Resource, _StreamSurface):
    """A table's stream, registered under the stream ARN (what mappings name).

    It is the same stream as the table's own consumer surface; it stays
    registered after the table is deleted so that mappings can drain it.
    """

    resource_type = "AWS::DynamoDB::Stream"

    def __init__(
        self, table: DynamoDBTable, arn: str, label: str, log: StreamLog[DynamoDBRecord]
    ) -> None:
        super().__init__(table.sim, f"{table.name}/stream/{label}", arn)
        self._owner = table
        self._log = log
        self.label = label

    @property
    def stream_arn(self) -> str:
        """The stream ARN."""
        return self.arn

    @property
    def table(self) -> DynamoDBTable:
        """The table whose changes this stream carries."""
        return self._owner


class DynamoDBTable(Resource, _StreamSurface):
    """A DynamoDB table made with ``sim.dynamodb_table(name, **properties)``.

    Properties (CloudFormation names): ``KeySchema`` and
    ``AttributeDefinitions`` (required), ``StreamSpecification``,
    ``TimeToLiveSpecification``, ``BillingMode``, ``ProvisionedThroughput``,
    ``TableName``; ``Tags``, ``SSESpecification``, ``TableClass``,
    ``DeletionProtectionEnabled``, ``PointInTimeRecoverySpecification``,
    ``ContributorInsightsSpecification`` are accepted without effect.
    Simulator-only: ``shard_count`` (stream shards, default 1).
    """

    resource_type = "AWS::DynamoDB::Table"

    def __init__(self, sim: Simulation, name: str, **properties: Any) -> None:
        if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
            raise ValueError(
                f"name: {name!r} is not a table name (3-255 letters, digits, '_', '-', '.')"
            )
        super().__init__(sim, name, dynamodb_table_arn(sim.region, sim.account_id, name))
        unknown = sorted(set(properties) - _ACCEPTED)
        if unknown:
            raise TypeError(
                f"{unknown[0]}: unknown AWS::DynamoDB::Table property; "
                f"allowed: {', '.join(sorted(_ACCEPTED))}"
            )
        if properties.get("TableName", name) != name:
            raise ValueError(
                f"TableName: {properties['TableName']!r} differs from the table name {name!r}"
            )
        self.key_schema, self.key_types = _key_schema(
            properties.get("KeySchema"), properties.get("AttributeDefinitions")
        )
        self.billing_mode = _billing_mode(properties)
        self.stream_view_type = _stream_view_type(properties.get("StreamSpecification"))
        self.ttl_attribute = _ttl_attribute(properties.get("TimeToLiveSpecification"))
        shard_count = properties.get("shard_count", 1)
        if isinstance(shard_count, bool) or not isinstance(shard_count, int):
            raise TypeError(f"shard_count: expected an integer, got {type(shard_count).__name__}")
        if not 1 <= shard_count <= 1000:
            raise ValueError(f"shard_count: expected 1..1000, got {shard_count}")

        self._owner = self
        self._items: dict[str, Item] = {}
        self._ttl_heap: list[tuple[int, str, str]] = []  # (due ms, item key, TTL text)
        self._ttl_due: int | None = None
        self._ttl_handle: asyncio.TimerHandle | None = None
        clock = sim.clock
        self.created_ms = clock.now_ms()
        incarnation = f"{name}@{self.created_ms}"
        self._event_ids = sim.seeds.ids("dynamodb", incarnation)
        stream_ids = sim.seeds.ids("dynamodb-stream", incarnation)
        self.stream_label: str | None = None
        self._stream_arn: str | None = None
        where = f"in table {name}"
        if self.stream_view_type is not None:
            self.stream_label = format_iso_ms(self.created_ms)[:-1]
            self._stream_arn = dynamodb_stream_arn(
                sim.region, sim.account_id, name, self.stream_label
            )
            where = f"in stream {self._stream_arn}"
        self._log = StreamLog[DynamoDBRecord](
            kernel=sim.kernel,
            clock=clock,
            retention_seconds=RETENTION_SECONDS,
            limits=READ_LIMITS,
            invalid=ValidationException,
            where=where,
            iterator_types=ITERATOR_TYPES,
            on_access=self._expire_due,
        )
        self._shards: list[DynamoDBShard] = []
        if self._stream_arn is not None:
            for i in range(shard_count):
                shard_id = f"shardId-{self.created_ms:020d}-{stream_ids.hex(4)}"
                base = stream_ids.rng.randrange(10**9, 10**10)
                shard = DynamoDBShard(shard_id, i, self.created_ms, base)
                self._shards.append(shard)
                self._log.add(shard)
        self.stream: DynamoDBStream | None = None
        if self._stream_arn is not None and self.stream_label is not None:
            self.stream = DynamoDBStream(self, self._stream_arn, self.stream_label, self._log)
            if sim.resource(self._stream_arn) is not None:
                # A deleted table's stream (same name, same millisecond) is still readable.
                raise ResourceConflictException(f"Resource already exists: {self._stream_arn}")
        sim.register(self)
        if self.stream is not None:
            sim.register(self.stream)
        get_logger(table=name).debug(
            "dynamodb.table.created", stream=self._stream_arn, ttl=self.ttl_attribute
        )

    # -- identity ----------------------------------------------------------------------------
    @property
    def stream_arn(self) -> str | None:
        """The stream ARN (``.../stream/<creation time>``), or None without a stream."""
        return self._stream_arn

    @property
    def key_names(self) -> tuple[str, ...]:
        """The key attribute names: the partition key, then the sort key if any."""
        return self.key_schema

    def delete(self) -> None:
        """Delete the table; its stream's shards close and stay readable for 24 hours."""
        self._check_alive()
        now = self.clock.now_ms()
        for shard in self._shards:
            shard.close(now)
        self._items.clear()
        self._ttl_heap.clear()
        self._ttl_due = None
        super().delete()
        self._log.notify(*self._shards)

    def _check_target(self, table_name: str | None) -> None:
        """boto3 calls name the table; these methods accept that, if it names this one."""
        self._check_alive()
        if table_name is not None and table_name not in (self.name, self.arn):
            raise ValueError(f"TableName: {table_name!r} is not this table ({self.name!r})")

    def _check_alive(self) -> None:
        if self.deleted:
            raise ResourceNotFoundException(
                f"Requested resource not found: Table: {self.name} not found"
            )

    # -- keys ----------------------------------------------------------------------------------
    def _key(self, key: Any, field: str) -> tuple[Item, str]:
        """A normalized key and its canonical string; the key must match the schema exactly."""
        normalized = normalize_item(key, field)
        if set(normalized) != set(self.key_schema):
            raise ValidationException(
                f"{field}: The provided key element does not match the schema (expected "
                f"{self._schema_text()}, got {', '.join(sorted(normalized)) or 'nothing'})"
            )
        self._check_key_types(normalized, field)
        return normalized, canonical_key(normalized)

    def _item_key(self, item: Item, field: str) -> tuple[Item, str]:
        for name in self.key_schema:
            if name not in item:
                raise ValidationException(
                    f"{field}: One or more parameter values were invalid: Missing the key {name} "
                    "in the item"
                )
        key = {name: item[name] for name in self.key_schema}
        self._check_key_types(key, field)
        return key, canonical_key(key)

    def _check_key_types(self, key: Item, field: str) -> None:
        for name, expected in zip(self.key_schema, self.key_types, strict=True):
            (actual, raw) = next(iter(key[name].items()))
            if actual != expected:
                raise ValidationException(
                    f"{field}.{name}: One or more parameter values were invalid: Type mismatch "
                    f"for key {name} expected: {expected} actual: {actual}"
                )
            if actual in ("S", "B") and len(raw) == 0:
                raise ValidationException(
                    f"{field}.{name}: One or more parameter values are not valid. The "
                    "AttributeValue for a key attribute cannot contain an empty "
                    f"{'string' if actual == 'S' else 'binary'} value. Key: {name}"
                )

    def _schema_text(self) -> str:
        return ", ".join(f"{n} ({t})" for n, t in zip(self.key_schema, self.key_types, strict=True))

    # -- writes --------------------------------------------------------------------------------
    def put_item(
        self, *, Item: dict[str, Any], ReturnValues: str = "NONE", TableName: str | None = None
    ) -> dict[str, Any]:
        """PutItem: replace the whole item. ``ReturnValues``: ``NONE`` | ``ALL_OLD``."""
        self._check_target(TableName)
        _return_values(ReturnValues, ("NONE", "ALL_OLD"))
        item = normalize_item(Item, "Item")
        key, ckey = self._item_key(item, "Item")
        _check_size(item, "Item")
        self._expire_due()
        old = self._items.get(ckey)
        if old != item:
            self._items[ckey] = item
            self._track_ttl(ckey, item, old)
            self._emit("INSERT" if old is None else "MODIFY", ckey, key, old, item)
        if ReturnValues == "ALL_OLD" and old is not None:
            return {"Attributes": copy_item(old)}
        return {}

    def update_item(
        self,
        *,
        Key: dict[str, Any],
        UpdateExpression: str,
        ExpressionAttributeValues: dict[str, Any] | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ReturnValues: str = "NONE",
        TableName: str | None = None,
    ) -> dict[str, Any]:
        """UpdateItem with an update expression (SET, REMOVE, ADD, DELETE).

        Creates the item when it does not exist. ``ReturnValues``: ``NONE``,
        ``ALL_OLD``, ``ALL_NEW``, ``UPDATED_OLD``, ``UPDATED_NEW``.
        """
        self._check_target(TableName)
        _return_values(ReturnValues, ("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"))
        key, ckey = self._key(Key, "Key")
        names = _attribute_names(ExpressionAttributeNames)
        values = _attribute_values(ExpressionAttributeValues)
        plan = parse_update(UpdateExpression, names)
        undefined = sorted(plan.values_used - set(values))
        if undefined:
            raise ValidationException(
                "ExpressionAttributeValues: An expression attribute value used in expression is "
                f"not defined; attribute value: {undefined[0]}"
            )
        unused_values = sorted(set(values) - plan.values_used)
        if unused_values:
            raise ValidationException(
                "ExpressionAttributeValues: Value provided in ExpressionAttributeValues unused "
                f"in expressions: keys: {{{', '.join(unused_values)}}}"
            )
        unused_names = sorted(set(names) - plan.names_used)
        if unused_names:
            raise ValidationException(
                "ExpressionAttributeNames: Value provided in ExpressionAttributeNames unused in "
                f"expressions: keys: {{{', '.join(unused_names)}}}"
            )
        self._expire_due()
        old = self._items.get(ckey)
        after = apply_update(plan, old if old is not None else key, values, self.key_schema)
        _check_size(after, "UpdateExpression")
        if old is None or after != old:
            self._items[ckey] = after
            self._track_ttl(ckey, after, old)
            self._emit("INSERT" if old is None else "MODIFY", ckey, key, old, after)
        if ReturnValues == "NONE":
            return {}
        if ReturnValues in ("ALL_OLD", "ALL_NEW"):
            chosen = old if ReturnValues == "ALL_OLD" else after
            return {"Attributes": copy_item(chosen)} if chosen else {}
        touched = {str(p.parts[0]) for p in plan.paths()}
        source = (old or {}) if ReturnValues == "UPDATED_OLD" else after
        picked = {n: v for n, v in source.items() if n in touched}
        return {"Attributes": copy_item(picked)} if picked else {}

    def delete_item(
        self, *, Key: dict[str, Any], ReturnValues: str = "NONE", TableName: str | None = None
    ) -> dict[str, Any]:
        """DeleteItem. ``ReturnValues``: ``NONE`` | ``ALL_OLD``."""
        self._check_target(TableName)
        _return_values(ReturnValues, ("NONE", "ALL_OLD"))
        key, ckey = self._key(Key, "Key")
        self._expire_due()
        old = self._items.pop(ckey, None)
        if old is None:
            return {}
        self._emit("REMOVE", ckey, key, old, None)
        return {"Attributes": copy_item(old)} if ReturnValues == "ALL_OLD" else {}

    # -- reads ---------------------------------------------------------------------------------
    def get_item(
        self, *, Key: dict[str, Any], ConsistentRead: bool = False, TableName: str | None = None
    ) -> dict[str, Any]:
        """GetItem: ``{"Item": {...}}``, or ``{}`` when there is no such item."""
        self._check_target(TableName)
        _, ckey = self._key(Key, "Key")
        self._expire_due()
        item = self._items.get(ckey)
        return {"Item": copy_item(item)} if item is not None else {}

    def scan(self, *, TableName: str | None = None) -> dict[str, Any]:
        """Scan (no filters): ``{"Items": [...], "Count", "ScannedCount"}`` in key order."""
        self._check_target(TableName)
        self._expire_due()
        items = [copy_item(self._items[k]) for k in sorted(self._items)]
        return {"Items": items, "Count": len(items), "ScannedCount": len(items)}

    # -- stream records --------------------------------------------------------------------------
    def _emit(
        self,
        event_name: str,
        ckey: str,
        key: Item,
        old: Item | None,
        new: Item | None,
        user_identity: dict[str, str] | None = None,
    ) -> None:
        view = self.stream_view_type
        if view is None:
            return
        now = self.clock.now_ms()
        shard = self._route(key)
        shard.trim(self._log.horizon_ms(now))
        seq = shard.next_sequence()
        ddb: dict[str, Any] = {
            "ApproximateCreationDateTime": now // 1000,
            "Keys": to_stream_json(key),
        }
        size = item_size(key)
        if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            ddb["NewImage"] = to_stream_json(new)
            size += item_size(new)
        if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            ddb["OldImage"] = to_stream_json(old)
            size += item_size(old)
        ddb["SequenceNumber"] = str(seq)
        ddb["SizeBytes"] = size
        ddb["StreamViewType"] = view
        record = DynamoDBRecord(
            seq,
            now,
            ckey,
            size,
            event_id=self._event_ids.hex(16),
            event_name=event_name,
            dynamodb=ddb,
            user_identity=user_identity,
        )
        shard.append(record)
        self._log.notify(shard)

    def _route(self, key: Item) -> DynamoDBShard:
        if len(self._shards) == 1:
            return self._shards[0]
        partition = canonical_key({self.key_schema[0]: key[self.key_schema[0]]})
        digest = hashlib.md5(partition.encode(), usedforsecurity=False).digest()
        return self._shards[int.from_bytes(digest, "big") % len(self._shards)]

    def _lambda_record(self, record: DynamoDBRecord) -> dict[str, Any]:
        event: dict[str, Any] = {
            "eventID": record.event_id,
            "eventName": record.event_name,
            "eventVersion": EVENT_VERSION,
            "eventSource": "aws:dynamodb",
            "awsRegion": self.sim.region,
        }
        if record.user_identity is not None:
            event["userIdentity"] = dict(record.user_identity)
        event["dynamodb"] = copy_json(record.dynamodb)
        event["eventSourceARN"] = self._stream_arn
        return event

    # -- time to live --------------------------------------------------------------------------
    def _track_ttl(self, ckey: str, item: Item, old: Item | None) -> None:
        attr = self.ttl_attribute
        if attr is None:
            return
        value = item.get(attr)
        if value is None or "N" not in value:
            return
        if old is not None and old.get(attr) == value:
            return  # already scheduled
        ttl_ms = Decimal(value["N"]) * 1000
        due = int(ttl_ms.to_integral_value(rounding=ROUND_FLOOR)) + 1  # first ms with ttl < now
        if due <= self.clock.now_ms() - TTL_MAX_PAST_MS:
            return
        heapq.heappush(self._ttl_heap, (due, ckey, value["N"]))
        self._arm_ttl_timer(due)

    def _expire_due(self) -> None:
        """Delete every item whose TTL has passed, in (TTL, key) order."""
        heap = self._ttl_heap
        if not heap:
            return
        now = self.clock.now_ms()
        if heap[0][0] > now:
            return
        attr = self.ttl_attribute
        assert attr is not None
        while heap and heap[0][0] <= now:
            due, ckey, ttl_text = heapq.heappop(heap)
            item = self._items.get(ckey)
            if item is None or item.get(attr) != {"N": ttl_text}:
                continue  # deleted or re-timed since
            if due <= now - TTL_MAX_PAST_MS:
                continue
            del self._items[ckey]
            key = {name: item[name] for name in self.key_schema}
            self._emit("REMOVE", ckey, key, item, None, SERVICE_IDENTITY)

    def _arm_ttl_timer(self, due_ms: int) -> None:
        if self._ttl_due is not None and self._ttl_due <= due_ms:
            return
        self._ttl_due = due_ms
        self.sim.kernel.call_soon(self._schedule_ttl_timer)

    def _schedule_ttl_timer(self) -> None:
        # Runs on the loop thread (kernel.call_soon), so touching the loop is safe.
        if self._ttl_handle is not None:
            self._ttl_handle.cancel()
            self._ttl_handle = None
        due = self._ttl_due
        if due is None or self.deleted:
            return
        delay = max(0.0, (due - self.clock.now_ms()) / 1000)
        self._ttl_handle = self.sim.kernel.loop.call_later(delay, self._on_ttl_timer)

    def _on_ttl_timer(self) -> None:
        self._ttl_handle = None
        self._ttl_due = None
        if self.deleted:
            return
        self._expire_due()
        now = self.clock.now_ms()
        heap = self._ttl_heap
        if heap:
            self._arm_ttl_timer(max(heap[0][0], now + 1))


# -- property validation --------------------------------------------------------------------------
def _key_schema(schema: Any, definitions: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if schema is None:
        raise TypeError("KeySchema: required property missing")
    if definitions is None:
        raise TypeError("AttributeDefinitions: required property missing")
    if not isinstance(schema, list) or not 1 <= len(schema) <= 2:
        raise ValidationException("KeySchema: expected a list of 1 or 2 key elements")
    names: list[str] = []
    kinds: list[str] = []
    for i, element in enumerate(schema):
        if not isinstance(element, dict) or set(element) != {"AttributeName", "KeyType"}:
            raise ValidationException(
                f'KeySchema[{i}]: expected {{"AttributeName": ..., "KeyType": "HASH" | "RANGE"}}'
            )
        kinds.append(element["KeyType"])
        names.append(element["AttributeName"])
    if kinds not in (["HASH"], ["HASH", "RANGE"]):
        raise ValidationException(
            "KeySchema: Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
            if kinds[0] != "HASH"
            else "KeySchema: Too many hash keys specified.  All Dynamo DB tables must have "
            "exactly one hash key"
            if kinds.count("HASH") > 1
            else f"KeySchema: {kinds!r} is not HASH or HASH, RANGE"
        )
    if len(set(names)) != len(names):
        raise ValidationException(
            "KeySchema: Both the Hash Key and the Range Key element are the same"
        )
    if not isinstance(definitions, list):
        raise ValidationException("AttributeDefinitions: expected a list")
    types: dict[str, str] = {}
    for i, definition in enumerate(definitions):
        if not isinstance(definition, dict) or set(definition) != {
            "AttributeName",
            "AttributeType",
        }:
            raise ValidationException(
                f'AttributeDefinitions[{i}]: expected {{"AttributeName": ..., '
                '"AttributeType": "S" | "N" | "B"}'
            )
        if definition["AttributeType"] not in ("S", "N", "B"):
            raise ValidationException(
                f"AttributeDefinitions[{i}].AttributeType: "
                f"{definition['AttributeType']!r} is not one of S, N, B"
            )
        types[definition["AttributeName"]] = definition["AttributeType"]
    for name in names:
        if name not in types:
            raise ValidationException(
                f"AttributeDefinitions: One or more parameter values were invalid: Some index "
                f"key attributes are not defined in AttributeDefinitions. Keys: [{name}], "
                f"AttributeDefinitions: [{', '.join(types)}]"
            )
    if set(types) != set(names):
        raise ValidationException(
            "AttributeDefinitions: One or more parameter values were invalid: Number of "
            "attributes in KeySchema does not exactly match number of attributes defined in "
            "AttributeDefinitions"
        )
    return tuple(names), tuple(types[n] for n in names)


def _billing_mode(properties: dict[str, Any]) -> str:
    mode = properties.get("BillingMode", "PROVISIONED")
    if mode not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise ValidationException(
            f"BillingMode: {mode!r} is not one of PROVISIONED, PAY_PER_REQUEST"
        )
    throughput = properties.get("ProvisionedThroughput")
    if throughput is not None:
        if not isinstance(throughput, dict) or not set(throughput) <= {
            "ReadCapacityUnits",
            "WriteCapacityUnits",
        }:
            raise ValidationException(
                "ProvisionedThroughput: expected {ReadCapacityUnits, WriteCapacityUnits}"
            )
        if mode == "PAY_PER_REQUEST":
            raise ValidationException(
                "ProvisionedThroughput: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                "specified when BillingMode is PAY_PER_REQUEST"
            )
    return str(mode)


def _stream_view_type(spec: Any) -> str | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not set(spec) <= {"StreamViewType", "ResourcePolicy"}:
        raise TypeError('StreamSpecification: expected {"StreamViewType": ...}')
    view = spec.get("StreamViewType")
    if view not in STREAM_VIEW_TYPES:
        raise ValidationException(
            f"StreamSpecification.StreamViewType: {view!r} is not one of "
            f"{', '.join(STREAM_VIEW_TYPES)}"
        )
    return str(view)


def _ttl_attribute(spec: Any) -> str | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or not set(spec) <= {"AttributeName", "Enabled"}:
        raise TypeError('TimeToLiveSpecification: expected {"AttributeName": ..., "Enabled": ...}')
    enabled = spec.get("Enabled", False)
    if not isinstance(enabled, bool):
        raise TypeError(
            f"TimeToLiveSpecification.Enabled: expected a bool, got {type(enabled).__name__}"
        )
    name = spec.get("AttributeName")
    if enabled and (not isinstance(name, str) or not 1 <= len(name) <= 255):
        raise ValidationException(
            "TimeToLiveSpecification.AttributeName: must be 1-255 characters when Enabled"
        )
    return name if enabled else None


def _return_values(value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationException(
            f"ReturnValues: {value!r} is not one of {', '.join(allowed)} for this operation"
        )


def _attribute_names(names: Any) -> dict[str, str]:
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise TypeError(f"ExpressionAttributeNames: expected a dict, got {type(names).__name__}")
    for placeholder, name in names.items():
        if not isinstance(placeholder, str) or not placeholder.startswith("#"):
            raise ValidationException(
                f"ExpressionAttributeNames: ExpressionAttributeNames contains invalid key: "
                f'Syntax error; key: "{placeholder}"'
            )
        if not isinstance(name, str) or not name:
            raise ValidationException(
                f"ExpressionAttributeNames.{placeholder}: ExpressionAttributeNames contains "
                f"invalid value: Empty attribute name for key {placeholder}"
            )
    return dict(names)


def _attribute_values(values: Any) -> dict[str, AttributeValue]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise TypeError(f"ExpressionAttributeValues: expected a dict, got {type(values).__name__}")
    out: dict[str, AttributeValue] = {}
    for placeholder, value in values.items():
        if not isinstance(placeholder, str) or not placeholder.startswith(":"):
            raise ValidationException(
                f"ExpressionAttributeValues: ExpressionAttributeValues contains invalid key: "
                f'Syntax error; key: "{placeholder}"'
            )
        out[placeholder] = normalize_value(value, f"ExpressionAttributeValues.{placeholder}")
    return out


def _check_size(item: Item, field: str) -> None:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException(
            f"{field}: Item size has exceeded the maximum allowed size ({size} bytes > "
            f"{MAX_ITEM_BYTES})"
        )
