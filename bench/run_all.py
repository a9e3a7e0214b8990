"""Run every benchmark, each in its own process, and print one table.

    python bench/run_all.py [--quick] [--only NAME[,NAME]] [--markdown]
                            [--timeout SECONDS] [--max-memory-gib GIB] [--quiet]

Benchmarks (names for ``--only``; a prefix such as ``scale`` or
``scale-queues`` selects a group):

    clock            virtual timer events/s vs stock asyncio       (bench/clock.py)
    streams          8 shards x 1,000 records/s vs the floor        (bench/streams.py)
    sqs              1M-message backlog vs the floor                (bench/sqs.py)
    day              24 h of 8 shards x 100 records/s, memory        (bench/day.py)
    scale-shards-N   one stream of N shards, N = 10, 100, 1000     (bench/scale.py)
    scale-queues-N   N queues with a mapping each                   (bench/scale.py)
    demo             ``esmsim run config.yaml`` end to end          (bench/demo.py)

Each benchmark runs as ``python bench/<script>.py ... --json`` in a subprocess,
so its peak memory is its own and its floor is measured in the same process as
the simulator it is compared with. The default runs the issue's full targets
(a simulated day takes many minutes); ``--quick`` runs short versions of
everything for a smoke test, and projects the day's wall time to 24 h.

Columns: records/s (simulated records delivered per wall second), floor/s
(the bare-Python floor in the same process), ratio (records/s over floor/s),
target, measured (the value judged when it is not the ratio), met?, peak MiB
(the process's peak RSS), sim s / wall s (simulated seconds per wall second),
wall s (the timed part). The table is also written to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _result import PREFIX, parse
from scale import judge

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results" / "latest.json"


@dataclass(frozen=True)
class Bench:
    key: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


def _scale(kind: str, n: int, full: int, quick: int) -> Bench:
    point = ("--kind", kind, "--n", str(n), "--records")
    return Bench(f"scale-{kind}-{n}", "scale.py", (*point, str(full)), (*point, str(quick)))


BENCHES: tuple[Bench, ...] = (
    Bench("clock", "clock.py", (), ("--steps", "500")),
    Bench("streams", "streams.py", (), ("--seconds", "60")),
    Bench("sqs", "sqs.py", (), ("--messages", "200000")),
    Bench("day", "day.py", ("--hours", "24"), ("--hours", "1")),
    *(_scale("shards", n, 3_000_000, 1_000_000) for n in (10, 100, 1000)),
    *(_scale("queues", n, 150_000, 50_000) for n in (10, 100, 1000)),
    Bench("demo", "demo.py", (), ("--duration", "12h")),
)

COLUMNS = (
    "benchmark",
    "records/s",
    "floor/s",
    "ratio",
    "target",
    "measured",
    "met?",
    "peak MiB",
    "sim s / wall s",
    "wall s",
)

_LEFT = (0, 4, 5, 6)  # text columns: benchmark, target, measured, met?


def _selected(only: str | None) -> list[Bench]:
    if not only:
        return list(BENCHES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    chosen = [b for b in BENCHES if any(b.key == n or b.key.startswith(n + "-") for n in names)]
    unknown = [
        n for n in names if not any(b.key == n or b.key.startswith(n + "-") for b in BENCHES)
    ]
    if unknown:
        sys.exit(
            f"--only: unknown {', '.join(unknown)}; known: {', '.join(b.key for b in BENCHES)}"
        )
    return chosen


def _limit_memory(gib: float) -> Any:
    """A preexec_fn capping the child's address space (MemoryError, not the OOM killer)."""

    def apply() -> None:
        limit = int(gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply if gib > 0 else None


def run_one(
    bench: Bench, quick: bool, timeout: float | None, max_gib: float, quiet: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """Run one benchmark; its results, and why it failed (None if it did not)."""
    cmd = [sys.executable, str(BENCH / bench.script), *(bench.quick if quick else bench.full)]
    cmd.append("--json")
    print(f"== {bench.key}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}")
    sys.stdout.flush()
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,  # its own process group: a timeout kills all of it
            preexec_fn=_limit_memory(max_gib),
        )

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if not quiet and not line.startswith(PREFIX):
                    print("   | " + line, end="", flush=True)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        failure = None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            failure = f"timeout after {timeout:g} s"
        reader.join()
        elapsed = time.perf_counter() - started
        if failure is None and proc.returncode:
            failure = f"exit {proc.returncode}"
        err.seek(0)
        stderr = err.read()
    results = parse("".join(lines))
    if failure is None and not results:
        failure = "no BENCH-RESULT line"
    if failure:
        print(f"   ! {bench.key} failed ({failure}) after {elapsed:,.0f} s")
        tail = stderr.strip().splitlines()[-15:]
        for line in tail:
            print("   ! " + line)
    else:
        print(f"   ({elapsed:,.0f} s)")
    return results, failure


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _speed(value: float | None) -> str:
    """Simulated seconds per wall second, with two significant digits when small."""
    if value is None:
        return "-"
    return format(value, ",.0f" if value >= 100 else ".1f" if value >= 1 else ".2f")


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in results:
        if r.get("failed"):
            out.append([r["name"], *(["-"] * 4), r["failed"], "FAILED", *(["-"] * 3)])
            continue
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        out.append(
            [
                r["name"],
                _cell(r["records_per_s"], ",.0f"),
                _cell(r["floor_per_s"], ",.0f"),
                _cell(r["ratio"], ".2f"),
                r["target"] or "-",
                r.get("measured") or "-",
                met,
                _cell(r["peak_rss_mib"], ",.0f"),
                _speed(r["sim_per_wall"]),
                _cell(r["wall_s"], ",.1f"),
            ]
        )
    return out


def table(results: list[dict[str, Any]], markdown: bool) -> str:
    body = rows(results)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |"]
        lines.append(
            "|" + "|".join("---" if i in _LEFT else "---:" for i in range(len(COLUMNS))) + "|"
        )
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in body)) for i, c in enumerate(COLUMNS)]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i in _LEFT else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *map(line, body)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="names: " + ", ".join(b.key for b in BENCHES),
    )
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--only", help="comma-separated names or prefixes (clock,scale,...)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per benchmark (default: none)"
    )
    total_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parser.add_argument(
        "--max-memory-gib",
        type=float,
        default=round(0.75 * total_gib, 1),
        help="address-space cap per benchmark, so a runaway fails with MemoryError instead "
        "of waking the OOM killer (default: 75%% of RAM; 0: none)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not echo benchmark output")
    args = parser.parse_args()
    chosen = _selected(args.only)
    load_before = os.getloadavg()
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    for bench in chosen:
        got, failure = run_one(bench, args.quick, args.timeout, args.max_memory_gib, args.quiet)
        results += got
        if failure and not got:
            results.append({"name": bench.key, "failed": failure})
    judge([r for r in results if not r.get("failed")])
    load_after = os.getloadavg()
    total = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    print()
    print(
        f"esmsim benchmarks ({mode}), {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before / {load_after[0]:.1f} after, {total:,.0f} s in all"
    )
    print()
    print(table(results, args.markdown))
    notes = [f"{r['name']}: {note}" for r in results for note in r.get("notes", [])]
    if notes:
        print()
        print("notes:")
        for note in notes:
            print(("- " if args.markdown else "  ") + note)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "generated": datetime.now(UTC).isoformat(timespec="seconds"),
                "mode": mode,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_average": {"before": load_before, "after": load_after},
                "total_wall_s": total,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print()
    print(f"written {RESULTS.relative_to(ROOT)}")
    if any(r.get("failed") for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
