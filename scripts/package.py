"""Builds the Lambda zip (`make package`): `zappa package prod` run on a copy of the app's
source, against a virtualenv that holds only what runs on Lambda, with bytecode compiled
ahead of time.

Why not plain `zappa package prod` from the checkout: Zappa zips the active virtualenv (the
dev one holds pytest and moto) and every file in the directory (`.env`, `.git`, build
leftovers) unless excluded by name. Here the virtualenv is built from requirements.txt and
the few packages Zappa's handler imports, and the source is a copy of the listed paths.

Bytecode: Lambda unpacks the zip onto a read-only disk with the zip's timestamps, so the
default (timestamp-checked) .pyc files never match and every cold start compiles every
module again, in memory. Unchecked-hash .pyc files are used as they are.

    python scripts/package.py [--stage prod] [--output dist/triggerapi-prod.zip]
"""

import argparse
import hashlib
import os
import platform
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".build"
RUNTIME = BUILD / "runtime"
SOURCE = BUILD / "src"
# The Lambda runtime (zappa_settings.json's "runtime"): the zip's wheels and bytecode must match it.
PYTHON = (3, 13)
SITE_PACKAGES = RUNTIME / "lib" / f"python{PYTHON[0]}.{PYTHON[1]}" / "site-packages"
LAMBDA_ROOT = "/var/task"

# What the Lambda runs: the app, the client the worker's lambda_drain talks to the API with,
# and settings Zappa reads while packaging (the IAM policy).
SOURCES = (
    "triggerapi",
    "tenants",
    "events",
    "hooks",
    "browser",
    "limits",
    "activity",
    "console",
    "triggerapi_client",
    "zappa_settings.json",
    "docs/iam",
)
# Zappa's request handler and what it imports; the rest of requirements-deploy.txt is the
# deploy tool (CloudFormation, S3 uploads, YAML) and stays out of the Lambda.
LAMBDA_RUNTIME = ("zappa", "werkzeug", "markupsafe", "durationpy", "boto3", "s3transfer")
# Files Zappa adds to the zip root after packaging; Lambda imports all three on a cold start.
ROOT_MODULES = ("handler.py", "zappa_settings.py", "django_zappa_app.py")


def run(*args, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def check_platform() -> None:
    """Compiled wheels and .pyc files must match Lambda's runtime on x86_64 Linux."""
    here = (sys.platform, platform.machine(), sys.version_info[:2])
    if here != ("linux", "x86_64", PYTHON):
        version = ".".join(map(str, PYTHON))
        sys.exit(f"make package builds for python{version} on x86_64 Linux, not {here}: use such a machine.")


def runtime_requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    deploy = (ROOT / "requirements-deploy.txt").read_text().splitlines()
    lines += [line for line in deploy if line.split("==")[0].lower() in LAMBDA_RUNTIME]
    return [line for line in lines if line and not line.startswith("#")]


def build_runtime(requirements: list[str]) -> None:
    """A virtualenv without pip or setuptools, rebuilt whenever the pins change."""
    stamp = RUNTIME / ".requirements"
    # The interpreter too: a runtime built by another Python (3.11 before) is built again.
    wanted = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()
    if stamp.is_file() and stamp.read_text() == wanted:
        return
    shutil.rmtree(RUNTIME, ignore_errors=True)
    run(sys.executable, "-m", "venv", "--without-pip", RUNTIME)
    pins = BUILD / "runtime-requirements.txt"
    pins.write_text("\n".join(requirements) + "\n")
    # Every pin is listed, so nothing is resolved: Zappa's deploy-only dependencies stay out.
    pip = [sys.executable, "-m", "pip", "--python", RUNTIME / "bin" / "python", "install"]
    run(*pip, "--quiet", "--disable-pip-version-check", "--no-deps", "--no-compile", "-r", pins)
    compile_tree(SITE_PACKAGES)
    stamp.write_text(wanted)


def stage_source() -> None:
    shutil.rmtree(SOURCE, ignore_errors=True)
    for name in SOURCES:
        source, target = ROOT / name, SOURCE / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # The settings serve collected files when this folder exists (see STATIC_ROOT).
    (SOURCE / "staticfiles").mkdir()
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "triggerapi.settings", "PYTHONDONTWRITEBYTECODE": "1"}
    # The staged copy is no checkout, so the settings want a SECRET_KEY; collecting static
    # files signs and seals nothing, and the key goes nowhere.
    env["SECRET_KEY"] = "collectstatic-only"
    collect = ("-m", "django", "collectstatic", "--noinput", "--verbosity", "0")
    run(RUNTIME / "bin" / "python", *collect, cwd=SOURCE, env=env)
    compile_tree(SOURCE)


def compile_tree(tree: Path) -> None:
    """Unchecked-hash bytecode, naming the files by where they will be on Lambda."""
    run(
        *(RUNTIME / "bin" / "python", "-m", "compileall", "-q", "-f", "-j", "0"),
        *("--invalidation-mode", "unchecked-hash", "-s", tree, "-p", LAMBDA_ROOT, tree),
    )


def zappa_package(stage: str, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    zappa = Path(sys.executable).parent / "zappa"
    # Zappa zips the virtualenv VIRTUAL_ENV names; packaging needs no AWS credentials.
    env = {**os.environ, "VIRTUAL_ENV": str(RUNTIME)}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    run(zappa, "package", stage, "--output", output, cwd=SOURCE, env=env, stdout=subprocess.DEVNULL)


def add_root_bytecode(archive: Path) -> None:
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zipped, tempfile.TemporaryDirectory() as scratch:
        for name in ROOT_MODULES:
            source = Path(scratch) / name
            source.write_bytes(zipped.read(name))
            compiled = py_compile.compile(
                str(source),
                dfile=f"{LAMBDA_ROOT}/{name}",
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            zipped.write(compiled, f"__pycache__/{Path(compiled).name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    output = (args.output or ROOT / "dist" / f"triggerapi-{args.stage}.zip").resolve()
    check_platform()
    BUILD.mkdir(exist_ok=True)
    build_runtime(runtime_requirements())
    stage_source()
    zappa_package(args.stage, output)
    add_root_bytecode(output)
    print(f"{output}: {output.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
