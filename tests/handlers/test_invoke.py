"""The invoke path: fresh events, the runtime's JSON marshalling, errors, where code runs."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from decimal import Decimal
from typing import Any

import pytest

import esmsim

from .conftest import Invoke
from .events import sqs_event


@pytest.mark.asyncio
async def test_response_is_the_json_value_of_the_return_value(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """The poller reads the JSON round trip: tuples become lists, keys strings, Decimal numbers."""

    def handler(event: Any, context: Any) -> Any:
        return {"ids": ("a", "b"), 7: "seven", "amount": Decimal("12.5"), "none": None}

    fn = sim.function("fn", handler)
    inv = await invoke(fn, lambda: sqs_event(1))
    assert inv.status == "success"
    assert inv.response == {"ids": ["a", "b"], "7": "seven", "amount": 12.5, "none": None}


@pytest.mark.asyncio
async def test_unserializable_response_is_a_marshal_error(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A response JSON cannot encode is the function error ``Runtime.MarshalError``."""
    fn = sim.function("fn", lambda event, context: {"ids": {"a", "b"}})
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.error, inv.error_type) == (
        "function_error",
        "Runtime.MarshalError",
        "Runtime.MarshalError",
    )
    assert (
        inv.error_message
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert inv.response is None
    assert fn.metrics["Errors"] == 1


@pytest.mark.asyncio
async def test_bytes_response_that_is_not_json_stays_bytes(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Bytes go out as they are (as in awslambdaric); non-JSON bytes stay visible as bytes."""
    fn = sim.function("fn", lambda event, context: b"not json")
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.response) == ("success", b"not json")


@pytest.mark.asyncio
async def test_exception_is_an_unhandled_function_error(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A raised exception is a function error ``"Unhandled"`` counted in ``Errors`` (§2.6)."""

    def handler(event: Any, context: Any) -> None:
        raise ValueError("boom")

    fn = sim.function("fn", handler)
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.error, inv.error_type) == ("function_error", "Unhandled", "Unhandled")
    assert inv.error_message == "ValueError: boom"
    assert (fn.metrics["Invocations"], fn.metrics["Errors"]) == (1, 1)


@pytest.mark.asyncio
async def test_async_exception_is_an_unhandled_function_error(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """An ``async def`` handler that raises after awaiting is ``"Unhandled"`` as well."""

    async def handler(event: Any, context: Any) -> None:
        await asyncio.sleep(0.5)
        raise KeyError("order")

    fn = sim.function("fn", handler)
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.error, inv.error_message) == (
        "function_error",
        "Unhandled",
        "KeyError: 'order'",
    )


@pytest.mark.asyncio
async def test_sys_exit_is_a_runtime_exit_error(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """``sys.exit`` in a handler is ``Runtime.ExitError`` and does not stop the simulation."""

    def handler(event: Any, context: Any) -> None:
        raise SystemExit(3)

    fn = sim.function("fn", handler)
    inv = await invoke(fn, lambda: sqs_event(1))
    assert (inv.status, inv.error) == ("function_error", "Runtime.ExitError")
    await sim.run(1)


@pytest.mark.asyncio
async def test_every_invocation_gets_a_freshly_built_event(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A handler mutating its event changes neither the next event nor ``Invocation.event``."""
    seen: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.append(len(event["Records"]))
        event["Records"].clear()

    fn = sim.function("fn", handler)
    first = await invoke(fn, lambda: sqs_event(2))
    await invoke(fn, lambda: sqs_event(2))
    assert seen == [2, 2]
    assert len(first.event["Records"]) == 2


@pytest.mark.asyncio
async def test_plain_handler_runs_without_a_running_loop(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A plain handler sees no running event loop, so ``asyncio.run`` works inside it."""
    facts: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> int:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            facts["running_loop"] = None
        else:
            facts["running_loop"] = "present"
        return asyncio.run(asyncio.sleep(0, result=5))

    fn = sim.function("fn", handler)
    inv = await invoke(fn, lambda: sqs_event(1))
    second = await invoke(fn, lambda: sqs_event(1))
    assert (inv.response, second.response) == (5, 5)
    assert facts["running_loop"] is None


@pytest.mark.asyncio
async def test_async_handler_awaits_simulated_time(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """An ``async def`` handler's ``asyncio.sleep`` is simulated time, plus its ``duration``."""

    async def handler(event: Any, context: Any) -> str:
        await asyncio.sleep(2)
        return "done"

    fn = sim.function("fn", handler, Timeout=10, duration=0.25)
    inv = await invoke(fn, lambda: sqs_event(1))
    assert inv.response == "done"
    assert inv.duration == pytest.approx(2.25)
    assert inv.ended_at - inv.started_at == pytest.approx(2.25)


@pytest.mark.asyncio
async def test_plain_handler_takes_its_modelled_duration(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A plain handler's simulated duration is its ``duration`` (time stands still inside)."""
    fn = sim.function("fn", lambda event, context: None, duration=0.75)
    before = sim.now
    inv = await invoke(fn, lambda: sqs_event(1))
    assert inv.duration == 0.75
    assert inv.started_at == before
    assert sim.now - before == pytest.approx(0.75)


@pytest.mark.asyncio
async def test_default_duration_is_ten_milliseconds(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """Without ``duration`` a plain invocation takes the documented default, 0.01 s."""
    fn = sim.function("fn", lambda event, context: None)
    assert (await invoke(fn, lambda: sqs_event(1))).duration == pytest.approx(0.01)


@pytest.mark.asyncio
async def test_invocations_are_logged_in_start_order_with_their_facts(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``function.invocations`` keeps each invocation's event, response, error and times."""

    def handler(event: dict[str, Any], context: Any) -> Any:
        if len(event["Records"]) == 2:
            raise RuntimeError("two")
        return {"batchItemFailures": []}

    fn = sim.function("fn", handler)
    ok = await invoke(fn, lambda: sqs_event(1), source="sqs", mapping_uuid="uuid-1")
    bad = await invoke(fn, lambda: sqs_event(2))
    assert fn.invocations == [ok, bad]
    assert (ok.response, ok.error, ok.source, ok.mapping_uuid) == (
        {"batchItemFailures": []},
        None,
        "sqs",
        "uuid-1",
    )
    assert (bad.response, bad.error) == (None, "Unhandled")
    assert ok.started_at < ok.ended_at <= bad.started_at < bad.ended_at
    assert ok.request_id != bad.request_id


def test_plain_handler_runs_without_a_thread_and_its_context_variables_stay_its_own() -> None:
    """Virtual mode starts no thread for plain handlers; context variables they set don't leak."""
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    before = {t.name for t in threading.enumerate()}

    def handler(event: Any, context: Any) -> str:
        marker.set("handler")
        return marker.get()

    with esmsim.Simulation(seed=41) as sim:
        fn = sim.function("fn", handler)
        inv = sim.call_sync(lambda: fn.invoke(lambda: sqs_event(1)))
        started = {t.name for t in threading.enumerate()} - before
        assert inv.response == "handler"
        assert sim.call_sync(lambda: _read(marker)) == "unset"
    assert not any("handler" in name for name in started)


async def _read(var: contextvars.ContextVar[str]) -> str:
    return var.get()


@pytest.mark.asyncio
async def test_wall_clock_mode_runs_plain_and_async_handlers() -> None:
    """In wall mode both kinds of handler run through the same path (threads overlap there)."""

    async def async_handler(event: Any, context: Any) -> str:
        return os.environ["AWS_LAMBDA_FUNCTION_NAME"]

    async with esmsim.Simulation(clock="wall") as sim:
        plain = sim.function("plain", lambda event, context: context.function_name, duration=0)
        coro = sim.function("coro", async_handler, duration=0)
        first = await sim.call(lambda: plain.invoke(lambda: sqs_event(1)))
        second = await sim.call(lambda: coro.invoke(lambda: sqs_event(1)))
    assert (first.status, first.response) == ("success", "plain")
    assert (second.status, second.response) == ("success", "coro")


def test_invocation_log_keeps_the_newest_invocations_when_bounded() -> None:
    """``Simulation(invocation_log=N)`` keeps at least the newest N invocations; 0 keeps none."""
    for keep in (0, 3):
        with esmsim.Simulation(seed=2, invocation_log=keep) as sim:
            fn = sim.function("fn", lambda event, context: len(event["Records"]))

            async def ten(fn: Any = fn) -> None:
                for n in range(1, 11):
                    await fn.invoke(lambda n=n: sqs_event(n))

            sim.call_sync(ten)
            responses = [inv.response for inv in fn.invocations]
            assert fn.metrics["Invocations"] == 10
            if keep == 0:
                assert responses == []
            else:
                assert keep <= len(responses) < 2 * keep
                assert responses == list(range(11 - len(responses), 11))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_invocation_log_must_be_a_count_or_none(bad: Any) -> None:
    """A bad ``invocation_log`` is refused with its name and what is allowed."""
    with pytest.raises(ValueError, match="invocation_log: expected an integer >= 0 or None"):
        esmsim.Simulation(invocation_log=bad)
