"""A WSGI environ for one request, as a server builds it: for the local store's HTTP server
(devstack/localstore.py) and for requests handed straight to the app (triggerapi/warmup.py,
the CPU bench). Nothing here imports Django."""

import io
import sys
import urllib.parse
from collections.abc import Iterable


def wsgi_environ(
    method: str,
    target: str,
    body: bytes,
    headers: Iterable[tuple[str, str]],
    *,
    server: tuple[str, int],
    remote: tuple[str, int],
    scheme: str = "http",
    protocol: str = "HTTP/1.1",
    multithread: bool = True,
) -> dict:
    """`target` is the request line's path and query; headers named twice are joined with
    commas, as a server does."""
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": protocol,
        "REMOTE_ADDR": remote[0],
        "REMOTE_PORT": str(remote[1]),
        "CONTENT_TYPE": "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": multithread,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            continue
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = f"{environ[key]},{value}" if environ.get(key) and key != "CONTENT_TYPE" else value
    return environ
