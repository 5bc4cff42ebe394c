"""Ingest: single events and batches, optionally under an Idempotency-Key (kept 24 h).

A single event and its idempotency record are written in one transaction, so a record
always means a stored event. A batch can be 100 events, one more than a transaction holds,
so its record is written first as `pending` (with the ids it will use), then the events,
then the record becomes `complete`; a retry that finds a pending record whose writer has
gone finishes the batch with the same ids."""

import json
import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from events.ids import created_at_of, new_event_ids
from events.models import UNDELIVERED, Event, IdempotencyRecord, inbox_key
from events.parsers import canonical_json, request_fingerprint
from events.services.batch_write import put_all, put_each_if_absent
from events.services.common import DAY_MS, as_datetime
from triggerapi.exceptions import Conflict, IdempotencyKeyReused, ServiceUnavailable, uncertain_write
from triggerapi.store import is_condition_failure, now_ms

logger = logging.getLogger(__name__)

PENDING = "pending"
COMPLETE = "complete"
# Longer than any request can run (API Gateway gives up after 29 s).
BATCH_LEASE_MS = 60_000
# How long a duplicate waits for an in-flight batch with its key before answering 409.
WAIT_FOR_PENDING_SECONDS = 3.0
TRANSACTION_ATTEMPTS = 5


@dataclass
class Ingested:
    receipts: list[dict]
    replayed: bool = field(default=False)


def _build(tenant_id: str, event_id: str, payload: dict) -> Event:
    created_at = created_at_of(event_id)
    event_type = payload.get("event_type")
    return Event(
        tenant_id,
        event_id,
        created_at=created_at,
        status=UNDELIVERED,
        payload=canonical_json(payload),
        event_type=event_type if isinstance(event_type, str) else None,
        attempts=0,
        expires_at=as_datetime(created_at + settings.RETENTION_DAYS * DAY_MS),
        tenant_status=f"{tenant_id}#{UNDELIVERED}",
        inbox_tenant=tenant_id,
        inbox_key=inbox_key(created_at, event_id),
    )


def _receipt(event: Event) -> dict:
    return {"id": event.event_id, "created_at": event.created_at, "status": UNDELIVERED}


def _record(tenant_id: str, key: str, fingerprint: str, state: str, receipts: list[dict], lease_until: int = 0):
    return IdempotencyRecord(
        tenant_id,
        IdempotencyRecord.key_for(key),
        request_hash=fingerprint,
        state=state,
        response=json.dumps(receipts),
        lease_until=lease_until,
        expires_at=as_datetime(now_ms() + DAY_MS),
    )


def _key_is_free():
    """No record under this key, or only one past its 24 h (DynamoDB deletes lazily)."""
    return IdempotencyRecord.record_key.does_not_exist() | (IdempotencyRecord.expires_at < as_datetime(now_ms()))


def _replay(record: IdempotencyRecord, fingerprint: str) -> Ingested | None:
    """The original outcome, or None while the original request is still writing."""
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if record.state == COMPLETE:
        return Ingested(json.loads(record.response), replayed=True)
    return None


def event_create(*, tenant_id: str, payload: dict, idempotency_key: str | None = None) -> Ingested:
    event = _build(tenant_id, new_event_ids(1)[0], payload)
    if idempotency_key is None:
        with uncertain_write():
            event.save(condition=Event.event_id.does_not_exist())
        return Ingested([_receipt(event)])

    fingerprint = request_fingerprint("event", payload)
    record = _record(tenant_id, idempotency_key, fingerprint, COMPLETE, [_receipt(event)])
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            with uncertain_write(), TransactWrite(connection=Event._get_connection().connection) as tx:
                tx.save(record, condition=_key_is_free(), return_values="ALL_OLD")
                tx.save(event, condition=Event.event_id.does_not_exist())
            return Ingested([_receipt(event)])
        except TransactWriteError as exc:
            reason = (exc.cancellation_reasons or [None])[0]
            if reason is not None and reason.code == "ConditionalCheckFailed":
                existing = (
                    IdempotencyRecord.from_raw_data(reason.raw_item)
                    if reason.raw_item
                    else _get_record(tenant_id, idempotency_key)
                )
                replay = existing and _replay(existing, fingerprint)
                if replay:
                    return replay
            # A concurrent transaction on the same key: it will have settled in a moment.
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise ServiceUnavailable("Too much contention on this Idempotency-Key; retry.")


def _get_record(tenant_id: str, key: str) -> IdempotencyRecord | None:
    try:
        record = IdempotencyRecord.get(tenant_id, IdempotencyRecord.key_for(key), consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
    return record if record.expires_at > as_datetime(now_ms()) else None


def event_create_batch(*, tenant_id: str, payloads: list[dict], idempotency_key: str | None = None) -> Ingested:
    ids = new_event_ids(len(payloads))
    events = [_build(tenant_id, event_id, payload) for event_id, payload in zip(ids, payloads, strict=True)]
    receipts = [_receipt(event) for event in events]
    if idempotency_key is None:
        put_all(events)
        return Ingested(receipts)

    fingerprint = request_fingerprint("batch", payloads)
    record = _record(tenant_id, idempotency_key, fingerprint, PENDING, receipts, now_ms() + BATCH_LEASE_MS)
    try:
        with uncertain_write("The store did not confirm the write; nothing was stored. Retry."):
            record.save(condition=_key_is_free())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return _resume_batch(tenant_id, idempotency_key, fingerprint, payloads)
    try:
        put_all(events)
    except ServiceUnavailable:
        _settle(record, lease_until=0)
        raise
    _settle(record, state=COMPLETE)
    return Ingested(receipts)


def _resume_batch(tenant_id: str, key: str, fingerprint: str, payloads: list[dict]) -> Ingested:
    """Another request holds this key: replay its outcome, wait for it, or finish its work
    if it has gone (its lease ran out), using the ids it recorded."""
    deadline = time.monotonic() + WAIT_FOR_PENDING_SECONDS
    while True:
        record = _get_record(tenant_id, key)
        if record is None:
            return event_create_batch(tenant_id=tenant_id, payloads=payloads, idempotency_key=key)
        replay = _replay(record, fingerprint)
        if replay:
            return replay
        if record.lease_until <= now_ms() and _take_over(record):
            receipts = json.loads(record.response)
            put_each_if_absent([_build(tenant_id, r["id"], p) for r, p in zip(receipts, payloads, strict=True)])
            _settle(record, state=COMPLETE)
            return Ingested(receipts, replayed=True)
        if time.monotonic() > deadline:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
        time.sleep(0.1)


def _take_over(record: IdempotencyRecord) -> bool:
    try:
        record.update(
            actions=[IdempotencyRecord.lease_until.set(now_ms() + BATCH_LEASE_MS)],
            condition=(IdempotencyRecord.state == PENDING) & (IdempotencyRecord.lease_until == record.lease_until),
        )
        return True
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            return False
        raise


def _settle(record: IdempotencyRecord, *, state: str = PENDING, lease_until: int | None = None) -> None:
    """Best effort: if this write fails, the lease runs out and a retry finishes the job."""
    actions = [IdempotencyRecord.state.set(state)]
    if lease_until is not None:
        actions.append(IdempotencyRecord.lease_until.set(lease_until))
    try:
        record.update(actions=actions)
    except PynamoDBException as exc:
        logger.warning("Could not update idempotency record %s: %s", record.record_key, exc)
