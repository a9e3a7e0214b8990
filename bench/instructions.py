"""Machine instructions per record (valgrind), where wall-clock timings are too noisy.

On a shared machine the same benchmark moves 2x between runs; the number of
instructions it executes does not. This runs each part of the stream path
under ``valgrind --tool=cachegrind --cache-sim=no`` twice, at two sizes, and
prints the difference per record, so start-up and imports cancel out:

- ``floor``: build the Kinesis events of batches of 100 and call a no-op
  handler (what ``bench/streams.py`` calls the floor);
- ``produce``: a lazy producer writing 8 shards x 1,000 records/s into a stream
  (no reader);
- ``read``: the same, then reading every record back (``read - produce`` is
  the cost of the reads: record objects and sequence-number text);
- ``simulate``: the whole ``bench/streams.py`` scenario (production, reads,
  lanes, invocations, events, handler).

    python bench/instructions.py [--seconds 10]

Needs valgrind (Debian: ``apt-get install valgrind``); slow (~50x).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent

_PRODUCE = """
import sys
sys.path.insert(0, {bench!r})
from streams import _keys_per_shard
from esmsim import Simulation
with Simulation(seed=1) as sim:
    stream = sim.kinesis_stream("bench", ShardCount=8)
    sim.producer(stream, rate=8000, keys={{"names": _keys_per_shard(8),
                 "distribution": "round_robin"}}, body="x" * 100)
    for _ in range({seconds}):
        sim.run_sync(1)
        stream.shard_ids()  # a read-side call: produces the second's records
    if {read}:
        for shard_id in stream.shard_ids():
            position = 0
            while records := stream.read(shard_id, position, 10_000).records:
                position += len(records)
"""

_SIMULATE = """
import sys
sys.path.insert(0, {bench!r})
import streams
print("RECORDS", streams.simulate({seconds}, 8, 1000)[0])
"""

_FLOOR = """
import sys
sys.path.insert(0, {bench!r})
import streams
streams.floor({records})
"""


def _instructions(code: str) -> tuple[int, str]:
    run = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), run.stdout


def _delta(template: str, small: dict[str, object], large: dict[str, object]) -> int:
    low, _ = _instructions(template.format(bench=str(_HERE), **small))
    high, _ = _instructions(template.format(bench=str(_HERE), **large))
    return high - low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="simulated seconds (8,000 rec/s)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    seconds = args.seconds
    produced = 8000 * seconds
    floor = _delta(_FLOOR, {"records": 0}, {"records": produced}) / produced
    produce = _delta(_PRODUCE, {"seconds": 0, "read": False}, {"seconds": seconds, "read": False})
    read = _delta(_PRODUCE, {"seconds": 0, "read": True}, {"seconds": seconds, "read": True})
    base, _ = _instructions(_SIMULATE.format(bench=str(_HERE), seconds=0))
    total, out = _instructions(_SIMULATE.format(bench=str(_HERE), seconds=seconds))
    delivered = int(re.search(r"RECORDS (\d+)", out).group(1))  # type: ignore[union-attr]
    simulate = (total - base) / delivered
    print(f"scenario    8 shards x 1,000 records/s for {seconds} s; instructions per record")
    print(f"floor       {floor:9,.0f}  (build the events, call the handler)")
    print(f"produce     {produce / produced:9,.0f}  (lazy producer into the shards' columns)")
    print(
        f"read        {(read - produce) / produced:9,.0f}  (records read back: objects, seq text)"
    )
    print(f"simulate    {simulate:9,.0f}  (the whole stream path, {delivered:,} delivered)")
    print(f"ratio       {floor / simulate:9.2f}  (floor / simulate, in instructions)")


if __name__ == "__main__":
    main()
