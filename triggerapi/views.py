from django.urls import reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, renderer_classes, schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from browser.models import BrowserSession
from browser.renderers import IndexPageRenderer
from events.models import Event
from tenants.models import ApiKey
from triggerapi import store
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.http_methods import JSONBesidesThePageMixin
from triggerapi.openapi import error_responses
from triggerapi.serializers import ConstantField
from triggerapi.store import StoreUnavailable

# What the index links to: (label, URL name).
INDEX_LINKS = (
    ("docs", "swagger-ui"),
    ("schema", "schema"),
    ("events", "event-list"),
    ("hooks", "hook-list"),
    ("login", "rest_framework:login"),
    ("health", "health"),
    ("ready", "health-ready"),
)
HOW_TO_AUTHENTICATE = "Send your API key as 'Authorization: Bearer <api key>' on every /v1 request."


@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
@renderer_classes([JSONRenderer, IndexPageRenderer])
@schema(None)
def index(request):
    """`/` and `/v1/` are where a newcomer starts, so they say where everything is: JSON for
    programs, a page of links for a browser (Accept: text/html). Not part of the contract,
    so not in the schema."""
    links = {label: request.build_absolute_uri(reverse(name)) for label, name in INDEX_LINKS}
    return Response({"name": "triggerapi", "authentication": HOW_TO_AUTHENTICATE, "links": links})


class HealthySerializer(serializers.Serializer):
    status = ConstantField("healthy")


class ReadySerializer(serializers.Serializer):
    status = ConstantField("ready")


@extend_schema(
    operation_id="health",
    summary="Liveness",
    description="No key needed.",
    responses={200: HealthySerializer, **error_responses(500)},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
def health(request):
    return Response(HealthySerializer({}).data)


@extend_schema(
    operation_id="health_ready",
    summary="Readiness",
    description="200 when every table answers a read, 503 otherwise. No key needed.",
    responses={200: ReadySerializer, **error_responses(500, 503)},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
def ready(request):
    """Ready when every table answers a read (a missing one means create_tables has not run
    since this version added it)."""
    for model, key in ((Event, ("health", "evt_0")), (ApiKey, ("health",)), (BrowserSession, ("health",))):
        try:
            store.call(lambda model=model, key=key: model.get(*key), what=f"GetItem {model.__name__}")
        except model.DoesNotExist:
            continue
        except StoreUnavailable as exc:
            raise ServiceUnavailable(f"The store is not answering: {exc}.") from exc
    return Response(ReadySerializer({}).data)


class SchemaView(JSONBesidesThePageMixin, SpectacularAPIView):
    """The OpenAPI schema, YAML or JSON; its errors are JSON like the API's."""


class SwaggerUIView(JSONBesidesThePageMixin, SpectacularSwaggerSplitView):
    """Swagger UI's page; its errors and OPTIONS are JSON (the page's template has no place
    for them: OPTIONS was a 500). The split view serves Swagger UI's start-up script as a
    file (?script), not inline, so the page runs under a CSP without 'unsafe-inline'."""
