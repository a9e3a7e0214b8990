"""What Lambda makes of a handler's return value: the runtime's JSON marshalling.

The Python runtime (awslambdaric) sends the return value to Lambda as JSON, so an event
source mapping only ever sees the **JSON value** of the response. esmsim does the same
round trip, on the response only (never the event), so a poller reads exactly what
Lambda would read:

* ``None`` is ``null``;
* ``Decimal`` is written as a number (``NaN`` allowed), as the runtime does; tuples
  become lists, non-string keys become strings;
* ``bytes`` are sent as they are: if they are valid JSON the mapping sees that value,
  otherwise it sees a non-JSON payload, kept as ``bytes`` in the outcome;
* anything else the encoder rejects (a set, an object, a circular structure) is the
  function error ``Runtime.MarshalError``;
* a payload over 6 MB (6,291,556 bytes) is ``Function.ResponseSizeTooLarge``.
"""

from __future__ import annotations

import decimal
import json
import math
from typing import Any

__all__ = ("MAX_RESPONSE_BYTES", "marshal_response")

MAX_RESPONSE_BYTES = 6_291_556
"""Lambda's limit on a synchronous invocation's response payload."""


def _default(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        return math.nan if value.is_nan() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode = json.JSONEncoder(allow_nan=True, default=_default).encode
_decode = json.JSONDecoder().decode


def marshal_response(value: object) -> tuple[Any, str | None, str | None]:
    """``(json_value, error_type, error_message)`` for a handler's return value.

    ``error_type`` is None on success; otherwise ``json_value`` is None.
    """
    if value is None:
        return None, None, None
    if isinstance(value, bytes):
        if len(value) > MAX_RESPONSE_BYTES:
            return None, *_too_large()
        try:
            return json.loads(value), None, None
        except ValueError:
            return value, None, None
    try:
        text = _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return None, "Runtime.MarshalError", f"Unable to marshal response: {exc}"
    if len(text) > MAX_RESPONSE_BYTES:  # ASCII-only output: characters are bytes
        return None, *_too_large()
    return _decode(text), None, None


def _too_large() -> tuple[str, str]:
    return (
        "Function.ResponseSizeTooLarge",
        "Response payload size exceeded maximum allowed payload size "
        f"({MAX_RESPONSE_BYTES} bytes).",
    )
