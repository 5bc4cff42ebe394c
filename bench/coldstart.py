"""Prints the Lambda zip's size and its cold start (`make bench-coldstart`).

A cold start here is what Lambda does with a fresh container: a new interpreter imports
Zappa's handler from the unzipped package and answers one API Gateway request (GET /health).
It is timed inside that interpreter, so interpreter start-up is left out (Lambda's runtime
has already started when it imports the handler). Median of 5, once with the package as
built and once with its bytecode removed, in interpreters that write no bytecode (Lambda's
disk is read-only), i.e. compiling every module on every cold start.

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

from devstack.lambda_probe import rest_event
from devstack.processes import ROOT

RUNS = 5
ZIP = ROOT / "dist" / "triggerapi-prod.zip"
# What Lambda and zappa_settings.json give the function; the request never reaches DynamoDB.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "triggerapi-prod",
    "AWS_REGION": "us-east-1",
    "SECRET_KEY": "bench-only",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "LOG_LEVEL": "WARNING",
}


def cold_start_ms(package_dir: Path) -> float:
    probe = ROOT / "devstack" / "lambda_probe.py"
    event = json.dumps(rest_event("GET", "/health"))
    args = [sys.executable, "-I", "-S", "-B", str(probe), str(package_dir), event]
    result = subprocess.run(args, env=LAMBDA_ENV, capture_output=True, text=True, check=True)
    answer = json.loads(result.stdout.splitlines()[-1])
    if answer["response"]["statusCode"] != 200:
        raise SystemExit(f"GET /health answered {answer['response']}")
    return answer["ms"]


def median_ms(package_dir: Path) -> float:
    return statistics.median(cold_start_ms(package_dir) for _ in range(RUNS))


def main() -> None:
    archive = Path(sys.argv[1])
    with zipfile.ZipFile(archive) as zipped, tempfile.TemporaryDirectory() as scratch:
        unzipped = sum(info.file_size for info in zipped.infolist())
        package_dir = Path(scratch) / "package"
        zipped.extractall(package_dir)
        with_bytecode = median_ms(package_dir)
        for cache in list(package_dir.rglob("__pycache__")):
            shutil.rmtree(cache)
        without_bytecode = median_ms(package_dir)
    print(f"zip: {archive.stat().st_size / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped")
    print(f"cold start (import handler + GET /health), median of {RUNS}:")
    print(f"  with precompiled bytecode:    {with_bytecode:6.0f} ms")
    print(f"  without (compiled each time): {without_bytecode:6.0f} ms")


def section() -> list[str]:
    if not ZIP.exists():
        return [f"\ncold start: {ZIP.relative_to(ROOT)} not built; `make bench-coldstart` builds it and measures"]
    print("\ncold start (bench/coldstart.py)", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", str(ZIP)], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        return [f"\ncold start: bench.coldstart failed: {result.stderr[-500:]}"]
    lines = result.stdout.splitlines()
    return ["\n6b. cold start of the packaged Lambda (target <= 300 ms):", *(f"   {line}" for line in lines)]


if __name__ == "__main__":
    main()
