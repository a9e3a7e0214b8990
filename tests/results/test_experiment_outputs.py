"""Experiment outputs (issue #9): cost estimates, per-period percentiles, stream backlog.

Pricing facts (https://aws.amazon.com/lambda/pricing/, US East (N. Virginia),
on demand, first tier): $0.20 per 1M requests; $0.0000166667 per GB-second on
x86_64 and $0.0000133334 on arm64; duration is billed per invocation rounded
up to the nearest 1 ms; GB = MemorySize / 1024.
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any

import pytest

from esmsim import Simulation
from esmsim.results import Histogram, Recorder

from .conftest import ok_handler, run_small

X86_GB_S = 0.0000166667
ARM_GB_S = 0.0000133334
REQUEST = 0.20 / 1_000_000


def _rows(path: Path) -> list[dict[str, str]]:
    with (path / "metrics.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


_FUNCTIONS: dict[str, dict[str, Any]] = {
    "a": {"duration": 0.0101, "invokes": 3},
    "b": {"duration": 0.0004, "invokes": 2},
    "c": {"duration": 0.02, "invokes": 1},
    "big": {"duration": 0.1, "MemorySize": 1536, "invokes": 4},
    "small": {"duration": 0.1, "invokes": 4},
    "arm": {"duration": 1.0, "MemorySize": 1024, "Architectures": ["arm64"], "invokes": 2},
    "x86": {"duration": 1.0, "MemorySize": 1024, "invokes": 2},
    "shut": {"duration": 0.05, "ReservedConcurrentExecutions": 0, "invokes": 5},
}


@pytest.fixture(scope="module")
def cost_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One run invoking each of ``_FUNCTIONS`` directly: (run directory, cost block)."""
    out = tmp_path_factory.mktemp("cost")
    with Simulation(seed=1) as sim:
        made = []
        for name, spec in _FUNCTIONS.items():
            props = {k: v for k, v in spec.items() if k != "invokes"}
            made.append((sim.function(name, ok_handler, **props), spec["invokes"]))
        rec = Recorder(sim, out, sample_interval=1.0).attach()
        for fn, times in made:
            for _ in range(times):
                sim.call_sync(fn.invoke, lambda: {})
        sim.run_sync(2)
        cost: dict[str, Any] = rec.finish()["cost"]
    return out, cost


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The results tests' small pipeline (2-shard stream, SQS queue), 30 s: (dir, summary)."""
    out = tmp_path_factory.mktemp("small")
    _, summary = run_small(out, seconds=30, shards=2)
    return out, summary


# -- cost -----------------------------------------------------------------------------------


def test_billed_duration_rounds_each_invocation_up_to_the_next_millisecond(
    cost_run: tuple[Path, dict[str, Any]],
) -> None:
    """10.1 ms bills 11 ms, 0.4 ms bills 1 ms, 20 ms bills 20 ms (1 ms granularity)."""
    functions = cost_run[1]["functions"]
    billed = {name: functions[name]["billed_duration_ms"] for name in ("a", "b", "c")}
    assert billed == {"a": 33, "b": 2, "c": 20}


def test_gb_seconds_are_billed_seconds_times_memory_size_over_1024(
    cost_run: tuple[Path, dict[str, Any]],
) -> None:
    """GB-s = billed ms / 1000 x MemorySize / 1024, with MemorySize defaulting to 128."""
    big, small = cost_run[1]["functions"]["big"], cost_run[1]["functions"]["small"]
    assert (big["memory_size_mb"], small["memory_size_mb"]) == (1536, 128)
    assert big["gb_seconds"] == pytest.approx(0.4 * 1536 / 1024)
    assert small["gb_seconds"] == pytest.approx(0.4 * 128 / 1024)


def test_throttled_invocations_are_not_billed(cost_run: tuple[Path, dict[str, Any]]) -> None:
    """A throttle runs no handler: no request, no duration, no cost."""
    out, cost = cost_run
    shut = cost["functions"]["shut"]
    assert (shut["requests"], shut["billed_duration_ms"], shut["total_usd"]) == (0, 0, 0)
    throttles = sum(
        float(r["value"])
        for r in _rows(out)
        if r["metric"] == "Throttles" and r["FunctionName"] == "shut"
    )
    assert throttles == 5


def test_arm64_functions_are_priced_at_the_arm64_gb_second_rate(
    cost_run: tuple[Path, dict[str, Any]],
) -> None:
    """Architectures [arm64] bills $0.0000133334 per GB-s, x86_64 $0.0000166667; $0.20 per 1M."""
    arm, x86 = cost_run[1]["functions"]["arm"], cost_run[1]["functions"]["x86"]
    assert (arm["architecture"], x86["architecture"]) == ("arm64", "x86_64")
    assert arm["duration_usd"] == pytest.approx(2.0 * ARM_GB_S)
    assert x86["duration_usd"] == pytest.approx(2.0 * X86_GB_S)
    assert arm["request_usd"] == x86["request_usd"] == pytest.approx(2 * REQUEST)
    assert arm["total_usd"] == pytest.approx(2 * REQUEST + 2.0 * ARM_GB_S)


def test_cost_totals_add_up_the_functions(cost_run: tuple[Path, dict[str, Any]]) -> None:
    """totals: the sums of requests, billed ms, GB-s and USD over the functions."""
    cost = cost_run[1]
    functions = cost["functions"].values()
    totals = cost["totals"]
    assert totals["requests"] == sum(f["requests"] for f in functions) == 18
    assert totals["billed_duration_ms"] == sum(f["billed_duration_ms"] for f in functions)
    assert totals["gb_seconds"] == pytest.approx(sum(f["gb_seconds"] for f in functions))
    assert totals["total_usd"] == pytest.approx(sum(f["total_usd"] for f in functions), abs=1e-9)


def test_summary_states_the_prices_used_and_that_the_free_tier_is_ignored(
    cost_run: tuple[Path, dict[str, Any]],
) -> None:
    """cost.prices carries the exact published rates (not rounded to 6 decimals)."""
    prices = json.loads((cost_run[0] / "summary.json").read_text())["cost"]["prices"]
    assert prices["request_usd_per_million"] == 0.2
    assert prices["duration_usd_per_gb_second"] == {"x86_64": X86_GB_S, "arm64": ARM_GB_S}
    assert prices["free_tier"] == "ignored"
    assert prices["source"] == "https://aws.amazon.com/lambda/pricing/"


def test_per_period_billed_duration_and_gb_seconds_add_up_to_the_summary(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """metrics.csv's BilledDuration and GBSeconds rows sum to each function's totals."""
    out, summary = small_run
    rows = _rows(out)
    for name, f in summary["cost"]["functions"].items():
        mine = [r for r in rows if r["FunctionName"] == name and not r["EventSourceMappingUUID"]]
        billed = sum(int(r["value"]) for r in mine if r["metric"] == "BilledDuration")
        gb_s = sum(float(r["value"]) for r in mine if r["metric"] == "GBSeconds")
        assert billed == f["billed_duration_ms"] > 0
        assert gb_s == pytest.approx(f["gb_seconds"], abs=1e-5)
        requests = sum(float(r["value"]) for r in mine if r["metric"] == "Invocations")
        assert requests == f["requests"]


# -- percentiles ----------------------------------------------------------------------------


def test_period_percentiles_match_hdrhistogram_for_the_same_values() -> None:
    """A period's percentiles equal HdrHistogram's (rank rule and bucket lowering)."""
    values = [*range(1, 5000), *range(10_000, 900_000, 997), 12_345_678]
    period = Histogram("ms")
    period.add_many(values)
    whole = Histogram("ms")
    whole.add_many(values)
    expected = whole.percentiles()
    del expected["count"]
    assert period.drain_period() == expected


def test_period_percentiles_cover_only_the_period() -> None:
    """Each drain reports the values added since the previous one; the run keeps all."""
    hist = Histogram("ms")
    hist.add_many([10] * 100)
    assert hist.drain_period() == {"p50": 10, "p90": 10, "p99": 10, "p99.9": 10, "max": 10}
    assert hist.drain_period() is None
    hist.add_many([500] * 100)
    assert hist.drain_period() == {
        "p50": 500,
        "p90": 500,
        "p99": 500,
        "p99.9": 500,
        "max": 500,
    }
    assert hist.percentiles()["count"] == 200
    assert hist.percentiles()["p50"] == 10


def test_metrics_csv_has_per_period_latency_and_iterator_age_percentiles(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """EndToEndLatency and IteratorAge rows per Statistic, in order p50 <= ... <= max."""
    out, summary = small_run
    stream = next(u for u, m in summary["mappings"].items() if m["source_type"] == "kinesis")
    rows = [r for r in _rows(out) if r["Statistic"] and r["EventSourceMappingUUID"] == stream]
    for metric in ("EndToEndLatency", "IteratorAge"):
        by_time: dict[str, dict[str, float]] = {}
        for r in rows:
            if r["metric"] == metric:
                assert r["unit"] == "Milliseconds"
                by_time.setdefault(r["timestamp"], {})[r["Statistic"]] = float(r["value"])
        assert len(by_time) >= 2, metric
        for stats in by_time.values():
            ordered = [stats[s] for s in ("p50", "p90", "p99", "p99.9", "max")]
            assert ordered == sorted(ordered)
    e2e_max = max(float(r["value"]) for r in rows if r["metric"] == "EndToEndLatency")
    assert e2e_max == summary["mappings"][stream]["percentiles"]["end_to_end_ms"]["max"]


def test_summary_has_p99_9_and_max_for_end_to_end_latency_and_iterator_age(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """Per stream mapping: end_to_end_ms and iterator_age_ms carry p99.9 and max."""
    summary = small_run[1]
    stream = next(m for m in summary["mappings"].values() if m["source_type"] == "kinesis")
    for key in ("end_to_end_ms", "iterator_age_ms"):
        p = stream["percentiles"][key]
        assert p["count"] > 0
        assert p["p99"] <= p["p99.9"] <= p["max"]


def test_sqs_mappings_report_end_to_end_latency_from_send_to_delete(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """Per SQS mapping: end_to_end_ms counts every delivered message (sent to deleted)."""
    summary = small_run[1]
    queue = next(m for m in summary["mappings"].values() if m["source_type"] == "sqs")
    p = queue["percentiles"]["end_to_end_ms"]
    assert p["count"] == queue["delivered"] > 0
    assert 0 <= p["p50"] <= p["p99"] <= p["max"]


# -- stream backlog -------------------------------------------------------------------------


def _backlog_run(out: Path | None, interval: float = 0.37) -> tuple[Any, ...]:
    """A 2-shard stream whose poison records block their shard for a while; lazy producer."""

    async def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            if b'"poison": true' in base64.b64decode(record["kinesis"]["data"]):
                raise ValueError("poison")

    with Simulation(seed=3) as sim:
        stream = sim.kinesis_stream("s", ShardCount=2)
        fn = sim.function("fn", handler, duration=0.03)
        mapping = sim.event_source_mapping(
            FunctionName="fn",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=20,
            MaximumRetryAttempts=3,
        )
        sim.producer(stream, rate=40, keys=6, poison_fraction=0.01)
        rec = Recorder(sim, out, sample_interval=interval).attach() if out is not None else None
        sim.run_sync(20)
        summary = rec.finish() if rec is not None else None
        trace = [
            (inv.shard_id, inv.started_at, inv.ended_at, inv.status, inv.request_id)
            for inv in fn.invocations
        ]
        ledger = mapping.ledger
        ends = {sid: stream._log.shards[sid].end for sid in sorted(stream._log.shards)}
    return trace, ledger, ends, summary


@pytest.fixture(scope="module")
def backlog_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``_backlog_run`` recorded twice (into dirs ``a`` and ``b``) and once unrecorded."""
    root = tmp_path_factory.mktemp("backlog")
    return {
        "root": root,
        "a": _backlog_run(root / "a"),
        "b": _backlog_run(root / "b"),
        "bare": _backlog_run(None),
    }


def test_backlog_sampling_leaves_the_trace_and_the_ledger_unchanged(
    backlog_runs: dict[str, Any],
) -> None:
    """Sampling every 0.37 s (between poll ticks) changes no invocation, record or count."""
    recorded, bare = backlog_runs["a"], backlog_runs["bare"]
    assert recorded[:3] == bare[:3]
    assert len(bare[0]) > 20
    assert bare[1]["discarded"] > 0  # poison batches blocked their shard for a while


def test_backlog_snapshot_never_produces_due_records() -> None:
    """Records a lazy producer owes stay unwritten until a reader asks (no production)."""
    with Simulation(seed=2) as sim:
        stream = sim.kinesis_stream("s", ShardCount=1)
        sim.function("fn", ok_handler, duration=0.01)
        mapping = sim.event_source_mapping(
            FunctionName="fn", EventSourceArn=stream.arn, StartingPosition="TRIM_HORIZON"
        )
        sim.producer(stream, rate=100, keys=4)
        sim.run_sync(10.5)
        shard = next(iter(stream._log.shards.values()))
        end = shard.end
        poller: Any = getattr(mapping, "_poller")  # noqa: B009 (private: the poller itself)
        worker = poller.workers[shard.shard_id]
        snapshot = poller.backlog_snapshot()
        assert shard.end == end
        assert snapshot == {shard.shard_id: worker.buffered() + end - worker.position}
        stream.position(shard.shard_id, "LATEST")  # a reader's access produces what is due
        assert shard.end > end


def test_backlog_snapshot_agrees_with_the_ledgers_pending_count() -> None:
    """Once the stream is up to date, the snapshot's total is the ledger's ``pending``."""
    with Simulation(seed=3) as sim:
        stream = sim.kinesis_stream("s", ShardCount=3)
        sim.function("fn", ok_handler, duration=0.5)
        mapping = sim.event_source_mapping(
            FunctionName="fn",
            EventSourceArn=stream.arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
        )
        sim.producer(stream, rate=200, keys=30)
        for _ in range(4):
            sim.run_sync(3.3)
            pending = mapping.ledger["pending"]  # produces what is due, as readers would
            snapshot = getattr(mapping, "_poller").backlog_snapshot()  # noqa: B009
            assert sum(snapshot.values()) == pending > 0
            assert sorted(snapshot) == sorted(stream.shard_ids())


def test_stream_backlog_series_is_written_per_mapping_and_shard(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """StreamBacklog rows per sample for the mapping and each shard; the max is in the summary."""
    out, summary = small_run
    uuid, mapping = next(
        (u, m) for u, m in summary["mappings"].items() if m["source"].endswith("/orders")
    )
    rows = [r for r in _rows(out) if r["metric"] == "StreamBacklog"]
    totals = {r["timestamp"]: int(r["value"]) for r in rows if not r["ShardId"]}
    shards: dict[str, int] = {}
    for r in rows:
        if r["ShardId"]:
            assert r["EventSourceMappingUUID"] == uuid
            shards[r["timestamp"]] = shards.get(r["timestamp"], 0) + int(r["value"])
    assert totals == shards
    assert len(totals) == 2  # samples at 15 s and 30 s
    assert mapping["stream_backlog_max"] == max(totals.values())
    sqs = next(m for m in summary["mappings"].values() if m["source_type"] == "sqs")
    assert "stream_backlog_max" not in sqs


# -- report and determinism -------------------------------------------------------------------


def test_report_plots_latency_percentiles_backlog_and_cost_and_has_a_cost_table(
    small_run: tuple[Path, dict[str, Any]],
) -> None:
    """The three new plots have data, and the cost table names its prices and the free tier."""
    page = (small_run[0] / "report.html").read_text()
    for plot_id in ("latency-percentiles", "stream-backlog", "cost"):
        start = page.index(f'id="plot-{plot_id}"')
        end = page.index("</figure>", start)
        assert "<svg" in page[start:end] and "no data" not in page[start:end], plot_id
    assert "Estimated cost" in page
    assert "$0.0000166667 (x86_64)" in page and "free tier ignored" in page


def test_same_seed_gives_byte_identical_experiment_outputs(backlog_runs: dict[str, Any]) -> None:
    """Backlog, cost and percentile rows included, two runs write the same bytes."""
    a, b = backlog_runs["root"] / "a", backlog_runs["root"] / "b"
    for name in ("summary.json", "metrics.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    text = (a / "metrics.csv").read_text()
    for metric in ("StreamBacklog", "BilledDuration", "GBSeconds", "EndToEndLatency"):
        assert f",{metric}," in text, metric
