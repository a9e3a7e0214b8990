"""AWS ARNs and URLs in their real formats, for the simulation's Region and account."""

from __future__ import annotations

__all__ = (
    "dynamodb_stream_arn",
    "dynamodb_table_arn",
    "esm_arn",
    "kinesis_stream_arn",
    "lambda_function_arn",
    "role_arn",
    "s3_bucket_arn",
    "sns_topic_arn",
    "sqs_queue_arn",
    "sqs_queue_url",
)


def kinesis_stream_arn(region: str, account: str, name: str) -> str:
    """``arn:aws:kinesis:<region>:<account>:stream/<name>``."""
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


def dynamodb_table_arn(region: str, account: str, name: str) -> str:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>``."""
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def dynamodb_stream_arn(region: str, account: str, name: str, label: str) -> str:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>``."""
    return f"{dynamodb_table_arn(region, account, name)}/stream/{label}"


def sqs_queue_arn(region: str, account: str, name: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>``."""
    return f"arn:aws:sqs:{region}:{account}:{name}"


def sqs_queue_url(region: str, account: str, name: str) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>``."""
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def sns_topic_arn(region: str, account: str, name: str) -> str:
    """``arn:aws:sns:<region>:<account>:<name>``."""
    return f"arn:aws:sns:{region}:{account}:{name}"


def s3_bucket_arn(name: str) -> str:
    """``arn:aws:s3:::<name>`` (bucket ARNs carry no Region or account)."""
    return f"arn:aws:s3:::{name}"


def lambda_function_arn(region: str, account: str, name: str) -> str:
    """``arn:aws:lambda:<region>:<account>:function:<name>``."""
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def role_arn(account: str, name: str) -> str:
    """``arn:aws:iam::<account>:role/<name>``."""
    return f"arn:aws:iam::{account}:role/{name}"


def esm_arn(region: str, account: str, uuid: str) -> str:
    """``arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>``."""
    return f"arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid}"
