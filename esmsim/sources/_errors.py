"""The AWS API errors that the simulated sources raise, one class per AWS error code.

Each class mirrors one error a boto3 client would raise as ``ClientError``:
``exc.code`` is AWS's error code and ``str(exc)`` AWS's message text (with
esmsim's detail appended where AWS says too little to act on). They all derive
from ``AwsServiceError`` so callers can catch every service error at once.

Several services are appended here by different modules; keep each service's
block together and only ever append.
"""

from __future__ import annotations

from .._core._exceptions import AwsServiceError

__all__ = (
    # SQS
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "EmptyBatchRequest",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "MessageNotInflight",
    "MissingParameter",
    "OverLimit",
    "PurgeQueueInProgress",
    "QueueDoesNotExist",
    "ReceiptHandleIsInvalid",
    "TooManyEntriesInBatchRequest",
    # SNS
    "InvalidParameterException",
    "NotFoundException",
    # S3
    "InvalidArgument",
    "InvalidBucketName",
    "KeyTooLongError",
    "NoSuchBucket",
    "NoSuchKey",
    # Kinesis and DynamoDB (Streams)
    "ExpiredIteratorException",
    "InvalidArgumentException",
    "ProvisionedThroughputExceededException",
    "ValidationException",
)


# -- SQS ------------------------------------------------------------------------------
# SQS spells its parameter error ``InvalidParameterValue``; Lambda's is
# ``InvalidParameterValueException`` (esmsim._core). They are different classes on purpose.


class QueueDoesNotExist(AwsServiceError):
    """The queue was deleted (or never existed)."""

    code = "QueueDoesNotExist"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class ReceiptHandleIsInvalid(AwsServiceError):
    """A receipt handle that this queue never issued."""

    code = "ReceiptHandleIsInvalid"


class InvalidParameterValue(AwsServiceError):
    """A request parameter outside what SQS accepts."""

    code = "InvalidParameterValue"


class InvalidAttributeValue(InvalidParameterValue):
    """A queue attribute (CloudFormation property) outside what SQS accepts.

    A subclass of ``InvalidParameterValue`` so one ``except`` catches both.
    """

    code = "InvalidAttributeValue"


class InvalidAttributeName(AwsServiceError):
    """An unknown queue attribute or property name."""

    code = "InvalidAttributeName"


class MissingParameter(AwsServiceError):
    """A required request parameter is absent (or empty)."""

    code = "MissingParameter"


class InvalidMessageContents(AwsServiceError):
    """A message body with characters SQS does not allow."""

    code = "InvalidMessageContents"


class MessageNotInflight(AwsServiceError):
    """ChangeMessageVisibility on a message that is not in flight."""

    code = "MessageNotInflight"


class OverLimit(AwsServiceError):
    """Too many messages in flight on a standard queue."""

    code = "OverLimit"


class PurgeQueueInProgress(AwsServiceError):
    """A second PurgeQueue within 60 seconds of the previous one."""

    code = "PurgeQueueInProgress"


class TooManyEntriesInBatchRequest(AwsServiceError):
    """More than 10 entries in a batch request."""

    code = "TooManyEntriesInBatchRequest"


class EmptyBatchRequest(AwsServiceError):
    """A batch request without entries."""

    code = "EmptyBatchRequest"


class BatchEntryIdsNotDistinct(AwsServiceError):
    """Two entries of a batch request share an ``Id``."""

    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(AwsServiceError):
    """A batch entry ``Id`` that is not 1-80 alphanumerics, hyphens or underscores."""

    code = "InvalidBatchEntryId"


class BatchRequestTooLong(AwsServiceError):
    """The messages of one batch add up to more than the size limit."""

    code = "BatchRequestTooLong"


# -- SNS ------------------------------------------------------------------------------


class InvalidParameterException(AwsServiceError):
    """A publish or topic parameter outside what SNS accepts (SNS code ``InvalidParameter``)."""

    code = "InvalidParameter"


class NotFoundException(AwsServiceError):
    """The topic was deleted (SNS code ``NotFound``)."""

    code = "NotFound"


# -- S3 -------------------------------------------------------------------------------


class NoSuchKey(AwsServiceError):
    """GetObject/HeadObject of a key the bucket does not hold."""

    code = "NoSuchKey"

    def __init__(self, message: str = "The specified key does not exist.") -> None:
        super().__init__(message)


class NoSuchBucket(AwsServiceError):
    """The bucket was deleted."""

    code = "NoSuchBucket"

    def __init__(self, message: str = "The specified bucket does not exist") -> None:
        super().__init__(message)


class InvalidBucketName(AwsServiceError):
    """A bucket name that breaks S3's naming rules."""

    code = "InvalidBucketName"


class KeyTooLongError(AwsServiceError):
    """An object key longer than 1,024 bytes of UTF-8."""

    code = "KeyTooLongError"


class InvalidArgument(AwsServiceError):
    """Any other invalid S3 request argument."""

    code = "InvalidArgument"


# -- Kinesis and DynamoDB (Streams) ---------------------------------------------------
# Kinesis and DynamoDB share these codes; the message text says which service spoke.


class ProvisionedThroughputExceededException(AwsServiceError):
    """A shard's write (1 MiB/s, 1,000 records/s) or read (5 calls/s, 2 MiB/s) quota is used up."""

    code = "ProvisionedThroughputExceededException"


class InvalidArgumentException(AwsServiceError):
    """A Kinesis argument that is well-formed but not acceptable (range, shard, iterator)."""

    code = "InvalidArgumentException"


class ExpiredIteratorException(AwsServiceError):
    """A shard iterator used more than five minutes after it was issued."""

    code = "ExpiredIteratorException"


class ValidationException(AwsServiceError):
    """A request that breaks a parameter constraint (DynamoDB's and Kinesis's input errors)."""

    code = "ValidationException"
