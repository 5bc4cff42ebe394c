"""The development package stays out of what ships: the Lambda zip's sources do not name it,
no module the zip holds imports it when it loads, and the one app command that needs it says
so where it is absent. (tests/integration/test_package.py checks the built zip itself.)"""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from devstack.processes import ROOT
from scripts.package import SOURCES, runtime_requirements

DEVELOPMENT = ("devstack", "bench", "tests", "scripts")

IMPORT_EVERYTHING = """
import importlib, json, os, pkgutil, sys
import django

os.environ["DJANGO_SETTINGS_MODULE"] = "triggerapi.settings"
django.setup()
for package in {packages!r}:
    importlib.import_module(package)
    for module in pkgutil.walk_packages([package], prefix=package + "."):
        importlib.import_module(module.name)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {development!r})))
"""


def test_the_zips_sources_name_no_development_package():
    assert set(SOURCES) & set(DEVELOPMENT) == set()


def test_no_module_the_zip_holds_imports_a_development_package_when_it_loads():
    packages = [name for name in SOURCES if (ROOT / name / "__init__.py").is_file()]
    code = IMPORT_EVERYTHING.format(packages=packages, development=DEVELOPMENT)
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x", "AWS_REGION": "us-east-1"}

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr[-3000:]
    assert {"triggerapi", "events", "hooks"} <= set(packages)
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_run_deliveries_without_the_development_package_says_it_is_for_local_development(monkeypatch):
    monkeypatch.setitem(sys.modules, "devstack.stream.reader", None)

    with pytest.raises(CommandError) as refused:
        call_command("run_deliveries", "--once")

    assert str(refused.value) == (
        "run_deliveries is a local-development command and needs the devstack package, which is not here "
        "(the Lambda zip leaves it out: on AWS the event source mapping reads the stream)."
    )


def test_the_zip_leaves_out_the_snapshot_hooks_package_that_lambdas_runtime_provides():
    """A copy in the zip would come first on the path, and hooks registered with it might not
    be the ones the runtime runs (triggerapi/thaw.py)."""
    pinned = {line.split("==")[0].lower() for line in runtime_requirements()}
    developed = (ROOT / "requirements-dev.txt").read_text().splitlines()

    assert "snapshot-restore-py" not in pinned
    assert any(line.startswith("snapshot-restore-py==") for line in developed)


def test_every_app_of_ours_the_settings_install_is_in_the_zip():
    ours = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}

    assert ours - set(SOURCES) == set()
    assert "console" in ours
