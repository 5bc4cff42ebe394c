"""zappa_settings.json: what every stage must get right, stage by stage (Zappa's `extends`
is shallow: a stage's value replaces base's whole, environment_variables included)."""

import json

import pytest

from tests.integration.live import ROOT

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
