"""``EventSourceMapping``: the public object behind ``sim.event_source_mapping(...)``.

It validates the properties (AWS's rules and messages), resolves the function
and the source, owns the settings, metrics and state, and runs the poller that
fits the source: one stream poller for Kinesis and DynamoDB Streams, one SQS
poller. ``update()`` applies to the next batch; ``Enabled=False`` pauses and a
stream resumes from where it stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from .._arns import esm_arn, lambda_function_arn
from .._core import (
    InvalidParameterValueException,
    ResourceConflictException,
    Signal,
    get_logger,
)
from ._metrics import MappingMetrics
from ._settings import MappingSettings, source_kind_of, validate_create, validate_update
from .filtering import make_record_filter

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("EventSourceMapping", "resolve_function")


class _Poller(Protocol):
    record_filter: Callable[[Any], bool] | None

    async def run(self) -> None: ...
    def idle(self) -> bool: ...
    def pending(self) -> int: ...
    def settled_elsewhere(self) -> dict[str, int]: ...


def resolve_function(sim: Simulation, name: str) -> Any:
    """The Function a ``FunctionName`` (name, ARN or partial ARN) designates."""
    short = name
    if name.startswith("arn:"):
        parts = name.split(":")
        short = parts[6] if len(parts) >= 7 else name
    elif ":function:" in name:
        short = name.split(":function:", 1)[1]
    short = short.split(":", 1)[0]
    fn = sim.resource(lambda_function_arn(sim.region, sim.account_id, short))
    if fn is None:
        raise InvalidParameterValueException("Function does not exist")
    return fn


def _resolve_source(sim: Simulation, settings: MappingSettings) -> Any:
    arn = settings.event_source_arn
    if settings.kind == "kinesis":
        source = sim.resource(arn)
    elif settings.kind == "dynamodb":
        source = next((r for r in sim.resources() if getattr(r, "stream_arn", None) == arn), None)
    else:
        source = sim.resource(arn)
    if source is None:
        if settings.kind == "sqs":
            raise InvalidParameterValueException(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: "
                "The specified queue does not exist."
            )
        raise InvalidParameterValueException(f"Stream not found: {settings.event_source_arn}")
    return source


class EventSourceMapping:
    """An event source mapping (AWS::Lambda::EventSourceMapping) running in a simulation."""

    def __init__(self, sim: Simulation, **properties: Any) -> None:
        kind = source_kind_of(properties.get("EventSourceArn", ""))
        # FIFO-ness of an SQS source changes the allowed batch settings.
        fifo = kind == "sqs" and str(properties.get("EventSourceArn", "")).endswith(".fifo")
        settings = validate_create(dict(properties), fifo=fifo)
        function = resolve_function(sim, settings.function_name)
        source = _resolve_source(sim, settings)
        self._check_conflict(sim, settings, function)
        if settings.kind == "sqs":
            _check_visibility(source, function)
        self._sim = sim
        self.settings = settings
        self._function = function
        self.source = source
        self.uuid: str = sim.mapping_ids.uuid4()
        self.arn = esm_arn(sim.region, sim.account_id, self.uuid)
        self.metrics_store = MappingMetrics(stream=settings.kind != "sqs")
        self.state = "Creating" if settings.enabled else "Disabled"
        self.state_transition_reason = "USER_INITIATED" if settings.kind == "sqs" else "User action"
        self.last_processing_result = "No records processed"
        self.last_modified = sim.now
        self.changed = Signal(sim.kernel)
        self.deleted = False
        self.log = get_logger(mapping=self.uuid, function=function.name)
        self._poller: _Poller = self._make_poller()
        self._install_filter()
        self._task_done = False
        sim.add_mapping(self)
        sim.kernel.start_soon(self._run, name=f"esm-{self.uuid}")

    # -- public surface ------------------------------------------------------------
    @property
    def function(self) -> Any:
        """The function invoked now: looked up by ARN, as AWS does, so a function
        deleted and created again under the same name is the one invoked."""
        current = self._sim.resource(self._function.arn)
        if current is not None and current is not self._function:
            self._function = current
        return self._function

    @property
    def metrics(self) -> dict[str, Any]:
        """CloudWatch metric name -> value (counters as running totals)."""
        return self.metrics_store.snapshot()

    @property
    def ledger(self) -> dict[str, int]:
        """Where this mapping's records ended up, plus ``pending``."""
        out = dict(self.metrics_store.ledger)
        for state, count in self._poller.settled_elsewhere().items():
            out[state] += count
        out["pending"] = self._poller.pending()
        return out

    def configuration(self) -> dict[str, Any]:
        """The ``EventSourceMappingConfiguration`` AWS returns, defaults filled in."""
        s = self.settings
        config: dict[str, Any] = {"UUID": self.uuid}
        if s.is_stream:
            config["StartingPosition"] = s.starting_position
            if s.starting_position_timestamp is not None:
                config["StartingPositionTimestamp"] = datetime.fromtimestamp(
                    s.starting_position_timestamp, tz=UTC
                )
            config["BatchSize"] = s.batch_size
            config["MaximumBatchingWindowInSeconds"] = s.batching_window
            config["ParallelizationFactor"] = s.parallelization_factor
        else:
            config["BatchSize"] = s.batch_size
            config["MaximumBatchingWindowInSeconds"] = s.batching_window
        config["EventSourceArn"] = s.event_source_arn
        if s.filter_criteria is not None:
            config["FilterCriteria"] = {"Filters": [dict(f) for f in s.filter_criteria["Filters"]]}
        config["FunctionArn"] = self.function.arn
        config["LastModified"] = datetime.fromtimestamp(self.last_modified, tz=UTC)
        if s.is_stream:
            config["LastProcessingResult"] = self.last_processing_result
        config["State"] = self.state
        config["StateTransitionReason"] = self.state_transition_reason
        if s.is_stream:
            on_failure = (
                {"Destination": s.on_failure_destination} if s.on_failure_destination else {}
            )
            config["DestinationConfig"] = {"OnFailure": on_failure}
        config["FunctionResponseTypes"] = list(s.function_response_types)
        if s.is_stream:
            config["MaximumRecordAgeInSeconds"] = s.maximum_record_age_in_seconds
            config["BisectBatchOnFunctionError"] = s.bisect_batch_on_function_error
            config["MaximumRetryAttempts"] = s.maximum_retry_attempts
            config["TumblingWindowInSeconds"] = s.tumbling_window_in_seconds
        elif s.maximum_concurrency is not None:
            config["ScalingConfig"] = {"MaximumConcurrency": s.maximum_concurrency}
        if s.metrics_config is not None:
            config["MetricsConfig"] = dict(s.metrics_config)
        config["EventSourceMappingArn"] = self.arn
        return config

    def update(self, **properties: Any) -> dict[str, Any]:
        """UpdateEventSourceMapping: applies to the next batch; returns the configuration."""
        if self.deleted:
            raise InvalidParameterValueException(
                f"The resource you requested does not exist. (Service: Lambda, UUID: {self.uuid})"
            )
        new = validate_update(self.settings, dict(properties))
        function = self.function
        if new.function_name != self.settings.function_name:
            function = resolve_function(self._sim, new.function_name)
        if new.kind == "sqs":
            _check_visibility(self.source, function)
        was_enabled = self.settings.enabled
        self.settings = new
        self._function = function
        self._install_filter()
        self.last_modified = self._sim.now
        if was_enabled and not new.enabled:
            self.state = "Disabling"
        elif not was_enabled and new.enabled:
            self.state = "Enabling"
        else:
            self.state = "Updating"
        self._sim.kernel.call_soon(self._settle)
        self.changed.fire()
        return self.configuration()

    def delete(self) -> dict[str, Any]:
        """DeleteEventSourceMapping: polling stops; the configuration is returned."""
        self.state = "Deleting"
        config = self.configuration()
        self.deleted = True
        self._sim.remove_mapping(self)
        self.changed.fire()
        return config

    # -- running --------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """True while the mapping should poll."""
        return self.settings.enabled and not self.deleted

    async def wait_enabled(self) -> None:
        """Wait until the mapping is enabled (returns at once if it is)."""
        while not self.enabled and not self.deleted:
            await self.changed.wait()

    def idle(self) -> bool:
        """Nothing pending for this mapping (a disabled or deleted mapping is idle)."""
        if not self.enabled:
            return True
        return self._poller.idle()

    def _settle(self) -> None:
        if self.deleted:
            return
        self.state = "Enabled" if self.settings.enabled else "Disabled"

    async def _run(self) -> None:
        self._settle()
        self.changed.fire()
        try:
            await self._poller.run()
        except asyncio.CancelledError:
            raise
        finally:
            self._task_done = True

    def _install_filter(self) -> None:
        """Give the poller the compiled FilterCriteria (pollers read it on every read)."""
        s = self.settings
        self._poller.record_filter = make_record_filter(
            s.filter_criteria,
            s.kind,
            region=self._sim.region,
            source_arn=s.event_source_arn,
            role_arn=str(getattr(self._function, "role", "")),
        )

    def _make_poller(self) -> _Poller:
        if self.settings.kind == "sqs":
            from .sqs import SqsPoller

            return SqsPoller(self, self._sim)
        from .streams import StreamPoller

        return StreamPoller(self, self._sim)

    @staticmethod
    def _check_conflict(sim: Simulation, settings: MappingSettings, function: Any) -> None:
        for other in sim.mappings():
            if (
                other.settings.event_source_arn == settings.event_source_arn
                and other.function is function
            ):
                if settings.kind == "sqs":
                    raise ResourceConflictException(
                        f'An event source mapping with SQS arn (" {settings.event_source_arn} ") '
                        f'and function (" {function.name} ") already exists. Please update or '
                        f"delete the existing mapping with UUID {other.uuid}"
                    )
                raise ResourceConflictException(
                    f'The event source arn (" {settings.event_source_arn} ") and function '
                    f'(" {function.name} ") provided mapping already exists. Please update or '
                    f"delete the existing mapping with UUID {other.uuid}"
                )


def _check_visibility(queue: Any, function: Any) -> None:
    visibility = int(queue.visibility_timeout)
    timeout = int(function.timeout)
    if visibility < timeout:
        raise InvalidParameterValueException(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds"
        )
