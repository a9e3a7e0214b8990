"""``esmsim sweep``: grid expansion, validation before any run, local and Dask executors.

One 3 x 3 x 2 sweep of a tiny Kinesis config runs locally and one on a Dask
``LocalCluster`` (module-scoped fixtures, shared by the tests that compare them), both
with ``reports: false``: drawing report.html is ~90% of such a run's cost. One run of
a one-point sweep, in this process, checks that reports (the default) are drawn.
Everything else is checked without running a simulation.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from esmsim.cli import app
from esmsim.sweep import (
    MetricError,
    RunTask,
    evaluate,
    load_sweep,
    make_plan,
    parse_metric,
    run_task,
)
from esmsim.sweep._configs import apply, parse_document

runner = CliRunner()

CONFIG = """\
Resources:
  Orders:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 2}
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Handler: esmsim.handlers.builtin.partial
      Runtime: python3.12
      Timeout: 30
      Environment: {Variables: {ESMSIM_FAIL_RATE: "0.05"}}
  OrdersMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Worker
      EventSourceArn: !GetAtt Orders.Arn
      StartingPosition: TRIM_HORIZON
      BatchSize: 10
      FunctionResponseTypes: [ReportBatchItemFailures]
Simulation:
  Seed: 1
  Duration: 1m
  Functions:
    Worker: {Duration: {Distribution: uniform, Min: 100ms, Max: 900ms}}
  Producers:
    - {Name: Load, Target: Orders, Rate: {Type: constant, PerSecond: 20}, Keys: {Count: 50}}
"""

BATCH = "Resources.OrdersMapping.Properties.BatchSize"
FACTOR = "Resources.OrdersMapping.Properties.ParallelizationFactor"
METRIC = "mappings.OrdersMapping.percentiles.iterator_age_ms.p99"

SWEEP = f"""\
config: config.yaml
duration: 10s
seeds: [1, 2]
sample_interval: 10s
reports: false
grid:
  {BATCH}: [5, 20, 100]
  {FACTOR}: [1, 2, 4]
metric: {METRIC}
metrics: [sum(mappings.*.invocations)]
"""


def _write(folder: Path, sweep: str, config: str = CONFIG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(config)
    path = folder / "sweep.yaml"
    path.write_text(sweep)
    return path


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "sweep.csv").read_text())))


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("sweep"), SWEEP)


@pytest.fixture(scope="module")
def local_sweep(sweep_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("local")
    result = runner.invoke(app, ["sweep", str(sweep_file), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return result.output, out


@pytest.fixture(scope="module")
def dask_sweep(sweep_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    from distributed import LocalCluster

    out = tmp_path_factory.mktemp("dask")
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        args = ["--executor", "dask", "--scheduler", cluster.scheduler_address]
        result = runner.invoke(app, ["sweep", str(sweep_file), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output, out


# -- the plan ---------------------------------------------------------------------------


def test_grid_expands_first_axis_slowest_then_seeds(sweep_file: Path) -> None:
    """Rows follow the grid as written (first axis slowest), each setting once per seed."""
    plan = make_plan(load_sweep(sweep_file))
    got = [(run.run_id, run.point.values, run.seed, run.seconds) for run in plan.runs]
    settings = [(batch, factor) for batch in (5, 20, 100) for factor in (1, 2, 4)]
    expected = [
        (f"{n:02d}-seed{seed}", setting, seed, 10.0)
        for n, setting in enumerate(settings, start=1)
        for seed in (1, 2)
    ]
    assert got == expected
    assert plan.labels == ("BatchSize", "ParallelizationFactor")


def test_seeds_default_to_the_configs_seed(tmp_path: Path) -> None:
    """Without seeds:, each setting runs once with the config's Seed and Duration."""
    path = _write(tmp_path, f"config: config.yaml\ngrid: {{{BATCH}: [5, 20]}}\n")
    plan = make_plan(load_sweep(path))
    assert [(r.run_id, r.seed, r.seconds) for r in plan.runs] == [
        ("01-seed1", 1, 60.0),
        ("02-seed1", 1, 60.0),
    ]


# -- validation: every problem, with its field, before anything runs -------------------


def test_sweep_file_problems_are_all_reported_with_their_fields(tmp_path: Path) -> None:
    """A bad sweep file exits 2 and names each offending field."""
    path = _write(
        tmp_path,
        f"config: config.yaml\nsedes: [1]\nseeds: [1, x, 1]\nduration: soon\n"
        f"grid: {{{BATCH}: 10, Simulation.Seed: [1, 2]}}\n"
        "metric: median(mappings.*.errors)\nmetrics: [mappings.*.errors]\nreports: sometimes\n",
    )
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    for expected in (
        "error: sedes: unknown key (did you mean seeds?)",
        "error: seeds[1]: must be an integer, got 'x'",
        "error: seeds[2]: 1 is already in the list",
        "error: duration: 'soon' is not a duration",
        f"error: grid.{BATCH}: must be a non-empty list of values, got 10",
        "error: grid.Simulation.Seed: the seeds come from seeds:",
        "error: metric: median() is not one of: max(), min(), sum(), mean()",
        "error: metrics[0]: mappings.*.errors takes one value per entry; wrap it in max()",
        "error: reports: must be true (each run draws its report.html) or false, got 'sometimes'",
    ):
        assert any(line.startswith(expected) for line in lines), (expected, result.output)
    assert not (tmp_path / "out").exists()


def test_grid_paths_and_metric_names_are_checked_against_the_config(tmp_path: Path) -> None:
    """A grid path or mapping name that is not in the config is an error naming its field."""
    path = _write(
        tmp_path,
        "config: config.yaml\ngrid:\n"
        "  Resources.OrdersMaping.Properties.BatchSize: [5]\n"
        "  Resources.OrdersMapping.Properties.BatchSzie: [5, 6]\n"
        "  Simulation.Producers[3].Rate.PerSecond: [1]\n"
        "metric: mappings.Orders.percentiles.iterator_age_ms.p99\n",
    )
    result = runner.invoke(app, ["sweep", str(path)])
    assert result.exit_code == 2
    assert (
        "error: grid.Resources.OrdersMaping.Properties.BatchSize: path not found in "
        "config.yaml: Resources has no OrdersMaping (did you mean OrdersMapping?)"
    ) in result.output
    assert (
        "error: grid.Simulation.Producers[3].Rate.PerSecond: path not found in config.yaml: "
        "Simulation.Producers has 1 items: [0] to [0]"
    ) in result.output
    assert "error: metric: config.yaml has no event source mapping Orders" in result.output


def test_a_new_key_the_config_ignores_is_an_error(tmp_path: Path) -> None:
    """Sweeping a misspelt property (which the config would ignore) is an error, not a no-op."""
    path = _write(tmp_path, f"config: config.yaml\ngrid: {{{BATCH[:-4]}Szie: [5, 6]}}\n")
    result = runner.invoke(app, ["sweep", str(path)])
    assert result.exit_code == 2
    assert (
        "error: grid.Resources.OrdersMapping.Properties.BatchSzie: not modelled by esmsim; "
        "ignored (did you mean BatchSize?); sweeping it changes nothing"
    ) in result.output


def test_an_invalid_combination_is_reported_before_any_run(tmp_path: Path) -> None:
    """Every grid point goes through the config's checks first; a bad one stops the sweep."""
    path = _write(
        tmp_path, f"config: config.yaml\ngrid: {{{BATCH}: [5, 20000], {FACTOR}: [1, 2]}}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2
    problem = [line for line in result.output.splitlines() if line.startswith(f"error: {BATCH}")]
    assert len(problem) == 1, result.output
    assert problem[0].endswith("(grid points 3, 4 of 4, all with BatchSize=20000)")
    assert not out.exists()


def test_scheduler_needs_the_dask_executor(sweep_file: Path) -> None:
    """--scheduler without --executor dask, or a bad executor, exits 2 naming the option."""
    result = runner.invoke(
        app, ["sweep", str(sweep_file), "--executor", "ray", "--scheduler", "tcp://h:8786"]
    )
    assert result.exit_code == 2
    assert "error: --executor: 'ray' is not one of: local, dask" in result.output
    assert "error: --scheduler: only used with --executor dask" in result.output


def test_dask_executor_without_dask_names_the_extra(
    sweep_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without distributed installed, --executor dask says which extra to install."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else real(name, *a),
    )
    result = runner.invoke(app, ["sweep", str(sweep_file), "--executor", "dask"])
    assert result.exit_code == 2
    assert "pip install 'esmsim[dask]'" in result.output


# -- metrics ------------------------------------------------------------------------------


SUMMARY: dict[str, Any] = {
    "mappings": {
        "uuid-b": {
            "name": "Stream",
            "errors": 2,
            "percentiles": {"iterator_age_ms": {"p99": 700}, "end_to_end_ms": {"p99": 900.5}},
        },
        "uuid-a": {"name": "Jobs", "errors": 3, "percentiles": {"end_to_end_ms": {"p99": None}}},
    },
    "conservation": {"ok": True},
}


def test_metrics_name_mappings_by_logical_id_and_aggregate_over_stars() -> None:
    """Mappings are found by name; * skips entries without the path; None is skipped."""
    assert evaluate(parse_metric("mappings.Stream.errors"), SUMMARY) == 2
    assert evaluate(parse_metric("sum(mappings.*.errors)"), SUMMARY) == 5
    assert evaluate(parse_metric("mean(mappings.*.errors)"), SUMMARY) == 2.5
    assert evaluate(parse_metric("max(mappings.*.percentiles.iterator_age_ms.p99)"), SUMMARY) == 700
    assert evaluate(parse_metric("max(mappings.*.percentiles.end_to_end_ms.p99)"), SUMMARY) == 900.5
    assert evaluate(parse_metric("mappings.Jobs.percentiles.end_to_end_ms.p99"), SUMMARY) is None
    assert evaluate(parse_metric("conservation.ok"), SUMMARY) == 1


def test_a_metric_path_the_summary_lacks_says_what_is_there() -> None:
    """A wrong key names where the path left the summary and what it has."""
    with pytest.raises(MetricError, match=r"mappings.Stream.percentiles has no latency; it has"):
        evaluate(parse_metric("mappings.Stream.percentiles.latency.p99"), SUMMARY)
    with pytest.raises(MetricError, match=r"is a group, not a number; add one of: p99"):
        evaluate(parse_metric("mappings.Stream.percentiles.end_to_end_ms"), SUMMARY)


def test_load_document_checks_a_parsed_config_as_load_config_checks_the_file(
    tmp_path: Path,
) -> None:
    """The sweep's configs go through load_document: the same RunConfig as load_config
    for the same text, and the caller's document is left alone."""
    from esmsim.config import ConfigError, load_config, load_document

    path = _write(tmp_path, SWEEP).parent / "config.yaml"
    doc, _ = parse_document(path.read_text(), "config.yaml")
    assert doc is not None
    cfg = load_document(path, doc)
    assert cfg == load_config(path) and cfg.path == path
    doc["Resources"]["OrdersMapping"]["Properties"]["BatchSize"] = 0
    assert cfg.resources["OrdersMapping"]["Properties"]["BatchSize"] == 10
    with pytest.raises(ConfigError, match=r"OrdersMapping\.Properties\.BatchSize"):
        load_document(path, doc)


def test_a_failing_run_comes_back_as_text() -> None:
    """A run that cannot start is reported in its result, not raised across processes."""
    task = RunTask(
        "01-seed1", "/nonexistent/config.yaml", "Resources: 3\n", (), 1, 1.0, 60.0, None, "error"
    )
    result = run_task(task)
    assert result.summary is None and result.files == ()
    assert result.error is not None and "Resources: must be a mapping" in result.error


# -- running: locally and on Dask, same rows -------------------------------------------


def test_local_sweep_writes_table_plot_and_run_directories(local_sweep: tuple[str, Path]) -> None:
    """18 rows in plan order, an SVG, and each run's own directory."""
    output, out = local_sweep
    rows = _rows(out)
    assert [r["run"] for r in rows] == [f"{n:02d}-seed{s}" for n in range(1, 10) for s in (1, 2)]
    assert all(r["conservation_ok"] == "true" and r["run_error"] == "" for r in rows)
    assert all(r[METRIC] for r in rows)
    assert (out / "sweep.svg").read_text().lstrip().startswith("<?xml")
    for row in rows:
        files = {p.name for p in (out / "runs" / row["run"]).iterdir()}
        assert files == {"summary.json", "metrics.csv", "results.sqlite"}  # reports: false
    assert "sweep results" in output and "iterator_age_ms.p99" in output
    assert "(no report.html: esmsim report" in output


def test_reports_default_to_true_and_each_run_draws_its_report(tmp_path: Path) -> None:
    """Without reports: (default true) each run's files include report.html; the
    executors only carry a task's files back, so a run here stands for any of them."""
    plan = make_plan(load_sweep(_write(tmp_path, "config: config.yaml\nduration: 5s\n")))
    (run,) = plan.runs
    task = plan.task(run, log_format=None, log_level="warning")
    assert task.report is True
    result = run_task(task)
    assert result.error is None, result.error
    files = dict(result.files)
    assert sorted(files) == ["metrics.csv", "report.html", "results.sqlite", "summary.json"]
    assert files["report.html"].lstrip().lower().startswith(b"<!doctype html")


def test_local_and_dask_give_identical_rows_per_setting_and_seed(
    local_sweep: tuple[str, Path], dask_sweep: tuple[str, Path]
) -> None:
    """The same (setting, seed) gives the same row on either executor."""

    def keyed(out: Path) -> dict[tuple[str, str, str], dict[str, str]]:
        return {(r[BATCH], r[FACTOR], r["seed"]): r for r in _rows(out)}

    local, dask = keyed(local_sweep[1]), keyed(dask_sweep[1])
    assert len(local) == 18
    assert local == dask


def test_sweep_csv_and_svg_are_byte_identical_between_runs(
    local_sweep: tuple[str, Path], dask_sweep: tuple[str, Path]
) -> None:
    """Two sweeps of the same file (here on different executors) write the same bytes."""
    for name in ("sweep.csv", "sweep.svg"):
        assert (local_sweep[1] / name).read_bytes() == (dask_sweep[1] / name).read_bytes()


def test_no_worker_processes_are_left_behind(
    local_sweep: tuple[str, Path], dask_sweep: tuple[str, Path]
) -> None:
    """The process pool and the Dask cluster's workers have exited."""
    assert multiprocessing.active_children() == []


def test_a_run_directory_is_what_esmsim_run_writes(
    sweep_file: Path, local_sweep: tuple[str, Path], tmp_path: Path
) -> None:
    """A sweep run equals ``esmsim run`` of the overridden config with that seed."""
    doc, _ = parse_document((sweep_file.parent / "config.yaml").read_text(), "config.yaml")
    assert doc is not None
    overridden = apply(doc, [(tuple(BATCH.split(".")), 20), (tuple(FACTOR.split(".")), 2)])
    config = sweep_file.parent / "point05.yaml"
    config.write_text(yaml.safe_dump(overridden))
    out = tmp_path / "run"
    args = ["run", str(config), "--seed", "2", "--duration", "10s", "--sample-interval", "10"]
    result = runner.invoke(app, [*args, "--out", str(out), "--no-report", "--log-level", "warning"])
    assert result.exit_code == 0, result.output
    swept = local_sweep[1] / "runs" / "05-seed2"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in swept.iterdir())
    mine, theirs = (json.loads((d / "summary.json").read_text()) for d in (out, swept))
    assert mine["config"].pop("Path") != theirs["config"].pop("Path")
    assert mine == theirs
    assert (out / "metrics.csv").read_bytes() == (swept / "metrics.csv").read_bytes()
