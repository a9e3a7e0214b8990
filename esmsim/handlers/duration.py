"""How long a simulated invocation takes: the ``duration`` option of a function.

A plain handler runs while simulated time stands still, so its simulated duration has
to come from a model; an ``async def`` handler's awaited time is simulated already and
the model's draw is added on top. Accepted settings:

* a number of seconds (``0.05``), or ``{"distribution": "fixed", "seconds": 0.05}``;
* ``{"distribution": "uniform", "min": a, "max": b}``;
* ``{"distribution": "normal", "mean": m, "stddev": s}`` (draws below 0 become 0);
* ``{"distribution": "lognormal", "p50": x, "p99": y}``: the log-normal whose median is
  ``x`` and whose 99th percentile is ``y`` (mu = ln x, sigma = (ln y - ln x) / z(0.99)),
  the usual shape of service latencies;
* ``"measured"``: the host time the handler's code actually took, read with
  ``time.perf_counter``. This is the one place esmsim reads a host timer, and it makes
  runs **non-deterministic**; use it to calibrate a model, not in reproducible runs.

Default: ``DEFAULT_DURATION`` = 0.01 s. Not zero, because a zero-time function makes
every batch finish at the instant it started: concurrency never builds up, and
iterator age and throughput figures become meaningless. 10 ms is the order of a small
warm Python handler that does no I/O. Draws come from the function's own seeded
generator (``sim.seeds.rng("duration", name)``), so the same seed gives the same
durations in the same order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from statistics import NormalDist

__all__ = (
    "DEFAULT_DURATION",
    "DurationModel",
    "Fixed",
    "LogNormal",
    "Measured",
    "Normal",
    "Uniform",
    "duration_model",
)

DEFAULT_DURATION = 0.01
"""Seconds a plain handler takes when the function sets no ``duration``."""

_Z99 = NormalDist().inv_cdf(0.99)


class DurationModel:
    """A duration setting; ``draw(rng)`` gives the next invocation's seconds."""

    __slots__ = ()

    measured = False

    def draw(self, rng: random.Random) -> float:
        """Seconds for the next invocation, drawn from ``rng``."""
        raise NotImplementedError

    def describe(self) -> object:
        """The setting in the form it was given (for configuration dumps)."""
        raise NotImplementedError


class Fixed(DurationModel):
    """Always ``seconds``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def draw(self, rng: random.Random) -> float:
        return self.seconds

    def describe(self) -> object:
        return self.seconds


class Uniform(DurationModel):
    """Uniform between ``low`` and ``high``."""

    __slots__ = ("high", "low")

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def describe(self) -> object:
        return {"distribution": "uniform", "min": self.low, "max": self.high}


class Normal(DurationModel):
    """Normal with ``mean`` and ``stddev``, clipped at 0."""

    __slots__ = ("mean", "stddev")

    def __init__(self, mean: float, stddev: float) -> None:
        self.mean, self.stddev = mean, stddev

    def draw(self, rng: random.Random) -> float:
        return max(0.0, rng.gauss(self.mean, self.stddev))

    def describe(self) -> object:
        return {"distribution": "normal", "mean": self.mean, "stddev": self.stddev}


class LogNormal(DurationModel):
    """Log-normal given by its median ``p50`` and 99th percentile ``p99``."""

    __slots__ = ("mu", "p50", "p99", "sigma")

    def __init__(self, p50: float, p99: float) -> None:
        self.p50, self.p99 = p50, p99
        self.mu = math.log(p50)
        self.sigma = (math.log(p99) - math.log(p50)) / _Z99

    def draw(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma)

    def describe(self) -> object:
        return {"distribution": "lognormal", "p50": self.p50, "p99": self.p99}


class Measured(DurationModel):
    """The host time the handler's own code took (non-deterministic)."""

    __slots__ = ()

    measured = True

    def draw(self, rng: random.Random) -> float:
        return 0.0

    def describe(self) -> object:
        return "measured"


_FIELDS: dict[str, tuple[str, ...]] = {
    "fixed": ("seconds",),
    "uniform": ("min", "max"),
    "normal": ("mean", "stddev"),
    "lognormal": ("p50", "p99"),
}


def duration_model(setting: object, field: str = "duration") -> DurationModel:
    """Parse a ``duration`` setting (see the module docstring); ``None`` is the default.

    Raises:
        ValueError: with the field and what is allowed.
    """
    if setting is None:
        return Fixed(DEFAULT_DURATION)
    if setting == "measured":
        return Measured()
    if _is_number(setting):
        return Fixed(_seconds(setting, field))
    if not isinstance(setting, Mapping):
        raise ValueError(
            f"{field}: expected seconds (a number >= 0), 'measured', or a distribution such as "
            f"{{'distribution': 'lognormal', 'p50': 0.1, 'p99': 0.8}}; got {setting!r}"
        )
    kind = setting.get("distribution")
    if kind not in _FIELDS:
        raise ValueError(f"{field}.distribution: {kind!r} is not one of: {', '.join(_FIELDS)}")
    wanted = _FIELDS[kind]
    extra = sorted(str(key) for key in setting if key != "distribution" and key not in wanted)
    missing = [key for key in wanted if key not in setting]
    if extra or missing:
        problem = f"unknown key {extra[0]!r}" if extra else f"missing key {missing[0]!r}"
        raise ValueError(
            f"{field}: {problem}; a {kind} distribution takes exactly: {', '.join(wanted)}"
        )
    values = [_seconds(setting[key], f"{field}.{key}") for key in wanted]
    if kind == "fixed":
        return Fixed(values[0])
    if kind == "uniform":
        low, high = values
        if low > high:
            raise ValueError(f"{field}: min ({low}) must not exceed max ({high})")
        return Uniform(low, high)
    if kind == "normal":
        return Normal(values[0], values[1])
    p50, p99 = values
    if not 0 < p50 <= p99:
        raise ValueError(f"{field}: a lognormal needs 0 < p50 <= p99, got p50={p50}, p99={p99}")
    return LogNormal(p50, p99)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _seconds(value: object, field: str) -> float:
    if not _is_number(value):
        raise ValueError(f"{field}: expected a number of seconds, got {value!r}")
    seconds = float(value)  # type: ignore[arg-type]
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{field}: expected a finite number of seconds >= 0, got {value!r}")
    return seconds
