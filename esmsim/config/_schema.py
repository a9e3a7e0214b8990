"""What each resource type takes: CloudFormation properties, their types and ranges.

For every modelled type the table lists the properties esmsim understands.
``effect=False`` marks properties a template may carry that change nothing in the
simulation: they are accepted (passed to the resource when it stores them) with one
warning each. Any property not in the table is ignored with the same warning, plus a
"did you mean" when it is close to a modelled name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..sources.s3 import BUCKET_PROPERTIES

__all__ = (
    "ESM_PROPERTIES",
    "FUNCTION_TYPES",
    "TYPES",
    "Prop",
    "TypeSpec",
    "check_value",
    "suggest",
)


@dataclass(frozen=True, slots=True)
class Prop:
    """One property: its JSON kind, range or choices, and whether it changes anything."""

    kind: str  # int | num | bool | str | list | map | text_or_map | any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    effect: bool = True
    passthrough: bool = True  # handed to the resource constructor
    required: bool = False


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A modelled resource type."""

    name_property: str | None
    props: dict[str, Prop] = field(default_factory=dict)


def _noeffect(kind: str = "any", passthrough: bool = True) -> Prop:
    return Prop(kind, effect=False, passthrough=passthrough)


_TAGS = _noeffect("list")

KINESIS = TypeSpec(
    "Name",
    {
        "Name": Prop("str", passthrough=False),
        "ShardCount": Prop("int", 1, 100_000),
        "RetentionPeriodHours": Prop("int", 24, 8760),
        "StreamModeDetails": _noeffect("map"),
        "StreamEncryption": _noeffect("map"),
        "DesiredShardLevelMetrics": _noeffect("list"),
        "Tags": _TAGS,
    },
)

DYNAMODB = TypeSpec(
    "TableName",
    {
        "TableName": Prop("str", passthrough=False),
        "KeySchema": Prop("list", required=True),
        "AttributeDefinitions": Prop("list", required=True),
        "StreamSpecification": Prop("map"),
        "TimeToLiveSpecification": Prop("map"),
        "BillingMode": Prop("str", choices=("PROVISIONED", "PAY_PER_REQUEST"), effect=False),
        "ProvisionedThroughput": _noeffect("map"),
        "Tags": _TAGS,
        "SSESpecification": _noeffect("map"),
        "TableClass": _noeffect("str"),
        "DeletionProtectionEnabled": _noeffect("bool"),
        "PointInTimeRecoverySpecification": _noeffect("map"),
        "ContributorInsightsSpecification": _noeffect("map"),
    },
)

SQS = TypeSpec(
    "QueueName",
    {
        "QueueName": Prop("str", passthrough=False),
        "VisibilityTimeout": Prop("int", 0, 43_200),
        "MessageRetentionPeriod": Prop("int", 60, 1_209_600),
        "DelaySeconds": Prop("int", 0, 900),
        "ReceiveMessageWaitTimeSeconds": Prop("int", 0, 20),
        "MaximumMessageSize": Prop("int", 1024, 1_048_576),
        "FifoQueue": Prop("bool"),
        "ContentBasedDeduplication": Prop("bool"),
        "DeduplicationScope": Prop("str", choices=("messageGroup", "queue")),
        "FifoThroughputLimit": Prop("str", choices=("perQueue", "perMessageGroupId")),
        "RedrivePolicy": Prop("text_or_map"),
        "RedriveAllowPolicy": _noeffect("text_or_map"),
        "KmsMasterKeyId": _noeffect("str"),
        "KmsDataKeyReusePeriodSeconds": _noeffect("int"),
        "SqsManagedSseEnabled": _noeffect("bool"),
        "Tags": _TAGS,
    },
)

_SNS_NOEFFECT = (
    "ArchivePolicy",
    "DataProtectionPolicy",
    "DeliveryStatusLogging",
    "DisplayName",
    "FifoThroughputScope",
    "KmsMasterKeyId",
    "SignatureVersion",
    "Subscription",
    "Tags",
    "TracingConfig",
)
SNS = TypeSpec(
    "TopicName",
    {
        "TopicName": Prop("str", passthrough=False),
        "FifoTopic": Prop("bool"),
        "ContentBasedDeduplication": Prop("bool"),
        **{name: _noeffect() for name in _SNS_NOEFFECT},
    },
)

# Every AWS::S3::Bucket property the bucket accepts but does not simulate.
_S3_NOEFFECT = tuple(p for p in BUCKET_PROPERTIES if p != "BucketName")
S3 = TypeSpec(
    "BucketName",
    {
        "BucketName": Prop("str", passthrough=False),
        **{name: _noeffect() for name in _S3_NOEFFECT},
    },
)

_FUNCTION_COMMON: dict[str, Prop] = {
    "FunctionName": Prop("str", passthrough=False),
    "Handler": Prop("str", passthrough=False, required=True),
    "Runtime": Prop("str"),
    "Timeout": Prop("int", 1, 900),
    "MemorySize": Prop("int", 128, 10_240),
    "ReservedConcurrentExecutions": Prop("int", 0, None),
    "Environment": Prop("map"),
    "Role": Prop("str"),
    "Description": Prop("str"),
    "Architectures": _noeffect("list"),
    "Layers": _noeffect("list"),
    "VpcConfig": _noeffect("map"),
    "KmsKeyArn": _noeffect("str"),
    "LoggingConfig": _noeffect("map"),
    "PackageType": _noeffect("str"),
    "EphemeralStorage": _noeffect("map"),
}

LAMBDA_FUNCTION = TypeSpec(
    "FunctionName",
    {
        **_FUNCTION_COMMON,
        "Code": Prop("text_or_map", passthrough=False),
        "DeadLetterConfig": _noeffect("map"),
        "TracingConfig": _noeffect("map"),
        "Tags": _TAGS,
    },
)

SERVERLESS_FUNCTION = TypeSpec(
    "FunctionName",
    {
        **_FUNCTION_COMMON,
        "CodeUri": Prop("text_or_map", passthrough=False),
        "Events": Prop("map", passthrough=False),
        # SAM spellings of things Lambda::Function also has; no effect either way.
        "Tracing": _noeffect("str", passthrough=False),
        "DeadLetterQueue": _noeffect("map", passthrough=False),
        "Tags": _noeffect("map", passthrough=False),
    },
)

ESM_PROPERTIES: dict[str, Prop] = {
    "FunctionName": Prop("str", required=True),
    "EventSourceArn": Prop("str", required=True),
    "Enabled": Prop("bool"),
    "BatchSize": Prop("int", 1, 10_000),
    "MaximumBatchingWindowInSeconds": Prop("int", 0, 300),
    "FunctionResponseTypes": Prop("list"),
    "FilterCriteria": Prop("map"),
    "StartingPosition": Prop("str", choices=("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")),
    "StartingPositionTimestamp": Prop("num"),
    "ParallelizationFactor": Prop("int", 1, 10),
    "BisectBatchOnFunctionError": Prop("bool"),
    "MaximumRetryAttempts": Prop("int", -1, 10_000),
    "MaximumRecordAgeInSeconds": Prop("int", -1, 604_800),
    "TumblingWindowInSeconds": Prop("int", 0, 900),
    "DestinationConfig": Prop("map"),
    "ScalingConfig": Prop("map"),
    "MetricsConfig": _noeffect("map"),
    "ProvisionedPollerConfig": _noeffect("map"),
    "Tags": _noeffect("any"),
    "KMSKeyArn": _noeffect("str"),
}

ESM = TypeSpec(None, ESM_PROPERTIES)

TYPES: dict[str, TypeSpec] = {
    "AWS::Kinesis::Stream": KINESIS,
    "AWS::DynamoDB::Table": DYNAMODB,
    "AWS::SQS::Queue": SQS,
    "AWS::SNS::Topic": SNS,
    "AWS::S3::Bucket": S3,
    "AWS::Lambda::Function": LAMBDA_FUNCTION,
    "AWS::Serverless::Function": SERVERLESS_FUNCTION,
    "AWS::Lambda::EventSourceMapping": ESM,
}

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")

_KIND_WORDS = {
    "int": "an integer",
    "num": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "map": "a mapping",
    "text_or_map": "a string or a mapping",
}


def check_value(spec: Prop, value: Any) -> tuple[Any, str | None]:
    """``(value converted as CloudFormation converts it, problem or None)``.

    CloudFormation passes template values as text and converts them, so ``"10"``
    is a fine integer and ``"true"`` a fine boolean.
    """
    kind = spec.kind
    if kind == "any":
        return value, None
    if kind in ("int", "num"):
        converted: Any = value
        if isinstance(value, str):
            try:
                converted = int(value) if kind == "int" else float(value)
            except ValueError:
                converted = value
        if isinstance(converted, float) and kind == "int" and converted.is_integer():
            converted = int(converted)
        ok_types = (int,) if kind == "int" else (int, float)
        if isinstance(converted, bool) or not isinstance(converted, ok_types):
            return value, f"must be {_KIND_WORDS[kind]}, got {value!r}"
        if spec.low is not None and converted < spec.low:
            return value, f"must be >= {spec.low:g}, got {converted}"
        if spec.high is not None and converted > spec.high:
            return value, f"must be <= {spec.high:g}, got {converted}"
        return converted, None
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true", None
        return value, f"must be true or false, got {value!r}"
    if kind == "str":
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return value, f"must be a string, got {type(value).__name__} {value!r}"
        if spec.choices and value not in spec.choices:
            return value, f"must be one of {', '.join(spec.choices)}; got {value!r}"
        return value, None
    if kind == "list" and not isinstance(value, list):
        return value, f"must be a list, got {type(value).__name__} {value!r}"
    if kind == "map" and not isinstance(value, dict):
        return value, f"must be a mapping, got {type(value).__name__} {value!r}"
    if kind == "text_or_map" and not isinstance(value, dict | str):
        return value, f"must be a string or a mapping, got {type(value).__name__} {value!r}"
    return value, None


def suggest(name: str, known: Any) -> str:
    """`` (did you mean X?)`` when ``name`` is close to one of ``known``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
