from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from hooks import attempts, dispatch, selectors, services
from hooks.serializers import (
    AttemptListSerializer,
    CreatedHookSerializer,
    DeliveryPageSerializer,
    DeliveryQuerySerializer,
    DeliverySerializer,
    HookCreateSerializer,
    HookPageSerializer,
    HookSerializer,
    HookUpdateSerializer,
    SecretSerializer,
    TestResultSerializer,
)
from triggerapi.exceptions import Conflict
from triggerapi.openapi import api_responses
from triggerapi.pagination import PagedViewSetMixin, PageQuerySerializer
from triggerapi.parsers import request_json
from triggerapi.serializers import validated

MAX_HOOK_BYTES = 64 * 1024
HOOK_ID = OpenApiParameter("hook_id", str, OpenApiParameter.PATH, description="`hook_` + a ULID.")
# What every hooks operation's description says (drf-spectacular would take the view's docstring).
HOOKS_SCOPE = (
    "A tenant's hooks: endpoints each new event is pushed to, signed, with retries. Scope `hooks` (a worker's "
    "`consume` key may not point the tenant's events at a new URL)."
)
# What a test's and a manual retry's descriptions add: they call the target within the request.
IN_REQUEST = (
    " The call is made within the request: at most 2 such calls (tests and manual retries) of a tenant run at once, "
    "and a hook is tested at most once per 5 s; beyond that, 429 `rate_limited` with `details.limit` `hook_test`."
)
DELIVERY_ID = OpenApiParameter(
    "delivery_id",
    str,
    OpenApiParameter.PATH,
    description="`dlv_` + the event's ULID + the hook's 8-character tag, as the hook's deliveries list it; another "
    "hook's delivery is not found here.",
)


def _hook(request, hook_id: str):
    return services.hook_found(tenant_id=request.user.tenant_id, hook_id=hook_id)


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: str):
        super().__init__(f"Delivery {delivery_id[:64]} not found.")


def hook_created(principal, data: dict):
    """A hook from a create request's validated fields, made by the key that asked (the API's
    create and the console's form)."""
    return services.hook_create(
        tenant_id=principal.tenant_id,
        target_url=data["target_url"],
        event_types=data.get("event_types") or [],
        description=data.get("description"),
        created_by=principal.key_prefix,
        rate_limit=data.get("rate_limit"),
    )


def delivery_retried(hook, delivery):
    """The delivery attempted again now (a manual retry), or 409 saying why it cannot be."""
    try:
        return services.delivery_retry(hook=hook, delivery=delivery)
    except dispatch.DeliveryNotRetryable as refused:
        if refused.status is None:
            raise Conflict("The hook is disabled: enable it to retry its deliveries.") from None
        raise Conflict(f"Only a failed delivery can be retried; this one is {refused.status}.") from None


def _delivery(request, hook_id: str, delivery_id: str):
    """The hook and its delivery, or 404 for either."""
    hook = _hook(request, hook_id)
    delivery = selectors.delivery_get(tenant_id=request.user.tenant_id, hook_id=hook_id, delivery_id=delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    return hook, delivery


@extend_schema_view(
    create=extend_schema(
        summary="Subscribe an endpoint",
        description=HOOKS_SCOPE,
        request=HookCreateSerializer,
        responses=api_responses({201: CreatedHookSerializer}, 400, 401, 403, 503),
    ),
    list=extend_schema(
        summary="List hooks",
        description=HOOKS_SCOPE,
        operation_id="hooks_list",
        parameters=[PageQuerySerializer],
        responses=api_responses({200: HookPageSerializer}, 400, 401, 403, 503),
    ),
    retrieve=extend_schema(
        summary="Get a hook",
        description=HOOKS_SCOPE,
        parameters=[HOOK_ID],
        responses=api_responses({200: HookSerializer}, 401, 403, 404, 503),
    ),
    partial_update=extend_schema(
        summary="Change a hook",
        description=HOOKS_SCOPE,
        parameters=[HOOK_ID],
        request=HookUpdateSerializer,
        responses=api_responses({200: HookSerializer}, 400, 401, 403, 404, 503),
    ),
    destroy=extend_schema(
        summary="Delete a hook",
        description=HOOKS_SCOPE,
        parameters=[HOOK_ID],
        responses=api_responses({204: None}, 401, 403, 404, 503),
    ),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret",
        description=HOOKS_SCOPE,
        parameters=[HOOK_ID],
        request=None,
        responses=api_responses({200: SecretSerializer}, 401, 403, 404, 503),
    ),
    test=extend_schema(
        summary="Send a test event now",
        description=HOOKS_SCOPE + IN_REQUEST,
        parameters=[HOOK_ID],
        request=None,
        responses=api_responses({200: TestResultSerializer}, 401, 403, 404, 409, 503),
    ),
    deliveries=extend_schema(
        summary="List a hook's deliveries",
        description=HOOKS_SCOPE,
        parameters=[HOOK_ID, DeliveryQuerySerializer],
        responses=api_responses({200: DeliveryPageSerializer}, 400, 401, 403, 404, 503),
    ),
    delivery=extend_schema(
        summary="Get one of a hook's deliveries",
        description=HOOKS_SCOPE,
        operation_id="hooks_delivery_retrieve",
        parameters=[HOOK_ID, DELIVERY_ID],
        responses=api_responses({200: DeliverySerializer}, 401, 403, 404, 503),
    ),
    delivery_attempts=extend_schema(
        summary="List a delivery's attempts",
        description=HOOKS_SCOPE + " Every attempt made, oldest first; an attempt in progress is listed once it ends.",
        parameters=[HOOK_ID, DELIVERY_ID],
        responses=api_responses({200: AttemptListSerializer}, 401, 403, 404, 503),
    ),
    retry_delivery=extend_schema(
        summary="Attempt a failed delivery again now",
        description=HOOKS_SCOPE + IN_REQUEST,
        parameters=[HOOK_ID, DELIVERY_ID],
        request=None,
        responses=api_responses({200: DeliverySerializer}, 401, 403, 404, 409, 503),
    ),
)
class HookViewSet(PagedViewSetMixin, viewsets.ViewSet):
    """A tenant's hooks: endpoints each new event is pushed to, signed, with retries."""

    lookup_field = "hook_id"
    lookup_value_regex = "[^/]+"
    # Not `consume`: a worker's key must not be able to point the tenant's events at a new URL.
    default_scope = "hooks"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request):
        data = validated(HookCreateSerializer, request_json(request, max_bytes=MAX_HOOK_BYTES))
        created = hook_created(request.user, data)
        return Response(CreatedHookSerializer(created).data, status=status.HTTP_201_CREATED)

    def list(self, request):
        page = selectors.hooks_list(
            tenant_id=request.user.tenant_id, **validated(PageQuerySerializer, request.query_params)
        )
        return self.paged(page, HookPageSerializer)

    def retrieve(self, request, hook_id: str):
        return Response(HookSerializer(_hook(request, hook_id)).data)

    def partial_update(self, request, hook_id: str):
        changes = validated(HookUpdateSerializer, request_json(request, max_bytes=MAX_HOOK_BYTES))
        hook = services.hook_update(tenant_id=request.user.tenant_id, hook_id=hook_id, changes=changes)
        return Response(HookSerializer(hook).data)

    def destroy(self, request, hook_id: str):
        services.hook_delete(tenant_id=request.user.tenant_id, hook_id=hook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, hook_id: str):
        secret = services.hook_rotate_secret(tenant_id=request.user.tenant_id, hook_id=hook_id)
        return Response(SecretSerializer({"secret": secret}).data)

    @action(detail=True, methods=["post"])
    def test(self, request, hook_id: str):
        result = services.hook_test(tenant_id=request.user.tenant_id, hook_id=hook_id)
        return Response(TestResultSerializer(result).data)

    @action(detail=True, methods=["get"])
    def deliveries(self, request, hook_id: str):
        _hook(request, hook_id)
        query = validated(DeliveryQuerySerializer, request.query_params)
        page = selectors.deliveries_list(tenant_id=request.user.tenant_id, hook_id=hook_id, **query)
        return self.paged(page, DeliveryPageSerializer)

    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>[^/]+)")
    def delivery(self, request, hook_id: str, delivery_id: str):
        _, delivery = _delivery(request, hook_id, delivery_id)
        return Response(DeliverySerializer(delivery).data)

    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>[^/]+)/attempts")
    def delivery_attempts(self, request, hook_id: str, delivery_id: str):
        _, delivery = _delivery(request, hook_id, delivery_id)
        found = attempts.attempts_of_delivery(
            tenant_id=request.user.tenant_id, hook_id=hook_id, event_id=delivery.event_id
        )
        return Response(AttemptListSerializer({"attempts": found}).data)

    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/]+)/retry")
    def retry_delivery(self, request, hook_id: str, delivery_id: str):
        hook, delivery = _delivery(request, hook_id, delivery_id)
        return Response(DeliverySerializer(delivery_retried(hook, delivery)).data)
