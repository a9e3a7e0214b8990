"""Kinesis Data Streams as a source: one AWS rule per test (spec §2.2, §3.1, §4.2, §7)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import esmsim
from esmsim import ResourceNotFoundException
from esmsim.sources._errors import (
    ExpiredIteratorException,
    InvalidArgumentException,
    ProvisionedThroughputExceededException,
    ValidationException,
)
from esmsim.sources._shardlog import ShardInfo
from esmsim.sources.kinesis import KinesisStream

MIB = 1024 * 1024
DAY = 24 * 3600
START = datetime(2026, 1, 1, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=1) as s:
        yield s


def _md5(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def _shard_for(stream: KinesisStream, hash_key: int) -> str:
    for shard in stream.list_shards()["Shards"]:
        rng = shard["HashKeyRange"]
        if int(rng["StartingHashKey"]) <= hash_key <= int(rng["EndingHashKey"]):
            return str(shard["ShardId"])
    raise AssertionError("no shard owns the hash key")


# -- shards and routing -----------------------------------------------------------------------
def test_shards_split_the_md5_hash_key_space_evenly(sim: esmsim.Simulation) -> None:
    """§2.2: shard i of n owns [i*2^128//n, (i+1)*2^128//n - 1], ids shardId-000000000000."""
    stream = sim.kinesis_stream("orders", ShardCount=3)
    shards = stream.list_shards()["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-{i:012d}" for i in range(3)]
    for i, shard in enumerate(shards):
        assert shard["HashKeyRange"] == {
            "StartingHashKey": str(i * 2**128 // 3),
            "EndingHashKey": str((i + 1) * 2**128 // 3 - 1),
        }
        assert "ParentShardId" not in shard
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    assert shards[-1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)


def test_partition_key_routes_to_the_shard_owning_its_md5(sim: esmsim.Simulation) -> None:
    """§2.2: a record goes to the shard whose hash-key range holds int(md5(PartitionKey))."""
    stream = sim.kinesis_stream("orders", ShardCount=4)
    for i in range(200):
        key = f"customer-{i}"
        result = stream.put_record(Data=b"x", PartitionKey=key)
        assert result["ShardId"] == _shard_for(stream, _md5(key))


def test_explicit_hash_key_overrides_the_partition_key(sim: esmsim.Simulation) -> None:
    """§7 PutRecord: ExplicitHashKey (decimal string) picks the shard instead of md5(key)."""
    stream = sim.kinesis_stream("orders", ShardCount=4)
    key = "same-key"
    for hash_key in (0, 2**126, 2**127 + 5, 2**128 - 1):
        result = stream.put_record(Data=b"x", PartitionKey=key, ExplicitHashKey=str(hash_key))
        assert result["ShardId"] == _shard_for(stream, hash_key)


@pytest.mark.parametrize("bad", [str(2**128), "-1", "12a", "1e5"])
def test_explicit_hash_key_outside_128_bits_is_rejected(sim: esmsim.Simulation, bad: str) -> None:
    """§7 PutRecord: ExplicitHashKey must be a decimal in [0, 2^128-1]."""
    stream = sim.kinesis_stream("orders")
    with pytest.raises(InvalidArgumentException, match="ExplicitHashKey"):
        stream.put_record(Data=b"x", PartitionKey="k", ExplicitHashKey=bad)


# -- sequence numbers and timestamps ------------------------------------------------------------
def test_sequence_numbers_are_56_digits_and_strictly_increasing_per_shard(
    sim: esmsim.Simulation,
) -> None:
    """§4.2: sequence numbers are ~56-digit decimal strings, increasing within a shard."""
    stream = sim.kinesis_stream("orders", ShardCount=2)
    per_shard: dict[str, list[int]] = {}
    for i in range(60):
        result = stream.put_record(Data=b"x", PartitionKey=f"k{i}")
        seq = result["SequenceNumber"]
        assert len(seq) == 56 and seq.isdigit() and seq.startswith("49")
        per_shard.setdefault(result["ShardId"], []).append(int(seq))
        if i % 10 == 0:
            sim.run_sync(0.5)
    assert len(per_shard) == 2
    for seqs in per_shard.values():
        assert all(a < b for a, b in itertools.pairwise(seqs))


def test_arrival_timestamp_has_millisecond_precision_from_the_simulated_clock(
    sim: esmsim.Simulation,
) -> None:
    """§4.2: approximateArrivalTimestamp carries ms, from simulated time (never the host)."""
    stream = sim.kinesis_stream("orders")
    sim.run_sync(1.2345)
    result = stream.put_record(Data=b"x", PartitionKey="k")
    read = stream.read(result["ShardId"], 0, 10, "test")
    assert read.records[0].arrival_ms == START_MS + 1234
    iterator = stream.get_shard_iterator(
        ShardId=result["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )
    record = stream.get_records(ShardIterator=iterator["ShardIterator"])["Records"][0]
    assert record["ApproximateArrivalTimestamp"] == START + timedelta(milliseconds=1234)


# -- retention -------------------------------------------------------------------------------------
def test_records_older_than_24_hours_are_trimmed(sim: esmsim.Simulation) -> None:
    """§2.2: default retention is 24 h; older records are not readable and count as expired."""
    stream = sim.kinesis_stream("orders")
    shard = stream.put_record(Data=b"old", PartitionKey="k")["ShardId"]
    sim.run_sync(DAY)
    assert [r.data for r in stream.read(shard, 0, 10, "t").records] == [b"old"]
    sim.run_sync(0.001)
    result = stream.read(shard, 0, 10, "t")
    assert (result.records, result.expired, result.next_position) == ([], 1, 1)
    assert stream.position(shard, "TRIM_HORIZON") == 1


def test_retention_period_hours_48_keeps_records_for_48_hours(sim: esmsim.Simulation) -> None:
    """§2.2: RetentionPeriodHours raises retention; records live exactly that long."""
    stream = sim.kinesis_stream("orders", RetentionPeriodHours=48)
    shard = stream.put_record(Data=b"old", PartitionKey="k")["ShardId"]
    assert stream.retention_seconds == 2 * DAY
    sim.run_sync(2 * DAY)
    assert len(stream.read(shard, 0, 10, "t").records) == 1
    sim.run_sync(0.001)
    assert stream.read(shard, 0, 10, "t").expired == 1


@pytest.mark.parametrize("hours", [23, 8761])
def test_retention_period_hours_outside_24_to_8760_is_rejected(
    sim: esmsim.Simulation, hours: int
) -> None:
    """§2.2/§7: retention is 24 h minimum and 8,760 h (365 days) maximum."""
    with pytest.raises(InvalidArgumentException, match="RetentionPeriodHours"):
        sim.kinesis_stream("orders", RetentionPeriodHours=hours)


def test_retention_period_hours_at_the_bounds_is_accepted(sim: esmsim.Simulation) -> None:
    """§2.2: 24 and 8,760 hours are both allowed."""
    assert sim.kinesis_stream("a", RetentionPeriodHours=24).retention_seconds == DAY
    assert sim.kinesis_stream("b", RetentionPeriodHours=8760).retention_seconds == 365 * DAY


def test_positions_stay_valid_while_trimming_compacts_the_log(sim: esmsim.Simulation) -> None:
    """§2.2: trimming old records never moves the position of a retained record."""
    stream = sim.kinesis_stream("orders")
    for _ in range(10):
        stream.put_records(Records=[{"Data": b"old", "PartitionKey": "k"}] * 500)
        sim.run_sync(10)
    sim.run_sync(12 * 3600)
    newer = [stream.put_record(Data=str(i), PartitionKey="k") for i in range(5)]
    shard = newer[0]["ShardId"]
    at = stream.position(shard, "AT_SEQUENCE_NUMBER", newer[2]["SequenceNumber"])
    assert at == 5002
    sim.run_sync(DAY - 12 * 3600)  # the 5,000 old records are now past retention
    result = stream.read(shard, at, 10, "t")
    assert result.expired == 0
    assert [r.sequence_number for r in result.records] == [n["SequenceNumber"] for n in newer[2:]]
    assert stream.read(shard, 0, 1, "t").expired == 5000


# -- write quota -----------------------------------------------------------------------------------
def test_put_records_fails_records_past_1000_per_second_per_shard(sim: esmsim.Simulation) -> None:
    """§7: a shard takes 1,000 records/s; excess records fail with ErrorCode, others succeed."""
    stream = sim.kinesis_stream("orders")
    batch = [{"Data": b"x", "PartitionKey": f"k{i}"} for i in range(500)]
    assert stream.put_records(Records=batch)["FailedRecordCount"] == 0
    assert stream.put_records(Records=batch)["FailedRecordCount"] == 0
    result = stream.put_records(Records=batch[:3])
    assert result["FailedRecordCount"] == 3
    for entry in result["Records"]:
        assert entry["ErrorCode"] == "ProvisionedThroughputExceededException"
        assert entry["ErrorMessage"].startswith("Rate exceeded for shard shardId-000000000000")
        assert "SequenceNumber" not in entry
    sim.run_sync(1)
    assert stream.put_records(Records=batch[:3])["FailedRecordCount"] == 0


def test_put_record_raises_when_a_shard_gets_more_than_1_mib_per_second(
    sim: esmsim.Simulation,
) -> None:
    """§7: a shard takes 1 MiB/s (data plus partition key); PutRecord raises past it."""
    stream = sim.kinesis_stream("orders")
    stream.put_record(Data=b"x" * (MIB - 1), PartitionKey="k")
    with pytest.raises(ProvisionedThroughputExceededException, match="Rate exceeded"):
        stream.put_record(Data=b"y", PartitionKey="k")
    sim.run_sync(1)
    stream.put_record(Data=b"y", PartitionKey="k")


# -- read quota ------------------------------------------------------------------------------------
def test_sixth_read_of_a_shard_in_one_second_is_throttled(sim: esmsim.Simulation) -> None:
    """§3.1: 5 GetRecords calls per second per shard, shared by every consumer."""
    stream = sim.kinesis_stream("orders")
    shard = stream.put_record(Data=b"x", PartitionKey="k")["ShardId"]
    for consumer in ("a", "b", "a", "b", "c"):
        assert not stream.read(shard, 0, 10, consumer).throttled
    sixth = stream.read(shard, 0, 10, "d")
    assert sixth.throttled and sixth.records == [] and sixth.next_position == 0
    iterator = stream.get_shard_iterator(ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    with pytest.raises(ProvisionedThroughputExceededException):
        stream.get_records(ShardIterator=iterator["ShardIterator"])
    sim.run_sync(1)
    assert len(stream.read(shard, 0, 10, "a").records) == 1


def test_a_10_mib_read_throttles_the_shard_for_the_next_5_seconds(
    sim: esmsim.Simulation,
) -> None:
    """§3.1/§7: GetRecords returns up to 10 MiB; after a 10 MiB read, reads fail for 5 s."""
    stream = sim.kinesis_stream("orders")
    for _ in range(11):  # 1 MiB per second is all a shard takes
        shard = stream.put_record(Data=b"x" * (MIB - 1), PartitionKey="k")["ShardId"]
        sim.run_sync(1)
    result = stream.read(shard, 0, 10_000, "t")
    assert len(result.records) == 10 and sum(r.size for r in result.records) == 10 * MIB
    sim.run_sync(4.9)
    assert stream.read(shard, 10, 10, "t").throttled
    sim.run_sync(0.1)
    assert len(stream.read(shard, 10, 10, "t").records) == 1


# -- iterators and GetRecords ----------------------------------------------------------------------
def test_iterator_types_start_where_kinesis_defines(sim: esmsim.Simulation) -> None:
    """§2.2/§7: TRIM_HORIZON, LATEST, AT/AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP positions."""
    stream = sim.kinesis_stream("orders")
    puts = []
    for i in range(3):
        puts.append(stream.put_record(Data=str(i), PartitionKey="k"))
        sim.run_sync(1)
    shard, seq1 = puts[0]["ShardId"], puts[1]["SequenceNumber"]
    assert stream.position(shard, "TRIM_HORIZON") == 0
    assert stream.position(shard, "LATEST") == 3
    assert stream.position(shard, "AT_SEQUENCE_NUMBER", seq1) == 1
    assert stream.position(shard, "AFTER_SEQUENCE_NUMBER", seq1) == 2
    assert stream.position(shard, "AT_TIMESTAMP", timestamp=START.timestamp() + 1) == 1
    assert stream.position(shard, "AT_TIMESTAMP", timestamp=START + timedelta(seconds=1.5)) == 2
    with pytest.raises(InvalidArgumentException, match="StartingSequenceNumber"):
        stream.position(shard, "AT_SEQUENCE_NUMBER", "12345")
    with pytest.raises(InvalidArgumentException, match="ShardIteratorType"):
        stream.position(shard, "OLDEST")
    with pytest.raises(ResourceNotFoundException, match="shardId-000000000009"):
        stream.position("shardId-000000000009", "LATEST")


def test_get_records_has_the_boto3_shape(sim: esmsim.Simulation) -> None:
    """§7 GetRecords: Records (SequenceNumber, datetime, bytes, PartitionKey), next iterator."""
    stream = sim.kinesis_stream("orders")
    puts = [stream.put_record(Data=f"r{i}", PartitionKey="pk") for i in range(3)]
    sim.run_sync(2)
    first = stream.get_shard_iterator(ShardId=puts[0]["ShardId"], ShardIteratorType="TRIM_HORIZON")
    page = stream.get_records(ShardIterator=first["ShardIterator"], Limit=2)
    assert set(page) == {"Records", "NextShardIterator", "MillisBehindLatest"}
    assert page["MillisBehindLatest"] == 2000
    assert page["Records"][0] == {
        "SequenceNumber": puts[0]["SequenceNumber"],
        "ApproximateArrivalTimestamp": START,
        "Data": b"r0",
        "PartitionKey": "pk",
    }
    rest = stream.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["Data"] for r in rest["Records"]] == [b"r2"]
    assert rest["MillisBehindLatest"] == 0
    assert isinstance(rest["NextShardIterator"], str)


def test_shard_iterators_expire_after_5_minutes(sim: esmsim.Simulation) -> None:
    """§7: a shard iterator is valid for 5 minutes."""
    stream = sim.kinesis_stream("orders")
    iterator = stream.get_shard_iterator(ShardId="shardId-000000000000", ShardIteratorType="LATEST")
    sim.run_sync(300)
    stream.get_records(ShardIterator=iterator["ShardIterator"])
    sim.run_sync(0.001)
    with pytest.raises(ExpiredIteratorException):
        stream.get_records(ShardIterator=iterator["ShardIterator"])
    with pytest.raises(InvalidArgumentException, match="ShardIterator"):
        stream.get_records(ShardIterator="not-an-iterator")


# -- request validation ----------------------------------------------------------------------------
def test_put_records_takes_at_most_500_records(sim: esmsim.Simulation) -> None:
    """§7: PutRecords carries 1..500 records."""
    stream = sim.kinesis_stream("orders")
    with pytest.raises(ValidationException, match="Records"):
        stream.put_records(Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    with pytest.raises(ValidationException, match="Records"):
        stream.put_records(Records=[])


@pytest.mark.parametrize("key", ["", "k" * 257])
def test_partition_key_is_1_to_256_characters(sim: esmsim.Simulation, key: str) -> None:
    """§7: partition keys are at most 256 characters (and not empty)."""
    stream = sim.kinesis_stream("orders")
    with pytest.raises(ValidationException, match="PartitionKey"):
        stream.put_record(Data=b"x", PartitionKey=key)
    with pytest.raises(ValidationException, match=r"Records\[1\]\.PartitionKey"):
        stream.put_records(
            Records=[{"Data": b"x", "PartitionKey": "ok"}, {"Data": b"x", "PartitionKey": key}]
        )


def test_data_is_at_most_1_mib(sim: esmsim.Simulation) -> None:
    """§7: a record's data blob is at most 1 MiB."""
    stream = sim.kinesis_stream("orders")
    with pytest.raises(ValidationException, match="Data"):
        stream.put_record(Data=b"x" * (MIB + 1), PartitionKey="k")
    with pytest.raises(TypeError, match="Data"):
        stream.put_record(Data=123, PartitionKey="k")  # type: ignore[arg-type]


def test_str_data_is_stored_as_utf8_bytes(sim: esmsim.Simulation) -> None:
    """§4.2: data is bytes; text is encoded as UTF-8 (boto3 does the same)."""
    stream = sim.kinesis_stream("orders")
    shard = stream.put_record(Data="héllo", PartitionKey="k")["ShardId"]
    record = stream.read(shard, 0, 1, "t").records[0]
    assert record.data == "héllo".encode() and record.size == len("héllo".encode()) + 1


def test_bad_properties_name_the_field(sim: esmsim.Simulation) -> None:
    """§1 (CloudFormation): unknown properties and bad values name the offending field."""
    with pytest.raises(TypeError, match="ShardCont"):
        sim.kinesis_stream("orders", ShardCont=2)
    with pytest.raises(ValidationException, match="ShardCount"):
        sim.kinesis_stream("orders", ShardCount=0)
    with pytest.raises(TypeError, match="RetentionPeriodHours"):
        sim.kinesis_stream("orders", RetentionPeriodHours="48")
    with pytest.raises(ValidationException, match="StreamMode"):
        sim.kinesis_stream("orders", StreamModeDetails={"StreamMode": "FAST"})


# -- consumer surface, identity, determinism -------------------------------------------------------
def test_stream_has_kinesis_arn_and_consumer_surface(sim: esmsim.Simulation) -> None:
    """§4.2: eventSourceARN is the stream ARN; event source is aws:kinesis."""
    stream = sim.kinesis_stream("orders", ShardCount=2)
    assert stream.arn == stream.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    assert stream.event_source == "aws:kinesis"
    assert sim.resource(stream.arn) is stream
    assert stream.shard_ids() == ["shardId-000000000000", "shardId-000000000001"]
    assert stream.shard_info("shardId-000000000001") == ShardInfo(
        "shardId-000000000001", None, None, False
    )
    description = stream.describe_stream()["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["RetentionPeriodHours"] == 24
    assert description["StreamCreationTimestamp"] == START
    assert len(description["Shards"]) == 2


def test_data_signal_wakes_a_waiting_reader_on_put(sim: esmsim.Simulation) -> None:
    """Internals: sources fire data_signal on every write, so idle pollers need no timers."""
    stream = sim.kinesis_stream("orders")
    woke_at: list[float] = []

    async def reader() -> None:
        await stream.data_signal.wait()
        woke_at.append(sim.now)

    async def scenario() -> None:
        sim.start_soon(reader)
        await sim.clock.sleep(3)
        stream.put_record(Data=b"x", PartitionKey="k")
        await sim.clock.sleep(0)

    sim.call_sync(scenario)
    sim.run_sync(0)
    assert woke_at == [START.timestamp() + 3]


def test_deleted_stream_is_gone(sim: esmsim.Simulation) -> None:
    """§1: a deleted stream's API calls fail with ResourceNotFoundException."""
    stream = sim.kinesis_stream("orders")
    stream.put_record(Data=b"x", PartitionKey="k")
    stream.delete()
    assert stream.deleted and sim.resource(stream.arn) is None
    with pytest.raises(ResourceNotFoundException, match="orders"):
        stream.put_record(Data=b"x", PartitionKey="k")
    with pytest.raises(ResourceNotFoundException):
        stream.list_shards()
    # The consumer surface never raises (a poller may race the deletion); pollers check deleted.
    assert len(stream.read("shardId-000000000000", 0, 1, "t").records) == 1


def test_shard_signal_wakes_only_readers_of_the_written_shard(sim: esmsim.Simulation) -> None:
    """Internals: per-shard signals, so a put wakes one shard's reader, not every shard's."""
    stream = sim.kinesis_stream("orders", ShardCount=2)
    woke: list[str] = []

    async def reader(shard_id: str) -> None:
        await stream.shard_signal(shard_id).wait()
        woke.append(shard_id)

    async def scenario() -> None:
        for shard_id in stream.shard_ids():
            sim.start_soon(reader, shard_id)
        await sim.clock.sleep(1)
        stream.put_record(Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
        await sim.clock.sleep(1)

    sim.call_sync(scenario)
    assert woke == ["shardId-000000000001"]


def _sequence_numbers(seed: int) -> list[str]:
    with esmsim.Simulation(seed=seed) as sim:
        stream = sim.kinesis_stream("orders", ShardCount=2)
        out = []
        for i in range(20):
            out.append(stream.put_record(Data=b"x", PartitionKey=f"k{i}")["SequenceNumber"])
            sim.run_sync(0.25)
        return out


def test_same_seed_gives_the_same_sequence_numbers() -> None:
    """API contract: the same seed and inputs give identical ids, sequence numbers included."""
    assert _sequence_numbers(7) == _sequence_numbers(7)
    assert _sequence_numbers(7) != _sequence_numbers(8)


def test_records_read_back_carry_the_sequence_numbers_put_returned(
    sim: esmsim.Simulation,
) -> None:
    """§3.1: GetRecords returns each record under the sequence number PutRecords gave it."""
    stream = sim.kinesis_stream("orders", ShardCount=2)
    put = []
    for second in range(3):
        batch = [{"Data": f"{second}-{i}".encode(), "PartitionKey": f"k{i}"} for i in range(50)]
        put += stream.put_records(Records=batch)["Records"]
        sim.run_sync(1)
    read: dict[str, str] = {}
    for shard_id in stream.shard_ids():
        iterator = stream.get_shard_iterator(ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
        for record in stream.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
            read[record["SequenceNumber"]] = record["Data"].decode()
    assert sorted(read) == sorted(p["SequenceNumber"] for p in put)
    assert all(len(seq) == 56 for seq in read)


def test_a_producer_past_1000_records_per_second_loses_the_excess_to_the_write_quota(
    sim: esmsim.Simulation,
) -> None:
    """§7: produced records obey the shard write quota; the excess is counted, never stored."""
    stream = sim.kinesis_stream("orders")
    sim.producer(stream, rate=2000, keys={"names": ["k"]}, body="x")
    sim.run_sync(3.9995)  # arrivals every 0.5 ms: 2,000 in each of 4 seconds
    assert len(stream.read("shardId-000000000000", 0, 10_000).records) == 4000
    assert stream.producer_throttles == 4 * 1000


def test_a_retained_record_costs_under_300_bytes_besides_its_payload() -> None:
    """Issue 9: a retained record costs < 300 bytes plus payload (records kept as columns)."""
    import tracemalloc

    with esmsim.Simulation(seed=3) as sim:
        stream = sim.kinesis_stream("orders", ShardCount=4)
        sim.producer(stream, rate=2000, keys=64, body="x" * 100)
        sim.run_sync(1)
        stream.shard_ids()  # the first second, so the columns exist before measuring
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        sim.run_sync(100)
        stream.shard_ids()  # produce what arrived (lazily generated records)
        retained = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        records = 200_000
        assert retained / records < 300


def test_sequence_numbers_read_back_equal_their_arithmetic_form() -> None:
    """§3.1: a read's sequence numbers are 49 | arrival ms | shard | counter, whatever the path."""
    from esmsim.sources.kinesis import KinesisShard

    for counter_base in (10**33 + 10**11, 10**33 + 5):  # fast text form, and the general one
        shard = KinesisShard(3, START_MS, (0, 2**128 - 1), counter_base)
        seqs = [shard.write(START_MS + i, "k", b"x", 2) for i in range(5)]
        records, _ = shard.take(0, 10, MIB)
        assert [r.sequence_number for r in records] == [str(s) for s in seqs]
        assert [r.seq for r in records] == seqs
