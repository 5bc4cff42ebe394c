"""API Gateway REST proxy events, and a cold start from an unzipped Lambda package.

As a script it is what Lambda's runtime does on a cold start, in a fresh interpreter started
with `python -I -S -B` (no site-packages, nothing written to disk): put the package folder
first on sys.path, import Zappa's `handler` (the init), answer each event in turn. It prints
one JSON line: the init's milliseconds, each answer with its milliseconds, `ms` (the init and
the first answer: the cold start), and any module loaded from outside the package and the
standard library (there should be none).

With AWS_LAMBDA_INITIALIZATION_TYPE=snap-start in its environment it does what SnapStart
does instead: the init as Lambda runs it for a snapshot, then the runtime's before-snapshot
hooks (popped until none is left, as awslambdaric runs them), then its after-restore hooks
(the instance restored from the snapshot), then the events; `restore_ms` is the hooks' time
after the restore. The runtime provides `snapshot_restore_py`: PROBE_RUNTIME_PATH names the
folder it is read from (none of the package's).

    python -I -S -B devstack/lambda_probe.py PACKAGE_DIR EVENT_JSON [EVENT_JSON ...]
"""

import base64
import contextlib
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator

HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
STAGE = "prod"


def rest_event(method: str, path: str, *, body=None, headers=None, query=None, base64_body=False) -> dict:
    """An API Gateway REST API proxy event (payload 1.0) as the `prod` stage sends it: `path`
    without the stage, the stage in `requestContext`. A body given as bytes is sent
    base64-encoded, as API Gateway does when binary media types are on."""
    if isinstance(body, bytes):
        body, base64_body = base64.b64encode(body).decode("ascii"), True
    headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "lambda-probe"},
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


@contextlib.contextmanager
def runtime_path() -> Iterator[str]:
    """A folder holding what Lambda's Python runtime provides the function besides the standard
    library and the zip, for PROBE_RUNTIME_PATH: `snapshot_restore_py` alone (the site-packages
    it comes from would let any module the zip lacks be found there)."""
    import snapshot_restore_py

    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(snapshot_restore_py.__file__, folder)
        yield folder


def _foreign_modules(package_dir: str) -> list[str]:
    allowed = (os.path.realpath(package_dir), os.path.realpath(sysconfig.get_paths()["stdlib"]))
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    files = {name: os.path.realpath(path) for name, path in files.items() if path and path != __file__}
    return sorted(name for name, path in files.items() if not path.startswith(allowed))


def main() -> None:
    started = time.perf_counter()
    package_dir, events = sys.argv[1], [json.loads(argument) for argument in sys.argv[2:]]
    os.chdir(package_dir)
    sys.path.insert(0, package_dir)
    snapstart = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"
    if snapstart:
        sys.path.append(os.environ["PROBE_RUNTIME_PATH"])
    import handler

    if snapstart:
        from snapshot_restore_py import get_after_restore, get_before_snapshot

        hooks = get_before_snapshot()
        while hooks:
            hook, args, kwargs = hooks.pop()
            hook(*args, **kwargs)
    init_ms = (time.perf_counter() - started) * 1000
    restore_ms = 0.0
    if snapstart:
        restored = time.perf_counter()
        for hook, args, kwargs in get_after_restore():
            hook(*args, **kwargs)
        restore_ms = (time.perf_counter() - restored) * 1000
    answers = []
    for event in events:
        asked = time.perf_counter()
        response = handler.lambda_handler(event, None)
        answers.append({"ms": (time.perf_counter() - asked) * 1000, "response": response})
    foreign = [name for name in _foreign_modules(package_dir) if name != "snapshot_restore_py"]
    print(
        json.dumps(
            {
                "init_ms": init_ms,
                "restore_ms": restore_ms,
                "answers": answers,
                "ms": init_ms + restore_ms + answers[0]["ms"],
                "response": answers[0]["response"],
                "foreign_modules": foreign,
            }
        )
    )


if __name__ == "__main__":
    main()
