"""GET /v1/me: who a key is, for a key of any scope, as integrations test a key."""

import pytest
from rest_framework.test import APIClient

from limits.services import tenant_limits_set
from tests.store_hooks import store_calls


@pytest.mark.parametrize("scopes", [("ingest",), ("consume",), ("ingest", "consume")])
def test_me_names_the_tenant_the_key_prefix_and_its_scopes_for_any_scope(client_for, scopes):
    client = client_for("acme", scopes=scopes)
    key = client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")

    response = client.get("/v1/me")

    assert (response.status_code, response.json()) == (
        200,
        {
            "tenant_id": "acme",
            "key": {"prefix": key[:16], "scopes": sorted(scopes)},
            "limits": {"rate": 100, "burst": 200, "waiting_claims": 10, "deliveries_per_second": 50},
        },
    )


def test_me_shows_the_tenants_own_limits_beside_the_defaults(acme):
    tenant_limits_set(tenant_id="acme", changes={"rate": 7, "waiting_claims": 2})

    response = acme.get("/v1/me")

    assert response.json()["limits"] == {"rate": 7, "burst": 200, "waiting_claims": 2, "deliveries_per_second": 50}


def test_me_costs_no_store_call_once_the_key_is_verified_and_the_limits_read(acme):
    acme.get("/v1/me")

    with store_calls() as calls:
        assert acme.get("/v1/me").status_code == 200

    assert dict(calls) == {}


def test_me_without_a_key_is_401():
    response = APIClient().get("/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
