"""Amazon S3 buckets (AWS::S3::Bucket), as OnFailure destinations.

Just enough of S3 for a destination and for reading it back the boto3 way:
``put_object``, ``get_object`` (its ``Body`` has ``read()`` like botocore's
``StreamingBody``), ``head_object``, ``delete_object``, ``list_objects_v2``
(prefix, delimiter, pagination), plus ``objects()`` for tests. No versioning,
no multipart uploads; objects live in memory.
"""

from __future__ import annotations

import base64
import bisect
import io
import ipaddress
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._arns import s3_bucket_arn
from ._base import Resource
from ._errors import InvalidArgument, InvalidBucketName, KeyTooLongError, NoSuchBucket, NoSuchKey
from ._sqs_md5 import md5_hex

if TYPE_CHECKING:
    from ..simulation import Simulation

__all__ = ("BUCKET_PROPERTIES", "S3Bucket", "StreamingBody")

BUCKET_PROPERTIES = (
    "AbacStatus",
    "AccelerateConfiguration",
    "AccessControl",
    "AnalyticsConfigurations",
    "BucketEncryption",
    "BucketName",
    "CorsConfiguration",
    "IntelligentTieringConfigurations",
    "InventoryConfigurations",
    "LifecycleConfiguration",
    "LoggingConfiguration",
    "MetadataConfiguration",
    "MetadataTableConfiguration",
    "MetricsConfigurations",
    "NotificationConfiguration",
    "ObjectLockConfiguration",
    "ObjectLockEnabled",
    "OwnershipControls",
    "PublicAccessBlockConfiguration",
    "ReplicationConfiguration",
    "Tags",
    "VersioningConfiguration",
    "WebsiteConfiguration",
)
"""Properties of AWS::S3::Bucket in the CloudFormation reference (stored, not simulated)."""

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_MAX_KEY_BYTES = 1024
_AFTER_EVERYTHING = "\U0010ffff"  # sorts after any character a key can hold


class StreamingBody:
    """A read-once body like botocore's ``StreamingBody``: ``read``, ``iter_chunks``, ``close``."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.content_length = len(data)

    def read(self, amt: int | None = None) -> bytes:
        """Up to ``amt`` bytes (all the rest when None)."""
        return self._stream.read(amt)

    def iter_chunks(self, chunk_size: int = 1024) -> Any:
        """The rest of the body in chunks."""
        while chunk := self._stream.read(chunk_size):
            yield chunk

    def close(self) -> None:
        """Release the body."""
        self._stream.close()

    def __enter__(self) -> StreamingBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Object:
    __slots__ = ("body", "content_type", "etag", "last_modified_ms", "metadata")

    def __init__(
        self, body: bytes, content_type: str, metadata: dict[str, str], last_modified_ms: int
    ) -> None:
        self.body = body
        self.etag = f'"{md5_hex(body)}"'
        self.content_type = content_type
        self.metadata = metadata
        self.last_modified_ms = last_modified_ms


class S3Bucket(Resource):
    """An S3 bucket. Create it with ``sim.s3_bucket(name, **CloudFormation properties)``."""

    resource_type = "AWS::S3::Bucket"

    def __init__(self, sim: Simulation, name: str, **properties: Any) -> None:
        unknown = [key for key in properties if key not in BUCKET_PROPERTIES]
        if unknown:
            raise InvalidArgument(
                f"AWS::S3::Bucket has no property {unknown[0]!r} (valid: "
                f"{', '.join(BUCKET_PROPERTIES)})."
            )
        bucket_name = properties.get("BucketName")
        if bucket_name is not None and bucket_name != name:
            raise InvalidArgument(
                f"BucketName {bucket_name!r} differs from the bucket's name {name!r}."
            )
        _check_bucket_name(name)
        super().__init__(sim, name, s3_bucket_arn(name))
        self.properties: dict[str, Any] = dict(properties)
        self._objects: dict[str, _Object] = {}
        self._keys: list[str] = []  # sorted: S3 lists keys in UTF-8 binary order
        sim.register(self)

    def _check_alive(self, bucket: str | None) -> None:
        if self.deleted:
            raise NoSuchBucket()
        if bucket is not None and bucket != self.name:
            raise NoSuchBucket(
                f"The specified bucket does not exist: {bucket!r} is not {self.name!r}"
            )

    def put_object(
        self,
        Key: str | None = None,
        Body: bytes | bytearray | memoryview | str | Any = b"",
        ContentType: str | None = None,
        Metadata: Mapping[str, str] | None = None,
        Bucket: str | None = None,
        **_other: Any,
    ) -> dict[str, str]:
        """PutObject: store ``Body`` (bytes, str as UTF-8, or a file-like object) under ``Key``.

        Returns ``{"ETag": '"<md5>"'}``. Other PutObject arguments (ACL,
        ServerSideEncryption, ...) are accepted and ignored.
        """
        self._check_alive(Bucket)
        key = _check_key(Key)
        data = _body_bytes(Body)
        if Metadata is not None and not isinstance(Metadata, Mapping):
            raise InvalidArgument("Metadata must be a map of str to str.")
        obj = _Object(
            data,
            ContentType or "binary/octet-stream",
            {str(k): str(v) for k, v in (Metadata or {}).items()},
            self.clock.now_ms(),
        )
        if key not in self._objects:
            bisect.insort(self._keys, key)
        self._objects[key] = obj
        return {"ETag": obj.etag}

    def get_object(self, Key: str | None = None, Bucket: str | None = None) -> dict[str, Any]:
        """GetObject: ``{"Body": StreamingBody, "ContentLength", "ContentType", "ETag", ...}``."""
        obj = self._get(Key, Bucket)
        return {"Body": StreamingBody(obj.body), **self._head(obj)}

    def head_object(self, Key: str | None = None, Bucket: str | None = None) -> dict[str, Any]:
        """HeadObject: GetObject's metadata without the body."""
        return self._head(self._get(Key, Bucket))

    def delete_object(self, Key: str | None = None, Bucket: str | None = None) -> dict[str, Any]:
        """DeleteObject; deleting a missing key succeeds, as in S3."""
        self._check_alive(Bucket)
        key = _check_key(Key)
        if self._objects.pop(key, None) is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]
        return {}

    def _get(self, key: Any, bucket: str | None) -> _Object:
        self._check_alive(bucket)
        obj = self._objects.get(_check_key(key))
        if obj is None:
            raise NoSuchKey()
        return obj

    def _head(self, obj: _Object) -> dict[str, Any]:
        return {
            "ContentLength": len(obj.body),
            "ContentType": obj.content_type,
            "ETag": obj.etag,
            "LastModified": _datetime(obj.last_modified_ms),
            "Metadata": dict(obj.metadata),
        }

    def list_objects_v2(
        self,
        Prefix: str = "",
        Delimiter: str | None = None,
        MaxKeys: int = 1000,
        ContinuationToken: str | None = None,
        StartAfter: str | None = None,
        Bucket: str | None = None,
    ) -> dict[str, Any]:
        """ListObjectsV2, boto3-shaped: ``Contents`` (left out when empty), ``KeyCount``,
        ``IsTruncated``, ``NextContinuationToken``, ``CommonPrefixes`` with a ``Delimiter``."""
        self._check_alive(Bucket)
        if isinstance(MaxKeys, bool) or not isinstance(MaxKeys, int) or MaxKeys < 0:
            raise InvalidArgument(f"MaxKeys must be an integer >= 0; got {MaxKeys!r}.")
        start = StartAfter or ""
        if ContinuationToken is not None:
            try:
                start = base64.urlsafe_b64decode(ContinuationToken.encode("ascii")).decode("utf-8")
            except (ValueError, UnicodeError):
                raise InvalidArgument("The continuation token provided is incorrect") from None
        keys = self._keys
        index = bisect.bisect_left(keys, Prefix)
        if start:
            index = max(index, bisect.bisect_right(keys, start))
        contents: list[dict[str, Any]] = []
        prefixes: list[str] = []
        last = None
        truncated = False
        while index < len(keys):
            key = keys[index]
            if not key.startswith(Prefix):
                if key > Prefix:
                    break
                index += 1
                continue
            if len(contents) + len(prefixes) >= MaxKeys:
                truncated = True
                break
            rest = key[len(Prefix) :]
            if Delimiter and Delimiter in rest:
                common = Prefix + rest[: rest.index(Delimiter) + len(Delimiter)]
                prefixes.append(common)
                # Resume (this page and the next) after every key under this prefix.
                last = common + _AFTER_EVERYTHING
                index = bisect.bisect_left(keys, last)
                continue
            obj = self._objects[key]
            contents.append(
                {
                    "Key": key,
                    "LastModified": _datetime(obj.last_modified_ms),
                    "ETag": obj.etag,
                    "Size": len(obj.body),
                    "StorageClass": "STANDARD",
                }
            )
            last = key
            index += 1
        response: dict[str, Any] = {
            "IsTruncated": truncated,
            "Name": self.name,
            "Prefix": Prefix,
            "MaxKeys": MaxKeys,
            "KeyCount": len(contents) + len(prefixes),
        }
        if contents:
            response["Contents"] = contents
        if Delimiter:
            response["Delimiter"] = Delimiter
            if prefixes:
                response["CommonPrefixes"] = [{"Prefix": p} for p in prefixes]
        if truncated and last is not None:
            response["NextContinuationToken"] = base64.urlsafe_b64encode(last.encode()).decode()
        if ContinuationToken is not None:
            response["ContinuationToken"] = ContinuationToken
        if StartAfter is not None:
            response["StartAfter"] = StartAfter
        return response

    def objects(self) -> dict[str, bytes]:
        """Every object, key -> bytes, in key order (S3's listing order)."""
        return {key: self._objects[key].body for key in self._keys}

    def delete(self) -> None:
        """DeleteBucket (the simulation does not insist on it being empty)."""
        super().delete()
        self._objects.clear()
        self._keys.clear()


def _datetime(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def _check_bucket_name(name: Any) -> None:
    ok = (
        isinstance(name, str)
        and _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
        and not _is_ip(name)
    )
    if not ok:
        raise InvalidBucketName(
            f"The specified bucket is not valid: {name!r}. Bucket names are 3 to 63 characters of "
            "lowercase letters, digits, dots and hyphens, begin and end with a letter or digit, "
            "have no adjacent dots, are not IP addresses, and do not use the reserved prefixes "
            f"{', '.join(_RESERVED_PREFIXES)} or suffixes {', '.join(_RESERVED_SUFFIXES)}."
        )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or key == "":
        raise InvalidArgument(f"Key must be a non-empty string; got {key!r}.")
    if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
        raise KeyTooLongError(
            f"Your key is too long: {len(key.encode('utf-8'))} bytes, the limit is "
            f"{_MAX_KEY_BYTES} bytes of UTF-8."
        )
    return key


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    read = getattr(body, "read", None)
    if callable(read):
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise InvalidArgument(
        f"Body must be bytes, str or a file-like object; got {type(body).__name__}."
    )
