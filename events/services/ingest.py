"""Ingest: single events and batches, optionally under an Idempotency-Key (kept 24 h).

A single event and its idempotency record are written in one transaction, so a record
always means a stored event. A batch can be 100 events, one more than a transaction holds,
so its record is written first as `pending` (with the ids it will use), then the events,
then the record becomes `complete`; a retry that finds a pending record whose writer has
gone finishes the batch with the same ids.

Every write carries a token (triggerapi.writes), so a write whose answer was lost and was
retried recognises its own first attempt instead of mistaking it for another request's."""

import json
import time
from dataclasses import dataclass, field

from events.ids import new_event_ids
from events.lifecycle import as_datetime, new_event
from events.models import UNDELIVERED, Event, IdempotencyRecord
from events.payloads import request_fingerprint
from events.services import wakeups
from events.services.batch_write import put_all, put_each_if_absent
from events.services.idempotency import (
    BATCH_LEASE_MS,
    COMPLETE,
    PENDING,
    earlier_receipts,
    get_record,
    new_record,
    record_from,
    record_update,
    still_pending,
    take_over,
)
from triggerapi import metrics, writes
from triggerapi.exceptions import write_unavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, TransactionCanceled, now_ms

# A duplicate of a batch still being written waits this long for it before answering 503.
WAIT_FOR_PENDING_SECONDS = 3.0


@dataclass
class Ingested:
    receipts: list[dict]
    # True when these are an earlier request's receipts, answered again under its key.
    answered_again: bool = field(default=False)


def _receipt(event: Event) -> dict:
    return {"id": event.event_id, "created_at": event.created_at, "status": UNDELIVERED}


def _key_is_free():
    """No record under this key, or only one past its 24 h (DynamoDB deletes lazily)."""
    return IdempotencyRecord.record_key.does_not_exist() | (IdempotencyRecord.expires_at < as_datetime(now_ms()))


def _ingested(record: IdempotencyRecord, fingerprint: str) -> Ingested:
    """What an earlier request with this key produced, or why it cannot be had."""
    receipts = earlier_receipts(record, fingerprint)
    if receipts is None:
        raise still_pending(record)
    return Ingested(receipts, answered_again=True)


def event_create(*, tenant_id: str, payload: dict, idempotency_key: str | None = None) -> Ingested:
    ingested = _create(tenant_id, payload, idempotency_key)
    _ingested_count(tenant_id, ingested)
    wakeups.notify(tenant_id)
    return ingested


def event_create_batch(*, tenant_id: str, payloads: list[dict], idempotency_key: str | None = None) -> Ingested:
    ingested = _create_batch(tenant_id, payloads, idempotency_key)
    _ingested_count(tenant_id, ingested)
    wakeups.notify(tenant_id)
    return ingested


def _ingested_count(tenant_id: str, ingested: Ingested) -> None:
    """An earlier request's receipts answered again are not new events."""
    if not ingested.answered_again:
        metrics.count("Ingested", tenant=tenant_id, n=len(ingested.receipts))


def _create(tenant_id: str, payload: dict, idempotency_key: str | None) -> Ingested:
    event = new_event(tenant_id, new_event_ids(1)[0], payload)
    if idempotency_key is None:
        writes.put(event, condition=Event.event_id.does_not_exist(), token=writes.new_token())
        return Ingested([_receipt(event)])

    fingerprint = request_fingerprint("event", payload)
    record = new_record(tenant_id, idempotency_key, fingerprint, COMPLETE, [_receipt(event)])
    # Twice at most: a record that expires between our write and our read frees the key.
    for _ in range(2):
        try:
            writes.transact_put(
                [(record, _key_is_free()), (event, Event.event_id.does_not_exist())], token=writes.new_token()
            )
            return Ingested([_receipt(event)])
        except TransactionCanceled as exc:
            existing = record_from(exc.items[0]) or get_record(tenant_id, idempotency_key)
            if existing is not None:
                return _ingested(existing, fingerprint)
    raise write_unavailable(maybe_applied=False)


def _create_batch(tenant_id: str, payloads: list[dict], idempotency_key: str | None) -> Ingested:
    ids = new_event_ids(len(payloads))
    events = [new_event(tenant_id, event_id, payload) for event_id, payload in zip(ids, payloads, strict=True)]
    receipts = [_receipt(event) for event in events]
    if idempotency_key is None:
        put_all(events)
        return Ingested(receipts)

    fingerprint = request_fingerprint("batch", payloads)
    record = new_record(tenant_id, idempotency_key, fingerprint, PENDING, receipts, now_ms() + BATCH_LEASE_MS)
    try:
        writes.put(record, condition=_key_is_free(), token=writes.new_token())
    except ConditionFailed as exc:
        return _resume_batch(tenant_id, idempotency_key, fingerprint, payloads, record_from(exc.item))
    except StoreUnavailable:
        # Not one event was written; a pending record may have been, and a retry resumes it.
        raise write_unavailable(maybe_applied=False) from None
    _store_batch(record, events, put_all)
    return Ingested(receipts)


def _store_batch(record: IdempotencyRecord, events: list[Event], put) -> None:
    try:
        put(events)
    except Exception:
        record_update(record, lease_until=0)  # a retry with the key may finish the batch at once
        raise
    record_update(record, state=COMPLETE)


def _resume_batch(
    tenant_id: str, key: str, fingerprint: str, payloads: list[dict], record: IdempotencyRecord | None
) -> Ingested:
    """Another request holds this key: answer with its outcome, wait for it, or finish its work
    if it has gone (its lease ran out), using the ids it recorded."""
    deadline = time.monotonic() + WAIT_FOR_PENDING_SECONDS
    while True:
        if record is None:
            return _create_batch(tenant_id, payloads, key)
        receipts = earlier_receipts(record, fingerprint)
        if receipts is not None:
            return Ingested(receipts, answered_again=True)
        if record.lease_until <= now_ms() and take_over(record):
            receipts = json.loads(record.response)
            events = [new_event(tenant_id, r["id"], p) for r, p in zip(receipts, payloads, strict=True)]
            _store_batch(record, events, put_each_if_absent)
            return Ingested(receipts, answered_again=True)
        if time.monotonic() >= deadline:
            raise still_pending(record)
        time.sleep(0.1)
        record = get_record(tenant_id, key)
