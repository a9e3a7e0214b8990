"""``results.sqlite``: the run's facts, written behind the simulation.

Simulation code never awaits the database. The recorder appends rows to
in-memory buffers (synchronous, deterministic); one flusher task owns the
single aiosqlite connection and, at the clock's quiescence barrier, swaps the
buffers out and writes them with ``executemany`` in transactions of about
1,000 rows under ``clock.hold()``, so simulated time stands still however long
the disk takes. WAL mode and a commit per transaction: a run killed midway
leaves a valid database holding everything up to its last flush.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ("SCHEMA", "TABLES", "ResultsStore")

TABLES: dict[str, tuple[str, ...]] = {
    "invocations": (
        "function",
        "mapping",
        "shard",
        "start",
        "end",
        "duration",
        "batch_size",
        "outcome",
        "error",
        "request_id",
    ),
    "record_outcomes": (
        "mapping",
        "source",
        "state",
        "count",
        "first_id",
        "last_id",
        "first_time",
        "last_time",
        "settled_at",
    ),
    "metric_samples": ("metric", "dimensions", "timestamp", "value", "unit"),
    "histograms": ("name", "dimensions", "unit", "encoded"),
    "run_info": ("key", "value"),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS invocations (
    id INTEGER PRIMARY KEY,
    function TEXT NOT NULL,
    mapping TEXT,            -- EventSourceMappingUUID (NULL for a direct invoke)
    shard TEXT,              -- stream shard id (NULL for SQS)
    start REAL NOT NULL,     -- simulated epoch seconds
    "end" REAL NOT NULL,
    duration REAL NOT NULL,  -- simulated seconds
    batch_size INTEGER,      -- records in the event (NULL when unknown, e.g. a throttle)
    outcome TEXT NOT NULL,   -- success | function_error | timeout | throttled
    error TEXT,
    request_id TEXT
);
CREATE TABLE IF NOT EXISTS record_outcomes (
    id INTEGER PRIMARY KEY,
    mapping TEXT NOT NULL,
    source TEXT NOT NULL,    -- event source ARN
    state TEXT NOT NULL,     -- delivered | filtered | discarded | dead_lettered | expired
    count INTEGER NOT NULL,
    first_id TEXT,           -- sequence number / message id of the range (NULL if unknown)
    last_id TEXT,
    first_time REAL,         -- arrival (streams) / sent (SQS) epoch seconds, range bounds
    last_time REAL,
    settled_at REAL NOT NULL -- simulated epoch seconds
);
CREATE TABLE IF NOT EXISTS metric_samples (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,     -- CloudWatch metric name
    dimensions TEXT NOT NULL, -- JSON object, sorted keys
    timestamp REAL NOT NULL,  -- simulated epoch seconds (end of the period)
    value REAL NOT NULL,
    unit TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS histograms (
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    unit TEXT NOT NULL,
    encoded TEXT NOT NULL     -- HdrHistogram compressed base64
);
CREATE TABLE IF NOT EXISTS run_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

ROWS_PER_TRANSACTION = 1000

Row = Sequence[Any]


class ResultsStore:
    """The flusher's connection. Call only from the flusher task, under ``clock.hold()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self.rows_written = 0

    async def open(self) -> None:
        if self.path.exists():
            self.path.unlink()
        for suffix in ("-wal", "-shm"):
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists():
                extra.unlink()
        db = await aiosqlite.connect(str(self.path))
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(SCHEMA)
        await db.commit()
        self._db = db

    async def write(self, table: str, rows: Sequence[Row]) -> None:
        """Insert ``rows`` in transactions of ``ROWS_PER_TRANSACTION``, each committed."""
        db = self._db
        if db is None or not rows:
            return
        columns = TABLES[table]
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), ROWS_PER_TRANSACTION):
            await db.executemany(sql, rows[start : start + ROWS_PER_TRANSACTION])
            await db.commit()
        self.rows_written += len(rows)

    async def replace_info(self, items: dict[str, str]) -> None:
        db = self._db
        if db is None:
            return
        await db.executemany(
            "INSERT OR REPLACE INTO run_info (key, value) VALUES (?, ?)", sorted(items.items())
        )
        await db.commit()

    async def replace_histograms(self, rows: Sequence[Row]) -> None:
        db = self._db
        if db is None:
            return
        await db.execute("DELETE FROM histograms")
        await db.executemany(
            "INSERT INTO histograms (name, dimensions, unit, encoded) VALUES (?, ?, ?, ?)", rows
        )
        await db.commit()

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await db.close()
