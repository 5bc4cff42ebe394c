from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from activity.history import history_page
from activity.serializers import HistoryPageSerializer, HistoryQuerySerializer
from events import selectors, services
from events.schema import event_schema
from events.serializers import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    AckedSerializer,
    AckManyResultSerializer,
    AckManySerializer,
    BatchReceiptsSerializer,
    BatchSerializer,
    ClaimedSerializer,
    ClaimSerializer,
    EventPageSerializer,
    EventSerializer,
    ExtendSerializer,
    LeasedEventSerializer,
    ListQuerySerializer,
    PayloadSerializer,
    ReceiptSerializer,
    ReleaseSerializer,
    ReplayedSerializer,
    ReplaySerializer,
)
from events.services.common import EventNotFound
from triggerapi.pagination import PagedViewSetMixin
from triggerapi.parsers import request_json
from triggerapi.serializers import validated

MAX_OPTIONS_BYTES = 64 * 1024


def _options(request):
    """An optional body of options: absent means all defaults; present, it must be an object."""
    return request_json(request, max_bytes=MAX_OPTIONS_BYTES, optional=True)


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 255 and all(" " <= c <= "~" for c in key)):
        raise ValidationError({"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters."]})
    return key


# Where an ingested event is (Location): its route reversed once per script prefix (API
# Gateway's stage, `/prod`) and URLconf, the id put in the placeholder's place (an event id
# is a ULID: nothing in it to quote). Reversing it for every ingest was 3 % of its CPU.
_ID = "EVENTID"


def _event_path() -> str:
    return _event_path_under(get_script_prefix(), get_urlconf())


@lru_cache(maxsize=16)
def _event_path_under(prefix: str, urlconf) -> str:
    return reverse("event-detail", kwargs={"event_id": _ID}, urlconf=urlconf)


def _ingested(result: services.Ingested, body, headers: dict) -> Response:
    if result.answered_again:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        body, status=status.HTTP_200_OK if result.answered_again else status.HTTP_201_CREATED, headers=headers
    )


@event_schema
class EventViewSet(PagedViewSetMixin, viewsets.ViewSet):
    """A tenant's events: ingest them, read them, and consume them (claim, ack, release)."""

    lookup_field = "event_id"
    lookup_value_regex = "[^/]+"
    default_scope = "consume"
    required_scopes = {"create": "ingest", "batch": "ingest"}

    def create(self, request):
        payload = validated(PayloadSerializer, request_json(request, max_bytes=MAX_EVENT_BYTES))
        result = services.event_create(
            tenant_id=request.user.tenant_id, payload=payload, idempotency_key=_idempotency_key(request)
        )
        receipt = result.receipts[0]
        location = request.build_absolute_uri(_event_path().replace(_ID, receipt["id"]))
        return _ingested(result, ReceiptSerializer(receipt).data, {"Location": location})

    @action(detail=False, methods=["post"])
    def batch(self, request):
        payloads = validated(BatchSerializer, request_json(request, max_bytes=MAX_BATCH_BYTES))["events"]
        result = services.event_create_batch(
            tenant_id=request.user.tenant_id, payloads=payloads, idempotency_key=_idempotency_key(request)
        )
        return _ingested(result, BatchReceiptsSerializer(result).data, {})

    def list(self, request):
        page = selectors.event_list(
            tenant_id=request.user.tenant_id, **validated(ListQuerySerializer, request.query_params)
        )
        return self.paged(page, EventPageSerializer)

    def retrieve(self, request, event_id: str):
        event = selectors.event_get(tenant_id=request.user.tenant_id, event_id=event_id)
        if event is None:
            raise EventNotFound(event_id)
        return Response(EventSerializer(event).data)

    @action(detail=True, methods=["get"])
    def history(self, request, event_id: str):
        if selectors.event_get(tenant_id=request.user.tenant_id, event_id=event_id) is None:
            raise EventNotFound(event_id)
        query = validated(HistoryQuerySerializer, request.query_params)
        page = history_page(tenant_id=request.user.tenant_id, event_id=event_id, **query)
        return self.paged(page, HistoryPageSerializer)

    def destroy(self, request, event_id: str):
        services.event_delete(tenant_id=request.user.tenant_id, event_id=event_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def ack(self, request, event_id: str):
        services.event_ack(tenant_id=request.user.tenant_id, event_id=event_id)
        return Response(AckedSerializer({"id": event_id}).data)

    @action(detail=False, methods=["post"], url_path="ack", url_name="ack-many")
    def ack_many(self, request):
        ids = validated(AckManySerializer, request_json(request, max_bytes=MAX_OPTIONS_BYTES))["ids"]
        acknowledged, not_found = services.event_ack_many(tenant_id=request.user.tenant_id, event_ids=ids)
        return Response(AckManyResultSerializer({"acknowledged": acknowledged, "not_found": not_found}).data)

    @action(detail=False, methods=["post"])
    def claim(self, request):
        options = validated(ClaimSerializer, _options(request))
        events = services.event_claim(tenant_id=request.user.tenant_id, **options)
        return Response(ClaimedSerializer({"events": events}).data)

    @action(detail=True, methods=["post"])
    def release(self, request, event_id: str):
        options = validated(ReleaseSerializer, _options(request))
        event = services.event_release(tenant_id=request.user.tenant_id, event_id=event_id, **options)
        return Response(EventSerializer(event).data)

    @action(detail=True, methods=["post"])
    def extend(self, request, event_id: str):
        options = validated(ExtendSerializer, request_json(request, max_bytes=MAX_OPTIONS_BYTES))
        event = services.event_extend(tenant_id=request.user.tenant_id, event_id=event_id, **options)
        return Response(LeasedEventSerializer(event).data)

    @action(detail=False, methods=["post"])
    def replay(self, request):
        options = validated(ReplaySerializer, request_json(request, max_bytes=MAX_OPTIONS_BYTES))
        if "statuses" in options:
            options["statuses"] = tuple(options["statuses"])
        replayed, next_cursor = services.event_replay(tenant_id=request.user.tenant_id, **options)
        return Response(ReplayedSerializer({"replayed": replayed, "next_cursor": next_cursor}).data)

    @action(detail=True, methods=["post"])
    def retry(self, request, event_id: str):
        event = services.event_retry(tenant_id=request.user.tenant_id, event_id=event_id)
        return Response(EventSerializer(event).data)
