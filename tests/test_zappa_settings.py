"""zappa_settings.json: what every stage must get right, stage by stage (Zappa's `extends`
chains, and is shallow: a stage's value replaces the one it extends whole,
environment_variables included).

Each environment is three functions (LIMITS.md, "On AWS"): the API (`dev`, `prod`), the
stream's fan-out (`*_stream`) and the dispatcher (`*_dispatch`), each with its own reserved
concurrency, so waiting claims cannot stall push delivery and slow receivers cannot stall
the API."""

import importlib
import json
import re

import pytest

from devstack.processes import ROOT

APIS = ("dev", "prod")
STAGES = tuple(f"{api}{function}" for api in APIS for function in ("", "_stream", "_dispatch"))


def stage_config(stage: str) -> dict:
    """The stage's settings as Zappa resolves them: what it extends, then its own."""
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    own = settings[stage]
    return {**(stage_config(own["extends"]) if "extends" in own else {}), **own}


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
    assert stage_config(stage)["runtime"] == "python3.13"
    assert re.search(r"^PYTHON = \(3, 13\)$", (ROOT / "scripts" / "package.py").read_text(), re.M)
