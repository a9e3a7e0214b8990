"""The virtual clock: time jumps, holds, barriers, stalls, anyio timeouts."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio
import pytest

import esmsim
from esmsim import Simulation, SimulationStalled, VirtualTimeLoop
from esmsim._core import Clock


@pytest.mark.asyncio
async def test_a_simulated_day_takes_well_under_a_second() -> None:
    """``await sim.run(86400)`` advances ``sim.now`` by exactly 86400 in < 1 s of wall time."""
    started = time.perf_counter()
    async with Simulation() as sim:
        before = sim.now
        await sim.run(86400)
        assert sim.now - before == 86400.0
    assert time.perf_counter() - started < 1.0


def test_clock_sleep_of_a_day_takes_well_under_a_second() -> None:
    """``await clock.sleep(86400)`` on the virtual loop returns at once, 86400 s later."""

    async def main() -> float:
        loop = asyncio.get_running_loop()
        clock = Clock(loop, start_epoch=1_767_225_600.0)
        before = clock.now()
        await clock.sleep(86400)
        return clock.now() - before

    started = time.perf_counter()
    advanced = anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})
    assert advanced == 86400.0
    assert time.perf_counter() - started < 1.0


@pytest.mark.asyncio
async def test_thread_work_under_hold_moves_virtual_time_by_zero() -> None:
    """A 50 ms thread call under ``hold()`` spans 0 virtual seconds while a 1 s timer is pending."""

    async def scenario(clock: Clock) -> tuple[float, float, list[float]]:
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                await clock.sleep(1.0)
                ticks.append(clock.elapsed())

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            await clock.sleep(0.5)
            before = clock.elapsed()
            with clock.hold():
                await anyio.to_thread.run_sync(threading.Event().wait, 0.05)
            after = clock.elapsed()
            tg.cancel_scope.cancel()
        return before, after, ticks

    async with Simulation() as sim:
        before, after, ticks = await sim.call(scenario, sim.clock)
    assert after - before == 0.0
    assert ticks == []


@pytest.mark.asyncio
async def test_unheld_thread_work_lets_time_jump() -> None:
    """Without ``hold()`` the same thread call lets pending timers fire: hold protects it."""

    async def scenario(clock: Clock) -> float:
        async def ticker() -> None:
            while True:
                await clock.sleep(1.0)

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            before = clock.elapsed()
            await anyio.to_thread.run_sync(threading.Event().wait, 0.05)
            after = clock.elapsed()
            tg.cancel_scope.cancel()
        return after - before

    async with Simulation() as sim:
        assert await sim.call(scenario, sim.clock) > 1.0


@pytest.mark.asyncio
async def test_a_deadlock_raises_simulation_stalled_instead_of_hanging() -> None:
    """Waiting on an event nothing can set raises SimulationStalled within seconds."""

    async def deadlocked() -> None:
        await asyncio.Event().wait()

    started = time.perf_counter()
    async with Simulation() as sim:
        with pytest.raises(SimulationStalled, match="stalled"):
            await sim.call(deadlocked)
        # The simulation stays usable after a stall.
        await sim.run(10)
    assert time.perf_counter() - started < 5.0


@pytest.mark.asyncio
async def test_run_until_idle_stalls_when_a_task_can_never_finish() -> None:
    """``run_until_idle`` with a task blocked forever raises SimulationStalled."""

    async def blocked() -> None:
        await asyncio.Event().wait()

    async with Simulation() as sim:
        sim.start_soon(blocked)
        with pytest.raises(SimulationStalled):
            await sim.run_until_idle()


@pytest.mark.asyncio
async def test_anyio_fail_after_and_move_on_after_use_virtual_time() -> None:
    """``anyio.fail_after`` / ``move_on_after`` fire at their simulated deadlines."""

    async def scenario(clock: Clock) -> tuple[float, float]:
        start = clock.elapsed()
        with anyio.move_on_after(3600):
            await anyio.sleep(86400)
        moved_on = clock.elapsed() - start
        start = clock.elapsed()
        with pytest.raises(TimeoutError):
            with anyio.fail_after(5):
                await asyncio.sleep(60)
        return moved_on, clock.elapsed() - start

    async with Simulation() as sim:
        moved_on, failed = await sim.call(scenario, sim.clock)
    assert moved_on == 3600.0
    assert failed == 5.0


@pytest.mark.asyncio
async def test_async_code_in_the_simulation_spends_simulated_time() -> None:
    """``asyncio.sleep`` inside the simulation is simulated time; the caller's loop stays real."""
    caller_loop = asyncio.get_running_loop()

    async def nap() -> float:
        assert not isinstance(caller_loop, VirtualTimeLoop)
        assert isinstance(asyncio.get_running_loop(), VirtualTimeLoop)
        await asyncio.sleep(7200)
        return 1.0

    async with Simulation() as sim:
        before = sim.now
        assert await sim.call(nap) == 1.0
        assert sim.now - before == 7200.0
    assert type(caller_loop) is not VirtualTimeLoop


@pytest.mark.asyncio
async def test_run_finishes_everything_due_at_its_deadline() -> None:
    """Work due exactly at the deadline, and work it spawns at that instant, runs before pausing."""
    seen: list[str] = []

    async def chain(clock: Clock) -> None:
        await clock.sleep(10)
        seen.append("timer")
        await asyncio.sleep(0)
        seen.append("follow-up")

    async with Simulation() as sim:
        sim.start_soon(chain, sim.clock)
        await sim.run(10)
        assert seen == ["timer", "follow-up"]


@pytest.mark.asyncio
async def test_the_simulation_is_paused_between_runs() -> None:
    """Between runs nothing in the simulation runs and simulated time stands still."""
    ticks: list[float] = []

    async def ticker(clock: Clock) -> None:
        while True:
            await clock.sleep(1)
            ticks.append(clock.elapsed())

    async with Simulation() as sim:
        sim.start_soon(ticker, sim.clock)
        await sim.run(3)
        frozen_now, frozen_ticks = sim.now, list(ticks)
        await asyncio.sleep(0.02)  # real time passes for the caller only
        assert sim.now == frozen_now
        assert ticks == frozen_ticks == [1.0, 2.0, 3.0]
        await sim.run(2)
        assert ticks == [1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.asyncio
async def test_quiescence_barrier_resolves_when_every_task_waits_on_a_future_timer() -> None:
    """``clock.quiescent()`` returns at the current instant, after all ready work ran."""
    order: list[str] = []

    async def scenario(clock: Clock) -> float:
        async def busy() -> None:
            for _ in range(5):
                await asyncio.sleep(0)
            order.append("busy-done")
            await clock.sleep(100)

        async with anyio.create_task_group() as tg:
            tg.start_soon(busy)
            start = clock.elapsed()
            await clock.quiescent()
            order.append("quiescent")
            waited = clock.elapsed() - start
            tg.cancel_scope.cancel()
        return waited

    async with Simulation() as sim:
        assert await sim.call(scenario, sim.clock) == 0.0
    assert order == ["busy-done", "quiescent"]


@pytest.mark.asyncio
async def test_run_until_idle_waits_for_started_tasks_and_reports_elapsed() -> None:
    """``run_until_idle`` returns the simulated seconds it took for started tasks to finish."""

    async def job(clock: Clock) -> None:
        await clock.sleep(42)

    async with Simulation() as sim:
        sim.start_soon(job, sim.clock)
        assert await sim.run_until_idle() == 42.0
        assert await sim.run_until_idle() == 0.0


@pytest.mark.asyncio
async def test_run_until_idle_stops_at_max_seconds() -> None:
    """``max_seconds`` bounds ``run_until_idle`` even when work remains."""

    async def forever(clock: Clock) -> None:
        while True:
            await clock.sleep(7)

    async with Simulation() as sim:
        sim.start_soon(forever, sim.clock)
        assert await sim.run_until_idle(max_seconds=100) == 100.0


def test_sync_code_drives_a_simulation_with_run_sync() -> None:
    """``with Simulation()`` plus ``run_sync`` / ``run_until_idle_sync`` serve sync code."""
    with Simulation(start_time=0) as sim:
        sim.run_sync(60)
        assert sim.now == 60.0
        assert sim.run_until_idle_sync() == 0.0


def test_asyncio_run_hosts_a_simulation() -> None:
    """A simulation works under a plain ``asyncio.run``."""

    async def main() -> float:
        async with Simulation(start_time=1000) as sim:
            await sim.run(5)
            return sim.now

    assert asyncio.run(main()) == 1005.0


@pytest.mark.anyio
async def test_anyio_pytest_plugin_hosts_a_simulation() -> None:
    """A simulation works inside a test run by anyio's pytest plugin."""
    async with Simulation(start_time=0) as sim:
        await sim.run(3600)
        assert sim.now == 3600.0


@pytest.mark.asyncio
async def test_wall_mode_runs_the_same_code_in_real_time() -> None:
    """``clock="wall"`` uses a normal loop: a 20 ms run takes about 20 ms of real time."""
    async with Simulation(clock="wall") as sim:
        assert sim.clock.mode == "wall"
        before, started = sim.now, time.perf_counter()
        await sim.run(0.02)
        assert 0.015 < sim.now - before < 1.0
        assert time.perf_counter() - started >= 0.015


def test_default_start_time_is_2026_01_01_in_virtual_mode() -> None:
    """Virtual time starts at 2026-01-01T00:00:00Z unless told otherwise (api.md)."""
    with Simulation() as sim:
        assert sim.now == 1_767_225_600.0
        assert sim.clock.wall().isoformat() == "2026-01-01T00:00:00+00:00"


def test_start_time_accepts_datetime_epoch_and_iso_text() -> None:
    """``start_time`` takes a datetime, epoch seconds or ISO-8601 text."""
    for value in ("2024-01-01T00:00:00Z", 1_704_067_200, 1_704_067_200.0):
        with Simulation(start_time=value) as sim:
            assert sim.now == 1_704_067_200.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": "7"}, "seed"),
        ({"clock": "fast"}, "clock"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"account_id": "12"}, "account_id"),
    ],
)
def test_bad_simulation_arguments_name_the_field(kwargs: dict[str, object], message: str) -> None:
    """Bad constructor arguments raise an error naming the field."""
    with pytest.raises((TypeError, ValueError), match=message):
        Simulation(**kwargs)  # type: ignore[arg-type]


def test_a_crash_inside_the_simulation_reaches_the_caller() -> None:
    """An exception in a simulation task fails the run that was executing, not silently."""

    async def boom(clock: Clock) -> None:
        await clock.sleep(1)
        raise RuntimeError("poller bug")

    with Simulation() as sim:
        sim.start_soon(boom, sim.clock)
        with pytest.raises(RuntimeError, match="poller bug"):
            sim.run_sync(5)
        with pytest.raises(esmsim.SimulationClosed):
            sim.run_sync(1)


def test_clock_renders_milliseconds_exactly() -> None:
    """``now_ms`` is exact integer milliseconds even for float-unfriendly offsets."""

    async def main() -> list[int]:
        clock = Clock(asyncio.get_running_loop(), start_epoch=1_767_225_600.0)
        values = []
        for _ in range(3):
            await clock.sleep(0.1)
            values.append(clock.now_ms())
        return values

    got = anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})
    assert got == [1_767_225_600_100, 1_767_225_600_200, 1_767_225_600_300]


@pytest.mark.asyncio
async def test_clock_to_thread_blocks_the_simulation_and_freezes_time() -> None:
    """``clock.to_thread`` runs work off the loop while nothing else in the simulation moves."""
    order: list[str] = []

    async def scenario(clock: Clock) -> float:
        async def other() -> None:
            order.append("other")

        async with anyio.create_task_group() as tg:
            tg.start_soon(other)
            before = clock.elapsed()
            name = await clock.to_thread(lambda: threading.current_thread().name)
            order.append(f"thread:{name.split('_')[0]}")
            tg.start_soon(other)
        return clock.elapsed() - before

    async with Simulation() as sim:
        assert await sim.call(scenario, sim.clock) == 0.0
    assert order[0] == "thread:esmsim-worker"
    assert order.count("other") == 2


@pytest.mark.asyncio
async def test_a_signal_wakes_an_idle_waiter_without_timers() -> None:
    """An idle task waiting on a Signal costs no timer and wakes when fired from outside."""
    from esmsim._core import Signal

    woke: list[float] = []

    async with Simulation(start_time=0) as sim:
        signal = Signal(sim.kernel)

        async def waiter() -> None:
            await signal.wait()
            woke.append(sim.now)

        sim.start_soon(waiter)
        await sim.run(100)
        assert woke == []
        signal.fire()  # from the caller's thread, while paused
        signal.fire()  # coalesced
        await sim.run(1)
        assert woke == [100.0]
