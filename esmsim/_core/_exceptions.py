"""Every exception esmsim raises on purpose, in one flat module.

Kept apart from the code that raises them so that any layer can import them
without import cycles (the same reason trio and structlog do this).
"""

from __future__ import annotations

__all__ = (
    "AwsServiceError",
    "EsmsimError",
    "InvalidParameterValueException",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "SimulationClosed",
    "SimulationStalled",
)


class EsmsimError(Exception):
    """Base class of the errors esmsim raises itself."""


class SimulationStalled(EsmsimError):
    """Raised when the simulation waits for something that can never happen.

    Nothing is ready to run, no timer is pending, no thread work is in
    flight, and yet the caller is waiting for progress (for example
    ``run_until_idle`` with records still pending). Without this error a
    deadlocked simulation would hang forever; with it the run fails within a
    fraction of a second of real time and says what it was waiting for.
    """


class SimulationClosed(EsmsimError):
    """Raised when a closed (or crashed) simulation is asked to run again."""


class AwsServiceError(EsmsimError):
    """Base of the errors that mirror an AWS API error.

    ``str(exc)`` is AWS's message text, so code that matches on boto3's
    ``ClientError`` messages can match on these the same way.
    """

    code: str = "ServiceException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def response(self) -> dict[str, dict[str, str]]:
        """The error in boto3's ``ClientError.response`` shape."""
        return {"Error": {"Code": self.code, "Message": self.message}}


class InvalidParameterValueException(AwsServiceError):
    """Raised when a request parameter is outside what AWS accepts."""

    code = "InvalidParameterValueException"


class ResourceConflictException(AwsServiceError):
    """Raised when a resource already exists (for example a second mapping)."""

    code = "ResourceConflictException"


class ResourceNotFoundException(AwsServiceError):
    """Raised when a request names a resource that does not exist."""

    code = "ResourceNotFoundException"
