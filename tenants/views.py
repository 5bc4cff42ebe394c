from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from limits.selectors import tenant_limits
from tenants.permissions import ANY_SCOPE
from triggerapi.openapi import api_responses
from triggerapi.serializers import Output


class KeySerializer(Output):
    prefix = serializers.CharField(source="key_prefix", help_text="The key's first characters, as list_keys shows.")
    scopes = serializers.SerializerMethodField()

    def get_scopes(self, principal) -> list[str]:
        return sorted(principal.scopes)


class LimitsSerializer(Output):
    rate = serializers.IntegerField(help_text="Requests per second (the token bucket's rate).")
    burst = serializers.IntegerField(help_text="Requests at once (the bucket's size).")
    waiting_claims = serializers.IntegerField(help_text="Claims with wait_seconds > 0 waiting at once.")
    deliveries_per_second = serializers.IntegerField(help_text="Webhook attempts started per second, all hooks.")


class MeSerializer(Output):
    tenant_id = serializers.CharField()
    key = KeySerializer()
    limits = LimitsSerializer()


class MeView(APIView):
    """Who a key is, and the limits its tenant has. Integrations test a key with it (Zapier's
    auth test), so a key of any scope may ask; once the key is verified and the limits read
    (each at most once a minute per process), it costs no store call."""

    default_scope = ANY_SCOPE

    @extend_schema(
        operation_id="me",
        summary="Who this key is",
        description="The tenant the key belongs to, its prefix, its scopes and the tenant's limits. "
        "Any valid key may call it.",
        responses=api_responses({200: MeSerializer}),
    )
    def get(self, request):
        principal = request.user
        me = {
            "tenant_id": principal.tenant_id,
            "key": principal,
            "limits": tenant_limits(tenant_id=principal.tenant_id),
        }
        return Response(MeSerializer(me).data)
