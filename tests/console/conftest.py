"""A receiver for the console's hooks, and a hook of acme's that it answers."""

import pytest
from django.test import override_settings

from tests.activity.conftest import pump  # noqa: F401 (the stream, handed on as run_deliveries does)
from tests.hooks.receiver import Receiver, status


@pytest.fixture
def receiver():
    with Receiver() as running, override_settings(HOOKS_ALLOW_HTTP=True, HOOKS_ALLOW_PRIVATE_TARGETS=True):
        running.answer = status(200)
        yield running


@pytest.fixture
def hook_id(acme, receiver) -> str:
    created = acme.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json")
    assert created.status_code == 201, created.content
    return created.json()["id"]
