"""Writes that recognise their own earlier attempts.

Every conditional write puts a fresh token in the item (`write_token`) and asks DynamoDB to
send the item back when the condition fails (ReturnValuesOnConditionCheckFailure). When an
attempt's answer was lost and the retry then fails its own condition, the item that comes
back holds this write's token: the first attempt was applied, and that is the answer.

PynamoDB's `Model.save`/`update` neither ask for that item nor keep it in the error they
raise, so every request here is built by PynamoDB's public request builders (the same one
for a single write and for its transaction entry), with the return values added, and sent
with botocore under `store.call`'s retry policy."""

import uuid

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from triggerapi.store import ConditionFailed, TransactionCanceled, call, client

TOKEN_ATTRIBUTE = "write_token"
# What a failed condition sends back: the item as it is, to look for this write's token in.
ITEM_AS_IT_IS = "ALL_OLD"


def new_token() -> str:
    """Unique per write; also a valid ClientRequestToken (at most 36 characters)."""
    return uuid.uuid4().hex


def holds_token(item: dict | None, token: str | None) -> bool:
    return token is not None and item is not None and item.get(TOKEN_ATTRIBUTE, {}).get("S") == token


def _put_request(instance: Model, condition: Condition | None, token: str) -> dict:
    setattr(instance, TOKEN_ATTRIBUTE, token)
    return instance.get_save_kwargs_from_instance(condition, return_values_on_condition_failure=ITEM_AS_IT_IS)


def _update_request(
    model: type[Model],
    hash_key: str,
    range_key: str | None,
    *,
    actions: list[Action],
    condition: Condition | None,
    token: str | None,
) -> dict:
    """PynamoDB builds an update from an instance: one holding only the key names the item.
    With a token, the item keeps it (so a retry recognises itself)."""
    if token is not None:
        actions = [*actions, getattr(model, TOKEN_ATTRIBUTE).set(token)]
    return model(hash_key, range_key).get_update_kwargs_from_instance(
        actions, condition, return_values_on_condition_failure=ITEM_AS_IT_IS
    )


def put(instance: Model, *, condition: Condition, token: str) -> None:
    """PutItem if `condition` holds; raises ConditionFailed with the item found otherwise."""
    model = type(instance)
    request = _put_request(instance, condition, token)
    try:
        call(lambda: client(model).put_item(**request), what=f"PutItem {model.__name__}")
    except ConditionFailed as exc:
        if not holds_token(exc.item, token):
            raise


def update(
    model: type[Model],
    hash_key: str,
    range_key: str | None = None,
    *,
    actions: list[Action],
    condition: Condition | None,
    token: str | None,
    return_item: bool = True,
    attempts: int | None = None,
) -> dict | None:
    """UpdateItem if `condition` holds: the item as it is now (raw attributes) when
    `return_item`, else None. Raises ConditionFailed with the item found otherwise.
    `attempts` bounds the retries (`store.call`'s default otherwise)."""
    request = _update_request(model, hash_key, range_key, actions=actions, condition=condition, token=token)
    if return_item:
        request["ReturnValues"] = "ALL_NEW"
    try:
        response = call(
            lambda: client(model).update_item(**request), what=f"UpdateItem {model.__name__}", attempts=attempts
        )
    except ConditionFailed as exc:
        if holds_token(exc.item, token):
            return exc.item if return_item else None
        raise
    return response.get("Attributes") if return_item else None


def tx_put(instance: Model, condition: Condition | None, *, token: str) -> dict:
    """A transaction's Put of `instance`, carrying the token."""
    return {"Put": _put_request(instance, condition, token)}


def tx_update(
    model: type[Model],
    hash_key: str,
    range_key: str | None,
    *,
    actions: list[Action],
    condition: Condition | None,
    token: str | None,
) -> dict:
    """A transaction's Update of the item under the key."""
    return {"Update": _update_request(model, hash_key, range_key, actions=actions, condition=condition, token=token)}


def tx_delete(model: type[Model], hash_key: str, range_key: str | None, *, condition: Condition | None) -> dict:
    """A transaction's Delete of the item under the key."""
    request = model(hash_key, range_key).get_delete_kwargs_from_instance(
        condition, return_values_on_condition_failure=ITEM_AS_IT_IS
    )
    return {"Delete": request}


def tx_check(model: type[Model], hash_key: str, range_key: str | None, *, condition: Condition) -> dict:
    """A transaction's ConditionCheck on the item under the key (PynamoDB's builder for it
    takes no return values: they are added here)."""
    request = model.get_operation_kwargs_from_class(hash_key, range_key, condition)
    return {"ConditionCheck": {**request, "ReturnValuesOnConditionCheckFailure": ITEM_AS_IT_IS}}


def transact_put(puts: list[tuple[Model, Condition]], *, token: str) -> None:
    """Several PutItems, all or none (transact). The token is also the ClientRequestToken, so
    real DynamoDB itself answers a repeated attempt (within 10 minutes) with success."""
    transact(type(puts[0][0]), [tx_put(instance, condition, token=token) for instance, condition in puts], token=token)


def transact(model: type[Model], items: list[dict], *, token: str) -> None:
    """TransactWriteItems of the entries built above, all or none. When its answer was lost
    and the retry is canceled, an item holding this write's token shows the first attempt
    was applied, and that is the answer; otherwise TransactionCanceled says which failed."""
    try:
        call(
            lambda: client(model).transact_write_items(TransactItems=items, ClientRequestToken=token),
            what="TransactWriteItems",
        )
    except TransactionCanceled as exc:
        if not any(holds_token(item, token) for item in exc.items):
            raise


def batch_put(model: type[Model], items: list[dict]) -> list[dict]:
    """One BatchWriteItem of unconditional puts (safe to repeat): the items not processed."""
    table = model.Meta.table_name
    request = {"RequestItems": {table: [{"PutRequest": {"Item": item}} for item in items]}}
    response = call(lambda: client(model).batch_write_item(**request), what="BatchWriteItem")
    return [entry["PutRequest"]["Item"] for entry in response.get("UnprocessedItems", {}).get(table, [])]
