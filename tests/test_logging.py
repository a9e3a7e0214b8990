"""esmsim's logs: private pipeline, simulated time, never the root logger."""

from __future__ import annotations

import io
import json
import logging

import structlog

import esmsim
from esmsim._core import get_logger
from esmsim._core._logging import capture, configure, current_clock


def test_importing_and_running_leaves_logging_configuration_alone() -> None:
    """Neither the root logger nor structlog's global config is touched by esmsim."""
    root_handlers = list(logging.getLogger().handlers)
    structlog_config = structlog.get_config()
    with esmsim.Simulation() as sim:
        sim.run_sync(10)
    assert logging.getLogger().handlers == root_handlers
    assert structlog.get_config() == structlog_config


def test_every_line_carries_the_simulated_time() -> None:
    """A line logged under a simulation's clock has its simulated time as ``sim_time``."""
    stream = io.StringIO()
    configure(level="info", format="json", stream=stream)
    try:
        with esmsim.Simulation(start_time="2024-05-01T12:00:00Z") as sim:
            sim.run_sync(1.5)
            token = current_clock.set(sim.clock)
            try:
                get_logger(mapping="m-1").info("invoke.complete", batch_size=3)
            finally:
                current_clock.reset(token)
    finally:
        configure(level="warning")
    line = json.loads(stream.getvalue())
    assert line == {
        "event": "invoke.complete",
        "level": "info",
        "mapping": "m-1",
        "batch_size": 3,
        "sim_time": "2024-05-01T12:00:01.500Z",
    }


def test_levels_below_the_configured_level_are_dropped() -> None:
    """Library default is warnings only; debug lines cost nothing visible."""
    stream = io.StringIO()
    configure(level="warning", format="json", stream=stream)
    try:
        get_logger().info("poll.batch")
        get_logger().warning("handler.ignored_batch_item_failures")
    finally:
        configure(level="warning")
    assert [json.loads(x)["event"] for x in stream.getvalue().splitlines()] == [
        "handler.ignored_batch_item_failures"
    ]


def test_capture_collects_events_as_dicts() -> None:
    """``capture()`` gathers events for assertions instead of writing them."""
    with capture() as events:
        get_logger(shard="shardId-000000000000").debug("checkpoint.advanced", seq="42")
    assert events == [
        {
            "event": "checkpoint.advanced",
            "shard": "shardId-000000000000",
            "seq": "42",
            "level": "debug",
        }
    ]
