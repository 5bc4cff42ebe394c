from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from triggerapi import store
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.http_methods import JSONBesidesThePageMixin
from triggerapi.openapi import error_responses
from triggerapi.serializers import ConstantField
from triggerapi.store import StoreUnavailable
from triggerapi.tables import key_attributes, table_models


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
    """Ready when every table the apps declare answers a read of an item that is not there (a
    missing table means create_tables has not run since this version added it)."""
    for model in table_models():
        key = ["health" for _ in key_attributes(model)]
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
