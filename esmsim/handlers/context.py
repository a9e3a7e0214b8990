"""The Lambda context object handlers receive, shaped like the Python runtime's.

Attribute names and types follow awslambdaric's ``LambdaContext`` (the class the real
runtime passes), so code written for Lambda, Powertools' ``Logger.inject_lambda_context``
and the idempotency utility included, reads what it expects. Note that
``memory_limit_in_mb`` is a **string**, as in the real runtime. The deadline is read from
the simulation clock, so ``get_remaining_time_in_millis()`` counts simulated time: in an
``async def`` handler it shrinks as the handler awaits; in a plain handler simulated time
stands still while it runs, so it returns the full budget.
"""

from __future__ import annotations

import sys

from .._core import Clock

__all__ = ("LambdaContext",)


class LambdaContext:
    """What ``context`` is inside a simulated invocation.

    Attributes:
        function_name: the function's name.
        function_version: ``"$LATEST"`` (esmsim has no published versions).
        invoked_function_arn: the function ARN (no alias or version suffix).
        memory_limit_in_mb: the function's ``MemorySize`` as a string, e.g. ``"128"``.
        aws_request_id: a fresh, seeded UUID per invocation.
        log_group_name: ``/aws/lambda/<function name>``.
        log_stream_name: ``YYYY/MM/DD/[$LATEST]<32 hex>`` of the execution environment.
        identity: None (event source mappings carry no Cognito identity).
        client_context: None (only mobile SDK invocations have one).
        tenant_id: None (tenant isolation mode is not modelled).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        deadline_ms: int,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.identity: object | None = None
        self.client_context: object | None = None
        self.tenant_id: str | None = None
        self._clock = clock
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Simulated milliseconds left before the function's ``Timeout`` (never negative)."""
        return max(0, self._deadline_ms - self._clock.now_ms())

    def log(self, msg: object) -> None:
        """Write ``msg`` to standard output, as the runtime's ``context.log`` does."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )
