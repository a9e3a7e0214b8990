"""Event source mapping properties: defaults, validation with AWS's messages, updates.

AWS validates CreateEventSourceMapping in two layers, and the messages show it:
the API model's range and enum checks read ``1 validation error detected:
Value '0' at 'batchSize' failed to satisfy constraint: ...``, while Lambda's
own rules read like sentences (``Maximum batch window in seconds must be
greater than 0 if maximum batch size is greater than 10``). Both surface here
as ``InvalidParameterValueException`` (api.md) with AWS's text where AWS has
one; where it has none that we know, the text is ours and says what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .._core import InvalidParameterValueException
from .filtering import validate_filter_criteria

__all__ = ("MappingSettings", "SourceKind", "source_kind_of", "validate_create", "validate_update")

SourceKind = Literal["kinesis", "dynamodb", "sqs"]

_COMMON = (
    "FunctionName",
    "EventSourceArn",
    "Enabled",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "FilterCriteria",
    "MetricsConfig",
    "Tags",
    "KMSKeyArn",
)
_STREAM_ONLY = (
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "TumblingWindowInSeconds",
    "DestinationConfig",
)
_SQS_ONLY = ("ScalingConfig", "ProvisionedPollerConfig")
_CREATE_ONLY = ("EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "Tags")
_KNOWN = _COMMON + _STREAM_ONLY + _SQS_ONLY

_STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


@dataclass
class MappingSettings:
    """The effective settings of one mapping (defaults filled in)."""

    kind: SourceKind
    event_source_arn: str
    function_name: str
    enabled: bool = True
    batch_size: int = 100
    batching_window: int = 0
    function_response_types: list[str] = field(default_factory=list)
    filter_criteria: dict[str, Any] | None = None
    metrics_config: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    kms_key_arn: str | None = None
    # streams
    starting_position: str | None = None
    starting_position_timestamp: float | None = None
    parallelization_factor: int = 1
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_in_seconds: int = -1
    tumbling_window_in_seconds: int = 0
    on_failure_destination: str | None = None
    # sqs
    maximum_concurrency: int | None = None
    provisioned_poller_config: dict[str, Any] | None = None
    fifo: bool = False

    @property
    def report_batch_item_failures(self) -> bool:
        """True when partial batch responses are honoured."""
        return "ReportBatchItemFailures" in self.function_response_types

    @property
    def is_stream(self) -> bool:
        """Kinesis or DynamoDB Streams."""
        return self.kind != "sqs"


def source_kind_of(arn: str) -> SourceKind:
    """Which poller an event source ARN needs.

    Raises:
        InvalidParameterValueException: for an ARN of another service.
    """
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) >= 6 and parts[0] == "arn":
        if parts[2] == "kinesis" and parts[5].startswith("stream/"):
            return "kinesis"
        if parts[2] == "dynamodb" and "/stream/" in parts[5]:
            return "dynamodb"
        if parts[2] == "sqs":
            return "sqs"
    raise InvalidParameterValueException(
        f"Unrecognized event source: {arn!r}; esmsim maps Kinesis stream, DynamoDB stream "
        "and SQS queue ARNs"
    )


def _model_error(value: Any, member: str, constraint: str) -> InvalidParameterValueException:
    shown = "null" if value is None else f"'{value}'"
    return InvalidParameterValueException(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _int_in(props: dict[str, Any], name: str, low: int, high: int) -> int | None:
    if name not in props or props[name] is None:
        return None
    value = props[name]
    if isinstance(value, bool) or not isinstance(value, int):
        integral_float = isinstance(value, float) and value.is_integer()
        integral_text = isinstance(value, str) and value.lstrip("-").isdigit()
        if integral_float or integral_text:
            value = int(value)
        else:
            raise InvalidParameterValueException(
                f"{name}: expected an integer from {low} to {high}, got {value!r}"
            )
    member = name[0].lower() + name[1:]
    if value < low:
        raise _model_error(value, member, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _model_error(value, member, f"Member must have value less than or equal to {high}")
    return int(value)


def _bool(props: dict[str, Any], name: str) -> bool | None:
    if name not in props or props[name] is None:
        return None
    value = props[name]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidParameterValueException(f"{name}: expected true or false, got {value!r}")


def _check_names(props: dict[str, Any], kind: SourceKind, *, update: bool) -> None:
    for name in props:
        if name not in _KNOWN:
            allowed = ", ".join(sorted(_KNOWN))
            raise TypeError(f"unknown event source mapping property {name!r}; allowed: {allowed}")
        if update and name in _CREATE_ONLY:
            raise InvalidParameterValueException(
                f"{name} cannot be changed by UpdateEventSourceMapping (create-only property)"
            )
        if props[name] is None:
            continue
        if kind == "sqs" and name in _STREAM_ONLY:
            raise InvalidParameterValueException(
                f"Unsupported {name} parameter for given event source mapping type."
            )
        if kind != "sqs" and name in _SQS_ONLY:
            raise InvalidParameterValueException(
                f"Unsupported {name} parameter for given event source mapping type."
            )


def _apply(settings: MappingSettings, props: dict[str, Any]) -> None:
    """Validate and apply the properties that both create and update accept."""
    kind = settings.kind
    enabled = _bool(props, "Enabled")
    if enabled is not None:
        settings.enabled = enabled
    batch_size = _int_in(props, "BatchSize", 1, 10_000)
    if batch_size is not None:
        settings.batch_size = batch_size
    window = _int_in(props, "MaximumBatchingWindowInSeconds", 0, 300)
    if window is not None:
        settings.batching_window = window
    if "FunctionResponseTypes" in props and props["FunctionResponseTypes"] is not None:
        types = props["FunctionResponseTypes"]
        if not isinstance(types, list) or len(types) > 1:
            raise InvalidParameterValueException(
                "FunctionResponseTypes: expected at most 1 item, ['ReportBatchItemFailures']"
            )
        for item in types:
            if item != "ReportBatchItemFailures":
                raise _model_error(
                    types,
                    "functionResponseTypes",
                    "Member must satisfy constraint: "
                    "[Member must satisfy enum value set: [ReportBatchItemFailures]]",
                )
        settings.function_response_types = list(types)
    if "FilterCriteria" in props:
        settings.filter_criteria = _filter_criteria(props["FilterCriteria"], kind)
    if "MetricsConfig" in props and props["MetricsConfig"] is not None:
        metrics = props["MetricsConfig"]
        names = metrics.get("Metrics", []) if isinstance(metrics, dict) else None
        if not isinstance(names, list) or any(m != "EventCount" for m in names):
            raise InvalidParameterValueException(
                "MetricsConfig.Metrics: expected a list containing 'EventCount'"
            )
        settings.metrics_config = {"Metrics": list(names)}
    if kind != "sqs":
        _apply_stream(settings, props)
    else:
        _apply_sqs(settings, props)


def _filter_criteria(value: Any, kind: SourceKind) -> dict[str, Any] | None:
    """Validate ``FilterCriteria`` (patterns compiled once to check them; spec §6)."""
    return validate_filter_criteria(value, kind)


def _apply_stream(settings: MappingSettings, props: dict[str, Any]) -> None:
    pf = _int_in(props, "ParallelizationFactor", 1, 10)
    if pf is not None:
        settings.parallelization_factor = pf
    bisect = _bool(props, "BisectBatchOnFunctionError")
    if bisect is not None:
        settings.bisect_batch_on_function_error = bisect
    retries = _int_in(props, "MaximumRetryAttempts", -1, 10_000)
    if retries is not None:
        settings.maximum_retry_attempts = retries
    age = _int_in(props, "MaximumRecordAgeInSeconds", -1, 604_800)
    if age is not None:
        if -1 < age < 60:
            raise InvalidParameterValueException(
                f"MaximumRecordAgeInSeconds: {age} is not allowed; use -1 (infinite) "
                "or a value from 60 to 604800"
            )
        settings.maximum_record_age_in_seconds = age
    window = _int_in(props, "TumblingWindowInSeconds", 0, 900)
    if window is not None:
        settings.tumbling_window_in_seconds = window
    if "DestinationConfig" in props and props["DestinationConfig"] is not None:
        settings.on_failure_destination = _destination(props["DestinationConfig"])


def _destination(config: Any) -> str | None:
    if not isinstance(config, dict):
        raise InvalidParameterValueException(
            "DestinationConfig: expected {'OnFailure': {'Destination': <arn>}}"
        )
    if "OnSuccess" in config:
        raise InvalidParameterValueException(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    on_failure = config.get("OnFailure") or {}
    if not isinstance(on_failure, dict):
        raise InvalidParameterValueException(
            "DestinationConfig.OnFailure: expected {'Destination': <arn>}"
        )
    destination = on_failure.get("Destination")
    if destination in (None, ""):
        return None
    if not isinstance(destination, str) or not destination.startswith("arn:"):
        raise InvalidParameterValueException(
            f"DestinationConfig.OnFailure.Destination: {destination!r} is not an ARN"
        )
    service = destination.split(":")[2] if destination.count(":") >= 5 else ""
    if service not in ("sqs", "sns", "s3"):
        raise InvalidParameterValueException(
            "DestinationConfig.OnFailure.Destination: the destination must be an SQS queue, "
            f"SNS topic or S3 bucket ARN, got {destination!r}"
        )
    return destination


def _apply_sqs(settings: MappingSettings, props: dict[str, Any]) -> None:
    if "ScalingConfig" in props and props["ScalingConfig"] is not None:
        scaling = props["ScalingConfig"]
        if not isinstance(scaling, dict):
            raise InvalidParameterValueException(
                "ScalingConfig: expected {'MaximumConcurrency': 2..1000}"
            )
        settings.maximum_concurrency = _int_in(scaling, "MaximumConcurrency", 2, 1000)
    if "ProvisionedPollerConfig" in props:
        settings.provisioned_poller_config = props["ProvisionedPollerConfig"] or None
    if settings.maximum_concurrency is not None and settings.provisioned_poller_config:
        raise InvalidParameterValueException(
            "Provisioned mode for SQS ESM does not support maximum concurrency feature. "
            "Use MaximumPollers as the control mechanism and remove maximum concurrency."
        )


def _check_sqs_batching(settings: MappingSettings) -> None:
    if settings.fifo and settings.batching_window > 0:
        raise InvalidParameterValueException("Batching window is not supported for FIFO queues")
    if settings.fifo and settings.batch_size > 10:
        raise _model_error(
            settings.batch_size, "batchSize", "Member must have value less than or equal to 10"
        )
    if settings.batch_size > 10 and settings.batching_window == 0:
        raise InvalidParameterValueException(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10"
        )


def validate_create(props: dict[str, Any], *, fifo: bool = False) -> MappingSettings:
    """Check CreateEventSourceMapping properties and fill in AWS's defaults."""
    arn = props.get("EventSourceArn")
    if not arn:
        raise _model_error(None, "eventSourceArn", "Member must not be null")
    function_name = props.get("FunctionName")
    if not isinstance(function_name, str) or not function_name:
        raise _model_error(None, "functionName", "Member must not be null")
    kind = source_kind_of(arn)
    _check_names(props, kind, update=False)
    settings = MappingSettings(
        kind=kind,
        event_source_arn=arn,
        function_name=function_name,
        batch_size=10 if kind == "sqs" else 100,
        fifo=fifo,
    )
    if kind != "sqs":
        position = props.get("StartingPosition")
        if position is None:
            raise _model_error(None, "startingPosition", "Member must not be null.")
        if position not in _STARTING_POSITIONS:
            raise _model_error(
                position,
                "startingPosition",
                "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
            )
        if kind == "dynamodb" and position == "AT_TIMESTAMP":
            raise InvalidParameterValueException(
                f"Unsupported starting position for arn type: {arn}"
            )
        settings.starting_position = position
        timestamp = props.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP":
            if timestamp is None:
                raise InvalidParameterValueException(
                    "StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP"
                )
            settings.starting_position_timestamp = _timestamp(timestamp)
        elif timestamp is not None:
            raise InvalidParameterValueException(
                "StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP"
            )
    tags = props.get("Tags") or {}
    if isinstance(tags, list):  # CloudFormation's [{"Key":..., "Value":...}] form
        tags = {t.get("Key"): t.get("Value") for t in tags if isinstance(t, dict)}
    if not isinstance(tags, dict):
        raise InvalidParameterValueException("Tags: expected a mapping of tag keys to values")
    settings.tags = {str(k): str(v) for k, v in tags.items()}
    settings.kms_key_arn = props.get("KMSKeyArn")
    _apply(settings, props)
    if kind == "sqs":
        _check_sqs_batching(settings)
    return settings


def validate_update(settings: MappingSettings, props: dict[str, Any]) -> MappingSettings:
    """Check UpdateEventSourceMapping properties; return the new settings (old ones untouched)."""
    _check_names(props, settings.kind, update=True)
    updated = MappingSettings(**{f: getattr(settings, f) for f in settings.__dataclass_fields__})
    updated.function_response_types = list(settings.function_response_types)
    if "FunctionName" in props:
        name = props["FunctionName"]
        if not isinstance(name, str) or not name:
            raise _model_error(name, "functionName", "Member must not be null")
        updated.function_name = name
    _apply(updated, props)
    if updated.kind == "sqs":
        _check_sqs_batching(updated)
    return updated


def _timestamp(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterValueException(
            f"StartingPositionTimestamp: expected epoch seconds or a datetime, got {value!r}"
        )
    return float(value)
