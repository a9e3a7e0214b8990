"""Function properties, validated like CloudFormation; the resource's identity and life."""

from __future__ import annotations

from typing import Any

import pytest

import esmsim
from esmsim import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from esmsim.handlers import Invocation

from .conftest import Invoke
from .events import sqs_event


def noop(event: Any, context: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("Timeout", 0, "1..900"),
        ("Timeout", 901, "1..900"),
        ("MemorySize", 127, "128..10240"),
        ("MemorySize", 10241, "128..10240"),
        ("ReservedConcurrentExecutions", -1, ">= 0"),
        ("Timeout", "3", "integer"),
    ],
)
def test_out_of_range_property_names_the_field_and_range(
    field: str, value: Any, allowed: str
) -> None:
    """Timeout 1-900 and MemorySize 128-10240 are enforced, naming the field and the range."""
    with esmsim.Simulation() as sim, pytest.raises(InvalidParameterValueException) as caught:
        sim.function("fn", noop, **{field: value})
    assert str(caught.value).startswith(f"{field}: ")
    assert allowed in str(caught.value)


def test_unknown_keyword_is_a_type_error_listing_the_allowed_ones() -> None:
    """A misspelt property is a ``TypeError`` naming it and what is allowed."""
    with esmsim.Simulation() as sim, pytest.raises(TypeError, match=r"'Timout'.*allowed: Timeout"):
        sim.function("fn", noop, Timout=3)


@pytest.mark.parametrize("name", ["", "a" * 65, "bad name", "fn.v2"])
def test_function_name_must_be_1_to_64_letters_digits_dash_underscore(name: str) -> None:
    """Names follow Lambda's pattern and length."""
    with (
        esmsim.Simulation() as sim,
        pytest.raises(InvalidParameterValueException, match="functionName"),
    ):
        sim.function(name, noop)


def test_arn_and_default_role_use_the_simulations_account() -> None:
    """``.arn`` is the Lambda function ARN; ``Role`` defaults to ``<name>-role`` (api.md)."""
    with esmsim.Simulation(region="eu-west-1", account_id="111122223333") as sim:
        fn = sim.function("orders-fn", noop)
        assert fn.arn == "arn:aws:lambda:eu-west-1:111122223333:function:orders-fn"
        assert fn.role == "arn:aws:iam::111122223333:role/orders-fn-role"
        assert sim.resource(fn.arn) is fn


def test_explicit_role_must_be_an_iam_role_arn() -> None:
    """A ``Role`` is kept as given when it is an IAM role ARN, refused otherwise."""
    with esmsim.Simulation() as sim:
        role = "arn:aws:iam::123456789012:role/service-role/consumer"
        assert sim.function("fn", noop, Role=role).role == role
        with pytest.raises(InvalidParameterValueException, match="'role'"):
            sim.function("other", noop, Role="consumer")


def test_second_function_with_the_same_name_conflicts() -> None:
    """Creating a function name twice raises ``ResourceConflictException``."""
    with esmsim.Simulation() as sim:
        sim.function("fn", noop)
        with pytest.raises(ResourceConflictException):
            sim.function("fn", noop)


def test_cloudformation_only_properties_are_accepted_and_reported() -> None:
    """Properties without effect (Description, Architectures...) are accepted and reported."""
    with esmsim.Simulation() as sim:
        fn = sim.function(
            "fn", noop, Description="orders", Architectures=["arm64"], Timeout=30, MemorySize=1024
        )
        config = fn.configuration()
    assert {
        key: config[key] for key in ("Description", "Architectures", "Timeout", "MemorySize")
    } == {
        "Description": "orders",
        "Architectures": ["arm64"],
        "Timeout": 30,
        "MemorySize": 1024,
    }


@pytest.mark.asyncio
async def test_deleted_function_cannot_be_invoked(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """Invoking a deleted function raises ``ResourceNotFoundException``."""
    fn = sim.function("fn", noop)
    fn.delete()
    with pytest.raises(ResourceNotFoundException):
        await invoke(fn, lambda: sqs_event(1))


@pytest.mark.asyncio
async def test_metrics_keep_running_totals_and_durations(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``metrics`` has the CloudWatch counters and durations in ms (latest, max, sum)."""

    def handler(event: dict[str, Any], context: Any) -> None:
        if len(event["Records"]) > 1:
            raise ValueError("too many")

    fn = sim.function("fn", handler, duration=0.5)
    await invoke(fn, lambda: sqs_event(1))
    await invoke(fn, lambda: sqs_event(2))
    assert fn.metrics == {
        "Invocations": 2,
        "Errors": 1,
        "Throttles": 0,
        "Duration": 500.0,
        "DurationMax": 500.0,
        "DurationSum": 1000.0,
        "ConcurrentExecutions": 0,
        "ConcurrentExecutionsMax": 1,
    }


@pytest.mark.asyncio
async def test_on_invocation_callbacks_see_every_attempt(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """``on_invocation`` callbacks receive each finished invocation and each throttle."""
    seen: list[Invocation] = []
    fn = sim.function("fn", noop)
    fn.on_invocation.append(seen.append)
    done = await invoke(fn, lambda: sqs_event(1))
    fn.put_function_concurrency(ReservedConcurrentExecutions=0)
    throttled = await invoke(fn, lambda: sqs_event(1))
    assert [(inv, inv.status) for inv in seen] == [(done, "success"), (throttled, "throttled")]
