"""Lambda's side of a stream batch: each record as Lambda hands it to a function, and which
record to read again from, given the function's partial batch response."""

import base64
import math
from datetime import datetime

EVENT_VERSION = "1.1"


def _approximate_seconds(value) -> float:
    """Lambda sends ApproximateCreationDateTime as epoch seconds; botocore parses it into a
    datetime."""
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _lambda_attribute(value):
    """An attribute value as Lambda's JSON has it: botocore turns B and BS into bytes."""
    if isinstance(value, dict):
        out = {}
        for kind, inner in value.items():
            if kind == "B" and isinstance(inner, bytes | bytearray):
                out[kind] = base64.b64encode(inner).decode()
            elif kind == "BS":
                out[kind] = [base64.b64encode(b).decode() if isinstance(b, bytes | bytearray) else b for b in inner]
            elif kind == "M":
                out[kind] = {k: _lambda_attribute(v) for k, v in inner.items()}
            elif kind == "L":
                out[kind] = [_lambda_attribute(v) for v in inner]
            else:
                out[kind] = inner
        return out
    return value


def lambda_record(record: dict, *, stream_arn: str, region: str) -> dict:
    """A GetRecords record in the shape Lambda hands a stream function: eventVersion 1.1,
    the region and eventSourceARN added, ApproximateCreationDateTime in epoch seconds,
    binary values base64."""
    stream = record.get("dynamodb", {})
    dynamodb = {}
    if "ApproximateCreationDateTime" in stream:
        dynamodb["ApproximateCreationDateTime"] = math.floor(
            _approximate_seconds(stream["ApproximateCreationDateTime"])
        )
    for name in ("Keys", "NewImage", "OldImage"):
        if name in stream:
            dynamodb[name] = {k: _lambda_attribute(v) for k, v in stream[name].items()}
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in stream:
            dynamodb[name] = stream[name]
    shaped = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # TTL deletions
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def first_failure(result, sequence_numbers: list[str]) -> str | None:
    """The sequence number to read again from, per Lambda's partial batch response: the
    lowest failed record; the whole batch if the answer names a record not in it."""
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures") or []
    if not failures:
        return None
    position = {seq: i for i, seq in enumerate(sequence_numbers)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in position:
            return sequence_numbers[0]
        indexes.append(position[identifier])
    return sequence_numbers[min(indexes)]
