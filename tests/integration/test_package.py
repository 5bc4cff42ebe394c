"""`make package` builds a Lambda zip that holds what Lambda needs and nothing else, and
that answers API Gateway from its own files alone."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from bench.coldstart import stage_env
from devstack.lambda_probe import rest_event, runtime_path
from devstack.processes import ROOT, manage, server_env
from scripts.package import PYTHON

pytestmark = pytest.mark.slow

MAX_ZIPPED_MIB = 45
# Lambda's own limit for the unzipped function.
MAX_UNZIPPED_MIB = 250
# Tests, dev tools, the deploy tool's own dependencies, and what a checkout holds besides the app.
NOT_FOR_LAMBDA = {
    *("pytest", "_pytest", "pytest_django", "moto", "ruff", "gunicorn", "time_machine", "pip", "setuptools"),
    # (PyYAML is not here: drf-spectacular serves the OpenAPI schema as YAML at /v1/schema/.)
    *("troposphere", "cfn_flip", "click", "tqdm", "placebo", "hjson", "argcomplete", "toml", "wheel"),
    *(".venv", ".build", ".git", ".env", ".ci", "dist", "docs", "scripts", "tests", "manage.py", "Makefile"),
}
# The development packages: the local store, make run, the stream reader, the benchmarks.
DEVELOPMENT = {"devstack", "bench"}


@pytest.fixture(scope="module")
def archive() -> zipfile.ZipFile:
    result = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with zipfile.ZipFile(ROOT / "dist" / "triggerapi-prod.zip") as zipped:
        yield zipped


@pytest.fixture(scope="module")
def unzipped(archive, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lambda") / "task"
    archive.extractall(folder)
    return folder


def test_the_zip_is_within_the_size_bounds(archive):
    unzipped_bytes = sum(info.file_size for info in archive.infolist())

    assert Path(archive.filename).stat().st_size < MAX_ZIPPED_MIB * 2**20
    assert unzipped_bytes < MAX_UNZIPPED_MIB * 2**20


def test_the_zip_holds_no_tests_dev_tools_or_checkout_files(archive):
    top_level = {PurePosixPath(name).parts[0] for name in archive.namelist()}
    distributions = {name.split("-")[0].lower() for name in top_level if name.endswith(".dist-info")}

    assert top_level & NOT_FOR_LAMBDA == set()
    assert distributions & NOT_FOR_LAMBDA == set()
    assert [name for name in archive.namelist() if name.endswith(".po")] == []


def test_the_development_packages_are_not_in_the_zip(archive):
    top_level = {PurePosixPath(name).parts[0] for name in archive.namelist()}

    assert top_level & DEVELOPMENT == set()
    # run_deliveries ships (it is an app command) without the stream reader it runs.
    assert "hooks/management/commands/run_deliveries.py" in archive.namelist()
    assert "hooks/stream.py" not in archive.namelist()


def test_the_app_and_its_static_files_are_in_the_zip(archive):
    names = set(archive.namelist())

    assert {"handler.py", "zappa_settings.py", "triggerapi/settings.py", "events/views.py", "browser/views.py"} <= names
    assert "browser/templates/browser/login.html" in names
    assert "triggerapi_client/api.py" in names  # the worker's lambda_drain talks through it
    assert "staticfiles/rest_framework/css/bootstrap.min.css" in names
    assert "staticfiles/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in names


def test_every_module_has_bytecode_that_lambda_uses_without_checking_the_source(archive):
    names = set(archive.namelist())
    modules = [name for name in names if name.endswith(".py") and archive.getinfo(name).file_size]

    def bytecode(module: str) -> str:
        path = PurePosixPath(module)
        return str(path.parent / "__pycache__" / f"{path.stem}.cpython-{PYTHON[0]}{PYTHON[1]}.pyc").removeprefix("./")

    assert [module for module in modules if bytecode(module) not in names] == []
    # PEP 552 flags: 0b01 is hash-based, source not checked.
    flags = {int.from_bytes(archive.read(bytecode(module))[4:8], "little") for module in modules}
    assert flags == {0b01}


def test_the_unzipped_package_answers_api_gateway_in_an_interpreter_without_site_packages(unzipped, dynamodb_url):
    store_env = server_env(dynamodb_url)
    store_env["TABLE_PREFIX"] = "TriggerApi"  # what zappa_settings.json sets for prod
    manage(store_env, "create_tables")
    names = ("DYNAMODB_HOST", "SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    lambda_env = {"AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod", **{name: store_env[name] for name in names}}
    probe = [sys.executable, "-I", "-S", "-B", str(ROOT / "devstack" / "lambda_probe.py"), str(unzipped)]
    event = json.dumps(rest_event("GET", "/health/ready"))

    result = subprocess.run([*probe, event], env=lambda_env, capture_output=True, text=True, check=True)

    answer = json.loads(result.stdout.splitlines()[-1])
    assert (answer["response"]["statusCode"], answer["response"]["body"]) == (200, '{"status":"ready"}')
    assert answer["foreign_modules"] == []


@pytest.mark.parametrize("initialization", ["on-demand", "snap-start"])
def test_the_packaged_handler_answers_a_first_and_a_second_request_on_either_start(
    unzipped, dynamodb_url, initialization
):
    """As Lambda runs the zip: a clean interpreter imports the handler with the stage's
    environment (the handler made on import), then two authenticated requests. With
    `snap-start`, the init warms up against its stub store, then the runtime's before-snapshot
    and after-restore hooks run (devstack/lambda_probe.py) before the requests reach the
    store. No timing is asserted: `make bench-coldstart` measures."""
    store_env = {**server_env(dynamodb_url), "TABLE_PREFIX": "TriggerApi"}
    manage(store_env, "create_tables")
    key = json.loads(manage(store_env, "issue_key", f"zip-{initialization}", "--json"))["key"]
    names = ("DYNAMODB_HOST", "SECRET_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
        **stage_env(),
        **{name: store_env[name] for name in names},
    }
    request = rest_event("GET", "/v1/events", query={"limit": "1"}, headers={"Authorization": f"Bearer {key}"})
    probe = [sys.executable, "-I", "-S", "-B", str(ROOT / "devstack" / "lambda_probe.py"), str(unzipped)]

    with runtime_path() as runtime:
        lambda_env["PROBE_RUNTIME_PATH"] = runtime
        result = subprocess.run(
            [*probe, json.dumps(request), json.dumps(request)], env=lambda_env, capture_output=True, text=True
        )

    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.splitlines()[-1])
    assert [(a["response"]["statusCode"], json.loads(a["response"]["body"])["events"]) for a in answer["answers"]] == [
        (200, []),
        (200, []),
    ]
    assert answer["foreign_modules"] == []
