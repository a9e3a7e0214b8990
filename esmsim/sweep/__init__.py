"""Sweeps: one config run under a grid of overrides and several seeds (``esmsim sweep``).

A sweep file::

    config: config.yaml                # relative to the sweep file
    duration: 2h                       # optional; default: each config's Duration
    seeds: [1, 2]                      # optional; default: the config's Seed
    grid:                              # dotted paths into the config, as esmsim validate
      Resources.OrdersMapping.Properties.BatchSize: [10, 100, 500]
      Resources.OrdersMapping.Properties.ParallelizationFactor: [1, 2, 10]
    metric: max(mappings.*.percentiles.iterator_age_ms.p99)   # see _metrics
    metrics: [sum(mappings.*.errors)]  # optional extra columns
    sample_interval: 60s               # optional, as esmsim run --sample-interval
    reports: false                     # optional (default true): no report.html per run

``load_sweep`` checks the file, ``make_plan`` checks the config and every grid
point (each through the config loader's own checks) and lists the runs;
``run_local`` / ``run_dask`` execute them; ``make_row`` / ``write_csv`` /
``write_svg`` make the table and the plot.

``reports: false`` leaves ``report.html`` out of each run directory, as ``esmsim run
--no-report`` does: drawing its plots is most of a short run's cost. The table, the
plot and the rest of each run directory are unchanged, and ``esmsim report
DIR/runs/<run id>`` draws a run's report later.
"""

from ._executors import DaskMissing as DaskMissing
from ._executors import SchedulerUnreachable as SchedulerUnreachable
from ._executors import default_workers as default_workers
from ._executors import run_dask as run_dask
from ._executors import run_local as run_local
from ._metrics import DEFAULT_METRIC as DEFAULT_METRIC
from ._metrics import MetricError as MetricError
from ._metrics import evaluate as evaluate
from ._metrics import parse_metric as parse_metric
from ._plan import Plan as Plan
from ._plan import Point as Point
from ._plan import Run as Run
from ._plan import expand as expand
from ._plan import make_plan as make_plan
from ._plot import write_svg as write_svg
from ._spec import SweepError as SweepError
from ._spec import SweepSpec as SweepSpec
from ._spec import load_sweep as load_sweep
from ._table import Row as Row
from ._table import make_row as make_row
from ._table import write_csv as write_csv
from ._worker import RunResult as RunResult
from ._worker import RunTask as RunTask
from ._worker import run_task as run_task

__all__ = (
    "DEFAULT_METRIC",
    "DaskMissing",
    "MetricError",
    "Plan",
    "Point",
    "Row",
    "Run",
    "RunResult",
    "RunTask",
    "SchedulerUnreachable",
    "SweepError",
    "SweepSpec",
    "default_workers",
    "evaluate",
    "expand",
    "load_sweep",
    "make_plan",
    "make_row",
    "parse_metric",
    "run_dask",
    "run_local",
    "run_task",
    "write_csv",
    "write_svg",
)
