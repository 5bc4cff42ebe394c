"""What the stats, series and history routes take and answer (OBSERVE.md): the views render
with these, and the OpenAPI schema is made from them."""

from rest_framework import serializers

from activity.selectors import SERIES_ATTRIBUTE, WINDOWS
from triggerapi.pagination import PageSerializer, cursor_field, limit_field
from triggerapi.serializers import ExactStringField, Output, QuerySerializer

Count = serializers.IntegerField
Ms = serializers.IntegerField


def windows(names: str, help_text: str) -> serializers.DictField:
    """Counts by window (`1m`: this minute so far; `1h`: the last 60 minutes, this one
    included; `24h`: the last 24 hours, this one included)."""
    return serializers.DictField(child=Count(), help_text=f"{help_text} By window: {names}.")


class LatencySerializer(Output):
    p50 = Ms(allow_null=True, help_text="ms from ingest to a succeeding attempt; null with none in the hour.")
    p99 = Ms(allow_null=True)


class EventStatsSerializer(Output):
    undelivered = Count(help_text="Events in status `undelivered` (leased ones included).")
    failed = Count(help_text="Events in status `failed`.")
    oldest_undelivered_age_ms = Ms(allow_null=True, help_text="Age of the oldest undelivered event; null with none.")
    ingested = windows("`1m`, `1h`, `24h`", "Events ingested.")
    delivered = windows("`1m`, `1h`, `24h`", "Acknowledgements (pull).")


class HookStatsSerializer(Output):
    id = serializers.CharField()
    status = serializers.CharField()
    pending = Count(help_text="Deliveries still owed.")
    succeeded = windows("`1h`, `24h`", "Deliveries that succeeded.")
    failed = windows("`1h`, `24h`", "Deliveries that ended failed.")
    # over the last hour (no help_text: the schema would wrap the reference in allOf)
    latency_ms = LatencySerializer()


class StatsSerializer(Output):
    as_of = Ms(help_text="When the counts were read (epoch ms).")
    events = EventStatsSerializer()
    hooks = HookStatsSerializer(many=True)


class StrictQuerySerializer(QuerySerializer):
    """A parameter given empty (`?window=`) is refused: DRF reads a query string as a form,
    where an empty optional value passes as no value at all (and its default applies)."""

    def to_internal_value(self, data):
        blank = [name for name in self.fields if hasattr(data, "get") and data.get(name) == ""]
        if blank:
            raise serializers.ValidationError({name: ["This field may not be blank."] for name in blank})
        return super().to_internal_value(data)


class SeriesQuerySerializer(StrictQuerySerializer):
    metric = serializers.ChoiceField(choices=tuple(SERIES_ATTRIBUTE))
    window = serializers.ChoiceField(choices=tuple(WINDOWS), default="1h", required=False)
    hook_id = ExactStringField(
        required=False,
        min_length=1,
        max_length=64,
        help_text="Only this hook's attempts: with an attempt metric only (another metric with it is 400).",
    )


class SeriesSerializer(Output):
    metric = serializers.CharField()
    step_seconds = serializers.IntegerField(help_text="60 (1h), 900 (24h) or 3600 (7d).")
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[step start (epoch ms), count], oldest first, the current step last.",
    )


class HistoryQuerySerializer(StrictQuerySerializer):
    limit = limit_field(default=100)
    cursor = cursor_field()


class HistoryEntrySerializer(Output):
    at = Ms()
    what = serializers.CharField(help_text="ingested, claimed, extended, released, acked, lease_expired, failed, ...")

    def to_representation(self, instance):
        return dict(instance)


class HistoryPageSerializer(PageSerializer):
    items_name = "history"
    item_serializer = HistoryEntrySerializer
