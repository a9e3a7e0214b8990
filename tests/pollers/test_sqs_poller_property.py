"""Property: every SQS message ends in exactly one place, and the counts add up (§2.6, §2.8, §5)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esmsim

from .sqs_support import Event

FOREVER = 1_000_000


@dataclass(frozen=True)
class Message:
    body: str
    at: float  # seconds after the start when it is sent
    delay: int  # per-message DelaySeconds (standard queues)
    group: str  # MessageGroupId (FIFO queues)
    fails_until: int  # fails while ApproximateReceiveCount <= this
    mode: str  # how it fails: "raise", "partial" or "malformed"
    pad: int  # extra body bytes (big ones fill the 6 MB payload)


@dataclass(frozen=True)
class Scenario:
    fifo: bool
    messages: tuple[Message, ...]
    batch_size: int
    window: int
    rbif: bool
    max_receive_count: int | None
    retention: int
    visibility: int
    timeout: int
    work: float
    queue_delay: int
    reserved: int | None
    maximum_concurrency: int | None
    pause: tuple[float, float] | None  # (at, for): Enabled=False for a while


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    fifo = draw(st.booleans())
    n = draw(st.integers(min_value=1, max_value=25))
    messages = []
    for i in range(n):
        fails_until = draw(st.sampled_from([0, 0, 0, 1, 2, 3, FOREVER]))
        messages.append(
            Message(
                body=f"{i}:" + draw(st.text(alphabet='ab é✓{}" \n', max_size=6)),
                at=draw(st.sampled_from([0.0, 0.0, 0.5, 3.0, 10.0, 41.0])),
                delay=0 if fifo else draw(st.sampled_from([0, 0, 2, 15])),
                group=draw(st.sampled_from(["g0", "g1", "g2"])),
                fails_until=fails_until,
                mode=draw(st.sampled_from(["raise", "partial", "malformed"])),
                pad=draw(st.sampled_from([0, 0, 0, 0, 900_000])),
            )
        )
    window = 0 if fifo else draw(st.sampled_from([0, 0, 1, 3]))
    batch_size = draw(st.integers(min_value=1, max_value=10))
    if window and draw(st.booleans()):
        batch_size = draw(st.integers(min_value=11, max_value=40))
    visibility = draw(st.sampled_from([5, 10, 20]))
    return Scenario(
        fifo=fifo,
        messages=tuple(messages),
        batch_size=batch_size,
        window=window,
        rbif=draw(st.booleans()),
        max_receive_count=draw(st.sampled_from([None, 1, 2, 3, 4])),
        retention=draw(st.sampled_from([60, 90, 345_600])),
        visibility=visibility,
        timeout=draw(st.integers(min_value=1, max_value=visibility)),
        work=draw(st.sampled_from([0.0, 0.5, 2.0])),
        queue_delay=draw(st.sampled_from([0, 0, 4])) if fifo else 0,
        reserved=draw(st.sampled_from([None, None, None, 1, 2])),
        maximum_concurrency=draw(st.sampled_from([None, None, 2, 3])),
        pause=draw(st.sampled_from([None, None, (1.0, 30.0), (12.0, 5.0)])),
    )


def _run(scenario: Scenario) -> None:
    with esmsim.Simulation(seed=71) as sim:
        suffix = ".fifo" if scenario.fifo else ""
        fifo: dict[str, Any] = (
            {"FifoQueue": True, "ContentBasedDeduplication": False} if scenario.fifo else {}
        )
        dlq = None
        redrive: dict[str, Any] = {}
        if scenario.max_receive_count is not None:
            dlq = sim.sqs_queue(f"dlq{suffix}", **fifo)
            redrive = {
                "RedrivePolicy": {
                    "deadLetterTargetArn": dlq.arn,
                    "maxReceiveCount": scenario.max_receive_count,
                }
            }
        q = sim.sqs_queue(
            f"jobs{suffix}",
            VisibilityTimeout=scenario.visibility,
            MessageRetentionPeriod=scenario.retention,
            DelaySeconds=scenario.queue_delay,
            **fifo,
            **redrive,
        )
        plan = {m.body[: m.body.index(":")]: m for m in scenario.messages}
        succeeded: list[str] = []  # message ids, in the order their processing succeeded

        def planned(record: dict[str, Any]) -> Message:
            body: str = record["body"]
            return plan[body[: body.index(":")]]

        def fails(record: dict[str, Any]) -> bool:
            count = int(record["attributes"]["ApproximateReceiveCount"])
            return count <= planned(record).fails_until

        async def handler(event: Event, context: Any) -> Any:
            if scenario.work:
                await asyncio.sleep(scenario.work)
            recs = event["Records"]
            failing = [r for r in recs if fails(r)]
            if not failing:
                succeeded.extend(r["messageId"] for r in recs)
                return None
            modes = {planned(r).mode for r in failing}
            if "raise" in modes or not scenario.rbif:
                raise RuntimeError("batch fails")
            if "malformed" in modes:
                return {"batchItemFailures": [{"itemIdentifier": ""}]}
            first = recs.index(failing[0])
            # FIFO handlers stop at the first failure and return the rest too (§2.6).
            reported = recs[first:] if scenario.fifo else failing
            ids = {r["messageId"] for r in reported}
            succeeded.extend(r["messageId"] for r in recs if r["messageId"] not in ids)
            return {"batchItemFailures": [{"itemIdentifier": i} for i in sorted(ids)]}

        fn = sim.function(
            "f", handler, Timeout=scenario.timeout, ReservedConcurrentExecutions=scenario.reserved
        )
        m = sim.event_source_mapping(
            FunctionName="f",
            EventSourceArn=q.arn,
            BatchSize=scenario.batch_size,
            MaximumBatchingWindowInSeconds=scenario.window,
            FunctionResponseTypes=["ReportBatchItemFailures"] if scenario.rbif else [],
            ScalingConfig=(
                {"MaximumConcurrency": scenario.maximum_concurrency}
                if scenario.maximum_concurrency
                else None
            ),
        )

        sent_ids: set[str] = set()
        order: dict[str, tuple[str, int]] = {}  # message id -> (group, send index)
        steps: list[tuple[float, str, Any]] = [
            (message.at, "send", message) for message in scenario.messages
        ]
        if scenario.pause is not None:
            steps.append((scenario.pause[0], "disable", None))
            steps.append((scenario.pause[0] + scenario.pause[1], "enable", None))
        clock = 0.0
        index = 0
        for at, action, message in sorted(steps, key=lambda step: step[0]):
            if at > clock:
                sim.run_sync(at - clock)
                clock = at
            if action != "send":
                m.update(Enabled=action == "enable")
                continue
            index += 1
            extra: dict[str, Any] = (
                {"MessageGroupId": message.group, "MessageDeduplicationId": f"d{index}"}
                if scenario.fifo
                else {"DelaySeconds": message.delay}
            )
            body = message.body + "x" * message.pad
            message_id = q.send_message(MessageBody=body, **extra)["MessageId"]
            sent_ids.add(message_id)
            order[message_id] = (message.group, index)
        assert len(sent_ids) == len(scenario.messages)

        sim.run_until_idle_sync(max_seconds=400)

        ledger = m.ledger
        remaining = q.messages()
        dead = dlq.messages() if dlq is not None else []
        dead_ids = [msg["MessageId"] for msg in dead]
        remaining_ids = [msg["MessageId"] for msg in remaining]
        # Where everything went adds up to what was sent.
        assert ledger["delivered"] + ledger["dead_lettered"] + ledger["expired"] + ledger[
            "pending"
        ] == len(sent_ids), ledger
        assert ledger["filtered"] == 0 and ledger["discarded"] == 0
        # The DLQ holds each dead-lettered message exactly once, never a duplicate.
        assert len(dead_ids) == len(set(dead_ids)) == ledger["dead_lettered"]
        assert set(dead_ids) <= sent_ids
        assert ledger["pending"] == len(remaining_ids) == len(set(remaining_ids))
        assert not set(dead_ids) & set(remaining_ids)
        if scenario.max_receive_count is not None:
            for msg in dead:
                count = int(msg["Attributes"]["ApproximateReceiveCount"])
                assert count == scenario.max_receive_count
        # Only a message some invocation processed successfully can be deleted as done.
        delivered_ids = sent_ids - set(dead_ids) - set(remaining_ids)
        assert ledger["delivered"] <= len(delivered_ids & set(succeeded))
        assert m.metrics["DeletedEventCount"] == ledger["delivered"]
        assert q.metrics["NumberOfMessagesSent"] == len(sent_ids)
        for inv in fn.invocations:
            assert sum(len(r["body"]) for r in inv.event["Records"]) <= 6 * 1024 * 1024
        if scenario.fifo and ledger["expired"] == 0:
            # (A message that expires in flight unlocks its group while its invocation
            # still runs, as in SQS; order is only promised without expiry.)
            _check_fifo_order(fn.invocations, succeeded, order)


def _check_fifo_order(
    invocations: list[Any], succeeded: list[str], order: dict[str, tuple[str, int]]
) -> None:
    """Per group: first successes in send order, and never two invocations at once."""
    first: dict[str, int] = {}
    for message_id in succeeded:
        first.setdefault(message_id, len(first))
    for group in {g for g, _ in order.values()}:
        done = sorted((i for i in first if order[i][0] == group), key=lambda i: first[i])
        assert [order[i][1] for i in done] == sorted(order[i][1] for i in done), group
        spans = sorted(
            (inv.started_at, inv.ended_at)
            for inv in invocations
            if any(r["attributes"]["MessageGroupId"] == group for r in inv.event["Records"])
        )
        for (_, end), (start, _) in pairwise(spans):
            assert start >= end, group


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_every_message_ends_delivered_dead_lettered_expired_or_pending(scenario: Scenario) -> None:
    """Random sends, failures and settings: the ledger accounts for each message once (§2.8, §5)."""
    _run(scenario)
