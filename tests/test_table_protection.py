"""create_tables turns on deletion protection and point-in-time recovery (through botocore:
PynamoDB cannot ask for them), on new tables and on tables made before; never against a
local store, whose tables the tests drop."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command

from devstack.processes import ROOT
from tests.store_hooks import hooked, store_calls
from triggerapi import store
from triggerapi.tables import table_models, tables_create


def protection(model) -> tuple[bool, str]:
    client, name = store.client(model), model.Meta.table_name
    deletion = client.describe_table(TableName=name)["Table"].get("DeletionProtectionEnabled", False)
    backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    return deletion, backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


@pytest.mark.parametrize("existing", [False, True], ids=["new tables", "tables made before"])
def test_every_table_gets_deletion_protection_and_point_in_time_recovery(settings, existing):
    if not existing:
        for model in table_models():
            model.delete_table()
    settings.PROTECT_TABLES = True

    out = StringIO()
    call_command("create_tables", stdout=out)

    assert {model.Meta.table_name: protection(model) for model in table_models()} == {
        model.Meta.table_name: (True, "ENABLED") for model in table_models()
    }
    lines = out.getvalue().splitlines()
    assert len(lines) == len(table_models())
    assert all(", point-in-time recovery and deletion protection on" in line for line in lines)
    with pytest.raises(ClientError, match="DeletionProtectionEnabled is set to True"):
        store.client(table_models()[0]).delete_table(TableName=table_models()[0].Meta.table_name)


def test_run_again_it_turns_nothing_on_twice(settings):
    settings.PROTECT_TABLES = True
    tables_create()

    with store_calls() as calls:
        tables_create()

    assert (calls["UpdateTable"], calls["UpdateContinuousBackups"]) == (0, 0)


def test_without_protection_no_call_asks_for_it_and_the_tables_can_be_dropped():
    for model in table_models():
        model.delete_table()

    updates = []
    with (
        store_calls() as calls,
        hooked("before-parameter-build.dynamodb.UpdateTable", lambda params, **_: updates.append(params)),
    ):
        tables_create()

    # The only table updates add the indexes DynamoDB's CreateTable is not given.
    assert [sorted(update) for update in updates] == [
        ["AttributeDefinitions", "GlobalSecondaryIndexUpdates", "TableName"] for update in updates
    ]
    assert (calls["UpdateContinuousBackups"], calls["DescribeContinuousBackups"]) == (0, 0)
    assert [protection(model) for model in table_models()] == [(False, "DISABLED")] * len(table_models())


@pytest.mark.parametrize("dynamodb_host,protected", [("", "True"), ("http://127.0.0.1:8001", "False")])
def test_tables_are_protected_on_aws_and_not_against_a_local_store(dynamodb_host, protected):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PROTECT_TABLES")}
    code = "import django; from django.conf import settings; django.setup(); print(settings.PROTECT_TABLES)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "triggerapi.settings", "DYNAMODB_HOST": dynamodb_host},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (0, protected + "\n"), result.stderr
