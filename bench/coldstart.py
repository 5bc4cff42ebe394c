"""Prints the Lambda zip's size and its cold start, init apart from the first request and a
warm one (`make bench-coldstart`).

A cold start here is what Lambda does with a fresh container: a new interpreter imports
Zappa's handler from the unzipped package (the init) and answers API Gateway requests
(devstack/lambda_probe.py). Each run sends an authenticated ingest (the first request), then
RUNS more (the warm one is their median), to a local store started for the bench, with the
environment zappa_settings.json gives the `prod` stage. Timed inside that interpreter, so
interpreter start-up is left out (Lambda's runtime has already started when it imports the
handler). Median of RUNS runs, in interpreters that write no bytecode (Lambda's disk is
read-only), once with the package as built and once with its bytecode removed (compiling
every module on every cold start).

Two kinds of start: `on demand` (a new instance: init, then the first request) and
`SnapStart` (the init as Lambda runs it to take the snapshot, its before-snapshot hooks; then
an instance restored from it: the after-restore hooks, then the first request). On AWS the
second kind's init is paid once per published version, and a cold start is the restore
(Lambda's own, not measurable here) plus the after-restore hooks plus the first request.

    python -m bench.coldstart dist/triggerapi-prod.zip

`make bench` reports it too (section()) once the zip exists.
"""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from devstack.lambda_probe import rest_event, runtime_path
from devstack.processes import ROOT, manage, server_env, start_store

RUNS = 5
ZIP = ROOT / "dist" / "triggerapi-prod.zip"
STAGE = "prod"
# What Lambda gives the function besides zappa_settings.json's variables.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod",
    "AWS_REGION": "us-east-1",
    "SECRET_KEY": "bench-only",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "LOG_LEVEL": "WARNING",
}
KINDS = {"on demand": {}, "SnapStart": {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}}


def stage_env(stage: str = STAGE) -> dict:
    """The Lambda environment variables zappa_settings.json gives the stage (its own or
    those of the stage it extends)."""
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    found: dict = {}
    while stage:
        found = {**settings[stage].get("aws_environment_variables", {}), **found}
        stage = settings[stage].get("extends")
    return found


def requests_for(key: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps({"event_type": "bench.coldstart", "n": 1})
    return [rest_event("POST", "/v1/events", body=body, headers=headers) for _ in range(RUNS + 1)]


def one_start(package_dir: Path, env: dict, events: list[dict]) -> dict:
    probe = ROOT / "devstack" / "lambda_probe.py"
    args = [sys.executable, "-I", "-S", "-B", str(probe), str(package_dir), *map(json.dumps, events)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    answer = json.loads(result.stdout.splitlines()[-1])
    statuses = [a["response"]["statusCode"] for a in answer["answers"]]
    if set(statuses) != {201}:
        raise SystemExit(f"the ingests answered {statuses}: {answer['answers'][0]['response']}")
    return {
        "init": answer["init_ms"],
        "restore": answer["restore_ms"],
        "first": answer["answers"][0]["ms"],
        "warm": statistics.median(a["ms"] for a in answer["answers"][1:]),
    }


def medians(package_dir: Path, env: dict, events: list[dict]) -> dict:
    runs = [one_start(package_dir, env, events) for _ in range(RUNS)]
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def main() -> None:
    archive = Path(sys.argv[1])
    store, url = start_store()
    try:
        env = {**server_env(url), "TABLE_PREFIX": "TriggerApi"}  # what zappa_settings.json sets for prod
        manage(env, "create_tables")
        key = json.loads(manage(env, "issue_key", "coldstart", "--json"))["key"]
        lambda_env = {**LAMBDA_ENV, **stage_env(), "DYNAMODB_HOST": url}
        events = requests_for(key)
        results = {}
        with zipfile.ZipFile(archive) as zipped, tempfile.TemporaryDirectory() as scratch, runtime_path() as runtime:
            lambda_env["PROBE_RUNTIME_PATH"] = runtime
            unzipped = sum(info.file_size for info in zipped.infolist())
            package_dir = Path(scratch) / "package"
            zipped.extractall(package_dir)
            for bytecode in ("with", "without"):
                if bytecode == "without":
                    for cache in list(package_dir.rglob("__pycache__")):
                        shutil.rmtree(cache)
                for kind, extra in KINDS.items():
                    results[(kind, bytecode)] = medians(package_dir, {**lambda_env, **extra}, events)
    finally:
        store.stop()
    print(f"zip: {archive.stat().st_size / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped")
    print(f"POST /v1/events with a key, median of {RUNS} starts (warm: median of {RUNS} more requests), ms:")
    print(f"  {'start':<10} {'bytecode':<9} {'init':>7} {'restore':>8} {'first':>7} {'warm':>6} {'cold start':>11}")
    for (kind, bytecode), r in results.items():
        cold = (r["restore"] if kind == "SnapStart" else r["init"]) + r["first"]
        print(
            f"  {kind:<10} {bytecode:<9} {r['init']:7.0f} {r['restore']:8.1f} {r['first']:7.1f} {r['warm']:6.1f} "
            f"{cold:11.0f}"
        )
    print("  (cold start: init + first on demand; after-restore hooks + first with SnapStart, Lambda's restore aside)")


def section() -> list[str]:
    if not ZIP.exists():
        return [f"\ncold start: {ZIP.relative_to(ROOT)} not built; `make bench-coldstart` builds it and measures"]
    print("\ncold start (bench/coldstart.py)", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", str(ZIP)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return [f"\ncold start: bench.coldstart failed: {result.stderr[-500:]}"]
    lines = result.stdout.splitlines()
    return [
        "\n6b. cold start of the packaged Lambda (target: init + first <= 400 ms):",
        *(f"   {line}" for line in lines),
    ]


if __name__ == "__main__":
    main()
