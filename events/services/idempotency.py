"""Idempotency records: what a request with an Idempotency-Key produced, kept 24 h."""

import json
import logging
import math

from django.conf import settings

from events.lifecycle import DAY_MS, as_datetime
from events.models import IdempotencyRecord
from triggerapi import store, writes
from triggerapi.exceptions import UNKNOWN, IdempotencyKeyReused, ServiceUnavailable
from triggerapi.store import ConditionFailed, StoreUnavailable, now_ms

logger = logging.getLogger(__name__)

PENDING = "pending"
COMPLETE = "complete"
# A batch's record is leased to the request writing it for longer than a request can go on
# writing (no store attempt starts after STORE_BUDGET_SECONDS, and one attempt lasts at most
# connect + read timeout), so a duplicate never takes over from a writer that is alive.
BATCH_LEASE_MS = (
    int(
        1000
        * (settings.STORE_BUDGET_SECONDS + settings.STORE_CONNECT_TIMEOUT_SECONDS + settings.STORE_READ_TIMEOUT_SECONDS)
    )
    + 5_000
)


def new_record(
    tenant_id: str, key: str, fingerprint: str, state: str, receipts: list[dict], lease_until: int = 0
) -> IdempotencyRecord:
    return IdempotencyRecord(
        tenant_id,
        IdempotencyRecord.key_for(key),
        request_hash=fingerprint,
        state=state,
        response=json.dumps(receipts),
        lease_until=lease_until,
        expires_at=as_datetime(now_ms() + DAY_MS),
    )


def record_from(item: dict | None) -> IdempotencyRecord | None:
    """The record a failed condition sent back, if it is one still within its 24 h."""
    if not item:
        return None
    record = IdempotencyRecord.from_raw_data(item)
    return record if record.expires_at > as_datetime(now_ms()) else None


def get_record(tenant_id: str, key: str) -> IdempotencyRecord | None:
    try:
        record = store.call(
            lambda: IdempotencyRecord.get(tenant_id, IdempotencyRecord.key_for(key), consistent_read=True),
            what="GetItem IdempotencyRecord",
        )
    except IdempotencyRecord.DoesNotExist:
        return None
    return record if record.expires_at > as_datetime(now_ms()) else None


def earlier_receipts(record: IdempotencyRecord, fingerprint: str) -> list[dict] | None:
    """The original receipts, or None while the original request is still writing."""
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if record.state == COMPLETE:
        return json.loads(record.response)
    return None


def still_pending(record: IdempotencyRecord) -> ServiceUnavailable:
    """A batch under this key is still being written by another request (or was, until it
    failed): some of its events may be stored; a retry after its lease finishes it."""
    wait = max(1, math.ceil((record.lease_until - now_ms()) / 1000))
    return ServiceUnavailable(
        f"An earlier request with this Idempotency-Key is still storing its batch; retry in {wait} s to get its "
        "outcome (the retry finishes the batch if that request has gone).",
        details={"write": UNKNOWN},
        retry_after=wait,
    )


def take_over(record: IdempotencyRecord) -> bool:
    """Lease a pending record whose writer has gone; False if another request did first."""
    try:
        writes.update(
            IdempotencyRecord,
            record.tenant_id,
            record.record_key,
            actions=[IdempotencyRecord.lease_until.set(now_ms() + BATCH_LEASE_MS)],
            condition=(IdempotencyRecord.state == PENDING) & (IdempotencyRecord.lease_until == record.lease_until),
            token=writes.new_token(),
            return_item=False,
        )
    except ConditionFailed:
        return False
    return True


def record_update(record: IdempotencyRecord, *, state: str = PENDING, lease_until: int | None = None) -> None:
    """Best effort: if this write fails, the lease runs out and a retry finishes the job."""
    actions = [IdempotencyRecord.state.set(state)]
    if lease_until is not None:
        actions.append(IdempotencyRecord.lease_until.set(lease_until))
    try:
        writes.update(
            IdempotencyRecord,
            record.tenant_id,
            record.record_key,
            actions=actions,
            condition=IdempotencyRecord.record_key.exists(),
            token=None,
            return_item=False,
        )
    except ConditionFailed:
        pass  # gone past its 24 h: nothing to update
    except StoreUnavailable as exc:
        logger.warning("Could not update idempotency record %s: %s", record.record_key, exc)
