"""The ``esmsim`` command line (one module per command).

Exit codes: 0 success, 2 invalid input (every problem printed, with its
path), 1 anything else. Logs go to stderr (console on a TTY, JSON otherwise or
with ``--log-format json``); results go to stdout.
"""

from . import _events as _events
from . import _report as _report
from . import _run as _run
from . import _sweep as _sweep
from . import _validate as _validate
from ._app import app as app
from ._app import main as main

__all__ = ("app", "main")
