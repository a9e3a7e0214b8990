"""The worker side of a sweep: one run per call, in whatever process runs it.

``run_task`` is a plain module-level function taking and returning plain
dataclasses, so ``concurrent.futures`` and Dask both pickle it by reference; the
worker needs esmsim installed (the same version) and nothing else from the client.

What a worker needs from the client's filesystem: the task carries the config's
*text* and the grid point's overrides, so only the config's folder (its handler
code folders, ``CodeUri``) must exist on the worker at the same absolute path;
with built-in handlers (``esmsim.handlers.builtin.*``) that is just the folder.
The run directory is written to a temporary folder on the worker and comes back
as bytes, so workers need no access to the client's output directory.
"""

from __future__ import annotations

import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._paths import Segment

__all__ = ("RunResult", "RunTask", "run_task")


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs, picklable."""

    run_id: str
    config_path: str
    config_text: str
    overrides: tuple[tuple[tuple[Segment, ...], Any], ...]
    seed: int
    seconds: float
    sample_interval: float
    log_format: str | None
    log_level: str
    report: bool = True


@dataclass(frozen=True)
class RunResult:
    """A finished run: its summary and run-directory files, or why it failed.

    A failure comes back as text rather than as a raised exception, because an
    exception has to unpickle on the client and not every one does.
    """

    run_id: str
    summary: dict[str, Any] | None
    files: tuple[tuple[str, bytes], ...]
    error: str | None = None


def run_task(task: RunTask) -> RunResult:
    """Run one (setting, seed) exactly as ``esmsim run --seed S --duration D --out DIR``
    would run the overridden config (with ``--no-report`` when ``task.report`` is
    False), and return what it wrote."""
    try:
        return _run(task)
    except Exception as exc:  # reported per run; the sweep goes on with the others
        detail = "".join(traceback.format_exception(exc)).rstrip()
        return RunResult(task.run_id, None, (), f"{type(exc).__name__}: {exc}\n{detail}")


def _run(task: RunTask) -> RunResult:
    from .._core._logging import configure as configure_logging
    from ..cli._run import run_config
    from ._configs import apply, load_point, parse_document

    # Each process configures its own logging: spawned workers inherit none of it.
    fmt: Literal["console", "json"] | None = None
    if task.log_format == "console":
        fmt = "console"
    elif task.log_format == "json":
        fmt = "json"
    configure_logging(level=task.log_level, format=fmt)
    path = Path(task.config_path)
    doc, problems = parse_document(task.config_text, task.config_path)
    if doc is None:
        raise ValueError("; ".join(problems))
    cfg = load_point(path, apply(doc, task.overrides))
    with tempfile.TemporaryDirectory(prefix="esmsim-sweep-") as tmp:
        out_dir = Path(tmp) / task.run_id
        summary = run_config(
            cfg,
            seed=task.seed,
            seconds=task.seconds,
            out_dir=out_dir,
            sample_interval=task.sample_interval,
            report=task.report,
        )
        files = tuple(
            (item.name, item.read_bytes()) for item in sorted(out_dir.iterdir()) if item.is_file()
        )
    return RunResult(task.run_id, summary, files)
