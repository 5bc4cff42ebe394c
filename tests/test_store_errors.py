"""Store failures as one line for a person at a terminal (commands, make run)."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from django.core.management import CommandError, call_command
from django.test import override_settings
from pynamodb.exceptions import GetError, ScanError

from tenants.models import ApiKey
from tests.store_hooks import store_failing
from triggerapi.store_errors import NO_CREDENTIALS, store_error_message


def client_error(code: str, operation: str = "GetItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "from AWS"}}, operation)


@override_settings(DYNAMODB_HOST="http://127.0.0.1:8001")
@pytest.mark.parametrize(
    "exc,message",
    [
        (GetError("Failed", NoCredentialsError()), NO_CREDENTIALS),
        (
            ScanError("Failed", EndpointConnectionError(endpoint_url="http://127.0.0.1:8001/")),
            "Nothing answers at DYNAMODB_HOST=http://127.0.0.1:8001: start the store there (make run starts one), "
            "or unset DYNAMODB_HOST to use AWS.",
        ),
        (
            GetError("Failed", ReadTimeoutError(endpoint_url="http://127.0.0.1:8001/")),
            "Nothing answers at DYNAMODB_HOST=http://127.0.0.1:8001: start the store there (make run starts one), "
            "or unset DYNAMODB_HOST to use AWS.",
        ),
        (
            GetError("Failed", client_error("UnrecognizedClientException")),
            "AWS rejected the credentials (UnrecognizedClientException): check AWS_PROFILE or the access key in use.",
        ),
        (
            ScanError("Failed", client_error("AccessDeniedException", "Scan")),
            "AWS denied Scan: the credentials in use lack that permission (docs/iam/ lists what is needed).",
        ),
        (
            GetError("Failed", client_error("ProvisionedThroughputExceededException")),
            "The store refused GetItem: ProvisionedThroughputExceededException: from AWS",
        ),
    ],
    ids=["no-credentials", "unreachable", "timeout", "rejected-credentials", "access-denied", "throttled"],
)
def test_a_store_failure_is_one_line_saying_what_to_do(exc, message):
    assert store_error_message(exc) == message


def test_an_error_that_is_not_about_the_store_is_left_to_its_traceback():
    assert store_error_message(RuntimeError("a bug")) is None


def test_a_command_run_before_create_tables_says_to_run_it():
    ApiKey.delete_table()

    with pytest.raises(CommandError) as raised:
        call_command("list_keys")

    assert str(raised.value) == (
        "The tables Test-* do not exist in us-east-1: run `manage.py create_tables` first (or check TABLE_PREFIX)."
    )


def test_a_command_that_hits_a_bug_keeps_its_traceback(monkeypatch):
    monkeypatch.setattr("tenants.management.commands.list_keys.api_key_list", lambda **kwargs: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        call_command("list_keys")


def test_a_command_on_a_throttling_store_is_a_command_error():
    with store_failing("ProvisionedThroughputExceededException"), pytest.raises(CommandError) as raised:
        call_command("list_keys")

    assert "ProvisionedThroughputExceededException" in str(raised.value)
