"""What a failed store call means to a person at a terminal, in one line: nothing answers,
no or wrong credentials, a missing table. The API answers such failures with 503
(triggerapi.exceptions); commands and `make run` use this instead of a traceback."""

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from django.conf import settings
from pynamodb.exceptions import PynamoDBException, TableDoesNotExist

from triggerapi.store import StoreUnavailable, is_store_unavailable

NO_CREDENTIALS = (
    "No AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(for a local store, set DYNAMODB_HOST instead)."
)
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "IncompleteSignature",
    }
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it: PynamoDB keeps botocore's error in `.cause`."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
    return chain


def unreachable() -> str:
    if settings.DYNAMODB_HOST:
        return (
            f"Nothing answers at DYNAMODB_HOST={settings.DYNAMODB_HOST}: start the store there "
            "(make run starts one), or unset DYNAMODB_HOST to use AWS."
        )
    return f"Cannot reach DynamoDB in {settings.AWS_REGION}: check the network and AWS_REGION."


def _from_code(code: str, operation: str) -> str | None:
    if code in REJECTED_CREDENTIAL_CODES:
        return f"AWS rejected the credentials ({code}): check AWS_PROFILE or the access key in use."
    if code == "AccessDeniedException":
        return f"AWS denied {operation}: the credentials in use lack that permission (docs/iam/ lists what is needed)."
    if code == "ResourceNotFoundException":
        return _missing_table()
    return None


def _missing_table() -> str:
    return (
        f"The tables {settings.TABLE_PREFIX}-* do not exist in {settings.DYNAMODB_HOST or settings.AWS_REGION}: "
        "run `manage.py create_tables` first (or check TABLE_PREFIX)."
    )


def store_error_message(exc: BaseException) -> str | None:
    """One line saying what went wrong with the store and what to do about it, or None when
    `exc` is not about the store (a bug, which keeps its traceback)."""
    for cause in _chain(exc):
        if isinstance(cause, NoCredentialsError | PartialCredentialsError):
            return NO_CREDENTIALS
        if isinstance(cause, ConnectionError | HTTPClientError):
            return unreachable()
        if isinstance(cause, TableDoesNotExist):
            return _missing_table()
        if isinstance(cause, ClientError):
            error = cause.response.get("Error", {})
            if message := _from_code(error.get("Code", ""), cause.operation_name):
                return message
            return f"The store refused {cause.operation_name}: {error.get('Code')}: {error.get('Message')}"
        if isinstance(cause, BotoCoreError):
            return f"The store call failed: {cause}"
    if isinstance(exc, StoreUnavailable) or (isinstance(exc, PynamoDBException) and is_store_unavailable(exc)):
        return f"The store is unavailable ({exc.cause_response_code or 'no answer'}): try again in a moment."
    return None
