"""The simulation kernel: clock, virtual-time loop, seeds and ids, errors, logs.

Nothing in here knows about AWS. Everything above it (sources, pollers,
handlers, results) reads time only through ``Clock`` and draws randomness
only from ``Seeds``.
"""

from ._clock import Clock as Clock
from ._clock import ClockMode as ClockMode
from ._clock import format_iso_ms as format_iso_ms
from ._clock import format_iso_s as format_iso_s
from ._exceptions import AwsServiceError as AwsServiceError
from ._exceptions import EsmsimError as EsmsimError
from ._exceptions import InvalidParameterValueException as InvalidParameterValueException
from ._exceptions import ResourceConflictException as ResourceConflictException
from ._exceptions import ResourceNotFoundException as ResourceNotFoundException
from ._exceptions import SimulationClosed as SimulationClosed
from ._exceptions import SimulationStalled as SimulationStalled
from ._ids import IdFactory as IdFactory
from ._ids import Seeds as Seeds
from ._kernel import Kernel as Kernel
from ._logging import get_logger as get_logger
from ._loop import VirtualTimeLoop as VirtualTimeLoop
from ._signal import Signal as Signal
from ._signal import wait_any as wait_any
