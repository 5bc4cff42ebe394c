from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from events.models import Event
from tenants.models import ApiKey
from triggerapi import store
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.openapi import error_responses
from triggerapi.store import StoreUnavailable


def _status(name: str, value: str):
    return inline_serializer(name, {"status": serializers.ChoiceField(choices=[value])})


@extend_schema(
    operation_id="health",
    summary="Liveness",
    description="No key needed.",
    responses={200: _status("Healthy", "healthy"), **error_responses(500)},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def health(request):
    return Response({"status": "healthy"})


@extend_schema(
    operation_id="health_ready",
    summary="Readiness",
    description="200 when both tables answer a read, 503 otherwise. No key needed.",
    responses={200: _status("Ready", "ready"), **error_responses(500, 503)},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def ready(request):
    """Ready when both tables answer a read."""
    for model, key in ((Event, ("health", "evt_0")), (ApiKey, ("health",))):
        try:
            store.call(lambda model=model, key=key: model.get(*key), what=f"GetItem {model.__name__}")
        except model.DoesNotExist:
            continue
        except StoreUnavailable as exc:
            raise ServiceUnavailable(f"The store is not answering: {exc}.") from exc
    return Response({"status": "ready"})
