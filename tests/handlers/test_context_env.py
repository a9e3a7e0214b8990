"""What a handler sees: the Lambda context object and the function's environment variables."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any

import pytest

import esmsim
from esmsim import InvalidParameterValueException

from .conftest import Invoke
from .events import dynamodb_event

RUNTIME_VARIABLES = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_TIMEOUT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "_HANDLER",
    "AWS_EXECUTION_ENV",
)


def context_facts(event: Any, context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": context.identity,
        "client_context": context.client_context,
        "tenant_id": context.tenant_id,
    }


def environment_facts(event: Any, context: Any) -> dict[str, Any]:
    return {
        key: os.environ.get(key) for key in (*RUNTIME_VARIABLES, "TABLE_NAME", "LAMBDA_TASK_ROOT")
    }


@pytest.mark.asyncio
async def test_context_has_the_runtime_attributes(sim: esmsim.Simulation, invoke: Invoke) -> None:
    """The context carries awslambdaric's attributes; ``memory_limit_in_mb`` is a string."""
    fn = sim.function("orders-fn", context_facts, MemorySize=256)
    inv = await invoke(fn, lambda: dynamodb_event(1))
    facts = inv.response
    assert facts["aws_request_id"] == inv.request_id
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", inv.request_id
    )
    assert re.fullmatch(r"2026/01/01/\[\$LATEST\][0-9a-f]{32}", facts.pop("log_stream_name"))
    facts.pop("aws_request_id")
    assert facts == {
        "function_name": "orders-fn",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders-fn",
        "memory_limit_in_mb": "256",
        "log_group_name": "/aws/lambda/orders-fn",
        "identity": None,
        "client_context": None,
        "tenant_id": None,
    }


@pytest.mark.asyncio
async def test_request_id_is_fresh_for_every_invocation(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Each invocation gets its own ``aws_request_id``."""
    fn = sim.function("fn", lambda event, context: context.aws_request_id)
    ids = [(await invoke(fn, lambda: dynamodb_event(1))).response for _ in range(3)]
    assert len(set(ids)) == 3


@pytest.mark.asyncio
async def test_handler_sees_lambdas_variables_and_its_own(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Lambda's variables and ``Environment.Variables`` are set; ``LAMBDA_TASK_ROOT`` is not."""
    fn = sim.function(
        "orders-fn",
        environment_facts,
        MemorySize=512,
        Timeout=30,
        Runtime="python3.12",
        Environment={"Variables": {"TABLE_NAME": "orders"}},
    )
    env = (await invoke(fn, lambda: dynamodb_event(1))).response
    assert re.fullmatch(
        r"2026/01/01/\[\$LATEST\][0-9a-f]{32}", env.pop("AWS_LAMBDA_LOG_STREAM_NAME")
    )
    assert env == {
        "AWS_LAMBDA_FUNCTION_NAME": "orders-fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders-fn",
        "_HANDLER": f"{__name__}.environment_facts",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "TABLE_NAME": "orders",
        "LAMBDA_TASK_ROOT": None,
    }


@pytest.mark.asyncio
async def test_execution_env_defaults_to_the_host_python(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Without ``Runtime``, ``AWS_EXECUTION_ENV`` names the Python running the simulation."""
    fn = sim.function("fn", lambda event, context: os.environ["AWS_EXECUTION_ENV"])
    expected = f"AWS_Lambda_python{sys.version_info[0]}.{sys.version_info[1]}"
    assert (await invoke(fn, lambda: dynamodb_event(1))).response == expected


@pytest.mark.asyncio
async def test_variables_are_restored_after_the_invocation(
    sim: esmsim.Simulation, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an invocation ``os.environ`` is as before: added keys gone, covered keys restored."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.delenv("TABLE_NAME", raising=False)
    fn = sim.function(
        "fn",
        lambda event, context: os.environ["AWS_REGION"],
        Environment={"Variables": {"TABLE_NAME": "orders"}},
    )
    assert (await invoke(fn, lambda: dynamodb_event(1))).response == "us-east-1"
    assert os.environ["AWS_REGION"] == "eu-west-1"
    assert "TABLE_NAME" not in os.environ
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ


@pytest.mark.asyncio
async def test_plain_functions_never_see_each_others_variables(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """Function B's handler does not see function A's variables, before or after A ran."""

    def reader(event: Any, context: Any) -> Any:
        return [os.environ.get("ONLY_A"), os.environ.get("ONLY_B")]

    first = sim.function("a", reader, Environment={"Variables": {"ONLY_A": "a"}})
    second = sim.function("b", reader, Environment={"Variables": {"ONLY_B": "b"}})
    assert (await invoke(first, lambda: dynamodb_event(1))).response == ["a", None]
    assert (await invoke(second, lambda: dynamodb_event(1))).response == [None, "b"]


@pytest.mark.asyncio
async def test_concurrent_async_functions_never_see_each_others_variables(
    sim: esmsim.Simulation,
) -> None:
    """Interleaved async invocations of two functions each see only their own variables."""

    async def reader(event: Any, context: Any) -> Any:
        seen = []
        for _ in range(3):
            seen.append((os.environ.get("ONLY_A"), os.environ.get("ONLY_B")))
            await asyncio.sleep(0.5)
        return seen

    first = sim.function("a", reader, Environment={"Variables": {"ONLY_A": "a"}})
    second = sim.function("b", reader, Environment={"Variables": {"ONLY_B": "b"}})

    async def both() -> list[Any]:
        return list(
            await asyncio.gather(
                first.invoke(lambda: dynamodb_event(1)), second.invoke(lambda: dynamodb_event(1))
            )
        )

    one, two = await sim.call(both)
    assert one.response == [["a", None]] * 3
    assert two.response == [[None, "b"]] * 3


@pytest.mark.asyncio
async def test_sequential_invocations_reuse_an_execution_environment(
    sim: esmsim.Simulation, invoke: Invoke
) -> None:
    """A warm environment (log stream) serves the next invocation; concurrent ones differ."""

    async def stream(event: Any, context: Any) -> str:
        await asyncio.sleep(1)
        return context.log_stream_name

    fn = sim.function("fn", stream)
    first = (await invoke(fn, lambda: dynamodb_event(1))).response
    second = (await invoke(fn, lambda: dynamodb_event(1))).response

    async def two() -> list[Any]:
        return list(
            await asyncio.gather(
                fn.invoke(lambda: dynamodb_event(1)), fn.invoke(lambda: dynamodb_event(1))
            )
        )

    third, fourth = await sim.call(two)
    assert first == second
    assert third.response != fourth.response


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {"Variables": {"AWS_REGION": "eu-west-1"}},
            "Reserved keys used in this request: AWS_REGION",
        ),
        ({"Variables": {"LIMIT": 5}}, "Environment.Variables.LIMIT: expected a string"),
        ({"Variables": {"1BAD": "x"}}, "Map keys must satisfy constraint"),
        ({"Vars": {}}, "unknown key 'Vars'"),
        ({"Variables": {"BIG": "x" * 5000}}, "exceeded the 4KB limit"),
    ],
)
def test_invalid_environment_is_rejected_like_lambda(environment: Any, message: str) -> None:
    """Variables are checked as Lambda does: names, reserved keys, strings, 4 KB."""
    with (
        esmsim.Simulation() as sim,
        pytest.raises(InvalidParameterValueException, match=re.escape(message)),
    ):
        sim.function("fn", lambda event, context: None, Environment=environment)


def test_variables_never_leak_between_functions_or_out_of_a_run() -> None:
    """Within one run, back-to-back plain invocations of two functions each see only their own
    variables, and once the run returns ``os.environ`` holds none of them."""

    def reader(event: Any, context: Any) -> Any:
        return [os.environ.get("ONLY_A"), os.environ.get("ONLY_B"), context.function_name]

    with esmsim.Simulation(seed=5) as sim:
        first = sim.function("a", reader, Environment={"Variables": {"ONLY_A": "a"}})
        second = sim.function("b", reader, Environment={"Variables": {"ONLY_B": "b"}})

        async def alternate() -> list[Any]:
            order = (first, first, second, first, second, second)
            return [(await fn.invoke(lambda: dynamodb_event(1))).response for fn in order]

        responses = sim.call_sync(alternate)
        assert "ONLY_A" not in os.environ and "ONLY_B" not in os.environ
        assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    a, b = ["a", None, "a"], [None, "b", "b"]
    assert responses == [a, a, b, a, b, b]
