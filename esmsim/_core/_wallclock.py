"""The only place in esmsim that reads the host clock.

Wall mode needs to know what time it is on the host once, at the start of a
simulation; after that every component reads the event loop's clock through
``Clock``. Keeping the host-clock reads in this one module lets the ruff
banned-API rule cover the rest of the package.
"""

from __future__ import annotations

import time

__all__ = ("host_epoch_seconds",)


def host_epoch_seconds() -> float:
    """The host's current Unix time in seconds."""
    return time.time()
