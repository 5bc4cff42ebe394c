"""What a tenant sees, read in a bounded number of store calls whatever its size (OBSERVE.md):
never a COUNT query, never a scan. `/v1/stats` is three calls: one BatchGetItem (the
counters and the buckets of the windows), the tenant's hooks, and the oldest undelivered
event (the status index, oldest first); `/v1/stats/series` one Query of the buckets (and
the hook's GetItem with `hook_id`)."""

from collections import Counter
from dataclasses import dataclass

from activity import latency
from activity.models import (
    ATTEMPTS_FAILED,
    ATTEMPTS_SUCCEEDED,
    DELIVERED,
    DELIVERIES_FAILED,
    HOUR,
    INGESTED,
    MINUTE,
    PENDING,
    QUARTER,
    STEP_MS,
    Activity,
    bucket_sk,
    bucket_start,
    counters_key,
    series_pk,
)
from events.models import UNDELIVERED, Event
from hooks.selectors import hooks_all
from triggerapi.store import call, client, now_ms

TABLE = Activity.Meta.table_name
# The oldest undelivered event is the first of the status index; a few more are read in case
# the first ones expired and await their TTL.
OLDEST_READ = 10
WINDOWS = {"1h": (MINUTE, 60), "24h": (QUARTER, 96), "7d": (HOUR, 168)}
SERIES_ATTRIBUTE = {
    "ingested": INGESTED,
    "delivered": DELIVERED,
    "failed": "failed",
    "attempts_succeeded": ATTEMPTS_SUCCEEDED,
    "attempts_failed": ATTEMPTS_FAILED,
}
HOOK_METRICS = ("attempts_succeeded", "attempts_failed")


@dataclass
class Buckets:
    """The counts of consecutive steps, the current one last."""

    items: list[dict]

    def total(self, name: str) -> int:
        return sum(int(item.get(name, {}).get("N", "0")) for item in self.items)

    def bins(self, prefix: str) -> Counter:
        found = Counter()
        for item in self.items:
            for name, value in item.items():
                if name.startswith(prefix):
                    found[int(name[len(prefix) :])] += int(value["N"])
        return found


def _starts(step: str, count: int, now: int) -> list[int]:
    last = bucket_start(step, now)
    return [last - (count - 1 - n) * STEP_MS[step] for n in range(count)]


def _batch_get(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """One BatchGetItem (up to 100 keys); keys the store leaves unprocessed are asked again."""
    found: dict[tuple[str, str], dict] = {}
    wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
    while wanted:
        response = call(
            lambda w=wanted: client(Activity).batch_get_item(RequestItems={TABLE: {"Keys": w}}),
            what="BatchGetItem Activity",
        )
        for item in response.get("Responses", {}).get(TABLE, []):
            found[(item["pk"]["S"], item["sk"]["S"])] = item
        wanted = response.get("UnprocessedKeys", {}).get(TABLE, {}).get("Keys", [])
    return found


def _oldest_undelivered(tenant_id: str, now: int) -> int | None:
    def read():
        query = Event.status_index.query(f"{tenant_id}#{UNDELIVERED}", limit=OLDEST_READ, page_size=OLDEST_READ)
        return list(query)

    for event in call(read, what="Query oldest undelivered"):
        if event.is_live():
            return max(0, now - event.created_at)
    return None


def stats_get(*, tenant_id: str) -> dict:
    now = now_ms()
    pk = series_pk(tenant_id)
    minutes = [(pk, bucket_sk(MINUTE, start)) for start in _starts(MINUTE, 60, now)]
    hours = [(pk, bucket_sk(HOUR, start)) for start in _starts(HOUR, 24, now)]
    found = _batch_get([counters_key(tenant_id), *minutes, *hours])
    counters = Buckets([found.get(counters_key(tenant_id), {})])
    hour, day = Buckets([found[k] for k in minutes if k in found]), Buckets([found[k] for k in hours if k in found])
    last_minute = Buckets([found[minutes[-1]]] if minutes[-1] in found else [])
    hooks = hooks_all(tenant_id=tenant_id)
    oldest = _oldest_undelivered(tenant_id, now)

    def windows(name: str) -> dict:
        return {"1m": last_minute.total(name), "1h": hour.total(name), "24h": day.total(name)}

    return {
        "as_of": now,
        "events": {
            "undelivered": max(0, counters.total(UNDELIVERED)),
            "failed": max(0, counters.total("failed")),
            "oldest_undelivered_age_ms": oldest,
            "ingested": windows(INGESTED),
            "delivered": windows(DELIVERED),
        },
        "hooks": [_hook_stats(hook, counters, hour, day) for hook in hooks],
    }


def _hook_stats(hook, counters: Buckets, hour: Buckets, day: Buckets) -> dict:
    h = hook.hook_id
    bins = hour.bins(f"l#{h}#")
    return {
        "id": h,
        "status": hook.status,
        "pending": max(0, counters.total(f"{PENDING}#{h}")),
        "succeeded": {"1h": hour.total(f"{ATTEMPTS_SUCCEEDED}#{h}"), "24h": day.total(f"{ATTEMPTS_SUCCEEDED}#{h}")},
        "failed": {"1h": hour.total(f"{DELIVERIES_FAILED}#{h}"), "24h": day.total(f"{DELIVERIES_FAILED}#{h}")},
        "latency_ms": {"p50": latency.percentile(bins, 0.5), "p99": latency.percentile(bins, 0.99)},
    }


def series_get(*, tenant_id: str, metric: str, window: str, hook_id: str | None = None) -> dict:
    """`hook_id` (an attempt metric only) must be the tenant's: the view checks it."""
    [series] = series_of(tenant_id=tenant_id, metrics=[metric], window=window, hook_id=hook_id)
    return series


def series_of(*, tenant_id: str, metrics: list[str], window: str, hook_id: str | None = None) -> list[dict]:
    """Several metrics' series over one window from one query: a bucket holds every count of
    its step (the console's overview draws three)."""
    step, count = WINDOWS[window]
    names = [SERIES_ATTRIBUTE[metric] + (f"#{hook_id}" if hook_id else "") for metric in metrics]
    starts = _starts(step, count, now_ms())
    counts = _bucket_counts(series_pk(tenant_id), step, starts[0], starts[-1], names)
    return [
        {
            "metric": metric,
            "step_seconds": STEP_MS[step] // 1000,
            "points": [[start, counts[name].get(start, 0)] for start in starts],
        }
        for metric, name in zip(metrics, names, strict=True)
    ]


def _bucket_counts(pk: str, step: str, first: int, last: int, names: list[str]) -> dict[str, dict[int, int]]:
    counts: dict[str, dict[int, int]] = {name: {} for name in names}
    aliases = {f"#n{n}": name for n, name in enumerate(names)}
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
        "ExpressionAttributeValues": {
            ":pk": {"S": pk},
            ":first": {"S": bucket_sk(step, first)},
            ":last": {"S": bucket_sk(step, last)},
        },
        "ProjectionExpression": ", ".join(["sk", *aliases]),
        "ExpressionAttributeNames": aliases,
    }
    while True:
        page = call(lambda r=dict(request): client(Activity).query(**r), what="Query Activity buckets")
        for item in page.get("Items", []):
            for name in names:
                counts[name][int(item["sk"]["S"][2:])] = int(item.get(name, {}).get("N", "0"))
        if not page.get("LastEvaluatedKey"):
            return counts
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
