"""Amazon Kinesis Data Streams, as its API sees it (AWS::Kinesis::Stream).

Shards own contiguous ranges of the 128-bit MD5 hash-key space, split evenly
as Kinesis does (shard i of n gets ``[i*2**128//n, (i+1)*2**128//n - 1]``). A
record goes to the shard whose range holds ``int(md5(PartitionKey))`` or its
``ExplicitHashKey``. Each shard takes 1 MiB and 1,000 records per second of
simulated time (excess puts fail with ``ProvisionedThroughputExceededException``)
and serves 5 reads and 2 MiB per second to all its consumers together.

Sequence numbers are 56 decimal digits, strictly increasing per shard::

    49 | arrival epoch ms (13) | shard index (6) | seeded base + per-shard counter (35)

The leading ``49`` is what real Kinesis numbers start with; the arrival time
makes numbers grow with time, across shards too, as real ones do; the shard
index keeps shards apart (and lets an iterator reject another shard's number);
the last field starts at a seeded random value, so runs with the same seed get
the same numbers and runs with different seeds do not, and leaves room for
10**34 records per shard. Python ints keep them exact.

The consumer surface (``position``/``read``/``shard_ids``...) is shared with
DynamoDB Streams (``_shardlog.py``); the boto3-shaped methods let users produce
and consume by hand.

Resharding (``split_shard``, ``merge_shards``, ``update_shard_count``) works as
Kinesis does: the parents close (``EndingSequenceNumber`` appears) and stay
readable until retention removes them, the children open with
``ParentShardId`` / ``AdjacentParentShardId``, the next shard numbers and the
hash-key ranges Kinesis gives them, and every later write routes to a child.
``UNIFORM_SCALING`` is a set of splits and merges: every open shard is split
at each boundary of the even target ranges that falls inside it (a chain of
splits, whose intermediate shards close at once, empty), then the pieces that
share a target range are merged left to right. Doubling splits each shard in
two and halving merges neighbours, so the common cases give exactly the shards
Kinesis gives. Resharding is instant (the stream never shows ``UPDATING``);
``shards_signal`` fires after each one so that pollers pick up the children.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from .._arns import kinesis_stream_arn
from .._core import AwsServiceError, ResourceNotFoundException, Signal, get_logger
from ._base import Resource
from ._errors import (
    ExpiredIteratorException,
    InvalidArgumentException,
    ProvisionedThroughputExceededException,
    ValidationException,
)
from ._shardlog import (
    _COMPACT_MIN,
    ReadLimits,
    ShardLog,
    StreamConsumer,
    StreamLog,
    WriteQuota,
)
from .producers import Producer

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = (
    "KinesisRecord",
    "KinesisShard",
    "KinesisStream",
    "LimitExceededException",
    "shard_id_of_sequence",
)

MIB = 1024 * 1024
HASH_KEY_SPACE = 2**128
MAX_RECORD_DATA = MIB  # per-record data blob before base64
MAX_PARTITION_KEY = 256
MAX_PUT_RECORDS = 500
MAX_PUT_RECORDS_BYTES = 10 * MIB
SHARD_WRITE_RECORDS = 1000  # per shard per second
SHARD_WRITE_BYTES = MIB  # per shard per second (data + partition key)
READ_LIMITS = ReadLimits(
    max_records=10_000, max_bytes=10 * MIB, calls_per_second=5, bytes_per_second=2 * MIB
)
ITERATOR_TTL_MS = 300_000  # shard iterators expire after 5 minutes
MIN_RETENTION_HOURS, MAX_RETENTION_HOURS = 24, 8760
MAX_SHARD_COUNT = 100_000

_SEQ_SHARD_DIGITS = 6
_SEQ_TIME_DIGITS = 13
_SEQ_COUNTER_DIGITS = 35
_SEQ_DIGITS = 2 + _SEQ_TIME_DIGITS + _SEQ_SHARD_DIGITS + _SEQ_COUNTER_DIGITS  # 56
_SEQ_SHARD_UNIT: int = 10**_SEQ_COUNTER_DIGITS  # one step of the shard index
_SEQ_TIME_UNIT: int = 10 ** (_SEQ_SHARD_DIGITS + _SEQ_COUNTER_DIGITS)  # one ms of arrival
_SEQ_PREFIX: int = 49 * 10 ** (_SEQ_TIME_DIGITS + _SEQ_SHARD_DIGITS + _SEQ_COUNTER_DIGITS)
_NEVER = 2**63  # no producer has more records
_SEQ_LOW_UNIT = 10**12  # the counter's low digits, formatted apart (KinesisShard.take)
_ITERATOR_TAG = "esmsim-kinesis-1"
_HASH_KEY_PATTERN = re.compile(r"0|[1-9]\d{0,38}")
_SHARD_ID_NUMBER = re.compile(r"(?:.*-)?0*(\d{1,10})")
_ENTRY_KEYS = frozenset({"Data", "PartitionKey", "ExplicitHashKey"})

_PROPERTIES = frozenset(
    {
        "ShardCount",
        "RetentionPeriodHours",
        "StreamModeDetails",
        "Name",
        "StreamEncryption",
        "Tags",
        "DesiredShardLevelMetrics",
    }
)


class LimitExceededException(AwsServiceError):
    """A Kinesis limit was hit (``UpdateShardCount`` beyond double or below half)."""

    code = "LimitExceededException"


def shard_id_of_sequence(seq: int) -> str:
    """The id of the shard a Kinesis sequence number belongs to (its shard-index digits)."""
    return f"shardId-{seq % _SEQ_TIME_UNIT // _SEQ_SHARD_UNIT:012d}"


class KinesisRecord:
    """A Kinesis record, made only for the records a read returns (see ``KinesisShard``).

    It carries its sequence number as text, the form every consumer wants (the
    event's ``sequenceNumber`` and ``eventID``, GetRecords, failure records);
    ``seq``, the int, is parsed on demand for the rare comparisons.
    """

    __slots__ = ("arrival_ms", "data", "key", "sequence_number", "size")

    def __init__(
        self, sequence_number: str, arrival_ms: int, partition_key: str, data: bytes, size: int
    ) -> None:
        self.sequence_number = sequence_number
        self.arrival_ms = arrival_ms
        self.key = partition_key
        self.data = data
        self.size = size  # data plus UTF-8 partition key, as Kinesis counts throughput

    @property
    def seq(self) -> int:
        """The sequence number as an int (for ordering and comparisons)."""
        return int(self.sequence_number)

    @property
    def partition_key(self) -> str:
        """The partition key the producer gave."""
        return self.key

    def __repr__(self) -> str:
        return f"<KinesisRecord {self.sequence_number} key={self.key!r} size={self.size}>"


class KinesisShard(ShardLog[KinesisRecord]):
    """A Kinesis shard: a hash-key range, a write quota, and its records kept as columns.

    Why columns: a load experiment retains tens of millions of records (a day of
    8 shards at 100 records/s is 69M), and a ``KinesisRecord`` object with its
    56-digit sequence number costs ~190 bytes before its data. Here a retained
    record costs one ``array('q')`` slot (arrival ms), one ``array('i')`` slot
    (size) and two list slots (a reference to its partition key and one to its
    data, both shared when the producer repeats them): 28 bytes. Sequence numbers
    are not stored at all: the shard's counter moves by exactly one per record,
    so the counter of the record at absolute position ``p`` is
    ``_counter_base + p + 1`` and its sequence number follows from that and its
    arrival time. ``KinesisRecord`` objects are made only for the records a read
    returns (``take``), so only batches in flight exist as objects.
    """

    __slots__ = (
        "_arrivals",
        "_counter_base",
        "_data",
        "_keys",
        "_seq_mid",
        "_seq_shard",
        "_sizes",
        "ending_hash_key",
        "starting_hash_key",
        "write_quota",
    )

    def __init__(
        self,
        shard_index: int,
        created_ms: int,
        hash_range: tuple[int, int],
        counter_base: int,
        *,
        parent_shard_id: str | None = None,
        adjacent_parent_shard_id: str | None = None,
    ) -> None:
        super().__init__(
            f"shardId-{shard_index:012d}",
            shard_index,
            created_ms,
            parent_shard_id=parent_shard_id,
            adjacent_parent_shard_id=adjacent_parent_shard_id,
        )
        self.starting_hash_key, self.ending_hash_key = hash_range
        self.write_quota = WriteQuota(SHARD_WRITE_RECORDS, SHARD_WRITE_BYTES)
        self._seq_shard: int = shard_index * _SEQ_SHARD_UNIT
        self._counter_base = counter_base
        # Shard index and the counter's high 23 digits: fixed for the shard.
        self._seq_mid = f"{shard_index:06d}{counter_base // _SEQ_LOW_UNIT:023d}"
        self._arrivals = array("q")
        self._sizes = array("i")  # a record is at most 1 MiB of data + 256 bytes of key
        self._keys: list[str] = []
        self._data: list[bytes] = []

    def sequence_at(self, epoch_ms: int, counter: int) -> int:
        """The sequence number for an arrival time and counter value."""
        return _SEQ_PREFIX + epoch_ms * _SEQ_TIME_UNIT + self._seq_shard + counter

    def _seq_of(self, position: int) -> int:
        return self.sequence_at(
            self._arrivals[position - self._base], self._counter_base + position + 1
        )

    @property
    def starting_sequence_number(self) -> int:
        """Below every record of the shard (``SequenceNumberRange.StartingSequenceNumber``)."""
        return self.sequence_at(self.created_ms, 0)

    def owns_sequence(self, seq: int) -> bool:
        return (
            len(str(seq)) == _SEQ_DIGITS and seq % _SEQ_TIME_UNIT // _SEQ_SHARD_UNIT == self.index
        )

    # -- the log, as columns (overrides ShardLog's list of records) -------------------
    @property
    def end(self) -> int:
        return self._base + len(self._arrivals)

    def __len__(self) -> int:
        return self.end - self._start

    def write(self, arrival_ms: int, key: str, data: bytes, size: int) -> int:
        """Append one record; its sequence number."""
        counter = self._counter_base + self._base + len(self._arrivals) + 1
        self._arrivals.append(arrival_ms)
        self._sizes.append(size)
        self._keys.append(key)
        self._data.append(data)
        return self.sequence_at(arrival_ms, counter)

    def write_columns(
        self, arrivals: list[int], keys: list[str], datas: list[bytes], sizes: list[int]
    ) -> int:
        """Append produced records (in arrival order) under the write quota; how many fit.

        The quota is applied per second of arrival, as ``WriteQuota.take`` would
        record by record: a second whose records all fit is taken whole (the common
        case); otherwise its records go one at a time and those over the quota
        are dropped.
        """
        quota = self.write_quota
        if not arrivals:
            return 0
        keep: list[int] | None = None  # indexes kept, once something was dropped
        n = len(arrivals)
        pos = 0
        while pos < n:
            window = arrivals[pos] // 1000
            end = bisect_left(arrivals, (window + 1) * 1000, lo=pos)
            if window != quota._window:
                quota._window, quota._count, quota._bytes = window, 0, 0
            nbytes = sum(sizes[pos:end])
            if (
                quota._count + end - pos <= quota._max_records
                and quota._bytes + nbytes <= quota._max_bytes
            ):
                quota._count += end - pos
                quota._bytes += nbytes
                if keep is not None:
                    keep.extend(range(pos, end))
            else:
                if keep is None:
                    keep = list(range(pos))
                for i in range(pos, end):
                    if quota.take(arrivals[i], sizes[i]):
                        keep.append(i)
            pos = end
        if keep is not None:
            arrivals = [arrivals[i] for i in keep]
            sizes = [sizes[i] for i in keep]
            keys = [keys[i] for i in keep]
            datas = [datas[i] for i in keep]
        self._arrivals.extend(arrivals)
        self._sizes.extend(sizes)
        self._keys.extend(keys)
        self._data.extend(datas)
        return len(arrivals)

    def append(self, record: KinesisRecord) -> int:
        """Append a record made elsewhere; its sequence number is this shard's next one."""
        self.write(record.arrival_ms, record.key, record.data, record.size)
        return self.end - 1

    def _make(self, i: int) -> KinesisRecord:
        position = self._base + i
        arrival = self._arrivals[i]
        return KinesisRecord(
            str(self.sequence_at(arrival, self._counter_base + position + 1)),
            arrival,
            self._keys[i],
            self._data[i],
            self._sizes[i],
        )

    def last(self) -> KinesisRecord | None:
        return self._make(len(self._arrivals) - 1) if self._arrivals else None

    def record_at(self, position: int) -> KinesisRecord:
        return self._make(position - self._base)

    def retained(self) -> Iterator[KinesisRecord]:
        for i in range(self._start - self._base, len(self._arrivals)):
            yield self._make(i)

    def trim(self, cutoff_ms: int) -> None:
        arrivals = self._arrivals
        i = self._start - self._base
        if i >= len(arrivals) or arrivals[i] >= cutoff_ms:
            return
        j = bisect_left(arrivals, cutoff_ms, lo=i)
        self._start = self._base + j
        if j >= _COMPACT_MIN and 2 * j >= len(arrivals):
            del arrivals[:j]
            del self._sizes[:j]
            del self._keys[:j]
            del self._data[:j]
            self._base += j

    def at_timestamp(self, epoch_ms: int) -> int:
        i = bisect_left(self._arrivals, epoch_ms, lo=self._start - self._base)
        return self._base + i

    def at_sequence(self, seq: int, *, after: bool) -> int:
        # Sequence numbers grow with position, so bisect positions on them.
        lo, hi = self._start, self.end
        while lo < hi:
            mid = (lo + hi) // 2
            mid_seq = self._seq_of(mid)
            if mid_seq < seq or (after and mid_seq == seq):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def take(self, position: int, limit: int, max_bytes: int) -> tuple[list[KinesisRecord], int]:
        i = position - self._base
        stop = min(len(self._arrivals), i + limit)
        if stop <= i:
            return [], 0
        sizes = self._sizes[i:stop]
        if sum(sizes) > max_bytes:
            # The first record always goes (no record is larger than a call's cap).
            sums = list(accumulate(sizes))
            stop = i + max(1, bisect_right(sums, max_bytes))
            sizes = sizes[: stop - i]
        total = sum(sizes)
        # The sequence number's text is the concatenation of its fixed-width
        # fields ("49", 13 digits of arrival ms, 6 of shard index, 35 of counter),
        # so it is built from small ints, with no 186-bit arithmetic per record.
        # Without format specs (zero padding costs more than the arithmetic): the
        # arrival has 13 digits from 2001 to 2286, and the counter's low 12 digits
        # start in [10**11, 2 * 10**11) (``_counter_base``), so they keep exactly 12
        # digits, with no carry into the high part, for 8 * 10**11 records a shard.
        count = stop - i
        low = self._counter_base % _SEQ_LOW_UNIT + position + 1
        arrivals = self._arrivals[i:stop]
        rows = zip(arrivals, self._keys[i:stop], self._data[i:stop], sizes, strict=True)
        if (
            low + count > _SEQ_LOW_UNIT
            or low < _SEQ_LOW_UNIT // 10
            or arrivals[0] < 10**12
            or arrivals[-1] >= 10**13
        ):  # outside the fast form's range: the general form
            return [
                KinesisRecord(str(self._seq_of(position + n)), arrival, key, data, size)
                for n, (arrival, key, data, size) in enumerate(rows)
            ], total
        mid = self._seq_mid
        return [
            KinesisRecord(f"49{arrival}{mid}{low + n}", arrival, key, data, size)
            for n, (arrival, key, data, size) in enumerate(rows)
        ], total


class KinesisStream(Resource, StreamConsumer[KinesisRecord]):
    """A Kinesis data stream made with ``sim.kinesis_stream(name, **properties)``.

    Properties (CloudFormation names): ``ShardCount`` (1..100,000, default 1),
    ``RetentionPeriodHours`` (24..8,760, default 24), ``StreamModeDetails``
    (accepted; the shard count stays as given), ``Name``, ``StreamEncryption``,
    ``Tags``, ``DesiredShardLevelMetrics`` (accepted, no effect).
    """

    resource_type = "AWS::Kinesis::Stream"
    event_source = "aws:kinesis"

    def __init__(self, sim: Simulation, name: str, **properties: Any) -> None:
        _check_name(name)
        arn = kinesis_stream_arn(sim.region, sim.account_id, name)
        super().__init__(sim, name, arn)
        unknown = sorted(set(properties) - _PROPERTIES)
        if unknown:
            raise TypeError(
                f"{unknown[0]}: unknown AWS::Kinesis::Stream property; "
                f"allowed: {', '.join(sorted(_PROPERTIES))}"
            )
        shard_count = _int_property(properties, "ShardCount", 1)
        if not 1 <= shard_count <= MAX_SHARD_COUNT:
            raise ValidationException(
                f"ShardCount: 1 validation error detected: Value '{shard_count}' at 'shardCount' "
                f"failed to satisfy constraint: Member must have value between 1 and "
                f"{MAX_SHARD_COUNT}"
            )
        hours = _int_property(properties, "RetentionPeriodHours", MIN_RETENTION_HOURS)
        if hours < MIN_RETENTION_HOURS:
            raise InvalidArgumentException(
                f"RetentionPeriodHours: Minimum allowed retention period is "
                f"{MIN_RETENTION_HOURS} hours. Requested retention period ({hours} hours) "
                "is too short."
            )
        if hours > MAX_RETENTION_HOURS:
            raise InvalidArgumentException(
                f"RetentionPeriodHours: Maximum allowed retention period is "
                f"{MAX_RETENTION_HOURS} hours. Requested retention period ({hours} hours) "
                "is too long."
            )
        self.stream_mode = _stream_mode(properties.get("StreamModeDetails"))
        given_name = properties.get("Name")
        if given_name is not None and given_name != name:
            raise ValueError(f"Name: {given_name!r} differs from the stream name {name!r}")
        self.retention_period_hours = hours
        clock = sim.clock
        self._created_ms = clock.now_ms()
        self._where = f"in stream {name} under account {sim.account_id}"
        self._log = StreamLog[KinesisRecord](
            kernel=sim.kernel,
            clock=clock,
            retention_seconds=hours * 3600,
            limits=READ_LIMITS,
            invalid=InvalidArgumentException,
            where=self._where,
            on_access=self._produce_due,
        )
        self._producers: list[Producer] = []
        self._due_ms: int | None = None  # cached next_arrival_ms (None: recompute)
        self._route_cache: dict[str, KinesisShard] = {}
        self._key_len: dict[str, int] = {}  # UTF-8 length of each produced partition key
        self.producer_throttles = 0
        # Seeded per incarnation: a stream re-created under the same name gets new numbers.
        self._rng = sim.seeds.rng("kinesis", f"{name}@{self._created_ms}")
        self._open: list[KinesisShard] = []  # open shards, by starting hash key
        self._open_starts: list[int] = []
        self._next_shard_index = 0
        self.shards_signal = Signal(sim.kernel)
        """Fired after every reshard (pollers start the new child shards)."""
        for lo, hi in _uniform_ranges(shard_count):
            self._new_shard(self._created_ms, (lo, hi))
        self._reindex_open()
        sim.register(self)
        get_logger(stream=name).debug(
            "kinesis.stream.created", shards=shard_count, retention_hours=hours
        )

    # -- identity -------------------------------------------------------------------
    @property
    def stream_arn(self) -> str:
        """The stream ARN (same as ``arn``)."""
        return self.arn

    def delete(self) -> None:
        """Delete the stream: its boto3-shaped methods fail from now on.

        The consumer surface (``read``, ``position``, ...) keeps answering
        from the frozen log so that a poller racing the deletion never
        crashes; pollers check ``deleted`` and stop reading.
        """
        self._check_alive()
        super().delete()
        self._log.notify(*self._log.shards.values())

    # -- shards -----------------------------------------------------------------------
    def _counter_base(self) -> int:
        base = self._rng.randrange(10 ** (_SEQ_COUNTER_DIGITS - 2), 10 ** (_SEQ_COUNTER_DIGITS - 1))
        # Low 12 digits in [10**11, 2 * 10**11): see KinesisShard.take.
        return base - base % _SEQ_LOW_UNIT + _SEQ_LOW_UNIT // 10 + base % 10**10

    def _new_shard(
        self,
        created_ms: int,
        hash_range: tuple[int, int],
        parent: str | None = None,
        adjacent_parent: str | None = None,
    ) -> KinesisShard:
        shard = KinesisShard(
            self._next_shard_index,
            created_ms,
            hash_range,
            self._counter_base(),
            parent_shard_id=parent,
            adjacent_parent_shard_id=adjacent_parent,
        )
        self._next_shard_index += 1
        self._log.add(shard)
        return shard

    def _reindex_open(self) -> None:
        shards = [
            s for s in self._log.shards.values() if isinstance(s, KinesisShard) and not s.closed
        ]
        self._open = sorted(shards, key=lambda s: s.starting_hash_key)
        self._open_starts = [s.starting_hash_key for s in self._open]

    def _kshard(self, shard_id: str) -> KinesisShard:
        shard = self._log.shard(shard_id)
        assert isinstance(shard, KinesisShard)
        return shard

    def _route(self, hash_key: int) -> KinesisShard:
        if len(self._open) == 1:
            return self._open[0]
        return self._open[bisect_right(self._open_starts, hash_key) - 1]

    def _check_target(self, stream_name: str | None, stream_arn: str | None) -> None:
        """boto3 calls name the stream; these methods accept that, if it names this one."""
        self._check_alive()
        if stream_name is not None and stream_name != self.name:
            raise ValueError(f"StreamName: {stream_name!r} is not this stream ({self.name!r})")
        if stream_arn is not None and stream_arn != self.arn:
            raise ValueError(f"StreamARN: {stream_arn!r} is not this stream ({self.arn!r})")

    def _check_alive(self) -> None:
        if self.deleted:
            raise ResourceNotFoundException(
                f"Stream {self.name} under account {self.sim.account_id} not found."
            )

    # -- lazy producers -------------------------------------------------------------------
    def add_producer(self, producer: Producer) -> None:
        """Generate ``producer``'s records into this stream as time passes (lazily)."""
        self._producers.append(producer)
        self._due_ms = None  # recompute: the new producer may be due sooner

    def next_arrival_ms(self) -> int | None:
        """When the next lazily produced record arrives (None: no producer has more)."""
        due = self._due_ms
        if due is None:
            times = [t for p in self._producers if (t := p.next_arrival_ms()) is not None]
            due = self._due_ms = min(times) if times else _NEVER
        return None if due == _NEVER else due

    def _produce_due(self) -> None:
        """Append every produced record that arrived by now, with its arrival time.

        Producers route by partition key (cached per key) and are subject to the
        shard write quota of their arrival second, like any producer; records
        over the quota are rejected and counted in ``producer_throttles``.

        This is the load generator's hot path (millions of records per run), so it
        works on whole columns: each distinct key is routed once, the records are
        split by shard, and each shard takes its part under its write quota in one
        call (``KinesisShard.write_columns``).
        """
        if not self._producers or self.deleted:
            return
        now = self.clock.now_ms()
        # Every read-side call lands here (several per poll): when nothing is due
        # yet, return after one comparison.
        if self._due_ms is None:
            self.next_arrival_ms()
        if now < (self._due_ms or 0):
            return
        self._due_ms = None
        columns = [p.emit_columns(now) for p in self._producers]
        if len(columns) == 1:
            arrivals, keys, bodies = columns[0]
        else:
            merged = sorted(
                (item for col in columns for item in zip(*col, strict=True)),
                key=lambda item: item[0],
            )
            arrivals = [m[0] for m in merged]
            keys = [m[1] for m in merged]
            bodies = [m[2] for m in merged]
        if not arrivals:
            return
        datas, shared = _encoded(bodies)
        # Route each distinct key once (the cache survives between calls; resharding
        # clears it), with its UTF-8 length for the record's size.
        cache = self._route_cache
        key_len = self._key_len
        shard_of: dict[str, KinesisShard] = {}
        for key in dict.fromkeys(keys):
            shard = cache.get(key)
            if shard is None or shard.closed_ms is not None:
                encoded = key.encode()
                shard = cache[key] = self._route(_hash_key(encoded, None, "PartitionKey"))
                key_len[key] = len(encoded)
            shard_of[key] = shard
        if shared:
            # One shared body (see _encoded): a record's size depends on its key only.
            size_of = {key: len(datas[0]) + key_len[key] for key in shard_of}
            sizes = list(map(size_of.__getitem__, keys))
        else:
            sizes = [
                d + k for d, k in zip(map(len, datas), map(key_len.__getitem__, keys), strict=True)
            ]
        # Split the columns by shard, keeping arrival order within each shard.
        groups: dict[KinesisShard, list[int]] = {}  # in first-seen order
        first = next(iter(shard_of.values()))
        if all(shard is first for shard in shard_of.values()):
            groups[first] = list(range(len(keys)))
        else:
            for i, shard in enumerate(map(shard_of.__getitem__, keys)):
                members = groups.get(shard)
                if members is None:
                    members = groups[shard] = []
                members.append(i)
        written: list[KinesisShard] = []
        throttled = 0
        for shard, members in groups.items():
            if len(members) == len(keys):
                accepted = shard.write_columns(arrivals, keys, datas, sizes)
            else:
                pick = members.__iter__
                accepted = shard.write_columns(
                    list(map(arrivals.__getitem__, pick())),
                    list(map(keys.__getitem__, pick())),
                    list(map(datas.__getitem__, pick())),
                    list(map(sizes.__getitem__, pick())),
                )
            throttled += len(members) - accepted
            if accepted:
                written.append(shard)
        self.producer_throttles += throttled
        if written:
            cutoff = self._log.horizon_ms(now)
            for shard in written:
                shard.trim(cutoff)
            self._log.notify(*written)

    # -- producing ---------------------------------------------------------------------
    def put_record(
        self,
        *,
        Data: bytes | str,
        PartitionKey: str,
        ExplicitHashKey: str | None = None,
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, str]:
        """PutRecord: ``{"ShardId", "SequenceNumber"}``.

        Raises ``ProvisionedThroughputExceededException`` when the shard's
        per-second write quota is used up.
        """
        self._check_target(StreamName, StreamARN)
        self._produce_due()
        data = _data(Data, "Data")
        key = _partition_key(PartitionKey, "PartitionKey")
        encoded_key = key.encode()
        hash_key = _hash_key(encoded_key, ExplicitHashKey, "ExplicitHashKey")
        shard = self._route(hash_key)
        now = self.clock.now_ms()
        size = len(data) + len(encoded_key)
        if not shard.write_quota.take(now, size):
            raise ProvisionedThroughputExceededException(self._rate_exceeded(shard))
        shard.trim(self._log.horizon_ms(now))
        seq = shard.write(now, key, data, size)
        self._log.notify(shard)
        return {"ShardId": shard.shard_id, "SequenceNumber": str(seq)}

    def put_records(
        self,
        *,
        Records: list[dict[str, Any]],
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, Any]:
        """PutRecords: ``{"FailedRecordCount", "Records": [...]}`` in request order.

        The request is validated as a whole first (a bad entry fails it all);
        then each record is written or fails on its own with ``ErrorCode`` /
        ``ErrorMessage`` when its shard's write quota is used up.
        """
        self._check_target(StreamName, StreamARN)
        if not isinstance(Records, list | tuple):
            raise TypeError(f"Records: expected a list, got {type(Records).__name__}")
        if not 1 <= len(Records) <= MAX_PUT_RECORDS:
            raise ValidationException(
                f"Records: 1 validation error detected: Value at 'records' failed to satisfy "
                f"constraint: Member must have length between 1 and {MAX_PUT_RECORDS} "
                f"(got {len(Records)})"
            )
        # Validate the whole request first: one bad entry fails it all, as in Kinesis.
        entries: list[tuple[bytes, str, int, int]] = []
        total = 0
        for i, entry in enumerate(Records):
            if not isinstance(entry, dict) or not entry.keys() <= _ENTRY_KEYS:
                _bad_entry(entry, f"Records[{i}]")
            try:
                raw_data, key = entry["Data"], entry["PartitionKey"]
            except KeyError:
                missing = "Data" if "Data" not in entry else "PartitionKey"
                raise TypeError(f"Records[{i}].{missing}: missing required parameter") from None
            data = _data(raw_data, f"Records[{i}].Data")
            _partition_key(key, f"Records[{i}].PartitionKey")
            encoded_key = key.encode()
            explicit = entry.get("ExplicitHashKey")
            hash_key = _hash_key(encoded_key, explicit, f"Records[{i}].ExplicitHashKey")
            size = len(data) + len(encoded_key)
            total += size
            entries.append((data, key, hash_key, size))
        if total > MAX_PUT_RECORDS_BYTES:
            raise InvalidArgumentException(
                f"Records: the request holds {total} bytes of data and partition keys; "
                f"the limit is {MAX_PUT_RECORDS_BYTES} bytes (10 MiB)"
            )
        self._produce_due()
        now = self.clock.now_ms()
        cutoff = self._log.horizon_ms(now)
        results: list[dict[str, str]] = []
        written: dict[str, KinesisShard] = {}
        failed = 0
        for data, key, hash_key, size in entries:
            shard = self._route(hash_key)
            if not shard.write_quota.take(now, size):
                failed += 1
                results.append(
                    {
                        "ErrorCode": ProvisionedThroughputExceededException.code,
                        "ErrorMessage": self._rate_exceeded(shard),
                    }
                )
                continue
            if shard.shard_id not in written:
                written[shard.shard_id] = shard
                shard.trim(cutoff)
            seq = shard.write(now, key, data, size)
            results.append({"SequenceNumber": str(seq), "ShardId": shard.shard_id})
        if written:
            self._log.notify(*written.values())
        return {"FailedRecordCount": failed, "Records": results}

    def _rate_exceeded(self, shard: KinesisShard) -> str:
        return f"Rate exceeded for shard {shard.shard_id} {self._where}."

    # -- resharding --------------------------------------------------------------------
    def split_shard(
        self,
        *,
        ShardToSplit: str,
        NewStartingHashKey: str,
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, Any]:
        """SplitShard: the shard closes; two children take ``[start, new-1]`` and ``[new, end]``.

        Returns ``{}`` (boto3's response carries only metadata).
        """
        self._check_target(StreamName, StreamARN)
        if not isinstance(NewStartingHashKey, str) or not _HASH_KEY_PATTERN.fullmatch(
            NewStartingHashKey
        ):
            raise ValidationException(
                f"1 validation error detected: Value '{NewStartingHashKey}' at "
                "'newStartingHashKey' failed to satisfy constraint: Member must satisfy "
                "regular expression pattern: 0|([1-9]\\d{0,38})"
            )
        shard = self._reshardable(ShardToSplit)
        new = int(NewStartingHashKey)
        start, end = shard.starting_hash_key, shard.ending_hash_key
        if new <= start + 1 or new >= end:
            raise InvalidArgumentException(
                f"NewStartingHashKey {NewStartingHashKey} used in SplitShard() on shard "
                f"{shard.shard_id} {self._where} is not both greater than one plus the "
                f"shard's StartingHashKey {start} and less than the shard's EndingHashKey "
                f"{end}."
            )
        self._produce_due()
        now = self.clock.now_ms()
        self._split(shard, new, now)
        self._resharded(now)
        return {}

    def merge_shards(
        self,
        *,
        ShardToMerge: str,
        AdjacentShardToMerge: str,
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, Any]:
        """MergeShards: both close; one child takes the union of their ranges.

        ``ShardToMerge`` must hold the lower range and ``AdjacentShardToMerge``
        the one right after it, as Kinesis requires. Returns ``{}``.
        """
        self._check_target(StreamName, StreamARN)
        first = self._find_shard(ShardToMerge)
        second = self._find_shard(AdjacentShardToMerge)
        if first.ending_hash_key + 1 != second.starting_hash_key:
            raise InvalidArgumentException(
                f"Shards {first.shard_id} and {second.shard_id} {self._where} are not an "
                "adjacent pair of shards eligible for merging"
            )
        for shard in (first, second):
            self._check_open(shard)
        self._produce_due()
        now = self.clock.now_ms()
        self._merge(first, second, now)
        self._resharded(now)
        return {}

    def update_shard_count(
        self,
        *,
        TargetShardCount: int,
        ScalingType: str = "UNIFORM_SCALING",
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, Any]:
        """UpdateShardCount: even hash-key ranges over ``TargetShardCount`` open shards.

        Done as Kinesis does it, with splits and merges (see the module
        docstring). Returns ``{"StreamName", "CurrentShardCount",
        "TargetShardCount", "StreamARN"}``.
        """
        self._check_target(StreamName, StreamARN)
        if ScalingType != "UNIFORM_SCALING":
            raise ValidationException(
                f"1 validation error detected: Value '{ScalingType}' at 'scalingType' failed "
                "to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]"
            )
        if isinstance(TargetShardCount, bool) or not isinstance(TargetShardCount, int):
            raise TypeError(
                f"TargetShardCount: expected an integer, got {type(TargetShardCount).__name__}"
            )
        if not 1 <= TargetShardCount <= MAX_SHARD_COUNT:
            raise ValidationException(
                f"1 validation error detected: Value '{TargetShardCount}' at "
                "'targetShardCount' failed to satisfy constraint: Member must have value "
                f"between 1 and {MAX_SHARD_COUNT}"
            )
        self._produce_due()
        current = len(self._open)
        if TargetShardCount > current * 2:
            raise LimitExceededException(
                "UpdateShardCount cannot scale up over double your current open shard count. "
                f"Current open shard count: {current}, Target shard count: {TargetShardCount}"
            )
        if TargetShardCount * 2 < current:
            raise LimitExceededException(
                "UpdateShardCount cannot scale down below half your current open shard count. "
                f"Current open shard count: {current}, Target shard count: {TargetShardCount}"
            )
        targets = _uniform_ranges(TargetShardCount)
        now = self.clock.now_ms()
        changed = False
        # 1. Split every open shard at each target boundary strictly inside it.
        boundaries = [lo for lo, _ in targets[1:]]
        for shard in list(self._open):
            piece = shard
            for b in boundaries:
                if piece.starting_hash_key < b <= piece.ending_hash_key:
                    _, piece = self._split(piece, b, now)
                    changed = True
        self._reindex_open()
        # 2. Merge, left to right, the pieces that share a target range.
        for lo, hi in targets:
            pieces = [s for s in self._open if lo <= s.starting_hash_key <= hi]
            merged = pieces[0]
            for piece in pieces[1:]:
                merged = self._merge(merged, piece, now)
                changed = True
            self._reindex_open()
        if changed:
            self._resharded(now)
        return {
            "StreamName": self.name,
            "CurrentShardCount": current,
            "TargetShardCount": TargetShardCount,
            "StreamARN": self.arn,
        }

    def _find_shard(self, shard_id: Any) -> KinesisShard:
        """A shard by id (Kinesis also resolves ``shardId-5``-style ids); not found errors."""
        text = str(shard_id)
        shard = self._log.shards.get(text)
        if shard is None:
            match = _SHARD_ID_NUMBER.fullmatch(text)
            if match is not None:
                text = f"shardId-{int(match.group(1)):012d}"
                shard = self._log.shards.get(text)
        horizon = self._log.horizon_ms(self.clock.now_ms())
        if shard is None or shard.expired(horizon):
            raise ResourceNotFoundException(f"Could not find shard {text} {self._where}.")
        assert isinstance(shard, KinesisShard)
        return shard

    def _check_open(self, shard: KinesisShard) -> None:
        if shard.closed:
            raise InvalidArgumentException(
                f"Shard {shard.shard_id} {self._where} has already been merged or split, "
                "and thus is not eligible for merging or splitting."
            )

    def _reshardable(self, shard_id: Any) -> KinesisShard:
        shard = self._find_shard(shard_id)
        self._check_open(shard)
        return shard

    def _split(self, shard: KinesisShard, new: int, now: int) -> tuple[KinesisShard, KinesisShard]:
        shard.close(now)
        hash_range = (shard.starting_hash_key, shard.ending_hash_key)
        left = self._new_shard(now, (hash_range[0], new - 1), shard.shard_id)
        right = self._new_shard(now, (new, hash_range[1]), shard.shard_id)
        return left, right

    def _merge(self, first: KinesisShard, second: KinesisShard, now: int) -> KinesisShard:
        first.close(now)
        second.close(now)
        return self._new_shard(
            now,
            (first.starting_hash_key, second.ending_hash_key),
            first.shard_id,
            second.shard_id,
        )

    def _resharded(self, now_ms: int) -> None:
        """After a reshard: route to the children, wake the parents' readers and the pollers."""
        self._reindex_open()
        self._route_cache.clear()
        closed = [s for s in self._log.shards.values() if s.closed_ms == now_ms]
        self._log.notify(*closed)
        self.shards_signal.fire()
        get_logger(stream=self.name).debug(
            "kinesis.stream.resharded", open_shards=len(self._open), closed=len(closed)
        )

    # -- describing --------------------------------------------------------------------
    def list_shards(
        self, *, StreamName: str | None = None, StreamARN: str | None = None
    ) -> dict[str, Any]:
        """ListShards: ``{"Shards": [...]}``, every shard not yet expired."""
        self._check_target(StreamName, StreamARN)
        return {"Shards": [self._shard_shape(s) for s in self._log.live_shards()]}

    def describe_stream(
        self, *, StreamName: str | None = None, StreamARN: str | None = None
    ) -> dict[str, Any]:
        """DescribeStream: ``{"StreamDescription": {...}}`` in boto3's shape."""
        self._check_target(StreamName, StreamARN)
        return {
            "StreamDescription": {
                "StreamName": self.name,
                "StreamARN": self.arn,
                "StreamStatus": "ACTIVE",
                "StreamModeDetails": {"StreamMode": self.stream_mode},
                "Shards": [self._shard_shape(s) for s in self._log.live_shards()],
                "HasMoreShards": False,
                "RetentionPeriodHours": self.retention_period_hours,
                "StreamCreationTimestamp": self.clock.wall(self._created_ms / 1000),
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        }

    def _shard_shape(self, shard: ShardLog[KinesisRecord]) -> dict[str, Any]:
        assert isinstance(shard, KinesisShard)
        shape: dict[str, Any] = {"ShardId": shard.shard_id}
        if shard.parent_shard_id is not None:
            shape["ParentShardId"] = shard.parent_shard_id
        if shard.adjacent_parent_shard_id is not None:
            shape["AdjacentParentShardId"] = shard.adjacent_parent_shard_id
        shape["HashKeyRange"] = {
            "StartingHashKey": str(shard.starting_hash_key),
            "EndingHashKey": str(shard.ending_hash_key),
        }
        seq_range = {"StartingSequenceNumber": str(shard.starting_sequence_number)}
        if shard.closed_ms is not None:
            last = shard.last()
            end = last.seq if last is not None else shard.starting_sequence_number
            seq_range["EndingSequenceNumber"] = str(end)
        shape["SequenceNumberRange"] = seq_range
        return shape

    # -- consuming by hand (boto3 shapes) --------------------------------------------------
    def get_shard_iterator(
        self,
        *,
        ShardId: str,
        ShardIteratorType: str,
        StartingSequenceNumber: str | None = None,
        Timestamp: datetime | float | None = None,
        StreamName: str | None = None,
        StreamARN: str | None = None,
    ) -> dict[str, str]:
        """GetShardIterator: ``{"ShardIterator": "..."}`` (valid for 5 minutes)."""
        self._check_target(StreamName, StreamARN)
        position = self.position(ShardId, ShardIteratorType, StartingSequenceNumber, Timestamp)
        return {"ShardIterator": self._iterator(ShardId, position)}

    def get_records(self, *, ShardIterator: str, Limit: int | None = None) -> dict[str, Any]:
        """GetRecords: ``{"Records", "NextShardIterator", "MillisBehindLatest"}``.

        Shares the shard's read quota (5 calls/s, 2 MiB/s) with every other
        consumer; raises ``ProvisionedThroughputExceededException`` when it is
        used up. Records lost to retention are skipped silently, as in Kinesis.
        """
        self._check_alive()
        limit = READ_LIMITS.max_records if Limit is None else Limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValidationException(
                f"Limit: 1 validation error detected: Value '{Limit}' at 'limit' failed to "
                "satisfy constraint: Member must have value between 1 and 10000"
            )
        shard_id, position = self._parse_iterator(ShardIterator)
        result = self._log.read(shard_id, position, limit, "GetRecords")
        if result.throttled:
            raise ProvisionedThroughputExceededException(
                f"Rate exceeded for Shard - {shard_id} {self._where}."
            )
        shard = self._kshard(shard_id)
        now = self.clock.now_ms()
        behind = 0
        if result.next_position < shard.end:
            behind = max(0, now - shard.record_at(result.next_position).arrival_ms)
        response: dict[str, Any] = {
            "Records": [
                {
                    "SequenceNumber": r.sequence_number,
                    "ApproximateArrivalTimestamp": self.clock.wall(r.arrival_ms / 1000),
                    "Data": r.data,
                    "PartitionKey": r.key,
                }
                for r in result.records
            ],
            "MillisBehindLatest": behind,
        }
        if result.shard_end:
            response["NextShardIterator"] = None
            response["ChildShards"] = [
                {
                    "ShardId": child.shard_id,
                    "ParentShards": [
                        p for p in (child.parent_shard_id, child.adjacent_parent_shard_id) if p
                    ],
                    "HashKeyRange": self._shard_shape(child)["HashKeyRange"],
                }
                for child in self._log.shards.values()
                if shard_id in (child.parent_shard_id, child.adjacent_parent_shard_id)
            ]
        else:
            response["NextShardIterator"] = self._iterator(shard_id, result.next_position)
        return response

    def _iterator(self, shard_id: str, position: int) -> str:
        raw = f"{_ITERATOR_TAG}|{self.arn}|{shard_id}|{position}|{self.clock.now_ms()}"
        return base64.b64encode(raw.encode()).decode("ascii")

    def _parse_iterator(self, iterator: str) -> tuple[str, int]:
        invalid = InvalidArgumentException(f"ShardIterator: invalid shard iterator {iterator!r}")
        if not isinstance(iterator, str):
            raise invalid
        try:
            tag, arn, shard_id, position, issued = (
                base64.b64decode(iterator, validate=True).decode().split("|")
            )
            pos, issued_ms = int(position), int(issued)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise invalid from None
        if tag != _ITERATOR_TAG or arn != self.arn:
            raise invalid
        now = self.clock.now_ms()
        if now - issued_ms > ITERATOR_TTL_MS:
            raise ExpiredIteratorException(
                f"Iterator expired. The iterator was created at time {issued_ms} while right now "
                f"it is {now} which is further in the future than the tolerated delay of "
                f"{ITERATOR_TTL_MS} milliseconds."
            )
        return shard_id, pos


# -- validation helpers --------------------------------------------------------------------
def _uniform_ranges(count: int) -> list[tuple[int, int]]:
    """Even hash-key ranges for ``count`` shards, as Kinesis makes them."""
    return [
        (i * HASH_KEY_SPACE // count, (i + 1) * HASH_KEY_SPACE // count - 1) for i in range(count)
    ]


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise ValueError(f"name: a stream name is 1-128 characters, got {name!r}")
    if not all(c.isascii() and (c.isalnum() or c in "_.-") for c in name):
        raise ValueError(
            f"name: {name!r} may only contain letters, digits, underscores, hyphens and periods"
        )


def _int_property(properties: dict[str, Any], field: str, default: int) -> int:
    value = properties.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{field}: expected an integer, got {type(value).__name__}")
    return value


def _stream_mode(details: Any) -> str:
    if details is None:
        return "PROVISIONED"
    if not isinstance(details, dict) or set(details) != {"StreamMode"}:
        raise TypeError('StreamModeDetails: expected {"StreamMode": "PROVISIONED" | "ON_DEMAND"}')
    mode = details["StreamMode"]
    if mode not in ("PROVISIONED", "ON_DEMAND"):
        raise ValidationException(
            f"StreamModeDetails.StreamMode: {mode!r} is not one of PROVISIONED, ON_DEMAND"
        )
    return str(mode)


def _data(value: Any, field: str) -> bytes:
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        raise TypeError(f"{field}: expected bytes or str, got {type(value).__name__}")
    if len(data) > MAX_RECORD_DATA:
        raise ValidationException(
            f"{field}: 1 validation error detected: Value at 'data' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_RECORD_DATA} "
            f"(got {len(data)} bytes)"
        )
    return data


def _partition_key(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field}: expected a str, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_PARTITION_KEY:
        raise ValidationException(
            f"{field}: 1 validation error detected: Value at 'partitionKey' failed to satisfy "
            f"constraint: Member must have length between 1 and {MAX_PARTITION_KEY} "
            f"(got {len(value)})"
        )
    return value


def _bad_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict):
        raise TypeError(f"{where}: expected a dict, got {type(entry).__name__}")
    extra = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
    raise TypeError(f"{where}.{extra[0]}: unknown parameter")


def _hash_key(partition_key: bytes, explicit: Any, field: str) -> int:
    """The 128-bit hash key: ``ExplicitHashKey`` if given, else MD5 of the UTF-8 partition key."""
    if explicit is None:
        return int.from_bytes(hashlib.md5(partition_key, usedforsecurity=False).digest(), "big")
    if not isinstance(explicit, str):
        raise TypeError(f"{field}: expected a decimal str, got {type(explicit).__name__}")
    if not (explicit.isascii() and explicit.isdigit()) or int(explicit) >= HASH_KEY_SPACE:
        raise InvalidArgumentException(
            f"{field}: Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
            f"[0, 2^128-1]. Specified value was {explicit}"
        )
    return int(explicit)


def _encoded(bodies: list[str]) -> tuple[list[bytes], bool]:
    """UTF-8 of each body, and whether all are one shared object (encoded once)."""
    if not bodies:
        return [], False
    first = bodies[0]
    if bodies[-1] is first and bodies.count(first) == len(bodies):
        return [first.encode()] * len(bodies), True
    return [body.encode() for body in bodies], False
