"""The init does the work (triggerapi/warmup.py): on a SnapStart init, one authenticated
request per router served through the WSGI application against a stub store, then
forgotten: nothing reaches the store, nothing is logged, and the key it used opens nothing."""

import importlib
import logging

import pytest
from rest_framework.test import APIClient

from tenants import keys
from tests.integration.lambda_app import point_models_at
from tests.store_hooks import store_calls
from triggerapi import lambda_app, warmup
from triggerapi.wsgi import application

KEY = "tk_live_" + "W" * 43
# Where nothing listens: a call that was sent would fail (the API's 503).
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def known_key(monkeypatch):
    monkeypatch.setattr(warmup, "generate_key", lambda: KEY)
    return KEY


@pytest.mark.integration  # no mock_aws (its stub answers every call too): no store at all
def test_the_warm_up_serves_an_ingest_a_list_and_the_hooks_with_nothing_sent(known_key, monkeypatch):
    point_models_at(monkeypatch, NOWHERE, "TriggerApi")

    with store_calls() as calls:
        statuses = warmup.warm(application)

    assert statuses == [201, 200, 200]
    assert calls["GetItem"] >= 1 and calls["PutItem"] == 1 and calls["Query"] == 2  # made, and stubbed


def test_after_the_warm_up_its_key_opens_nothing_and_nothing_was_logged(known_key, caplog, emitted):
    caplog.set_level(logging.DEBUG)

    warmup.warm(application)

    assert [record.getMessage() for record in caplog.records] == []
    assert emitted == []
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {known_key}")
    assert client.get("/v1/events").status_code == 401


def test_a_warm_up_that_gets_other_answers_says_so_and_the_init_goes_on(known_key, caplog, monkeypatch):
    monkeypatch.setattr(warmup, "REQUESTS", (("GET", "/v1/nowhere", None, 200),))

    assert warmup.warm(application) == [404]
    assert [record.getMessage() for record in caplog.records] == ["warm-up answered [404], not [200]"]


@pytest.mark.parametrize(("initialization", "warmed"), [("snap-start", 1), ("on-demand", 0), (None, 0)])
def test_only_an_init_for_a_snapshot_warms_up(monkeypatch, initialization, warmed):
    served = []
    monkeypatch.setattr(warmup, "warm", served.append)
    if initialization is None:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", initialization)

    importlib.reload(lambda_app)

    assert served == [lambda_app.application] * warmed


def test_the_warm_up_tenant_is_no_tenant_anyone_can_have():
    assert not keys.TENANT_ID_RE.match(warmup.WARMUP_TENANT)
