"""One table, `{prefix}-Limits`, for what the limits keep in the store:

- a tenant's own limits: pk = the tenant id, sk = `limits` (an absent value: the default);
- token buckets shared by every process: pk = `bucket#<name>#<shard>`, sk = `bucket`. Each
  shard has a partition key of its own, so a tenant far above 1,000 requests/s spreads its
  bucket's writes over several partitions instead of heating one;
- the claims of a tenant waiting at once: pk = `waiting#<tenant>`, sk = `claims`;
- the webhook calls a tenant's requests make at once: pk = `hook_calls#<tenant>`, sk = `calls`.
"""

from django.conf import settings
from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from triggerapi.store import StoreMeta, table_name

LIMITS_KEY = "limits"
BUCKET_KEY = "bucket"
WAITING_KEY = "claims"
HOOK_CALLS_KEY = "calls"


class TenantLimits(Model):
    class Meta(StoreMeta):
        table_name = table_name("Limits")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=LIMITS_KEY)
    rate = NumberAttribute(null=True)
    burst = NumberAttribute(null=True)
    waiting_claims = NumberAttribute(null=True)
    deliveries_per_second = NumberAttribute(null=True)
    updated_at = NumberAttribute(null=True)
    write_token = UnicodeAttribute(null=True)


class Bucket(Model):
    """A token bucket as GCRA keeps it: the theoretical arrival time (`tat`, epoch µs). The
    bucket is full when `tat` is in the past; each token taken moves it on by 1/rate
    (limits/gcra.py). Its calls have short timeouts of their own: a request must not wait
    long for the limiter, which lets it through when the store is slow (limits/buckets.py)."""

    class Meta(StoreMeta):
        table_name = table_name("Limits")
        connect_timeout_seconds = settings.LIMITER_TIMEOUT_SECONDS
        read_timeout_seconds = settings.LIMITER_TIMEOUT_SECONDS

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=BUCKET_KEY)
    tat = NumberAttribute(null=True)
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(name: str, shard: int) -> str:
        return f"bucket#{name}#{shard}"


class WaitingClaims(Model):
    """A tenant's waiting claims: claim id -> when its place is free again at the latest
    (its wait's end plus a grace), so a place held by a killed process comes back. Each
    change adds or removes entries of `holders` (limits.places), never the whole map."""

    class Meta(StoreMeta):
        table_name = table_name("Limits")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=WAITING_KEY)
    holders = MapAttribute(default=dict)
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(tenant_id: str) -> str:
        return f"waiting#{tenant_id}"


class HookCalls(Model):
    """A tenant's webhook calls made inside a request (a hook's test, a manual retry): call
    id -> when its place is free again at the latest (the call's longest time plus a grace),
    kept as WaitingClaims' places are (limits.places)."""

    class Meta(StoreMeta):
        table_name = table_name("Limits")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=HOOK_CALLS_KEY)
    holders = MapAttribute(default=dict)
    write_token = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(tenant_id: str) -> str:
        return f"hook_calls#{tenant_id}"
