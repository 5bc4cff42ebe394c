"""API Gateway REST proxy events, and a cold start from an unzipped Lambda package.

As a script it is what Lambda's runtime does on a cold start, in a fresh interpreter started
with `python -I -S -B` (no site-packages, nothing written to disk): put the package folder
first on sys.path, import Zappa's `handler`, answer one event. It prints one JSON line:
the milliseconds that took, the response, and any module loaded from outside the package
and the standard library (there should be none).

    python -I -S -B devstack/lambda_probe.py PACKAGE_DIR '{"httpMethod": "GET", ...}'
"""

import base64
import json
import os
import sys
import sysconfig
import time
import uuid

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


def _foreign_modules(package_dir: str) -> list[str]:
    allowed = (os.path.realpath(package_dir), os.path.realpath(sysconfig.get_paths()["stdlib"]))
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    files = {name: os.path.realpath(path) for name, path in files.items() if path and path != __file__}
    return sorted(name for name, path in files.items() if not path.startswith(allowed))


def main() -> None:
    started = time.perf_counter()
    package_dir, event = sys.argv[1], json.loads(sys.argv[2])
    os.chdir(package_dir)
    sys.path.insert(0, package_dir)
    import handler

    response = handler.lambda_handler(event, None)
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"ms": elapsed_ms, "response": response, "foreign_modules": _foreign_modules(package_dir)}))


if __name__ == "__main__":
    main()
