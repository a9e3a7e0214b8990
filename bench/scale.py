"""Records per wall second at 10, 100 and 1,000 shards or queues.

Scenarios (issue 9):

* ``shards``: one Kinesis stream of N shards and one mapping (no-op handler,
  BatchSize 100, TRIM_HORIZON), a lazy producer writing 100 records/s to every
  shard (one partition key per shard, round robin, 100-byte body);
* ``queues``: N standard queues, each with its own mapping (BatchSize 10,
  MaximumBatchingWindowInSeconds 1) onto one no-op function and its own lazy
  producer of 10 messages/s (100-byte body; producers start staggered over
  the first 100 ms so that queues do not all fire in the same millisecond).

The per-shard / per-queue rate is fixed and the simulated duration is
``records / (N x rate)``, so every N processes about the same number of
records (default 3M for shards, 150k for queues). Only ``run`` is timed
(building the N resources is reported apart). If the simulator's cost per
record does not grow with N, records/s stays flat from 10 to 1,000: the ratio
``records/s at N / records/s at 10`` is printed.

    python bench/scale.py [--kind shards,queues] [--n 10,100,1000] [--records R] [--json]

With one kind and one N it runs in this process; otherwise it runs each
(kind, N) in its own subprocess (so each has its own peak memory) and prints
a small table.

Target (issue 9): 1,000 shards and 1,000 queues in one run without a
super-linear cost in N (records/s at 1,000 >= 0.5 x records/s at 10 is taken
as "not super-linear"; the table shows the numbers).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _result import BenchResult, add_json_flag, emit, emit_dict, parse
from streams import build_stream, noop

from esmsim import Simulation

# Records/s per shard and per queue. Queues get less: each arriving message
# wakes the SQS poller, so a queue costs far more wall time per record, and
# 1,000 queues still need a few simulated seconds to get past their start-up.
RATE = {"shards": 100, "queues": 10}
BODY = "x" * 100
FLAT_ENOUGH = 0.5  # records/s at the largest N over records/s at the smallest
# Records per point (about): queues cost far more wall time per record, so they get fewer.
DEFAULT_RECORDS = {"shards": 3_000_000, "queues": 150_000}


def _shards(n: int, seconds: float) -> dict[str, Any]:
    built = time.perf_counter()
    with Simulation(seed=1, invocation_log=0) as sim:
        mapping = build_stream(sim, "scale", n, RATE["shards"])
        function = mapping.function
        setup = time.perf_counter() - built
        started = time.perf_counter()
        sim.run_sync(seconds)
        wall = time.perf_counter() - started
        ledger = mapping.ledger
        return {
            "delivered": ledger["delivered"],
            "pending": ledger["pending"],
            "wall": wall,
            "setup": setup,
            "throttles": int(function.metrics.get("Throttles", 0)),
        }


def _queues(n: int, seconds: float) -> dict[str, Any]:
    built = time.perf_counter()
    with Simulation(seed=1, invocation_log=0) as sim:
        function = sim.function("noop", noop, duration=0.001)
        mappings = []
        for i in range(n):
            queue = sim.sqs_queue(f"scale-{i}")
            sim.producer(queue, rate=RATE["queues"], body=BODY, start=(i % 100) / 1000)
            mappings.append(
                sim.event_source_mapping(
                    FunctionName="noop",
                    EventSourceArn=queue.arn,
                    BatchSize=10,
                    MaximumBatchingWindowInSeconds=1,
                )
            )
        setup = time.perf_counter() - built
        started = time.perf_counter()
        sim.run_sync(seconds)
        wall = time.perf_counter() - started
        ledgers = [m.ledger for m in mappings]
        return {
            "delivered": sum(lg["delivered"] for lg in ledgers),
            "pending": sum(lg["pending"] for lg in ledgers),
            "wall": wall,
            "setup": setup,
            "throttles": int(function.metrics.get("Throttles", 0)),
        }


def run_point(kind: str, n: int, records: int) -> BenchResult:
    seconds = records / (n * RATE[kind])
    measure = _shards if kind == "shards" else _queues
    m = measure(n, seconds)
    unit = "shard" if kind == "shards" else "queue"
    print(
        f"{kind:6} N={n:<5} {seconds:8.1f} s simulated  {m['delivered']:>10,} delivered  "
        f"{m['wall']:7.1f} s wall  {m['delivered'] / m['wall']:>9,.0f} records/s  "
        f"(setup {m['setup']:.1f} s, {m['throttles']:,} throttles, {m['pending']:,} pending)",
        flush=True,
    )
    return BenchResult(
        name=f"scale {kind} {n}",
        scenario=f"{n} {unit}s x {RATE[kind]}/s for {seconds:g} s",
        records=m["delivered"],
        wall_s=m["wall"],
        target="flat records/s in N",
        sim_s=seconds,
        notes=[
            f"setup {m['setup']:.1f} s (not timed), {m['throttles']:,} throttles, "
            f"{m['pending']:,} pending at the end"
        ],
    )


def judge(results: list[dict[str, Any]]) -> list[str]:
    """Judge flatness per kind on the largest N's row (in place); one line per kind.

    The largest N's row gets ``measured`` = records/s at that N over records/s
    at the smallest N, and ``met`` = that ratio >= ``FLAT_ENOUGH``.
    """
    lines = []
    for kind in ("shards", "queues"):
        points = sorted(
            (int(r["name"].split()[-1]), r)
            for r in results
            if r["name"].startswith(f"scale {kind} ")
        )
        if len(points) < 2:
            continue
        (n0, first), (n1, last) = points[0], points[-1]
        ratio = last["records_per_s"] / first["records_per_s"] if first["records_per_s"] else 0.0
        last["target"] = f"records/s >= {FLAT_ENOUGH} x N={n0:,}'s"
        last["measured"] = f"{ratio:.2f} x"
        last["met"] = ratio >= FLAT_ENOUGH
        verdict = "flat enough" if last["met"] else "cost per record grows with N"
        lines.append(
            f"{kind}: records/s at N={n1:,} = {ratio:.2f} x records/s at N={n0:,} "
            f"({verdict}; target >= {FLAT_ENOUGH})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="shards,queues", help="shards, queues or both")
    parser.add_argument("--n", default="10,100,1000", help="comma-separated N")
    parser.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"records per point, about (default: shards {DEFAULT_RECORDS['shards']:,}, "
        f"queues {DEFAULT_RECORDS['queues']:,})",
    )
    add_json_flag(parser)
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    ns = [int(n) for n in args.n.split(",")]
    if unknown := set(kinds) - {"shards", "queues"}:
        parser.error(f"--kind: unknown {sorted(unknown)}")
    if len(kinds) == 1 and len(ns) == 1:
        point = run_point(kinds[0], ns[0], args.records or DEFAULT_RECORDS[kinds[0]])
        if args.json:
            emit(point)
        return
    results: list[dict[str, Any]] = []
    for kind in kinds:
        for n in ns:
            cmd = [sys.executable, str(Path(__file__)), "--kind", kind, "--n", str(n)]
            records = args.records or DEFAULT_RECORDS[kind]
            proc = subprocess.run(
                [*cmd, "--records", str(records), "--json"],
                capture_output=True,
                text=True,
                check=False,
            )
            for line in proc.stdout.splitlines():
                if not line.startswith("BENCH-RESULT"):
                    print(line, flush=True)
            if proc.returncode:
                print(f"{kind} N={n}: exit {proc.returncode}\n{proc.stderr[-2000:]}", flush=True)
            results += parse(proc.stdout)
    for line in judge(results):
        print(line)
    if args.json:
        for result in results:
            emit_dict(result)


if __name__ == "__main__":
    main()
