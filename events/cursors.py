"""Pagination cursors: signed, and bound to the tenant and filters they were issued for."""

from django.core import signing
from rest_framework.exceptions import ValidationError

_SALT = "triggerapi.events.cursor"


def cursor_encode(*, tenant_id: str, query: dict, last_event_id: str) -> str:
    return signing.dumps({"t": tenant_id, "q": query, "k": last_event_id}, salt=_SALT, compress=True)


def cursor_decode(*, cursor: str, tenant_id: str, query: dict) -> str:
    """The id of the last event the previous page returned."""
    try:
        data = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("t") != tenant_id or data.get("q") != query or not data.get("k"):
        raise ValidationError({"cursor": ["Invalid cursor: use next_cursor from a previous page of this same query."]})
    return data["k"]
