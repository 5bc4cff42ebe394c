"""Writes that recognise their own earlier attempts.

Every conditional write puts a fresh token in the item (`write_token`) and asks DynamoDB to
send the item back when the condition fails (ReturnValuesOnConditionCheckFailure). When an
attempt's answer was lost and the retry then fails its own condition, the item that comes
back holds this write's token: the first attempt was applied, and that is the answer.

PynamoDB's `Model.save`/`update` neither ask for that item nor keep it in the error they
raise, so these build the request with PynamoDB's expressions and table connection and send
it with botocore, under `store.call`'s retry policy."""

import uuid
from collections.abc import Sequence

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action, Update
from pynamodb.models import Model

from triggerapi.store import ConditionFailed, TransactionCanceled, call, client, connection

TOKEN_ATTRIBUTE = "write_token"


def new_token() -> str:
    """Unique per write; also a valid ClientRequestToken (at most 36 characters)."""
    return uuid.uuid4().hex


def holds_token(item: dict | None, token: str | None) -> bool:
    return token is not None and item is not None and item.get(TOKEN_ATTRIBUTE, {}).get("S") == token


def _expressions(*, condition: Condition | None = None, actions: Sequence[Action] = ()) -> dict:
    names: dict[str, str] = {}
    values: dict[str, dict] = {}
    kwargs: dict = {}
    if condition is not None:
        kwargs["ConditionExpression"] = condition.serialize(names, values)
    if actions:
        kwargs["UpdateExpression"] = Update(*actions).serialize(names, values)
    if names:
        kwargs["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


def _put_request(instance: Model, condition: Condition | None) -> dict:
    return {
        "TableName": type(instance).Meta.table_name,
        "Item": instance.serialize(null_check=True),
        **_expressions(condition=condition),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def put(instance: Model, *, condition: Condition, token: str) -> None:
    """PutItem if `condition` holds; raises ConditionFailed with the item found otherwise."""
    setattr(instance, TOKEN_ATTRIBUTE, token)
    model = type(instance)
    request = _put_request(instance, condition)
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
) -> dict | None:
    """UpdateItem if `condition` holds: the item as it is now (raw attributes) when
    `return_item`, else None. Raises ConditionFailed with the item found otherwise."""
    if token is not None:
        actions = [*actions, getattr(model, TOKEN_ATTRIBUTE).set(token)]
    request = connection(model).get_operation_kwargs(
        hash_key,
        range_key,
        actions=actions,
        condition=condition,
        return_values="ALL_NEW" if return_item else None,
        return_values_on_condition_failure="ALL_OLD",
    )
    try:
        response = call(lambda: client(model).update_item(**request), what=f"UpdateItem {model.__name__}")
    except ConditionFailed as exc:
        if holds_token(exc.item, token):
            return exc.item if return_item else None
        raise
    return response.get("Attributes") if return_item else None


def transact_put(puts: list[tuple[Model, Condition]], *, token: str) -> None:
    """Several PutItems, all or none (transact). The token is also the ClientRequestToken, so
    real DynamoDB itself answers a repeated attempt (within 10 minutes) with success."""
    transact(
        type(puts[0][0]), [put_item(instance, condition, token=token) for instance, condition in puts], token=token
    )


def put_item(instance: Model, condition: Condition | None, *, token: str) -> dict:
    """A transaction's Put of `instance`, carrying the token."""
    setattr(instance, TOKEN_ATTRIBUTE, token)
    return {"Put": _put_request(instance, condition)}


def update_item(
    model: type[Model],
    hash_key: str,
    range_key: str | None,
    *,
    actions: list[Action],
    condition: Condition | None,
    token: str | None,
) -> dict:
    """A transaction's Update; with a token, the item keeps it (so a retry recognises itself)."""
    if token is not None:
        actions = [*actions, getattr(model, TOKEN_ATTRIBUTE).set(token)]
    return {"Update": _keyed(model, hash_key, range_key, _expressions(condition=condition, actions=actions))}


def delete_item(model: type[Model], hash_key: str, range_key: str | None, *, condition: Condition | None) -> dict:
    return {"Delete": _keyed(model, hash_key, range_key, _expressions(condition=condition))}


def condition_check(model: type[Model], hash_key: str, range_key: str | None, *, condition: Condition) -> dict:
    return {"ConditionCheck": _keyed(model, hash_key, range_key, _expressions(condition=condition))}


def _keyed(model: type[Model], hash_key: str, range_key: str | None, expressions: dict) -> dict:
    """Our tables' keys are strings."""
    key = {model._hash_key_attribute().attr_name: {"S": hash_key}}
    if range_key is not None:
        key[model._range_key_attribute().attr_name] = {"S": range_key}
    return {
        "TableName": model.Meta.table_name,
        "Key": key,
        **expressions,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def transact(model: type[Model], items: list[dict], *, token: str) -> None:
    """TransactWriteItems of items built above, all or none. When its answer was lost and
    the retry is canceled, an item holding this write's token shows the first attempt
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
