"""Load a config file into a ``RunConfig``, reporting every problem at once.

A config file is a CloudFormation template (SAM templates too) plus a
``Simulation:`` section. Loading is static: it parses the YAML, checks the
structure, the types and ranges of every property, every ``Ref``/``GetAtt``,
the dependency order (cycles are errors), the handler strings and code folders,
and the Simulation section, without creating anything. Each problem names its
path (``Resources.Orders.Properties.ShardCount: must be >= 1``).
``RunConfig.build(sim)`` then creates the resources in dependency order and maps
the AWS errors raised on the way to their resource's path.
"""

from __future__ import annotations

import copy
import heapq
import importlib.util
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .._arns import (
    dynamodb_stream_arn,
    dynamodb_table_arn,
    esm_arn,
    kinesis_stream_arn,
    lambda_function_arn,
    role_arn,
    s3_bucket_arn,
    sns_topic_arn,
    sqs_queue_arn,
    sqs_queue_url,
)
from .._core import format_iso_ms
from ..handlers.loading import HandlerLoadError, split_handler
from ..handlers.properties import validate_properties
from ..pollers._settings import validate_create
from ..simulation import DEFAULT_START_TIME
from ..sources._sqs_props import parse_queue_properties
from ._durations import parse_duration
from ._intrinsics import INVALID, Lookup, ResolveError, Resolver, references
from ._schema import ESM_PROPERTIES, FUNCTION_TYPES, TYPES, Prop, TypeSpec, check_value, suggest
from ._simsection import (
    FUNCTION_KEYS,
    SIMULATION_KEYS,
    FunctionOverride,
    ProducerPlan,
    duration_setting,
    parse_producer,
)
from ._yaml import load_yaml

if TYPE_CHECKING:
    from ..simulation import Simulation
    from ._build import BuiltRun

__all__ = (
    "ConfigError",
    "RunConfig",
    "analyse",
    "check_config",
    "load_config",
    "load_document",
    "message_at",
)

_TOP_LEVEL = (
    "AWSTemplateFormatVersion",
    "Transform",
    "Description",
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Globals",
    "Resources",
    "Outputs",
    "Simulation",
)
_RESOURCE_KEYS = (
    "Type",
    "Properties",
    "DependsOn",
    "Metadata",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
)
_SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_DEFAULT_DURATION = 3600.0
_ESM_TYPE = "AWS::Lambda::EventSourceMapping"
_SAM_EVENT_TYPES = ("SQS", "Kinesis", "DynamoDB")
_PLACEHOLDER_UUID = "00000000-0000-4000-8000-000000000000"
_MESSAGE_PROPERTY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)((?:\.[A-Za-z][A-Za-z0-9]*)*)(?::| )\s*")

# SAM event properties: the mapping's, with Queue / Stream for EventSourceArn.
_SAM_COMMON = {
    key: prop
    for key, prop in ESM_PROPERTIES.items()
    if key not in ("EventSourceArn", "FunctionName", "KMSKeyArn", "Tags")
}
_SAM_COMMON["FunctionName"] = Prop("str")
_SAM_COMMON["KmsKeyArn"] = Prop("str", effect=False)
_STREAM_ONLY_NAMES = (
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "TumblingWindowInSeconds",
    "DestinationConfig",
)
_SAM_SQS_SPEC = TypeSpec(
    None,
    {
        **{k: v for k, v in _SAM_COMMON.items() if k not in _STREAM_ONLY_NAMES},
        "Queue": Prop("str", required=True),
    },
)
_SAM_STREAM_SPEC = TypeSpec(
    None,
    {
        **{
            k: v
            for k, v in _SAM_COMMON.items()
            if k not in ("ScalingConfig", "ProvisionedPollerConfig")
        },
        "Stream": Prop("str", required=True),
        "StartingPosition": Prop(
            "str", choices=("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"), required=True
        ),
    },
)


class ConfigError(Exception):
    """Raised when a config file has problems; ``problems`` lists each one with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Node:
    """A resource to create: one from ``Resources``, or a mapping a SAM event declares."""

    logical_id: str
    rtype: str
    path: str
    properties: dict[str, Any]
    index: int
    spec: TypeSpec
    depends: set[str] = field(default_factory=set)
    sam_event: bool = False


@dataclass
class Prepared:
    """A node's resolved properties, split into what its constructor takes."""

    name: str
    resolved: dict[str, Any]
    kwargs: dict[str, Any]
    handler: str | None = None
    code_dir: Path | None = None
    duration: Any = None
    stream: bool = False  # a table with a stream


@dataclass
class Identity:
    """What ``Ref`` and ``Fn::GetAtt`` give for one resource."""

    ref: Any
    attrs: dict[str, Any]


@dataclass
class Template:
    """A checked config file: resources in creation order plus the Simulation section."""

    path: Path
    folder: Path
    region: str
    account_id: str
    start_time: datetime | None
    clock: str
    parameters: dict[str, Any]
    missing_parameters: set[str]
    mappings: dict[str, Any]
    nodes: dict[str, Node]
    order: list[Node]
    unmodelled: dict[str, str]
    overrides: dict[str, FunctionOverride]
    producers: list[ProducerPlan]
    simulation: dict[str, Any]
    bad: set[str]

    # -- lookups -------------------------------------------------------------------
    def pseudo(self, region: str, account_id: str) -> dict[str, Any]:
        """The pseudo parameters for a Region and account."""
        partition = "aws"
        if region.startswith("cn-"):
            partition = "aws-cn"
        elif region.startswith("us-gov-"):
            partition = "aws-us-gov"
        return {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": partition,
            "AWS::StackName": "esmsim",
            "AWS::StackId": (
                f"arn:{partition}:cloudformation:{region}:{account_id}:stack/esmsim/"
                "00000000-0000-0000-0000-000000000000"
            ),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def lookup(
        self,
        identities: dict[str, Identity],
        region: str,
        account_id: str,
        *,
        static: bool,
    ) -> Lookup:
        """A ``Lookup`` over ``identities`` (static: fall back to predicted names)."""

        def identity(name: str) -> Identity:
            found = identities.get(name)
            if found is not None:
                return found
            node = self.nodes.get(name)
            if node is not None:
                if static:
                    return predicted_identity(node.rtype, name, {}, region, account_id)
                raise ResolveError(f"{name} was not created")
            if name in self.unmodelled:
                return _unmodelled_identity(self.unmodelled[name], name, region, account_id)
            if name in self.missing_parameters:
                raise ResolveError(
                    f"Ref: parameter {name} has no Default; esmsim takes no parameter values, "
                    "so give it a Default"
                )
            known = list(self.nodes) + list(self.unmodelled) + list(self.parameters)
            raise ResolveError(
                f"{name} is not a resource or parameter of this template{suggest(name, known)}"
            )

        def ref(name: str) -> Any:
            return identity(name).ref

        def getatt(name: str, attr: str) -> Any:
            found = identity(name)
            if attr in found.attrs:
                return found.attrs[attr]
            rtype = self.nodes[name].rtype if name in self.nodes else self.unmodelled.get(name)
            known = ", ".join(found.attrs) or "none"
            raise ResolveError(
                f"Fn::GetAtt: {name} ({rtype}) has no attribute {attr}"
                f"{suggest(attr, found.attrs)}; esmsim knows: {known}"
            )

        return Lookup(
            ref=ref,
            getatt=getatt,
            pseudo=self.pseudo(region, account_id),
            parameters=self.parameters,
            mappings=self.mappings,
        )

    # -- preparing one resource --------------------------------------------------------
    def prepare(
        self,
        node: Node,
        lookup: Lookup,
        problems: list[str],
        warnings: list[str],
        *,
        static: bool,
    ) -> Prepared | None:
        """Resolve and check ``node``'s properties; None when a problem was found."""
        before = len(problems)
        where = f"{node.path}.Properties"
        resolved = Resolver(lookup, problems).resolve(node.properties, where)
        kwargs: dict[str, Any] = {}
        props = node.spec.props
        for key, value in resolved.items():
            spec = props.get(key)
            if spec is None:
                warnings.append(
                    f"{where}.{key}: not modelled by esmsim; ignored{suggest(key, props)}"
                )
                continue
            if value is INVALID:
                continue
            converted, problem = check_value(spec, value)
            if problem is not None:
                problems.append(f"{where}.{key}: {problem}")
                continue
            resolved[key] = converted
            if not spec.effect:
                warnings.append(f"{where}.{key}: not modelled by esmsim; ignored")
            if spec.passthrough:
                kwargs[key] = converted
        for key, spec in props.items():
            if spec.required and key not in resolved:
                problems.append(f"{where}.{key}: required property missing")
        if len(problems) > before:
            return None
        rtype = node.rtype
        name = _physical_name(node, resolved)
        prepared = Prepared(name=name, resolved=resolved, kwargs=kwargs)
        if rtype == "AWS::DynamoDB::Table":
            prepared.stream = bool(resolved.get("StreamSpecification"))
        if rtype in FUNCTION_TYPES:
            self._prepare_function(node, prepared, problems, static=static)
        elif node.sam_event:
            self._prepare_sam_event(node, prepared, warnings)
        elif rtype == _ESM_TYPE:
            self._prepare_mapping(node, prepared, warnings)
        if static and len(problems) == before:
            _static_checks(node, prepared, problems)
        return None if len(problems) > before else prepared

    def _prepare_function(
        self, node: Node, prepared: Prepared, problems: list[str], *, static: bool
    ) -> None:
        where = f"{node.path}.Properties"
        resolved = prepared.resolved
        override = self.overrides.get(node.logical_id, FunctionOverride())
        code_key = "CodeUri" if node.rtype == "AWS::Serverless::Function" else "Code"
        folder = self.folder
        code = resolved.get(code_key)
        if override.code_uri is not None:
            folder = (self.folder / override.code_uri).resolve()
            code_path = f"Simulation.Functions.{node.logical_id}.CodeUri"
        else:
            code_path = f"{where}.{code_key}"
            if isinstance(code, str):
                folder = (self.folder / code).resolve()
        if not folder.is_dir():
            problems.append(f"{code_path}: the code folder {folder} does not exist")
            return
        handler = resolved["Handler"]
        prepared.handler = handler
        prepared.code_dir = folder
        prepared.duration = override.duration
        if static:
            problem = _check_handler(handler, folder)
            if problem is not None:
                problems.append(f"{where}.Handler: {problem}")

    def _prepare_sam_event(self, node: Node, prepared: Prepared, warnings: list[str]) -> None:
        kwargs = prepared.kwargs
        source = kwargs.pop("Queue", None) or kwargs.pop("Stream", None)
        kwargs["EventSourceArn"] = source
        if "KmsKeyArn" in kwargs:
            kwargs["KMSKeyArn"] = kwargs.pop("KmsKeyArn")
        _strip_destination_type(kwargs, None, warnings)

    def _prepare_mapping(self, node: Node, prepared: Prepared, warnings: list[str]) -> None:
        _strip_destination_type(prepared.kwargs, f"{node.path}.Properties", warnings)


def _strip_destination_type(kwargs: dict[str, Any], where: str | None, warnings: list[str]) -> None:
    """Drop SAM's ``DestinationConfig.OnFailure.Type`` (it only drives IAM policies)."""
    config = kwargs.get("DestinationConfig")
    on_failure = config.get("OnFailure") if isinstance(config, dict) else None
    if isinstance(on_failure, dict) and "Type" in on_failure:
        assert isinstance(config, dict)
        kwargs["DestinationConfig"] = {
            **config,
            "OnFailure": {k: v for k, v in on_failure.items() if k != "Type"},
        }
        if where is not None:
            warnings.append(
                f"{where}.DestinationConfig.OnFailure.Type: not modelled by esmsim; ignored"
            )


def _physical_name(node: Node, resolved: dict[str, Any]) -> str:
    prop = node.spec.name_property
    given = resolved.get(prop) if prop else None
    if isinstance(given, str) and given:
        return given
    return default_name(node.rtype, node.logical_id, resolved)


def default_name(rtype: str, logical_id: str, resolved: dict[str, Any]) -> str:
    """The name esmsim gives a resource whose template sets none (CloudFormation would
    generate one; the logical id keeps runs readable)."""
    if rtype == "AWS::S3::Bucket":
        return logical_id.lower()
    if rtype == "AWS::SQS::Queue" and resolved.get("FifoQueue") in (True, "true"):
        return f"{logical_id}.fifo"
    if rtype == "AWS::SNS::Topic" and resolved.get("FifoTopic") in (True, "true"):
        return f"{logical_id}.fifo"
    return logical_id


def message_at(where: str, message: str, props: dict[str, Any]) -> str:
    """``where: message``, moving a leading ``Property:`` of the message into the path."""
    match = _MESSAGE_PROPERTY.match(message)
    if match and match.group(1) in props and message[match.end(2) : match.end(2) + 1] == ":":
        rest = message[match.end() :]
        return f"{where}.{match.group(1)}{match.group(2)}: {rest}"
    return f"{where}: {message}"


def error_text(exc: BaseException) -> str:
    """An exception as a problem text: AWS's message, then the AWS error code."""
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, HandlerLoadError):
        return str(exc)
    if isinstance(code, str) and code and code not in message:
        return f"{message} ({code})"
    if not isinstance(code, str):
        return f"{message} ({type(exc).__name__})"
    return message


def _static_checks(node: Node, prepared: Prepared, problems: list[str]) -> None:
    """AWS's own validators, where they need no simulation (errors mapped to paths)."""
    where = f"{node.path}.Properties"
    kwargs = prepared.kwargs
    try:
        if node.rtype == "AWS::SQS::Queue":
            parse_queue_properties(prepared.name, kwargs)
        elif node.rtype in FUNCTION_TYPES:
            validate_properties(
                {**kwargs, "duration": prepared.duration, "code_dir": prepared.code_dir}
            )
        elif node.rtype == _ESM_TYPE:
            arn = kwargs.get("EventSourceArn")
            fifo = isinstance(arn, str) and arn.endswith(".fifo") and ":sqs:" in arn
            validate_create(dict(kwargs), fifo=fifo)
    except Exception as exc:  # AWS errors, TypeError, ValueError: all map to the path
        problems.append(message_at(where, error_text(exc), prepared.resolved))


def _check_handler(handler: str, folder: Path) -> str | None:
    """Why ``handler`` cannot load from ``folder``, or None (the attribute is checked
    when the function is built)."""
    try:
        module, attr = split_handler(handler)
    except HandlerLoadError as exc:
        return str(exc)
    relative = Path(*module.split("."))
    if (folder / relative).with_suffix(".py").is_file() or (
        folder / relative / "__init__.py"
    ).is_file():
        return None
    if (folder / module.split(".")[0]).exists() and module.split(".")[0] != "esmsim":
        return (
            f"Runtime.ImportModuleError: Unable to import module '{module}': "
            f"no {relative}.py in {folder}"
        )
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return (
            f"Runtime.ImportModuleError: Unable to import module '{module}': "
            f"no {relative}.py in {folder}, and no installed module of that name"
        )
    if module == "esmsim.handlers.builtin":
        from ..handlers import builtin

        if attr not in builtin.__all__ or attr == "InjectedFailure":
            names = ", ".join(n for n in builtin.__all__ if n != "InjectedFailure")
            return f"Runtime.HandlerNotFound: esmsim has no built-in handler {attr!r}; use {names}"
    return None


def predicted_identity(
    rtype: str,
    name: str,
    resolved: dict[str, Any],
    region: str,
    account_id: str,
    *,
    stream_label: str | None = None,
    uuid: str | None = None,
) -> Identity:
    """What Ref / GetAtt give for a resource named ``name`` (predicted from the name)."""
    if rtype == "AWS::Kinesis::Stream":
        return Identity(name, {"Arn": kinesis_stream_arn(region, account_id, name)})
    if rtype == "AWS::DynamoDB::Table":
        attrs = {"Arn": dynamodb_table_arn(region, account_id, name)}
        if resolved.get("StreamSpecification") or stream_label:
            label = stream_label or format_iso_ms(int(DEFAULT_START_TIME.timestamp() * 1000))[:-1]
            attrs["StreamArn"] = dynamodb_stream_arn(region, account_id, name, label)
        return Identity(name, attrs)
    if rtype == "AWS::SQS::Queue":
        url = sqs_queue_url(region, account_id, name)
        arn = sqs_queue_arn(region, account_id, name)
        return Identity(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
    if rtype == "AWS::SNS::Topic":
        arn = sns_topic_arn(region, account_id, name)
        return Identity(arn, {"TopicArn": arn, "TopicName": name})
    if rtype == "AWS::S3::Bucket":
        return Identity(
            name,
            {
                "Arn": s3_bucket_arn(name),
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
            },
        )
    if rtype in FUNCTION_TYPES:
        return Identity(name, {"Arn": lambda_function_arn(region, account_id, name)})
    ident = uuid or _PLACEHOLDER_UUID
    return Identity(
        ident, {"Id": ident, "EventSourceMappingArn": esm_arn(region, account_id, ident)}
    )


def _unmodelled_identity(rtype: str, name: str, region: str, account_id: str) -> Identity:
    if rtype == "AWS::IAM::Role":
        return Identity(name, {"Arn": role_arn(account_id, name), "RoleId": name})
    parts = rtype.split("::")
    service = parts[1].lower() if len(parts) == 3 else "unknown"
    return Identity(name, {"Arn": f"arn:aws:{service}:{region}:{account_id}:{name}"})


# -- the public surface ------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """What a config file asks for.

    Attributes:
        path: the config file.
        seed, clock, start_time, duration: from the Simulation section (defaults 0,
            ``"virtual"``, None (the simulation's default), 3600 s).
        resources: the ``Resources`` section as written (intrinsics unresolved).
        region, account_id: ``Simulation.Region`` / ``AccountId`` (pass them to
            ``Simulation``; defaults us-east-1 and 123456789012).
        warnings: one line per AWS setting esmsim accepts but does not model.
    """

    path: Path
    seed: int = 0
    clock: str = "virtual"
    start_time: datetime | None = None
    duration: float = _DEFAULT_DURATION
    resources: dict[str, Any] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    warnings: tuple[str, ...] = ()
    template: Template | None = field(default=None, repr=False, compare=False)

    def build(self, sim: Simulation) -> BuiltRun:
        """Create every resource and producer in ``sim``, in dependency order.

        Raises:
            ConfigError: every AWS error raised while creating, each with its
                resource's path (``Resources.OrdersMapping.Properties: ...``).
        """
        from ._build import build

        return build(self, sim)


def load_config(path: str | Path) -> RunConfig:
    """Read and check ``path`` (statically: nothing is created).

    Raises:
        ConfigError: every problem found, each with the path of its field.
    """
    cfg, problems = analyse(path)
    if problems or cfg is None:
        raise ConfigError(problems)
    return cfg


def load_document(path: str | Path, document: dict[str, Any]) -> RunConfig:
    """``document``, a config already parsed (and perhaps edited in memory), checked as
    ``load_config`` checks the file at ``path``: the same static checks, with code
    folders and handlers resolved next to ``path``, which need not hold this text.

    ``document`` is what the config's YAML parses to, with CloudFormation's short-form
    tags as their long forms (``!Ref X`` as ``{"Ref": "X"}``). It is copied: later
    edits to it do not change the returned config.

    Raises:
        ConfigError: every problem found, each with the path of its field.
    """
    path = Path(path)
    if not isinstance(document, dict):
        raise ConfigError(
            [f"{path}: the top level must be a mapping with Resources and Simulation"]
        )
    cfg, problems = _Analysis(path, copy.deepcopy(document)).run()
    if problems:
        raise ConfigError(problems)
    return cfg


def check_config(path: str | Path) -> tuple[list[str], list[str]]:
    """``(problems, warnings)`` of a config: the static checks, then a build of the
    resources that passed them in a throwaway simulation that never runs (AWS's
    create-time errors, such as a queue visibility timeout below the function's)."""
    cfg, problems = analyse(path)
    if cfg is None:
        return problems, []
    warnings = list(cfg.warnings)
    assert cfg.template is not None
    from ..simulation import Simulation
    from ._build import build

    with Simulation(
        seed=cfg.seed,
        start_time=cfg.start_time,
        region=cfg.region,
        account_id=cfg.account_id,
    ) as sim:
        try:
            build(cfg, sim, skip=cfg.template.bad, producers=not problems)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems, warnings


def analyse(path: str | Path) -> tuple[RunConfig | None, list[str]]:
    """The config (when it could be parsed at all) and every static problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [f"{path}: cannot read the file ({exc.strerror})"]
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        return None, [f"{path}: not valid YAML: {exc}"]
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return None, [f"{path}: the top level must be a mapping with Resources and Simulation"]
    return _Analysis(path, doc).run()


class _Analysis:
    """One pass over a parsed document, collecting problems and warnings."""

    def __init__(self, path: Path, doc: dict[str, Any]) -> None:
        self.path = path
        self.doc = doc
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def run(self) -> tuple[RunConfig, list[str]]:
        doc = self.doc
        for key in doc:
            if key not in _TOP_LEVEL:
                self.problems.append(
                    f"{key}: unknown top-level key{suggest(str(key), _TOP_LEVEL)}; "
                    f"allowed: {', '.join(_TOP_LEVEL)}"
                )
        self._transform(doc.get("Transform"))
        if doc.get("Conditions"):
            self.warnings.append("Conditions: not modelled by esmsim; ignored")
        sim = self._mapping(doc.get("Simulation"), "Simulation")
        for key in sim:
            if key not in SIMULATION_KEYS:
                self.problems.append(
                    f"Simulation.{key}: unknown key{suggest(str(key), SIMULATION_KEYS)}; "
                    f"allowed: {', '.join(SIMULATION_KEYS)}"
                )
        seed = sim.get("Seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            self.problems.append(f"Simulation.Seed: must be an integer, got {seed!r}")
            seed = 0
        clock = sim.get("Clock", "virtual")
        if clock not in ("virtual", "wall"):
            self.problems.append(f"Simulation.Clock: must be one of virtual, wall; got {clock!r}")
            clock = "virtual"
        start_time = self._start_time(sim.get("StartTime"))
        duration = _DEFAULT_DURATION
        if "Duration" in sim:
            try:
                duration = parse_duration(sim["Duration"])
            except ValueError as exc:
                self.problems.append(f"Simulation.Duration: {exc}")
        region = sim.get("Region", "us-east-1")
        if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            self.problems.append(f"Simulation.Region: {region!r} is not a Region name")
            region = "us-east-1"
        account = str(sim.get("AccountId", "123456789012"))
        if not re.fullmatch(r"\d{12}", account):
            self.problems.append(f"Simulation.AccountId: {account!r} is not a 12-digit account id")
            account = "123456789012"
        parameters, missing = self._parameters(doc.get("Parameters"))
        mappings = self._mapping(doc.get("Mappings"), "Mappings")
        resources = self._mapping(doc.get("Resources"), "Resources")
        globals_function = self._globals(doc.get("Globals"))
        nodes, unmodelled = self._nodes(resources, globals_function)
        overrides = self._overrides(sim.get("Functions"), nodes)
        order, bad = self._order(nodes, unmodelled, parameters, missing)
        template = Template(
            path=self.path,
            folder=self.path.resolve().parent,
            region=region,
            account_id=account,
            start_time=start_time,
            clock=clock,
            parameters=parameters,
            missing_parameters=missing,
            mappings=mappings,
            nodes=nodes,
            order=order,
            unmodelled=unmodelled,
            overrides=overrides,
            producers=[],
            simulation=sim,
            bad=bad,
        )
        resolved = self._static_pass(template, start_time, region, account)
        template.producers = self._producers(sim.get("Producers"), nodes, unmodelled, resolved)
        cfg = RunConfig(
            path=self.path,
            seed=seed,
            clock=clock,
            start_time=start_time,
            duration=duration,
            resources=resources,
            region=region,
            account_id=account,
            warnings=tuple(dict.fromkeys(self.warnings)),
            template=template,
        )
        return cfg, self.problems

    # -- sections ---------------------------------------------------------------------------
    def _mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problems.append(f"{where}: must be a mapping")
            return {}
        return value

    def _transform(self, value: Any) -> None:
        names = value if isinstance(value, list) else [] if value is None else [value]
        for name in names:
            if name != _SAM_TRANSFORM:
                self.warnings.append(
                    f"Transform: {name!r} not modelled by esmsim; ignored "
                    f"(only {_SAM_TRANSFORM} is understood)"
                )

    def _start_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        self.problems.append(
            "Simulation.StartTime: must be an ISO-8601 date-time such as "
            f"2026-01-01T00:00:00Z, got {value!r}"
        )
        return None

    def _parameters(self, value: Any) -> tuple[dict[str, Any], set[str]]:
        parameters: dict[str, Any] = {}
        missing: set[str] = set()
        for name, spec in self._mapping(value, "Parameters").items():
            if not isinstance(spec, dict):
                self.problems.append(f"Parameters.{name}: must be a mapping with Type and Default")
                continue
            if "Default" in spec:
                default = spec["Default"]
                if spec.get("Type") == "CommaDelimitedList" and isinstance(default, str):
                    default = [part.strip() for part in default.split(",")]
                parameters[str(name)] = default
            else:
                missing.add(str(name))
        return parameters, missing

    def _globals(self, value: Any) -> dict[str, Any]:
        section = self._mapping(value, "Globals")
        for key in section:
            if key != "Function":
                self.warnings.append(f"Globals.{key}: not modelled by esmsim; ignored")
        function = section.get("Function") or {}
        if not isinstance(function, dict):
            self.problems.append("Globals.Function: must be a mapping of function properties")
            return {}
        return function

    def _nodes(
        self, resources: dict[str, Any], globals_function: dict[str, Any]
    ) -> tuple[dict[str, Node], dict[str, str]]:
        nodes: dict[str, Node] = {}
        unmodelled: dict[str, str] = {}
        pending_events: list[tuple[str, dict[str, Any]]] = []
        for index, (logical_id, resource) in enumerate(resources.items()):
            where = f"Resources.{logical_id}"
            if not isinstance(logical_id, str) or not re.fullmatch(r"[A-Za-z0-9]+", logical_id):
                self.problems.append(f"{where}: a logical id is letters and digits only")
                continue
            if not isinstance(resource, dict):
                self.problems.append(f"{where}: must be a mapping with Type and Properties")
                continue
            for key in resource:
                if key not in _RESOURCE_KEYS:
                    self.problems.append(
                        f"{where}.{key}: unknown resource attribute"
                        f"{suggest(str(key), _RESOURCE_KEYS)}; allowed: {', '.join(_RESOURCE_KEYS)}"
                    )
            if "Condition" in resource:
                self.warnings.append(
                    f"{where}.Condition: not modelled by esmsim; ignored (the resource is created)"
                )
            rtype = resource.get("Type")
            properties = resource.get("Properties", {})
            if properties is None:
                properties = {}
            if not isinstance(properties, dict):
                self.problems.append(f"{where}.Properties: must be a mapping")
                properties = {}
            if not isinstance(rtype, str) or rtype not in TYPES:
                if isinstance(rtype, str) and re.fullmatch(r"[A-Za-z0-9]+(::[A-Za-z0-9]+)+", rtype):
                    hint = suggest(rtype, TYPES)
                    if hint:
                        self.problems.append(f"{where}.Type: unknown type {rtype}{hint}")
                        continue
                    unmodelled[logical_id] = rtype
                    self.warnings.append(f"{where}: {rtype} not modelled by esmsim; ignored")
                else:
                    self.problems.append(
                        f"{where}.Type: must be a resource type such as AWS::SQS::Queue, "
                        f"got {rtype!r}"
                    )
                continue
            if rtype == "AWS::Serverless::Function":
                properties = _merge_globals(globals_function, properties)
            node = Node(logical_id, rtype, where, properties, index, TYPES[rtype])
            node.depends.update(self._depends_on(resource.get("DependsOn"), where, resources))
            nodes[logical_id] = node
            if rtype == "AWS::Serverless::Function" and properties.get("Events") is not None:
                pending_events.append((logical_id, properties))
        for logical_id, properties in pending_events:
            self._sam_events(logical_id, properties, nodes, unmodelled)
        return nodes, unmodelled

    def _depends_on(self, value: Any, where: str, resources: dict[str, Any]) -> list[str]:
        if value is None:
            return []
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.problems.append(f"{where}.DependsOn: must be a logical id or a list of them")
            return []
        out = []
        for name in names:
            if name not in resources:
                self.problems.append(
                    f"{where}.DependsOn: {name} is not a resource of this template"
                    f"{suggest(name, resources)}"
                )
            else:
                out.append(name)
        return out

    def _sam_events(
        self,
        function_id: str,
        properties: dict[str, Any],
        nodes: dict[str, Node],
        unmodelled: dict[str, str],
    ) -> None:
        base = f"Resources.{function_id}.Properties.Events"
        events = properties.get("Events")
        if not isinstance(events, dict):
            self.problems.append(f"{base}: must be a mapping of event names to events")
            return
        function = nodes[function_id]
        for index, (event_id, event) in enumerate(events.items()):
            where = f"{base}.{event_id}"
            if not isinstance(event, dict):
                self.problems.append(f"{where}: must be a mapping with Type and Properties")
                continue
            for key in event:
                if key not in ("Type", "Properties"):
                    self.problems.append(f"{where}.{key}: unknown key; allowed: Type, Properties")
            etype = event.get("Type")
            if etype not in _SAM_EVENT_TYPES:
                self.warnings.append(f"{where}: {etype} event not modelled by esmsim; ignored")
                continue
            props = event.get("Properties")
            if not isinstance(props, dict):
                self.problems.append(f"{where}.Properties: must be a mapping")
                continue
            wrong = "Stream" if etype == "SQS" else "Queue"
            if wrong in props:
                right = "Queue" if etype == "SQS" else "Stream"
                self.problems.append(
                    f"{where}.Properties.{wrong}: a {etype} event takes {right}, not {wrong}"
                )
                continue
            logical_id = f"{function_id}{event_id}"
            if logical_id in nodes or logical_id in unmodelled:
                self.problems.append(
                    f"{where}: SAM names this event's mapping {logical_id}, which another "
                    "resource already uses"
                )
                continue
            spec = _SAM_SQS_SPEC if etype == "SQS" else _SAM_STREAM_SPEC
            node = Node(
                logical_id,
                _ESM_TYPE,
                where,
                {"FunctionName": {"Ref": function_id}, **props},
                function.index * 1000 + index + 1,
                spec,
                sam_event=True,
            )
            nodes[logical_id] = node

    def _overrides(self, value: Any, nodes: dict[str, Node]) -> dict[str, FunctionOverride]:
        out: dict[str, FunctionOverride] = {}
        for logical_id, spec in self._mapping(value, "Simulation.Functions").items():
            where = f"Simulation.Functions.{logical_id}"
            node = nodes.get(logical_id)
            if node is None or node.rtype not in FUNCTION_TYPES:
                functions = [n for n, v in nodes.items() if v.rtype in FUNCTION_TYPES]
                self.problems.append(
                    f"{where}: no AWS::Lambda::Function or AWS::Serverless::Function named "
                    f"{logical_id} in Resources{suggest(str(logical_id), functions)}"
                )
                continue
            if not isinstance(spec, dict):
                self.problems.append(f"{where}: must be a mapping with Duration and/or CodeUri")
                continue
            override = FunctionOverride()
            for key in spec:
                if key not in FUNCTION_KEYS:
                    self.problems.append(
                        f"{where}.{key}: unknown key{suggest(str(key), FUNCTION_KEYS)}; "
                        f"allowed: {', '.join(FUNCTION_KEYS)}"
                    )
            if "Duration" in spec:
                override.duration = duration_setting(
                    spec["Duration"], f"{where}.Duration", self.problems
                )
            if "CodeUri" in spec:
                if isinstance(spec["CodeUri"], str):
                    override.code_uri = spec["CodeUri"]
                else:
                    self.problems.append(f"{where}.CodeUri: must be a folder path")
            out[str(logical_id)] = override
        return out

    def _order(
        self,
        nodes: dict[str, Node],
        unmodelled: dict[str, str],
        parameters: dict[str, Any],
        missing: set[str],
    ) -> tuple[list[Node], set[str]]:
        for node in nodes.values():
            for name in references(node.properties):
                if name in nodes and name != node.logical_id:
                    node.depends.add(name)
                elif name == node.logical_id:
                    self.problems.append(f"{node.path}: refers to itself")
        indegree = dict.fromkeys(nodes, 0)
        users: dict[str, list[str]] = {lid: [] for lid in nodes}
        for node in nodes.values():
            for dep in node.depends:
                if dep in nodes:
                    indegree[node.logical_id] += 1
                    users[dep].append(node.logical_id)
        heap = [(n.index, lid) for lid, n in nodes.items() if indegree[lid] == 0]
        heapq.heapify(heap)
        order: list[Node] = []
        while heap:
            _, lid = heapq.heappop(heap)
            order.append(nodes[lid])
            for user in users[lid]:
                indegree[user] -= 1
                if indegree[user] == 0:
                    heapq.heappush(heap, (nodes[user].index, user))
        remaining = [n for n in nodes.values() if indegree[n.logical_id] > 0]
        bad: set[str] = set()
        reported: set[str] = set()
        for node in sorted(remaining, key=lambda n: n.index):
            if node.logical_id in reported:
                continue
            cycle = _find_cycle(node.logical_id, nodes, {n.logical_id for n in remaining})
            if cycle:
                reported.update(cycle)
                self.problems.append(
                    f"{nodes[cycle[0]].path}: circular dependency: "
                    + " -> ".join([*cycle, cycle[0]])
                )
        bad.update(n.logical_id for n in remaining)
        order.extend(sorted(remaining, key=lambda n: n.index))
        return order, bad

    def _static_pass(
        self, template: Template, start_time: datetime | None, region: str, account: str
    ) -> dict[str, dict[str, Any]]:
        start = start_time or (DEFAULT_START_TIME if template.clock == "virtual" else None)
        label = (
            format_iso_ms(int(start.timestamp() * 1000))[:-1]
            if start is not None
            else "2026-01-01T00:00:00.000"
        )
        identities: dict[str, Identity] = {}
        lookup = template.lookup(identities, region, account, static=True)
        resolved: dict[str, dict[str, Any]] = {}
        for node in template.order:
            before = len(self.problems)
            prepared = template.prepare(node, lookup, self.problems, self.warnings, static=True)
            if prepared is None or len(self.problems) > before:
                template.bad.add(node.logical_id)
                identities[node.logical_id] = predicted_identity(
                    node.rtype, node.logical_id, {}, region, account
                )
                continue
            resolved[node.logical_id] = prepared.resolved
            identities[node.logical_id] = predicted_identity(
                node.rtype,
                prepared.name,
                prepared.resolved,
                region,
                account,
                stream_label=label if prepared.stream else None,
            )
        return resolved

    def _producers(
        self,
        value: Any,
        nodes: dict[str, Node],
        unmodelled: dict[str, str],
        resolved: dict[str, dict[str, Any]],
    ) -> list[ProducerPlan]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append("Simulation.Producers: must be a list of producers")
            return []
        types = {lid: node.rtype for lid, node in nodes.items()}
        types.update(unmodelled)
        keys: dict[str, list[str]] = {}
        for lid, props in resolved.items():
            schema = props.get("KeySchema")
            if isinstance(schema, list):
                keys[lid] = [
                    e["AttributeName"]
                    for e in schema
                    if isinstance(e, dict) and isinstance(e.get("AttributeName"), str)
                ]
        plans = []
        names: set[str] = set()
        for index, raw in enumerate(value):
            plan = parse_producer(index, raw, types, keys, self.problems)
            if plan is None:
                continue
            base, n = plan.name, 1
            while plan.name in names:
                n += 1
                plan.name = f"{base}#{n}"
            names.add(plan.name)
            plans.append(plan)
        return plans


def _merge_globals(globals_function: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals.Function under a function's own properties (maps merge, the
    function's values win)."""
    if not globals_function:
        return properties
    merged = dict(globals_function)
    for key, value in properties.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            inner = dict(base)
            for k, v in value.items():
                if isinstance(inner.get(k), dict) and isinstance(v, dict):
                    inner[k] = {**inner[k], **v}
                else:
                    inner[k] = v
            merged[key] = inner
        else:
            merged[key] = value
    return merged


def _find_cycle(start: str, nodes: dict[str, Node], within: set[str]) -> list[str]:
    path: list[str] = []
    seen: dict[str, int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        following = sorted(d for d in nodes[current].depends if d in within)
        if not following:
            return []
        current = following[0]
    return path[seen[current] :]
