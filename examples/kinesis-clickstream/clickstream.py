"""A clickstream aggregator on a Kinesis stream: page views per page and minute.

Each record is a click ``{"user": ..., "page": ..., "ts": <epoch seconds>}``. The
handler aggregates the whole batch first and writes the counts once at the end, so a
batch that fails writes nothing and its retry cannot double-count. A record that is not
a click (bad JSON, no page) makes the batch fail; the event source mapping's
``BisectBatchOnFunctionError`` splits the batch until the poison record is alone, and
after ``MaximumRetryAttempts`` it goes to the ``OnFailure`` queue while everything
around it is counted.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

PAGE_VIEWS: Counter[tuple[str, str]] = Counter()
"""(page, minute) -> views: a stand-in for the counters table."""


class NotAClick(ValueError):
    """A record that is not a click event."""


def minute_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    batch: Counter[tuple[str, str]] = Counter()
    for record in KinesisStreamEvent(event).records:
        try:
            click = record.kinesis.data_as_json()
            page, ts = click["page"], float(click["ts"])
        except (ValueError, KeyError, TypeError) as exc:
            raise NotAClick(f"record {record.kinesis.sequence_number}: {exc!r}") from exc
        batch[(page, minute_of(ts))] += 1
    PAGE_VIEWS.update(batch)  # one write per batch
