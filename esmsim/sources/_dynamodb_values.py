"""DynamoDB attribute values: validation, normalization, sizes, stream JSON.

Items arrive in DynamoDB JSON as boto3's low-level client writes them
(``{"Id": {"N": "101"}, "Tags": {"SS": ["a"]}, "Blob": {"B": b"..."}}``). They
are validated and normalized once on the way in, so equality of two items is
plain ``==`` (which is how "nothing changed, no stream record" is decided):

* numbers are stored as DynamoDB returns them: no exponent, no leading or
  trailing zeros (``"1.50"`` -> ``"1.5"``, ``"1E2"`` -> ``"100"``), at most 38
  significant digits, magnitude within 1E-130 .. 9.99..E+125;
* binary values are ``bytes`` (a ``str`` is UTF-8 encoded, as boto3 does);
* sets (SS, NS, BS) are sorted: DynamoDB sets have no order, so any fixed
  order is faithful, and a sorted one makes equal sets compare equal.

Sizes follow DynamoDB's item-size rules: attribute names and strings count
their UTF-8 bytes, binary its bytes, a number about one byte per two
significant digits plus one, BOOL and NULL one byte, a list or map three bytes
plus one byte per element plus its contents, a set the sum of its elements.
Stream records' ``SizeBytes`` is the size of ``Keys`` plus the images the
record carries; this reproduces AWS's documented examples exactly (26, 59 and
38 bytes for the INSERT/MODIFY/REMOVE sample events).
"""

from __future__ import annotations

import base64
import decimal
import json
import math
import re
from decimal import Decimal
from typing import Any

from ._errors import ValidationException

__all__ = (
    "MAX_ITEM_BYTES",
    "AttributeValue",
    "Item",
    "add_numbers",
    "canonical_key",
    "copy_item",
    "copy_json",
    "copy_value",
    "item_size",
    "normalize_item",
    "normalize_number",
    "normalize_value",
    "to_stream_json",
    "value_size",
)

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

MAX_ITEM_BYTES = 400 * 1024
TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Wide enough that normalizing never rounds; precision is checked by hand.
_WIDE = decimal.Context(prec=200, Emax=999_999, Emin=-999_999)
# Arithmetic as DynamoDB does it: 38 digits, and inexact results are errors.
_ARITH = decimal.Context(prec=38, Emax=999_999, Emin=-999_999, traps=[decimal.Inexact])


def normalize_number(text: Any, field: str) -> str:
    """A number string as DynamoDB stores it; ``ValidationException`` if it is not one."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        raise ValidationException(
            f"{field}: The parameter cannot be converted to a numeric value: {text!r}"
        )
    return _format_number(Decimal(text), field)


def _format_number(value: Decimal, field: str) -> str:
    if value.is_zero():
        return "0"
    value = value.normalize(_WIDE)
    if len(value.as_tuple().digits) > 38:
        raise ValidationException(f"{field}: Attempting to store more than 38 significant digits")
    if value.adjusted() > 125:
        raise ValidationException(
            f"{field}: Number overflow. Attempting to store a number with magnitude larger "
            "than supported range"
        )
    if value.adjusted() < -130:
        raise ValidationException(
            f"{field}: Number underflow. Attempting to store a number with magnitude smaller "
            "than supported range"
        )
    return format(value, "f")


def add_numbers(a: str, b: str, subtract: bool, field: str) -> str:
    """``a + b`` (or ``a - b``) on stored numbers, with DynamoDB's 38-digit precision."""
    try:
        result = (
            _ARITH.subtract(Decimal(a), Decimal(b))
            if subtract
            else _ARITH.add(Decimal(a), Decimal(b))
        )
    except decimal.Inexact:
        raise ValidationException(
            f"{field}: Attempting to store more than 38 significant digits"
        ) from None
    return _format_number(result, field)


def normalize_value(value: Any, field: str) -> AttributeValue:
    """A validated, normalized copy of one attribute value."""
    if not isinstance(value, dict):
        raise ValidationException(
            f"{field}: expected an AttributeValue such as {{'S': 'text'}}, "
            f"got {type(value).__name__}"
        )
    if not value:
        raise ValidationException(
            f"{field}: Supplied AttributeValue is empty, must contain exactly one of the "
            "supported datatypes"
        )
    if len(value) > 1:
        raise ValidationException(
            f"{field}: Supplied AttributeValue has more than one datatypes set, must contain "
            "exactly one of the supported datatypes"
        )
    ((kind, raw),) = value.items()
    where = f"{field}.{kind}"
    if kind == "S":
        if not isinstance(raw, str):
            raise ValidationException(f"{where}: expected a str, got {type(raw).__name__}")
        return {"S": raw}
    if kind == "N":
        return {"N": normalize_number(raw, where)}
    if kind == "B":
        return {"B": _binary(raw, where)}
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise ValidationException(f"{where}: expected a bool, got {type(raw).__name__}")
        return {"BOOL": raw}
    if kind == "NULL":
        if raw is not True:
            raise ValidationException(
                f"{where}: Null attribute value types must have the value of true"
            )
        return {"NULL": True}
    if kind == "M":
        if not isinstance(raw, dict):
            raise ValidationException(f"{where}: expected a dict, got {type(raw).__name__}")
        return {"M": normalize_item(raw, where)}
    if kind == "L":
        if not isinstance(raw, list | tuple):
            raise ValidationException(f"{where}: expected a list, got {type(raw).__name__}")
        return {"L": [normalize_value(v, f"{where}[{i}]") for i, v in enumerate(raw)]}
    if kind in ("SS", "NS", "BS"):
        return {kind: _set(kind, raw, where)}
    raise ValidationException(
        f"{field}: {kind!r} is not a DynamoDB data type (one of {', '.join(TYPES)})"
    )


def normalize_item(item: Any, field: str) -> Item:
    """A validated, normalized copy of an item (or map) in DynamoDB JSON."""
    if not isinstance(item, dict):
        raise ValidationException(f"{field}: expected a dict, got {type(item).__name__}")
    out: Item = {}
    for name, value in item.items():
        if not isinstance(name, str):
            raise ValidationException(f"{field}: attribute names must be str, got {name!r}")
        out[name] = normalize_value(value, f"{field}.{name}")
    return out


def _binary(raw: Any, field: str) -> bytes:
    if isinstance(raw, str):
        return raw.encode("utf-8")
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    raise ValidationException(f"{field}: expected bytes, got {type(raw).__name__}")


def _set(kind: str, raw: Any, field: str) -> list[Any]:
    if not isinstance(raw, list | tuple | set | frozenset):
        raise ValidationException(f"{field}: expected a list, got {type(raw).__name__}")
    if not raw:
        names = {"SS": "string set", "NS": "number set", "BS": "binary set"}
        raise ValidationException(
            f"{field}: One or more parameter values were invalid: An {names[kind]} may not be empty"
        )
    members: list[Any]
    if kind == "SS":
        for v in raw:
            if not isinstance(v, str):
                raise ValidationException(f"{field}: expected str members, got {v!r}")
        members = sorted(raw)
    elif kind == "NS":
        members = sorted((normalize_number(v, field) for v in raw), key=lambda n: Decimal(n))
    else:
        members = sorted(_binary(v, field) for v in raw)
    if len(set(members)) != len(members):
        raise ValidationException(f"{field}: Input collection {list(raw)!r} contains duplicates.")
    return members


# -- copies and conversions -----------------------------------------------------------------
def copy_value(value: AttributeValue) -> AttributeValue:
    """A deep copy of a normalized attribute value."""
    ((kind, raw),) = value.items()
    if kind == "M":
        return {"M": copy_item(raw)}
    if kind == "L":
        return {"L": [copy_value(v) for v in raw]}
    if kind in ("SS", "NS", "BS"):
        return {kind: list(raw)}
    return {kind: raw}


def copy_item(item: Item) -> Item:
    """A deep copy of a normalized item."""
    return {name: copy_value(value) for name, value in item.items()}


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _json_value(value: AttributeValue) -> AttributeValue:
    ((kind, raw),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(raw).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in raw]}
    if kind == "M":
        return {"M": to_stream_json(raw)}
    if kind == "L":
        return {"L": [_json_value(v) for v in raw]}
    if kind in ("SS", "NS"):
        return {kind: list(raw)}
    return {kind: raw}


def to_stream_json(item: Item) -> Item:
    """A fresh copy in the JSON form Lambda events carry (binary as base64 text)."""
    return {name: _json_value(value) for name, value in item.items()}


def canonical_key(key: Item) -> str:
    """One string per item key (DynamoDB JSON, sorted, compact): identity and ordering."""
    return json.dumps(to_stream_json(key), sort_keys=True, separators=(",", ":"))


# -- sizes ----------------------------------------------------------------------------------
def _number_size(text: str) -> int:
    digits = len(Decimal(text).normalize(_WIDE).as_tuple().digits)
    return math.ceil(digits / 2) + 1


def value_size(value: AttributeValue) -> int:
    """Bytes DynamoDB counts for one attribute value."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode("utf-8"))
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    # M
    return 3 + sum(1 + len(name.encode("utf-8")) + value_size(v) for name, v in raw.items())


def item_size(item: Item) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())
