"""Built-in handlers for experiments, configured through environment variables.

Name them as handler strings, so they work from ``config.yaml`` without writing code::

    Handler: esmsim.handlers.builtin.poison
    Environment:
      Variables:
        ESMSIM_POISON_FIELD: order.status
        ESMSIM_POISON_VALUE: broken
        ESMSIM_FAILURE_MODE: partial

Handlers (each reads the variables below; the defaults differ):

``succeed``
    Returns ``None``: every batch succeeds.
``fail``
    Fails whole invocations: ``ESMSIM_FAIL_RATE`` (default 1, i.e. always) of them raise.
    With ``ESMSIM_FAIL_SCOPE=record`` it fails that fraction of records instead.
``poison``
    Fails the records whose payload matches ``ESMSIM_POISON_FIELD`` /
    ``ESMSIM_POISON_VALUE`` (required), by raising (default) or, with
    ``ESMSIM_FAILURE_MODE=partial``, by reporting them as ``batchItemFailures``.
``partial``
    Like ``poison`` and record-scope ``fail`` together, but reports failed records as
    ``batchItemFailures`` instead of raising (default ``ESMSIM_FAIL_RATE`` 0), and
    returns ``{"batchItemFailures": []}`` when nothing failed.
``slow`` (``async def``)
    Sleeps ``ESMSIM_SLEEP`` simulated seconds (a number, or a duration distribution as
    JSON such as ``{"distribution": "uniform", "min": 0.1, "max": 2}``; default 1), then
    applies the same failure rules as ``partial`` but raising by default (so with no
    other variable it simply succeeds).

Variables:

``ESMSIM_FAIL_RATE``
    Fraction 0..1 of invocations (scope ``invocation``) or of records (scope
    ``record``) that fail. Draws come from the function's seeded generator
    (``handler_rng("builtin")``), so the same seed fails the same ones.
``ESMSIM_FAIL_SCOPE``
    ``invocation`` or ``record``.
``ESMSIM_FAILURE_MODE``
    ``raise`` (a function error: the whole batch fails) or ``partial`` (a partial batch
    response naming the failed records; for SQS FIFO every record after the first
    failure is reported too, as Lambda's FIFO guidance asks).
``ESMSIM_POISON_FIELD``
    A dotted path (``order.items.0.sku``) into the record's payload: the SQS ``body``,
    the base64-decoded Kinesis ``data`` (JSON-decoded when it is JSON), or the DynamoDB
    ``NewImage`` (else ``OldImage``, else ``Keys``) as plain values. Empty or unset:
    the whole payload.
``ESMSIM_POISON_VALUE``
    The value that marks a poison record, compared as text: strings as they are, other
    JSON values as JSON (``42``, ``true``). A quoted JSON string (``"42"``) means the
    string.
``ESMSIM_SLEEP``
    ``slow``'s sleep, as above.

The failures raise ``InjectedFailure``; its message names the failed records.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from collections.abc import Mapping
from typing import Any, Final

import anyio

from .duration import DurationModel, duration_model
from .runtime import handler_rng

__all__ = ("InjectedFailure", "fail", "partial", "poison", "slow", "succeed")


class InjectedFailure(Exception):
    """The error a built-in handler raises to fail an invocation on purpose."""


_MISSING: Final = object()

# Defaults per handler: (fail rate, scope, failure mode, poison required).
_FAIL = (1.0, "invocation", "raise", False)
_POISON = (0.0, "record", "raise", True)
_PARTIAL = (0.0, "record", "partial", False)
_SLOW = (0.0, "record", "raise", False)


def succeed(event: Any, context: Any) -> None:
    """Succeed without looking at the event."""
    return None


def fail(event: Any, context: Any) -> Any:
    """Fail ``ESMSIM_FAIL_RATE`` (default all) of the invocations (or records)."""
    return _apply(event, _FAIL)


def poison(event: Any, context: Any) -> Any:
    """Fail the records matching ``ESMSIM_POISON_FIELD`` == ``ESMSIM_POISON_VALUE``."""
    return _apply(event, _POISON)


def partial(event: Any, context: Any) -> Any:
    """Report failed records (poison or ``ESMSIM_FAIL_RATE``) as ``batchItemFailures``."""
    return _apply(event, _PARTIAL)


async def slow(event: Any, context: Any) -> Any:
    """Sleep ``ESMSIM_SLEEP`` simulated seconds, then apply the failure rules."""
    model = _sleep_model(os.environ.get("ESMSIM_SLEEP", "1"))
    seconds = model.draw(handler_rng("builtin-sleep"))
    if seconds > 0:
        await anyio.sleep(seconds)
    return _apply(event, _SLOW)


def _apply(event: Any, defaults: tuple[float, str, str, bool]) -> Any:
    default_rate, default_scope, default_mode, poison_required = defaults
    environ = os.environ
    rate = _rate(environ.get("ESMSIM_FAIL_RATE"), default_rate)
    scope = _choice(environ.get("ESMSIM_FAIL_SCOPE"), default_scope, "ESMSIM_FAIL_SCOPE")
    mode = _choice(environ.get("ESMSIM_FAILURE_MODE"), default_mode, "ESMSIM_FAILURE_MODE")
    expected = environ.get("ESMSIM_POISON_VALUE")
    field = environ.get("ESMSIM_POISON_FIELD", "")
    if poison_required and expected is None:
        raise ValueError("ESMSIM_POISON_VALUE is not set: nothing marks a record as poison")
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        records = []
    rng = handler_rng("builtin")
    if scope == "invocation" and rate > 0 and rng.random() < rate:
        raise InjectedFailure(f"injected failure of the whole invocation (rate {rate})")
    wanted = None if expected is None else _expected_text(expected)
    path = [part for part in field.split(".") if part]
    failed: list[Any] = []
    for record in records:
        hit = wanted is not None and _matches(_payload(record), path, wanted)
        if not hit and scope == "record" and rate > 0:
            hit = rng.random() < rate
        if hit:
            failed.append(record)
    if mode == "partial":
        return {"batchItemFailures": [{"itemIdentifier": i} for i in _failed_ids(records, failed)]}
    if failed:
        ids = _failed_ids(records, failed)
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise InjectedFailure(f"{len(failed)} of {len(records)} records failed: {shown}")
    return None


def _rate(raw: str | None, default: float) -> float:
    if raw is None or not raw.strip():
        return default
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"ESMSIM_FAIL_RATE: {raw!r} is not a number between 0 and 1") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"ESMSIM_FAIL_RATE: {raw!r} is not a number between 0 and 1")
    return rate


_CHOICES = {
    "ESMSIM_FAIL_SCOPE": ("invocation", "record"),
    "ESMSIM_FAILURE_MODE": ("raise", "partial"),
}


def _choice(raw: str | None, default: str, name: str) -> str:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value not in _CHOICES[name]:
        raise ValueError(f"{name}: {raw!r} is not one of: {', '.join(_CHOICES[name])}")
    return value


@functools.lru_cache(maxsize=64)
def _sleep_model(raw: str) -> DurationModel:
    text = raw.strip()
    try:
        setting: object = json.loads(text)
    except ValueError:
        setting = text
    return duration_model(setting, "ESMSIM_SLEEP")


def _expected_text(raw: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw.strip()


def _item_id(record: Any) -> str:
    source = record.get("eventSource")
    if source == "aws:sqs":
        return str(record["messageId"])
    if source == "aws:kinesis":
        return str(record["kinesis"]["sequenceNumber"])
    if source == "aws:dynamodb":
        return str(record["dynamodb"]["SequenceNumber"])
    raise ValueError(f"cannot report a failure for a record from {source!r}")


def _failed_ids(records: list[Any], failed: list[Any]) -> list[str]:
    if not failed:
        return []
    first = failed[0]
    if first.get("eventSource") == "aws:sqs" and "MessageGroupId" in (
        first.get("attributes") or {}
    ):
        # FIFO: report the first failure and everything after it, in order.
        start = next(index for index, record in enumerate(records) if record is first)
        return [_item_id(record) for record in records[start:]]
    return [_item_id(record) for record in failed]


def _payload(record: Any) -> Any:
    source = record.get("eventSource") if isinstance(record, Mapping) else None
    if source == "aws:sqs":
        return _maybe_json(record.get("body", ""))
    if source == "aws:kinesis":
        try:
            raw = base64.b64decode(record["kinesis"]["data"], validate=True)
            return _maybe_json(raw.decode("utf-8"))
        except (KeyError, binascii.Error, UnicodeDecodeError):
            return _MISSING
    if source == "aws:dynamodb":
        change = record.get("dynamodb") or {}
        image = change.get("NewImage") or change.get("OldImage") or change.get("Keys")
        return _MISSING if image is None else {k: _plain(v) for k, v in image.items()}
    return _MISSING


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _plain(attribute: Any) -> Any:
    """A DynamoDB-JSON attribute value as a plain value."""
    if not isinstance(attribute, Mapping) or len(attribute) != 1:
        return attribute
    ((kind, value),) = attribute.items()
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if kind == "M":
        return {k: _plain(v) for k, v in value.items()}
    if kind == "L":
        return [_plain(v) for v in value]
    if kind == "NULL":
        return None
    return value


def _matches(payload: Any, path: list[str], wanted: str) -> bool:
    value = payload
    for part in path:
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    if value is _MISSING:
        return False
    text = value if isinstance(value, str) else json.dumps(value)
    return text == wanted
