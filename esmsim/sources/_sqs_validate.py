"""Request validation for SQS: bodies, message attributes, ids, numeric parameters.

Kept apart from the queue so the rules read as a list, one function per rule,
each raising the error class and message text SQS uses (plus the field name
and the allowed range, which SQS sometimes leaves out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._core._exceptions import AwsServiceError
from ._errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    TooManyEntriesInBatchRequest,
)
from ._sqs_message import SYSTEM_ATTRIBUTE_NAMES

__all__ = (
    "MAX_ATTRIBUTES",
    "batch_failure",
    "check_batch",
    "check_body",
    "check_group_or_dedup_id",
    "check_int",
    "normalize_message_attributes",
    "parse_bool",
    "parse_int",
    "string_list",
    "system_attribute_names",
    "too_long_message",
    "trace_header",
)

MAX_ATTRIBUTES = 10
"""SQS allows at most 10 message attributes per message."""

# Characters SQS accepts in a body (and in string attribute values).
_INVALID_CHARS = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_VALID_CHARS_TEXT = (
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF "
    "| #xE000 to #xFFFD | #x10000 to #x10FFFF"
)
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
_DATA_TYPE = re.compile(r"(String|Number|Binary)(\..+)?", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# MessageGroupId / MessageDeduplicationId: 1-128 alphanumerics and punctuation.
_ID_CHARS = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")


def parse_int(
    value: Any, field: str, low: int, high: int, unit: str, error: type[Exception]
) -> int:
    """An integer property in ``low..high``; CloudFormation's digit strings are accepted too."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        number = int(value)
    if number is None or not low <= number <= high:
        raise error(
            f"Invalid value for the parameter {field}. Reason: must be an integer from "
            f"{low:,} to {high:,} ({unit}); got {value!r}."
        )
    return number


def parse_bool(value: Any, field: str, error: type[Exception]) -> bool:
    """A boolean property; CloudFormation's ``"true"``/``"false"`` strings are accepted too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise error(
        f"Invalid value for the parameter {field}. Reason: must be true or false; got {value!r}."
    )


def check_int(value: Any, field: str, low: int, high: int, reason: str | None = None) -> int:
    """An integer request parameter in ``low..high`` (``InvalidParameterValue`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        why = reason or f"Must be between {low} and {high}, if provided."
        raise InvalidParameterValue(
            f"Value {value!r} for parameter {field} is invalid. Reason: {why}"
        )
    return value


def check_body(body: Any, max_size: int) -> bytes:
    """Validate ``MessageBody``; return its UTF-8 bytes."""
    if body is None or body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if not isinstance(body, str):
        raise InvalidParameterValue(
            f"Value for parameter MessageBody is invalid. Reason: must be a string, "
            f"got {type(body).__name__}."
        )
    if _INVALID_CHARS.search(body):
        raise InvalidMessageContents(_VALID_CHARS_TEXT)
    data = body.encode("utf-8")
    if len(data) > max_size:
        raise InvalidParameterValue(_too_long(max_size, len(data)))
    return data


def too_long_message(max_size: int, size: int) -> str:
    """The text SQS gives for a message over ``MaximumMessageSize``."""
    return _too_long(max_size, size)


def _too_long(max_size: int, size: int) -> str:
    return (
        f"One or more parameters are invalid. Reason: Message must be shorter than {max_size} "
        "bytes "
        f"(MaximumMessageSize, body plus message attributes; this one has {size:,} bytes)."
    )


def check_group_or_dedup_id(value: Any, field: str) -> str:
    """``MessageGroupId`` / ``MessageDeduplicationId``: 1-128 alphanumerics and punctuation."""
    if not isinstance(value, str) or not _ID_CHARS.fullmatch(value):
        raise InvalidParameterValue(
            f"Value {value!r} for parameter {field} is invalid. Reason: {field} can only include "
            "alphanumeric and punctuation characters. 1 to 128 in length."
        )
    return value


def normalize_message_attributes(
    attributes: Any, field: str = "MessageAttributes"
) -> tuple[dict[str, dict[str, Any]], int]:
    """Validate boto3-shaped message attributes; return a normalized copy and their size.

    The copy has ``{"StringValue": str, "DataType": str}`` or
    ``{"BinaryValue": bytes, "DataType": str}`` per name, in the caller's order.
    The size (name + data type + value bytes) counts towards ``MaximumMessageSize``.
    """
    if attributes is None:
        return {}, 0
    if not isinstance(attributes, Mapping):
        raise InvalidParameterValue(
            f"Value for parameter {field} is invalid. Reason: must be a map of name to "
            f"{{DataType, StringValue|BinaryValue}}, got {type(attributes).__name__}."
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    result: dict[str, dict[str, Any]] = {}
    size = 0
    for name, value in attributes.items():
        _check_attribute_name(name)
        normalized, value_size = _normalize_value(name, value)
        result[name] = normalized
        size += len(name.encode("utf-8")) + value_size
    return result, size


def _check_attribute_name(name: Any) -> None:
    ok = (
        isinstance(name, str)
        and _ATTRIBUTE_NAME.fullmatch(name) is not None
        and not name.lower().startswith(("aws.", "amazon."))
        and not name.startswith(".")
        and not name.endswith(".")
        and ".." not in name
    )
    if not ok:
        raise InvalidParameterValue(
            f"Message (user) attribute name {name!r} is invalid. The attribute name can contain "
            "only A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters, must be 1 "
            "to 256 characters long, must not start with AWS. or Amazon., must not start or end "
            "with a period, and must not have periods in a sequence."
        )


def _normalize_value(name: str, value: Any) -> tuple[dict[str, Any], int]:
    if not isinstance(value, Mapping):
        raise InvalidParameterValue(
            f"The message attribute '{name}' must be a map with DataType and StringValue or "
            f"BinaryValue, got {type(value).__name__}."
        )
    unknown = [k for k in value if k not in _VALUE_KEYS]
    if unknown:
        raise InvalidParameterValue(
            f"The message attribute '{name}' has unknown keys {unknown}; allowed: "
            f"{', '.join(_VALUE_KEYS)}."
        )
    if value.get("StringListValues") or value.get("BinaryListValues"):
        raise InvalidParameterValue(
            f"The message attribute '{name}' uses StringListValues/BinaryListValues, which SQS "
            "reserves for future use; use StringValue or BinaryValue."
        )
    data_type = value.get("DataType")
    if not data_type:
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute type."
        )
    if (
        not isinstance(data_type, str)
        or len(data_type) > 256
        or not _DATA_TYPE.fullmatch(data_type)
    ):
        raise InvalidParameterValue(
            f"The type of message (user) attribute '{name}' is invalid. You must use only the "
            "following supported type prefixes: Binary, Number, String (optionally followed by "
            f"'.' and a custom label, 256 characters at most); got {data_type!r}."
        )
    base = data_type.split(".", 1)[0]
    if base == "Binary":
        return _binary_value(name, data_type, value)
    return _string_value(name, data_type, base, value)


_VALUE_KEYS = ("DataType", "StringValue", "BinaryValue", "StringListValues", "BinaryListValues")


def _string_value(
    name: str, data_type: str, base: str, value: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    text = value.get("StringValue")
    if value.get("BinaryValue") is not None or not isinstance(text, str) or text == "":
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute value for "
            f"message attribute type '{base}' (StringValue)."
        )
    if _INVALID_CHARS.search(text):
        raise InvalidMessageContents(f"{_VALID_CHARS_TEXT} (message attribute '{name}')")
    if base == "Number" and not _valid_number(text):
        raise InvalidParameterValue(
            f"Value {text!r} for parameter MessageAttributes.{name} is invalid. Reason: a Number "
            "attribute holds up to 38 digits of precision, between 10^-128 and 10^+126."
        )
    size = len(data_type.encode("utf-8")) + len(text.encode("utf-8"))
    return {"StringValue": text, "DataType": data_type}, size


def _binary_value(
    name: str, data_type: str, value: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    raw = value.get("BinaryValue")
    blob: bytes | None = None
    if isinstance(raw, bytes | bytearray | memoryview):
        blob = bytes(raw)
    elif isinstance(raw, str):
        blob = raw.encode("utf-8")  # boto3 encodes str blobs as UTF-8
    if value.get("StringValue") is not None or not blob:
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute value for "
            "message attribute type 'Binary' (BinaryValue)."
        )
    return {"BinaryValue": blob, "DataType": data_type}, len(data_type.encode("utf-8")) + len(blob)


def _valid_number(text: str) -> bool:
    if not _NUMBER.fullmatch(text):
        return False
    mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    if not digits:
        return True  # zero
    significant = digits.rstrip("0")
    if len(significant) > 38:
        return False
    # Decimal exponent of the leading digit: the magnitude check of 10^-128 .. 10^+126.
    whole, _, _ = mantissa.partition(".")
    whole = whole.lstrip("0")
    if whole:
        magnitude = len(whole) - 1
    else:
        fraction = mantissa.partition(".")[2]
        magnitude = -(len(fraction) - len(fraction.lstrip("0")) + 1)
    magnitude += int(exponent) if exponent else 0
    return -128 <= magnitude <= 126


# -- request helpers shared by the batch and receive calls -------------------------------
def check_batch(entries: Any, kind: str) -> list[Mapping[str, Any]]:
    """Batch-level rules: 1-10 entries, each with a distinct valid ``Id``."""
    if entries is None or (isinstance(entries, Sequence) and len(entries) == 0):
        raise EmptyBatchRequest(f"There should be at least one {kind} in the request.")
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        raise InvalidParameterValue(
            f"Value for parameter Entries is invalid. Reason: expected a list of {kind}."
        )
    if len(entries) > 10:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are 10. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise InvalidParameterValue(
                f"Value for parameter Entries is invalid. Reason: each {kind} must be a map."
            )
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or not _valid_entry_id(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                f"underscores. It can be at most 80 letters long. (Got {entry_id!r}.)"
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return list(entries)


def _valid_entry_id(entry_id: str) -> bool:
    return 1 <= len(entry_id) <= 80 and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in entry_id
    )


def batch_failure(entry_id: str, exc: AwsServiceError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": True, "Code": exc.code, "Message": exc.message}


def trace_header(system_attributes: Any) -> str | None:
    """``MessageSystemAttributes``: only ``AWSTraceHeader`` (a String) exists."""
    if not system_attributes:
        return None
    if not isinstance(system_attributes, Mapping):
        raise InvalidParameterValue(
            "Value for parameter MessageSystemAttributes is invalid. Reason: expected a map."
        )
    for name in system_attributes:
        if name != "AWSTraceHeader":
            raise InvalidParameterValue(
                f"Message system attribute name {name!r} is invalid; the only one is "
                "AWSTraceHeader."
            )
    value = system_attributes["AWSTraceHeader"]
    text = value.get("StringValue") if isinstance(value, Mapping) else None
    if not isinstance(text, str) or not text or value.get("DataType") != "String":
        raise InvalidParameterValue(
            "Message system attribute AWSTraceHeader must have DataType String and a non-empty "
            "StringValue."
        )
    return text


def string_list(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not all(isinstance(v, str) for v in value)
    ):
        raise InvalidParameterValue(
            f"Value for parameter {field} is invalid. Reason: expected a list of strings."
        )
    return tuple(value)


def system_attribute_names(*lists: Any) -> tuple[str, ...]:
    names: list[str] = []
    for field, value in zip(("AttributeNames", "MessageSystemAttributeNames"), lists, strict=True):
        for name in string_list(value, field):
            if name != "All" and name not in SYSTEM_ATTRIBUTE_NAMES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
            names.append(name)
    return tuple(names)
