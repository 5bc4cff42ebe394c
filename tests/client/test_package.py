"""The client is a package of its own: it imports without Django or any of the server's
packages, and pip installs it from its directory."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import triggerapi_client

SOURCE = Path(triggerapi_client.__file__).parent
SERVER_PACKAGES = ("django", "rest_framework", "triggerapi", "tenants", "events", "hooks", "browser")
LOADED = "import json, sys, triggerapi_client; print(json.dumps([triggerapi_client.__file__, sorted(sys.modules)]))"


def fresh_interpreter(cwd: Path, **env: str) -> tuple[str, list[str]]:
    """Where triggerapi_client was imported from, and every module then loaded."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=cwd, env=clean | env, capture_output=True, text=True, check=True
    )
    return tuple(json.loads(result.stdout))


def test_it_imports_from_the_repository_without_django_or_the_server():
    path, modules = fresh_interpreter(SOURCE.parent)

    assert Path(path) == SOURCE / "__init__.py"
    assert [m for m in modules if m.split(".")[0] in SERVER_PACKAGES] == []


def test_pip_installs_it_from_its_directory_with_only_its_modules(tmp_path):
    # A copy: setuptools builds in the directory it is given (build/, *.egg-info).
    source = shutil.copytree(SOURCE, tmp_path / "source", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", target, source], check=True, capture_output=True)

    path, modules = fresh_interpreter(tmp_path, PYTHONPATH=str(target))

    assert Path(path) == target / "triggerapi_client" / "__init__.py"
    assert sorted(p.name for p in (target / "triggerapi_client").glob("*.py")) == sorted(
        p.name for p in SOURCE.glob("*.py")
    )
    assert [m for m in modules if m.split(".")[0] in SERVER_PACKAGES] == []
