"""Writes. Every read-modify-write is one conditional write (or a transaction)."""

from events.services.claim import event_claim
from events.services.ingest import Ingested, event_create, event_create_batch
from events.services.replay import event_replay
from events.services.settle import (
    event_ack,
    event_ack_many,
    event_delete,
    event_extend,
    event_release,
    event_retry,
)

__all__ = [
    "Ingested",
    "event_ack",
    "event_ack_many",
    "event_claim",
    "event_create",
    "event_create_batch",
    "event_delete",
    "event_extend",
    "event_release",
    "event_replay",
    "event_retry",
]
