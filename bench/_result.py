"""One benchmark result, and how a benchmark process reports it to ``run_all.py``.

A benchmark prints its human-readable output as usual and, with ``--json``, one
line per result::

    BENCH-RESULT {"name": "streams", "records": 28800000, ...}

``run_all.py`` runs every benchmark in its own process (so peak memory is that
benchmark's own, and floors are measured in the same process as the simulator
they are compared with) and collects these lines into one table.
"""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

PREFIX = "BENCH-RESULT "


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(who).ru_maxrss / 1024


def current_rss_bytes() -> int | None:
    """Resident set size now, in bytes (Linux ``/proc/self/statm``), or None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


@dataclass
class BenchResult:
    """What one benchmark measured.

    ``records_per_s``, ``ratio`` (simulator over floor) and ``sim_per_wall``
    (simulated seconds per wall second) are derived; ``peak_rss_mib`` is the
    process's peak RSS when the result is made unless given.
    """

    name: str
    scenario: str
    records: int
    wall_s: float
    floor_per_s: float | None = None
    target: str = ""
    measured: str = ""  # the value the target judges, when it is not records/s or ratio
    met: bool | None = None
    sim_s: float | None = None
    notes: list[str] = field(default_factory=list)
    peak_rss_mib: float = field(default_factory=peak_rss_mib)
    records_per_s: float = field(init=False)
    ratio: float | None = field(init=False)
    sim_per_wall: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.records_per_s = self.records / self.wall_s if self.wall_s > 0 else 0.0
        self.ratio = self.records_per_s / self.floor_per_s if self.floor_per_s else None
        self.sim_per_wall = (
            self.sim_s / self.wall_s if self.sim_s is not None and self.wall_s > 0 else None
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def emit(result: BenchResult) -> None:
    """Print ``result`` as one ``BENCH-RESULT`` JSON line on stdout."""
    emit_dict(result.to_dict())


def emit_dict(result: dict[str, Any]) -> None:
    """Print an already parsed result again (a benchmark relaying its subprocesses')."""
    print(PREFIX + json.dumps(result, sort_keys=True), flush=True)


def parse(lines: str) -> list[dict[str, Any]]:
    """Every ``BENCH-RESULT`` record in a benchmark's stdout."""
    return [
        json.loads(line[len(PREFIX) :]) for line in lines.splitlines() if line.startswith(PREFIX)
    ]


def add_json_flag(parser: Any) -> None:
    """The ``--json`` option every benchmark takes."""
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"also print the result as one '{PREFIX.strip()} {{...}}' JSON line (for run_all.py)",
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit("a helper module: run bench/run_all.py")
