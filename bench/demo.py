"""The demo, end to end: ``esmsim run config.yaml`` timed from the outside.

Scenario (issue 9): the repository's demo config (an order pipeline: Kinesis,
DynamoDB Streams and SQS mappings, 48 simulated hours) run by the command line
exactly as a user runs it, in a subprocess: start-up, config loading, the
simulation, the results database, ``summary.json``, ``metrics.csv`` and
``report.html`` all count. Records are the ``totals.records`` of the run's
``summary.json``; peak memory is the subprocess's (``RUSAGE_CHILDREN``). There
is no floor.

    python bench/demo.py [--config config.yaml] [--duration 48h] [--json]

No numeric target: the row shows what a user waits for.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _result import BenchResult, add_json_flag, emit, peak_rss_mib

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument("--duration", default=None, help="override the config's, e.g. 12h")
    add_json_flag(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="esmsim-bench-demo-") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "esmsim", "run", args.config, "--out", str(out)]
        cmd += ["--log-format", "json"]
        if args.duration:
            cmd += ["--duration", args.duration]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if proc.returncode:
            sys.exit(f"esmsim run failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
        summary = json.loads((out / "summary.json").read_text())
    peak = peak_rss_mib(resource.RUSAGE_CHILDREN)
    totals = summary["totals"]
    records = int(totals["records"])
    simulated = float(summary["simulated_seconds"])
    ok = summary["conservation"]["ok"]
    print(f"command         {' '.join(cmd[1:])}")
    print(f"records         {records:,} ({totals['invocations']:,} invocations)")
    print(f"conservation    {'OK' if ok else 'BROKEN'}")
    print(f"wall            {wall:,.1f} s for {simulated:,.0f} simulated s")
    print(f"simulated/wall  {simulated / wall:,.0f}")
    print(f"peak RSS        {peak:,.0f} MiB (the esmsim process)")
    if args.json:
        emit(
            BenchResult(
                name="demo",
                scenario=f"esmsim run {Path(args.config).name}, {simulated / 3600:g} h",
                records=records,
                wall_s=wall,
                target="",
                met=None,
                sim_s=simulated,
                peak_rss_mib=peak,
                notes=[
                    f"{totals['invocations']:,} invocations, conservation "
                    + ("OK" if ok else "BROKEN"),
                    "wall includes start-up and writing results.sqlite/summary/report",
                ],
            )
        )


if __name__ == "__main__":
    main()
