"""The client against the app in process: Django's test client behind a requests adapter,
on moto's in-process store, so every endpoint's method runs without a server (the live
stack's tests are tests/integration/test_client.py)."""

import pytest
import requests
from django.test import Client as DjangoClient
from requests.structures import CaseInsensitiveDict

from devstack import moto_patches
from tenants.models import SCOPES
from tests.hooks.api.conftest import stream_records  # noqa: F401 (a fixture these tests use)
from tests.hooks.receiver import Receiver
from triggerapi_client import Client

BASE_URL = "http://testserver"
BODY_HEADERS = ("content-type", "content-length")


@pytest.fixture(autouse=True)
def one_store_request_at_a_time():
    """moto as the local store runs it (devstack/moto_patches.py): the dispatcher attempts two
    hooks' deliveries side by side, and moto in process is not safe for two transactions at
    once (a "dictionary changed size during iteration" in one of them)."""
    with moto_patches.applied():
        yield


class InProcess(requests.adapters.BaseAdapter):
    """Hands each request the client sends to the app, and its answer back as requests'."""

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        headers = {name: value for name, value in request.headers.items() if name.lower() not in BODY_HEADERS}
        answer = DjangoClient().generic(
            request.method,
            request.path_url,
            data=request.body or b"",
            content_type=request.headers.get("Content-Type", ""),
            headers=headers,
        )
        response = requests.Response()
        response.status_code, response.reason = answer.status_code, answer.reason_phrase
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def connect(issue_key):
    """`connect(tenant_id)`: a Client with a new key of that tenant, served in process."""
    clients = []

    def make(tenant_id: str, scopes: tuple[str, ...] = SCOPES) -> Client:
        client = Client(BASE_URL, issue_key(tenant_id, scopes), retries=0)
        client.session.mount(BASE_URL, InProcess())
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def receiver(settings):
    """A webhook target on loopback, which only these settings allow."""
    settings.HOOKS_ALLOW_HTTP = True
    settings.HOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.HOOKS_TIMEOUT_SECONDS = 5.0
    with Receiver() as running:
        yield running
