"""Every attempt of a delivery, kept (OBSERVE.md, Attempts of a delivery): one item per
attempt in the Hooks table, written in the same transaction as the outcome the attempt
leads to (hooks/outcomes.py), so that once no claim is in flight a delivery's attempt items
are exactly attempts 1 to its `attempts`.

Keyed by event, pk `att#<tenant>#<event_id>` and sk `<hook_id>#<attempt:04d>` (the
delivery's `attempts` after the claim that made it): one Query reads every hook's attempts
of an event (its history), and one with the hook's prefix a delivery's, oldest first. An
attempt item lives as long as its delivery (the same `expires_at`)."""

import codecs

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from hooks.models import Delivery
from triggerapi import store
from triggerapi.store import StoreMeta, table_name

# What an attempt keeps of the receiver's answer: the start of it, enough to read an error
# page's message; the whole answer (up to 64 KiB) in every attempt would make the table pay
# for what no one reads.
EXCERPT_BYTES = 1024


class Attempt(Model):
    class Meta(StoreMeta):
        table_name = table_name("Hooks")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    hook_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    attempt = NumberAttribute()
    started_at = NumberAttribute()
    duration_ms = NumberAttribute()
    # None exactly when `error` says why no HTTP answer came (or why no attempt was made).
    status_code = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    response_body_excerpt = UnicodeAttribute(null=True)
    # The schedule's decision after it: succeeded, retry, failed or gone.
    outcome = UnicodeAttribute()
    expires_at = TTLAttribute()
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def pk_for(tenant_id: str, event_id: str) -> str:
        return f"att#{tenant_id}#{event_id}"

    @staticmethod
    def sk_for(hook_id: str, attempt: int) -> str:
        return f"{hook_id}#{attempt:04d}"


# The condition an attempt item is written under: never over another record of the same
# attempt, so that a transaction retried after a lost answer finds its own first write.
NEW = Attempt.pk.does_not_exist()


def excerpt(body: bytes) -> str | None:
    """The first 1 KiB of the answer as text: its first 1024 bytes decoded as UTF-8 (bytes
    that are not UTF-8 replaced, a character cut at the end dropped), then cut to at most
    1024 bytes of UTF-8 (replacement characters are longer than the bytes they replace).
    None for an empty answer."""
    if not body:
        return None
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(body[:EXCERPT_BYTES], final=False)
    return text.encode()[:EXCERPT_BYTES].decode(errors="ignore")


def attempt_item(
    delivery: Delivery,
    *,
    started_at: int,
    duration_ms: int,
    status_code: int | None,
    error: str | None,
    body: bytes,
    outcome: str,
) -> Attempt:
    """The record of the attempt `delivery` (as its claim left it) counts last."""
    return Attempt(
        Attempt.pk_for(delivery.tenant_id, delivery.event_id),
        Attempt.sk_for(delivery.hook_id, delivery.attempts),
        tenant_id=delivery.tenant_id,
        hook_id=delivery.hook_id,
        event_id=delivery.event_id,
        attempt=delivery.attempts,
        started_at=started_at,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error or None,
        response_body_excerpt=excerpt(body) if status_code is not None else None,
        outcome=outcome,
        expires_at=delivery.expires_at,
    )


def _query(pk: str, range_condition, what: str) -> list[Attempt]:
    return store.call(lambda: list(Attempt.query(pk, range_condition, consistent_read=True)), what=what)


def attempts_of_event(*, tenant_id: str, event_id: str) -> list[Attempt]:
    """Every hook's attempts of the event, by hook, each hook's oldest first."""
    return _query(Attempt.pk_for(tenant_id, event_id), None, "Query attempts of an event")


def attempts_of_delivery(*, tenant_id: str, hook_id: str, event_id: str) -> list[Attempt]:
    """The attempts of one hook's delivery of the event, oldest first (sorted here too, so
    a 10,000th attempt, past the key's four digits, still comes last)."""
    found = _query(Attempt.pk_for(tenant_id, event_id), Attempt.sk.startswith(f"{hook_id}#"), "Query attempts")
    return sorted(found, key=lambda attempt: attempt.attempt)
