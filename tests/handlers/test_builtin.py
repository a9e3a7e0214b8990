"""The built-in experiment handlers, configured through environment variables."""

from __future__ import annotations

from typing import Any

import pytest

import esmsim

from .conftest import Invoke
from .events import (
    dynamodb_record,
    item_ids,
    kinesis_record,
    sqs_event,
    sqs_record,
)

BUILTIN = "esmsim.handlers.builtin"


def variables(**values: str) -> dict[str, Any]:
    return {"Variables": values}


@pytest.mark.asyncio
async def test_succeed_always_succeeds(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """``succeed`` returns null: a complete success."""
    fn = sim.function("fn", f"{BUILTIN}.succeed")
    inv = await invoke(fn, lambda: sqs_event(3))
    assert (inv.status, inv.response) == ("success", None)


@pytest.mark.asyncio
async def test_fail_raises_on_every_invocation_by_default(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``fail`` without settings is a function error every time."""
    fn = sim.function("fn", f"{BUILTIN}.fail")
    statuses = {(await invoke(fn, lambda: sqs_event(1))).error for _ in range(3)}
    assert statuses == {"Unhandled"}


async def fail_pattern(seed: int, rate: str) -> list[str]:
    async with esmsim.Simulation(seed=seed) as sim:
        fn = sim.function("fn", f"{BUILTIN}.fail", Environment=variables(ESMSIM_FAIL_RATE=rate))

        async def many() -> list[str]:
            return [(await fn.invoke(lambda: sqs_event(1))).status for _ in range(400)]

        return await sim.call(many)


@pytest.mark.asyncio
async def test_fail_rate_fails_that_fraction_of_invocations_deterministically() -> None:
    """``ESMSIM_FAIL_RATE=0.25`` fails about a quarter of invocations, the same ones per seed."""
    first = await fail_pattern(1, "0.25")
    assert first == await fail_pattern(1, "0.25")
    assert first != await fail_pattern(2, "0.25")
    assert first.count("function_error") / len(first) == pytest.approx(0.25, abs=0.06)


@pytest.mark.asyncio
async def test_poison_raises_when_a_record_matches(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """``poison`` fails the batch when an SQS body's field equals the poison value."""
    fn = sim.function(
        "fn",
        f"{BUILTIN}.poison",
        Environment=variables(ESMSIM_POISON_FIELD="order.status", ESMSIM_POISON_VALUE="broken"),
    )
    good = sqs_record(1, body='{"order": {"status": "ok"}}')
    bad = sqs_record(2, body='{"order": {"status": "broken"}}')
    assert (await invoke(fn, lambda: {"Records": [dict(good)]})).status == "success"
    inv = await invoke(fn, lambda: {"Records": [dict(good), dict(bad)]})
    assert (inv.status, inv.error) == ("function_error", "Unhandled")
    assert inv.error_message is not None
    assert bad["messageId"] in inv.error_message


@pytest.mark.asyncio
async def test_poison_in_partial_mode_reports_the_kinesis_record(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """With ``ESMSIM_FAILURE_MODE=partial`` the poison Kinesis record is a batch item failure."""
    fn = sim.function(
        "fn",
        f"{BUILTIN}.poison",
        Environment=variables(
            ESMSIM_POISON_FIELD="n", ESMSIM_POISON_VALUE="2", ESMSIM_FAILURE_MODE="partial"
        ),
    )
    event = {"Records": [kinesis_record(n) for n in (1, 2, 3)]}
    inv = await invoke(fn, lambda: {"Records": [dict(r) for r in event["Records"]]})
    assert inv.response == {"batchItemFailures": [{"itemIdentifier": item_ids(event)[1]}]}


@pytest.mark.asyncio
async def test_poison_reads_the_dynamodb_new_image(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """DynamoDB records are matched on their ``NewImage``, read as plain values."""
    fn = sim.function(
        "fn",
        f"{BUILTIN}.partial",
        Environment=variables(ESMSIM_POISON_FIELD="status", ESMSIM_POISON_VALUE="FAILED"),
    )
    event = {"Records": [dynamodb_record(1), dynamodb_record(2, status="FAILED")]}
    inv = await invoke(fn, lambda: {"Records": [dict(r) for r in event["Records"]]})
    assert inv.response == {"batchItemFailures": [{"itemIdentifier": item_ids(event)[1]}]}


@pytest.mark.asyncio
async def test_partial_with_nothing_failed_returns_an_empty_list(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``partial`` returns ``{"batchItemFailures": []}`` when no record failed."""
    fn = sim.function("fn", f"{BUILTIN}.partial")
    assert (await invoke(fn, lambda: sqs_event(3))).response == {"batchItemFailures": []}


@pytest.mark.asyncio
async def test_partial_fail_rate_reports_a_fraction_of_records(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``partial`` with ``ESMSIM_FAIL_RATE`` reports about that fraction of records."""
    fn = sim.function("fn", f"{BUILTIN}.partial", Environment=variables(ESMSIM_FAIL_RATE="0.5"))
    inv = await invoke(fn, lambda: sqs_event(200))
    reported = len(inv.response["batchItemFailures"])
    assert reported == pytest.approx(100, abs=25)


@pytest.mark.asyncio
async def test_partial_on_fifo_reports_everything_after_the_first_failure(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """On a FIFO queue the failed record and every later one are reported (§2.6 FIFO note)."""
    fn = sim.function(
        "fn",
        f"{BUILTIN}.partial",
        Environment=variables(ESMSIM_POISON_FIELD="n", ESMSIM_POISON_VALUE="2"),
    )
    event = sqs_event(4, group="g1")
    inv = await invoke(fn, lambda: sqs_event(4, group="g1"))
    assert inv.response == {
        "batchItemFailures": [{"itemIdentifier": i} for i in item_ids(event)[1:]]
    }


@pytest.mark.asyncio
async def test_slow_sleeps_simulated_time(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """``slow`` awaits ``ESMSIM_SLEEP`` simulated seconds, then succeeds."""
    fn = sim.function(
        "fn", f"{BUILTIN}.slow", Timeout=10, duration=0, Environment=variables(ESMSIM_SLEEP="2.5")
    )
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.duration) == ("success", pytest.approx(2.5))


@pytest.mark.asyncio
async def test_slow_past_timeout_times_out(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """A ``slow`` sleep drawn from a distribution past Timeout is a timeout."""
    sleep = '{"distribution": "uniform", "min": 5, "max": 6}'
    fn = sim.function("fn", f"{BUILTIN}.slow", Timeout=3, Environment=variables(ESMSIM_SLEEP=sleep))
    assert (await invoke(fn, lambda: sqs_event(1))).status == "timeout"


@pytest.mark.asyncio
async def test_bad_builtin_setting_is_a_function_error_naming_it(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A misconfigured built-in fails its invocations with a message naming the variable."""
    fn = sim.function("fn", f"{BUILTIN}.fail", Environment=variables(ESMSIM_FAIL_RATE="often"))
    inv = await invoke(fn, lambda: sqs_event(1))
    assert inv.error_message is not None
    assert "ESMSIM_FAIL_RATE" in inv.error_message
