"""The hooks' endpoints, as `client.hooks`: the webhooks a tenant subscribes, and their
deliveries. Creating a hook is the only time its signing secret is shown (and rotating it,
the new one): keep it then."""

from collections.abc import Iterator
from functools import partial

from triggerapi_client.models import Attempt, CreatedHook, Delivery, DeliveryPage, Hook, HookPage, TestResult
from triggerapi_client.transport import Transport, every, without_none


class Hooks:
    """Reads and a hook's update are repeated after a 429 or 503 (setting the same fields
    twice is setting them once); creating, deleting, rotating, testing and retrying are
    not, unless the 503 says the write was not applied."""

    def __init__(self, transport: Transport):
        self._transport = transport

    def create(
        self,
        target_url: str,
        *,
        event_types: list[str] | None = None,
        description: str | None = None,
        rate_limit: int | None = None,
    ) -> CreatedHook:
        """`rate_limit`: attempts per second to the hook (1-1000); None: the tenant's pace."""
        body = without_none(
            target_url=target_url, event_types=event_types, description=description, rate_limit=rate_limit
        )
        return CreatedHook.from_json(self._transport.call("POST", "/v1/hooks", body=body, repeatable=False).json())

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> HookPage:
        params = without_none(limit=limit, cursor=cursor)
        return HookPage.from_json(self._transport.call("GET", "/v1/hooks", params=params, repeatable=True).json())

    def iterate(self, *, page_size: int = 100) -> Iterator[Hook]:
        return every(self.list, "hooks", page_size)

    def get(self, hook_id: str) -> Hook:
        return Hook.from_json(self._transport.call("GET", f"/v1/hooks/{hook_id}", repeatable=True).json())

    def update(self, hook_id: str, **changes) -> Hook:
        """Any of `target_url`, `event_types`, `description` and `rate_limit` (None clears
        either) and `status` ("active" or "disabled"; re-enabling clears the failure streak)."""
        response = self._transport.call("PATCH", f"/v1/hooks/{hook_id}", body=changes, repeatable=True)
        return Hook.from_json(response.json())

    def delete(self, hook_id: str) -> None:
        self._transport.call("DELETE", f"/v1/hooks/{hook_id}", repeatable=False)

    def rotate_secret(self, hook_id: str) -> str:
        """The new secret; the old one keeps signing beside it for 24 hours."""
        return self._transport.call("POST", f"/v1/hooks/{hook_id}/rotate-secret", repeatable=False).json()["secret"]

    def test(self, hook_id: str) -> TestResult:
        """Sends a `triggerapi.test` event to the hook now and says how its target answered."""
        return TestResult.from_json(self._transport.call("POST", f"/v1/hooks/{hook_id}/test", repeatable=False).json())

    def list_deliveries(
        self, hook_id: str, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> DeliveryPage:
        params = without_none(status=status, limit=limit, cursor=cursor)
        response = self._transport.call("GET", f"/v1/hooks/{hook_id}/deliveries", params=params, repeatable=True)
        return DeliveryPage.from_json(response.json())

    def iterate_deliveries(
        self, hook_id: str, *, status: str | None = None, page_size: int = 100
    ) -> Iterator[Delivery]:
        return every(partial(self.list_deliveries, hook_id, status=status), "deliveries", page_size)

    def get_delivery(self, hook_id: str, delivery_id: str) -> Delivery:
        """One of the hook's deliveries; NotFound if the id is another hook's."""
        path = f"/v1/hooks/{hook_id}/deliveries/{delivery_id}"
        return Delivery.from_json(self._transport.call("GET", path, repeatable=True).json())

    # Quoted: in this class, `list` is the method above.
    def list_attempts(self, hook_id: str, delivery_id: str) -> "list[Attempt]":
        """Every attempt of one of the hook's deliveries, oldest first; NotFound as
        get_delivery."""
        path = f"/v1/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
        response = self._transport.call("GET", path, repeatable=True)
        return [Attempt.from_json(attempt) for attempt in response.json()["attempts"]]

    def retry_delivery(self, hook_id: str, delivery_id: str) -> Delivery:
        """Attempts a failed delivery again now; 409 (Conflict) unless it failed."""
        path = f"/v1/hooks/{hook_id}/deliveries/{delivery_id}/retry"
        return Delivery.from_json(self._transport.call("POST", path, repeatable=False).json())
