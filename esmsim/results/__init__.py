"""Run results: a ``Recorder`` that observes a simulation and writes the run directory.

``results.sqlite`` (write-behind through the clock's quiescence barrier),
``summary.json``, ``metrics.csv`` and a self-contained ``report.html``. The
results layer never drives the simulation.
"""

from ._histogram import Histogram as Histogram
from ._outputs import conservation_line as conservation_line
from ._outputs import read_summary as read_summary
from ._recorder import Recorder as Recorder
from ._report import PLOTS as PLOTS
from ._report import render_report as render_report
from ._report import write_report as write_report
from ._store import SCHEMA as SCHEMA

__all__ = (
    "PLOTS",
    "SCHEMA",
    "Histogram",
    "Recorder",
    "conservation_line",
    "read_summary",
    "render_report",
    "write_report",
)
