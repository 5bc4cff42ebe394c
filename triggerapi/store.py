"""How the app talks to DynamoDB, in one place: connection settings, the clock, and what a
failure of the store means to a client (503 with Retry-After, never a stack trace)."""

import os
import time

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PynamoDBException

# A request should fail fast (API Gateway gives up after 29 s) and let the client retry.
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_RETRY_ATTEMPTS = 2

CONDITION_FAILED = "ConditionalCheckFailedException"
# Codes that mean "the store is busy, throttling or not there", not "your request is wrong".
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ResourceNotFoundException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def table_name(suffix: str) -> str:
    return f"{settings.TABLE_PREFIX}-{suffix}"


class StoreMeta:
    """Shared PynamoDB `Meta` settings; each model's Meta extends it with its table name."""

    region = settings.AWS_REGION
    host = settings.DYNAMODB_HOST
    billing_mode = "PAY_PER_REQUEST"
    connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = READ_TIMEOUT_SECONDS
    max_retry_attempts = MAX_RETRY_ATTEMPTS
    max_pool_connections = 20
    if settings.DYNAMODB_HOST:
        # A local endpoint accepts any credentials; don't make developers configure some.
        aws_access_key_id = os.environ.get("AWS_ACCESS_KEY_ID", "local")
        aws_secret_access_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "local")


def is_condition_failure(exc: PynamoDBException) -> bool:
    return exc.cause_response_code == CONDITION_FAILED


def is_store_unavailable(exc: BaseException) -> bool:
    """True when a PynamoDB error means the store could not serve us (as opposed to a bug)."""
    if not isinstance(exc, PynamoDBException) or isinstance(exc, DoesNotExist):
        return False
    code = exc.cause_response_code
    # No response code at all means the request never got an answer (connect/read failure).
    return code is None or code in UNAVAILABLE_CODES
