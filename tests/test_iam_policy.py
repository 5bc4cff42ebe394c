"""Two IAM policies per stage (docs/iam/), each allowing every DynamoDB call its side makes and
nothing it never makes: the functions' (attached by zappa_settings.json), for the API, the
stream handler and the retries; and the operator's, for the commands run from an operator's
machine (create_tables, the key commands, set_limits, reseal_hook_secrets, the migration).
The functions' role can change no table and mint no key.

Every call is recorded at botocore's level, as IAM sees it: the action, and the table or
index it names. A transaction's items count as the actions they are (a Put inside
TransactWriteItems needs dynamodb:PutItem), as IAM evaluates them."""

import io
import json
from contextlib import contextmanager
from datetime import UTC, datetime
from fnmatch import fnmatch

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from devstack.processes import ROOT
from events import ids
from events.models import Event
from events.services import event_create
from hooks import handler
from hooks.services import hook_create
from tenants.services import api_key_issue
from tests.hooks.receiver import Receiver, status
from tests.store_hooks import create_events_table_without_its_stream, hooked
from tests.test_zappa_settings import ACCOUNT, STAGES, function_arn, integrations, stage_config, zappa_cli
from triggerapi import store
from triggerapi.tables import table_models

TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _calls(operation: str, params: dict) -> list[tuple[str, str, str | None]]:
    """(action, table, index) as IAM authorises the call."""
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(operation, table, None) for table in params["RequestItems"]]
    if operation == "TransactWriteItems":
        return [
            (TRANSACTION_ITEMS[kind], body["TableName"], None)
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    return [(operation, params["TableName"], params.get("IndexName"))]


@contextmanager
def recorded_calls():
    calls: set[tuple[str, str, str | None]] = set()

    def record(params, model, **kwargs):
        calls.update(_calls(model.name, params))

    with hooked("before-parameter-build.dynamodb", record):
        yield calls


# Grants for calls the app does not make itself: Lambda's poller reads the events table's
# stream for the stream function (the event source mapping needs these on the function's role).
STREAM_READING = {
    ("dynamodb:DescribeStream", "table/{prefix}-Events/stream/*"),
    ("dynamodb:GetRecords", "table/{prefix}-Events/stream/*"),
    ("dynamodb:GetShardIterator", "table/{prefix}-Events/stream/*"),
    ("dynamodb:ListStreams", "*"),
}


def _with_region(grant: tuple[str, str], config: dict) -> tuple[str, str]:
    action, resource = grant
    resource = resource.format(prefix=config["environment_variables"]["TABLE_PREFIX"])
    if resource != "*":
        resource = f"arn:aws:dynamodb:{config['aws_region']}:*:{resource}"
    return action, resource


def exercise_the_functions(key: str) -> None:
    """Every endpoint (a claim that waits among them), the stream handler and the retries,
    and a browser logging in, reading and logging out."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.tenant_id = "acme"
    client.post("/v1/events/claim", {"wait_seconds": 1}, format="json")  # nothing to claim: it waits
    created = client.post("/v1/events", {"event_type": "a"}, format="json").json()["id"]
    client.post("/v1/events", {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    client.post("/v1/events/batch", {"events": [{"n": 1}, {"n": 2}]}, format="json")
    client.get("/v1/events")
    client.get("/v1/events?status=undelivered")
    client.get("/v1/events?event_type=a")
    client.get("/v1/events?event_type=a&status=undelivered")
    client.get(f"/v1/events/{created}")
    client.get(f"/v1/events/{created}/history")
    client.get("/v1/stats")
    client.get("/v1/stats/series?metric=ingested&window=7d")
    client.post("/v1/events/claim", {"event_type": "none-such"}, format="json")
    claimed = [event["id"] for event in client.post("/v1/events/claim", {"limit": 2}, format="json").json()["events"]]
    client.post(f"/v1/events/{claimed[0]}/release")
    client.post(f"/v1/events/{created}/ack")
    client.post("/v1/events/ack", {"ids": claimed}, format="json")
    client.post("/v1/events/replay", {"since": 0, "until": 2**41, "event_type": "a"}, format="json")
    client.delete(f"/v1/events/{created}")
    exercise_hooks(client)
    client.get("/health/ready")
    client.get("/v1/me")
    browse_with(key)


def exercise_the_operator_commands(settings) -> set[tuple[str, str, str | None]]:
    """create_tables on a store whose events table predates its stream, and again, with the
    tables' protection on; index_event_types on an event stored before it; the key commands;
    set_limits; the scope migration; a SECRET_KEY rotation's reseal of a hook made meanwhile
    (by the functions: not recorded); and the stream's catch-up after a switch."""
    settings.PROTECT_TABLES = True
    with recorded_calls() as calls:
        create_events_table_without_its_stream()
        call_command("create_tables")
        call_command("create_tables")
    typed_event_stored_without_its_type_key()
    with recorded_calls() as backfill:
        call_command("index_event_types", stdout=io.StringIO())
    with recorded_calls() as keys:
        call_command("seed_tenants", stdout=io.StringIO())
        out = io.StringIO()
        call_command("issue_key", "acme", "--json", stdout=out)
        key = json.loads(out.getvalue())["key"]
        call_command("list_keys")
        call_command("list_keys", "acme")
        call_command("set_limits", "acme", "--rate", "5")
        call_command("migrate_hooks_scope")
    with override_settings(HOOKS_ALLOW_HTTP=True, HOOKS_ALLOW_PRIVATE_TARGETS=True):
        hook_create(
            tenant_id="acme", target_url="http://127.0.0.1:9/in", event_types=[], description=None, created_by="x"
        )
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key", [settings.SECRET_KEY]
    with recorded_calls() as more:
        call_command("reseal_hook_secrets", stdout=io.StringIO())
        call_command("stream_catch_up", "--since", "0", "--until", str(2**41), stdout=io.StringIO())
        call_command("revoke_key", key)
    return calls | backfill | keys | more


def typed_event_stored_without_its_type_key() -> None:
    """An event as the code before the indexes by type stored it, for index_event_types."""
    event_id = event_create(tenant_id="acme", payload={"event_type": "a"}).receipts[0]["id"]
    store.client(Event).update_item(
        TableName=Event.Meta.table_name,
        Key={"tenant_id": {"S": "acme"}, "sk": {"S": event_id}},
        UpdateExpression="REMOVE type_key",
    )


def exercise_hooks(client) -> None:
    """Every hooks endpoint, and deliveries made from stream records: a first attempt that
    fails, a due retry that fails for good, a manual retry, and a hook deleted."""
    with (
        Receiver() as receiver,
        override_settings(HOOKS_ALLOW_HTTP=True, HOOKS_ALLOW_PRIVATE_TARGETS=True, HOOKS_TIMEOUT_SECONDS=5.0),
        time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC), tick=True) as clock,
    ):
        receiver.answer = status(500)
        hook = client.post("/v1/hooks", {"target_url": receiver.url("/in")}, format="json").json()["id"]
        client.get("/v1/hooks")
        client.get(f"/v1/hooks/{hook}")
        client.post(f"/v1/hooks/{hook}/rotate-secret")
        client.post(f"/v1/hooks/{hook}/test")
        event_id = client.post("/v1/events", {"n": 1}, format="json").json()["id"]
        image = Event.get(client.tenant_id, event_id).serialize()
        record = {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}
        removed = {"eventName": "REMOVE", "dynamodb": {"OldImage": image, "SequenceNumber": "2"}}
        handler.handle_stream({"Records": [record, third_extension(image), removed]})
        handler.run_due()
        receiver.answer = status(410)
        clock.shift(60)
        handler.run_due()
        client.patch(f"/v1/hooks/{hook}", {"status": "active"}, format="json")
        delivery = client.get(f"/v1/hooks/{hook}/deliveries?status=failed").json()["deliveries"][0]["id"]
        receiver.answer = status(200)
        client.post(f"/v1/hooks/{hook}/deliveries/{delivery}/retry")
        client.delete(f"/v1/hooks/{hook}")
    ids._last = 0  # event ids made on the moved clock must not hold back the ids made after it


def third_extension(image: dict) -> dict:
    """The record of a lease's third extension: the second one's history entry goes."""
    extended = {"last_op": {"S": "extended"}, "lease_id": {"S": "l1"}, "lease_expires_at": {"N": "9"}}
    old = {**image, **extended, "last_op_at": {"N": "2"}, "extensions": {"N": "2"}}
    new = {**image, **extended, "last_op_at": {"N": "3"}, "extensions": {"N": "3"}}
    return {"eventName": "MODIFY", "dynamodb": {"OldImage": old, "NewImage": new, "SequenceNumber": "3"}}


def browse_with(key: str) -> None:
    browser = Client()
    browser.post("/auth/login", {"api_key": key})
    browser.get("/v1/events", HTTP_ACCEPT="text/html")
    browser.post("/auth/logout")


def stage_policy(config: dict) -> list[dict]:
    return json.loads((ROOT / config["attach_policy"]).read_text())["Statement"]


def grants(statements: list[dict]) -> set[tuple[str, str]]:
    return {(action, resource) for st in statements for action in st["Action"] for resource in st["Resource"]}


def arn(table: str, index: str | None, config: dict) -> str:
    """The ARN the stage's table or index has; the tests' tables are Test-*."""
    name = f"{config['environment_variables']['TABLE_PREFIX']}-{table.split('-', 1)[1]}"
    path = f"table/{name}" + (f"/index/{index}" if index else "")
    return f"arn:aws:dynamodb:{config['aws_region']}:123456789012:{path}"


def operator_policy(stage: str) -> list[dict]:
    return json.loads((ROOT / "docs" / "iam" / f"operator-{stage}.json").read_text())["Statement"]


def assert_exactly_allowed(calls, statements: list[dict], config: dict, expected_unused=frozenset()) -> None:
    needed = {(f"dynamodb:{action}", arn(table, index, config)) for action, table, index in calls}
    granted = {(action, resource) for action, resource in grants(statements) if action.startswith("dynamodb:")}

    def allowed(action: str, resource: str) -> bool:
        return any(action == g_action and fnmatch(resource, g_resource) for g_action, g_resource in granted)

    assert sorted(call for call in needed if not allowed(*call)) == []
    unused = {g for g in granted if not any(a == g[0] and fnmatch(r, g[1]) for a, r in needed)}
    assert sorted(unused - set(expected_unused)) == []


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_functions_policy_allows_exactly_the_store_calls_the_functions_make(stage):
    config = stage_config(stage)
    key = api_key_issue(tenant_id="acme")[1]

    with recorded_calls() as calls:
        exercise_the_functions(key)

    expected_unused = {_with_region(grant, config) for grant in STREAM_READING}
    assert_exactly_allowed(calls, stage_policy(config), config, expected_unused)


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_operators_policy_allows_exactly_the_store_calls_the_commands_make(stage, settings):
    config = stage_config(stage)
    for model in table_models():
        model.delete_table()

    calls = exercise_the_operator_commands(settings)

    assert_exactly_allowed(calls, operator_policy(stage), config)


# What only an operator may do: change a table (or drop one, or its backups), and mint, list
# or find keys.
TABLE_CHANGES = {
    "dynamodb:CreateTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:RestoreTableToPointInTime",
}
KEY_MINTING = {"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:Scan", "dynamodb:Query"}


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_functions_role_can_change_no_table_and_mint_no_key(stage):
    config = stage_config(stage)
    granted = grants(stage_policy(config))
    keys_table = f"table/{config['environment_variables']['TABLE_PREFIX']}-TenantApiKeys"

    assert sorted(g for g in granted if g[0] in TABLE_CHANGES or g[0] in ("dynamodb:*", "*")) == []
    assert sorted(g for g in granted if g[0] in KEY_MINTING and keys_table in g[1]) == []


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_the_stream_function_may_read_the_events_tables_stream(stage):
    config = stage_config(stage)

    assert {_with_region(grant, config) for grant in STREAM_READING} <= grants(stage_policy(config))


def role_may(cli, action: str, resource: str) -> bool:
    """Whether the role Zappa makes for the stage's function (its one policy: attach_policy,
    as Zappa reads it) allows `action` on `resource`."""
    statements = json.loads(cli.zappa.attach_policy)["Statement"]
    return any(
        action in st["Action"] and any(fnmatch(resource, granted) for granted in st["Resource"]) for st in statements
    )


@pytest.mark.parametrize("api", ["prod", "dev"])
def test_api_gateway_may_invoke_the_snapstart_alias_as_the_role_and_nothing_else(api):
    """Zappa's REST integration calls Lambda with the function's role (its Credentials), and
    that role has only the policy we attach: without lambda:InvokeFunction on exactly the ARN
    the integration names, every request would be API Gateway's 500."""
    cli = zappa_cli(api, load=True)
    (uri, credentials), *others = integrations(cli, lambda_arn=function_arn(cli))
    invoked = uri.split("/functions/")[1].removesuffix("/invocations")
    elsewhere = [function_arn(cli), f"{function_arn(cli)}:7", f"{function_arn(cli)}-stream:snapstart"]

    assert (credentials, others) == (cli.zappa.credentials_arn, [])
    assert role_may(cli, "lambda:InvokeFunction", invoked)
    assert [arn for arn in elsewhere if role_may(cli, "lambda:InvokeFunction", arn)] == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_may_write_its_own_log_group(stage):
    """Lambda logs with the function's role, into /aws/lambda/ and the function's name as
    Zappa makes it (`triggerapi-prod-stream`: the stage's name slugified)."""
    cli = zappa_cli(stage, load=True)
    group = f"arn:aws:logs:{cli.zappa.aws_region}:{ACCOUNT}:log-group:/aws/lambda/{cli.lambda_name}"

    assert role_may(cli, "logs:CreateLogGroup", group)
    assert role_may(cli, "logs:CreateLogStream", f"{group}:log-stream:2026/01/01/[$LATEST]abc")
    assert role_may(cli, "logs:PutLogEvents", f"{group}:log-stream:2026/01/01/[$LATEST]abc")
