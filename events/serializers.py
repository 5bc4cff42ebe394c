from rest_framework import serializers

from events.lifecycle import MAX_LEASE_SECONDS, REPLAYABLE
from events.models import STATUSES
from events.payloads import canonical_json
from triggerapi.pagination import PageSerializer, cursor_field, limit_field
from triggerapi.serializers import (
    ConstantField,
    ExactStringField,
    JSONIntegerField,
    OptionsSerializer,
    Output,
    QuerySerializer,
)

MAX_EVENT_BYTES = 256 * 1024
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_EVENTS = 100
ORDERS = ("asc", "desc")
MAX_WAIT_SECONDS = 20
# The last millisecond an event id (a ULID: 48 bits of milliseconds) can name, in 10889.
MAX_ID_MS = 2**48 - 1


def validate_payload(value) -> dict:
    if not isinstance(value, dict):
        raise serializers.ValidationError(f"An event payload must be a JSON object, not {_json_type(value)}.")
    if len(canonical_json(value).encode("utf-8")) > MAX_EVENT_BYTES:
        raise serializers.ValidationError(f"An event payload may be at most {MAX_EVENT_BYTES} bytes.")
    return value


def _json_type(value) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class PayloadSerializer(serializers.Serializer):
    """The body of POST /v1/events is the payload itself."""

    def run_validation(self, data=serializers.empty):
        try:
            return validate_payload(None if data is serializers.empty else data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"body": exc.detail}) from None


class BatchSerializer(serializers.Serializer):
    events = serializers.ListField(min_length=1, max_length=MAX_BATCH_EVENTS)

    def validate_events(self, events):
        errors = {}
        for index, payload in enumerate(events):
            try:
                validate_payload(payload)
            except serializers.ValidationError as exc:
                errors[str(index)] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return events


def event_type_filter() -> ExactStringField:
    return ExactStringField(required=False, min_length=1, max_length=255, help_text="Only events of this event_type.")


class ListQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=STATUSES, required=False, help_text="Only this status, oldest first.")
    event_type = event_type_filter()
    order = serializers.ChoiceField(
        choices=ORDERS,
        required=False,
        help_text="`asc` (oldest first) or `desc` (newest first); by default `asc` with a status, `desc` without.",
    )
    limit = limit_field()
    cursor = cursor_field(
        "Opaque: `next_cursor` from the previous page of this same query (same tenant, same filters)."
    )


def lease_seconds_field() -> JSONIntegerField:
    return JSONIntegerField(
        required=False, default=30, min_value=1, max_value=MAX_LEASE_SECONDS, help_text="How long the lease runs."
    )


def lease_id_field(**kwargs) -> ExactStringField:
    return ExactStringField(min_length=1, max_length=64, help_text="The `lease_id` a claim answered with.", **kwargs)


class ClaimSerializer(OptionsSerializer):
    limit = JSONIntegerField(required=False, default=10, min_value=1, max_value=100)
    lease_seconds = lease_seconds_field()
    event_type = event_type_filter()
    wait_seconds = JSONIntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_WAIT_SECONDS,
        help_text="With nothing claimable, wait up to this long and answer as soon as something is.",
    )


class ReleaseSerializer(OptionsSerializer):
    delay_seconds = JSONIntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_LEASE_SECONDS,
        help_text="The event is not handed to a claim again until this has passed.",
    )
    lease_id = lease_id_field(required=False)


class ExtendSerializer(OptionsSerializer):
    lease_id = lease_id_field()
    lease_seconds = lease_seconds_field()


class ReplaySerializer(OptionsSerializer):
    since = JSONIntegerField(
        min_value=0, max_value=MAX_ID_MS, help_text="Epoch milliseconds: events created at or after this."
    )
    until = JSONIntegerField(
        min_value=0, max_value=MAX_ID_MS, help_text="Epoch milliseconds: events created before this."
    )
    event_type = event_type_filter()
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=REPLAYABLE),
        required=False,
        min_length=1,
        help_text="Which to replay; both by default.",
    )
    cursor = cursor_field("`next_cursor` from the previous call.")

    def validate(self, data):
        if data["since"] > data["until"]:
            raise serializers.ValidationError({"until": ["Must not be before since."]})
        return data


class AckManySerializer(OptionsSerializer):
    ids = serializers.ListField(
        child=ExactStringField(min_length=1, max_length=64),
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
    )


# Output: what responses carry. The views render with these and the OpenAPI schema
# documents these, so a shape is written once.


class ReceiptSerializer(Output):
    id = serializers.CharField()
    created_at = serializers.IntegerField()
    status = serializers.ChoiceField(choices=STATUSES)


# Renders an `Ingested` batch.
class BatchReceiptsSerializer(Output):
    events = ReceiptSerializer(many=True, source="receipts", help_text="In request order.")


class EventSerializer(Output):
    id = serializers.CharField(source="event_id")
    created_at = serializers.IntegerField()
    status = serializers.ChoiceField(choices=STATUSES)
    payload = serializers.SerializerMethodField()
    event_type = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    lease_expires_at = serializers.IntegerField(allow_null=True)
    delivered_at = serializers.IntegerField(allow_null=True)
    available_at = serializers.IntegerField(
        allow_null=True,
        help_text="When a claim may next hand the event out (epoch ms): its creation, the end of its lease or "
        "release delay, its retry or replay. Null unless undelivered.",
    )

    def get_payload(self, event) -> dict:
        return event.payload_object()


class EventPageSerializer(PageSerializer):
    items_name = "events"
    item_serializer = EventSerializer


class AckedSerializer(Output):
    id = serializers.CharField()
    status = ConstantField("acknowledged")


class AckManyResultSerializer(Output):
    acknowledged = serializers.ListField(child=serializers.CharField(), help_text="Including already delivered ones.")
    not_found = serializers.ListField(child=serializers.CharField())


class LeasedEventSerializer(EventSerializer):
    """An event as claim and extend answer it: with the lease they opened or kept."""

    lease_id = serializers.CharField(help_text="Names this lease: extend and release it with this id.")


class ClaimedSerializer(Output):
    events = LeasedEventSerializer(many=True, help_text="Oldest first, each leased until its lease_expires_at.")


class ReplayedSerializer(Output):
    replayed = serializers.IntegerField(help_text="How many events went back to undelivered in this call.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Send the same body with this `cursor` to go on; null when done."
    )
