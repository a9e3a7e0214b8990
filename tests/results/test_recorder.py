"""The Recorder: determinism, write-behind durability, trace neutrality, percentiles."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from esmsim import Simulation
from esmsim.results import Histogram, Recorder

from .conftest import build_small, run_small

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_gives_byte_identical_summary_and_metrics(tmp_path: Path) -> None:
    """Two runs with one seed write the same summary.json and metrics.csv, byte for byte."""
    run_small(tmp_path / "a")
    run_small(tmp_path / "b")
    for name in ("summary.json", "metrics.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["conservation"]["ok"] is True
    assert summary["seed"] == 5


def test_recorder_does_not_change_the_trace(tmp_path: Path) -> None:
    """The same invocations, in the same order, at the same times, with and without it."""
    with_recorder, _ = run_small(tmp_path / "r")
    without, _ = run_small(None)
    assert with_recorder == without
    assert len(without) > 100


def test_recorder_does_not_change_a_multi_shard_trace(tmp_path: Path) -> None:
    """Same with 4 shards, whose lanes wake at the same instants."""
    with_recorder, _ = run_small(tmp_path / "r", shards=4, seconds=20)
    without, _ = run_small(None, shards=4, seconds=20)
    assert with_recorder == without


def test_sqlite_tables_are_filled(tmp_path: Path) -> None:
    """invocations, record_outcomes and metric_samples agree with the summary."""
    _, summary = run_small(tmp_path)
    db = sqlite3.connect(tmp_path / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (recorded,) = db.execute(
        "SELECT count(*) FROM invocations WHERE outcome != 'throttled'"
    ).fetchone()
    started = sum(f["invocations"] for f in summary["functions"].values())
    running = sum(f["concurrent_executions_max"] for f in summary["functions"].values())
    assert started - running <= recorded <= started  # still running at the end: no row yet
    # Batch sizes add up to the records each mapping invoked with.
    for uuid, mapping in summary["mappings"].items():
        (size,) = db.execute(
            "SELECT sum(batch_size) FROM invocations WHERE mapping = ? AND outcome != 'throttled'",
            (uuid,),
        ).fetchone()
        assert size == mapping["metrics"]["InvokedEventCount"]
        (delivered,) = db.execute(
            "SELECT sum(count) FROM record_outcomes WHERE mapping = ? AND state = 'delivered'",
            (uuid,),
        ).fetchone()
        assert delivered == mapping["delivered"]
    rows = db.execute("SELECT metric, dimensions, timestamp, value FROM metric_samples").fetchall()
    metrics = {r[0] for r in rows}
    assert {"IteratorAge", "ApproximateAgeOfOldestMessage", "ConcurrentExecutions"} <= metrics
    assert all(json.loads(r[1]) for r in rows)
    (n_hist,) = db.execute("SELECT count(*) FROM histograms").fetchone()
    assert n_hist > 0
    csv_lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("timestamp,metric,")
    assert csv_lines[0].endswith(",value,unit")
    assert len(csv_lines) == len(rows) + 1


def test_a_killed_run_leaves_a_valid_database(tmp_path: Path) -> None:
    """A run killed mid-way keeps everything up to its last flush, readable."""
    out = tmp_path / "run"
    marker = tmp_path / "flushed"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from esmsim import Simulation
        from esmsim.results import Recorder
        from tests.results.conftest import build_small
        with Simulation(seed=5) as sim:
            build_small(sim)
            rec = Recorder(sim, {str(out)!r}, sample_interval=10.0).attach()
            sim.run_sync(60)
            Path({str(marker)!r}).write_text("1")
            while True:  # never finishes: the test kills it
                sim.run_sync(10)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the child died before its first flushes"
        assert time.monotonic() < deadline
        time.sleep(0.05)  # real time: waiting for another process
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(out / "results.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (invocations,) = db.execute("SELECT count(*) FROM invocations").fetchone()
    (samples,) = db.execute("SELECT count(*) FROM metric_samples").fetchone()
    (last,) = db.execute("SELECT max(timestamp) FROM metric_samples").fetchone()
    assert invocations > 0
    assert samples > 0
    start = 1767225600.0
    assert last >= start + 50  # at least the flushes up to the 60 s mark
    assert not (out / "summary.json").exists()


def test_percentiles_of_a_known_distribution() -> None:
    """p50/p90/p99/p99.9/max of 1..10,000 within HdrHistogram's 0.1 %."""
    hist = Histogram("ms")
    hist.add_many(range(1, 10_001))
    p = hist.percentiles()
    assert p["count"] == 10_000
    for key, want in (
        ("p50", 5000),
        ("p90", 9000),
        ("p99", 9900),
        ("p99.9", 9990),
        ("max", 10_000),
    ):
        assert abs(float(p[key] or 0) - want) <= want * 0.001, (key, p[key])
    micros = Histogram("us", 1000.0)
    micros.add(20_000, 7)
    assert micros.percentiles()["p50"] == 20.0
    assert Histogram().percentiles() == {
        "count": 0,
        "p50": None,
        "p90": None,
        "p99": None,
        "p99.9": None,
        "max": None,
    }


def test_end_to_end_latency_and_iterator_age_are_recorded(tmp_path: Path) -> None:
    """Stream mappings get end-to-end and IteratorAge percentiles; per-shard IteratorAge series."""
    _, summary = run_small(tmp_path, shards=2)
    stream = next(m for m in summary["mappings"].values() if m["source_type"] == "kinesis")
    e2e = stream["percentiles"]["end_to_end_ms"]
    assert e2e["count"] == stream["delivered"] > 0
    assert 0 <= e2e["p50"] <= e2e["p99"] <= e2e["max"]
    assert stream["percentiles"]["iterator_age_ms"]["count"] > 0
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    shard_col = header.index("ShardId")
    shards = {
        line.split(",")[shard_col]
        for line in (tmp_path / "metrics.csv").read_text().splitlines()[1:]
        if line.split(",")[1] == "IteratorAge"
    }
    assert {"shardId-000000000000", "shardId-000000000001"} <= shards


def test_resources_created_after_attach_are_discovered(tmp_path: Path) -> None:
    """attach() before building: the next sample picks the resources up."""
    with Simulation(seed=1) as sim:
        rec = Recorder(sim, tmp_path, sample_interval=5.0).attach()
        sim.run_sync(5)
        build_small(sim)
        sim.run_sync(30)
        summary = rec.finish()
    assert len(summary["mappings"]) == 2
    assert sum(m["delivered"] for m in summary["mappings"].values()) > 0
