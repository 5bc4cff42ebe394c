from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from events.models import Event
from tenants.models import ApiKey
from triggerapi.exceptions import ServiceUnavailable


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def health(request):
    return Response({"status": "healthy"})


@api_view(["GET"])
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
    return Response({"status": "ready"})
