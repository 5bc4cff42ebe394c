from rest_framework import serializers

from events.models import STATUSES
from events.parsers import canonical_json
from triggerapi.serializers import ConstantField

MAX_EVENT_BYTES = 256 * 1024
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_EVENTS = 100
MAX_LEASE_SECONDS = 12 * 3600


class StrictIntegerField(serializers.IntegerField):
    """Integers as JSON numbers or query strings; not booleans or 2.5."""

    def to_internal_value(self, data):
        if isinstance(data, (bool, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


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


class ListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES, required=False, help_text="Only this status, oldest first.")
    event_type = serializers.CharField(required=False, max_length=255, help_text="Only events of this event_type.")
    limit = StrictIntegerField(required=False, default=50, min_value=1, max_value=100)
    cursor = serializers.CharField(
        required=False,
        max_length=2048,
        help_text="Opaque: `next_cursor` from the previous page of this same query (same tenant, same filters).",
    )


class ClaimSerializer(serializers.Serializer):
    limit = StrictIntegerField(required=False, default=10, min_value=1, max_value=100)
    lease_seconds = StrictIntegerField(
        required=False, default=30, min_value=1, max_value=MAX_LEASE_SECONDS, help_text="How long the lease runs."
    )
    event_type = serializers.CharField(required=False, max_length=255, help_text="Only events of this event_type.")


class ReleaseSerializer(serializers.Serializer):
    delay_seconds = StrictIntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_LEASE_SECONDS,
        help_text="The event is not handed to a claim again until this has passed.",
    )


class AckManySerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=MAX_BATCH_EVENTS)


# Output: what responses carry. The views render with these and the OpenAPI schema
# documents these, so a shape is written once.


class ReceiptSerializer(serializers.Serializer):
    id = serializers.CharField()
    created_at = serializers.IntegerField()
    status = serializers.ChoiceField(choices=STATUSES)


# Renders an `Ingested` batch.
class BatchReceiptsSerializer(serializers.Serializer):
    events = ReceiptSerializer(many=True, source="receipts", help_text="In request order.")


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(source="event_id")
    created_at = serializers.IntegerField()
    status = serializers.ChoiceField(choices=STATUSES)
    payload = serializers.SerializerMethodField()
    event_type = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    lease_expires_at = serializers.IntegerField(allow_null=True)
    delivered_at = serializers.IntegerField(allow_null=True)

    def get_payload(self, event) -> dict:
        return event.payload_object()


# A page of the list (an `EventPage`), described once, as DRF's pagination classes do.
class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` to get the next page; null on the last page."
    )
    has_more = serializers.BooleanField(help_text="True only if at least one more matching event exists.")


class AckedSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = ConstantField("acknowledged")


class AckManyResultSerializer(serializers.Serializer):
    acknowledged = serializers.ListField(child=serializers.CharField(), help_text="Including already delivered ones.")
    not_found = serializers.ListField(child=serializers.CharField())


class ClaimedSerializer(serializers.Serializer):
    events = EventSerializer(many=True, help_text="Oldest first, each leased until its lease_expires_at.")
