"""The ``esmsim`` command line: help, version, run, validate, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import esmsim
from esmsim.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_version_prints_the_package_version() -> None:
    """``esmsim --version`` prints the installed version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"esmsim {esmsim.__version__}"


def test_help_lists_the_commands() -> None:
    """``esmsim --help`` lists run and validate."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "run" in result.output and "validate" in result.output


def test_python_dash_m_esmsim_works() -> None:
    """``python -m esmsim --version`` runs the same CLI."""
    out = subprocess.run(
        [sys.executable, "-m", "esmsim", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("esmsim ")


def test_run_the_demo_config_exits_zero(tmp_path: Path) -> None:
    """``esmsim run config.yaml`` runs the demo for its duration and exits 0."""
    result = runner.invoke(
        app, ["run", str(ROOT / "config.yaml"), "--duration", "2h", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "simulated   7200.000 s" in result.output
    assert "conservation:" in result.output


def test_run_logs_json_lines_with_simulated_time(tmp_path: Path) -> None:
    """``--log-format json`` writes one JSON object per line to stderr, each with sim_time."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("Simulation: {Seed: 1, Duration: 60, StartTime: '2024-01-01T00:00:00Z'}\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "esmsim",
            "run",
            str(cfg),
            "--log-format",
            "json",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in out.stderr.splitlines() if line.strip()]
    assert [line["event"] for line in lines] == ["run.start", "run.complete", "results.written"]
    assert lines[-1]["sim_time"] == "2024-01-01T00:01:00.000Z"
    assert all("sim_time" in line for line in lines)


def test_run_no_report_leaves_out_report_html(tmp_path: Path) -> None:
    """``--no-report`` writes the run directory without drawing report.html."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("Simulation: {Seed: 1, Duration: 60}\n")
    result = runner.invoke(app, ["run", str(cfg), "--no-report", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["metrics.csv", "results.sqlite", "summary.json"]


def test_validate_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    """``esmsim validate`` prints each problem with its field path and exits 2."""
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("Simulation: {Seed: x, Duration: forever, Colour: red}\nExtra: 1\n")
    result = runner.invoke(app, ["validate", str(cfg)])
    assert result.exit_code == 2
    assert "Simulation.Seed: must be an integer" in result.output
    assert "Simulation.Duration:" in result.output
    assert "Simulation.Colour: unknown key" in result.output
    assert "Extra: unknown top-level key" in result.output


def test_validate_accepts_a_good_config() -> None:
    """A valid config validates with exit 0."""
    result = runner.invoke(app, ["validate", str(ROOT / "config.yaml")])
    assert result.exit_code == 0


def test_bad_options_exit_2_with_the_option_named(tmp_path: Path) -> None:
    """Invalid ``--duration`` and ``--clock`` values exit 2 naming the option."""
    out = ["--out", str(tmp_path / "run")]
    result = runner.invoke(app, ["run", str(ROOT / "config.yaml"), "--duration", "soon", *out])
    assert result.exit_code == 2
    assert "--duration" in result.output
    result = runner.invoke(app, ["run", str(ROOT / "config.yaml"), "--clock", "fast", *out])
    assert result.exit_code == 2
    assert "--clock" in result.output


def test_a_missing_config_is_invalid_input(tmp_path: Path) -> None:
    """A config file that cannot be read exits 2 with its path."""
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output
