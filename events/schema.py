"""The OpenAPI description of the event endpoints (drf-spectacular). Responses are documented
with the output serializers in events/serializers.py, the same ones the views render with."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from activity.serializers import HistoryPageSerializer, HistoryQuerySerializer
from events.serializers import (
    MAX_BATCH_EVENTS,
    AckedSerializer,
    AckManyResultSerializer,
    AckManySerializer,
    BatchReceiptsSerializer,
    ClaimedSerializer,
    ClaimSerializer,
    EventPageSerializer,
    EventSerializer,
    ExtendSerializer,
    LeasedEventSerializer,
    ListQuerySerializer,
    OptionsSerializer,
    ReceiptSerializer,
    ReleaseSerializer,
    ReplayedSerializer,
    ReplaySerializer,
)
from triggerapi.openapi import api_responses

EVENT_ID = OpenApiParameter(
    "event_id",
    str,
    OpenApiParameter.PATH,
    description="The event's id, `evt_` + a ULID (sorting ids sorts by creation).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    # 1-255 printable ASCII; HTTP drops spaces at either end of a header value.
    pattern=r"^[!-~]([ -~]{0,253}[!-~])?$",
    description="1-255 printable ASCII characters. The same tenant sending the same key again within 24 h gets the "
    "original response back (200, `Idempotent-Replayed: true`) and nothing new is stored; the same key with another "
    "body is 422 idempotency_key_reused.",
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[200],
    required=True,
    description="Set when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
LOCATION = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[201], required=True, description="The new event's URL."
)
PAYLOAD_EXAMPLE = {"event_type": "customer.created", "email": "alice@acme.com"}


class BatchRequestSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_BATCH_EVENTS)


def _ingest(summary: str, description: str, request, receipt, example, errors: tuple[int, ...], headers=()) -> dict:
    """Creating is 201, or 200 when an Idempotency-Key's earlier answer is given again."""
    return dict(
        summary=summary,
        description=description,
        request=request,
        parameters=[IDEMPOTENCY_KEY, REPLAYED, *headers],
        examples=[OpenApiExample("payload", value=example, request_only=True)],
        responses=api_responses(
            {201: receipt, 200: OpenApiResponse(receipt, description="Replayed: the original answer.")},
            *errors,
        ),
    )


event_schema = extend_schema_view(
    create=extend_schema(
        operation_id="events_create",
        **_ingest(
            "Create an event",
            "The body is the payload itself: one JSON object, at most 256 KiB. `event_type` is taken from its "
            "top-level `event_type` string, if any. 201 means stored. Scope `ingest`.",
            OpenApiTypes.OBJECT,
            ReceiptSerializer,
            PAYLOAD_EXAMPLE,
            (400, 411, 413, 415, 422),
            headers=[LOCATION],
        ),
    ),
    batch=extend_schema(
        operation_id="events_batch",
        **_ingest(
            "Create up to 100 events at once",
            "All or nothing: one bad payload rejects the batch (400, its index in `details`). The body is at most "
            "1 MiB. 503 with Retry-After while an earlier batch with the same Idempotency-Key is still being stored. "
            "Scope `ingest`.",
            BatchRequestSerializer,
            BatchReceiptsSerializer,
            {"events": [PAYLOAD_EXAMPLE, {"event_type": "order.paid", "order": 1042}]},
            (400, 411, 413, 415, 422),
        ),
    ),
    list=extend_schema(
        operation_id="events_list",
        summary="List events",
        description="With `status`: that inbox, oldest first. Without: all events, newest first; `order` overrides "
        "either. Walk `next_cursor` until `has_more` is false to see every matching event once. Scope `consume`.",
        parameters=[ListQuerySerializer],
        responses=api_responses({200: EventPageSerializer}, 400),
    ),
    retrieve=extend_schema(
        operation_id="events_retrieve",
        summary="Get an event",
        description="Another tenant's event is 404, like a missing one. Scope `consume`.",
        parameters=[EVENT_ID],
        responses=api_responses({200: EventSerializer}, 404),
    ),
    history=extend_schema(
        operation_id="events_history",
        summary="What happened to an event",
        description="Everything that happened to the event, oldest first: its transitions (claims, extensions: "
        "the first and last of a lease, releases, acks, failures, retries, replays) and its webhook attempts, "
        "each within 5 s. Kept as long as the event; a deleted event's history is 404. Scope `consume`.",
        parameters=[EVENT_ID, HistoryQuerySerializer],
        responses=api_responses({200: HistoryPageSerializer}, 400, 404),
    ),
    destroy=extend_schema(
        operation_id="events_delete",
        summary="Delete an event",
        description="204 with no body; a second delete is 404. Scope `consume`.",
        parameters=[EVENT_ID],
        responses=api_responses({204: OpenApiResponse(description="Deleted.")}, 404),
    ),
    ack=extend_schema(
        operation_id="events_ack",
        summary="Acknowledge an event",
        description="Marks it delivered. Idempotent: acking a delivered event is 200 again. Scope `consume`.",
        request=None,
        parameters=[EVENT_ID],
        responses=api_responses({200: AckedSerializer}, 404, 409),
    ),
    ack_many=extend_schema(
        operation_id="events_ack_many",
        summary="Acknowledge up to 100 events",
        description="Ids that are unknown (or another tenant's) come back in `not_found`. Scope `consume`.",
        request=AckManySerializer,
        responses=api_responses({200: AckManyResultSerializer}, 400, 411, 413, 415),
    ),
    claim=extend_schema(
        operation_id="events_claim",
        summary="Lease undelivered events",
        description="Leases up to `limit` claimable events, oldest first, for `lease_seconds`; no other claim gets "
        "them while the lease runs, and each carries its own `lease_id`. Each claim counts an attempt; after "
        "MAX_ATTEMPTS an event becomes `failed`. With `wait_seconds` and nothing claimable, waits up to that long "
        "and answers as soon as an event can be claimed (long polling): at most the tenant's `waiting_claims` "
        "claims wait at once, one more is 429 (`details.limit` `waiting_claims`) with Retry-After until the first "
        "of them ends. The body is optional. Scope `consume`.",
        request=ClaimSerializer,
        responses=api_responses({200: ClaimedSerializer}, 400, 411, 413, 415, 429),
    ),
    release=extend_schema(
        operation_id="events_release",
        summary="Give a leased event back",
        description="Ends its lease; it can be claimed again after `delay_seconds`. 409 if delivered or failed; with "
        "`lease_id`, only that lease is released (409 once it is gone). The body is optional. Scope `consume`.",
        request=ReleaseSerializer,
        parameters=[EVENT_ID],
        responses=api_responses({200: EventSerializer}, 400, 404, 409, 411, 413, 415),
    ),
    extend=extend_schema(
        operation_id="events_extend",
        summary="Extend a lease (heartbeat)",
        description="The lease runs `lease_seconds` from now if `lease_id` is still the event's current lease; it "
        "keeps its id. A lease runs at most 12 h from its claim: longer is 400, saying how much is left. 409 if the "
        "lease is gone (ended, released, re-claimed, acked, or the event failed). Scope `consume`.",
        request=ExtendSerializer,
        parameters=[EVENT_ID],
        responses=api_responses({200: LeasedEventSerializer}, 400, 404, 409, 411, 413, 415),
    ),
    replay=extend_schema(
        operation_id="events_replay",
        summary="Deliver again what was delivered or failed",
        description="Every matching event created in [`since`, `until`) goes back to `undelivered` with `attempts` "
        "0, claimable at once, keeping its id, payload and created_at; its retention restarts. At most 1000 per "
        "call: send the same body with `cursor` set to `next_cursor` to go on. Scope `consume`.",
        request=ReplaySerializer,
        responses=api_responses({200: ReplayedSerializer}, 400, 411, 413, 415),
    ),
    retry=extend_schema(
        operation_id="events_retry",
        summary="Put a failed event back in the inbox",
        description="`failed` becomes `undelivered` with `attempts` 0; 409 for an event that is not failed. "
        "Scope `consume`.",
        request=None,
        parameters=[EVENT_ID],
        responses=api_responses({200: EventSerializer}, 404, 409),
    ),
)


def strict_bodies(result, generator, request, public):
    """What drf-spectacular cannot tell from the serializers: an options body refuses unknown
    fields (OptionsSerializer); the body of POST /v1/events (any object) is required; and an
    empty list filter (`?status=`, as the browser's filter form sends it) means no filter."""
    schemas = result["components"]["schemas"]
    for serializer in OptionsSerializer.__subclasses__():
        name = serializer.__name__.removesuffix("Serializer")
        # A PATCH body's schema is the serializer's, all optional, named Patched...
        for named in (name, f"Patched{name}"):
            if named in schemas:
                schemas[named]["additionalProperties"] = False
    result["paths"]["/v1/events"]["post"]["requestBody"]["required"] = True
    # A PATCH must change something (HookUpdateSerializer.validate).
    schemas["PatchedHookUpdate"]["minProperties"] = 1
    result["paths"]["/v1/hooks"]["post"]["requestBody"]["required"] = True
    result["paths"]["/v1/hooks/{hook_id}"]["patch"]["requestBody"]["required"] = True
    for path in ("/v1/events", "/v1/hooks", "/v1/hooks/{hook_id}/deliveries"):
        for parameter in result["paths"][path]["get"]["parameters"]:
            if parameter.get("in") == "query":
                parameter["allowEmptyValue"] = True
    return result
