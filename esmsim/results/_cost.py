"""Cost estimates: what a run's invocations would cost on AWS Lambda, on demand.

Lambda bills each invocation as one request plus its duration in GB-seconds:
the duration is rounded up to the nearest 1 ms (1 ms billing granularity since
December 2020) and multiplied by the memory configured (``MemorySize`` MB /
1024 = GB). Throttled invocations never run and are not billed. The prices
are the published on-demand ones for US East (N. Virginia), first duration
tier (x86_64: the first 6 billion GB-seconds a month; arm64: the first 7.5
billion); the free tier (1M requests and 400,000 GB-seconds a month) is
ignored, so the estimate is what the run would add to a bill already past it.
Source: https://aws.amazon.com/lambda/pricing/
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._recorder import Recorder

__all__ = (
    "GB_SECOND_USD",
    "MB_MS_PER_GB_SECOND",
    "PRICES",
    "REQUEST_USD_PER_MILLION",
    "architecture_of",
    "billed_ms",
    "build_cost",
)

REQUEST_USD_PER_MILLION = 0.20
GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
MB_MS_PER_GB_SECOND = 1024 * 1000
"""MB x ms in one GB-second (Lambda's GB is 1024 MB: 512 MB for 1 s is 0.5 GB-s)."""

PRICES: dict[str, Any] = {
    "source": "https://aws.amazon.com/lambda/pricing/",
    "region": "US East (N. Virginia)",
    "currency": "USD",
    "request_usd_per_million": REQUEST_USD_PER_MILLION,
    "duration_usd_per_gb_second": dict(GB_SECOND_USD),
    "duration_tier": "first (x86_64: 6 billion GB-s a month; arm64: 7.5 billion)",
    "billed_duration": "each invocation rounded up to the nearest 1 ms",
    "gb": "MemorySize / 1024",
    "throttles": "not billed",
    "free_tier": "ignored",
}
"""What ``summary.json`` states under ``cost.prices``: the estimate's basis."""

_USD_DIGITS = 10  # the prices' own precision: a single request costs $0.0000002


def billed_ms(micros: int) -> int:
    """Billed milliseconds of an invocation that ran ``micros`` µs: rounded up, at least 1.

    Lambda reports a sub-millisecond invocation as ``Billed Duration: 1 ms``.
    """
    return (micros + 999) // 1000 if micros > 1000 else 1


def architecture_of(fn: Any) -> str:
    """The function's architecture (``Architectures[0]``; Lambda's default x86_64)."""
    arches = fn.configuration().get("Architectures") or ["x86_64"]
    arch = str(arches[0])
    return arch if arch in GB_SECOND_USD else "x86_64"


def _usd(value: float) -> float:
    return round(value, _USD_DIGITS)


def build_cost(rec: Recorder) -> dict[str, Any]:
    """``summary.json``'s ``cost``: per function and in total, with the prices used."""
    functions: dict[str, Any] = {}
    requests = billed = mb_ms = 0
    request_usd = duration_usd = 0.0
    for name in sorted(rec._functions):
        fobs = rec._functions[name]
        fn = fobs.fn
        arch = architecture_of(fn)
        # A request is billed when the invocation starts; its duration once it
        # ends, so one still running at the end counts as a request only.
        f_requests = int(fn.metrics["Invocations"])
        f_billed = fobs.billed_ms + fobs.period_billed_ms
        f_mb_ms = fobs.mb_ms + fobs.period_mb_ms
        f_request_usd = f_requests * REQUEST_USD_PER_MILLION / 1_000_000
        f_duration_usd = f_mb_ms / MB_MS_PER_GB_SECOND * GB_SECOND_USD[arch]
        functions[name] = {
            "architecture": arch,
            "memory_size_mb": int(fn.memory_size),
            "requests": f_requests,
            "in_flight_at_end": int(fn.metrics["ConcurrentExecutions"]),
            "billed_duration_ms": f_billed,
            "gb_seconds": round(f_mb_ms / MB_MS_PER_GB_SECOND, 6),
            "request_usd": _usd(f_request_usd),
            "duration_usd": _usd(f_duration_usd),
            "total_usd": _usd(f_request_usd + f_duration_usd),
        }
        requests += f_requests
        billed += f_billed
        mb_ms += f_mb_ms
        request_usd += f_request_usd
        duration_usd += f_duration_usd
    return {
        "prices": PRICES,
        "functions": functions,
        "totals": {
            "requests": requests,
            "billed_duration_ms": billed,
            "gb_seconds": round(mb_ms / MB_MS_PER_GB_SECOND, 6),
            "request_usd": _usd(request_usd),
            "duration_usd": _usd(duration_usd),
            "total_usd": _usd(request_usd + duration_usd),
        },
    }
