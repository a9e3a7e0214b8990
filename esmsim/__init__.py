"""esmsim: AWS Lambda event source mappings, simulated on a virtual clock.

``esmsim/_core/`` is the kernel (virtual-time loop, clock, seeds, errors);
``sources/``, ``pollers/`` and ``handlers/`` model the services, the event
source mappings and the functions; ``results/`` turns facts into reports.
This module pulls together the friendly public API.
"""

from importlib import metadata as _metadata

from ._core import Clock as Clock
from ._core import EsmsimError as EsmsimError
from ._core import InvalidParameterValueException as InvalidParameterValueException
from ._core import ResourceConflictException as ResourceConflictException
from ._core import ResourceNotFoundException as ResourceNotFoundException
from ._core import SimulationClosed as SimulationClosed
from ._core import SimulationStalled as SimulationStalled
from ._core import VirtualTimeLoop as VirtualTimeLoop
from ._core._logging import configure as configure_logging
from .simulation import Simulation as Simulation

try:
    __version__ = _metadata.version("esmsim")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

__all__ = (
    "Clock",
    "EsmsimError",
    "InvalidParameterValueException",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "Simulation",
    "SimulationClosed",
    "SimulationStalled",
    "VirtualTimeLoop",
    "__version__",
    "configure_logging",
)
