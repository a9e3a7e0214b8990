"""esmsim's pytest plugin, active once esmsim is installed (entry point ``pytest11``).

Fixtures:

* ``esm_sim``: a started virtual-clock ``Simulation``, closed after the test. Its seed
  is ``@pytest.mark.esm(seed=...)``, else ``--esm-seed``, else derived from the test
  id (CRC-32 of the node id), so a failure reproduces by running the same test again.
  The simulation runs on its own loop in its own thread, so the fixture is a plain one
  that serves sync tests (``run_until_idle_sync``) and async ones alike
  (``await run_until_idle()`` under pytest-asyncio in strict or auto mode, or anyio's
  plugin).
* ``esm_seed``: that seed.
* ``lambda_context``: a Lambda context (function ``fn``) that makes others when
  called: ``lambda_context(function_name="orders", timeout=30, memory=512)``.
* ``sqs_event``, ``kinesis_event``, ``dynamodb_event``: factories of AWS-exact events
  for calling handlers directly, built like the pollers build them
  (``esmsim.testing.EventFactory``); ``esm_events`` is the factory itself.

Marker: ``@pytest.mark.esm(seed=..., start_time=..., region=..., account_id=...,
clock="virtual")`` configures ``esm_sim`` (and the factories' ARNs and timestamps).

Options: ``--esm-seed N``; ``--esm-trace`` writes each failing ``esm_sim`` test's
timeline and log events to ``--esm-trace-dir`` (default ``.esmsim-traces``).

When a test using ``esm_sim`` fails, the report gets an ``esmsim`` section: the seed
and the run's timeline (``esmsim.testing.timeline``). When a run shows a
misconfiguration that silently loses records in AWS (a handler's
``batchItemFailures`` ignored because the mapping lacks ``ReportBatchItemFailures``;
an OnFailure destination that cannot take the failure record), the ``run...`` call
that ran it raises ``esmsim.testing.EsmsimWarning`` (an error by default; allow it
with ``pytest.warns(EsmsimWarning)`` or a ``filterwarnings`` mark).
"""

from __future__ import annotations

import json
import re
import warnings
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# esmsim itself is imported only when a test asks for a fixture: the plugin loads in
# every pytest run of every project where esmsim is installed, and must stay cheap.
if TYPE_CHECKING:
    from .simulation import Simulation
    from .testing import EventFactory, LambdaContextFactory, _ReportingSimulation

__all__ = (
    "derive_seed",
    "dynamodb_event",
    "esm_events",
    "esm_seed",
    "esm_sim",
    "kinesis_event",
    "lambda_context",
    "sqs_event",
)

_SIM = pytest.StashKey["_ReportingSimulation"]()
_SEED = pytest.StashKey[tuple[int, str]]()
_MARKER_OPTIONS = frozenset({"seed", "start_time", "region", "account_id", "clock"})


# -- configuration ---------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("esmsim", "esmsim (Lambda event source mappings on a virtual clock)")
    group.addoption(
        "--esm-seed",
        type=int,
        default=None,
        metavar="N",
        help="seed of every esm_sim simulation (default: derived from each test's id)",
    )
    group.addoption(
        "--esm-trace",
        action="store_true",
        default=False,
        help="write each failing esm_sim test's timeline and log events to --esm-trace-dir",
    )
    group.addoption(
        "--esm-trace-dir",
        default=".esmsim-traces",
        metavar="DIR",
        help="where --esm-trace writes <test id>.txt (relative to the rootdir; "
        "default .esmsim-traces)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "esm(seed=None, start_time=None, region='us-east-1', account_id='123456789012', "
        "clock='virtual'): configure this test's esm_sim simulation and event factories "
        "(esmsim)",
    )


def derive_seed(nodeid: str) -> int:
    """The seed of a test without ``--esm-seed`` or a marker seed: CRC-32 of its node id.

    Stable across runs, machines and ``PYTHONHASHSEED`` values.
    """
    return zlib.crc32(nodeid.encode("utf-8"))


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    marker = node.get_closest_marker("esm")
    if marker is None:
        return {}
    if marker.args:
        raise TypeError("@pytest.mark.esm takes keyword arguments only, e.g. esm(seed=7)")
    unknown = sorted(set(marker.kwargs) - _MARKER_OPTIONS)
    if unknown:
        raise TypeError(
            f"@pytest.mark.esm: unknown option(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_MARKER_OPTIONS))}"
        )
    return dict(marker.kwargs)


def _seed_for(node: pytest.Item) -> tuple[int, str]:
    options = _marker_options(node)
    if options.get("seed") is not None:
        return int(options["seed"]), "set by @pytest.mark.esm(seed=...)"
    given = node.config.getoption("esm_seed")
    if given is not None:
        return int(given), "set by --esm-seed"
    return derive_seed(node.nodeid), "derived from the test id"


# -- the simulation fixture ---------------------------------------------------------------------
@pytest.fixture
def esm_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test's simulation and event factories.

    ``@pytest.mark.esm(seed=...)``, else ``--esm-seed``, else CRC-32 of the test id.
    """
    node = request.node
    assert isinstance(node, pytest.Item)
    seed = _seed_for(node)
    node.stash[_SEED] = seed
    return seed[0]


@pytest.fixture
def esm_sim(request: pytest.FixtureRequest, esm_seed: int) -> Iterator[Simulation]:
    """A started virtual-clock ``esmsim.Simulation``, closed after the test.

    Configure it with ``@pytest.mark.esm(seed=..., start_time=..., region=...,
    account_id=..., clock=...)``. Sync tests run it with ``run_sync`` /
    ``run_until_idle_sync``, async ones with ``await run(...)`` /
    ``await run_until_idle()``. A failing test's report shows the seed and the run's
    timeline; a run that hits a record-losing misconfiguration raises
    ``esmsim.testing.EsmsimWarning``.
    """
    from .testing import EsmsimWarning, _ReportingSimulation, capture_logs

    node = request.node
    assert isinstance(node, pytest.Item)
    options = _marker_options(node)
    options.pop("seed", None)
    sim = _ReportingSimulation(seed=esm_seed, **options)
    with warnings.catch_warnings():
        # Appended, so any filter the user set (ini, -W, a filterwarnings mark,
        # pytest.warns) takes precedence over this default.
        warnings.filterwarnings("error", category=EsmsimWarning, append=True)
        with capture_logs() as events:
            sim.attach_events(events)
            node.stash[_SIM] = sim
            with sim:
                yield sim


@pytest.fixture
def esm_events(request: pytest.FixtureRequest, esm_seed: int) -> EventFactory:
    """The event and context factory behind ``sqs_event``, ``kinesis_event``,
    ``dynamodb_event`` and ``lambda_context`` (seeded with ``esm_seed``)."""
    from .testing import EventFactory

    node = request.node
    assert isinstance(node, pytest.Item)
    options = _marker_options(node)
    kwargs: dict[str, Any] = {
        name: options[name] for name in ("region", "account_id", "start_time") if name in options
    }
    if kwargs.get("start_time") is None:
        kwargs.pop("start_time", None)
    if isinstance(kwargs.get("start_time"), str):
        from .simulation import _epoch_seconds

        kwargs["start_time"] = _epoch_seconds(kwargs["start_time"], "start_time")
    return EventFactory(esm_seed, **kwargs)


@pytest.fixture
def lambda_context(esm_events: EventFactory) -> LambdaContextFactory:
    """A Lambda context for function ``fn``; call it for others:
    ``lambda_context(function_name="orders", timeout=30, memory=512, remaining_ms=...)``.

    It has the Python runtime's attributes (``function_name``, ``function_version``,
    ``invoked_function_arn``, ``memory_limit_in_mb`` as a string, ``aws_request_id``,
    ``log_group_name``, ``log_stream_name``, ``get_remaining_time_in_millis()``).
    """
    return esm_events.lambda_context


@pytest.fixture
def sqs_event(esm_events: EventFactory) -> Callable[..., dict[str, Any]]:
    """``sqs_event(*bodies, queue=..., fifo=..., group_id=..., message_attributes=...,
    attributes=..., receive_count=1)`` -> an SQS event (dict/list bodies become JSON)."""
    return esm_events.sqs_event


@pytest.fixture
def kinesis_event(esm_events: EventFactory) -> Callable[..., dict[str, Any]]:
    """``kinesis_event(*payloads, partition_key=..., stream=..., shard_id=...)`` -> a
    Kinesis event (bytes as is, str UTF-8, anything else JSON)."""
    return esm_events.kinesis_event


@pytest.fixture
def dynamodb_event(esm_events: EventFactory) -> Callable[..., dict[str, Any]]:
    """``dynamodb_event(new_image=..., old_image=..., keys=..., event_name=...,
    ttl_delete=False, table=..., stream_view_type=...)`` -> a DynamoDB Streams event
    (plain Python values become DynamoDB JSON)."""
    return esm_events.dynamodb_event


# -- failure reports -----------------------------------------------------------------------------
def _trace_path(config: pytest.Config, nodeid: str) -> Path:
    safe = re.sub(r"[^\w.\-\[\]]+", "_", nodeid.replace("::", "__").replace("/", "."))
    directory = Path(config.getoption("esm_trace_dir"))
    if not directory.is_absolute():
        directory = config.rootpath / directory
    return directory / f"{safe[:200]}.txt"


def _write_trace(path: Path, sim: _ReportingSimulation) -> None:
    from .testing import timeline

    path.parent.mkdir(parents=True, exist_ok=True)
    events = "\n".join(json.dumps(e, default=str, sort_keys=True) for e in sim.esm_events)
    path.write_text(f"{timeline(sim, limit=None)}\n\nlog events:\n{events}\n", encoding="utf-8")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when != "call" or not report.failed:
        return report
    sim = item.stash.get(_SIM, None)
    if sim is None:
        return report
    from .testing import timeline

    seed, origin = item.stash.get(_SEED, (sim.seed, "set by the test"))
    hint = f"; rerun with --esm-seed {seed} to pin it" if origin.startswith("derived") else ""
    lines = [f"seed {seed} ({origin}{hint})"]
    try:
        if "esmsim timeline:" not in report.longreprtext:  # not already in the message
            lines.append(timeline(sim))
        if item.config.getoption("esm_trace"):
            path = _trace_path(item.config, item.nodeid)
            _write_trace(path, sim)
            lines.append(f"trace written to {path}")
    except Exception as exc:  # a report must never hide the test's own failure
        lines.append(f"(timeline unavailable: {type(exc).__name__}: {exc})")
    report.sections.append(("esmsim", "\n".join(lines)))
    return report
