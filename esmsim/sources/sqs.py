"""Amazon SQS queues (AWS::SQS::Queue), standard and FIFO, on the simulated clock.

Two faces:

- boto3's: ``send_message``, ``send_message_batch``, ``receive_message``,
  ``delete_message(_batch)``, ``change_message_visibility(_batch)``,
  ``purge_queue``, ``get_queue_attributes`` take AWS's argument names and
  return boto3's response shapes, for code that produces to or consumes a
  queue by hand; ``messages()`` lists what the queue holds without touching it.
- the SQS poller's (docs/internals.md): ``receive``, ``delete_received``,
  ``next_visible_at``, ``signal`` and the count helpers. They skip what only a
  request from outside needs (argument checks, response shapes), since the
  poller calls them for every batch.

Time never moves between runs, so ``receive_message(WaitTimeSeconds=20)``
called from outside the simulation returns at once with what is there (long
polling is synchronous here); the SQS poller waits itself on ``signal`` and
``next_visible_at()``.

Modelling choices (AWS leaves these open):

- ``SenderId`` is a fixed IAM user id per account, ``AIDA`` + 17 base-32
  characters derived from the account id (see ``sender_id_for``).
- Only the latest receipt handle of a message deletes it; an older handle of
  the same message succeeds without deleting (SQS documents this), as does a
  handle of a message already gone; a handle this queue never issued raises
  ``ReceiptHandleIsInvalid``.
- A message moved to a dead-letter queue keeps ``MessageId``, body,
  attributes, ``ApproximateReceiveCount`` and first-receive time and gains
  ``DeadLetterQueueSourceArn``. A standard DLQ keeps ``SentTimestamp`` (the
  retention clock runs on); a FIFO DLQ restarts it (and gives a new
  ``SequenceNumber``). If the DLQ was deleted meanwhile, the message stays.
- A FIFO duplicate within the 5-minute deduplication window is accepted and
  answered with the original's ``MessageId`` and ``SequenceNumber``.
- A message is kept for exactly ``MessageRetentionPeriod``: it is gone from
  ``SentTimestamp + period`` on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._arns import sqs_queue_arn, sqs_queue_url
from .._core import Clock, Signal, get_logger
from .._core._exceptions import AwsServiceError, SimulationClosed
from ._base import Resource
from ._errors import (
    BatchRequestTooLong,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    OverLimit,
    PurgeQueueInProgress,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
)
from ._sqs_md5 import md5_hex, md5_of_message_attributes
from ._sqs_message import (
    INFLIGHT,
    ReceivedMessage,
    StoredMessage,
    boto3_message,
    received_messages,
)
from ._sqs_props import QueueConfig, RedrivePolicy, parse_queue_properties
from ._sqs_store import MessageStore
from ._sqs_validate import (
    batch_failure,
    check_batch,
    check_body,
    check_group_or_dedup_id,
    check_int,
    normalize_message_attributes,
    string_list,
    system_attribute_names,
    too_long_message,
    trace_header,
)
from .producers import Producer

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("ReceivedMessage", "SqsQueue", "sender_id_for")

DEDUPLICATION_WINDOW_MS = 300_000
"""FIFO deduplication interval: 5 minutes."""
INFLIGHT_LIMIT = 120_000
"""Messages in flight at once: standard queues answer OverLimit, FIFO queues return nothing."""
BATCH_SIZE_LIMIT = 1_048_576
"""All the messages of one SendMessageBatch together."""
MAX_VISIBILITY_TIMEOUT = 43_200

_QUEUE_ATTRIBUTE_NAMES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
    "ContentBasedDeduplication",
    "CreatedTimestamp",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "LastModifiedTimestamp",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "QueueArn",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
_SEND_ENTRY_KEYS = (
    "Id",
    "MessageBody",
    "DelaySeconds",
    "MessageAttributes",
    "MessageSystemAttributes",
    "MessageDeduplicationId",
    "MessageGroupId",
)

_log = get_logger(component="sqs")


def sender_id_for(account_id: str) -> str:
    """The ``SenderId`` of messages sent in ``account_id``: an IAM user id (``AIDA...``).

    21 characters like a real one, the same for every queue of the account, so
    it reads as "the producer" without leaking anything host-specific.
    """
    digest = hashlib.sha256(f"esmsim-sender:{account_id}".encode()).digest()
    return "AIDA" + base64.b32encode(digest).decode("ascii")[:17]


class SqsQueue(Resource):
    """An SQS queue. Create it with ``sim.sqs_queue(name, **CloudFormation properties)``.

    Properties are AWS::SQS::Queue's: ``VisibilityTimeout`` (0-43,200 s, default
    30), ``MessageRetentionPeriod`` (60-1,209,600 s, default 345,600),
    ``DelaySeconds`` (0-900), ``MaximumMessageSize`` (1,024-1,048,576 bytes),
    ``ReceiveMessageWaitTimeSeconds`` (0-20), ``RedrivePolicy``, ``FifoQueue``,
    ``ContentBasedDeduplication``, ``DeduplicationScope``,
    ``FifoThroughputLimit``, and the encryption/tag properties (stored only).
    """

    resource_type = "AWS::SQS::Queue"

    def __init__(self, sim: Simulation, name: str, **properties: Any) -> None:
        config = parse_queue_properties(name, properties)
        super().__init__(sim, name, sqs_queue_arn(sim.region, sim.account_id, name))
        self.config: QueueConfig = config
        self.fifo = config.fifo
        if config.redrive_policy is not None:
            self._check_dead_letter_target(config.redrive_policy)
        self.properties: dict[str, Any] = dict(properties)
        self.url = sqs_queue_url(sim.region, sim.account_id, name)
        self.visibility_timeout = config.visibility_timeout
        self.message_retention_period = config.message_retention_period
        self.delay_seconds = config.delay_seconds
        self.maximum_message_size = config.maximum_message_size
        self.receive_message_wait_time_seconds = config.receive_message_wait_time_seconds
        self.content_based_deduplication = config.content_based_deduplication
        self.redrive_policy: RedrivePolicy | None = config.redrive_policy
        self.tags = dict(config.tags)
        self.sender_id = sender_id_for(sim.account_id)
        self._clock: Clock | None = None  # sim.clock, once the simulation started
        self.signal = Signal(sim.kernel)
        """Fired on every send, on a move into this queue, on visibility changes, FIFO
        group unlocks by delete, and purge: what an idle poller waits on."""
        self._ids = sim.seeds.ids("sqs", name)
        self._sequence_rng = sim.seeds.rng("sqs-sequence", name)
        self._last_sequence = 18 * 10**18 + self._sequence_rng.randrange(10**18)
        self._store = MessageStore(
            fifo=config.fifo,
            retention_ms=config.message_retention_period * 1000,
            handle_key=hashlib.sha256(self.arn.encode()).digest()[:6],
            handle_rng=sim.seeds.rng("sqs-receipt", name),
        )
        self._dedup: dict[str | tuple[str, str], tuple[int, str, str | None]] = {}
        self._dedup_expiry: deque[tuple[int, str | tuple[str, str]]] = deque()
        self._last_purge: float | None = None
        self._producers: list[Producer] = []
        self._next_arrival_ms: int | None = None  # the earliest producer's next record
        self._produced = 0
        self._body_cache: tuple[str, bytes, str] | None = None  # body, UTF-8, MD5
        self._created_s = self._now_seconds_or_none()
        self._counts = {
            "NumberOfMessagesSent": 0,
            "NumberOfMessagesReceived": 0,
            "NumberOfMessagesDeleted": 0,
            "NumberOfEmptyReceives": 0,
            "NumberOfMessagesExpired": 0,
            "NumberOfMessagesMovedToDLQ": 0,
            "NumberOfMessagesMovedIn": 0,
            "NumberOfMessagesPurged": 0,
            "NumberOfDeduplicatedSentMessages": 0,
        }
        sim.register(self)

    # -- set-up helpers ---------------------------------------------------------------------
    def _now_seconds_or_none(self) -> int | None:
        try:
            return int(self.clock.now())
        except SimulationClosed:
            return None  # created before the simulation started: reported as its start

    def _check_dead_letter_target(self, policy: RedrivePolicy) -> None:
        target = self.sim.resource(policy.dead_letter_target_arn)
        if not isinstance(target, SqsQueue) or target.deleted:
            raise InvalidAttributeValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: Dead "
                f"letter target does not exist: no queue {policy.dead_letter_target_arn} in this "
                "simulation (create the dead-letter queue first)."
            )
        if target.fifo != self.fifo:
            kind = "FIFO" if self.fifo else "standard"
            raise InvalidAttributeValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: "
                f"Dead-letter queue must be same type of queue as the source: this {kind} queue "
                f"needs a {kind} dead-letter queue."
            )
        allow = target.config.redrive_allow_policy
        if allow is not None and (
            allow["redrivePermission"] == "denyAll"
            or (
                allow["redrivePermission"] == "byQueue" and self.arn not in allow["sourceQueueArns"]
            )
        ):
            raise InvalidAttributeValue(
                f"Value {policy.to_json()} for parameter RedrivePolicy is invalid. Reason: the "
                f"RedriveAllowPolicy of {target.name} does not allow {self.arn} as a source queue."
            )

    # -- plumbing ------------------------------------------------------------------------------
    def _check_alive(self, queue_url: str | None = None) -> None:
        if self.deleted:
            raise QueueDoesNotExist()
        if queue_url is not None and queue_url != self.url:
            raise QueueDoesNotExist(
                f"The specified queue does not exist: QueueUrl {queue_url!r} is not {self.url}."
            )

    def _advance(self) -> tuple[float, int]:
        """Current time, after applying everything due (visibility, delay, retention).

        Lazily produced messages that arrived by now are enqueued first, each at
        its own arrival time, so their SentTimestamp, delays and retention are
        exactly those of a message sent then. Runs before every operation, so
        when nothing is due it costs two clock reads and a few comparisons.
        """
        clock = self._clock
        if clock is None:
            clock = self._clock = self.clock  # (raises until the simulation starts)
        now, now_ms = clock.now(), clock.now_ms()
        arrival = self._next_arrival_ms
        if arrival is not None and arrival <= now_ms:
            self._produce_due(now_ms)
        expired = self._store.advance(now, now_ms)
        if expired:
            self._counts["NumberOfMessagesExpired"] += expired
        return now, now_ms

    # -- lazy producers -------------------------------------------------------------------
    def add_producer(self, producer: Producer) -> None:
        """Send ``producer``'s messages into this queue as time passes (lazily)."""
        self._producers.append(producer)
        self._next_arrival_ms = self._earliest_arrival_ms()

    def next_arrival_ms(self) -> int | None:
        """When the next lazily produced message arrives (None: no producer has more)."""
        return self._next_arrival_ms

    def _earliest_arrival_ms(self) -> int | None:
        # A producer's next arrival moves only when it emits, so this is
        # recomputed after each emission and cached in between.
        times = [t for p in self._producers if (t := p.next_arrival_ms()) is not None]
        return min(times) if times else None

    def _produce_due(self, now_ms: int) -> None:
        columns = [p.emit_columns(now_ms) for p in self._producers]
        self._next_arrival_ms = self._earliest_arrival_ms()
        produced: Iterable[tuple[int, str, str]]
        if len(columns) == 1:
            arrivals, keys, bodies = columns[0]
            if not arrivals:
                return
            produced = zip(arrivals, keys, bodies, strict=True)
        else:
            # Stable by arrival: ties keep the producers' order.
            produced = sorted(
                (item for cols in columns for item in zip(*cols, strict=True)),
                key=lambda item: item[0],
            )
            if not produced:
                return
        store, counts = self._store, self._counts
        for at_ms, key, body in produced:
            at = at_ms / 1000
            expired = store.advance(at, at_ms)
            if expired:
                counts["NumberOfMessagesExpired"] += expired
            self._produced += 1
            if self.fifo:
                msg, delay = self._prepare(
                    body, None, None, key, f"esmsim-producer-{self._produced}", None
                )
                self._enqueue(msg, delay, at, at_ms)
                continue
            # Standard queue: _prepare and _enqueue for a plain body, without
            # the checks that cannot fail here or the response nobody reads.
            msg = self._produced_message(body)
            msg.message_id = self._ids.uuid4()
            msg.sent_ms = msg.arrived_ms = at_ms
            store.add(msg, at, float(self.delay_seconds))
            counts["NumberOfMessagesSent"] += 1
        self.signal.fire()

    def _produced_message(self, body: str) -> StoredMessage:
        """A produced body as ``_prepare`` makes it (producers repeat bodies: MD5 cached)."""
        cached = self._body_cache
        if cached is None or cached[0] is not body:
            data = check_body(body, self.maximum_message_size)
            cached = self._body_cache = (body, data, md5_hex(data))
        return StoredMessage(
            message_id="",
            body=body,
            md5_of_body=cached[2],
            message_attributes=None,
            md5_of_message_attributes=None,
            size=len(cached[1]),
            sent_ms=0,
            sender_id=self.sender_id,
        )

    def _next_sequence_number(self) -> str:
        self._last_sequence += 1 + self._sequence_rng.randrange(1 << 16)
        return str(self._last_sequence)

    # -- sending -------------------------------------------------------------------------------
    def send_message(
        self,
        MessageBody: str | None = None,
        DelaySeconds: int | None = None,
        MessageAttributes: Mapping[str, Mapping[str, Any]] | None = None,
        MessageGroupId: str | None = None,
        MessageDeduplicationId: str | None = None,
        MessageSystemAttributes: Mapping[str, Mapping[str, Any]] | None = None,
        QueueUrl: str | None = None,
    ) -> dict[str, Any]:
        """SendMessage. Returns ``{"MessageId", "MD5OfMessageBody", ...}`` as boto3 does.

        FIFO queues need ``MessageGroupId`` and a deduplication id (or
        ``ContentBasedDeduplication``) and refuse a per-message ``DelaySeconds``.
        """
        self._check_alive(QueueUrl)
        msg, delay = self._prepare(
            MessageBody,
            DelaySeconds,
            MessageAttributes,
            MessageGroupId,
            MessageDeduplicationId,
            MessageSystemAttributes,
        )
        now, now_ms = self._advance()
        response = self._enqueue(msg, delay, now, now_ms)
        self.signal.fire()
        return response

    def send_message_batch(
        self, Entries: Sequence[Mapping[str, Any]] | None = None, QueueUrl: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """SendMessageBatch: up to 10 entries with distinct ``Id``s.

        Entries that break a per-message rule land in ``Failed``
        (``SenderFault``, ``Code``, ``Message``); the others are sent in order.
        """
        self._check_alive(QueueUrl)
        entries = check_batch(Entries, "SendMessageBatchRequestEntry")
        prepared: list[tuple[str, StoredMessage, float]] = []
        failed: list[dict[str, Any]] = []
        total = 0
        for entry in entries:
            try:
                unknown = [k for k in entry if k not in _SEND_ENTRY_KEYS]
                if unknown:
                    raise InvalidParameterValue(
                        f"Unknown key {unknown[0]!r} in SendMessageBatchRequestEntry; allowed: "
                        f"{', '.join(_SEND_ENTRY_KEYS)}."
                    )
                msg, delay = self._prepare(
                    entry.get("MessageBody"),
                    entry.get("DelaySeconds"),
                    entry.get("MessageAttributes"),
                    entry.get("MessageGroupId"),
                    entry.get("MessageDeduplicationId"),
                    entry.get("MessageSystemAttributes"),
                )
            except AwsServiceError as exc:
                failed.append(batch_failure(entry["Id"], exc))
                continue
            prepared.append((entry["Id"], msg, delay))
            total += msg.size
        if total > BATCH_SIZE_LIMIT:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {BATCH_SIZE_LIMIT} bytes. You have sent "
                f"{total} bytes."
            )
        now, now_ms = self._advance()
        successful = [
            {"Id": entry_id, **self._enqueue(msg, delay, now, now_ms)}
            for entry_id, msg, delay in prepared
        ]
        if successful:
            self.signal.fire()
        return {"Successful": successful, "Failed": failed}

    def _prepare(
        self,
        body: Any,
        delay_seconds: Any,
        message_attributes: Any,
        group_id: Any,
        dedup_id: Any,
        system_attributes: Any,
    ) -> tuple[StoredMessage, float]:
        """Validate one message; the message (not yet enqueued) and its delay."""
        data = check_body(body, self.maximum_message_size)
        attributes, attributes_size = normalize_message_attributes(message_attributes)
        size = len(data) + attributes_size
        if size > self.maximum_message_size:
            raise InvalidParameterValue(too_long_message(self.maximum_message_size, size))
        trace = trace_header(system_attributes)
        delay: int = self.delay_seconds
        if self.fifo:
            if delay_seconds is not None:
                raise InvalidParameterValue(
                    f"Value {delay_seconds!r} for parameter DelaySeconds is invalid. Reason: The "
                    "request include parameter that is not valid for this queue type. (FIFO queues "
                    "take DelaySeconds only as a queue property.)"
                )
            if group_id is None:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            group_id = check_group_or_dedup_id(group_id, "MessageGroupId")
            if dedup_id is not None:
                dedup_id = check_group_or_dedup_id(dedup_id, "MessageDeduplicationId")
            elif self.content_based_deduplication:
                dedup_id = hashlib.sha256(data).hexdigest()
            else:
                raise InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
        else:
            if dedup_id is not None:
                raise InvalidParameterValue(
                    f"Value {dedup_id!r} for parameter MessageDeduplicationId is invalid. Reason: "
                    "The request include parameter that is not valid for this queue type."
                )
            if group_id is not None:
                group_id = check_group_or_dedup_id(group_id, "MessageGroupId")
            if delay_seconds is not None:
                delay = check_int(delay_seconds, "DelaySeconds", 0, 900)
        msg = StoredMessage(
            message_id="",
            body=body,
            md5_of_body=md5_hex(data),
            message_attributes=attributes or None,
            md5_of_message_attributes=md5_of_message_attributes(attributes),
            size=size,
            sent_ms=0,
            sender_id=self.sender_id,
            group_id=group_id,
            dedup_id=dedup_id,
            trace_header=trace,
        )
        return msg, float(delay)

    def _enqueue(self, msg: StoredMessage, delay: float, now: float, now_ms: int) -> dict[str, Any]:
        response: dict[str, Any] = {"MD5OfMessageBody": msg.md5_of_body}
        if msg.md5_of_message_attributes is not None:
            response["MD5OfMessageAttributes"] = msg.md5_of_message_attributes
        if self.fifo:
            assert msg.dedup_id is not None and msg.group_id is not None
            key: str | tuple[str, str] = msg.dedup_id
            if self.config.deduplication_scope == "messageGroup":
                key = (msg.group_id, msg.dedup_id)
            self._expire_dedup(now_ms)
            hit = self._dedup.get(key)
            if hit is not None:
                self._counts["NumberOfDeduplicatedSentMessages"] += 1
                response["MessageId"] = hit[1]
                if hit[2] is not None:
                    response["SequenceNumber"] = hit[2]
                return response
        msg.message_id = self._ids.uuid4()
        msg.sent_ms = msg.arrived_ms = now_ms
        if self.fifo:
            msg.sequence_number = self._next_sequence_number()
            expires = now_ms + DEDUPLICATION_WINDOW_MS
            self._dedup[key] = (expires, msg.message_id, msg.sequence_number)
            self._dedup_expiry.append((expires, key))
        self._store.add(msg, now, delay)
        self._counts["NumberOfMessagesSent"] += 1
        response["MessageId"] = msg.message_id
        if msg.sequence_number is not None:
            response["SequenceNumber"] = msg.sequence_number
        return response

    def _expire_dedup(self, now_ms: int) -> None:
        expiry = self._dedup_expiry
        while expiry and expiry[0][0] <= now_ms:
            expires, key = expiry.popleft()
            hit = self._dedup.get(key)
            if hit is not None and hit[0] == expires:
                del self._dedup[key]

    # -- receiving -------------------------------------------------------------------------------
    def receive(
        self, max_messages: int, visibility_timeout: float | None = None
    ) -> list[ReceivedMessage]:
        """Receive up to ``max_messages`` (1-10) now, without waiting (the SQS poller's call).

        Applies delays, visibility, retention expiry, redrive to the
        dead-letter queue and FIFO group locking exactly like ReceiveMessage;
        ``visibility_timeout`` overrides the queue's for these messages.
        """
        if type(max_messages) is not int or not 1 <= max_messages <= 10:
            check_int(max_messages, "MaxNumberOfMessages", 1, 10)  # raises the AWS error
        return received_messages(self._receive(max_messages, visibility_timeout))

    def receive_message(
        self,
        MaxNumberOfMessages: int = 1,
        VisibilityTimeout: int | None = None,
        WaitTimeSeconds: int | None = 0,
        AttributeNames: Sequence[str] | None = None,
        MessageAttributeNames: Sequence[str] | None = None,
        MessageSystemAttributeNames: Sequence[str] | None = None,
        ReceiveRequestAttemptId: str | None = None,
        QueueUrl: str | None = None,
    ) -> dict[str, Any]:
        """ReceiveMessage, boto3-shaped: ``{"Messages": [...]}``, no key when nothing came.

        ``AttributeNames``/``MessageSystemAttributeNames`` pick system
        attributes (``All`` for every one), ``MessageAttributeNames`` message
        attributes (``All``, ``.*``, ``prefix.*`` or names). ``WaitTimeSeconds``
        is validated but not waited for: outside a run time stands still.
        ``ReceiveRequestAttemptId`` is accepted and not used.
        """
        self._check_alive(QueueUrl)
        check_int(MaxNumberOfMessages, "MaxNumberOfMessages", 1, 10)
        if VisibilityTimeout is not None:
            check_int(VisibilityTimeout, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT)
        if WaitTimeSeconds is not None:
            check_int(WaitTimeSeconds, "WaitTimeSeconds", 0, 20)
        names = system_attribute_names(AttributeNames, MessageSystemAttributeNames)
        message_names = string_list(MessageAttributeNames, "MessageAttributeNames")
        delivered = self._receive(MaxNumberOfMessages, VisibilityTimeout)
        if not delivered:
            return {}
        return {"Messages": [boto3_message(m, names, message_names) for m in delivered]}

    def _receive(self, max_messages: int, visibility_timeout: float | None) -> list[StoredMessage]:
        if self.deleted:
            self._check_alive()  # raises QueueDoesNotExist
        now, now_ms = self._advance()
        vt = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        if vt < 0 or vt > MAX_VISIBILITY_TIMEOUT:
            check_int(vt, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT)
        store = self._store
        delivered: list[StoredMessage] = []
        moved = 0
        if store.n_inflight >= INFLIGHT_LIMIT:
            if not self.fifo:
                raise OverLimit(
                    f"Too many messages in flight on {self.name}: a standard queue allows "
                    f"{INFLIGHT_LIMIT:,} at once."
                )
        else:
            redrive = self._redrive if self.redrive_policy is not None else None
            delivered, moved = store.receive(max_messages, vt, now, now_ms, redrive)
        counts = self._counts
        counts["NumberOfMessagesReceived"] += len(delivered)
        if not delivered:
            counts["NumberOfEmptyReceives"] += 1
        if moved:
            counts["NumberOfMessagesMovedToDLQ"] += moved
            assert self.redrive_policy is not None
            _log.debug(
                "dlq.redrive",
                queue=self.name,
                dead_letter_queue=self.redrive_policy.dead_letter_target_arn,
                count=moved,
            )
        return delivered

    def _redrive(self, msg: StoredMessage) -> bool:
        """Move ``msg`` to the dead-letter queue if this receive would exceed maxReceiveCount."""
        policy = self.redrive_policy
        assert policy is not None
        if msg.receive_count < policy.max_receive_count:
            return False
        target = self.sim.resource(policy.dead_letter_target_arn)
        if not isinstance(target, SqsQueue) or target.deleted or target.fifo != self.fifo:
            return False  # the DLQ is gone: the message stays and is received again
        target._accept_dead_letter(msg, self.arn)
        return True

    def _accept_dead_letter(self, msg: StoredMessage, source_arn: str) -> None:
        """Take in a message another queue's redrive policy moved here."""
        now, now_ms = self._advance()
        copy = StoredMessage(
            message_id=msg.message_id,
            body=msg.body,
            md5_of_body=msg.md5_of_body,
            message_attributes=msg.message_attributes,
            md5_of_message_attributes=msg.md5_of_message_attributes,
            size=msg.size,
            sent_ms=now_ms if self.fifo else msg.sent_ms,
            sender_id=msg.sender_id,
            group_id=msg.group_id,
            dedup_id=msg.dedup_id,
            trace_header=msg.trace_header,
        )
        copy.arrived_ms = now_ms
        copy.receive_count = msg.receive_count
        copy.first_receive_ms = msg.first_receive_ms
        copy.dlq_source_arn = source_arn
        if self.fifo:
            copy.sequence_number = self._next_sequence_number()
        self._store.add(copy, now, 0.0)
        self._counts["NumberOfMessagesMovedIn"] += 1
        self.signal.fire()

    # -- deleting and changing visibility ----------------------------------------------------------
    def _resolve_handle(self, handle: Any) -> StoredMessage | None:
        """The message ``handle`` may act on, None if it is stale or its message gone."""
        if isinstance(handle, str):
            msg = self._store.by_handle(handle)
            if msg is not None:
                return msg  # the latest handle of a live message
        parsed = self._store.parse_handle(handle)
        if parsed is None:
            raise ReceiptHandleIsInvalid(
                f'The input receipt handle "{handle}" is not a valid receipt handle.'
            )
        seq, receive = parsed
        msg = self._store.get(seq)
        if msg is None or receive < msg.receive_count:
            return None  # its message is gone, or was received again since
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        )

    def delete_received(self, messages: Iterable[ReceivedMessage]) -> int:
        """DeleteMessageBatch for the SQS poller: how many of ``messages`` it removed.

        The same as ``delete_message_batch`` with their receipt handles (only a
        latest handle deletes; a stale one, or one of a message already gone,
        deletes nothing), without building entries and a response: the poller
        deletes every batch it processed, and counts only what actually went.

        Raises:
            QueueDoesNotExist: the queue was deleted.
        """
        if self.deleted:
            self._check_alive()  # raises QueueDoesNotExist
        self._advance()
        removed, unlocked = self._store.remove_handles([m.receipt_handle for m in messages])
        self._counts["NumberOfMessagesDeleted"] += removed
        if unlocked:
            self.signal.fire()  # as _delete does: the group's next message is receivable
        return removed

    def delete_message(
        self, ReceiptHandle: str | None = None, QueueUrl: str | None = None
    ) -> dict[str, Any]:
        """DeleteMessage. Only a message's latest receipt handle deletes it.

        An older handle of a message received again since, or a handle of a
        message already deleted, succeeds and deletes nothing (as in SQS).
        """
        self._check_alive(QueueUrl)
        if ReceiptHandle is None:
            raise MissingParameter("The request must contain the parameter ReceiptHandle.")
        self._advance()
        msg = self._resolve_handle(ReceiptHandle)
        if msg is not None:
            self._delete(msg)
        return {}

    def _delete(self, msg: StoredMessage) -> None:
        unlocks = self.fifo and msg.state == INFLIGHT
        self._store.remove(msg)
        self._counts["NumberOfMessagesDeleted"] += 1
        if unlocks:
            self.signal.fire()

    def delete_message_batch(
        self, Entries: Sequence[Mapping[str, Any]] | None = None, QueueUrl: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """DeleteMessageBatch: ``{"Successful": [{"Id"}], "Failed": [...]}``."""
        self._check_alive(QueueUrl)
        entries = check_batch(Entries, "DeleteMessageBatchRequestEntry")
        self._advance()
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                if entry.get("ReceiptHandle") is None:
                    raise MissingParameter("The request must contain the parameter ReceiptHandle.")
                msg = self._resolve_handle(entry["ReceiptHandle"])
                if msg is not None:
                    self._delete(msg)
            except AwsServiceError as exc:
                failed.append(batch_failure(entry["Id"], exc))
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    def change_message_visibility(
        self,
        ReceiptHandle: str | None = None,
        VisibilityTimeout: int | None = None,
        QueueUrl: str | None = None,
    ) -> dict[str, Any]:
        """ChangeMessageVisibility: the in-flight message becomes visible ``VisibilityTimeout``
        seconds from now (0 = now); at most 12 hours after it was received."""
        self._check_alive(QueueUrl)
        if ReceiptHandle is None:
            raise MissingParameter("The request must contain the parameter ReceiptHandle.")
        if VisibilityTimeout is None:
            raise MissingParameter("The request must contain the parameter VisibilityTimeout.")
        timeout = check_int(VisibilityTimeout, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT)
        now, _ = self._advance()
        self._change_visibility(ReceiptHandle, timeout, now)
        self.signal.fire()
        return {}

    def _change_visibility(self, handle: Any, timeout: int, now: float) -> None:
        msg = self._store.by_handle(handle) if isinstance(handle, str) else None
        if msg is None:
            if self._store.parse_handle(handle) is None:
                raise ReceiptHandleIsInvalid(
                    f'The input receipt handle "{handle}" is not a valid receipt handle.'
                )
            raise InvalidParameterValue(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
                "exist or is not available for visibility timeout change."
            )
        if msg.state != INFLIGHT:
            raise MessageNotInflight(
                "The specified message isn't in flight (its visibility timeout already ended)."
            )
        if (now - msg.received_at) + timeout > MAX_VISIBILITY_TIMEOUT:
            raise InvalidParameterValue(
                f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY_TIMEOUT} "
                "seconds] (counted from the receive)."
            )
        self._store.change_visibility(msg, now + timeout)

    def change_message_visibility_batch(
        self, Entries: Sequence[Mapping[str, Any]] | None = None, QueueUrl: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """ChangeMessageVisibilityBatch (entries: ``Id``, ``ReceiptHandle``, ``VisibilityTimeout``).

        Per-entry errors land in ``Failed``.
        """
        self._check_alive(QueueUrl)
        entries = check_batch(Entries, "ChangeMessageVisibilityBatchRequestEntry")
        now, _ = self._advance()
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                if entry.get("ReceiptHandle") is None:
                    raise MissingParameter("The request must contain the parameter ReceiptHandle.")
                timeout = check_int(
                    entry.get("VisibilityTimeout"), "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT
                )
                self._change_visibility(entry["ReceiptHandle"], timeout, now)
            except AwsServiceError as exc:
                failed.append(batch_failure(entry["Id"], exc))
            else:
                successful.append({"Id": entry["Id"]})
        if successful:
            self.signal.fire()
        return {"Successful": successful, "Failed": failed}

    def purge_queue(self, QueueUrl: str | None = None) -> dict[str, Any]:
        """PurgeQueue: every message goes at once; a second purge within 60 s is refused."""
        self._check_alive(QueueUrl)
        now, _ = self._advance()
        if self._last_purge is not None and now - self._last_purge < 60:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {self.name} is allowed every 60 seconds."
            )
        self._last_purge = now
        purged = self._store.purge()
        self._counts["NumberOfMessagesPurged"] += purged
        _log.info("queue.purged", queue=self.name, count=purged)
        self.signal.fire()
        return {}

    def delete(self) -> None:
        """DeleteQueue: its messages are gone; later calls raise QueueDoesNotExist."""
        if self.deleted:
            return
        super().delete()
        self._store.purge()
        self.signal.fire()

    # -- inspecting --------------------------------------------------------------------------------
    def messages(self) -> list[dict[str, Any]]:
        """Every message not yet deleted (visible, in flight or delayed), in send order.

        boto3 ``Message`` shape with every attribute: ``MessageId``,
        ``ReceiptHandle`` (the latest, once received), ``MD5OfBody``, ``Body``,
        ``Attributes``, ``MD5OfMessageAttributes`` and ``MessageAttributes``
        when there are some. Receives, visibility and counts are untouched.
        """
        self._check_alive()
        self._advance()
        return [boto3_message(m, ("All",), ("All",)) for m in self._store]

    def get_queue_attributes(
        self, AttributeNames: Sequence[str] | None = None, QueueUrl: str | None = None
    ) -> dict[str, Any]:
        """GetQueueAttributes: ``{"Attributes": {name: str}}`` for ``All`` or the names given."""
        self._check_alive(QueueUrl)
        names = string_list(AttributeNames, "AttributeNames")
        if not names:
            return {}
        for name in names:
            if name != "All" and name not in _QUEUE_ATTRIBUTE_NAMES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        everything = self._all_queue_attributes()
        if "All" in names:
            return {"Attributes": everything}
        return {"Attributes": {k: v for k, v in everything.items() if k in names}}

    def _all_queue_attributes(self) -> dict[str, str]:
        self._advance()
        store = self._store
        config = self.config
        created = str(self._created_s if self._created_s is not None else int(self.clock.start))
        attrs = {
            "QueueArn": self.arn,
            "ApproximateNumberOfMessages": str(store.n_visible),
            "ApproximateNumberOfMessagesNotVisible": str(store.n_inflight),
            "ApproximateNumberOfMessagesDelayed": str(store.n_delayed),
            "CreatedTimestamp": created,
            "LastModifiedTimestamp": created,
            "VisibilityTimeout": str(self.visibility_timeout),
            "MaximumMessageSize": str(self.maximum_message_size),
            "MessageRetentionPeriod": str(self.message_retention_period),
            "DelaySeconds": str(self.delay_seconds),
            "ReceiveMessageWaitTimeSeconds": str(self.receive_message_wait_time_seconds),
            "SqsManagedSseEnabled": "true" if config.sqs_managed_sse_enabled else "false",
        }
        if self.redrive_policy is not None:
            attrs["RedrivePolicy"] = self.redrive_policy.to_json()
        if config.redrive_allow_policy is not None:
            attrs["RedriveAllowPolicy"] = json.dumps(
                config.redrive_allow_policy, separators=(",", ":")
            )
        if config.kms_master_key_id is not None:
            attrs["KmsMasterKeyId"] = config.kms_master_key_id
            attrs["KmsDataKeyReusePeriodSeconds"] = str(config.kms_data_key_reuse_period_seconds)
        if self.fifo:
            attrs["FifoQueue"] = "true"
            attrs["ContentBasedDeduplication"] = (
                "true" if self.content_based_deduplication else "false"
            )
            attrs["DeduplicationScope"] = config.deduplication_scope
            attrs["FifoThroughputLimit"] = config.fifo_throughput_limit
        return attrs

    @property
    def metrics(self) -> dict[str, int]:
        """The queue's CloudWatch metrics now: current gauges and running totals.

        AWS's: ``ApproximateNumberOfMessagesVisible``, ``...NotVisible``,
        ``...Delayed``, ``ApproximateAgeOfOldestMessage`` (whole seconds, oldest
        message not deleted; in a dead-letter queue, since it arrived there),
        ``ApproximateNumberOfGroupsWithInflightMessages`` (FIFO),
        ``NumberOfMessagesSent`` (moves into a DLQ are not sends, as in AWS),
        ``NumberOfMessagesReceived``, ``NumberOfMessagesDeleted``,
        ``NumberOfEmptyReceives``, ``NumberOfDeduplicatedSentMessages`` (FIFO).
        esmsim's, so every message can be accounted for:
        ``NumberOfMessagesExpired``, ``NumberOfMessagesMovedToDLQ``,
        ``NumberOfMessagesMovedIn``, ``NumberOfMessagesPurged``.
        """
        now_ms = self.clock.now_ms()
        if not self.deleted:
            _, now_ms = self._advance()
        store = self._store
        oldest = store.oldest_arrival_ms()
        result = {
            "ApproximateNumberOfMessagesVisible": store.n_visible,
            "ApproximateNumberOfMessagesNotVisible": store.n_inflight,
            "ApproximateNumberOfMessagesDelayed": store.n_delayed,
            "ApproximateAgeOfOldestMessage": 0
            if oldest is None
            else max(0, now_ms - oldest) // 1000,
        }
        if self.fifo:
            result["ApproximateNumberOfGroupsWithInflightMessages"] = store.groups_inflight
        result.update(self._counts)
        if not self.fifo:
            del result["NumberOfDeduplicatedSentMessages"]
        return result

    # -- helpers for the poller and run_until_idle ------------------------------------------
    def next_visible_at(self) -> float | None:
        """Epoch seconds at which the next delayed or in-flight message becomes visible.

        None when no message is delayed or in flight and no producer has more.
        It can be in the past or now when such a message is already due; a
        receive then gets it. A lazily produced message counts from its arrival.
        """
        if self.deleted:
            return None
        self._advance()
        visible = self._store.next_visible_at()
        arrival = self._next_arrival_ms
        if arrival is None:
            return visible
        return arrival / 1000 if visible is None else min(visible, arrival / 1000)

    def has_receivable_messages(self) -> bool:
        """True when ``receive`` now would return a message (or redrive one).

        Differs from "visible > 0" on FIFO queues: messages of a group with a
        message in flight are visible but not receivable. A poller that waits
        for work should test this, then ``next_visible_at()`` and ``signal``.
        """
        if self.deleted:
            return False
        self._advance()
        return self._store.has_receivable()

    def approximate_number_of_messages(self) -> int:
        """Visible messages (``ApproximateNumberOfMessages``)."""
        if self.deleted:
            return 0
        self._advance()
        return self._store.n_visible

    def approximate_number_of_messages_visible(self) -> int:
        """Visible messages: the CloudWatch name of ``approximate_number_of_messages``."""
        return self.approximate_number_of_messages()

    def approximate_number_of_messages_not_visible(self) -> int:
        """Messages in flight (``ApproximateNumberOfMessagesNotVisible``)."""
        if self.deleted:
            return 0
        self._advance()
        return self._store.n_inflight

    def approximate_number_of_messages_delayed(self) -> int:
        """Delayed messages (``ApproximateNumberOfMessagesDelayed``)."""
        if self.deleted:
            return 0
        self._advance()
        return self._store.n_delayed

    def message_count(self) -> int:
        """Every message not yet deleted: visible, in flight and delayed."""
        if self.deleted:
            return 0
        self._advance()
        return len(self._store)

    def approximate_number_of_messages_total(self) -> int:
        """Visible + in flight + delayed: every message not yet deleted (``message_count``)."""
        return self.message_count()

    def is_empty(self) -> bool:
        """True when the queue holds no message at all (none visible, in flight or delayed)."""
        return self.message_count() == 0
