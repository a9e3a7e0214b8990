"""A function's properties, checked as CloudFormation and Lambda check them.

``sim.function(name, handler, **properties)`` takes ``AWS::Lambda::Function``
properties spelled as CloudFormation spells them, plus esmsim's own options in
snake_case. Anything else is a ``TypeError`` that names the allowed keywords; values
outside Lambda's ranges raise ``InvalidParameterValueException`` with Lambda's wording.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core import InvalidParameterValueException
from .duration import DurationModel, duration_model
from .environment import validate_environment

__all__ = (
    "IGNORED_PROPERTIES",
    "PROPERTIES",
    "FunctionProperties",
    "validate_name",
    "validate_properties",
    "validate_reserved",
)

PROPERTIES = (
    "Timeout",
    "MemorySize",
    "ReservedConcurrentExecutions",
    "Environment",
    "Role",
    "Runtime",
    "duration",
    "code_dir",
)
"""Keywords ``sim.function`` models."""

IGNORED_PROPERTIES = (
    "Architectures",
    "Code",
    "DeadLetterConfig",
    "Description",
    "EphemeralStorage",
    "KmsKeyArn",
    "Layers",
    "LoggingConfig",
    "PackageType",
    "Tags",
    "TracingConfig",
    "VpcConfig",
)
"""``AWS::Lambda::Function`` properties accepted (so templates paste unchanged) but
without effect on the simulation."""

_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_RUNTIME = re.compile(r"python3\.\d+")


@dataclass(frozen=True, slots=True)
class FunctionProperties:
    """Validated properties with defaults filled in."""

    timeout: int
    memory_size: int
    reserved: int | None
    variables: dict[str, str]
    role: str | None
    runtime: str
    duration: DurationModel
    code_dir: Path | None
    ignored: dict[str, Any]


def validate_name(name: object) -> str:
    """A function name: 1-64 characters of letters, digits, ``-`` and ``_``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ "
            "and have length between 1 and 64"
        )
    return name


def validate_reserved(value: object) -> int:
    """A ``ReservedConcurrentExecutions`` value: an integer >= 0."""
    return _integer(value, "ReservedConcurrentExecutions", "reservedConcurrentExecutions", 0, None)


def validate_properties(properties: Mapping[str, Any]) -> FunctionProperties:
    """Check ``properties`` and fill in Lambda's defaults.

    Raises:
        TypeError: an unknown keyword (the message lists the allowed ones).
        InvalidParameterValueException: a value Lambda would reject.
        ValueError: a bad esmsim option (``duration``, ``code_dir``).
    """
    for key in properties:
        if key not in PROPERTIES and key not in IGNORED_PROPERTIES:
            raise TypeError(
                f"function() got an unexpected keyword argument {key!r}; allowed: "
                f"{', '.join(PROPERTIES)} (and, without effect: {', '.join(IGNORED_PROPERTIES)})"
            )
    timeout = _integer(properties.get("Timeout", 3), "Timeout", "timeout", 1, 900)
    memory = _integer(properties.get("MemorySize", 128), "MemorySize", "memorySize", 128, 10240)
    reserved_value = properties.get("ReservedConcurrentExecutions")
    reserved = None if reserved_value is None else validate_reserved(reserved_value)
    role = properties.get("Role")
    if role is not None and (not isinstance(role, str) or not _ROLE.fullmatch(role)):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: "
            r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
        )
    runtime = properties.get("Runtime") or f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if not isinstance(runtime, str) or not _RUNTIME.fullmatch(runtime):
        raise InvalidParameterValueException(
            f"Runtime: esmsim runs Python handlers only (python3.x), got {runtime!r}"
        )
    code_dir_value = properties.get("code_dir")
    code_dir = None
    if code_dir_value is not None:
        if not isinstance(code_dir_value, str | os.PathLike):
            raise ValueError(f"code_dir: expected a folder path, got {code_dir_value!r}")
        code_dir = Path(code_dir_value).resolve()
        if not code_dir.is_dir():
            raise ValueError(f"code_dir: {str(code_dir)!r} is not a directory")
    return FunctionProperties(
        timeout=timeout,
        memory_size=memory,
        reserved=reserved,
        variables=validate_environment(properties.get("Environment")),
        role=role,
        runtime=runtime,
        duration=duration_model(properties.get("duration")),
        code_dir=code_dir,
        ignored={key: properties[key] for key in IGNORED_PROPERTIES if key in properties},
    )


def _integer(value: object, field: str, wire: str, low: int, high: int | None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValueException(
            f"{field}: expected an integer, got {type(value).__name__} {value!r}"
        )
    if value < low:
        bound = f"greater than or equal to {low}"
    elif high is not None and value > high:
        bound = f"less than or equal to {high}"
    else:
        return value
    allowed = f"{low}..{high}" if high is not None else f">= {low}"
    raise InvalidParameterValueException(
        f"{field}: 1 validation error detected: Value '{value}' at '{wire}' failed to satisfy "
        f"constraint: Member must have value {bound} (allowed: {allowed})"
    )
