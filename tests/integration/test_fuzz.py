"""Schemathesis fuzzes every operation of the live schema (/v1/schema/?format=json) against
gunicorn and a moto server process, three ways: with a valid key, without a key, and with a
stranger's key against ids that belong to another tenant. Every answer must conform to the
schema (status code, content type, body, documented headers), no answer is a 5xx, every
error is the envelope, and the stranger sees and changes nothing of the owner's."""

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as builtin_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks as openapi_checks

from devstack.processes import manage
from tests import tally

# Cases per operation and way (valid and invalid ones): 24 operations, three ways, about
# 2,520 cases in about a minute on two shared cores; the summary at the end of a run says how many.
EXAMPLES = 35
CHECKS = [
    builtin_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    # What the schema allows is accepted, what it does not is refused: the shapes it
    # documents are the ones the code checks.
    openapi_checks.positive_data_acceptance,
    openapi_checks.negative_data_rejection,
]
PUBLIC_TARGET = "https://93.184.216.34/fuzz"
CONFIG = {
    # The tests send the key themselves: generated Authorization headers would hide the way.
    "generation": {"with-security-parameters": False},
    # Valid requests may still find no such event (404), an event in another state (409), an
    # Idempotency-Key used before with another body (422), or no key (401).
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]}},
}


@schemathesis.check
def envelope(ctx, response, case):
    """Every error is {"error": {"code", "message", "details"}}, whatever the schema says."""
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", ["(none)"])[0]
        assert content_type == "application/json", f"{response.status_code} {content_type}: {response.text[:300]}"
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return None


@pytest.fixture(scope="module")
def operations(live_url):
    config = schemathesis.Config.from_dict({**CONFIG, "base-url": live_url})
    schema = schemathesis.openapi.from_url(f"{live_url}/v1/schema/?format=json", config=config)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module")
def tenants(new_key, live_url, live_env):
    """user fuzzes with its own key and ids; owner's events are what stranger must not reach.
    Their request rates are far above what the fuzzer sends (it asserts no 429): on, not in
    the way."""
    keys, ids = {}, {}
    for name in ("user", "owner", "stranger"):
        tenant, keys[name] = new_key()
        manage(live_env, "set_limits", tenant, "--rate", "100000", "--burst", "1000000")
        session = bearer(keys[name])
        ids[name] = [session.post(f"{live_url}/v1/events", json={"n": n}).json()["id"] for n in range(3)]
        session.post(f"{live_url}/v1/events/{ids[name][1]}/ack")
    return keys, ids


def bearer(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


def call_and_check(case, key: str | None):
    """Sends the case with this key, or with none, and runs every check on the answer. A
    cursor is signed, so no generated one is valid (400, by design): a case that should be
    accepted is sent without one, while a case whose query or body is the invalid part keeps
    it (removing it there could make the case valid, and then its 2xx would be flagged)."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if key:
        case.headers["Authorization"] = f"Bearer {key}"
    if case.query and not _negative_at(case, ParameterLocation.QUERY):
        case.query.pop("cursor", None)
    if isinstance(case.body, dict) and not _negative_at(case, ParameterLocation.BODY):
        case.body.pop("cursor", None)
        if "target_url" in case.body:
            # A schema cannot say "a public https address"; a valid case gets one (an address
            # literal: no DNS). The checks themselves are tested in tests/hooks.
            case.body["target_url"] = PUBLIC_TARGET
    _without_long_waits(case.body)
    response = case.call()
    case.validate_response(response, checks=CHECKS, additional_checks=[envelope])
    return response


def _negative_at(case, location) -> bool:
    return case._meta is not None and case._meta.is_negative_at(location)


def _without_long_waits(body) -> None:
    """A claim may wait up to 20 s for events (tested in test_long_poll.py); here a valid
    wait is cut to one second, so that the fuzzer's claims stay fast. And replay's `since`
    must not be after `until`, which a schema cannot say: a valid pair is put in order."""
    if not isinstance(body, dict):
        return
    wait = body.get("wait_seconds")
    if type(wait) is int and 1 < wait <= 20:
        body["wait_seconds"] = 1
    since, until = body.get("since"), body.get("until")
    if type(since) is int and type(until) is int and 0 <= until < since:
        body["since"], body["until"] = until, since


def fuzz(operation, way: str, send) -> None:
    """Runs `send(case, pick)` on EXAMPLES cases of the operation, valid and invalid ones;
    `pick` chooses among the tenants' event ids."""
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy, pick=st.integers(0, 2))
    def run(case, pick):
        status = send(case, pick).status_code
        tally.count(f"schemathesis cases: {way}")
        tally.count(f"schemathesis cases: {way}: {status // 100}xx")

    try:
        run()
    except Exception as exc:
        exc.add_note(f"operation: {operation.label}, {way}")
        raise


def test_with_a_valid_key_every_answer_conforms_to_the_schema(operations, tenants):
    keys, ids = tenants

    def send(case, pick):
        if "event_id" in case.path_parameters and pick:
            case.path_parameters["event_id"] = ids["user"][pick]
        return call_and_check(case, keys["user"])

    for operation in operations:
        fuzz(operation, "valid key", send)


def test_without_a_key_every_v1_answer_is_401_in_the_envelope(operations):
    def send(case, pick):
        response = call_and_check(case, None)
        if case.path.startswith("/v1/"):
            assert (response.status_code, response.headers["www-authenticate"]) == (401, ["Bearer"])
        return response

    for operation in operations:
        fuzz(operation, "no key", send)


def test_with_a_strangers_key_nothing_of_the_owners_is_seen_or_changed(operations, tenants, live_url):
    """Every event id the stranger sends is the owner's: 404 (or a 4xx for its own bad input);
    a batch ack finds none of them; no other answer names one; and the owner's events are
    as they were."""
    keys, ids = tenants
    owner = bearer(keys["owner"])
    before = owner.get(f"{live_url}/v1/events").json()

    def send(case, pick):
        owned = ids["owner"]
        if "event_id" in case.path_parameters:
            case.path_parameters["event_id"] = owned[pick]
        if case.path == "/v1/events/ack" and isinstance(case.body, dict):
            case.body = {"ids": owned}
        response = call_and_check(case, keys["stranger"])
        if "event_id" in case.path_parameters:
            assert response.status_code in (400, 404, 411, 413, 415), response.text
        elif case.path == "/v1/events/ack" and case.body == {"ids": owned}:
            assert response.json() == {"acknowledged": [], "not_found": owned}
        else:
            assert not any(event_id in response.text for event_id in owned), response.text
        return response

    for operation in operations:
        fuzz(operation, "stranger's key", send)
    assert owner.get(f"{live_url}/v1/events").json() == before
