"""Load a config file into a ``RunConfig``, reporting every problem at once.

Each problem names its path (``Simulation.Duration: ...``) so a user can fix
a whole file in one pass. AWS resource types arrive with their issues; until a
type is modelled, naming it is reported as a problem rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ._durations import parse_duration
from ._yaml import load_yaml

__all__ = ("ConfigError", "RunConfig", "load_config")

_TOP_LEVEL = ("AWSTemplateFormatVersion", "Transform", "Description", "Resources", "Simulation")
_SIMULATION_KEYS = ("Seed", "Clock", "StartTime", "Duration")
_DEFAULT_DURATION = 3600.0


class ConfigError(Exception):
    """Raised when a config file has problems; ``problems`` lists each one with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RunConfig:
    """What a config file asks for."""

    path: Path
    seed: int = 0
    clock: str = "virtual"
    start_time: datetime | None = None
    duration: float = _DEFAULT_DURATION
    resources: dict[str, Any] = field(default_factory=dict)


def load_config(path: str | Path) -> RunConfig:
    """Read and check ``path``.

    Raises:
        ConfigError: every problem found, each with the path of its field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror})"]) from None
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(
            [f"{path}: the top level must be a mapping with Resources and Simulation"]
        )
    problems: list[str] = []
    problems.extend(
        f"{key}: unknown top-level key; allowed: {', '.join(_TOP_LEVEL)}"
        for key in doc
        if key not in _TOP_LEVEL
    )
    sim = doc.get("Simulation") or {}
    if not isinstance(sim, dict):
        problems.append("Simulation: must be a mapping")
        sim = {}
    problems.extend(
        f"Simulation.{key}: unknown key; allowed: {', '.join(_SIMULATION_KEYS)}"
        for key in sim
        if key not in _SIMULATION_KEYS
    )
    seed = sim.get("Seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(f"Simulation.Seed: must be an integer, got {seed!r}")
        seed = 0
    clock = sim.get("Clock", "virtual")
    if clock not in ("virtual", "wall"):
        problems.append(f"Simulation.Clock: must be one of virtual, wall; got {clock!r}")
    start_time = _start_time(sim.get("StartTime"), problems)
    duration = _DEFAULT_DURATION
    if "Duration" in sim:
        try:
            duration = parse_duration(sim["Duration"])
        except ValueError as exc:
            problems.append(f"Simulation.Duration: {exc}")
    resources = doc.get("Resources") or {}
    if not isinstance(resources, dict):
        problems.append("Resources: must be a mapping of logical ids to resources")
        resources = {}
    for logical_id, resource in resources.items():
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        problems.append(
            f"Resources.{logical_id}.Type: {rtype!r} is not modelled by this version of esmsim"
        )
    if problems:
        raise ConfigError(problems)
    return RunConfig(
        path=path,
        seed=seed,
        clock=clock,
        start_time=start_time,
        duration=duration,
        resources=resources,
    )


def _start_time(value: Any, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    problems.append(
        "Simulation.StartTime: must be an ISO-8601 date-time such as "
        f"2026-01-01T00:00:00Z, got {value!r}"
    )
    return None
