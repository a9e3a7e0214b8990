"""Kinesis resharding: split, merge, UpdateShardCount, and a mapping reading through it.

Spec §2.2: parents stay readable until retention expires; the poller finishes a parent
before its children, so per-key order holds across a reshard.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from typing import Any

import pytest

import esmsim
from esmsim.sources._errors import InvalidArgumentException, ValidationException
from esmsim.sources.kinesis import LimitExceededException

SPACE = 2**128


def _shards(stream: Any) -> dict[str, dict[str, Any]]:
    return {s["ShardId"]: s for s in stream.list_shards()["Shards"]}


def _open(stream: Any) -> list[dict[str, Any]]:
    return [
        s
        for s in stream.list_shards()["Shards"]
        if "EndingSequenceNumber" not in s["SequenceNumberRange"]
    ]


def _range(shard: dict[str, Any]) -> tuple[int, int]:
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def _decoded(fn: Any) -> list[tuple[str, int, str]]:
    """(key, n, shard id) of every record delivered, in delivery order."""
    out = []
    for inv in fn.invocations:
        for r in inv.event["Records"]:
            key, n = base64.b64decode(r["kinesis"]["data"]).decode().split(":")
            out.append((key, int(n), r["eventID"].split(":")[0]))
    return out


def _assert_order_and_exactly_once(fn: Any, sent: dict[str, list[int]]) -> None:
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, n, _ in _decoded(fn):
        per_key[key].append(n)
    assert set(per_key) == set(sent)
    for key, numbers in sent.items():
        assert per_key[key] == numbers, key


# -- the mapping across a reshard ---------------------------------------------------------
@pytest.mark.parametrize("how", ["split_shard", "update_shard_count"])
def test_split_two_to_four_under_load_keeps_per_key_order(how: str) -> None:
    """2 shards split to 4 mid-run: every record once, per-key order for every key (§2.2)."""
    keys = [f"key-{i}" for i in range(40)]
    sent: dict[str, list[int]] = defaultdict(list)
    counter = 0
    with esmsim.Simulation(seed=91) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        # Slow enough that the parents still have a backlog when the reshard happens.
        fn = sim.function("f", lambda event, context: None, duration=0.3)
        mapping = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=25,
        )

        def put_round() -> None:
            nonlocal counter
            entries = []
            for key in keys:
                counter += 1
                sent[key].append(counter)
                entries.append({"Data": f"{key}:{counter}", "PartitionKey": key})
            assert stream.put_records(Records=entries)["FailedRecordCount"] == 0

        for _ in range(10):
            put_round()
            sim.run_sync(0.5)
        assert mapping.ledger["pending"] > 0  # a backlog is waiting on the parents
        if how == "split_shard":
            for shard in list(_open(stream)):
                lo, hi = _range(shard)
                stream.split_shard(
                    ShardToSplit=shard["ShardId"], NewStartingHashKey=str((lo + hi + 1) // 2)
                )
        else:
            stream.update_shard_count(TargetShardCount=4, ScalingType="UNIFORM_SCALING")
        for _ in range(10):
            put_round()
            sim.run_sync(0.5)
        sim.run_until_idle_sync(max_seconds=600)
        _assert_order_and_exactly_once(fn, sent)
        assert mapping.ledger["delivered"] == counter
        assert mapping.ledger["pending"] == 0
        # Records put after the reshard went to the children, and were read from them.
        shard_ids = {sid for _, _, sid in _decoded(fn)}
        assert shard_ids == {f"shardId-{i:012d}" for i in range(6)}
        # Parents finished before any child record of their range was delivered.
        delivered = _decoded(fn)
        last_parent = max(
            i for i, (_, _, sid) in enumerate(delivered) if sid in ("shardId-000000000000",)
        )
        first_child = min(
            i
            for i, (_, _, sid) in enumerate(delivered)
            if sid in ("shardId-000000000002", "shardId-000000000003")
        )
        assert last_parent < first_child


def test_split_then_merge_back_with_a_producer() -> None:
    """A lazy producer across a split to 4 and a merge back to 2: order and exactly-once."""
    with esmsim.Simulation(seed=92) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("f", lambda event, context: None, duration=0.05)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=50,
        )
        sim.producer(stream, rate=200, keys=30, body="{key}:{n}", stop=30)
        sim.run_sync(10)
        stream.update_shard_count(TargetShardCount=4)
        sim.run_sync(10)
        stream.update_shard_count(TargetShardCount=2)
        sim.run_until_idle_sync(max_seconds=600)
        delivered = _decoded(fn)
        per_key: dict[str, list[int]] = defaultdict(list)
        for key, n, _ in delivered:
            per_key[key].append(n)
        assert len(delivered) == len({n for _, n, _ in delivered})  # exactly once
        assert len(delivered) == 200 * 30
        for numbers in per_key.values():
            assert numbers == sorted(numbers)
        assert len({sid for _, _, sid in delivered}) == 8  # 2 parents, 4 children, 2 merged


def test_merged_child_waits_for_both_parents() -> None:
    """A merged child starts only once both parents are done, even if one is blocked."""
    with esmsim.Simulation(seed=93) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        failing = {"on": True}

        def handler(event: dict[str, Any], context: Any) -> None:
            for r in event["Records"]:
                if r["kinesis"]["partitionKey"] == "poison" and failing["on"]:
                    raise RuntimeError("blocked")

        fn = sim.function("f", handler)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        poison_shard = stream.put_record(Data="poison:0", PartitionKey="poison")["ShardId"]
        other = next(s for s in _shards(stream) if s != poison_shard)
        stream.merge_shards(
            ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001"
        )
        stream.put_record(Data="poison:1", PartitionKey="poison")
        sim.run_sync(30)
        assert all(
            r["eventID"].split(":")[0] == poison_shard
            for inv in fn.invocations
            for r in inv.event["Records"]
        )
        assert other != poison_shard
        failing["on"] = False
        sim.run_until_idle_sync(max_seconds=300)
        seen = [(k, n) for k, n, _ in _decoded(fn)]
        assert seen[-1] == ("poison", 1)
        assert seen.count(("poison", 1)) == 1


def test_closed_parent_ends_and_a_new_mapping_reads_the_lineage_in_order() -> None:
    """A mapping created after a reshard reads parents, then children (TRIM_HORIZON)."""
    with esmsim.Simulation(seed=94) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        sent = []
        for i in range(20):
            stream.put_record(Data=f"k:{i}", PartitionKey="k")
            sent.append(i)
        stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey=str(SPACE // 2))
        for i in range(20, 40):
            stream.put_record(Data=f"k:{i}", PartitionKey="k")
            sent.append(i)
        fn = sim.function("f", lambda event, context: None)
        sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=7,
        )
        sim.run_until_idle_sync(max_seconds=120)
        assert [n for _, n, _ in _decoded(fn)] == sent


def test_parent_expires_with_retention_and_children_remain() -> None:
    """Parents stay readable until retention removes them (§2.2)."""
    with esmsim.Simulation(seed=95) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        stream.put_record(Data="x", PartitionKey="k")
        stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey=str(SPACE // 2))
        assert len(_shards(stream)) == 3
        sim.run_sync(23 * 3600)
        assert "shardId-000000000000" in _shards(stream)
        sim.run_sync(2 * 3600)
        assert sorted(_shards(stream)) == ["shardId-000000000001", "shardId-000000000002"]


# -- API shapes and validation -------------------------------------------------------------
def test_split_shard_shapes() -> None:
    """Split: parent closes with EndingSequenceNumber; children get [start, new-1], [new, end]."""
    with esmsim.Simulation(seed=96) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        last = stream.put_record(Data="x", PartitionKey="a", ExplicitHashKey="5")["SequenceNumber"]
        new = 2**64
        assert (
            stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey=str(new))
            == {}
        )
        shards = stream.list_shards()["Shards"]
        assert [s["ShardId"] for s in shards] == [f"shardId-{i:012d}" for i in range(4)]
        parent, other, left, right = shards
        assert parent["SequenceNumberRange"]["EndingSequenceNumber"] == last
        assert "EndingSequenceNumber" not in other["SequenceNumberRange"]
        assert "ParentShardId" not in parent and "ParentShardId" not in other
        assert left["ParentShardId"] == right["ParentShardId"] == "shardId-000000000000"
        assert "AdjacentParentShardId" not in left
        assert left["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(new - 1)}
        assert right["HashKeyRange"] == {
            "StartingHashKey": str(new),
            "EndingHashKey": str(SPACE // 2 - 1),
        }
        for shard in (left, right):
            assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}
        # Writes now route to the children; the parent's records stay readable.
        assert (
            stream.put_record(Data="y", PartitionKey="a", ExplicitHashKey="5")["ShardId"]
            == left["ShardId"]
        )
        assert (
            stream.put_record(Data="y", PartitionKey="a", ExplicitHashKey=str(new))["ShardId"]
            == right["ShardId"]
        )
        it = stream.get_shard_iterator(ShardId=parent["ShardId"], ShardIteratorType="TRIM_HORIZON")
        page = stream.get_records(ShardIterator=it["ShardIterator"])
        assert [r["Data"] for r in page["Records"]] == [b"x"]
        assert page["NextShardIterator"] is None
        assert sorted(c["ShardId"] for c in page["ChildShards"]) == [
            left["ShardId"],
            right["ShardId"],
        ]
        description = stream.describe_stream()["StreamDescription"]
        assert description["StreamStatus"] == "ACTIVE"
        assert [s["ShardId"] for s in description["Shards"]] == [s["ShardId"] for s in shards]


def test_merge_shards_shapes() -> None:
    """Merge: both parents close; the child has both parent ids and the union of ranges."""
    with esmsim.Simulation(seed=97) as sim:
        stream = sim.kinesis_stream("s", ShardCount=3)
        a, b, _ = stream.list_shards()["Shards"]
        assert (
            stream.merge_shards(ShardToMerge=a["ShardId"], AdjacentShardToMerge=b["ShardId"]) == {}
        )
        shards = _shards(stream)
        child = shards["shardId-000000000003"]
        assert child["ParentShardId"] == a["ShardId"]
        assert child["AdjacentParentShardId"] == b["ShardId"]
        assert child["HashKeyRange"] == {
            "StartingHashKey": a["HashKeyRange"]["StartingHashKey"],
            "EndingHashKey": b["HashKeyRange"]["EndingHashKey"],
        }
        for sid in (a["ShardId"], b["ShardId"]):
            assert "EndingSequenceNumber" in shards[sid]["SequenceNumberRange"]
        assert [s["ShardId"] for s in _open(stream)] == [
            "shardId-000000000002",
            "shardId-000000000003",
        ]


@pytest.mark.parametrize(("start", "target"), [(2, 4), (4, 2), (3, 5), (5, 3), (4, 4), (1, 2)])
def test_update_shard_count_gives_even_ranges(start: int, target: int) -> None:
    """UNIFORM_SCALING: open shards end with even ranges covering the key space."""
    with esmsim.Simulation(seed=98) as sim:
        stream = sim.kinesis_stream("s", ShardCount=start)
        response = stream.update_shard_count(TargetShardCount=target, ScalingType="UNIFORM_SCALING")
        assert response == {
            "StreamName": "s",
            "CurrentShardCount": start,
            "TargetShardCount": target,
            "StreamARN": stream.arn,
        }
        ranges = sorted(_range(s) for s in _open(stream))
        assert ranges == [
            (i * SPACE // target, (i + 1) * SPACE // target - 1) for i in range(target)
        ]
        ids = [s["ShardId"] for s in stream.list_shards()["Shards"]]
        assert ids == [f"shardId-{i:012d}" for i in range(len(ids))]
        for shard in stream.list_shards()["Shards"][start:]:
            assert "ParentShardId" in shard
        # Every key routes to the open shard whose range holds its hash.
        for key in ("a", "b", "c", "d", "e"):
            shard_id = stream.put_record(Data="x", PartitionKey=key)["ShardId"]
            lo, hi = _range(_shards(stream)[shard_id])
            assert lo <= _hash(key) <= hi


def test_doubling_splits_each_shard_in_two_and_halving_merges_pairs() -> None:
    """2 -> 4 splits each shard once; 4 -> 2 merges neighbours: no short-lived shards."""
    with esmsim.Simulation(seed=99) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        stream.update_shard_count(TargetShardCount=4)
        shards = _shards(stream)
        assert len(shards) == 6
        assert [shards[f"shardId-{i:012d}"]["ParentShardId"] for i in (2, 3, 4, 5)] == [
            "shardId-000000000000",
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000001",
        ]
        stream.update_shard_count(TargetShardCount=2)
        shards = _shards(stream)
        assert len(shards) == 8
        assert (
            shards["shardId-000000000006"]["ParentShardId"],
            shards["shardId-000000000006"]["AdjacentParentShardId"],
        ) == ("shardId-000000000002", "shardId-000000000003")
        assert (
            shards["shardId-000000000007"]["ParentShardId"],
            shards["shardId-000000000007"]["AdjacentParentShardId"],
        ) == ("shardId-000000000004", "shardId-000000000005")


def test_split_validation_errors() -> None:
    """SplitShard errors with Kinesis's codes and messages."""
    with esmsim.Simulation(seed=100) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        where = "in stream s under account 123456789012"
        with pytest.raises(esmsim.ResourceNotFoundException) as nf:
            stream.split_shard(ShardToSplit="shardId-000000000009", NewStartingHashKey="100")
        assert str(nf.value) == f"Could not find shard shardId-000000000009 {where}."
        for bad in ("1", "0", str(SPACE // 2 - 1), str(SPACE)):
            with pytest.raises((InvalidArgumentException, ValidationException)):
                stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey=bad)
        with pytest.raises(InvalidArgumentException) as exc:
            stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey="1")
        assert str(exc.value) == (
            f"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 {where} "
            "is not both greater than one plus the shard's StartingHashKey 0 and less than the "
            f"shard's EndingHashKey {SPACE // 2 - 1}."
        )
        with pytest.raises(ValidationException, match="newStartingHashKey"):
            stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey="01")
        stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
        with pytest.raises(InvalidArgumentException) as exc:
            stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey="500")
        assert str(exc.value) == (
            f"Shard shardId-000000000000 {where} has already been merged or split, and thus is "
            "not eligible for merging or splitting."
        )
        # Kinesis resolves short shard ids.
        stream.split_shard(ShardToSplit="shardId-1", NewStartingHashKey=str(SPACE * 3 // 4))
        assert len(_open(stream)) == 4


def test_merge_validation_errors() -> None:
    """MergeShards errors: unknown, not adjacent (or inverted), already closed."""
    with esmsim.Simulation(seed=101) as sim:
        stream = sim.kinesis_stream("s", ShardCount=3)
        where = "in stream s under account 123456789012"
        with pytest.raises(esmsim.ResourceNotFoundException, match="Could not find shard"):
            stream.merge_shards(
                ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000007"
            )
        for first, second in (("0", "2"), ("1", "0")):
            a, b = f"shardId-00000000000{first}", f"shardId-00000000000{second}"
            with pytest.raises(InvalidArgumentException) as exc:
                stream.merge_shards(ShardToMerge=a, AdjacentShardToMerge=b)
            assert str(exc.value) == (
                f"Shards {a} and {b} {where} are not an adjacent pair of shards eligible for "
                "merging"
            )
        stream.merge_shards(
            ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001"
        )
        with pytest.raises(InvalidArgumentException, match="has already been merged or split"):
            stream.merge_shards(
                ShardToMerge="shardId-000000000001", AdjacentShardToMerge="shardId-000000000002"
            )


def test_update_shard_count_validation_errors() -> None:
    """UpdateShardCount: at most double, at least half, UNIFORM_SCALING only."""
    with esmsim.Simulation(seed=102) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        with pytest.raises(LimitExceededException) as exc:
            stream.update_shard_count(TargetShardCount=5)
        assert str(exc.value) == (
            "UpdateShardCount cannot scale up over double your current open shard count. "
            "Current open shard count: 2, Target shard count: 5"
        )
        assert exc.value.code == "LimitExceededException"
        stream.update_shard_count(TargetShardCount=4)
        with pytest.raises(LimitExceededException, match="cannot scale down below half"):
            stream.update_shard_count(TargetShardCount=1)
        with pytest.raises(ValidationException, match="scalingType"):
            stream.update_shard_count(TargetShardCount=4, ScalingType="OTHER")
        with pytest.raises(ValidationException, match="targetShardCount"):
            stream.update_shard_count(TargetShardCount=0)
        assert len(_open(stream)) == 4


def test_shards_signal_fires_on_reshard() -> None:
    """The stream's ``shards_signal`` wakes pollers on a reshard (internals contract)."""
    with esmsim.Simulation(seed=103) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        fn = sim.function("f", lambda event, context: None)
        sim.event_source_mapping(
            FunctionName="f", EventSourceArn=stream.arn, StartingPosition="LATEST"
        )
        sim.run_sync(5)
        stream.split_shard(ShardToSplit="shardId-000000000000", NewStartingHashKey=str(SPACE // 2))
        sim.run_sync(1)
        for i in range(10):
            stream.put_record(Data=json.dumps(i), PartitionKey=f"k{i}")
        sim.run_until_idle_sync(max_seconds=60)
        assert sum(len(inv.event["Records"]) for inv in fn.invocations) == 10
