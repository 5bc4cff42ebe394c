"""How the app talks to DynamoDB, in one place: connection settings, the clock, the retry
policy, and what each failure of the store means.

botocore's own retries are off. A conditional write that botocore retried after a lost answer
fails its own condition, and botocore cannot tell us; so every call goes through `call()`
here, which retries what is safe to retry and remembers whether an earlier attempt may have
been applied. Writes carry a token (`write_token`) and ask DynamoDB for the current item when
a condition fails, so a write whose first answer was lost recognises itself (see `writes.py`).
"""

import logging
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from botocore import exceptions as boto
from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model

from triggerapi import session  # noqa: F401  (every table's client from one botocore session)
from triggerapi.context import note_store_call, time_left

logger = logging.getLogger(__name__)

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
# The store refused the request before doing anything: nothing was written, try again.
REJECTED_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "ResourceInUseException",
    }
)
# Our configuration is wrong (no table, credentials refused): nothing was written, and
# trying again at once will not help, but it is still the store that is unavailable.
CONFIGURATION_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "MissingAuthenticationTokenException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignature",
    }
)
# Our request was malformed: a bug, answered 500 and logged, never retried.
REQUEST_ERROR_CODES = frozenset(
    {"ValidationException", "SerializationException", "IdempotentParameterMismatchException"}
)
# Errors raised before a byte was sent: nothing can have been written.
NOT_SENT = (boto.EndpointConnectionError, boto.ConnectTimeoutError, boto.NoCredentialsError, boto.NoRegionError)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def table_name(suffix: str) -> str:
    return f"{settings.TABLE_PREFIX}-{suffix}"


class StoreMeta:
    """Shared PynamoDB `Meta` settings; each model's Meta extends it with its table name."""

    region = settings.AWS_REGION
    host = settings.DYNAMODB_HOST
    billing_mode = "PAY_PER_REQUEST"
    connect_timeout_seconds = settings.STORE_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = settings.STORE_READ_TIMEOUT_SECONDS
    # Retries are ours (`call`), so that a write can tell its own earlier attempt.
    max_retry_attempts = 0
    max_pool_connections = 20
    if settings.DYNAMODB_HOST:
        # A local endpoint accepts any credentials; don't make developers configure some.
        aws_access_key_id = os.environ.get("AWS_ACCESS_KEY_ID", "local")
        aws_secret_access_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "local")


def client(model):
    """The botocore client under a model's table connection, the one place PynamoDB's private
    `_get_connection()` is used: it has no public way to the client, and its own sending
    methods keep only the code of a failed condition, not the item the store sends back with
    it, which `writes` needs (so `writes` sends what PynamoDB's public builders make here)."""
    return model._get_connection().connection.client


def reconnect(models: Iterable[type[Model]]) -> None:
    """Each model's client lets go of its HTTP connections (the pools closed and emptied: the
    next call opens a new one), after a SnapStart restore (triggerapi/thaw.py): the snapshot's
    sockets belong to a network that is gone, and every copy would share them. The clients
    themselves are kept, with what they were made from (DynamoDB's API, parsed: about 50 ms to
    load again per model, 3 ms for a new client made from it, 70 ms for the API's tables
    together on a restore) and their credentials, which botocore fetches again when they run
    out (on SnapStart Lambda gives them through its container endpoint, not as environment
    variables). Reaches PynamoDB's private `_connection` and `_client` (it offers no public
    way to the client) and botocore's `_endpoint.http_session` (nor does botocore)."""
    for model in models:
        table = vars(model).get("_connection")
        client = table.connection._client if table is not None else None
        if client is not None:
            client._endpoint.http_session.close()


class StoreUnavailable(Exception):
    """The store did not serve a call within our retry budget. `maybe_applied` says whether a
    write may nevertheless have happened (an answer lost after the store received it)."""

    def __init__(self, cause: BaseException | None, *, maybe_applied: bool, retry_after: int = 1):
        super().__init__(f"{type(cause).__name__}: {cause}" if cause else "no time left to ask the store")
        self.maybe_applied = maybe_applied
        self.retry_after = retry_after


class ConditionFailed(Exception):
    """A conditional write found the item in another state. `item` is the item as the store
    holds it now (raw attributes), or None if there is none. `uncertain` means an earlier
    attempt of this same write may have been applied before the condition failed."""

    def __init__(self, item: dict | None, *, uncertain: bool):
        super().__init__("conditional check failed")
        self.item = item
        self.uncertain = uncertain


class TransactionCanceled(Exception):
    """A transaction failed a condition: `items` holds, per transaction item, the current
    item whose condition failed (raw attributes) or None; `failed` says, per item, whether
    its condition failed (an item that does not exist fails with no item to send back)."""

    def __init__(self, items: list[dict | None], *, uncertain: bool, failed: list[bool] | None = None):
        super().__init__("transaction canceled")
        self.items = items
        self.uncertain = uncertain
        self.failed = failed if failed is not None else [item is not None for item in items]


@dataclass(frozen=True)
class Failure:
    retry: bool
    maybe_applied: bool


def error_code(exc: BaseException) -> str | None:
    """The DynamoDB error code of a botocore or PynamoDB error, or None (no answer came)."""
    if isinstance(exc, PynamoDBException):
        exc = exc.cause if exc.cause is not None else exc
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    return (response.get("Error") or {}).get("Code")


def classify(exc: BaseException) -> Failure | None:
    """What a store error means, or None if it is not the store's failure but our bug.
    Fails closed: whatever cannot be read is taken as "may have been applied"."""
    if isinstance(exc, DoesNotExist):
        return None
    cause = exc.cause if isinstance(exc, PynamoDBException) and exc.cause is not None else exc
    if isinstance(cause, NOT_SENT):
        return Failure(retry=not isinstance(cause, (boto.NoCredentialsError, boto.NoRegionError)), maybe_applied=False)
    code = error_code(cause)
    if code in REQUEST_ERROR_CODES:
        return None
    if code in REJECTED_CODES:
        return Failure(retry=True, maybe_applied=False)
    if code in CONFIGURATION_CODES:
        return Failure(retry=False, maybe_applied=False)
    if isinstance(exc, (PynamoDBException, boto.BotoCoreError, boto.ClientError)):
        # Timeouts, resets, 5xx, and codes we do not know: the write may have landed.
        return Failure(retry=True, maybe_applied=True)
    return None


def is_store_unavailable(exc: BaseException) -> bool:
    """True when an error means the store could not serve us (as opposed to a bug)."""
    return isinstance(exc, StoreUnavailable) or classify(exc) is not None


def _backoff(attempt: int) -> float:
    """Full jitter, doubling from 100 ms: spreads out retries against a throttling table,
    and outlasts a blip of a few tens of milliseconds."""
    return random.uniform(0, min(1.0, 0.05 * 2**attempt))


def call[T](send: Callable[[], T], *, what: str = "store call", attempts: int | None = None) -> T:
    """`send()` under our retry policy, in at most `attempts` attempts (STORE_ATTEMPTS by
    default). Raises ConditionFailed or TransactionCanceled (normal outcomes),
    StoreUnavailable (with whether it may have been applied), or a bug's own error."""
    maybe_applied = False
    last: BaseException | None = None
    for attempt in range(1, (attempts or settings.STORE_ATTEMPTS) + 1):
        if attempt > 1:
            time.sleep(_backoff(attempt - 1))
        if not time_left():
            break  # the request's budget is spent: answer now rather than late
        note_store_call()
        try:
            return send()
        except Exception as exc:
            failure = _judge(exc, maybe_applied)
            if failure is None:
                raise
            last = exc
        maybe_applied |= failure.maybe_applied
        logger.debug("%s failed (attempt %d): %r", what, attempt, last)
        if not failure.retry:
            break
    raise StoreUnavailable(last, maybe_applied=maybe_applied) from last


def _judge(exc: Exception, maybe_applied: bool) -> Failure | None:
    """A failure to retry or give up on; raises the outcomes that are answers, not failures."""
    code = error_code(exc)
    if code == CONDITION_FAILED and isinstance(exc, boto.ClientError):
        raise ConditionFailed(exc.response.get("Item"), uncertain=maybe_applied) from None
    if code == TRANSACTION_CANCELED and isinstance(exc, boto.ClientError):
        reasons = exc.response.get("CancellationReasons") or []
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            items = [
                reason.get("Item") if reason.get("Code") == "ConditionalCheckFailed" else None for reason in reasons
            ]
            failed = [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
            raise TransactionCanceled(items, uncertain=maybe_applied, failed=failed) from None
        # Canceled by a conflict with another transaction: nothing was written.
        return Failure(retry=True, maybe_applied=False)
    return classify(exc)
