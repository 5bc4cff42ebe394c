"""On Lambda (API Gateway is https only) responses tell browsers to stay on https (HSTS)."""

import pytest

from devstack.lambda_probe import rest_event
from tests.integration.lambda_app import lambda_handler, lambda_settings, point_models_at, write_zappa_settings


@pytest.fixture
def send(tmp_path, live_env, settings, monkeypatch):
    write_zappa_settings(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, value in lambda_settings("ALLOWED_HOSTS", "SECURE_HSTS_SECONDS").items():
        setattr(settings, name, value)
    point_models_at(monkeypatch, live_env["DYNAMODB_HOST"], live_env["TABLE_PREFIX"])
    with lambda_handler() as handler:
        yield lambda *args, **kwargs: handler.handler(rest_event(*args, **kwargs), None)


@pytest.mark.parametrize("path", ["/health", "/v1/events", "/auth/login"])
def test_every_response_on_the_prod_stage_carries_hsts_for_a_year(send, path):
    response = send("GET", path)

    assert response["headers"]["Strict-Transport-Security"] == "max-age=31536000"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/v1/events", "/v1/me", "/v1/nowhere"])
def test_v1_answers_on_the_prod_stage_say_no_store(send, path):
    assert send("GET", path)["headers"]["Cache-Control"] == "no-store"
