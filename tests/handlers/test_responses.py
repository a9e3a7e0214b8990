"""parse_batch_response: spec §2.6, row by row, for both the stream and the SQS column."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import esmsim
from esmsim.handlers import BatchResponse, parse_batch_response

from .conftest import Invoke
from .events import item_ids, kinesis_event, sqs_event

# Each row: (name, make handler given the batch's ids, expected kind, expected failed positions).
Row = tuple[str, Callable[[list[str]], Callable[..., Any]], str, tuple[int, ...]]


def returning(value: Callable[[list[str]], Any]) -> Callable[[list[str]], Callable[..., Any]]:
    return lambda ids: lambda event, context: value(ids)


def raising(ids: list[str]) -> Callable[..., Any]:
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("record 2 is bad")

    return handler


def sleeping(ids: list[str]) -> Callable[..., Any]:
    async def handler(event: Any, context: Any) -> None:
        await asyncio.sleep(10)

    return handler


def failures(*items: Any) -> dict[str, Any]:
    return {"batchItemFailures": list(items)}


ROWS: list[Row] = [
    ("function error", raising, "failure", ()),
    ("timeout", sleeping, "failure", ()),
    ("null response", returning(lambda ids: None), "success", ()),
    ("empty object", returning(lambda ids: {}), "success", ()),
    ("null list", returning(lambda ids: {"batchItemFailures": None}), "success", ()),
    ("empty list", returning(lambda ids: failures()), "success", ()),
    ("object without the key (§8.5)", returning(lambda ids: {"statusCode": 200}), "success", ()),
    ("valid id", returning(lambda ids: failures({"itemIdentifier": ids[1]})), "partial", (1,)),
    (
        "valid ids out of order, repeated",
        returning(
            lambda ids: failures(
                {"itemIdentifier": ids[2]}, {"itemIdentifier": ids[0]}, {"itemIdentifier": ids[2]}
            )
        ),
        "partial",
        (0, 2),
    ),
    ("empty string id", returning(lambda ids: failures({"itemIdentifier": ""})), "failure", ()),
    ("null id", returning(lambda ids: failures({"itemIdentifier": None})), "failure", ()),
    ("bad key name", returning(lambda ids: failures({"itemId": ids[0]})), "failure", ()),
    (
        "id not in the batch",
        returning(lambda ids: failures({"itemIdentifier": "42"})),
        "failure",
        (),
    ),
    ("non-JSON response", returning(lambda ids: b"<html>oops</html>"), "failure", ()),
]

FAMILIES = {"stream": kinesis_event, "sqs": sqs_event}


@pytest.mark.asyncio
@pytest.mark.parametrize("family", ["stream", "sqs"])
@pytest.mark.parametrize(("row", "make", "kind", "failed"), ROWS, ids=[row[0] for row in ROWS])
async def test_batch_item_failures_follow_the_partial_batch_table(
    sim: esmsim.Simulation,
    invoke: Invoke,
    family: str,
    row: str,
    make: Callable[[list[str]], Callable[..., Any]],
    kind: str,
    failed: tuple[int, ...],
) -> None:
    """Each row of the spec §2.6 table gives its documented result with RBIF on."""
    build = FAMILIES[family]
    ids = item_ids(build(3))
    fn = sim.function("fn", make(ids), Timeout=3)
    outcome = await invoke(fn, lambda: build(3))
    parsed = parse_batch_response(outcome, family, ids, report_batch_item_failures=True)  # type: ignore[arg-type]
    assert parsed.kind == kind
    assert parsed.failed_ids == tuple(ids[index] for index in failed)


@pytest.mark.asyncio
async def test_reported_failures_are_ignored_without_rbif(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Without RBIF the response is ignored (success), flagged for a warning (§2.6)."""
    ids = item_ids(sqs_event(3))
    fn = sim.function("fn", lambda event, context: failures({"itemIdentifier": ids[0]}))
    outcome = await invoke(fn, lambda: sqs_event(3))
    parsed = parse_batch_response(outcome, "sqs", ids, report_batch_item_failures=False)
    assert parsed == BatchResponse("success", ignored_failures=True)


@pytest.mark.asyncio
async def test_function_error_fails_the_batch_without_rbif(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A function error is a complete failure whether or not RBIF is on (§2.6)."""
    ids = item_ids(kinesis_event(2))
    fn = sim.function("fn", raising(ids))
    outcome = await invoke(fn, lambda: kinesis_event(2))
    parsed = parse_batch_response(outcome, "stream", ids, report_batch_item_failures=False)
    assert (parsed.kind, parsed.reason) == ("failure", "function_error")


@pytest.mark.asyncio
async def test_throttle_is_neither_success_nor_failure(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A throttled invoke parses as ``"throttled"``: retried, never a retry attempt (§10.12)."""
    ids = item_ids(sqs_event(1))
    fn = sim.function("fn", lambda event, context: None, ReservedConcurrentExecutions=0)
    outcome = await invoke(fn, lambda: sqs_event(1))
    assert (
        parse_batch_response(outcome, "sqs", ids, report_batch_item_failures=True).kind
        == "throttled"
    )


@pytest.mark.asyncio
async def test_json_that_is_not_an_object_fails_the_batch(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A JSON response that is not an object (a string, a list) is an invalid response [inf]."""
    ids = item_ids(sqs_event(2))
    fn = sim.function("fn", lambda event, context: "batchItemFailures")
    outcome = await invoke(fn, lambda: sqs_event(2))
    parsed = parse_batch_response(outcome, "sqs", ids, report_batch_item_failures=True)
    assert (parsed.kind, parsed.reason) == ("failure", "invalid_response")
