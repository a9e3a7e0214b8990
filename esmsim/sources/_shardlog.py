"""Shard logs: what Kinesis and DynamoDB Streams have in common.

Both services keep, per shard, an append-only log of records in sequence-number
order, trimmed by retention, read with iterators (TRIM_HORIZON, LATEST,
AT_TIMESTAMP, AT/AFTER_SEQUENCE_NUMBER) under per-call size caps and, for
Kinesis, per-shard read quotas shared by every consumer. This module holds that
machinery once; ``kinesis.py`` and ``dynamodb.py`` add what each service writes.

Positions are absolute indexes into a shard's log (the n-th record ever written
to the shard is at position n), so a consumer's position stays valid while the
head of the log is trimmed away. Memory matters (tens of millions of retained
records), so:

* records are ``__slots__`` objects, kept in one list per shard;
* trimming moves a start index (bisect on arrival time, O(log n)) and only
  compacts the list when the dead prefix is at least half of it, so it is
  amortized O(1) per record;
* ``read`` costs O(records returned); positioning by time or sequence number
  is a bisect.

Retention and quotas are computed from the simulated clock when a shard is
read or written, never by timers.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Generic, NamedTuple, Protocol, TypeVar

from .._core import AwsServiceError, Clock, Kernel, ResourceNotFoundException, Signal

__all__ = (
    "ITERATOR_TYPES",
    "ReadLimits",
    "ReadQuota",
    "ReadResult",
    "ShardInfo",
    "ShardLog",
    "StreamConsumer",
    "StreamLog",
    "StreamRecord",
    "StreamRecordLike",
    "WriteQuota",
)

ITERATOR_TYPES = (
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
)

# The dead prefix of a shard's list is dropped once it is this long and at
# least half of the list: rare enough to be amortized O(1), often enough that
# memory stays within twice the retained records.
_COMPACT_MIN = 4096


class StreamRecord:
    """One record in a shard log; sources subclass it with their own fields.

    Attributes:
        seq: the sequence number as an int (for ordering and comparisons).
        arrival_ms: when the service accepted the record, in epoch ms.
        key: what per-key ordering follows (Kinesis partition key; the
            DynamoDB item key as a canonical string).
        size: the record's size as the service counts it, in bytes (Kinesis:
            data plus partition key; DynamoDB: ``SizeBytes``).
    """

    __slots__ = ("arrival_ms", "key", "seq", "size")

    def __init__(self, seq: int, arrival_ms: int, key: str, size: int) -> None:
        self.seq = seq
        self.arrival_ms = arrival_ms
        self.key = key
        self.size = size

    @property
    def sequence_number(self) -> str:
        """The sequence number as AWS prints it (a decimal string)."""
        return str(self.seq)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.seq} key={self.key!r} size={self.size}>"


class StreamRecordLike(Protocol):
    """What the shard log needs of a record (a ``StreamRecord`` or a ``KinesisRecord``)."""

    @property
    def seq(self) -> int: ...
    @property
    def arrival_ms(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def size(self) -> int: ...


R = TypeVar("R", bound=StreamRecordLike)
R_co = TypeVar("R_co", bound=StreamRecordLike, covariant=True)


class ShardInfo(NamedTuple):
    """A shard's identity and lineage, as a stream poller needs it."""

    shard_id: str
    parent_shard_id: str | None
    adjacent_parent_shard_id: str | None
    closed: bool


class ReadResult(NamedTuple, Generic[R_co]):
    """What one GetRecords-style read returned.

    Attributes:
        records: the records read, in sequence order (empty when throttled).
        next_position: where the next read of this shard should start.
        expired: records between the requested position and the trim horizon
            that retention removed before they were read.
        shard_end: the shard is closed and every record in it has been read.
        throttled: the shard's read quota was used up; nothing was read.
    """

    records: list[R_co]
    next_position: int
    expired: int
    shard_end: bool
    throttled: bool


class ReadLimits(NamedTuple):
    """A service's per-call caps and per-shard read quota (None: no quota)."""

    max_records: int
    max_bytes: int
    calls_per_second: int | None = None
    bytes_per_second: int | None = None


class ReadQuota:
    """A shard's read quota, shared by every consumer of the shard.

    Calls are counted per 1-second window of simulated time (aligned to whole
    epoch seconds). Bytes are accounted as occupied bandwidth: a read of B
    bytes occupies the shard's read bandwidth for B / rate seconds, starting no
    earlier than the current window; a read is refused while the bandwidth is
    booked beyond the current window. So 2 MiB can be read per second in any
    mix of calls, and one 10 MiB read (5 s at 2 MiB/s) refuses reads until the
    fifth second after it, as Kinesis documents. Times are kept as integers
    (ms x bytes-per-second) so the arithmetic is exact.
    """

    __slots__ = ("_busy", "_calls", "_calls_per_second", "_rate", "_window")

    def __init__(self, calls_per_second: int | None, bytes_per_second: int | None) -> None:
        self._calls_per_second = calls_per_second
        self._rate = bytes_per_second
        self._window = -1
        self._calls = 0
        self._busy = 0

    def admit(self, now_ms: int) -> bool:
        """True (and the call is counted) when a read may run now."""
        window = now_ms // 1000
        if window != self._window:
            self._window = window
            self._calls = 0
        if self._calls_per_second is not None and self._calls >= self._calls_per_second:
            return False
        if self._rate is not None and self._busy >= (window + 1) * 1000 * self._rate:
            return False
        self._calls += 1
        return True

    def charge(self, now_ms: int, nbytes: int) -> None:
        """Book the bandwidth of a read that returned ``nbytes``."""
        if self._rate is None or nbytes <= 0:
            return
        window_start = (now_ms // 1000) * 1000 * self._rate
        self._busy = max(self._busy, window_start) + nbytes * 1000


class WriteQuota:
    """A shard's write quota per 1-second window of simulated time (Kinesis: 1,000 / 1 MiB)."""

    __slots__ = ("_bytes", "_count", "_max_bytes", "_max_records", "_window")

    def __init__(self, max_records: int, max_bytes: int) -> None:
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._window = -1
        self._count = 0
        self._bytes = 0

    def take(self, now_ms: int, nbytes: int) -> bool:
        """Count one record of ``nbytes`` if it fits in this second; False if not."""
        window = now_ms // 1000
        if window != self._window:
            self._window = window
            self._count = 0
            self._bytes = 0
        if self._count + 1 > self._max_records or self._bytes + nbytes > self._max_bytes:
            return False
        self._count += 1
        self._bytes += nbytes
        return True


def _arrival(record: StreamRecordLike) -> int:
    return record.arrival_ms


def _seq(record: StreamRecordLike) -> int:
    return record.seq


class ShardLog(Generic[R]):
    """One shard: its lineage and its record log with absolute positions.

    ``_records[i]`` is the record at position ``_base + i``; positions below
    ``_start`` are trimmed (they may still sit in the list until compaction).
    Subclasses add the service's sequence numbering and routing data.
    """

    __slots__ = (
        "_base",
        "_records",
        "_start",
        "adjacent_parent_shard_id",
        "closed_ms",
        "created_ms",
        "index",
        "parent_shard_id",
        "quota",
        "shard_id",
        "signal",
    )

    def __init__(
        self,
        shard_id: str,
        index: int,
        created_ms: int,
        *,
        parent_shard_id: str | None = None,
        adjacent_parent_shard_id: str | None = None,
        quota: ReadQuota | None = None,
    ) -> None:
        self.shard_id = shard_id
        self.index = index
        self.created_ms = created_ms
        self.parent_shard_id = parent_shard_id
        self.adjacent_parent_shard_id = adjacent_parent_shard_id
        self.closed_ms: int | None = None
        self.quota = quota
        self.signal: Signal | None = None  # set by StreamLog.add
        self._records: list[R] = []
        self._base = 0
        self._start = 0

    # -- lineage ------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once the shard takes no more writes (resharded, stream disabled)."""
        return self.closed_ms is not None

    def close(self, now_ms: int) -> None:
        """Stop taking writes; readers reach ``shard_end`` once they read everything."""
        if self.closed_ms is None:
            self.closed_ms = now_ms

    def info(self) -> ShardInfo:
        """This shard's ``ShardInfo``."""
        return ShardInfo(
            self.shard_id, self.parent_shard_id, self.adjacent_parent_shard_id, self.closed
        )

    def expired(self, cutoff_ms: int) -> bool:
        """True when the shard was closed before ``cutoff_ms``: retention removed all of it."""
        return self.closed_ms is not None and self.closed_ms < cutoff_ms

    def owns_sequence(self, seq: int) -> bool:
        """Whether ``seq`` could be a sequence number of this shard (subclasses narrow it)."""
        return seq >= 0

    # -- the log ------------------------------------------------------------------
    @property
    def start(self) -> int:
        """The trim horizon: the position of the oldest retained record."""
        return self._start

    @property
    def end(self) -> int:
        """The position the next record written will get (LATEST)."""
        return self._base + len(self._records)

    def __len__(self) -> int:
        return self.end - self._start

    def append(self, record: R) -> int:
        """Add a record (sequence and arrival order are the caller's); its position."""
        self._records.append(record)
        return self.end - 1

    def last(self) -> R | None:
        """The newest record, retained or not."""
        return self._records[-1] if self._records else None

    def record_at(self, position: int) -> R:
        """The record at an absolute, retained position."""
        return self._records[position - self._base]

    def retained(self) -> Iterator[R]:
        """The retained records, oldest first."""
        records = self._records
        for i in range(self._start - self._base, len(records)):
            yield records[i]

    def trim(self, cutoff_ms: int) -> None:
        """Drop every record that arrived before ``cutoff_ms``."""
        records = self._records
        i = self._start - self._base
        if i >= len(records) or records[i].arrival_ms >= cutoff_ms:
            return
        j = bisect_left(records, cutoff_ms, lo=i, key=_arrival)
        self._start = self._base + j
        if j >= _COMPACT_MIN and 2 * j >= len(records):
            del records[:j]
            self._base += j

    def at_timestamp(self, epoch_ms: int) -> int:
        """Position of the first retained record that arrived at or after ``epoch_ms``."""
        records = self._records
        i = bisect_left(records, epoch_ms, lo=self._start - self._base, key=_arrival)
        return self._base + i

    def at_sequence(self, seq: int, *, after: bool) -> int:
        """Position of the first retained record with sequence >= ``seq`` (> when ``after``)."""
        records = self._records
        lo = self._start - self._base
        find = bisect_right if after else bisect_left
        return self._base + find(records, seq, lo=lo, key=_seq)

    def take(self, position: int, limit: int, max_bytes: int) -> tuple[list[R], int]:
        """Up to ``limit`` records from ``position`` within ``max_bytes``; and their bytes.

        The first record is always returned when there is one (no record is
        larger than a call's byte cap), so a reader can never stall.
        """
        records = self._records
        i = position - self._base
        stop = min(len(records), i + limit)
        total = 0
        j = i
        while j < stop:
            size = records[j].size
            if j > i and total + size > max_bytes:
                break
            total += size
            j += 1
        return records[i:j], total


class StreamLog(Generic[R]):
    """A stream's shards and the consumer surface over them (position, read, ...).

    Args:
        kernel: the simulation kernel (signals are made on it).
        clock: the simulation clock.
        retention_seconds: how long records stay readable.
        limits: the service's per-call caps and per-shard read quota.
        invalid: the service's error class for bad arguments.
        where: how messages name the stream, e.g. ``"in stream s under account 1"``.
        iterator_types: the iterator types the service supports.
        on_access: called before every read-side operation (DynamoDB's lazy
            TTL deletions hook in here).
    """

    def __init__(
        self,
        *,
        kernel: Kernel,
        clock: Clock,
        retention_seconds: int,
        limits: ReadLimits,
        invalid: type[AwsServiceError],
        where: str,
        iterator_types: tuple[str, ...] = ITERATOR_TYPES,
        on_access: Callable[[], None] | None = None,
    ) -> None:
        self.kernel = kernel
        self.clock = clock
        self.signal = Signal(kernel)
        self.retention_ms = retention_seconds * 1000
        self.limits = limits
        self.invalid = invalid
        self.where = where
        self.iterator_types = iterator_types
        self.on_access = on_access
        self.shards: dict[str, ShardLog[R]] = {}

    # -- bookkeeping for the owning source --------------------------------------------
    def add(self, shard: ShardLog[R]) -> None:
        """Register a shard (parents are always added before their children)."""
        if shard.quota is None and (
            self.limits.calls_per_second is not None or self.limits.bytes_per_second is not None
        ):
            shard.quota = ReadQuota(self.limits.calls_per_second, self.limits.bytes_per_second)
        shard.signal = Signal(self.kernel)
        self.shards[shard.shard_id] = shard

    def notify(self, *shards: ShardLog[R]) -> None:
        """Wake readers after a write: each written shard's signal, then the stream's."""
        for shard in shards:
            if shard.signal is not None:
                shard.signal.fire()
        self.signal.fire()

    def horizon_ms(self, now_ms: int) -> int:
        """The trim horizon: records that arrived before this instant are past retention.

        A record is readable while its age is at most the retention period
        (the same rule the stream poller applies to records it buffered).
        """
        return now_ms - self.retention_ms

    def shard(self, shard_id: str) -> ShardLog[R]:
        """The shard with this id; ``ResourceNotFoundException`` if there is none."""
        shard = self.shards.get(shard_id)
        if shard is None or shard.expired(self.horizon_ms(self.clock.now_ms())):
            raise ResourceNotFoundException(f"Shard {shard_id} {self.where} does not exist")
        return shard

    def live_shards(self) -> list[ShardLog[R]]:
        """Shards not yet expired, in creation order (parents before children)."""
        horizon = self.horizon_ms(self.clock.now_ms())
        return [s for s in self.shards.values() if not s.expired(horizon)]

    # -- the consumer surface ------------------------------------------------------------
    def shard_ids(self) -> list[str]:
        """Every shard not yet expired, parents before children."""
        if self.on_access is not None:
            self.on_access()
        return [s.shard_id for s in self.live_shards()]

    def shard_info(self, shard_id: str) -> ShardInfo:
        """Lineage and state of one shard."""
        return self.shard(shard_id).info()

    def position(
        self,
        shard_id: str,
        iterator_type: str,
        sequence_number: str | int | None = None,
        timestamp: float | datetime | None = None,
    ) -> int:
        """The absolute position an iterator of ``iterator_type`` starts at."""
        if self.on_access is not None:
            self.on_access()
        shard = self.shard(shard_id)
        now = self.clock.now_ms()
        shard.trim(self.horizon_ms(now))
        if iterator_type not in self.iterator_types:
            raise self.invalid(
                f"ShardIteratorType: {iterator_type!r} is not one of "
                f"{', '.join(self.iterator_types)}"
            )
        if iterator_type == "TRIM_HORIZON":
            return shard.start
        if iterator_type == "LATEST":
            return shard.end
        if iterator_type == "AT_TIMESTAMP":
            if timestamp is None:
                raise self.invalid("Timestamp: must be given for ShardIteratorType AT_TIMESTAMP")
            return shard.at_timestamp(epoch_ms_ceil(timestamp, "Timestamp", self.invalid))
        if sequence_number is None:
            raise self.invalid(
                f"StartingSequenceNumber: must be given for ShardIteratorType {iterator_type}"
            )
        seq = self.parse_sequence(shard, sequence_number)
        return shard.at_sequence(seq, after=iterator_type == "AFTER_SEQUENCE_NUMBER")

    def latest(self, shard_id: str) -> int:
        """``position(shard_id, "LATEST")`` for a reader polling its own shard.

        Readers ask this several times per poll, so an open shard skips the
        argument checks and the trim (nothing it returns depends on them); a
        missing or closed shard takes the full path, errors included.
        """
        if self.on_access is not None:
            self.on_access()
        shard = self.shards.get(shard_id)
        if shard is None or shard.closed_ms is not None:
            return self.position(shard_id, "LATEST")
        return shard.end

    def parse_sequence(self, shard: ShardLog[R], sequence_number: str | int) -> int:
        """The int of a sequence number given as text; an error if it cannot be this shard's."""
        if isinstance(sequence_number, bool):
            seq = -1
        elif isinstance(sequence_number, int):
            seq = sequence_number
        elif isinstance(sequence_number, str) and sequence_number.isdigit():
            seq = int(sequence_number)
        else:
            seq = -1
        if seq < 0 or not shard.owns_sequence(seq):
            raise self.invalid(
                f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard "
                f"{shard.shard_id} {self.where} is invalid."
            )
        return seq

    def read(self, shard_id: str, position: int, limit: int, consumer: str = "") -> ReadResult[R]:
        """Read up to ``limit`` records of a shard from ``position`` (see ``ReadResult``).

        ``consumer`` names the reader (a mapping UUID, ``"GetRecords"``); the
        read quota is per shard and shared by all readers, so it only serves
        diagnostics.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit: expected an integer >= 1, got {limit!r}")
        if self.on_access is not None:
            self.on_access()
        shard = self.shard(shard_id)
        now = self.clock.now_ms()
        shard.trim(self.horizon_ms(now))
        expired = 0
        if position < shard.start:
            expired = shard.start - position
            position = shard.start
        position = min(position, shard.end)
        quota = shard.quota
        if quota is not None and not quota.admit(now):
            return ReadResult([], position, expired, shard.closed and position >= shard.end, True)
        records, nbytes = shard.take(
            position, min(limit, self.limits.max_records), self.limits.max_bytes
        )
        if quota is not None:
            quota.charge(now, nbytes)
        next_position = position + len(records)
        shard_end = shard.closed and next_position >= shard.end
        return ReadResult(records, next_position, expired, shard_end, False)


class StreamConsumer(Generic[R]):
    """The consumer surface of a stream source, delegating to its ``StreamLog``.

    Mixed into ``KinesisStream``, ``DynamoDBTable`` and ``DynamoDBStream``; the
    stream poller calls only these (see docs/internals.md).
    """

    _log: StreamLog[R]
    event_source: str

    @property
    def data_signal(self) -> Signal:
        """Fired after every successful write to the stream."""
        return self._log.signal

    def shard_signal(self, shard_id: str) -> Signal:
        """Fired after every successful write to one shard (wakes only that shard's reader)."""
        signal = self._log.shard(shard_id).signal
        assert signal is not None
        return signal

    @property
    def retention_seconds(self) -> int:
        """How long records stay readable, in seconds."""
        return self._log.retention_ms // 1000

    def shard_ids(self) -> list[str]:
        """Every shard not yet expired, parents before children."""
        return self._log.shard_ids()

    def shard_info(self, shard_id: str) -> ShardInfo:
        """``ShardInfo(shard_id, parent_shard_id, adjacent_parent_shard_id, closed)``."""
        return self._log.shard_info(shard_id)

    def position(
        self,
        shard_id: str,
        iterator_type: str,
        sequence_number: str | int | None = None,
        timestamp: float | datetime | None = None,
    ) -> int:
        """Absolute log position for an iterator type (``TRIM_HORIZON``, ``LATEST``, ...)."""
        return self._log.position(shard_id, iterator_type, sequence_number, timestamp)

    def read(self, shard_id: str, position: int, limit: int, consumer: str = "") -> ReadResult[R]:
        """Read up to ``limit`` records from ``position``; trims by retention first."""
        return self._log.read(shard_id, position, limit, consumer)

    def latest(self, shard_id: str) -> int:
        """The position the next record written to the shard will get (LATEST)."""
        return self._log.latest(shard_id)

    def peek_bounds(self, shard_id: str) -> tuple[int, int] | None:
        """A shard's (trim horizon, end) as of now, or None once it is gone; strictly read-only.

        For observers sampling mid-run (the results recorder): unlike
        ``position`` it runs no ``on_access`` hook (no lazy production, no TTL
        deletions), trims nothing and fires no signal, so it cannot move a
        run's trace. Records a lazy producer has not written yet are not there.
        """
        log = self._log
        shard = log.shards.get(shard_id)
        horizon = log.horizon_ms(log.clock.now_ms())
        if shard is None or shard.expired(horizon):
            return None
        return shard.at_timestamp(horizon), shard.end


def epoch_ms_ceil(value: float | datetime, field: str, error: type[AwsServiceError]) -> int:
    """Epoch ms of a timestamp, rounded up (records at or after it qualify)."""
    if isinstance(value, datetime):
        # A naive datetime means UTC, as everywhere in esmsim.
        seconds = (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise error(f"{field}: expected a datetime or epoch seconds, got {type(value).__name__}")
    if not math.isfinite(seconds):
        raise error(f"{field}: {value!r} is not a finite time")
    return math.ceil(seconds * 1000 - 1e-6)
