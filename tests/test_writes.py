"""The requests triggerapi.writes builds with PynamoDB's public builders: keys under their
stored names, the write's token, and the item sent back when a condition fails."""

from pathlib import Path

import pytest

from events.lifecycle import new_event
from events.models import Event
from hooks.models import ACTIVE, Delivery, Hook, HookCount
from tests.store_hooks import hooked
from triggerapi import writes
from triggerapi.store import ConditionFailed

TOKEN = "0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


def token_is_set(request: dict) -> bool:
    names = {placeholder for placeholder, name in request["ExpressionAttributeNames"].items() if name == "write_token"}
    values = {key for key, value in request["ExpressionAttributeValues"].items() if value == {"S": TOKEN}}
    return any(f"{name} = {value}" in request["UpdateExpression"] for name in names for value in values)


def test_a_transaction_update_names_the_item_by_its_stored_key_and_sets_the_token():
    entry = writes.tx_update(
        Delivery,
        "dlv#acme#hook_1",
        "evt_1",
        actions=[Delivery.attempts.add(1)],
        condition=Delivery.status == "pending",
        token=TOKEN,
    )

    request = entry["Update"]
    assert list(entry) == ["Update"] and request["TableName"] == Delivery.Meta.table_name
    assert request["Key"] == {"pk": {"S": "dlv#acme#hook_1"}, "sk": {"S": "evt_1"}}
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" and token_is_set(request)
    assert "ReturnValues" not in request


def test_a_transaction_put_sends_the_whole_item_with_its_token():
    hook = Hook("acme", Hook.key_for("hook_1"), hook_id="hook_1", target_url="https://x", secret="s")
    hook.created_at = hook.updated_at = 1

    request = writes.tx_put(hook, Hook.sk.does_not_exist(), token=TOKEN)["Put"]

    assert request["Item"] == hook.serialize() and request["Item"]["write_token"] == {"S": TOKEN}
    assert request["Item"]["pk"] == {"S": "acme"} and request["ConditionExpression"] == "attribute_not_exists (#0)"
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


@pytest.mark.parametrize("build", [writes.tx_delete, writes.tx_check])
def test_a_transaction_delete_or_check_asks_for_the_item_when_its_condition_fails(build):
    [(kind, request)] = build(Hook, "acme", "hook#hook_1", condition=Hook.status == ACTIVE).items()

    assert kind in ("Delete", "ConditionCheck")
    assert request == {
        "TableName": Hook.Meta.table_name,
        "Key": {"pk": {"S": "acme"}, "sk": {"S": "hook#hook_1"}},
        "ConditionExpression": "#0 = :0",
        "ExpressionAttributeNames": {"#0": "status"},
        "ExpressionAttributeValues": {":0": {"S": ACTIVE}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


@pytest.mark.parametrize("return_item", [True, False])
def test_an_update_asks_for_the_new_item_only_when_it_returns_it(return_item):
    sent = []
    with hooked("before-parameter-build.dynamodb.UpdateItem", lambda params, **kwargs: sent.append(dict(params))):
        writes.update(
            HookCount,
            "acme",
            HookCount.sk.default,
            actions=[HookCount.count.add(1)],
            condition=None,
            token=TOKEN,
            return_item=return_item,
        )

    [request] = sent
    assert request.get("ReturnValues") == ("ALL_NEW" if return_item else None)
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" and token_is_set(request)


def test_a_put_that_finds_its_own_token_was_applied_and_one_that_finds_another_fails():
    event = new_event("acme", "evt_01J00000000000000000000000", {"event_type": "t"})
    writes.put(event, condition=Event.event_id.does_not_exist(), token=TOKEN)

    writes.put(event, condition=Event.event_id.does_not_exist(), token=TOKEN)
    with pytest.raises(ConditionFailed) as failed:
        writes.put(event, condition=Event.event_id.does_not_exist(), token=writes.new_token())
    assert failed.value.item["write_token"] == {"S": TOKEN}


def test_only_the_store_module_reaches_pynamodbs_private_connection():
    reaching = [
        str(path.relative_to(ROOT))
        for package in ("triggerapi", "events", "hooks", "tenants", "browser")
        for path in (ROOT / package).rglob("*.py")
        if "_get_connection" in path.read_text()
    ]
    assert reaching == ["triggerapi/store.py"]
