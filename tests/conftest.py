import json
import logging

import pytest
from django.core.cache import cache
from moto import mock_aws
from rest_framework.test import APIClient

from activity.deliveries import NOTES
from limits.buckets import BUCKETS
from tenants.models import SCOPES
from tenants.services import api_key_issue
from tests import tally
from triggerapi import metrics
from triggerapi.tables import tables_create


@pytest.fixture(autouse=True)
def store(request):
    """Unit and API tests get fresh tables on moto's in-process mock, and a cold key cache.
    Integration tests bring their own (a moto server process). The rate limiter's view of
    its buckets goes with the tables it was taken from."""
    cache.clear()
    BUCKETS.forget()
    if request.node.get_closest_marker("integration"):
        yield None
        return
    with mock_aws():
        tables_create()
        yield
    cache.clear()


@pytest.fixture(autouse=True)
def delivery_counts():
    """The delivery pipeline's counts waiting for their flush are the process's: a test
    starts and ends with none (activity.deliveries)."""
    NOTES.take()
    yield
    NOTES.take()


@pytest.fixture(autouse=True)
def no_metrics_left():
    """What earlier tests wrote outside a request (and never flushed) is not this test's."""
    metrics.PROCESS.drain(timestamp_ms=0)


@pytest.fixture
def emitted():
    """The EMF documents written on the metrics logger while the test runs."""
    documents: list[dict] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            documents.append(json.loads(record.getMessage()))

    keep = Keep()
    logging.getLogger(metrics.__name__).addHandler(keep)
    yield documents
    logging.getLogger(metrics.__name__).removeHandler(keep)


@pytest.fixture
def issue_key():
    def issue(tenant_id: str, scopes: tuple[str, ...] = SCOPES) -> str:
        return api_key_issue(tenant_id=tenant_id, scopes=scopes)[1]

    return issue


@pytest.fixture
def client_for(issue_key):
    """A DRF test client authenticated as a tenant (a new key each call)."""

    def make(tenant_id: str, scopes: tuple[str, ...] = SCOPES) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(tenant_id, scopes)}")
        return client

    return make


@pytest.fixture
def acme(client_for) -> APIClient:
    return client_for("acme")


@pytest.fixture
def globex(client_for) -> APIClient:
    return client_for("globex")


@pytest.fixture
def create_event():
    """Posts a payload and returns the new event's id."""

    def create(client: APIClient, payload: dict | None = None) -> str:
        body = payload if payload is not None else {"event_type": "test.created"}
        response = client.post("/v1/events", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    return create


def pytest_terminal_summary(terminalreporter):
    """What the state machine and the fuzzer ran, when they ran."""
    if tally.counts:
        terminalreporter.section("property-based tests")
        for line in tally.lines():
            terminalreporter.write_line(line)
