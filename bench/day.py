"""A simulated day on a Kinesis stream: wall time and memory per retained record.

Scenario (issue 9): 8 shards x 100 records/s for 24 simulated hours (69.12M
records), a no-op plain handler, BatchSize 100, TRIM_HORIZON. Records come from
a lazy producer (generated when the shard is read, at their true arrival times)
with one partition key per shard, round robin, and a 100-byte body. Retention is
the default 24 h, so every record written is still retained at the end: the
stream holds the whole day in memory. The simulation keeps no invocation log
(``Simulation(invocation_log=0)``, as ``esmsim run`` does): the default log
keeps every invocation and, through it, every delivered batch as objects
(about 250 more bytes per record).

Memory per retained record is the growth of the process's resident memory over
the timed run (from just before ``run`` to the end) divided by the records
retained at the end, measured two ways: peak RSS (``ru_maxrss``, which also
counts transient garbage at its worst moment) and RSS at the end
(``/proc/self/statm``). The target is judged on the peak. ``--tracemalloc``
instead measures Python allocations with ``tracemalloc`` (much slower: use it
on a shorter run; its wall time says nothing about speed).

    python bench/day.py [--hours 24] [--shards 8] [--rate 100] [--tracemalloc] [--json]

Targets (issue 9): 24 simulated hours in < 10 minutes wall on this 2-core
machine; < 300 bytes per retained record plus its payload. With ``--hours``
below 24 the wall-time target is judged on a linear projection to 24 h.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

from _result import BenchResult, add_json_flag, current_rss_bytes, emit, peak_rss_mib
from streams import build_stream

from esmsim import Simulation

TARGET_WALL_S = 600.0  # for 24 simulated hours
TARGET_BYTES = 300  # per retained record, plus its payload


def simulate(hours: float, shards: int, rate: int, *, trace: bool) -> dict[str, float | int]:
    """Run the day; what was measured."""
    if trace:
        tracemalloc.start()
    with Simulation(seed=1, invocation_log=0) as sim:
        mapping = build_stream(sim, "day", shards, rate)  # RetentionPeriodHours: 24
        gc.collect()
        base_peak = peak_rss_mib() * 2**20
        base_now = current_rss_bytes() or 0
        base_traced = tracemalloc.get_traced_memory()[0] if trace else 0
        if trace:
            tracemalloc.reset_peak()
        wall = 0.0
        seconds = hours * 3600
        step = 3600.0
        done = 0.0
        while done < seconds:  # hour by hour, to show progress
            chunk = min(step, seconds - done)
            started = time.perf_counter()
            sim.run_sync(chunk)
            wall += time.perf_counter() - started
            done += chunk
            print(
                f"  {done / 3600:5.1f} h simulated  {mapping.ledger['delivered']:>12,} delivered"
                f"  {wall:8.1f} s wall",
                flush=True,
            )
        retained = sum(len(shard) for shard in mapping.source._log.shards.values())
        out: dict[str, float | int] = {
            "wall": wall,
            "seconds": seconds,
            "retained": retained,
            "delivered": mapping.ledger["delivered"],
            "pending": mapping.ledger["pending"],
            "peak_delta": peak_rss_mib() * 2**20 - base_peak,
            "now_delta": (current_rss_bytes() or 0) - base_now,
        }
        if trace:
            now_traced, peak_traced = tracemalloc.get_traced_memory()
            out["traced_now"] = now_traced - base_traced
            out["traced_peak"] = peak_traced - base_traced
            tracemalloc.stop()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (target: 24)")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--rate", type=int, default=100, help="records/s per shard")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="measure memory with tracemalloc (slow: wall time is then meaningless)",
    )
    add_json_flag(parser)
    args = parser.parse_args()
    scenario = f"{args.shards} shards x {args.rate}/s for {args.hours:g} h, BatchSize 100"
    print(f"scenario        {scenario}, 24 h retention, 100-byte bodies")
    m = simulate(args.hours, args.shards, args.rate, trace=args.tracemalloc)
    wall, retained, delivered = m["wall"], int(m["retained"]), int(m["delivered"])
    projected = wall * 24 / args.hours
    per_peak = m["peak_delta"] / retained if retained else float("nan")
    per_now = m["now_delta"] / retained if retained else float("nan")
    print(f"delivered       {delivered:,} records ({int(m['pending']):,} pending at the end)")
    print(f"retained        {retained:,} records in the stream at the end")
    print(f"wall            {wall:,.1f} s  ({m['seconds'] / wall:,.0f} simulated s per wall s)")
    if args.hours != 24:
        print(f"projected 24 h  {projected:,.0f} s wall (linear)")
    print(f"simulator       {delivered / wall:,.0f} records/s")
    print(f"peak RSS        {peak_rss_mib():,.0f} MiB (whole process)")
    print(f"per record      {per_peak:,.0f} B (peak RSS growth)  {per_now:,.0f} B (RSS growth)")
    if args.tracemalloc:
        t_now, t_peak = m["traced_now"] / retained, m["traced_peak"] / retained
        print(f"tracemalloc     {t_now:,.0f} B/record retained now, {t_peak:,.0f} B/record at peak")
    time_met = projected < TARGET_WALL_S
    mem_met = per_peak < TARGET_BYTES
    print(f"target          24 h in < {TARGET_WALL_S:.0f} s: {'met' if time_met else 'NOT met'}")
    print(f"target          < {TARGET_BYTES} B/record: {'met' if mem_met else 'NOT met'}")
    if args.json:
        proj = "" if args.hours == 24 else " (projected)"
        emit(
            BenchResult(
                name="day" + (" (tracemalloc)" if args.tracemalloc else ""),
                scenario=scenario,
                records=delivered,
                wall_s=wall,
                target="24 h in < 600 s wall",
                measured=f"{projected:,.0f} s{proj}",
                met=None if args.tracemalloc else time_met,
                sim_s=m["seconds"],
                notes=[f"{retained:,} retained, {int(m['pending']):,} pending at the end"],
            )
        )
        notes = [
            "Simulation(invocation_log=0): no per-invocation log (the default keeps every batch)",
            f"peak RSS growth {m['peak_delta'] / 2**20:,.0f} MiB, "
            f"RSS growth {m['now_delta'] / 2**20:,.0f} MiB over {retained:,} retained records",
            f"{per_peak:,.0f} B/record (peak growth), {per_now:,.0f} B/record (end growth)",
        ]
        if args.tracemalloc:
            notes.append(f"tracemalloc: {m['traced_now'] / retained:,.0f} B/record retained")
        emit(
            BenchResult(
                name="day memory",
                scenario=f"{retained:,} records retained",
                records=retained,
                wall_s=wall,
                target=f"< {TARGET_BYTES} B/record + payload",
                measured=f"{per_peak:,.0f} B/record",
                met=mem_met,
                sim_s=m["seconds"],
                notes=notes,
            )
        )


if __name__ == "__main__":
    main()
