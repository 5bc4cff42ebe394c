"""Unit and API tests run on moto's in-process mock: no endpoint, fake credentials."""

import os

for name in ("DYNAMODB_HOST", "AWS_PROFILE"):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "SECRET_KEY": "tests-only-secret",
        "TABLE_PREFIX": "Test",
    }
)

from triggerapi.settings import *  # noqa: E402,F401,F403

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# A developer's .env must not point the tests at a real store.
DYNAMODB_HOST = None
TABLE_PREFIX = "Test"
# moto's mock stands in for AWS here, and the tests drop its tables.
PROTECT_TABLES = False

# Nor may it open the webhook checks: tests that need a receiver on 127.0.0.1 say so.
HOOKS_ALLOW_HTTP = False
HOOKS_ALLOW_PRIVATE_TARGETS = False
HOOKS_TIMEOUT_SECONDS = 15.0
