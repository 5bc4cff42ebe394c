from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.permissions import ANY_SCOPE
from triggerapi.openapi import api_responses


class KeySerializer(serializers.Serializer):
    prefix = serializers.CharField(source="key_prefix", help_text="The key's first characters, as list_keys shows.")
    scopes = serializers.SerializerMethodField()

    def get_scopes(self, principal) -> list[str]:
        return sorted(principal.scopes)


class MeSerializer(serializers.Serializer):
    tenant_id = serializers.CharField()
    key = KeySerializer(source="*")


class MeView(APIView):
    """Who a key is. Integrations test a key with it (Zapier's auth test), so a key of any
    scope may ask, and it costs no store call once the key is verified."""

    default_scope = ANY_SCOPE

    @extend_schema(
        operation_id="me",
        summary="Who this key is",
        description="The tenant the key belongs to, its prefix and its scopes. Any valid key may call it.",
        responses=api_responses({200: MeSerializer}),
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)
