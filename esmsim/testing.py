"""Helpers for testing Lambda handlers with esmsim, with failures that explain themselves.

Everything here works with or without pytest; the pytest plugin
(``esmsim.pytest_plugin``, active once esmsim is installed) wraps it in fixtures.

* Events and contexts for calling a handler directly: ``EventFactory`` builds SQS,
  Kinesis and DynamoDB Streams events with the same record builders the pollers use
  (so they validate with Powertools' parser models) and Lambda context objects with
  the real runtime's attributes. ``dynamodb_item`` turns plain Python values into
  DynamoDB JSON.
* Assertions on what a simulation delivered: ``assert_delivered_once`` and
  ``assert_in_order``; their messages name the offending ids and show the run's
  ``timeline``.
* Reading what a run left behind: ``failure_records`` (OnFailure destinations) and
  ``dead_letters`` (a dead-letter queue).
* ``capture_logs``: esmsim's structured log events as dicts.
* ``EsmsimWarning``: what the plugin raises when a run shows a misconfiguration that
  silently loses records in AWS (a handler's ``batchItemFailures`` ignored because
  the mapping lacks ``ReportBatchItemFailures``; an OnFailure destination that
  cannot take the failure record).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import math
import warnings
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from ._arns import (
    dynamodb_stream_arn,
    kinesis_stream_arn,
    lambda_function_arn,
    role_arn,
    sqs_queue_arn,
)
from ._core import Clock, Seeds, _logging, format_iso_ms
from .handlers.context import LambdaContext
from .handlers.responses import parse_batch_response
from .pollers._events import dynamodb_event_record, kinesis_event_record, sqs_event_record
from .simulation import Simulation
from .sources._dynamodb_values import item_size, normalize_item, to_stream_json
from .sources._sqs_md5 import md5_of_body, md5_of_message_attributes
from .sources.sqs import sender_id_for

if TYPE_CHECKING:
    from .handlers.invocation import Invocation

__all__ = (
    "EsmsimWarning",
    "EventFactory",
    "LambdaContextFactory",
    "assert_delivered_once",
    "assert_in_order",
    "capture_logs",
    "dead_letters",
    "dynamodb_item",
    "failure_records",
    "record_id",
    "timeline",
)

T = TypeVar("T")

DEFAULT_START_TIME = datetime(2026, 1, 1, tzinfo=UTC)
TIMELINE_MAX_LINES = 120
"""Longer timelines keep their first and last lines; ``timeline(sim, limit=None)`` has all."""


class EsmsimWarning(UserWarning):
    """Raised (as a warning) when a run shows a configuration that loses records in AWS.

    The pytest plugin turns it into an error by default, at the line that ran the
    simulation; ``pytest.warns(EsmsimWarning)`` or a ``filterwarnings`` mark allows it.
    """


# -- log capture ---------------------------------------------------------------------------
# The pytest plugin captures each ``esm_sim`` test's log events for the timeline;
# they are kept here per simulation (weakly, so a closed simulation goes away).
_sim_logs: weakref.WeakKeyDictionary[Simulation, list[dict[str, Any]]] = weakref.WeakKeyDictionary()


def _attach_logs(sim: Simulation, events: list[dict[str, Any]]) -> None:
    """Let ``timeline(sim)`` read ``events`` (what the plugin captured for ``sim``)."""
    _sim_logs[sim] = events


@contextlib.contextmanager
def capture_logs(level: str = "debug") -> Iterator[list[dict[str, Any]]]:
    """Collect esmsim's log events as dicts instead of writing them.

    Each event has ``event`` (a dotted name such as ``record.dropped``), ``log_level``,
    ``sim_time`` (simulated ISO time) and the bound context (``mapping``,
    ``function``, ...). Nested captures each see every event: what an inner capture
    collected is passed on to the outer one when it ends, so this does not hide events
    from the pytest plugin's timeline.

    Args:
        level: the lowest level collected (``debug``, ``info``, ``warning``...).
    """
    outer = _logging._settings.captured
    with _logging.capture(level) as events:
        yield events
    if outer is not None:
        outer.extend(events)


# -- plain Python values -> DynamoDB JSON -----------------------------------------------
def _attribute(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: DynamoDB numbers cannot be {value!r}")
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): _attribute(v, f"{where}.{k}") for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, set | frozenset):
        return _set_attribute(value, where)
    raise TypeError(f"{where}: {type(value).__name__} has no DynamoDB type")


def _set_attribute(value: set[Any] | frozenset[Any], where: str) -> dict[str, Any]:
    if not value:
        raise ValueError(f"{where}: DynamoDB sets cannot be empty")
    if all(isinstance(v, str) for v in value):
        return {"SS": sorted(value)}
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value):
        return {"NS": sorted(str(v) for v in value)}
    if all(isinstance(v, bytes | bytearray) for v in value):
        return {"BS": sorted(bytes(v) for v in value)}
    raise TypeError(f"{where}: a DynamoDB set holds only strings, only numbers or only bytes")


def dynamodb_item(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain Python values as a DynamoDB item (what ``table.put_item(Item=...)`` takes).

    ``str`` -> S, ``int``/``float``/``Decimal`` -> N, ``bytes`` -> B, ``bool`` -> BOOL,
    ``None`` -> NULL, ``dict`` -> M, ``list``/``tuple`` -> L, a ``set`` of strings,
    numbers or bytes -> SS/NS/BS (as boto3's ``TypeSerializer`` does). Numbers are
    normalized as DynamoDB stores them (``1.50`` -> ``"1.5"``).
    """
    raw = {str(name): _attribute(value, str(name)) for name, value in values.items()}
    return normalize_item(raw, "Item")


# -- events and contexts for direct handler calls -------------------------------------------
def _epoch_ms(value: datetime | float) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return math.floor(moment.timestamp() * 1000)
    return math.floor(float(value) * 1000)


class _StillClock:
    """A clock that reads one instant: a directly called handler spends no simulated time."""

    def __init__(self, now_ms: int) -> None:
        self._now_ms = now_ms

    def now_ms(self) -> int:
        return self._now_ms


class LambdaContextFactory(LambdaContext):
    """A Lambda context that also makes more contexts when called.

    Used as is, it is a context for a function named ``fn`` (what the
    ``lambda_context`` fixture gives); calling it makes a new context with a fresh
    ``aws_request_id``::

        handler(event, lambda_context)
        handler(event, lambda_context(function_name="orders", timeout=30, memory=512))

    Attributes are those of the Python runtime (``memory_limit_in_mb`` is a string).
    ``get_remaining_time_in_millis()`` is ``remaining_ms`` (default the whole
    ``timeout``): time stands still while a test calls a handler, as it does for plain
    handlers in a virtual-time simulation.
    """

    def __init__(
        self,
        *,
        seeds: Seeds,
        now_ms: int,
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self._seeds = seeds
        self._now_ms = now_ms
        self._region = region
        self._account_id = account_id
        self._request_ids = seeds.ids("testing-context", "request")
        self._stream_ids = seeds.ids("testing-context", "log-stream")
        self._init("fn", 3, 128, None, None, "$LATEST")

    def _init(
        self,
        function_name: str,
        timeout: float,
        memory: int,
        remaining_ms: int | None,
        request_id: str | None,
        function_version: str,
    ) -> None:
        now = self._now_ms
        day = datetime.fromtimestamp(now // 1000, tz=UTC)
        budget = int(timeout * 1000) if remaining_ms is None else int(remaining_ms)
        arn = lambda_function_arn(self._region, self._account_id, function_name)
        if function_version != "$LATEST":
            arn = f"{arn}:{function_version}"
        super().__init__(
            clock=cast(Clock, _StillClock(now)),
            deadline_ms=now + budget,
            function_name=function_name,
            invoked_function_arn=arn,
            memory_limit_in_mb=str(memory),
            aws_request_id=request_id or self._request_ids.uuid4(),
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"{day:%Y/%m/%d}/[{function_version}]{self._stream_ids.hex(16)}",
            function_version=function_version,
        )

    def __call__(
        self,
        function_name: str = "fn",
        *,
        timeout: float = 3,
        memory: int = 128,
        remaining_ms: int | None = None,
        request_id: str | None = None,
        function_version: str = "$LATEST",
    ) -> LambdaContext:
        """A new context (fresh ``aws_request_id``) for ``function_name``.

        Args:
            function_name: the function's name (in the ARN and log group too).
            timeout: the function's ``Timeout`` in seconds.
            memory: ``MemorySize`` in MB (``memory_limit_in_mb`` is its string).
            remaining_ms: what ``get_remaining_time_in_millis()`` returns (default
                ``timeout`` in ms), e.g. to test a handler that stops early.
            request_id: a fixed ``aws_request_id`` (default: a seeded UUID).
            function_version: ``$LATEST`` or a version number (added to the ARN).
        """
        made = LambdaContextFactory.__new__(LambdaContextFactory)
        made._seeds = self._seeds
        made._now_ms = self._now_ms
        made._region = self._region
        made._account_id = self._account_id
        made._request_ids = self._request_ids
        made._stream_ids = self._stream_ids
        made._init(function_name, timeout, memory, remaining_ms, request_id, function_version)
        return made


@dataclass(slots=True)
class _SqsMessage:
    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    md5_of_message_attributes: str | None
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]


@dataclass(slots=True)
class _DynamoDBChange:
    event_id: str
    event_name: str
    dynamodb: dict[str, Any]
    user_identity: dict[str, str] | None


_TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_VIEWS = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")


def _sqs_attribute(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        if "DataType" not in value:
            raise ValueError(f"message_attributes[{name!r}]: a boto3-shaped value needs DataType")
        return dict(value)
    if isinstance(value, bool):
        return {"DataType": "String", "StringValue": str(value).lower()}
    if isinstance(value, int | float | Decimal):
        return {"DataType": "Number", "StringValue": str(value)}
    if isinstance(value, str):
        return {"DataType": "String", "StringValue": value}
    if isinstance(value, bytes | bytearray):
        return {"DataType": "Binary", "BinaryValue": bytes(value)}
    raise TypeError(f"message_attributes[{name!r}]: {type(value).__name__} is not an SQS type")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _data(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


class EventFactory:
    """Builds AWS-exact Lambda events (and contexts) for calling handlers directly.

    The records come from the builders esmsim's pollers use, so a handler sees in a
    unit test exactly what it sees in a simulation: they validate with Powertools'
    ``SqsModel``, ``KinesisDataStreamModel`` and ``DynamoDBStreamModel``. Ids
    (message ids, sequence numbers, event ids, request ids) are drawn from ``seed``;
    each call gives new ones, and sequence numbers grow from call to call.

    Args:
        seed: where ids come from (the pytest plugin passes the test's seed).
        region, account_id: used in ARNs and ``awsRegion``.
        start_time: the records' timestamps (default 2026-01-01T00:00:00Z, the
            simulation's default start); each record is 1 ms later than the last.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        start_time: datetime | float = DEFAULT_START_TIME,
    ) -> None:
        self.seed = seed
        self.region = region
        self.account_id = account_id
        self._seeds = Seeds(seed)
        self._start_ms = _epoch_ms(start_time)
        self._now_ms = self._start_ms
        self._sqs_ids = self._seeds.ids("testing-sqs", "messages")
        self._sqs_sequence = 18 * 10**18 + self._seeds.rng("testing-sqs", "sequence").randrange(
            10**18
        )
        self._kinesis_counter = self._seeds.rng("testing-kinesis", "counter").randrange(
            10**33, 10**34
        )
        self._ddb_ids = self._seeds.ids("testing-dynamodb", "events")
        self._ddb_sequence = 100000000000000000000 + self._seeds.rng(
            "testing-dynamodb", "sequence"
        ).randrange(10**9, 10**10)
        self.lambda_context = LambdaContextFactory(
            seeds=self._seeds, now_ms=self._start_ms, region=region, account_id=account_id
        )

    def _tick(self) -> int:
        now = self._now_ms
        self._now_ms += 1
        return now

    # -- SQS ---------------------------------------------------------------------------------
    def sqs_event(
        self,
        *bodies: Any,
        queue: str = "my-queue",
        fifo: bool | None = None,
        group_id: str = "group-1",
        message_attributes: Mapping[str, Any] | None = None,
        attributes: Mapping[str, str] | None = None,
        receive_count: int = 1,
    ) -> dict[str, Any]:
        """An SQS event with one record per body (``{"Records": [...]}``).

        Args:
            bodies: message bodies; a ``str`` is sent as is, anything else as JSON.
            queue: the queue name (in ``eventSourceARN``).
            fifo: a FIFO queue's records (``MessageGroupId``, ``SequenceNumber``,
                content-based ``MessageDeduplicationId``); default: when ``queue``
                ends in ``.fifo``. ``fifo=True`` adds the suffix if missing.
            group_id: the FIFO ``MessageGroupId``.
            message_attributes: name -> value; plain ``str``/numbers/``bytes`` or
                boto3's ``{"DataType": ..., "StringValue": ...}`` shape. The same
                attributes go on every record (with their real MD5).
            attributes: system attributes to override, e.g.
                ``{"AWSTraceHeader": "Root=1-..."}``.
            receive_count: ``ApproximateReceiveCount`` (>1 for a redelivery).
        """
        if not bodies:
            raise ValueError(
                "sqs_event: give at least one body (Lambda never sends an empty batch)"
            )
        fifo = queue.endswith(".fifo") if fifo is None else fifo
        if fifo and not queue.endswith(".fifo"):
            queue += ".fifo"
        arn = sqs_queue_arn(self.region, self.account_id, queue)
        boto_attrs = {
            str(name): _sqs_attribute(str(name), value)
            for name, value in (message_attributes or {}).items()
        }
        sender = sender_id_for(self.account_id)
        records = []
        for body in bodies:
            text = _text(body)
            sent = self._tick()
            system = {
                "ApproximateReceiveCount": str(receive_count),
                "SentTimestamp": str(sent),
                "SenderId": sender,
                "ApproximateFirstReceiveTimestamp": str(sent + 1),
            }
            if fifo:
                self._sqs_sequence += 1
                system["SequenceNumber"] = str(self._sqs_sequence)
                system["MessageGroupId"] = group_id
                system["MessageDeduplicationId"] = hashlib.sha256(text.encode()).hexdigest()
            system.update(attributes or {})
            message = _SqsMessage(
                message_id=self._sqs_ids.uuid4(),
                receipt_handle=base64.b64encode(
                    b"\x01\x01\x01" + self._sqs_ids.rng.randbytes(48)
                ).decode("ascii"),
                body=text,
                md5_of_body=md5_of_body(text),
                md5_of_message_attributes=md5_of_message_attributes(boto_attrs),
                attributes=system,
                message_attributes={k: dict(v) for k, v in boto_attrs.items()},
            )
            records.append(sqs_event_record(message, arn, self.region))
        return {"Records": records}

    # -- Kinesis -----------------------------------------------------------------------------
    def kinesis_event(
        self,
        *payloads: Any,
        partition_key: str | Sequence[str] = "partition-key",
        stream: str = "my-stream",
        shard_id: str = "shardId-000000000000",
        function_name: str = "fn",
    ) -> dict[str, Any]:
        """A Kinesis event with one record per payload.

        Args:
            payloads: ``bytes`` are the data as is, ``str`` is UTF-8 encoded, anything
                else is JSON (``record.kinesis.data_as_json()`` gives it back).
            partition_key: one key for every record, or one per record.
            stream: the stream name (in ``eventSourceARN``).
            shard_id: the shard (in ``eventID``).
            function_name: whose role is ``invokeIdentityArn``
                (``arn:aws:iam::<account>:role/<function_name>-role``).
        """
        if not payloads:
            raise ValueError("kinesis_event: give at least one payload")
        keys = (
            [partition_key] * len(payloads)
            if isinstance(partition_key, str)
            else list(partition_key)
        )
        if len(keys) != len(payloads):
            raise ValueError(
                f"partition_key: {len(keys)} keys for {len(payloads)} payloads; "
                "give one key, or one per payload"
            )
        from .sources.kinesis import KinesisRecord, KinesisShard

        index = int(shard_id.rsplit("-", 1)[-1]) if shard_id[-1:].isdigit() else 0
        shard = KinesisShard(index, self._start_ms, (0, 2**128 - 1), self._kinesis_counter)
        arn = kinesis_stream_arn(self.region, self.account_id, stream)
        role = role_arn(self.account_id, f"{function_name}-role")
        records = []
        for payload, key in zip(payloads, keys, strict=True):
            data = _data(payload)
            arrival = self._tick()
            size = len(data) + len(key.encode())
            seq = str(shard.write(arrival, key, data, size))
            record = KinesisRecord(seq, arrival, key, data, size)
            records.append(kinesis_event_record(record, shard_id, arn, self.region, role))
        self._kinesis_counter += len(payloads)
        return {"Records": records}

    # -- DynamoDB Streams -------------------------------------------------------------------------
    def dynamodb_event(
        self,
        *changes: Mapping[str, Any],
        new_image: Mapping[str, Any] | None = None,
        old_image: Mapping[str, Any] | None = None,
        keys: Mapping[str, Any] | Sequence[str] | None = None,
        event_name: Literal["INSERT", "MODIFY", "REMOVE"] | None = None,
        ttl_delete: bool = False,
        table: str = "my-table",
        stream_view_type: str = "NEW_AND_OLD_IMAGES",
    ) -> dict[str, Any]:
        """A DynamoDB Streams event: one record from the keyword arguments, or one per
        mapping in ``changes`` (each holding the same keyword names).

        Images and keys are plain Python values, converted to DynamoDB JSON (see
        ``dynamodb_item``). ``SizeBytes`` and ``SequenceNumber`` are what DynamoDB
        would write.

        Args:
            new_image, old_image: the item after and before the change.
            keys: the item's key: a dict of values, or the key attribute names to
                take from the image (default: the image's first attribute).
            event_name: default ``INSERT`` with only a new image, ``MODIFY`` with
                both, ``REMOVE`` with only an old one.
            ttl_delete: a deletion by Time to Live (``REMOVE`` with the service's
                ``userIdentity``).
            table: the table name (in ``eventSourceARN``).
            stream_view_type: which images the record carries, as the stream's
                ``StreamViewType`` decides.
        """
        specs: list[Mapping[str, Any]] = list(changes)
        single = {
            "new_image": new_image,
            "old_image": old_image,
            "keys": keys,
            "event_name": event_name,
            "ttl_delete": ttl_delete,
        }
        if new_image is not None or old_image is not None or keys is not None:
            specs.append(single)
        if not specs:
            raise ValueError("dynamodb_event: give new_image and/or old_image (or changes)")
        if stream_view_type not in _VIEWS:
            raise ValueError(f"stream_view_type: {stream_view_type!r} is not one of {_VIEWS}")
        label = format_iso_ms(self._start_ms)[:-1]
        arn = dynamodb_stream_arn(self.region, self.account_id, table, label)
        records = []
        for n, spec in enumerate(specs):
            unknown = set(spec) - set(single)
            if unknown:
                raise TypeError(f"changes[{n}]: unknown keys {sorted(unknown)}")
            change = self._dynamodb_change(
                spec.get("new_image"),
                spec.get("old_image"),
                spec.get("keys"),
                spec.get("event_name"),
                bool(spec.get("ttl_delete", False)),
                stream_view_type,
            )
            records.append(dynamodb_event_record(change, arn, self.region))
        return {"Records": records}

    def _dynamodb_change(
        self,
        new_image: Mapping[str, Any] | None,
        old_image: Mapping[str, Any] | None,
        keys: Mapping[str, Any] | Sequence[str] | None,
        event_name: str | None,
        ttl_delete: bool,
        view: str,
    ) -> _DynamoDBChange:
        new = dynamodb_item(new_image) if new_image is not None else None
        old = dynamodb_item(old_image) if old_image is not None else None
        image = new if new is not None else old
        if isinstance(keys, Mapping):
            key = dynamodb_item(keys)
        else:
            if image is None or not image:
                raise ValueError("keys: give keys, or an image to take them from")
            names = [next(iter(image))] if keys is None else list(keys)
            missing = [name for name in names if name not in image]
            if missing:
                raise ValueError(f"keys: {missing} not in the image")
            key = {name: image[name] for name in names}
        if event_name is None:
            if ttl_delete or new is None:
                event_name = "REMOVE"
            elif old is None:
                event_name = "INSERT"
            else:
                event_name = "MODIFY"
        if event_name not in ("INSERT", "MODIFY", "REMOVE"):
            raise ValueError(f"event_name: {event_name!r} is not INSERT, MODIFY or REMOVE")
        now = self._tick()
        record: dict[str, Any] = {
            "ApproximateCreationDateTime": now // 1000,
            "Keys": to_stream_json(key),
        }
        size = item_size(key)
        if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            record["NewImage"] = to_stream_json(new)
            size += item_size(new)
        if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            record["OldImage"] = to_stream_json(old)
            size += item_size(old)
        self._ddb_sequence += 1
        record["SequenceNumber"] = str(self._ddb_sequence)
        record["SizeBytes"] = size
        record["StreamViewType"] = view
        return _DynamoDBChange(
            event_id=self._ddb_ids.hex(16),
            event_name=event_name,
            dynamodb=record,
            user_identity=dict(_TTL_IDENTITY) if ttl_delete else None,
        )


# -- reading records and invocations ------------------------------------------------------------
def record_id(record: Mapping[str, Any]) -> str:
    """A record's item identifier, as ``batchItemFailures`` names it.

    SQS ``messageId``, Kinesis ``kinesis.sequenceNumber``, DynamoDB
    ``dynamodb.SequenceNumber``.
    """
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    if "dynamodb" in record:
        return str(record["dynamodb"]["SequenceNumber"])
    return str(record["messageId"])


def _default_order_key(record: Mapping[str, Any]) -> Any:
    if "kinesis" in record:
        return record["kinesis"]["partitionKey"]
    if "dynamodb" in record:
        return json.dumps(record["dynamodb"].get("Keys"), sort_keys=True)
    return record.get("attributes", {}).get("MessageGroupId")


def _source_order(record: Mapping[str, Any]) -> int:
    if "kinesis" in record:
        return int(record["kinesis"]["sequenceNumber"])
    if "dynamodb" in record:
        return int(record["dynamodb"]["SequenceNumber"])
    attrs = record.get("attributes", {})
    return int(attrs.get("SequenceNumber") or attrs.get("SentTimestamp") or 0)


@dataclass(slots=True)
class _Delivery:
    """One invocation, read as esmsim's pollers read it."""

    number: int
    inv: Invocation
    records: list[dict[str, Any]]
    ids: list[str]
    reported: tuple[str, ...] = ()  # ids the handler listed in batchItemFailures
    malformed: str | None = None  # why a response meant "all failed", if it did
    honoured: bool | None = None  # the mapping has ReportBatchItemFailures
    mapping_label: str = ""

    @property
    def processed(self) -> list[str]:
        """Ids the handler processed without reporting them failed."""
        if not self.inv.ok or self.malformed:
            return []
        failed = set(self.reported)
        return [i for i in self.ids if i not in failed]

    @property
    def ignored(self) -> bool:
        """The handler reported failures that Lambda ignored (no ReportBatchItemFailures)."""
        return self.inv.ok and self.honoured is False and bool(self.reported or self.malformed)


def _function_sim(fn: Any) -> Simulation | None:
    sim = getattr(fn, "sim", None)
    return cast("Simulation | None", sim)


def _mappings_by_uuid(sim: Simulation | None) -> dict[str, Any]:
    return {} if sim is None else {m.uuid: m for m in sim.mappings()}


def _source_name(arn: str) -> str:
    if ":kinesis:" in arn:
        return "kinesis:" + arn.split(":stream/", 1)[-1]
    if ":dynamodb:" in arn:
        return "dynamodb:" + arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    return "sqs:" + arn.rsplit(":", 1)[-1]


def _arn_name(arn: str) -> str:
    """``sqs:name``, ``sns:name`` or ``s3:name`` for a destination ARN."""
    parts = arn.split(":")
    return f"{parts[2]}:{parts[-1]}" if len(parts) >= 6 else arn


def _deliveries(invocations: Iterable[Invocation], mappings: Mapping[str, Any]) -> list[_Delivery]:
    out: list[_Delivery] = []
    for number, inv in enumerate(invocations, 1):
        event = inv.event
        records = event.get("Records") if isinstance(event, dict) else None
        records = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
        ids = [record_id(r) for r in records]
        delivery = _Delivery(number, inv, records, ids)
        mapping = mappings.get(inv.mapping_uuid or "")
        if mapping is not None:
            delivery.honoured = bool(mapping.settings.report_batch_item_failures)
            delivery.mapping_label = _source_name(mapping.settings.event_source_arn)
        elif inv.source:
            delivery.mapping_label = f"{inv.source}:{(inv.mapping_uuid or '?')[:8]}"
        if inv.ok and ids:
            family: Literal["stream", "sqs"] = "sqs" if inv.source == "sqs" else "stream"
            # Read the response as a mapping with ReportBatchItemFailures would: that
            # is what the handler meant, whether or not Lambda listens.
            parsed = parse_batch_response(inv, family, ids, report_batch_item_failures=True)
            if parsed.kind == "partial":
                delivery.reported = parsed.failed_ids
            elif parsed.kind == "failure":
                delivery.malformed = parsed.reason or "invalid response"
        out.append(delivery)
    return out


# -- timeline ---------------------------------------------------------------------------------
_TIMELINE_EVENTS = frozenset(
    {
        "record.dropped",
        "record.expired",
        "batch.bisected",
        "checkpoint.advanced",
        "destination.delivery_failed",
        "handler.batch_item_failures_ignored",
        "dlq.redrive",
        "invoke.throttled",
    }
)


def _short(ident: str) -> str:
    if len(ident) <= 12:
        return ident
    if ident.isdigit():
        return "…" + ident[-8:]
    return ident[:8]


def _shard(shard_id: str) -> str:
    """``shard 0`` for Kinesis's ``shardId-000000000000``; DynamoDB's by its last part."""
    tail = shard_id.rsplit("-", 1)[-1]
    if shard_id.count("-") == 1 and tail.isdigit():
        return f"shard {int(tail)}"
    return f"shard …{tail}"


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _elapsed(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    days, ms = divmod(ms, 86_400_000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"
    return f"+{days}d {text}" if days else f"+{text}"


def _event_ms(event: Mapping[str, Any]) -> int | None:
    stamp = event.get("sim_time")
    if not isinstance(stamp, str):
        return None
    return math.floor(datetime.fromisoformat(stamp).timestamp() * 1000 + 1e-3)


def _outcome(d: _Delivery) -> str:
    inv = d.inv
    if inv.status == "timeout":
        return "TIMEOUT"
    if not inv.ok:
        message = _clip(inv.error_message or "")
        return f"ERROR {inv.error}" + (f": {message}" if message else "")
    if d.malformed:
        if d.honoured is False:
            return f"OK (malformed batchItemFailures ignored: {d.malformed})"
        return f"FAILED (response: {d.malformed})"
    if not d.reported:
        return "OK"
    names = ", ".join(_short(i) for i in d.reported[:3]) + (", …" if len(d.reported) > 3 else "")
    text = f"OK, reported {len(d.reported)} failed: {names}"
    if d.honoured is False:
        return text + " -- IGNORED: the mapping lacks ReportBatchItemFailures"
    if d.inv.source != "sqs" and d.ids and d.reported:
        return text + f"; checkpoint at {_short(d.reported[0])}"
    return text


def _log_line(
    event: Mapping[str, Any], labels: Mapping[str, str], mappings: Mapping[str, Any]
) -> str:
    name = str(event.get("event"))
    mapping = mappings.get(str(event.get("mapping", "")))
    where = labels.get(str(event.get("mapping", "")), "")
    shard = event.get("shard")
    if shard:
        where = f"{where} {_shard(str(shard))}".strip()
    if name == "record.dropped":
        first, last = str(event.get("first", "")), str(event.get("last", ""))
        span = _short(first) if first == last else f"{_short(first)}..{_short(last)}"
        destination = mapping.settings.on_failure_destination if mapping is not None else None
        goes = f"-> OnFailure {_arn_name(destination)}" if destination else "-> dropped"
        return (
            f"{where}: discarded {event.get('count')} record(s) {span} "
            f"({event.get('condition')}) {goes}"
        )
    if name == "record.expired":
        return f"{where}: {event.get('count')} record(s) expired ({event.get('reason')})"
    if name == "batch.bisected":
        sizes = event.get("sizes") or []
        return f"{where}: batch bisected into {' + '.join(str(s) for s in sizes)}"
    if name == "dlq.redrive":
        target = str(event.get("dead_letter_queue", "")).rsplit(":", 1)[-1]
        return f"sqs:{event.get('queue')}: {event.get('count')} message(s) moved to DLQ {target}"
    if name == "destination.delivery_failed":
        return (
            f"{where}: OnFailure delivery to {event.get('destination')} failed "
            f"({event.get('reason')}); the records were dropped"
        )
    if name == "handler.batch_item_failures_ignored":
        return f"{where}: WARNING {event.get('reason')}"
    if name == "invoke.throttled":
        return f"{event.get('function')}: invocation throttled"
    details = {k: v for k, v in event.items() if k not in ("event", "log_level", "sim_time")}
    return f"{where}: {name} {details}"


def timeline(sim: Simulation, *, limit: int | None = TIMELINE_MAX_LINES) -> str:
    """A compact text timeline of the run, one line per invocation.

    Each line: simulated time since the start, function, source (and shard), batch
    size and id range, outcome (``OK``, reported failures and where the checkpoint
    went, ``ERROR``/``TIMEOUT``), and notes (stream retry number, SQS receive
    count). With the pytest plugin's log capture (tests using ``esm_sim``) it also
    shows bisects, discards, expiries, DLQ moves, destination failures and throttles,
    in the order they happened.

    Args:
        sim: the simulation.
        limit: at most this many lines (first and last halves kept); None for all.
    """
    from .handlers.function import Function

    functions = [r for r in sim.resources() if isinstance(r, Function)]
    mappings = _mappings_by_uuid(sim)
    labels = {uuid: _source_name(m.settings.event_source_arn) for uuid, m in mappings.items()}
    invocations = sorted(
        (inv for fn in functions for inv in fn.invocations), key=lambda inv: inv.started_at
    )
    deliveries = _deliveries(invocations, mappings)
    by_request = {d.inv.request_id: d for d in deliveries if d.inv.request_id}
    width = max((len(f.name) for f in functions), default=2)
    logs = _sim_logs.get(sim, [])
    names = {f.name for f in functions} | {r.name for r in sim.resources()}

    entries: list[tuple[int, int, str]] = []
    placed: set[str] = set()
    last_ms = sim.clock.to_ms(sim.clock.start)
    for position, event in enumerate(logs):
        ms = _event_ms(event)
        last_ms = ms if ms is not None else last_ms
        name = event.get("event")
        if name == "invoke.start":
            request = str(event.get("request_id"))
            d = by_request.get(request)
            if d is not None and request not in placed:
                placed.add(request)
                entries.append((last_ms, position, _invocation_line(d, width, deliveries)))
            continue
        if name not in _TIMELINE_EVENTS:
            continue
        mapping = event.get("mapping")
        if mapping is not None and mapping not in labels:
            continue
        if mapping is None and not ({event.get("queue"), event.get("function")} & names):
            continue
        entries.append((last_ms, position, f"{'':{width}}  {_log_line(event, labels, mappings)}"))
    for d in deliveries:
        if d.inv.request_id not in placed:
            ms = sim.clock.to_ms(d.inv.started_at)
            entries.append((ms, -1, _invocation_line(d, width, deliveries)))
    entries.sort(key=lambda e: (e[0], e[1]))
    start = sim.clock.start
    lines = [f"{_elapsed(ms / 1000 - start):>14}  {text}" for ms, _, text in entries]
    head = (
        f"esmsim timeline: seed {sim.seed}, start {format_iso_ms(sim.clock.to_ms(start))}, "
        f"now {_elapsed(sim.now - start)}, {len(deliveries)} invocation(s)"
    )
    if limit is not None and len(lines) > limit:
        keep = max(1, limit // 2)
        omitted = len(lines) - 2 * keep
        lines = [*lines[:keep], f"{'':>14}  … {omitted} lines omitted …", *lines[-keep:]]
    if not lines:
        lines = [f"{'':>14}  (no invocations)"]
    return "\n".join([head, *lines])


def _invocation_line(d: _Delivery, width: int, all_deliveries: Sequence[_Delivery]) -> str:
    inv = d.inv
    where = d.mapping_label or (inv.source or "direct")
    if inv.shard_id:
        where += f" {_shard(inv.shard_id)}"
    count = len(d.ids)
    if count == 0:
        span = "-"
    elif count == 1:
        span = _short(d.ids[0])
    else:
        span = f"{_short(d.ids[0])}..{_short(d.ids[-1])}"
    notes = ""
    if inv.source == "sqs":
        receives = [
            int(r.get("attributes", {}).get("ApproximateReceiveCount", "1")) for r in d.records
        ]
        if receives and max(receives) > 1:
            notes = f"  [receive #{max(receives)}]"
    elif d.ids:
        retry = sum(
            1
            for other in all_deliveries[: d.number - 1]
            if other.ids == d.ids
            and other.inv.mapping_uuid == inv.mapping_uuid
            and not (other.inv.ok and not other.malformed and not other.reported)
        )
        if retry:
            notes = f"  [retry {retry}]"
    plural = "record " if count == 1 else "records"
    return (
        f"{inv.function_name:<{width}}  {where}  {count:>3} {plural} {span}  {_outcome(d)}{notes}"
    )


# -- assertions -----------------------------------------------------------------------------------
def _ignored_explanation(ignored: Sequence[_Delivery]) -> str:
    if not ignored:
        return ""
    labels = sorted({d.mapping_label or "?" for d in ignored})
    sqs = any(d.inv.source == "sqs" for d in ignored)
    effect = (
        "Lambda deleted the whole batch, including the messages the handler reported as "
        "failed, so they were never retried and never reached a dead-letter queue"
        if sqs
        else "Lambda treated each batch as fully successful and moved the checkpoint past "
        "the reported records, so they were neither retried nor sent to an OnFailure "
        "destination"
    )
    return (
        f"\ncause: the handler returned batchItemFailures in {len(ignored)} invocation(s) "
        f"(#{', #'.join(str(d.number) for d in ignored[:5])}), but the event source mapping "
        f"of {', '.join(labels)} has no FunctionResponseTypes=['ReportBatchItemFailures']; "
        f"{effect}. Add FunctionResponseTypes=['ReportBatchItemFailures'] to the mapping."
    )


def _resting_in(sim: Simulation, message_id: str) -> str | None:
    """The queue(s) still holding an SQS message with this id (a DLQ, or the source)."""
    from .sources.sqs import SqsQueue

    names = [
        f"queue {queue.name}"
        for queue in sim.resources()
        if isinstance(queue, SqsQueue)
        and any(m["MessageId"] == message_id for m in queue.messages())
    ]
    return ", ".join(names) or None


def assert_delivered_once(
    fn: Any,
    ids: Iterable[str] | None = None,
    *,
    by: Callable[[dict[str, Any]], Any] | None = None,
) -> None:
    """Assert that each id was processed in exactly one successful invocation of ``fn``.

    A record counts as processed by an invocation that succeeded and did not list it in
    ``batchItemFailures`` (a failed invocation, a timeout, or a record the handler
    reported as failed is not a delivery). So the assertion fails for a record never
    processed (lost, dropped, dead-lettered) and for one processed twice (a stream
    batch retried after a partial failure re-delivers the records after the failed one).

    Args:
        fn: the simulated ``Function``.
        ids: the ids expected (SQS message ids, sequence numbers, or whatever ``by``
            returns); default every id ``fn`` ever received.
        by: ``record -> id`` to identify records by content instead, e.g.
            ``by=lambda r: json.loads(r["body"])["order_id"]``.

    Raises:
        AssertionError: naming the ids delivered 0 or 2+ times, with the invocations
            involved, the cause when the mapping ignored the handler's
            ``batchItemFailures``, and the run's timeline.
    """
    sim = _function_sim(fn)
    deliveries = _deliveries(fn.invocations, _mappings_by_uuid(sim))
    ident = by or record_id
    processed: dict[Any, list[int]] = {}
    seen: dict[Any, list[int]] = {}
    for d in deliveries:
        ok = set(d.processed)
        for record, rid in zip(d.records, d.ids, strict=True):
            key = ident(record)
            seen.setdefault(key, []).append(d.number)
            if rid in ok:
                processed.setdefault(key, []).append(d.number)
    expected = list(seen) if ids is None else list(ids)
    never = [i for i in expected if not processed.get(i)]
    twice = [i for i in expected if len(processed.get(i, [])) > 1]
    if not never and not twice:
        return
    lines = [
        f"assert_delivered_once({fn.name}): {len(never) + len(twice)} of {len(expected)} "
        "id(s) not processed exactly once"
    ]
    for i in never[:20]:
        where = seen.get(i)
        detail = (
            f"in {len(where)} invocation(s) that failed or reported it failed: "
            f"#{', #'.join(str(n) for n in where[:8])}"
            if where
            else "never sent to the function"
        )
        resting = _resting_in(sim, i) if by is None and sim is not None else None
        if resting:
            detail += f"; now in {resting}"
        lines.append(f"  0 times: {i}  ({detail})")
    for i in twice[:20]:
        numbers = processed[i]
        lines.append(
            f"  {len(numbers)} times: {i}  (invocations #{', #'.join(str(n) for n in numbers)})"
        )
    hidden = max(0, len(never) - 20) + max(0, len(twice) - 20)
    if hidden:
        lines.append(f"  … and {hidden} more")
    suspects = {*never, *twice}
    ignored = [d for d in deliveries if d.ignored and any(ident(r) in suspects for r in d.records)]
    message = "\n".join(lines) + _ignored_explanation(ignored)
    if sim is not None:
        message += "\n\n" + timeline(sim)
    raise AssertionError(message)


def assert_in_order(fn: Any, key: Callable[[dict[str, Any]], Any] | None = None) -> None:
    """Assert that, per key, records were first delivered to ``fn`` in source order.

    Source order is the sequence number (Kinesis, DynamoDB Streams, SQS FIFO) or the
    ``SentTimestamp`` (SQS standard queues, which promise no order). Each record's
    first delivery counts, whether that invocation succeeded or not.

    Args:
        fn: the simulated ``Function``.
        key: ``record -> key``; default the Kinesis ``partitionKey``, the SQS
            ``MessageGroupId`` (None on standard queues: one global order), or the
            DynamoDB item ``Keys``.

    Raises:
        AssertionError: naming each key whose records were delivered out of order, the
            two records and the invocations, with the run's timeline.
    """
    sim = _function_sim(fn)
    deliveries = _deliveries(fn.invocations, _mappings_by_uuid(sim))
    get_key = key or _default_order_key
    first: dict[str, tuple[int, int]] = {}
    per_key: dict[Any, list[tuple[int, str, int]]] = {}
    for d in deliveries:
        for record, rid in zip(d.records, d.ids, strict=True):
            if rid in first:
                continue
            first[rid] = (d.number, 0)
            per_key.setdefault(get_key(record), []).append((_source_order(record), rid, d.number))
    problems = []
    for k, items in per_key.items():
        for (order_a, id_a, inv_a), (order_b, id_b, inv_b) in itertools.pairwise(items):
            if order_b < order_a:
                problems.append(
                    f"  key {k!r}: {id_b} (invocation #{inv_b}) was first delivered after "
                    f"{id_a} (invocation #{inv_a}), but it came first in the source"
                )
                break
    if not problems:
        return
    message = f"assert_in_order({fn.name}): {len(problems)} key(s) out of order\n" + "\n".join(
        problems[:20]
    )
    if sim is not None:
        message += "\n\n" + timeline(sim)
    raise AssertionError(message)


# -- destinations ----------------------------------------------------------------------------------
def failure_records(destination: Any) -> list[dict[str, Any]]:
    """The OnFailure records a destination holds, parsed from JSON, oldest first.

    Works for an SQS queue (message bodies), an SNS topic (notification messages) and
    an S3 bucket (objects; each record also has ``payload``, the invocation event as
    JSON text). Each record has ``requestContext`` (``condition``:
    ``RetryAttemptsExhausted`` or ``RecordAgeExceeded``, ``approximateInvokeCount``),
    ``responseContext`` (not for age discards) and ``KinesisBatchInfo`` or
    ``DDBStreamBatchInfo`` (``startSequenceNumber``, ``endSequenceNumber``,
    ``batchSize``, ...).
    """
    from .sources.s3 import S3Bucket
    from .sources.sns import SnsTopic
    from .sources.sqs import SqsQueue

    if isinstance(destination, SqsQueue):
        return [json.loads(m["Body"]) for m in destination.messages()]
    if isinstance(destination, SnsTopic):
        return [json.loads(n["Message"]) for n in destination.messages()]
    if isinstance(destination, S3Bucket):
        return [json.loads(body) for body in destination.objects().values()]
    raise TypeError(
        f"failure_records: expected an SQS queue, SNS topic or S3 bucket, "
        f"got {type(destination).__name__}"
    )


@overload
def dead_letters(queue: Any, *, full: Literal[False] = False) -> list[str]: ...
@overload
def dead_letters(queue: Any, *, full: Literal[True]) -> list[dict[str, Any]]: ...
def dead_letters(queue: Any, *, full: bool = False) -> list[str] | list[dict[str, Any]]:
    """The messages a dead-letter queue holds: their bodies, or (``full=True``) each
    message in boto3's ``Message`` shape (``MessageId``, ``Body``, ``Attributes`` with
    ``ApproximateReceiveCount`` and ``DeadLetterQueueSourceArn``, ...), oldest first.
    """
    messages: list[dict[str, Any]] = queue.messages()
    if full:
        return messages
    return [str(m["Body"]) for m in messages]


# -- the pytest plugin's simulation -------------------------------------------------------
_WARNING_EVENTS = frozenset({"handler.batch_item_failures_ignored", "destination.delivery_failed"})


class _ReportingSimulation(Simulation):
    """A ``Simulation`` whose runs report misconfigurations as ``EsmsimWarning``."""

    esm_events: list[dict[str, Any]]
    _esm_seen = 0

    def attach_events(self, events: list[dict[str, Any]]) -> None:
        """Read runs' log events from ``events`` (a ``capture_logs`` list)."""
        self.esm_events = events
        self._esm_seen = len(events)
        _attach_logs(self, events)

    async def run(self, seconds: float) -> None:
        __tracebackhide__ = True
        await super().run(seconds)
        self._esm_warn()

    def run_sync(self, seconds: float) -> None:
        __tracebackhide__ = True
        super().run_sync(seconds)
        self._esm_warn()

    async def run_until_idle(self, max_seconds: float | None = None) -> float:
        __tracebackhide__ = True
        elapsed = await super().run_until_idle(max_seconds)
        self._esm_warn()
        return elapsed

    def run_until_idle_sync(self, max_seconds: float | None = None) -> float:
        __tracebackhide__ = True
        elapsed = super().run_until_idle_sync(max_seconds)
        self._esm_warn()
        return elapsed

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        __tracebackhide__ = True
        result = await super().call(fn, *args)
        self._esm_warn()
        return result

    def call_sync(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        __tracebackhide__ = True
        result = super().call_sync(fn, *args)
        self._esm_warn()
        return result

    def _esm_warn(self) -> None:
        __tracebackhide__ = True
        events = self.esm_events
        start, self._esm_seen = self._esm_seen, len(events)
        mappings = {m.uuid: m for m in self.mappings()}
        for event in events[start:]:
            mapping = mappings.get(str(event.get("mapping")))
            if event.get("event") in _WARNING_EVENTS and mapping is not None:
                # stacklevel 3: the test line that called run/run_until_idle/call.
                warnings.warn(EsmsimWarning(_explain(event, mapping)), stacklevel=3)


def _explain(event: dict[str, Any], mapping: Any) -> str:
    settings = mapping.settings
    where = (
        f"event source mapping {mapping.uuid} "
        f"({_source_name(settings.event_source_arn)} -> {mapping.function.name})"
    )
    if event.get("event") == "destination.delivery_failed":
        return (
            f"the OnFailure destination {event.get('destination')} of the {where} could not "
            f"take a failure record ({event.get('reason')}), so the discarded records were "
            "dropped with no trace (DroppedEventCount). Use an existing standard SQS queue, "
            "SNS topic or S3 bucket as DestinationConfig.OnFailure.Destination."
        )
    if settings.kind == "sqs":
        effect = (
            "Lambda ignores such a response: it deletes the whole batch, including the "
            "messages the handler reported as failed, so they are never retried and never "
            "reach a dead-letter queue"
        )
    else:
        effect = (
            "Lambda ignores such a response: it treats the batch as fully successful and "
            "moves the checkpoint past the reported records, so they are neither retried "
            "nor sent to an OnFailure destination"
        )
    return (
        f"function {mapping.function.name!r} returned batchItemFailures, but its {where} "
        f"has no FunctionResponseTypes=['ReportBatchItemFailures']. {effect}. Add "
        "FunctionResponseTypes=['ReportBatchItemFailures'] to the mapping (SAM and "
        "CloudFormation: FunctionResponseTypes: [ReportBatchItemFailures]). To test this "
        "behaviour on purpose, run the simulation under pytest.warns(EsmsimWarning)."
    )
