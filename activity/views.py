"""`GET /v1/stats`, `GET /v1/stats/series` (scope `consume`). An event's history is an
action of the events' viewset (events/views.py)."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from activity import selectors
from activity.serializers import SeriesQuerySerializer, SeriesSerializer, StatsSerializer
from hooks.services import hook_found
from triggerapi.openapi import api_responses
from triggerapi.serializers import validated

PER_HOOK = "Only the attempt metrics (attempts_succeeded, attempts_failed) are counted per hook."
STATS = (
    "What a tenant's events and hooks come to, counted as they happen (from the events table's stream and the "
    "delivery pipeline's outcomes), correct within 5 s, in at most 3 store calls however many events the tenant "
    "has. Windows are whole minutes (1m, 1h) or hours (24h), the current one included. Scope `consume`."
)


class StatsView(APIView):
    default_scope = "consume"

    @extend_schema(
        operation_id="stats",
        summary="Counts of events and deliveries",
        description=STATS,
        responses=api_responses({200: StatsSerializer}, 503),
    )
    def get(self, request):
        return Response(StatsSerializer(selectors.stats_get(tenant_id=request.user.tenant_id)).data)


class SeriesView(APIView):
    default_scope = "consume"

    @extend_schema(
        operation_id="stats_series",
        summary="One count per step over a window",
        description="Steps of 60 s (`1h`), 15 min (`24h`) or 1 h (`7d`), each starting on a multiple of its "
        "length, oldest first, the current (unfinished) step last, zeros included. `hook_id` (another tenant's "
        "is 404) narrows an attempt metric to one hook. Scope `consume`.",
        parameters=[SeriesQuerySerializer],
        responses=api_responses({200: SeriesSerializer}, 400, 404, 503),
    )
    def get(self, request):
        query = validated(SeriesQuerySerializer, request.query_params)
        if query.get("hook_id"):
            # Whose hook comes first: another tenant's is 404 whatever else the query says.
            hook_found(tenant_id=request.user.tenant_id, hook_id=query["hook_id"])
            if not query["metric"].startswith("attempts_"):
                raise ValidationError({"hook_id": [PER_HOOK]})
        return Response(SeriesSerializer(selectors.series_get(tenant_id=request.user.tenant_id, **query)).data)
