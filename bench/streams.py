"""Stream poller throughput against the bare-Python floor, in one process.

Scenario (issue 4): 8 shards x 1 hour simulated at 1,000 records/s per shard
(28.8M records), a no-op handler, BatchSize 100, TRIM_HORIZON. Records come
from a lazy producer (generated when the shard is read, at their true arrival
times) with one partition key per shard, round robin, so every shard gets
exactly its 1,000 records/s write quota.

The floor builds the same Kinesis events (esmsim's own record builder) from
the same kind of records in batches of 100 and calls the same handler, with
nothing else: what any simulator must at least spend per record.

    python bench/streams.py [--seconds 3600] [--shards 8] [--rate 1000] [--json]

Target (issue 4): simulator >= 0.5 x floor.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import time
from typing import Any

from _result import BenchResult, add_json_flag, emit

from esmsim import Simulation
from esmsim.pollers._events import kinesis_event_records
from esmsim.sources.kinesis import KinesisRecord


def noop(event: dict[str, Any], context: Any) -> None:
    """The handler under test: does nothing."""
    return None


def _keys_per_shard(shards: int) -> list[str]:
    """One partition key landing in each shard (even MD5 hash-key ranges)."""
    found: dict[int, str] = {}
    i = 0
    while len(found) < shards:
        key = f"pk-{i}"
        index = int(hashlib.md5(key.encode()).hexdigest(), 16) * shards >> 128
        found.setdefault(index, key)
        i += 1
    return [found[s] for s in range(shards)]


def build_stream(sim: Simulation, name: str, shards: int, rate: int) -> Any:
    """The stream benchmarks' pipeline: ``shards`` shards written at ``rate`` records/s each
    (one key per shard, round robin, 100-byte bodies, lazily produced), a no-op handler of
    1 ms, BatchSize 100 from TRIM_HORIZON. Returns the mapping."""
    stream = sim.kinesis_stream(name, ShardCount=shards)
    sim.function("noop", noop, duration=0.001)
    mapping = sim.event_source_mapping(
        FunctionName="noop",
        EventSourceArn=stream.arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=100,
    )
    sim.producer(
        stream,
        rate=rate * shards,
        keys={"names": _keys_per_shard(shards), "distribution": "round_robin"},
        body="x" * 100,
    )
    return mapping


def simulate(seconds: float, shards: int, rate: int) -> tuple[int, float, dict[str, int]]:
    with Simulation(seed=1, invocation_log=0) as sim:
        mapping = build_stream(sim, "bench", shards, rate)
        started = time.perf_counter()
        sim.run_sync(seconds)
        wall = time.perf_counter() - started
        ledger = mapping.ledger
        return ledger["delivered"], wall, ledger


def floor(records: int) -> float:
    """Records per second for: build the events of batches of 100, call the handler."""
    data = b"x" * 100
    role = "arn:aws:iam::123456789012:role/noop-role"
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/bench"
    batch = [
        KinesisRecord(str(49 * 10**54 + i), 1_767_225_600_000 + i, "pk-0", data, 104)
        for i in range(100)
    ]
    started = time.perf_counter()
    for _ in range(records // 100):
        event = {
            "Records": kinesis_event_records(batch, "shardId-000000000000", arn, "us-east-1", role)
        }
        noop(event, None)
    return (records // 100 * 100) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--rate", type=int, default=1000, help="records/s per shard")
    add_json_flag(parser)
    args = parser.parse_args()
    delivered, wall, ledger = simulate(args.seconds, args.shards, args.rate)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sim_rate = delivered / wall
    floor_rate = floor(min(max(delivered, 100_000), 2_000_000))
    print(f"scenario        {args.shards} shards x {args.seconds:g} s at {args.rate}/s per shard")
    print(f"delivered       {delivered:,} records in {wall:.2f} s wall ({ledger})")
    print(f"simulator       {sim_rate:,.0f} records/s  ({args.seconds / wall:,.0f}x real time)")
    print(f"floor           {floor_rate:,.0f} records/s  (build the events, call the handler)")
    print(f"ratio           {sim_rate / floor_rate:.2f}  (target >= 0.5)")
    print(f"peak RSS        {peak_kb / 1024:,.0f} MiB (whole process)")
    if args.json:
        emit(
            BenchResult(
                name="streams",
                scenario=f"{args.shards} shards x {args.seconds:g} s at {args.rate}/s per shard",
                records=delivered,
                wall_s=wall,
                floor_per_s=floor_rate,
                target=">= 0.5 x floor",
                met=sim_rate >= 0.5 * floor_rate,
                sim_s=args.seconds,
                peak_rss_mib=peak_kb / 1024,
                notes=[f"ledger {ledger}"],
            )
        )


if __name__ == "__main__":
    main()
