"""run_deliveries against a moto server process: the events table's stream read as Lambda's
event source reads it, handed to the stream function (replaced by a recorder,
tests/integration/deliveries_recorder.py), its position kept across restarts."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from devstack import processes
from devstack.processes import ROOT, Child, manage, server_env

DEADLINE_SECONDS = 30


@pytest.fixture
def stack(dynamodb_url, tmp_path):
    """Tables of its own (so a stream of its own), and a file the recorder writes."""
    env = server_env(dynamodb_url, RECORD_TO=str(tmp_path / "batches.jsonl"))
    manage(env, "create_tables")
    table = boto3.resource(
        "dynamodb",
        endpoint_url=dynamodb_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).Table(f"{env['TABLE_PREFIX']}-Events")
    return env, table


def put_events(table, *keys: str, tenant: str = "acme") -> None:
    for key in keys:
        table.put_item(Item={"tenant_id": tenant, "sk": key, "created_at": 1, "payload": "{}", "status": "undelivered"})


def batches(env) -> list[list[dict]]:
    path = Path(env["RECORD_TO"])
    if not path.exists():
        return []
    return [json.loads(line)["Records"] for line in path.read_text().splitlines()]


def keys_of(records: list[dict]) -> list[str]:
    return [r["dynamodb"]["Keys"]["sk"]["S"] for r in records]


def handed(env) -> list[str]:
    return [key for batch in batches(env) for key in keys_of(batch)]


def run_once(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.integration.deliveries_recorder", "--once", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def start(env, **extra) -> Child:
    child = Child(
        [sys.executable, "-m", "tests.integration.deliveries_recorder"], {**env, **extra}, r"Delivering from (\S+)"
    )
    child.wait_ready()
    return child


def wait_for(condition, what: str):
    return processes.wait_for(condition, what, DEADLINE_SECONDS)


def test_once_exits_0_and_a_restart_neither_repeats_nor_skips(stack):
    env, table = stack
    put_events(table, "evt_before")
    first = run_once(env)
    assert first.returncode == 0, first.stderr
    # The very first start reads from LATEST: what was there before is not handed on.
    assert handed(env) == []
    put_events(table, "evt_1", "evt_2", "evt_3")
    second = run_once(env)
    assert second.returncode == 0, second.stderr
    assert handed(env) == ["evt_1", "evt_2", "evt_3"]
    assert "3 records from shardId-" in second.stdout
    put_events(table, "evt_4", "evt_5")
    third = run_once(env)
    assert third.returncode == 0, third.stderr
    assert handed(env) == ["evt_1", "evt_2", "evt_3", "evt_4", "evt_5"]
    assert "Stopped: 2 records in 1 batches handed on" in third.stdout


def test_records_come_in_lambdas_shape(stack):
    env, table = stack
    assert run_once(env).returncode == 0
    put_events(table, "evt_shape")
    assert run_once(env).returncode == 0
    [[record]] = batches(env)
    stream_arn = table.meta.client.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
    assert record == {
        "eventID": record["eventID"],
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": record["dynamodb"]["ApproximateCreationDateTime"],
            "Keys": {"tenant_id": {"S": "acme"}, "sk": {"S": "evt_shape"}},
            "NewImage": {
                "tenant_id": {"S": "acme"},
                "sk": {"S": "evt_shape"},
                "created_at": {"N": "1"},
                "payload": {"S": "{}"},
                "status": {"S": "undelivered"},
            },
            "SequenceNumber": record["dynamodb"]["SequenceNumber"],
            "SizeBytes": record["dynamodb"]["SizeBytes"],
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream_arn,
    }
    assert isinstance(record["eventID"], str) and record["eventID"]
    assert abs(record["dynamodb"]["ApproximateCreationDateTime"] - time.time()) < 120
    assert record["dynamodb"]["SequenceNumber"].isdigit()


def test_an_event_posted_to_the_api_reaches_the_handler_within_a_second(live_env, api_for, tmp_path):
    """The live API's own tables (shared with other tests: only this tenant's events count)."""
    env = {**live_env, "RECORD_TO": str(tmp_path / "batches.jsonl")}
    api = api_for()
    deliveries = start(env)
    try:
        posted = time.monotonic()
        response = api.post("/v1/events", json={"event_type": "order.paid", "order": 7})
        assert response.status_code == 201, response.text
        event_id = response.json()["id"]
        wait_for(lambda: event_id in handed(env), "record of the posted event")
        assert time.monotonic() - posted < 5  # the 1 s figure is measured loosely on two busy cores
        [record] = [r for batch in batches(env) for r in batch if keys_of([r]) == [event_id]]
        assert record["eventName"] == "INSERT"
        image = record["dynamodb"]["NewImage"]
        assert image["event_type"] == {"S": "order.paid"}
        assert json.loads(image["payload"]["S"]) == {"event_type": "order.paid", "order": 7}
    finally:
        deliveries.process.send_signal(signal.SIGTERM)
        assert deliveries.wait(timeout=30) == 0


def test_failed_records_are_read_again_from_the_first_failure(stack):
    env, table = stack
    assert run_once(env).returncode == 0  # the first start: from here on
    # Written before the reader starts, so they come in one batch.
    put_events(table, "evt_a", "evt_b", "evt_c")
    deliveries = start(env, FAIL_ONCE="evt_b")
    try:
        wait_for(lambda: handed(env).count("evt_c") == 2, "second reading of evt_b and evt_c")
        assert handed(env) == ["evt_a", "evt_b", "evt_c", "evt_b", "evt_c"]
        assert keys_of(batches(env)[-1]) == ["evt_b", "evt_c"]
        assert wait_for(lambda: any("failed from" in line for line in deliveries.lines), "failure line")
    finally:
        deliveries.process.send_signal(signal.SIGTERM)
        assert deliveries.wait(timeout=30) == 0
    # The checkpoint is past evt_c: a restart hands on nothing again.
    put_events(table, "evt_d")
    assert run_once(env).returncode == 0
    assert handed(env) == ["evt_a", "evt_b", "evt_c", "evt_b", "evt_c", "evt_d"]


def test_sigterm_stops_a_running_reader_promptly_with_status_0(stack):
    env, table = stack
    deliveries = start(env)
    put_events(table, "evt_x")
    wait_for(lambda: handed(env) == ["evt_x"], "record of evt_x")
    sent = time.monotonic()
    deliveries.process.send_signal(signal.SIGTERM)
    assert deliveries.wait(timeout=30) == 0
    assert time.monotonic() - sent < 5
    output = "".join(deliveries.lines)
    assert "Stopping: finishing the batch in hand." in output
    assert "Stopped: 1 records in 1 batches handed on (0 failed)" in output


def test_without_a_stream_it_says_to_run_create_tables(dynamodb_url, tmp_path):
    env = server_env(dynamodb_url, RECORD_TO=str(tmp_path / "b.jsonl"))
    boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    ).create_table(
        TableName=f"{env['TABLE_PREFIX']}-Events",
        KeySchema=[{"AttributeName": "tenant_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "tenant_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = run_once(env)
    assert result.returncode == 1
    assert "has no stream: run `manage.py create_tables`" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_canceled_transaction_leaves_no_record_and_the_reader_goes_on(stack):
    """moto alone restores a copy of the table (its stream shard included) when a
    transaction is canceled: a running reader, on the old shard, would hand on the canceled
    put and then nothing more (devstack/moto_patches.py undoes in place instead)."""
    env, table = stack
    assert run_once(env).returncode == 0  # the first start: from here on
    deliveries = start(env)
    try:
        put_events(table, "evt_before")
        wait_for(lambda: "evt_before" in handed(env), "record of evt_before")
        with pytest.raises(table.meta.client.exceptions.TransactionCanceledException):
            table.meta.client.transact_write_items(
                TransactItems=[
                    # (the resource's client: values are plain Python, it adds the types)
                    {"Put": {"TableName": table.name, "Item": {"tenant_id": "acme", "sk": "evt_phantom"}}},
                    {
                        "ConditionCheck": {
                            "TableName": table.name,
                            "Key": {"tenant_id": "acme", "sk": "evt_missing"},
                            "ConditionExpression": "attribute_exists(sk)",
                        }
                    },
                ]
            )
        assert "Item" not in table.get_item(Key={"tenant_id": "acme", "sk": "evt_phantom"})
        put_events(table, "evt_after")
        wait_for(lambda: "evt_after" in handed(env), "record of evt_after")
    finally:
        deliveries.process.send_signal(signal.SIGTERM)
        assert deliveries.wait(timeout=30) == 0
    assert handed(env) == ["evt_before", "evt_after"]
