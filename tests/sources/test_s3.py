"""S3 buckets as OnFailure destinations (spec §2.7; api.md "Inspecting")."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import esmsim
from esmsim.sources._errors import InvalidBucketName, KeyTooLongError, NoSuchBucket, NoSuchKey


@pytest.fixture
def sim() -> Iterator[esmsim.Simulation]:
    with esmsim.Simulation(seed=4) as simulation:
        yield simulation


def test_put_then_get_object_returns_the_same_bytes(sim: esmsim.Simulation) -> None:
    """§2.7: a destination object reads back like boto3's GetObject (Body.read())."""
    bucket = sim.s3_bucket("esm-failures")
    assert bucket.arn == "arn:aws:s3:::esm-failures"
    put = bucket.put_object(Key="aws/lambda/x.json", Body='{"a": 1}')
    digest = hashlib.md5(b'{"a": 1}').hexdigest()
    assert put == {"ETag": f'"{digest}"'}
    got = bucket.get_object(Key="aws/lambda/x.json")
    assert got["Body"].read() == b'{"a": 1}'
    assert got["ContentLength"] == 8
    assert got["ETag"] == put["ETag"]
    assert got["LastModified"] == datetime(2026, 1, 1, tzinfo=UTC)


def test_objects_maps_every_key_to_its_bytes_in_key_order(sim: esmsim.Simulation) -> None:
    """api.md: bucket.objects() -> dict of key -> bytes, in S3's listing order."""
    bucket = sim.s3_bucket("b-1")
    bucket.put_object(Key="b", Body=b"\x00")
    bucket.put_object(Key="a", Body=io.BytesIO(b"file"))
    bucket.put_object(Key="b", Body=b"\x01")  # overwrite
    assert list(bucket.objects().items()) == [("a", b"file"), ("b", b"\x01")]


def test_list_objects_v2_filters_by_prefix_and_pages(sim: esmsim.Simulation) -> None:
    """§2.7 (S3 ListObjectsV2): Prefix, MaxKeys pagination, Delimiter common prefixes."""
    bucket = sim.s3_bucket("b-2")
    for key in ("x/1", "x/2", "x/3", "y/1", "x/sub/1"):
        bucket.put_object(Key=key, Body=key)
    page = bucket.list_objects_v2(Prefix="x/", MaxKeys=2)
    assert [c["Key"] for c in page["Contents"]] == ["x/1", "x/2"]
    assert page["IsTruncated"] and page["KeyCount"] == 2
    rest = bucket.list_objects_v2(Prefix="x/", ContinuationToken=page["NextContinuationToken"])
    assert [c["Key"] for c in rest["Contents"]] == ["x/3", "x/sub/1"]
    assert not rest["IsTruncated"]
    folders = bucket.list_objects_v2(Prefix="x/", Delimiter="/")
    assert [c["Key"] for c in folders["Contents"]] == ["x/1", "x/2", "x/3"]
    assert folders["CommonPrefixes"] == [{"Prefix": "x/sub/"}]
    first = bucket.list_objects_v2(Delimiter="/", MaxKeys=1)
    assert first["CommonPrefixes"] == [{"Prefix": "x/"}] and first["IsTruncated"]
    second = bucket.list_objects_v2(Delimiter="/", ContinuationToken=first["NextContinuationToken"])
    assert second["CommonPrefixes"] == [{"Prefix": "y/"}] and not second["IsTruncated"]
    assert "Contents" not in bucket.list_objects_v2(Prefix="z/")


def test_missing_key_raises_no_such_key(sim: esmsim.Simulation) -> None:
    """§2.7 (S3 GetObject): a missing key is NoSuchKey; deleting one is fine."""
    bucket = sim.s3_bucket("b-3")
    with pytest.raises(NoSuchKey, match="does not exist"):
        bucket.get_object(Key="nope")
    bucket.put_object(Key="k", Body="v")
    assert bucket.delete_object(Key="k") == {}
    assert bucket.delete_object(Key="k") == {}
    assert bucket.objects() == {}


def test_bucket_and_key_names_follow_s3_rules(sim: esmsim.Simulation) -> None:
    """§2.7 (S3 naming): 3-63 lowercase characters, no IP form; keys at most 1,024 bytes."""
    for name in ("ab", "Upper", "a..b", "192.168.0.1", "-start", "x" * 64, "xn--abc"):
        with pytest.raises(InvalidBucketName):
            sim.s3_bucket(name)
    bucket = sim.s3_bucket("my.bucket-1")
    with pytest.raises(KeyTooLongError):
        bucket.put_object(Key="k" * 1025, Body="")
    bucket.delete()
    with pytest.raises(NoSuchBucket):
        bucket.put_object(Key="k", Body="")
