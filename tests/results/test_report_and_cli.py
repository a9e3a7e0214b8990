"""report.html in headless Chromium; ``esmsim run`` and ``esmsim report``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esmsim.cli import app
from esmsim.results import PLOTS

from .conftest import run_small

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium_without_errors(tmp_path: Path) -> None:
    """The page loads from disk, logs no console error, and every plot is in the DOM."""
    run_small(tmp_path / "run", shards=2)
    page = tmp_path / "run" / "report.html"
    text = page.read_text()
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in text and "<link" not in text
    assert "src=" not in text and "@import" not in text
    browser = _chromium()
    assert browser is not None
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    dom = proc.stdout
    for plot_id, _ in PLOTS:
        start = dom.index(f'id="plot-{plot_id}"')
        assert "<svg" in dom[start : start + 5000], plot_id
    assert "conservation:" in dom


def test_cli_run_prints_the_table_and_conservation_and_writes_the_run(tmp_path: Path) -> None:
    """``esmsim run`` exits 0, prints a row per mapping and the conservation line."""
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["run", str(ROOT / "config.yaml"), "--duration", "10m", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "conservation:" in result.output and "OK" in result.output
    summary = json.loads((out / "summary.json").read_text())
    for mapping in summary["mappings"].values():
        assert str(mapping["name"]) in result.output
    for name in ("results.sqlite", "summary.json", "metrics.csv", "report.html"):
        assert (out / name).is_file(), name
    # Re-rendering from the run directory prints the same summary.
    again = runner.invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output
    assert "conservation:" in again.output


def test_cli_run_is_reproducible_from_a_config(tmp_path: Path) -> None:
    """The same config and seed write byte-identical summary.json and metrics.csv."""
    for name in ("a", "b"):
        result = runner.invoke(
            app,
            ["run", str(ROOT / "config.yaml"), "--duration", "5m", "--out", str(tmp_path / name)],
        )
        assert result.exit_code == 0, result.output
    for name in ("summary.json", "metrics.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_run_invalid_config_exits_2(tmp_path: Path) -> None:
    """An invalid config exits 2 with its problems and writes nothing."""
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("Simulation: {Seed: x}\nResources: {Q: {Type: AWS::Nope::Thing}}\n")
    result = runner.invoke(app, ["run", str(cfg), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Simulation.Seed" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_report_on_a_missing_run_exits_2(tmp_path: Path) -> None:
    """``esmsim report`` on a folder without results exits 2 naming the files."""
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "summary.json" in result.output
