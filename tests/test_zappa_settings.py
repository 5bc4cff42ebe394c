"""zappa_settings.json: what every stage must get right, stage by stage (Zappa's `extends`
is shallow: a stage's value replaces base's whole, environment_variables included)."""

import json
import re

import pytest

from devstack.processes import ROOT

STAGES = ("dev", "prod")


def stage_config(stage: str) -> dict:
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    return {**settings[settings[stage]["extends"]], **settings[stage]}


def test_every_stage_sets_the_same_environment_variables():
    names = {stage: sorted(stage_config(stage)["environment_variables"]) for stage in STAGES}

    assert names["dev"] == names["prod"]


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


@pytest.mark.parametrize("stage", STAGES)
def test_the_events_stream_and_the_retry_schedule_call_the_push_delivery_functions(stage):
    """The stream's records go to hooks.handler.handle_stream, due retries to run_due every
    minute. The stream's ARN is a placeholder until the table exists (docs/DEPLOY.md), but
    it must name this stage's events table: Zappa routes a record by its exact ARN."""
    import importlib

    config = stage_config(stage)
    streams = [e for e in config.get("events", []) if "event_source" in e]
    schedules = [e for e in config.get("events", []) if "expression" in e]
    prefix = config["environment_variables"]["TABLE_PREFIX"]

    assert [e["function"] for e in streams] == ["hooks.handler.handle_stream"]
    assert re.fullmatch(
        rf"arn:aws:dynamodb:{config['aws_region']}:[^:]+:table/{prefix}-Events/stream/[^/]+",
        streams[0]["event_source"]["arn"],
    )
    assert [(e["function"], e["expression"]) for e in schedules] == [("hooks.handler.run_due", "rate(1 minute)")]
    for entry in streams + schedules:
        module, name = entry["function"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_runs_python_3_13_the_version_make_package_builds_for(stage):
    """SnapStart needs 3.12+; the zip's wheels and bytecode are built for make package's Python."""
    assert stage_config(stage)["runtime"] == "python3.13"
    assert re.search(r"^PYTHON = \(3, 13\)$", (ROOT / "scripts" / "package.py").read_text(), re.M)
