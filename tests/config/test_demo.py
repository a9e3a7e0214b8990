"""The repository's demo config.yaml validates and builds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from esmsim import Simulation
from esmsim.cli import app
from esmsim.config import load_config

DEMO = Path(__file__).resolve().parents[2] / "config.yaml"


def test_demo_config_validates() -> None:
    """esmsim validate config.yaml exits 0."""
    result = CliRunner().invoke(app, ["validate", str(DEMO)])
    assert result.exit_code == 0, result.output


def test_demo_config_builds_the_order_pipeline() -> None:
    """The demo builds its stream, table, queues, four functions, four mappings, three producers."""
    cfg = load_config(DEMO)
    assert cfg.duration == 48 * 3600
    with Simulation(seed=cfg.seed, start_time=cfg.start_time) as sim:
        built = cfg.build(sim)
        assert sorted(built.mappings) == [
            "AnalyticsMapping",
            "AuditFunctionTableChanges",
            "OrdersFunctionOrderStream",
            "WorkerFunctionJobs",
        ]
        assert sorted(built.producers) == ["Jobs", "OrderChanges", "Orders"]
        assert len(built.streams["OrderStream"].list_shards()["Shards"]) == 4
        json.dumps(built.echo())


def test_demo_first_hours_show_bisect_and_dlq_moves() -> None:
    """Within 8 simulated hours poison orders reach the OnFailure queue and jobs the DLQ."""
    cfg = load_config(DEMO)
    with Simulation(seed=cfg.seed, start_time=cfg.start_time) as sim:
        built = cfg.build(sim)
        sim.run_sync(8 * 3600)
        assert built.mappings["OrdersFunctionOrderStream"].ledger["discarded"] > 0
        assert built.queues["StreamFailures"].messages()
        assert built.mappings["WorkerFunctionJobs"].ledger["dead_lettered"] > 0
        assert built.queues["JobsDLQ"].messages()
