"""Environment variables: validated like Lambda, visible to a handler only while it runs.

Lambda gives every function its own process, so ``os.environ`` holds that function's
variables. esmsim runs every function in one process, so it lays a function's variables
over ``os.environ`` while the function's code runs and takes them off afterwards:

* a plain handler: from just before the call until it returns (in virtual mode plain
  handlers run one at a time, so no other handler can observe them);
* an ``async def`` handler: only while **its own code is executing** (each step of its
  coroutine, between two awaits). Other tasks that run while it awaits never see its
  variables, so concurrent async invocations of different functions stay apart.

Layers are tracked in a process-wide stack, so whatever order invocations end in, each
variable goes back to the value of the newest layer still applied, or to what it was
before esmsim touched it. What cannot be isolated, and is documented as such: plain
handlers that overlap in **wall** mode (real threads) share ``os.environ``, so each may
see the other's variables while both run; tasks or threads a handler starts itself run
without its variables; a variable the handler sets itself is not removed afterwards.

``LAMBDA_TASK_ROOT`` is deliberately not set: Powertools' Tracer reads it as "running in
Lambda" and would try to reach X-Ray.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import types
from collections.abc import Coroutine, Generator, Mapping
from typing import Any

from .._core import InvalidParameterValueException

__all__ = (
    "RESERVED_VARIABLES",
    "EnvironmentLayer",
    "apply_layer",
    "drive_with_layer",
    "flush_lingering",
    "remove_layer",
    "runtime_variables",
    "validate_environment",
)

RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Keys Lambda refuses in ``Environment.Variables`` (it sets them itself)."""

_KEY_PATTERN = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
_MAX_BYTES = 4096


def validate_environment(environment: object) -> dict[str, str]:
    """The ``Variables`` of an ``Environment`` property, checked as Lambda checks them.

    Raises:
        InvalidParameterValueException: not ``{"Variables": {str: str}}``, a key Lambda
            rejects (pattern or reserved name), or more than 4 KB in total.
    """
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise InvalidParameterValueException(
            "Environment: expected a mapping like {'Variables': {'NAME': 'value'}}, "
            f"got {type(environment).__name__}"
        )
    unknown = sorted(str(key) for key in environment if key != "Variables")
    if unknown:
        raise InvalidParameterValueException(
            f"Environment: unknown key {unknown[0]!r}; the only key allowed is 'Variables'"
        )
    variables = environment.get("Variables")
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        raise InvalidParameterValueException(
            f"Environment.Variables: expected a mapping of names to strings, "
            f"got {type(variables).__name__}"
        )
    result: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
            raise InvalidParameterValueException(
                f"Environment.Variables: 1 validation error detected: Value at "
                f"'environment.variables' failed to satisfy constraint: Map keys must satisfy "
                f"constraint: [Member must satisfy regular expression pattern: "
                f"[a-zA-Z]([a-zA-Z0-9_])+] (key {key!r})"
            )
        if not isinstance(value, str):
            raise InvalidParameterValueException(
                f"Environment.Variables.{key}: expected a string, got {type(value).__name__} "
                f"{value!r} (quote it in YAML)"
            )
        result[key] = value
    reserved = sorted(RESERVED_VARIABLES.intersection(result))
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )
    if len(json.dumps(result, separators=(",", ":")).encode()) > _MAX_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit."
        )
    return result


def runtime_variables(
    *,
    function_name: str,
    memory_size: int,
    timeout: int,
    region: str,
    handler: str,
    runtime: str,
    log_stream_name: str,
) -> dict[str, str]:
    """The variables Lambda itself sets in a Python execution environment."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "_HANDLER": handler,
    }


class EnvironmentLayer:
    """An immutable set of variables laid over ``os.environ`` while a handler runs.

    Keys and values are encoded once, here, the way ``os.environ`` stores them, so that
    applying a layer (once or twice per invocation) is a few dictionary writes and
    ``putenv`` calls rather than a round of encodings.
    """

    __slots__ = ("encoded", "items", "mapping")

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.mapping: dict[str, str] = dict(variables)
        self.items: tuple[tuple[str, str], ...] = tuple(self.mapping.items())
        encodekey, encodevalue = os.environ.encodekey, os.environ.encodevalue
        self.encoded: dict[Any, Any] = {
            encodekey(key): encodevalue(value) for key, value in self.items
        }


class _Overlay:
    """The process-wide stack of applied layers and the values they covered.

    Works on ``os.environ``'s own backing dict plus ``putenv``/``unsetenv``, exactly
    what ``os.environ[key] = value`` does, minus re-encoding every key on every call
    (this runs on every invocation).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: list[list[EnvironmentLayer]] = []
        self.saved: dict[Any, Any] = {}  # encoded key -> encoded original value or None
        self.data: dict[Any, Any] = os.environ._data  # type: ignore[attr-defined]
        # The layer left in place after the last plain handler (virtual mode), to be
        # reused as is by the next invocation in the same environment: see
        # ``remove_layer(linger=True)``.
        self.lingering: EnvironmentLayer | None = None

    def put(self, key: Any, value: Any) -> None:
        if self.data.get(key) != value:
            os.putenv(key, value)
            self.data[key] = value

    def restore(self, key: Any, original: Any) -> None:
        if original is not None:
            self.put(key, original)
        elif key in self.data:
            os.unsetenv(key)
            del self.data[key]


_overlay = _Overlay()


def apply_layer(layer: EnvironmentLayer) -> list[EnvironmentLayer]:
    """Lay ``layer`` over ``os.environ``; returns the token for ``remove_layer``."""
    token = [layer]
    overlay = _overlay
    with overlay.lock:
        lingering = overlay.lingering
        if lingering is not None:
            overlay.lingering = None
            if lingering is layer and not overlay.active:
                # The same environment again: its variables are still in place.
                overlay.active.append(token)
                return token
            _drop_lingering(overlay, lingering, keep=layer)
        saved, data = overlay.saved, overlay.data
        for key, value in layer.encoded.items():
            if key not in saved:
                saved[key] = data.get(key)
            overlay.put(key, value)
        overlay.active.append(token)
    return token


def remove_layer(token: list[EnvironmentLayer], *, linger: bool = False) -> None:
    """Take a layer off: each of its variables returns to the newest other layer's value
    or, when no applied layer sets it, to its value before esmsim touched it.

    With ``linger`` (a plain handler in virtual mode, the only code running), a layer
    that is the only one applied stays in place instead, until another layer is applied
    or ``flush_lingering`` runs (the kernel calls it when each command ends, before the
    caller's code resumes). Consecutive invocations in one environment then cost no
    environment writes at all; restoring and re-applying ~11 variables was a third of
    the cost of a small invocation.
    """
    overlay = _overlay
    with overlay.lock:
        active = overlay.active
        if linger and len(active) == 1 and active[0] is token:
            active.pop()
            overlay.lingering = token[0]
            return
        if active and active[-1] is token:
            active.pop()
        else:
            active[:] = [other for other in active if other is not token]
        saved = overlay.saved
        if not active:
            for key, original in saved.items():
                overlay.restore(key, original)
            saved.clear()
            return
        for key in token[0].encoded:
            for other in reversed(active):
                value = other[0].encoded.get(key)
                if value is not None:
                    overlay.put(key, value)
                    break
            else:
                overlay.restore(key, saved.pop(key, None))


def flush_lingering() -> None:
    """Restore what a lingering layer covers (no-op when none lingers)."""
    overlay = _overlay
    with overlay.lock:
        lingering = overlay.lingering
        if lingering is not None:
            overlay.lingering = None
            _drop_lingering(overlay, lingering, keep=None)


def _drop_lingering(
    overlay: _Overlay, lingering: EnvironmentLayer, keep: EnvironmentLayer | None
) -> None:
    """Take a lingering layer off (lock held), leaving alone the keys ``keep`` will set.

    Keys the next layer sets are overwritten by it (and ``put`` skips equal values, so
    two environments of one function differ by a write or two); others return to the
    newest active layer's value or to their original.
    """
    for key in lingering.encoded:
        if keep is not None and key in keep.encoded:
            continue
        for other in reversed(overlay.active):
            value = other[0].encoded.get(key)
            if value is not None:
                overlay.put(key, value)
                break
        else:
            overlay.restore(key, overlay.saved.pop(key, None))


@types.coroutine
def drive_with_layer(
    coro: Coroutine[Any, Any, Any], layer: EnvironmentLayer, meter: list[float] | None = None
) -> Generator[Any, Any, Any]:
    """Await ``coro`` with ``layer`` applied only while ``coro``'s own code runs.

    A trampoline: each ``send``/``throw`` into the handler's coroutine (one step, up to
    its next suspension) happens with the layer applied; whatever it waits on is passed
    up unchanged to the task running us, and results or cancellations come back down.
    With ``meter``, the host ``time.perf_counter`` seconds spent inside the steps are
    added to ``meter[0]`` (for ``duration="measured"``).
    """
    send: Any = None
    error: BaseException | None = None
    while True:
        token = apply_layer(layer)
        started = time.perf_counter() if meter is not None else 0.0
        try:
            if error is None:
                yielded = coro.send(send)
            else:
                thrown, error = error, None
                yielded = coro.throw(thrown)
        except StopIteration as stop:
            return stop.value
        finally:
            if meter is not None:
                meter[0] += time.perf_counter() - started
            remove_layer(token)
        try:
            send = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            send, error = None, exc
