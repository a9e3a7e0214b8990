"""Analytics consumer of the demo's Kinesis stream (a second mapping on it).

It understands order records only. The producer also writes one legacy-format
record (``{"legacy": true}``) early on; this consumer fails on it forever and its
mapping keeps the default ``MaximumRetryAttempts: -1``, so that shard stays
blocked, its iterator age climbs towards the stream's 24 h retention, and the
shard moves on only when the legacy record (and whatever else of that shard is
older than 24 h) expires from the stream.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        payload = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if "n" not in payload:
            raise ValueError(f"unknown record format: {sorted(payload)}")
