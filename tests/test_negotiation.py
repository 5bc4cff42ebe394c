"""The common case's short cut answers what DRF's own negotiation answers, for every Accept
header and format a client may send."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from triggerapi.negotiation import ContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/xml",
    "",
]
QUERIES = ["", "?limit=1", "?format=json", "?format=api", "?format=xml"]


def answer(negotiation, accept, query, suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/v1/events{query}", **headers))
    renderers = [renderer() for renderer in api_settings.DEFAULT_RENDERER_CLASSES]
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as exc:  # noqa: BLE001 - the refusal is part of the answer compared
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("suffix", [None, "json", "api"])
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_short_cut_answers_as_drf_does(accept, query, suffix):
    assert answer(ContentNegotiation(), accept, query, suffix) == answer(
        DefaultContentNegotiation(), accept, query, suffix
    )


def test_the_short_cut_is_taken_for_a_json_client(monkeypatch):
    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", None)  # the long way fails
    assert answer(ContentNegotiation(), None, "?limit=1", None) == ("JSONRenderer", "application/json")
    assert answer(ContentNegotiation(), "*/*", "", None) == ("JSONRenderer", "application/json")


def test_the_project_negotiates_with_it():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation
