from rest_framework import serializers

from hooks.addresses import MAX_URL_LENGTH
from hooks.models import DELIVERY_STATUSES, DISABLED, DISABLED_REASONS, HOOK_STATUSES
from triggerapi.pagination import PageQuerySerializer, PageSerializer
from triggerapi.serializers import ExactStringField, JSONIntegerField, OptionsSerializer, Output

MAX_EVENT_TYPES = 50
MAX_RATE_LIMIT = 1000
RATE_LIMIT_HELP = (
    "Attempts per second to this hook, 1-1000; null: only the tenant's limits apply (a hook's pace is the lower "
    "of the two). A Zapier subscription sets it below Zapier's 30 requests/s."
)


def event_types_field() -> serializers.ListField:
    return serializers.ListField(
        child=ExactStringField(min_length=1, max_length=255),
        max_length=MAX_EVENT_TYPES,
        required=False,
        help_text="Only events of these event_types; empty or absent: every event. triggerapi's own events about "
        "the tenant's integration (`triggerapi.hook.disabled`, `triggerapi.delivery.failed`) only reach a hook "
        "that names them here.",
    )


def target_url_field(**kwargs) -> ExactStringField:
    return ExactStringField(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        help_text="Absolute https:// URL (http:// only where HOOKS_ALLOW_HTTP is on), no user info; its host must "
        "resolve only to public addresses.",
        **kwargs,
    )


def description_field() -> ExactStringField:
    return ExactStringField(required=False, allow_null=True, allow_blank=True, max_length=1024)


def rate_limit_field() -> JSONIntegerField:
    return JSONIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_RATE_LIMIT, help_text=RATE_LIMIT_HELP
    )


class HookCreateSerializer(OptionsSerializer):
    target_url = target_url_field()
    event_types = event_types_field()
    description = description_field()
    rate_limit = rate_limit_field()


class HookUpdateSerializer(OptionsSerializer):
    target_url = target_url_field(required=False)
    event_types = event_types_field()
    description = description_field()
    rate_limit = rate_limit_field()
    status = serializers.ChoiceField(choices=HOOK_STATUSES, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"body": ["Give at least one of: " + ", ".join(self.fields) + "."]})
        return attrs


class DeliveryQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(
        choices=DELIVERY_STATUSES, required=False, help_text="Only deliveries in this status."
    )


# Output


class HookSerializer(Output):
    id = serializers.CharField(source="hook_id")
    target_url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=HOOK_STATUSES)
    disabled_reason = serializers.ChoiceField(choices=DISABLED_REASONS, allow_null=True)
    rate_limit = serializers.IntegerField(allow_null=True, help_text=RATE_LIMIT_HELP)
    created_by = serializers.CharField(
        allow_null=True,
        help_text="The prefix of the API key that created the hook (as list_keys shows it); null for hooks created "
        "before it was recorded.",
    )
    created_at = serializers.IntegerField()
    updated_at = serializers.IntegerField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["status"] != DISABLED:
            data["disabled_reason"] = None
        return data


# Renders a `CreatedHook`: the hook's fields from its hook, the secret from the CreatedHook,
# never from the hook (which holds it sealed).
class CreatedHookSerializer(HookSerializer):
    secret = serializers.CharField(help_text="The signing secret, `whsec_...`: shown only now.")

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if name != "secret":
                field.source = f"hook.{field.source or name}"
        return fields


class HookPageSerializer(PageSerializer):
    items_name = "hooks"
    item_serializer = HookSerializer


class SecretSerializer(Output):
    secret = serializers.CharField(help_text="The new secret; the previous one keeps signing beside it for 24 h.")


class TestResultSerializer(Output):
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)


class DeliverySerializer(Output):
    id = serializers.CharField(source="delivery_id")
    hook_id = serializers.CharField()
    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=DELIVERY_STATUSES)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.IntegerField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    created_at = serializers.IntegerField()
    succeeded_at = serializers.IntegerField(allow_null=True)


class DeliveryPageSerializer(PageSerializer):
    items_name = "deliveries"
    item_serializer = DeliverySerializer


class AttemptSerializer(Output):
    attempt = serializers.IntegerField(help_text="Its number among the delivery's attempts, from 1.")
    started_at = serializers.IntegerField(help_text="When it started (epoch ms).")
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The receiver's; null when no HTTP answer came.")
    error = serializers.CharField(
        allow_null=True,
        help_text="Why no HTTP answer came (timeout, refused, TLS) or no attempt could be made; null when one came.",
    )
    response_body_excerpt = serializers.CharField(
        allow_null=True, help_text="The first 1 KiB of the receiver's answer, as text; null when it had none."
    )


class AttemptListSerializer(Output):
    attempts = AttemptSerializer(many=True, help_text="Every attempt made, oldest first.")
