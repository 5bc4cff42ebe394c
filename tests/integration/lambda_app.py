"""The app as Lambda runs it, in this process: Zappa's LambdaHandler with the settings module
`zappa package prod` writes into the zip, and the app's models on the moto server process.

pytest-django configures Django once per process (tests.settings), so what differs on Lambda
is applied on top: the ALLOWED_HOSTS that triggerapi.settings computes on Lambda (read from
a fresh interpreter), and the models re-pointed at the moto server's tables."""

import contextlib
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from django.urls import get_script_prefix, set_script_prefix
from zappa.cli import ZappaCLI
from zappa.handler import LambdaHandler

from devstack.processes import ROOT
from triggerapi.tables import all_models

SETTINGS_MODULE = "lambda_zappa_settings"
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod", "AWS_REGION": "us-east-1", "SECRET_KEY": "x"}


def write_zappa_settings(folder: Path, stage: str = "prod") -> None:
    """Zappa's own code turns zappa_settings.json into the module the handler imports."""
    cli = ZappaCLI()
    cli.api_stage, cli.load_credentials = stage, False
    with contextlib.chdir(ROOT):
        cli.load_settings("zappa_settings.json")
    (folder / f"{SETTINGS_MODULE}.py").write_text(cli.get_zappa_settings_string())


@functools.cache
def lambda_settings(*names: str) -> dict:
    """Settings as triggerapi.settings computes them on Lambda."""
    code = f"import json, triggerapi.settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    env = {"PATH": os.environ["PATH"], **LAMBDA_ENV}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def point_models_at(monkeypatch, host: str, prefix: str) -> None:
    for model in all_models():
        suffix = model.Meta.table_name.split("-", 1)[1]
        monkeypatch.setattr(model.Meta, "host", host)
        monkeypatch.setattr(model.Meta, "table_name", f"{prefix}-{suffix}")
        monkeypatch.setattr(model, "_connection", None)


@contextlib.contextmanager
def lambda_handler():
    """A fresh LambdaHandler (it is a singleton); the environment it writes to is restored,
    and so is this thread's script prefix, which Django sets to the stage (`/prod`) on each
    request it serves and the test client never resets."""
    prefix = get_script_prefix()
    # Zappa imports the app's module (`app_function`) as it makes the handler: imported again
    # here, so that its application (its middleware) reads the settings the test set.
    sys.modules.pop("triggerapi.lambda_app", None)
    with mock.patch.dict(os.environ):
        try:
            yield LambdaHandler(SETTINGS_MODULE)
        finally:
            LambdaHandler._LambdaHandler__instance = None
            LambdaHandler.settings = None
            LambdaHandler.settings_name = None
            set_script_prefix(prefix)
