"""``Function``: a Lambda function that event source mappings invoke.

``sim.function(name, handler, **properties)`` makes one. Invoking it
(``await fn.invoke(build_event, ...)``, on the simulation's loop) goes through what
Lambda does around a handler: a concurrency slot (or a throttle), an execution
environment (log stream, environment variables), a fresh event and context, the handler
itself (plain handlers inline with no running loop, ``async def`` ones on the loop), the
function's ``Timeout``, the modelled duration, and the runtime's JSON marshalling of the
response. Everything observable is recorded on the returned ``Invocation``, appended to
``function.invocations`` and counted in ``function.metrics``.
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio

from .._arns import lambda_function_arn, role_arn
from .._core import Clock, ResourceNotFoundException, format_iso_ms, get_logger
from .._core._logging import debug_enabled
from ..sources._base import Resource
from . import runtime
from .concurrency import account_concurrency
from .context import LambdaContext
from .environment import (
    EnvironmentLayer,
    apply_layer,
    drive_with_layer,
    remove_layer,
    runtime_variables,
)
from .invocation import FUNCTION_ERROR, SUCCESS, THROTTLED, TIMEOUT, Invocation
from .loading import load_handler
from .marshal import marshal_response
from .properties import validate_name, validate_properties, validate_reserved
from .worker import sync_worker

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("Function",)

# What a handler call produced: (json value, error, error message, coroutine to await).
_Result = tuple[Any, str | None, str | None, Coroutine[Any, Any, Any] | None]


class _Environment:
    """An execution environment: reused by later invocations, one per concurrent one."""

    __slots__ = ("layer", "log_stream_name")

    def __init__(self, log_stream_name: str, layer: EnvironmentLayer) -> None:
        self.log_stream_name = log_stream_name
        self.layer = layer


class Function(Resource):
    """A simulated Lambda function (``AWS::Lambda::Function``).

    Args:
        sim: the simulation.
        name: the function name (1-64 letters, digits, ``-``, ``_``).
        handler: a callable ``(event, context)`` (plain or ``async def``), or a handler
            string (``"package.module:function"``, ``"package/module.function"``).
        Timeout: seconds, 1-900 (default 3).
        MemorySize: MB, 128-10240 (default 128); only reported (context, env).
        ReservedConcurrentExecutions: None (use the unreserved pool) or 0..; 0
            throttles every invocation.
        Environment: ``{"Variables": {"NAME": "value"}}``.
        Role: the execution role ARN (default ``arn:aws:iam::<account>:role/<name>-role``).
        Runtime: ``python3.x`` (default: the host's version); sets ``AWS_EXECUTION_ENV``.
        duration: the simulated duration model (see ``esmsim.handlers.duration``;
            default 0.01 s).
        code_dir: the folder handler strings are resolved in (Lambda's task root).

    A plain handler cannot be stopped at ``Timeout`` (Python threads cannot be killed):
    its result is discarded and the invocation still ends at ``Timeout`` in simulated
    time, but one that never returns blocks a virtual-time simulation for good.

    Attributes:
        invocations: every ``Invocation`` in start order (throttles are not invocations),
            or the newest ones under ``Simulation(invocation_log=N)``.
        on_invocation: callbacks ``fn(invocation)`` run after every invoke attempt,
            throttles included (for result recorders).
    """

    resource_type = "AWS::Lambda::Function"

    def __init__(self, sim: Simulation, name: str, handler: object, **properties: Any) -> None:
        name = validate_name(name)
        props = validate_properties(properties)
        loaded = load_handler(handler, props.code_dir)
        super().__init__(sim, name, lambda_function_arn(sim.region, sim.account_id, name))
        self.role: str = props.role or role_arn(sim.account_id, f"{name}-role")
        self.timeout: int = props.timeout
        self.memory_size: int = props.memory_size
        self.runtime: str = props.runtime
        self.environment: dict[str, str] = props.variables
        self.duration = props.duration
        self.code_dir = props.code_dir
        self.handler: str = loaded.name
        self.is_async: bool = loaded.is_async
        self.properties: dict[str, Any] = props.ignored
        self.invocations: list[Invocation] = []
        self.on_invocation: list[Callable[[Invocation], None]] = []
        self._func = loaded.func
        self._loaded = loaded
        self._pool = account_concurrency(sim)
        self._worker = sync_worker(sim)
        self._virtual = sim.clock_mode == "virtual"
        self._request_ids = sim.seeds.ids("request", name)
        self._stream_ids = sim.seeds.ids("logstream", name)
        self._duration_rng = sim.seeds.rng("duration", name)
        self._rngs: dict[str, random.Random] = {}
        self._idle: list[_Environment] = []
        self._log = get_logger(function=name)
        self._reserved: int | None = None
        self._active = 0
        self._max_active = 0
        self._count = 0
        self._errors = 0
        self._throttles = 0
        self._last_ms = 0.0
        self._max_ms = 0.0
        self._sum_ms = 0.0
        sim.register(self)
        try:
            self._pool.reserve(name, props.reserved)
        except BaseException:
            sim.unregister(self)
            raise
        self._reserved = props.reserved

    # -- configuration ----------------------------------------------------------------
    @property
    def reserved_concurrent_executions(self) -> int | None:
        """The function's reserved concurrency, or None."""
        return self._reserved

    def put_function_concurrency(self, ReservedConcurrentExecutions: int) -> dict[str, int]:
        """Set the reserved concurrency, as Lambda's PutFunctionConcurrency."""
        amount = validate_reserved(ReservedConcurrentExecutions)
        self._pool.reserve(self.name, amount)
        self._reserved = amount
        return {"ReservedConcurrentExecutions": amount}

    def delete_function_concurrency(self) -> None:
        """Remove the reservation (back to the unreserved pool), as DeleteFunctionConcurrency."""
        self._pool.reserve(self.name, None)
        self._reserved = None

    def configuration(self) -> dict[str, Any]:
        """The function's configuration in GetFunctionConfiguration's shape."""
        config: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "Version": "$LATEST",
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.properties.get("Architectures") or ["x86_64"]),
        }
        if "Description" in self.properties:
            config["Description"] = self.properties["Description"]
        if self.environment:
            config["Environment"] = {"Variables": dict(self.environment)}
        return config

    def delete(self) -> None:
        """Delete the function; its reservation returns to the pool, invokes then fail."""
        if not self.deleted:
            self._pool.reserve(self.name, None)
        super().delete()

    # -- observing ----------------------------------------------------------------------
    @property
    def metrics(self) -> dict[str, float]:
        """CloudWatch-style function metrics (a snapshot).

        ``Invocations``, ``Errors`` (function errors and timeouts) and ``Throttles`` are
        running totals; ``Duration`` is the latest invocation's duration in ms (as
        ``IteratorAge`` is for mappings), with ``DurationMax`` and ``DurationSum`` (ms;
        the mean is ``DurationSum / Invocations``); ``ConcurrentExecutions`` is how many
        run right now and ``ConcurrentExecutionsMax`` the most seen at once.
        """
        return {
            "Invocations": self._count,
            "Errors": self._errors,
            "Throttles": self._throttles,
            "Duration": self._last_ms,
            "DurationMax": self._max_ms,
            "DurationSum": self._sum_ms,
            "ConcurrentExecutions": self._active,
            "ConcurrentExecutionsMax": self._max_active,
        }

    def rng(self, stream: str = "default") -> random.Random:
        """This function's seeded generator named ``stream`` (see ``handler_rng``)."""
        rng = self._rngs.get(stream)
        if rng is None:
            rng = self._rngs[stream] = self.sim.seeds.rng("handler", f"{self.name}/{stream}")
        return rng

    # -- invoking -----------------------------------------------------------------------
    async def invoke(
        self,
        build_event: Callable[[], Any],
        *,
        source: str | None = None,
        mapping_uuid: str | None = None,
        shard_id: str | None = None,
    ) -> Invocation:
        """Invoke the function synchronously with the event ``build_event()`` returns.

        Must run on the simulation's loop. ``build_event`` is called once now (the
        handler gets that fresh dict and may mutate it) and again if someone reads
        ``Invocation.event``. A throttle returns at once, with no handler run.

        Raises:
            ResourceNotFoundException: the function was deleted.
        """
        if self.deleted:
            raise ResourceNotFoundException(f"Function not found: {self.arn}")
        clock = self.clock
        started = clock.now()
        lease = self._pool.try_acquire(self._reserved, self._active)
        if lease is None:
            return self._throttle(build_event, started, source, mapping_uuid, shard_id)
        self._active += 1
        if self._active > self._max_active:
            self._max_active = self._active
        env = self._idle.pop() if self._idle else self._new_environment(clock)
        try:
            event = build_event()
            inv = Invocation(
                self.name,
                build_event,
                self._request_ids.uuid4(),
                started,
                source,
                mapping_uuid,
                shard_id,
            )
            keep = self.sim.invocation_log
            if keep is None:
                self.invocations.append(inv)
            elif keep:
                log = self.invocations
                log.append(inv)
                # Trimmed in bulk (amortized O(1)): between keep and 2 x keep entries.
                if len(log) >= 2 * keep:
                    del log[:-keep]
            self._count += 1
            if debug_enabled():
                self._log.debug(
                    "invoke.start",
                    request_id=inv.request_id,
                    source=source,
                    mapping_uuid=mapping_uuid,
                    shard_id=shard_id,
                )
            token = runtime.current.set(self)
            try:
                await self._run(inv, event, env, clock)
            finally:
                runtime.current.reset(token)
        finally:
            self._active -= 1
            self._pool.release(lease)
            self._idle.append(env)
        milliseconds = inv.duration * 1000.0
        self._last_ms = milliseconds
        self._sum_ms += milliseconds
        if milliseconds > self._max_ms:
            self._max_ms = milliseconds
        if inv.error is not None:
            self._errors += 1
        if debug_enabled():
            self._log.debug(
                "invoke.complete",
                request_id=inv.request_id,
                status=inv.status,
                error_type=inv.error_type,
                duration_ms=round(milliseconds, 3),
            )
        for callback in self.on_invocation:
            callback(inv)
        return inv

    def _throttle(
        self,
        build_event: Callable[[], Any],
        started: float,
        source: str | None,
        mapping_uuid: str | None,
        shard_id: str | None,
    ) -> Invocation:
        self._throttles += 1
        inv = Invocation(self.name, build_event, None, started, source, mapping_uuid, shard_id)
        inv.status = THROTTLED
        inv.error = "Throttled"
        inv.error_type = "TooManyRequestsException"
        inv.error_message = "Rate Exceeded."
        self._log.debug("invoke.throttled", source=source, mapping_uuid=mapping_uuid)
        for callback in self.on_invocation:
            callback(inv)
        return inv

    def _new_environment(self, clock: Clock) -> _Environment:
        stream = f"{clock.wall():%Y/%m/%d}/[$LATEST]{self._stream_ids.hex(16)}"
        variables = runtime_variables(
            function_name=self.name,
            memory_size=self.memory_size,
            timeout=self.timeout,
            region=self.sim.region,
            handler=self.handler,
            runtime=self.runtime,
            log_stream_name=stream,
        )
        variables.update(self.environment)
        return _Environment(stream, EnvironmentLayer(variables))

    async def _run(self, inv: Invocation, event: Any, env: _Environment, clock: Clock) -> None:
        timeout = self.timeout
        context = LambdaContext(
            clock=clock,
            deadline_ms=clock.now_ms() + timeout * 1000,
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=str(self.memory_size),
            aws_request_id=inv.request_id or "",
            log_group_name=f"/aws/lambda/{self.name}",
            log_stream_name=env.log_stream_name,
        )
        measured = self.duration.measured
        meter = [0.0] if measured else None
        begin = clock.elapsed()
        timed_out = False
        result: _Result | None = None
        if not self.is_async and self._worker.blocking:
            # Virtual mode, plain handler: called inline (the loop cannot move), time
            # stands still, and the modelled duration follows.
            result = self._worker.run_blocking(
                self._call_plain, event, context, env.layer, meter, True
            )
            if result[3] is None:
                extra = meter[0] if meter is not None else self.duration.draw(self._duration_rng)
                if extra >= timeout:
                    await clock.sleep(timeout)
                    timed_out = True
                elif extra > 0:
                    await clock.sleep(extra)
                self._finish(inv, clock, begin, timed_out, result)
                return
        with anyio.move_on_after(timeout) as scope:
            if result is not None and result[3] is not None:
                result = await self._call_async(result[3], env.layer, meter)
            elif self.is_async:
                result = await self._call_async(
                    self._start_coroutine(event, context), env.layer, meter
                )
            else:
                result = await self._worker.run_overlapping(
                    self._call_plain, event, context, env.layer, meter
                )
                if result[3] is not None:
                    result = await self._call_async(result[3], env.layer, meter)
            # The modelled duration comes on top of awaited time; running into Timeout
            # ends the invocation at Timeout exactly.
            if meter is not None:
                extra = meter[0] if self._virtual else 0.0
            else:
                extra = self.duration.draw(self._duration_rng)
            remaining = timeout - (clock.elapsed() - begin)
            if extra >= remaining:
                await clock.sleep(remaining)
                timed_out = True
            elif extra > 0:
                await clock.sleep(extra)
        if scope.cancelled_caught or result is None:
            timed_out = True
        self._finish(inv, clock, begin, timed_out, result)

    def _finish(
        self,
        inv: Invocation,
        clock: Clock,
        begin: float,
        timed_out: bool,
        result: _Result | None,
    ) -> None:
        inv.ended_at = clock.now()
        if timed_out or result is None:
            inv.duration = float(self.timeout)
            inv.status = TIMEOUT
            inv.error = "Timeout"
            inv.error_type = "Task timed out"
            inv.error_message = (
                f"{format_iso_ms(clock.now_ms())} {inv.request_id} "
                f"Task timed out after {self.timeout:.2f} seconds"
            )
            return
        inv.duration = clock.elapsed() - begin
        value, error, message, _ = result
        if error is None:
            inv.status = SUCCESS
            inv.response = value
        else:
            inv.status = FUNCTION_ERROR
            inv.error = inv.error_type = error
            inv.error_message = message

    def _call_plain(
        self,
        event: Any,
        context: LambdaContext,
        layer: EnvironmentLayer,
        meter: list[float] | None,
        linger: bool = False,
    ) -> _Result:
        """Call a plain handler with the function's variables applied (see ``worker``).

        ``linger``: called inline in virtual mode, where the variables may stay in
        place for the next invocation (``remove_layer``).
        """
        token = apply_layer(layer)
        started = time.perf_counter() if meter is not None else 0.0
        try:
            value = self._func(event, context)
        except Exception as exc:
            return None, "Unhandled", _describe(exc), None
        except SystemExit as exc:
            return None, "Runtime.ExitError", _exit_message(exc), None
        finally:
            if meter is not None:
                meter[0] += time.perf_counter() - started
            remove_layer(token, linger=linger)
        if inspect.iscoroutine(value):
            # A plain wrapper around an async handler (a decorator that lost the
            # coroutine marker): await what it returned, on the loop.
            return None, None, None, value
        return (*marshal_response(value), None)

    def _start_coroutine(self, event: Any, context: LambdaContext) -> Coroutine[Any, Any, Any]:
        try:
            awaitable = self._func(event, context)
        except (Exception, SystemExit) as exc:  # raised before any coroutine existed
            return _raise(exc)
        if inspect.iscoroutine(awaitable):
            return awaitable
        return _await_any(awaitable)

    async def _call_async(
        self,
        coro: Coroutine[Any, Any, Any],
        layer: EnvironmentLayer,
        meter: list[float] | None,
    ) -> _Result:
        """Await an async handler on the loop, its variables applied only while it steps."""
        try:
            value = await drive_with_layer(coro, layer, meter)
        except Exception as exc:
            return None, "Unhandled", _describe(exc), None
        except SystemExit as exc:
            return None, "Runtime.ExitError", _exit_message(exc), None
        return (*marshal_response(value), None)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _exit_message(exc: SystemExit) -> str:
    return f"Runtime exited with error: exit status {exc.code}"


async def _raise(exc: BaseException) -> Any:
    raise exc


async def _await_any(value: object) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value
