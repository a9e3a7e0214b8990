"""Creating a checked config's resources in a ``Simulation``: ``RunConfig.build``.

Resources are created in dependency order (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``
and ``DependsOn``), with intrinsics resolved against the resources already made,
so ``!GetAtt Table.StreamArn`` is the real stream ARN. An AWS error raised while
creating a resource is reported with that resource's path; resources that depend
on a failed one are skipped (their cause is already reported).

Producers come last. Kinesis streams and SQS queues take ``sim.producer``;
``sim.producer`` does not write to DynamoDB tables, so a table target's scripted
``Records`` (``{At, Item}`` puts, ``{At, Delete: Key}`` deletes) run as one small
task (``TableWriter``) that sleeps until each write's time and calls
``table.put_item`` / ``table.delete_item``: one wake-up per write, fine for scripted
scenarios of up to some thousands of writes, not a load generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._core import get_logger
from ._intrinsics import INVALID
from ._loader import (
    ConfigError,
    Identity,
    Node,
    Prepared,
    RunConfig,
    error_text,
    message_at,
    predicted_identity,
)
from ._schema import FUNCTION_TYPES
from ._simsection import ProducerPlan

if TYPE_CHECKING:
    from ..handlers.function import Function
    from ..pollers.mapping import EventSourceMapping
    from ..simulation import Simulation
    from ..sources.dynamodb import DynamoDBTable
    from ..sources.kinesis import KinesisStream
    from ..sources.producers import Producer
    from ..sources.s3 import S3Bucket
    from ..sources.sns import SnsTopic
    from ..sources.sqs import SqsQueue

__all__ = ("BuiltRun", "TableWriter", "build")


class TableWriter:
    """Scripted writes to a DynamoDB table (``Simulation.Producers`` with a table target).

    Attributes:
        table: the table written to.
        count: writes done so far.
        errors: writes the table rejected (logged as ``producer.write_failed``).
    """

    def __init__(
        self,
        sim: Simulation,
        table: DynamoDBTable,
        records: list[tuple[float, str, dict[str, Any]]],
    ) -> None:
        self.sim = sim
        self.table = table
        self._start = sim.now
        self._records = sorted(records, key=lambda record: record[0])
        self._next = 0
        self.count = 0
        self.errors = 0
        self._log = get_logger(producer=table.name)

    def next_arrival_ms(self) -> int | None:
        """When the next write happens (epoch ms), or None when all are done."""
        if self._next >= len(self._records):
            return None
        return round((self._start + self._records[self._next][0]) * 1000)

    async def run(self) -> None:
        """Make every write at its time (started with ``sim.start_soon``)."""
        clock = self.sim.clock
        for at, op, item in self._records:
            await clock.sleep_until(self._start + at)
            self._next += 1
            try:
                if op == "put":
                    self.table.put_item(Item=json.loads(json.dumps(item)))
                else:
                    self.table.delete_item(Key=json.loads(json.dumps(item)))
            except Exception as exc:  # an AWS error: count it, keep the scenario going
                self.errors += 1
                self._log.warning("producer.write_failed", error=error_text(exc))
            self.count += 1


@dataclass
class BuiltRun:
    """What ``RunConfig.build(sim)`` made, by logical id.

    SAM ``Events`` become mappings named as SAM names them: function logical id +
    event name (``OrdersFunction`` + ``OrderStream`` -> ``OrdersFunctionOrderStream``).
    Producers are keyed by their ``Name`` (default: the target's logical id, with
    ``#2``, ``#3``... for further producers on the same target).
    """

    config: RunConfig
    functions: dict[str, Function] = field(default_factory=dict)
    mappings: dict[str, EventSourceMapping] = field(default_factory=dict)
    streams: dict[str, KinesisStream] = field(default_factory=dict)
    tables: dict[str, DynamoDBTable] = field(default_factory=dict)
    queues: dict[str, SqsQueue] = field(default_factory=dict)
    topics: dict[str, SnsTopic] = field(default_factory=dict)
    buckets: dict[str, S3Bucket] = field(default_factory=dict)
    producers: dict[str, Producer | TableWriter] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)

    def echo(self) -> dict[str, Any]:
        """The config as run, JSON-able: settings, each resource with its resolved
        properties and physical id / ARN, the Simulation section, the warnings."""
        cfg = self.config
        echoed: dict[str, Any] = _jsonable(
            {
                "Path": str(cfg.path),
                "Seed": cfg.seed,
                "Clock": cfg.clock,
                "StartTime": cfg.start_time,
                "Duration": cfg.duration,
                "Region": cfg.region,
                "AccountId": cfg.account_id,
                "Resources": self.resolved,
                "Simulation": cfg.template.simulation if cfg.template else {},
                "Warnings": list(self.warnings),
            }
        )
        return echoed


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def build(
    cfg: RunConfig,
    sim: Simulation,
    *,
    skip: set[str] | frozenset[str] = frozenset(),
    producers: bool = True,
) -> BuiltRun:
    """Create ``cfg``'s resources (except ``skip``) and producers in ``sim``.

    Raises:
        ConfigError: the AWS errors raised while creating, with their paths.
    """
    template = cfg.template
    if template is None:
        raise ConfigError([f"{cfg.path}: this RunConfig was not made by load_config"])
    built = BuiltRun(config=cfg, warnings=list(cfg.warnings))
    if (sim.region, sim.account_id) != (cfg.region, cfg.account_id):
        built.warnings.append(
            f"Simulation.Region: the simulation runs in {sim.region} / {sim.account_id}, "
            f"the config names {cfg.region} / {cfg.account_id}; ARNs follow the simulation"
        )
    problems: list[str] = []
    identities: dict[str, Identity] = {}
    objects: dict[str, Any] = {}
    failed: set[str] = set(skip)
    lookup = template.lookup(identities, sim.region, sim.account_id, static=False)
    for node in template.order:
        if node.logical_id in failed or node.depends & failed:
            failed.add(node.logical_id)
            continue
        prepared = template.prepare(node, lookup, problems, [], static=False)
        if prepared is None:
            failed.add(node.logical_id)
            continue
        try:
            obj = _create(sim, node, prepared)
        except Exception as exc:  # AWS's errors (and handler import errors), with a path
            problems.append(message_at(f"{node.path}.Properties", error_text(exc), node.properties))
            failed.add(node.logical_id)
            continue
        objects[node.logical_id] = obj
        identities[node.logical_id] = _identity(node, obj, prepared, sim)
        _register(built, node, obj)
        built.resolved[node.logical_id] = {
            "Type": node.rtype,
            "DeclaredAt": node.path,
            "PhysicalId": identities[node.logical_id].ref,
            "Arn": getattr(obj, "arn", None),
            "Properties": {k: v for k, v in prepared.resolved.items() if v is not INVALID},
        }
    if producers:
        for plan in template.producers:
            target = objects.get(plan.target)
            if target is None:
                continue  # its resource failed, and that is reported
            try:
                built.producers[plan.name] = _producer(sim, plan, target)
            except Exception as exc:
                problems.append(f"{plan.path}: {error_text(exc)}")
    if problems:
        raise ConfigError(problems)
    return built


def _create(sim: Simulation, node: Node, prepared: Prepared) -> Any:
    rtype, name, kwargs = node.rtype, prepared.name, prepared.kwargs
    if rtype == "AWS::Kinesis::Stream":
        return sim.kinesis_stream(name, **kwargs)
    if rtype == "AWS::DynamoDB::Table":
        return sim.dynamodb_table(name, **kwargs)
    if rtype == "AWS::SQS::Queue":
        return sim.sqs_queue(name, **kwargs)
    if rtype == "AWS::SNS::Topic":
        return sim.sns_topic(name, **kwargs)
    if rtype == "AWS::S3::Bucket":
        return sim.s3_bucket(name, **kwargs)
    if rtype in FUNCTION_TYPES:
        options: dict[str, Any] = {"code_dir": str(prepared.code_dir)}
        if prepared.duration is not None:
            options["duration"] = prepared.duration
        return sim.function(name, prepared.handler, **kwargs, **options)
    return sim.event_source_mapping(**kwargs)


def _identity(node: Node, obj: Any, prepared: Prepared, sim: Simulation) -> Identity:
    if node.rtype == "AWS::Lambda::EventSourceMapping":
        return predicted_identity(
            node.rtype, "", {}, sim.region, sim.account_id, uuid=str(obj.uuid)
        )
    identity = predicted_identity(
        node.rtype, obj.name, prepared.resolved, sim.region, sim.account_id
    )
    if node.rtype == "AWS::DynamoDB::Table":
        identity.attrs.pop("StreamArn", None)
        if obj.stream_arn is not None:
            identity.attrs["StreamArn"] = obj.stream_arn
    if "Arn" in identity.attrs and getattr(obj, "arn", None):
        identity.attrs["Arn"] = obj.arn
    return identity


def _register(built: BuiltRun, node: Node, obj: Any) -> None:
    lid = node.logical_id
    if node.rtype == "AWS::Kinesis::Stream":
        built.streams[lid] = obj
    elif node.rtype == "AWS::DynamoDB::Table":
        built.tables[lid] = obj
    elif node.rtype == "AWS::SQS::Queue":
        built.queues[lid] = obj
    elif node.rtype == "AWS::SNS::Topic":
        built.topics[lid] = obj
    elif node.rtype == "AWS::S3::Bucket":
        built.buckets[lid] = obj
    elif node.rtype in FUNCTION_TYPES:
        built.functions[lid] = obj
    else:
        built.mappings[lid] = obj


def _producer(sim: Simulation, plan: ProducerPlan, target: Any) -> Producer | TableWriter:
    if plan.target_type == "AWS::DynamoDB::Table":
        writer = TableWriter(sim, target, plan.table_records)
        sim.start_soon(writer.run, name=f"table-writer-{plan.name}")
        return writer
    return sim.producer(target, **plan.spec)
