"""Reading an invocation's result as an event source mapping does (spec §2.6).

Every poller asks the same question after an invocation: did the whole batch succeed,
did part of it fail (``batchItemFailures``), did it all fail, or was the invocation
throttled? ``parse_batch_response`` answers it once for all of them.

With ``ReportBatchItemFailures`` (RBIF) on, by the §2.6 table (both columns agree):

==========================================================  ==================
function error, timeout                                     failure
``null`` response, ``{}``, an object without the key (§8.5) success
``{"batchItemFailures": null}`` or ``[]``                   success
valid ids                                                   partial
an ``itemIdentifier`` that is ``""``, ``null`` or missing   failure
(bad key name), or an item that is not an object
an id not in the batch                                      failure
a non-JSON payload, or JSON that is not an object           failure
``batchItemFailures`` neither a list nor null               failure [inf]
==========================================================  ==================

An integer ``itemIdentifier`` is read as its decimal string (the ESM's JSON reader
coerces scalars) [inf]. With RBIF off the response is ignored: anything but a function
error or timeout is a success, and ``ignored_failures`` tells the poller that the
function did report failures (Lambda then silently treats them as processed, a
misconfiguration worth a warning). A throttle is never a failure: it is reported as
``"throttled"`` so the poller retries without spending a retry attempt (§10.12).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final, Literal, Protocol

__all__ = ("BatchResponse", "BatchResponseKind", "parse_batch_response")

BatchResponseKind = Literal["success", "partial", "failure", "throttled"]

_KEY: Final = "batchItemFailures"


class _OutcomeLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def response(self) -> Any: ...


class BatchResponse:
    """How a batch fared.

    Attributes:
        kind: ``"success"``, ``"partial"`` (``failed_ids`` failed, the rest succeeded),
            ``"failure"`` (the whole batch failed) or ``"throttled"``.
        failed_ids: for ``"partial"``, the reported ids in **batch order**, each once
            (streams checkpoint at the first; SQS keeps exactly these); else empty.
        reason: why a batch failed: ``"function_error"``, ``"timeout"``,
            ``"invalid_response"`` (non-JSON or not an object), ``"malformed_failures"``
            (``batchItemFailures`` not a list, an item not an object),
            ``"invalid_item_identifier"`` (empty, null or missing key),
            ``"unknown_item_identifier"`` (not in the batch); None otherwise.
        ignored_failures: RBIF is off and the response carried a non-empty
            ``batchItemFailures``, which Lambda ignores.
    """

    __slots__ = ("failed_ids", "ignored_failures", "kind", "reason")

    def __init__(
        self,
        kind: BatchResponseKind,
        failed_ids: tuple[str, ...] = (),
        reason: str | None = None,
        ignored_failures: bool = False,
    ) -> None:
        self.kind = kind
        self.failed_ids = failed_ids
        self.reason = reason
        self.ignored_failures = ignored_failures

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResponse):
            return NotImplemented
        return (self.kind, self.failed_ids, self.reason, self.ignored_failures) == (
            other.kind,
            other.failed_ids,
            other.reason,
            other.ignored_failures,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"BatchResponse(kind={self.kind!r}, failed_ids={self.failed_ids!r}, "
            f"reason={self.reason!r}, ignored_failures={self.ignored_failures!r})"
        )


_SUCCESS = BatchResponse("success")
_THROTTLED = BatchResponse("throttled")
_IGNORED = BatchResponse("success", ignored_failures=True)


def _failure(reason: str) -> BatchResponse:
    return BatchResponse("failure", reason=reason)


def parse_batch_response(
    outcome: _OutcomeLike,
    family: Literal["stream", "sqs"],
    batch_ids: Sequence[str],
    report_batch_item_failures: bool,
) -> BatchResponse:
    """Classify ``outcome`` for a batch whose item ids are ``batch_ids``, per spec §2.6.

    Args:
        outcome: what ``Function.invoke`` returned (anything with ``status`` and
            ``response``).
        family: ``"stream"`` (Kinesis, DynamoDB Streams: ids are sequence numbers) or
            ``"sqs"`` (ids are message ids). The §2.6 rules are the same for both; the
            family is checked so a caller cannot pass something else by mistake.
        batch_ids: the batch's item identifiers, in batch order.
        report_batch_item_failures: whether ``FunctionResponseTypes`` contains
            ``ReportBatchItemFailures``.
    """
    if family not in ("stream", "sqs"):
        raise ValueError(f"family: {family!r} is not one of: stream, sqs")
    status = outcome.status
    if status == "throttled":
        return _THROTTLED
    if status == "timeout":
        return _failure("timeout")
    if status != "success":
        return _failure("function_error")
    response = outcome.response
    if response is None:
        return _SUCCESS
    if not report_batch_item_failures:
        failures = response.get(_KEY) if isinstance(response, dict) else None
        return _IGNORED if failures else _SUCCESS
    if isinstance(response, bytes | bytearray):
        try:
            response = json.loads(response)
        except ValueError:
            return _failure("invalid_response")
        if response is None:
            return _SUCCESS
    if not isinstance(response, dict):
        return _failure("invalid_response")
    failures = response.get(_KEY)
    if failures is None:
        return _SUCCESS
    if not isinstance(failures, list):
        return _failure("malformed_failures")
    if not failures:
        return _SUCCESS
    reported: list[str] = []
    for item in failures:
        if not isinstance(item, dict):
            return _failure("malformed_failures")
        ident = item.get("itemIdentifier")
        if isinstance(ident, int) and not isinstance(ident, bool):
            ident = str(ident)
        if not isinstance(ident, str) or not ident:
            return _failure("invalid_item_identifier")
        reported.append(ident)
    positions = {ident: index for index, ident in enumerate(batch_ids)}
    try:
        order = sorted({positions[ident] for ident in reported})
    except KeyError:
        return _failure("unknown_item_identifier")
    return BatchResponse("partial", tuple(batch_ids[index] for index in order))
