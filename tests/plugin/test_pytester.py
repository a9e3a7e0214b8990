"""The plugin in projects that are not esmsim, run by pytester in subprocesses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from esmsim.pytest_plugin import derive_seed

pytest_plugins = ("pytester",)

FAST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
"""pytest's start-up dominates these runs; hypothesis's plugin alone doubles it."""

INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""

HANDLER = """
def handler(event, context):
    failures = [
        {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
    ]
    return {"batchItemFailures": failures}
"""

PASSING = """
import pytest
import anyio
from esmsim.testing import assert_delivered_once, dead_letters
import app


def deploy(sim, **mapping):
    dlq = sim.sqs_queue("dlq")
    queue = sim.sqs_queue("q", RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2})
    fn = sim.function("fn", app.handler)
    sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn, **mapping)
    return queue, dlq, fn


def test_direct(sqs_event, lambda_context):
    event = sqs_event("ok", "bad")
    bad = event["Records"][1]["messageId"]
    assert app.handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": bad}]}


def test_sync(esm_sim):
    queue, dlq, fn = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    ok = queue.send_message(MessageBody="ok")["MessageId"]
    queue.send_message(MessageBody="bad")
    esm_sim.run_until_idle_sync()
    assert_delivered_once(fn, [ok])
    assert dead_letters(dlq) == ["bad"]


@pytest.mark.asyncio
async def test_asyncio(esm_sim):
    queue, dlq, fn = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    queue.send_message(MessageBody="bad")
    await esm_sim.run_until_idle()
    assert dead_letters(dlq) == ["bad"]


@pytest.mark.anyio
async def test_anyio(esm_sim):
    queue, dlq, fn = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    queue.send_message(MessageBody="ok")
    await esm_sim.run_until_idle()
    await anyio.sleep(0)
    assert len(fn.invocations) == 1


@pytest.mark.esm(seed=42)
def test_marker(esm_sim, esm_seed):
    assert esm_sim.seed == esm_seed == 42
"""

FAILING = """
from esmsim.testing import dead_letters
import app


def deploy(sim, **mapping):
    dlq = sim.sqs_queue("dlq")
    queue = sim.sqs_queue("q", RedrivePolicy={"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2})
    fn = sim.function("fn", app.handler)
    sim.event_source_mapping(FunctionName="fn", EventSourceArn=queue.arn, **mapping)
    return queue, dlq


def test_wrong_expectation(esm_sim, esm_seed):
    print(f"SEED={esm_seed}")
    queue, dlq = deploy(esm_sim, FunctionResponseTypes=["ReportBatchItemFailures"])
    queue.send_message(MessageBody="bad")
    esm_sim.run_until_idle_sync()
    assert dead_letters(dlq) == []


def test_forgot_report_batch_item_failures(esm_sim):
    queue, dlq = deploy(esm_sim)
    queue.send_message(MessageBody="bad")
    esm_sim.run_until_idle_sync()
    assert dead_letters(dlq) == ["bad"]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(app=HANDLER)
    pytester.syspathinsert()
    return pytester


def test_fixtures_and_marker_are_listed(project: pytest.Pytester) -> None:
    """``pytest --fixtures`` and ``pytest --markers`` show what the plugin registers."""
    fixtures = project.runpytest_inprocess("--fixtures", *FAST).stdout.str()
    for name in (
        "esm_sim",
        "esm_seed",
        "esm_events",
        "lambda_context",
        "sqs_event",
        "kinesis_event",
        "dynamodb_event",
    ):
        assert re.search(rf"^{name} -- .*esmsim.pytest_plugin", fixtures, re.MULTILINE), name
    markers = project.runpytest_inprocess("--markers", *FAST).stdout.str()
    assert "@pytest.mark.esm(seed=None, start_time=None" in markers


def test_a_project_that_is_not_esmsim(project: pytest.Pytester) -> None:
    """One subprocess run (they are slow) of a project with a handler module and tests:

    the fixtures work from sync, pytest-asyncio (strict) and anyio tests; failing tests
    show the seed, the timeline and the trace file (``--esm-trace``); the forgotten
    ``ReportBatchItemFailures`` fails with an ``EsmsimWarning`` that explains the cause.
    """
    project.makepyfile(test_app=PASSING)
    test_file = project.makepyfile(test_fail=FAILING)
    result = project.runpytest_subprocess("--esm-trace", *FAST)
    result.assert_outcomes(passed=5, failed=2)
    out = result.stdout.str()

    # The seed: derived from the test id (the same in this process as in that one).
    nodeid = f"{test_file.name}::test_wrong_expectation"
    seed = derive_seed(nodeid)
    assert f"SEED={seed}" in out
    # The report section: seed, timeline, trace file.
    section = out.split("- esmsim -", 1)[1].split("\n_", 1)[0]
    assert f"seed {seed} (derived from the test id; rerun with --esm-seed {seed} to pin it)" in (
        section
    )
    assert "2 invocation(s)" in section
    assert "fn  sqs:q    1 record " in section
    assert "OK, reported 1 failed:" in section
    assert "[receive #2]" in section
    assert "sqs:q: 1 message(s) moved to DLQ dlq" in section
    assert "trace written to " in section
    trace = project.path / ".esmsim-traces" / "test_fail.py__test_wrong_expectation.txt"
    text = trace.read_text()
    assert text.startswith(f"esmsim timeline: seed {seed},")
    assert '"event": "dlq.redrive"' in text

    # The misconfiguration fails at the run line, with the cause, not at the assert.
    misconfigured = out.split("test_forgot_report_batch_item_failures _", 1)[1]
    assert ">       esm_sim.run_until_idle_sync()\nE       esmsim.testing.EsmsimWarning: " in (
        misconfigured
    )
    assert (
        "has no FunctionResponseTypes=['ReportBatchItemFailures']. Lambda ignores such a "
        "response: it deletes the whole batch, including the messages the handler reported "
        "as failed, so they are never retried and never reach a dead-letter queue. Add "
        "FunctionResponseTypes=['ReportBatchItemFailures'] to the mapping"
    ) in misconfigured
    assert "IGNORED: the mapping lacks ReportBatchItemFailures" in misconfigured


def test_esm_seed_is_honoured(project: pytest.Pytester) -> None:
    project.makepyfile(test_fail=FAILING)
    result = project.runpytest_inprocess("--esm-seed", "123", "-k", "wrong", *FAST)
    result.assert_outcomes(failed=1)
    assert "SEED=123" in result.stdout.str()
    assert "seed 123 (set by --esm-seed)" in result.stdout.str()


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_PASSES = {"sqs-order-worker": 4, "kinesis-clickstream": 3, "dynamodb-audit": 3}


def test_example_projects_pass(pytester: pytest.Pytester) -> None:
    """The examples' own tests, on a copy of each, in one subprocess (their pytest.ini
    settings, with each handler folder on the path)."""
    for example in EXAMPLE_PASSES:
        shutil.copytree(EXAMPLES / example, pytester.path / example)
        (pytester.path / example / "pytest.ini").unlink()
    pytester.makeini(
        f"""
        [pytest]
        pythonpath = {" ".join(EXAMPLE_PASSES)}
        addopts = --strict-markers
        asyncio_mode = strict
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    result = pytester.runpytest_subprocess(*FAST, *EXAMPLE_PASSES)
    result.assert_outcomes(passed=sum(EXAMPLE_PASSES.values()))
    out = result.stdout.str()
    for example, passed in EXAMPLE_PASSES.items():
        assert re.search(rf"^{example}/tests/\S+ {'[.]' * passed}\s", out, re.M), example
