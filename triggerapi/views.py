import logging
from functools import partial

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from triggerapi import store
from triggerapi.exceptions import ServiceUnavailable
from triggerapi.http_methods import JSONBesidesThePageMixin
from triggerapi.openapi import error_responses
from triggerapi.serializers import ConstantField, Output
from triggerapi.store import StoreUnavailable
from triggerapi.tables import NotReady, key_attributes, tables

logger = logging.getLogger(__name__)


class HealthySerializer(Output):
    status = ConstantField("healthy")


class ReadySerializer(Output):
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
    description="200 when every table answers a read and this process's SECRET_KEY opens what it sealed, 503 "
    "otherwise, naming the check that failed (`details.check`). No key needed.",
    responses={200: ReadySerializer, **error_responses(500, 503)},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([])
def ready(request):
    """Ready when every table the apps declare answers its readiness read (a missing table
    means create_tables has not run since this version added it). The answer names the table
    or check that failed, never the store's own error text (this endpoint needs no key); the
    log has that."""
    for table in tables():
        name = table.model.Meta.table_name
        try:
            (table.ready or partial(_read_missing_item, table.model))()
        except StoreUnavailable as exc:
            logger.warning("Not ready: %s cannot be read: %s", name, exc)
            raise ServiceUnavailable(f"Not ready: the table {name} cannot be read.", details={"check": name}) from exc
        except NotReady as exc:
            raise ServiceUnavailable(f"Not ready: {exc}", details={"check": exc.check}) from exc
    return Response(ReadySerializer({}).data)


def _read_missing_item(model) -> None:
    key = ["health" for _ in key_attributes(model)]
    try:
        store.call(lambda: model.get(*key), what=f"GetItem {model.__name__}")
    except model.DoesNotExist:
        pass


class SchemaView(JSONBesidesThePageMixin, SpectacularAPIView):
    """The OpenAPI schema, YAML or JSON; its errors are JSON like the API's."""


class SwaggerUIView(JSONBesidesThePageMixin, SpectacularSwaggerSplitView):
    """Swagger UI's page; its errors and OPTIONS are JSON (the page's template has no place
    for them: OPTIONS was a 500). The split view serves Swagger UI's start-up script as a
    file (?script), not inline, so the page runs under a CSP without 'unsafe-inline'."""
