"""Run ``bench/sqs.py``'s benchmark and report it as a ``BENCH-RESULT`` line.

``sqs.py`` keeps its own human output and options; this runner imports its
``simulate(messages) -> (delivered, wall seconds, simulated seconds)`` and
``floor(messages) -> messages/s`` and runs both in this one process (the floor
after the simulation, as ``sqs.py`` does), so ``run_all.py`` can put SQS in
its table without ``sqs.py`` knowing about it.

    python bench/_sqs_runner.py [--messages 1000000] [--json]

Target (issue 5): simulator >= 0.4 x floor.
"""

from __future__ import annotations

import argparse

import sqs
from _result import BenchResult, add_json_flag, emit, peak_rss_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    add_json_flag(parser)
    args = parser.parse_args()
    delivered, wall, simulated = sqs.simulate(args.messages)
    peak = peak_rss_mib()  # the simulation's peak, before the floor runs
    sim_rate = delivered / wall
    floor_rate = sqs.floor(args.messages)
    print(f"scenario        {args.messages:,}-message backlog, BatchSize 10, no-op handler")
    print(f"delivered       {delivered:,} messages in {wall:.2f} s wall")
    print(f"simulated       {simulated:,.1f} s")
    print(f"simulator       {sim_rate:,.0f} messages/s")
    print(f"floor           {floor_rate:,.0f} messages/s  (build the events, call the handler)")
    print(f"ratio           {sim_rate / floor_rate:.2f}  (target >= 0.4)")
    print(f"peak RSS        {peak:,.0f} MiB (whole process)")
    if args.json:
        emit(
            BenchResult(
                name="sqs",
                scenario=f"{args.messages:,}-message backlog, BatchSize 10, no-op handler",
                records=delivered,
                wall_s=wall,
                floor_per_s=floor_rate,
                target=">= 0.4 x floor",
                met=sim_rate >= 0.4 * floor_rate,
                sim_s=simulated,
                peak_rss_mib=peak,
                notes=[] if delivered == args.messages else [f"{args.messages:,} sent"],
            )
        )


if __name__ == "__main__":
    main()
