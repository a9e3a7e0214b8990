"""SQS's two checksums: ``MD5OfBody`` and ``MD5OfMessageAttributes``.

SDKs (the AWS SDK for Java's ``MessageMD5ChecksumInterceptor``, the Go SDK's
checksum customisation) recompute both and reject responses that disagree, so
they must be exact, not merely plausible.

``MD5OfMessageAttributes`` is the MD5 of a binary encoding (SQS developer
guide, "Calculating the MD5 message digest for message attributes"): for each
attribute, in ascending order of name,

- 4-byte big-endian length + UTF-8 bytes of the name,
- 4-byte length + UTF-8 bytes of the data type (custom suffix included),
- one transport-type byte: 1 string (``String`` and ``Number``), 2 binary,
  3 string list, 4 binary list,
- the value: 4-byte length + bytes (UTF-8 for strings, raw for binary); list
  types encode each member that way, one after the other, with no count.

Checked against the AWS SDK test vectors (``test_attribute_name_1/2`` strings
give ``d53f3b558fe951154770f25cb63dbba9``; a binary ``test_attribute_value``
gives ``23f6bd27ea87aab7dfeadcc9aebee495``) and a recorded AWS response
(``AtTimestamp`` = ``2021-02-15T12:00:33+09:00`` gives
``9fd5e217089075be61cd1d67e35e5117``); see tests/sources/test_sqs.py.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ("md5_hex", "md5_of_body", "md5_of_message_attributes")

_STRING = b"\x01"
_BINARY = b"\x02"
_STRING_LIST = b"\x03"
_BINARY_LIST = b"\x04"
_LENGTH = struct.Struct(">I")


def md5_hex(data: bytes) -> str:
    """Lowercase hex MD5 of ``data`` (a checksum here, never a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of_body(body: str) -> str:
    """``MD5OfBody``: the MD5 of the body's UTF-8 bytes."""
    return md5_hex(body.encode("utf-8"))


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """``MD5OfMessageAttributes`` of boto3-shaped attributes, or None when there are none.

    ``attributes`` maps a name to ``{"DataType": ..., "StringValue": str}`` or
    ``{"DataType": ..., "BinaryValue": bytes}`` (or the list forms). Which value
    key is present decides the transport type, as in the SDKs.
    """
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        _update(digest, name.encode("utf-8"))
        _update(digest, str(value["DataType"]).encode("utf-8"))
        if value.get("StringValue") is not None:
            digest.update(_STRING)
            _update(digest, str(value["StringValue"]).encode("utf-8"))
        elif value.get("BinaryValue") is not None:
            digest.update(_BINARY)
            _update(digest, _as_bytes(value["BinaryValue"]))
        elif value.get("StringListValues"):
            digest.update(_STRING_LIST)
            for member in value["StringListValues"]:
                _update(digest, str(member).encode("utf-8"))
        elif value.get("BinaryListValues"):
            digest.update(_BINARY_LIST)
            for blob in _iter_bytes(value["BinaryListValues"]):
                _update(digest, blob)
    return digest.hexdigest()


def _update(digest: Any, data: bytes) -> None:
    digest.update(_LENGTH.pack(len(data)))
    digest.update(data)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _iter_bytes(values: Iterable[Any]) -> Iterable[bytes]:
    return (_as_bytes(v) for v in values)
