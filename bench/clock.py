"""Virtual timer events per wall second, against plain asyncio with zero sleeps.

Workload: 100 tasks x 2,000 sleeps of seeded U(0.001, 10) s (virtual), run on
esmsim's VirtualTimeLoop through anyio; the baseline runs the same tasks and
step count on a stock asyncio loop with ``asyncio.sleep(0)`` (no timers), in
the same process. Each is timed 3 times; the median is printed.

    python bench/clock.py [--tasks 100] [--steps 2000] [--json]

Target (issue 2): >= 60,000 virtual timer events per wall second on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import anyio
from _result import BenchResult, add_json_flag, emit

from esmsim import VirtualTimeLoop


def _delays(tasks: int, steps: int) -> list[list[float]]:
    rng = random.Random("bench:clock")
    return [[rng.uniform(0.001, 10.0) for _ in range(steps)] for _ in range(tasks)]


async def _virtual(delays: list[list[float]]) -> int:
    count = 0

    async def worker(mine: list[float]) -> None:
        nonlocal count
        for d in mine:
            await asyncio.sleep(d)
            count += 1

    async with anyio.create_task_group() as tg:
        for mine in delays:
            tg.start_soon(worker, mine)
    return count


async def _baseline(delays: list[list[float]]) -> int:
    count = 0

    async def worker(mine: list[float]) -> None:
        nonlocal count
        for _ in mine:
            await asyncio.sleep(0)
            count += 1

    await asyncio.gather(*(worker(mine) for mine in delays))
    return count


def _median_rate(fn: object, repeats: int = 3) -> tuple[float, int]:
    rates, events = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        events = fn()  # type: ignore[operator]
        rates.append(events / (time.perf_counter() - started))
    return statistics.median(rates), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--steps", type=int, default=2000)
    add_json_flag(parser)
    args = parser.parse_args()
    delays = _delays(args.tasks, args.steps)
    virtual, events = _median_rate(
        lambda: anyio.run(
            _virtual, delays, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop}
        )
    )
    baseline, _ = _median_rate(lambda: asyncio.run(_baseline(delays)))
    print(f"workload           {args.tasks} tasks x {args.steps} sleeps = {events:,} timer events")
    print(f"virtual timers/s   {virtual:,.0f}   (esmsim VirtualTimeLoop, seeded U(0.001, 10) s)")
    print(f"baseline steps/s   {baseline:,.0f}   (stock asyncio, sleep(0), no timers)")
    print(f"ratio              {virtual / baseline:.2f}")
    verdict = "met" if virtual >= 60_000 else "NOT met"
    print(f"target             >= 60,000 virtual timer events/s: {verdict}")
    if args.json:
        emit(
            BenchResult(
                name="clock",
                scenario=f"{args.tasks} tasks x {args.steps} virtual sleeps U(0.001, 10) s",
                records=events,
                wall_s=events / virtual,  # the median run's wall time
                floor_per_s=baseline,
                target=">= 60,000 timer events/s",
                met=virtual >= 60_000,
                sim_s=max(sum(mine) for mine in delays),
                notes=["records = virtual timer events; floor = stock asyncio sleep(0) steps"],
            )
        )


if __name__ == "__main__":
    main()
