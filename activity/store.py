"""Raw writes to the activity table: counts kept as attributes named after what they count
(a hook's id among them), which PynamoDB's declared attributes cannot name."""

from collections import Counter

from activity.models import KEEP_MS, Activity
from triggerapi.store import call, client

TABLE = Activity.Meta.table_name


def adds(pk: str, sk: str, counts: Counter, *, expires_at_ms: int | None = None) -> dict | None:
    """A transaction's Update adding `counts` to the item (created if absent); None when
    every count is zero."""
    counts = {name: n for name, n in counts.items() if n}
    if not counts:
        return None
    names = {f"#a{i}": name for i, name in enumerate(counts)}
    values = {f":v{i}": {"N": str(n)} for i, n in enumerate(counts.values())}
    expression = "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(counts)))
    if expires_at_ms is not None:
        names["#exp"] = "expires_at"
        values[":exp"] = {"N": str(expires_at_ms // 1000)}
        expression += " SET #exp = if_not_exists(#exp, :exp)"
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def bucket_expiry(step: str, start_ms: int) -> int:
    return start_ms + KEEP_MS[step]


def put(item: dict, *, if_absent: bool) -> dict:
    request = {"TableName": TABLE, "Item": item}
    if if_absent:
        request["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": request}


def delete(pk: str, sk: str) -> dict:
    return {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}


def transact(items: list[dict], *, token: str) -> None:
    """TransactWriteItems under the store's retry policy (conflicts with another
    transaction are retried there); TransactionCanceled names the conditions that failed."""
    call(
        lambda: client(Activity).transact_write_items(TransactItems=items, ClientRequestToken=token),
        what="TransactWriteItems Activity",
    )


def partition_keys(pk: str) -> list[str]:
    """Every sort key under `pk`, all pages."""
    keys: list[str] = []
    start = None
    while True:
        request = {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ProjectionExpression": "sk",
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = call(lambda r=request: client(Activity).query(**r), what="Query Activity keys")
        keys += [item["sk"]["S"] for item in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if not start:
            return keys


def deletes(pk: str, sks: list[str]) -> None:
    """BatchWriteItem deletes, 25 at a time, until none is left unprocessed."""
    requests = [{"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for sk in sks]
    while requests:
        batch, requests = requests[:25], requests[25:]
        response = call(
            lambda b=batch: client(Activity).batch_write_item(RequestItems={TABLE: b}), what="BatchWriteItem Activity"
        )
        requests += response.get("UnprocessedItems", {}).get(TABLE, [])
