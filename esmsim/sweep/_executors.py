"""Where a sweep's runs execute: local processes, or a Dask cluster.

Both yield ``(task index, result)`` as runs finish; callers place results by index,
so the table never depends on completion order. Stopping early (closing the
generator) cancels what has not started.

Local: a ``ProcessPoolExecutor`` with the *spawn* start method. The simulator runs
threads (its loop, handler workers), and forking a process that has threads copies
their locks in whatever state they are in; spawn starts clean interpreters, the same
on Linux, macOS and Windows.

Dask: ``distributed.Client(scheduler)`` and one task per run. Without a scheduler
address a ``LocalCluster`` of worker processes on loopback is started (and closed)
here. Dask is an optional dependency, imported only on this path.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from typing import Any

from ._worker import RunResult, RunTask, run_task

__all__ = ("DaskMissing", "SchedulerUnreachable", "default_workers", "run_dask", "run_local")

_DASK_HINT = "pip install 'esmsim[dask]'"


class DaskMissing(Exception):
    """``--executor dask`` without Dask installed."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"--executor dask needs Dask's distributed scheduler ({name} is not installed); "
            f"install it with: {_DASK_HINT}"
        )


class SchedulerUnreachable(Exception):
    """``--scheduler`` names an address no Dask scheduler answers at."""


def default_workers() -> int:
    return os.cpu_count() or 1


def run_local(tasks: Sequence[RunTask], workers: int) -> Iterator[tuple[int, RunResult]]:
    """Each run in a process of a pool of ``workers`` spawned processes."""
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    if not tasks:
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context)
    try:
        pending: dict[Future[RunResult], int] = {
            pool.submit(run_task, task): index for index, task in enumerate(tasks)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            # Within one wake-up, hand results over in task order.
            for future in sorted(done, key=lambda f: pending[f]):
                yield pending.pop(future), future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(
    tasks: Sequence[RunTask], *, scheduler: str | None, workers: int
) -> Iterator[tuple[int, RunResult]]:
    """Each run as one task on a Dask cluster: ``scheduler``'s, or a local one."""
    try:
        # Untyped, optional, and heavy: imported only here, and used through Any.
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:
        raise DaskMissing(exc.name or "distributed") from None

    if not tasks:
        return
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}"
            ) from None
        with client:
            yield from _submit(distributed, client, tasks)
        return
    with (
        distributed.LocalCluster(
            n_workers=min(workers, len(tasks)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield from _submit(distributed, client, tasks)


def _submit(
    distributed: Any, client: Any, tasks: Sequence[RunTask]
) -> Iterator[tuple[int, RunResult]]:
    """One task per run; results as they finish; what has not run is cancelled on exit."""
    futures = [client.submit(run_task, task, pure=False) for task in tasks]
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in distributed.as_completed(futures):
            result: RunResult = future.result()
            yield index[future.key], result
            future.release()
    finally:
        client.cancel([f for f in futures if not f.done()])
