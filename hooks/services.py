"""Hooks: create, change, delete, rotate the secret, send a test. Each write is conditional
and carries a token (triggerapi.writes), so a write whose answer was lost and that was
retried recognises its own first attempt; when that cannot be told, a 503 says so."""

from dataclasses import dataclass

from rest_framework.exceptions import NotFound, ValidationError

from events.ids import new_event_ids
from events.lifecycle import new_event
from hooks import dispatch, fanout, outcomes, vault
from hooks.addresses import TargetRefused, target_check
from hooks.attempt import AttemptResult, attempt_deliver
from hooks.ids import is_hook_id, new_hook_id
from hooks.models import ACTIVE, DISABLED, MANUAL, Delivery, Hook, HookCount
from hooks.selectors import hook_get
from hooks.signing import secret_generate
from limits.hook_calls import LIMIT, hook_call_place
from triggerapi import writes
from triggerapi.exceptions import NOT_APPLIED, Conflict, RateLimited, ServiceUnavailable, write_unavailable
from triggerapi.store import ConditionFailed, TransactionCanceled, now_ms

MAX_HOOKS = 100
ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000
TEST_EVENT_TYPE = "triggerapi.test"
TEST_INTERVAL_MS = 5_000


class HookNotFound(NotFound):
    def __init__(self, hook_id: str):
        super().__init__(f"Hook {hook_id[:64]} not found.")


@dataclass
class CreatedHook:
    hook: Hook
    secret: str


def target_valid(target_url: str) -> str:
    try:
        target_check(url=target_url)
    except TargetRefused as refused:
        raise ValidationError({"target_url": [str(refused)]}) from None
    return target_url


def hook_create(
    *,
    tenant_id: str,
    target_url: str,
    event_types: list[str],
    description: str | None,
    created_by: str,
    rate_limit: int | None = None,
) -> CreatedHook:
    """The hook and the tenant's hook count change together (one transaction): the 101st
    hook is refused however many are created at once."""
    target_valid(target_url)
    now = now_ms()
    hook_id = new_hook_id()
    secret = secret_generate()
    hook = Hook(
        tenant_id,
        Hook.key_for(hook_id),
        hook_id=hook_id,
        target_url=target_url,
        event_types=list(event_types),
        description=description,
        rate_limit=rate_limit,
        status=ACTIVE,
        secret=vault.seal(secret),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    token = writes.new_token()
    count = writes.tx_update(
        HookCount,
        tenant_id,
        HookCount.sk.default,
        actions=[HookCount.count.add(1)],
        condition=HookCount.count.does_not_exist() | (HookCount.count < MAX_HOOKS),
        token=token,
    )
    try:
        writes.transact(Hook, [writes.tx_put(hook, Hook.sk.does_not_exist(), token=token), count], token=token)
    except TransactionCanceled as exc:
        if exc.failed[1]:
            raise ValidationError(
                {"hooks": [f"A tenant may have at most {MAX_HOOKS} hooks: delete one to create another."]}
            ) from None
        raise write_unavailable(maybe_applied=exc.uncertain) from None
    return CreatedHook(hook, secret)


def hook_found(*, tenant_id: str, hook_id: str) -> Hook:
    """The tenant's hook, or 404 (another tenant's hook is not found either)."""
    hook = hook_get(tenant_id=tenant_id, hook_id=hook_id)
    if hook is None:
        raise HookNotFound(hook_id)
    return hook


def hook_update(*, tenant_id: str, hook_id: str, changes: dict) -> Hook:
    """Changes any of target_url, event_types, description, rate_limit, status. Disabling by hand says
    `manual`; re-enabling clears the reason and the failure streak, and pending deliveries
    the hook held back go back on their schedule."""
    if not is_hook_id(hook_id):
        raise HookNotFound(hook_id)
    if "target_url" in changes:
        target_valid(changes["target_url"])
    now = now_ms()
    actions = [Hook.updated_at.set(now)]
    for field in ("target_url", "event_types", "description", "rate_limit"):
        if field in changes:
            value = changes[field]
            attribute = getattr(Hook, field)
            actions.append(attribute.remove() if value is None else attribute.set(value))
    status = changes.get("status")
    if status == DISABLED:
        # Keep the first reason (gone, failing) if it was already disabled.
        actions += [Hook.status.set(DISABLED), Hook.disabled_reason.set(Hook.disabled_reason | MANUAL)]
    elif status == ACTIVE:
        actions += [Hook.status.set(ACTIVE), Hook.disabled_reason.remove(), Hook.failing_since.remove()]
    try:
        item = writes.update(
            Hook,
            tenant_id,
            Hook.key_for(hook_id),
            actions=actions,
            condition=Hook.sk.exists(),
            token=writes.new_token(),
        )
    except ConditionFailed as exc:
        if exc.uncertain:
            raise write_unavailable(maybe_applied=True) from None
        raise HookNotFound(hook_id) from None
    hook = Hook.from_raw_data(item)
    if status == ACTIVE:
        outcomes.resume(hook)
    return hook


def hook_delete(*, tenant_id: str, hook_id: str) -> None:
    """The hook goes, and with it every attempt not yet started: an attempt starts only
    after a check, in the same transaction that claims it, that the hook is active."""
    if not is_hook_id(hook_id):
        raise HookNotFound(hook_id)
    token = writes.new_token()
    items = [
        writes.tx_delete(Hook, tenant_id, Hook.key_for(hook_id), condition=Hook.sk.exists()),
        writes.tx_update(
            HookCount,
            tenant_id,
            HookCount.sk.default,
            actions=[HookCount.count.add(-1)],
            # Fails on a retry of this very delete (the count holds its token): the store then
            # sends the count back, and the token in it says the first attempt was applied.
            condition=(HookCount.count > 0) & (HookCount.write_token != token),
            token=token,
        ),
    ]
    try:
        writes.transact(Hook, items, token=token)
    except TransactionCanceled as exc:
        if exc.uncertain:
            raise write_unavailable(maybe_applied=True) from None
        raise HookNotFound(hook_id) from None


def hook_rotate_secret(*, tenant_id: str, hook_id: str) -> str:
    """A new secret; the current one keeps signing beside it for 24 h. Conditional on the
    secret read, so two rotations at once cannot both keep "the previous" one."""
    hook = hook_found(tenant_id=tenant_id, hook_id=hook_id)
    secret = secret_generate()
    now = now_ms()
    try:
        writes.update(
            Hook,
            tenant_id,
            hook.sk,
            actions=[
                Hook.secret.set(vault.seal(secret)),
                Hook.previous_secret.set(hook.secret),
                Hook.previous_secret_until.set(now + ROTATION_OVERLAP_MS),
                Hook.updated_at.set(now),
            ],
            condition=Hook.secret == hook.secret,
            token=writes.new_token(),
            return_item=False,
        )
    except ConditionFailed as exc:
        if exc.item is None and not exc.uncertain:
            raise HookNotFound(hook_id) from None
        raise write_unavailable(maybe_applied=exc.uncertain, retry_after=0) from None
    return secret


SECRET_UNOPENED = (
    "This server cannot open the hook's signing secret with its SECRET_KEY or SECRET_KEY_FALLBACKS; nothing was "
    "sent. The operator must restore the key the secret was sealed with (or reseal the secrets)."
)


def hook_test(*, tenant_id: str, hook_id: str) -> AttemptResult:
    """Sends a `triggerapi.test` event now, rendered and signed as a delivery is (so a
    receiver parses it as it will the real ones); no event or delivery is stored. A disabled
    hook gets nothing, as no delivery is attempted to it (409, as a manual retry). The call
    holds one of the tenant's places (limits.hook_calls), and a hook is tested at most once
    per TEST_INTERVAL_MS (429 `hook_test` otherwise): a request thread is held for as long
    as the target takes to answer."""
    hook = hook_found(tenant_id=tenant_id, hook_id=hook_id)
    if hook.status != ACTIVE:
        raise Conflict("The hook is disabled: enable it to send a test.")
    try:
        secrets = dispatch.secrets_of(hook, now_ms())
    except ValueError:
        # The server's keys, not the request, are wrong: nothing is sent, and nothing a
        # client sends differently would help (the readiness check says the same).
        raise ServiceUnavailable(SECRET_UNOPENED, details={"write": NOT_APPLIED}, retry_after=60) from None
    with hook_call_place(tenant_id=tenant_id):
        _test_turn_take(hook)
        payload = {"event_type": TEST_EVENT_TYPE, "hook_id": hook.hook_id}
        event = new_event(tenant_id, new_event_ids()[0], payload)
        return attempt_deliver(
            target_url=hook.target_url,
            event_id=event.event_id,
            body=fanout.event_body(event),
            secrets=secrets,
            attempt=1,
        )


def _test_turn_take(hook: Hook) -> None:
    """This hook's turn to be tested: one write, conditional on its last test being at least
    TEST_INTERVAL_MS ago, so two processes never both send one. Taken after the tenant's
    place, so a test refused for want of a place leaves the hook's turn as it was."""
    now = now_ms()
    since = Hook.tested_at.does_not_exist() | (Hook.tested_at <= now - TEST_INTERVAL_MS)
    try:
        writes.update(
            Hook,
            hook.tenant_id,
            hook.sk,
            actions=[Hook.tested_at.set(now)],
            condition=Hook.sk.exists() & since,
            token=writes.new_token(),
            return_item=False,
        )
    except ConditionFailed as exc:
        if exc.item is None:
            raise HookNotFound(hook.hook_id) from None
        tested_at = int(exc.item.get("tested_at", {}).get("N", now))
        raise RateLimited(
            limit=LIMIT,
            retry_after=(tested_at + TEST_INTERVAL_MS - now) / 1000,
            message=f"This hook was tested less than {TEST_INTERVAL_MS // 1000} s ago; retry after the given delay.",
        ) from None


def delivery_retry(*, hook: Hook, delivery: Delivery) -> Delivery:
    """A manual retry attempts the delivery within the request: it holds one of the tenant's
    places for webhook calls (limits.hook_calls) while it runs."""
    with hook_call_place(tenant_id=hook.tenant_id):
        return dispatch.delivery_retry(hook, delivery)
