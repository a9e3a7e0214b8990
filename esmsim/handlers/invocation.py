"""One invocation of a function: what ``Function.invoke`` returns and the log keeps.

The same object serves as the poller's ``InvokeOutcome`` and as the user's entry in
``function.invocations``: one small ``__slots__`` object per invocation on a path that
runs hundreds of thousands of times per run. It keeps the zero-argument event builder
instead of the event: the handler may have mutated the dict it got, so ``.event``
rebuilds the event as it was sent, on first access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

__all__ = (
    "FUNCTION_ERROR",
    "SUCCESS",
    "THROTTLED",
    "TIMEOUT",
    "Invocation",
    "InvokeOutcome",
    "InvokeStatus",
)

InvokeStatus = Literal["success", "function_error", "timeout", "throttled"]

SUCCESS: Final = "success"
FUNCTION_ERROR: Final = "function_error"
TIMEOUT: Final = "timeout"
THROTTLED: Final = "throttled"


class Invocation:
    """An invocation (or a throttled attempt) and how it ended.

    Attributes:
        function_name: the function invoked.
        request_id: the ``aws_request_id`` (None for a throttle: no handler ran).
        status: ``"success"``, ``"function_error"``, ``"timeout"`` or ``"throttled"``
            (``"running"`` while in flight).
        response: the JSON value of what the handler returned (``bytes`` when it
            returned bytes that are not JSON), or None (also on any error).
        error: None, or ``"Unhandled"`` (an exception), ``"Timeout"``,
            ``"Runtime.MarshalError"`` (response not JSON-serializable),
            ``"Runtime.ExitError"`` (``sys.exit``), ``"Function.ResponseSizeTooLarge"``,
            ``"Throttled"``.
        error_type: the same in the wording of Lambda's results and failure records:
            ``"Task timed out"`` for a timeout, ``"TooManyRequestsException"`` for a
            throttle, otherwise equal to ``error``.
        error_message: a human-readable message (``"ValueError: boom"``, Lambda's
            ``"... Task timed out after 3.00 seconds"``), or None.
        started_at, ended_at: simulated epoch seconds.
        duration: simulated seconds from start to end (exactly ``Timeout`` on a timeout).
        source, mapping_uuid, shard_id: who invoked (as passed to ``invoke``).
    """

    __slots__ = (
        "_build_event",
        "_event",
        "duration",
        "ended_at",
        "error",
        "error_message",
        "error_type",
        "function_name",
        "mapping_uuid",
        "request_id",
        "response",
        "shard_id",
        "source",
        "started_at",
        "status",
    )

    def __init__(
        self,
        function_name: str,
        build_event: Callable[[], Any],
        request_id: str | None,
        started_at: float,
        source: str | None,
        mapping_uuid: str | None,
        shard_id: str | None,
    ) -> None:
        self.function_name = function_name
        self._build_event = build_event
        self._event: Any = None
        self.request_id = request_id
        self.status: str = "running"
        self.response: Any = None
        self.error: str | None = None
        self.error_type: str | None = None
        self.error_message: str | None = None
        self.started_at = started_at
        self.ended_at = started_at
        self.duration = 0.0
        self.source = source
        self.mapping_uuid = mapping_uuid
        self.shard_id = shard_id

    @property
    def event(self) -> Any:
        """The event as the handler received it (rebuilt once, on first access)."""
        if self._event is None:
            self._event = self._build_event()
        return self._event

    @property
    def ok(self) -> bool:
        """True when the invocation succeeded (a partial batch response is a success)."""
        return self.status == SUCCESS

    def __repr__(self) -> str:
        detail = f" error={self.error!r}" if self.error else ""
        return (
            f"<Invocation {self.function_name} {self.request_id} {self.status}{detail} "
            f"at={self.started_at:.3f} duration={self.duration:.3f}>"
        )


InvokeOutcome = Invocation
"""What ``Function.invoke`` returns: the ``Invocation`` itself (internals.md's name)."""
