"""The ``Simulation:`` section: what AWS has no word for.

Keys are PascalCase like the rest of a template and become the snake_case options
of esmsim's Python API (``PoisonFraction`` -> ``poison_fraction``). Durations may be
written as text (``10s``, ``250ms``, ``48h``) wherever seconds are expected.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from ..handlers.duration import duration_model
from ..sources._dynamodb_values import normalize_item
from ..sources.producers import Producer
from ._durations import parse_duration
from ._schema import suggest

__all__ = (
    "FUNCTION_KEYS",
    "PRODUCER_KEYS",
    "SIMULATION_KEYS",
    "FunctionOverride",
    "ProducerPlan",
    "duration_setting",
    "parse_producer",
)

SIMULATION_KEYS = (
    "Seed",
    "Clock",
    "StartTime",
    "Duration",
    "Region",
    "AccountId",
    "Functions",
    "Producers",
)
FUNCTION_KEYS = ("Duration", "CodeUri")
PRODUCER_KEYS = (
    "Name",
    "Target",
    "Rate",
    "Size",
    "Keys",
    "Body",
    "Records",
    "Start",
    "Stop",
    "PoisonFraction",
)
_RATE_KEYS = ("Type", "PerSecond", "Steps", "Base", "Burst", "Every", "Duration", "Offset")
_RATE_SECONDS = ("Every", "Duration", "Offset")
_SIZE_KEYS = ("Distribution", "Bytes", "Min", "Max")
_KEYS_KEYS = ("Count", "Distribution", "Skew", "Prefix", "Names")
_RECORD_KEYS = ("At", "Body", "Key", "Data", "PartitionKey")
_TABLE_RECORD_KEYS = ("At", "Item", "Delete")
_DURATION_KEYS = {
    "Distribution": "distribution",
    "Seconds": "seconds",
    "Min": "min",
    "Max": "max",
    "Mean": "mean",
    "StdDev": "stddev",
    "Stddev": "stddev",
    "P50": "p50",
    "P99": "p99",
}
_STREAM_TARGETS = ("AWS::Kinesis::Stream", "AWS::SQS::Queue")
_TABLE_TARGET = "AWS::DynamoDB::Table"
_TARGET_TYPES = (*_STREAM_TARGETS, _TABLE_TARGET)


@dataclass
class FunctionOverride:
    """``Simulation.Functions.<LogicalId>``: simulator-only settings of one function."""

    duration: Any = None  # the handlers/duration.py setting, or None
    code_uri: str | None = None


@dataclass
class ProducerPlan:
    """One ``Simulation.Producers`` entry, checked and translated."""

    index: int
    path: str
    name: str
    target: str
    target_type: str
    spec: dict[str, Any] = field(default_factory=dict)  # sim.producer keyword arguments
    table_records: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _pascal_message(message: str) -> str:
    """``rate.per_second: ...`` -> ``Rate.PerSecond: ...`` (Producer's messages)."""
    head, sep, rest = message.partition(": ")
    if not sep or " " in head:
        return message
    parts = re.split(r"(\.|\[\d+\])", head)
    return "".join(_pascal(p) if p and p[0].isalpha() else p for p in parts) + sep + rest


def _seconds(value: Any, path: str, problems: list[str]) -> float | None:
    try:
        return parse_duration(value)
    except ValueError as exc:
        problems.append(f"{path}: {exc}")
        return None


def _unknown_keys(
    spec: dict[str, Any], allowed: tuple[str, ...], path: str, problems: list[str]
) -> None:
    problems.extend(
        f"{path}.{key}: unknown key; allowed: {', '.join(allowed)}"
        for key in spec
        if key not in allowed
    )


def duration_setting(value: Any, path: str, problems: list[str]) -> Any:
    """A function's ``Duration`` as ``handlers/duration.py`` takes it (checked)."""
    setting: Any
    if isinstance(value, dict):
        setting = {}
        for key, item in value.items():
            if key not in _DURATION_KEYS:
                problems.append(
                    f"{path}.{key}: unknown key; allowed: Distribution, Seconds, Min, Max, "
                    "Mean, StdDev, P50, P99"
                )
                continue
            if key == "Distribution":
                setting["distribution"] = str(item).lower()
                continue
            seconds = _seconds(item, f"{path}.{key}", problems)
            if seconds is None:
                return None
            setting[_DURATION_KEYS[key]] = seconds
    elif isinstance(value, str) and value.strip().lower() == "measured":
        setting = "measured"
    else:
        setting = _seconds(value, path, problems)
        if setting is None:
            return None
    try:
        duration_model(setting, path)
    except ValueError as exc:
        problems.append(str(exc))
        return None
    return setting


def _rate(value: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(value, dict):
        return value
    _unknown_keys(value, _RATE_KEYS, path, problems)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _RATE_KEYS:
            continue
        if key == "Type":
            out["type"] = str(item).lower()
        elif key in _RATE_SECONDS:
            out[_snake(key)] = _seconds(item, f"{path}.{key}", problems)
        elif key == "Steps" and isinstance(item, list):
            steps: list[Any] = []
            for i, step in enumerate(item):
                where = f"{path}.Steps[{i}]"
                if isinstance(step, dict):
                    _unknown_keys(step, ("At", "PerSecond"), where, problems)
                    step = [step.get("At"), step.get("PerSecond")]
                if isinstance(step, list) and len(step) == 2:
                    at = _seconds(step[0], f"{where}[0]", problems)
                    steps.append([at, step[1]])
                else:
                    steps.append(step)
            out["steps"] = steps
        else:
            out[_snake(key)] = item
    return out


def _lowered(value: Any, allowed: tuple[str, ...], path: str, problems: list[str]) -> Any:
    if not isinstance(value, dict):
        return value
    _unknown_keys(value, allowed, path, problems)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in allowed:
            out[_snake(key)] = str(item).lower() if key == "Distribution" else item
    return out


def parse_producer(
    index: int,
    raw: Any,
    resource_types: dict[str, str],
    key_attributes: dict[str, list[str]],
    problems: list[str],
) -> ProducerPlan | None:
    """Check one ``Simulation.Producers`` entry and translate it to ``sim.producer`` options.

    Args:
        resource_types: logical id -> resource type, for the ``Target``.
        key_attributes: table logical id -> its key attribute names (scripted items).
    """
    path = f"Simulation.Producers[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a mapping with Target and Rate or Records")
        return None
    before = len(problems)
    _unknown_keys(raw, PRODUCER_KEYS, path, problems)
    target = _target(raw.get("Target"))
    if target is None:
        problems.append(
            f"{path}.Target: must be the logical id of a Kinesis stream, SQS queue or DynamoDB "
            f"table (a name, !Ref or !GetAtt X.Arn), got {raw.get('Target')!r}"
        )
        return None
    target_type = resource_types.get(target)
    if target_type is None:
        known = [lid for lid, rtype in resource_types.items() if rtype in _TARGET_TYPES]
        problems.append(
            f"{path}.Target: {target} is not a resource in Resources{suggest(target, known)}"
        )
        return None
    name = raw.get("Name", target)
    if not isinstance(name, str) or not name:
        problems.append(f"{path}.Name: must be a non-empty string")
        name = target
    plan = ProducerPlan(index, path, name, target, target_type)
    if target_type == _TABLE_TARGET:
        problems.extend(
            f"{path}.{key}: a DynamoDB table target takes scripted Records only "
            "([{At, Item}] with Item in DynamoDB JSON)"
            for key in raw
            if key not in ("Name", "Target", "Records")
        )
        plan.table_records = _table_records(
            raw.get("Records"), f"{path}.Records", key_attributes.get(target, []), problems
        )
        return plan if len(problems) == before else None
    if target_type not in _STREAM_TARGETS:
        problems.append(
            f"{path}.Target: {target} is {target_type}; producers write to Kinesis streams, SQS "
            "queues and DynamoDB tables"
        )
        return None
    spec: dict[str, Any] = {}
    if "Rate" in raw:
        spec["rate"] = _rate(raw["Rate"], f"{path}.Rate", problems)
    if "Size" in raw:
        spec["size"] = _lowered(raw["Size"], _SIZE_KEYS, f"{path}.Size", problems)
    if "Keys" in raw:
        spec["keys"] = _lowered(raw["Keys"], _KEYS_KEYS, f"{path}.Keys", problems)
    if "Body" in raw:
        spec["body"] = raw["Body"]
        _check_template(raw["Body"], f"{path}.Body", problems)
    for key in ("Start", "Stop"):
        if key in raw and raw[key] is not None:
            spec[key.lower()] = _seconds(raw[key], f"{path}.{key}", problems)
    if "PoisonFraction" in raw:
        spec["poison_fraction"] = raw["PoisonFraction"]
    if "Records" in raw:
        spec["records"] = _records(raw["Records"], f"{path}.Records", problems)
    if len(problems) > before:
        return None
    try:
        Producer(0, random.Random(0), **spec)
    except (ValueError, TypeError) as exc:
        problems.append(f"{path}.{_pascal_message(str(exc))}")
        return None
    plan.spec = spec
    return plan


_PLACEHOLDERS = ("n", "key", "time", "poison", "pad")


def _check_template(body: Any, path: str, problems: list[str]) -> None:
    """A body template renders with the producer's placeholders (``{{`` for a brace)."""
    if not isinstance(body, str):
        problems.append(f"{path}: must be a template string")
        return
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
        unknown = sorted(name for name in fields if name not in _PLACEHOLDERS)
        if not unknown:
            body.format(n=0, key="k", time="2026-01-01T00:00:00.000Z", poison="false", pad="")
    except (ValueError, IndexError, KeyError) as exc:
        problems.append(f"{path}: not a valid template ({exc}); write {{{{ and }}}} for braces")
        return
    if unknown:
        problems.append(
            f"{path}: unknown placeholder {{{unknown[0]}}}; use {{n}}, {{key}}, {{time}}, "
            "{poison}, {pad}, and {{ }} for literal braces (JSON bodies: "
            "'{{\"n\": {n}}}')"
        )


def _target(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value.split(".", 1)[0]
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt":
            if isinstance(arg, str):
                return arg.split(".", 1)[0]
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                return arg[0]
    return None


def _records(value: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(value, list):
        problems.append(f"{path}: must be a list of {{At, Body, Key}}")
        return []
    out: list[Any] = []
    for i, record in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(record, dict):
            problems.append(f"{where}: must be a mapping with At, Body and Key")
            continue
        _unknown_keys(record, _RECORD_KEYS, where, problems)
        item: dict[str, Any] = {}
        for key, val in record.items():
            if key == "At":
                item["at"] = _seconds(val, f"{where}.At", problems)
            elif key in _RECORD_KEYS:
                item[_snake(key)] = val
        out.append(item)
    return out


def _table_records(
    value: Any, path: str, keys: list[str], problems: list[str]
) -> list[tuple[float, str, dict[str, Any]]]:
    """``[(at, "put" | "delete", Item or Key)]`` from ``[{At, Item}]`` / ``[{At, Delete}]``."""
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: a table target needs a list of {{At, Item}} writes")
        return []
    out: list[tuple[float, str, dict[str, Any]]] = []
    for i, record in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(record, dict):
            problems.append(f"{where}: must be a mapping with At and Item (or Delete)")
            continue
        _unknown_keys(record, _TABLE_RECORD_KEYS, where, problems)
        at = _seconds(record.get("At", 0), f"{where}.At", problems)
        if ("Item" in record) == ("Delete" in record):
            problems.append(f"{where}: give either Item (a put) or Delete (the key to delete)")
            continue
        op, field_name = ("put", "Item") if "Item" in record else ("delete", "Delete")
        item = record[field_name]
        try:
            normalize_item(item, f"{where}.{field_name}")
        except Exception as exc:  # ValidationException: the message names the attribute
            problems.append(str(exc))
            continue
        assert isinstance(item, dict)
        missing = [name for name in keys if name not in item]
        if missing:
            problems.append(f"{where}.{field_name}: missing the key attribute {missing[0]}")
            continue
        if op == "delete" and set(item) - set(keys):
            problems.append(f"{where}.Delete: holds only the key attributes ({', '.join(keys)})")
            continue
        if at is not None:
            out.append((at, op, item))
    return out
