from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from events.models import Event
from tenants.models import ApiKey
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.http_methods import JSONBesidesThePageMixin
from triggerapi.openapi import error_responses
from triggerapi.serializers import ConstantField


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
    description="200 when both tables answer a read, 503 otherwise. No key needed.",
    responses={200: ReadySerializer, **error_responses(500, 503)},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
def ready(request):
    """Ready when both tables answer a read."""
    for model, key in ((Event, ("health", "evt_0")), (ApiKey, ("health",))):
        try:
            model.get(*key)
        except model.DoesNotExist:
            continue
        except Exception as exc:
            raise ServiceUnavailable(f"The store is not answering: {type(exc).__name__}.") from exc
    return Response(ReadySerializer({}).data)


class SchemaView(JSONBesidesThePageMixin, SpectacularAPIView):
    """The OpenAPI schema, YAML or JSON; its errors are JSON like the API's."""


class SwaggerUIView(JSONBesidesThePageMixin, SpectacularSwaggerView):
    """Swagger UI's page; its errors and OPTIONS are JSON (the page's template has no place
    for them: OPTIONS was a 500)."""
