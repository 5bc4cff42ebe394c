"""zappa_settings.json: what every stage must get right, stage by stage, read by Zappa 0.63's
own ZappaCLI (its `extends` chains, and is shallow: a stage's value replaces the one it
extends whole, environment_variables included).

Each environment is three functions (LIMITS.md, "On AWS"): the API (`dev`, `prod`), the
stream's fan-out (`*_stream`) and the dispatcher (`*_dispatch`), each with its own reserved
concurrency, so waiting claims cannot stall push delivery and slow receivers cannot stall
the API. The API starts from a SnapStart snapshot (COMMANDS.md, "Cold start"); the other two
do not: Zappa points their triggers at $LATEST, which SnapStart never serves."""

import functools
import importlib
import io
import json
import re
import zipfile
from contextlib import chdir

import boto3
import pytest
from zappa.cli import ZappaCLI

from devstack.processes import ROOT

APIS = ("dev", "prod")
DELIVERY = tuple(f"{api}{function}" for api in APIS for function in ("_stream", "_dispatch"))
STAGES = APIS + DELIVERY
ACCOUNT = "123456789012"


def zappa_cli(stage: str, *, load: bool = False) -> ZappaCLI:
    """Zappa's reading of the file for `stage`: the settings alone, or (`load`) everything
    `zappa deploy` and `update` derive from them and check (ZappaCLI.load_settings), with a
    Zappa whose AWS clients are moto's (the store fixture's)."""
    cli = ZappaCLI()
    cli.api_stage = stage
    settings_file = str(ROOT / "zappa_settings.json")
    cli.load_settings_file(settings_file)
    if load:
        session = boto_session(cli.stage_config["aws_region"])
        with chdir(ROOT):  # attach_policy is a path in the checkout; Zappa looks there for websockets
            cli.load_settings(settings_file, session=session)
        cli.zappa.credentials_arn = f"arn:aws:iam::{ACCOUNT}:role/{cli.lambda_name}-ZappaLambdaExecutionRole"
    return cli


@functools.cache
def boto_session(region: str) -> boto3.Session:
    """One for the module: a session loads botocore's models once, for every client it makes
    (the clients are moto's while the store fixture runs)."""
    return boto3.Session(region_name=region)


def stage_config(stage: str) -> dict:
    """The stage's settings as Zappa resolves them: what it extends, then its own."""
    return zappa_cli(stage).stage_config


def test_every_stage_sets_the_same_environment_variables():
    names = {stage: sorted(stage_config(stage)["environment_variables"]) for stage in STAGES}

    assert len({tuple(found) for found in names.values()}) == 1, names


@pytest.mark.parametrize("api", APIS)
def test_an_environments_three_functions_share_its_tables_and_policy(api):
    configs = [stage_config(f"{api}{function}") for function in ("", "_stream", "_dispatch")]

    assert len({c["environment_variables"]["TABLE_PREFIX"] for c in configs}) == 1
    assert len({c["attach_policy"] for c in configs}) == 1


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_commits_the_secret_key(stage):
    config = stage_config(stage)
    variables = {**config["environment_variables"], **config.get("aws_environment_variables", {})}

    assert "SECRET_KEY" not in variables


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_logs_raw_events_or_returns_tracebacks(stage):
    """Zappa's defaults (debug true, log level DEBUG) log each event, API key included."""
    config = stage_config(stage)

    assert (config["debug"], config["log_level"]) == (False, "INFO")


def entry_points(config: dict) -> tuple[list[dict], list[dict]]:
    streams = [e for e in config.get("events", []) if "event_source" in e]
    schedules = [e for e in config.get("events", []) if "expression" in e]
    for entry in streams + schedules:
        module, name = entry["function"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))
    return streams, schedules


@pytest.mark.parametrize("api", APIS)
def test_the_api_function_serves_http_and_nothing_else(api):
    config = stage_config(api)

    assert config.get("apigateway_enabled", True) is True
    assert entry_points(config) == ([], [])
    assert config["lambda_concurrency"] > 0


@pytest.mark.parametrize("api", APIS)
def test_only_the_stream_function_reads_the_events_stream(api):
    """The stream's records go to hooks.handler.handle_stream (fan-out) in a function with no
    HTTP. The stream's ARN is a placeholder until the table exists (docs/DEPLOY.md), but it
    must name this stage's events table: Zappa routes a record by its exact ARN. A DynamoDB
    stream serves about two readers a shard: this is the one."""
    config = stage_config(f"{api}_stream")
    streams, schedules = entry_points(config)
    prefix = config["environment_variables"]["TABLE_PREFIX"]

    assert (config["apigateway_enabled"], config["keep_warm"]) == (False, False)
    assert [e["function"] for e in streams] == ["hooks.handler.handle_stream"] and schedules == []
    assert re.fullmatch(
        rf"arn:aws:dynamodb:{config['aws_region']}:[^:]+:table/{prefix}-Events/stream/[^/]+",
        streams[0]["event_source"]["arn"],
    )
    assert config["lambda_concurrency"] > 0
    assert all(not entry_points(stage_config(f"{api}{other}"))[0] for other in ("", "_dispatch"))


@pytest.mark.parametrize("api", APIS)
def test_the_dispatch_function_runs_every_minute_long_enough_to_overlap_the_next(api):
    """hooks.handler.dispatch runs the dispatcher until the time left cannot hold another
    attempt (HOOKS_TIMEOUT_SECONDS plus recording it): an invocation longer than the minute
    between two keeps one always dispatching, which is what starts an attempt within a
    second of its delivery, and a 5 s retry about 5 s later."""
    config = stage_config(f"{api}_dispatch")
    streams, schedules = entry_points(config)
    attempt_seconds = 15 + 5  # HOOKS_TIMEOUT_SECONDS's default, and the claim's margin

    assert (config["apigateway_enabled"], config["keep_warm"]) == (False, False)
    assert streams == [] and [(e["function"], e["expression"]) for e in schedules] == [
        ("hooks.handler.dispatch", "rate(1 minute)")
    ]
    assert config["timeout_seconds"] - attempt_seconds > 60
    assert config["lambda_concurrency"] >= 2  # two invocations overlap


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_runs_python_3_13_the_version_make_package_builds_for(stage):
    """SnapStart needs 3.12+; the zip's wheels and bytecode are built for make package's Python."""
    assert zappa_cli(stage, load=True).runtime == "python3.13"
    assert re.search(r"^PYTHON = \(3, 13\)$", (ROOT / "scripts" / "package.py").read_text(), re.M)


@pytest.mark.parametrize("api", APIS)
def test_the_api_starts_from_a_snapshot_zappa_keeps_an_alias_on(api):
    """With snap_start, Lambda snapshots each version published after its init, and Zappa
    keeps the `snapstart` alias on the newest and points API Gateway at it. SnapStart rules
    out provisioned concurrency, EFS and over 512 MB of /tmp; Zappa wants 2 retained versions
    or more (it prunes while the alias is still on the previous update's version), and each
    one retained keeps a snapshot cached, which is billed. keep_warm would warm $LATEST, which
    the alias never reaches."""
    cli = zappa_cli(api, load=True)

    assert (cli.snap_start, cli.apigateway_lambda_qualifier) == ("PublishedVersions", "snapstart")
    assert (cli.use_apigateway, cli.stage_config["keep_warm"]) == (True, False)
    assert (cli.provisioned_concurrency, cli.efs_config, cli.ephemeral_storage) == (None, [], {"Size": 512})
    assert type(cli.num_retained_versions) is int and 2 <= cli.num_retained_versions <= 5


@pytest.mark.parametrize("stage", DELIVERY)
def test_the_delivery_functions_take_no_snapshot(stage):
    """They extend the API's stage, so they say `"None"` (Lambda's value) themselves. Zappa
    points their triggers at the unqualified function, $LATEST (below, and the stream's
    mapping docs/DEPLOY.md creates), which SnapStart never serves: a snapshot of each
    version would be billed and never restored."""
    cli = zappa_cli(stage, load=True)

    assert (cli.snap_start, cli.apigateway_lambda_qualifier) == ("None", None)
    assert (cli.use_apigateway, cli.stage_config["keep_warm"]) == (False, False)


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_makes_its_app_on_import_from_the_apps_own_init_module(stage):
    """With INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT (a Lambda environment variable: Zappa's
    handler reads it as it is imported) the handler loads its settings, sets Django up and
    makes the WSGI application in Lambda's init, not in the first invocation: what a
    SnapStart snapshot must hold. The application is triggerapi.lambda_app's (Zappa's
    `app_function` beside `django_settings`), which warms up on an init for a snapshot."""
    cli = zappa_cli(stage, load=True)
    written = cli.get_zappa_settings_string()

    assert (cli.django_settings, cli.app_function) == ("triggerapi.settings", "triggerapi.lambda_app.application")
    assert cli.aws_environment_variables == {"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true"}
    assert "APP_MODULE='triggerapi.lambda_app'\nAPP_FUNCTION='application'\n" in written
    assert "DJANGO_SETTINGS='triggerapi.settings'\n" in written


def function_arn(cli: ZappaCLI) -> str:
    return f"arn:aws:lambda:{cli.zappa.aws_region}:{ACCOUNT}:function:{cli.lambda_name}"


def integrations(cli: ZappaCLI, *, lambda_arn: str) -> set[tuple[str, str]]:
    """(Uri, Credentials) of every method of the REST API Zappa builds for the stage: its
    CloudFormation template, made with what ZappaCLI.deploy and update pass."""
    template = cli.zappa.create_stack_template(
        lambda_arn=lambda_arn,
        lambda_name=cli.lambda_name,
        api_key_required=cli.api_key_required,
        iam_authorization=cli.iam_authorization,
        authorizer=cli.authorizer,
        cors_options=cli.cors,
        description=cli.apigateway_description,
        endpoint_configuration=cli.endpoint_configuration,
        apigateway_version=cli.apigateway_version,
        stage_name=cli.api_stage,
        lambda_qualifier=cli.apigateway_lambda_qualifier,
        websocket=cli.use_websocket,
    )
    methods = json.loads(template.to_json())["Resources"].values()
    return {
        (m["Properties"]["Integration"]["Uri"], m["Properties"]["Integration"]["Credentials"])
        for m in methods
        if m["Type"] == "AWS::ApiGateway::Method"
    }


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("qualifier", ["", ":7"])
def test_api_gateway_invokes_the_snapstart_alias_as_the_functions_role(api, qualifier):
    """Deploy passes the ARN create_function returns, update the one update_function_code
    returns for the version it published: Zappa qualifies either with the alias."""
    cli = zappa_cli(api, load=True)
    region = cli.zappa.aws_region
    alias = f"{function_arn(cli)}:snapstart"

    assert integrations(cli, lambda_arn=function_arn(cli) + qualifier) == {
        (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{alias}/invocations",
            cli.zappa.credentials_arn,
        )
    }


def zipped(source: str) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped_file:
        zipped_file.writestr("handler.py", source)
    return archive.getvalue()


def deployed(cli: ZappaCLI, *, source: str) -> str:
    """What `zappa deploy` does to the function (ZappaCLI.deploy), on moto's Lambda."""
    iam = cli.zappa.boto_session.client("iam")
    role = iam.create_role(RoleName=f"{cli.lambda_name}-role", AssumeRolePolicyDocument="{}")
    cli.zappa.credentials_arn = role["Role"]["Arn"]
    return cli.zappa.create_lambda_function(
        function_name=cli.lambda_name,
        handler=cli.lambda_handler,
        local_zip=zipped(source),
        runtime=cli.runtime,
        memory_size=cli.memory_size,
        timeout=cli.timeout_seconds,
        snap_start=cli.snap_start,
        concurrency=cli.lambda_concurrency,
        provisioned_concurrency=cli.provisioned_concurrency,
    )


def test_deploy_and_update_leave_the_alias_on_the_last_version_they_published():
    """On moto's Lambda, which versions and aliases as Lambda does but takes no snapshot.
    Update publishes the code, then the configuration (Lambda publishes that only if it
    changed), and only then moves the alias, once the version (its snapshot) is ready: API
    Gateway serves the old version until the new one can be restored."""
    cli = zappa_cli("prod", load=True)
    lambda_client = cli.zappa.lambda_client
    deployed(cli, source="release = 1")
    after_deploy = lambda_client.get_alias(FunctionName=cli.lambda_name, Name="snapstart")

    published = cli.zappa.update_lambda_function(
        bucket=None,
        function_name=cli.lambda_name,
        local_zip=zipped("release = 2"),
        num_revisions=cli.num_retained_versions,
        concurrency=cli.lambda_concurrency,
        snap_start=cli.snap_start,
    )
    cli.zappa.update_lambda_configuration(
        lambda_arn=published,
        function_name=cli.lambda_name,
        handler=cli.lambda_handler,
        runtime=cli.runtime,
        snap_start=cli.snap_start,
        provisioned_concurrency=cli.provisioned_concurrency,
        wait=False,
    )
    versions = lambda_client.list_versions_by_function(FunctionName=cli.lambda_name)["Versions"]
    served = lambda_client.get_function(FunctionName=cli.lambda_name, Qualifier="snapstart")

    assert after_deploy["FunctionVersion"] == "1"
    assert served["Configuration"]["Version"] == versions[-1]["Version"] != "$LATEST"
    assert served["Configuration"]["CodeSha256"] == versions[0]["CodeSha256"]  # $LATEST's: release 2


def test_the_dispatchers_schedule_invokes_latest_which_no_snapshot_serves():
    """ZappaCLI.schedule targets the ARN GetFunction returns without a qualifier."""
    cli = zappa_cli("prod_dispatch", load=True)
    arn = deployed(cli, source="release = 1")

    cli.schedule()

    events = cli.zappa.events_client
    rules = events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
    targets = [t["Arn"] for rule in rules for t in events.list_targets_by_rule(Rule=rule)["Targets"]]
    assert targets == [function_arn(cli)]
    assert lambda_aliases(cli) == []


def lambda_aliases(cli: ZappaCLI) -> list[str]:
    aliases = cli.zappa.lambda_client.list_aliases(FunctionName=cli.lambda_name)["Aliases"]
    return [alias["Name"] for alias in aliases]
