"""FilterCriteria: Lambda's event filtering, with EventBridge pattern semantics (spec §6).

No maintained Python library implements Lambda's dialect (AWS's own matcher,
event-ruler, is Java; moto and LocalStack keep theirs inside the emulator, each
with its own gaps), so esmsim has its own, written against the Lambda and
EventBridge documentation:

* ``FilterCriteria.Filters[].Pattern`` are JSON strings; filters are ORed, the
  fields of one pattern ANDed; ``$or`` ORs sub-patterns at any level;
* a pattern's leaves are arrays of matchers, ORed: literal strings, numbers,
  booleans and ``null`` (equals; ``""`` is the empty string), and one-key
  objects: ``prefix``, ``suffix`` (both also with ``{"equals-ignore-case": ...}``),
  ``equals-ignore-case``, ``anything-but`` (a value, a list of values, or
  ``prefix`` / ``suffix`` / ``equals-ignore-case`` / ``wildcard``), ``numeric``
  (``=``, ``<``, ``<=``, ``>``, ``>=``, and a lower plus an upper bound for a
  range), ``exists`` (leaf nodes only: an object never "exists", so
  ``exists: false`` matches a field holding an object) and ``wildcard``;
* an array in the record matches when any of its elements does;
* ``numeric`` compares by value and only matches numbers (never strings, so
  never a DynamoDB ``N`` value); a literal number matches a number of the same
  JSON text form (``300`` and ``300.0`` differ, spec §6; esmsim sees parsed
  values, so ``3.0e2`` and ``300.0`` count as the same form).

Records are matched against a lightweight view of the Lambda event record that
holds only the top-level keys the patterns name, built once per record; the
data key is decoded once: SQS ``body`` (JSON object or array when it parses as
one, else the plain string), Kinesis ``data`` (base64-decoded, parsed as JSON
for matching only; the handler still gets the original bytes), DynamoDB
``dynamodb`` (DynamoDB JSON as is). Kinesis metadata is matched flat, as Lambda
documents it (``partitionKey``, ``sequenceNumber``, ``eventName``...). The
format-mismatch rules of §6: a JSON data pattern never matches a non-JSON
body / data; a plain-string ``body`` pattern never matches a JSON body; a plain
data pattern is rejected at create/update for Kinesis and DynamoDB.

Patterns are validated and compiled once, at create/update; matching a record
is a dict build plus closure calls.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from .._core import InvalidParameterValueException
from ._events import _lambda_message_attribute

__all__ = (
    "MAX_FILTERS",
    "MAX_PATTERN_LENGTH",
    "CompiledFilter",
    "compile_filters",
    "invalid_pattern",
    "make_record_filter",
    "validate_filter_criteria",
)

MAX_FILTERS = 5
"""Default quota "filters per event source mapping" (raisable to 10 in AWS, spec §1)."""
MAX_PATTERN_LENGTH = 4096

_INVALID = "Invalid filter pattern definition."
_DATA_KEY = {"sqs": "body", "kinesis": "data", "dynamodb": "dynamodb"}
_NUMERIC_OPS = frozenset({"=", "<", "<=", ">", ">="})
_LOWER = frozenset({">", ">="})
_UPPER = frozenset({"<", "<="})
_MISSING: Any = object()
_NOT_JSON: Any = object()
# The view key under which the record's data-format flag is kept; never a pattern key.
_IS_JSON: Any = object()

View = dict[Any, Any]
Condition = Callable[[View], bool]
Test = Callable[[Any], bool]
CompiledFilter = Callable[[View], bool]


def invalid_pattern() -> InvalidParameterValueException:
    """AWS's error for any pattern it cannot accept."""
    return InvalidParameterValueException(_INVALID)


# -- record values -------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_text(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


_NONE: list[Any] = []


def _leaves(view: View, path: tuple[str, ...]) -> list[Any]:
    """The leaf (non-object) values at ``path``; arrays on the way are searched element-wise.

    The common case (objects all the way down, a scalar at the end) is a plain walk.
    """
    node: Any = view
    for i, key in enumerate(path):
        if type(node) is dict:
            node = node.get(key, _MISSING)
            if node is _MISSING:
                return _NONE
        elif type(node) is list:
            found: list[Any] = []
            _expand(node, found)
            return _leaves_among(found, path[i:])
        else:
            return _NONE
    if type(node) is dict:
        return _NONE
    if type(node) is list:
        return _leaves_among([node], ())
    return [node]


def _leaves_among(nodes: list[Any], path: tuple[str, ...]) -> list[Any]:
    for key in path:
        found: list[Any] = []
        for node in nodes:
            if isinstance(node, dict):
                value = node.get(key, _MISSING)
                if value is _MISSING:
                    continue
                if isinstance(value, list):
                    _expand(value, found)
                else:
                    found.append(value)
        if not found:
            return found
        nodes = found
    out: list[Any] = []
    _expand(nodes, out)
    return [node for node in out if not isinstance(node, dict)]


def _expand(values: list[Any], out: list[Any]) -> None:
    for item in values:
        if isinstance(item, list):
            _expand(item, out)
        else:
            out.append(item)


# -- matcher compilation ---------------------------------------------------------------------
def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_pattern()
    return value


def _equals(expected: Any) -> Test:
    if expected is None:
        return lambda v: v is None
    if isinstance(expected, bool):
        return lambda v: v is expected
    if isinstance(expected, str):
        return lambda v: v == expected and isinstance(v, str)
    if _is_number(expected):
        if isinstance(expected, float) and not math.isfinite(expected):
            raise invalid_pattern()
        text = _number_text(expected)
        return lambda v: _is_number(v) and _number_text(v) == text
    raise invalid_pattern()


def _prefix_or_suffix(value: Any, suffix: bool) -> Test:
    if isinstance(value, dict):
        # {"prefix": {"equals-ignore-case": "x"}}
        if set(value) != {"equals-ignore-case"}:
            raise invalid_pattern()
        folded = _string(value["equals-ignore-case"]).casefold()
        if suffix:
            return lambda v: isinstance(v, str) and v.casefold().endswith(folded)
        return lambda v: isinstance(v, str) and v.casefold().startswith(folded)
    text = _string(value)
    if suffix:
        return lambda v: isinstance(v, str) and v.endswith(text)
    return lambda v: isinstance(v, str) and v.startswith(text)


def _ignore_case(value: Any) -> Test:
    folded = _string(value).casefold()
    return lambda v: isinstance(v, str) and v.casefold() == folded


def _wildcard(value: Any) -> Test:
    text = _string(value)
    if "**" in text:
        raise invalid_pattern()
    parts: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "*\\":
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    regex = re.compile("".join(parts), re.DOTALL)
    return lambda v: isinstance(v, str) and regex.fullmatch(v) is not None


def _numeric(spec: Any) -> Test:
    if not isinstance(spec, list) or len(spec) not in (2, 4):
        raise invalid_pattern()
    bounds: list[tuple[str, float]] = []
    for i in range(0, len(spec), 2):
        op, number = spec[i], spec[i + 1]
        if op not in _NUMERIC_OPS or not _is_number(number) or not math.isfinite(number):
            raise invalid_pattern()
        bounds.append((op, float(number)))
    if len(bounds) == 2:
        (op1, _), (op2, _) = bounds
        if not ((op1 in _LOWER and op2 in _UPPER) or (op1 in _UPPER and op2 in _LOWER)):
            raise invalid_pattern()
        if bounds[0][0] in _UPPER:
            bounds.reverse()
        if bounds[0][1] > bounds[1][1]:
            raise invalid_pattern()

    def one(op: str, n: float) -> Test:
        if op == "=":
            return lambda v: v == n
        if op == "<":
            return lambda v: v < n
        if op == "<=":
            return lambda v: v <= n
        if op == ">":
            return lambda v: v > n
        return lambda v: v >= n

    tests = [one(op, n) for op, n in bounds]
    if len(tests) == 1:
        (t,) = tests
        return lambda v: _is_number(v) and t(v)
    low, high = tests
    return lambda v: _is_number(v) and low(v) and high(v)


def _anything_but(spec: Any) -> Test:
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise invalid_pattern()
        ((op, value),) = spec.items()
        inner: list[Test]
        if op in ("prefix", "suffix"):
            if isinstance(value, dict):
                raise invalid_pattern()
            inner = [_prefix_or_suffix(value, op == "suffix")]
        elif op == "equals-ignore-case":
            values = value if isinstance(value, list) else [value]
            if not values:
                raise invalid_pattern()
            inner = [_ignore_case(v) for v in values]
        elif op == "wildcard":
            values = value if isinstance(value, list) else [value]
            if not values:
                raise invalid_pattern()
            inner = [_wildcard(v) for v in values]
        else:
            raise invalid_pattern()
        # These forms speak about strings: only a string can match them.
        return lambda v: isinstance(v, str) and not any(t(v) for t in inner)
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        raise invalid_pattern()
    excluded = []
    for value in values:
        if value is None or isinstance(value, bool | dict | list):
            raise invalid_pattern()
        excluded.append(_equals(value))
    return lambda v: not any(t(v) for t in excluded)


def _operator(item: dict[str, Any]) -> tuple[Test | None, bool | None]:
    """One matcher object: (a per-value test, or None and the ``exists`` flag)."""
    if len(item) != 1:
        raise invalid_pattern()
    ((op, value),) = item.items()
    if op == "exists":
        if not isinstance(value, bool):
            raise invalid_pattern()
        return None, value
    if op == "prefix":
        return _prefix_or_suffix(value, False), None
    if op == "suffix":
        return _prefix_or_suffix(value, True), None
    if op == "equals-ignore-case":
        return _ignore_case(value), None
    if op == "anything-but":
        return _anything_but(value), None
    if op == "numeric":
        return _numeric(value), None
    if op == "wildcard":
        return _wildcard(value), None
    raise invalid_pattern()


def _field(path: tuple[str, ...], matchers: Any) -> Condition:
    """A leaf of the pattern: an array of matchers, ORed, over the values at ``path``."""
    if not isinstance(matchers, list) or not matchers:
        raise invalid_pattern()
    tests: list[Test] = []
    exists: set[bool] = set()
    strings: set[str] = set()
    for item in matchers:
        if isinstance(item, dict):
            test, flag = _operator(item)
            if test is not None:
                tests.append(test)
            else:
                assert flag is not None
                exists.add(flag)
        elif isinstance(item, list):
            raise invalid_pattern()
        elif isinstance(item, str):
            strings.add(item)  # literal strings: one set lookup
        else:
            tests.append(_equals(item))
    if strings:
        frozen = frozenset(strings)
        tests.append(lambda v: type(v) is str and v in frozen)
    want_present = True in exists
    want_absent = False in exists

    if len(tests) == 1 and not exists:
        (single,) = tests
        if len(path) == 1:
            key = path[0]

            def check_top(view: View) -> bool:
                value = view.get(key, _MISSING)
                if value is _MISSING or isinstance(value, dict):
                    return False
                if isinstance(value, list):
                    return any(single(v) for v in _leaves(view, path))
                return single(value)

            return check_top

        def check_path(view: View) -> bool:
            node: Any = view
            for key in path:
                if type(node) is not dict:
                    break
                node = node.get(key, _MISSING)
                if node is _MISSING:
                    return False
            else:
                if type(node) is not dict and type(node) is not list:
                    return single(node)
            # Arrays on the way (or at the end): the general walk.
            return any(single(value) for value in _leaves(view, path))

        return check_path

    def check(view: View) -> bool:
        values = _leaves(view, path)
        if values:
            if want_present:
                return True
            return any(t(v) for t in tests for v in values)
        return want_absent

    return check


def _is_json(view: View) -> bool:
    return view[_IS_JSON] is True


def _is_plain(view: View) -> bool:
    return view[_IS_JSON] is False


def _all(conditions: list[Condition]) -> Condition:
    if len(conditions) == 1:
        return conditions[0]
    if len(conditions) == 2:
        first, second = conditions
        return lambda view: first(view) and second(view)

    def every(view: View) -> bool:
        return all(condition(view) for condition in conditions)

    return every


class _Compiler:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.data_key = _DATA_KEY[kind]
        self.top_keys: set[str] = set()

    def conjunction(self, pattern: Any, path: tuple[str, ...]) -> Condition:
        if not isinstance(pattern, dict) or not pattern:
            raise invalid_pattern()
        conditions: list[Condition] = []
        for key, value in pattern.items():
            if key == "$or":
                conditions.append(self.disjunction(value, path))
                continue
            if not path:
                self.top_keys.add(key)
            sub = (*path, key)
            if not path and key == self.data_key:
                conditions.extend(self.data(value))
            elif isinstance(value, dict):
                conditions.append(self.conjunction(value, sub))
            else:
                conditions.append(_field(sub, value))
        return _all(conditions)

    def disjunction(self, branches: Any, path: tuple[str, ...]) -> Condition:
        if not isinstance(branches, list) or len(branches) < 2:
            raise invalid_pattern()
        compiled = [self.conjunction(b, path) for b in branches]

        def any_branch(view: View) -> bool:
            return any(branch(view) for branch in compiled)

        return any_branch

    def data(self, value: Any) -> list[Condition]:
        key = self.data_key
        if isinstance(value, dict):
            inner = self.conjunction(value, (key,))
            if self.kind == "dynamodb":
                return [inner]
            # A JSON data pattern only ever matches JSON data (§6).
            return [_is_json, inner]
        if self.kind != "sqs":
            # Kinesis and DynamoDB data patterns must be JSON (§6: error at create/update).
            raise invalid_pattern()
        plain = _field((key,), value)
        # A plain-string body pattern never matches a JSON body (§6).
        return [_is_plain, plain]


def _parse_pattern(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        raise invalid_pattern()
    try:
        parsed = json.loads(text)
    except ValueError:
        raise invalid_pattern() from None
    if not isinstance(parsed, dict):
        raise invalid_pattern()
    return parsed


def compile_filters(patterns: Iterable[str], kind: str) -> tuple[list[CompiledFilter], set[str]]:
    """Compile pattern strings; returns the matchers and the top-level keys they read.

    Raises:
        InvalidParameterValueException: ``Invalid filter pattern definition.``
    """
    compiler = _Compiler(kind)
    compiled = [compiler.conjunction(_parse_pattern(p), ()) for p in patterns]
    return compiled, compiler.top_keys


def validate_filter_criteria(value: Any, kind: str) -> dict[str, Any] | None:
    """Check a ``FilterCriteria`` property; its normal form (None when it removes filtering).

    ``None`` and ``{}`` remove the filters, as does an empty ``Filters`` list.
    """
    if value is None or value == {}:
        return None
    filters = value.get("Filters") if isinstance(value, dict) else None
    if not isinstance(filters, list):
        raise invalid_pattern()
    if not filters:
        return None
    if len(filters) > MAX_FILTERS:
        raise InvalidParameterValueException(
            f"FilterCriteria: {len(filters)} filters exceed the quota 'Filters per event "
            f"source mapping' ({MAX_FILTERS}; AWS can raise it to 10 on request)"
        )
    patterns: list[str] = []
    for i, item in enumerate(filters):
        pattern = item.get("Pattern") if isinstance(item, dict) else None
        if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
            raise InvalidParameterValueException(
                f"1 validation error detected: Value '{pattern}' at "
                f"'filterCriteria.filters.{i + 1}.member.pattern' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_PATTERN_LENGTH}"
            )
        if not isinstance(pattern, str):
            raise invalid_pattern()
        patterns.append(pattern)
    compile_filters(patterns, kind)
    return {"Filters": [{"Pattern": p} for p in patterns]}


# -- record views --------------------------------------------------------------------------
Getter = Callable[[Any], Any]


_DECODE = json.JSONDecoder().decode
_WHITESPACE = " \t\n\r"


def _json_or_not(raw: str | bytes) -> Any:
    """A JSON object or array parsed from ``raw``; ``_NOT_JSON`` for anything else."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return _NOT_JSON
    first = text[:1]
    if first in _WHITESPACE and first:
        first = text.lstrip(_WHITESPACE)[:1]
    if first != "{" and first != "[":
        return _NOT_JSON  # a scalar or not JSON at all: no parse needed
    try:
        return _DECODE(text)
    except ValueError:
        return _NOT_JSON


def _kinesis_shard_id(record: Any) -> str:
    from ..sources.kinesis import shard_id_of_sequence

    return shard_id_of_sequence(record.seq)


class _Fields:
    """How a source's record fields are read: constants, attributes and computed values."""

    def __init__(
        self,
        constants: dict[str, Any],
        attributes: dict[str, str],
        computed: dict[str, Getter],
    ) -> None:
        self.constants = constants
        self.attributes = attributes
        self.computed = computed


def _fields(kind: str, region: str, source_arn: str, role_arn: str) -> _Fields:
    if kind == "kinesis":
        return _Fields(
            {
                "kinesisSchemaVersion": "1.0",
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": role_arn,
                "awsRegion": region,
                "eventSourceARN": source_arn,
            },
            {"partitionKey": "key", "sequenceNumber": "sequence_number"},
            {
                "approximateArrivalTimestamp": lambda r: r.arrival_ms / 1000,
                "eventID": lambda r: f"{_kinesis_shard_id(r)}:{r.sequence_number}",
            },
        )
    if kind == "dynamodb":
        return _Fields(
            {
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "eventSourceARN": source_arn,
            },
            {"eventID": "event_id", "eventName": "event_name", "dynamodb": "dynamodb"},
            {"userIdentity": lambda r: _MISSING if r.user_identity is None else r.user_identity},
        )
    return _Fields(
        {"eventSource": "aws:sqs", "eventSourceARN": source_arn, "awsRegion": region},
        {
            "messageId": "message_id",
            "receiptHandle": "receipt_handle",
            "attributes": "attributes",
            "md5OfBody": "md5_of_body",
        },
        {
            "messageAttributes": lambda m: {
                name: _lambda_message_attribute(value)
                for name, value in m.message_attributes.items()
            },
            "md5OfMessageAttributes": lambda m: (
                _MISSING if m.md5_of_message_attributes is None else m.md5_of_message_attributes
            ),
        },
    )


def make_record_filter(
    criteria: dict[str, Any] | None,
    kind: str,
    *,
    region: str,
    source_arn: str,
    role_arn: str = "",
) -> Callable[[Any], bool] | None:
    """The ``record_filter`` hook for a poller: True keeps a record; None when nothing filters.

    ``criteria`` is the validated ``FilterCriteria`` (``validate_filter_criteria``);
    records are the pollers' compact records (Kinesis / DynamoDB stream records,
    received SQS messages). The view of a record holds only the top-level keys
    the patterns name (a key the record lacks stays absent).
    """
    if not criteria:
        return None
    patterns = [f["Pattern"] for f in criteria["Filters"]]
    filters, keys = compile_filters(patterns, kind)
    fields = _fields(kind, region, source_arn, role_arn)
    base = {k: v for k, v in fields.constants.items() if k in keys}
    attrs = [(k, attrgetter(name)) for k, name in fields.attributes.items() if k in keys]
    computed = [(k, get) for k, get in fields.computed.items() if k in keys]
    data_key = _DATA_KEY[kind]
    read = data_key in keys and kind != "dynamodb"  # DynamoDB data is an attribute
    data_attr = "data" if kind == "kinesis" else "body"
    keep_raw = kind == "sqs"  # a plain body is matched as the string (§6)

    def view_of(record: Any) -> View:
        view: View = base.copy()
        for key, get in attrs:
            view[key] = get(record)
        for key, compute in computed:
            value = compute(record)
            if value is not _MISSING:
                view[key] = value
        if read:
            raw = getattr(record, data_attr)
            parsed = _json_or_not(raw)
            if parsed is _NOT_JSON:
                view[_IS_JSON] = False
                if keep_raw:
                    view[data_key] = raw
            else:
                view[_IS_JSON] = True
                view[data_key] = parsed
        return view

    if len(filters) == 1:
        (only,) = filters
        return lambda record: only(view_of(record))

    def keep(record: Any) -> bool:
        view = view_of(record)
        return any(matches(view) for matches in filters)

    return keep
